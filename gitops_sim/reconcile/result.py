"""fluxcd/pkg `runtime/reconcile`: the progressive status and the result finalizer.

What it does: the image controllers (image-reflector-controller's ImageRepository and
ImagePolicy, image-automation-controller's ImageUpdateAutomation) end every reconcile by handing
the reconcile's result and error to fluxcd/pkg's `ResultFinalizer`, which works out Ready,
Stalled and Reconciling from them, and mark progress with `ProgressiveStatus`. This module is
those two, over a raw object's conditions:

- `progressive_status(obj, drift, reason, message)`: Reconciling=True (Stalled removed, as
  `MarkReconciling` does) and, when `drift`, when there is no Ready, or when Ready is Unknown,
  Ready=Unknown with the same reason and message;
- `finalize(obj, result, error, is_success, ready_message)`: the finalizer's rules, in its order
  (as in fluxcd/pkg, a Ready that is absent counts as Unknown):
  an error removes Stalled; a result that is not a success (or a controller whose success means
  no requeue) turns a Stalled into Ready=False with Stalled's reason and message; a success or a
  Stalled removes Reconciling; an error turns a Ready that is Unknown or True into False
  `Failed` with the error; a success whose Ready is still False (and not stalled) becomes an
  error with Ready's message; Ready=Unknown on a success without Reconciling or Stalled becomes
  True `Succeeded` with `ready_message`; `lastHandledReconcileAt` is recorded. It returns the
  error the reconcile ends with (None for none);
- `observes_generation(obj)`: `AddPatchOptions`' rule, `observedGeneration` recorded when the
  object ends Ready or Stalled.

The caller decides what success is (`is_success(result, error)`), exactly as the Go callers pass
an `IsResultSuccess` function; the finalizer calls it as Go does (with the result and no error,
and with an empty result, to learn whether success means no requeue).

Provenance: behaviour of fluxcd/pkg runtime/reconcile/result.go (`ResultFinalizer.Finalize`,
`ProgressiveStatus`, `AddPatchOptions`, `determineSuccessType`) and runtime/conditions
(`MarkReconciling`, `MarkStalled`); our own code.

`FinalizedSummary` is the kernel summary of those controllers: the finalizer, a Reconciling left
after a failure marked `ProgressingWithRetry`, `observedGeneration` by `AddPatchOptions`' rule,
the one status patch, and image-reflector-controller's `notify` events (Normal when the object
became ready or its Ready message changed, Warning when it is not ready, and otherwise the
controller's trace event: fluxcd/pkg's recorder keeps a trace as a Normal Kubernetes event and
does not forward it to notification-controller). A controller with other rules (the
ImageUpdateAutomation's push events) gives its own `notify`.

Callers: the image controllers. The functions are pure over the object's status and never read
the clock (times come in as `now`); only `FinalizedSummary` patches and records events.

Differences, on purpose: `ResultFinalizer`'s `conditions` option (summarising Ready from other
conditions) is not offered; none of the image controllers passes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.model import conditions, objects
from gitops_sim.reconcile import base, kernel
from gitops_sim.timing import workqueue

FAILED = "Failed"
SUCCEEDED = "Succeeded"
PROGRESSING = "Progressing"
IN_PROGRESS = "reconciliation in progress"


@dataclass(frozen=True, slots=True)
class Result:
    """A reconcile's `ctrl.Result`: requeue after `requeue_after_ms` (0: not), or at once."""

    requeue_after_ms: int = 0
    requeue: bool = False

    @property
    def is_zero(self) -> bool:
        return not self.requeue_after_ms and not self.requeue


IsSuccess = Callable[[Result, str | None], bool]


def _is(obj: objects.RawObject, ctype: str, status: str) -> bool:
    cond = conditions.get(obj, ctype)
    return cond is not None and cond.get("status") == status


def is_unknown(obj: objects.RawObject, ctype: str) -> bool:
    """fluxcd/pkg `IsUnknown`: Unknown, or absent."""
    cond = conditions.get(obj, ctype)
    return cond is None or cond.get("status") == conditions.Status.UNKNOWN


def is_stalled(obj: objects.RawObject) -> bool:
    """`IsStalled`: Stalled=True and Reconciling not True."""
    return conditions.is_true(obj, conditions.STALLED) and not conditions.is_true(obj, conditions.RECONCILING)


def is_reconciling(obj: objects.RawObject) -> bool:
    """`IsReconciling`: Reconciling=True and Stalled not True."""
    return conditions.is_true(obj, conditions.RECONCILING) and not conditions.is_true(obj, conditions.STALLED)


def is_ready(obj: objects.RawObject) -> bool:
    """`IsReady`: neither stalled nor reconciling, and Ready=True."""
    return not is_stalled(obj) and not is_reconciling(obj) and conditions.is_true(obj, conditions.READY)


def progressive_status(obj: objects.RawObject, drift: bool, reason: str, message: str, *, now: str) -> None:
    """`ProgressiveStatus`: Reconciling=True (Stalled removed), and Ready=Unknown when `drift`,
    or when Ready is absent or already Unknown."""
    conditions.mark_reconciling(obj, reason, message, now=now)
    if drift or conditions.get(obj, conditions.READY) is None or _is(obj, conditions.READY, "Unknown"):
        conditions.mark_unknown(obj, conditions.READY, reason, message, now=now)


def begin(obj: objects.RawObject, before: dict[str, Any], generation: int, *, now: str) -> None:
    """How the image controllers open a reconcile: "reconciliation in progress", and for a new
    generation "processing object: new generation <observed> -> <generation>"."""
    progressive_status(obj, False, PROGRESSING, IN_PROGRESS, now=now)
    observed = int(before.get("observedGeneration") or 0)
    if generation != observed:
        message = f"processing object: new generation {observed} -> {generation}"
        progressive_status(obj, False, PROGRESSING, message, now=now)


def finalize(
    obj: objects.RawObject,
    result: Result,
    error: str | None,
    *,
    is_success: IsSuccess,
    ready_message: str,
    now: str,
) -> str | None:
    """`ResultFinalizer.Finalize`; returns the error the reconcile ends with."""
    no_requeue = is_success(Result(), None)
    success = is_success(result, error)
    if error is not None:
        conditions.delete(obj, conditions.STALLED)
    if not success or no_requeue:
        if not result.is_zero and not is_success(result, None):
            conditions.delete(obj, conditions.STALLED)
        overwrite_ready = is_unknown(obj, conditions.READY) or conditions.is_true(obj, conditions.READY)
        stalled = conditions.get(obj, conditions.STALLED)
        if stalled is not None and stalled.get("status") == "True" and overwrite_ready:
            reason, message = str(stalled.get("reason", "")), str(stalled.get("message", ""))
            conditions.mark_false(obj, conditions.READY, reason, message, now=now)
    if success or conditions.is_true(obj, conditions.STALLED):
        conditions.delete(obj, conditions.RECONCILING)
    if error is not None and (is_unknown(obj, conditions.READY) or conditions.is_true(obj, conditions.READY)):
        conditions.mark_false(obj, conditions.READY, FAILED, error, now=now)
    if (
        success
        and not no_requeue
        and not is_unknown(obj, conditions.READY)
        and _is(obj, conditions.READY, "False")
        and not is_stalled(obj)
    ):
        error = str((conditions.get(obj, conditions.READY) or {}).get("message", ""))
    if (
        is_unknown(obj, conditions.READY)
        and is_success(result, error)
        and not is_reconciling(obj)
        and not is_stalled(obj)
    ):
        conditions.mark_true(obj, conditions.READY, SUCCEEDED, ready_message, now=now)
    requested = objects.annotations_of(obj).get("reconcile.fluxcd.io/requestedAt")
    if requested:
        obj.setdefault("status", {})["lastHandledReconcileAt"] = requested
    return error


def observes_generation(obj: objects.RawObject) -> bool:
    """`AddPatchOptions`: the patch records `observedGeneration` when the object is stalled or
    ready (`IsStalled`, `IsReady`)."""
    return is_stalled(obj) or is_ready(obj)


class Finalized(Protocol):
    """What a reconcile using the finalizer hands its summary (the kind's `Context.work`)."""

    result: Result
    """The result of a reconcile that got to its end."""
    next_ms: int
    """The requeue a success asks for (`nextScanTime`, `nextReconcileTime`)."""
    ready_message: str
    """Ready=True's message on a success."""
    trace_message: str
    """The trace event of a success that changed nothing ("tags did not change, next scan in
    1m0s"); none when empty."""


@dataclass(frozen=True, slots=True)
class FinalizedSummary:
    """The kernel summary of the controllers built on the result finalizer (see the module
    docstring). Success is "no error, and requeued after `next_ms`"; `notify`, when given,
    replaces image-reflector-controller's events."""

    notify: Callable[[kernel.Reconciler[Any, Any], kernel.Context[Any, Any]], None] | None = None

    def succeeded(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any]
    ) -> base.Result:
        work = ctx.work
        error = self._finish(reconciler, ctx, work.result, None)
        if error is not None:
            raise workqueue.RequeueError(error)
        return base.Result(requeue_after=work.result.requeue_after_ms or None)

    def failed(
        self, reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any], exc: kernel.StepError
    ) -> base.Result:
        error = None if isinstance(exc, kernel.Stalling) else exc.message
        if isinstance(exc, kernel.Waiting):  # a requeue without an error (`RequeueAfter`)
            self._finish(reconciler, ctx, Result(requeue_after_ms=exc.retry_after_ms or 0), None)
            return base.Result(requeue_after=exc.retry_after_ms)
        error = self._finish(reconciler, ctx, Result(), error)
        if error is not None:
            raise workqueue.RequeueError(error) from exc
        return base.Result()

    def _finish(
        self,
        reconciler: kernel.Reconciler[Any, Any],
        ctx: kernel.Context[Any, Any],
        result: Result,
        error: str | None,
    ) -> str | None:
        work: Finalized = ctx.work
        next_ms = work.next_ms

        def is_success(res: Result, err: str | None) -> bool:
            return err is None and res.requeue_after_ms == next_ms and not res.requeue

        error = finalize(
            ctx.obj, result, error, is_success=is_success, ready_message=work.ready_message, now=ctx.now
        )
        reconciling = conditions.get(ctx.obj, conditions.RECONCILING)
        if reconciling is not None and is_reconciling(ctx.obj):
            reconciling["reason"] = conditions.Reason.PROGRESSING_WITH_RETRY
        if observes_generation(ctx.obj):
            ctx.status["observedGeneration"] = ctx.generation
        ctx.patch_status()
        (self.notify or self._notify)(reconciler, ctx)
        return error

    @staticmethod
    def _notify(reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any]) -> None:
        old: objects.RawObject = {"status": ctx.before}
        new = ctx.obj
        ready = conditions.get(new, conditions.READY) or {}
        old_ready = conditions.get(old, conditions.READY) or {}
        was, now_ready = is_ready(old), is_ready(new)
        reason, message = str(ready.get("reason", "")), str(ready.get("message", ""))
        if (was and now_ready and old_ready.get("message") != message) or (not was and now_ready):
            reconciler.event(new, base.EventType.NORMAL, reason, message)
        elif not now_ready:
            reconciler.event(new, base.EventType.WARNING, reason, message)
        elif ctx.work.trace_message:
            reconciler.event(new, base.EventType.TRACE, SUCCEEDED, ctx.work.trace_message)
