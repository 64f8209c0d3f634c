"""Drift-ignore rules (Kustomization `spec.ignore`): JSON pointers that do not count as drift.

Provenance: behaviour of fluxcd/pkg `ssa/jsondiff` (IgnoreRule, Selector) and `ssa`
(hasDriftedWithIgnore, computeDriftedPaths, applyDriftResult); our own code.

A rule is `{paths: [JSON pointer], target: {group, version, kind, name, namespace,
labelSelector, annotationSelector}}`; no target matches every object. For a matching object:
a difference between the live object and the dry-run result at an ignored path is not drift;
and when the object is applied anyway (something else drifted), each ignored path that differs
is stripped from the payload if another Apply manager owns it, or set to the live value when
Flux is its only owner, so that neither the other manager's value nor the API is upset.

Callers: `apply.manager`. Pure: never touches the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import selectors
from gitops_sim.model import objects

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Rule:
    paths: tuple[tuple[str, ...], ...]
    target: dict[str, str]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Rule:
        paths = tuple(_pointer(str(p)) for p in raw.get("paths") or [])
        return cls(paths, {str(k): str(v) for k, v in (raw.get("target") or {}).items() if v})

    def matches(self, obj: objects.RawObject) -> bool:
        gvk = objects.gvk_of(obj)
        meta = objects.metadata(obj)
        wanted = {
            "group": gvk.group,
            "version": gvk.version,
            "kind": gvk.kind,
            "name": str(meta.get("name", "")),
            "namespace": str(meta.get("namespace", "")),
        }
        for key, value in self.target.items():
            if key in wanted and not re.fullmatch(value, wanted[key]):
                return False
        if "labelSelector" in self.target:
            selector = selectors.parse_labels(self.target["labelSelector"])
            if not selectors.labels_match(selector, obj):
                return False
        if "annotationSelector" in self.target:
            selector = selectors.parse_labels(self.target["annotationSelector"])
            if not selectors.labels_match(selector, {"metadata": {"labels": objects.annotations_of(obj)}}):
                return False
        return True


def _pointer(text: str) -> tuple[str, ...]:
    """An RFC 6901 JSON pointer as path segments."""
    if not text.startswith("/"):
        raise ValueError(f"invalid JSON pointer {text!r}: it must start with '/'")
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/"))


def ignored_paths(rules: list[Rule], obj: objects.RawObject) -> list[tuple[str, ...]]:
    return [path for rule in rules if rule.matches(obj) for path in rule.paths]


def get(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
    return obj


def _remove(obj: Any, path: tuple[str, ...]) -> None:
    parent = get(obj, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif isinstance(parent, list) and path[-1].isdigit() and int(path[-1]) < len(parent):
        del parent[int(path[-1])]


def _set(obj: Any, path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        if isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            obj = obj.setdefault(part, {})
        else:
            return
    if isinstance(obj, dict):
        obj[path[-1]] = objects.clone(value)
    elif isinstance(obj, list) and path[-1].isdigit() and int(path[-1]) < len(obj):
        obj[int(path[-1])] = objects.clone(value)


def without(obj: objects.RawObject, paths: list[tuple[str, ...]]) -> objects.RawObject:
    """A copy of `obj` without the ignored paths (for the drift comparison)."""
    out = objects.deep_copy(obj)
    for path in paths:
        _remove(out, path)
    return out


def reconcile_payload(
    payload: objects.RawObject,
    live: objects.RawObject,
    dry: objects.RawObject,
    paths: list[tuple[str, ...]],
    field_manager: str,
) -> None:
    """Change `payload` for the ignored paths that differ: strip what another Apply manager owns,
    adopt the live value of what only we own."""
    for path in paths:
        if get(live, path) == get(dry, path):
            continue
        value = get(live, path)
        if value is _MISSING or _owned_by_another_applier(live, path, field_manager):
            _remove(payload, path)
        else:
            _set(payload, path, value)


def _owned_by_another_applier(live: objects.RawObject, path: tuple[str, ...], field_manager: str) -> bool:
    key = tuple(f"f:{p}" for p in path)
    for entry in objects.metadata(live).get("managedFields") or []:
        if entry.get("operation") != "Apply" or entry.get("manager") == field_manager:
            continue
        node: Any = entry.get("fieldsV1") or {}
        for part in key:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            return True
    return False
