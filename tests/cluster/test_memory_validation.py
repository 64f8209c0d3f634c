"""Objects are checked against their schemas before they are stored."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors, validation
from gitops_sim.cluster import schema as schemas
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from tests.builders import memory_cluster, widget_crd

WIDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1},
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "url": {"type": "string", "pattern": "^(http|https|ssh)://.*$"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            },
        },
        "status": {
            "type": "object",
            "properties": {"observedGeneration": {"type": "integer", "default": -1}},
        },
    },
}


@pytest.fixture
def cluster() -> store.MemoryCluster:
    c = memory_cluster()
    c.create(widget_crd(schema={"openAPIV3Schema": WIDGET_SCHEMA}), field_manager="setup")
    return c


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": spec,
    }


def invalid(cluster: store.MemoryCluster, obj: dict[str, Any]) -> errors.Invalid:
    with pytest.raises(errors.Invalid) as caught:
        cluster.create(obj, field_manager="t")
    return caught.value


def test_defaults_are_filled_in_and_unknown_fields_pruned(cluster: store.MemoryCluster) -> None:
    created = cluster.create(widget(size=2, colour="typo", free={"any": {"thing": 1}}), field_manager="t")
    assert created["spec"] == {"size": 2, "color": "red", "free": {"any": {"thing": 1}}}


def test_unknown_fields_are_warnings_by_default_and_errors_when_strict(cluster: store.MemoryCluster) -> None:
    warnings: list[str] = []
    cluster.create(widget(size=2, colour="typo"), field_manager="t", warnings=warnings)
    assert warnings == ['unknown field "spec.colour"']
    obj = widget(size=2, colour="typo")
    obj["metadata"]["name"] = "strict"
    with pytest.raises(errors.BadRequest) as caught:
        cluster.create(obj, field_manager="kubectl", field_validation="Strict")
    assert caught.value.message == (
        'Widget in version "v1" cannot be handled as a Widget: '
        'strict decoding error: unknown field "spec.colour"'
    )


@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        pytest.param({}, ("FieldValueRequired", "spec.size", "Required value"), id="required"),
        pytest.param(
            {"size": "two"},
            (
                "FieldValueTypeInvalid",
                "spec.size",
                'Invalid value: "string": spec.size in body must be of type integer: "string"',
            ),
            id="type",
        ),
        pytest.param(
            {"size": 0},
            (
                "FieldValueInvalid",
                "spec.size",
                "Invalid value: 0: spec.size in body should be greater than or equal to 1",
            ),
            id="minimum",
        ),
        pytest.param(
            {"size": 1, "color": "green"},
            (
                "FieldValueNotSupported",
                "spec.color",
                'Unsupported value: "green": supported values: "red", "blue"',
            ),
            id="enum",
        ),
        pytest.param(
            {"size": 1, "url": "ftp://x"},
            (
                "FieldValueInvalid",
                "spec.url",
                "Invalid value: \"ftp://x\": spec.url in body should match '^(http|https|ssh)://.*$'",
            ),
            id="pattern",
        ),
    ],
)
def test_schema_violations_are_invalid_with_causes(
    cluster: store.MemoryCluster, spec: dict[str, Any], cause: tuple[str, str, str]
) -> None:
    error = invalid(cluster, widget(**spec))
    reason, field, detail = cause
    assert error.message == f'Widget.example.com "w" is invalid: {field}: {detail}'
    assert error.status()["details"] == {
        "name": "w",
        "group": "example.com",
        "kind": "Widget",
        "causes": [{"reason": reason, "message": detail, "field": field}],
    }
    assert error.status()["code"] == 422


def test_several_violations_are_listed_in_brackets(cluster: store.MemoryCluster) -> None:
    error = invalid(cluster, widget(size=0, color="green"))
    assert error.message.startswith('Widget.example.com "w" is invalid: [spec.size: Invalid value: 0')
    assert len(error.status()["details"]["causes"]) == 2


def test_nothing_is_stored_when_validation_fails(cluster: store.MemoryCluster) -> None:
    version = cluster.resource_version
    invalid(cluster, widget())
    assert cluster.resource_version == version
    assert cluster.list(refs.GroupKind("example.com", "Widget")) == []


def test_built_in_kinds_are_checked_against_their_openapi_schema(cluster: store.MemoryCluster) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [{"image": "nginx"}]}}},
    }
    error = invalid(cluster, deployment)
    fields = [c["field"] for c in error.status()["details"]["causes"]]
    assert fields == ["spec.template.spec.containers[0].name", "spec.selector"]
    assert error.message.startswith('Deployment.apps "d" is invalid: [')


def test_a_core_kind_is_named_without_a_group(cluster: store.MemoryCluster) -> None:
    error = invalid(
        cluster,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "c", "namespace": "default"},
            "spec": {"clusterIP": 5},
        },
    )
    assert error.message == (
        'Service "c" is invalid: spec.clusterIP: Invalid value: "integer": spec.clusterIP in body must be '
        'of type string: "integer"'
    )


def test_a_set_list_holding_an_item_twice_is_refused(cluster: store.MemoryCluster) -> None:
    assert str(invalid(cluster, widget(size=1, tags=["a", "b", "a"]))) == (
        'Widget.example.com "w" is invalid: spec.tags[2]: Duplicate value: "a"'
    )


def _widget_schema_node() -> schemas.Node:
    return schemas.Node(WIDGET_SCHEMA, {})


def test_an_update_reuses_the_stored_form_of_what_it_leaves_unchanged() -> None:
    stored = {"spec": {"size": 2, "labels": {"a": "b"}, "tags": ["x"]}, "status": {"observedGeneration": 1}}
    update = {"spec": {"size": 2, "labels": {"a": "b"}, "tags": ["x"]}, "status": {"observedGeneration": 2}}
    checked, report = validation.check(
        update, _widget_schema_node(), custom=True, copy=True, old=stored, reuse_unchanged=True
    )
    assert checked["spec"] is stored["spec"]  # equal to what was stored: not walked again
    assert checked["status"] == {"observedGeneration": 2} and checked["status"] is not stored["status"]
    assert not report.errors


def test_a_changed_field_beside_unchanged_ones_is_still_checked() -> None:
    stored = {"spec": {"size": 2, "labels": {"a": "b"}}}
    update = {"spec": {"size": 0, "labels": {"a": "b"}}}
    _checked, report = validation.check(
        update, _widget_schema_node(), custom=True, copy=True, old=stored, reuse_unchanged=True
    )
    assert [e.field for e in report.errors] == ["spec.size"]


def test_an_update_sending_true_where_an_unchanged_integer_is_stored_is_refused(
    cluster: store.MemoryCluster,
) -> None:
    cluster.create({**widget(size=2), "status": {"observedGeneration": 1}}, field_manager="t")
    with pytest.raises(errors.Invalid) as caught:
        cluster.update({**widget(size=2), "status": {"observedGeneration": True}}, field_manager="t")
    assert [c["field"] for c in caught.value.details["causes"]] == ["status.observedGeneration"]


def test_after_its_crd_gains_a_default_an_objects_next_update_fills_it_in() -> None:
    plain: dict[str, Any] = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"size": {"type": "integer"}, "color": {"type": "string"}},
            },
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
        },
    }
    cluster = memory_cluster()
    cluster.create(widget_crd(schema={"openAPIV3Schema": plain}), field_manager="setup")
    cluster.create(widget(size=2), field_manager="t")
    plain["properties"]["spec"]["properties"]["color"]["default"] = "red"
    crd = widget_crd(schema={"openAPIV3Schema": plain})
    cluster.apply(crd, field_manager="setup", force=True)
    updated = cluster.update({**widget(size=2), "status": {"phase": "Ready"}}, field_manager="t")
    assert updated["spec"] == {"size": 2, "color": "red"}
