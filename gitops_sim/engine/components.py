"""Flux's controllers as the Deployments that run them: each runs only while its Deployment is up.

In a real cluster a Flux controller is a process in a Pod of its Deployment (`flux-system/
source-controller`, ...). `Gate` gives the engine's controllers that life: a controller's work
queue runs only while some Deployment of its component (named after it and labelled
`app.kubernetes.io/part-of: flux`, in any namespace) has an available replica. When the last
available replica goes (scaled to zero, deleted, a Pod crash-looping or never ready), the queue
stops and forgets what it held, as a dead process does; when one is available again, the
controller "starts": every object of its kinds is queued, as its informers' first list does.

notification-controller's event server lives in the same process: events the other controllers
post while it is down are lost (fluxcd/pkg's recorder logs the failed POST and moves on).

Callers: `engine.simulation` (`observe` on every Deployment change, `is_up` for the event
server). It never touches the cluster or the clock; it only starts and stops queues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from gitops_sim.model import fluxinstall, objects, refs
from gitops_sim.timing import workqueue

Queue = workqueue.WorkQueue[refs.ObjectRef]


class Gate:
    def __init__(
        self,
        queues: Mapping[str, Sequence[Queue]],
        keys_of: Callable[[Queue], Iterable[refs.ObjectRef]],
        on_change: Callable[[str, bool], None],
    ) -> None:
        """`queues`: each component's controllers' queues; `keys_of(queue)`: the objects a
        starting controller lists; `on_change(component, up)` is told of every start and stop.
        Every component begins down: nothing runs until its Deployment has a ready Pod."""
        self._queues = queues
        self._keys_of = keys_of
        self._on_change = on_change
        self._available: dict[str, set[refs.ObjectRef]] = {c: set() for c in queues}
        for component_queues in queues.values():
            for queue in component_queues:
                queue.stop()

    def is_up(self, component: str) -> bool:
        return bool(self._available.get(component))

    def observe(self, ref: refs.ObjectRef, new: objects.RawObject | None) -> None:
        """A Deployment changed (`new` is None when it is gone): start or stop its component."""
        component = ref.name if new is None else fluxinstall.component_of(new)
        if component is None or component not in self._available:
            return
        available = self._available[component]
        was_up = bool(available)
        if new is not None and _has_available_replica(new):
            available.add(ref)
        else:
            available.discard(ref)
        if bool(available) == was_up:
            return
        for queue in self._queues[component]:
            if available:
                queue.start(sorted(self._keys_of(queue), key=str))
            else:
                queue.stop()
        self._on_change(component, bool(available))


def _has_available_replica(deployment: objects.RawObject) -> bool:
    if deployment["metadata"].get("deletionTimestamp"):
        return False
    return int((deployment.get("status") or {}).get("availableReplicas") or 0) > 0
