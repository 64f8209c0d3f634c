from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.apply import changeset, manager
from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.controllers import kustomization
from gitops_sim.model import refs
from tests.builders import memory_cluster

CLEANUP = (
    ("kubectl", "Apply"),
    ("kubectl", "Update"),
    ("before-first-apply", "Update"),
    ("kustomize-controller", "Update"),
)
CM = refs.ObjectRef("", "ConfigMap", "default", "cfg")


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return memory_cluster()


@pytest.fixture
def resources(cluster: store.MemoryCluster) -> manager.ResourceManager:
    return manager.ResourceManager(cluster, "kustomize-controller", CLEANUP)


def configmap(name: str = "cfg", namespace: str = "default", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def actions(cs: changeset.ChangeSet) -> list[str]:
    return [str(e) for e in cs.entries]


def edit(cluster: store.MemoryCluster, manager_name: str, **labels: str) -> None:
    live = cluster.get(CM)
    live["metadata"].setdefault("labels", {}).update(labels)
    cluster.update(live, field_manager=manager_name)


def test_objects_are_applied_in_flux_kind_order_namespaces_first(resources: manager.ResourceManager) -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    cs = resources.apply_all_staged([deploy, configmap(namespace="apps"), ns])
    assert actions(cs) == [
        "Namespace/apps created",
        "ConfigMap/apps/cfg created",
        "Deployment/apps/web created",
    ]


def test_an_unchanged_object_is_reported_unchanged_and_not_written(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    resources.apply_all_staged([configmap(a="1")])
    version = cluster.resource_version
    assert actions(resources.apply_all_staged([configmap(a="1")])) == ["ConfigMap/default/cfg unchanged"]
    assert cluster.resource_version == version


def test_what_kubectl_edit_added_is_removed_by_the_next_apply(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    resources.apply_all_staged([configmap(a="1")])
    edit(cluster, "kubectl-edit", owner="alice")
    assert actions(resources.apply_all_staged([configmap(a="1")])) == ["ConfigMap/default/cfg configured"]
    live = cluster.get(CM)
    assert "labels" not in live["metadata"] or "owner" not in live["metadata"]["labels"]
    assert [(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]] == [
        ("kustomize-controller", "Apply")
    ]


def test_what_another_manager_added_survives(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    resources.apply_all_staged([configmap(a="1")])
    edit(cluster, "autoscaler", tier="gold")
    assert actions(resources.apply_all_staged([configmap(a="1")])) == ["ConfigMap/default/cfg unchanged"]
    assert cluster.get(CM)["metadata"]["labels"] == {"tier": "gold"}


def test_ssa_merge_keeps_kubectl_fields(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    desired = configmap(a="1")
    desired["metadata"]["annotations"] = {"kustomize.toolkit.fluxcd.io/ssa": "merge"}
    resources.apply_all_staged([desired])
    edit(cluster, "kubectl-edit", owner="alice")
    resources.apply_all_staged([desired])
    assert cluster.get(CM)["metadata"]["labels"] == {"owner": "alice"}


def test_the_last_applied_annotation_is_cleaned_up(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    legacy = configmap(a="1")
    legacy["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    cluster.create(legacy, field_manager="kubectl-client-side-apply")
    assert actions(resources.apply_all_staged([configmap(a="1")])) == ["ConfigMap/default/cfg configured"]
    assert "annotations" not in cluster.get(CM)["metadata"] or not cluster.get(CM)["metadata"]["annotations"]


def test_a_failing_dry_run_stops_its_stage_before_any_write(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}
    with pytest.raises(manager.ApplyError) as caught:
        resources.apply_all_staged([ns, configmap("a", "apps"), configmap("b", "missing")])
    assert str(caught.value) == 'ConfigMap/missing/b not found: namespaces "missing" not found'
    assert actions(caught.value.changeset) == ["Namespace/apps created"]
    with pytest.raises(errors.NotFound):
        cluster.get(refs.ObjectRef("", "ConfigMap", "apps", "a"))


def test_prune_skips_objects_without_the_owner_labels(
    cluster: store.MemoryCluster, resources: manager.ResourceManager
) -> None:
    owner = {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    cluster.create(configmap(), field_manager="someone")
    cs = resources.delete_all([(CM, "v1"), (refs.ObjectRef("", "ConfigMap", "default", "gone"), "v1")], owner)
    # fluxcd/pkg ssa DeleteAll works in the reverse of the apply order.
    assert actions(cs) == ["ConfigMap/default/gone deleted", "ConfigMap/default/cfg skipped"]
    assert cluster.get(CM)


def test_the_kustomize_controllers_cleanup_takes_over_kubectl_but_not_gotk_managers(
    cluster: store.MemoryCluster,
) -> None:

    resources = manager.ResourceManager(cluster, "kustomize-controller", kustomization.CLEANUP_MANAGERS)
    resources.apply_all_staged([configmap(a="1")])
    edit(cluster, "gotk-kustomize-controller", kept="yes")
    edit(cluster, "kubectl-client-side-apply", dropped="yes")
    assert actions(resources.apply_all_staged([configmap(a="1")])) == ["ConfigMap/default/cfg configured"]
    live = cluster.get(CM)
    assert live["metadata"]["labels"] == {"kept": "yes"}
    assert [(m["manager"], m["operation"]) for m in live["metadata"]["managedFields"]] == [
        ("gotk-kustomize-controller", "Update"),
        ("kustomize-controller", "Apply"),
    ]
