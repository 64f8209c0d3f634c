"""Validation, defaulting and pruning of objects against their kind's OpenAPI schema.

For custom resources this is what the real server does with a CRD's structural
`openAPIV3Schema`: unknown fields are pruned (unless `x-kubernetes-preserve-unknown-fields`),
`default`s are filled in, and types, `required`, `enum`, `pattern`, lengths, bounds and item counts
are checked, with kube-openapi's messages. Built-in kinds are checked against the OpenAPI schemas
from `kubernetes-validate` for types, required fields and enums, and their unknown fields are
dropped as the real server's JSON decoding drops them.

Simulated on purpose, and visibly different: built-ins are validated by their OpenAPI schema, not
by each registry's Go validation, so a required field is reported where the schema requires it
(for example `spec: Required value` for a Deployment without a spec, where the real server lists
what the spec lacks).

A CRD's CEL rules (`x-kubernetes-validations`) are evaluated after the walk, on the pruned and
defaulted values, as the apiextensions server does (`apiextensions-apiserver/pkg/apiserver/
schema/cel/validation.go`): `self` is the value the rule sits on, `oldSelf` its value before an
update (a rule using `oldSelf` is skipped on create); a failed rule is the error its `reason`
names, at its `fieldPath`, with its `message` (`failed rule: <rule>` when it has none), and an
object's or list's value left out of the message (`spec: Invalid value: <message>`), as v1.37
words it. Ratcheting (CRDValidationRatcheting, on since v1.30): a value left unchanged by an
update is not checked again, so an object stored before a rule existed can still be updated
elsewhere (the real server evaluates it and turns its errors into warnings, which we do not
emit). After a blocking schema error (a required field, an unsupported value, a wrong type, too
long, too many) the rules are not run, and the server's note that they were not is added. The
expression engine is the project's (`model.cel`), not cel-go: Kubernetes' CEL libraries beyond
the standard ones (`isURL`, `quantity`, ...) are not available, and a rule using one fails as an
evaluation error. No cost budget is enforced.

Values are classified by JSON type, not by exact Python class (`json_type`: bool before int, so
`True` is never an integer, and a `str` or `int` subclass such as the controllers' `StrEnum`
reasons is a string or an integer), and what the walk returns is plain JSON: such subclasses come
back as `str`, `int` and `float` (`plain_copy` does the same for free-form parts and for the
store's other copies), so nothing the store keeps is an enum. The real server never sees Python
classes (it decodes JSON), so this is where our in-process clients differ from real ones.

Callers: `cluster.memory.store`, before every write is stored. Pure functions; no I/O. Must never
change its input in place.
"""

from __future__ import annotations

import functools
import itertools
import json
import marshal
import re
from dataclasses import dataclass, field
from typing import Any

from gitops_sim.cluster.schema import Node
from gitops_sim.model import cel, objects

_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array"}
_PLAIN = frozenset({str, int, float, bool, type(None)})
"""The exact classes of plain JSON scalars (containers are checked apart)."""


def json_type(value: Any) -> str:
    """The JSON type of a Python value: "string", "boolean", "integer", "number", "object", "array",
    or "null" for None and for anything that is not JSON. Subclasses count as their base (a
    `StrEnum` member is a string); `bool` is checked before `int`, of which it is a subclass."""
    have = _JSON_TYPES.get(type(value))
    if have is not None:
        return have
    if isinstance(value, bool):
        return "boolean"
    for base, name in _JSON_TYPES.items():
        if isinstance(value, base):
            return name
    return "null"


def _plain_scalar(value: Any) -> Any:
    """A scalar of a subclass of a JSON type as the plain value (a `StrEnum` member as its `str`)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return value  # not JSON at all: left for the body checks to refuse


def plain_copy(value: Any) -> Any:
    """A deep copy of a JSON-shaped value in plain JSON types: dicts, lists, `str`, `int`, `float`,
    `bool` and None, with subclassed values (enums) converted. As cheap as `objects.clone`: one set
    lookup per value. Keys are left as they are (checking them cost 7% of a copy, and no caller
    keys a map by an enum; a `str` subclass key hashes and compares as its `str`)."""
    t = type(value)
    if t is dict:
        return {k: (v if type(v) in _PLAIN else plain_copy(v)) for k, v in value.items()}
    if t is list:
        return [v if type(v) in _PLAIN else plain_copy(v) for v in value]
    if t in _PLAIN:
        return value
    return _plain_scalar(value)


def plain_object(obj: dict[str, Any]) -> dict[str, Any]:
    """`plain_copy` of an object."""
    copied: dict[str, Any] = plain_copy(obj)
    return copied


_ABSENT: Any = object()
"""No stored value at this path (`check`'s `old`)."""
_CONTAINER_TYPES = (dict, list)


@dataclass(frozen=True, slots=True)
class FieldError:
    reason: str  # FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueTypeInvalid...
    field: str
    detail: str

    @property
    def message(self) -> str:
        return f"{self.field}: {self.detail}"

    def cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.detail, "field": self.field}


@dataclass(slots=True)
class Report:
    errors: list[FieldError] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    size: int = 0
    """A lower bound on the object's JSON size: what the walk saw (strings count one byte a character)."""
    opaque: bool = False
    """Some of the object was free-form JSON the walk did not measure."""
    copy: bool = False
    """Return fresh containers everywhere (the walk then doubles as the deep copy of the input)."""
    created: set[tuple[str, ...]] | None = None
    """When set, collects the FieldsV1 paths an Update that creates the object owns."""
    deferred: list[tuple[Any, Node | None, tuple[str, ...]]] = field(default_factory=list)
    """Lists and free-form values whose created paths the caller walks (with `fields.walk_created`)."""
    ruled: list[tuple[str, Any, Node]] = field(default_factory=list)
    """Values whose schema carries CEL rules, by path, for `_evaluate` after the walk."""
    rules_held: bool = False
    """`check`'s `old` was stored after a check against this very schema, its CEL rules included."""


def _show(value: Any) -> str:
    return json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else json.dumps(value)


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check(
    obj: dict[str, Any],
    node: Node,
    *,
    custom: bool,
    copy: bool = False,
    created: bool = False,
    include_status: bool = True,
    old: dict[str, Any] | None = None,
    reuse_unchanged: bool = False,
    rules_held: bool = False,
) -> tuple[dict[str, Any], Report]:
    """Return `obj` pruned (and, for custom resources, defaulted) and what was wrong with it.

    With `copy`, nothing of `obj` is shared with the result, so a caller's object can be stored.
    With `created`, `report.created` (plus `report.deferred`) is the field set of an Update that
    created the object, computed on the way (status left out unless `include_status`).
    `old`: the stored object an update replaces (CEL transition rules and ratcheting read it).
    With `reuse_unchanged` (an update of `old`, written through its stored version), a map or
    list that is `old`'s at the same path to the byte (`_same`: the same JSON types, keys in the
    same order), under a schema without CEL rules, is `old`'s own (already pruned, defaulted and
    checked when it was stored) and is not walked again: what a status update leaves of the spec,
    and an unchanged inventory, cost a comparison each. With `rules_held` too (`old` was checked
    against this very `node`), `old`'s very value is not walked again even under CEL rules.
    """
    report = Report(copy=copy, created=set() if created else None, rules_held=rules_held)
    out = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            out[key] = value if type(value) in _PLAIN else plain_copy(value)
            continue
        if key == "metadata" and isinstance(value, dict):
            out[key] = _metadata(value, node.field(key), report, custom)
            continue
        child = node.field(key)
        fpath = (f"f:{key}",) if created and (include_status or key != "status") else None
        if child is not None:
            before = old.get(key, _ABSENT) if reuse_unchanged and old is not None else _ABSENT
            out[key] = _walk(value, child, key, report, custom, fpath, before)
        elif node.preserve_unknown:
            out[key] = plain_copy(value) if copy else value
            report.opaque = True
            if fpath is not None:
                report.deferred.append((out[key], None, fpath))
        else:
            report.unknown.append(key)
    if custom:
        _defaults(out, node, "", report, custom)
    for name in node.raw.get("required") or []:
        if name not in out and name not in ("apiVersion", "kind", "metadata"):
            report.errors.append(FieldError("FieldValueRequired", name, "Required value"))
    if custom and node.any_rules:
        if any(e.reason in _BLOCKING for e in report.errors):
            report.errors.append(_NOT_CHECKED)
        elif report.ruled:
            _evaluate(report, old)
    return out, report


# Schema errors after which the server does not run the CRD's CEL rules, and the note it adds
# (`hasBlockingErr` in apiextensions-apiserver's customresource strategy).
_BLOCKING = frozenset(
    {
        "FieldValueNotSupported",
        "FieldValueRequired",
        "FieldValueTooLong",
        "FieldValueTooMany",
        "FieldValueTypeInvalid",
    }
)
_NOT_CHECKED = FieldError(
    "FieldValueInvalid",
    "<nil>",
    "Invalid value: null: some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation",
)


# Written by the server itself, so never worth checking again.
_SERVER_META = frozenset(
    {
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "name",
        "namespace",
    }
)


def _metadata(meta: dict[str, Any], node: Node | None, report: Report, custom: bool) -> dict[str, Any]:
    if node is None:
        return meta
    user = {k: v for k, v in meta.items() if k not in _SERVER_META}
    fpath = ("f:metadata",) if report.created is not None else None
    checked = _walk(user, node, "metadata", report, custom, fpath)
    if checked is user and not report.copy:
        return meta
    return {**{k: v for k, v in meta.items() if k in _SERVER_META}, **checked}


def _same(before: Any, value: Any) -> bool:
    """Whether `value` is what was stored, `before`, to the byte: Python's `==` alone would take
    `1`, `1.0` and `True` for each other (and a `true` sent for an integer would go unchecked),
    and maps with their keys in another order (which the walk keeps) for the same."""
    if before is value:
        return True
    if before != value:
        return False
    if (
        type(before) is dict
        and type(value) is dict
        and list(before) == list(value)
        and all(a is b for a, b in zip(before.values(), value.values(), strict=True))
    ):
        return True  # the same keys in the same order, each holding the very same value
    try:  # marshal's version 0 writes each value's exact type, maps in order, and no references
        return marshal.dumps(before, 0) == marshal.dumps(value, 0)
    except ValueError:  # a subclass (an enum member) or not JSON at all: walk it
        return False


def _walk(
    value: Any,
    node: Node,
    path: str,
    report: Report,
    custom: bool,
    fpath: tuple[str, ...] | None = None,
    before: Any = _ABSENT,
) -> Any:
    """Check `value`; return it, or a pruned/defaulted copy when something had to change.

    `fpath` is the value's FieldsV1 path when the created field set is being collected.
    `before`: the stored value at this path, to reuse when unchanged (`check`'s
    `reuse_unchanged`); `_ABSENT` when there is none.
    """
    if (
        before is not _ABSENT
        and fpath is None
        and type(value) in _CONTAINER_TYPES
        # CEL rules below: walk on (their unchanged parts may still be reused), unless this is the
        # stored value itself and the stored object was checked against these very rules (what an
        # update leaves unchanged is ratcheted, and a list item's rules held when it was stored)
        and (report.rules_held and before is value if node.any_rules else _same(before, value))
    ):
        report.opaque = True  # not measured: the size check encodes the object instead
        return before
    if node.string_map and type(value) is dict and value and all(type(v) is str for v in value.values()):
        # A map of strings (labels, annotations, ConfigMap data): checked in one pass.
        report.size += 8 + sum(len(k) + len(v) + 6 for k, v in value.items())
        if fpath is not None and report.created is not None:
            report.created.add(fpath)
            report.created.update((*fpath, f"f:{k}") for k in value)
        return dict(value) if report.copy else value
    if value is None:
        if not custom or node.raw.get("nullable") or "null" in node.types:
            return None
        report.errors.append(
            FieldError(
                "FieldValueTypeInvalid",
                path,
                f'Invalid value: "null": {path} in body must be of type {_first_type(node)}: "null"',
            )
        )
        return None
    allowed = node.allowed
    have = _JSON_TYPES.get(type(value)) or json_type(value)
    if allowed and have not in allowed:
        report.errors.append(
            FieldError(
                "FieldValueTypeInvalid",
                path,
                f'Invalid value: "{have}": {path} in body must be of type {_first_type(node)}: "{have}"',
            )
        )
        return value
    raw = node.raw
    if node.has_value_rules:
        _scalar_rules(value, node, path, report)
    report.size += len(value) + 2 if have == "string" else 8
    created = report.created if fpath is not None else None
    fp: tuple[str, ...] = fpath if fpath is not None else ()
    if created is not None and (have not in ("object", "array") or not value or node.map_atomic):
        created.add(fp)  # a leaf: a scalar, an empty map or list, or an atomic map
        created = None
    if have == "object":
        if created is not None and not node.has_properties:
            created.add(fp)  # a map (not a struct) the update created: FieldsV1 marks it with `.`
        out: dict[str, Any] | None = None
        for index, (key, sub) in enumerate(value.items()):
            child = node.field(key)
            keep = True
            report.size += len(key) + 4
            sub_fpath = (*fp, f"f:{key}") if created is not None else None
            if child is not None:
                sub_before = before.get(key, _ABSENT) if type(before) is dict else _ABSENT
                new = _walk(sub, child, _path(path, key), report, custom, sub_fpath, sub_before)
            elif node.preserve_unknown or not (node.has_properties or custom):
                new = plain_copy(sub) if report.copy else sub  # free-form JSON: kept as it is
                report.opaque = True
                if sub_fpath is not None:
                    report.deferred.append((new, None, sub_fpath))
            else:
                report.unknown.append(_path(path, key))  # pruned, as structural schemas prune
                new, keep = None, False
            if out is None and (not keep or new is not sub or report.copy):
                out = dict(itertools.islice(value.items(), index))
            if out is not None and keep:
                out[key] = new
        result = out if out is not None else ({} if report.copy else value)
        if custom and _missing_defaults(result, node):
            result = dict(result)
            _defaults(result, node, path, report, custom)
        for name in raw.get("required") or ():
            if name not in result:
                report.errors.append(FieldError("FieldValueRequired", _path(path, name), "Required value"))
        if "minProperties" in raw or "maxProperties" in raw:
            _count_rules(len(result), node, path, report, "properties")
        if custom and node.validations:
            report.ruled.append((path, result, node))
        return result
    if have == "array":
        if "minItems" in raw or "maxItems" in raw:
            _count_rules(len(value), node, path, report, "items")
        items = node.items()
        if items is None:
            report.opaque = True
            result = plain_copy(value) if report.copy else value
        else:
            walked = [_walk(v, items, _path(path, i), report, custom) for i, v in enumerate(value)]
            unchanged = not report.copy and all(a is b for a, b in zip(walked, value, strict=True))
            result = value if unchanged else walked
            if custom and node.list_type != "atomic":
                _unique(result, node, path, report)
        if created is not None:
            report.deferred.append((result, node, fp))  # list types: fields.walk_created knows them
        if custom and node.validations:
            report.ruled.append((path, result, node))
        return result
    scalar = value if type(value) in _PLAIN else _plain_scalar(value)  # an enum member: its plain value
    if custom and node.validations:
        report.ruled.append((path, scalar, node))
    return scalar


def _old_value(old: dict[str, Any] | None, path: str) -> Any:
    """The value at `path` in `old`, or `_ABSENT`. Only object fields correlate: a path through a
    list item has no old value (the server correlates map-type lists by key; we do not)."""
    if old is None or "[" in path:
        return _ABSENT
    value: Any = old
    for key in path.split("."):
        if type(value) is not dict or key not in value:
            return _ABSENT
        value = value[key]
    return value


_SELF = re.compile(r"\b(self|oldSelf)\b(\.([A-Za-z_][A-Za-z0-9_]*))?")


@functools.cache
def _fields_read(rule: str) -> frozenset[str] | None:
    """The fields of `self` (and `oldSelf`) a rule reads, when it only ever reads named fields of
    them (`self.chart`, `has(self.chartRef)`); None when it uses them whole (`self == oldSelf`,
    `size(self)`, `self.all(...)`)."""
    names = set()
    for match in _SELF.finditer(rule):
        field = match.group(3)
        if field is None or field in ("all", "exists", "exists_one", "map", "filter", "size"):
            return None
        names.add(field)
    return frozenset(names)


def _project(value: Any, rule: str) -> Any:
    """`value` as the rule needs it: an object cut down to the fields the rule reads (converting a
    HelmRelease's whole `values` into CEL for `has(self.chart)` is most of a write's cost)."""
    if type(value) is not dict:
        return value
    names = _fields_read(rule)
    if names is None:
        return value
    return {k: value[k] for k in names if k in value}


_RESULTS: dict[tuple[str, str], Any] = {}
_RESULTS_MAX = 4096


def _run(rule: str, variables: dict[str, Any]) -> Any:
    """`cel.run`, remembered by rule and (projected) input: the same specs are written again and
    again, and a call into the CEL engine costs more than serialising a projected value."""
    key = (rule, json.dumps(variables, sort_keys=True, separators=(",", ":")))
    if key not in _RESULTS:
        if len(_RESULTS) >= _RESULTS_MAX:
            _RESULTS.clear()
        _RESULTS[key] = cel.run(rule, variables)  # a CelError is not remembered: raised each time
    return _RESULTS[key]


_CEL_REASONS = {
    "FieldValueForbidden": ("FieldValueForbidden", "Forbidden"),
    "FieldValueRequired": ("FieldValueRequired", "Required value"),
    "FieldValueDuplicate": ("FieldValueDuplicate", "Duplicate value"),
}


def _evaluate(report: Report, old: dict[str, Any] | None) -> None:
    """Evaluate the CEL rules of the values the walk collected (see the module docstring)."""
    for path, value, node in report.ruled:
        before = _old_value(old, path)
        if before is not _ABSENT and before == value:
            continue  # ratcheted: unchanged by this update
        kind = _first_type(node)
        for rule in node.validations:
            source = str(rule.get("rule") or "")
            message = str(rule.get("message") or "").strip()
            uses_old = "oldSelf" in source
            if not source or (uses_old and before is _ABSENT):
                continue  # a transition rule needs the value before the update
            variables = {"self": _project(value, source)}
            if uses_old:
                variables["oldSelf"] = _project(before, source)
            try:
                passed = _run(source, variables)
            except cel.CelError as exc:
                detail = f"{exc} evaluating rule: {message or source.strip()}"
                report.errors.append(
                    FieldError("FieldValueInvalid", path, f"Invalid value: {_show(kind)}: {detail}")
                )
                continue
            if passed is True:
                continue
            detail = message or f"failed rule: {source.strip()}"
            at = path
            relative = str(rule.get("fieldPath") or "").lstrip(".")
            if relative:
                at = f"{path}.{relative}" if path else relative
            reason, word = _CEL_REASONS.get(
                str(rule.get("reason") or ""), ("FieldValueInvalid", "Invalid value")
            )
            if reason == "FieldValueDuplicate":
                shown = word if kind in ("object", "array") else f"{word}: {_show(value)}"
                report.errors.append(FieldError(reason, at, shown))
            elif reason != "FieldValueInvalid" or kind in ("object", "array"):
                report.errors.append(FieldError(reason, at, f"{word}: {detail}"))
            else:
                report.errors.append(FieldError(reason, at, f"{word}: {_show(value)}: {detail}"))


def _unique(items: list[Any], node: Node, path: str, report: Report) -> None:
    """A `set` list's items, or a `map` list's keys, each once (`ValidateListSetsAndMaps`)."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if node.list_type == "map" and type(item) is dict:
            shown = json.dumps(
                {k: item[k] for k in sorted(node.list_keys) if k in item}, separators=(",", ":")
            )
        elif node.list_type == "set":
            shown = _show(item)
        else:
            continue
        if shown in seen:
            report.errors.append(
                FieldError("FieldValueDuplicate", _path(path, index), f"Duplicate value: {shown}")
            )
        seen.add(shown)


def _missing_defaults(obj: dict[str, Any], node: Node) -> bool:
    return any(name not in obj for name in node.defaulted)


def _first_type(node: Node) -> str:
    types = sorted(t for t in node.types if t != "null")
    return types[0] if types else "object"


def _scalar_rules(value: Any, node: Node, path: str, report: Report) -> None:
    raw = node.raw
    enum = raw.get("enum")
    if enum is not None and value not in enum and not isinstance(value, dict | list):
        supported = ", ".join(_show(v) for v in enum)
        report.errors.append(
            FieldError(
                "FieldValueNotSupported",
                path,
                f"Unsupported value: {_show(value)}: supported values: {supported}",
            )
        )
    if isinstance(value, str):
        pattern = raw.get("pattern")
        if pattern is not None and re.search(pattern, value) is None:
            report.errors.append(
                FieldError(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {_show(value)}: {path} in body should match '{pattern}'",
                )
            )
        if "maxLength" in raw and len(value) > int(raw["maxLength"]):
            report.errors.append(
                FieldError(
                    "FieldValueTooLong", path, f"Too long: may not be more than {raw['maxLength']} bytes"
                )
            )
        if "minLength" in raw and len(value) < int(raw["minLength"]):
            report.errors.append(
                FieldError(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {_show(value)}: {path} in body should be at least "
                    f"{raw['minLength']} chars long",
                )
            )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in raw and value < raw["minimum"]:
            report.errors.append(
                FieldError(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {_show(value)}: {path} in body should be greater "
                    f"than or equal to {raw['minimum']}",
                )
            )
        if "maximum" in raw and value > raw["maximum"]:
            report.errors.append(
                FieldError(
                    "FieldValueInvalid",
                    path,
                    f"Invalid value: {_show(value)}: {path} in body should be less "
                    f"than or equal to {raw['maximum']}",
                )
            )


def _count_rules(count: int, node: Node, path: str, report: Report, what: str) -> None:
    raw = node.raw
    low, high = ("minItems", "maxItems") if what == "items" else ("minProperties", "maxProperties")
    if low in raw and count < int(raw[low]):
        report.errors.append(
            FieldError(
                "FieldValueInvalid",
                path,
                f"Invalid value: {count}: {path} in body should have at least {raw[low]} {what}",
            )
        )
    if high in raw and count > int(raw[high]):
        report.errors.append(
            FieldError("FieldValueTooMany", path, f"Too many: {count}: must have at most {raw[high]} {what}")
        )


def _defaults(out: dict[str, Any], node: Node, path: str, report: Report, custom: bool) -> None:
    for name, default in node.defaulted.items():
        if name not in out:
            child = node.field(name)
            value = objects.clone(default)
            out[name] = _walk(value, child, _path(path, name), report, custom) if child is not None else value
