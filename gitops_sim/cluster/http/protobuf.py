"""Decoding the protobuf bodies that kubectl's generator commands send.

`kubectl create namespace|configmap|secret|serviceaccount|deployment` POST their object as
`application/vnd.kubernetes.protobuf`: the magic `k8s\\x00`, then a `runtime.Unknown` envelope
(typeMeta, raw) whose `raw` is the typed object. This module reads the wire format and turns the
fields of those five kinds (the ones the generators fill in) into the JSON the rest of the server
handles. The field numbers are the API's own (k8s.io/api and apimachinery generated.proto);
fields it does not know are skipped, as a proto3 reader skips them.

Zero values: the generated Go marshallers (gogo, k8s.io/api generated.pb.go) write every
non-pointer scalar, set or not, so `kubectl create configmap x` sends `generateName: ""` and
`kubectl create deployment` sends `minReadySeconds: 0` and `paused: false`. The real server
decodes them into Go structs whose JSON tags are `omitempty`, so they never show. Here a scalar
read as "string", "int" or "bool" is dropped when it holds its zero value (those fields are
`omitempty` in Go); "string!" is a field without `omitempty` (a container's name), kept; "int*"
and "bool*" are Go pointers, written only when set, so a zero there was meant and is kept.

Callers: `cluster.http.server`. Pure functions on bytes; errors are BadRequest.
"""

from __future__ import annotations

import base64
from typing import Any

from gitops_sim.cluster import errors

MAGIC = b"k8s\x00"
_OMITEMPTY = frozenset({"string", "int", "bool"})

# A message table: field number -> (JSON name, how to read it, the nested table if any).
Table = dict[int, tuple[str, str, "Table | None"]]

OBJECT_META: Table = {
    1: ("name", "string", None),
    2: ("generateName", "string", None),
    3: ("namespace", "string", None),
    11: ("labels", "map_string", None),
    12: ("annotations", "map_string", None),
    14: ("finalizers", "repeated_string", None),
}
QUANTITY: Table = {1: ("string", "string", None)}
RESOURCES: Table = {1: ("limits", "map_quantity", None), 2: ("requests", "map_quantity", None)}
CONTAINER: Table = {
    1: ("name", "string!", None),
    2: ("image", "string", None),
    3: ("command", "repeated_string", None),
    4: ("args", "repeated_string", None),
    8: ("resources", "message", RESOURCES),
}
POD_SPEC: Table = {2: ("containers", "repeated_message", CONTAINER)}
POD_TEMPLATE: Table = {1: ("metadata", "message", OBJECT_META), 2: ("spec", "message", POD_SPEC)}
LABEL_SELECTOR: Table = {1: ("matchLabels", "map_string", None)}
STRATEGY: Table = {1: ("type", "string", None)}
DEPLOYMENT_SPEC: Table = {
    1: ("replicas", "int*", None),
    2: ("selector", "message", LABEL_SELECTOR),
    3: ("template", "message", POD_TEMPLATE),
    4: ("strategy", "message", STRATEGY),
    5: ("minReadySeconds", "int", None),
    6: ("revisionHistoryLimit", "int*", None),
    7: ("paused", "bool", None),
    9: ("progressDeadlineSeconds", "int*", None),
}
KINDS: dict[tuple[str, str], Table] = {
    ("v1", "Namespace"): {
        1: ("metadata", "message", OBJECT_META),
        2: ("spec", "message", {1: ("finalizers", "repeated_string", None)}),
    },
    ("v1", "ConfigMap"): {
        1: ("metadata", "message", OBJECT_META),
        2: ("data", "map_string", None),
        3: ("binaryData", "map_bytes", None),
        4: ("immutable", "bool*", None),
    },
    ("v1", "Secret"): {
        1: ("metadata", "message", OBJECT_META),
        2: ("data", "map_bytes", None),
        3: ("type", "string", None),
        4: ("stringData", "map_string", None),
        5: ("immutable", "bool*", None),
    },
    ("v1", "ServiceAccount"): {
        1: ("metadata", "message", OBJECT_META),
        4: ("automountServiceAccountToken", "bool*", None),
    },
    ("apps/v1", "Deployment"): {
        1: ("metadata", "message", OBJECT_META),
        2: ("spec", "message", DEPLOYMENT_SPEC),
    },
}


def _bad(message: str) -> errors.BadRequest:
    return errors.BadRequest(f"the protobuf body could not be decoded: {message}")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _bad("truncated varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) in order; length-delimited values are bytes."""
    out = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _bad("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise _bad(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _entry(data: bytes) -> tuple[str, bytes]:
    key, value = "", b""
    for number, _, raw in _fields(data):
        if number == 1:
            key = raw.decode()
        elif number == 2:
            value = raw
    return key, value


def message(data: bytes, table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _, raw in _fields(data):
        if number not in table:
            continue
        name, kind, nested = table[number]
        if kind in ("string", "string!"):
            out[name] = raw.decode()
        elif kind in ("int", "int*"):
            out[name] = raw - (1 << 64) if raw >= 1 << 63 else raw
        elif kind in ("bool", "bool*"):
            out[name] = bool(raw)
        elif kind == "message":
            assert nested is not None
            out[name] = message(raw, nested)
        elif kind == "repeated_message":
            assert nested is not None
            out.setdefault(name, []).append(message(raw, nested))
        elif kind == "repeated_string":
            out.setdefault(name, []).append(raw.decode())
        else:
            key, value = _entry(raw)
            if kind == "map_string":
                out.setdefault(name, {})[key] = value.decode()
            elif kind == "map_bytes":
                out.setdefault(name, {})[key] = base64.b64encode(value).decode()
            else:  # map_quantity: a Quantity message holding its string form
                out.setdefault(name, {})[key] = message(value, QUANTITY).get("string", "")
    for name, kind, _ in table.values():
        if kind in _OMITEMPTY and name in out and not out[name]:
            del out[name]  # Go's zero value of an `omitempty` field: not in the JSON
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object of one of the generators' kinds. A body that is
    not one (bad UTF-8 in a string, a field of the wrong wire type) is a BadRequest."""
    try:
        return _decode(body)
    except (UnicodeDecodeError, AttributeError, TypeError, ValueError) as exc:
        raise _bad(str(exc)) from None


def _decode(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise _bad("missing the k8s protobuf prefix")
    envelope = dict((n, v) for n, _, v in _fields(body[len(MAGIC) :]))
    type_meta = dict((n, v) for n, _, v in _fields(envelope.get(1, b"")))
    api_version, kind = type_meta.get(1, b"").decode(), type_meta.get(2, b"").decode()
    table = KINDS.get((api_version, kind))
    if table is None:
        raise errors.UnsupportedMediaType(
            f"protobuf bodies for {kind or 'this kind'} are not served; send application/json"
        )
    return {"apiVersion": api_version, "kind": kind, **message(envelope.get(2, b""), table)}
