"""Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds.

Provenance: the semantics of apimachinery `util/strategicpatch` (patch.go), driven by the schema's
`x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key`; our own code.

- Maps merge recursively; `null` deletes a key; `$patch: replace` replaces the map, `$patch: delete`
  removes it; `$retainKeys` (with the retainKeys strategy) clears the keys it does not list.
- Lists with strategy `merge` and a merge key merge item by item (an item `{key: v, $patch: delete}`
  removes that item; a list holding `{$patch: replace}` replaces the whole list); merge-strategy
  lists of scalars take the union, and `$deleteFromPrimitiveList/<field>` removes values;
  `$setElementOrder/<field>` orders the result. Any other list is replaced.

Callers: `cluster.memory.store`. CRDs have no strategic merge patch (the store answers 415).
"""

from __future__ import annotations

from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.cluster.schema import Node
from gitops_sim.model import objects

PATCH = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM = "$deleteFromPrimitiveList/"
ORDER = "$setElementOrder/"


def apply(original: Any, patch: Any, node: Node | None) -> Any:
    if not isinstance(patch, dict):
        return objects.clone(patch)
    directive = patch.get(PATCH)
    if directive == "replace":
        return {k: objects.clone(v) for k, v in patch.items() if k != PATCH}
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise errors.BadRequest(f"Unknown patch type: {directive}")
    out = dict(original) if isinstance(original, dict) else {}
    retain = patch.get(RETAIN_KEYS)
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    orders = {k[len(ORDER) :]: v for k, v in patch.items() if k.startswith(ORDER)}
    for key, value in patch.items():
        if key in (PATCH, RETAIN_KEYS) or key.startswith(ORDER):
            continue
        if key.startswith(DELETE_FROM):
            field = key[len(DELETE_FROM) :]
            if isinstance(out.get(field), list) and isinstance(value, list):
                out[field] = [v for v in out[field] if v not in value]
            continue
        child = node.field(key) if node is not None else None
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list):
            out[key] = _list(out.get(key), value, child)
        else:
            merged = apply(out.get(key), value, child)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
    for field, order in orders.items():
        if isinstance(out.get(field), list) and isinstance(order, list):
            child = node.field(field) if node is not None else None
            out[field] = _ordered(out[field], order, child.patch_merge_key if child else None)
    return out


def _list(original: Any, patch: list[Any], node: Node | None) -> list[Any]:
    current = original if isinstance(original, list) else []
    strategy = node.patch_strategy if node is not None else ()
    if "merge" not in strategy:
        return [objects.clone(v) for v in patch if not (isinstance(v, dict) and v.get(PATCH))]
    if any(isinstance(v, dict) and v.get(PATCH) == "replace" for v in patch):
        return [objects.clone(v) for v in patch if not (isinstance(v, dict) and PATCH in v)]
    key = node.patch_merge_key if node is not None else None
    if key is None:  # a merge-strategy list of scalars: the union
        return list(current) + [objects.clone(v) for v in patch if v not in current]
    out = list(current)
    item_node = node.items() if node is not None else None
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise errors.BadRequest(f"map: {item!r} does not contain declared merge key: {key}")
        index = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]), -1)
        if item.get(PATCH) == "delete":
            if index >= 0:
                del out[index]
            continue
        if index >= 0:
            out[index] = apply(out[index], item, item_node)
        else:
            out.append(apply({}, item, item_node))
    return out


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def identity(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [identity(o) for o in order]
    ranked = sorted(
        range(len(items)),
        key=lambda i: (wanted.index(identity(items[i])) if identity(items[i]) in wanted else len(wanted), i),
    )
    return [items[i] for i in ranked]
