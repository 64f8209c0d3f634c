"""Label and field selectors, parsed and matched as the kube-apiserver does.

Label selectors take the full syntax of apimachinery `labels.Parse`: `a=b`, `a==b`, `a!=b`,
`a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas; `!=` and `notin` match
objects that lack the label. `from_label_selector` turns a structured `LabelSelector`
(matchLabels, matchExpressions) into the same form. Field selectors take `f=v`, `f==v` and
`f!=v`; every kind supports `metadata.name` and `metadata.namespace`, built-ins add their own
fields (`FIELDS_BY_KIND`), CRDs add their `selectableFields`. Errors are 400 BadRequest with the
server's wording.

Callers: cluster backends and the HTTP front. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.model import objects

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_TOKEN = re.compile(r"\s*(!=|==|=|!|,|\(|\)|>|<|[^\s!=,()<>]+)")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "in":
            return present and value in self.values
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if not present or value is None:
            return False
        try:
            have, bound = int(value), int(self.values[0])
        except ValueError:
            return False
        return have > bound if self.op == "gt" else have < bound


LabelSelector = tuple[Requirement, ...]


def _bad(message: str) -> errors.BadRequest:
    return errors.BadRequest(message)


def parse_labels(text: str) -> LabelSelector:
    """Parse a label selector string; the empty string selects everything."""
    tokens = [t for t in _TOKEN.findall(text)]
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", text):
        raise _bad(f"unable to parse requirement: invalid selector: {text!r}")
    out: list[Requirement] = []
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    while pos < len(tokens):
        if tokens[pos] == "!":
            key = tokens[pos + 1] if pos + 1 < len(tokens) else ""
            _check_key(key)
            out.append(Requirement(key, "!"))
            pos += 2
        else:
            key = tokens[pos]
            _check_key(key)
            pos += 1
            op = peek()
            if op is None or op == ",":
                out.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!=", ">", "<"):
                pos += 1
                value = peek()
                if value is None or value in (",", "(", ")"):
                    value = ""
                else:
                    pos += 1
                _check_value(value)
                if op in (">", "<") and not value.lstrip("-").isdigit():
                    raise _bad(
                        f"unable to parse requirement: for 'gt', 'lt' operators, exactly one value is "
                        f"required and it must be an integer: {value!r}"
                    )
                name = {"=": "=", "==": "=", "!=": "!=", ">": "gt", "<": "lt"}[op]
                out.append(Requirement(key, name, (value,)))
            elif op in ("in", "notin"):
                pos += 1
                if peek() != "(":
                    raise _bad(f"unable to parse requirement: found '{peek()}', expected: '('")
                pos += 1
                values: list[str] = []
                while peek() not in (")", None):
                    token = peek()
                    assert token is not None
                    if token != ",":
                        _check_value(token)
                        values.append(token)
                    pos += 1
                if peek() != ")":
                    raise _bad("unable to parse requirement: found '', expected: ')'")
                pos += 1
                out.append(Requirement(key, op, tuple(sorted(set(values)))))
            else:
                raise _bad(
                    f"unable to parse requirement: found '{op}', expected: in, notin, =, ==, !=, gt, lt"
                )
        if peek() not in (None, ","):
            raise _bad(f"unable to parse requirement: found '{peek()}', expected: ','")
        pos += 1
    return tuple(out)


def _check_key(key: str) -> None:
    if not key or not _KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise _bad(
            f"unable to parse requirement: invalid label key {key!r}: name part must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )


def _check_value(value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise _bad(
            f"unable to parse requirement: invalid label value: {value!r}: a valid label must be an empty "
            "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character"
        )


def from_label_selector(selector: Mapping[str, Any] | None) -> LabelSelector:
    """A structured metav1.LabelSelector (matchLabels, matchExpressions) as requirements."""
    if not selector:
        return ()
    out = [Requirement(k, "=", (str(v),)) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(str(expr.get("operator")))
        if op is None:
            raise _bad(f'"{expr.get("operator")}" is not a valid label selector operator')
        values = [str(v) for v in expr.get("values") or []]
        shown = (
            "[]string(nil)"
            if expr.get("values") is None
            else "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"
        )
        if op in ("in", "notin") and not values:
            raise _bad(
                f"values: Invalid value: {shown}: for 'in', 'notin' operators, values set can't be empty"
            )
        if op in ("exists", "!") and values:
            raise _bad(
                f"values: Invalid value: {shown}: values set must be empty for exists and does not exist"
            )
        out.append(Requirement(str(expr.get("key")), op, tuple(sorted(values))))
    return tuple(out)


def labels_match(selector: LabelSelector, obj: objects.RawObject) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in selector)


# -- field selectors ----------------------------------------------------------------------------

FieldSelector = tuple[tuple[str, bool, str], ...]  # (field, equal?, value)
Getter = Callable[[objects.RawObject], Any]


def _path(field: str) -> Getter:
    path = objects.parse_path(field)
    return lambda obj: objects.get_path(obj, path)


def _paths(*fields: str) -> dict[str, Getter]:
    return {f: _path(f) for f in fields}


# Fields each built-in kind supports beyond metadata.name and metadata.namespace
# (the per-kind `*FieldsSet`/`GetAttrs` functions of the apiserver registries).
FIELDS_BY_KIND: dict[tuple[str, str], dict[str, Getter]] = {
    ("", "Pod"): _paths(
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "Event"): {
        **_paths(
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "type",
        ),
        "source": _path("source.component"),
    },
    ("", "Secret"): _paths("type"),
    ("", "Namespace"): _paths("status.phase"),
    ("", "Node"): {"spec.unschedulable": lambda o: bool((o.get("spec") or {}).get("unschedulable", False))},
    ("apps", "ReplicaSet"): {"status.replicas": lambda o: (o.get("status") or {}).get("replicas", 0)},
    ("batch", "Job"): {"status.successful": lambda o: (o.get("status") or {}).get("successful", 0)},
}


def getters_for(group: str, kind: str, selectable: Iterable[str] = ()) -> dict[str, Getter]:
    """The fields a kind can be selected on: metadata, the built-in's own, a CRD's selectableFields."""
    out = {**_paths("metadata.name", "metadata.namespace"), **FIELDS_BY_KIND.get((group, kind), {})}
    out.update({f: _path(f) for f in selectable})
    return out


def parse_fields(text: str, getters: Mapping[str, Getter]) -> FieldSelector:
    """Parse `f=v,f2!=v2` for a kind whose selectable fields are the keys of `getters`."""
    out: list[tuple[str, bool, str]] = []
    for part in _split_unescaped(text, ","):
        if not part.strip():
            continue
        match = re.match(r"^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if match is None:
            raise _bad(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = match.groups()
        if field not in getters:
            raise _bad(f"field label not supported: {field}")
        out.append((field, op != "!=", _unescape(value)))
    return tuple(out)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def field_value(obj: objects.RawObject, field: str, getters: Mapping[str, Getter]) -> str:
    """The string the apiserver compares for `field` of `obj`."""
    value = getters[field](obj)
    if value is objects.MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_match(selector: FieldSelector, obj: objects.RawObject, getters: Mapping[str, Getter]) -> bool:
    return all((field_value(obj, f, getters) == v) == equal for f, equal, v in selector)
