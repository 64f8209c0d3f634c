"""The `metrics` step: what the metrics API reports of a workload's Pods, for its
HorizontalPodAutoscalers.

    metrics:
      workload: Deployment/default/web   (what an HPA's scaleTargetRef names)
      cpu: 150%                          (average utilization, percent of requests; 150 too)
      memory: 40%                        (null: back to reading the target)

The utilization is the Pods' average at the replica count the workload has when the step runs;
the load behind it stays, so scaling out lowers it (90% at 2 replicas reads 60% at 3). Until a
step sets one, a metric reads exactly its target, so an HPA only enforces its min/maxReplicas
(`workloads.autoscaling`).

Declares the step (schema side); `steps.actions.metrics` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import fields, registry, shapes

RESOURCES = ("cpu", "memory")


@dataclass(frozen=True, slots=True)
class Metrics(registry.Action):
    workload: str
    utilization: tuple[tuple[str, int | None], ...]
    """(resource, percent of requests, or None to read the target again), as written."""


def _percent(value: Any, loc: Location, where: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    number = text[:-1] if text.endswith("%") else text
    if not number.isdigit():
        raise fields.fail(loc, where, f"expected a utilization such as 150% (or 150, or null); got {value!r}")
    return int(number)


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Metrics:
    spec = fields.mapping(value, vloc, vwhere, ("workload", *RESOURCES), required=("workload",))
    workload = fields.ref(spec["workload"], spec.value_locs["workload"], f"{vwhere}.workload")
    given = tuple(
        (name, _percent(spec[name], spec.value_locs[name], f"{vwhere}.{name}"))
        for name in RESOURCES
        if name in spec
    )
    if not given:
        raise fields.fail(vloc, vwhere, f"name at least one of {', '.join(RESOURCES)}")
    return Metrics(workload, given)


def _utilization(resource: str) -> shapes.Fragment:
    return shapes.any_of(
        f"the Pods' average {resource} utilization, in percent of their requests (null: read the target)",
        shapes.integer("percent", minimum=0),
        shapes.text("percent, written 150%", pattern="^[0-9]+%$"),
        {"type": "null"},
    )


registry.declare(
    registry.Declaration(
        "metrics",
        _parse,
        "metrics: {workload: Kind/ns/name, cpu: 150%, memory: 40%}",
        value_schema=shapes.mapping(
            "What the metrics API reports of a workload's Pods, for the HorizontalPodAutoscalers that "
            "scale it; until set, a metric reads its target.",
            {
                "workload": shapes.ref("the workload an HPA's scaleTargetRef names"),
                **{r: _utilization(r) for r in RESOURCES},
            },
            ("workload",),
            minProperties=2,
        ),
    )
)
