"""HelmRelease (helm.toolkit.fluxcd.io/v2): a chart released with the Helm v4 engine, as helm-controller does.

Provenance: behaviour of helm-controller v1.7 `internal/controller/helmrelease_controller.go`
(`Reconcile`, `reconcileRelease`, `reconcileDelete`, `checkDependencies`), `internal/reconcile/`
(`AtomicRelease.Reconcile`, install.go, upgrade.go, test.go, rollback_remediation.go,
uninstall_remediation.go, uninstall.go, unlock.go, correct_cluster_drift.go, release.go's
`eventMeta` and `observeInventory`) and Helm v4 `pkg/action` (install, upgrade, rollback,
uninstall, release testing) and `pkg/kube/statuswait.go`; our own code.

The decisions are the `gitops_sim.helm` libraries' (next action, storage, rendering, hooks,
snapshots, drift); this module runs them in order on the reconcile kernel:

1. Flux's preamble (finalizer, requestedAt, suspend); `healthCheckExprs` parsed (invalid:
   Stalled `InvalidCELExpression`);
2. the chart template: the HelmChart `<ns>-<name>` server-side applied for `chart.spec` (the
   previous one deleted when it moved), `status.helmChart`;
3. Reconciling "Fulfilling prerequisites"; `dependsOn` (each HelmRelease Ready for its
   generation, or its `readyExpr` true: else Ready=False `DependencyNotReady`, a Normal event,
   retried in 30s);
4. the source: the HelmChart, or `chartRef` to an OCIRepository, HelmChart or ExternalArtifact
   (`AccessDenied`, `ArtifactFailed`, `SourceNotReady` as `helm.chart` words them; an
   ExternalArtifact needs the `ExternalArtifact` feature gate, which `flux install` sets on
   helm-controller's Deployment when it installs source-watcher: `reconcile.flags`);
5. the values (`valuesFrom` and `values`: `ValuesError`), the chart loaded from storage
   (`ArtifactFailed` "Could not load chart: ..."), the chart version with the OCI digest
   (`ChartMutateError`); a release whose name or storage namespace changed is uninstalled first;
   failure counters reset when the chart, values or generation changed, or on `resetAt`; the
   `lastAttempted*` fields;
6. the atomic release: the release state and next action (`helm.state.next_action`) in a loop,
   each action run with its hooks and waits, with the continue/stop rules of `AtomicRelease`.

Actions run as Helm runs them: pre hooks, server-side apply of the manifest, the wait for the
objects (kstatus, `healthCheckExprs`; Jobs until complete unless `disableWaitForJobs`), post
hooks, the record. Hooks and waits take virtual time: an action is a generator that yields how
long to wait; the reconcile parks (`kernel.Park`) and resumes it, and the HelmRelease's status is
patched before each wait. Flux also patches before each action and after "Fulfilling
prerequisites"; those patches take no virtual time, so here they are folded into the next one
(as for every kind: see the README), and a watcher sees Reconciling only while time passes.

The summary (`_Summary`) is helm-controller's deferred patch: Ready comes from the action
reconcilers' `summarize` (Remediated > TestSuccess > Released), not from the steps; failures
write their own conditions and events where they happen; `observedGeneration` is recorded after
a terminal error or a success that asks for no immediate requeue. helm-controller sends no
"Reconciliation finished" event; each action sends its own, with the chart version, the values
digest (`token`), the app version and OCI digest in the metadata.

Differences, on purpose:
- Helm's status watcher reacts to watch events; here the wait polls every second of virtual time.
  A Flux reconcile blocked in an action makes any other request for the object wait; so does
  this one (the request is served once the action ends).
- Deleting a HelmRelease uninstalls its release at once, without running the delete hooks or
  waiting for the objects to go (Flux runs and waits for both).
- `test.filters` decide which results are recorded, but every test hook runs.
- `kubeConfig`, `serviceAccountName`, `persistentClient`, `install.createNamespace`,
  `upgrade.preserveValues`/`cleanupOnFail` and client-side apply are not modelled (see
  `helm.actions`); the chart name change strategy `Reinstall` is not (an upgrade follows).
- `status.inventory` lists the manifest's objects and the chart's CRDs, each with its
  apiVersion's version, sorted by id.
- A chart from an OCIRepository is stored with its version mutated (`6.5.0+<digest>`), as Flux
  stores it, but rendered from the archive as packaged: a template reading `.Chart.Version`
  sees `6.5.0` where Flux's sees the mutated version.

Watches: a new artifact of the HelmChart, OCIRepository or ExternalArtifact a HelmRelease reads
(the last with the gate on), and any change to a
ConfigMap or Secret labelled `reconcile.fluxcd.io/watch: Enabled` that it names in `valuesFrom`.

Callers: the engine, through the registry entry at the bottom. Never imports another controller,
a workload or a source upstream; reads charts from artifact storage only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, Protocol

from gitops_sim.cluster import errors
from gitops_sim.helm import actions, hooks, render, state
from gitops_sim.helm import chart as charts
from gitops_sim.helm import drift as drifts
from gitops_sim.helm import status as snapshots
from gitops_sim.helm import storage as records
from gitops_sim.helm import values as helm_values
from gitops_sim.model import cel, conditions, duration, flux, kstatus, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import helm as api
from gitops_sim.reconcile import applier, base, flags, kernel, registry
from gitops_sim.storage import ArtifactError, ArtifactNotFound, Storage
from gitops_sim.timing import workqueue

HELM_CONTROLLER = "helm-controller"
GROUP = flux.HELMRELEASE.group
POLL_MS = 1_000
"""How often a wait looks at the objects (Helm's status watcher reacts to watch events)."""
TERMINAL = "Reconciliation failed terminally due to configuration error"
PROGRESS = "reconciliation in progress"
PREREQUISITES = "Fulfilling prerequisites"
TEST_SUCCEEDED = "TestSucceeded"
TEST_FAILED = "TestFailed"
AWAITING_TESTS = "AwaitingTests"
ROLLBACK_SUCCEEDED = "RollbackSucceeded"
ROLLBACK_FAILED = "RollbackFailed"
UNINSTALL_SUCCEEDED = "UninstallSucceeded"
UNINSTALL_FAILED = "UninstallFailed"
PENDING_RELEASE = "PendingRelease"
DEPENDENCY_NOT_READY = "DependencyNotReady"
VALUES_ERROR = "ValuesError"
DIGESTS_KEPT = 4096
WATCH_LABEL = "reconcile.fluxcd.io/watch"
WATCH_ENABLED = "Enabled"

Outcome = Literal["interval", "retry", "requeue"]
Action = Generator[int, None, str | None]
"""An action in progress: yields how many milliseconds to wait, returns its error or None."""


@dataclass(slots=True)
class _State:
    """What the controller remembers of a HelmRelease between reconciles (the rest is its status
    and Helm's storage)."""

    chart_applied: tuple[str, str] | None = None
    """The HelmChart last applied (its JSON) and its resourceVersion after the apply.

    IMPLEMENTATION DETAIL: Problem: helm-controller server-side applies the HelmChart at every
    reconcile, and at every interval the apply changes nothing, yet costs a full apply here.
    Solution: while the HelmChart to apply and the live HelmChart's resourceVersion are what
    they were after the last apply, the apply would change nothing, so it is skipped; any write
    to the HelmChart (its status included) changes its resourceVersion and the apply runs."""


@dataclass(slots=True)
class _Work:
    """One reconcile of a HelmRelease, step to step (kept across a `Park`)."""

    ctx: kernel.Context[api.HelmReleaseSpec, _State]
    """The reconcile's context; replaced when a parked reconcile resumes."""
    started_ms: int
    custom: dict[refs.GroupKind, kstatus.Custom] = field(default_factory=dict)
    source: charts.ChartArtifact | None = None
    archive: bytes = b""
    chart: Any = None
    """The loaded chart (`helm_python.Chart`)."""
    revision: charts.ChartRevision | None = None
    values: dict[str, Any] = field(default_factory=dict)
    config_digest: str = ""
    handled_reconcile: str | None = None
    """`lastHandledReconcileAt` as read, before the preamble recorded this request."""
    force: bool = False
    done: set[state.ReconcilerType] = field(default_factory=set)
    """The kinds of action already run in this reconcile (the atomic release's `previous`)."""
    action: state.Action = state.Action.NONE
    running: Action | None = None
    pinned: api.HelmReleaseSpec | None = None
    """The spec an action in progress runs with: one changed while it waits is the next
    reconcile's (as Flux's blocked reconcile holds the object it read)."""
    wake_ms: int = 0
    retrigger: bool = False
    report: drifts.DriftReport | None = None
    outcome: Outcome = "interval"

    @property
    def obj(self) -> objects.RawObject:
        return self.ctx.obj

    @property
    def status(self) -> dict[str, Any]:
        return self.ctx.status

    @property
    def spec(self) -> api.HelmReleaseSpec:
        return self.pinned if self.running is not None and self.pinned is not None else self.ctx.spec


def _work(ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> _Work:
    work = ctx.work
    assert isinstance(work, _Work)
    work.ctx = ctx
    return work


@dataclass(frozen=True, slots=True)
class _Names:
    """The names a HelmRelease's release goes by."""

    name: str
    """The HelmRelease's name and namespace."""
    namespace: str
    release: str
    """The name Helm stores the release under."""
    release_namespace: str
    storage_namespace: str
    display: str
    """The release name Flux's failure messages show (`[targetNamespace-]name`)."""

    @classmethod
    def of(cls, obj: objects.RawObject, spec: api.HelmReleaseSpec) -> _Names:
        name, namespace = obj["metadata"]["name"], obj["metadata"]["namespace"]
        return cls(
            name,
            namespace,
            charts.storage_release_name(spec, name),
            charts.release_namespace(spec, namespace),
            charts.storage_namespace(spec, namespace),
            charts.release_name(spec, name),
        )


def _mark(obj: objects.RawObject, update: state.ConditionUpdate, now: str) -> None:
    """A condition update the next-action rules decided (keeping the replaced one's time)."""
    since = None
    if update.replaces is not None:
        old = conditions.get(obj, update.replaces)
        since = old.get("lastTransitionTime") if old else None
        conditions.delete(obj, update.replaces)
    conditions.set_condition(
        obj, update.type, conditions.Status(update.status), update.reason, update.message, now=now
    )
    if since is not None:
        new = conditions.get(obj, update.type)
        assert new is not None
        new["lastTransitionTime"] = since


def _clear(ctx: kernel.Context[Any, Any], *reasons: str) -> None:
    """A stale Ready=False of an earlier failure of this step becomes Unknown "in progress"."""
    ready = conditions.get(ctx.obj, conditions.READY)
    if ready is not None and ready.get("reason") in reasons:
        conditions.mark_unknown(
            ctx.obj, conditions.READY, conditions.Reason.PROGRESSING, PROGRESS, now=ctx.now
        )


def _event_meta(snap: dict[str, Any] | None, *, config_digest: str | None = None) -> dict[str, str] | None:
    """helm-controller's `eventMeta`: the chart version, the values digest (`token`), the app
    version and the OCI digest of a release, each under the group's prefix, when set."""
    if snap is None:
        return None
    pairs = (
        ("revision", snap.get("chartVersion")),
        ("token", config_digest if config_digest is not None else snap.get("configDigest")),
        ("app-version", snap.get("appVersion")),
        ("oci-digest", snap.get("ociDigest")),
    )
    meta = {f"{GROUP}/{key}": str(value) for key, value in pairs if value}
    return meta or None


def _full_name(snap: dict[str, Any]) -> str:
    return f"{snap.get('namespace')}/{snap.get('name')}.v{snap.get('version')}"


def _chart_name(snap: dict[str, Any]) -> str:
    return f"{snap.get('chartName')}@{snap.get('chartVersion')}"


def _latest(status: dict[str, Any]) -> dict[str, Any] | None:
    history = status.get("history") or []
    return max(history, key=lambda s: int(s.get("version") or 0)) if history else None


@dataclass(slots=True)
class _HelmReleases:
    """helm-controller's reconcile as kernel steps, and the services they use."""

    rt: base.Runtime
    storage: Storage
    renderer: render.Renderer
    reconciled: frozenset[refs.GroupKind]
    allow_cross_namespace: bool = True
    default_to_retry_on_failure: bool = False
    digests: dict[tuple[records.StoredKey, str], str] = field(default_factory=dict)
    """Release digests by what the release was decoded from and OCI digest (`_digest`)."""

    def kind(self) -> kernel.Kind[api.HelmReleaseSpec, _State]:
        return kernel.Kind(
            flux.HELMRELEASE,
            api.HelmReleaseSpec,
            HELM_CONTROLLER,
            steps=(
                self.start,
                self.chart_template,
                self.dependencies,
                self.source,
                self.values,
                self.load,
                self.release,
            ),
            interval_ms=lambda spec: duration.parse(spec.interval),
            finalize=self.finalize,
            summary=_Summary(self.default_to_retry_on_failure),
            new_state=_State,
        )

    def watches(self) -> tuple[base.Watch, ...]:
        """A new artifact of a HelmChart, OCIRepository or ExternalArtifact (with the gate on)
        enqueues the HelmReleases that read it; so does any change (deletion included) to a
        ConfigMap or Secret labelled `reconcile.fluxcd.io/watch: Enabled` that a HelmRelease of
        its namespace names in `valuesFrom` (helm-controller's `--watch-configs`, on by default)."""
        mapper = base.on_new_revision(self.rt.cluster, flux.HELMRELEASE.group_kind, _reads)

        def external(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            found = mapper(old, new)  # watched only with the ExternalArtifact gate on, as in Flux
            return found if found and self._external_artifacts() else []

        return (
            base.Watch(flux.HELMCHART.group_kind, mapper),
            base.Watch(flux.OCIREPOSITORY.group_kind, mapper),
            base.Watch(flux.EXTERNALARTIFACT.group_kind, external),
            base.Watch(refs.GroupKind("", "ConfigMap"), self._config_dependency("ConfigMap")),
            base.Watch(refs.GroupKind("", "Secret"), self._config_dependency("Secret")),
        )

    def _config_dependency(self, kind: str) -> base.Mapper:
        def mapper(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            seen = new if new is not None else old
            if seen is None or objects.labels_of(seen).get(WATCH_LABEL) != WATCH_ENABLED:
                return []
            if (
                old is not None
                and new is not None
                and old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion")
            ):
                return []
            namespace, name = seen["metadata"].get("namespace", ""), seen["metadata"]["name"]
            return [
                objects.ref_of(hr)
                for hr in self.rt.cluster.list(flux.HELMRELEASE.group_kind, namespace=namespace)
                if any(
                    isinstance(ref, dict) and ref.get("kind") == kind and ref.get("name") == name
                    for ref in (hr.get("spec") or {}).get("valuesFrom") or ()
                )
            ]

        return mapper

    # -- the steps before the release ----------------------------------------------------------

    def start(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """`healthCheckExprs` parsed; one that does not is a terminal `InvalidCELExpression`."""
        ctx.work = work = _Work(
            ctx, ctx.rt.clock.now(), handled_reconcile=ctx.before.get("lastHandledReconcileAt")
        )
        try:
            work.custom = applier.health_check_exprs(ctx.spec.health_check_exprs or ())
        except cel.CelError as exc:
            self._stall(ctx, conditions.Reason.INVALID_CEL_EXPRESSION, f"{TERMINAL}: {exc}", event=str(exc))

    def _stall(self, ctx: kernel.Context[Any, Any], reason: str, message: str, *, event: str) -> NoReturn:
        conditions.mark_false(ctx.obj, conditions.READY, reason, message, now=ctx.now)
        conditions.mark_stalled(ctx.obj, reason, message, now=ctx.now)
        self._event(ctx, base.EventType.WARNING, reason, event)
        raise kernel.Stalling(reason, message)

    def chart_template(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """The HelmChart for `chart.spec`, server-side applied as `helm-controller`; the one
        `status.helmChart` names deleted first when the spec moved away from it. An error
        changes no condition and is retried with backoff, as in Flux."""
        meta, status = ctx.obj["metadata"], ctx.status
        plan = charts.plan_chart_template(
            ctx.spec,
            name=meta["name"],
            namespace=meta["namespace"],
            status_helm_chart=str(status.get("helmChart") or ""),
            deleting=False,
            allow_cross_namespace=self.allow_cross_namespace,
        )
        if plan.error is not None:
            raise kernel.StepError("", plan.error, warn=False)
        if plan.delete is not None:
            try:
                self.rt.cluster.delete(plan.delete)
            except errors.NotFound:
                pass
            except errors.ApiError as exc:
                old = str(status.get("helmChart"))
                raise kernel.StepError("", charts.chart_delete_error(old, exc.message), warn=False) from exc
            status.pop("helmChart", None)
        if plan.apply is not None:
            self._apply_chart(ctx, plan.apply)
        if plan.helm_chart:
            status["helmChart"] = plan.helm_chart

    def _apply_chart(self, ctx: kernel.Context[api.HelmReleaseSpec, _State], chart: dict[str, Any]) -> None:
        """Server-side apply the HelmChart as `helm-controller`, unless it would change nothing
        (`_State.chart_applied`)."""
        wanted = json.dumps(chart, sort_keys=True)
        last = ctx.state.chart_applied
        if last is not None and last[0] == wanted:
            try:
                live = self.rt.cluster.read(objects.ref_of(chart))
            except errors.NotFound:
                live = None
            if live is not None and live["metadata"].get("resourceVersion") == last[1]:
                return
        ctx.state.chart_applied = None
        try:
            applied = self.rt.cluster.apply(chart, field_manager=HELM_CONTROLLER, force=True)
        except errors.ApiError as exc:
            raise kernel.StepError("", charts.chart_apply_error(exc.message)[1], warn=False) from exc
        ctx.state.chart_applied = (wanted, str(applied["metadata"].get("resourceVersion")))

    def dependencies(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """Reconciling "Fulfilling prerequisites", then `dependsOn`: each dependency Ready for its
        generation, or its `readyExpr` true."""
        conditions.mark_reconciling(ctx.obj, conditions.Reason.PROGRESSING, PREREQUISITES, now=ctx.now)
        for dep in ctx.spec.depends_on or ():
            unready = self._unready(ctx, dep)
            if unready is not None:
                conditions.mark_false(ctx.obj, conditions.READY, DEPENDENCY_NOT_READY, unready, now=ctx.now)
                self._event(ctx, base.EventType.NORMAL, DEPENDENCY_NOT_READY, unready)
                raise kernel.Waiting(DEPENDENCY_NOT_READY, unready, retry_after_ms=flux.REQUEUE_DEPENDENCY_MS)
        _clear(ctx, DEPENDENCY_NOT_READY)

    def _unready(self, ctx: kernel.Context[api.HelmReleaseSpec, _State], dep: Any) -> str | None:
        own = objects.ref_of(ctx.obj)
        ref = refs.ObjectRef(own.group, own.kind, dep.namespace or own.namespace, dep.name)
        name = f"{ref.namespace}/{ref.name}"
        try:
            dependency = self.rt.cluster.get(ref)
        except errors.NotFound as exc:  # read past the cache: the API server's own words
            return f"unable to get '{name}' dependency: {exc.message}"
        if dep.ready_expr:
            try:
                expr = cel.Expression.parse(dep.ready_expr)
            except cel.CelError as exc:
                message = f"failed to evaluate dependency {ref.name}: {exc}"
                self._stall(
                    ctx, conditions.Reason.INVALID_CEL_EXPRESSION, f"{TERMINAL}: {message}", event=message
                )
            try:
                ok = expr.evaluate({"self": ctx.obj, "dep": dependency})
            except cel.CelError as exc:
                return str(exc)
            return None if ok else f"dependency '{name}' is not ready according to readyExpr eval"
        generation = int(dependency["metadata"].get("generation", 0))
        observed = (dependency.get("status") or {}).get("observedGeneration")
        if generation != observed or not conditions.is_true(dependency, conditions.READY):
            return f"dependency '{name}' is not ready"
        return None

    def source(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """The chart's source, ready, with an artifact."""
        meta, work = ctx.obj["metadata"], _work(ctx)
        src = charts.chart_source(ctx.spec, name=meta["name"], namespace=meta["namespace"])
        try:
            found: dict[str, Any] | None = self.rt.cluster.read(src.object_ref)
        except (errors.NotFound, errors.NoKindMatch):
            found = None
        result = charts.chart_artifact(
            src,
            found,
            namespace=meta["namespace"],
            allow_cross_namespace=self.allow_cross_namespace,
            allow_external_artifact=src.kind == charts.EXTERNALARTIFACT.kind and self._external_artifacts(),
        )
        if isinstance(result, charts.Failure):
            self._fail(ctx, result)
        assert isinstance(result, charts.ChartArtifact)
        _clear(ctx, charts.Reason.ACCESS_DENIED, charts.Reason.ARTIFACT_FAILED)
        _clear(ctx, charts.Reason.SOURCE_NOT_READY)
        work.source = result

    def _external_artifacts(self) -> bool:
        """The `ExternalArtifact` feature gate, as helm-controller's Deployment sets it (`flux
        install` turns it on alongside source-watcher; on where Flux runs outside the cluster)."""
        return flags.feature_gate(
            self.rt.cluster, HELM_CONTROLLER, charts.EXTERNAL_ARTIFACT_GATE, default=False, absent=True
        )

    def _fail(self, ctx: kernel.Context[api.HelmReleaseSpec, _State], failure: charts.Failure) -> NoReturn:
        """A chart failure as helm-controller ends the reconcile with it."""
        obj, now = ctx.obj, ctx.now
        conditions.mark_false(obj, conditions.READY, failure.reason, failure.message, now=now)
        if failure.outcome == charts.Outcome.STALL:
            conditions.mark_stalled(obj, failure.reason, failure.message, now=now)
        if failure.event is not None:
            self._event(ctx, base.EventType.WARNING, failure.reason, failure.event)
        if failure.outcome == charts.Outcome.STALL:
            raise kernel.Stalling(failure.reason, failure.message)
        if failure.outcome == charts.Outcome.WAIT:
            after = failure.requeue_after_ms or flux.REQUEUE_DEPENDENCY_MS
            if failure.jitter:
                after = workqueue.jitter(after, ctx.rt.rng, flux.INTERVAL_JITTER_PERCENT)
            raise kernel.Waiting(failure.reason, failure.message, retry_after_ms=after)
        raise kernel.StepError(failure.reason, failure.message, warn=False)

    def values(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """`valuesFrom` resolved and `values` merged over them (`ValuesError`)."""
        work, spec = _work(ctx), ctx.spec
        try:
            composed = helm_values.compose(
                ctx.obj["metadata"]["namespace"],
                spec.values if isinstance(spec.values, dict) else None,
                spec.values_from,
                helm_values.cluster_reader(self.rt.cluster),
            )
        except helm_values.ValuesError as exc:
            conditions.mark_false(ctx.obj, conditions.READY, VALUES_ERROR, exc.message, now=ctx.now)
            self._event(ctx, base.EventType.WARNING, VALUES_ERROR, exc.message)
            raise kernel.StepError(VALUES_ERROR, exc.message, warn=False) from exc
        _clear(ctx, VALUES_ERROR)
        work.values = composed.values
        work.config_digest = helm_values.digest(composed.values)

    def load(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """The chart loaded from storage and its version with the source's digest; a release
        whose target moved uninstalled; the failure counters and the last attempt recorded."""
        work, status, obj = _work(ctx), ctx.status, ctx.obj
        assert work.source is not None
        try:
            work.archive = self.storage.fetch_blob(work.source.artifact)
            work.chart = self.renderer.load(work.archive)
        except ArtifactNotFound:
            self._fail(ctx, charts.artifact_not_found())
        except (ArtifactError, render.RenderError) as exc:
            self._fail(ctx, charts.chart_load_failed(str(exc)))
        _clear(ctx, charts.Reason.ARTIFACT_FAILED)
        version = str(work.chart.metadata.get("version") or "")
        revision = charts.chart_revision(version, work.source.source, work.source.artifact.revision)
        if isinstance(revision, charts.Failure):
            self._fail(ctx, revision)
        assert isinstance(revision, charts.ChartRevision)
        work.revision = revision
        names = _Names.of(obj, ctx.spec)
        if self._target_moved(ctx, names):
            work.outcome = "requeue"
            return
        status["storageNamespace"] = names.storage_namespace
        annotations = objects.annotations_of(obj)
        reset, status_reset = state.handle_annotation_request(
            annotations,
            state.RESET_REQUEST_ANNOTATION,
            status.get("lastHandledResetAt"),
            work.handled_reconcile,
        )
        work.force, status_force = state.handle_annotation_request(
            annotations,
            state.FORCE_REQUEST_ANNOTATION,
            status.get("lastHandledForceAt"),
            work.handled_reconcile,
        )
        for key, value in (("lastHandledResetAt", status_reset), ("lastHandledForceAt", status_force)):
            if value is not None:
                status[key] = value
        typed = _typed_status(status)
        if state.must_reset_failures(typed, ctx.generation, revision.version, work.config_digest, reset):
            for key in ("failures", "installFailures", "upgradeFailures"):
                status.pop(key, None)
        ctx.obj["status"] = snapshots.record_last_attempt(
            status,
            generation=ctx.generation,
            chart_version=revision.version,
            oci_digest=revision.digest,
            config_digest=work.config_digest,
        )

    def _target_moved(self, ctx: kernel.Context[api.HelmReleaseSpec, _State], names: _Names) -> bool:
        """`ReleaseTargetChanged`: the release was made under another name, namespace or storage
        namespace; it is uninstalled (no hooks) and the history forgotten before a new one."""
        status = ctx.status
        stored = str(status.get("storageNamespace") or "")
        cur = _latest(status)
        moved = bool(stored and stored != names.storage_namespace) or (
            cur is not None
            and (cur.get("name"), cur.get("namespace")) != (names.release, names.release_namespace)
        )
        if not moved:
            return False
        if cur is not None:
            try:
                self._uninstall_at_once(ctx, stored or names.storage_namespace, cur, keep_history=False)
            except actions.ActionError as exc:
                raise kernel.StepError(UNINSTALL_FAILED, exc.message, warn=False) from exc
        for key in ("history", "failures", "installFailures", "upgradeFailures", "storageNamespace"):
            status.pop(key, None)
        return True

    # -- the atomic release ------------------------------------------------------------------------

    def release(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        """`AtomicRelease.Reconcile`: decide, run, decide again, until nothing is left to do or
        the rules say stop. An action waiting (hooks, objects) parks the reconcile, which
        resumes here."""
        work = _work(ctx)
        names = _Names.of(ctx.obj, work.spec)
        if work.running is not None:
            if self._after_action(ctx, work, self._drive(ctx, work)):
                return
        elif work.outcome == "requeue":  # the release target moved (`load`)
            return
        while True:
            request = self._request(ctx, work, names)
            decision = state.next_action(request)
            self._apply_decision(ctx, work, decision)
            action = decision.action
            if action == state.Action.NONE:
                conditions.delete(ctx.obj, conditions.RECONCILING)
                self._summarize(ctx)
                return
            if not state.must_continue(action, frozenset(work.done)):
                self._end_loop(ctx, work, state.when_stopped_before(request, _ready_message(ctx.obj)))
                return
            message = state.running_message(action, work.spec)
            now = ctx.now
            conditions.mark_reconciling(ctx.obj, conditions.Reason.PROGRESSING, message, now=now)
            if state.reconciler_type(action) == state.ReconcilerType.RELEASE:
                conditions.mark_unknown(
                    ctx.obj, conditions.READY, conditions.Reason.PROGRESSING, message, now=now
                )
            work.action, work.pinned = action, work.spec
            work.running = self._action(work, names, action)
            if self._after_action(ctx, work, self._drive(ctx, work)):
                return

    def _drive(self, ctx: kernel.Context[api.HelmReleaseSpec, _State], work: _Work) -> str | None:
        """Run the action in progress until it waits (park) or ends (its error, or None)."""
        now = ctx.rt.clock.now()
        if now < work.wake_ms:
            # Flux is still inside this reconcile: whatever asked for another one waits for it.
            work.retrigger = True
            raise kernel.Park(work.wake_ms - now, self.release)
        assert work.running is not None
        try:
            delay = next(work.running)
        except StopIteration as stop:
            work.running = None
            ctx.again = ctx.again or work.retrigger
            error: str | None = stop.value
            return error
        work.wake_ms = now + delay
        ctx.checkpoint()
        raise kernel.Park(delay, self.release)

    def _after_action(
        self, ctx: kernel.Context[api.HelmReleaseSpec, _State], work: _Work, error: str | None
    ) -> bool:
        """The atomic release's rules after an action returned: whether the loop stops."""
        if error is None and not state.must_stop(work.action):
            work.done.add(state.reconciler_type(work.action))
            return False
        request = self._request(ctx, work, _Names.of(ctx.obj, work.spec), drift=False)
        if error is not None:
            outcome, update = state.when_action_failed(
                request, error, conditions.is_true(ctx.obj, conditions.READY)
            )
            if update is not None:
                _mark(ctx.obj, update, ctx.now)
        else:
            outcome = state.when_remediated(request, _ready_message(ctx.obj))
        self._end_loop(ctx, work, outcome)
        return True

    def _end_loop(
        self, ctx: kernel.Context[api.HelmReleaseSpec, _State], work: _Work, outcome: state.LoopOutcome
    ) -> None:
        """How a stopped atomic release ends: Reconciling, Stalled, and the reconcile's result."""
        if outcome.reconciling is None:
            conditions.delete(ctx.obj, conditions.RECONCILING)
        else:
            reason = conditions.Reason.PROGRESSING_WITH_RETRY
            conditions.mark_reconciling(ctx.obj, reason, outcome.reconciling, now=ctx.now)
        if outcome.stall is not None:
            stall = outcome.stall
            conditions.mark_stalled(ctx.obj, stall.reason, stall.message, now=ctx.now)
        if outcome.error == state.ERR_RETRY_AFTER_INTERVAL:
            work.outcome = "retry"
        elif outcome.error == state.ERR_MUST_REQUEUE:
            work.outcome = "requeue"
        elif outcome.error == state.ERR_EXCEEDED_MAX_RETRIES:
            raise kernel.Stalling(state.RETRIES_EXCEEDED, outcome.error)
        elif outcome.error:
            raise kernel.StepError(state.RECONCILE_ERROR, outcome.error, warn=False)
        else:
            work.outcome = "interval"

    def _apply_decision(
        self, ctx: kernel.Context[api.HelmReleaseSpec, _State], work: _Work, decision: state.Decision
    ) -> None:
        """The history, conditions and events of a decision; a stall or error ends the reconcile."""
        status = ctx.status
        if decision.history is not None:
            kept = {int(s.version) for s in decision.history}
            history = [s for s in status.get("history") or [] if int(s.get("version") or 0) in kept]
            if history:
                status["history"] = sorted(history, key=lambda s: -int(s.get("version") or 0))
            else:
                status.pop("history", None)
        else:
            status.pop("history", None)
        for update in decision.conditions:
            _mark(ctx.obj, update, ctx.now)
        if decision.summarize:
            self._summarize(ctx)
        for event in decision.events:
            etype = base.EventType.WARNING if event.type == "Warning" else base.EventType.NORMAL
            self._event(ctx, etype, event.reason, event.message, _event_meta(_latest(status)))
        if decision.stall is not None:
            stall = decision.stall
            conditions.mark_stalled(ctx.obj, stall.reason, stall.message, now=ctx.now)
            raise kernel.Stalling(stall.reason, decision.error)
        if decision.error:
            raise kernel.StepError(state.STATE_ERROR, decision.error, warn=False)

    def _request(
        self,
        ctx: kernel.Context[api.HelmReleaseSpec, _State],
        work: _Work,
        names: _Names,
        *,
        drift: bool = True,
    ) -> state.Request:
        """What the next-action rules need; drift is looked for only when the release would be
        in sync otherwise (it is the last thing `DetermineReleaseState` checks)."""
        assert work.revision is not None
        spec, status = work.spec, ctx.status
        typed = _typed_status(status)
        history = status.get("history") or []
        stored = []
        for rel, key in records.stored(self.rt.cluster, names.storage_namespace, names.release):
            snap = next((s for s in history if snapshots.targets(s, rel)), None)
            oci = str(snap.get("ociDigest") or "") if snap else ""
            meta = rel.chart.metadata
            stored.append(
                state.StoredRelease(
                    name=rel.name,
                    namespace=rel.namespace,
                    version=rel.version,
                    status=rel.info.status,
                    chart_name=str(meta.get("name") or ""),
                    chart_version=str(meta.get("version") or ""),
                    digest=self._digest(rel, key, oci),
                )
            )
        request = state.Request(
            spec=spec,
            status=typed,
            generation=ctx.generation,
            releases=tuple(stored),
            chart_name=str(work.chart.metadata.get("name") or ""),
            chart_version=work.revision.version,
            config_digest=work.config_digest,
            post_renderers_digest=snapshots.post_renderers_digest(spec),
            common_metadata_digest=snapshots.common_metadata_digest(spec),
            force_requested=work.force,
            default_to_retry_on_failure=self.default_to_retry_on_failure,
        )
        work.report = None
        if not drift or state.drift_mode(spec) == "disabled":
            return request
        if state.determine_release_state(request).status != state.ReleaseStatus.IN_SYNC:
            return request
        latest = records.latest(self.rt.cluster, names.storage_namespace, names.release)
        assert latest is not None
        ignore = spec.drift_detection.ignore if spec.drift_detection else None
        report = drifts.detect(
            self.rt.cluster,
            actions.documents(latest.manifest),
            release_name=latest.name,
            release_namespace=latest.namespace,
            ignore=ignore or (),
        )
        if not report.has_changes:
            return request
        work.report = report
        return dataclasses.replace(request, drift=state.DriftReport(summary=report.summary()))

    def _digest(self, release: records.Release, key: records.StoredKey, oci: str) -> str:
        """The digest of a stored release's Observation, kept while its Secret is unchanged."""
        found = self.digests.get((key, oci))
        if found is None:
            found = self.digests[(key, oci)] = snapshots.release_digest(release, oci_digest=oci)
            while len(self.digests) > DIGESTS_KEPT:
                del self.digests[next(iter(self.digests))]
        return found

    def _summarize(self, ctx: kernel.Context[api.HelmReleaseSpec, _State]) -> None:
        ctx.obj["status"] = snapshots.summarize(ctx.obj, ctx.spec, now=ctx.now)["status"]

    def _event(
        self,
        ctx: kernel.Context[Any, Any],
        etype: base.EventType,
        reason: str,
        message: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.rt.recorder.event(
            ctx.obj, type=etype, reason=reason, message=message, controller=HELM_CONTROLLER, metadata=metadata
        )

    # -- the actions ----------------------------------------------------------------------------

    def _action(self, work: _Work, names: _Names, action: state.Action) -> Action:
        match action:
            case state.Action.INSTALL | state.Action.UPGRADE:
                return self._release_action(work, names, action)
            case state.Action.TEST:
                return self._test(work, names)
            case state.Action.ROLLBACK:
                return self._rollback(work, names)
            case state.Action.UNINSTALL:
                return self._uninstall(work, names)
            case state.Action.UNLOCK:
                return self._unlock(work, names)
        return self._correct_drift(work, names)

    def _release_action(self, work: _Work, names: _Names, action: state.Action) -> Action:
        """Install or upgrade (install.go, upgrade.go): the attempt recorded, Helm's action run,
        what it stored observed into the history, then Released and an event."""
        installing = action == state.Action.INSTALL
        what: Literal["install", "upgrade"] = "install" if installing else "upgrade"
        status = work.status
        status["lastAttemptedReleaseAction"] = what
        if installing:
            status.pop("history", None)
        conditions.delete(work.obj, state.TEST_SUCCESS)
        conditions.delete(work.obj, state.REMEDIATED)
        started = self.rt.clock.now()
        written: dict[int, records.Release] = {}
        error = yield from self._helm_release(work, names, what, written)
        status = work.status
        status["lastAttemptedReleaseActionDuration"] = duration.format(self.rt.clock.now() - started)
        work.ctx.obj["status"] = snapshots.record_release(status, list(written.values()), what)
        self._record_inventory(work, written)
        status = work.status
        obj, now = work.obj, work.ctx.now
        spec = work.spec
        if error is not None:
            fmt = state.FMT_INSTALL_FAILURE if installing else state.FMT_UPGRADE_FAILURE
            reason = state.INSTALL_FAILED if installing else state.UPGRADE_FAILED
            assert work.revision is not None
            version = work.revision.version
            message = fmt % (
                names.release_namespace,
                names.display,
                work.chart.metadata.get("name"),
                version,
                error.strip(),
            )
            status["failures"] = int(status.get("failures") or 0) + 1
            conditions.mark_false(obj, state.RELEASED, reason, message, now=now)
            meta = {
                "chartVersion": version,
                "appVersion": work.chart.metadata.get("appVersion"),
                "ociDigest": status.get("lastAttemptedRevisionDigest"),
            }
            self._event(
                work.ctx,
                base.EventType.WARNING,
                reason,
                message,
                _event_meta(meta, config_digest=work.config_digest),
            )
            self._summarize(work.ctx)
            if not written:
                return error
            counter = "installFailures" if installing else "upgradeFailures"
            status = work.status
            status[counter] = int(status.get(counter) or 0) + 1
            return None
        cur = _latest(status)
        assert cur is not None
        fmt = state.FMT_INSTALL_SUCCESS if installing else state.FMT_UPGRADE_SUCCESS
        reason = state.INSTALL_SUCCEEDED if installing else state.UPGRADE_SUCCEEDED
        message = fmt % (_full_name(cur), _chart_name(cur))
        conditions.mark_true(obj, state.RELEASED, reason, message, now=now)
        if spec.test is not None and spec.test.enable and "testHooks" not in cur:
            pending = state.FMT_TEST_PENDING % (_full_name(cur), _chart_name(cur))
            conditions.mark_unknown(obj, state.TEST_SUCCESS, AWAITING_TESTS, pending, now=now)
        strategy = (
            (spec.install.strategy if spec.install else None)
            if installing
            else (spec.upgrade.strategy if spec.upgrade else None)
        )
        if (strategy is not None and strategy.name == "RetryOnFailure") or (
            strategy is None and self.default_to_retry_on_failure
        ):
            for key in ("failures", "installFailures", "upgradeFailures"):
                status.pop(key, None)
        self._event(work.ctx, base.EventType.NORMAL, reason, message, _event_meta(cur))
        self._summarize(work.ctx)
        return None

    def _helm_release(
        self,
        work: _Work,
        names: _Names,
        what: Literal["install", "upgrade"],
        written: dict[int, records.Release],
    ) -> Action:
        """Helm's install or upgrade: schema, render, the pending record, pre hooks, apply, wait,
        post hooks, the final record. Returns Helm's error."""
        spec, cluster = work.spec, self.rt.cluster
        options: api.Install | api.Upgrade | None = spec.install if what == "install" else spec.upgrade
        if not (options and options.disable_schema_validation):
            try:
                helm_values.validate_schema(work.chart, work.values)
            except helm_values.SchemaError as exc:
                return exc.message
        revision = 1
        if what == "upgrade":
            try:
                last, _ = actions.upgrade_base(
                    records.releases(cluster, names.storage_namespace, names.release), names.release
                )
            except actions.ActionError as exc:
                return exc.message
            revision = last.version + 1
        info = render.ReleaseInfo(names.release, names.release_namespace, revision, what == "upgrade")
        post = render.PostRender.from_spec(spec, name=names.name, namespace=names.namespace)
        try:
            # Values from a Secret hold its data: such a render never goes to the disk cache.
            secret_values = any(ref.kind == "Secret" for ref in spec.values_from or ())
            rendered = self.renderer.render(work.archive, work.values, info, post, persist=not secret_values)
        except render.RenderError as exc:
            return str(exc)
        now = work.ctx.now
        assert work.revision is not None
        # Flux releases the chart with its version mutated (`mutateChartWithSourceRevision`).
        record = records.chart_record(work.chart)
        record = dataclasses.replace(record, metadata={**record.metadata, "version": work.revision.version})
        common: dict[str, Any] = {
            "storage_namespace": names.storage_namespace,
            "name": names.release,
            "chart": record,
            "config": work.values,
            "rendered": rendered,
            "now": now,
            "owner_name": names.name,
            "owner_namespace": names.namespace,
            "take_ownership": not (options and options.disable_take_ownership),
        }
        try:
            if what == "install":
                install = spec.install
                pending = actions.begin_install(
                    cluster,
                    namespace=names.release_namespace,
                    crds=(install.crds if install and install.crds else "Create"),
                    replace_release=bool(install and install.replace),
                    **common,
                )
            else:
                upgrade = spec.upgrade
                pending = actions.begin_upgrade(
                    cluster,
                    max_history=spec.max_history if spec.max_history is not None else 5,
                    crds=(upgrade.crds if upgrade and upgrade.crds else "Create"),
                    **common,
                )
        except actions.ActionError as exc:
            return exc.message
        written[pending.release.version] = pending.release
        timeout = state.timeout_for_action(state.Action(what), spec)
        disable_hooks = bool(options and options.disable_hooks)
        pre: records.HookEvent = "pre-install" if what == "install" else "pre-upgrade"
        post_event: records.HookEvent = "post-install" if what == "install" else "post-upgrade"
        holder = [pending]
        error: str | None = None
        waiting = False
        if not disable_hooks:
            error = yield from self._hooks(work, holder, pre, timeout, written)
        if error is None:
            try:
                actions.apply_manifest(cluster, holder[0])
            except actions.ApplyFailed as exc:
                error = exc.message
        if error is None and not (options and options.disable_wait):
            jobs = not (options and options.disable_wait_for_jobs)
            error = yield from self._wait(work, holder[0].release, timeout, jobs=jobs)
            waiting = error is not None
        if error is None and not disable_hooks:
            error = yield from self._hooks(work, holder, post_event, timeout, written)
        now = work.ctx.now
        if error is not None:
            description = actions.failure_description(holder[0], error, waiting=waiting)
            done = actions.finish(cluster, holder[0], succeeded=False, now=now, description=description)
            written[done.version] = done
            return error
        done = actions.finish(cluster, holder[0], succeeded=True, now=now)
        written[done.version] = done
        previous = holder[0].previous
        if previous is not None:
            for rel in records.releases(cluster, names.storage_namespace, names.release):
                if rel.version == previous.version:
                    written[rel.version] = rel
        return None

    def _hooks(
        self,
        work: _Work,
        holder: list[actions.Pending],
        event: records.HookEvent,
        timeout_ms: int,
        written: dict[int, records.Release],
    ) -> Action:
        """Helm's `execHook` for a pending release; the hooks' last runs are kept on it."""
        pending = holder[0]
        release, error = yield from self._run_hooks(
            work, pending.release, event, timeout_ms, pending.storage_namespace, written
        )
        holder[0] = dataclasses.replace(pending, release=release)
        return hooks.action_error(event, error) if error else None

    def _run_hooks(
        self,
        work: _Work,
        release: records.Release,
        event: records.HookEvent,
        timeout_ms: int,
        storage_namespace: str,
        written: dict[int, records.Release],
    ) -> Generator[int, None, tuple[records.Release, str]]:
        """One event's hooks against the cluster, in virtual time; the release with their last
        runs, and the hook error ("" when they all succeeded)."""
        cluster = self.rt.cluster
        run = hooks.start(
            event,
            release.hooks,
            release_namespace=release.namespace,
            timeout_ms=timeout_ms,
            now_ms=self._epoch_ms(),
        )
        while not run.finished:
            step = run.step
            assert step is not None
            target = step.target
            ref = refs.ObjectRef(
                refs.GVK.of(target.api_version, target.kind).group, target.kind, target.namespace, target.name
            )
            observed = hooks.Observed()
            if step.op == "create":
                if step.record_release:
                    release = dataclasses.replace(release, hooks=hooks.merge_hooks(release.hooks, run))
                    actions.update_record(cluster, storage_namespace, release, work.ctx.now)
                    written[release.version] = release
                try:
                    cluster.create(objects.deep_copy(dict(target.object)), field_manager=HELM_CONTROLLER)
                except errors.ApiError as exc:
                    observed = hooks.Observed(error=exc.message)
            else:
                if step.op == "delete":
                    try:
                        cluster.delete(ref)
                    except errors.NotFound:
                        pass
                    except errors.ApiError as exc:
                        observed = hooks.Observed(error=exc.message)
                if not observed.error:
                    try:
                        observed = hooks.Observed(object=cluster.read(ref))
                    except (errors.NotFound, errors.NoKindMatch):
                        observed = hooks.Observed()
            advanced = hooks.advance(run, observed, self._epoch_ms())
            if advanced is run:
                yield POLL_MS
                continue
            run = advanced
        release = dataclasses.replace(release, hooks=hooks.merge_hooks(release.hooks, run))
        return release, run.error

    def _epoch_ms(self) -> int:
        """Now in Unix milliseconds: hook runs are stamped with calendar times."""
        return self.rt.clock.epoch_ms + self.rt.clock.now()

    def _wait(self, work: _Work, release: records.Release, timeout_ms: int, *, jobs: bool) -> Action:
        """Helm's status wait: every object of the release Current (Failed ones end the wait),
        else `resource Kind/ns/name not ready. status: ..., message: ...` for each, and
        `context deadline exceeded` when the timeout passed."""
        cluster = self.rt.cluster
        try:
            targets = [
                objects.ref_of(o) for o in actions.build_objects(cluster, release.manifest, release.namespace)
            ]
        except actions.ActionError as exc:
            return exc.message
        deadline = self.rt.clock.now() + timeout_ms
        while True:
            results: list[tuple[refs.ObjectRef, str, str]] = []
            for ref in targets:
                seen = self._readiness(ref, work.custom, jobs)
                if seen is not None:
                    results.append((ref, *seen))
            pending = [r for r in results if r[1] not in (kstatus.Status.CURRENT, kstatus.Status.FAILED)]
            now = self.rt.clock.now()
            if not pending or now >= deadline:
                break
            yield min(POLL_MS, deadline - now)
        errs = [
            f"resource {ref.kind}/{ref.namespace}/{ref.name} not ready. status: {st}, message: {msg}"
            for ref, st, msg in results
            if st != kstatus.Status.CURRENT
        ]
        if pending:
            errs.append(hooks.DEADLINE_EXCEEDED)
        return "\n".join(errs) or None

    def _readiness(
        self, ref: refs.ObjectRef, custom: dict[refs.GroupKind, kstatus.Custom], jobs: bool
    ) -> tuple[str, str] | None:
        """(status, message) of one object as Helm's waiter reads it; None for a paused
        Deployment (never waited for)."""
        try:
            live = self.rt.cluster.read(ref)
        except (errors.NotFound, errors.NoKindMatch):
            return str(kstatus.Status.NOT_FOUND), "Resource not found"
        if ref.kind == "Deployment" and (live.get("spec") or {}).get("paused"):
            return None
        if jobs and ref.group == "batch" and ref.kind == "Job":
            target = hooks.Target("batch/v1", "Job", ref.namespace, ref.name, live)
            return hooks.readiness(target, live)
        result = applier.health_of(self.rt.cluster.read, ref, custom, self.reconciled)
        return str(result.status), result.message

    def _record_inventory(self, work: _Work, written: dict[int, records.Release]) -> None:
        """`observeInventory`: the newest release's objects and the chart's CRDs."""
        if not written:
            return
        newest = written[max(written)]
        entries: dict[str, dict[str, str]] = {}
        docs = list(actions.documents(newest.manifest))
        for crd in work.chart.crds if work.chart is not None else ():
            docs.extend(render.crd_objects(str(crd["filename"]), str(crd["data"])))
        for doc in docs:
            gvk = objects.gvk_of(doc)
            meta = doc.get("metadata") or {}
            namespace = str(meta.get("namespace") or "")
            if not namespace:
                try:
                    namespace = newest.namespace if self.rt.cluster.kind_info(gvk).namespaced else ""
                except errors.ApiError:
                    namespace = newest.namespace
            ref = refs.ObjectRef(gvk.group, gvk.kind, namespace, str(meta.get("name") or ""))
            entries[ref.inventory_id] = {"id": ref.inventory_id, "v": gvk.version}
        work.status["inventory"] = {"entries": [entries[k] for k in sorted(entries)]}

    def _test(self, work: _Work, names: _Names) -> Action:
        """Helm test of the latest release (test.go): the test hooks run, the result observed
        into the latest snapshot, TestSuccess and an event."""
        cur = _latest(work.status)
        if cur is None:
            return "no latest release: required for test"
        spec, cluster = work.spec, self.rt.cluster
        release = records.latest(cluster, names.storage_namespace, names.release)
        if release is None:
            return f"test: Release not loaded: {names.release}: release: not found"
        timeout = state.timeout_for_action(state.Action.TEST, spec)
        written: dict[int, records.Release] = {}
        release, error = yield from self._run_hooks(
            work, release, "test", timeout, names.storage_namespace, written
        )
        actions.update_record(cluster, names.storage_namespace, release, work.ctx.now)
        filters = spec.test.filters if spec.test and spec.test.filters else ()
        if error == "" and not snapshots.targets(cur, release):
            error = (
                f"release mismatch: tested release {release.namespace}/{release.name}.v{release.version} "
                f"!= current release {cur.get('namespace')}/{cur.get('name')}.v{cur.get('version')}"
            )
        work.ctx.obj["status"] = snapshots.record_test(work.status, release, filters)
        status, obj, now = work.status, work.obj, work.ctx.now
        latest = _latest(status)
        assert latest is not None
        if error:
            message = state.FMT_TEST_FAILURE % (_full_name(latest), _chart_name(latest), error.strip())
            status["failures"] = int(status.get("failures") or 0) + 1
            conditions.mark_false(obj, state.TEST_SUCCESS, TEST_FAILED, message, now=now)
            self._event(work.ctx, base.EventType.WARNING, TEST_FAILED, message, _event_meta(latest))
            tested = "testHooks" in latest
            if tested:
                typed = _typed_status(status)
                remediation = state.active_remediation(spec, typed)
                ignore = bool(spec.test and spec.test.ignore_failures)
                if remediation is not None and not remediation.must_ignore_test_failures(ignore):
                    counter = "installFailures" if remediation.action == "install" else "upgradeFailures"
                    status[counter] = int(status.get(counter) or 0) + 1
            self._summarize(work.ctx)
            return None if tested else error
        count = len(latest.get("testHooks") or {})
        hook_text = (
            "no test hooks"
            if not count
            else f"{count} test hook{'s' if count > 1 else ''} completed successfully"
        )
        message = state.FMT_TEST_SUCCESS % (_full_name(latest), _chart_name(latest), hook_text)
        conditions.mark_true(obj, state.TEST_SUCCESS, TEST_SUCCEEDED, message, now=now)
        self._event(work.ctx, base.EventType.NORMAL, TEST_SUCCEEDED, message, _event_meta(latest))
        self._summarize(work.ctx)
        return None

    def _rollback(self, work: _Work, names: _Names) -> Action:
        """Rollback remediation (rollback_remediation.go) to the previous good release."""
        spec, cluster = work.spec, self.rt.cluster
        typed = _typed_status(work.status)
        remediation = state.upgrade_remediation(spec)
        ignore = remediation.must_ignore_test_failures(bool(spec.test and spec.test.ignore_failures))
        prev_typed = state.previous(typed.history, ignore)
        cur = _latest(work.status)
        if prev_typed is None or cur is None:
            return f"{state.ERR_MISSING_ROLLBACK_TARGET}: required to rollback"
        prev = next(
            s for s in work.status.get("history") or [] if int(s.get("version") or 0) == prev_typed.version
        )
        rollback = spec.rollback
        writes: list[records.Release] = []
        error: str | None = None
        waiting = False
        try:
            pending = actions.begin_rollback(
                cluster,
                storage_namespace=names.storage_namespace,
                name=str(prev.get("name")),
                version=int(prev.get("version") or 0),
                now=work.ctx.now,
                max_history=spec.max_history if spec.max_history is not None else 5,
            )
        except actions.ActionError as exc:
            error = exc.message
        else:
            writes.append(pending.release)
            holder = [pending]
            timeout = state.timeout_for_action(state.Action.ROLLBACK, spec)
            written: dict[int, records.Release] = {}
            hooks_off = bool(rollback and rollback.disable_hooks)
            if not hooks_off:
                error = yield from self._hooks(work, holder, "pre-rollback", timeout, written)
            if error is None:
                try:
                    actions.apply_manifest(cluster, holder[0])
                except actions.ApplyFailed as exc:
                    error = exc.message
            if error is None and not (rollback and rollback.disable_wait):
                jobs = not (rollback and rollback.disable_wait_for_jobs)
                error = yield from self._wait(work, holder[0].release, timeout, jobs=jobs)
                waiting = error is not None
            if error is None and not hooks_off:
                error = yield from self._hooks(work, holder, "post-rollback", timeout, written)
            now = work.ctx.now
            before = {
                r.version: r.info.status
                for r in records.releases(cluster, names.storage_namespace, names.release)
            }
            if error is not None:
                description = actions.failure_description(holder[0], error, waiting=waiting)
                actions.finish(cluster, holder[0], succeeded=False, now=now, description=description)
            else:
                actions.finish(cluster, holder[0], succeeded=True, now=now)
            for rel in records.releases(cluster, names.storage_namespace, names.release):
                if rel.version == holder[0].release.version or before.get(rel.version) != rel.info.status:
                    writes.append(rel)
        work.ctx.obj["status"] = snapshots.record_rollback(work.status, writes)
        self._record_inventory(work, {r.version: r for r in writes})
        obj, now, status = work.obj, work.ctx.now, work.status
        meta = _event_meta(prev, config_digest=work.config_digest)
        if error is not None:
            message = state.FMT_ROLLBACK_REMEDIATION_FAILURE % (
                _full_name(prev),
                _chart_name(prev),
                error.strip(),
            )
            status["failures"] = int(status.get("failures") or 0) + 1
            conditions.mark_false(obj, state.REMEDIATED, ROLLBACK_FAILED, message, now=now)
            self._event(work.ctx, base.EventType.WARNING, ROLLBACK_FAILED, message, meta)
            self._summarize(work.ctx)
            latest = _latest(status)
            return error if latest is None or latest.get("digest") == cur.get("digest") else None
        message = state.FMT_ROLLBACK_REMEDIATION_SUCCESS % (_full_name(prev), _chart_name(prev))
        conditions.mark_true(obj, state.REMEDIATED, ROLLBACK_SUCCEEDED, message, now=now)
        self._event(work.ctx, base.EventType.NORMAL, ROLLBACK_SUCCEEDED, message, meta)
        self._summarize(work.ctx)
        return None

    def _uninstall(self, work: _Work, names: _Names) -> Action:
        """Uninstall remediation (uninstall_remediation.go): delete hooks, the objects, the record."""
        cur = _latest(work.status)
        if cur is None:
            return "no latest release: required to uninstall"
        spec, cluster = work.spec, self.rt.cluster
        options = spec.uninstall
        keep = bool(options and options.keep_history)
        timeout = state.timeout_for_action(state.Action.UNINSTALL, spec)
        error: str | None = None
        writes: list[records.Release] = []
        try:
            plan = actions.begin_uninstall(
                cluster,
                storage_namespace=names.storage_namespace,
                name=names.release,
                keep_history=keep,
                now=work.ctx.now,
            )
        except actions.ActionError as exc:
            error = exc.message
        else:
            if isinstance(plan, actions.Uninstalled):
                writes.append(plan.release)
            else:
                release = plan.release
                written: dict[int, records.Release] = {}
                hooks_off = bool(options and options.disable_hooks)
                problems: list[str] = []
                if not hooks_off:
                    release, hook_error = yield from self._run_hooks(
                        work, release, "pre-delete", timeout, names.storage_namespace, written
                    )
                    if hook_error:
                        error = hook_error
                if error is None:
                    plan = dataclasses.replace(plan, release=release)
                    try:
                        gone = actions.delete_release_objects(
                            cluster,
                            plan,
                            now=work.ctx.now,
                            propagation=options.deletion_propagation if options else "background",
                        )
                    except actions.ActionError as exc:
                        error = exc.message
                    else:
                        if not hooks_off:
                            release, hook_error = yield from self._run_hooks(
                                work, plan.release, "post-delete", timeout, names.storage_namespace, written
                            )
                            if hook_error:
                                problems.append(hook_error)
                            plan = dataclasses.replace(plan, release=release)
                        try:
                            done = actions.finish_uninstall(
                                cluster, plan, gone, now=work.ctx.now, problems=problems
                            )
                            writes.append(done.release)
                        except actions.ActionError as exc:
                            error = exc.message
                            writes.append(
                                records.with_status(plan.release, "uninstalled", actions.UNINSTALL_COMPLETE)
                            )
        work.ctx.obj["status"] = snapshots.record_uninstall(work.status, writes, "uninstall")
        status, obj, now = work.status, work.obj, work.ctx.now
        latest = _latest(status) or cur
        if error is None and cur.get("digest") == latest.get("digest"):
            error = "uninstall completed with error: no storage update"
        if error is not None:
            message = state.FMT_UNINSTALL_REMEDIATION_FAILURE % (
                _full_name(latest),
                _chart_name(latest),
                error.strip(),
            )
            status["failures"] = int(status.get("failures") or 0) + 1
            conditions.mark_false(obj, state.REMEDIATED, UNINSTALL_FAILED, message, now=now)
            self._event(work.ctx, base.EventType.WARNING, UNINSTALL_FAILED, message, _event_meta(latest))
            return error if cur.get("digest") == latest.get("digest") else None
        message = state.FMT_UNINSTALL_REMEDIATION_SUCCESS % (_full_name(latest), _chart_name(latest))
        conditions.mark_true(obj, state.REMEDIATED, UNINSTALL_SUCCEEDED, message, now=now)
        self._event(work.ctx, base.EventType.NORMAL, UNINSTALL_SUCCEEDED, message, _event_meta(latest))
        return None

    def _unlock(self, work: _Work, names: _Names) -> Action:
        """Unlock (unlock.go): a release left pending marked failed."""
        cluster = self.rt.cluster
        last = records.latest(cluster, names.storage_namespace, names.release)
        if last is None or not last.info.status.startswith("pending-"):
            self._summarize(work.ctx)
            return None
        was = last.info.status
        oci = next(
            (
                str(s.get("ociDigest") or "")
                for s in work.status.get("history") or []
                if snapshots.targets(s, last)
            ),
            "",
        )
        cur = snapshots.snapshot(last, oci_digest=oci)
        try:
            failed = actions.unlock(
                cluster, storage_namespace=names.storage_namespace, name=names.release, now=work.ctx.now
            )
        except errors.ApiError as exc:
            message = state.FMT_UNLOCK_FAILURE % (_full_name(cur), _chart_name(cur), was, exc.message)
            work.status["failures"] = int(work.status.get("failures") or 0) + 1
            conditions.mark_false(work.obj, state.RELEASED, PENDING_RELEASE, message, now=work.ctx.now)
            self._event(work.ctx, base.EventType.WARNING, PENDING_RELEASE, message, _event_meta(cur))
            self._summarize(work.ctx)
            return exc.message
        work.ctx.obj["status"] = snapshots.record_unlock(work.status, [failed] if failed else [])
        message = state.FMT_UNLOCK_SUCCESS % (_full_name(cur), _chart_name(cur), was)
        conditions.mark_false(work.obj, state.RELEASED, PENDING_RELEASE, message, now=work.ctx.now)
        self._event(work.ctx, base.EventType.NORMAL, PENDING_RELEASE, message, _event_meta(cur))
        self._summarize(work.ctx)
        return None
        yield  # an action is a generator, even one that never waits

    def _correct_drift(self, work: _Work, names: _Names) -> Action:
        """Correct cluster drift (correct_cluster_drift.go): re-apply what drifted, and say so."""
        report = work.report
        if state.drift_mode(work.spec) != "enabled" or report is None or not report.has_changes:
            return None
        conditions.mark_unknown(
            work.obj,
            conditions.READY,
            conditions.Reason.PROGRESSING,
            drifts.CORRECTING_MESSAGE,
            now=work.ctx.now,
        )
        correction = drifts.correct(self.rt.cluster, report)
        cur = _latest(work.status)
        event = correction.event(_full_name(cur) if cur else names.release)
        if event is not None:
            etype = base.EventType.WARNING if event.type == "Warning" else base.EventType.NORMAL
            self._event(work.ctx, etype, event.reason, event.message, _event_meta(cur))
        return None
        yield  # an action is a generator, even one that never waits

    # -- deletion --------------------------------------------------------------------------------

    def _uninstall_at_once(
        self,
        ctx: kernel.Context[Any, Any],
        storage_namespace: str,
        cur: dict[str, Any],
        *,
        keep_history: bool,
    ) -> None:
        """The Uninstall reconciler (uninstall.go) for a deleted HelmRelease or a moved release
        target, without hooks or waits: the release uninstalled, and an event either way.
        Raises the `ActionError` of a failed uninstall; a release already gone is no error."""
        try:
            done = actions.uninstall(
                ctx.rt.cluster,
                storage_namespace=storage_namespace,
                name=str(cur.get("name")),
                keep_history=keep_history,
                now=ctx.now,
            )
        except actions.ReleaseNotFound:
            return
        except actions.ActionError as exc:
            message = state.FMT_UNINSTALL_FAILURE % (_full_name(cur), _chart_name(cur), exc.message)
            self._event(ctx, base.EventType.WARNING, UNINSTALL_FAILED, message, _event_meta(cur))
            raise
        snap = snapshots.snapshot(done.release, oci_digest=str(cur.get("ociDigest") or ""))
        message = state.FMT_UNINSTALL_SUCCESS % (_full_name(snap), _chart_name(snap))
        self._event(ctx, base.EventType.NORMAL, UNINSTALL_SUCCEEDED, message, _event_meta(snap))

    def finalize(self, rt: base.Runtime, obj: objects.RawObject, state_: _State) -> None:
        """`reconcileDelete`: the release uninstalled (without hooks, see the module docstring)
        and the HelmChart deleted."""
        spec = base.typed_spec(obj, api.HelmReleaseSpec)
        status = obj.get("status") or {}
        stored = str(status.get("storageNamespace") or "")
        cur = _latest(status)
        if stored and cur is not None:
            ctx = kernel.Context(rt, obj, spec, {}, rt.now(), state_, HELM_CONTROLLER)
            keep = bool(spec.uninstall and spec.uninstall.keep_history)
            try:
                self._uninstall_at_once(ctx, stored, cur, keep_history=keep)
            except actions.ActionError as exc:  # the finalizer stays; retried with backoff
                raise workqueue.RequeueError(exc.message) from exc
        helm_chart = str(status.get("helmChart") or "")
        if helm_chart:
            namespace, name = charts.parse_status_helm_chart(helm_chart)
            with contextlib.suppress(errors.NotFound):
                rt.cluster.delete(refs.ObjectRef(flux.HELMCHART.group, flux.HELMCHART.kind, namespace, name))


@dataclass(frozen=True, slots=True)
class _Summary:
    """helm-controller's deferred patch (see the module docstring)."""

    default_to_retry_on_failure: bool

    def succeeded(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any]
    ) -> base.Result:
        work = _work(ctx)
        if work.outcome != "requeue":
            ctx.status["observedGeneration"] = ctx.generation
        ctx.patch_status()
        if work.outcome == "requeue":
            return base.Result(requeue=True)
        interval = duration.parse(ctx.spec.interval)
        if work.outcome == "retry":
            retry = state.active_retry(ctx.spec, _typed_status(ctx.status), self.default_to_retry_on_failure)
            interval = retry.interval_ms if retry is not None else interval
        return base.Result(requeue_after=workqueue.jitter(interval, ctx.rt.rng, flux.INTERVAL_JITTER_PERCENT))

    def failed(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any], exc: kernel.StepError
    ) -> base.Result:
        if isinstance(exc, kernel.Stalling):
            ctx.status["observedGeneration"] = ctx.generation
            ctx.patch_status()
            return base.Result()
        ctx.patch_status()
        if isinstance(exc, kernel.Waiting):
            return base.Result(requeue_after=exc.retry_after_ms)
        raise exc


def _ready_message(obj: objects.RawObject) -> str:
    ready = conditions.get(obj, conditions.READY)
    return str(ready.get("message") or "") if ready else ""


_TYPED: dict[str, api.HelmReleaseStatus] = {}
_TYPED_KEPT = 1024


def _typed_status(status: dict[str, Any]) -> api.HelmReleaseStatus:
    """The status as its Flux API type, for the next-action rules.

    IMPLEMENTATION DETAIL: Problem: the rules read the status as a typed value several times a
    reconcile, and at each interval of a release in sync the statuses are the same as at the
    last one; parsing one (history, conditions) costs about as much as the rest of such a
    reconcile. Solution: the last parses are kept, keyed by the status's canonical JSON; the
    typed value is immutable. What the rules never read is left out of both, so that it does
    not make every status new: the inventory, and the Reconciling condition (stamped with the
    time of each reconcile)."""
    body = {k: v for k, v in status.items() if k != "inventory"}
    if "conditions" in body:
        body["conditions"] = [c for c in body["conditions"] if c.get("type") != conditions.RECONCILING]
    key = json.dumps(body, sort_keys=True, separators=(",", ":"))
    typed = _TYPED.get(key)
    if typed is None:
        typed = _TYPED[key] = declare.parse(api.HelmReleaseStatus, body, "status")
        while len(_TYPED) > _TYPED_KEPT:
            del _TYPED[next(iter(_TYPED))]
    return typed


def _reads(hr: objects.RawObject, source: refs.ObjectRef) -> bool:
    """Whether HelmRelease `hr` reads `source` (its HelmChart, or its chartRef), read raw."""
    spec = hr.get("spec") or {}
    namespace = hr["metadata"]["namespace"]
    ref = spec.get("chartRef")
    if isinstance(ref, dict):
        return (ref.get("kind"), ref.get("name"), ref.get("namespace") or namespace) == (
            source.kind,
            source.name,
            source.namespace,
        )
    template = (spec.get("chart") or {}).get("spec") or {}
    chart_ns = ((template.get("sourceRef") or {}).get("namespace")) or namespace
    name = charts.helm_chart_name(hr["metadata"]["name"], namespace)
    return source.kind == flux.HELMCHART.kind and (source.namespace, source.name) == (chart_ns, name)


def reconciler(
    rt: base.Runtime, storage_: Storage, renderer: render.Renderer, reconciled: frozenset[refs.GroupKind]
) -> kernel.Reconciler[api.HelmReleaseSpec, _State]:
    """The HelmRelease controller on the kernel."""
    steps = _HelmReleases(rt, storage_, renderer, reconciled)
    return kernel.Reconciler(rt, steps.kind(), steps.watches())


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def renderer(self) -> render.Renderer: ...
    @property
    def reconciled(self) -> frozenset[refs.GroupKind]: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.storage, services.renderer, services.reconciled)


registry.register(
    registry.Entry("helmrelease", flux.HELMRELEASE.group_kind, _build, order=70, component="helm-controller")
)
