"""Every built-in kind of v1.37 is served over HTTP, as the real kubectl uses it: created, read,
listed and deleted; short names resolve; an unknown kind gets the real server's errors.

One manifest per kind, generated from its v1.37 schema's required fields (`kubernetes-validate`),
with a few values the real server's validation would insist on written by hand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitops_sim.cluster import kinds, schema
from tests.http.conftest import Kubectl

NAME = "sample"

# Values the schema alone does not constrain but a real server would refuse otherwise.
OVERRIDES: dict[str, dict[str, Any]] = {
    "PriorityClass": {"value": 1000},
    "EndpointSlice": {"addressType": "IPv4"},
    "events.k8s.io/Event": {"eventTime": "2026-01-01T00:00:00.000000Z", "action": "Test", "reason": "Test"},
    "RoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    },
    "ClusterRoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    },
    "HorizontalPodAutoscaler": {
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"},
            "maxReplicas": 3,
        }
    },
    "CustomResourceDefinition": {
        "spec": {
            "group": "example.com",
            "names": {"plural": "samples", "singular": "sample", "kind": "Sample", "listKind": "SampleList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        }
    },
}


def _sample(node: schema.Node) -> Any:
    """A value for `node` with only its required fields, each given the simplest valid value."""
    raw = node.raw
    if "enum" in raw:
        return raw["enum"][0]
    if raw.get("x-kubernetes-int-or-string"):
        return 1
    types = node.types - {"null"}
    if "object" in types or node.has_properties:
        out: dict[str, Any] = {}
        for name in raw.get("required") or ():
            child = node.field(name)
            out[name] = _sample(child) if child is not None else "x"
        return out
    if "array" in types:
        item = node.items()
        return [_sample(item)] if item is not None else []
    if types & {"integer", "number"}:
        return 1
    if "boolean" in types:
        return True
    return "x"


def manifest(info: kinds.KindInfo) -> dict[str, Any]:
    node = schema.builtin(info.gvk)
    assert node is not None, info.gvk
    body = {k: v for k, v in _sample(node).items() if k != "metadata"}
    body.update(OVERRIDES.get(info.gvk.kind, {}))
    body.update(OVERRIDES.get(f"{info.gvk.group}/{info.gvk.kind}", {}))
    metadata = {"name": NAME, **({"namespace": "default"} if info.namespaced else {})}
    return {"apiVersion": info.gvk.api_version, "kind": info.gvk.kind, "metadata": metadata, **body}


def _resource(info: kinds.KindInfo) -> str:
    return f"{info.plural}.{info.gvk.version}.{info.gvk.group}" if info.gvk.group else info.plural


SERVED = [i for i in kinds.KindRegistry().all()]


def test_every_builtin_kind_is_created_read_listed_and_deleted_with_kubectl(kubectl: Kubectl) -> None:
    # HPA is one resource in two versions: created once (v2), read through both.
    created = [i for i in SERVED if i.gvk.api_version != "autoscaling/v1"]
    stream = json.dumps({"apiVersion": "v1", "kind": "List", "items": [manifest(i) for i in created]})

    create = kubectl("create", "-f", "-", stdin=stream)
    assert create.returncode == 0, create.stderr
    assert sorted(create.stdout.splitlines()) == sorted(
        f"{i.gvk.kind.lower()}.{i.gvk.group}/{NAME} created"
        if i.gvk.group
        else f"{i.gvk.kind.lower()}/{NAME} created"
        for i in created
    )

    for info in SERVED:
        namespace = ["-n", "default"] if info.namespaced else []
        read = kubectl("get", _resource(info), NAME, *namespace, "-o", "json")
        assert read.returncode == 0, (info.gvk, read.stderr)
        obj = json.loads(read.stdout)
        assert (obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) == (
            info.gvk.api_version,
            info.gvk.kind,
            NAME,
        )

    listed = kubectl("get", ",".join(_resource(i) for i in SERVED), "-A", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    found = {
        (o["apiVersion"], o["kind"])
        for o in json.loads(listed.stdout)["items"]
        if o["metadata"]["name"] == NAME
    }
    assert found == {(i.gvk.api_version, i.gvk.kind) for i in SERVED}

    deleted = kubectl("delete", "-f", "-", "--wait=false", stdin=stream)
    assert deleted.returncode == 0, deleted.stderr
    assert len(deleted.stdout.splitlines()) == len(created)
    left = kubectl(
        "get", ",".join(_resource(i) for i in created if i.gvk.kind != "Namespace"), "-A", "-o", "name"
    )
    assert (left.returncode, [line for line in left.stdout.splitlines() if line.endswith(f"/{NAME}")]) == (
        0,
        [],
    )


@pytest.mark.parametrize(
    ("short", "group", "kind"),
    [
        ("po", "", "Pod"),
        ("deploy", "apps", "Deployment"),
        ("svc", "", "Service"),
        ("cm", "", "ConfigMap"),
        ("ns", "", "Namespace"),
        ("hpa", "autoscaling", "HorizontalPodAutoscaler"),
        ("pvc", "", "PersistentVolumeClaim"),
        ("ing", "networking.k8s.io", "Ingress"),
        ("sts", "apps", "StatefulSet"),
        ("ds", "apps", "DaemonSet"),
        ("rs", "apps", "ReplicaSet"),
        ("sa", "", "ServiceAccount"),
        ("ep", "", "Endpoints"),
        ("pv", "", "PersistentVolume"),
        ("crd", "apiextensions.k8s.io", "CustomResourceDefinition"),
        ("pc", "scheduling.k8s.io", "PriorityClass"),
        ("netpol", "networking.k8s.io", "NetworkPolicy"),
        ("pdb", "policy", "PodDisruptionBudget"),
        ("cj", "batch", "CronJob"),
        ("ev", "", "Event"),
        ("rc", "", "ReplicationController"),
        ("no", "", "Node"),
        ("sc", "storage.k8s.io", "StorageClass"),
        ("csr", "certificates.k8s.io", "CertificateSigningRequest"),
        ("quota", "", "ResourceQuota"),
        ("limits", "", "LimitRange"),
        ("vac", "storage.k8s.io", "VolumeAttributesClass"),
        ("ip", "networking.k8s.io", "IPAddress"),
    ],
)
def test_a_builtin_short_name_resolves_to_its_kind_in_kubectl(
    kubectl: Kubectl, short: str, group: str, kind: str
) -> None:
    explained = kubectl("explain", short)
    assert explained.returncode == 0, explained.stderr
    preferred = "v2" if kind == "HorizontalPodAutoscaler" else "v1"  # autoscaling prefers v2
    head = [line.split() for line in explained.stdout.split("DESCRIPTION:")[0].splitlines() if line]
    assert head == [*([["GROUP:", group]] if group else []), ["KIND:", kind], ["VERSION:", preferred]]
    listed = kubectl("get", short, "-A")
    assert listed.returncode == 0, listed.stderr


def test_kubectl_get_of_an_unknown_resource_type_gets_the_real_error(kubectl: Kubectl) -> None:
    result = kubectl("get", "x")
    assert (result.returncode, result.stderr.strip()) == (
        1,
        'error: the server doesn\'t have a resource type "x"',
    )


def test_kubectl_create_of_an_unknown_kind_gets_the_real_no_matches_error(kubectl: Kubectl) -> None:
    result = kubectl("create", "-f", "-", stdin="apiVersion: example.com/v1\nkind: X\nmetadata:\n  name: a\n")
    assert (result.returncode, result.stderr.strip()) == (
        1,
        'error: resource mapping not found for name: "a" namespace: "" from "STDIN": '
        'no matches for kind "X" in version "example.com/v1"\nensure CRDs are installed first',
    )


def test_an_autoscaling_v1_hpa_reads_back_as_v2_with_its_cpu_target_as_a_metric(kubectl: Kubectl) -> None:
    hpa = {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 70,
        },
    }
    assert kubectl("apply", "-f", "-", stdin=json.dumps(hpa)).returncode == 0
    v2 = json.loads(kubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o", "json").stdout)
    v1 = json.loads(kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json").stdout)
    assert (v2["apiVersion"], v2["spec"]["metrics"]) == (
        "autoscaling/v2",
        [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            }
        ],
    )
    assert (v1["apiVersion"], v1["spec"]["targetCPUUtilizationPercentage"]) == ("autoscaling/v1", 70)


def test_an_autoscaling_v2_hpa_reads_back_as_v1_with_its_cpu_metric_as_the_target(kubectl: Kubectl) -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 4,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
                }
            ],
        },
    }
    assert kubectl("create", "-f", "-", stdin=json.dumps(hpa)).returncode == 0
    v1 = json.loads(kubectl("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json").stdout)
    assert (v1["apiVersion"], v1["spec"]) == (
        "autoscaling/v1",
        {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1,  # the real server's default, in v1 and v2 alike
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 60,
        },
    )


def test_openapi_v2_is_served_as_protobuf_and_as_json_with_every_served_builtin_kind(
    kubectl: Kubectl,
) -> None:
    document = json.loads(kubectl("get", "--raw", "/openapi/v2").stdout)
    kinds_in = {
        (g["group"], g["version"], g["kind"])
        for d in document["definitions"].values()
        for g in d.get("x-kubernetes-group-version-kind", [])
    }
    assert (document["swagger"], document["info"]) == ("2.0", {"title": "Kubernetes", "version": "v1.37.0"})
    assert {(i.gvk.group, i.gvk.version, i.gvk.kind) for i in SERVED} <= kinds_in
