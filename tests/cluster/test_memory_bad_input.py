"""Bad requests get the real Status and leave the store as it was."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from tests.builders import memory_cluster


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return memory_cluster()


def cm(**meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default", **meta},
    }


@pytest.mark.parametrize(
    ("obj", "code", "message"),
    [
        pytest.param(
            {"apiVersion": "v1", "metadata": {"name": "c"}},
            400,
            "Object 'Kind' is missing in the request body",
            id="no-kind",
        ),
        pytest.param(
            {"kind": "ConfigMap", "metadata": {"name": "c"}},
            400,
            "Object 'apiVersion' is missing in the request body",
            id="no-api-version",
        ),
        pytest.param(
            {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "c"}},
            404,
            'no matches for kind "Widget" in version "v1"',
            id="unknown-kind",
        ),
        pytest.param(
            cm(name="Bad_Name"),
            422,
            'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value',
            id="not-dns-1123",
        ),
        pytest.param(cm(name=""), 422, "metadata.name: Required value", id="no-name"),
        pytest.param(
            cm(resourceVersion="5"),
            400,
            "resourceVersion should not be set on objects to be created",
            id="rv-on-create",
        ),
        pytest.param(
            {**cm(), "data": {"big": "x" * 1_600_000}},
            422,
            'ConfigMap "c" is invalid: []: Too long: must have at most 1048576 bytes',
            id="oversized-configmap",
        ),
        pytest.param(
            {
                **cm(),
                "kind": "Secret",
                "metadata": {"name": "c", "namespace": "default", "annotations": {"a": "x" * 1_600_000}},
            },
            422,
            'Secret "c" is invalid: metadata.annotations: Too long: must have at most 262144 bytes',
            id="oversized-annotations",
        ),
        pytest.param(
            {**cm(), "data": ["not", "a", "map"]},
            400,
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array '
            "into Go struct field ConfigMap.data of type map[string]string",
            id="wrong-type",
        ),
    ],
)
def test_bad_objects_are_refused_with_the_right_status(
    cluster: store.MemoryCluster, obj: dict[str, Any], code: int, message: str
) -> None:
    version = cluster.resource_version
    with pytest.raises(errors.ApiError) as caught:
        cluster.create(obj, field_manager="t")
    status = caught.value.status()
    assert status["code"] == code
    assert message in status["message"]
    assert status["kind"] == "Status"
    assert cluster.resource_version == version
    assert cluster.list(refs.GroupKind("", "ConfigMap")) == []


def test_a_json_patch_on_a_missing_path_is_invalid_and_changes_nothing(cluster: store.MemoryCluster) -> None:
    created = cluster.create(cm(), field_manager="t")
    with pytest.raises(errors.Invalid):
        cluster.json_patch(
            refs.ObjectRef("", "ConfigMap", "default", "c"),
            [{"op": "replace", "path": "/data/missing", "value": "x"}],
            field_manager="t",
        )
    assert cluster.get(refs.ObjectRef("", "ConfigMap", "default", "c")) == created


def test_an_update_of_a_missing_object_is_not_found(cluster: store.MemoryCluster) -> None:
    with pytest.raises(errors.NotFound, match='configmaps "c" not found'):
        cluster.update(cm(), field_manager="t")
