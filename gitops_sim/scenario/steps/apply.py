"""The `apply` step: manifests applied as `kubectl apply --server-side` would.

    apply: a manifest, a list of them, or {file: path}; manifests are YAML text or mappings.

Declares the step (schema side); `steps.actions.apply` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import fields, registry, shapes


@dataclass(frozen=True, slots=True)
class Apply(registry.Action):
    manifests: tuple[fields.Manifest, ...]


def _parse(value: Any, loc: Location, where: str, ctx: fields.Context) -> Apply:
    return Apply(fields.manifests(value, loc, where, ctx))


registry.declare(
    registry.Declaration(
        "apply",
        _parse,
        "apply: a manifest, a list of them, or {file: path}; YAML text or mappings",
        value_schema=shapes.manifests(
            "Manifests applied as `kubectl apply --server-side` would: a manifest (YAML text or a "
            "mapping), {file: path} beside the scenario, or a list of them."
        ),
    )
)
