"""What Flux's appliers share (kustomize-controller today, helm-controller next): the summary of a
reconcile that applies a source's revision, its history, its events, dependsOn, the source lookup
and the health checks.

Provenance: kustomize-controller `internal/controller/kustomization_controller.go` (Reconcile's
deferred status handling, `checkDependencies`, `checkHealth`, the event metadata) and fluxcd/pkg
`apis/meta/history.go`, `runtime/dependency`, `ssa` (the wait's error entries); our own code.

`AppliedSummary` is the kernel `Summary` of these kinds:
- success: Ready=True `ReconciliationSucceeded` "Applied revision: <rev>", `lastAppliedRevision`
  (and `lastAppliedOriginRevision`), `observedGeneration`, a history entry, one patch, and a
  Normal event "Reconciliation finished in <d>, next run in <interval>"; requeue after the
  interval with Flux's ±5% jitter;
- `StepError`: Ready=False, Reconciling `ProgressingWithRetry`, a history entry when something
  was built, a Warning event (unless the error is quiet), requeue after `retryInterval` (or the
  error's own delay);
- `Waiting`: Ready=False and the error's note as a Normal event, requeue after its delay;
- `Stalling`: Stalled=True, Ready=False "Reconciliation failed terminally due to configuration
  error: ...", a Warning event, no requeue (`AccessDenied`: the same, without the prefix).
Events carry the Ready condition's reason, as kustomize-controller's do, and the revision and
origin revision metadata.

Callers: the Kustomization controller (and the HelmRelease controller to come). Never imports a
controller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from gitops_sim.cluster import errors
from gitops_sim.model import artifacts, cel, conditions, duration, flux, fluxapi, kstatus, objects, refs
from gitops_sim.reconcile import base, kernel
from gitops_sim.timing import workqueue

HISTORY_LIMIT = 5
HEALTH_POLL_MS = 5_000
OCI_ORIGIN_REVISION = "org.opencontainers.image.revision"
TERMINAL = "Reconciliation failed terminally due to configuration error: "
ACCESS_DENIED = "AccessDenied"


class State(Protocol):
    """What an applier keeps about an object between reconciles."""

    origin: str | None
    """The origin revision (an OCI artifact's `org.opencontainers.image.revision`, "" when it
    has none) of the source artifact the current reconcile works on; None before one is found."""


AS = TypeVar("AS", bound=State)


@dataclass(slots=True)
class Work:
    """What an applier's reconcile has found so far, for its summary."""

    interval: int
    retry: int
    started_ms: int
    revision: str | None = None
    """The source revision this reconcile works on (once the source is found)."""
    digest: str | None = None
    """The history digest of what was built (once built)."""
    generation: int | None = None
    """The generation applied, when it is not the object's current one (a parked health check)."""
    custom: dict[refs.GroupKind, kstatus.Custom] = field(default_factory=dict)
    """`healthCheckExprs`: the custom health of some kinds."""
    wait: HealthWait | None = None
    """Health checks in progress."""


@dataclass(slots=True)
class HealthWait:
    """Health checks in progress (Flux blocks inside the reconcile; here it parks and resumes at
    each poll)."""

    deadline_ms: int
    targets: list[refs.ObjectRef]
    announce: bool
    generation: int
    next_poll_ms: int = 0
    retrigger: bool = False


@dataclass(frozen=True, slots=True)
class Health:
    """kustomize-controller's `checkHealth`: "Running health checks…" patched, then the targets'
    kstatus polled every 5s (the first time at once) until all are Current, one is Failed (with
    fail-fast, Flux's default; or once all are terminal), or the timeout passes; the reconcile
    parks between polls. `reconciled`: the kinds some simulated controller reconciles (a Flux
    kind outside it is never Current); `fail_fast` is off with `DisableFailFastBehavior`."""

    reconciled: frozenset[refs.GroupKind]
    fail_fast: bool = True

    def start(
        self, ctx: kernel.Context[Any, Any], targets: list[refs.ObjectRef], timeout_ms: int, *, announce: bool
    ) -> None:
        """Mark the checks in progress, checkpoint the status, and poll at once."""
        work = ctx.work
        assert isinstance(work, Work)
        timeout = duration.format(timeout_ms)
        message = f"Running health checks for revision {work.revision} with a timeout of {timeout}"
        conditions.mark_true(
            ctx.obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=ctx.now
        )
        conditions.mark_unknown(
            ctx.obj, conditions.HEALTHY, conditions.Reason.PROGRESSING, message, now=ctx.now
        )
        ctx.checkpoint()
        work.wait = HealthWait(work.started_ms + timeout_ms, targets, announce, ctx.generation)
        self.poll(ctx)

    def poll(self, ctx: kernel.Context[Any, Any]) -> None:
        """One kstatus poll; parks when the checks go on, raises `HealthCheckFailed` when they fail."""
        work = ctx.work
        assert isinstance(work, Work) and work.wait is not None
        wait = work.wait
        now_ms = ctx.rt.clock.now()
        if now_ms < wait.next_poll_ms:
            # Flux is still inside this reconcile: whatever asked for another one waits for it.
            wait.retrigger = True
            raise kernel.Park(wait.next_poll_ms - now_ms, self.poll)
        read = ctx.rt.cluster.read
        results = [(t, health_of(read, t, work.custom, self.reconciled)) for t in wait.targets]
        failed = [(t, r) for t, r in results if r.status == kstatus.Status.FAILED]
        pending = [(t, r) for t, r in results if r.status != kstatus.Status.CURRENT]
        terminal = all(r.status in (kstatus.Status.CURRENT, kstatus.Status.FAILED) for _, r in results)
        error: str | None = None
        if failed and (self.fail_fast or terminal):
            error = f"failed early due to stalled resources: [{wait_entries(failed)}]"
        elif pending and now_ms >= wait.deadline_ms:
            error = f"timeout waiting for: [{wait_entries(pending)}]"
        elif pending:
            wait.next_poll_ms = min(now_ms + HEALTH_POLL_MS, wait.deadline_ms)
            raise kernel.Park(wait.next_poll_ms - now_ms, self.poll)
        ctx.again = wait.retrigger
        took = duration.format(now_ms - work.started_ms)
        if error is not None:
            reason = conditions.Reason.HEALTH_CHECK_FAILED
            conditions.mark_false(ctx.obj, conditions.HEALTHY, reason, error, now=ctx.now)
            raise kernel.StepError(reason, f"health check failed after {took}: {error}")
        passed = f"Health check passed in {took}"
        conditions.mark_true(ctx.obj, conditions.HEALTHY, conditions.Reason.SUCCEEDED, passed, now=ctx.now)
        if wait.announce:
            event(ctx, base.EventType.NORMAL, passed)
        work.generation = wait.generation


def health_check_exprs(
    checks: tuple[fluxapi.meta.CustomHealthCheck, ...],
) -> dict[refs.GroupKind, kstatus.Custom]:
    """`healthCheckExprs` by group-kind (fluxcd/pkg `cel.NewStatusReader`, shared by
    kustomize-controller and helm-controller); raises CelError with Flux's wording when one does
    not parse or a group-kind comes twice."""
    out: dict[refs.GroupKind, kstatus.Custom] = {}
    for i, check in enumerate(checks):
        gvk = refs.GVK.of(check.api_version, check.kind or "")
        if gvk.group_kind in out:
            raise cel.CelError(
                f"duplicate custom health check for GroupKind {gvk.group_kind} at healthchecks[{i}]"
            )
        try:
            out[gvk.group_kind] = kstatus.Custom.parse(fluxapi.declare.dump(check))
        except cel.CelError as exc:
            raise cel.CelError(
                f"failed to create custom status evaluator for healthchecks[{i}]: {exc}"
            ) from exc
    return out


def origin_of(ctx: kernel.Context[Any, AS]) -> str:
    """The origin revision this reconcile works on, else the last applied one."""
    if ctx.state.origin is not None:
        return ctx.state.origin
    return str((ctx.obj.get("status") or {}).get("lastAppliedOriginRevision", ""))


def event(
    ctx: kernel.Context[Any, AS], etype: base.EventType, message: str, extra: dict[str, str] | None = None
) -> None:
    """An event as kustomize-controller sends it: the Ready condition's reason, and the revision
    (`lastAttemptedRevision`) and origin revision in its metadata."""
    obj, group = ctx.obj, ctx.obj["apiVersion"].partition("/")[0]
    ready = conditions.get(obj, conditions.READY)
    reason = str(ready["reason"]) if ready else ("error" if etype == base.EventType.WARNING else "info")
    origin = origin_of(ctx)
    metadata = {
        f"{group}/revision": str((obj.get("status") or {}).get("lastAttemptedRevision", "")),
        **({f"{group}/originRevision": origin} if origin else {}),
        **(extra or {}),
    }
    ctx.rt.recorder.event(
        obj, type=etype, reason=reason, message=message, controller=ctx.controller, metadata=metadata
    )


def record_history(
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


class AccessDenied(kernel.Stalling):
    """An ACL refusal (fluxcd/pkg `acl.AccessDeniedError`: a cross-namespace reference blocked, a
    feature gate off): Stalled and Ready=False `AccessDenied` with the refusal's own words (no
    "failed terminally" prefix), a Warning event, no retry."""

    def __init__(self, message: str) -> None:
        super().__init__(ACCESS_DENIED, message)


@dataclass(frozen=True, slots=True)
class AppliedSummary:
    """The kernel summary of an applier (see the module docstring)."""

    def succeeded(self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, AS]) -> base.Result:
        obj, now, work = ctx.obj, ctx.now, ctx.work
        assert isinstance(work, Work) and work.revision is not None and work.digest is not None
        message = f"Applied revision: {work.revision}"
        conditions.mark_true(
            obj, conditions.READY, conditions.Reason.RECONCILIATION_SUCCEEDED, message, now=now
        )
        conditions.delete(obj, conditions.RECONCILING)
        conditions.delete(obj, conditions.STALLED)
        status = ctx.status
        status["lastAppliedRevision"] = work.revision
        origin = ctx.state.origin or ""
        if origin:
            status["lastAppliedOriginRevision"] = origin
        else:
            status.pop("lastAppliedOriginRevision", None)
        status["observedGeneration"] = work.generation if work.generation is not None else ctx.generation
        took = ctx.rt.clock.now() - work.started_ms
        record_history(status, work.digest, work.revision, now, "ReconciliationSucceeded", took, origin)
        ctx.patch_status()
        finished = (
            f"Reconciliation finished in {duration.format(took)}, "
            f"next run in {duration.format(work.interval)}"
        )
        group = obj["apiVersion"].partition("/")[0]
        event(ctx, base.EventType.NORMAL, finished, extra={f"{group}/commit_status": "update"})
        return base.Result(
            requeue_after=workqueue.jitter(work.interval, ctx.rt.rng, flux.INTERVAL_JITTER_PERCENT)
        )

    def failed(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, AS], exc: kernel.StepError
    ) -> base.Result:
        obj, now, work = ctx.obj, ctx.now, ctx.work
        if isinstance(exc, kernel.Stalling):
            message = exc.message if isinstance(exc, AccessDenied) else TERMINAL + exc.message
            conditions.mark_true(obj, conditions.STALLED, exc.reason, message, now=now)
            conditions.mark_false(obj, conditions.READY, exc.reason, message, now=now)
            conditions.delete(obj, conditions.RECONCILING)
            ctx.patch_status()
            event(ctx, base.EventType.WARNING, message)
            return base.Result()
        conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
        if isinstance(exc, kernel.Waiting):
            ctx.patch_status()
            if exc.note:
                event(ctx, base.EventType.NORMAL, exc.note)
            return base.Result(requeue_after=exc.retry_after_ms)
        conditions.mark_retrying(obj, now=now)
        assert isinstance(work, Work)
        if work.digest is not None and work.revision is not None:
            record_history(ctx.status, work.digest, work.revision, now, exc.reason)
        ctx.patch_status()
        if exc.warn:
            event(ctx, base.EventType.WARNING, exc.message)
        return base.Result(requeue_after=exc.retry_after_ms or work.retry)


def source_ref(
    obj: objects.RawObject, kind: str, name: str, namespace: str | None, kinds: dict[str, refs.GVK]
) -> refs.ObjectRef | None:
    """The source an applier names (`sourceRef`, its namespace defaulting to the object's), or
    None when its kind is not one of `kinds`."""
    gvk = kinds.get(kind)
    if gvk is None:
        return None
    return refs.ObjectRef(gvk.group, gvk.kind, namespace or obj["metadata"]["namespace"], name)


def source_artifact(ctx: kernel.Context[Any, AS], ref: refs.ObjectRef) -> artifacts.Artifact:
    """The source's artifact; a missing source is `ArtifactFailed` retried at retryInterval and
    one without an artifact yet is retried in 30s, both without a Warning (as Flux keeps quiet)."""
    try:
        source = ctx.rt.cluster.read(ref)  # read-only
    except errors.NotFound as exc:
        raise kernel.StepError(
            conditions.Reason.ARTIFACT_FAILED, errors.kind_not_found(ref).message, warn=False
        ) from exc
    raw = (source.get("status") or {}).get("artifact")
    if not raw:
        raise kernel.StepError(
            conditions.Reason.ARTIFACT_FAILED,
            "Source artifact not found, retrying in 30s",
            warn=False,
            retry_after_ms=flux.REQUEUE_DEPENDENCY_MS,
        )
    artifact = artifacts.Artifact.from_status(raw)
    ctx.state.origin = dict(artifact.metadata).get(OCI_ORIGIN_REVISION, "")
    return artifact


def check_dependencies(
    ctx: kernel.Context[Any, AS],
    dependencies: tuple[fluxapi.meta.DependencyReference, ...],
    source: tuple[str, str, str],
    revision: str,
) -> None:
    """kustomize-controller's `checkDependencies` over objects of the dependent's own kind: the
    first one not ready is `Waiting` (`DependencyNotReady`, retried in 30s with a Normal event);
    a `readyExpr` that does not parse is `Stalling` (`InvalidCELExpression`)."""
    unready = _unready(ctx, dependencies, source, revision)
    if unready is not None:
        retry_in = duration.format(flux.REQUEUE_DEPENDENCY_MS)
        raise kernel.Waiting(
            conditions.Reason.DEPENDENCY_NOT_READY,
            unready,
            retry_after_ms=flux.REQUEUE_DEPENDENCY_MS,
            note=f"Dependencies do not meet ready condition, retrying in {retry_in}",
        )


def _unready(
    ctx: kernel.Context[Any, AS],
    dependencies: tuple[fluxapi.meta.DependencyReference, ...],
    source: tuple[str, str, str],
    revision: str,
) -> str | None:
    obj = ctx.obj
    own = objects.ref_of(obj)
    for dep in dependencies:
        dep_ref = refs.ObjectRef(own.group, own.kind, dep.namespace or own.namespace, dep.name)
        name = f"{dep_ref.namespace}/{dep_ref.name}"
        try:
            dependency = ctx.rt.cluster.get(dep_ref)
        except errors.NotFound:
            return f"dependency '{name}' not found: {errors.kind_not_found(dep_ref).message}"
        if dep.ready_expr:
            # With readyExpr the built-in checks are skipped (AdditiveCELDependencyCheck off).
            try:
                expr = cel.Expression.parse(dep.ready_expr)
            except cel.CelError as exc:
                raise kernel.Stalling(
                    conditions.Reason.INVALID_CEL_EXPRESSION,
                    f"failed to evaluate dependency {dep_ref.name}: {exc}",
                ) from exc
            try:
                ok = expr.evaluate({"self": obj, "dep": dependency})
            except cel.CelError as exc:
                return str(exc)
            if not ok:
                return f"dependency '{name}' is not ready according to readyExpr eval"
            continue
        status = dependency.get("status") or {}
        generation = int(dependency["metadata"].get("generation", 0))
        if not status.get("conditions") or generation != status.get("observedGeneration"):
            return f"dependency '{name}' is not ready"
        if not conditions.is_true(dependency, conditions.READY):
            return f"dependency '{name}' is not ready"
        dep_src = (dependency.get("spec") or {}).get("sourceRef") or {}
        dep_source = (
            str(dep_src.get("kind", "")),
            str(dep_src.get("name", "")),
            str(dep_src.get("namespace") or dep_ref.namespace),
        )
        if dep_source == source and status.get("lastAppliedRevision") != revision:
            return f"dependency '{name}' revision is not up to date"
    return None


def health_of(
    cluster_read: Any,
    target: refs.ObjectRef,
    custom: dict[refs.GroupKind, kstatus.Custom],
    reconciled: frozenset[refs.GroupKind],
) -> kstatus.Result:
    """kstatus of one health check target (read-only); a Flux kind no simulated controller
    reconciles is never Current, and says why."""
    try:
        live = cluster_read(target)
    except errors.NotFound:
        return kstatus.Result(kstatus.Status.NOT_FOUND, "Resource not found")
    result = kstatus.compute(live, custom.get(target.group_kind))
    kind = target.group_kind
    if kind in fluxapi.RECONCILED_KINDS and kind not in reconciled:
        if result.status in (kstatus.Status.TERMINATING, kstatus.Status.FAILED):
            return result
        return kstatus.Result(
            kstatus.Status.IN_PROGRESS,
            result.message,
            error=f"gitops-sim does not simulate {fluxapi.controller_of(kind)}: "
            f"{kind.kind} objects are never reconciled here",
        )
    return result


def wait_entries(results: list[tuple[refs.ObjectRef, kstatus.Result]]) -> str:
    """fluxcd/pkg ssa's wait error entries (in the order of the set; Go's map order is random)."""
    return ", ".join(
        f"{ref} status: '{r.status}'" + (f": {r.error}" if r.error else "") for ref, r in results
    )
