"""The faults of the issue's list that the other Kustomization tests do not cover: each one
turns the broken Kustomization Ready=False with Flux's reason and message, while the rest of the
fleet keeps reconciling."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import events_of, ready
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with

WEB = refs.ObjectRef("apps", "Deployment", "default", "web")
OTHER = refs.ObjectRef(KS.group, KS.kind, "flux-system", "other")


def deployment(app: str = "web", annotations: str = "") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default{annotations}}}
spec:
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec: {{containers: [{{name: web, image: "nginx:1.27"}}]}}
"""


def with_bystander(sim: simulation.Simulation, files: dict[str, str | None], **spec: Any) -> Any:
    """A repository, the Kustomization under test (`apps`) and one that should not care (`other`)."""
    repo = repo_with(sim, {**files, "other/cm.yaml": (CONFIGMAP % "x").replace("settings", "other")})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")
    other = kustomization(path="./other")
    other["metadata"]["name"] = "other"
    sim.cluster.apply(other, field_manager="kubectl")
    return repo


def test_invalid_yaml_in_git_is_build_failed_and_the_last_apply_stays(sim: simulation.Simulation) -> None:
    repo = with_bystander(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.advance(1_000)
    repo.commit({"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings\n"}, "oops")
    sim.advance(61_000)
    failed = ready(sim.cluster.get(KS))
    assert (failed["status"], failed["reason"]) == ("False", "BuildFailed")
    assert failed["message"].startswith("kustomize build failed: failed to decode Kubernetes YAML from ")
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))["data"] == {"mode": "a"}
    assert ready(sim.cluster.get(OTHER))["message"] == f"Applied revision: main@sha1:{repo.head()}"


def test_a_value_the_api_refuses_is_reconciliation_failed_with_the_422(sim: simulation.Simulation) -> None:
    bad = deployment().replace("spec:\n", "spec:\n  replicas: two\n", 1)
    with_bystander(sim, {"apps/web.yaml": bad})
    sim.advance(1_000)
    failed = ready(sim.cluster.get(KS))
    assert (failed["status"], failed["reason"]) == ("False", "ReconciliationFailed")
    assert failed["message"] == (
        'Deployment/default/web dry-run failed (Invalid): Deployment.apps "web" is invalid: '
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"\n'
    )
    assert ready(sim.cluster.get(OTHER))["status"] == "True"


def test_an_immutable_field_change_fails_without_force(sim: simulation.Simulation) -> None:
    repo = with_bystander(sim, {"apps/web.yaml": deployment()})
    sim.advance(1_000)
    repo.commit({"apps/web.yaml": deployment(app="web2")}, "new selector")
    sim.advance(61_000)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": 'Deployment/default/web dry-run failed (Invalid): Deployment.apps "web" is invalid: '
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable\n",
    }
    assert sim.cluster.get(WEB)["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_spec_force_recreates_an_object_whose_immutable_field_changed(sim: simulation.Simulation) -> None:
    repo = with_bystander(sim, {"apps/web.yaml": deployment()}, force=True)
    sim.advance(1_000)
    uid = sim.cluster.get(WEB)["metadata"]["uid"]
    repo.commit({"apps/web.yaml": deployment(app="web2")}, "new selector")
    sim.advance(61_000)
    assert ready(sim.cluster.get(KS))["status"] == "True"
    live = sim.cluster.get(WEB)
    assert live["spec"]["selector"] == {"matchLabels": {"app": "web2"}}
    assert live["metadata"]["uid"] != uid
    assert ("Normal", "Progressing", "Deployment/default/web created") in [e[1:] for e in events_of(sim, KS)]


def test_the_force_annotation_recreates_without_spec_force(sim: simulation.Simulation) -> None:
    forced = ",\n    annotations: {kustomize.toolkit.fluxcd.io/force: enabled}"
    repo = with_bystander(sim, {"apps/web.yaml": deployment(annotations=forced)})
    sim.advance(1_000)
    repo.commit({"apps/web.yaml": deployment(app="web2", annotations=forced)}, "new selector")
    sim.advance(61_000)
    assert ready(sim.cluster.get(KS))["status"] == "True"
    assert sim.cluster.get(WEB)["spec"]["selector"] == {"matchLabels": {"app": "web2"}}


def test_a_refused_prune_is_prune_failed_and_retried(sim: simulation.Simulation) -> None:
    public = "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-public, labels: {team: a}}\n"
    repo = with_bystander(sim, {"apps/ns.yaml": public, "apps/cm.yaml": CONFIGMAP % "a"}, retryInterval="1m")
    sim.advance(1_000)
    repo.commit({"apps/ns.yaml": None}, "stop managing kube-public")
    sim.advance(61_000)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "PruneFailed",
        "message": 'delete failed, errors: Namespace/kube-public delete failed: namespaces "kube-public" '
        "is forbidden: this namespace may not be deleted;",
    }
    entries = [e["id"] for e in sim.cluster.get(KS)["status"]["inventory"]["entries"]]
    assert "_kube-public__Namespace" in entries  # kept, so the next reconcile tries again
    sim.advance(60_000)
    warnings = [e for e in events_of(sim, KS) if e[1] == "Warning"]
    assert len(warnings) == 2
    assert ready(sim.cluster.get(OTHER))["status"] == "True"


def test_a_drift_on_an_ignored_path_is_kept_while_other_changes_apply(sim: simulation.Simulation) -> None:
    ignore = [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}]
    repo = with_bystander(
        sim, {"apps/web.yaml": deployment().replace("spec:\n", "spec:\n  replicas: 1\n", 1)}, ignore=ignore
    )
    sim.advance(1_000)
    live = sim.cluster.get(WEB)
    live["spec"]["replicas"] = 3
    live["metadata"].pop("resourceVersion")
    sim.cluster.update(live, field_manager="on-call-dashboard")
    sim.advance(11 * 60_000)  # a full interval: nothing counts as drift
    assert sim.cluster.get(WEB)["spec"]["replicas"] == 3
    assert not [e for e in events_of(sim, KS) if "configured" in e[3]]
    bumped = deployment().replace("nginx:1.27", "nginx:1.28").replace("spec:\n", "spec:\n  replicas: 1\n", 1)
    repo.commit({"apps/web.yaml": bumped}, "bump nginx")
    sim.advance(61_000)
    live = sim.cluster.get(WEB)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert live["spec"]["replicas"] == 3  # the in-cluster value was adopted, not Git's


def test_an_ignored_field_another_applier_owns_is_left_to_it(sim: simulation.Simulation) -> None:
    ignore = [{"paths": ["/spec/replicas"]}]
    repo = with_bystander(
        sim, {"apps/web.yaml": deployment().replace("spec:\n", "spec:\n  replicas: 1\n", 1)}, ignore=ignore
    )
    sim.advance(1_000)
    scaler = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 4},
    }
    sim.cluster.apply(scaler, field_manager="autoscaler", force=True)
    repo.commit(
        {
            "apps/web.yaml": deployment()
            .replace("nginx:1.27", "nginx:1.28")
            .replace("spec:\n", "spec:\n  replicas: 1\n", 1)
        },
        "bump",
    )
    sim.advance(61_000)
    live = sim.cluster.get(WEB)
    assert (live["spec"]["replicas"], live["spec"]["template"]["spec"]["containers"][0]["image"]) == (
        4,
        "nginx:1.28",
    )
    owners = {
        e["manager"]
        for e in live["metadata"]["managedFields"]
        if "f:replicas" in e.get("fieldsV1", {}).get("f:spec", {})
    }
    assert owners == {"autoscaler"}
