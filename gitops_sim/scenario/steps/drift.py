"""The `drift` step: someone edits a live object behind Flux's back.

    drift: {object: Kind/ns/name, manager (default kubectl-edit), set: {field.path: value}, unset: [paths]}

Declares the step (schema side); `steps.actions.drift` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario import located
from gitops_sim.scenario.located import LDict, LList, Location
from gitops_sim.scenario.steps import fields, registry, shapes


@dataclass(frozen=True, slots=True)
class Drift(registry.Action):
    object: str
    manager: str
    set: dict[str, Any]
    unset: tuple[str, ...]


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Drift:
    spec = fields.mapping(value, vloc, vwhere, ("object", "manager", "set", "unset"), required=("object",))
    sets = spec.get("set", LDict())
    if not isinstance(sets, LDict):
        raise fields.fail(
            fields.child_loc(spec, "set"), f"{vwhere}.set", "expected a mapping of field paths to values"
        )
    for key in sets:
        fields.field_path(key, sets.value_locs[key], f"{vwhere}.set")
    unset_raw = (
        fields.sequence(spec["unset"], spec.value_locs["unset"], f"{vwhere}.unset")
        if "unset" in spec
        else LList()
    )
    unset = tuple(
        fields.string(u, unset_raw.item_locs[i], f"{vwhere}.unset[{i}]") for i, u in enumerate(unset_raw)
    )
    for i, key in enumerate(unset):
        fields.field_path(key, unset_raw.item_locs[i], f"{vwhere}.unset[{i}]")
    if not sets and not unset:
        raise fields.fail(vloc, vwhere, "a drift needs `set` or `unset`")
    return Drift(
        object=fields.ref(spec["object"], spec.value_locs["object"], f"{vwhere}.object"),
        manager=fields.string(
            spec.get("manager", "kubectl-edit"), fields.child_loc(spec, "manager"), f"{vwhere}.manager"
        ),
        set=located.plain(sets),
        unset=unset,
    )


SCHEMA = {
    **shapes.mapping(
        "Someone edits a live object behind Flux's back: `set` and `unset` field paths, as a field "
        "manager (default kubectl-edit).",
        {
            "object": shapes.ref("the object, Kind/namespace/name"),
            "manager": shapes.string("the field manager that writes the change (default: kubectl-edit)"),
            "set": shapes.map_of(
                'field paths (spec.replicas, metadata.labels["app"]) to their new values',
                shapes.anything("the new value"),
                examples=[{"spec.replicas": 5}],
            ),
            "unset": shapes.list_of("field paths to remove", shapes.string("a field path")),
        },
        required=("object",),
    ),
    "anyOf": [
        {"required": ["set"], "properties": {"set": {"minProperties": 1}}},
        {"required": ["unset"], "properties": {"unset": {"minItems": 1}}},
    ],
}
"""A drift needs `set` or `unset`."""

registry.declare(
    registry.Declaration(
        "drift",
        _parse,
        "drift: {object: Kind/ns/name, manager, set: {field.path: value}, unset: [paths]}",
        value_schema=SCHEMA,
    )
)
