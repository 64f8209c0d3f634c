"""Raw Kubernetes objects (JSON-shaped dicts) and small helpers to read and write them.

Objects cross every layer as plain dicts, exactly as they would travel over the wire, so that
the in-memory store, the HTTP front and a real cluster all hand controllers the same shapes.
Field paths used by scenarios (``spec.replicas``, ``metadata.labels["app.kubernetes.io/name"]``,
``spec.template.spec.containers[0].image``) are parsed here once.

This module must never import anything from gitops_sim and never mutate an argument it was not
asked to mutate.
"""

from __future__ import annotations

import base64
import re
from typing import Any, TypeAlias

from gitops_sim.model import refs

RawObject: TypeAlias = dict[str, Any]
PathSegment: TypeAlias = str | int

_SEGMENT = re.compile(r"""\.?(?:([^.\[\]]+)|\[(\d+)\]|\["([^"]*)"\]|\['([^']*)'\])""")


class PathError(ValueError):
    """A field path that cannot be parsed or does not fit the object."""


def parse_path(path: str) -> tuple[PathSegment, ...]:
    """Split ``a.b[0]["c.d"]`` into ``("a", "b", 0, "c.d")``."""
    segments: list[PathSegment] = []
    pos = 0
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        if match is None or match.end() == pos:
            raise PathError(f"cannot parse field path {path!r} at offset {pos}")
        name, index, dq, sq = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(name if name is not None else (dq if dq is not None else sq))
        pos = match.end()
    if not segments:
        raise PathError("empty field path")
    return tuple(segments)


def get_path(obj: Any, path: tuple[PathSegment, ...]) -> Any:
    """The value at `path`, or `MISSING` when any step of the way is absent."""
    cur = obj
    for seg in path:
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                return MISSING
            cur = cur[seg]
        else:
            if not isinstance(cur, dict) or seg not in cur:
                return MISSING
            cur = cur[seg]
    return cur


def set_path(obj: RawObject, path: tuple[PathSegment, ...], value: Any) -> None:
    """Set `value` at `path`, creating intermediate maps; list indexes must exist."""
    cur: Any = obj
    for i, seg in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(seg, int):
            if not isinstance(cur, list) or seg >= len(cur):
                raise PathError(f"index {seg} is out of range at {format_path(path[: i + 1])}")
            cur = cur[seg]
            continue
        if not isinstance(cur, dict):
            raise PathError(f"{format_path(path[:i])} is not a map")
        if seg not in cur or cur[seg] is None:
            if isinstance(nxt, int):
                raise PathError(f"{format_path(path[: i + 1])} is not a list")
            cur[seg] = {}
        cur = cur[seg]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(cur, list) or last >= len(cur):
            raise PathError(f"index {last} is out of range at {format_path(path)}")
        cur[last] = value
    else:
        if not isinstance(cur, dict):
            raise PathError(f"{format_path(path[:-1])} is not a map")
        cur[last] = value


def delete_path(obj: RawObject, path: tuple[PathSegment, ...]) -> bool:
    """Remove the value at `path`; returns whether anything was removed."""
    parent = get_path(obj, path[:-1]) if len(path) > 1 else obj
    last = path[-1]
    if isinstance(last, int) and isinstance(parent, list) and last < len(parent):
        del parent[last]
        return True
    if isinstance(last, str) and isinstance(parent, dict) and last in parent:
        del parent[last]
        return True
    return False


def format_path(path: tuple[PathSegment, ...]) -> str:
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", seg):
            out += f".{seg}" if out else seg
        else:
            out += f'["{seg}"]'
    return out


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def metadata(obj: RawObject) -> dict[str, Any]:
    meta = obj.setdefault("metadata", {})
    assert isinstance(meta, dict)
    return meta


def labels_of(obj: RawObject) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("labels") or {})


def annotations_of(obj: RawObject) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("annotations") or {})


def secret_data(secret: RawObject) -> dict[str, str]:
    """A Secret's `data`, decoded from base64 (bytes that are not UTF-8 replaced, not refused)."""
    return {
        str(k): base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()
    }


def gvk_of(obj: RawObject) -> refs.GVK:
    return refs.GVK.of(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))


def ref_of(obj: RawObject) -> refs.ObjectRef:
    gvk = gvk_of(obj)
    meta = obj.get("metadata") or {}
    return refs.ObjectRef(gvk.group, gvk.kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def deep_copy(obj: RawObject) -> RawObject:
    """A deep copy of a JSON-shaped object (dicts, lists, scalars), 3x faster than `copy.deepcopy`."""
    return {k: (v if type(v) not in _CONTAINERS else clone(v)) for k, v in obj.items()}


_CONTAINERS = frozenset({dict, list})


def clone(value: Any) -> Any:
    """A deep copy of any JSON-shaped value."""
    if type(value) is dict:
        return {k: (v if type(v) not in _CONTAINERS else clone(v)) for k, v in value.items()}
    if type(value) is list:
        return [(v if type(v) not in _CONTAINERS else clone(v)) for v in value]
    return value


def is_subset(expected: Any, actual: Any) -> bool:
    """Partial match: every key in `expected` is in `actual` with a matching value.

    Maps match partially, recursively; lists must have the same length and match item by item;
    scalars must be equal.
    """
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and is_subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(is_subset(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)
