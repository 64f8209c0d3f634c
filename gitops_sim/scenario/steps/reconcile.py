"""The `reconcile` step: what `flux reconcile` does (sets reconcile.fluxcd.io/requestedAt).

    reconcile: Kind/ns/name   (or {object: Kind/ns/name})

Declares the step (schema side); `steps.actions.objects` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import delete, fields, registry


@dataclass(frozen=True, slots=True)
class Reconcile(registry.Action):
    object: str


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Reconcile:
    return Reconcile(delete.object_ref(value, vloc, vwhere))


registry.declare(
    registry.Declaration(
        "reconcile", _parse, "reconcile: Kind/ns/name  (sets reconcile.fluxcd.io/requestedAt)"
    )
)
