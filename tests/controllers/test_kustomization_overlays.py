"""The Kustomization fields Flux's generator writes into kustomization.yaml before kustomize runs,
and commonMetadata applied after the build."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import ready
from tests.builders import KS, gitrepository, kustomization, repo_with

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: ghcr.io/acme/web:1.0.0}]
"""


def synced(sim: simulation.Simulation, files: dict[str, str | None], **spec: object) -> None:
    repo_with(sim, files)
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}, field_manager="kubectl"
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")
    sim.advance(1_000)


def deployment(sim: simulation.Simulation, namespace: str, name: str) -> dict[str, Any]:
    return sim.cluster.get(refs.ObjectRef("apps", "Deployment", namespace, name))


def test_target_namespace_and_name_affixes_rename_what_is_applied(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/web.yaml": DEPLOYMENT}, targetNamespace="team", namePrefix="pre-", nameSuffix="-suf")
    assert ready(sim.cluster.get(KS))["status"] == "True"
    assert deployment(sim, "team", "pre-web-suf")


def test_images_override_tags_and_replace_an_entry_of_the_same_name(sim: simulation.Simulation) -> None:
    own = (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [web.yaml]\n"
        "images: [{name: ghcr.io/acme/web, newTag: 1.1.0}]\n"
    )
    synced(
        sim,
        {"apps/web.yaml": DEPLOYMENT, "apps/kustomization.yaml": own},
        images=[{"name": "ghcr.io/acme/web", "newTag": "2.0.0"}],
    )
    live = deployment(sim, "default", "web")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/web:2.0.0"


def test_patches_with_a_target_are_applied(sim: simulation.Simulation) -> None:
    patch = "- op: replace\n  path: /spec/replicas\n  value: 3\n"
    synced(
        sim,
        {"apps/web.yaml": DEPLOYMENT},
        patches=[{"patch": patch, "target": {"kind": "Deployment", "name": "web"}}],
    )
    assert deployment(sim, "default", "web")["spec"]["replicas"] == 3


def test_components_are_added_to_the_build(sim: simulation.Simulation) -> None:
    component = (
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        "patches:\n- patch: |\n    - op: replace\n      path: /spec/replicas\n      value: 2\n"
        "  target: {kind: Deployment}\n"
    )
    synced(
        sim,
        {"apps/web.yaml": DEPLOYMENT, "components/tier/kustomization.yaml": component},
        components=["../components/tier"],
    )
    assert deployment(sim, "default", "web")["spec"]["replicas"] == 2


def test_a_missing_component_fails_the_build_unless_it_may_be_ignored(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/web.yaml": DEPLOYMENT}, components=["../components/absent"])
    failed = ready(sim.cluster.get(KS))
    assert (failed["reason"], failed["message"].startswith("kustomize build failed: ")) == (
        "BuildFailed",
        True,
    )
    sim.cluster.apply(
        kustomization(components=["../components/absent"], ignoreMissingComponents=True),
        field_manager="kubectl",
    )
    sim.advance(1_000)
    assert ready(sim.cluster.get(KS))["status"] == "True"
    assert deployment(sim, "default", "web")


def test_common_metadata_labels_and_annotates_every_object(sim: simulation.Simulation) -> None:
    synced(
        sim,
        {"apps/web.yaml": DEPLOYMENT},
        commonMetadata={"labels": {"team": "blue"}, "annotations": {"owner": "blue@example.com"}},
    )
    meta = deployment(sim, "default", "web")["metadata"]
    assert meta["labels"]["team"] == "blue"
    assert meta["annotations"]["owner"] == "blue@example.com"


CONFIGMAP_VARS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {cluster: "${cluster}", region: "${region:=eu-1}", raw: "$${literal}"}
"""


def cluster_vars(sim: simulation.Simulation, **data: str) -> None:
    sim.cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "vars", "namespace": "flux-system"},
            "data": data,
        },
        field_manager="kubectl",
    )


def settings(sim: simulation.Simulation) -> dict[str, Any]:
    return dict(sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))["data"])


def test_variables_from_a_configmap_are_overridden_by_inline_ones(sim: simulation.Simulation) -> None:
    cluster_vars(sim, cluster="staging", region="us-1")
    synced(
        sim,
        {"apps/cm.yaml": CONFIGMAP_VARS},
        postBuild={
            "substituteFrom": [{"kind": "ConfigMap", "name": "vars"}],
            "substitute": {"cluster": "prod"},
        },
    )
    assert settings(sim) == {"cluster": "prod", "region": "us-1", "raw": "${literal}"}


def test_an_unset_variable_fails_the_build_in_strict_mode(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP_VARS}, postBuild={"substitute": {"other": "x"}})
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "BuildFailed",
        "message": "post build failed for 'settings': variable not set (strict mode): \"cluster\"",
    }


def test_a_missing_optional_source_is_skipped_and_a_required_one_fails(sim: simulation.Simulation) -> None:
    synced(
        sim,
        {"apps/cm.yaml": CONFIGMAP_VARS},
        postBuild={
            "substituteFrom": [
                {"kind": "Secret", "name": "nope", "optional": True},
                {"kind": "ConfigMap", "name": "vars"},
            ],
            "substitute": {"cluster": "prod"},
        },
    )
    assert ready(sim.cluster.get(KS))["message"] == (
        "substitute from 'ConfigMap/vars' error: configmaps \"vars\" not found"
    )


def test_objects_can_opt_out_of_substitution(sim: simulation.Simulation) -> None:
    opted_out = CONFIGMAP_VARS.replace(
        "metadata: {name: settings, namespace: default}",
        "metadata: {name: settings, namespace: default, "
        "annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}}",
    )
    synced(sim, {"apps/cm.yaml": opted_out}, postBuild={"substitute": {"cluster": "prod"}})
    assert settings(sim)["cluster"] == "${cluster}"


def annotated(annotation: str) -> str:
    key, _, value = annotation.partition("=")
    return (
        "apiVersion: v1\nkind: ConfigMap\n"
        f"metadata: {{name: settings, namespace: default, annotations: {{{key}: {value}}}}}\n"
        "data: {mode: git}\n"
    )


def drift_then_reconcile(sim: simulation.Simulation) -> str:
    live = sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))
    live["data"]["mode"] = "edited"
    sim.cluster.update(live, field_manager="kubectl-edit")
    sim.advance(11 * 60_000)
    return str(settings(sim)["mode"])


def test_ssa_if_not_present_creates_once_and_never_updates(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": annotated("kustomize.toolkit.fluxcd.io/ssa=IfNotPresent")})
    assert settings(sim)["mode"] == "git"
    assert drift_then_reconcile(sim) == "edited"


def test_reconcile_disabled_on_the_live_object_leaves_it_alone(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP_PLAIN})
    live = sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))
    live["metadata"].setdefault("annotations", {})["kustomize.toolkit.fluxcd.io/reconcile"] = "disabled"
    sim.cluster.update(live, field_manager="kubectl-annotate")
    assert drift_then_reconcile(sim) == "edited"


def test_ssa_ignore_on_a_new_object_skips_it(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": annotated("kustomize.toolkit.fluxcd.io/ssa=Ignore")})
    assert ready(sim.cluster.get(KS))["status"] == "True"
    with pytest.raises(errors.NotFound):
        sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "settings"))


def test_prune_disabled_keeps_an_object_removed_from_git(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": annotated("kustomize.toolkit.fluxcd.io/prune=disabled")})
    sim.git.lookup("https://github.com/acme/fleet").commit(
        {"apps/cm.yaml": None, "apps/other.yaml": CONFIGMAP_PLAIN.replace("settings", "other")}, "drop"
    )
    sim.advance(11 * 60_000)
    assert settings(sim)["mode"] == "git"


CONFIGMAP_PLAIN = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {mode: git}\n"
)
