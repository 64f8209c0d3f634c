"""RFC 6902 JSON Patch on raw objects (add, remove, replace, move, copy, test).

Callers: `cluster.memory.store` for `application/json-patch+json` requests. Errors are
`cluster.errors` values with the real server's wording; the input object is never mutated.
"""

from __future__ import annotations

import copy
from typing import Any

from gitops_sim.cluster import errors


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.BadRequest(
            f"the server rejected our request due to an error in our request: "
            f'JSON pointer "{path}" must start with "/"'
        )
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for part in parts[:-1]:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise errors.Invalid(f"the server rejected our request: doc is missing path: {path!r}")
    return cur


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    key = parts[-1]
    if isinstance(parent, dict) and key in parent:
        return parent[key]
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent[int(key)]
    raise errors.Invalid(f"the server rejected our request: doc is missing path: {path!r}")


def _add(doc: Any, path: str, value: Any) -> None:
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    key = parts[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        index = len(parent) if key == "-" else int(key) if key.isdigit() else -1
        if not 0 <= index <= len(parent):
            raise errors.Invalid(
                f"the server rejected our request: add operation index out of range: {path!r}"
            )
        parent.insert(index, value)
    else:
        raise errors.Invalid(f"the server rejected our request: doc is missing path: {path!r}")


def _remove(doc: Any, path: str) -> Any:
    value = _get(doc, path)
    parts = _pointer(path)
    parent = _parent(doc, parts, path)
    if isinstance(parent, dict):
        del parent[parts[-1]]
    else:
        del parent[int(parts[-1])]
    return value


def apply(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        path = str(op.get("path", ""))
        if kind == "add":
            _add(out, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(out, path)
        elif kind == "replace":
            _get(out, path)
            _remove(out, path)
            _add(out, path, copy.deepcopy(op.get("value")))
        elif kind == "move":
            _add(out, path, _remove(out, str(op.get("from", ""))))
        elif kind == "copy":
            _add(out, path, copy.deepcopy(_get(out, str(op.get("from", "")))))
        elif kind == "test":
            if _get(out, path) != op.get("value"):
                raise errors.Invalid(f"the server rejected our request: testing value {path} failed")
        else:
            raise errors.BadRequest(f"Unexpected kind: {kind}")
    return out
