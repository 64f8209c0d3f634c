"""The reconcile kernel: a Flux kind declared as data, run as source-controller runs its kinds.

Provenance: source-controller `internal/controller/gitrepository_controller.go` (`Reconcile`: the
preamble, a declared list of `reconcileFunc`s run in order, and a deferred `summarizeAndPatch`
that alone writes Ready, patches the status and notifies), fluxcd/pkg `runtime/conditions`
(summarising Ready from a conditions table with negative polarity) and source-controller
`internal/error` (`serror`: Generic, Waiting, Stalling). Our own code.

A kind declares (`Kind`): its GVK and typed spec (`fluxapi`), the controller it belongs to, its
conditions table, its ordered steps, what its finalizer cleans up, and its interval. The kernel:

1. runs Flux's preamble (`base.begin`: finalizer, `reconcile.fluxcd.io/requestedAt`, suspend);
2. parses the spec once into the typed value (`Context.spec`);
3. runs the steps in order; a step reads the context, records conditions and observed status
   fields, and either returns or raises one of the step errors below;
4. summarises once: on success every negative condition goes, Ready=True copies the table's
   `ready_from` condition, Reconciling and Stalled go, `observedGeneration` is recorded, the status
   is patched (once), and the announcement a step left is sent as an event (or `Succeeded` when
   the reconcile recovered from a failure); on failure the error's condition and Ready=False carry
   its reason and message, Reconciling turns to `ProgressingWithRetry` (or Stalled=True), the status
   is patched once, a Warning event is sent unless the error is `Waiting`, and the outcome goes to
   the work queue through its table (`timing.workqueue`).

Step errors (Flux's serror):
- `StepError` (`serror.Generic`): a failure a retry may fix; the work queue backs off.
- `Waiting`: a dependency is not ready yet; retried after `retry_after_ms`, no Warning event.
- `Stalling`: a retry cannot fix it (an invalid URL): Stalled=True, no retry.

Per-object state that must survive between reconciles lives in `Reconciler.state`, keyed by the
object, typed by the kind; the kernel drops it when the object is gone.

Callers: the Flux controllers (each declares its kinds) and the engine (through the `Reconciler`
protocol). Never imports a controller, a workload, a source or a cluster backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from gitops_sim.cluster import errors
from gitops_sim.model import conditions, flux, objects, refs
from gitops_sim.reconcile import base
from gitops_sim.timing import workqueue

S = TypeVar("S")


class StepError(workqueue.RequeueError):
    """A failed step (`serror.Generic`): `condition` (the table's `failure` when None) and Ready
    say `reason` and `message`; a Warning event is sent and the work queue retries with backoff."""

    def __init__(self, reason: str, message: str, *, condition: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.condition = condition


class Waiting(StepError):
    """A dependency is not ready (`serror.Waiting`): retried after `retry_after_ms`, no Warning."""

    def __init__(
        self, reason: str, message: str, *, retry_after_ms: int, condition: str | None = None
    ) -> None:
        super().__init__(reason, message, condition=condition)
        self.retry_after_ms = retry_after_ms


class Stalling(StepError):
    """A failure a retry cannot fix (`serror.Stalling`): Stalled=True and no retry."""


class Stalled(workqueue.TerminalError):
    """What the kernel raises to the work queue for a `Stalling` error: forget the key."""


@dataclass(frozen=True, slots=True)
class ConditionsTable:
    """A kind's conditions (fluxcd/pkg `summarize.Conditions`).

    `ready_from`: the condition Ready copies on success (a source's `ArtifactInStorage`).
    `negative`: conditions that mean something is wrong; all go on success, and one present before
    a success makes it a recovery. `failure`: the condition a `StepError` without one sets.
    """

    ready_from: str
    negative: tuple[str, ...]
    failure: str


@dataclass(frozen=True, slots=True)
class Announcement:
    """The event a successful reconcile sends: `new` when something new was produced (a new
    artifact); otherwise it is sent only as the message of a recovery (`Succeeded`)."""

    reason: str
    message: str
    new: bool
    metadata: dict[str, str] | None = None


@dataclass(slots=True)
class Context(Generic[S]):
    """One reconcile of one object: what the steps read and leave for the summary."""

    rt: base.Runtime
    obj: objects.RawObject
    spec: S
    before: dict[str, Any]
    """The status as read, for the one status patch."""
    now: str
    state: dict[str, Any]
    """This object's state that survives between reconciles (the kernel owns it)."""
    announcement: Announcement | None = None

    @property
    def status(self) -> dict[str, Any]:
        return base.status(self.obj)

    @property
    def generation(self) -> int:
        return int(self.obj["metadata"].get("generation", 0))


Step = Callable[[Context[S]], None]


@dataclass(frozen=True, slots=True)
class Kind(Generic[S]):
    """A Flux kind as the kernel runs it.

    `steps` run in order; `finalize(rt, obj)` cleans up when the object is deleted (unless
    suspended); `interval_ms(spec)` is the requeue after a success; `static(obj)`, when given,
    says the controller leaves the object static (no finalizer, no status: a HelmRepository of
    type oci), and the kernel then undoes what an earlier reconcile left (Flux's
    migrationToStatic), calling `finalize`.
    """

    gvk: refs.GVK
    spec_type: type[S]
    controller: str
    table: ConditionsTable
    steps: tuple[Step[S], ...]
    interval_ms: Callable[[S], int]
    finalize: Callable[[base.Runtime, objects.RawObject], None]
    static: Callable[[objects.RawObject], bool] | None = None


@dataclass(slots=True)
class Reconciler(Generic[S]):
    """A kind's reconciler: the engine's `base.Reconciler`, run by the kernel."""

    rt: base.Runtime
    kind: Kind[S]
    watched: tuple[base.Watch, ...] = ()
    """Changes to other kinds that enqueue objects of this kind."""
    state: dict[refs.ObjectRef, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.kind.controller

    @property
    def gvk(self) -> refs.GVK:
        return self.kind.gvk

    def watches(self) -> list[base.Watch]:
        return list(self.watched)

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        if self.kind.static is not None and self._left_static(ref):
            return base.Result()
        try:
            obj, before = base.begin(self.rt, ref, self.name, lambda o: self.kind.finalize(self.rt, o))
        except base.Done as done:
            if done.result == base.Result():
                self.state.pop(ref, None)
            return done.result
        spec = base.typed_spec(obj, self.kind.spec_type)
        ctx = Context(self.rt, obj, spec, before, self.rt.now(), self.state.setdefault(ref, {}))
        try:
            for step in self.kind.steps:
                step(ctx)
        except StepError as exc:
            return self._failed(ctx, exc)
        return self._succeeded(ctx)

    def _succeeded(self, ctx: Context[S]) -> base.Result:
        obj, now, table = ctx.obj, ctx.now, self.kind.table
        for negative in table.negative:
            conditions.delete(obj, negative)
        source = conditions.get(obj, table.ready_from)
        assert source is not None, (
            f"a successful {self.kind.gvk.kind} reconcile leaves {table.ready_from} set"
        )
        conditions.mark_true(obj, conditions.READY, source["reason"], source["message"], now=now)
        conditions.delete(obj, conditions.RECONCILING)
        conditions.delete(obj, conditions.STALLED)
        ctx.status["observedGeneration"] = ctx.generation
        base.patch_status(self.rt, obj, self.name, ctx.before)
        recovered = any(c.get("type") in table.negative for c in ctx.before.get("conditions") or [])
        told = ctx.announcement
        if told is not None and told.new:
            self._event(obj, base.EventType.NORMAL, told.reason, told.message, told.metadata)
        elif told is not None and recovered:
            self._event(obj, base.EventType.NORMAL, conditions.Reason.SUCCEEDED, told.message, told.metadata)
        return base.Result(requeue_after=self.kind.interval_ms(ctx.spec))

    def _failed(self, ctx: Context[S], exc: StepError) -> base.Result:
        obj, now = ctx.obj, ctx.now
        condition = exc.condition or self.kind.table.failure
        conditions.mark_true(obj, condition, exc.reason, exc.message, now=now)
        conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
        stalling = isinstance(exc, Stalling)
        if stalling:
            conditions.mark_true(obj, conditions.STALLED, exc.reason, exc.message, now=now)
            conditions.delete(obj, conditions.RECONCILING)
            ctx.status["observedGeneration"] = ctx.generation
        else:
            conditions.mark_retrying(obj, now=now)
        base.patch_status(self.rt, obj, self.name, ctx.before)
        if isinstance(exc, Waiting):
            return base.Result(requeue_after=exc.retry_after_ms)
        self._event(obj, base.EventType.WARNING, exc.reason, exc.message, None)
        if stalling:
            raise Stalled(exc.message) from exc
        raise exc

    def _left_static(self, ref: refs.ObjectRef) -> bool:
        """Flux's migrationToStatic: a static object loses its finalizer, artifacts and status."""
        assert self.kind.static is not None
        try:
            obj = self.rt.cluster.get(ref)
        except errors.NotFound:
            return True
        if not self.kind.static(obj):
            return False
        meta = obj["metadata"]
        if flux.FINALIZER in (meta.get("finalizers") or []) or obj.get("status"):
            self.kind.finalize(self.rt, obj)
            if obj.get("status"):
                before = objects.deep_copy(obj["status"])
                obj["status"] = {}
                base.patch_status(self.rt, obj, self.name, before)
                obj = self.rt.cluster.get(ref)
            meta = obj["metadata"]
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != flux.FINALIZER]
            meta.pop("resourceVersion", None)
            self.rt.cluster.update(obj, field_manager=self.name)
        return True

    def _event(
        self,
        obj: objects.RawObject,
        type: base.EventType,
        reason: str,
        message: str,
        metadata: dict[str, str] | None,
    ) -> None:
        self.rt.recorder.event(
            obj, type=type, reason=reason, message=message, controller=self.name, metadata=metadata
        )
