"""A CRD's CEL rules (`x-kubernetes-validations`) are enforced on writes, worded as v1.37 words them."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from tests.builders import memory_cluster, widget_crd

SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "has(self.a) != has(self.b)", "message": "exactly one of a or b must be set"},
                {"rule": "!has(self.c) || self.c.size() < 4"},
                {
                    "rule": "!has(self.d) || has(self.a)",
                    "message": "d needs a",
                    "fieldPath": ".d",
                    "reason": "FieldValueForbidden",
                },
                {"rule": "self.e.f == 1", "message": "e.f must be 1"},
            ],
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "string"},
                "c": {"type": "string"},
                "d": {"type": "string"},
                "e": {"type": "object", "properties": {"f": {"type": "integer"}}, "default": {"f": 1}},
                "name": {
                    "type": "string",
                    "x-kubernetes-validations": [
                        {"rule": "self == oldSelf", "message": "name is immutable"},
                        {"rule": "self.startsWith('w-')", "message": "must start with w-"},
                    ],
                },
            },
        }
    },
}


@pytest.fixture
def cluster() -> store.MemoryCluster:
    c = memory_cluster()
    c.create(widget_crd(schema={"openAPIV3Schema": SCHEMA}), field_manager="setup")
    return c


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": spec,
    }


def refused(cluster: store.MemoryCluster, obj: dict[str, Any]) -> str:
    with pytest.raises(errors.Invalid) as caught:
        cluster.create(obj, field_manager="t")
    return str(caught.value)


def test_an_object_rule_that_fails_is_an_invalid_value_without_the_object(
    cluster: store.MemoryCluster,
) -> None:
    assert refused(cluster, widget(a="x", b="y")) == (
        'Widget.example.com "w" is invalid: spec: Invalid value: exactly one of a or b must be set'
    )


def test_a_rule_without_a_message_reports_the_rule(cluster: store.MemoryCluster) -> None:
    assert refused(cluster, widget(a="x", c="long")) == (
        'Widget.example.com "w" is invalid: spec: Invalid value: '
        "failed rule: !has(self.c) || self.c.size() < 4"
    )


def test_a_rule_with_a_field_path_and_a_reason_reports_there_in_that_form(
    cluster: store.MemoryCluster,
) -> None:
    assert refused(cluster, widget(b="x", d="y")) == (
        'Widget.example.com "w" is invalid: spec.d: Forbidden: d needs a'
    )


def test_a_rule_on_a_string_shows_the_value(cluster: store.MemoryCluster) -> None:
    assert refused(cluster, widget(a="x", name="v")) == (
        'Widget.example.com "w" is invalid: spec.name: Invalid value: "v": must start with w-'
    )


def test_rules_see_defaulted_values(cluster: store.MemoryCluster) -> None:
    created = cluster.create(widget(a="x"), field_manager="t")
    assert created["spec"]["e"] == {"f": 1}


def test_every_failed_rule_is_listed(cluster: store.MemoryCluster) -> None:
    message = refused(cluster, widget(e={"f": 2}))
    assert message == (
        'Widget.example.com "w" is invalid: [spec: Invalid value: exactly one of a or b must be set, '
        "spec: Invalid value: e.f must be 1]"
    )


def test_a_rule_that_cannot_be_evaluated_is_an_error_naming_the_rule(cluster: store.MemoryCluster) -> None:
    assert refused(cluster, widget(a="x", e={})) == (
        'Widget.example.com "w" is invalid: spec: Invalid value: "object": '
        "no such key: f evaluating rule: e.f must be 1"
    )


def test_a_transition_rule_is_skipped_on_create_and_enforced_on_update(cluster: store.MemoryCluster) -> None:
    created = cluster.create(widget(a="x", name="w-1"), field_manager="t")
    changed = {**created, "spec": {**created["spec"], "name": "w-2"}}
    with pytest.raises(errors.Invalid) as caught:
        cluster.update(changed, field_manager="t")
    assert (
        str(caught.value)
        == 'Widget.example.com "w" is invalid: spec.name: Invalid value: "w-2": name is immutable'
    )


def test_a_value_an_update_leaves_unchanged_is_not_checked_again(cluster: store.MemoryCluster) -> None:
    created = cluster.create(widget(a="x", name="w-1"), field_manager="t")
    crd = cluster.get(
        refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
    )
    rules = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "name"
    ]
    rules["x-kubernetes-validations"].append({"rule": "self.size() > 5", "message": "name too short"})
    cluster.update(crd, field_manager="setup")
    relabelled = {**created, "metadata": {**created["metadata"], "labels": {"tier": "web"}}}
    assert cluster.update(relabelled, field_manager="t")["metadata"]["labels"] == {"tier": "web"}
    with pytest.raises(errors.Invalid, match="name too short"):
        cluster.create(
            {**widget(a="x", name="w-2"), "metadata": {"name": "w2", "namespace": "default"}},
            field_manager="t",
        )


def test_after_a_blocking_schema_error_the_rules_are_not_run_and_a_note_says_so(
    cluster: store.MemoryCluster,
) -> None:
    assert refused(cluster, widget(a="x", b="y", e={"f": "one"})) == (
        'Widget.example.com "w" is invalid: [spec.e.f: Invalid value: "string": spec.e.f in body must be '
        'of type integer: "string", <nil>: Invalid value: null: some validation rules were not checked '
        "because the object was invalid; correct the existing errors to complete validation]"
    )


def test_after_its_crd_gains_a_rule_a_stored_list_item_breaks_the_objects_next_write_is_refused() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"items": {"type": "array", "items": {"type": "string"}}},
            }
        },
    }
    cluster = memory_cluster()
    cluster.create(widget_crd(schema={"openAPIV3Schema": schema}), field_manager="setup")
    cluster.create(widget(items=["long"]), field_manager="t")
    crd_ref = refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
    crd = cluster.get(crd_ref)
    items = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "items"
    ]
    items["items"]["x-kubernetes-validations"] = [{"rule": "self.size() < 3", "message": "item too long"}]
    cluster.update(crd, field_manager="setup")
    with pytest.raises(errors.Invalid) as caught:
        cluster.merge_patch(
            refs.ObjectRef("example.com", "Widget", "default", "w"),
            {"metadata": {"labels": {"tier": "web"}}},
            field_manager="t",
        )
    assert str(caught.value) == (
        'Widget.example.com "w" is invalid: spec.items[0]: Invalid value: "long": item too long'
    )
