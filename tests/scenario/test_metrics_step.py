"""The `metrics` step: what the metrics API reports of a workload, read by its
HorizontalPodAutoscaler at the next sync, and the messages a bad value gets."""

from __future__ import annotations

import pytest

from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario

WORKLOAD = """\
- apply:
    - |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: default}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: nginx:1.27}]}
    - |
      apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata: {name: web, namespace: default}
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
        minReplicas: 1
        maxReplicas: 6
"""


def test_reported_utilization_scales_the_workload_at_the_autoscaler_s_next_sync(
    write_scenario: WriteScenario,
) -> None:
    path = write_scenario(
        WORKLOAD
        + """\
- metrics: {workload: Deployment/default/web, cpu: 120%}
- expect:
    - event:
        object: HorizontalPodAutoscaler/default/web
        reason: SuccessfulRescale
        message: "New size: 3; reason: cpu resource utilization (percentage of request) above target"
      within: 15s
    - object: Deployment/default/web
      fields: {spec.replicas: 3}
"""
    )
    outcome = runner.run(loader.load(path), path.parent / "run")  # the HPA's default target: 80%
    assert outcome.passed, outcome.failure
    [record] = [r for r in outcome.trace.records if r["kind"] == "metrics"]
    assert (record["workload"], record["utilization"]) == ("Deployment/default/web", {"cpu": 120})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            "{workload: Deployment/default/web, cpu: lots}",
            "steps[0].metrics.cpu: expected a utilization such as 150% (or 150, or null); got 'lots'",
            id="not-a-percentage",
        ),
        pytest.param(
            "{workload: Deployment/default/web}",
            "steps[0].metrics: name at least one of cpu, memory",
            id="no-resource",
        ),
        pytest.param(
            "{cpu: 50%}",
            "steps[0].metrics: missing required field 'workload'",
            id="no-workload",
        ),
    ],
)
def test_a_bad_metrics_step_is_refused_naming_its_field(
    write_scenario: WriteScenario, value: str, message: str
) -> None:
    path = write_scenario(f"- metrics: {value}\n")
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value).endswith(message)
    assert str(caught.value).startswith(f"{path}:23:")
