"""The `advance` step: let virtual time pass.

    advance: a duration (10m, 1h30m, 500ms)

Declares the step (schema side); `steps.actions.time` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import fields, registry, shapes


@dataclass(frozen=True, slots=True)
class Advance(registry.Action):
    ms: int


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Advance:
    return Advance(fields.duration(value, vloc, vwhere))


def _spans(action: registry.Action, index: int, loc: Location) -> Iterable[registry.Span]:
    assert isinstance(action, Advance)
    return [(action.ms, loc, f"steps[{index}].advance")]


registry.declare(
    registry.Declaration(
        "advance",
        _parse,
        "advance: a duration (10m, 1h30m, 500ms)",
        spans=_spans,
        value_schema=shapes.duration("Let virtual time pass: a duration (10m, 1h30m, 500ms)."),
    )
)
