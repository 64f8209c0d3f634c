"""The `delete` step: `kubectl delete` of one object.

    delete: Kind/ns/name   (or {object: Kind/ns/name})

Declares the step (schema side); `steps.actions.objects` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import LDict, Location
from gitops_sim.scenario.steps import fields, registry


@dataclass(frozen=True, slots=True)
class Delete(registry.Action):
    object: str


def object_ref(value: Any, vloc: Location, vwhere: str) -> str:
    """`Kind/ns/name`, given as it is or as `{object: Kind/ns/name}`."""
    target = value["object"] if isinstance(value, LDict) and set(value) == {"object"} else value
    return fields.ref(target, vloc, vwhere)


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Delete:
    return Delete(object_ref(value, vloc, vwhere))


registry.declare(registry.Declaration("delete", _parse, "delete: Kind/ns/name"))
