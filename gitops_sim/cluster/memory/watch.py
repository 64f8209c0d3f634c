"""Watches on the in-memory store: the event history, filters, replay, bookmarks and 410 Gone.

The store publishes every committed change here, in commit order, with the object before and
after. The hub keeps a bounded history (the analogue of etcd's compaction window) so a watch can
start from a resourceVersion: events after it are replayed in order, then live ones follow. A
watch from a version older than the history gets 410 Expired (`too old resource version: N (M)`);
from a version newer than the store's, the server's "Too large resource version" timeout.

Filters follow the apiserver's watch cache: a watch sees an object while it matches its kind,
namespace, label and field selectors; an object that starts matching arrives as ADDED, one that
stops matching leaves as DELETED. Watches with no resourceVersion (or "0") and watch-list
(`send_initial_events`) start with synthetic ADDED events for what exists; watch-list then sends
the BOOKMARK annotated `k8s.io/initial-events-end: "true"`.

Callers: `cluster.memory.store` only. Events are delivered synchronously, on the writer's call
stack, and must never be reordered.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import backend, errors, selectors
from gitops_sim.model import objects, refs

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


class TooLargeResourceVersion(errors.ApiError):
    code = 504
    reason = "Timeout"


@dataclass(frozen=True, slots=True)
class Filter:
    kind: refs.GroupKind | None = None
    namespace: str | None = None
    labels: selectors.LabelSelector = ()
    fields: selectors.FieldSelector = ()
    getters: Mapping[str, selectors.Getter] | None = None

    def matches(self, ref: refs.ObjectRef, obj: objects.RawObject) -> bool:
        if self.kind is not None and ref.group_kind != self.kind:
            return False
        if self.namespace is not None and ref.namespace != self.namespace:
            return False
        if self.labels and not selectors.labels_match(self.labels, obj):
            return False
        return not self.fields or selectors.fields_match(self.fields, obj, self.getters or {})


_EVERYTHING = Filter()


@dataclass(frozen=True, slots=True)
class Change:
    rv: int
    type: backend.EventType
    ref: refs.ObjectRef
    obj: objects.RawObject
    old: objects.RawObject | None
    event: backend.WatchEvent  # the event as unfiltered watchers see it, built once


class Subscription:
    """One watcher. Calling it (or `stop()`) ends the watch."""

    def __init__(self, hub: Hub, callback: backend.WatchCallback, filt: Filter, bookmarks: bool) -> None:
        self._hub = hub
        self._callback = callback
        self.filter = filt
        self.everything = filt == _EVERYTHING
        self.bookmarks = bookmarks
        self.active = True

    def __call__(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.active:
            self.active = False
            self._hub.unsubscribe(self)

    def bookmark(self, *, initial_events_end: bool = False) -> None:
        """Send a BOOKMARK carrying the current resourceVersion, if this watch asked for them."""
        if not (self.bookmarks and self.active):
            return
        kind = self.filter.kind
        meta: dict[str, Any] = {"resourceVersion": str(self._hub.rv)}
        if initial_events_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        api_version = self._hub.api_version(kind) if kind else "v1"
        self._callback(
            backend.WatchEvent(
                "BOOKMARK", {"kind": kind.kind if kind else "", "apiVersion": api_version, "metadata": meta}
            )
        )

    def offer(self, change: Change) -> None:
        """Deliver `change` as this watcher should see it (or not at all)."""
        if self.everything:
            self._callback(change.event)
            return
        filt = self.filter
        if filt.kind is not None and change.ref.group_kind != filt.kind:
            return
        now = filt.matches(change.ref, change.obj)
        if change.type == "MODIFIED":
            before = change.old is not None and filt.matches(change.ref, change.old)
            etype: backend.EventType | None = (
                "MODIFIED" if before and now else "ADDED" if now else "DELETED" if before else None
            )
        else:
            etype = change.type if now else None
        if etype == change.type:
            self._callback(change.event)
        elif etype is not None:
            self._callback(backend.WatchEvent(etype, change.obj))


class Hub:
    def __init__(self, history: int, api_version: Callable[[refs.GroupKind], str]) -> None:
        self._log: collections.deque[Change] = collections.deque(maxlen=history)
        self._subs: tuple[Subscription, ...] = ()
        self.rv = 0
        self.api_version = api_version
        self._compacted = 0  # changes at or below this revision are gone from the history

    def publish(self, change: Change) -> None:
        self.rv = change.rv
        if len(self._log) == self._log.maxlen and self._log:
            self._compacted = self._log[0].rv
        self._log.append(change)
        for sub in self._subs:  # a tuple, replaced (never changed) when watches come and go
            if sub.active:
                sub.offer(change)

    def restart_at(self, rv: int) -> None:
        """Continue from revision `rv` with no history (a store restored from a saved state)."""
        self.rv = rv
        self.compact()

    def compact(self) -> None:
        """Forget the history, as etcd compaction does: older resourceVersions now get 410."""
        self._log.clear()
        self._compacted = self.rv

    def subscribe(
        self,
        callback: backend.WatchCallback,
        filt: Filter,
        *,
        resource_version: str | None,
        current: Callable[[], Iterable[tuple[refs.ObjectRef, objects.RawObject]]],
        send_initial_events: bool,
        bookmarks: bool,
    ) -> Subscription:
        sub = Subscription(self, callback, filt, bookmarks)
        replay_from: int | None = None
        if resource_version not in (None, "", "0"):
            try:
                replay_from = int(str(resource_version))
            except ValueError as exc:
                raise errors.BadRequest(f"invalid resource version: {resource_version!r}") from exc
            if replay_from > self.rv:
                raise TooLargeResourceVersion(
                    f"Too large resource version: {replay_from}, current: {self.rv}",
                    details={
                        "causes": [
                            {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
                        ],
                        "retryAfterSeconds": 1,
                    },
                )
            if replay_from < self._compacted:
                raise errors.Gone(f"too old resource version: {replay_from} ({self._compacted + 1})")
        if replay_from is None or send_initial_events:
            for ref, obj in current():
                if filt.matches(ref, obj):
                    callback(backend.WatchEvent("ADDED", obj))
            if send_initial_events:
                sub.bookmark(initial_events_end=True)
        else:
            for change in list(self._log):
                if change.rv > replay_from:
                    sub.offer(change)
        self._subs = (*self._subs, sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs = tuple(s for s in self._subs if s is not sub)
