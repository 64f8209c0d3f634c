"""Field ownership for server-side apply: field sets in FieldsV1 form, and the schema-aware merge.

A field set is a frozenset of paths; each path element is a FieldsV1 key, exactly as
`metadata.managedFields[].fieldsV1` writes it: `f:<field>` for a field of a map,
`k:{"name":"web"}` for the item of a list-map (x-kubernetes-list-type: map, keyed by its
list-map-keys, JSON with sorted keys), `v:<json>` for a value of a set. Lists without a list type
are atomic (one leaf owns the whole list), as are maps marked `x-kubernetes-map-type: atomic`.
Without a schema (an unknown or schemaless kind) maps are granular and lists atomic.

The merge follows structured-merge-diff: maps merge field by field, list-map items merge by key
(new items are appended), sets take the union, everything else is replaced.

Callers: `cluster.memory.store`. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from gitops_sim.cluster.schema import Node
from gitops_sim.model import objects

Path = tuple[str, ...]
FieldSet = frozenset[Path]

# Never owned by anybody: identity and server-managed metadata.
UNOWNED_META = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()


def is_absent(value: Any) -> bool:
    return value is ABSENT


def _child(node: Node | None, name: str) -> Node | None:
    return node.field(name) if node is not None else None


def _list_kind(node: Node | None) -> str:
    if node is None:
        return "atomic"
    kind = node.list_type
    return "atomic" if kind == "map" and not node.list_keys else kind


def key_element(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    return "k:" + json.dumps({k: item[k] for k in keys if k in item}, sort_keys=True, separators=(",", ":"))


def value_element(value: Any) -> str:
    return "v:" + json.dumps(value, sort_keys=True, separators=(",", ":"))


def field_set(
    obj: dict[str, Any], node: Node | None, *, include_status: bool, created: bool = False
) -> FieldSet:
    """The paths set in `obj` (a full object or an apply configuration).

    With `created`, the set an Update that created `obj` owns: maps (not structs) it created are
    owned themselves too, which FieldsV1 writes as `.`.
    """
    out: set[Path] = set()
    walk = walk_created if created else _walk
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status" and not include_status):
            continue
        if key == "metadata" and isinstance(value, dict):
            meta_node = _child(node, "metadata")
            for mkey, mval in value.items():
                if mkey not in UNOWNED_META:
                    walk(mval, _child(meta_node, mkey), ("f:metadata", f"f:{mkey}"), out)
            continue
        walk(value, _child(node, key), (f"f:{key}",), out)
    return frozenset(out)


def walk_created(value: Any, node: Node | None, path: Path, out: set[Path]) -> None:
    if type(value) is dict and value and not (node is not None and node.map_atomic):
        if node is None or not node.has_properties:
            out.add(path)  # a map (not a struct) the update created: FieldsV1 marks it with `.`
        for key, sub in value.items():
            walk_created(sub, node.field(key) if node is not None else None, (*path, f"f:{key}"), out)
        return
    _walk(value, node, path, out)


def _walk(value: Any, node: Node | None, path: Path, out: set[Path]) -> None:
    vtype = type(value)
    if vtype is dict and value and not (node is not None and node.map_atomic):
        for key, sub in value.items():
            _walk(sub, node.field(key) if node is not None else None, (*path, f"f:{key}"), out)
        return
    if vtype is not list:
        out.add(path)
        return
    kind = _list_kind(node)
    if isinstance(value, list) and value and kind != "atomic":
        assert node is not None
        if kind == "map" and all(isinstance(item, dict) for item in value):
            item_node = node.items()
            for item in value:
                elem = (*path, key_element(item, node.list_keys))
                out.add(elem)
                for key, sub in item.items():
                    _walk(sub, _child(item_node, key), (*elem, f"f:{key}"), out)
            return
        if kind == "set":
            out.update((*path, value_element(item)) for item in value)
            return
    out.add(path)


def _find(items: list[Any], elem: str) -> int:
    """The index of the list item `elem` names, or -1."""
    if elem.startswith("k:"):
        want = json.loads(elem[2:])
        for i, item in enumerate(items):
            if isinstance(item, dict) and all(item.get(k) == v for k, v in want.items()):
                return i
    elif elem.startswith("v:"):
        want = json.loads(elem[2:])
        for i, item in enumerate(items):
            if item == want:
                return i
    return -1


def get(obj: Any, path: Path) -> Any:
    cur = obj
    for elem in path:
        if elem.startswith("f:"):
            if not isinstance(cur, dict) or elem[2:] not in cur:
                return ABSENT
            cur = cur[elem[2:]]
        else:
            if not isinstance(cur, list):
                return ABSENT
            index = _find(cur, elem)
            if index < 0:
                return ABSENT
            cur = cur[index]
    return cur


def remove(obj: dict[str, Any], path: Path) -> None:
    parent = get(obj, path[:-1]) if len(path) > 1 else obj
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif isinstance(parent, list):
        index = _find(parent, last)
        if index >= 0:
            del parent[index]


def differs(config: dict[str, Any], live: dict[str, Any], path: Path) -> bool:
    """Whether applying `config` would change `live` at `path` (a conflict if someone else owns it)."""
    want, have = get(config, path), get(live, path)
    if path[-1][:2] in ("k:", "v:"):
        return is_absent(want) != is_absent(have)
    return bool(want != have)


def merge(live: dict[str, Any], config: dict[str, Any], node: Node | None) -> None:
    """Merge an apply configuration into `live` in place."""
    for key, value in config.items():
        child = _child(node, key)
        current = live.get(key)
        if (
            isinstance(value, dict)
            and value
            and isinstance(current, dict)
            and not (child is not None and child.map_atomic)
        ):
            merge(current, value, child)
        elif isinstance(value, list) and isinstance(current, list) and _list_kind(child) != "atomic":
            live[key] = _merge_list(current, value, child)
        else:
            live[key] = objects.clone(value)


def _merge_list(current: list[Any], applied: list[Any], node: Node | None) -> list[Any]:
    assert node is not None
    out = list(current)
    if _list_kind(node) == "set":
        return out + [objects.clone(v) for v in applied if v not in out]
    item_node = node.items()
    for item in applied:
        index = _find(out, key_element(item, node.list_keys)) if isinstance(item, dict) else -1
        if index >= 0 and isinstance(out[index], dict):
            merged = objects.clone(out[index])
            merge(merged, item, item_node)
            out[index] = merged
        else:
            out.append(objects.clone(item))
    return out


def changed_paths(old: Any, new: Any, node: Node | None, path: Path = ()) -> set[Path]:
    """Paths whose value differs between `old` and `new` (added, changed or removed)."""
    if old is new or old == new:  # equal subtrees (most of an update) cost one C comparison
        return set()
    if (
        isinstance(old, dict)
        and isinstance(new, dict)
        and (old or new)
        and not (node is not None and node.map_atomic)
    ):
        out: set[Path] = set()
        for key in old.keys() | new.keys():
            out |= changed_paths(
                old.get(key, ABSENT), new.get(key, ABSENT), _child(node, key), (*path, f"f:{key}")
            )
        return out
    if isinstance(old, dict) and old and is_absent(new):
        return changed_paths(old, {}, node, path) | _map_node(path, node)
    if isinstance(new, dict) and new and is_absent(old):
        return changed_paths({}, new, node, path) | _map_node(path, node)
    kind = _list_kind(node)
    if (
        kind != "atomic"
        and isinstance(old, list | _Absent)
        and isinstance(new, list | _Absent)
        and old != new
    ):
        assert node is not None
        before = old if isinstance(old, list) else []
        after = new if isinstance(new, list) else []
        if kind == "set":
            return {(*path, value_element(v)) for v in before + after if (v in before) != (v in after)}
        if all(isinstance(i, dict) for i in before + after):
            olds = {key_element(i, node.list_keys): i for i in before}
            news = {key_element(i, node.list_keys): i for i in after}
            out = set()
            for elem in olds.keys() | news.keys():
                a, b = olds.get(elem, ABSENT), news.get(elem, ABSENT)
                if is_absent(a) or is_absent(b):
                    out.add((*path, elem))
                out |= changed_paths(a, b, node.items(), (*path, elem))
            return out
    if old == new:
        return set()
    return {path} if path else set()


def _map_node(path: Path, node: Node | None) -> set[Path]:
    """A map (not a struct) that an update adds or removes is itself a changed field: FieldsV1
    marks it with `.`, as in `f:labels: {.: {}, f:app: {}}`."""
    is_map = node is None or not node.has_properties
    return {path} if is_map and path and path != ("f:metadata",) else set()


@functools.lru_cache(maxsize=4096)
def to_fields_v1(paths: FieldSet) -> dict[str, Any]:
    """Render a field set as FieldsV1 (`".": {}` marks an owned node that also has owned children).

    The result is shared between calls with the same set: never change it.
    """
    root: dict[str, Any] = {}
    owned: set[Path] = set(paths)
    for path in sorted(paths):
        node = root
        for elem in path:
            node = node.setdefault(elem, {})
    return _mark(root, (), owned)


def _mark(node: dict[str, Any], path: Path, owned: set[Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if path in owned and node:
        out["."] = {}
    for key in sorted(node):
        out[key] = _mark(node[key], (*path, key), owned)
    return out


def from_fields_v1(fields: dict[str, Any], prefix: Path = ()) -> FieldSet:
    """Parse FieldsV1 back into a field set."""
    out: set[Path] = set()
    for key, sub in fields.items():
        if key == ".":
            out.add(prefix)
            continue
        child = (*prefix, key)
        if isinstance(sub, dict) and sub:
            out |= from_fields_v1(sub, child)
        else:
            out.add(child)
    return frozenset(out)


def describe(path: Path) -> str:
    """A path as structured-merge-diff prints it in conflicts: `.spec.containers[name="web"].image`."""
    out = ""
    for elem in path:
        if elem.startswith("f:"):
            out += "." + elem[2:]
        elif elem.startswith("k:"):
            try:
                key = json.loads(elem[2:])
            except ValueError:
                key = None
            if isinstance(key, dict):
                out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in key.items()) + "]"
            else:  # a key a client wrote into managedFields by hand: shown as it is
                out += "[" + elem[2:] + "]"
        elif elem.startswith("v:"):
            out += "[=" + elem[2:] + "]"
        else:
            out += "[" + elem[2:] + "]"
    return out
