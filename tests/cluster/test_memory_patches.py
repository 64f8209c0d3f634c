"""Strategic merge, JSON merge and JSON patches against the in-memory store."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from tests.builders import memory_cluster, widget_crd

WEB = refs.ObjectRef("apps", "Deployment", "default", "web")


@pytest.fixture
def cluster() -> store.MemoryCluster:
    c = memory_cluster()
    c.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "finalizers": ["a.io/x"]},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]},
                            {"name": "proxy", "image": "proxy:1"},
                        ]
                    },
                },
            },
        },
        field_manager="setup",
    )
    return c


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def smp(cluster: store.MemoryCluster, patch: dict[str, Any]) -> dict[str, Any]:
    return cluster.strategic_merge_patch(WEB, patch, field_manager="kubectl-patch")


def test_list_items_merge_by_their_merge_key(cluster: store.MemoryCluster) -> None:
    out = smp(cluster, {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}})
    assert [(c["name"], c["image"]) for c in containers(out)] == [("app", "app:2"), ("proxy", "proxy:1")]
    assert containers(out)[0]["env"] == [{"name": "A", "value": "1"}]


def test_a_new_item_is_appended(cluster: store.MemoryCluster) -> None:
    out = smp(
        cluster, {"spec": {"template": {"spec": {"containers": [{"name": "debug", "image": "busybox"}]}}}}
    )
    assert [c["name"] for c in containers(out)] == ["app", "proxy", "debug"]


def test_patch_delete_removes_one_item(cluster: store.MemoryCluster) -> None:
    out = smp(
        cluster, {"spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}}}
    )
    assert [c["name"] for c in containers(out)] == ["app"]


def test_patch_replace_in_a_list_replaces_the_whole_list(cluster: store.MemoryCluster) -> None:
    out = smp(
        cluster,
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "only:1"}]}
                }
            }
        },
    )
    assert [c["name"] for c in containers(out)] == ["only"]


def test_set_element_order_orders_the_merged_list(cluster: store.MemoryCluster) -> None:
    out = smp(
        cluster,
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "proxy"}, {"name": "app"}],
                        "containers": [{"name": "app", "image": "app:3"}],
                    }
                }
            }
        },
    )
    assert [c["name"] for c in containers(out)] == ["proxy", "app"]


def test_null_deletes_a_key_and_replace_replaces_a_map(cluster: store.MemoryCluster) -> None:
    labels = {"$patch": "replace", "tier": "w"}
    out = smp(cluster, {"spec": {"replicas": None, "template": {"metadata": {"labels": labels}}}})
    assert out["spec"]["replicas"] == 1  # deleted, then defaulted again as a real server does
    assert out["spec"]["template"]["metadata"]["labels"] == {"tier": "w"}


def test_merge_strategy_scalar_lists_take_the_union_and_can_delete(cluster: store.MemoryCluster) -> None:
    added = smp(cluster, {"metadata": {"finalizers": ["b.io/y"]}})
    assert added["metadata"]["finalizers"] == ["a.io/x", "b.io/y"]
    removed = smp(cluster, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}})
    assert removed["metadata"]["finalizers"] == ["b.io/y"]


def test_lists_without_a_merge_strategy_are_replaced(cluster: store.MemoryCluster) -> None:
    smp(cluster, {"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["--a", "--b"]}]}}}})
    out = smp(cluster, {"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["--c"]}]}}}})
    assert containers(out)[0]["args"] == ["--c"]


def test_env_vars_merge_by_name_as_their_schema_says(cluster: store.MemoryCluster) -> None:
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]}}
        }
    }
    out = smp(cluster, patch)
    assert containers(out)[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]


def test_a_merge_list_item_without_its_key_is_a_bad_request(cluster: store.MemoryCluster) -> None:
    with pytest.raises(errors.BadRequest, match="does not contain declared merge key: name"):
        smp(cluster, {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})


def test_custom_resources_refuse_strategic_merge_patch(cluster: store.MemoryCluster) -> None:
    cluster.create(widget_crd(), field_manager="t")
    cluster.create(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "default"}},
        field_manager="t",
    )
    with pytest.raises(errors.UnsupportedMediaType) as caught:
        cluster.strategic_merge_patch(
            refs.ObjectRef("example.com", "Widget", "default", "w"), {"spec": {}}, field_manager="t"
        )
    assert caught.value.status()["code"] == 415


def test_a_json_patch_test_op_guards_the_change(cluster: store.MemoryCluster) -> None:
    with pytest.raises(
        errors.Invalid, match="^the server rejected our request due to an error in our request$"
    ) as caught:
        cluster.json_patch(
            WEB,
            [
                {"op": "test", "path": "/spec/replicas", "value": 5},
                {"op": "replace", "path": "/spec/replicas", "value": 6},
            ],
            field_manager="t",
        )
    assert str(caught.value.__cause__) == "testing value /spec/replicas failed"
    out = cluster.json_patch(
        WEB,
        [
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 6},
        ],
        field_manager="t",
    )
    assert out["spec"]["replicas"] == 6
    assert out["metadata"]["generation"] == 2


def test_a_patch_carrying_a_stale_resource_version_conflicts(cluster: store.MemoryCluster) -> None:
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        cluster.merge_patch(
            WEB, {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 3}}, field_manager="t"
        )
