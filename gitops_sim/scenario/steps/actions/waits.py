"""Runs the steps that spend virtual time: `advance`, and `expect` (whose `within` lets time run
until it holds). Declared in `steps.advance` and `steps.expect`; the waiting itself is the
runner's (`Context.advance`, `Context.expect`), which asks the run's `stop` between events."""

from __future__ import annotations

from gitops_sim.model import duration
from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import advance, expect, registry
from gitops_sim.scenario.steps.actions import base


@registry.performs(advance.Advance)
def run_advance(action: advance.Advance, step: schema.Step, ctx: base.Context) -> None:
    ctx.within_horizon(action.ms, step)
    ctx.trace.record("advance", by=duration.format(action.ms))
    ctx.advance(action.ms, step)


@registry.performs(expect.Expect)
def run_expect(action: expect.Expect, step: schema.Step, ctx: base.Context) -> None:
    for item in action.items:
        ctx.within_horizon(item.within_ms, step)
        ctx.expect(item, step)
