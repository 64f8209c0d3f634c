"""Kustomization (kustomize.toolkit.fluxcd.io/v1): build a source path and apply it with SSA.

Provenance: behaviour of kustomize-controller `internal/controller/kustomization_controller.go`
(Reconcile, reconcile, apply, prune, checkHealth, finalize) and fluxcd/pkg `ssa`; our own code.

Steps: Flux's preamble; parse `healthCheckExprs` (invalid: Stalled, InvalidCELExpression); find
the source (GitRepository, OCIRepository or Bucket; missing: `ArtifactFailed`, retry at
`retryInterval`; no artifact yet: retry in 30s); check `dependsOn` (readyExpr in CEL, or exists,
Ready for its generation and, on the same source, the same revision: `DependencyNotReady`, retry
in 30s); mark the reconcile in progress; fetch the artifact from storage (never from the upstream)
and check its digest; build `spec.path` with the real kustomize and the overlay fields
(`BuildFailed`); substitute postBuild variables; add the owner labels and `commonMetadata` (this
render is `apply.render`, a library a CLI can call too); apply everything in stages with
server-side apply under `kustomize-controller`, with the `spec.ignore` drift rules, recreating on
immutable-field errors with `force` (`ReconciliationFailed`); emit the change set; prune what left
the inventory (`PruneFailed`, survivors kept); with `wait` or `healthChecks`, poll kstatus every
5s until all are Current, one is Failed (fail-fast) or the timeout passes (`HealthCheckFailed`);
then Ready=True "Applied revision: <rev>" (and `lastAppliedOriginRevision` from an OCI artifact's
`org.opencontainers.image.revision`), "Reconciliation finished in <d>, next run in <interval>",
and a requeue after `interval` with ±5% jitter. On deletion, `deletionPolicy` decides what is
pruned.

Repository content is untrusted (see `apply.build`: bounded parsing, a wall-time and memory limit
on kustomize, no path outside the artifact); each such failure is this Kustomization's
`BuildFailed` or `ArtifactFailed`. Post-build substitution (in `apply.render`) re-parses each
object with `model.yamlsafe`, so a variable cannot smuggle in an alias bomb.

The spec is read once per reconcile as the typed Flux API (`fluxapi.kustomize.KustomizationSpec`,
`base.typed_spec`); only other objects' specs (a dependency's, a watched Kustomization's
sourceRef) are read raw.

Differences, on purpose: Flux blocks inside one reconcile while health checks run; here the
reconcile is resumed at each 5s poll (`_HealthWait`), and whatever asks for another reconcile
meanwhile waits for it to finish, as in Flux. Reconciles otherwise take no virtual time, so
durations read `0s` unless a health check waited. The `CancelHealthCheckOnNewRevision` and
`DisableFailFastBehavior` feature gates are at Flux's defaults (off); `kubeConfig` (remote
clusters), `serviceAccountName` impersonation and `buildMetadata` are not honoured.

Field managers as Flux's: the apply is `kustomize-controller`; the finalizer and status are
written as `gotk-kustomize-controller` (the patch helper's field owner), which the apply's
take-over of `kustomize-controller` Updates leaves alone, so a parent never strips a child
Kustomization's finalizer.

SOPS: a `v1` Secret with a top-level `sops` key (not annotated
`kustomize.toolkit.fluxcd.io/decrypt: disabled`) fails the whole apply when `spec.decryption` is
unset, with kustomize-controller's message (ReconciliationFailed, nothing applied). Difference:
with `spec.decryption` set Flux decrypts; we do not, so such a Kustomization is Ready=False,
BuildFailed, "decryption not simulated", and no ciphertext is applied.

Health checks: a Flux kind that no simulated controller reconciles (`reconciled`; HelmRelease,
the image and notification kinds with a status) is never Current, and the timeout names it
(our wording, in the place of kstatus's error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops_sim.apply import build, changeset, drift, inventory, manager, render
from gitops_sim.cluster import errors
from gitops_sim.model import (
    artifacts,
    cel,
    conditions,
    duration,
    flux,
    fluxapi,
    kstatus,
    objects,
    refs,
)
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import kustomize as api
from gitops_sim.reconcile import base, registry
from gitops_sim.storage import ArtifactError, ArtifactNotFound, Storage
from gitops_sim.timing import workqueue

STATUS_MANAGER = flux.field_owner(flux.KUSTOMIZE_CONTROLLER)
CLEANUP_MANAGERS = (
    ("kubectl", "Apply"),
    ("kubectl", "Update"),
    ("before-first-apply", "Update"),
    (flux.KUSTOMIZE_CONTROLLER, "Update"),
)
SOURCE_KINDS = {
    "GitRepository": flux.GITREPOSITORY,
    "OCIRepository": flux.OCIREPOSITORY,
    "Bucket": flux.BUCKET,
}
FLUX_SOURCE_KINDS = ("OCIRepository", "Bucket", "ExternalArtifact")
SIMULATED_KINDS = frozenset(
    gvk.group_kind
    for gvk in (*SOURCE_KINDS.values(), flux.HELMREPOSITORY, flux.HELMCHART, flux.KUSTOMIZATION)
)
HISTORY_LIMIT = 5
HEALTH_POLL_MS = 5_000
OCI_ORIGIN_REVISION = "org.opencontainers.image.revision"


@dataclass(frozen=True, slots=True)
class _AppliedSet:
    """What a Kustomization's last successful apply left behind.

    IMPLEMENTATION DETAIL: Problem: at every interval Flux rebuilds and dry-runs every object,
    and most intervals change nothing; rebuilding and comparing is most of a no-change
    reconcile's cost. Solution: remember the inputs of the last successful apply (artifact
    digest, generation, substitution sources' resourceVersions) and the resourceVersion each
    object had after it. When all are unchanged, the build and the dry-runs would give the same
    result, all unchanged, so that result is used. Any write to any of the objects (a drift), or
    its deletion, changes its resourceVersion, and the full build and dry-run run again.
    """

    inputs: tuple[object, ...]
    objects: tuple[tuple[refs.ObjectRef, str | None], ...]
    digest: str
    applied: changeset.ChangeSet


@dataclass(slots=True)
class _HealthWait:
    """A reconcile that is waiting for its health checks (Flux blocks inside the reconcile; here
    it is resumed by a requeue at each poll)."""

    started_ms: int
    """When the reconcile began; the apply takes no virtual time, so the checks began then too."""
    deadline_ms: int
    targets: list[refs.ObjectRef]
    custom: dict[refs.GroupKind, kstatus.Custom]
    revision: str
    digest: str
    announce: bool
    interval: int
    retry: int
    generation: int
    next_poll_ms: int = 0
    retrigger: bool = False


class ReconcileFailed(workqueue.RequeueError):
    """Ready=False with `reason` and `message`; retried after `requeue_after` (default retryInterval).

    `emit` says whether Flux sends a Warning event for it (it does not while waiting for a source);
    `digest` is set when the failure happened after a build, for the history.
    """

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        requeue_after: int | None = None,
        emit: bool = True,
        digest: str | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.requeue_after = requeue_after
        self.emit = emit
        self.digest = digest


@dataclass(slots=True)
class KustomizationReconciler:
    rt: base.Runtime
    storage: Storage
    builder: build.Builder
    name: str = flux.KUSTOMIZE_CONTROLLER
    gvk: refs.GVK = flux.KUSTOMIZATION
    fail_fast: bool = True
    """Off with Flux's `DisableFailFastBehavior` feature gate."""
    reconciled: frozenset[refs.GroupKind] = SIMULATED_KINDS
    """The kinds some simulated controller reconciles (the engine sets it from its controllers).
    A Flux kind outside it is never Current in a health check."""
    _resources: manager.ResourceManager = field(init=False)
    _waits: dict[refs.ObjectRef, _HealthWait] = field(init=False, default_factory=dict)
    _applied_sets: dict[refs.ObjectRef, _AppliedSet] = field(init=False, default_factory=dict)
    _origins: dict[refs.ObjectRef, str] = field(init=False, default_factory=dict)
    """The origin revision (`org.opencontainers.image.revision` of an OCI artifact) of the
    source artifact each Kustomization's current reconcile works on."""

    def __post_init__(self) -> None:
        self._resources = manager.ResourceManager(self.rt.cluster, self.name, CLEANUP_MANAGERS)

    def watches(self) -> list[base.Watch]:
        mapper = base.on_new_revision(self.rt.cluster, self.gvk.group_kind, self._uses)
        return [base.Watch(gvk.group_kind, mapper) for gvk in SOURCE_KINDS.values()]

    @staticmethod
    def _uses(ks: objects.RawObject, source: refs.ObjectRef) -> bool:
        src = (ks.get("spec") or {}).get("sourceRef") or {}
        ns = src.get("namespace") or ks["metadata"]["namespace"]
        return bool(
            src.get("kind") == source.kind and src.get("name") == source.name and ns == source.namespace
        )

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        wait = self._waits.get(ref)
        if wait is not None:
            # Still inside a reconcile that waits for its health checks: it goes on (even if the
            # object was suspended meanwhile) unless the object is gone or being deleted.
            try:
                live = self.rt.cluster.get(ref)
            except errors.NotFound:
                live = None
            if live is not None and not live["metadata"].get("deletionTimestamp"):
                return self._poll_health(live, objects.deep_copy(live.get("status") or {}), wait)
            self._waits.pop(ref, None)
        try:
            obj, before = base.begin(self.rt, ref, self.name, self._finalize)
        except base.Done as done:
            self._origins.pop(ref, None)
            self._applied_sets.pop(ref, None)
            return done.result
        spec = base.typed_spec(obj, api.KustomizationSpec)
        now = self.rt.now()
        interval = _duration_ms(obj, "interval", spec.interval)
        retry = _duration_ms(obj, "retryInterval", spec.retry_interval) if spec.retry_interval else interval
        started = self.rt.clock.now()
        try:
            custom = _health_check_exprs(spec)
        except cel.CelError as exc:
            return self._stalled(obj, before, conditions.Reason.INVALID_CEL_EXPRESSION, str(exc), now)
        artifact: artifacts.Artifact | None = None
        try:
            artifact = self._source_artifact(obj, spec)
        except ReconcileFailed as exc:
            return self._failed(obj, before, exc, None, now, retry)
        self._origins[ref] = dict(artifact.metadata).get(OCI_ORIGIN_REVISION, "")
        try:
            unready = self._unready_dependency(obj, spec, artifact)
        except cel.CelError as exc:
            return self._stalled(obj, before, conditions.Reason.INVALID_CEL_EXPRESSION, str(exc), now)
        if unready is not None:
            # Flux: Ready=False, an info event, and a requeue after --requeue-dependency.
            conditions.mark_false(
                obj, conditions.READY, conditions.Reason.DEPENDENCY_NOT_READY, unready, now=now
            )
            base.patch_status(self.rt, obj, STATUS_MANAGER, before)
            retry_in = duration.format(flux.REQUEUE_DEPENDENCY_MS)
            self._event(
                obj,
                base.EventType.NORMAL,
                f"Dependencies do not meet ready condition, retrying in {retry_in}",
            )
            return base.Result(requeue_after=flux.REQUEUE_DEPENDENCY_MS)
        was_healthy = conditions.is_true(obj, conditions.HEALTHY)
        new_revision = base.status(obj).get("lastAppliedRevision") != artifact.revision
        try:
            digest, applied = self._reconcile(obj, spec, artifact, now, interval)
        except ReconcileFailed as exc:
            return self._failed(obj, before, exc, artifact.revision, now, retry)
        targets = self._health_targets(obj, spec, applied)
        if not targets:
            conditions.delete(obj, conditions.HEALTHY)
            return self._succeeded(obj, before, artifact.revision, digest, interval, started)
        timeout = _timeout_ms(spec, interval)
        message = (
            f"Running health checks for revision {artifact.revision} "
            f"with a timeout of {duration.format(timeout)}"
        )
        conditions.mark_true(obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=now)
        conditions.mark_unknown(obj, conditions.HEALTHY, conditions.Reason.PROGRESSING, message, now=now)
        base.patch_status(self.rt, obj, STATUS_MANAGER, before)
        before = objects.deep_copy(obj.get("status") or {})
        wait = _HealthWait(
            started_ms=started,
            deadline_ms=started + timeout,
            targets=targets,
            custom=custom,
            revision=artifact.revision,
            digest=digest,
            announce=not was_healthy or (new_revision and bool(applied.changes())),
            interval=interval,
            retry=retry,
            generation=int(obj["metadata"].get("generation", 0)),
        )
        return self._poll_health(obj, before, wait)

    def _poll_health(self, obj: objects.RawObject, before: dict[str, Any], wait: _HealthWait) -> base.Result:
        """One kstatus poll of the health check targets (Flux polls every 5s until the timeout,
        the first time at once; it stops early when all are Current, or one is Failed)."""
        ref = objects.ref_of(obj)
        now_ms = self.rt.clock.now()
        if now_ms < wait.next_poll_ms:
            # Flux is still inside this reconcile: whatever asked for another one waits for it.
            wait.retrigger = True
            return base.Result(requeue_after=wait.next_poll_ms - now_ms)
        results = [(target, self._health_of(target, wait.custom)) for target in wait.targets]
        failed = [(t, r) for t, r in results if r.status == kstatus.Status.FAILED]
        pending = [(t, r) for t, r in results if r.status != kstatus.Status.CURRENT]
        terminal = all(r.status in (kstatus.Status.CURRENT, kstatus.Status.FAILED) for _, r in results)
        error: str | None = None
        if failed and (self.fail_fast or terminal):
            error = f"failed early due to stalled resources: [{_entries(failed)}]"
        elif pending and now_ms >= wait.deadline_ms:
            error = f"timeout waiting for: [{_entries(pending)}]"
        elif pending:
            wait.next_poll_ms = min(now_ms + HEALTH_POLL_MS, wait.deadline_ms)
            self._waits[ref] = wait
            return base.Result(requeue_after=wait.next_poll_ms - now_ms)
        self._waits.pop(ref, None)
        now = self.rt.now()
        took = duration.format(now_ms - wait.started_ms)
        if error is not None:
            conditions.mark_false(
                obj, conditions.HEALTHY, conditions.Reason.HEALTH_CHECK_FAILED, error, now=now
            )
            exc = ReconcileFailed(
                conditions.Reason.HEALTH_CHECK_FAILED,
                f"health check failed after {took}: {error}",
                digest=wait.digest,
            )
            result = self._failed(obj, before, exc, wait.revision, now, wait.retry)
        else:
            passed = f"Health check passed in {took}"
            conditions.mark_true(obj, conditions.HEALTHY, conditions.Reason.SUCCEEDED, passed, now=now)
            if wait.announce:
                self._event(obj, base.EventType.NORMAL, passed)
            result = self._succeeded(
                obj, before, wait.revision, wait.digest, wait.interval, wait.started_ms, wait.generation
            )
        if wait.retrigger:
            return base.Result(requeue_after=result.requeue_after, again=True)
        return result

    def _health_of(
        self, target: refs.ObjectRef, custom: dict[refs.GroupKind, kstatus.Custom]
    ) -> kstatus.Result:
        try:
            live = self.rt.cluster.read(target)  # read-only: kstatus only looks
        except errors.NotFound:
            return kstatus.Result(kstatus.Status.NOT_FOUND, "Resource not found")
        result = kstatus.compute(live, custom.get(target.group_kind))
        kind = target.group_kind
        if kind in fluxapi.RECONCILED_KINDS and kind not in self.reconciled:
            # Nobody here will ever report on it: never Current, and the message says why.
            if result.status in (kstatus.Status.TERMINATING, kstatus.Status.FAILED):
                return result
            return kstatus.Result(
                kstatus.Status.IN_PROGRESS,
                result.message,
                error=f"gitops-sim does not simulate {fluxapi.controller_of(kind)}: "
                f"{kind.kind} objects are never reconciled here",
            )
        return result

    def _health_targets(
        self, obj: objects.RawObject, spec: api.KustomizationSpec, applied: changeset.ChangeSet
    ) -> list[refs.ObjectRef]:
        """`wait: true`: everything applied but what was skipped; otherwise `healthChecks`
        (apiVersion defaults to apps/v1; the namespace is not defaulted, as in Flux). Never the
        Kustomization itself."""
        if spec.wait:
            targets = [e.ref for e in applied.entries if e.action != changeset.Action.SKIPPED]
        else:
            targets = []
            for check in spec.health_checks:
                gvk = refs.GVK.of(check.api_version or "apps/v1", check.kind)
                targets.append(refs.ObjectRef(gvk.group, gvk.kind, check.namespace or "", check.name))
        itself = objects.ref_of(obj)
        return [t for t in targets if t != itself]

    def _stalled(
        self, obj: objects.RawObject, before: dict[str, Any], reason: str, error: str, now: str
    ) -> base.Result:
        """A configuration error retrying cannot fix: Stalled and Ready=False, no requeue."""
        message = f"Reconciliation failed terminally due to configuration error: {error}"
        conditions.mark_true(obj, conditions.STALLED, reason, message, now=now)
        conditions.mark_false(obj, conditions.READY, reason, message, now=now)
        conditions.delete(obj, conditions.RECONCILING)
        base.patch_status(self.rt, obj, STATUS_MANAGER, before)
        self._event(obj, base.EventType.WARNING, message)
        return base.Result()

    def _succeeded(
        self,
        obj: objects.RawObject,
        before: dict[str, Any],
        revision: str,
        digest: str,
        interval: int,
        started_ms: int,
        generation: int | None = None,
    ) -> base.Result:
        """Ready=True for `generation` (the one this reconcile applied; default: the current)."""
        now = self.rt.now()
        conditions.mark_true(
            obj,
            conditions.READY,
            conditions.Reason.RECONCILIATION_SUCCEEDED,
            f"Applied revision: {revision}",
            now=now,
        )
        conditions.delete(obj, conditions.RECONCILING)
        conditions.delete(obj, conditions.STALLED)
        status = base.status(obj)
        status["lastAppliedRevision"] = revision
        origin = self._origins.get(objects.ref_of(obj), "")
        if origin:
            status["lastAppliedOriginRevision"] = origin
        else:
            status.pop("lastAppliedOriginRevision", None)
        status["observedGeneration"] = (
            generation if generation is not None else obj["metadata"].get("generation", 0)
        )
        took = self.rt.clock.now() - started_ms
        _record_history(status, digest, revision, now, "ReconciliationSucceeded", took, origin)
        base.patch_status(self.rt, obj, STATUS_MANAGER, before)
        self._event(
            obj,
            base.EventType.NORMAL,
            f"Reconciliation finished in {duration.format(took)}, next run in {duration.format(interval)}",
            extra={f"{flux.KUSTOMIZE_GROUP}/commit_status": "update"},
        )
        return base.Result(
            requeue_after=workqueue.jitter(interval, self.rt.rng, flux.INTERVAL_JITTER_PERCENT)
        )

    def _failed(
        self,
        obj: objects.RawObject,
        before: dict[str, Any],
        exc: ReconcileFailed,
        revision: str | None,
        now: str,
        retry: int,
    ) -> base.Result:
        conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
        conditions.mark_retrying(obj, now=now)
        if exc.digest is not None and revision is not None:
            _record_history(base.status(obj), exc.digest, revision, now, exc.reason)
        base.patch_status(self.rt, obj, STATUS_MANAGER, before)
        if exc.emit:
            self._event(obj, base.EventType.WARNING, exc.message)
        return base.Result(requeue_after=exc.requeue_after or retry)

    def _unready_dependency(
        self, obj: objects.RawObject, spec: api.KustomizationSpec, artifact: artifacts.Artifact
    ) -> str | None:
        """Why the first unready `spec.dependsOn` entry is not ready (kustomize-controller's
        checkDependencies), or None. A `readyExpr` that does not parse raises CelError."""
        namespace = obj["metadata"]["namespace"]
        src = spec.source_ref
        source = (src.kind, src.name, src.namespace or namespace)
        for dep in spec.depends_on:
            dep_ref = refs.ObjectRef(self.gvk.group, self.gvk.kind, dep.namespace or namespace, dep.name)
            name = f"{dep_ref.namespace}/{dep_ref.name}"
            try:
                ks = self.rt.cluster.get(dep_ref)
            except errors.NotFound:
                return f"dependency '{name}' not found: {errors.kind_not_found(dep_ref).message}"
            ready_expr = dep.ready_expr
            if ready_expr:
                # With readyExpr, the built-in checks are skipped (feature gate
                # AdditiveCELDependencyCheck off, Flux's default).
                try:
                    expr = cel.Expression.parse(ready_expr)
                except cel.CelError as exc:
                    raise cel.CelError(f"failed to evaluate dependency {dep_ref.name}: {exc}") from exc
                try:
                    ok = expr.evaluate({"self": obj, "dep": ks})
                except cel.CelError as exc:
                    return str(exc)
                if not ok:
                    return f"dependency '{name}' is not ready according to readyExpr eval"
                continue
            status = ks.get("status") or {}
            generation = int(ks["metadata"].get("generation", 0))
            if not status.get("conditions") or generation != status.get("observedGeneration"):
                return f"dependency '{name}' is not ready"
            if not conditions.is_true(ks, conditions.READY):
                return f"dependency '{name}' is not ready"
            dep_src = (ks.get("spec") or {}).get("sourceRef") or {}
            dep_source = (
                str(dep_src.get("kind", "")),
                str(dep_src.get("name", "")),
                str(dep_src.get("namespace") or dep_ref.namespace),
            )
            if dep_source == source and status.get("lastAppliedRevision") != artifact.revision:
                return f"dependency '{name}' revision is not up to date"
        return None

    def _source_artifact(self, obj: objects.RawObject, spec: api.KustomizationSpec) -> artifacts.Artifact:
        src = spec.source_ref
        kind, name = src.kind, src.name
        gvk = SOURCE_KINDS.get(kind)
        if gvk is None:
            message = (
                f"gitops-sim does not simulate {kind} sources yet"
                if kind in FLUX_SOURCE_KINDS
                else f"source `{name}` kind '{kind}' not supported"
            )
            raise ReconcileFailed(conditions.Reason.ARTIFACT_FAILED, message)
        namespace = src.namespace or obj["metadata"]["namespace"]
        source_ref = refs.ObjectRef(gvk.group, gvk.kind, namespace, name)
        try:
            source = self.rt.cluster.read(source_ref)  # read-only
        except errors.NotFound as exc:
            # Flux keeps quiet here (no event) and retries at retryInterval.
            raise ReconcileFailed(
                conditions.Reason.ARTIFACT_FAILED, errors.kind_not_found(source_ref).message, emit=False
            ) from exc
        raw = (source.get("status") or {}).get("artifact")
        if not raw:
            raise ReconcileFailed(
                conditions.Reason.ARTIFACT_FAILED,
                "Source artifact not found, retrying in 30s",
                requeue_after=flux.REQUEUE_DEPENDENCY_MS,
                emit=False,
            )
        return artifacts.Artifact.from_status(raw)

    def _reconcile(
        self,
        obj: objects.RawObject,
        spec: api.KustomizationSpec,
        artifact: artifacts.Artifact,
        now: str,
        interval: int,
    ) -> tuple[str, changeset.ChangeSet]:
        """Fetch, build, apply and prune; returns the history digest of the rendered manifests
        and what the apply did."""
        revision = artifact.revision
        timeout = duration.format(_timeout_ms(spec, interval))

        def stage(doing: str) -> None:
            message = f"{doing} for revision {revision} with a timeout of {timeout}"
            conditions.mark_true(obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=now)

        conditions.mark_unknown(
            obj, conditions.READY, conditions.Reason.PROGRESSING, "Reconciliation in progress", now=now
        )
        stage("Fetching manifests")
        meta = obj["metadata"]
        try:
            files = render.fetch(self._files, artifact)
            stage("Building manifests")
            base.status(obj)["lastAttemptedRevision"] = revision
            ref = objects.ref_of(obj)
            inputs = self._inputs(obj, spec, artifact)
            last = self._applied_sets.pop(ref, None)
            if (
                last is not None
                and last.inputs == inputs
                and all(self._rv(r) == rv for r, rv in last.objects)
            ):
                stage("Detecting drift")
                self._applied_sets[ref] = last
                return last.digest, last.applied
            rendered = render.from_files(
                spec,
                meta["name"],
                meta["namespace"],
                artifact,
                files,
                variables=render.ClusterVariables(self.rt.cluster),
                builder=self.builder,
            )
        except render.RenderError as exc:
            raise ReconcileFailed(
                exc.reason, exc.message, requeue_after=exc.requeue_after, emit=exc.emit
            ) from exc
        digest, owner = rendered.digest, rendered.owner
        stage("Detecting drift")
        if rendered.encrypted:
            # kustomize-controller's apply refuses the whole set before writing anything.
            raise ReconcileFailed(
                conditions.Reason.RECONCILIATION_FAILED,
                f"{rendered.encrypted} is SOPS encrypted, configuring decryption is required "
                "for this secret to be reconciled",
                digest=digest,
            )
        try:
            applied = self._resources.apply_all_staged(
                rendered.manifests,
                force=spec.force,
                ignore=tuple(drift.Rule.parse(declare.dump(rule)) for rule in spec.ignore),
                fingerprint=rendered.fingerprint,
            )
        except manager.ApplyError as exc:
            # Flux appends the change log of a partial apply, each line ending in a newline.
            done = "".join(f"{e}\n" for e in exc.changeset.changes())
            raise ReconcileFailed(
                conditions.Reason.RECONCILIATION_FAILED, f"{exc}\n{done}", digest=digest
            ) from exc
        if applied.changes():
            self._event(obj, base.EventType.NORMAL, _lines(applied.changes()))
        status = base.status(obj)
        old_entries = (status.get("inventory") or {}).get("entries") or []
        new_entries = inventory.from_changeset(applied)
        status["inventory"] = {"entries": new_entries}
        if spec.prune:
            try:
                pruned = self._resources.delete_all(inventory.stale(old_entries, new_entries), owner)
            except manager.PruneError as exc:
                # What could not be deleted stays in the inventory, so the next reconcile retries.
                survivors = {ref.inventory_id: {"id": ref.inventory_id, "v": v} for ref, v in exc.survivors}
                merged = {e["id"]: e for e in new_entries} | survivors
                status["inventory"] = {"entries": [merged[k] for k in sorted(merged)]}
                raise ReconcileFailed(conditions.Reason.PRUNE_FAILED, str(exc), digest=digest) from exc
            if pruned.changes():
                self._event(obj, base.EventType.NORMAL, _lines(pruned.changes()))
        settled = changeset.ChangeSet(
            [
                e
                if e.action == changeset.Action.SKIPPED
                else changeset.Entry(e.ref, e.version, changeset.Action.UNCHANGED)
                for e in applied.entries
            ]
        )
        self._applied_sets[ref] = _AppliedSet(
            inputs, tuple((e.ref, self._rv(e.ref)) for e in applied.entries), digest, settled
        )
        return digest, applied

    def _inputs(
        self, obj: objects.RawObject, spec: api.KustomizationSpec, artifact: artifacts.Artifact
    ) -> tuple[object, ...]:
        """Everything a build and apply depend on besides the objects themselves: the artifact,
        the spec (its generation) and the resourceVersions of the substitution sources."""
        namespace = obj["metadata"]["namespace"]
        sources = tuple(
            (s.kind, s.name, self._rv(refs.ObjectRef("", s.kind, namespace, s.name)))
            for s in (spec.post_build.substitute_from if spec.post_build else ())
        )
        return (artifact.digest, obj["metadata"].get("generation"), sources)

    def _files(self, artifact: artifacts.Artifact) -> Mapping[str, bytes]:
        """`render.ArtifactFiles` over storage."""
        try:
            return self.storage.fetch(artifact)
        except ArtifactNotFound as exc:
            raise render.FetchError(str(exc), missing=True) from exc
        except ArtifactError as exc:
            raise render.FetchError(str(exc), missing=False) from exc

    def _rv(self, ref: refs.ObjectRef) -> str | None:
        try:
            return str(self.rt.cluster.read(ref)["metadata"].get("resourceVersion"))
        except (errors.NotFound, errors.NoKindMatch):
            return None

    def _event(
        self, obj: objects.RawObject, etype: base.EventType, message: str, extra: dict[str, str] | None = None
    ) -> None:
        ready = conditions.get(obj, conditions.READY)
        reason = str(ready["reason"]) if ready else ("error" if etype == base.EventType.WARNING else "info")
        status = obj.get("status") or {}
        ref = objects.ref_of(obj)
        origin = self._origins.get(ref, str(status.get("lastAppliedOriginRevision", "")))
        metadata = {
            f"{flux.KUSTOMIZE_GROUP}/revision": str(status.get("lastAttemptedRevision", "")),
            **({f"{flux.KUSTOMIZE_GROUP}/originRevision": origin} if origin else {}),
            **(extra or {}),
        }
        self.rt.recorder.event(
            obj, type=etype, reason=reason, message=message, controller=self.name, metadata=metadata
        )

    def _finalize(self, obj: objects.RawObject) -> None:
        """On deletion, `spec.deletionPolicy` decides: MirrorPrune (the default) deletes what was
        applied when `prune` is on, Delete and WaitForTermination always, Orphan never.
        (WaitForTermination does not wait here: deletion in memory finishes at once, and on a
        real cluster objects with finalizers may outlive the Kustomization.)"""
        spec = base.typed_spec(obj, api.KustomizationSpec)
        policy = spec.deletion_policy or "MirrorPrune"
        prune = {"Delete": True, "WaitForTermination": True, "Orphan": False}.get(policy, spec.prune)
        if not prune:
            return
        entries = ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []
        meta = obj["metadata"]
        owner = render.owner_labels(meta["name"], meta["namespace"])
        try:
            pruned = self._resources.delete_all([inventory.parse_id(e) for e in entries], owner)
        except manager.PruneError as exc:
            # Flux keeps the finalizer and retries the garbage collection.
            self._event(obj, base.EventType.WARNING, "pruning for deleted resource failed")
            raise workqueue.RequeueError(str(exc)) from exc
        if pruned.changes():
            self._event(obj, base.EventType.NORMAL, _lines(pruned.changes()))


def _lines(entries: list[changeset.Entry]) -> str:
    return "\n".join(str(e) for e in entries)


def _duration_ms(obj: objects.RawObject, name: str, raw: str) -> int:
    try:
        return duration.parse(raw)
    except duration.DurationError as exc:
        raise base.InvalidSpec(f"{objects.ref_of(obj)}: spec.{name}: {exc}") from exc


def _timeout_ms(spec: api.KustomizationSpec, interval: int) -> int:
    """Flux's GetTimeout: `spec.timeout`, else the interval less 30s; never under 30s."""
    timeout = duration.parse(spec.timeout) if spec.timeout else interval - 30_000
    return max(timeout, 30_000)


def _health_check_exprs(spec: api.KustomizationSpec) -> dict[refs.GroupKind, kstatus.Custom]:
    """`spec.healthCheckExprs` by group-kind; raises CelError (Flux's wording) when one does not parse."""
    out: dict[refs.GroupKind, kstatus.Custom] = {}
    for i, check in enumerate(spec.health_check_exprs):
        entry = declare.dump(check)
        gvk = refs.GVK.of(check.api_version, check.kind or "")
        if gvk.group_kind in out:
            raise cel.CelError(
                f"duplicate custom health check for GroupKind {gvk.group_kind} at healthchecks[{i}]"
            )
        try:
            out[gvk.group_kind] = kstatus.Custom.parse(entry)
        except cel.CelError as exc:
            raise cel.CelError(
                f"failed to create custom status evaluator for healthchecks[{i}]: {exc}"
            ) from exc
    return out


def _entries(results: list[tuple[refs.ObjectRef, kstatus.Result]]) -> str:
    """fluxcd/pkg ssa's wait error entries (in the order of the set; Go's map order is random)."""
    return ", ".join(
        f"{ref} status: '{r.status}'" + (f": {r.error}" if r.error else "") for ref, r in results
    )


def _record_history(
    status: dict[str, Any],
    digest: str,
    revision: str,
    now: str,
    outcome: str,
    took_ms: int = 0,
    origin: str = "",
) -> None:
    """fluxcd/pkg `apis/meta/history.go`: newest first, at most 5, de-duplicated by digest and status."""
    history: list[dict[str, Any]] = list(status.get("history") or [])
    for entry in history:
        if entry.get("digest") == digest and entry.get("lastReconciledStatus") == outcome:
            entry["lastReconciled"] = now
            entry["lastReconciledDuration"] = duration.format(took_ms)
            entry["totalReconciliations"] = int(entry.get("totalReconciliations", 0)) + 1
            history.remove(entry)
            history.insert(0, entry)
            break
    else:
        history.insert(
            0,
            {
                "digest": digest,
                "firstReconciled": now,
                "lastReconciled": now,
                "lastReconciledDuration": duration.format(took_ms),
                "lastReconciledStatus": outcome,
                "totalReconciliations": 1,
                "metadata": {"revision": revision, **({"originRevision": origin} if origin else {})},
            },
        )
    status["history"] = history[:HISTORY_LIMIT]


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def builder(self) -> build.Builder: ...
    @property
    def reconciled(self) -> frozenset[refs.GroupKind]: ...


def _build(services: _Services) -> base.Reconciler:
    return KustomizationReconciler(
        services.runtime, services.storage, services.builder, reconciled=services.reconciled
    )


registry.register(registry.Entry("kustomization", flux.KUSTOMIZATION.group_kind, _build, order=60))
