"""What the store keeps is plain JSON: `str`/`int` subclasses (the controllers' `StrEnum` reasons)
are checked by their JSON type and stored as `str` and `int` (issue 12, item 3)."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import conditions, refs
from tests.builders import memory_cluster

# A strict status schema, shaped as Flux's CRDs write their conditions (metav1.Condition): an
# enum-free string `reason`, an integer `observedGeneration`.
CONDITION = {
    "type": "object",
    "required": ["type", "status", "reason", "message", "lastTransitionTime"],
    "properties": {
        "type": {"type": "string", "maxLength": 316},
        "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
        "reason": {"type": "string", "maxLength": 1024, "minLength": 1},
        "message": {"type": "string", "maxLength": 32768},
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
    },
}
SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {"free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        },
        "status": {
            "type": "object",
            "properties": {
                "observedGeneration": {"type": "integer", "format": "int64"},
                "conditions": {"type": "array", "items": CONDITION},
            },
        },
    },
}
REF = refs.ObjectRef("example.com", "Gadget", "default", "g")


class Level(enum.IntEnum):
    HIGH = 3


def crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Gadget", "plural": "gadgets"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": SCHEMA},
                }
            ],
        },
    }


@pytest.fixture
def cluster() -> store.MemoryCluster:
    c = memory_cluster()
    c.create(crd(), field_manager="setup")
    c.create(
        {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": "default"}},
        field_manager="setup",
    )
    return c


def ready(reason: str, generation: int = 1) -> dict[str, Any]:
    return {
        "type": conditions.READY,
        "status": conditions.Status.TRUE,
        "reason": reason,
        "message": "done",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": generation,
    }


def test_a_status_write_whose_reason_is_a_str_enum_passes_a_strict_schema_and_is_stored_as_str(
    cluster: store.MemoryCluster,
) -> None:
    obj = cluster.get(REF)
    obj["status"] = {"conditions": [ready(conditions.Reason.SUCCEEDED)]}
    written = cluster.update(obj, field_manager="gotk-test", subresource="status")
    stored = cluster.read(REF)["status"]["conditions"][0]
    assert written["status"]["conditions"][0]["reason"] == "Succeeded"
    assert type(stored["reason"]) is str
    assert type(stored["status"]) is str


def test_an_int_enum_is_checked_as_an_integer_and_stored_as_int(cluster: store.MemoryCluster) -> None:
    obj = cluster.get(REF)
    obj["status"] = {"observedGeneration": Level.HIGH}
    cluster.update(obj, field_manager="gotk-test", subresource="status")
    stored = cluster.read(REF)["status"]["observedGeneration"]
    assert stored == 3
    assert type(stored) is int


def test_a_bool_is_never_taken_for_an_integer(cluster: store.MemoryCluster) -> None:
    obj = cluster.get(REF)
    obj["status"] = {"observedGeneration": True}
    with pytest.raises(errors.Invalid) as caught:
        cluster.update(obj, field_manager="gotk-test", subresource="status")
    assert caught.value.message == (
        'Gadget.example.com "g" is invalid: status.observedGeneration: Invalid value: "boolean": '
        'status.observedGeneration in body must be of type integer: "boolean"'
    )


def test_str_enums_in_free_form_fields_are_stored_as_str_on_create_update_patch_and_apply(
    cluster: store.MemoryCluster,
) -> None:
    def spec(value: Any) -> dict[str, Any]:
        return {
            "apiVersion": "example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "free", "namespace": "default"},
            "spec": {"free": {"list": [value], "key": value}},
        }

    free = refs.ObjectRef("example.com", "Gadget", "default", "free")

    def kept() -> list[type]:
        stored = cluster.read(free)["spec"]["free"]
        return [type(stored["list"][0]), type(stored["key"])]

    cluster.create(spec(conditions.Reason.SUCCEEDED), field_manager="t")
    assert kept() == [str, str]
    cluster.update(spec(conditions.Reason.FAILED), field_manager="t")
    assert kept() == [str, str]
    cluster.merge_patch(free, {"spec": {"free": {"key": Level.HIGH}}}, field_manager="t")
    assert [type(cluster.read(free)["spec"]["free"]["key"])] == [int]
    cluster.apply(spec(conditions.Reason.SUCCEEDED), field_manager="a", force=True)
    assert kept() == [str, str]


def test_str_enums_in_a_kind_checked_by_its_builtin_schema_are_stored_as_str() -> None:
    cluster = memory_cluster()
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default", "labels": {"reason": conditions.Reason.FAILED}},
            "data": {"reason": conditions.Reason.SUCCEEDED},
        },
        field_manager="t",
    )
    stored = cluster.read(refs.ObjectRef("", "ConfigMap", "default", "c"))
    assert type(stored["data"]["reason"]) is str
    assert type(stored["metadata"]["labels"]["reason"]) is str
