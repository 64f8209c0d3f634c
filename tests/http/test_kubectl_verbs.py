"""kubectl's everyday verbs with the real kubectl: scale, sorted events, the built-in tables,
logs and top (issue 13, item 5)."""

from __future__ import annotations

import json

from gitops_sim.cluster.http import server, tables
from gitops_sim.engine import simulation
from tests.http.conftest import Kubectl

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
"""

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pools.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: pools, singular: pool, kind: Pool}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status: {type: object, properties: {size: {type: integer}, selector: {type: string}}}
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.size
        statusReplicasPath: .status.size
        labelSelectorPath: .status.selector
"""

EVENT = """apiVersion: v1
kind: Event
metadata: {name: %(name)s, namespace: default}
involvedObject: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: default}
reason: %(reason)s
message: happened
type: Normal
firstTimestamp: "%(first)s"
lastTimestamp: "%(last)s"
count: %(count)d
source: {component: test-controller}
"""

POD = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  nodeName: node-1
  containers: [{name: c, image: nginx}]
"""


def _rows(output: str) -> list[list[str]]:
    """A kubectl table split on runs of two or more spaces (cells may hold single spaces)."""
    return [[cell for cell in line.split("  ") if cell] for line in output.splitlines()]


def _cells(output: str) -> list[list[str]]:
    return [[cell.strip() for cell in row] for row in _rows(output)]


def test_kubectl_scale_sets_a_deployments_replicas_through_the_scale_subresource(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    scaled = kubectl("scale", "deploy/web", "--replicas=3")
    assert scaled.returncode == 0, scaled.stderr
    assert scaled.stdout.strip() == "deployment.apps/web scaled"
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "3"


def test_the_scale_subresource_reads_as_an_autoscaling_v1_scale(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    scale = json.loads(
        kubectl("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale").stdout
    )
    assert (scale["kind"], scale["apiVersion"]) == ("Scale", "autoscaling/v1")
    assert scale["metadata"]["name"] == "web"
    assert scale["spec"] == {"replicas": 1}
    assert scale["status"] == {"replicas": 0, "selector": "app=web"}


def test_a_scale_put_with_a_stale_resource_version_is_a_conflict(
    kubectl: Kubectl, api: server.ApiServer
) -> None:
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    scale = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "web", "resourceVersion": "1"},
    }
    answer = api.handle(
        "PUT",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        {"content-type": "application/json"},
        json.dumps({**scale, "spec": {"replicas": 5}}).encode(),
    )
    assert (answer.status, answer.body["reason"]) == (409, "Conflict")
    assert kubectl("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}").stdout == "1"


def test_a_negative_scale_is_refused_as_invalid(kubectl: Kubectl, api: server.ApiServer) -> None:
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    answer = api.handle(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
        {"content-type": "application/merge-patch+json"},
        b'{"spec":{"replicas":-1}}',
    )
    assert answer.status == 422
    assert answer.body["message"] == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )


def test_a_custom_resource_declaring_the_scale_subresource_is_scaled_by_kubectl(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", stdin=CRD).returncode == 0
    pool = (
        "apiVersion: example.com/v1\nkind: Pool\nmetadata: {name: p1, namespace: default}\nspec: {size: 1}\n"
    )
    created = kubectl("apply", "-f", "-", stdin=pool)
    assert created.returncode == 0, created.stderr
    scaled = kubectl("scale", "pool/p1", "--replicas=4")
    assert scaled.returncode == 0, scaled.stderr
    assert scaled.stdout.strip() == "pool.example.com/p1 scaled"
    assert kubectl("get", "pool", "p1", "-o", "jsonpath={.spec.size}").stdout == "4"


def test_a_configmap_has_no_scale_subresource(kubectl: Kubectl) -> None:
    kubectl("create", "configmap", "app")
    refused = kubectl("scale", "cm/app", "--replicas=2")
    assert refused.returncode == 1
    assert (
        refused.stderr.strip()
        == "Error from server (NotFound): the server could not find the requested resource"
    )


def test_get_events_sorted_by_last_timestamp_lists_them_oldest_first(kubectl: Kubectl) -> None:
    for name, stamp in (("b", "2024-12-31T23:55:00Z"), ("a", "2024-12-31T23:50:00Z")):
        values = {"name": name, "reason": name.upper(), "first": stamp, "last": stamp, "count": 1}
        assert kubectl("create", "-f", "-", stdin=EVENT % values).returncode == 0
    listed = kubectl("get", "events", "--sort-by=.lastTimestamp")
    assert listed.returncode == 0, listed.stderr
    assert _cells(listed.stdout) == [
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        ["10m", "Normal", "A", "deployment/web", "happened"],
        ["5m", "Normal", "B", "deployment/web", "happened"],
    ]


def test_a_repeated_event_prints_its_count_and_first_sighting_and_wide_columns(kubectl: Kubectl) -> None:
    values = {
        "name": "a",
        "reason": "Again",
        "first": "2024-12-31T23:50:00Z",
        "last": "2024-12-31T23:55:00Z",
        "count": 3,
    }
    kubectl("create", "-f", "-", stdin=EVENT % values)
    wide = kubectl("get", "events", "-o", "wide")
    assert _cells(wide.stdout) == [
        [
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME",
        ],
        [
            "5m (x3 over 10m)",
            "Normal",
            "Again",
            "deployment/web",
            "test-controller",
            "happened",
            "10m",
            "3",
            "a",
        ],
    ]


def test_the_pods_table_prints_ready_status_restarts_age_and_the_wide_columns(
    kubectl: Kubectl, served: tuple[simulation.Simulation, server.ApiServer]
) -> None:
    kubectl("create", "-f", "-", stdin=POD)
    status = {
        "phase": "Running",
        "podIP": "10.42.0.7",
        "containerStatuses": [
            {
                "name": "c",
                "image": "nginx",
                "imageID": "",
                "ready": True,
                "restartCount": 2,
                "state": {"running": {"startedAt": "2024-12-31T23:58:00Z"}},
                "lastState": {
                    "terminated": {
                        "exitCode": 1,
                        "startedAt": "2024-12-31T23:50:00Z",
                        "finishedAt": "2024-12-31T23:57:00Z",
                    }
                },
            }
        ],
    }
    patched = kubectl(
        "patch", "pod", "p", "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )
    assert patched.returncode == 0, patched.stderr
    assert _cells(kubectl("get", "pods").stdout) == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["p", "1/1", "Running", "2 (3m ago)", "0s"],
    ]
    assert _cells(kubectl("get", "pods", "-o", "wide").stdout) == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ["p", "1/1", "Running", "2 (3m ago)", "0s", "10.42.0.7", "node-1", "<none>", "<none>"],
    ]


def test_a_waiting_container_reason_is_the_pods_status(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", stdin=POD)
    status = {
        "phase": "Pending",
        "containerStatuses": [
            {
                "name": "c",
                "image": "nginx",
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff"}},
            }
        ],
    }
    kubectl("patch", "pod", "p", "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}))
    assert _cells(kubectl("get", "pods").stdout)[1] == ["p", "0/1", "ImagePullBackOff", "0", "0s"]


def test_the_workload_tables_print_the_real_servers_columns(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=DEPLOYMENT)
    assert _cells(kubectl("get", "deploy", "-o", "wide").stdout) == [
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
        ["web", "0/1", "0", "0", "0s", "c", "nginx", "app=web"],
    ]
    for kind in ("ReplicaSet", "StatefulSet"):
        kubectl("apply", "-f", "-", stdin=DEPLOYMENT.replace("Deployment", kind))
    daemon_set = DEPLOYMENT.replace("Deployment", "DaemonSet").replace("  replicas: 1\n", "")
    assert kubectl("apply", "-f", "-", stdin=daemon_set).returncode == 0
    assert _cells(kubectl("get", "rs").stdout) == [
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["web", "1", "0", "0", "0s"],
    ]
    assert _cells(kubectl("get", "sts").stdout) == [["NAME", "READY", "AGE"], ["web", "0/1", "0s"]]
    assert _cells(kubectl("get", "ds").stdout) == [
        ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
        ["web", "0", "0", "0", "0", "0", "<none>", "0s"],
    ]


def test_the_jobs_table_prints_status_completions_and_duration(kubectl: Kubectl) -> None:
    job = (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once, namespace: default}\n"
        "spec:\n  completions: 2\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers: [{name: c, image: busybox}]\n"
    )
    assert kubectl("apply", "-f", "-", stdin=job).returncode == 0
    status = {"startTime": "2024-12-31T23:59:00Z", "succeeded": 1}
    kubectl(
        "patch", "job", "once", "--subresource=status", "--type=merge", "-p", json.dumps({"status": status})
    )
    assert _cells(kubectl("get", "jobs").stdout) == [
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        ["once", "Running", "1/2", "60s", "0s"],
    ]


def test_the_services_table_prints_type_ips_and_ports(kubectl: Kubectl) -> None:
    service = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
        "spec:\n  type: NodePort\n  clusterIP: 10.43.0.10\n  selector: {app: web}\n"
        "  ports: [{port: 80, nodePort: 30080, protocol: TCP}, {port: 53, nodePort: 30053, protocol: UDP}]\n"
    )
    assert kubectl("apply", "-f", "-", stdin=service).returncode == 0
    assert _cells(kubectl("get", "svc", "web", "-o", "wide").stdout) == [
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"],
        ["web", "NodePort", "10.43.0.10", "<none>", "80:30080/TCP,53:30053/UDP", "0s", "app=web"],
    ]


def test_the_secrets_table_prints_type_and_data(kubectl: Kubectl) -> None:
    kubectl("create", "secret", "generic", "s", "--from-literal=a=1", "--from-literal=b=2")
    assert _cells(kubectl("get", "secret", "s").stdout) == [
        ["NAME", "TYPE", "DATA", "AGE"],
        ["s", "Opaque", "2", "0s"],
    ]


def test_kubectl_logs_answers_that_the_simulated_node_has_no_container_logs(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", stdin=POD)
    logs = kubectl("logs", "p")
    assert logs.returncode == 1
    assert logs.stderr.strip() == (
        'Error from server (BadRequest): container "c" in pod "p" has no logs: gitops-sim simulates '
        "the API server only, no node runs containers"
    )


def test_logs_of_a_container_the_pod_does_not_have_are_refused(
    kubectl: Kubectl, api: server.ApiServer
) -> None:
    kubectl("create", "-f", "-", stdin=POD)
    answer = api.handle("GET", "/api/v1/namespaces/default/pods/p/log?container=other", {}, b"")
    assert (answer.status, answer.body["message"]) == (400, "container other is not valid for pod p")


def test_kubectl_top_answers_as_a_server_without_metrics(kubectl: Kubectl) -> None:
    top = kubectl("top", "pods")
    assert top.returncode == 1
    assert top.stderr.strip() == "error: Metrics API not available"


def test_an_unknown_include_object_is_refused(api: server.ApiServer) -> None:
    answer = api.handle(
        "GET",
        "/api/v1/namespaces/default/configmaps?includeObject=All",
        {"accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
        b"",
    )
    assert answer.status == 400
    assert answer.body["message"] == (
        'includeObject: Unsupported value: "All": supported values: "Metadata", "None", "Object"'
    )


def test_a_time_more_than_a_second_ahead_is_invalid_as_kubectl_prints_it() -> None:
    assert tables.human_duration(-2000) == "<invalid>"
    assert tables.human_duration(-1500) == "0s"
    assert tables.human_duration(0) == "0s"
