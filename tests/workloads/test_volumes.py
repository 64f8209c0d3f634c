"""Persistent storage on the simulated node: kind's default StorageClass, claims provisioned by
the local-path provisioner and bound by the PersistentVolume controller, StatefulSets' claim
templates, and Pods that wait in the scheduler for their claims, all in virtual time."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import kstatus, refs

PVC = refs.GroupKind("", "PersistentVolumeClaim")
PV = refs.GroupKind("", "PersistentVolume")
STS = refs.ObjectRef("apps", "StatefulSet", "default", "db")


def claim(name: str = "data", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec},
    }


def pod(claim_name: str = "data") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {
            "containers": [{"name": "app", "image": "busybox:1.36"}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


def stateful_set(replicas: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                }
            ],
            **spec,
        },
    }


def events(sim: simulation.Simulation, obj: str) -> list[tuple[str, str, str]]:
    return [
        (r["controller"], r["reason"], r["message"])
        for r in sim.trace.records
        if r["kind"] == "event" and r["object"] == obj
    ]


def get(sim: simulation.Simulation, kind: str, name: str) -> dict[str, Any]:
    namespace = "" if kind == "PersistentVolume" else "default"
    return sim.cluster.get(refs.ObjectRef("", kind, namespace, name))


def test_every_simulated_cluster_has_kind_s_default_storage_class(sim: simulation.Simulation) -> None:
    classes = sim.cluster.list(refs.GroupKind("storage.k8s.io", "StorageClass"))
    assert [
        (c["metadata"]["name"], c["provisioner"], c["volumeBindingMode"], c["reclaimPolicy"]) for c in classes
    ] == [("standard", "rancher.io/local-path", "WaitForFirstConsumer", "Delete")]
    assert classes[0]["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}


def test_a_claim_without_a_class_gets_the_default_and_waits_for_its_first_consumer(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(claim(), field_manager="kubectl")
    sim.settle()
    pvc = get(sim, "PersistentVolumeClaim", "data")
    assert pvc["spec"]["storageClassName"] == "standard"
    assert pvc["status"] == {"phase": "Pending"}
    assert events(sim, "PersistentVolumeClaim/default/data") == [
        (
            "persistentvolume-controller",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        )
    ]
    assert kstatus.compute(pvc).message == "PVC is not Bound. phase: Pending"


def test_a_claim_naming_no_class_is_left_alone_by_the_default(sim: simulation.Simulation) -> None:
    sim.cluster.apply(claim(storageClassName=""), field_manager="kubectl")
    sim.settle()
    assert get(sim, "PersistentVolumeClaim", "data")["spec"]["storageClassName"] == ""
    assert events(sim, "PersistentVolumeClaim/default/data") == [
        (
            "persistentvolume-controller",
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
        )
    ]


def test_a_pod_s_claim_is_provisioned_bound_and_the_pod_scheduled(sim: simulation.Simulation) -> None:
    sim.cluster.apply(claim(), field_manager="kubectl")
    sim.cluster.apply(pod(), field_manager="kubectl")
    sim.settle()
    pvc = get(sim, "PersistentVolumeClaim", "data")
    volume = f"pvc-{pvc['metadata']['uid']}"
    assert [(c, r) for c, r, _ in events(sim, "PersistentVolumeClaim/default/data")] == [
        ("persistentvolume-controller", "WaitForFirstConsumer"),
        ("persistentvolume-controller", "ExternalProvisioning"),
        ("rancher.io/local-path", "Provisioning"),
        ("rancher.io/local-path", "ProvisioningSucceeded"),
    ]
    assert (
        events(sim, "PersistentVolumeClaim/default/data")[-1][2]
        == f"Successfully provisioned volume {volume}"
    )
    assert pvc["spec"]["volumeName"] == volume
    assert pvc["status"] == {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "1Gi"},
    }
    assert pvc["metadata"]["annotations"] == {
        "volume.kubernetes.io/selected-node": "sim-node",
        "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
        "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path",
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
    }
    pv = get(sim, "PersistentVolume", volume)
    assert pv["status"]["phase"] == "Bound"
    assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
    assert pv["spec"]["hostPath"] == {
        "path": f"/var/local-path-provisioner/{volume}_default_data",
        "type": "DirectoryOrCreate",
    }
    assert (pv["spec"]["storageClassName"], pv["spec"]["persistentVolumeReclaimPolicy"]) == (
        "standard",
        "Delete",
    )
    assert events(sim, "Pod/default/app") == [
        ("default-scheduler", "Scheduled", "Successfully assigned default/app to sim-node")
    ]
    assert get(sim, "Pod", "app")["spec"]["nodeName"] == "sim-node"


def test_a_pod_whose_claim_is_missing_is_unschedulable_until_it_appears(sim: simulation.Simulation) -> None:
    sim.cluster.apply(pod("later"), field_manager="kubectl")
    sim.advance(30_000)
    status = get(sim, "Pod", "app")["status"]
    message = (
        '0/1 nodes are available: persistentvolumeclaim "later" not found. preemption: 0/1 nodes are '
        "available: 1 Preemption is not helpful for scheduling."
    )
    assert status["phase"] == "Pending"
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]] == [
        ("PodScheduled", "False", "Unschedulable", message)
    ]
    assert events(sim, "Pod/default/app") == [("default-scheduler", "FailedScheduling", message)]
    sim.cluster.apply(claim("later"), field_manager="kubectl")
    sim.advance(3_000)
    assert get(sim, "Pod", "app")["status"]["phase"] == "Running"


def test_a_claim_of_an_immediate_class_with_the_local_path_provisioner_fails_to_provision(
    sim: simulation.Simulation,
) -> None:
    immediate = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "fast"},
        "provisioner": "rancher.io/local-path",
    }
    sim.cluster.apply(immediate, field_manager="kubectl")
    sim.cluster.apply(claim(storageClassName="fast"), field_manager="kubectl")
    sim.settle()
    assert events(sim, "PersistentVolumeClaim/default/data")[-1] == (
        "rancher.io/local-path",
        "ProvisioningFailed",
        'failed to provision volume with StorageClass "fast": configuration error, no node was specified',
    )
    assert get(sim, "PersistentVolumeClaim", "data")["status"] == {"phase": "Pending"}


def test_a_claim_binds_to_the_smallest_available_volume_that_fits(sim: simulation.Simulation) -> None:
    for name, size in (("big", "10Gi"), ("small", "2Gi"), ("tiny", "500Mi")):
        sim.cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": name},
                "spec": {
                    "capacity": {"storage": size},
                    "accessModes": ["ReadWriteOnce"],
                    "hostPath": {"path": f"/srv/{name}"},
                },
            },
            field_manager="kubectl",
        )
    sim.settle()
    assert get(sim, "PersistentVolume", "small")["status"]["phase"] == "Available"
    sim.cluster.apply(claim(storageClassName=""), field_manager="kubectl")
    sim.settle()
    pvc = get(sim, "PersistentVolumeClaim", "data")
    assert (pvc["spec"]["volumeName"], pvc["status"]["capacity"]) == ("small", {"storage": "2Gi"})
    assert get(sim, "PersistentVolume", "small")["metadata"]["annotations"] == {
        "pv.kubernetes.io/bound-by-controller": "yes"
    }
    assert get(sim, "PersistentVolume", "big")["status"]["phase"] == "Available"


def test_deleting_a_claim_deletes_the_volume_the_provisioner_made(sim: simulation.Simulation) -> None:
    sim.cluster.apply(claim(), field_manager="kubectl")
    sim.cluster.apply(pod(), field_manager="kubectl")
    sim.advance(5_000)
    assert len(sim.cluster.list(PV)) == 1
    sim.cluster.delete(refs.ObjectRef("", "Pod", "default", "app"))
    sim.cluster.delete(refs.ObjectRef("", "PersistentVolumeClaim", "default", "data"))
    sim.settle()
    assert sim.cluster.list(PV) == []


def test_a_retained_volume_is_released_when_its_claim_goes(sim: simulation.Simulation) -> None:
    retained = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "keep"},
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    sim.cluster.apply(retained, field_manager="kubectl")
    sim.cluster.apply(claim(storageClassName="keep"), field_manager="kubectl")
    sim.cluster.apply(pod(), field_manager="kubectl")
    sim.advance(5_000)
    sim.cluster.delete(refs.ObjectRef("", "Pod", "default", "app"))
    sim.cluster.delete(refs.ObjectRef("", "PersistentVolumeClaim", "default", "data"))
    sim.settle()
    assert [v["status"]["phase"] for v in sim.cluster.list(PV)] == ["Released"]


def test_a_stateful_set_makes_a_claim_per_pod_and_becomes_current(sim: simulation.Simulation) -> None:
    sim.cluster.apply(stateful_set(), field_manager="kubectl")
    sim.settle()
    assert [p["metadata"]["name"] for p in sim.cluster.list(PVC, namespace="default")] == ["data-db-0"]
    assert events(sim, "StatefulSet/default/db") == [
        (
            "statefulset-controller",
            "SuccessfulCreate",
            "create Claim data-db-0 Pod db-0 in StatefulSet db success",
        ),
        ("statefulset-controller", "SuccessfulCreate", "create Pod db-0 in StatefulSet db successful"),
    ]
    volumes = get(sim, "Pod", "db-0")["spec"]["volumes"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}} in volumes
    sim.advance(6_000)
    assert [
        (p["metadata"]["name"], p["metadata"]["labels"], p["status"]["phase"])
        for p in sim.cluster.list(PVC, namespace="default")
    ] == [("data-db-0", {"app": "db"}, "Bound"), ("data-db-1", {"app": "db"}, "Bound")]
    result = kstatus.compute(sim.cluster.get(STS))
    assert (result.status, result.message) == (
        kstatus.Status.CURRENT,
        "Partition rollout complete. updated: 2",
    )


def test_a_stateful_set_s_claims_outlive_it_unless_its_retention_policy_deletes_them(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(stateful_set(replicas=1), field_manager="kubectl")
    sim.advance(5_000)
    sim.cluster.delete(STS)
    sim.settle()
    assert [p["metadata"]["name"] for p in sim.cluster.list(PVC, namespace="default")] == ["data-db-0"]
    sim.cluster.delete(refs.ObjectRef("", "PersistentVolumeClaim", "default", "data-db-0"))
    sim.cluster.apply(
        stateful_set(replicas=1, persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete"}),
        field_manager="kubectl",
    )
    sim.advance(5_000)
    sim.cluster.delete(STS)
    sim.settle()
    assert sim.cluster.list(PVC, namespace="default") == []
