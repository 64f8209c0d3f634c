"""RFC 6902 JSON Patch on raw objects (add, remove, replace, move, copy, test), as the apiserver runs it.

Provenance: apiserver `endpoints/handlers/patch.go` (jsonPatcher.applyJSPatch) and the
`evanphx/json-patch` v4 library it calls; our own code. What a client can tell:
- the document is decoded first: a body that is not a list of objects, or an operation whose
  `op`, `path` or `from` is not a string, is a 400 `error decoding patch: json: ...` (with
  fieldValidation Strict or Warn; with Ignore, the library's own decoding error);
- more than 10,000 operations is a 413;
- any operation that cannot be applied (missing or unknown `op`, missing `path`, an empty path, a
  path through a missing or scalar value, an array index that is not a number or out of range, a
  failed `test`) is a 422 whose message is only "the server rejected our request due to an error
  in our request": the handler wraps the library's error with NewGenericServerResponse, which
  drops it. The library's own text is kept as the exception's `__cause__`, for debugging.
- the library's pointer quirks are kept: the segment before the first `/` is ignored (so `a/b`
  means `/b`), array indexes are Go `strconv.Atoi` numbers (`+1`, `007`) and may be negative,
  counting from the end.
Where we knowingly differ: `replace` of a missing map key fails (v4 releases differ on this; RFC
6902 says it must fail).

Callers: `cluster.memory.store` for `application/json-patch+json` requests. The input object and
operations are never mutated; no other exception than `cluster.errors.ApiError` leaves `apply`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.model import objects, yamlsafe

MAX_OPERATIONS = 10_000  # apiserver maxJSONPatchOperations
_ATOI = re.compile(r"^[+-]?[0-9]+$")
_INT64 = 2**63


class _Failed(Exception):
    """An operation that does not apply (the library's error text)."""


def decode(ops: Any, field_validation: str = "Warn") -> list[dict[str, Any]]:
    """Check `ops` decodes as a JSON patch; raise the handler's 400 (or 413) when it does not."""
    strict = field_validation in ("Strict", "Warn")
    if not isinstance(ops, list):
        if strict:
            raise errors.BadRequest(
                f"error decoding patch: json: cannot unmarshal {yamlsafe.go_json_type(ops)} "
                "into Go value of type []handlers.jsonPatchOp"
            )
        raise errors.BadRequest(
            f"json: cannot unmarshal {yamlsafe.go_json_type(ops)} into Go value of type jsonpatch.Patch"
        )
    for op in ops:
        if op is None:
            continue
        if not isinstance(op, dict):
            target = "handlers.jsonPatchOp" if strict else "jsonpatch.Operation"
            prefix = "error decoding patch: " if strict else ""
            raise errors.BadRequest(
                f"{prefix}json: cannot unmarshal {yamlsafe.go_json_type(op)} into Go value of type {target}"
            )
        if strict:
            for key in ("op", "path", "from"):
                value = op.get(key)
                if value is not None and not isinstance(value, str):
                    raise errors.BadRequest(
                        "error decoding patch: json: cannot unmarshal "
                        f"{yamlsafe.go_json_type(value)} into Go struct field jsonPatchOp.{key} "
                        "of type string"
                    )
    if len(ops) > MAX_OPERATIONS:
        raise errors.RequestEntityTooLarge(
            f"Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_OPERATIONS}, got {len(ops)}"
        )
    return ops


def _index(key: str, size: int, *, adding: bool) -> int:
    """A Go `strconv.Atoi` array index, negative ones counted from the end (evanphx semantics)."""
    if not _ATOI.match(key) or abs(int(key)) >= _INT64:
        raise _Failed(f"value was not a proper array index: '{key}'")
    index = int(key)
    bound = size + 1 if adding else size
    if index >= bound or index < -bound:
        raise _Failed(f"Unable to access invalid index: {index}")
    return index + bound if index < 0 else index


def _container(doc: Any, path: Any) -> tuple[Any, str]:
    """The container a pointer's last segment is in, and that segment (evanphx findObject)."""
    if not isinstance(path, str):
        raise _Failed("operation missing path field")
    split = path.split("/")
    if len(split) < 2:
        raise _Failed(f'doc is missing path: "{path}"')
    cur = doc
    for raw in split[1:-1]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(cur, dict):
            nxt = cur.get(part)
        elif isinstance(cur, list):
            nxt = cur[_index(part, len(cur), adding=False)]
        else:
            nxt = None
        if not isinstance(nxt, dict | list):
            raise _Failed(f'doc is missing path: "{path}"')
        cur = nxt
    if not isinstance(cur, dict | list):
        raise _Failed(f'doc is missing path: "{path}"')
    return cur, split[-1].replace("~1", "/").replace("~0", "~")


def _get(doc: Any, path: Any) -> Any:
    parent, key = _container(doc, path)
    if isinstance(parent, dict):
        if key not in parent:
            raise _Failed(f"doc is missing key: {path}")
        return parent[key]
    return parent[_index(key, len(parent), adding=False)]


def _add(doc: Any, path: Any, value: Any) -> None:
    parent, key = _container(doc, path)
    if isinstance(parent, dict):
        parent[key] = value
    elif key == "-":
        parent.append(value)
    else:
        parent.insert(_index(key, len(parent), adding=True), value)


def _remove(doc: Any, path: Any) -> Any:
    parent, key = _container(doc, path)
    if isinstance(parent, dict):
        if key not in parent:
            raise _Failed(f"Unable to remove nonexistent key: {key}")
        return parent.pop(key)
    return parent.pop(_index(key, len(parent), adding=False))


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1, 1.0 and true are three different values."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _one(out: dict[str, Any], op: dict[str, Any] | None) -> None:
    op = op or {}
    kind = op.get("op")
    path = op.get("path")
    if kind == "add":
        _add(out, path, objects.clone(op.get("value")))
    elif kind == "remove":
        _remove(out, path)
    elif kind == "replace":
        parent, key = _container(out, path)
        if isinstance(parent, dict):
            if key not in parent:
                raise _Failed(f"replace operation does not apply: doc is missing key: {path}")
            parent[key] = objects.clone(op.get("value"))
        else:
            parent[_index(key, len(parent), adding=False)] = objects.clone(op.get("value"))
    elif kind == "move":
        value = _remove(out, op.get("from"))
        _add(out, path, value)
    elif kind == "copy":
        _add(out, path, objects.clone(_get(out, op.get("from"))))
    elif kind == "test":
        if "value" not in op or not _same(_get(out, path), op["value"]):
            raise _Failed(f"testing value {path} failed")
    else:
        raise _Failed(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")


def apply(doc: dict[str, Any], ops: list[dict[str, Any]], field_validation: str = "Warn") -> dict[str, Any]:
    """`doc` with `ops` applied; `doc` is left as it was."""
    decode(ops, field_validation)
    out = objects.deep_copy(doc)
    for op in ops:
        try:
            _one(out, op)
        except _Failed as exc:
            raise errors.Invalid("the server rejected our request due to an error in our request") from exc
    return out
