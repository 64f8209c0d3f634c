"""The built-in kinds a v1.37 cluster serves: every kind `kubernetes-validate` has a v1.37 schema
for that a client can store, at its real group, GA version and scope; generation kept for kinds
with a spec; autoscaling/v1 and v2 HorizontalPodAutoscaler one resource, converted on read."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import kinds, schema
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from gitops_sim.timing import clock as clocks
from tests.builders import memory_cluster

# Kinds the real server never stores: create-only reviews and requests, and read-only ComponentStatus.
NOT_STORED = {
    "Binding",
    "ComponentStatus",
    "Eviction",
    "LocalSubjectAccessReview",
    "Scale",
    "SelfSubjectAccessReview",
    "SelfSubjectReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
    "TokenRequest",
    "TokenReview",
}
META = {"APIGroup", "APIVersions", "DeleteOptions", "Status", "WatchEvent"}


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return memory_cluster(clock=clocks.VirtualClock())


def test_every_stored_ga_kind_with_a_v137_schema_is_served() -> None:
    _, by_gvk = schema.builtin_definitions()
    ga = {
        gvk
        for gvk in by_gvk
        if gvk.version in ("v1", "v2") and not gvk.kind.endswith("List") and gvk.kind not in NOT_STORED | META
    }
    assert ga - {i.gvk for i in kinds.KindRegistry().all()} == set()


def test_autoscaling_serves_the_hpa_as_one_resource_in_v1_and_v2_preferring_v2() -> None:
    registry = kinds.KindRegistry()
    assert registry.get(kinds.HPA) is not None
    assert registry.get(kinds.HPA).gvk.version == "v2"  # type: ignore[union-attr]
    assert [i.gvk.version for i in registry.all() if i.gvk.group_kind == kinds.HPA] == ["v1", "v2"]


def _create(cluster: store.MemoryCluster, obj: dict[str, Any]) -> dict[str, Any]:
    return cluster.create(obj, field_manager="test")


def test_a_validating_admission_policy_gets_generation_1_as_a_kind_with_a_spec(
    cluster: store.MemoryCluster,
) -> None:
    created = _create(
        cluster,
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": "replicas"},
            "spec": {"validations": [{"expression": "object.spec.replicas <= 5"}]},
        },
    )
    assert created["metadata"]["generation"] == 1


def test_a_priority_class_has_no_generation(cluster: store.MemoryCluster) -> None:
    created = _create(
        cluster,
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "high"},
            "value": 1000,
        },
    )
    assert "generation" not in created["metadata"]


def test_a_lease_is_namespaced_and_a_runtime_class_cluster_scoped(cluster: store.MemoryCluster) -> None:
    lease = _create(
        cluster,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "l", "namespace": "default"},
        },
    )
    runtime = _create(
        cluster,
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": "gvisor"},
            "handler": "runsc",
        },
    )
    assert (lease["metadata"]["namespace"], "namespace" in runtime["metadata"]) == ("default", False)


def test_a_v1_hpa_without_a_cpu_target_converts_to_v2_without_metrics() -> None:
    v1 = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 2},
        "status": {"currentReplicas": 1, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 40},
    }
    assert kinds.convert_hpa(v1, "autoscaling/v2") == {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 2},
        "status": {
            "currentReplicas": 1,
            "desiredReplicas": 2,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}
            ],
        },
    }


def test_a_v2_hpa_converts_to_v1_and_back_keeping_its_cpu_target() -> None:
    v2: dict[str, Any] = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "memory",
                        "target": {"type": "Utilization", "averageUtilization": 90},
                    },
                },
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 75}},
                },
            ],
        },
    }
    v1 = kinds.convert_hpa(v2, "autoscaling/v1")
    assert v1["spec"] == {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 5,
        "targetCPUUtilizationPercentage": 75,
    }
    assert kinds.convert_hpa(v1, "autoscaling/v2")["spec"]["metrics"] == [v2["spec"]["metrics"][1]]


def test_reading_a_stored_hpa_through_the_other_version_converts_it(cluster: store.MemoryCluster) -> None:
    stored = _create(
        cluster,
        {
            "apiVersion": "autoscaling/v1",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "maxReplicas": 3,
                "targetCPUUtilizationPercentage": 50,
            },
        },
    )
    v2 = (
        kinds.KindRegistry().resolve(refs.GVK("autoscaling", "v2", "HorizontalPodAutoscaler")).present(stored)
    )
    assert (v2["apiVersion"], v2["spec"]["metrics"][0]["resource"]["target"]) == (
        "autoscaling/v2",
        {"type": "Utilization", "averageUtilization": 50},
    )
