"""How a Flux API type is declared once in Python, and what is derived from the declaration.

A Flux type is a frozen dataclass whose fields are declared with `f(...)`: the field's
description, its validation markers (the `+kubebuilder:validation:*` markers of Flux's Go types:
pattern, enum via `Literal[...]`, bounds, lengths, item counts), its default (`+kubebuilder:default`)
and its CEL rules (`+kubebuilder:validation:XValidation`). A field without a default is required.
From that one declaration come:

- `openapi(cls)`: the structural OpenAPI v3 schema of the type, as controller-gen writes it into
  the CRD (types, `required`, `enum`, `pattern`, `default`, `x-kubernetes-validations`, list and
  map types, descriptions for `kubectl explain`);
- `parse(cls, data)`: a JSON value read into the typed value, so a controller reads
  `spec.interval` as a checked `str` and mypy checks every access.

Python types map to JSON as controller-gen maps Go types: `str`, `int`, `bool`, `float`
(`number`), `tuple[X, ...]` (an array, read as a tuple so a parsed spec is immutable),
`dict[str, X]` (a map), `IntOrString` (`x-kubernetes-int-or-string`), `Json` (any JSON,
`x-kubernetes-preserve-unknown-fields`), `JsonObject` (an object of any JSON), a `Literal` of
strings (an `enum`), another declared dataclass (a nested object), and `X | None` (an optional
field without a default: absent reads as None unless `empty=` says what absent reads as).

Callers: the Flux API modules beside this one (`meta`, `source`, `kustomize`, ...), `crds` (which
generates the CustomResourceDefinitions) and the controllers (parse). Pure functions, no I/O.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")

# The markers' names as this module spells them, and their OpenAPI keys.
_MARKERS = {
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusive_minimum": "exclusiveMinimum",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_items": "minItems",
    "max_items": "maxItems",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
    "format": "format",
}
_META = "gitops_sim.fluxapi"


class _Sentinel:
    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Sentinel()


class IntOrString:
    """Marker type: a JSON integer or string (`intstr.IntOrString`, `x-kubernetes-int-or-string`)."""


class Json:
    """Marker type: any JSON value (`apiextensionsv1.JSON`, `x-kubernetes-preserve-unknown-fields`)."""


class JsonObject:
    """Marker type: a JSON object whose fields are kept unchecked (an object with
    `x-kubernetes-preserve-unknown-fields`, such as a HelmRelease's `values`)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One `x-kubernetes-validations` entry: a CEL `rule` over `self` and its `message`.

    `field_path` (relative to the object the rule is on, `.sts`) and `reason`
    (`FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`, default
    `FieldValueInvalid`) shape the error as the API server reports it.
    """

    rule: str
    message: str = ""
    field_path: str = ""
    reason: str = ""

    def openapi(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule}
        if self.message:
            out["message"] = self.message
        if self.field_path:
            out["fieldPath"] = self.field_path
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class _Spec:
    """What `f` recorded about one field."""

    doc: str
    json: str | None
    default: Any
    markers: Mapping[str, Any]
    rules: tuple[Rule, ...]
    list_type: str | None
    list_map_keys: tuple[str, ...]
    map_type: str | None
    item_markers: Mapping[str, Any]
    nullable: bool
    required: bool


def f(
    doc: str,
    *,
    default: Any = ABSENT,
    empty: Any = ABSENT,
    json: str | None = None,
    rules: tuple[Rule, ...] = (),
    list_type: Literal["atomic", "set", "map"] | None = None,
    list_map_keys: tuple[str, ...] = (),
    map_type: Literal["atomic", "granular"] | None = None,
    item_pattern: str | None = None,
    item_max_length: int | None = None,
    nullable: bool = False,
    required: bool = False,
    pattern: str | None = None,
    minimum: int | float | None = None,
    maximum: int | float | None = None,
    exclusive_minimum: bool | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    min_items: int | None = None,
    max_items: int | None = None,
    min_properties: int | None = None,
    max_properties: int | None = None,
    format: str | None = None,
) -> Any:
    """Declare one field of a Flux type (the dataclass field it returns).

    `doc`: the description `kubectl explain` shows. `default`: the `+kubebuilder:default` (in the
    schema, and what `parse` reads when the field is absent). `empty`: what `parse` reads for an
    absent optional field that has no schema default (`list`/`dict`/a value; None otherwise).
    Without either the field is required; `required=True` lists a defaulted field as required too
    (the server defaults before it validates, so only the schema shows it). `format=""` drops the
    type's format (a Go `int`, which has no width). `json`: the JSON name when it is not the camelCase of
    the attribute's name. The remaining keywords are the validation markers, as in OpenAPI.
    `item_pattern`/`item_max_length` apply to a list's items (`+kubebuilder:validation:items:*`).
    """
    markers = {
        key: value
        for key, value in (
            ("pattern", pattern),
            ("minimum", minimum),
            ("maximum", maximum),
            ("exclusive_minimum", exclusive_minimum),
            ("min_length", min_length),
            ("max_length", max_length),
            ("min_items", min_items),
            ("max_items", max_items),
            ("min_properties", min_properties),
            ("max_properties", max_properties),
            ("format", format),
        )
        if value is not None
    }
    item_markers = {
        key: value
        for key, value in (("pattern", item_pattern), ("max_length", item_max_length))
        if value is not None
    }
    spec = _Spec(
        doc=doc,
        json=json,
        default=default,
        markers=markers,
        rules=rules,
        list_type=list_type,
        list_map_keys=list_map_keys,
        map_type=map_type,
        item_markers=item_markers,
        nullable=nullable,
        required=required,
    )
    metadata = {_META: spec}
    if default is not ABSENT:
        if isinstance(default, dict | list):
            frozen = _freeze(default)
            return dataclasses.field(default_factory=lambda: frozen, metadata=metadata)
        return dataclasses.field(default=default, metadata=metadata)
    if empty is ABSENT:
        return dataclasses.field(metadata=metadata)
    if callable(empty):
        return dataclasses.field(default_factory=empty, metadata=metadata)
    return dataclasses.field(default=empty, metadata=metadata)


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def camel(name: str) -> str:
    """`source_ref` → `sourceRef` (a trailing underscore, for Python keywords, is dropped)."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def rules(*declared: Rule) -> Callable[[type[T]], type[T]]:
    """Class decorator: the CEL rules on a type as a whole (`+kubebuilder:validation:XValidation`
    on the Go type), evaluated with `self` the object."""

    def apply(cls: type[T]) -> type[T]:
        cls.__fluxapi_rules__ = declared  # type: ignore[attr-defined]
        return cls

    return apply


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a declared type, resolved: its attribute, JSON name, type and declaration."""

    attr: str
    name: str
    hint: Any
    spec: _Spec
    required: bool


@functools.cache
def fields_of(cls: type) -> tuple[Field, ...]:
    """The declared fields of `cls`, in declaration order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for fld in dataclasses.fields(cls):
        spec = fld.metadata.get(_META)
        if not isinstance(spec, _Spec):
            raise TypeError(f"{cls.__name__}.{fld.name} is not declared with fluxapi.declare.f")
        required = spec.required or (
            fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING
        )
        out.append(Field(fld.name, spec.json or camel(fld.name), hints[fld.name], spec, required))
    return tuple(out)


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != len(typing.get_args(hint)):
            return (args[0] if len(args) == 1 else functools.reduce(operator.or_, args)), True
    return hint, False


# ---------------------------------------------------------------------------------------------
# OpenAPI


def openapi(cls: type, *, doc: str | None = None) -> dict[str, Any]:
    """The structural schema of declared type `cls` (its docstring as description unless `doc`)."""
    out: dict[str, Any] = {}
    description = doc if doc is not None else _doc_of(cls)
    if description:
        out["description"] = description
    props: dict[str, Any] = {}
    required = []
    for fld in fields_of(cls):
        props[fld.name] = _field_schema(fld)
        if fld.required:
            required.append(fld.name)
    out["properties"] = props
    if required:
        out["required"] = sorted(required)
    out["type"] = "object"
    declared: tuple[Rule, ...] = getattr(cls, "__fluxapi_rules__", ())
    if declared:
        out["x-kubernetes-validations"] = [r.openapi() for r in declared]
    return out


def _doc_of(cls: type) -> str:
    doc = cls.__doc__ or ""
    if doc.startswith(f"{cls.__name__}("):  # the dataclass-generated signature: no description
        return ""
    return " ".join(doc.split())


def _field_schema(fld: Field) -> dict[str, Any]:
    spec = fld.spec
    hint, _ = _strip_optional(fld.hint)
    schema = _type_schema(hint, spec.item_markers)
    out: dict[str, Any] = {}
    if spec.default is not ABSENT:
        out["default"] = _json_default(spec.default)
    out["description"] = " ".join(spec.doc.split())
    # A nested type's own description is replaced by the field's, as controller-gen does.
    out.update({k: v for k, v in schema.items() if k != "description"})
    for key, value in spec.markers.items():
        out[_MARKERS[key]] = value
    if out.get("format") == "":
        del out["format"]  # a Go `int` (no width): controller-gen writes no format
    if spec.nullable:
        out["nullable"] = True
    if spec.list_type:
        out["x-kubernetes-list-type"] = spec.list_type
    if spec.list_map_keys:
        out["x-kubernetes-list-map-keys"] = list(spec.list_map_keys)
    if spec.map_type:
        out["x-kubernetes-map-type"] = spec.map_type
    if spec.rules:
        out["x-kubernetes-validations"] = [
            *out.get("x-kubernetes-validations", []),
            *(r.openapi() for r in spec.rules),
        ]
    return dict(sorted(out.items()))


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dump(value)
    return value


def _type_schema(hint: Any, item_markers: Mapping[str, Any] = {}) -> dict[str, Any]:
    hint, _ = _strip_optional(hint)
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    origin = typing.get_origin(hint)
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"format": "int64", "type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is IntOrString:
        return {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    if hint is Json:
        return {"x-kubernetes-preserve-unknown-fields": True}
    if hint is JsonObject:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if origin is Literal:
        values = list(typing.get_args(hint))
        kind = "integer" if all(isinstance(v, int) for v in values) else "string"
        return {"enum": values, "type": kind}
    if origin is tuple:
        item = dict(_type_schema(typing.get_args(hint)[0]))
        for key, value in item_markers.items():
            item[_MARKERS[key]] = value
        return {"items": item, "type": "array"}
    if origin is dict:
        return {"additionalProperties": _type_schema(typing.get_args(hint)[1]), "type": "object"}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return openapi(hint)
    raise TypeError(f"no OpenAPI mapping for {hint!r}")


# ---------------------------------------------------------------------------------------------
# Parsing


class ParseError(ValueError):
    """A JSON value does not fit its declared type: `path` says where, as the API server would."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail


def parse(cls: type[T], data: Any, path: str = "spec") -> T:
    """`data` (JSON, as the API server stores it) read into declared type `cls`.

    Absent fields read as their schema default, their `empty` value or None; unknown fields are
    ignored (the API server has pruned them already). Raises `ParseError` naming the field when a
    value has the wrong type or a required field is absent.
    """
    value: T = _parse(cls, data, path)
    return value


def _parse(hint: Any, data: Any, path: str) -> Any:
    hint, optional = _strip_optional(hint)
    if data is None:
        if optional:
            return None
        raise ParseError(path, "Required value")
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    origin = typing.get_origin(hint)
    if hint is Json:
        return data
    if hint is JsonObject:
        return _expect(data, dict, "object", path)
    if hint is IntOrString:
        if isinstance(data, bool) or not isinstance(data, int | str):
            raise ParseError(path, f"must be an integer or a string, not {_json_name(data)}")
        return data
    if hint is str:
        return _expect(data, str, "string", path)
    if hint is bool:
        return _expect(data, bool, "boolean", path)
    if hint is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise ParseError(path, f"must be of type integer, not {_json_name(data)}")
        return data
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ParseError(path, f"must be of type number, not {_json_name(data)}")
        return float(data)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if data not in allowed:
            supported = ", ".join(f'"{v}"' for v in allowed)
            raise ParseError(path, f'Unsupported value: "{data}": supported values: {supported}')
        return data
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(
            _parse(item, v, f"{path}[{i}]") for i, v in enumerate(_expect(data, list, "array", path))
        )
    if origin is dict:
        value_hint = typing.get_args(hint)[1]
        mapping = _expect(data, dict, "object", path)
        return {k: _parse(value_hint, v, f"{path}.{k}") for k, v in mapping.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        mapping = _expect(data, dict, "object", path)
        kwargs = {}
        for fld in fields_of(hint):
            if fld.name in mapping and mapping[fld.name] is not None:
                kwargs[fld.attr] = _parse(fld.hint, mapping[fld.name], f"{path}.{fld.name}")
            elif isinstance(fld.spec.default, dict):
                kwargs[fld.attr] = _parse(fld.hint, fld.spec.default, f"{path}.{fld.name}")
            elif fld.required and fld.spec.default is ABSENT:
                raise ParseError(f"{path}.{fld.name}", "Required value")
        return hint(**kwargs)
    raise TypeError(f"no JSON reading for {hint!r}")


def _expect(data: Any, kind: type, name: str, path: str) -> Any:
    if not isinstance(data, kind) or (kind is not bool and isinstance(data, bool)):
        raise ParseError(path, f"must be of type {name}, not {_json_name(data)}")
    return data


def _json_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for kind, name in (
        (str, "string"),
        (int, "integer"),
        (float, "number"),
        (dict, "object"),
        (list, "array"),
    ):
        if isinstance(value, kind):
            return name
    return "null"


def dump(value: Any) -> Any:
    """A parsed value back as JSON (fields left at None are omitted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for fld in fields_of(type(value)):
            item = getattr(value, fld.attr)
            if item is not None:
                out[fld.name] = dump(item)
        return out
    if isinstance(value, tuple | list):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Kinds


@dataclass(frozen=True, slots=True)
class Column:
    """One `+kubebuilder:printcolumn`: what `kubectl get` shows."""

    name: str
    json_path: str
    type: str = "string"
    priority: int = 0
    description: str = ""

    def openapi(self) -> dict[str, Any]:
        out: dict[str, Any] = {"jsonPath": self.json_path, "name": self.name, "type": self.type}
        if self.priority:
            out["priority"] = self.priority
        if self.description:
            out["description"] = self.description
        return out


AGE = Column("Age", ".metadata.creationTimestamp", "date")
READY = Column("Ready", '.status.conditions[?(@.type=="Ready")].status')
STATUS = Column("Status", '.status.conditions[?(@.type=="Ready")].message')


@dataclass(frozen=True, slots=True)
class Version:
    """One served version of a Flux kind.

    `doc`: the kind's description (the Go type's comment). `status`: the status type, or None for
    a kind without a status subresource (Alert and Provider v1beta3). `storage`: the version
    objects are stored in. `deprecation`: the warning kubectl prints when the version is used.
    """

    name: str
    doc: str
    spec: type
    status: type | None
    columns: tuple[Column, ...]
    storage: bool = True
    deprecation: str | None = None
    spec_required: bool = False
    status_default: Mapping[str, Any] | None = dataclasses.field(
        default_factory=lambda: {"observedGeneration": -1}
    )
    """`+kubebuilder:default` on the status field: most Flux kinds start at observedGeneration -1,
    so kstatus reads a new object as InProgress until its controller reports."""


@dataclass(frozen=True, slots=True)
class Kind:
    """A Flux kind: its names, scope and served versions (the CRD's `spec.names` and `versions`)."""

    group: str
    kind: str
    plural: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    versions: tuple[Version, ...]
    component: str
    """The controller that serves the kind (the CRD's `app.kubernetes.io/component` label)."""
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def storage(self) -> Version:
        return next(v for v in self.versions if v.storage)

    def schema(self, version: Version) -> dict[str, Any]:
        """The version's `openAPIV3Schema`."""
        props: dict[str, Any] = {
            "apiVersion": {
                "description": "The versioned schema of this representation of an object: "
                "<group>/<version>. The server refuses a version it does not serve.",
                "type": "string",
            },
            "kind": {
                "description": "The REST resource this object represents, in CamelCase. "
                "Servers may infer it from the endpoint the client submits to.",
                "type": "string",
            },
            "metadata": {"type": "object"},
            "spec": openapi(version.spec),
        }
        if version.status is not None:
            status = openapi(version.status)
            if version.status_default is not None:
                status = {"default": dict(version.status_default), **status}
            props["status"] = status
        out: dict[str, Any] = {"description": " ".join(version.doc.split()), "properties": props}
        if version.spec_required:
            out["required"] = ["spec"]
        out["type"] = "object"
        return out
