"""The `delete` step: `kubectl delete` of one object.

    delete: Kind/ns/name   (or {object: Kind/ns/name})

Declares the step (schema side); `steps.actions.objects` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import LDict, Location
from gitops_sim.scenario.steps import fields, registry, shapes


@dataclass(frozen=True, slots=True)
class Delete(registry.Action):
    object: str


def object_ref(value: Any, vloc: Location, vwhere: str) -> str:
    """`Kind/ns/name`, given as it is or as `{object: Kind/ns/name}`."""
    if isinstance(value, LDict):
        spec = fields.mapping(value, vloc, vwhere, ("object",), required=("object",))
        return fields.ref(spec["object"], spec.value_locs["object"], f"{vwhere}.object")
    return fields.ref(value, vloc, vwhere)


def object_ref_schema(description: str) -> shapes.Fragment:
    """What `object_ref` reads."""
    return shapes.any_of(
        description,
        shapes.ref("the object, Kind/namespace/name"),
        shapes.mapping("the object", {"object": shapes.ref("the object, Kind/namespace/name")}, ("object",)),
    )


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Delete:
    return Delete(object_ref(value, vloc, vwhere))


registry.declare(
    registry.Declaration(
        "delete",
        _parse,
        "delete: Kind/ns/name",
        value_schema=object_ref_schema("`kubectl delete` of one object: Kind/namespace/name."),
    )
)
