"""The HorizontalPodAutoscaler controller: bounds enforced on its target, metrics given by the
scenario, the real controller's conditions, events and timing, in virtual time."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs

HPA = refs.ObjectRef("autoscaling", "HorizontalPodAutoscaler", "default", "web")
DEPLOY = refs.ObjectRef("apps", "Deployment", "default", "web")


def deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
            **spec,
        },
    }


def autoscaler(api_version: str = "autoscaling/v2", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 5,
            **spec,
        },
    }


def rescales(sim: simulation.Simulation) -> list[tuple[int, str, str]]:
    return [
        (r["t"], r["reason"], r["message"])
        for r in sim.trace.records
        if r["kind"] == "event" and r["controller"] == "horizontal-pod-autoscaler"
    ]


def conditions(sim: simulation.Simulation) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c["reason"]) for c in sim.cluster.get(HPA)["status"]["conditions"]]


def replicas(sim: simulation.Simulation) -> int:
    return int(sim.cluster.get(DEPLOY)["spec"]["replicas"])


def test_a_new_autoscaler_first_syncs_after_the_controller_s_15s_period(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.cluster.apply(autoscaler(), field_manager="kubectl")
    sim.advance(14_999)
    assert "status" not in sim.cluster.get(HPA) or not sim.cluster.get(HPA)["status"].get("conditions")
    assert replicas(sim) == 1
    sim.advance(1)
    assert rescales(sim) == [
        (
            15_000,
            "SuccessfulRescale",
            "New size: 2; reason: Current number of replicas below Spec.MinReplicas",
        )
    ]
    assert replicas(sim) == 2
    status = sim.cluster.get(HPA)["status"]
    assert (status["currentReplicas"], status["desiredReplicas"]) == (1, 2)
    assert conditions(sim) == [("AbleToScale", "True", "SucceededRescale")]


def test_without_metrics_an_autoscaler_only_holds_its_bounds(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=3), field_manager="kubectl")
    sim.cluster.apply(autoscaler(), field_manager="kubectl")
    sim.advance(60_000)
    assert rescales(sim) == []
    assert replicas(sim) == 3
    status = sim.cluster.get(HPA)["status"]
    assert (status["currentReplicas"], status["desiredReplicas"]) == (3, 3)
    assert status["currentMetrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 80}}}
    ]
    assert conditions(sim) == [
        ("AbleToScale", "True", "ReadyForNewScale"),
        ("ScalingActive", "True", "ValidMetricFound"),
        ("ScalingLimited", "False", "DesiredWithinRange"),
    ]
    active = sim.cluster.get(HPA)["status"]["conditions"][1]["message"]
    assert active == (
        "the HPA was able to successfully calculate a replica count from cpu resource utilization "
        "(percentage of request)"
    )


def test_a_target_above_max_replicas_is_scaled_down_to_it(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=8), field_manager="kubectl")
    sim.cluster.apply(autoscaler(), field_manager="kubectl")
    sim.advance(15_000)
    assert rescales(sim)[-1][2] == "New size: 5; reason: Current number of replicas above Spec.MaxReplicas"
    assert replicas(sim) == 5


def test_utilization_above_target_scales_out_and_the_load_spreads(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=2), field_manager="kubectl")
    sim.cluster.apply(autoscaler(), field_manager="kubectl")
    sim.advance(15_000)
    sim.metrics.set(DEPLOY, "cpu", 120, replicas=2)  # 1.5x the 80% target
    sim.advance(15_000)
    assert rescales(sim) == [
        (
            30_000,
            "SuccessfulRescale",
            "New size: 3; reason: cpu resource utilization (percentage of request) above target",
        )
    ]
    sim.advance(60_000)  # 120% over 2 Pods is 80% over 3: within tolerance
    assert replicas(sim) == 3
    assert sim.cluster.get(HPA)["status"]["currentMetrics"][0]["resource"]["current"] == {
        "averageUtilization": 80
    }


def test_a_desired_count_beyond_max_replicas_is_limited(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=2), field_manager="kubectl")
    sim.cluster.apply(autoscaler(maxReplicas=3), field_manager="kubectl")
    sim.metrics.set(DEPLOY, "cpu", 400, replicas=2)
    sim.advance(15_000)
    assert replicas(sim) == 3
    limited = sim.cluster.get(HPA)["status"]["conditions"][2]
    assert (limited["type"], limited["status"], limited["reason"], limited["message"]) == (
        "ScalingLimited",
        "True",
        "TooManyReplicas",
        "the desired replica count is more than the maximum replica count",
    )


def test_scaling_in_waits_for_the_five_minute_stabilization_window(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=4), field_manager="kubectl")
    sim.cluster.apply(autoscaler(), field_manager="kubectl")
    sim.advance(15_000)  # first sync at 15s records 4 as a recommendation
    sim.metrics.set(DEPLOY, "cpu", 20, replicas=4)
    sim.advance(30_000)
    assert replicas(sim) == 4
    assert conditions(sim)[0] == ("AbleToScale", "True", "ScaleDownStabilized")
    sim.advance(5 * 60_000)
    assert replicas(sim) == 2
    assert rescales(sim)[-1][2] == "New size: 2; reason: All metrics below target"


def test_a_behavior_s_policies_limit_how_fast_it_scales_out(sim: simulation.Simulation) -> None:
    behavior = {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    sim.cluster.apply(deployment(replicas=2), field_manager="kubectl")
    sim.cluster.apply(autoscaler(maxReplicas=10, behavior=behavior), field_manager="kubectl")
    sim.metrics.set(DEPLOY, "cpu", 320, replicas=2)  # wants 8
    sim.advance(15_000)
    assert replicas(sim) == 3
    assert conditions(sim)[2] == ("ScalingLimited", "True", "ScaleUpLimit")
    sim.advance(45_000)  # still within the minute
    assert replicas(sim) == 3
    sim.advance(15_000)
    assert replicas(sim) == 4


def test_a_missing_target_is_reported_as_failed_get_scale(sim: simulation.Simulation) -> None:
    sim.cluster.apply(autoscaler(), field_manager="kubectl")
    sim.advance(15_000)
    assert rescales(sim) == [(15_000, "FailedGetScale", 'deployments.apps "web" not found')]
    able = sim.cluster.get(HPA)["status"]["conditions"][0]
    assert (able["status"], able["reason"], able["message"]) == (
        "False",
        "FailedGetScale",
        'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found',
    )


def test_an_autoscaler_written_through_v1_gets_a_v1_status(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=1), field_manager="kubectl")
    v1 = autoscaler("autoscaling/v1", targetCPUUtilizationPercentage=50)
    sim.cluster.apply(v1, field_manager="kubectl")
    sim.advance(30_000)
    stored = sim.cluster.get(HPA)
    assert stored["apiVersion"] == "autoscaling/v1"
    assert stored["status"] == {
        "lastScaleTime": "2025-01-01T00:00:15Z",
        "currentReplicas": 2,
        "desiredReplicas": 2,
        "currentCPUUtilizationPercentage": 50,
    }
    assert replicas(sim) == 2
