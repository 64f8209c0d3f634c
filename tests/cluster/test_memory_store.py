from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import backend, errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from gitops_sim.timing import clock as clocks
from tests.builders import memory_cluster, widget_crd

DEPLOY = refs.ObjectRef("apps", "Deployment", "default", "web")
CM = refs.ObjectRef("", "ConfigMap", "default", "cfg")


@pytest.fixture
def clock() -> clocks.VirtualClock:
    return clocks.VirtualClock()


@pytest.fixture
def cluster(clock: clocks.VirtualClock) -> store.MemoryCluster:
    return memory_cluster(clock=clock)


@pytest.fixture
def events(cluster: store.MemoryCluster) -> list[backend.WatchEvent]:
    seen: list[backend.WatchEvent] = []
    cluster.watch(seen.append, resource_version=str(cluster.resource_version))
    return seen


def deployment(replicas: int = 1, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", **({"labels": labels} if labels else {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def configmap(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "default"},
        "data": data,
    }


def managers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["manager"], m["operation"]) for m in obj["metadata"].get("managedFields", [])]


def test_resource_versions_come_from_one_counter_that_only_grows(cluster: store.MemoryCluster) -> None:
    a = cluster.create(configmap(x="1"), field_manager="t")
    b = cluster.create(deployment(), field_manager="t")
    c = cluster.update({**configmap(x="2")}, field_manager="t")
    versions = [int(o["metadata"]["resourceVersion"]) for o in (a, b, c)]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_create_sets_uid_and_creation_time_from_the_clock(
    cluster: store.MemoryCluster, clock: clocks.VirtualClock
) -> None:
    clock.advance_to(clocks.Millis(61_000))
    obj = cluster.create(deployment(), field_manager="t")
    assert obj["metadata"]["creationTimestamp"] == "2025-01-01T00:01:01Z"
    assert len(obj["metadata"]["uid"]) == 36
    assert obj["metadata"]["generation"] == 1


def test_configmaps_have_no_generation(cluster: store.MemoryCluster) -> None:
    assert "generation" not in cluster.create(configmap(x="1"), field_manager="t")["metadata"]


def test_generation_moves_on_spec_changes_only(cluster: store.MemoryCluster) -> None:
    cluster.create(deployment(), field_manager="t")
    relabelled = cluster.update(deployment(1, team="a"), field_manager="t")
    assert relabelled["metadata"]["generation"] == 1
    scaled = cluster.update(deployment(3, team="a"), field_manager="t")
    assert scaled["metadata"]["generation"] == 2


def test_the_main_endpoint_ignores_status_and_the_status_endpoint_ignores_spec(
    cluster: store.MemoryCluster,
) -> None:
    cluster.create({**deployment(), "status": {"replicas": 9}}, field_manager="t")
    assert "status" not in cluster.get(DEPLOY)
    cluster.update(
        {**deployment(5), "status": {"replicas": 2}}, field_manager="kubelet", subresource="status"
    )
    live = cluster.get(DEPLOY)
    assert live["status"] == {"replicas": 2}
    assert live["spec"]["replicas"] == 1
    assert live["metadata"]["generation"] == 1


def test_a_no_op_update_bumps_nothing_and_sends_no_event(
    cluster: store.MemoryCluster, events: list[backend.WatchEvent]
) -> None:
    first = cluster.create(configmap(x="1"), field_manager="t")
    again = cluster.update(configmap(x="1"), field_manager="t")
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert [e.type for e in events] == ["ADDED"]


def test_a_stale_resource_version_is_a_conflict_with_the_real_message(cluster: store.MemoryCluster) -> None:
    old = cluster.create(configmap(x="1"), field_manager="t")
    cluster.update(configmap(x="2"), field_manager="t")
    with pytest.raises(errors.Conflict) as caught:
        cluster.update({**configmap(x="3"), "metadata": old["metadata"]}, field_manager="t")
    assert caught.value.message == (
        'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert caught.value.status()["code"] == 409


def test_duplicates_and_missing_objects_get_kubernetes_errors(cluster: store.MemoryCluster) -> None:
    cluster.create(configmap(), field_manager="t")
    with pytest.raises(errors.AlreadyExists, match='configmaps "cfg" already exists'):
        cluster.create(configmap(), field_manager="t")
    with pytest.raises(errors.NotFound, match='deployments.apps "web" not found'):
        cluster.get(DEPLOY)


def test_objects_need_their_namespace_to_exist(cluster: store.MemoryCluster) -> None:
    obj = configmap()
    obj["metadata"]["namespace"] = "nope"
    with pytest.raises(errors.NotFound, match='namespaces "nope" not found'):
        cluster.create(obj, field_manager="t")


def test_names_must_be_dns_subdomains(cluster: store.MemoryCluster) -> None:
    obj = configmap()
    obj["metadata"]["name"] = "Not_Valid"
    with pytest.raises(errors.Invalid, match="RFC 1123 subdomain"):
        cluster.create(obj, field_manager="t")


def test_unknown_kinds_are_refused_like_the_rest_mapper_does(cluster: store.MemoryCluster) -> None:
    with pytest.raises(errors.NoKindMatch, match='no matches for kind "Widget" in version "example.com/v1"'):
        cluster.create(
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, field_manager="t"
        )


def test_a_crd_makes_its_kind_servable(cluster: store.MemoryCluster) -> None:
    cluster.create(widget_crd(subresources={"status": {}}), field_manager="t")
    created = cluster.create(
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"},
            "spec": {"size": 1},
        },
        field_manager="t",
    )
    assert created["metadata"]["generation"] == 1


def test_delete_with_finalizers_marks_the_object_and_bumps_generation(
    cluster: store.MemoryCluster, events: list[backend.WatchEvent]
) -> None:
    obj = deployment()
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.create(obj, field_manager="t")
    cluster.delete(DEPLOY)
    live = cluster.get(DEPLOY)
    assert live["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:00Z"
    assert live["metadata"]["generation"] == 2
    live["metadata"]["finalizers"] = []
    cluster.update(live, field_manager="t")
    with pytest.raises(errors.NotFound):
        cluster.get(DEPLOY)
    assert [e.type for e in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_deleting_an_owner_collects_its_dependents(cluster: store.MemoryCluster) -> None:
    owner = cluster.create(deployment(), field_manager="t")
    dependent = configmap()
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": owner["metadata"]["uid"]}
    ]
    cluster.create(dependent, field_manager="t")
    cluster.delete(DEPLOY)
    with pytest.raises(errors.NotFound):
        cluster.get(CM)


def test_orphan_propagation_keeps_dependents_and_drops_the_reference(cluster: store.MemoryCluster) -> None:
    owner = cluster.create(deployment(), field_manager="t")
    dependent = configmap()
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": owner["metadata"]["uid"]}
    ]
    cluster.create(dependent, field_manager="t")
    cluster.delete(DEPLOY, propagation="Orphan")
    assert "ownerReferences" not in cluster.get(CM)["metadata"]


def test_deleting_a_namespace_deletes_what_is_in_it(cluster: store.MemoryCluster) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}, field_manager="t")
    cm = configmap()
    cm["metadata"]["namespace"] = "team"
    cluster.create(cm, field_manager="t")
    cluster.delete(refs.ObjectRef("", "Namespace", "", "team"))
    assert cluster.list(refs.GroupKind("", "ConfigMap")) == []


def test_the_system_namespaces_may_not_be_deleted(cluster: store.MemoryCluster) -> None:
    with pytest.raises(
        errors.Forbidden, match='namespaces "default" is forbidden: this namespace may not be deleted'
    ):
        cluster.delete(refs.ObjectRef("", "Namespace", "", "default"))


def test_watchers_see_changes_in_commit_order_as_copies(
    cluster: store.MemoryCluster, events: list[backend.WatchEvent]
) -> None:
    cluster.create(configmap(x="1"), field_manager="t")
    cluster.update(configmap(x="2"), field_manager="t")
    events[0].object["data"]["x"] = "mutated by a watcher"
    assert [(e.type, e.object["data"]["x"]) for e in events] == [
        ("ADDED", "mutated by a watcher"),
        ("MODIFIED", "2"),
    ]
    assert cluster.get(CM)["data"]["x"] == "2"


# -- server-side apply ---------------------------------------------------------------------------


def test_apply_creates_the_object_owned_by_the_applier(cluster: store.MemoryCluster) -> None:
    obj = cluster.apply(deployment(), field_manager="flux", force=True)
    assert managers(obj) == [("flux", "Apply")]
    owned = obj["metadata"]["managedFields"][0]["fieldsV1"]
    assert owned["f:spec"]["f:replicas"] == {}


def test_reapplying_the_same_config_changes_nothing(
    cluster: store.MemoryCluster, events: list[backend.WatchEvent]
) -> None:
    first = cluster.apply(deployment(), field_manager="flux", force=True)
    again = cluster.apply(deployment(), field_manager="flux", force=True)
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert len(events) == 1


def test_reapply_reverts_a_field_the_applier_owns_and_keeps_one_it_never_set(
    cluster: store.MemoryCluster,
) -> None:
    cluster.apply(deployment(1), field_manager="flux", force=True)
    edited = cluster.get(DEPLOY)
    edited["spec"]["replicas"] = 5
    edited["metadata"]["labels"] = {"owner": "alice"}
    edited = cluster.update(edited, field_manager="kubectl-edit")
    assert managers(edited) == [("flux", "Apply"), ("kubectl-edit", "Update")]
    reverted = cluster.apply(deployment(1), field_manager="flux", force=True)
    assert reverted["spec"]["replicas"] == 1
    assert reverted["metadata"]["labels"] == {"owner": "alice"}


def test_apply_without_force_reports_conflicts_as_the_server_does(cluster: store.MemoryCluster) -> None:
    cluster.apply(configmap(key="a"), field_manager="kubectl", force=False)
    with pytest.raises(errors.Conflict) as caught:
        cluster.apply(configmap(key="b"), field_manager="flux", force=False)
    assert caught.value.message == 'Apply failed with 1 conflict: conflict with "kubectl": .data.key'
    assert caught.value.status()["details"] == {
        "causes": [
            {"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"', "field": ".data.key"}
        ]
    }


def test_an_update_manager_is_named_with_its_api_version_in_conflicts(cluster: store.MemoryCluster) -> None:
    cluster.create(configmap(key="a"), field_manager="kubectl-client-side-apply")
    with pytest.raises(
        errors.Conflict, match='conflict with "kubectl-client-side-apply" using v1: .data.key'
    ):
        cluster.apply(configmap(key="b"), field_manager="flux")


def test_applying_the_same_value_shares_ownership_without_conflict(cluster: store.MemoryCluster) -> None:
    cluster.apply(configmap(key="a"), field_manager="kubectl")
    shared = cluster.apply(configmap(key="a"), field_manager="flux")
    assert managers(shared) == [("kubectl", "Apply"), ("flux", "Apply")]


def test_force_takes_ownership_from_the_other_manager(cluster: store.MemoryCluster) -> None:
    cluster.apply(configmap(key="a", other="x"), field_manager="kubectl")
    taken = cluster.apply(configmap(key="b"), field_manager="flux", force=True)
    kubectl = next(m for m in taken["metadata"]["managedFields"] if m["manager"] == "kubectl")
    assert kubectl["fieldsV1"] == {"f:data": {"f:other": {}}}


def test_a_field_the_applier_stops_applying_is_removed_when_nobody_else_owns_it(
    cluster: store.MemoryCluster,
) -> None:
    cluster.apply(configmap(a="1", b="2"), field_manager="flux")
    assert cluster.apply(configmap(a="1"), field_manager="flux")["data"] == {"a": "1"}


def test_a_dropped_field_survives_while_another_manager_owns_it(cluster: store.MemoryCluster) -> None:
    cluster.apply(configmap(a="1", b="2"), field_manager="flux")
    cluster.apply(configmap(b="2"), field_manager="kubectl")
    assert cluster.apply(configmap(a="1"), field_manager="flux")["data"] == {"a": "1", "b": "2"}


def test_dry_run_apply_stores_nothing(cluster: store.MemoryCluster, events: list[backend.WatchEvent]) -> None:
    preview = cluster.apply(configmap(a="1"), field_manager="flux", dry_run=True)
    assert preview["data"] == {"a": "1"}
    assert events == []
    with pytest.raises(errors.NotFound):
        cluster.get(CM)


def test_replacing_managed_fields_with_an_empty_entry_resets_ownership(cluster: store.MemoryCluster) -> None:
    cluster.apply(configmap(a="1"), field_manager="kubectl")
    patched = cluster.json_patch(
        CM, [{"op": "replace", "path": "/metadata/managedFields", "value": [{}]}], field_manager="flux"
    )
    assert "managedFields" not in patched["metadata"]
    assert patched["data"] == {"a": "1"}


def test_apply_bodies_may_not_carry_managed_fields(cluster: store.MemoryCluster) -> None:
    obj = configmap(a="1")
    obj["metadata"]["managedFields"] = []
    with pytest.raises(errors.BadRequest, match="managedFields must be nil"):
        cluster.apply(obj, field_manager="flux")


def test_managed_fields_keep_at_most_ten_update_managers(cluster: store.MemoryCluster) -> None:
    cluster.create(configmap(), field_manager="creator")
    clock = cluster._clock  # the fixture's VirtualClock, to order the managers in time
    for i in range(12):
        assert isinstance(clock, clocks.VirtualClock)
        clock.advance_to(clocks.Millis((i + 1) * 1_000))
        live = cluster.get(CM)
        live["data"] = {**(live.get("data") or {}), f"k{i}": "v"}
        cluster.update(live, field_manager=f"writer-{i}")
    names = [m["manager"] for m in cluster.get(CM)["metadata"]["managedFields"]]
    assert len(names) == 10
    assert names[-1] == "ancient-changes"
    assert "writer-11" in names and "writer-0" not in names


def test_deleting_a_namespace_waits_for_finalizers_and_refuses_new_content(
    cluster: store.MemoryCluster,
) -> None:
    team = refs.ObjectRef("", "Namespace", "", "team")
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}, field_manager="t")
    held = configmap()
    held["metadata"] |= {"namespace": "team", "finalizers": ["example.com/hold"]}
    cluster.create(held, field_manager="t")
    cluster.delete(team)
    assert cluster.get(team)["status"]["phase"] == "Terminating"
    other = configmap()
    other["metadata"] |= {"namespace": "team", "name": "late"}
    with pytest.raises(errors.Forbidden, match="because it is being terminated"):
        cluster.create(other, field_manager="t")
    live = cluster.get(refs.ObjectRef("", "ConfigMap", "team", held["metadata"]["name"]))
    live["metadata"]["finalizers"] = []
    cluster.update(live, field_manager="t")
    with pytest.raises(errors.NotFound):
        cluster.get(team)


def test_foreground_deletion_keeps_the_owner_until_its_dependents_are_gone(
    cluster: store.MemoryCluster,
) -> None:
    owner = cluster.create(deployment(), field_manager="t")
    dependent = configmap()
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": owner["metadata"]["uid"]}
    ]
    dependent["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.create(dependent, field_manager="t")
    cluster.delete(DEPLOY, propagation="Foreground")
    waiting = cluster.get(DEPLOY)
    assert waiting["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert cluster.get(CM)["metadata"]["deletionTimestamp"]
    live = cluster.get(CM)
    live["metadata"]["finalizers"] = []
    cluster.update(live, field_manager="t")
    with pytest.raises(errors.NotFound):
        cluster.get(DEPLOY)


def test_a_crd_is_established_once_created(cluster: store.MemoryCluster) -> None:
    crd = cluster.create(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "gadgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"kind": "Gadget", "plural": "gadgets"},
                "versions": [{"name": "v1", "served": True, "storage": True}],
            },
        },
        field_manager="t",
    )
    conditions = {c["type"]: (c["status"], c["reason"]) for c in crd["status"]["conditions"]}
    assert conditions == {
        "NamesAccepted": ("True", "NoConflicts"),
        "Established": ("True", "InitialNamesAccepted"),
    }
    assert crd["status"]["storedVersions"] == ["v1"]


def test_a_status_write_changes_nothing_but_status(cluster: store.MemoryCluster) -> None:
    cluster.create(deployment(), field_manager="t")
    sent = cluster.get(DEPLOY)
    sent["metadata"]["labels"] = {"sneaky": "yes"}
    sent["spec"]["replicas"] = 9
    sent["status"] = {"replicas": 1}
    written = cluster.update(sent, field_manager="kubelet", subresource="status")
    assert written["status"] == {"replicas": 1}
    assert "labels" not in written["metadata"]
    assert written["spec"]["replicas"] == 1
    assert [m.get("subresource") for m in written["metadata"]["managedFields"]] == [None, "status"]


def test_the_store_keeps_its_own_copy_of_what_it_was_given(cluster: store.MemoryCluster) -> None:
    sent = deployment()
    sent["metadata"]["labels"] = {"team": "a"}
    returned = cluster.create(sent, field_manager="t")
    sent["spec"]["template"]["spec"]["containers"][0]["image"] = "changed-by-caller"
    sent["metadata"]["labels"]["team"] = "changed-by-caller"
    returned["spec"]["replicas"] = 99
    live = cluster.get(DEPLOY)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert live["metadata"]["labels"] == {"team": "a"}
    assert live["spec"]["replicas"] == 1


def test_free_form_fields_of_custom_resources_are_copied_too(cluster: store.MemoryCluster) -> None:
    cluster.create(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "blobs.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"kind": "Blob", "plural": "blobs"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                                },
                            }
                        },
                    }
                ],
            },
        },
        field_manager="t",
    )
    sent: dict[str, Any] = {
        "apiVersion": "example.com/v1",
        "kind": "Blob",
        "metadata": {"name": "b", "namespace": "default"},
        "spec": {"nested": {"list": [{"x": 1}]}},
    }
    cluster.create(sent, field_manager="t")
    sent["spec"]["nested"]["list"][0]["x"] = 2
    stored = cluster.get(refs.ObjectRef("example.com", "Blob", "default", "b"))
    assert stored["spec"] == {"nested": {"list": [{"x": 1}]}}
