"""The `Cluster` protocol: the only view of the Kubernetes API that controllers get.

Controllers, the apply layer and the scenario runner talk to a cluster only through this
protocol, so the same engine runs against the in-memory store (`cluster.memory.store.MemoryCluster`)
and against a real API server (`cluster.kube.KubeCluster`: our HTTP front, k3s, any kubeconfig).
Objects go in and come out as raw JSON-shaped dicts; every failure is a `cluster.errors.ApiError`.

Implementations must hand out copies from `get`, `list` and every write (a caller may mutate what
it got); only `read`, `read_list`, a write asked for a `shared` result and watch events may share
the server's own copy, and their callers treat those as read-only. Watch events are delivered
in commit order. This module declares the protocol and its values only: it must never import an
implementation.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from gitops_sim.cluster import kinds
from gitops_sim.model import objects, refs

EventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
Subresource = Literal["", "status"]
Propagation = Literal["Background", "Foreground", "Orphan"]
FieldValidation = Literal["Ignore", "Warn", "Strict"]


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: EventType
    object: objects.RawObject


WatchCallback = Callable[[WatchEvent], None]


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a LIST: items, the list's resourceVersion, and where the next page starts."""

    items: list[objects.RawObject]
    resource_version: str
    continue_token: str = ""
    remaining_item_count: int | None = None


class Cluster(Protocol):
    @property
    def in_process(self) -> bool:
        """Whether this cluster lives inside the simulation: its watch events are delivered inside
        the write that made them, on the writer's thread, and it runs no controllers of its own
        (the engine then runs the simulated workload controllers). False for a remote API server,
        which has its own controllers and whose events arrive on other threads."""

    def kind_info(self, gvk: refs.GVK) -> kinds.KindInfo:
        """What the server knows of `gvk`; raises `NoKindMatch` for unserved kinds."""

    def find_kind(self, gk: refs.GroupKind) -> kinds.KindInfo | None:
        """The served version of a group-kind, if any."""

    def kinds_named(self, kind: str) -> builtins.list[kinds.KindInfo]:
        """Every served kind called `kind` (in any group), in a stable order."""

    def get(self, ref: refs.ObjectRef) -> objects.RawObject: ...

    def read(self, ref: refs.ObjectRef) -> objects.RawObject:
        """`get` for a reader that will not change the result: it may be shared with the
        server's own copy (in memory it is, and no copy is made), as an informer cache is."""

    def list(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
    ) -> builtins.list[objects.RawObject]:
        """Every matching object, ordered by namespace and name. `labels` is a selector string
        (`app in (a,b),!canary`) or a map of required values; `fields` a field selector."""

    def read_list(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
    ) -> builtins.list[objects.RawObject]:
        """`list` for a reader that will not change the result, as `read` is `get`'s: the items
        may be the server's own copies (in memory they are, and no copy is made).

        For callers inside the engine that only look (a watch mapper picking the objects that
        refer to a changed one, a controller counting or matching what it selected). A caller
        must never change what this returns, nor keep it past the write it reads for: copy an
        item first (`objects.deep_copy`) to change or keep it."""

    def list_page(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> ListPage: ...

    # Writes return the object as written (as a dry run would write it). `shared=True`: the
    # caller only reads that result, or drops it, so it may be the server's own copy (in memory it
    # is, and no copy is made), with `read_list`'s rules: never change it, copy it to keep it.

    def create(
        self, obj: objects.RawObject, *, field_manager: str, dry_run: bool = False, shared: bool = False
    ) -> objects.RawObject: ...

    def update(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        subresource: Subresource = "",
        dry_run: bool = False,
        shared: bool = False,
    ) -> objects.RawObject: ...

    def apply(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        shared: bool = False,
    ) -> objects.RawObject:
        """Server-side apply (`application/apply-patch+yaml`)."""

    def json_patch(
        self,
        ref: refs.ObjectRef,
        ops: builtins.list[dict[str, Any]],
        *,
        field_manager: str,
        subresource: Subresource = "",
        dry_run: bool = False,
    ) -> objects.RawObject:
        """An RFC 6902 JSON patch (`application/json-patch+json`)."""

    def merge_patch(
        self,
        ref: refs.ObjectRef,
        patch: dict[str, Any],
        *,
        field_manager: str,
        subresource: Subresource = "",
        dry_run: bool = False,
        shared: bool = False,
    ) -> objects.RawObject:
        """An RFC 7386 JSON merge patch (`application/merge-patch+json`)."""

    def delete(
        self, ref: refs.ObjectRef, *, propagation: Propagation = "Background", dry_run: bool = False
    ) -> objects.RawObject | None:
        """Delete, or mark for deletion while finalizers remain (then the marked object is returned)."""

    def pod_log(
        self,
        ref: refs.ObjectRef,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
    ) -> str:
        """A Pod's container's log (`pods/{name}/log`), its last `tail_lines` lines of those of the
        last `since_seconds`; BadRequest when the container is not named and the Pod has several."""
        ...

    def watch(
        self,
        callback: WatchCallback,
        *,
        kind: refs.GroupKind | None = None,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        resource_version: str | None = None,
        send_initial_events: bool = False,
        bookmarks: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Watch changes; returns a function that stops the watch.

        With no `resource_version` (or "0") the watch starts with a synthetic ADDED event for every
        matching object; with one, it replays every change after it (410 Gone when that is older
        than the server's history). `kind=None` watches every kind (an in-process convenience).

        The event's object is shared with every other watcher (and, in memory, is the store's own
        snapshot): treat it as read-only, as client-go's shared informer caches are treated, and
        copy it before changing it.

        `on_close` is called once, from any thread, if the server ends the watch (a real
        apiserver does after its request timeout, or with an ERROR event such as 410 Gone); never
        after the returned stop function was called. In-memory watches never end on their own.
        """
