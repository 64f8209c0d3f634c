"""Flux as installed components: its Deployments run the engine's controllers. A simulation has
Flux installed a minute before t=0; a controller reconciles only while its Deployment has an
available Pod, and starts over (every object queued) when it has one again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import flux, fluxinstall, objects, refs
from gitops_sim.scenario import loader, runner
from tests.builders import GITREPO, gitrepository, repo_with

DEPLOYMENT = refs.GroupKind("apps", "Deployment")
POD = refs.GroupKind("", "Pod")
SOURCE_CONTROLLER = refs.ObjectRef("apps", "Deployment", "flux-system", "source-controller")


def _scale(sim: simulation.Simulation, replicas: int) -> None:
    sim.cluster.merge_patch(SOURCE_CONTROLLER, {"spec": {"replicas": replicas}}, field_manager="kubectl")


def _ready(sim: simulation.Simulation) -> str | None:
    """The GitRepository's Ready status, None before its first reconcile."""
    for condition in (sim.cluster.get(GITREPO).get("status") or {}).get("conditions") or []:
        if condition["type"] == "Ready":
            return str(condition["status"])
    return None


def _reconciled_at(sim: simulation.Simulation) -> Any:
    return (sim.cluster.get(GITREPO).get("status") or {}).get("lastHandledReconcileAt")


def test_flux_is_installed_and_running_before_the_run_begins(sim: simulation.Simulation) -> None:
    deployments = sim.cluster.list(DEPLOYMENT, namespace="flux-system")
    assert [d["metadata"]["name"] for d in deployments] == sorted(flux.ALL_COMPONENTS)
    assert all(d["status"]["availableReplicas"] == 1 for d in deployments)
    assert {d["metadata"]["creationTimestamp"] for d in deployments} == {"2024-12-31T23:59:00Z"}
    pods = sim.cluster.list(POD, namespace="flux-system")
    assert [p["status"]["phase"] for p in pods] == ["Running"] * len(flux.ALL_COMPONENTS)
    images = {d["spec"]["template"]["spec"]["containers"][0]["image"] for d in deployments}
    assert "ghcr.io/fluxcd/source-controller:v1.10.1" in images
    assert sim.trace.records == []  # the installation is not part of the run


def test_the_installed_objects_are_what_flux_install_applies(sim: simulation.Simulation) -> None:
    for want in fluxinstall.manifests(fluxinstall.Options(components=flux.ALL_COMPONENTS)):
        live = sim.cluster.get(objects.ref_of(want))
        assert live["metadata"]["labels"].items() >= want["metadata"]["labels"].items()
        assert [m["manager"] for m in live["metadata"]["managedFields"] if m["operation"] == "Apply"] == [
            "flux"
        ]


def test_two_simulations_with_the_same_seed_start_from_the_same_cluster(tmp_path: Path) -> None:
    def listed(sim: simulation.Simulation) -> list[objects.RawObject]:
        return [o for info in sim.memory.served_kinds() for o in sim.cluster.list(info.gvk.group_kind)]

    first = simulation.Simulation(simulation.Settings(workdir=tmp_path / "a"))
    second = simulation.Simulation(simulation.Settings(workdir=tmp_path / "b"))
    try:
        assert listed(first) == listed(second)
        assert first.memory.resource_version == second.memory.resource_version
    finally:
        first.close()
        second.close()


def test_a_source_stops_reconciling_while_source_controller_is_scaled_to_zero(
    sim: simulation.Simulation,
) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    _scale(sim, 0)
    sim.settle()
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(60_000)
    assert _ready(sim) is None
    assert [r for r in sim.trace.records if r["kind"] == "controller"] == [
        {"t": 0, "kind": "controller", "component": "source-controller", "up": False}
    ]


def test_source_controller_catches_up_with_every_object_once_its_pod_is_ready(
    sim: simulation.Simulation,
) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    _scale(sim, 0)
    sim.settle()
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(60_000)
    _scale(sim, 1)
    sim.advance(2_999)  # the kubelet pulls for 2 s and the Pod is ready after 1 s more
    assert _ready(sim) is None
    sim.advance(1_000)  # its first fetch retries after 750 ms, as with a controller up from the start
    assert _ready(sim) == "True"
    started = [r for r in sim.trace.records if r["kind"] == "controller" and r["up"]]
    assert started == [{"t": 63_000, "kind": "controller", "component": "source-controller", "up": True}]


def test_deleting_a_controllers_deployment_stops_its_periodic_reconciles(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    before = _reconciled_at(sim), sim.cluster.get(GITREPO)["status"]["artifact"]["lastUpdateTime"]
    sim.cluster.delete(SOURCE_CONTROLLER)
    sim.advance(10 * 60_000)
    assert (_reconciled_at(sim), sim.cluster.get(GITREPO)["status"]["artifact"]["lastUpdateTime"]) == before


def test_a_crash_looping_controller_reconciles_nothing(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    sim.images.set_fault("ghcr.io/fluxcd/source-controller:v1.10.1", "crash-loop")
    # A new Pod (a restart of the Deployment's template) meets the fault.
    sim.cluster.merge_patch(
        SOURCE_CONTROLLER,
        {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}},
        field_manager="kubectl",
    )
    sim.advance(30_000)
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(5 * 60_000)
    assert _ready(sim) is None


def test_without_flux_nothing_reconciles_until_its_components_are_applied(tmp_path: Path) -> None:
    sim = simulation.Simulation(simulation.Settings(workdir=tmp_path, with_flux=False))
    try:
        assert sim.cluster.list(DEPLOYMENT, namespace="flux-system") == []
        for obj in fluxinstall.manifests(fluxinstall.Options()):
            sim.cluster.apply(obj, field_manager="flux", force=True)
        repo_with(sim, {"apps/a.yaml": "a: 1\n"})
        sim.cluster.apply(gitrepository(), field_manager="kubectl")
        sim.advance(2_999)
        assert _ready(sim) is None
        sim.advance(1_000)
        assert _ready(sim) == "True"
    finally:
        sim.close()


ALERTING = """\
name: notifications stop while notification-controller is down
sinks:
  hooks: {url: "https://hooks.example.com", type: generic}
repos:
  fleet:
    url: https://github.com/acme/fleet
    files:
      apps/cm.yaml: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: default}
        data: {mode: a}
apply:
  - |
    apiVersion: notification.toolkit.fluxcd.io/v1
    kind: Provider
    metadata: {name: hooks, namespace: flux-system}
    spec: {type: generic, address: "https://hooks.example.com/flux"}
  - |
    apiVersion: notification.toolkit.fluxcd.io/v1
    kind: Alert
    metadata: {name: apps, namespace: flux-system}
    spec:
      providerRef: {name: hooks}
      eventSeverity: info
      eventSources: [{kind: Kustomization, name: apps}]
  - |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: fleet, namespace: flux-system}
    spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}
  - |
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
steps:
  - expect:
      notification:
        {sink: hooks, object: Kustomization/flux-system/apps, message: ConfigMap/default/settings created}
      within: 1m
  - drift: {object: Deployment/flux-system/notification-controller, set: {spec.replicas: 0}}
  - commit:
      repo: fleet
      message: b
      files:
        apps/cm.yaml: |
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: settings, namespace: default}
          data: {mode: b}
  - expect:
      condition:
        object: Kustomization/flux-system/apps
        type: Ready
        status: "True"
        message: "Applied revision: main@sha1:${repos.fleet.head}"
      within: 2m
  - expect:
      no-notification:
        {sink: hooks, object: Kustomization/flux-system/apps, message: ConfigMap/default/settings configured}
      for: 1m
"""


def test_events_sent_while_notification_controller_is_down_are_lost(tmp_path: Path) -> None:
    path = tmp_path / "alerting.yaml"
    path.write_text(ALERTING)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure
    stopped = [r for r in outcome.trace.records if r["kind"] == "controller"]
    assert [(r["component"], r["up"]) for r in stopped] == [("notification-controller", False)]
