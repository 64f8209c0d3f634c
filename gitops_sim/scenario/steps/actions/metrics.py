"""Runs the `metrics` step (declared in `steps.metrics`): sets what the simulation's metrics API
reports of a workload (`Simulation.metrics`, read by the HorizontalPodAutoscaler controller at its
next sync), at the replica count the workload has now. Never reads the real time."""

from __future__ import annotations

from gitops_sim.cluster import errors
from gitops_sim.scenario import assertions, schema
from gitops_sim.scenario.steps import metrics, registry
from gitops_sim.scenario.steps.actions import base


@registry.performs(metrics.Metrics)
def run(action: metrics.Metrics, step: schema.Step, ctx: base.Context) -> None:
    ref = assertions.resolve_ref(ctx.sim.cluster, action.workload)
    try:
        replicas = (ctx.sim.cluster.get(ref).get("spec") or {}).get("replicas", 1)
    except errors.NotFound:
        replicas = None  # not there yet: the average is taken as it is
    for resource, utilization in action.utilization:
        ctx.sim.metrics.set(ref, resource, utilization, replicas if isinstance(replicas, int) else None)
    ctx.trace.record(
        "metrics",
        workload=str(ref),
        utilization={resource: utilization for resource, utilization in action.utilization},
    )
