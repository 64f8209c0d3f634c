"""What every Flux reconciler here shares: the contract with the engine and Flux's preamble.

A reconciler owns one kind. The engine calls `reconcile(ref)` from the kind's work queue and reads
the outcome through the table in `timing.workqueue`; `watches()` declares which changes to other
kinds enqueue which of its objects (cf. kustomize-controller's `SetupWithManager`).

`begin` is the preamble every Flux controller runs before its own steps: fetch the object (gone:
nothing to do), run the finalizer when it is being deleted, add the `finalizers.fluxcd.io`
finalizer and requeue, record `status.lastHandledReconcileAt` from the
`reconcile.fluxcd.io/requestedAt` annotation, and stop early when `spec.suspend` is true (no
condition changes, no events). The finalizer and status are written under the controller's
field owner, `flux.field_owner` (kustomize-controller: `gotk-kustomize-controller`, as fluxcd/pkg
`runtime/patch` writes them with `WithFieldOwner(statusManager)`).

A write of the controller's own object that the API server refuses (a status the schema
rejects, a finalizer update refused) raises `StatusRefused`, a `RequeueError`: that reconcile's
error, retried with the queue's backoff, as controller-runtime does with the patch helper's
error (`reconcileHandler`: log, `AddRateLimited`). It is never an unexpected exception.

`record_unexpected` is what the engine does when a reconcile raises something that is not a
`RequeueError` (a bug, or an input nobody foresaw): the work queue backs the key off, and the
failure is made visible on the object. controller-runtime recovers such a panic (`RecoverPanic`,
`pkg/internal/controller/controller.go`), logs it and requeues with backoff; the object's
status is whatever the reconcile had patched before it panicked. Differences, on purpose: a
log line is easy to miss in a simulation, so a Flux object gets Ready=False with reason
`ReconciliationFailed` and a message naming the exception (type and text, never a traceback),
and a Warning event (any object: workloads too) records it on the timeline.

Callers: the kernel (`reconcile.kernel`), the Flux controllers, the simulated workload
controllers and the engine. This module must never import a cluster backend, a controller or a
workload.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

from gitops_sim.cluster import backend, errors
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.timing import clock as clocks
from gitops_sim.timing import workqueue

T = TypeVar("T")

Result = workqueue.Result


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"
    TRACE = "Trace"
    """fluxcd/pkg's trace event: kept as a Normal Kubernetes event, never posted to
    notification-controller."""


class EventRecorder(Protocol):
    def event(
        self,
        obj: objects.RawObject,
        *,
        type: EventType,
        reason: str,
        message: str,
        controller: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        """Record a Kubernetes Event about `obj` as `controller` would."""

    def record(self, kind: str, **fields: Any) -> None:
        """Put a record that is not a Kubernetes Event on the run's trace (a notification sent)."""


# Maps a change to another object (old, new; either may be None) to the objects to reconcile.
Mapper = Callable[[objects.RawObject | None, objects.RawObject | None], list[refs.ObjectRef]]


@dataclass(frozen=True, slots=True)
class Watch:
    kind: refs.GroupKind
    mapper: Mapper


def on_new_revision(
    cluster: backend.Cluster,
    kind: refs.GroupKind,
    refers: Callable[[objects.RawObject, refs.ObjectRef], bool],
) -> Mapper:
    """A mapper for sources: when an object's `status.artifact.revision` changes, the objects of
    `kind` that refer to it (`refers(candidate, changed)`), as Flux's indexers find them."""

    def mapper(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
        if new is None:
            return []
        before = ((old or {}).get("status") or {}).get("artifact") or {}
        after = (new.get("status") or {}).get("artifact") or {}
        if not after or before.get("revision") == after.get("revision"):
            return []
        changed = objects.ref_of(new)
        return [objects.ref_of(o) for o in cluster.read_list(kind) if refers(o, changed)]

    return mapper


class Reconciler(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def gvk(self) -> refs.GVK: ...

    def reconcile(self, ref: refs.ObjectRef) -> Result: ...

    def watches(self) -> list[Watch]: ...


@runtime_checkable
class Stateful(Protocol):
    """A reconciler that remembers something between reconciles besides the API (the kubelet's
    Pods in progress): the engine saves and restores it with the store (a pre-installed Flux)."""

    def save_state(self) -> object: ...

    def load_state(self, state: object) -> None: ...


@dataclass(slots=True)
class Runtime:
    """The services a reconciler may use: the API, time, events and the seeded RNG."""

    cluster: backend.Cluster
    clock: clocks.Clock
    recorder: EventRecorder
    rng: random.Random

    def now(self) -> str:
        return duration.rfc3339(self.clock.epoch_ms + self.clock.now())


class Done(Exception):
    """The preamble decided there is nothing (more) to do in this reconcile."""

    def __init__(self, result: Result) -> None:
        super().__init__()
        self.result = result


def begin(
    rt: Runtime, ref: refs.ObjectRef, controller: str, finalize: Callable[[objects.RawObject], None]
) -> tuple[objects.RawObject, dict[str, Any]]:
    """Flux's reconcile preamble; returns the live object and a copy of its status as read (for
    `patch_status`), or raises `Done` with the outcome."""
    try:
        obj = rt.cluster.get(ref)
    except errors.NotFound as exc:
        raise Done(Result()) from exc
    before = objects.deep_copy(obj.get("status") or {})
    meta = obj["metadata"]
    finalizers = list(meta.get("finalizers") or [])
    owner = flux.field_owner(controller)
    if meta.get("deletionTimestamp"):
        if flux.FINALIZER in finalizers:
            if not spec(obj).get("suspend"):
                finalize(obj)
            meta["finalizers"] = [f for f in finalizers if f != flux.FINALIZER]
            meta.pop("resourceVersion", None)
            _write(lambda: rt.cluster.update(obj, field_manager=owner), "remove the finalizer")
        raise Done(Result())
    if flux.FINALIZER not in finalizers:
        meta["finalizers"] = [*finalizers, flux.FINALIZER]
        _write(lambda: rt.cluster.update(_without_rv(obj), field_manager=owner), "add the finalizer")
        raise Done(Result(requeue=True))
    requested = objects.annotations_of(obj).get(flux.REQUESTED_AT_ANNOTATION)
    if requested:
        obj.setdefault("status", {})["lastHandledReconcileAt"] = requested
    if spec(obj).get("suspend"):
        patch_status(rt, obj, owner, before)
        raise Done(Result())
    return obj, before


def spec(obj: objects.RawObject) -> dict[str, Any]:
    value = obj.get("spec") or {}
    assert isinstance(value, dict)
    return value


def status(obj: objects.RawObject) -> dict[str, Any]:
    value = obj.setdefault("status", {})
    assert isinstance(value, dict)
    return value


class InvalidSpec(workqueue.TerminalError):
    """A field Flux's CRD schema refuses at apply time, met anyway (a cluster whose Flux CRDs are
    not Flux's, such as hand-installed open ones): the object is not reconciled, rather than the
    simulation stopping."""


def typed_spec(obj: objects.RawObject, kind: type[T]) -> T:
    """`obj`'s spec read as its Flux API type (`fluxapi.declare.parse`): what the API server
    stored, defaults filled in, so attribute access is checked by mypy. A spec that does not fit
    (only on a cluster whose Flux CRDs are not Flux's) is `InvalidSpec`."""
    try:
        return declare.parse(kind, obj.get("spec") or {}, "spec")
    except declare.ParseError as exc:
        raise InvalidSpec(f"{objects.ref_of(obj)}: {exc}") from exc


def interval_ms(obj: objects.RawObject, field: str = "interval", default: int | None = None) -> int:
    raw = spec(obj).get(field)
    if raw is None:
        if default is None:
            raise InvalidSpec(f"{objects.ref_of(obj)}: spec.{field} is required")
        return default
    try:
        return duration.parse(str(raw))
    except duration.DurationError as exc:
        raise InvalidSpec(f"{objects.ref_of(obj)}: spec.{field}: {exc}") from exc


def _without_rv(obj: objects.RawObject) -> objects.RawObject:
    obj["metadata"].pop("resourceVersion", None)
    return obj


def patch_status(
    rt: Runtime, obj: objects.RawObject, field_manager: str, before: dict[str, Any]
) -> objects.RawObject:
    """Write `obj.status` through the status subresource (no optimistic lock), unless it equals
    `before`: Flux's patch helper sends the difference, and sends nothing when there is none.
    Returns the object as written, to read only (it may be the API's own copy), or `obj`."""
    if (obj.get("status") or {}) == before:
        return obj
    # Shallow: the store copies what a status update keeps (the status) and only reads the rest.
    out = {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}
    try:
        return rt.cluster.update(out, field_manager=field_manager, subresource="status", shared=True)
    except errors.NotFound:
        return obj
    except errors.ApiError as exc:
        raise StatusRefused(f"failed to patch status: {exc.message}") from exc


class StatusRefused(workqueue.RequeueError):
    """The API server refused a write of this controller's own object (its status or finalizer):
    that reconcile's error, retried with the work queue's backoff, as controller-runtime does
    with the error the patch helper returns. Never the end of the run."""


def _write(call: Callable[[], objects.RawObject], doing: str) -> objects.RawObject:
    """A write of the controller's own object; a refusal is this reconcile's error."""
    try:
        return call()
    except errors.NotFound as exc:
        raise Done(Result()) from exc
    except errors.ApiError as exc:
        raise StatusRefused(f"failed to {doing}: {exc.message}") from exc


UNEXPECTED_REASON = conditions.Reason.RECONCILIATION_FAILED
_FLUX_GROUPS = ".toolkit.fluxcd.io"


def unexpected_message(exc: Exception) -> str:
    """How an unexpected exception reads on the object: its type and text, on one line."""
    text = " ".join(str(exc).split())
    if len(text) > 1_000:
        text = text[:1_000] + "…"
    named = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"reconcile failed with an unexpected error (a gitops-sim bug): {named}"


def record_unexpected(rt: Runtime, controller: str, ref: refs.ObjectRef, exc: Exception) -> None:
    """Make a reconcile's unexpected exception visible: Ready=False on a Flux object that still
    exists, and a Warning event on any object that still exists. Never raises: when the cluster
    cannot be read or written either, the work queue's backoff is all that happens."""
    message = unexpected_message(exc)
    with contextlib.suppress(Exception):
        obj = rt.cluster.get(ref)
        if ref.group.endswith(_FLUX_GROUPS):
            before = objects.deep_copy(obj.get("status") or {})
            now = rt.now()
            conditions.mark_false(obj, conditions.READY, UNEXPECTED_REASON, message, now=now)
            conditions.mark_retrying(obj, now=now)
            with contextlib.suppress(StatusRefused):
                obj = patch_status(rt, obj, flux.field_owner(controller), before)
        rt.recorder.event(
            obj, type=EventType.WARNING, reason=UNEXPECTED_REASON, message=message, controller=controller
        )
