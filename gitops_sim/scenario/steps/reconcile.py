"""The `reconcile`, `suspend` and `resume` steps: what `flux reconcile|suspend|resume` do to an
object, without the CLI's output or waiting.

    reconcile: Kind/ns/name   (or {object: Kind/ns/name}; sets reconcile.fluxcd.io/requestedAt)
    suspend: Kind/ns/name     (sets spec.suspend: true, as `flux suspend` patches it)
    resume: Kind/ns/name      (removes spec.suspend, as `flux resume` patches it)

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
        "reconcile",
        _parse,
        "reconcile: Kind/ns/name  (sets reconcile.fluxcd.io/requestedAt)",
        value_schema=delete.object_ref_schema(
            "What `flux reconcile` does to an object (sets reconcile.fluxcd.io/requestedAt), without "
            "the CLI's output or waiting."
        ),
    )
)


@dataclass(frozen=True, slots=True)
class Suspend(registry.Action):
    object: str
    suspended: bool


def _parse_suspend(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Suspend:
    return Suspend(delete.object_ref(value, vloc, vwhere), True)


def _parse_resume(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Suspend:
    return Suspend(delete.object_ref(value, vloc, vwhere), False)


registry.declare(
    registry.Declaration(
        "suspend",
        _parse_suspend,
        "suspend: Kind/ns/name  (what `flux suspend` does)",
        value_schema=delete.object_ref_schema(
            "What `flux suspend` does to an object: sets spec.suspend: true."
        ),
    )
)
registry.declare(
    registry.Declaration(
        "resume",
        _parse_resume,
        "resume: Kind/ns/name  (what `flux resume` does)",
        value_schema=delete.object_ref_schema("What `flux resume` does to an object: removes spec.suspend."),
    )
)
