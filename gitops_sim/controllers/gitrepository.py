"""GitRepository (source.toolkit.fluxcd.io/v1): fetch a ref over git's smart HTTP protocol and
publish it as an artifact.

Provenance: behaviour of source-controller `internal/controller/gitrepository_controller.go`
(reconcileSource, reconcileArtifact, summarize) and fluxcd/pkg `runtime/reconcile` (the kstatus
pattern); our own code.

Steps, inside the loop shared by the source kinds (`controllers.source`): read `spec.secretRef`
(basic auth or bearer token); list the remote's refs and resolve `spec.ref` (commit > name >
semver > tag > branch, default `master`) to a revision in Flux's format; gather `spec.include`d
artifacts from storage; when the revision is not in storage yet (or `ignore` or the includes
changed), fetch the commit, archive its tree with the includes (`sources.ignore`: defaults,
`.sourceignore`, `spec.ignore`) as ``<sha>.tar.gz``, and record `status.artifact`,
`observedIgnore`, `observedInclude`, `includedArtifacts`. The included GitRepositories are watched:
a new revision of one re-reconciles the repositories that include it.

Errors read as fluxcd/pkg's go-git client words them (see `sources.githttp`), behind
`failed to checkout and determine revision: ` (reason `GitOperationFailed`); a missing secret is
`AuthenticationFailed`; an unavailable include is `IncludeUnavailable` and waits 30s.
`spec.timeout` (default 60s) bounds each remote operation in wall time: a hung upstream gives
`context deadline exceeded`, as go-git's context does.

`spec.ref` values never reach a command line as written: branch, tag, name and semver are
looked up in the listed refs (a dict), and only the commit ids the remote advertised, or a
`spec.ref.commit` that is a full hex object id, are fetched. A commit that is not one fails as
fluxcd/pkg's go-git client fails for it (`plumbing.NewHash` turns it into an id no repository
has): `unable to resolve commit object for '<commit>': object not found`. Difference: Flux
compares the commit case-sensitively after go-git parsed it; we accept upper-case hex and
use its lower-case form, as go-git's hash would print it.

Not modelled: `verify`, `recurseSubmodules`, `sparseCheckout`, `proxySecretRef`, SSH URLs (a
hosted repository answers them over HTTP), providers. Reconciles take no virtual time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gitops_sim.cluster import errors
from gitops_sim.controllers import source
from gitops_sim.model import artifacts, conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi import source as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.sources import git, githttp, gitrefs, ignore
from gitops_sim.storage import ArtifactError, Storage

GIT_OPERATION_FAILED = "GitOperationFailed"
INCLUDE_UNAVAILABLE = source.INCLUDE_UNAVAILABLE


def _checkout_failed(message: str) -> kernel.StepError:
    return kernel.StepError(GIT_OPERATION_FAILED, f"failed to checkout and determine revision: {message}")


def _stored_message(subject: str) -> str:
    """Flux's NewArtifact message: the commit's subject, cut at 50 characters."""
    return f"stored artifact for commit '{subject if len(subject) <= 50 else subject[:50] + '...'}'"


def reconciler(
    rt: base.Runtime, upstream: git.GitUpstream, storage: Storage
) -> kernel.Reconciler[api.GitRepositorySpec, None]:
    def includes(repo: objects.RawObject, changed: refs.ObjectRef) -> bool:
        """Whether `repo` includes the GitRepository `changed` (same namespace)."""
        if repo["metadata"]["namespace"] != changed.namespace:
            return False
        return any(
            i.repository.name == changed.name for i in base.typed_spec(repo, api.GitRepositorySpec).include
        )

    return source.reconciler(
        rt,
        storage,
        flux.GITREPOSITORY,
        api.GitRepositorySpec,
        _GitFetch(rt, upstream, storage).fetch,
        lambda spec: spec.interval,
        watched=(
            base.Watch(
                flux.GITREPOSITORY.group_kind,
                base.on_new_revision(rt.cluster, flux.GITREPOSITORY.group_kind, includes),
            ),
        ),
    )


@dataclass(slots=True)
class _GitFetch:
    rt: base.Runtime
    upstream: git.GitUpstream
    storage: Storage

    def fetch(self, ctx: kernel.Context[api.GitRepositorySpec, None]) -> source.Stored:
        obj, spec, now = ctx.obj, ctx.spec, ctx.now
        ref = spec.ref or api.GitRepositoryRef()
        observed_include = declare.dump(spec.include) or None
        credentials = self._credentials(obj, spec.secret_ref)
        timeout_s = duration.parse(spec.timeout) / 1000
        status = base.status(obj)
        current = status.get("artifact")
        revision, sha = self._resolve(spec.url, ref, credentials, bool(current), timeout_s)
        included = self._includes(obj, spec.include)
        if (
            current
            and current.get("revision") == revision
            and status.get("observedIgnore") == spec.ignore
            and status.get("observedInclude") == observed_include
            and (status.get("includedArtifacts") or []) == [a.to_status() for a, _ in included]
        ):
            conditions.delete(obj, source.ARTIFACT_OUTDATED)
            if not (ref.commit or ref.name or ref.semver):
                # The optimized clone of a branch or tag knows the commit's hash, not its
                # message: Flux names the commit by its revision.
                return source.Stored(source.NEW_ARTIFACT, f"stored artifact for commit '{revision}'")
            return source.Stored(
                source.NEW_ARTIFACT,
                _stored_message(self._checkout(spec.url, sha, credentials, timeout_s).subject),
            )
        source.new_revision(obj, f"new upstream revision '{revision}'", now)
        checkout = self._checkout(spec.url, sha, credentials, timeout_s)
        files = dict(checkout.files)
        for _, extra in included:
            files.update(extra)
        meta = obj["metadata"]
        artifact = self.storage.store(
            flux.GITREPOSITORY.kind,
            meta["namespace"],
            meta["name"],
            f"{sha}.tar.gz",
            ignore.select(files, spec.ignore),
            revision=revision,
            now=now,
        )
        source.observe(obj, "observedIgnore", spec.ignore)
        source.observe(obj, "observedInclude", observed_include)
        source.observe(obj, "includedArtifacts", [a.to_status() for a, _ in included] or None)
        source.stored(obj, artifact, f"stored artifact for revision '{revision}'", now)
        return source.Stored(source.NEW_ARTIFACT, _stored_message(checkout.subject))

    def _includes(
        self, obj: objects.RawObject, includes: tuple[api.GitRepositoryInclude, ...]
    ) -> list[tuple[artifacts.Artifact, dict[str, bytes]]]:
        """The artifacts of `spec.include`d GitRepositories, and their files moved from
        `fromPath` to `toPath` (default: the repository's name), read from storage."""
        out = []
        namespace = obj["metadata"]["namespace"]
        for include in includes:
            name = include.repository.name
            dep_ref = refs.ObjectRef(flux.GITREPOSITORY.group, flux.GITREPOSITORY.kind, namespace, name)
            try:
                dep = self.rt.cluster.get(dep_ref)
            except errors.NotFound as exc:
                raise kernel.Waiting(
                    "NotFound",
                    f"could not get resource for include '{name}': {errors.kind_not_found(dep_ref).message}",
                    condition=INCLUDE_UNAVAILABLE,
                    retry_after_ms=flux.REQUEUE_DEPENDENCY_MS,
                ) from exc
            raw = (dep.get("status") or {}).get("artifact")
            if not raw:
                raise kernel.Waiting(
                    "NoArtifact",
                    f"no artifact available for include '{name}'",
                    condition=INCLUDE_UNAVAILABLE,
                    retry_after_ms=flux.REQUEUE_DEPENDENCY_MS,
                )
            artifact = artifacts.Artifact.from_status(raw)
            from_path = (include.from_path or "").strip("./")
            to_path = (include.to_path or name).strip("/")
            if to_path.startswith("..") or "/../" in f"/{to_path}/":
                raise kernel.StepError(
                    "IllegalPath",
                    f"path calculation for include '{name}' failed: '{to_path}' is outside the artifact",
                    condition=INCLUDE_UNAVAILABLE,
                )
            try:
                dep_files = self.storage.fetch(artifact)
            except ArtifactError as exc:
                raise kernel.StepError(
                    "CopyFailure",
                    f"failed to copy '{name}' include from {from_path or '.'} to {to_path}: {exc}",
                    condition=INCLUDE_UNAVAILABLE,
                ) from exc
            prefix = f"{from_path}/" if from_path else ""
            moved = {f"{to_path}/{p[len(prefix) :]}": c for p, c in dep_files.items() if p.startswith(prefix)}
            out.append((artifact, moved))
        conditions.delete(obj, INCLUDE_UNAVAILABLE)
        return out

    def _checkout(
        self, url: str, sha: str, credentials: githttp.Credentials | None, timeout_s: float
    ) -> githttp.Checkout:
        try:
            return self.upstream.checkout(url, sha, credentials, timeout_s)
        except githttp.RemoteError as exc:
            missing = (
                "not our ref" in exc.message
                or "couldn't find remote ref" in exc.message
                or "is not a commit hash" in exc.message
                or exc.message == "object not found"
            )
            raise _checkout_failed(
                f"unable to resolve commit object for '{sha}': object not found"
                if missing
                else f"unable to clone '{url}': {exc.message}"
            ) from exc

    def _credentials(
        self, obj: objects.RawObject, secret_ref: meta.LocalObjectReference | None
    ) -> githttp.Credentials | None:
        """HTTPS credentials from `spec.secretRef` (`username`/`password`, or `bearerToken`)."""
        data = source.secret_ref_data(
            self.rt, obj, secret_ref, "failed to configure authentication options: failed to get secret "
        )
        if data is None:
            return None
        return githttp.Credentials.from_secret(data)

    def _resolve(
        self,
        url: str,
        ref: api.GitRepositoryRef,
        credentials: githttp.Credentials | None,
        observed: bool,
        timeout_s: float,
    ) -> tuple[str, str]:
        """The revision and commit that `spec.ref` names on the remote (`sources.gitrefs`)."""
        try:
            return gitrefs.resolve(
                self.upstream, url, ref, credentials, observed=observed, timeout_s=timeout_s
            )
        except gitrefs.CheckoutError as exc:
            raise _checkout_failed(exc.message) from exc


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def git_client(self) -> git.GitUpstream: ...
    @property
    def storage(self) -> Storage: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.git_client, services.storage)


registry.register(
    registry.Entry(
        "gitrepository", flux.GITREPOSITORY.group_kind, _build, order=10, component=flux.SOURCE_CONTROLLER
    )
)
