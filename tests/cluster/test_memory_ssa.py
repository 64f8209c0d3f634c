"""Server-side apply with structured-merge-diff semantics: list-maps, sets and conflicts."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from tests.builders import memory_cluster

WEB = refs.ObjectRef("apps", "Deployment", "default", "web")


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return memory_cluster()


def deployment(*containers: dict[str, Any], finalizers: list[str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web", "namespace": "default"}
    if finalizers is not None:
        meta["finalizers"] = finalizers
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": list(containers)}},
        },
    }


def container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def containers(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], c["image"]) for c in obj["spec"]["template"]["spec"]["containers"]]


def owned(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    entry = next(m for m in obj["metadata"]["managedFields"] if m["manager"] == manager)
    fields: dict[str, Any] = entry["fieldsV1"]
    return fields


def test_list_map_items_are_owned_one_by_one(cluster: store.MemoryCluster) -> None:
    cluster.apply(deployment(container("app", "app:1")), field_manager="flux")
    both = cluster.apply(deployment(container("sidecar", "proxy:1")), field_manager="injector")
    assert containers(both) == [("app", "app:1"), ("sidecar", "proxy:1")]
    again = cluster.apply(deployment(container("app", "app:2")), field_manager="flux")
    assert containers(again) == [("app", "app:2"), ("sidecar", "proxy:1")]


def test_managed_fields_name_list_items_by_key_with_a_dot_for_the_item(cluster: store.MemoryCluster) -> None:
    obj = cluster.apply(deployment(container("app", "app:1")), field_manager="flux")
    spec = owned(obj, "flux")["f:spec"]["f:template"]["f:spec"]
    assert spec == {"f:containers": {'k:{"name":"app"}': {".": {}, "f:image": {}, "f:name": {}}}}


def test_an_item_the_applier_stops_applying_is_removed_when_it_owned_it_alone(
    cluster: store.MemoryCluster,
) -> None:
    cluster.apply(deployment(container("app", "app:1"), container("debug", "busybox")), field_manager="flux")
    after = cluster.apply(deployment(container("app", "app:1")), field_manager="flux")
    assert containers(after) == [("app", "app:1")]


def test_an_image_set_by_hand_is_reverted_and_nothing_else_moves(cluster: store.MemoryCluster) -> None:
    cluster.apply(deployment(container("app", "app:1", args=["--port=80"])), field_manager="flux")
    live = cluster.get(WEB)
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "app:hotfix"
    live["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "DEBUG", "value": "1"}]
    cluster.update(live, field_manager="kubectl-set")
    reverted = cluster.apply(
        deployment(container("app", "app:1", args=["--port=80"])), field_manager="flux", force=True
    )
    app = reverted["spec"]["template"]["spec"]["containers"][0]
    assert app["image"] == "app:1"
    assert app["env"] == [{"name": "DEBUG", "value": "1"}]
    assert app["args"] == ["--port=80"]


def test_a_conflict_inside_a_list_item_names_the_item_by_key(cluster: store.MemoryCluster) -> None:
    cluster.apply(deployment(container("app", "app:1")), field_manager="flux")
    with pytest.raises(errors.Conflict) as caught:
        cluster.apply(deployment(container("app", "app:2")), field_manager="helm")
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "flux": .spec.template.spec.containers[name="app"].image'
    )


def test_several_conflicts_are_grouped_by_manager(cluster: store.MemoryCluster) -> None:
    cluster.apply(
        {
            **deployment(container("app", "app:1")),
            "spec": {**deployment(container("app", "app:1"))["spec"], "replicas": 2},
        },
        field_manager="flux",
    )
    change = deployment(container("app", "app:2"))
    change["spec"]["replicas"] = 3
    with pytest.raises(errors.Conflict) as caught:
        cluster.apply(change, field_manager="helm")
    assert caught.value.message.splitlines() == [
        'Apply failed with 2 conflicts: conflicts with "flux":',
        "- .spec.replicas",
        '- .spec.template.spec.containers[name="app"].image',
    ]


def test_set_lists_take_the_union_and_drop_only_what_a_manager_alone_applied(
    cluster: store.MemoryCluster,
) -> None:
    cluster.apply(deployment(container("app", "app:1"), finalizers=["a.example.com/x"]), field_manager="one")
    both = cluster.apply(
        {**deployment(container("app", "app:1"), finalizers=["b.example.com/y"])}, field_manager="two"
    )
    assert both["metadata"]["finalizers"] == ["a.example.com/x", "b.example.com/y"]
    assert owned(both, "two")["f:metadata"] == {"f:finalizers": {'v:"b.example.com/y"': {}}}
    dropped = cluster.apply(deployment(container("app", "app:1"), finalizers=[]), field_manager="one")
    assert dropped["metadata"]["finalizers"] == ["b.example.com/y"]


def test_service_ports_are_keyed_by_port_and_protocol(cluster: store.MemoryCluster) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"ports": [{"port": 53, "protocol": "UDP", "name": "dns-udp"}]},
    }
    obj = cluster.apply(service, field_manager="flux")
    tcp = {**service, "spec": {"ports": [{"port": 53, "protocol": "TCP", "name": "dns-tcp"}]}}
    both = cluster.apply(tcp, field_manager="other")
    assert [(p["port"], p["protocol"]) for p in both["spec"]["ports"]] == [(53, "UDP"), (53, "TCP")]
    assert 'k:{"port":53,"protocol":"UDP"}' in owned(obj, "flux")["f:spec"]["f:ports"]


def test_atomic_lists_belong_to_one_manager_whole(cluster: store.MemoryCluster) -> None:
    cluster.apply(deployment(container("app", "app:1", args=["a", "b"])), field_manager="flux")
    obj = cluster.get(WEB)
    app = owned(obj, "flux")["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"app"}']
    assert app["f:args"] == {}


def test_conflicts_with_two_managers_come_in_manager_order(cluster: store.MemoryCluster) -> None:
    cm: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"},
    }
    cluster.apply({**cm, "data": {"x": "1"}}, field_manager="zeta")
    cluster.create({**cm, "metadata": {**cm["metadata"], "name": "d"}, "data": {"y": "1"}}, field_manager="t")
    live = cluster.get(refs.ObjectRef("", "ConfigMap", "default", "c"))
    live["data"]["y"] = "1"
    cluster.update(live, field_manager="alpha")
    with pytest.raises(errors.Conflict) as caught:
        cluster.apply({**cm, "data": {"x": "2", "y": "2"}}, field_manager="flux")
    assert caught.value.message.splitlines() == [
        'Apply failed with 2 conflicts: conflicts with "alpha" using v1:',
        "- .data.y",
        'conflicts with "zeta":',
        "- .data.x",
    ]


def test_an_update_that_creates_a_map_owns_the_map_itself(cluster: store.MemoryCluster) -> None:
    created = cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"app": "x"}},
            "data": {"key": "v"},
        },
        field_manager="kubectl-create",
    )
    assert owned(created, "kubectl-create") == {
        "f:data": {".": {}, "f:key": {}},
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
    }
