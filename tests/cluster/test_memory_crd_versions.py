"""A CRD serves its kind in every `served: true` version (conversion None), keeps
`status.storedVersions`, and may not drop a version listed there (issue 12, item 6)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.http import discovery
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from tests.builders import memory_cluster

GROUP = "helm.toolkit.fluxcd.io"
HR = refs.GroupKind(GROUP, "HelmRelease")
REF = refs.ObjectRef(GROUP, "HelmRelease", "default", "podinfo")
CRD_REF = refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", f"helmreleases.{GROUP}")


def schema(*fields: str) -> dict[str, Any]:
    props = {name: {"type": "string"} for name in fields}
    return {
        "openAPIV3Schema": {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": props},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    }


def version(
    name: str, *, storage: bool = False, served: bool = True, fields: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "name": name,
        "served": served,
        "storage": storage,
        "subresources": {"status": {}},
        "schema": schema("interval", *fields),
    }


def crd(*versions: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"helmreleases.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": "HelmRelease", "plural": "helmreleases", "shortNames": ["hr"]},
            "versions": list(versions),
        },
    }


# v2beta1 has a field v2 dropped, as Flux's HelmRelease v2beta1 has `spec.valuesFile`.
HELMRELEASE = crd(version("v2beta1", fields=("valuesFile",)), version("v2", storage=True))


def release(api_version: str, **spec: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{api_version}",
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "default"},
        "spec": {"interval": "5m", **spec},
    }


@pytest.fixture
def cluster() -> store.MemoryCluster:
    c = memory_cluster()
    c.create(HELMRELEASE, field_manager="setup")
    return c


def test_an_object_created_through_a_served_version_is_answered_in_it_and_stored_in_the_storage_version(
    cluster: store.MemoryCluster,
) -> None:
    created = cluster.create(release("v2beta1"), field_manager="flux")
    assert created["apiVersion"] == f"{GROUP}/v2beta1"
    assert cluster.get(REF)["apiVersion"] == f"{GROUP}/v2"
    assert created["metadata"]["managedFields"][0]["apiVersion"] == f"{GROUP}/v2beta1"


def test_an_object_is_read_and_listed_through_every_served_version_with_its_api_version_rewritten(
    cluster: store.MemoryCluster,
) -> None:
    cluster.create(release("v2beta1"), field_manager="flux")
    v2 = cluster.kind_info(refs.GVK(GROUP, "v2", "HelmRelease"))
    v2beta1 = cluster.kind_info(refs.GVK(GROUP, "v2beta1", "HelmRelease"))
    assert v2.present(cluster.get(REF))["apiVersion"] == f"{GROUP}/v2"
    assert [v2beta1.present(o)["apiVersion"] for o in cluster.list(HR)] == [f"{GROUP}/v2beta1"]
    assert [v2.present(o)["apiVersion"] for o in cluster.list(HR)] == [f"{GROUP}/v2"]


def test_updates_and_applies_go_through_any_served_version_to_the_one_stored_object(
    cluster: store.MemoryCluster,
) -> None:
    cluster.create(release("v2"), field_manager="flux")
    old = cluster.get(REF)
    updated = cluster.update(
        {**release("v2beta1", interval="1m"), "metadata": old["metadata"]}, field_manager="kubectl"
    )
    assert updated["apiVersion"] == f"{GROUP}/v2beta1"
    applied = cluster.apply(release("v2beta1", interval="2m"), field_manager="flux", force=True)
    assert applied["apiVersion"] == f"{GROUP}/v2beta1"
    stored = cluster.get(REF)
    assert (stored["apiVersion"], stored["spec"]["interval"], stored["metadata"]["generation"]) == (
        f"{GROUP}/v2",
        "2m",
        3,
    )


def test_a_write_is_checked_against_the_schema_of_the_version_it_names(cluster: store.MemoryCluster) -> None:
    warnings: list[str] = []
    cluster.create(release("v2beta1", valuesFile="values.yaml"), field_manager="flux", warnings=warnings)
    assert warnings == []
    assert cluster.get(REF)["spec"]["valuesFile"] == "values.yaml"
    cluster.apply(release("v2", valuesFile="values.yaml"), field_manager="flux", warnings=warnings)
    assert warnings == ['unknown field "spec.valuesFile"']


def test_a_version_that_is_not_served_is_refused_as_the_rest_mapper_refuses_it() -> None:
    cluster = memory_cluster()
    cluster.create(crd(version("v2beta1", served=False), version("v2", storage=True)), field_manager="setup")
    with pytest.raises(errors.NoKindMatch) as caught:
        cluster.create(release("v2beta1"), field_manager="flux")
    assert caught.value.message == f'no matches for kind "HelmRelease" in version "{GROUP}/v2beta1"'


def test_every_served_version_is_a_served_kind_and_scenario_lookups_see_the_kind_once(
    cluster: store.MemoryCluster,
) -> None:
    served = [i.gvk.api_version for i in cluster.served_kinds() if i.gvk.group == GROUP]
    assert served == [f"{GROUP}/v2", f"{GROUP}/v2beta1"]
    assert [i.gvk.api_version for i in cluster.kinds_named("HelmRelease")] == [f"{GROUP}/v2"]


def test_stored_versions_gain_each_new_storage_version(cluster: store.MemoryCluster) -> None:
    cluster.delete(CRD_REF)
    cluster.create(crd(version("v2beta1", storage=True), version("v2")), field_manager="setup")
    assert cluster.get(CRD_REF)["status"]["storedVersions"] == ["v2beta1"]
    cluster.apply(crd(version("v2beta1"), version("v2", storage=True)), field_manager="setup", force=True)
    assert cluster.get(CRD_REF)["status"]["storedVersions"] == ["v2beta1", "v2"]


def test_a_crd_update_dropping_a_version_still_in_stored_versions_is_refused_with_the_real_message(
    cluster: store.MemoryCluster,
) -> None:
    cluster.delete(CRD_REF)
    cluster.create(crd(version("v2beta1", storage=True), version("v2")), field_manager="setup")
    cluster.apply(crd(version("v2beta1"), version("v2", storage=True)), field_manager="setup", force=True)
    with pytest.raises(errors.Invalid) as caught:
        cluster.apply(crd(version("v2", storage=True)), field_manager="setup", force=True)
    assert caught.value.code == 422
    assert caught.value.message == (
        f'CustomResourceDefinition.apiextensions.k8s.io "helmreleases.{GROUP}" is invalid: '
        'status.storedVersions[0]: Invalid value: "v2beta1": must appear in spec.versions'
    )
    assert [v["name"] for v in cluster.get(CRD_REF)["spec"]["versions"]] == ["v2beta1", "v2"]


def test_objects_stored_before_a_storage_version_change_read_and_patch_in_the_new_one() -> None:
    cluster = memory_cluster()
    cluster.create(crd(version("v2beta1", storage=True), version("v2")), field_manager="setup")
    cluster.create(release("v2beta1"), field_manager="flux")
    cluster.apply(crd(version("v2beta1"), version("v2", storage=True)), field_manager="setup", force=True)
    assert cluster.get(REF)["apiVersion"] == f"{GROUP}/v2"
    patched = cluster.merge_patch(REF, {"spec": {"interval": "9m"}}, field_manager="kubectl")
    assert (patched["apiVersion"], patched["spec"]["interval"]) == (f"{GROUP}/v2", "9m")


def test_discovery_lists_every_served_version_with_the_preferred_one_first(
    cluster: store.MemoryCluster,
) -> None:
    by_group = discovery.groups(cluster.served_kinds())
    assert list(by_group[GROUP]) == ["v2", "v2beta1"]
    listed = discovery.group_list(by_group)
    helm = next(g for g in listed["groups"] if g["name"] == GROUP)
    assert helm["preferredVersion"] == {"groupVersion": f"{GROUP}/v2", "version": "v2"}
    assert [v["version"] for v in helm["versions"]] == ["v2", "v2beta1"]
    aggregated = discovery.aggregated(by_group, core=False)
    item = next(i for i in aggregated["items"] if i["metadata"]["name"] == GROUP)
    assert [v["version"] for v in item["versions"]] == ["v2", "v2beta1"]


@pytest.mark.parametrize(
    ("versions", "preferred_first"),
    [
        (["v1beta1", "v1"], ["v1", "v1beta1"]),
        (["v1", "v2", "v10"], ["v10", "v2", "v1"]),
        (["v1alpha1", "v2beta1", "v1beta2", "v1"], ["v1", "v2beta1", "v1beta2", "v1alpha1"]),
        (["foo", "v1alpha2", "bar"], ["v1alpha2", "bar", "foo"]),
    ],
)
def test_versions_are_ordered_as_kube_apiserver_prefers_them(
    versions: list[str], preferred_first: list[str]
) -> None:
    from gitops_sim.cluster import kinds

    assert sorted(versions, key=kinds.version_priority) == preferred_first
