"""Built-in objects are defaulted as the real server's defaulters do (issue 13, item 4).

Expected values are what kubernetes pkg/apis/*/v1/defaults.go sets and a v1.37 cluster shows.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.http import server
from gitops_sim.cluster.memory import store
from gitops_sim.engine import simulation
from gitops_sim.model import objects, yamlsafe
from tests.builders import memory_cluster
from tests.http.conftest import kubectl_for

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
}
SELECTOR = {"matchLabels": {"app": "web"}}
ROLLING_25 = {"maxUnavailable": "25%", "maxSurge": "25%"}


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return memory_cluster()


def manifest(api_version: str, kind: str, spec: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "default"},
    }
    if spec is not None:
        obj["spec"] = spec
    return {**obj, **top}


def at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
CONTAINER_DEFAULTS = {
    "imagePullPolicy": "IfNotPresent",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}

TABLE = [
    pytest.param(
        manifest("apps/v1", "Deployment", {"selector": SELECTOR, "template": TEMPLATE}),
        {
            "spec.replicas": 1,
            "spec.strategy": {"type": "RollingUpdate", "rollingUpdate": ROLLING_25},
            "spec.revisionHistoryLimit": 10,
            "spec.progressDeadlineSeconds": 600,
            **{f"spec.template.spec.{k}": v for k, v in POD_SPEC_DEFAULTS.items()},
            **{f"spec.template.spec.containers.0.{k}": v for k, v in CONTAINER_DEFAULTS.items()},
        },
        id="deployment",
    ),
    pytest.param(
        manifest("apps/v1", "Deployment", {"selector": SELECTOR, "template": TEMPLATE,
                 "strategy": {"type": "Recreate"}}),
        {"spec.strategy": {"type": "Recreate"}},
        id="deployment-recreate-gets-no-rolling-update",
    ),
    pytest.param(
        manifest("apps/v1", "StatefulSet", {"selector": SELECTOR, "template": TEMPLATE, "serviceName": "x",
                 "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                           "spec": {"accessModes": ["ReadWriteOnce"]}}]}),
        {
            "spec.replicas": 1,
            "spec.podManagementPolicy": "OrderedReady",
            "spec.updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "spec.persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "spec.revisionHistoryLimit": 10,
            "spec.volumeClaimTemplates.0.spec.volumeMode": "Filesystem",
            "spec.template.spec.restartPolicy": "Always",
        },
        id="statefulset",
    ),
    pytest.param(
        manifest("apps/v1", "DaemonSet", {"selector": SELECTOR, "template": TEMPLATE}),
        {
            "spec.updateStrategy": {"type": "RollingUpdate",
                                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "spec.revisionHistoryLimit": 10,
            "spec.template.spec.schedulerName": "default-scheduler",
        },
        id="daemonset",
    ),
    pytest.param(
        manifest("apps/v1", "ReplicaSet", {"selector": SELECTOR, "template": TEMPLATE}),
        {"spec.replicas": 1, "spec.template.spec.containers.0.terminationMessagePolicy": "File"},
        id="replicaset",
    ),
    pytest.param(
        manifest("batch/v1", "Job", {"template": {**TEMPLATE,
                                                  "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}}),
        {
            "spec.completions": 1,
            "spec.parallelism": 1,
            "spec.backoffLimit": 6,
            "spec.completionMode": "NonIndexed",
            "spec.suspend": False,
            "spec.podReplacementPolicy": "TerminatingOrFailed",
            "spec.template.spec.restartPolicy": "Never",
            "metadata.labels": {"app": "web"},
        },
        id="job",
    ),
    pytest.param(
        manifest("batch/v1", "CronJob", {"schedule": "* * * * *",
                                         "jobTemplate": {"spec": {"template": TEMPLATE}}}),
        {
            "spec.concurrencyPolicy": "Allow",
            "spec.suspend": False,
            "spec.successfulJobsHistoryLimit": 3,
            "spec.failedJobsHistoryLimit": 1,
            "spec.jobTemplate.spec.template.spec.dnsPolicy": "ClusterFirst",
        },
        id="cronjob",
    ),
    pytest.param(
        manifest("v1", "Pod", {"containers": [{
            "name": "app", "image": "app", "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "1"}},
            "readinessProbe": {"httpGet": {"port": 80}},
            "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        }], "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}, {"name": "scratch"}]}),
        {
            "spec.enableServiceLinks": True,
            "spec.containers.0.imagePullPolicy": "Always",
            "spec.containers.0.ports.0.protocol": "TCP",
            "spec.containers.0.resources.requests": {"cpu": "1"},
            "spec.containers.0.readinessProbe": {
                "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
            },
            "spec.containers.0.env.0.valueFrom.fieldRef.apiVersion": "v1",
            "spec.volumes.0.configMap.defaultMode": 420,
            "spec.volumes.1.emptyDir": {},
        },
        id="pod",
    ),
    pytest.param(
        manifest("v1", "Service", {"selector": {"app": "web"}, "ports": [{"port": 80}]}),
        {
            "spec.type": "ClusterIP",
            "spec.sessionAffinity": "None",
            "spec.ports.0": {"port": 80, "targetPort": 80, "protocol": "TCP"},
            "spec.internalTrafficPolicy": "Cluster",
            "spec.ipFamilies": ["IPv4"],
            "spec.ipFamilyPolicy": "SingleStack",
        },
        id="service",
    ),
    pytest.param(
        manifest("v1", "Service", {"type": "ExternalName", "externalName": "example.com"}),
        {"spec": {"type": "ExternalName", "externalName": "example.com", "sessionAffinity": "None"}},
        id="service-externalname-gets-no-address",
    ),
    pytest.param(
        manifest("v1", "Service", {"clusterIP": "None", "selector": {"app": "web"}}),
        {"spec.clusterIP": "None", "spec.clusterIPs": ["None"]},
        id="service-headless-stays-headless",
    ),
    pytest.param(
        manifest("v1", "Secret", data={"k": "dg=="}),
        {"type": "Opaque"},
        id="secret",
    ),
    pytest.param(
        manifest("v1", "PersistentVolumeClaim", {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}),
        {"spec.volumeMode": "Filesystem"},
        id="persistentvolumeclaim",
    ),
    pytest.param(
        manifest("networking.k8s.io/v1", "NetworkPolicy",
                 {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}),
        {"spec.policyTypes": ["Ingress", "Egress"], "spec.egress.0.ports.0.protocol": "TCP"},
        id="networkpolicy",
    ),
    pytest.param(
        manifest("autoscaling/v2", "HorizontalPodAutoscaler", {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x"},
            "maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}},
        }),
        {
            "spec.minReplicas": 1,
            "spec.metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
            "spec.behavior.scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15}]},
            "spec.behavior.scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max", "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15}]},
        },
        id="hpa-v2",
    ),
    pytest.param(
        manifest("rbac.authorization.k8s.io/v1", "RoleBinding", roleRef={
            "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            subjects=[{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "sa"}]),
        {"subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"},
                      {"kind": "ServiceAccount", "name": "sa"}]},
        id="rolebinding",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("sent", "defaulted"), TABLE)
def test_a_created_built_in_object_is_defaulted_as_the_real_server_defaults_it(
    cluster: store.MemoryCluster, sent: dict[str, Any], defaulted: dict[str, Any]
) -> None:
    created = cluster.create(sent, field_manager="t")
    assert {path: at(created, path) for path in defaulted} == defaulted
    assert cluster.get(objects.ref_of(created)) == created


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        pytest.param("nginx", "Always", id="no-tag"),
        pytest.param("nginx:latest", "Always", id="latest"),
        pytest.param("nginx:1.27", "IfNotPresent", id="tag"),
        pytest.param("localhost:5000/app", "Always", id="registry-port-is-not-a-tag"),
        pytest.param("localhost:5000/app:v2", "IfNotPresent", id="registry-port-and-tag"),
        pytest.param("app@sha256:" + "a" * 64, "IfNotPresent", id="digest"),
        pytest.param("app:latest@sha256:" + "a" * 64, "Always", id="latest-and-digest"),
    ],
)
def test_a_containers_pull_policy_follows_its_image_tag(
    cluster: store.MemoryCluster, image: str, policy: str
) -> None:
    pod = manifest("v1", "Pod", {"containers": [{"name": "c", "image": image}]})
    assert cluster.create(pod, field_manager="t")["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_a_configmap_is_stored_as_sent(cluster: store.MemoryCluster) -> None:
    created = cluster.create(manifest("v1", "ConfigMap", data={"a": "b"}), field_manager="t")
    assert set(created) == {"apiVersion", "kind", "metadata", "data"}


def test_an_update_with_a_spec_of_the_wrong_type_is_still_refused(cluster: store.MemoryCluster) -> None:
    cluster.create(
        manifest("apps/v1", "Deployment", {"selector": SELECTOR, "template": TEMPLATE}), field_manager="t"
    )
    with pytest.raises(errors.Invalid) as refused:
        cluster.update({**manifest("apps/v1", "Deployment"), "spec": "web"}, field_manager="t")
    assert refused.value.message == (
        'Deployment.apps "x" is invalid: spec: Invalid value: "string": '
        'spec in body must be of type object: "string"'
    )


def test_services_get_distinct_cluster_ips_from_the_service_cidr_repeatably() -> None:
    def addresses() -> list[str]:
        cluster = memory_cluster()
        created = []
        for name in ("a", "b", "c"):
            svc = manifest("v1", "Service", {"ports": [{"port": 80}]})
            svc["metadata"]["name"] = name
            spec = cluster.create(svc, field_manager="t")["spec"]
            assert spec["clusterIPs"] == [spec["clusterIP"]]
            created.append(spec["clusterIP"])
        return created

    first = addresses()
    assert len(set(first)) == 3
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.96.0.0/12") for ip in first)
    assert addresses() == first


def test_a_replaced_service_without_a_cluster_ip_keeps_its_address(cluster: store.MemoryCluster) -> None:
    svc = manifest("v1", "Service", {"ports": [{"port": 80}]})
    address = cluster.create(svc, field_manager="t")["spec"]["clusterIP"]
    svc["spec"]["ports"] = [{"port": 8080}]
    replaced = cluster.update(svc, field_manager="t")
    assert (replaced["spec"]["clusterIP"], replaced["spec"]["ports"][0]["targetPort"]) == (address, 8080)


def test_a_node_port_service_gets_a_node_port_in_the_range(cluster: store.MemoryCluster) -> None:
    svc = manifest("v1", "Service", {"type": "NodePort", "ports": [{"port": 80}]})
    spec = cluster.create(svc, field_manager="t")["spec"]
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_an_update_leaving_out_defaulted_fields_changes_nothing(cluster: store.MemoryCluster) -> None:
    sent = manifest("apps/v1", "Deployment", {"selector": SELECTOR, "template": TEMPLATE})
    created = cluster.create(sent, field_manager="t")
    updated = cluster.update(sent, field_manager="t")
    assert updated["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert updated["metadata"]["generation"] == 1


def test_a_create_owns_the_defaulted_fields_and_an_apply_does_not(cluster: store.MemoryCluster) -> None:
    sent = manifest("apps/v1", "Deployment", {"selector": SELECTOR, "template": TEMPLATE})
    created = cluster.create(sent, field_manager="kubectl-create")
    assert "f:revisionHistoryLimit" in created["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    applied = cluster.apply({**sent, "metadata": {"name": "y", "namespace": "default"}}, field_manager="flux")
    assert applied["spec"]["revisionHistoryLimit"] == 10
    assert "f:revisionHistoryLimit" not in applied["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]


def test_applying_the_same_manifest_again_is_not_drift(cluster: store.MemoryCluster) -> None:
    sent = manifest("v1", "Service", {"selector": {"app": "web"}, "ports": [{"port": 80}]})
    live = cluster.apply(sent, field_manager="flux")
    dry = cluster.apply(sent, field_manager="flux", force=True, dry_run=True)
    assert dry == live
    assert (
        cluster.apply(sent, field_manager="flux")["metadata"]["resourceVersion"]
        == live["metadata"]["resourceVersion"]
    )


def test_kubectl_get_deployment_yaml_shows_the_defaulted_strategy(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    created = kubectl("create", "deployment", "x", "--image=nginx:1.27")
    assert created.returncode == 0, created.stderr
    shown: subprocess.CompletedProcess[str] = kubectl("get", "deploy", "x", "-o", "yaml")
    spec = yamlsafe.load(shown.stdout)["spec"]
    assert (spec["strategy"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        10,
        600,
    )


def test_a_namespace_carries_its_name_as_the_metadata_name_label(cluster: store.MemoryCluster) -> None:
    ns: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a", "labels": {"tier": "web"}},
    }
    created = cluster.create(ns, field_manager="t")
    assert created["metadata"]["labels"] == {"tier": "web", "kubernetes.io/metadata.name": "team-a"}
    ns["metadata"]["labels"] = {"kubernetes.io/metadata.name": "something-else"}
    ns["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    updated = cluster.update(ns, field_manager="t")
    assert updated["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
