"""Field ownership for server-side apply: field sets, FieldsV1, and the merge.

A field set is a frozenset of paths; a path is a tuple of map keys. This first cut treats every
list as atomic (one owner for the whole list) and every map as granular, which is exact for
metadata, scalars and maps, and coarser than structured-merge-diff for list-maps such as
`containers` (keyed by name in the real server). See the store's "Fidelity and known gaps".

Callers: `cluster.memory.store`. Pure functions; no I/O.
"""

from __future__ import annotations

from typing import Any

Path = tuple[str, ...]
FieldSet = frozenset[Path]

# Never owned by anybody: identity and server-managed metadata.
_UNOWNED_META = frozenset(
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


def field_set(obj: dict[str, Any], *, include_status: bool) -> FieldSet:
    """The leaf paths set in `obj` (a full object or an apply configuration)."""
    out: set[Path] = set()
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status" and not include_status):
            continue
        if key == "metadata" and isinstance(value, dict):
            for mkey, mval in value.items():
                if mkey not in _UNOWNED_META:
                    _walk(mval, ("metadata", mkey), out)
            continue
        _walk(value, (key,), out)
    return frozenset(out)


def _walk(value: Any, path: Path, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _walk(sub, (*path, str(key)), out)
    else:
        out.add(path)


def changed_paths(old: Any, new: Any, path: Path = ()) -> set[Path]:
    """Leaf paths whose value differs between `old` and `new` (added, changed or removed)."""
    if isinstance(old, dict) and isinstance(new, dict) and (old or new):
        out: set[Path] = set()
        for key in old.keys() | new.keys():
            out |= changed_paths(old.get(key, _ABSENT), new.get(key, _ABSENT), (*path, str(key)))
        return out
    if isinstance(old, dict) and old and new is _ABSENT:
        return changed_paths(old, {}, path)
    if isinstance(new, dict) and new and old is _ABSENT:
        return changed_paths({}, new, path)
    return set() if old == new else {path}


class _Absent:
    pass


_ABSENT: Any = _Absent()


def get(obj: dict[str, Any], path: Path) -> Any:
    cur: Any = obj
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return _ABSENT
        cur = cur[key]
    return cur


def is_absent(value: Any) -> bool:
    return value is _ABSENT


def remove(obj: dict[str, Any], path: Path) -> None:
    cur: Any = obj
    for key in path[:-1]:
        if not isinstance(cur, dict) or key not in cur:
            return
        cur = cur[key]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)


def merge(live: dict[str, Any], config: dict[str, Any]) -> None:
    """Merge an apply configuration into `live` in place: maps recurse, everything else replaces."""
    for key, value in config.items():
        if isinstance(value, dict) and value and isinstance(live.get(key), dict):
            merge(live[key], value)
        else:
            live[key] = _copy(value)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def to_fields_v1(paths: FieldSet) -> dict[str, Any]:
    """Render a field set in the FieldsV1 form that `metadata.managedFields` carries."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return root


def from_fields_v1(fields: dict[str, Any], prefix: Path = ()) -> FieldSet:
    """Parse FieldsV1 back into a field set (entries other than `f:` own their parent)."""
    out: set[Path] = set()
    for key, sub in fields.items():
        if key == ".":
            out.add(prefix)
        elif key.startswith("f:"):
            child = (*prefix, key[2:])
            if isinstance(sub, dict) and sub:
                out |= from_fields_v1(sub, child)
            else:
                out.add(child)
        elif prefix:
            out.add(prefix)
    return frozenset(out)
