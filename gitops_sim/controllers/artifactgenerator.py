"""ArtifactGenerator (source.extensions.fluxcd.io/v1beta1): source-watcher composing ExternalArtifacts.

Provenance: behaviour of fluxcd/source-watcher v2.2 `internal/controller/artifactgenerator_*.go`
(Reconcile, reconcile, observeSources, fetchSources, reconcileExternalArtifact, detectDrift,
finalize, validateSpec, summarizeStatus, notify) and `api/v1beta1` (the finalizer, labels,
reasons, `HashObservedSources`); the builder is `model.artifactbuild`. Our own code.

One reconcile, as source-watcher runs it:
1. gone: nothing; being deleted: every ExternalArtifact of `status.inventory` deleted with its
   files in storage, then the finalizer `source.extensions.fluxcd.io/finalizer` removed;
2. no finalizer yet: add it, Ready=Unknown and Reconciling "Reconciliation in progress" (or
   Ready=True `ReconciliationDisabled` "Initialized with reconciliation suspended"), requeue;
3. annotation `source.extensions.fluxcd.io/reconcile: disabled`: a trace event "Reconciliation is
   disabled", nothing else (no requeue);
4. the spec checked: duplicate aliases or artifact names, an artifact name that is not an object
   name, a `revision` naming no alias: Stalled `ValidationFailed`; a source in another namespace
   when source-watcher runs with `--no-cross-namespace-refs=true` (read from its Deployment,
   `reconcile.flags`; off as `flux install` makes it): Stalled `AccessDenied`;
5. the sources read (each must exist and have an artifact: else Ready=False `SourceFetchFailed`
   "get sources failed: ...", a Warning, retried in 5s, source-watcher's `--requeue-dependency`),
   and the digest of their (digest, revision, URL) compared with `status.observedSourcesDigest`;
   nothing drifted (Ready not False, the generation seen, the same sources, every inventory
   artifact in storage and intact, the generated ExternalArtifacts as inventoried): a trace
   event "No drift detected, N artifact(s) up to date", requeue in 1h;
6. otherwise Reconciling, the sources' artifacts fetched from storage (`fetch sources failed`,
   5s), and each artifact built (`pathPattern` expanded first; a bad one stalls `BuildFailed`):
   its copy operations, its tarball stored as `externalartifact/<ns>/<name>/<dirhash>.tar.gz`
   with revision `latest@sha256:<digest>` (or the `revision` source's), the origin revision in
   `org.opencontainers.image.revision`; its ExternalArtifact applied (labels
   `app.kubernetes.io/managed-by: source-watcher` and `source.extensions.fluxcd.io/generator:
   <uid>`, `spec.sourceRef` naming the generator) and its status set (the artifact, Ready=True
   `Succeeded` "Artifact is ready"). A build failure is Ready=False `BuildFailed` "<name> build
   failed: ...", a Warning and the queue's backoff;
7. ExternalArtifacts no longer generated are deleted (with their files), old files of the others
   pruned by the storage's retention rules; Ready=True `Succeeded` "reconciliation succeeded,
   generated N artifact(s)", `status.inventory` and `observedSourcesDigest`; trace events per
   artifact whose digest changed ("ExternalArtifact/<ns>/<name> reconciled with revision <rev>")
   and for the end, then one Normal event `Ready` "external artifacts reconciled: <ns>/<name>
   (<digest>)..." when any changed; requeue in 1h with 5% jitter.
Then (every outcome but deletion) the status is summarised and patched as `source-watcher`:
`lastHandledReconcileAt`, Reconciling `ProgressingWithRetry` after a failure, Reconciling gone
once Ready or Stalled. The same content gives the same digest and revision, so an artifact whose
files did not change keeps its revision and its consumers are not triggered.

Watches: a new artifact revision of a GitRepository, OCIRepository, Bucket, HelmChart or
ExternalArtifact the generator reads; its own generation and `reconcile.fluxcd.io/requestedAt`.

Differences, on purpose:
- The mid-reconcile status patch (Reconciling before the build) takes no virtual time and is
  folded into the final one, as for every kind here.
- Artifacts live in the simulation's one storage (`storage.Storage`), beside source-controller's,
  under source-watcher's own URL host; consumers read them by path, as they read every artifact.
  The fetch refuses more than 100 MiB unpacked (source-watcher's is unlimited).
- Not modelled: v2.3's cross-namespace artifacts (`artifacts[].namespace` with
  `serviceAccountName`) and tenant namespace provisioning (the API here is v2.2's), the
  `DirectSourceFetch` gate, the sharding flags, file modes, and the event server's
  `--events-addr` rate limiting.

Callers: the engine, through the registry entry at the bottom. Never imports another controller
or an upstream (it reads sources' artifacts from storage only); `sources.ignore` gives the
archive's default exclusions.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from gitops_sim.cluster import errors
from gitops_sim.model import artifactbuild, artifacts, conditions, flux, objects, refs
from gitops_sim.model.fluxapi import sourcewatcher as api
from gitops_sim.reconcile import base, flags, registry
from gitops_sim.sources import ignore
from gitops_sim.storage import ArtifactError, Storage
from gitops_sim.timing import workqueue

GENERATOR = refs.GVK(api.GROUP, "v1beta1", "ArtifactGenerator")
CONTROLLER = "source-watcher"
FINALIZER = "source.extensions.fluxcd.io/finalizer"
GENERATOR_LABEL = "source.extensions.fluxcd.io/generator"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
RECONCILE_ANNOTATION = "source.extensions.fluxcd.io/reconcile"
ORIGIN_REVISION = "org.opencontainers.image.revision"
STORAGE_HOST = "source-watcher.flux-system.svc.cluster.local."
"""`--storage-adv-addr` as `flux install` sets it for source-watcher."""
NO_CROSS_NAMESPACE_REFS = "--no-cross-namespace-refs"

INTERVAL_MS = 3_600_000
"""`GetRequeueAfter`: an ArtifactGenerator has no interval; it is looked at again every hour."""
REQUEUE_DEPENDENCY_MS = 5_000
"""source-watcher's `--requeue-dependency` default (flux install leaves it)."""
JITTER_PERCENT = 5

IN_PROGRESS = "Reconciliation in progress"
INIT_SUSPENDED = "Initialized with reconciliation suspended"
DISABLED = "Reconciliation is disabled"
RECONCILIATION_DISABLED = "ReconciliationDisabled"
ACCESS_DENIED = "AccessDenied"
VALIDATION_FAILED = "ValidationFailed"
SOURCE_FETCH_FAILED = "SourceFetchFailed"

SOURCE_KINDS: dict[str, refs.GVK] = {
    "Bucket": flux.BUCKET,
    "GitRepository": flux.GITREPOSITORY,
    "OCIRepository": flux.OCIREPOSITORY,
    "HelmChart": flux.HELMCHART,
    "ExternalArtifact": flux.EXTERNALARTIFACT,
}
ARCHIVE_FILTER = ignore.parse("\n".join(ignore.VCS_PATTERNS + ignore.EXTRA_PATTERNS))
"""What storage's archiver leaves out of a generated tarball (fluxcd/pkg `SourceIgnoreFilter`
with no patterns: the VCS files and the default exclusions)."""
TREES_KEPT = 8


@dataclass(frozen=True, slots=True)
class _Observed:
    """A source's artifact as the generator observed it."""

    artifact: artifacts.Artifact
    origin_revision: str

    def line(self, alias: str) -> str:
        a = self.artifact
        return f"{alias}=[digest={a.digest},revision={a.revision},url={a.url}]"


def sources_digest(observed: dict[str, _Observed]) -> str:
    """`HashObservedSources`: sha256 of the sorted `<alias>=[digest=..,revision=..,url=..]` joined by `|`."""
    parts = sorted(o.line(alias) for alias, o in observed.items())
    return "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


class _End(Exception):
    """The reconcile ends here: with `result`, or by raising `error` to the work queue."""

    def __init__(self, result: base.Result | None = None, error: Exception | None = None) -> None:
        super().__init__()
        self.result = result or base.Result()
        self.error = error


@dataclass(slots=True)
class ArtifactGenerators:
    """source-watcher's ArtifactGenerator reconciler (`base.Reconciler`)."""

    rt: base.Runtime
    storage: Storage
    trees: collections.OrderedDict[str, artifactbuild.Tree] = field(default_factory=collections.OrderedDict)
    """The unpacked source artifacts last used, by path and digest."""

    @property
    def name(self) -> str:
        return CONTROLLER

    @property
    def gvk(self) -> refs.GVK:
        return GENERATOR

    def watches(self) -> list[base.Watch]:
        mapper = base.on_new_revision(self.rt.cluster, GENERATOR.group_kind, _reads)
        return [base.Watch(gvk.group_kind, mapper) for gvk in SOURCE_KINDS.values()]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        try:
            obj = self.rt.cluster.get(ref)
        except errors.NotFound:
            return base.Result()
        before = objects.deep_copy(obj.get("status") or {})
        now = self.rt.now()
        try:
            result = self._run(obj, now)
            error: Exception | None = None
        except _End as end:
            result, error = end.result, end.error
        if not obj["metadata"].get("deletionTimestamp"):
            self._summarize(obj, before, now)
        if error is not None:
            raise error
        return result

    # -- the preamble --------------------------------------------------------------------------

    def _run(self, obj: objects.RawObject, now: str) -> base.Result:
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if meta.get("deletionTimestamp"):
            if FINALIZER in finalizers:
                self._delete_generated(_inventory(obj))
                meta["finalizers"] = [f for f in finalizers if f != FINALIZER]
                self._update(obj, "remove the finalizer")
            return base.Result()
        if FINALIZER not in finalizers:
            meta["finalizers"] = [*finalizers, FINALIZER]
            self._update(obj, "add the finalizer")
            if _disabled(obj):
                conditions.mark_true(obj, conditions.READY, RECONCILIATION_DISABLED, INIT_SUSPENDED, now=now)
            else:
                conditions.mark_unknown(
                    obj, conditions.READY, conditions.Reason.PROGRESSING, IN_PROGRESS, now=now
                )
                conditions.mark_reconciling(obj, conditions.Reason.PROGRESSING, IN_PROGRESS, now=now)
            return base.Result(requeue_after=1)
        if _disabled(obj):
            self._event(obj, base.EventType.TRACE, RECONCILIATION_DISABLED, DISABLED)
            return base.Result()
        spec = base.typed_spec(obj, api.ArtifactGeneratorSpec)
        self._validate(obj, spec, now)
        return self._reconcile(obj, spec, now)

    def _update(self, obj: objects.RawObject, doing: str) -> None:
        """Write the object's metadata (its finalizers) as source-watcher."""
        body = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}
        try:
            updated = self.rt.cluster.update(body, field_manager=CONTROLLER)
        except errors.NotFound as exc:
            raise _End() from exc
        except errors.ApiError as exc:
            raise _End(error=base.StatusRefused(f"failed to {doing}: {exc.message}")) from exc
        obj["metadata"] = updated["metadata"]

    def _summarize(self, obj: objects.RawObject, before: dict[str, Any], now: str) -> None:
        """`summarizeStatus`: requestedAt handled, Reconciling settled, the status patched."""
        requested = objects.annotations_of(obj).get(flux.REQUESTED_AT_ANNOTATION)
        if requested:
            base.status(obj)["lastHandledReconcileAt"] = requested
        ready = conditions.get(obj, conditions.READY)
        if ready is not None and ready.get("status") == conditions.Status.FALSE:
            conditions.mark_retrying(obj, now=now)
        if conditions.is_true(obj, conditions.READY) or conditions.is_true(obj, conditions.STALLED):
            conditions.delete(obj, conditions.RECONCILING)
        base.patch_status(self.rt, obj, CONTROLLER, before)

    def _event(self, obj: objects.RawObject, etype: base.EventType, reason: str, message: str) -> None:
        self.rt.recorder.event(obj, type=etype, reason=reason, message=message, controller=CONTROLLER)

    def _fail(
        self, obj: objects.RawObject, reason: str, message: str, now: str, after: int | None
    ) -> NoReturn:
        """Ready=False with a Warning; retried after `after` ms, or with backoff when None."""
        conditions.mark_false(obj, conditions.READY, reason, message, now=now)
        self._event(obj, base.EventType.WARNING, reason, message)
        if after is not None:
            raise _End(base.Result(requeue_after=after))
        raise _End(error=workqueue.RequeueError(message))

    def _stall(self, obj: objects.RawObject, reason: str, message: str, now: str) -> NoReturn:
        """`newTerminalErrorFor`: Ready=False, Stalled, a Warning, and no retry."""
        conditions.mark_false(obj, conditions.READY, reason, message, now=now)
        conditions.mark_stalled(obj, reason, message, now=now)
        self._event(obj, base.EventType.WARNING, reason, message)
        raise _End(error=workqueue.TerminalError(message))

    def _validate(self, obj: objects.RawObject, spec: api.ArtifactGeneratorSpec, now: str) -> None:
        namespace = obj["metadata"]["namespace"]
        aliases: set[str] = set()
        locked: bool | None = None
        for src in spec.sources:
            if src.alias in aliases:
                self._stall(obj, VALIDATION_FAILED, f"duplicate source alias '{src.alias}' found", now)
            aliases.add(src.alias)
            if src.namespace and src.namespace != namespace:
                if locked is None:
                    locked = flags.enabled(
                        self.rt.cluster, CONTROLLER, NO_CROSS_NAMESPACE_REFS, default=False, absent=False
                    )
                if locked:
                    message = (
                        f"cross-namespace reference to source {src.kind}/{src.namespace}/{src.name} "
                        "is not allowed"
                    )
                    self._stall(obj, ACCESS_DENIED, message, now)
        names: set[str] = set()
        for artifact in spec.artifacts:
            if artifact.name in names:
                self._stall(obj, VALIDATION_FAILED, f"duplicate artifact name '{artifact.name}' found", now)
            if not spec.path_pattern and (problems := artifactbuild.subdomain_errors(artifact.name)):
                message = (
                    f'artifact name "{artifact.name}" is not a valid Kubernetes object name: '
                    + "; ".join(problems)
                )
                self._stall(obj, VALIDATION_FAILED, message, now)
            alias = (artifact.revision or "").removeprefix("@")
            if artifact.revision and alias not in aliases:
                message = f"artifact {artifact.name} revision source alias '{alias}' not found"
                self._stall(obj, VALIDATION_FAILED, message, now)
            names.add(artifact.name)

    # -- the reconcile -------------------------------------------------------------------------

    def _reconcile(self, obj: objects.RawObject, spec: api.ArtifactGeneratorSpec, now: str) -> base.Result:
        observed = self._observe(obj, spec, now)
        digest = sources_digest(observed)
        if not self._drifted(obj, spec, digest):
            inventory = _inventory(obj)
            self._event(
                obj,
                base.EventType.TRACE,
                "Ready",
                f"No drift detected, {len(inventory)} artifact(s) up to date",
            )
            return base.Result(requeue_after=INTERVAL_MS)
        conditions.mark_reconciling(obj, conditions.Reason.PROGRESSING, IN_PROGRESS, now=now)
        conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, IN_PROGRESS, now=now)
        trees = self._fetch(obj, spec, observed, now)
        try:
            wanted = artifactbuild.requests(spec, trees)
        except artifactbuild.BuildError as exc:
            message = f"failed to expand path pattern: {exc.message}"
            if exc.terminal:
                self._stall(obj, conditions.Reason.BUILD_FAILED, message, now)
            conditions.delete(obj, conditions.STALLED)
            self._fail(obj, conditions.Reason.BUILD_FAILED, message, now, None)
        old = {(r["name"], r["namespace"], r["digest"]) for r in _inventory(obj)}
        generated: list[dict[str, str]] = []
        for request in wanted:
            artifact = self._build(obj, request.artifact, trees, observed, now)
            generated.append(self._publish(obj, spec, request, artifact, old, now))
        kept = {(r["name"], r["namespace"]) for r in generated}
        self._delete_generated([r for r in _inventory(obj) if (r["name"], r["namespace"]) not in kept])
        for ref in generated:
            self.storage.garbage_collect(
                flux.EXTERNALARTIFACT.kind, ref["namespace"], ref["name"], keep=_path(ref)
            )
        status = base.status(obj)
        status["inventory"] = generated
        status["observedSourcesDigest"] = digest
        message = f"reconciliation succeeded, generated {len(generated)} artifact(s)"
        conditions.mark_true(obj, conditions.READY, conditions.Reason.SUCCEEDED, message, now=now)
        self._event(obj, base.EventType.TRACE, "Ready", message)
        changed = [r for r in generated if (r["name"], r["namespace"], r["digest"]) not in old]
        if changed:
            listed = "\n".join(f"{r['namespace']}/{r['name']} ({r['digest']})" for r in changed)
            self._event(obj, base.EventType.NORMAL, "Ready", f"external artifacts reconciled: {listed}")
        return base.Result(requeue_after=workqueue.jitter(INTERVAL_MS, self.rt.rng, JITTER_PERCENT))

    def _observe(
        self, obj: objects.RawObject, spec: api.ArtifactGeneratorSpec, now: str
    ) -> dict[str, _Observed]:
        """`observeSources`: each source's artifact, by alias."""
        out: dict[str, _Observed] = {}
        for src in spec.sources:
            gvk = SOURCE_KINDS[src.kind]
            namespace = src.namespace or obj["metadata"]["namespace"]
            ref = refs.ObjectRef(gvk.group, gvk.kind, namespace, src.name)
            try:
                found = self.rt.cluster.read(ref)
            except errors.NotFound:
                self._fail(
                    obj,
                    SOURCE_FETCH_FAILED,
                    f"get sources failed: {errors.kind_not_found(ref).message}",
                    now,
                    REQUEUE_DEPENDENCY_MS,
                )
            except errors.ApiError as exc:
                message = f"get sources failed: unable to get source '{namespace}/{src.name}': {exc.message}"
                self._fail(obj, SOURCE_FETCH_FAILED, message, now, REQUEUE_DEPENDENCY_MS)
            raw = (found.get("status") or {}).get("artifact")
            if not isinstance(raw, dict) or not raw:
                message = f"get sources failed: source '{src.kind}/{namespace}/{src.name}' is not ready"
                self._fail(obj, SOURCE_FETCH_FAILED, message, now, REQUEUE_DEPENDENCY_MS)
            artifact = artifacts.Artifact.from_status(raw)
            out[src.alias] = _Observed(artifact, dict(artifact.metadata).get(ORIGIN_REVISION, ""))
        return out

    def _drifted(self, obj: objects.RawObject, spec: api.ArtifactGeneratorSpec, digest: str) -> bool:
        """`detectDrift`: whether anything calls for generating the artifacts again."""
        ready = conditions.get(obj, conditions.READY)
        if ready is not None and ready.get("status") == conditions.Status.FALSE:
            return True
        generation = int(obj["metadata"].get("generation", 0))
        if ready is None or int(ready.get("observedGeneration", 0)) != generation:
            return True
        status = obj.get("status") or {}
        if status.get("observedSourcesDigest") != digest:
            return True
        inventory = _inventory(obj)
        if len(inventory) != len(spec.artifacts) and not spec.path_pattern:
            return True
        for ref in inventory:
            stored = _stored(ref)
            if not self.storage.exists(stored):
                return True
            if self.storage.verify(stored) is not None:
                self.storage.remove(stored)
                return True
        generated = self.rt.cluster.list(
            flux.EXTERNALARTIFACT.group_kind,
            namespace=obj["metadata"]["namespace"],
            labels={GENERATOR_LABEL: str(obj["metadata"].get("uid", ""))},
        )
        if len(generated) != len(inventory):
            return True
        listed = {(r["name"], r["namespace"], r["digest"]) for r in inventory}
        for ea in generated:
            meta, artifact = ea["metadata"], (ea.get("status") or {}).get("artifact") or {}
            if (meta["name"], meta["namespace"], artifact.get("digest")) not in listed:
                return True
        return False

    def _fetch(
        self,
        obj: objects.RawObject,
        spec: api.ArtifactGeneratorSpec,
        observed: dict[str, _Observed],
        now: str,
    ) -> dict[str, artifactbuild.Tree]:
        """`fetchSources`: each source's files from storage, by alias."""
        trees: dict[str, artifactbuild.Tree] = {}
        for src in spec.sources:
            artifact = observed[src.alias].artifact
            key = f"{artifact.path}@{artifact.digest}"
            tree = self.trees.get(key)
            if tree is None:
                try:
                    tree = artifactbuild.Tree.of(self.storage.fetch(artifact))
                except (ArtifactError, artifactbuild.BuildError) as exc:
                    self._fail(
                        obj, SOURCE_FETCH_FAILED, f"fetch sources failed: {exc}", now, REQUEUE_DEPENDENCY_MS
                    )
                self.trees[key] = tree
                while len(self.trees) > TREES_KEPT:
                    self.trees.popitem(last=False)
            self.trees.move_to_end(key)
            trees[src.alias] = tree
        return trees

    def _build(
        self,
        obj: objects.RawObject,
        output: api.OutputArtifact,
        trees: dict[str, artifactbuild.Tree],
        observed: dict[str, _Observed],
        now: str,
    ) -> artifacts.Artifact:
        """`Builder.Build` and `setArtifactRevisions`: the artifact stored, with its revisions."""
        staging = artifactbuild.Tree()
        try:
            artifactbuild.apply_copies(output.copy, trees, staging)
            name = artifactbuild.content_hash(output.name, staging.files)
        except artifactbuild.BuildError as exc:
            self._fail(
                obj, conditions.Reason.BUILD_FAILED, f"{output.name} build failed: {exc.message}", now, None
            )
        files = {p: d for p, d in staging.files.items() if not ignore.excluded(p, ARCHIVE_FILTER)}
        namespace = obj["metadata"]["namespace"]
        stored = self.storage.store(
            flux.EXTERNALARTIFACT.kind, namespace, output.name, f"{name}.tar.gz", files, revision="", now=now
        )
        revision = f"latest@{stored.digest}"
        if output.revision and (source := observed.get(output.revision[1:])) is not None:
            revision = source.artifact.revision
        metadata: dict[str, str] = {}
        if output.origin_revision and (origin := observed.get(output.origin_revision[1:])) is not None:
            metadata[ORIGIN_REVISION] = origin.origin_revision or origin.artifact.revision
        return dataclasses.replace(
            stored, url=f"http://{STORAGE_HOST}/{stored.path}", revision=revision
        ).with_metadata(metadata)

    def _publish(
        self,
        obj: objects.RawObject,
        spec: api.ArtifactGeneratorSpec,
        request: artifactbuild.Request,
        artifact: artifacts.Artifact,
        old: set[tuple[str, str, str]],
        now: str,
    ) -> dict[str, str]:
        """`reconcileExternalArtifact`: the ExternalArtifact applied and its status set."""
        meta, name = obj["metadata"], request.artifact.name
        common = spec.common_metadata
        labels = {
            **((common.labels or {}) if common else {}),
            **request.labels,
            MANAGED_BY_LABEL: CONTROLLER,
            GENERATOR_LABEL: str(meta.get("uid", "")),
        }
        metadata: dict[str, Any] = {"name": name, "namespace": meta["namespace"], "labels": labels}
        if common is not None and common.annotations:
            metadata["annotations"] = dict(common.annotations)
        wanted = {
            "apiVersion": flux.EXTERNALARTIFACT.api_version,
            "kind": flux.EXTERNALARTIFACT.kind,
            "metadata": metadata,
            "spec": {
                "sourceRef": {
                    "apiVersion": GENERATOR.api_version,
                    "kind": GENERATOR.kind,
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                }
            },
        }
        failed = conditions.Reason.RECONCILIATION_FAILED
        try:
            applied = self.rt.cluster.apply(wanted, field_manager=CONTROLLER, force=True)
        except errors.ApiError as exc:
            message = f"{name} reconcile failed: failed to apply ExternalArtifact: {exc.message}"
            self._fail(obj, failed, message, now, None)
        applied["metadata"].pop("resourceVersion", None)
        applied["status"] = {
            "artifact": artifact.to_status(),
            "conditions": [
                {
                    "lastTransitionTime": now,
                    "message": "Artifact is ready",
                    "observedGeneration": int(applied["metadata"].get("generation", 0)),
                    "reason": conditions.Reason.SUCCEEDED,
                    "status": conditions.Status.TRUE,
                    "type": conditions.READY,
                }
            ],
        }
        try:
            self.rt.cluster.update(applied, field_manager=CONTROLLER, subresource="status")
        except errors.ApiError as exc:
            message = f"{name} reconcile failed: failed to patchStatus ExternalArtifact status: {exc.message}"
            self._fail(obj, failed, message, now, None)
        if (name, meta["namespace"], artifact.digest) not in old:
            ea = f"{flux.EXTERNALARTIFACT.kind}/{meta['namespace']}/{name}"
            message = f"{ea} reconciled with revision {artifact.revision}"
            self._event(obj, base.EventType.TRACE, "Ready", message)
        return {
            "name": name,
            "namespace": meta["namespace"],
            "digest": artifact.digest,
            "filename": artifact.path.rsplit("/", 1)[-1],
        }

    def _delete_generated(self, generated: list[dict[str, str]]) -> None:
        """`finalizeExternalArtifacts`: each one's files and object deleted (errors only logged)."""
        for ref in generated:
            self.storage.garbage_collect(flux.EXTERNALARTIFACT.kind, ref["namespace"], ref["name"], keep=None)
            target = refs.ObjectRef(
                flux.SOURCE_GROUP, flux.EXTERNALARTIFACT.kind, ref["namespace"], ref["name"]
            )
            with contextlib.suppress(errors.ApiError):  # source-watcher logs the failure, goes on
                self.rt.cluster.delete(target)


def _disabled(obj: objects.RawObject) -> bool:
    return objects.annotations_of(obj).get(RECONCILE_ANNOTATION, "").lower() == "disabled"


def _inventory(obj: objects.RawObject) -> list[dict[str, str]]:
    entries = (obj.get("status") or {}).get("inventory") or []
    return [e for e in entries if isinstance(e, dict) and {"name", "namespace"} <= e.keys()]


def _path(ref: dict[str, str]) -> str:
    kind = flux.EXTERNALARTIFACT.kind.lower()
    return f"{kind}/{ref['namespace']}/{ref['name']}/{ref.get('filename', '')}"


def _stored(ref: dict[str, str]) -> artifacts.Artifact:
    """An inventory entry as the artifact in storage it names."""
    return artifacts.Artifact(
        path=_path(ref), url="", revision="", digest=str(ref.get("digest", "")), last_update_time="", size=0
    )


def _reads(generator: objects.RawObject, source: refs.ObjectRef) -> bool:
    """Whether `generator` (read raw) lists `source` among its sources."""
    namespace = generator["metadata"]["namespace"]
    for src in (generator.get("spec") or {}).get("sources") or []:
        if not isinstance(src, dict):
            continue
        gvk = SOURCE_KINDS.get(str(src.get("kind")))
        if gvk is None or gvk.group != source.group:
            continue
        if (src.get("kind"), src.get("name"), src.get("namespace") or namespace) == (
            source.kind,
            source.name,
            source.namespace,
        ):
            return True
    return False


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def storage(self) -> Storage: ...


def _build(services: _Services) -> base.Reconciler:
    return ArtifactGenerators(services.runtime, services.storage)


registry.register(
    registry.Entry("artifactgenerator", GENERATOR.group_kind, _build, order=55, component=CONTROLLER)
)
