"""Request bodies and write options as the kube-apiserver reads them, refused as it refuses them.

`ApiServer` (cluster/http/server.py) calls this for every body it is sent: the media type it
accepts (`media_type`, `check_media_type`), the bounded decoding of JSON and YAML (`value`, via
`model.yamlsafe`), the shape of an object before the store sees it (`object_for`: the fields a Go
struct would refuse to decode into, and the body's kind against the URL's), and the `dryRun`
option (`dry_run`). Every refusal is an `errors.ApiError` with the apiserver's code and wording, so
that no malformed body reaches the store or ends in a 500. Pure functions: no I/O, no store.

Sources (behaviour learned there, code our own):
- kubernetes `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go` `transformDecodeError`
  and `summarizeData`: `<Kind> in version "<v>" cannot be handled as a <URL kind>: <cause>`, or
  `the object provided is unrecognized (must be of type <URL kind>): <cause> (<first 30 bytes>)`
  when the body names no kind.
- `handlers/negotiation/negotiate.go` and `errors.go`: an unknown Content-Type is 415 with "the body
  of the request was in an unknown format - accepted media types include: ...".
- `handlers/create.go`: for custom resources, a group/version other than the URL's is 400 "the API
  version in the data (...) does not match the expected API version (...)"; apiextensions-apiserver's
  `customResourceValidator.ValidateTypeMeta` makes another kind a 422 on `kind`.
- `apimachinery/pkg/runtime/serializer/json` (`meta.Interpret`) and `conversion/converter.go`: the
  causes of a built-in decode failure (`couldn't get version/kind; json parse error: ...`,
  `converting (v1.Secret) to (core.ConfigMap): unknown conversion`, `no kind "X" is registered ...`).
- `apimachinery/pkg/apis/meta/v1/validation.ValidateDryRun` with `field.NotSupported`: any dryRun
  value but `All` is a 422 on `<Verb>Options.meta.k8s.io`.
- Go's `encoding/json` (which `sigs.k8s.io/json` forks): invalid UTF-8 and lone UTF-16 surrogates
  in strings decode to U+FFFD instead of failing; `null` leaves a field at its zero value.

Fidelity and known gaps: the Go decoder refuses a wrong type anywhere in the typed struct; we check
the type-and-object fields and `metadata` (where a wrong type would break the store), and leave the
rest to the store's schema validation, which answers 422 instead of 400. Custom resources get the
typed-metadata messages too (the real unstructured decoder words them differently). The internal
package named in a conversion error is derived from the group (`core`, `apps`, ...). JSON syntax
errors carry Python's description of the error, not Go's.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml

from gitops_sim.cluster import errors, kinds
from gitops_sim.model import yamlsafe

MAX_BODY = 3 * 1024 * 1024
"""The apiserver's request body limit (`maxRequestBodyBytes`, 3 MiB)."""

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"

_SCHEME = "pkg/api/legacyscheme/scheme.go:30"
_NEEDS_WALK = re.compile(rb"\\u[dD][89a-fA-F]|[0-9][eE]")
"""Bodies that may hold a lone surrogate escape or a number too large for a float."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_FINDKIND = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)

_META_STRINGS = ("name", "generateName", "namespace", "uid", "resourceVersion", "selfLink")
_META_MAPS = ("labels", "annotations")
_META_LISTS = {
    "finalizers": ("[]string", "string"),
    "ownerReferences": ("[]v1.OwnerReference", "v1.OwnerReference"),
    "managedFields": ("[]v1.ManagedFieldsEntry", "v1.ManagedFieldsEntry"),
}


def media_type(headers: dict[str, str]) -> str:
    """The request's media type without parameters, lower case; JSON when none is given (the
    apiserver takes the first type it supports)."""
    raw = headers.get("content-type", "").split(";")[0].strip().lower()
    return raw or JSON


def check_media_type(kind: str, accepted: tuple[str, ...]) -> None:
    if kind not in accepted:
        raise errors.UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(accepted)
        )


def object_types(info: kinds.KindInfo) -> tuple[str, ...]:
    """The media types a create or update of `info` accepts (custom resources: no protobuf)."""
    return (JSON, YAML) if info.custom else (JSON, YAML, PROTOBUF)


def value(body: bytes, *, yaml_ok: bool = False) -> Any:
    """The body's value, bounded (`yamlsafe`), or a 400 (413 above `MAX_BODY`).

    YAML bodies are tried as JSON first: JSON is YAML, it is what clients send, and the JSON parser
    is far cheaper. Strings are read as Go reads them: invalid UTF-8 and lone surrogates become
    U+FFFD, so that every value we keep can be encoded again.
    """
    if len(body) > MAX_BODY:
        raise errors.RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")
    text = body.decode("utf-8", errors="replace")
    try:
        decoded = yamlsafe.loads_json(text)
    except ValueError as exc:
        if not yaml_ok or isinstance(exc, yamlsafe.JSONBoundsError):
            raise errors.BadRequest(f"the request body could not be decoded: {exc}") from None
        try:
            decoded = yamlsafe.load(body)
        except yaml.YAMLError as yaml_exc:
            raise errors.BadRequest(f"the request body could not be decoded: {yaml_exc}") from None
        except (ValueError, TypeError, RecursionError) as other:  # keys a mapping cannot hold
            raise errors.BadRequest(f"the request body could not be decoded: {other}") from None
        return _valid_strings(decoded)
    return _valid_strings(decoded) if _NEEDS_WALK.search(body) else decoded


def _valid_strings(item: Any) -> Any:
    """`item` with lone surrogates in its strings (keys too) replaced by U+FFFD, and YAML's
    non-JSON scalars (dates, bytes) as strings. A number no float holds (`1e999`, YAML's `.inf`)
    is a 400, as Go's decoder refuses it."""
    if isinstance(item, str):
        return _SURROGATE.sub("\ufffd", item)
    if isinstance(item, dict):
        return {_valid_strings(_key(k)): _valid_strings(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_valid_strings(v) for v in item]
    if isinstance(item, float) and not math.isfinite(item):
        raise errors.BadRequest(f"json: cannot unmarshal number {item} into Go value of type float64")
    if item is None or isinstance(item, bool | int | float):
        return item
    return str(item)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return str(key)


def summarize(body: bytes, limit: int = 30) -> str:
    """The apiserver's `summarizeData`: a JSON body's first bytes, anything else in hex."""
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = body[:limit].decode("utf-8", errors="replace")
        return text + " ..." if len(body) > limit else text
    return body[:limit].hex() + (" ..." if len(body) > limit else "")


def object_for(
    decoded: Any, body: bytes, info: kinds.KindInfo, served: tuple[kinds.KindInfo, ...]
) -> dict[str, Any]:
    """The object a create or update sends for `info`'s URL (`decoded` from `body`), checked as
    the apiserver's decoder checks it: an object, with string `apiVersion`/`kind` (defaulted from
    the URL), the URL's kind and version, and a `metadata` whose common fields have their Go types."""
    if not isinstance(decoded, dict):
        raise _unrecognized(
            info,
            "couldn't get version/kind; json parse error: json: cannot unmarshal "
            f"{yamlsafe.go_json_type(decoded)} into Go value of type {_FINDKIND}",
            body,
        )
    for key in ("apiVersion", "kind"):
        if decoded.get(key) is not None and not isinstance(decoded[key], str):
            raise _unrecognized(
                info,
                "couldn't get version/kind; json parse error: json: cannot unmarshal "
                f"{yamlsafe.go_json_type(decoded[key])} into Go struct field .{key} of type string",
                body,
            )
    obj = dict(decoded)
    obj["apiVersion"] = obj.get("apiVersion") or info.gvk.api_version
    obj["kind"] = obj.get("kind") or info.gvk.kind
    _check_kind(obj, info, served)
    cause = metadata_problem(obj, info.gvk.kind)
    if cause is not None:
        raise cannot_handle(obj, info, cause)
    return obj


def _check_kind(obj: dict[str, Any], info: kinds.KindInfo, served: tuple[kinds.KindInfo, ...]) -> None:
    api_version, kind = obj["apiVersion"], obj["kind"]
    if api_version == info.gvk.api_version and kind == info.gvk.kind:
        return
    if info.custom:
        if api_version != info.gvk.api_version:
            raise errors.BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({info.gvk.api_version})"
            )
        group = errors.qualified_resource(kind, info.gvk.group)
        name = obj["metadata"].get("name", "") if isinstance(obj.get("metadata"), dict) else ""
        cause = f"kind: Invalid value: {json.dumps(kind)}: must be {info.gvk.kind}"
        raise errors.Invalid(
            f"{group} {json.dumps(name)} is invalid: {cause}",
            details={
                "name": name,
                "group": info.gvk.group,
                "kind": kind,
                "causes": [
                    {
                        "reason": "FieldValueInvalid",
                        "message": f"Invalid value: {json.dumps(kind)}: must be {info.gvk.kind}",
                        "field": "kind",
                    }
                ],
            },
        )
    known = any(i.gvk.api_version == api_version and i.gvk.kind == kind and not i.custom for i in served)
    if known:
        source = api_version.rsplit("/", 1)[-1]
        target = info.gvk.group.split(".")[0] if info.gvk.group else "core"
        cause = f"converting ({source}.{kind}) to ({target}.{info.gvk.kind}): unknown conversion"
    else:
        cause = f'no kind "{kind}" is registered for version "{api_version}" in scheme "{_SCHEME}"'
    raise cannot_handle(obj, info, cause)


def cannot_handle(obj: dict[str, Any], info: kinds.KindInfo, cause: str) -> errors.BadRequest:
    version = str(obj.get("apiVersion", "")).rsplit("/", 1)[-1]
    return errors.BadRequest(
        f'{obj.get("kind")} in version "{version}" cannot be handled as a {info.gvk.kind}: {cause}'
    )


def _unrecognized(info: kinds.KindInfo, cause: str, body: bytes) -> errors.BadRequest:
    return errors.BadRequest(
        f"the object provided is unrecognized (must be of type {info.gvk.kind}): {cause} ({summarize(body)})"
    )


def metadata_problem(obj: dict[str, Any], kind: str) -> str | None:
    """What Go's decoder says of `obj`'s metadata, or None. Normalises as Go does: a `null`
    metadata or metadata field is dropped (the zero value)."""
    meta = obj.get("metadata")
    if meta is None:
        obj["metadata"] = {}
        return None
    if not isinstance(meta, dict):
        return _unmarshal(meta, f"{kind}.metadata", "v1.ObjectMeta")
    for key in [k for k, v in meta.items() if v is None]:
        del meta[key]
    for key in _META_STRINGS:
        if key in meta and not isinstance(meta[key], str):
            return _unmarshal(meta[key], f"ObjectMeta.metadata.{key}", "string")
    generation = meta.get("generation", 0)
    if not isinstance(generation, int) or isinstance(generation, bool):
        return _unmarshal(meta["generation"], "ObjectMeta.metadata.generation", "int64")
    for key in _META_MAPS:
        if key not in meta:
            continue
        if not isinstance(meta[key], dict):
            return _unmarshal(meta[key], f"ObjectMeta.metadata.{key}", "map[string]string")
        for item in meta[key].values():
            if not isinstance(item, str):
                return _unmarshal(item, f"ObjectMeta.metadata.{key}", "string")
    for key, (of_list, of_item) in _META_LISTS.items():
        if key not in meta:
            continue
        if not isinstance(meta[key], list):
            return _unmarshal(meta[key], f"ObjectMeta.metadata.{key}", of_list)
        wanted: type = str if of_item == "string" else dict
        for item in meta[key]:
            if not isinstance(item, wanted):
                return _unmarshal(item, f"ObjectMeta.metadata.{key}", of_item)
    return None


def _unmarshal(item: Any, where: str, go: str) -> str:
    return f"json: cannot unmarshal {yamlsafe.go_json_type(item)} into Go struct field {where} of type {go}"


def patch_object(body: bytes, *, yaml_ok: bool = False) -> dict[str, Any]:
    """An apply patch: an object."""
    decoded = value(body, yaml_ok=yaml_ok)
    if not isinstance(decoded, dict):
        raise errors.BadRequest(
            f"json: cannot unmarshal {yamlsafe.go_json_type(decoded)} "
            "into Go value of type map[string]interface {}"
        )
    return decoded


def dry_run(values: list[str], options: str) -> bool:
    """Whether `dryRun` asks for a dry run; anything but `All` is the apiserver's 422 on
    `<options>.meta.k8s.io` (`options`: CreateOptions, UpdateOptions, PatchOptions, DeleteOptions)."""
    bad = [v for v in values if v != "All"]
    if not bad:
        return bool(values)
    shown = "[]string{" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "}"
    cause = f'Unsupported value: {shown}: supported values: "All"'
    raise errors.Invalid(
        f'{options}.meta.k8s.io "" is invalid: dryRun: {cause}',
        details={
            "group": "meta.k8s.io",
            "kind": options,
            "causes": [{"reason": "FieldValueNotSupported", "message": cause, "field": "dryRun"}],
        },
    )
