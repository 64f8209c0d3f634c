"""OpenAPI schemas of the kinds a cluster serves: what SSA, patches and validation need to know.

Built-in kinds come from the OpenAPI-derived JSON schemas shipped in the `kubernetes-validate`
package (one Kubernetes minor, `KUBERNETES_VERSION`); custom kinds from their CRD's
`openAPIV3Schema`. A `Node` is one place in a schema and answers the questions the API server
asks while merging: is this list atomic, a set, or a map keyed by which fields; is this map
atomic; what is the strategic-merge-patch key and strategy; are unknown fields preserved.

Callers: the memory store (field ownership, strategic merge patch, validation). Loading the
built-in schemas reads one JSON file, once, the first time a built-in kind needs its schema. The
file is found without importing `kubernetes_validate` (its `__init__` loads jsonschema, a tenth of
a second at every command's start, for a validator we never call).
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_sim.model import refs

KUBERNETES_VERSION = "v1.37.0"
_VALUES = "\x00values"  # the memo key of a map's value schema: never a property name
_VALUE_RULES = frozenset({"enum", "pattern", "maxLength", "minLength", "minimum", "maximum"})


class Node:
    """One place in a schema; child lookups are memoised (schemas never change once loaded)."""

    __slots__ = (
        "_allowed",
        "_any_rules",
        "_children",
        "_defaulted",
        "_items",
        "_rules",
        "_string_map",
        "defs",
        "has_properties",
        "list_keys",
        "list_type",
        "map_atomic",
        "preserve_unknown",
        "raw",
        "validations",
    )

    def __init__(self, raw: Mapping[str, Any], defs: Mapping[str, Any]) -> None:
        self.raw = raw
        self.defs = defs
        self._children: dict[str, Node | None] = {}
        self._items: Node | bool | None = False
        self._allowed: frozenset[str] | None = None
        self._rules: bool | None = None
        self._string_map: bool | None = None
        self._any_rules: bool | None = None
        self._defaulted: dict[str, Any] | None = None
        # Read once: merges, field sets and validation ask these of every value they visit.
        self.has_properties = "properties" in raw
        self.preserve_unknown = bool(raw.get("x-kubernetes-preserve-unknown-fields"))
        self.map_atomic = raw.get("x-kubernetes-map-type") == "atomic"
        self.list_keys: tuple[str, ...] = tuple(raw.get("x-kubernetes-list-map-keys") or ())
        # "map", "set" or "atomic" (the default for lists, as structured-merge-diff reads it).
        self.list_type = str(raw.get("x-kubernetes-list-type") or "atomic")
        # CEL rules on values here (`x-kubernetes-validations`): `rule`, `message`, `fieldPath`, `reason`.
        self.validations: tuple[Mapping[str, Any], ...] = tuple(raw.get("x-kubernetes-validations") or ())

    @staticmethod
    def of(raw: Mapping[str, Any], defs: Mapping[str, Any]) -> Node:
        seen = 0
        while "$ref" in raw and seen < 20:
            raw = defs[str(raw["$ref"]).rpartition("/")[2]]
            seen += 1
        if "allOf" in raw and len(raw["allOf"]) == 1 and "properties" not in raw:
            return Node.of({**raw["allOf"][0], **{k: v for k, v in raw.items() if k != "allOf"}}, defs)
        return Node(raw, defs)

    @property
    def allowed(self) -> frozenset[str]:
        """The JSON types a value here may have (empty: any); integers pass where numbers do."""
        if self._allowed is None:
            if self.raw.get("x-kubernetes-int-or-string"):
                allowed = frozenset({"integer", "string"})
            else:
                allowed = self.types - {"null"}
                if "number" in allowed:
                    allowed |= {"integer"}
            self._allowed = allowed
        return self._allowed

    @property
    def defaulted(self) -> dict[str, Any]:
        """The properties here that have a `default`, and their defaults (in schema order)."""
        if self._defaulted is None:
            self._defaulted = {
                name: prop["default"]
                for name, prop in (self.raw.get("properties") or {}).items()
                if isinstance(prop, Mapping) and "default" in prop
            }
        return self._defaulted

    @property
    def any_rules(self) -> bool:
        """Whether CEL rules sit anywhere in this schema (the server then runs its CEL validator)."""
        if self._any_rules is None:
            self._any_rules = _mentions(self.raw, "x-kubernetes-validations")
        return self._any_rules

    @property
    def has_value_rules(self) -> bool:
        """Whether values here carry checks beyond their type (enum, pattern, lengths, bounds)."""
        if self._rules is None:
            self._rules = bool(_VALUE_RULES.intersection(self.raw))
        return self._rules

    @property
    def types(self) -> frozenset[str]:
        kind = self.raw.get("type")
        if kind is None and "oneOf" in self.raw:
            return frozenset(t for alt in self.raw["oneOf"] for t in _as_list(alt.get("type")))
        return frozenset(_as_list(kind))

    def field(self, name: str) -> Node | None:
        """The schema of property `name` (or of the map's values), or None when it is unknown."""
        props = self.raw.get("properties") or {}
        if name in props:
            if name not in self._children:
                self._children[name] = Node.of(props[name], self.defs)
            return self._children[name]
        return self.values()

    @property
    def string_map(self) -> bool:
        """A map whose values are plain strings with no further rules (labels, ConfigMap data)."""
        if self._string_map is None:
            values = None if self.has_properties or self.preserve_unknown else self.values()
            self._string_map = (
                values is not None and values.allowed == frozenset({"string"}) and not values.has_value_rules
            )
        return self._string_map

    def values(self) -> Node | None:
        """The schema every value of a map shares (`additionalProperties`), if any."""
        if _VALUES not in self._children:
            extra = self.raw.get("additionalProperties")
            self._children[_VALUES] = Node.of(extra, self.defs) if isinstance(extra, Mapping) else None
        return self._children[_VALUES]

    def items(self) -> Node | None:
        if self._items is False:
            items = self.raw.get("items")
            self._items = Node.of(items, self.defs) if isinstance(items, Mapping) else None
        assert self._items is not True
        return self._items

    @property
    def patch_strategy(self) -> tuple[str, ...]:
        return (
            tuple(str(self.raw.get("x-kubernetes-patch-strategy") or "").split(","))
            if (self.raw.get("x-kubernetes-patch-strategy"))
            else ()
        )

    @property
    def patch_merge_key(self) -> str | None:
        key = self.raw.get("x-kubernetes-patch-merge-key")
        return str(key) if key else None


def _mentions(node: Any, key: str) -> bool:
    """Whether `key` is a key of `node` or of anything inside it."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if key in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _definitions_text() -> str:
    """kubernetes-validate's `_definitions.json` for `KUBERNETES_VERSION`, read from the package's
    folder as found by the import system, without running the package (see the module)."""
    parts = ("kubernetes-json-schema", f"{KUBERNETES_VERSION}-local", "_definitions.json")
    spec = importlib.util.find_spec("kubernetes_validate")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder).joinpath(*parts)
        if path.is_file():
            return path.read_text()
    return importlib.resources.files("kubernetes_validate").joinpath(*parts).read_text()


@functools.cache
def _builtin_defs() -> tuple[Mapping[str, Any], Mapping[refs.GVK, str]]:
    defs: dict[str, Any] = json.loads(_definitions_text())["$defs"]
    by_gvk: dict[refs.GVK, str] = {}
    for name, definition in sorted(defs.items()):
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            by_gvk.setdefault(refs.GVK(gvk.get("group", ""), gvk["version"], gvk["kind"]), name)
    return defs, by_gvk


def builtin_definitions() -> tuple[Mapping[str, Any], Mapping[refs.GVK, str]]:
    """Every built-in definition by name, and the definition name of each built-in kind."""
    return _builtin_defs()


def builtin(gvk: refs.GVK) -> Node | None:
    """The schema of a built-in kind, or None when `kubernetes-validate` has none for it."""
    defs, by_gvk = _builtin_defs()
    name = by_gvk.get(gvk)
    return Node.of(defs[name], defs) if name else None


def from_openapi(schema: Mapping[str, Any] | None) -> Node | None:
    """A CRD version's `openAPIV3Schema`, with ObjectMeta from the built-ins for `metadata`."""
    if not schema:
        return None
    defs, _ = _builtin_defs()
    props = dict(schema.get("properties") or {})
    props["metadata"] = {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    return Node.of({**schema, "properties": props}, defs)
