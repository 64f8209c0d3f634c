from __future__ import annotations

import pytest

from gitops_sim.model import objects


@pytest.mark.parametrize(
    ("text", "path"),
    [
        pytest.param("spec.replicas", ("spec", "replicas"), id="dotted"),
        pytest.param(
            'metadata.labels["app.kubernetes.io/name"]',
            ("metadata", "labels", "app.kubernetes.io/name"),
            id="quoted-key",
        ),
        pytest.param(
            "spec.template.spec.containers[0].image",
            ("spec", "template", "spec", "containers", 0, "image"),
            id="list-index",
        ),
    ],
)
def test_parses_field_paths(text: str, path: tuple[objects.PathSegment, ...]) -> None:
    assert objects.parse_path(text) == path


def test_set_path_creates_missing_maps() -> None:
    obj: objects.RawObject = {"metadata": {"name": "x"}}
    objects.set_path(obj, ("metadata", "labels", "owner"), "alice")
    assert obj == {"metadata": {"name": "x", "labels": {"owner": "alice"}}}


def test_get_path_reports_missing_fields_distinctly_from_null() -> None:
    obj: objects.RawObject = {"spec": {"a": None}}
    assert objects.get_path(obj, ("spec", "a")) is None
    assert objects.get_path(obj, ("spec", "b")) is objects.MISSING


def test_partial_match_ignores_extra_keys_but_not_list_lengths() -> None:
    assert objects.is_subset({"a": 1}, {"a": 1, "b": 2})
    assert not objects.is_subset([{"a": 1}], [{"a": 1}, {"a": 2}])
    assert not objects.is_subset({"a": {"b": 1}}, {"a": {"b": 2}})


def test_inventory_ids_follow_cli_utils() -> None:
    from gitops_sim.model import refs

    assert (
        refs.ObjectRef("apps", "Deployment", "default", "podinfo").inventory_id
        == "default_podinfo_apps_Deployment"
    )
    assert refs.ObjectRef("", "Namespace", "", "apps").inventory_id == "_apps__Namespace"
    assert refs.ObjectRef("rbac.authorization.k8s.io", "ClusterRole", "", "system:x").inventory_id == (
        "_system__x_rbac.authorization.k8s.io_ClusterRole"
    )
