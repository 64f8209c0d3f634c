"""Informers for a cluster the engine reaches over the network (our HTTP front, k3s, a kubeconfig).

In memory, watch callbacks run inside the write that caused them, on the engine's own thread, and
the engine handles them there. Over the network they arrive later, on one reader thread per kind;
this module turns them back into something the engine can run deterministically enough:

- `start` LISTs each watched kind, hands every object to the handler as an addition (an
  informer's initial sync), and watches from the LIST's resourceVersion, with bookmarks;
- reader threads only put events into one inbox; `drain` hands them to the handler, on the
  engine's thread, in arrival order, and keeps a cache of the last state seen of each object;
- `sync` is the barrier the engine crosses before virtual time moves: it drains, then LISTs each
  kind and compares `{object: resourceVersion}` with the cache, waiting for the events in flight
  until both agree. If they still disagree after a grace period (a watch that died, an event that
  was compacted away) it does what client-go's reflector does on a relist: it hands the
  differences to the handler as changes, and watches again from the LIST;
- a watch the server ends (timeout, 410 Gone) is started again from the last resourceVersion seen,
  or from a fresh LIST when that fails.

`wait_established` and `refuse_if_flux_runs` prepare a remote cluster before its informers start.

Callers: `engine.simulation` only. Handlers run on the caller's thread, never on a reader thread.
This module never reads the clock; it waits only on the inbox, and at start for CRDs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from gitops_sim.cluster import backend, errors
from gitops_sim.model import objects, refs

Handler = Callable[[refs.ObjectRef, objects.RawObject | None, objects.RawObject | None], None]

GRACE_POLLS = 40
"""How many times `sync` waits `POLL_SECONDS` for events in flight before it relists."""
POLL_SECONDS = 0.05
ESTABLISH_POLLS = 600
"""How many times `wait_established` looks (`POLL_SECONDS` apart) for a new CRD to be served."""


class RemoteClusterError(Exception):
    """The remote cluster cannot host the simulation; the message says why and what to do."""


def wait_established(cluster: backend.Cluster, gvks: list[refs.GVK]) -> None:
    """Wait until the server serves each kind (a new CRD is served once it is Established)."""
    pause = threading.Event()
    for gvk in gvks:
        for _ in range(ESTABLISH_POLLS):
            try:
                cluster.kind_info(gvk)
                break
            except errors.NoKindMatch:
                pause.wait(POLL_SECONDS)
        else:
            raise RemoteClusterError(f"the server does not serve {gvk} although its CRD was created")


def refuse_if_flux_runs(cluster: backend.Cluster, namespace: str) -> None:
    """Two Flux installations reconciling the same objects would fight: refuse a cluster where
    Flux's own controllers are deployed."""
    deployments = cluster.list(
        refs.GroupKind("apps", "Deployment"), namespace=namespace, labels="app.kubernetes.io/part-of=flux"
    )
    if deployments:
        names = ", ".join(d["metadata"]["name"] for d in deployments)
        raise RemoteClusterError(
            f"Flux is installed in this cluster ({namespace}: {names}); gitops-sim runs its own "
            "controllers and would fight it: use a cluster without Flux (e.g. one made from k3d/)"
        )


@dataclass(slots=True)
class _Watched:
    kind: refs.GroupKind
    cache: dict[refs.ObjectRef, objects.RawObject]
    resource_version: str = ""
    generation: int = 0
    stop: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class _Item:
    kind: refs.GroupKind
    generation: int
    event: backend.WatchEvent | None  # None: the server ended this watch


class RemoteInformers:
    def __init__(self, cluster: backend.Cluster, kinds: list[refs.GroupKind], handler: Handler) -> None:
        self._cluster = cluster
        self._handler = handler
        self._watched = {kind: _Watched(kind, {}) for kind in kinds}
        self._inbox: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self.relists = 0
        """How many times a kind had to be relisted because its watch fell behind."""
        self.rewatches = 0
        """How many watches the server ended and were started again."""

    @property
    def kinds(self) -> list[refs.GroupKind]:
        return list(self._watched)

    def start(self) -> None:
        for watched in self._watched.values():
            self._relist(watched)

    def stop(self) -> None:
        for watched in self._watched.values():
            self._unwatch(watched)

    def drain(self) -> int:
        """Hand every event that has arrived to the handler; returns how many there were."""
        handled = 0
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return handled
            self._handle(item)
            handled += 1

    def sync(self) -> None:
        """Return once every watched kind's cache matches a LIST made after this call began."""
        for watched in self._watched.values():
            self._sync_kind(watched)

    # -- internals ---------------------------------------------------------------------------

    def _sync_kind(self, watched: _Watched) -> None:
        for attempt in range(GRACE_POLLS + 1):
            self.drain()
            page = self._cluster.list_page(watched.kind)
            live = {objects.ref_of(o): o for o in page.items}
            if _versions(live) == _versions(watched.cache):
                return
            if attempt == GRACE_POLLS:
                break
            try:
                item = self._inbox.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            self._handle(item)
        self.relists += 1
        self._replace(watched, live, page.resource_version)

    def _handle(self, item: _Item) -> None:
        watched = self._watched[item.kind]
        if item.generation != watched.generation:
            return  # from a watch that has since been replaced
        if item.event is None:
            self._rewatch(watched)
            return
        event = item.event
        rv = str(event.object.get("metadata", {}).get("resourceVersion", ""))
        if event.type == "BOOKMARK":
            watched.resource_version = rv
            return
        if event.type not in ("ADDED", "MODIFIED", "DELETED"):
            self._rewatch(watched)  # an ERROR event (e.g. 410 Gone) ends the watch
            return
        watched.resource_version = rv
        ref = objects.ref_of(event.object)
        old = watched.cache.get(ref)
        if event.type == "DELETED":
            if old is None:
                return
            del watched.cache[ref]
            self._handler(ref, old, None)
            return
        if old is not None and _rv(old) == rv:
            return  # already seen (a relist got there first)
        watched.cache[ref] = event.object
        self._handler(ref, old, event.object)

    def _replace(self, watched: _Watched, live: dict[refs.ObjectRef, objects.RawObject], rv: str) -> None:
        """Make the cache the LIST, telling the handler what changed, and watch from the LIST."""
        self._unwatch(watched)
        for ref in sorted(watched.cache.keys() - live.keys()):
            self._handler(ref, watched.cache.pop(ref), None)
        for ref in sorted(live):
            old = watched.cache.get(ref)
            if old is None or _rv(old) != _rv(live[ref]):
                watched.cache[ref] = live[ref]
                self._handler(ref, old, live[ref])
        self._watch(watched, rv)

    def _relist(self, watched: _Watched) -> None:
        page = self._cluster.list_page(watched.kind)
        self._replace(watched, {objects.ref_of(o): o for o in page.items}, page.resource_version)

    def _rewatch(self, watched: _Watched) -> None:
        self.rewatches += 1
        self._unwatch(watched)
        try:
            self._watch(watched, watched.resource_version)
        except errors.ApiError:
            self.relists += 1
            self._relist(watched)

    def _watch(self, watched: _Watched, resource_version: str) -> None:
        watched.generation += 1
        watched.resource_version = resource_version
        kind, generation, inbox = watched.kind, watched.generation, self._inbox
        watched.stop = self._cluster.watch(
            lambda event: inbox.put(_Item(kind, generation, event)),
            kind=kind,
            resource_version=resource_version,
            bookmarks=True,
            on_close=lambda: inbox.put(_Item(kind, generation, None)),
        )

    def _unwatch(self, watched: _Watched) -> None:
        if watched.stop is not None:
            stop, watched.stop = watched.stop, None
            watched.generation += 1  # whatever the old watch still delivers is ignored
            stop()


def _rv(obj: objects.RawObject) -> str:
    return str(obj.get("metadata", {}).get("resourceVersion", ""))


def _versions(objs: dict[refs.ObjectRef, objects.RawObject]) -> dict[refs.ObjectRef, str]:
    return {ref: _rv(obj) for ref, obj in objs.items()}
