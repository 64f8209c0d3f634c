"""The engine on a remote cluster: the shipped scenarios run through KubeCluster against our HTTP
front (the official Python client, real watches over the network) and end exactly as they do in
memory: same objects, same conditions."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import cli
from gitops_sim.cluster import k3s
from gitops_sim.cluster.http import server
from gitops_sim.cluster.kube import KubeCluster
from gitops_sim.cluster.memory import store
from gitops_sim.controllers.artifactgenerator import GENERATOR, GENERATOR_LABEL
from gitops_sim.engine import informers, simulation
from gitops_sim.model import objects, refs
from gitops_sim.scenario import loader, runner
from gitops_sim.testing import ready
from gitops_sim.timing import clock as clocks
from gitops_sim.workloads import volumes
from tests.builders import CONFIGMAP, GITREPO, KS, gitrepository, kustomization, repo_with

SCENARIOS_DIR = Path(__file__).parents[2] / "scenarios"
SCENARIOS = [p for p in loader.discover([SCENARIOS_DIR]) if loader.load(p).flux_installed]
"""The shipped scenarios, but those that start without Flux (the tutorial's): on a remote cluster
the engine runs Flux's controllers outside it, so the Deployments they install gate nothing there
and their waits end at other instants."""


def comparable(cluster: store.MemoryCluster) -> dict[str, Any]:
    """Every object but Events, without what differs between any two API servers (uids,
    resourceVersions) or between two runs of the same store (managedFields order of writers).
    Flux's installation is left out: in memory it runs as Deployments installed before t=0, on a
    remote cluster the engine runs outside it; so are the namespaces and the default StorageClass
    every cluster starts with, and the addresses handed out (Flux's Pods and Services take some
    in memory), EndpointSlices' included; a provisioned volume is named after its claim's uid, so
    it is keyed by its claim; a label holding an object's uid (source-watcher's generator label on
    an ExternalArtifact) is replaced by the object it names in the same cluster."""
    generators = {g["metadata"]["uid"]: str(objects.ref_of(g)) for g in cluster.list(GENERATOR.group_kind)}
    out: dict[str, Any] = {}
    for info in cluster.served_kinds():
        if info.gvk.kind == "Event":
            continue
        for obj in cluster.list(info.gvk.group_kind):
            labels = obj["metadata"].get("labels") or {}
            if labels.get("app.kubernetes.io/part-of") == "flux":
                continue
            if info.gvk.kind == "Namespace" and obj["metadata"]["name"] in simulation.SYSTEM_NAMESPACES:
                continue
            if info.gvk.kind == "StorageClass" and obj["metadata"]["name"] == volumes.DEFAULT_CLASS:
                continue
            obj = objects.deep_copy(obj)
            meta = obj["metadata"]
            for volatile in ("uid", "resourceVersion", "managedFields", "ownerReferences"):
                meta.pop(volatile, None)
            for volatile in ("controller-uid", "batch.kubernetes.io/controller-uid"):  # a Job's Pods'
                (meta.get("labels") or {}).pop(volatile, None)
            # source-watcher labels what it generates with its generator's uid; the uids differ
            # (Flux's installation draws some in memory first), the generator they name must not.
            if GENERATOR_LABEL in (meta.get("labels") or {}):
                meta["labels"][GENERATOR_LABEL] = generators.get(
                    meta["labels"][GENERATOR_LABEL], "unknown uid"
                )
            # Addresses depend on what else runs in the cluster (Flux's own Pods and Services).
            for volatile in ("podIP", "podIPs"):
                (obj.get("status") or {}).pop(volatile, None)
            for volatile in ("clusterIP", "clusterIPs"):
                (obj.get("spec") or {}).pop(volatile, None)
            for endpoint in obj.get("endpoints") or [] if info.gvk.kind == "EndpointSlice" else []:
                endpoint.pop("addresses", None)
                endpoint.get("targetRef", {}).pop("uid", None)
            key = str(objects.ref_of(obj))
            if info.gvk.kind == "PersistentVolumeClaim":
                (obj.get("spec") or {}).pop("volumeName", None)
            if info.gvk.kind == "PersistentVolume" and obj["metadata"]["name"].startswith("pvc-"):
                claim = obj["spec"].pop("claimRef", {})
                key = f"PersistentVolume for {claim.get('namespace')}/{claim.get('name')}"
                meta.pop("name")
                obj["spec"].pop("hostPath", None)
            out[key] = obj
    return out


class Remote:
    """A MemoryCluster served over HTTP, and a KubeCluster reaching it through a kubeconfig."""

    def __init__(self, folder: Path, seed: int, epoch_ms: int) -> None:
        self.clock = clocks.VirtualClock(epoch_ms)
        self.memory = store.MemoryCluster(self.clock, random.Random(f"{seed}/cluster"))
        self.api = server.ApiServer(self.memory, self.clock)
        self.api.start()
        (folder / "kubeconfig").write_text(self.api.kubeconfig())
        self.kube = KubeCluster.from_kubeconfig(str(folder / "kubeconfig"))


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    served = Remote(tmp_path, 0, clocks.DEFAULT_EPOCH_MS)
    try:
        yield served
    finally:
        served.api.stop()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_shipped_scenario_ends_the_same_in_memory_and_over_http(path: Path, tmp_path: Path) -> None:
    scenario = loader.load(path)
    in_memory = runner.Runner(scenario, tmp_path / "memory")
    assert in_memory.run().passed
    in_memory.sim.close()
    epoch = in_memory.sim.clock.epoch_ms
    remote = Remote(tmp_path, scenario.seed, epoch)
    try:
        outcome = runner.run(scenario, tmp_path / "remote", remote.kube, remote.clock, workloads=True)
        assert outcome.failure is None, str(outcome.failure)
        assert outcome.virtual_ms == int(in_memory.sim.now())
        assert comparable(remote.memory) == comparable(in_memory.sim.memory)
    finally:
        remote.api.stop()


@pytest.fixture
def remote_sim(remote: Remote, tmp_path: Path) -> Iterator[simulation.Simulation]:
    """A simulation whose engine reaches `remote` only over HTTP."""
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim"), remote.kube, remote.clock)
    try:
        yield sim
    finally:
        sim.close()


def finalized(remote: Remote) -> bool:
    """Whether source-controller has taken the GitRepository in hand (its first reconcile)."""
    return "finalizers.fluxcd.io" in remote.memory.get(GITREPO)["metadata"].get("finalizers", [])


def test_the_engine_reconciles_what_kubectl_applies_to_a_remote_cluster(
    remote: Remote, remote_sim: simulation.Simulation
) -> None:
    repo_with(remote_sim, {"apps/cm.yaml": CONFIGMAP % "on"})
    for manifest in (gitrepository(), kustomization()):
        remote.memory.apply(manifest, field_manager="kubectl")  # written behind the engine's back
    remote_sim.advance(1_000)  # the first reconciles add finalizers and requeue
    assert ready(remote.memory.get(KS))["reason"] == "ReconciliationSucceeded"
    assert remote.memory.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))["data"] == {"mode": "on"}


def test_a_watch_the_server_ends_is_started_again_without_losing_a_change(
    remote: Remote, remote_sim: simulation.Simulation
) -> None:
    watching = remote_sim.remote
    assert watching is not None
    remote.api.end_watches()
    for _ in range(100):
        remote_sim.drain()
        if watching.rewatches == len(watching.kinds):
            break
        threading.Event().wait(0.05)
    remote.memory.apply(gitrepository(), field_manager="kubectl")
    remote_sim.settle()
    assert (watching.rewatches, watching.relists) == (len(watching.kinds), 0)
    assert finalized(remote)


def test_a_change_whose_event_never_arrives_is_found_by_a_relist(
    remote: Remote, remote_sim: simulation.Simulation
) -> None:
    watching = remote_sim.remote
    assert watching is not None
    watching.stop()  # the watches are gone and nothing tells the informers
    remote.memory.apply(gitrepository(), field_manager="kubectl")
    remote_sim.settle()
    assert watching.relists >= 1
    assert finalized(remote)


def test_a_cluster_running_flux_is_refused(remote: Remote, tmp_path: Path) -> None:
    remote.memory.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, field_manager="t"
    )
    remote.memory.create(FLUX_DEPLOYMENT, field_manager="flux")
    with pytest.raises(
        informers.RemoteClusterError,
        match=r"Flux is installed in this cluster \(flux-system: source-controller\)",
    ):
        simulation.Simulation(simulation.Settings(tmp_path / "sim"), remote.kube, remote.clock)


FLUX_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "source-controller",
        "namespace": "flux-system",
        "labels": {"app.kubernetes.io/part-of": "flux"},
    },
    "spec": {
        "selector": {"matchLabels": {"app": "source-controller"}},
        "template": {
            "metadata": {"labels": {"app": "source-controller"}},
            "spec": {"containers": [{"name": "manager", "image": "ghcr.io/fluxcd/source-controller:v1.4.1"}]},
        },
    },
}


@pytest.fixture
def real(tmp_path: Path) -> Iterator[tuple[store.MemoryCluster, Path]]:
    """A stand-in for a real cluster: its own store on the wall clock, served over HTTP."""
    wall = clocks.WallClock(epoch_ms=clocks.DEFAULT_EPOCH_MS)
    memory = store.MemoryCluster(wall, random.Random(0))
    for name in ("default", "kube-system"):
        memory.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager="k3s"
        )
    api = server.ApiServer(memory, wall)
    api.start()
    (tmp_path / "kubeconfig").write_text(api.kubeconfig())
    try:
        yield memory, tmp_path / "kubeconfig"
    finally:
        api.stop()


def namespaces(memory: store.MemoryCluster) -> list[str]:
    return [o["metadata"]["name"] for o in memory.list(refs.GroupKind("", "Namespace"))]


def test_run_with_a_kubeconfig_runs_scenarios_in_wall_clock_time_and_cleans_up_after_each(
    real: tuple[store.MemoryCluster, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    memory, kubeconfig = real
    paths = [str(SCENARIOS_DIR / "basics" / "first-sync.yaml"), str(SCENARIOS_DIR / "drift")]
    assert cli.main(["run", "-q", *paths, "--kubeconfig", str(kubeconfig), "--pace", "1200"]) == 0
    out = capsys.readouterr().out
    assert f"running on http://{kubeconfig.read_text().split('http://')[1].split()[0]}" in out
    assert out.rstrip().splitlines()[-1] == "2 passed, 0 failed"
    # The system namespaces stay (every real cluster has them; kube-public may not be deleted).
    assert namespaces(memory) == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert memory.list(KS.group_kind) == []
    assert (
        memory.find_kind(KS.group_kind) is not None
    )  # the CRDs stay, as after `flux uninstall --keep-namespace`


def test_run_refuses_a_cluster_it_cannot_reach_with_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    path = str(SCENARIOS_DIR / "basics" / "first-sync.yaml")
    assert cli.main(["run", path, "--kubeconfig", str(config)]) == 2
    assert f"cannot reach the cluster of {config}" in capsys.readouterr().out


def test_run_on_k3s_says_what_is_missing_when_docker_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    if k3s.docker_answers():
        pytest.skip("a Docker engine answers here: k3s would start")
    assert cli.main(["run", str(SCENARIOS_DIR / "basics"), "--cluster", "k3s"]) == 2
    assert "--cluster k3s needs" in capsys.readouterr().out
