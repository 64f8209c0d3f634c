"""The simulated cluster controllers and kubelet: Deployments roll out through ReplicaSets and
Pods with the real controllers' status, images that cannot be pulled back off, crash loops and
failing Jobs are reported as a real node reports them, all in virtual time."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import kstatus, refs
from gitops_sim.sources import oci

DEPLOY = refs.ObjectRef("apps", "Deployment", "default", "web")
IMAGE = "ghcr.io/acme/web"


def deployment(image: str = f"{IMAGE}:1.0", replicas: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
            **spec,
        },
    }


def push(sim: simulation.Simulation, *tags: str) -> None:
    client = oci.RegistryClient(sim.registries.route)
    host, name = sim.registries.host(IMAGE)
    for tag in tags:
        client.push_image(host, name, tag)


def pods_of(sim: simulation.Simulation, namespace: str = "default") -> list[dict[str, Any]]:
    return sim.cluster.list(refs.GroupKind("", "Pod"), namespace=namespace)


def kubelet_events(sim: simulation.Simulation) -> list[tuple[int, str, str]]:
    return [
        (r["t"], r["reason"], r["message"])
        for r in sim.trace.records
        if r["kind"] == "event" and r["controller"] == "kubelet"
    ]


def test_a_deployment_becomes_current_once_its_pods_are_ready(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.settle()
    status = sim.cluster.get(DEPLOY)["status"]
    assert (status["replicas"], status.get("readyReplicas", 0)) == (2, 0)
    assert kstatus.compute(sim.cluster.get(DEPLOY)).message == "Available: 0/2"
    sim.advance(2_000)  # pulled and started
    assert {p["status"]["phase"] for p in pods_of(sim)} == {"Running"}
    assert kstatus.compute(sim.cluster.get(DEPLOY)).status == kstatus.Status.IN_PROGRESS
    sim.advance(1_000)  # ready
    deploy = sim.cluster.get(DEPLOY)
    assert kstatus.compute(deploy).status == kstatus.Status.CURRENT
    progressing = next(c for c in deploy["status"]["conditions"] if c["type"] == "Progressing")
    rs_name = sim.cluster.list(refs.GroupKind("apps", "ReplicaSet"), namespace="default")[0]["metadata"][
        "name"
    ]
    assert (progressing["reason"], progressing["message"]) == (
        "NewReplicaSetAvailable",
        f'ReplicaSet "{rs_name}" has successfully progressed.',
    )
    assert rs_name.startswith("web-") and all(
        p["metadata"]["name"].startswith(rs_name + "-") for p in pods_of(sim)
    )


def test_a_new_template_rolls_out_within_surge_and_unavailability(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=4), field_manager="kubectl")
    sim.advance(5_000)
    sim.cluster.apply(deployment(f"{IMAGE}:2.0", replicas=4), field_manager="kubectl")
    sim.settle()
    # 25% surge: one Pod more than wanted; 25% unavailable: one old Pod may go at once.
    assert len(pods_of(sim)) == 5
    sizes = sorted(
        rs["spec"]["replicas"]
        for rs in sim.cluster.list(refs.GroupKind("apps", "ReplicaSet"), namespace="default")
    )
    assert sizes == [2, 3]
    sim.advance(30_000)
    sizes = sorted(
        rs["spec"]["replicas"]
        for rs in sim.cluster.list(refs.GroupKind("apps", "ReplicaSet"), namespace="default")
    )
    assert sizes == [0, 4]
    assert {p["spec"]["containers"][0]["image"] for p in pods_of(sim)} == {f"{IMAGE}:2.0"}
    assert kstatus.compute(sim.cluster.get(DEPLOY)).status == kstatus.Status.CURRENT


def test_a_tag_missing_from_a_hosted_registry_backs_off_until_it_is_pushed(
    sim: simulation.Simulation,
) -> None:
    push(sim, "1.0")
    sim.cluster.apply(deployment(f"{IMAGE}:1.1", replicas=1), field_manager="kubectl")
    sim.advance(3_000)
    waiting = pods_of(sim)[0]["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{IMAGE}:1.1"'}
    assert [e[1] for e in kubelet_events(sim)] == ["Failed", "BackOff"]
    assert kubelet_events(sim)[0][2].endswith(
        f'failed to resolve reference "{IMAGE}:1.1": {IMAGE}:1.1: not found'
    )
    push(sim, "1.1")
    sim.advance(10_000)  # the next pull, 10s after the first back-off
    assert pods_of(sim)[0]["status"]["phase"] == "Running"
    sim.advance(1_000)
    assert kstatus.compute(sim.cluster.get(DEPLOY)).status == kstatus.Status.CURRENT


def test_images_of_registries_the_scenario_does_not_host_always_pull(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment("nginx:1.27", replicas=1), field_manager="kubectl")
    sim.advance(3_000)
    assert kstatus.compute(sim.cluster.get(DEPLOY)).status == kstatus.Status.CURRENT


def test_a_stuck_rollout_passes_its_progress_deadline_and_kstatus_calls_it_failed(
    sim: simulation.Simulation,
) -> None:
    push(sim, "1.0")
    sim.cluster.apply(deployment(replicas=1, progressDeadlineSeconds=60), field_manager="kubectl")
    sim.advance(5_000)
    sim.cluster.apply(
        deployment(f"{IMAGE}:9.9", replicas=1, progressDeadlineSeconds=60), field_manager="kubectl"
    )
    sim.advance(59_000)
    assert kstatus.compute(sim.cluster.get(DEPLOY)).status == kstatus.Status.IN_PROGRESS
    sim.advance(1_000)
    deploy = sim.cluster.get(DEPLOY)
    progressing = next(c for c in deploy["status"]["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"].endswith("has timed out progressing.")
    assert kstatus.compute(deploy).status == kstatus.Status.FAILED
    assert deploy["status"]["availableReplicas"] == 1  # the old Pod still serves


def test_a_crash_looping_container_restarts_with_the_kubelet_s_back_off(sim: simulation.Simulation) -> None:
    sim.images.set_fault(f"{IMAGE}:1.0", "crash-loop")
    sim.cluster.apply(deployment(replicas=1), field_manager="kubectl")
    sim.advance(3_000)  # started at 2s, crashed at 3s
    pod = pods_of(sim)[0]
    container = pod["status"]["containerStatuses"][0]
    assert container["restartCount"] == 1
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container["state"]["waiting"]["message"].startswith(
        "back-off 10s restarting failed container=web pod="
    )
    assert container["lastState"]["terminated"]["reason"] == "Error"
    assert kstatus.compute(pod).status == kstatus.Status.FAILED
    sim.advance(11_000)  # restarted at 13s, crashed again at 14s: back-off doubles
    container = pods_of(sim)[0]["status"]["containerStatuses"][0]
    assert container["restartCount"] == 2
    assert container["state"]["waiting"]["message"].startswith("back-off 20s ")


def test_an_evicted_pod_is_replaced_by_its_replica_set(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(replicas=1), field_manager="kubectl")
    sim.advance(3_000)
    pod = pods_of(sim)[0]
    pod["status"] |= {"phase": "Failed", "reason": "Evicted"}
    pod["metadata"].pop("resourceVersion")
    sim.cluster.update(pod, field_manager="kubelet", subresource="status")
    sim.settle()
    phases = sorted(p["status"]["phase"] for p in pods_of(sim))
    assert phases == ["Failed", "Pending"]
    sim.advance(3_000)
    assert kstatus.compute(sim.cluster.get(DEPLOY)).status == kstatus.Status.CURRENT


def test_deleting_a_deployment_collects_its_replica_sets_and_pods(sim: simulation.Simulation) -> None:
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.advance(3_000)
    sim.cluster.delete(DEPLOY)
    sim.settle()
    assert sim.cluster.list(refs.GroupKind("apps", "ReplicaSet"), namespace="default") == []
    assert pods_of(sim) == []


def job(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "default"},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": f"{IMAGE}:1.0"}]}
            },
            **spec,
        },
    }


JOB = refs.ObjectRef("batch", "Job", "default", "migrate")


def test_a_job_completes_after_its_pod_has_run(sim: simulation.Simulation) -> None:
    sim.cluster.apply(job(), field_manager="kubectl")
    sim.advance(6_000)
    assert kstatus.compute(sim.cluster.get(JOB)).status == kstatus.Status.IN_PROGRESS
    sim.advance(1_000)  # pull 2s + run 5s
    status = sim.cluster.get(JOB)["status"]
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("SuccessCriteriaMet", "CompletionsReached"),
        ("Complete", "CompletionsReached"),
    ]
    assert status["succeeded"] == 1
    assert kstatus.compute(sim.cluster.get(JOB)).message == "Job Completed. succeeded: 1/1"


def test_a_failing_job_retries_with_back_off_until_its_limit(sim: simulation.Simulation) -> None:
    sim.images.set_fault(f"{IMAGE}:1.0", "crash-loop")
    sim.cluster.apply(job(backoffLimit=1), field_manager="kubectl")
    sim.advance(3_000)  # the first Pod fails at 3s
    assert sim.cluster.get(JOB)["status"]["failed"] == 1
    assert len(pods_of(sim)) == 1  # the next waits 10s
    sim.advance(10_000)
    assert len(pods_of(sim)) == 2
    sim.advance(3_000)
    status = sim.cluster.get(JOB)["status"]
    assert status["failed"] == 2
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert (failed["reason"], failed["message"]) == (
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert kstatus.compute(sim.cluster.get(JOB)).status == kstatus.Status.FAILED


def test_a_statefulset_starts_its_pods_in_order(sim: simulation.Simulation) -> None:
    sts = deployment(replicas=3)
    sts["kind"] = "StatefulSet"
    sts["spec"]["serviceName"] = "web"
    sim.cluster.apply(sts, field_manager="kubectl")
    sim.settle()
    assert [p["metadata"]["name"] for p in pods_of(sim)] == ["web-0"]
    sim.advance(3_000)
    assert [p["metadata"]["name"] for p in pods_of(sim)] == ["web-0", "web-1"]
    sim.advance(6_000)
    ref = refs.ObjectRef("apps", "StatefulSet", "default", "web")
    assert sim.cluster.get(ref)["status"]["readyReplicas"] == 3
    assert kstatus.compute(sim.cluster.get(ref)).status == kstatus.Status.CURRENT


def test_a_daemonset_runs_one_pod_on_the_simulated_node(sim: simulation.Simulation) -> None:
    ds = deployment()
    ds["kind"] = "DaemonSet"
    del ds["spec"]["replicas"]
    sim.cluster.apply(ds, field_manager="kubectl")
    sim.advance(3_000)
    ref = refs.ObjectRef("apps", "DaemonSet", "default", "web")
    assert sim.cluster.get(ref)["status"]["numberReady"] == 1
    assert kstatus.compute(sim.cluster.get(ref)).status == kstatus.Status.CURRENT
    assert [p["spec"]["nodeName"] for p in pods_of(sim)] == ["sim-node"]


def test_the_same_seed_names_the_same_pods(tmp_path: Any) -> None:
    names = []
    for run in ("a", "b"):
        sim = simulation.Simulation(simulation.Settings(tmp_path / run, seed=5))
        try:
            sim.cluster.apply(deployment(), field_manager="kubectl")
            sim.advance(3_000)
            names.append(sorted(p["metadata"]["name"] for p in pods_of(sim)))
        finally:
            sim.close()
    assert names[0] == names[1]


def test_workloads_are_simulated_in_memory_unless_turned_off(tmp_path: Any) -> None:
    settings = simulation.Settings(tmp_path)
    assert settings.workloads is None
    sim = simulation.Simulation(settings)
    try:
        assert "kubelet" in [c.name for c in sim.controllers]
    finally:
        sim.close()
    with_off = simulation.Simulation(simulation.Settings(tmp_path / "off", workloads=False))
    try:
        with_off.cluster.apply(deployment(), field_manager="kubectl")
        with_off.advance(5_000)
        assert "status" not in with_off.cluster.get(DEPLOY)
    finally:
        with_off.close()
