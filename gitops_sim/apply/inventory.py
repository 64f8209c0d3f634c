"""The Kustomization inventory (kustomize-controller `internal/inventory`).

`status.inventory.entries` lists `{id, v}` for every object a Kustomization applied, with ids
in cli-utils' ObjMetadata form (``<namespace>_<name>_<group>_<Kind>``), sorted. Stale objects
are those in the old inventory but not in the new one.
"""

from __future__ import annotations

from typing import Any

from gitops_sim.apply import changeset
from gitops_sim.model import refs


def from_changeset(cs: changeset.ChangeSet) -> list[dict[str, str]]:
    entries = {e.ref.inventory_id: {"id": e.ref.inventory_id, "v": e.version} for e in cs.entries}
    return [entries[k] for k in sorted(entries)]


def parse_id(entry: dict[str, Any]) -> tuple[refs.ObjectRef, str]:
    namespace, name, group, kind = _split(str(entry["id"]))
    return refs.ObjectRef(group, kind, namespace, name.replace("__", ":")), str(entry.get("v", ""))


def _split(identifier: str) -> list[str]:
    # Names may carry `__` (an encoded colon); namespace, group and kind never contain `_`.
    namespace, rest = identifier.split("_", 1)
    rest, kind = rest.rsplit("_", 1)
    name, group = rest.rsplit("_", 1)
    return [namespace, name, group, kind]


def stale(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[tuple[refs.ObjectRef, str]]:
    """Objects in `old` and not in `new`."""
    keep = {e["id"] for e in new}
    return [parse_id(e) for e in old if e["id"] not in keep]
