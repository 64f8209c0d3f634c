"""GitRepository (source.toolkit.fluxcd.io/v1): fetch a ref over git's smart HTTP protocol and
publish it as an artifact.

Provenance: behaviour of source-controller `internal/controller/gitrepository_controller.go`
(reconcileSource, reconcileArtifact, summarize) and fluxcd/pkg `runtime/reconcile` (the kstatus
pattern); our own code.

Steps: Flux's preamble; mark a new generation as progressing; read `spec.secretRef` (basic auth
or bearer token); list the remote's refs and resolve `spec.ref` (commit > name > semver > tag >
branch, default `master`) to a revision in Flux's format; when that revision is not in storage
yet (or `spec.ignore` changed), fetch the commit, archive its tree (`sources.ignore`: defaults,
`.sourceignore`, `spec.ignore`) as ``<sha>.tar.gz``, set `status.artifact`, `observedIgnore` and
`ArtifactInStorage`, emit `NewArtifact`,
and garbage-collect older artifacts; finally summarise Ready from the other conditions and requeue
after `spec.interval`. A failing fetch sets `FetchFailed` and `Ready=False` (reason
`GitOperationFailed`), keeps `Reconciling` with reason `ProgressingWithRetry`, emits a Warning
event, and returns an error, so the work queue retries with backoff.

Errors read as fluxcd/pkg's go-git client words them (see `sources.githttp`), behind
`failed to checkout and determine revision: `; a missing secret is `AuthenticationFailed`.

Not yet modelled: `include`, `timeout`, `verify`, `recurseSubmodules`, `sparseCheckout`,
`proxySecretRef`, SSH URLs (a hosted repository answers them over HTTP), providers.
Reconciles take no virtual time.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.controllers import base
from gitops_sim.model import artifacts as artifacts_model
from gitops_sim.model import conditions, flux, objects, refs, semver
from gitops_sim.sources import git, githttp, ignore
from gitops_sim.storage import Storage
from gitops_sim.timing import workqueue

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
AUTHENTICATION_FAILED = "AuthenticationFailed"
ARTIFACT_OUTDATED = "ArtifactOutdated"
FETCH_FAILED = "FetchFailed"
GIT_OPERATION_FAILED = "GitOperationFailed"
NEW_ARTIFACT = "NewArtifact"


def _checkout_failed(message: str) -> FetchError:
    return FetchError(GIT_OPERATION_FAILED, f"failed to checkout and determine revision: {message}")


class FetchError(workqueue.RequeueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class GitRepositoryReconciler:
    rt: base.Runtime
    upstream: git.GitUpstream
    storage: Storage
    name: str = flux.SOURCE_CONTROLLER
    gvk: refs.GVK = flux.GITREPOSITORY

    def watches(self) -> list[base.Watch]:
        return []

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        try:
            obj, before = base.begin(self.rt, ref, self.name, self._finalize)
        except base.Done as done:
            return done.result
        was_ready = conditions.get(obj, conditions.READY)
        now = self.rt.now()
        generation = int(obj["metadata"].get("generation", 0))
        observed = int(base.status(obj).get("observedGeneration", -1))
        if generation != observed:
            self._progressing(obj, f"processing object: new generation {observed} -> {generation}", now)
        try:
            new_artifact = self._reconcile_source(obj, now)
        except FetchError as exc:
            conditions.mark_true(obj, FETCH_FAILED, exc.reason, exc.message, now=now)
            conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
            conditions.mark_retrying(obj, now=now)
            base.patch_status(self.rt, obj, self.name, before)
            self.rt.recorder.event(
                obj, type=base.EventType.WARNING, reason=exc.reason, message=exc.message, controller=self.name
            )
            raise
        message = conditions.get(obj, ARTIFACT_IN_STORAGE)
        assert message is not None
        conditions.mark_true(obj, conditions.READY, conditions.Reason.SUCCEEDED, message["message"], now=now)
        conditions.delete(obj, conditions.RECONCILING)
        base.status(obj)["observedGeneration"] = generation
        base.patch_status(self.rt, obj, self.name, before)
        artifact = base.status(obj)["artifact"]
        meta = {
            f"{flux.SOURCE_GROUP}/revision": artifact["revision"],
            f"{flux.SOURCE_GROUP}/digest": artifact["digest"],
        }
        if new_artifact is not None:
            self.rt.recorder.event(
                obj,
                type=base.EventType.NORMAL,
                reason=NEW_ARTIFACT,
                message=new_artifact,
                controller=self.name,
                metadata=meta,
            )
        elif was_ready is not None and was_ready.get("status") == conditions.Status.FALSE:
            self.rt.recorder.event(
                obj,
                type=base.EventType.NORMAL,
                reason=conditions.Reason.SUCCEEDED,
                message=message["message"],
                controller=self.name,
                metadata=meta,
            )
        return base.Result(requeue_after=base.interval_ms(obj))

    def _progressing(self, obj: objects.RawObject, message: str, now: str) -> None:
        """fluxcd/pkg ProgressiveStatus: Reconciling=True; Ready=Unknown unless Ready is already decided."""
        conditions.mark_true(obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=now)
        ready = conditions.get(obj, conditions.READY)
        if ready is None or ready.get("status") == conditions.Status.UNKNOWN:
            conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, message, now=now)

    def _reconcile_source(self, obj: objects.RawObject, now: str) -> str | None:
        """Fetch and store; returns the NewArtifact event message when a new artifact was stored."""
        spec = base.spec(obj)
        url = str(spec.get("url", ""))
        credentials = self._credentials(obj)
        status = base.status(obj)
        current = status.get("artifact")
        if current:  # reconcileStorage: retention first, then the source
            meta = obj["metadata"]
            self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep=current["path"])
        revision, sha = self._resolve(url, spec.get("ref") or {}, credentials, bool(current))
        conditions.delete(obj, FETCH_FAILED)
        if (
            current
            and current.get("revision") == revision
            and status.get("observedIgnore") == spec.get("ignore")
            and self.storage.exists(artifacts_model.Artifact.from_status(current))
        ):
            conditions.delete(obj, ARTIFACT_OUTDATED)
            return None
        progress = f"building artifact: new upstream revision '{revision}'"
        if current:
            conditions.mark_true(
                obj, ARTIFACT_OUTDATED, "NewRevision", f"new upstream revision '{revision}'", now=now
            )
            self._progressing(obj, progress, now)
            conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, progress, now=now)
        else:
            self._progressing(obj, "building artifact", now)
        try:
            checkout = self.upstream.checkout(url, sha, credentials)
        except githttp.RemoteError as exc:
            missing = "not our ref" in exc.message or "couldn't find remote ref" in exc.message
            raise _checkout_failed(
                f"unable to resolve commit object for '{sha}': object not found"
                if missing
                else f"unable to clone '{url}': {exc.message}"
            ) from exc
        files = ignore.select(checkout.files, spec.get("ignore"))
        meta = obj["metadata"]
        artifact = self.storage.store(
            self.gvk.kind,
            meta["namespace"],
            meta["name"],
            f"{sha}.tar.gz",
            files,
            revision=revision,
            now=now,
        )
        status["artifact"] = artifact.to_status()
        if spec.get("ignore") is None:
            status.pop("observedIgnore", None)
        else:
            status["observedIgnore"] = spec["ignore"]
        conditions.delete(obj, ARTIFACT_OUTDATED)
        conditions.mark_true(
            obj,
            ARTIFACT_IN_STORAGE,
            conditions.Reason.SUCCEEDED,
            f"stored artifact for revision '{revision}'",
            now=now,
        )
        subject = checkout.subject if len(checkout.subject) <= 50 else checkout.subject[:50] + "..."
        return f"stored artifact for commit '{subject}'"

    def _credentials(self, obj: objects.RawObject) -> githttp.Credentials | None:
        """HTTPS credentials from `spec.secretRef` (`username`/`password`, or `bearerToken`)."""
        name = (base.spec(obj).get("secretRef") or {}).get("name")
        if not name:
            return None
        namespace = obj["metadata"]["namespace"]
        try:
            secret = self.rt.cluster.get(refs.ObjectRef("", "Secret", namespace, str(name)))
        except errors.NotFound as exc:
            raise FetchError(
                AUTHENTICATION_FAILED,
                "failed to configure authentication options: "
                f"failed to get secret '{namespace}/{name}': secrets \"{name}\" not found",
            ) from exc
        data = {
            k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()
        }
        data |= secret.get("stringData") or {}
        return githttp.Credentials(
            data.get("username", ""), data.get("password", ""), data.get("bearerToken", "")
        )

    def _resolve(
        self, url: str, ref: dict[str, Any], credentials: githttp.Credentials | None, observed: bool
    ) -> tuple[str, str]:
        """The revision and commit that `spec.ref` names on the remote, with fluxcd/pkg's errors.
        Precedence: commit > name > semver > tag > branch (default `master`)."""
        commit, name, range_, tag = (str(ref.get(k) or "") for k in ("commit", "name", "semver", "tag"))
        branch = str(ref.get("branch") or "")
        # Branches and tags list the remote first when an artifact exists (the optimized clone).
        listed_first = observed and not (commit or name or range_)
        try:
            remote = self.upstream.list_refs(url, credentials)
        except githttp.RemoteError as exc:
            if listed_first:
                raise _checkout_failed(f"unable to list remote for '{url}': {exc.message}") from exc
            if exc.not_found:
                raise _checkout_failed(
                    f"unable to clone: repository not found: git repository: '{url}'"
                ) from exc
            raise _checkout_failed(f"unable to clone '{url}': {exc.message}") from exc

        def lookup(refname: str) -> str:
            sha = remote.get(refname)
            if sha is None:
                raise _checkout_failed(f"unable to clone '{url}': couldn't find remote ref \"{refname}\"")
            return sha

        if commit:
            if branch:
                lookup(f"refs/heads/{branch}")
            return (f"{branch}@sha1:{commit}" if branch else f"sha1:{commit}"), commit
        if name:
            if name not in remote:
                raise _checkout_failed(f"unable to resolve ref '{name}' to a specific commit")
            return f"{name}@sha1:{remote[name]}", remote[name]
        if range_:
            tags = sorted(r.removeprefix("refs/tags/") for r in remote if r.startswith("refs/tags/"))
            try:
                picked = semver.highest(tags, range_)
            except semver.SemverError as exc:
                raise _checkout_failed(f"semver parse error: {exc}") from exc
            if picked is None:
                raise _checkout_failed(f"no match found for semver: {range_}")
            return f"{picked}@sha1:{remote['refs/tags/' + picked]}", remote["refs/tags/" + picked]
        if tag:
            return f"{tag}@sha1:{lookup('refs/tags/' + tag)}", remote["refs/tags/" + tag]
        branch = branch or flux.DEFAULT_GIT_BRANCH
        return f"{branch}@sha1:{lookup('refs/heads/' + branch)}", remote["refs/heads/" + branch]

    def _finalize(self, obj: objects.RawObject) -> None:
        meta = obj["metadata"]
        self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep=None)
