from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import backend, errors
from gitops_sim.cluster.memory import store
from gitops_sim.cluster.memory import watch as watches
from gitops_sim.model import refs
from tests.builders import memory_cluster, widget_crd

CM_KIND = refs.GroupKind("", "ConfigMap")


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return memory_cluster("a", "b", history=50)


def cm(name: str, ns: str = "a", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"k": name},
    }


def names(items: list[dict[str, Any]]) -> list[str]:
    return [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in items]


def seen(events: list[backend.WatchEvent]) -> list[tuple[str, str]]:
    return [
        (e.type, e.object["metadata"].get("name", e.object["metadata"].get("resourceVersion")))
        for e in events
    ]


def test_lists_filter_by_namespace_labels_and_fields(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("one", app="web"), field_manager="t")
    cluster.create(cm("two", app="api"), field_manager="t")
    cluster.create(cm("three", "b", app="web"), field_manager="t")
    assert names(cluster.list(CM_KIND, labels="app=web")) == ["a/one", "b/three"]
    assert names(cluster.list(CM_KIND, namespace="a", labels="app notin (web)")) == ["a/two"]
    assert names(cluster.list(CM_KIND, fields="metadata.name!=one,metadata.namespace=a")) == ["a/two"]


def test_event_field_selectors_reach_into_the_involved_object(cluster: store.MemoryCluster) -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e1", "namespace": "a"},
        "involvedObject": {"kind": "Kustomization", "name": "apps"},
        "reason": "Progressing",
        "source": {"component": "kustomize-controller"},
    }
    cluster.create(event, field_manager="t")
    kind = refs.GroupKind("", "Event")
    assert (
        len(cluster.list(kind, fields="involvedObject.kind=Kustomization,source=kustomize-controller")) == 1
    )
    assert cluster.list(kind, fields="reason=Failed") == []


def test_pages_follow_continue_tokens_to_the_end(cluster: store.MemoryCluster) -> None:
    for i in range(5):
        cluster.create(cm(f"cm-{i}"), field_manager="t")
    first = cluster.list_page(CM_KIND, limit=2)
    assert names(first.items) == ["a/cm-0", "a/cm-1"]
    assert first.remaining_item_count == 3
    second = cluster.list_page(CM_KIND, limit=2, continue_token=first.continue_token)
    third = cluster.list_page(CM_KIND, limit=2, continue_token=second.continue_token)
    assert names(second.items + third.items) == ["a/cm-2", "a/cm-3", "a/cm-4"]
    assert third.continue_token == ""
    assert third.remaining_item_count is None


def test_a_namespaces_list_stays_in_name_order_as_objects_come_and_go(cluster: store.MemoryCluster) -> None:
    for name, ns in [("m", "b"), ("c", "a"), ("z", "a"), ("a", "b"), ("k", "a"), ("b", "a")]:
        cluster.create(cm(name, ns), field_manager="t")
    cluster.delete(refs.ObjectRef("", "ConfigMap", "a", "k"))
    cluster.create(cm("d", "a"), field_manager="t")
    assert names(cluster.list(CM_KIND, namespace="a")) == ["a/b", "a/c", "a/d", "a/z"]
    assert names(cluster.list(CM_KIND)) == ["a/b", "a/c", "a/d", "a/z", "b/a", "b/m"]
    first = cluster.list_page(CM_KIND, namespace="a", limit=3)
    rest = cluster.list_page(CM_KIND, namespace="a", limit=3, continue_token=first.continue_token)
    assert (names(first.items), first.remaining_item_count, names(rest.items)) == (
        ["a/b", "a/c", "a/d"],
        1,
        ["a/z"],
    )


def _containers(value: Any) -> list[Any]:
    """Every map and list inside `value`, `value` included."""
    if isinstance(value, dict):
        return [value, *(c for v in value.values() for c in _containers(v))]
    if isinstance(value, list):
        return [value, *(c for v in value for c in _containers(v))]
    return []


def test_what_list_hands_out_shares_no_map_or_list_with_the_store(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("one", app="web"), field_manager="t")
    stored = {id(c) for c in _containers(cluster.read(refs.ObjectRef("", "ConfigMap", "a", "one")))}
    listed = cluster.list(CM_KIND)[0]
    paged = cluster.list_page(CM_KIND, limit=1).items[0]
    assert not stored & {id(c) for c in _containers(listed) + _containers(paged)}


def test_changing_what_list_returned_changes_nothing_stored(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("one", app="web"), field_manager="t")
    listed = cluster.list(CM_KIND, labels="app=web")[0]
    listed["data"]["k"] = "changed"
    listed["metadata"]["labels"]["app"] = "api"
    assert cluster.get(refs.ObjectRef("", "ConfigMap", "a", "one"))["data"] == {"k": "one"}
    assert names(cluster.list(CM_KIND, labels="app=web")) == ["a/one"]


def test_read_list_hands_out_the_stored_objects_themselves(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("one"), field_manager="t")
    cluster.create(cm("two", "b"), field_manager="t")
    shared = cluster.read_list(CM_KIND, namespace="b")
    assert [o is cluster.read(refs.ObjectRef("", "ConfigMap", "b", "two")) for o in shared] == [True]


def test_a_write_hands_out_a_copy_unless_its_caller_asks_to_share(cluster: store.MemoryCluster) -> None:
    ref = refs.ObjectRef("", "ConfigMap", "a", "one")
    copied = cluster.create(cm("one"), field_manager="t")
    copied["data"]["k"] = "changed"
    assert cluster.get(ref)["data"] == {"k": "one"}
    shared = cluster.merge_patch(ref, {"data": {"k": "two"}}, field_manager="t", shared=True)
    assert shared is cluster.read(ref)


def test_a_garbled_continue_token_is_a_bad_request(cluster: store.MemoryCluster) -> None:
    with pytest.raises(errors.BadRequest, match="continue key is not valid"):
        cluster.list_page(CM_KIND, limit=1, continue_token="not-a-token")


def test_a_watch_without_resource_version_starts_with_what_exists(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("before"), field_manager="t")
    events: list[backend.WatchEvent] = []
    cluster.watch(events.append, kind=CM_KIND)
    cluster.create(cm("after"), field_manager="t")
    assert seen(events) == [("ADDED", "before"), ("ADDED", "after")]


def test_a_watch_from_a_resource_version_replays_only_later_changes_in_order(
    cluster: store.MemoryCluster,
) -> None:
    cluster.create(cm("old"), field_manager="t")
    since = str(cluster.resource_version)
    cluster.update({**cm("old"), "data": {"k": "changed"}}, field_manager="t")
    cluster.create(cm("new"), field_manager="t")
    cluster.delete(refs.ObjectRef("", "ConfigMap", "a", "old"))
    events: list[backend.WatchEvent] = []
    cluster.watch(events.append, kind=CM_KIND, resource_version=since)
    assert seen(events) == [("MODIFIED", "old"), ("ADDED", "new"), ("DELETED", "old")]
    versions = [int(e.object["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions)


def test_a_resource_version_older_than_the_history_is_gone(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("x"), field_manager="t")
    old = str(cluster.resource_version - 1)
    cluster.compact()
    with pytest.raises(errors.Gone) as caught:
        cluster.watch(lambda e: None, kind=CM_KIND, resource_version=old)
    assert caught.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"too old resource version: {old} ({cluster.resource_version + 1})",
        "reason": "Expired",
        "code": 410,
    }


def test_the_history_is_bounded_like_etcd_compaction(cluster: store.MemoryCluster) -> None:
    start = str(cluster.resource_version)
    for i in range(60):
        cluster.create(cm(f"cm-{i}"), field_manager="t")
    with pytest.raises(errors.Gone):
        cluster.watch(lambda e: None, resource_version=start)
    recent: list[backend.WatchEvent] = []
    cluster.watch(recent.append, resource_version=str(cluster.resource_version - 10))
    assert len(recent) == 10


def test_a_resource_version_from_the_future_is_refused(cluster: store.MemoryCluster) -> None:
    with pytest.raises(watches.TooLargeResourceVersion, match="Too large resource version"):
        cluster.watch(lambda e: None, resource_version=str(cluster.resource_version + 100))


def test_watch_list_ends_its_initial_events_with_an_annotated_bookmark(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("x"), field_manager="t")
    events: list[backend.WatchEvent] = []
    cluster.watch(events.append, kind=CM_KIND, resource_version="0", send_initial_events=True, bookmarks=True)
    assert [e.type for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1].object == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {
            "resourceVersion": str(cluster.resource_version),
            "annotations": {"k8s.io/initial-events-end": "true"},
        },
    }


def test_objects_entering_and_leaving_a_selector_are_added_and_deleted(cluster: store.MemoryCluster) -> None:
    cluster.create(cm("x", app="web"), field_manager="t")
    events: list[backend.WatchEvent] = []
    cluster.watch(
        events.append, kind=CM_KIND, labels="app=web", resource_version=str(cluster.resource_version)
    )
    cluster.update(cm("x", app="api"), field_manager="t")
    cluster.update(cm("x", app="web"), field_manager="t")
    cluster.update({**cm("x", app="web"), "data": {"k": "v2"}}, field_manager="t")
    assert seen(events) == [("DELETED", "x"), ("ADDED", "x"), ("MODIFIED", "x")]


def test_a_stopped_watch_hears_nothing_more(cluster: store.MemoryCluster) -> None:
    events: list[backend.WatchEvent] = []
    stop = cluster.watch(events.append, kind=CM_KIND)
    stop()
    cluster.create(cm("x"), field_manager="t")
    assert events == []


@pytest.mark.parametrize("verb", ["create", "update", "merge_patch", "delete"])
def test_dry_run_writes_store_nothing_and_bump_nothing(cluster: store.MemoryCluster, verb: str) -> None:
    cluster.create(cm("x"), field_manager="t")
    before = (cluster.resource_version, cluster.list(CM_KIND))
    ref = refs.ObjectRef("", "ConfigMap", "a", "x")
    if verb == "create":
        result = cluster.create(cm("y"), field_manager="t", dry_run=True)
        assert result["metadata"]["name"] == "y"
    elif verb == "update":
        result = cluster.update({**cm("x"), "data": {"k": "dry"}}, field_manager="t", dry_run=True)
        assert result["data"] == {"k": "dry"}
    elif verb == "merge_patch":
        result = cluster.merge_patch(ref, {"data": {"k": "dry"}}, field_manager="t", dry_run=True)
        assert result["data"] == {"k": "dry"}
    else:
        cluster.delete(ref, dry_run=True)
    assert (cluster.resource_version, cluster.list(CM_KIND)) == before


def test_merge_patch_merges_maps_and_null_deletes(cluster: store.MemoryCluster) -> None:
    cluster.create({**cm("x"), "data": {"a": "1", "b": "2"}}, field_manager="t")
    patched = cluster.merge_patch(
        refs.ObjectRef("", "ConfigMap", "a", "x"),
        {"data": {"a": None, "c": "3"}},
        field_manager="kubectl-patch",
    )
    assert patched["data"] == {"b": "2", "c": "3"}
    assert [m["manager"] for m in patched["metadata"]["managedFields"]] == ["t", "kubectl-patch"]


def test_objects_over_etcds_limit_are_refused_and_nothing_changes(cluster: store.MemoryCluster) -> None:
    version = cluster.resource_version
    with pytest.raises(errors.ApiError, match="etcdserver: request is too large"):
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "big", "namespace": "a"},
                "spec": {"externalIPs": ["x" * 800_000, "y" * 800_000]},
            },
            field_manager="t",
        )
    assert cluster.resource_version == version
    assert cluster.list(refs.GroupKind("", "Service")) == []


def test_deleting_a_crd_deletes_its_objects_with_events(cluster: store.MemoryCluster) -> None:
    crd = widget_crd(selectableFields=[{"jsonPath": ".spec.color"}])
    cluster.create(crd, field_manager="t")
    widget = refs.GroupKind("example.com", "Widget")
    cluster.create(
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "a"},
            "spec": {"color": "red"},
        },
        field_manager="t",
    )
    assert len(cluster.list(widget, fields="spec.color=red")) == 1
    events: list[backend.WatchEvent] = []
    cluster.watch(events.append, kind=widget, resource_version=str(cluster.resource_version))
    cluster.delete(
        refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
    )
    assert seen(events) == [("DELETED", "w")]
    assert cluster.find_kind(widget) is None


def test_a_watch_that_asked_for_bookmarks_gets_them_with_the_current_version(
    cluster: store.MemoryCluster,
) -> None:
    events: list[backend.WatchEvent] = []
    quiet: list[backend.WatchEvent] = []
    sub = cluster.watch(
        events.append, kind=CM_KIND, resource_version=str(cluster.resource_version), bookmarks=True
    )
    other = cluster.watch(quiet.append, kind=CM_KIND, resource_version=str(cluster.resource_version))
    cluster.create(cm("x"), field_manager="t")
    assert isinstance(sub, watches.Subscription) and isinstance(other, watches.Subscription)
    sub.bookmark()
    other.bookmark()
    assert events[-1] == backend.WatchEvent(
        "BOOKMARK",
        {
            "kind": "ConfigMap",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(cluster.resource_version)},
        },
    )
    assert [e.type for e in quiet] == ["ADDED"]
