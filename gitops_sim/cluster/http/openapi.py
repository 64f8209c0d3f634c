"""The OpenAPI v2 document (`GET /openapi/v2`) of the kinds a cluster serves.

kubectl fetches `/openapi/v2` (as protobuf, `application/com.github.proto-openapi.spec.v2.v1.0+protobuf`,
an `openapi_v2.Document` of google/gnostic's `openapiv2/OpenAPIv2.proto`) when it validates a
manifest on the client: it does so for a kind whose `/openapi/v3` document does not declare the
`fieldValidation` parameter, which is every kind the server does not serve. Without the document
kubectl's error for such a manifest is `error validating data: the server could not find the
requested resource`; with it, kubectl finds no schema for the kind, skips client-side validation
and reports what the real server's users see, the RESTMapper's `no matches for kind "X" in version
"example.com/v1"` (kubectl `pkg/validation` and k8s.io/kube-openapi `pkg/util/proto/validation`:
an unknown kind is not validated; our own code).

What we serve, and where we knowingly differ from kube-apiserver: as JSON (any other Accept), the
document has the `definitions` of every served built-in kind and what they reference, and of every
CRD version with a schema, each kind's carrying `x-kubernetes-group-version-kind`, but no `paths`
(kubectl reads none); as protobuf, only `swagger` and `info` (the definitions would only matter
for kinds the `/openapi/v3` documents already answer for, and encoding gnostic's Schema message is
not worth it yet).

Callers: `cluster.http.server` routes `/openapi/v2` here. Pure functions over `KindInfo`s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitops_sim.cluster import kinds
from gitops_sim.cluster.http import discovery

PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_TITLE = "Kubernetes"


def wants_protobuf(accept: str) -> bool:
    """Whether an Accept header asks for the protobuf document (kubectl and client-go do)."""
    return "protobuf" in accept


def v2_protobuf() -> bytes:
    """The gnostic `Document` with `swagger` (field 1) and `info` (2: `title` 1, `version` 2)."""
    version = discovery.KUBERNETES_VERSION["gitVersion"]
    info = _field(1, _TITLE.encode()) + _field(2, version.encode())
    return _field(1, b"2.0") + _field(2, info)


def v2_document(infos: Iterable[kinds.KindInfo]) -> dict[str, Any]:
    """The JSON document: definitions of every served kind, in Swagger 2.0 spellings."""
    components = discovery.component_schemas(list(infos))
    return {
        "swagger": "2.0",
        "info": {"title": _TITLE, "version": discovery.KUBERNETES_VERSION["gitVersion"]},
        "paths": {},
        "definitions": {name: _swagger2(schema) for name, schema in components.items()},
    }


def _swagger2(node: Any) -> Any:
    """OpenAPI 3.0 spellings back to Swagger 2.0: `#/definitions/` refs, no `nullable`."""
    if isinstance(node, list):
        return [_swagger2(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/components/schemas/", "#/definitions/")
        elif key != "nullable":
            out[key] = _swagger2(value)
    return out


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
