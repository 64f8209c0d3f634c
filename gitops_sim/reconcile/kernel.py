"""The reconcile kernel: a Flux kind declared as data, run as source-controller runs its kinds.

Provenance: source-controller `internal/controller/gitrepository_controller.go` (`Reconcile`: the
preamble, a declared list of `reconcileFunc`s run in order, and a deferred `summarizeAndPatch`
that alone writes Ready, patches the status and notifies), fluxcd/pkg `runtime/conditions`
(summarising Ready from a conditions table with negative polarity) and source-controller
`internal/error` (`serror`: Generic, Waiting, Stalling). Our own code.

A kind declares (`Kind`): its GVK and typed spec (`fluxapi`), the controller it belongs to, its
ordered steps, what its finalizer cleans up, its interval, and its summary. The kernel:

1. runs Flux's preamble (`base.begin`: finalizer, `reconcile.fluxcd.io/requestedAt`, suspend);
2. parses the spec once into the typed value (`Context.spec`);
3. runs the steps in order; a step reads the context, records conditions and observed status
   fields, hands its findings on in `Context.work`, and either returns or raises one of the step
   errors below (or `Park`, or `Complete` to end early with a success);
4. ends with the kind's summary (`Summary`), which alone writes Ready, patches the status (once)
   and sends the end-of-reconcile event, and gives the work queue its result through the table
   in `timing.workqueue`. `ArtifactSummary` is source-controller's (Ready from a conditions table
   with negative polarity, backoff on failure); `applier.AppliedSummary` is kustomize-
   controller's (Ready "Applied revision", history, retryInterval).

A step that must wait inside the reconcile, as Flux blocks on a health check, raises `Park`: the
kernel requeues without a summary, keeps `Context.work`, and the next reconcile resumes with the
parked step. `Context.checkpoint()` patches the status mid-reconcile where Flux's patch helper
does (before such a wait).

Step errors (Flux's serror), each summary saying what they mean for its kind:
- `StepError` (`serror.Generic`): a failure a retry may fix (backoff, or retryInterval).
- `Waiting`: a dependency is not ready yet; retried after `retry_after_ms`, no Warning event.
- `Stalling`: a retry cannot fix it (an invalid URL, a CEL expression that does not parse):
  Stalled=True, no retry.

Steps may still mark progress (Reconciling, Ready=Unknown "Progressing"), as Flux's
`ProgressiveStatus` does inside its reconcile functions; the final Ready is the summary's.

Per-object state that must survive between reconciles (the kind's own type, `Kind.new_state`)
lives in `Reconciler.states`, keyed by the object; the kernel drops it when the preamble ends a
reconcile (the object gone, deleted or suspended). Parked reconciles are kept apart
(`Reconciler.parked`).

Callers: the Flux controllers (each declares its kinds) and the engine (through the `Reconciler`
protocol). Never imports a controller, a workload, a source or a cluster backend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from gitops_sim.cluster import errors
from gitops_sim.model import conditions, flux, objects, refs
from gitops_sim.reconcile import base
from gitops_sim.timing import workqueue

S = TypeVar("S")
St = TypeVar("St")


class StepError(workqueue.RequeueError):
    """A failed step (`serror.Generic`): `condition` (the table's `failure` when None) and Ready
    say `reason` and `message`. `warn`: whether a Warning event is sent (Flux keeps quiet for a
    few, such as a source without an artifact yet). `retry_after_ms`: when to retry, where the
    kind's summary lets the error say (kustomize-controller's retry sooner than retryInterval)."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        condition: str | None = None,
        warn: bool = True,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.condition = condition
        self.warn = warn
        self.retry_after_ms = retry_after_ms


class Waiting(StepError):
    """A dependency is not ready (`serror.Waiting`): retried after `retry_after_ms`, no Warning;
    `note`, when given, is sent as a Normal event (kustomize-controller's "Dependencies do not
    meet ready condition, retrying in 30s")."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        retry_after_ms: int,
        condition: str | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__(reason, message, condition=condition, warn=False, retry_after_ms=retry_after_ms)
        self.note = note


class Stalling(StepError):
    """A failure a retry cannot fix (`serror.Stalling`): Stalled=True and no retry."""


class Stalled(workqueue.TerminalError):
    """What the kernel raises to the work queue for a `Stalling` error: forget the key."""


class Complete(Exception):
    """The reconcile is done before its last step (Flux's early `return` with a success, such as
    an automation that finds nothing new): the remaining steps do not run and the summary sees a
    success."""


class Park(Exception):
    """Flux would block inside this reconcile (a health check polling every 5s): the kernel
    returns `Result(requeue_after=after_ms)` without a summary, keeps the reconcile's `work`, and
    the next reconcile of the object resumes with `resume` instead of starting over (unless the
    object is gone or being deleted). A step that parks has checkpointed what Flux had patched."""

    def __init__(self, after_ms: int, resume: Step[Any, Any]) -> None:
        super().__init__(f"parked for {after_ms}ms")
        self.after_ms = after_ms
        self.resume = resume


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
class Context(Generic[S, St]):
    """One reconcile of one object: what the steps read and leave for the summary."""

    rt: base.Runtime
    obj: objects.RawObject
    spec: S
    before: dict[str, Any]
    """The status as read, for the one status patch."""
    now: str
    state: St
    """This object's state that survives between reconciles (the kind's type; the kernel keeps it)."""
    controller: str = ""
    """The controller reconciling (events are recorded as it; status is written as its field owner)."""
    work: Any = None
    """What this reconcile's steps hand on to each other and to the summary (the kind's type);
    kept across a `Park`."""
    announcement: Announcement | None = None
    again: bool = False
    """Something asked for the object while its reconcile was parked: run it again at once."""

    def checkpoint(self) -> None:
        """Patch the status now, as Flux's patch helper does before a long wait, and carry on from
        what was written."""
        self.patch_status()
        self.before = objects.deep_copy(self.obj.get("status") or {})

    def patch_status(self) -> None:
        """The status patch (only the kernel and its summaries call it)."""
        base.patch_status(self.rt, self.obj, flux.field_owner(self.controller), self.before)

    @property
    def status(self) -> dict[str, Any]:
        return base.status(self.obj)

    @property
    def generation(self) -> int:
        return int(self.obj["metadata"].get("generation", 0))


Step = Callable[[Context[S, St]], None]


class Summary(Protocol):
    """How a kind's reconcile ends (each Flux controller family has its own way): what Ready
    says, the one status patch, the end-of-reconcile event, and the work queue's result."""

    def succeeded(self, reconciler: Reconciler[Any, Any], ctx: Context[Any, Any]) -> base.Result: ...

    def failed(
        self, reconciler: Reconciler[Any, Any], ctx: Context[Any, Any], exc: StepError
    ) -> base.Result: ...


@dataclass(frozen=True, slots=True)
class ArtifactSummary:
    """source-controller's `summarizeAndPatch` and `notify`.

    Success: every negative condition goes, Ready=True copies the table's `ready_from`
    condition, Reconciling and Stalled go, `observedGeneration` is recorded, the status is
    patched, and the announcement is sent when it is new (or as `Succeeded` after a failure);
    requeue after the interval. Failure: the error's condition and Ready=False, Reconciling
    `ProgressingWithRetry` (or Stalled=True with `observedGeneration` for a `Stalling`), the
    patch, a Warning event unless the error is `Waiting`, and the work queue's backoff (a
    `Waiting` retries after its delay, a `Stalling` is never retried).
    """

    table: ConditionsTable

    def succeeded(self, reconciler: Reconciler[Any, Any], ctx: Context[Any, Any]) -> base.Result:
        obj, now, table = ctx.obj, ctx.now, self.table
        for negative in table.negative:
            conditions.delete(obj, negative)
        source = conditions.get(obj, table.ready_from)
        assert source is not None, f"a successful reconcile leaves {table.ready_from} set"
        conditions.mark_true(obj, conditions.READY, source["reason"], source["message"], now=now)
        conditions.delete(obj, conditions.RECONCILING)
        conditions.delete(obj, conditions.STALLED)
        ctx.status["observedGeneration"] = ctx.generation
        ctx.patch_status()
        recovered = any(c.get("type") in table.negative for c in ctx.before.get("conditions") or [])
        told = ctx.announcement
        if told is not None and told.new:
            reconciler.event(obj, base.EventType.NORMAL, told.reason, told.message, told.metadata)
        elif told is not None and recovered:
            reason = conditions.Reason.SUCCEEDED
            reconciler.event(obj, base.EventType.NORMAL, reason, told.message, told.metadata)
        return base.Result(requeue_after=reconciler.kind.interval_ms(ctx.spec))

    def failed(self, reconciler: Reconciler[Any, Any], ctx: Context[Any, Any], exc: StepError) -> base.Result:
        obj, now = ctx.obj, ctx.now
        condition = exc.condition or self.table.failure
        conditions.mark_true(obj, condition, exc.reason, exc.message, now=now)
        conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
        stalling = isinstance(exc, Stalling)
        if stalling:
            conditions.mark_true(obj, conditions.STALLED, exc.reason, exc.message, now=now)
            conditions.delete(obj, conditions.RECONCILING)
            ctx.status["observedGeneration"] = ctx.generation
        else:
            conditions.mark_retrying(obj, now=now)
        ctx.patch_status()
        if isinstance(exc, Waiting):
            return base.Result(requeue_after=exc.retry_after_ms)
        reconciler.event(obj, base.EventType.WARNING, exc.reason, exc.message, None)
        if stalling:
            raise Stalled(exc.message) from exc
        raise exc


@dataclass(frozen=True, slots=True)
class Kind(Generic[S, St]):
    """A Flux kind as the kernel runs it.

    `steps` run in order; `finalize(rt, obj, state)` cleans up when the object is deleted (unless
    suspended); `interval_ms(spec)` is the requeue after a success; `summary` ends every
    reconcile (`ArtifactSummary` for source-controller's kinds, `applier.AppliedSummary` for
    the appliers); `static(obj)`, when given, says the controller leaves the object static (no
    finalizer, no status: a HelmRepository of type oci), and the kernel then undoes what an
    earlier reconcile left (Flux's migrationToStatic), calling `finalize`.
    """

    gvk: refs.GVK
    spec_type: type[S]
    controller: str
    steps: tuple[Step[S, St], ...]
    interval_ms: Callable[[S], int]
    finalize: Callable[[base.Runtime, objects.RawObject, St], None]
    summary: Summary
    new_state: Callable[[], St]
    static: Callable[[objects.RawObject], bool] | None = None


@dataclass(slots=True)
class Reconciler(Generic[S, St]):
    """A kind's reconciler: the engine's `base.Reconciler`, run by the kernel."""

    rt: base.Runtime
    kind: Kind[S, St]
    watched: tuple[base.Watch, ...] = ()
    """Changes to other kinds that enqueue objects of this kind."""
    states: dict[refs.ObjectRef, St] = field(default_factory=dict)
    parked: dict[refs.ObjectRef, tuple[Step[S, St], Any]] = field(default_factory=dict)
    """Reconciles waiting inside themselves: the step to resume with, and their `work`."""
    specs: dict[refs.ObjectRef, tuple[int, S]] = field(default_factory=dict)
    """The typed spec of each object's generation: a spec changes only with its generation, so
    it is parsed once per generation, not once per reconcile."""

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
        parked = self.parked.get(ref)
        if parked is not None:
            resumed = self._resume(ref, parked)
            if resumed is not None:
                return resumed
        try:
            obj, before = base.begin(
                self.rt, ref, self.name, lambda o: self.kind.finalize(self.rt, o, self._state(ref))
            )
        except base.Done as done:
            self.states.pop(ref, None)
            self.specs.pop(ref, None)
            return done.result
        return self._run(self._context(ref, obj, before), self.kind.steps)

    def _resume(self, ref: refs.ObjectRef, parked: tuple[Step[S, St], Any]) -> base.Result | None:
        """Go on with a parked reconcile (even if the object was suspended meanwhile, as Flux's
        blocked reconcile would), unless the object is gone or being deleted."""
        try:
            live: objects.RawObject | None = self.rt.cluster.get(ref)
        except errors.NotFound:
            live = None
        if live is None or live["metadata"].get("deletionTimestamp"):
            self.parked.pop(ref, None)
            return None
        resume, work = parked
        ctx = self._context(ref, live, objects.deep_copy(live.get("status") or {}))
        ctx.work = work
        return self._run(ctx, (resume,))

    def _state(self, ref: refs.ObjectRef) -> St:
        if ref not in self.states:
            self.states[ref] = self.kind.new_state()
        return self.states[ref]

    def _context(self, ref: refs.ObjectRef, obj: objects.RawObject, before: dict[str, Any]) -> Context[S, St]:
        generation = int(obj["metadata"].get("generation", 0))
        known = self.specs.get(ref)
        if known is not None and known[0] == generation and generation:
            spec = known[1]
        else:
            spec = base.typed_spec(obj, self.kind.spec_type)
            self.specs[ref] = (generation, spec)
        return Context(self.rt, obj, spec, before, self.rt.now(), self._state(ref), self.name)

    def _run(self, ctx: Context[S, St], steps: tuple[Step[S, St], ...]) -> base.Result:
        ref = objects.ref_of(ctx.obj)
        self.parked.pop(ref, None)
        try:
            for step in steps:
                step(ctx)
        except Park as park:
            self.parked[ref] = (park.resume, ctx.work)
            return base.Result(requeue_after=park.after_ms, parked=True)
        except StepError as exc:
            result = self.kind.summary.failed(self, ctx, exc)
        except Complete:
            result = self.kind.summary.succeeded(self, ctx)
        else:
            result = self.kind.summary.succeeded(self, ctx)
        if ctx.again:
            return base.Result(requeue_after=result.requeue_after, again=True)
        return result

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
            self.kind.finalize(self.rt, obj, self._state(ref))
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

    def event(
        self,
        obj: objects.RawObject,
        type: base.EventType,
        reason: str,
        message: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Record an event about `obj` as this kind's controller."""
        self.rt.recorder.event(
            obj, type=type, reason=reason, message=message, controller=self.name, metadata=metadata
        )
