"""The API server's DefaultStorageClass admission plugin: a claim created without a class gets
the default StorageClass, as kube-apiserver gives it, and nothing else does."""

from __future__ import annotations

from typing import Any

from gitops_sim.model import refs
from gitops_sim.timing import clock as clocks
from tests.builders import memory_cluster

CLAIM = refs.ObjectRef("", "PersistentVolumeClaim", "default", "data")


def storage_class(name: str, default: bool = True) -> dict[str, Any]:
    annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": annotations},
        "provisioner": "example.com/disk",
    }


def claim(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec},
    }


def test_a_claim_without_a_class_gets_the_newest_default_and_no_manager_owns_it() -> None:
    clock = clocks.VirtualClock()
    cluster = memory_cluster(clock=clock)
    cluster.create(storage_class("old"), field_manager="kubectl")
    clock.advance_to(clocks.Millis(1_000))
    cluster.create(storage_class("new"), field_manager="kubectl")
    cluster.create(storage_class("plain", default=False), field_manager="kubectl")
    created = cluster.apply(claim(), field_manager="flux")
    assert created["spec"]["storageClassName"] == "new"
    owned = created["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    assert "f:storageClassName" not in owned


def test_a_claim_naming_a_class_or_none_keeps_it() -> None:
    cluster = memory_cluster()
    cluster.create(storage_class("standard"), field_manager="kubectl")
    assert (
        cluster.create(claim(storageClassName=""), field_manager="kubectl")["spec"]["storageClassName"] == ""
    )
    cluster.delete(CLAIM)
    assert (
        cluster.create(claim(storageClassName="fast"), field_manager="kubectl")["spec"]["storageClassName"]
        == "fast"
    )


def test_without_a_default_class_a_claim_is_left_without_one() -> None:
    cluster = memory_cluster()
    cluster.create(storage_class("plain", default=False), field_manager="kubectl")
    assert "storageClassName" not in cluster.create(claim(), field_manager="kubectl")["spec"]
