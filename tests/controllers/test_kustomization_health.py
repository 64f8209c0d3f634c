"""Kustomization health checks as kustomize-controller runs them: `wait` or `healthChecks`,
kstatus polled every 5s (the first poll at once) until the timeout, fail-fast on Failed,
`healthCheckExprs` in CEL, and dependsOn `readyExpr`."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import events_of, ready
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: %s}]}
"""


def condition(sim: simulation.Simulation, ctype: str, ref: refs.ObjectRef = KS) -> dict[str, Any] | None:
    obj = sim.cluster.get(ref)
    cond = next((c for c in obj["status"].get("conditions", []) if c["type"] == ctype), None)
    return None if cond is None else {k: cond[k] for k in ("status", "reason", "message")}


def start(sim: simulation.Simulation, files: dict[str, str | None], **spec: Any) -> None:
    repo_with(sim, files)
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")


def test_wait_holds_the_reconcile_until_the_rollout_is_current(sim: simulation.Simulation) -> None:
    start(sim, {"apps/web.yaml": DEPLOYMENT % "nginx:1.27"}, wait=True)
    sim.advance(1_000)  # applied at 750ms; Pods need 3s
    revision = sim.cluster.get(KS)["status"]["lastAttemptedRevision"]
    running = f"Running health checks for revision {revision} with a timeout of 9m30s"
    assert condition(sim, "Healthy") == {"status": "Unknown", "reason": "Progressing", "message": running}
    assert condition(sim, "Reconciling") == {"status": "True", "reason": "Progressing", "message": running}
    assert ready(sim.cluster.get(KS))["status"] == "Unknown"
    sim.advance(5_000)  # polled at 5.75s
    assert condition(sim, "Healthy") == {
        "status": "True",
        "reason": "Succeeded",
        "message": "Health check passed in 5s",
    }
    assert ready(sim.cluster.get(KS))["message"] == f"Applied revision: {revision}"
    assert condition(sim, "Reconciling") is None
    assert [e[3] for e in events_of(sim, KS)][-2:] == [
        "Health check passed in 5s",
        "Reconciliation finished in 5s, next run in 10m0s",
    ]


def test_a_healthy_rerun_does_not_announce_its_health_again(sim: simulation.Simulation) -> None:
    start(sim, {"apps/web.yaml": DEPLOYMENT % "nginx:1.27"}, wait=True)
    sim.advance(7_000)
    sim.advance(11 * 60_000)
    messages = [e[3] for e in events_of(sim, KS)]
    assert messages.count("Health check passed in 5s") == 1
    assert messages[-1] == "Reconciliation finished in 0s, next run in 10m0s"


def test_health_checks_list_what_to_wait_for_and_a_missing_one_times_out(sim: simulation.Simulation) -> None:
    start(
        sim,
        {"apps/cm.yaml": CONFIGMAP % "a"},
        timeout="40s",
        healthChecks=[
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "default"},
            {"kind": "Deployment", "name": "absent", "namespace": "default"},
        ],
    )
    sim.advance(40_749)
    assert ready(sim.cluster.get(KS))["status"] == "Unknown"
    sim.advance(1)
    error = "timeout waiting for: [Deployment/default/absent status: 'NotFound']"
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "HealthCheckFailed",
        "message": f"health check failed after 40s: {error}",
    }
    assert condition(sim, "Healthy") == {"status": "False", "reason": "HealthCheckFailed", "message": error}
    assert condition(sim, "Reconciling")["reason"] == "ProgressingWithRetry"  # type: ignore[index]


def test_a_failed_object_ends_the_wait_early(sim: simulation.Simulation) -> None:
    sim.images.set_fault("nginx:1.27", "crash-loop")
    job = """apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: default}
spec:
  backoffLimit: 0
  template: {spec: {restartPolicy: Never, containers: [{name: m, image: "nginx:1.27"}]}}
"""
    start(sim, {"apps/job.yaml": job}, wait=True)
    sim.advance(6_000)  # the Pod fails at 3.75s, the Job at once; the poll at 5.75s sees it
    assert ready(sim.cluster.get(KS))["message"] == (
        "health check failed after 5s: failed early due to stalled resources: "
        "[Job/default/migrate status: 'Failed']"
    )


def test_the_default_timeout_is_the_interval_less_30s_and_never_under_30s(sim: simulation.Simulation) -> None:
    start(sim, {"apps/cm.yaml": CONFIGMAP % "a"}, interval="45s", wait=True)
    sim.advance(1_000)
    assert "Reconciling" not in [c["type"] for c in sim.cluster.get(KS)["status"]["conditions"]]
    messages = [e[3] for e in events_of(sim, KS)]
    assert "Reconciliation finished in 0s, next run in 45s" in messages
    sim.cluster.apply(
        kustomization(
            interval="45s", healthChecks=[{"kind": "Deployment", "name": "x", "namespace": "default"}]
        ),
        field_manager="kubectl",
    )
    sim.advance(100)
    assert condition(sim, "Healthy")["message"].endswith("with a timeout of 30s")  # type: ignore[index]


def test_health_check_exprs_judge_a_kind_with_cel(sim: simulation.Simulation) -> None:
    cm = CONFIGMAP % "warming"
    start(
        sim,
        {"apps/cm.yaml": cm},
        timeout="30s",
        wait=True,
        healthCheckExprs=[
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "current": "data.mode == 'ready'",
                "failed": "data.mode == 'broken'",
            }
        ],
    )
    sim.advance(10_000)
    assert condition(sim, "Healthy")["status"] == "Unknown"  # type: ignore[index]
    live = sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))
    live["data"]["mode"] = "ready"
    live["metadata"].pop("resourceVersion")
    sim.cluster.update(live, field_manager="warmer")
    sim.advance(5_000)
    assert condition(sim, "Healthy")["status"] == "True"  # type: ignore[index]


def test_an_invalid_cel_expression_stalls_the_kustomization(sim: simulation.Simulation) -> None:
    start(
        sim,
        {"apps/cm.yaml": CONFIGMAP % "a"},
        healthCheckExprs=[{"apiVersion": "v1", "kind": "ConfigMap", "current": "data.("}],
    )
    sim.advance(1_000)
    stalled = condition(sim, "Stalled")
    assert stalled is not None and stalled["reason"] == "InvalidCELExpression"
    assert stalled["message"].startswith(
        "Reconciliation failed terminally due to configuration error: failed to create custom status "
        "evaluator for healthchecks[0]: failed to parse the CEL expression 'data.(': "
    )
    assert ready(sim.cluster.get(KS))["reason"] == "InvalidCELExpression"
    sim.advance(60 * 60_000)
    assert [e[1] for e in events_of(sim, KS)] == ["Warning"]  # terminal: not retried


def test_ready_expr_replaces_the_built_in_dependency_checks(sim: simulation.Simulation) -> None:
    repo_with(
        sim,
        {"apps/cm.yaml": CONFIGMAP % "a", "infra/cm.yaml": (CONFIGMAP % "b").replace("settings", "infra")},
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    infra = kustomization(path="./infra", suspend=True)
    infra["metadata"]["name"] = "infra"
    sim.cluster.apply(infra, field_manager="kubectl")
    expr = "dep.spec.suspend == true && self.metadata.name == 'apps'"
    sim.cluster.apply(
        kustomization(dependsOn=[{"name": "infra", "readyExpr": expr}]), field_manager="kubectl"
    )
    sim.advance(1_000)
    assert ready(sim.cluster.get(KS))["status"] == "True"  # a suspended, never-ready dependency passes


def test_a_false_ready_expr_is_a_dependency_not_ready(sim: simulation.Simulation) -> None:
    repo_with(
        sim,
        {"apps/cm.yaml": CONFIGMAP % "a", "infra/cm.yaml": (CONFIGMAP % "b").replace("settings", "infra")},
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    infra = kustomization(path="./infra")
    infra["metadata"]["name"] = "infra"
    sim.cluster.apply(infra, field_manager="kubectl")
    sim.cluster.apply(
        kustomization(dependsOn=[{"name": "infra", "readyExpr": "dep.metadata.name == 'other'"}]),
        field_manager="kubectl",
    )
    sim.advance(1_000)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "DependencyNotReady",
        "message": "dependency 'flux-system/infra' is not ready according to readyExpr eval",
    }


def test_a_change_during_the_health_check_waits_for_it_then_runs_at_once(sim: simulation.Simulation) -> None:
    start(sim, {"apps/web.yaml": DEPLOYMENT % "nginx:1.27"}, wait=True)
    sim.advance(2_000)  # applied at 750ms, waiting for the rollout
    sim.cluster.apply(
        kustomization(wait=True, commonMetadata={"labels": {"team": "blue"}}), field_manager="kubectl"
    )
    sim.advance(1_000)
    web = refs.ObjectRef("apps", "Deployment", "default", "web")
    assert "team" not in sim.cluster.get(web)["metadata"].get(
        "labels", {}
    )  # still inside the first reconcile
    sim.advance(3_000)
    finished = [(t, m) for t, _, _, m in events_of(sim, KS) if m.startswith("Reconciliation finished")]
    assert finished == [
        (5_750, "Reconciliation finished in 5s, next run in 10m0s"),
        (5_750, "Reconciliation finished in 0s, next run in 10m0s"),
    ]
    assert sim.cluster.get(web)["metadata"]["labels"]["team"] == "blue"
    assert sim.cluster.get(KS)["status"]["observedGeneration"] == 2


def test_suspending_during_the_health_check_lets_the_reconcile_finish(sim: simulation.Simulation) -> None:
    start(sim, {"apps/web.yaml": DEPLOYMENT % "nginx:1.27"}, wait=True)
    sim.advance(2_000)
    sim.cluster.apply(kustomization(wait=True, suspend=True), field_manager="kubectl")
    sim.advance(4_000)
    assert condition(sim, "Healthy") == {
        "status": "True",
        "reason": "Succeeded",
        "message": "Health check passed in 5s",
    }
    assert condition(sim, "Reconciling") is None
    sim.advance(20 * 60_000)  # suspended from then on: no further reconcile
    finished = [m for _, _, _, m in events_of(sim, KS) if m.startswith("Reconciliation finished")]
    assert finished == ["Reconciliation finished in 5s, next run in 10m0s"]
