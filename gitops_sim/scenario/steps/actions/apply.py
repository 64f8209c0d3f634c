"""Runs the `apply` step (declared in `steps.apply`). Never reads the real time."""

from __future__ import annotations

from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import apply, registry
from gitops_sim.scenario.steps.actions import base


@registry.performs(apply.Apply)
def run(action: apply.Apply, step: schema.Step, ctx: base.Context) -> None:
    for manifest in action.manifests:
        ctx.apply(manifest)
