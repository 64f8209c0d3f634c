"""Kubernetes Event recording, as client-go's EventRecorder does it for the Flux controllers.

Each call writes a core/v1 Event into the involved object's namespace (name
``<object>.<hex unix nanos>``, source and reportingComponent = the controller), aggregating a
repeat of the same reason, message and type into `count` and `lastTimestamp` the way the event
correlator does, and appends an `event` record to the trace. Flux's event metadata (keys already
prefixed with the controller's API group, e.g. `kustomize.toolkit.fluxcd.io/revision`) becomes the
Event's annotations, as Flux's recorder does.

Each event that is not a trace is also handed, as Flux's event payload
(`notification.event.Event`: severity `info` or `error`, the metadata, the reporting controller),
to every sink added with `forward_to` (notification-controller's event server), as fluxcd/pkg's
recorder posts it; a trace (`EventType.TRACE`) is written as a Normal Event and goes nowhere else.

Callers: controllers, through the `reconcile.base.EventRecorder` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitops_sim.cluster import backend, errors
from gitops_sim.engine import trace as traces
from gitops_sim.model import duration, objects, refs
from gitops_sim.notification import event as notification
from gitops_sim.reconcile import base
from gitops_sim.timing import clock as clocks


class Recorder:
    def __init__(self, cluster: backend.Cluster, clock: clocks.Clock, trace: traces.Trace) -> None:
        self._cluster = cluster
        self._clock = clock
        self._trace = trace
        self._seq = 0
        self._seen: dict[tuple[str, str, str, str, str], tuple[str, int]] = {}  # key -> (name, count)
        self._calendar: Callable[[], int] | None = None
        self._sinks: list[Callable[[notification.Event], None]] = []

    def save_state(self) -> tuple[int, dict[tuple[str, str, str, str, str], tuple[str, int]]]:
        """What names and counts the next Events (a pre-installed Flux's restore)."""
        return self._seq, dict(self._seen)

    def load_state(self, state: tuple[int, dict[tuple[str, str, str, str, str], tuple[str, int]]]) -> None:
        self._seq, seen = state
        self._seen = dict(seen)

    def record(self, kind: str, **fields: Any) -> None:
        """A trace record that is not an Event (what notification-controller delivered)."""
        self._trace.record(kind, **fields)

    def forward_to(self, sink: Callable[[notification.Event], None]) -> None:
        """Hand every event that is not a trace to `sink` too (see the module docstring)."""
        self._sinks.append(sink)

    def stamp_with(self, calendar: Callable[[], int]) -> None:
        """Stamp Events with `calendar()` (Unix ms) instead of the simulation's calendar: a
        simulation served faster than real time stamps them with the real time they were
        recorded at, as a real recorder does with its own clock (see `WallClock.calendar_ms`)."""
        self._calendar = calendar

    def calendar_ms(self) -> int:
        """The time events are stamped with now (Unix ms): `stamp_with`'s, else the simulation's."""
        return self._calendar() if self._calendar is not None else self._clock.epoch_ms + self._clock.now()

    def event(
        self,
        obj: objects.RawObject,
        *,
        type: base.EventType,
        reason: str,
        message: str,
        controller: str,
        metadata: dict[str, str] | None = None,
    ) -> None:
        ref = objects.ref_of(obj)
        meta = obj.get("metadata", {})
        namespace = ref.namespace or "default"
        kube_type = base.EventType.NORMAL if type == base.EventType.TRACE else type
        self._trace.record(
            "event",
            controller=controller,
            object=str(ref),
            type=str(kube_type),
            reason=reason,
            message=message,
        )
        epoch = self._clock.epoch_ms + self._clock.now()
        stamp = duration.rfc3339(self.calendar_ms())
        if type != base.EventType.TRACE and self._sinks:
            posted = notification.Event(
                involved_object=notification.ObjectReference(
                    kind=ref.kind,
                    namespace=ref.namespace,
                    name=ref.name,
                    api_version=str(obj.get("apiVersion", "")),
                    uid=str(meta.get("uid", "")),
                    resource_version=str(meta.get("resourceVersion", "")),
                ),
                severity=notification.ERROR if type == base.EventType.WARNING else notification.INFO,
                timestamp=duration.rfc3339(epoch),
                message=message,
                reason=reason,
                reporting_controller=controller,
                metadata=dict(metadata or {}),
                reporting_instance=f"{controller}-sim",
            )
            for sink in self._sinks:
                sink(posted)
        type = kube_type
        key = (str(meta.get("uid", "")), reason, message, str(type), controller)
        existing = self._seen.get(key)
        if existing is not None:
            # As client-go's correlator: a PATCH of the count it keeps, no read first.
            name, count = existing
            try:
                self._cluster.merge_patch(
                    refs.ObjectRef("", "Event", namespace, name),
                    {"count": count + 1, "lastTimestamp": stamp},
                    field_manager=controller,
                    shared=True,
                )
                self._seen[key] = (name, count + 1)
                return
            except errors.NotFound:
                pass
        self._seq += 1
        name = f"{ref.name}.{epoch * 1_000_000 + self._seq:x}"
        annotations = dict(sorted((metadata or {}).items()))
        event: objects.RawObject = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": name,
                "namespace": namespace,
                **({"annotations": annotations} if annotations else {}),
            },
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": ref.kind,
                "namespace": ref.namespace,
                "name": ref.name,
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": str(type),
            "source": {"component": controller},
            "reportingComponent": controller,
            "reportingInstance": f"{controller}-sim",
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self._cluster.create(event, field_manager=controller, shared=True)
        except errors.ApiError:
            return  # as client-go: a failed event write is dropped, never fails the reconcile
        self._seen[key] = (name, 1)


_: type[base.EventRecorder] = Recorder
