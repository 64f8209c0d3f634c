"""The `Cluster` protocol: the only view of the Kubernetes API that controllers get.

Controllers, the apply layer and the scenario runner talk to a cluster only through this
protocol, so the same engine runs against the in-memory store (`cluster.memory`) and, later,
against a real API server. Objects go in and come out as raw JSON-shaped dicts; every failure is
a `cluster.errors.ApiError`.

Implementations must hand out copies from reads and writes (a caller may mutate what it got),
and deliver watch events in commit order.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from gitops_sim.cluster import kinds
from gitops_sim.model import objects, refs

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Subresource = Literal["", "status"]
Propagation = Literal["Background", "Foreground", "Orphan"]


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: EventType
    object: objects.RawObject


WatchCallback = Callable[[WatchEvent], None]


class Cluster(Protocol):
    def kind_info(self, gvk: refs.GVK) -> kinds.KindInfo:
        """What the server knows of `gvk`; raises `NoKindMatch` for unserved kinds."""

    def find_kind(self, gk: refs.GroupKind) -> kinds.KindInfo | None:
        """The served version of a group-kind, if any."""

    def kinds_named(self, kind: str) -> builtins.list[kinds.KindInfo]:
        """Every served kind called `kind` (in any group), in a stable order."""

    def get(self, ref: refs.ObjectRef) -> objects.RawObject: ...

    def list(
        self, gk: refs.GroupKind, *, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> builtins.list[objects.RawObject]: ...

    def create(self, obj: objects.RawObject, *, field_manager: str) -> objects.RawObject: ...

    def update(
        self, obj: objects.RawObject, *, field_manager: str, subresource: Subresource = ""
    ) -> objects.RawObject: ...

    def apply(
        self, obj: objects.RawObject, *, field_manager: str, force: bool = False, dry_run: bool = False
    ) -> objects.RawObject:
        """Server-side apply (`application/apply-patch+yaml`)."""

    def json_patch(
        self, ref: refs.ObjectRef, ops: builtins.list[dict[str, object]], *, field_manager: str
    ) -> objects.RawObject:
        """An RFC 6902 JSON patch (`application/json-patch+json`)."""

    def delete(self, ref: refs.ObjectRef, *, propagation: Propagation = "Background") -> None: ...

    def watch(self, callback: WatchCallback) -> Callable[[], None]:
        """Receive every change from now on; returns a function that stops the watch.

        The event's object is shared with every other watcher (and, in memory, is the store's own
        snapshot): treat it as read-only, as client-go's shared informer caches are treated, and
        copy it before changing it.
        """
