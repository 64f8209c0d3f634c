"""One bad object stops only itself: an exception inside a reconcile becomes that object's
failed reconcile (Ready=False naming the exception, a Warning event, a `reconcile-error` record
on the trace, the queue's backoff), and the run, the other objects and the report go on.

The fault is injected through a public seam, the cluster a Simulation is given: a MemoryCluster
whose writes of one named object raise, as a broken backend would."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from gitops_sim.cluster.memory import store
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.scenario import loader, runner
from gitops_sim.testing import ready
from gitops_sim.timing import clock as clocks
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with

CRD_NAME = "gitrepositories.source.toolkit.fluxcd.io"
OTHER = refs.ObjectRef(KS.group, KS.kind, "flux-system", "other")
MESSAGE = "reconcile failed with an unexpected error (a gitops-sim bug): RuntimeError: disk on fire"


class FaultyCluster(store.MemoryCluster):
    """Raises RuntimeError on an apply of the ConfigMap `poison`, or a create of anything named
    `poison-…` (the ReplicaSet of Deployment `poison`)."""

    def apply(self, obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if obj.get("kind") == "ConfigMap" and (obj.get("metadata") or {}).get("name") == "poison":
            raise RuntimeError("disk on fire")
        return super().apply(obj, **kwargs)

    def create(self, obj: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if (obj.get("metadata") or {}).get("name", "").startswith("poison-"):
            raise RuntimeError("disk on fire")
        return super().create(obj, **kwargs)


def faulty_sim(tmp_path: Path) -> simulation.Simulation:
    clock = clocks.VirtualClock()
    cluster = FaultyCluster(clock, random.Random("0/cluster"))
    return simulation.Simulation(simulation.Settings(workdir=tmp_path), cluster=cluster, clock=clock)


def two_kustomizations(sim: simulation.Simulation) -> None:
    poison = (CONFIGMAP % "x").replace("settings", "poison")
    repo_with(sim, {"apps/cm.yaml": poison, "other/cm.yaml": (CONFIGMAP % "x").replace("settings", "other")})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    other = kustomization(path="./other")
    other["metadata"]["name"] = "other"
    sim.cluster.apply(other, field_manager="kubectl")


def test_an_exception_in_one_kustomizations_reconcile_makes_it_ready_false_naming_it(tmp_path: Path) -> None:
    sim = faulty_sim(tmp_path)
    try:
        two_kustomizations(sim)
        sim.advance(1_000)
        assert ready(sim.cluster.get(KS)) == {
            "status": "False",
            "reason": "ReconciliationFailed",
            "message": MESSAGE,
        }
    finally:
        sim.close()


def test_the_neighbour_of_a_kustomization_whose_reconcile_raises_still_applies(tmp_path: Path) -> None:
    sim = faulty_sim(tmp_path)
    try:
        two_kustomizations(sim)
        sim.advance(60_000)
        assert ready(sim.cluster.get(OTHER))["status"] == "True"
        assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "other"))["data"] == {"mode": "x"}
    finally:
        sim.close()


def test_a_reconcile_that_raises_is_retried_with_the_queues_backoff_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    sim = faulty_sim(tmp_path)
    try:
        two_kustomizations(sim)
        sim.advance(10_000)
        errors = [r for r in sim.trace.records if r["kind"] == "reconcile-error"]
        assert {(r["controller"], r["object"], r["message"]) for r in errors} == {
            ("kustomize-controller", str(KS), MESSAGE)
        }
        # The first reconcile only added the finalizer and asked for a rate-limited requeue (one
        # failure counted, as controller-runtime counts it), so the backoff goes 1.5s, 3s, 6s...
        first = errors[0]["t"]
        assert [r["t"] - first for r in errors] == [0, 1_500, 4_500]
        sim.advance(3_600_000)  # an hour more: the run is not stopped by it
        assert sim.now() == 3_610_000
    finally:
        sim.close()


def test_a_reconcile_that_raises_emits_a_warning_event_on_the_timeline(tmp_path: Path) -> None:
    sim = faulty_sim(tmp_path)
    try:
        two_kustomizations(sim)
        sim.advance(1_000)
        warnings = {
            (r["type"], r["reason"], r["message"])
            for r in sim.trace.records
            if r["kind"] == "event" and r["object"] == str(KS) and r["type"] == "Warning"
        }
        assert warnings == {("Warning", "ReconciliationFailed", MESSAGE)}
    finally:
        sim.close()


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "nginx:1.27"}]},
            },
        },
    }


def test_an_exception_in_a_workload_controller_is_a_warning_event_and_other_workloads_roll_out(
    tmp_path: Path,
) -> None:
    sim = faulty_sim(tmp_path)
    try:
        sim.cluster.apply(deployment("poison"), field_manager="kubectl")
        sim.cluster.apply(deployment("web"), field_manager="kubectl")
        sim.advance(60_000)
        poison = refs.ObjectRef("apps", "Deployment", "default", "poison")
        assert {
            (r["type"], r["reason"], r["message"])
            for r in sim.trace.records
            if r["kind"] == "event" and r["object"] == str(poison)
        } == {("Warning", "ReconciliationFailed", MESSAGE)}
        web = sim.cluster.get(refs.ObjectRef("apps", "Deployment", "default", "web"))
        assert web["status"]["readyReplicas"] == 1
    finally:
        sim.close()


def test_a_watch_mapper_that_raises_on_a_malformed_status_is_recorded_and_the_write_succeeds(
    sim: simulation.Simulation,
) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(1_000)
    fleet = refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "fleet")
    # Flux's schema refuses such a status; a cluster whose GitRepository CRD has an open schema
    # (hand-installed CRDs) stores it, as `kubectl patch --subresource=status` could write it.
    crd = sim.cluster.get(refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", CRD_NAME))
    crd["spec"]["versions"][0]["schema"] = {
        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    }
    sim.cluster.update(crd, field_manager="kubectl")
    source = sim.cluster.get(fleet)
    source["status"]["artifact"] = "not an artifact"
    sim.cluster.update(source, field_manager="kubectl", subresource="status")
    message = (
        "reconcile failed with an unexpected error (a gitops-sim bug): "
        "AttributeError: 'str' object has no attribute 'get'"
    )
    # Four watches read GitRepositories' artifacts: HelmChart's, GitRepository's includes,
    # Kustomization's and ArtifactGenerator's; each records its failure, and the status write
    # itself went through.
    assert sorted(
        (r["controller"], r["object"], r["message"]) for r in sim.trace.records if r["kind"] == "watch-error"
    ) == [
        ("kustomize-controller", "GitRepository/flux-system/fleet", message),
        ("source-controller", "GitRepository/flux-system/fleet", message),
        ("source-controller", "GitRepository/flux-system/fleet", message),
        ("source-watcher", "GitRepository/flux-system/fleet", message),
    ]
    assert sim.cluster.get(fleet)["status"]["artifact"] == "not an artifact"


def test_a_scenario_whose_reconcile_raised_runs_to_its_end_and_then_fails_naming_the_bug(
    tmp_path: Path,
) -> None:
    path = tmp_path / "poisoned.yaml"
    path.write_text(
        "name: poisoned\n"
        "repos:\n"
        "  fleet:\n"
        "    url: https://github.com/acme/fleet\n"
        "    files:\n"
        "      apps/cm.yaml: |\n"
        "        apiVersion: v1\n"
        "        kind: ConfigMap\n"
        "        metadata: {name: poison, namespace: default}\n"
        "apply:\n"
        "  - |\n"
        "    apiVersion: source.toolkit.fluxcd.io/v1\n"
        "    kind: GitRepository\n"
        "    metadata: {name: fleet, namespace: flux-system}\n"
        "    spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}\n"
        "  - |\n"
        "    apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "    kind: Kustomization\n"
        "    metadata: {name: apps, namespace: flux-system}\n"
        "    spec: {interval: 10m, path: ./apps, prune: true,"
        " sourceRef: {kind: GitRepository, name: fleet}}\n"
        "steps:\n"
        "  - advance: 1m\n"
        "  - expect: {condition: {object: Kustomization/flux-system/apps, type: Ready, status: 'False'}}\n"
    )
    clock = clocks.VirtualClock()
    one = runner.Runner(
        loader.load(path), tmp_path / "work", FaultyCluster(clock, random.Random("0/c")), clock
    )
    try:
        outcome = one.run()
    finally:
        one.sim.close()
    assert [r["kind"] for r in outcome.trace.records if r["kind"] in ("expect", "failure")] == [
        "expect",
        "failure",
    ]
    assert str(outcome.failure) == (
        f"{path}:22:5: gitops-sim failed unexpectedly while kustomize-controller reconciled "
        f"Kustomization/flux-system/apps (a bug; the run went on without it): {MESSAGE}"
    )
