"""What the kube-apiserver's decoding and object validation refuse before anything is stored.

The real server decodes every body into Go structs before it validates: a value of the wrong JSON
type (`metadata.name: 123`, labels that are a list, a Secret's `data` that is not base64) fails
there, with Go's `encoding/json` wording, and the request never reaches validation. The store
keeps raw JSON-shaped dicts, so it asks these questions itself, on every write:

- `decode_problem`: the Go decoding error the body would raise (ObjectMeta's fields, ConfigMap and
  Secret data), or None. Create, update and apply report it as a 400 (the create and update
  handlers' `transformDecodeError`: `<Kind> in version "<v>" cannot be handled as a <Kind>: <err>`);
  a patch reports it as a 422 about the patched document (`patch: Invalid value: ...`), as the
  patch handler does (apiserver `endpoints/handlers/patch.go`).
- `too_deep`: objects nesting deeper than `yamlsafe.MAX_DEPTH`, refused before any recursive walk.
- `normalize_secret`: `stringData` merged into base64 `data` and dropped, as the v1-to-internal
  Secret conversion does (kubernetes `pkg/apis/core/v1/conversion.go`), so it is never stored.
- `size_problems`: ConfigMaps and Secrets over 1 MiB of data and annotations over 256 KiB
  (kubernetes `pkg/apis/core/validation` ValidateConfigMap / ValidateSecret, apimachinery
  ValidateAnnotationsSize), with the real field paths and `Too long` messages.

Provenance: Go's `encoding/json` UnmarshalTypeError and `encoding/base64` CorruptInputError
wording and offsets (our own code). Where we knowingly differ: custom resources are decoded into
unstructured maps by the real server, whose metadata errors are worded differently; we report
them as for built-ins. Nesting deeper than 100 levels is our own limit (Go's decoder allows 10,000),
reported in the decode error's shape.

Callers: `cluster.memory.store`, on every write. Pure functions; they never change their input
except `normalize_secret`, which changes the object it is given (the store's own new copy).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from gitops_sim.cluster.validation import FieldError
from gitops_sim.model import yamlsafe

MAX_DATA_BYTES = 1_048_576  # core.MaxSecretSize, also the ConfigMap limit
MAX_ANNOTATION_BYTES = 262_144  # apimachinery TotalAnnotationSizeLimitB

_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def _type_error(value: Any, struct: str, field: str, go_type: str) -> str:
    found = yamlsafe.go_json_type(value)
    return f"json: cannot unmarshal {found} into Go struct field {struct}.{field} of type {go_type}"


def _string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _string_map(value: Any, struct: str, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _type_error(value, struct, field, "map[string]string")
    for item in value.values():
        if not _string(item):
            return _type_error(item, struct, field, "string")
    return None


def _string_list(value: Any, struct: str, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list):
        return _type_error(value, struct, field, "[]string")
    for item in value:
        if not _string(item):
            return _type_error(item, struct, field, "string")
    return None


_CANONICAL_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def base64_error(text: str) -> int | None:
    """The offset Go's `base64.StdEncoding` reports for `text` (CorruptInputError), or None.

    Go skips CR and LF anywhere, requires padding, and reports the first byte it cannot use.
    Whole quanta with padding only at the end, and no line breaks, is valid for Go and the
    common case (a Helm release is hundreds of kilobytes): it is matched in C first.
    """
    if _CANONICAL_B64.fullmatch(text):
        return None
    src = text.encode()
    si, n = 0, len(src)
    while si < n:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return si - j  # an unfinished quantum: padding is required
            c = src[si]
            si += 1
            if c in _B64:
                j += 1
                continue
            if c in (0x0A, 0x0D):
                continue
            if c != 0x3D:  # '='
                return si - 1
            if j in (0, 1):
                return si - 1  # padding too early
            if j == 2:  # a second '=' must follow
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    return n
                if src[si] != 0x3D:
                    return si - 1
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            return si if si < n else None  # anything after the padding is garbage
    return None


def _bytes_map(value: Any, struct: str, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _type_error(value, struct, field, "map[string][]uint8")
    for item in value.values():
        if item is None:
            continue
        if not isinstance(item, str):
            return _type_error(item, struct, field, "[]uint8")
        at = base64_error(item)
        if at is not None:
            return f"illegal base64 data at input byte {at}"
    return None


_META_STRINGS = frozenset({"name", "generateName", "namespace", "uid", "resourceVersion", "selfLink"})


def _metadata_problem(meta: Any, kind: str) -> str | None:
    if meta is None:
        return None
    if not isinstance(meta, dict):
        return _type_error(meta, kind, "metadata", "v1.ObjectMeta")
    for key, value in meta.items():  # one pass: this runs on every write
        if value is None:
            continue
        if key in _META_STRINGS:
            if type(value) is not str:
                return _type_error(value, "ObjectMeta", f"metadata.{key}", "string")
        elif key == "labels" or key == "annotations":
            problem = _string_map(value, "ObjectMeta", f"metadata.{key}")
            if problem:
                return problem
        elif key == "finalizers":
            problem = _string_list(value, "ObjectMeta", "metadata.finalizers")
            if problem:
                return problem
        elif key == "generation":
            if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
                shown = yamlsafe.go_json_type(value) if not isinstance(value, float) else f"number {value}"
                where = "ObjectMeta.metadata.generation"
                return f"json: cannot unmarshal {shown} into Go struct field {where} of type int64"
        elif key == "ownerReferences":
            problem = _owner_references_problem(value)
            if problem:
                return problem
        elif key == "managedFields":
            problem = _managed_fields_problem(value)
            if problem:
                return problem
    return None


def _owner_references_problem(refs: Any) -> str | None:
    if refs is None:
        return None
    if not isinstance(refs, list):
        return _type_error(refs, "ObjectMeta", "metadata.ownerReferences", "[]v1.OwnerReference")
    for ref in refs:
        if ref is None:
            continue
        if not isinstance(ref, dict):
            return _type_error(ref, "ObjectMeta", "metadata.ownerReferences", "v1.OwnerReference")
        for key in ("apiVersion", "kind", "name", "uid"):
            if not _string(ref.get(key)):
                return _type_error(ref[key], "OwnerReference", f"metadata.ownerReferences.{key}", "string")
        for key in ("controller", "blockOwnerDeletion"):
            if ref.get(key) is not None and not isinstance(ref[key], bool):
                return _type_error(ref[key], "OwnerReference", f"metadata.ownerReferences.{key}", "bool")
    return None


def _managed_fields_problem(entries: Any) -> str | None:
    if entries is None:
        return None
    where = "metadata.managedFields"
    if not isinstance(entries, list):
        return _type_error(entries, "ObjectMeta", where, "[]v1.ManagedFieldsEntry")
    for entry in entries:
        if entry is None:
            continue
        if not isinstance(entry, dict):
            return _type_error(entry, "ObjectMeta", where, "v1.ManagedFieldsEntry")
        for key in ("manager", "operation", "apiVersion", "fieldsType", "subresource", "time"):
            if not _string(entry.get(key)):
                go_type = "v1.Time" if key == "time" else "string"
                return _type_error(entry[key], "ManagedFieldsEntry", f"{where}.{key}", go_type)
        if entry.get("fieldsV1") is not None and not isinstance(entry["fieldsV1"], dict):
            return _type_error(entry["fieldsV1"], "ManagedFieldsEntry", f"{where}.fieldsV1", "v1.FieldsV1")
    return None


def decode_problem(obj: Any, group: str, kind: str) -> str | None:
    """The Go decoding error of `obj` as a `kind` of `group`, or None when it decodes."""
    if not isinstance(obj, dict):
        found = yamlsafe.go_json_type(obj)
        return f"json: cannot unmarshal {found} into Go value of type map[string]interface {{}}"
    for key in ("apiVersion", "kind"):
        if not _string(obj.get(key)):
            return _type_error(obj[key], kind, key, "string")
    problem = _metadata_problem(obj.get("metadata"), kind)
    if problem or group:
        return problem
    if kind == "ConfigMap":
        return _string_map(obj.get("data"), "ConfigMap", "data") or _bytes_map(
            obj.get("binaryData"), "ConfigMap", "binaryData"
        )
    if kind == "Secret":
        if not _string(obj.get("type")):
            return _type_error(obj["type"], "Secret", "type", "v1.SecretType")
        return _bytes_map(obj.get("data"), "Secret", "data") or _string_map(
            obj.get("stringData"), "Secret", "stringData"
        )
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit` (a scalar is 1), without recursion; only
    containers are visited, so flat maps of strings cost one pass over their values."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = item.values() if type(item) is dict else item if type(item) is list else ()
        for child in children:
            if type(child) is dict or type(child) is list:
                if level + 1 >= limit:
                    if child:  # a non-empty container holds a value one level further down
                        return True
                    if level + 1 > limit:
                        return True
                    continue
                pending.append((child, level + 1))
            elif level + 1 > limit:
                return True
    return False


def too_deep(obj: Any) -> str | None:
    """The decode error for an object nesting deeper than `yamlsafe.MAX_DEPTH`, or None.

    `metadata.managedFields` mirror the object's fields three levels further down (the list, the
    entry, `fieldsV1`), so they are measured against the limit plus those levels.
    """
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if isinstance(meta, dict) and "managedFields" in meta:
        if _deeper_than(meta["managedFields"], yamlsafe.MAX_DEPTH + 2):
            return f"the object nests deeper than {yamlsafe.MAX_DEPTH} levels"
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    if _deeper_than(obj, yamlsafe.MAX_DEPTH):
        return f"the object nests deeper than {yamlsafe.MAX_DEPTH} levels"
    return None


def normalize_secret(obj: dict[str, Any]) -> None:
    """Merge `stringData` into `data` (stringData wins) and drop it; re-encode `data` canonically.

    `obj` must have decoded (`decode_problem` returned None), so every `data` value is base64.
    """
    string_data = obj.pop("stringData", None)
    data = obj.get("data")
    if not data and not string_data:
        return
    out: dict[str, str] = {}
    for key, value in (data or {}).items():
        if value is None:
            out[key] = ""
            continue
        try:
            out[key] = base64.b64encode(base64.b64decode(value.replace("\n", "").replace("\r", ""))).decode()
        except binascii.Error:  # pragma: no cover - decode_problem refused it already
            out[key] = value
    for key, value in (string_data or {}).items():
        out[key] = base64.b64encode((value or "").encode()).decode()
    obj["data"] = out


def _decoded_size(value: str) -> int:
    stripped = value.replace("\n", "").replace("\r", "")
    return len(stripped) * 3 // 4 - stripped[-2:].count("=")


def _text_bytes(items: Any, limit: int) -> int:
    """The UTF-8 size of a map of strings' keys and values, exact once it could pass `limit`."""
    chars = sum(len(k) + len(v or "") for k, v in items)
    if chars * 4 <= limit:  # a character is at most 4 bytes: cannot be over, skip encoding
        return chars
    return sum(len(k.encode()) + len((v or "").encode()) for k, v in items)


def size_problems(group: str, kind: str, obj: dict[str, Any]) -> list[FieldError]:
    """What is too long in `obj` (ConfigMap and Secret data, annotations)."""
    out: list[FieldError] = []
    annotations = (obj.get("metadata") or {}).get("annotations")
    if annotations and _text_bytes(annotations.items(), MAX_ANNOTATION_BYTES) > MAX_ANNOTATION_BYTES:
        out.append(_too_long("metadata.annotations", MAX_ANNOTATION_BYTES))
    if group:
        return out
    if kind == "ConfigMap":
        total = _text_bytes((obj.get("data") or {}).items(), MAX_DATA_BYTES)
        binary = obj.get("binaryData")
        if binary:
            total += sum(len(k.encode()) + _decoded_size(v or "") for k, v in binary.items())
        if total > MAX_DATA_BYTES:
            out.append(_too_long("[]", MAX_DATA_BYTES))  # "" in Go: the whole object
    elif kind == "Secret":
        total = sum(len(k.encode()) + _decoded_size(v or "") for k, v in (obj.get("data") or {}).items())
        if total > MAX_DATA_BYTES:
            out.append(_too_long("data", MAX_DATA_BYTES))
    return out


def _too_long(path: str, limit: int) -> FieldError:
    return FieldError("FieldValueTooLong", path, f"Too long: must have at most {limit} bytes")
