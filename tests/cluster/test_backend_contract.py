"""One contract, every backend: the in-memory store, KubeCluster over our HTTP server, and (with
Docker) KubeCluster over k3s. A behaviour that differs between them is a bug in one of them."""

from __future__ import annotations

import queue
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.cluster import backend, errors, k3s
from gitops_sim.cluster.http import server
from gitops_sim.cluster.kube import KubeCluster
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from gitops_sim.timing import clock as clocks

CM = refs.ObjectRef("", "ConfigMap", "contract", "cfg")
CM_KIND = refs.GroupKind("", "ConfigMap")


@pytest.fixture(
    params=[
        "memory",
        "kube-over-http",
        pytest.param(
            "kube-over-k3s",
            marks=[
                pytest.mark.k3d,
                pytest.mark.skipif(
                    not k3s.docker_answers(), reason="no Docker engine answers here: k3s cannot start"
                ),
            ],
        ),
    ]
)
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[backend.Cluster]:
    memory = store.MemoryCluster(clocks.VirtualClock(), random.Random(0))
    if request.param == "memory":
        memory.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "contract"}}, field_manager="t"
        )
        yield memory
        return
    if request.param == "kube-over-http":
        for name in ("default", "contract"):
            memory.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager="t"
            )
        api = server.ApiServer(memory, clocks.VirtualClock())
        api.start()
        (tmp_path / "kubeconfig").write_text(api.kubeconfig())
        try:
            yield KubeCluster.from_kubeconfig(str(tmp_path / "kubeconfig"))
        finally:
            api.stop()
        return
    with k3s.started(tmp_path) as kubeconfig:
        kube = KubeCluster.from_kubeconfig(str(kubeconfig))
        kube.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "contract"}}, field_manager="t"
        )
        yield kube


def cm(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "contract"},
        "data": data,
    }


def test_create_get_and_list(cluster: backend.Cluster) -> None:
    created = cluster.create(
        {**cm(a="1"), "metadata": {**cm()["metadata"], "labels": {"app": "x"}}}, field_manager="t"
    )
    assert created["metadata"]["uid"]
    assert cluster.get(CM)["data"] == {"a": "1"}
    assert [o["metadata"]["name"] for o in cluster.list(CM_KIND, namespace="contract", labels="app=x")] == [
        "cfg"
    ]
    assert cluster.list(CM_KIND, namespace="contract", labels="app=y") == []


def test_missing_and_duplicate_objects_are_errors(cluster: backend.Cluster) -> None:
    with pytest.raises(errors.NotFound, match='configmaps "cfg" not found'):
        cluster.get(CM)
    cluster.create(cm(), field_manager="t")
    with pytest.raises(errors.AlreadyExists, match='configmaps "cfg" already exists'):
        cluster.create(cm(), field_manager="t")


def test_a_stale_update_conflicts(cluster: backend.Cluster) -> None:
    first = cluster.create(cm(a="1"), field_manager="t")
    cluster.update({**cluster.get(CM), "data": {"a": "2"}}, field_manager="t")
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        cluster.update({**first, "data": {"a": "3"}}, field_manager="t")


def test_server_side_apply_conflicts_and_forces(cluster: backend.Cluster) -> None:
    cluster.apply(cm(a="1"), field_manager="kubectl")
    with pytest.raises(errors.Conflict) as caught:
        cluster.apply(cm(a="2"), field_manager="flux")
    assert caught.value.message == 'Apply failed with 1 conflict: conflict with "kubectl": .data.a'
    assert cluster.apply(cm(a="2"), field_manager="flux", force=True)["data"] == {"a": "2"}


def test_json_and_merge_patches(cluster: backend.Cluster) -> None:
    cluster.create(cm(a="1"), field_manager="t")
    cluster.merge_patch(CM, {"data": {"b": "2"}}, field_manager="t")
    patched = cluster.json_patch(CM, [{"op": "remove", "path": "/data/a"}], field_manager="t")
    assert patched["data"] == {"b": "2"}


def test_a_finalizer_holds_deletion_until_removed(cluster: backend.Cluster) -> None:
    cluster.create(
        {**cm(), "metadata": {**cm()["metadata"], "finalizers": ["example.com/hold"]}}, field_manager="t"
    )
    cluster.delete(CM)
    held = cluster.get(CM)
    assert held["metadata"]["deletionTimestamp"]
    cluster.merge_patch(CM, {"metadata": {"finalizers": None}}, field_manager="t")
    with pytest.raises(errors.NotFound):
        cluster.get(CM)


def test_status_writes_go_through_the_subresource(cluster: backend.Cluster) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "contract"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    created = cluster.create(deployment, field_manager="t")
    written = cluster.update(
        {**created, "status": {"observedGeneration": 1}}, field_manager="kubelet", subresource="status"
    )
    assert written["status"]["observedGeneration"] == 1
    assert written["metadata"]["generation"] == 1


def test_a_watch_from_a_resource_version_sees_every_change(cluster: backend.Cluster) -> None:
    before = cluster.create(
        {**cm(), "metadata": {"name": "first", "namespace": "contract"}}, field_manager="t"
    )
    seen: queue.Queue[backend.WatchEvent] = queue.Queue()
    stop = cluster.watch(
        seen.put, kind=CM_KIND, namespace="contract", resource_version=before["metadata"]["resourceVersion"]
    )
    try:
        cluster.create(cm(a="1"), field_manager="t")
        cluster.merge_patch(CM, {"data": {"a": "2"}}, field_manager="t")
        cluster.delete(CM)
        events = [seen.get(timeout=10) for _ in range(3)]
    finally:
        stop()
    assert [(e.type, e.object["metadata"]["name"]) for e in events] == [
        ("ADDED", "cfg"),
        ("MODIFIED", "cfg"),
        ("DELETED", "cfg"),
    ]
