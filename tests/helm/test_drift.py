"""Drift detection and correction of a Helm release, as helm-controller does it.

Behaviour and messages from helm-controller internal/action/diff.go, internal/diff/summarize.go,
internal/reconcile/correct_cluster_drift.go and atomic_release.go, and fluxcd/pkg ssa/jsondiff.
The release is "installed" by applying its objects as Helm would (field manager helm-controller,
Helm's ownership metadata); a `kubectl` edit is a merge patch by another manager.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.apply import changeset
from gitops_sim.cluster.memory import store
from gitops_sim.helm import drift
from gitops_sim.model import objects, refs
from gitops_sim.model.fluxapi import helm as helmapi
from gitops_sim.model.fluxapi import meta
from tests import builders

RELEASE = "apps/podinfo.v1"
DEPLOYMENT = refs.ObjectRef("apps", "Deployment", "apps", "podinfo")
CONFIGMAP = refs.ObjectRef("", "ConfigMap", "apps", "podinfo-config")


def manifest() -> list[dict[str, Any]]:
    """The release's manifest objects, as Helm rendered them (the ConfigMap without a namespace)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "podinfo-config", "labels": {"app": "podinfo"}},
            "data": {"color": "blue"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "podinfo", "namespace": "apps", "labels": {"app": "podinfo"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "podinfo"}},
                "template": {
                    "metadata": {"labels": {"app": "podinfo"}},
                    "spec": {
                        "containers": [{"name": "podinfo", "image": "ghcr.io/stefanprodan/podinfo:6.5.0"}]
                    },
                },
            },
        },
    ]


def installed() -> store.MemoryCluster:
    """A cluster where Helm installed the manifest (namespace apps)."""
    cluster = builders.memory_cluster("apps")
    for raw in manifest():
        obj = objects.deep_copy(raw)
        obj["metadata"].setdefault("namespace", "apps")
        obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "Helm"
        obj["metadata"]["annotations"] = {
            "meta.helm.sh/release-name": "podinfo",
            "meta.helm.sh/release-namespace": "apps",
        }
        cluster.apply(obj, field_manager="helm-controller", force=True)
    return cluster


def detect(cluster: store.MemoryCluster, *ignore: helmapi.IgnoreRule) -> drift.DriftReport:
    return drift.detect(cluster, manifest(), release_name="podinfo", release_namespace="apps", ignore=ignore)


def scale(cluster: store.MemoryCluster, replicas: int) -> None:
    cluster.merge_patch(DEPLOYMENT, {"spec": {"replicas": replicas}}, field_manager="kubectl-edit")


def test_a_release_as_installed_has_no_drift() -> None:
    report = detect(installed())

    assert [(d.resource_name, d.type) for d in report.diffs] == [
        ("ConfigMap/apps/podinfo-config", drift.DiffType.NONE),
        ("Deployment/apps/podinfo", drift.DiffType.NONE),
    ]
    assert not report.has_changes
    assert report.error() is None


def test_the_no_drift_message_is_fluxs() -> None:
    assert (drift.NO_DRIFT_DETECTED, drift.NO_DRIFT_MESSAGE) == (
        "NoDriftDetected",
        "No drift detected against the cluster state",
    )


def test_a_changed_field_is_drift_with_fluxs_message() -> None:
    cluster = installed()
    scale(cluster, 5)

    report = detect(cluster)

    assert report.has_changes
    assert report.message(RELEASE) == (
        "Cluster state of release apps/podinfo.v1 has drifted from the desired state:\n"
        "Deployment/apps/podinfo changed (0 additions, 1 changes, 0 removals)"
    )


def test_a_changed_field_is_reported_with_its_path_and_desired_value() -> None:
    cluster = installed()
    scale(cluster, 5)

    (changed,) = [d for d in detect(cluster).diffs if d.type is drift.DiffType.UPDATE]

    assert [op.as_json() for op in changed.patch] == [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    assert changed.paths == ("/spec/replicas",)


def test_the_log_summary_counts_removed_changed_and_excluded_objects() -> None:
    cluster = installed()
    scale(cluster, 5)

    assert (
        detect(cluster).log_message()
        == "detected changes in cluster state: removed: 0, changed: 1, excluded: 0"
    )


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(helmapi.IgnoreRule(paths=("/spec/replicas",)), id="no-target"),
        pytest.param(
            helmapi.IgnoreRule(paths=("/spec/replicas",), target=meta.Selector(kind="Deployment")),
            id="kind-target",
        ),
        pytest.param(
            helmapi.IgnoreRule(
                paths=("/spec/replicas",), target=meta.Selector(name="pod.*", namespace="apps")
            ),
            id="name-regex-target",
        ),
        pytest.param(
            helmapi.IgnoreRule(paths=("/spec/replicas",), target=meta.Selector(label_selector="app=podinfo")),
            id="label-selector-target",
        ),
        pytest.param(
            helmapi.IgnoreRule(paths=("",), target=meta.Selector(kind="Deployment")), id="root-path"
        ),
    ],
)
def test_an_ignored_path_is_not_drift(rule: helmapi.IgnoreRule) -> None:
    cluster = installed()
    scale(cluster, 5)

    assert not detect(cluster, rule).has_changes


def test_an_ignore_rule_whose_target_selects_other_objects_leaves_the_drift() -> None:
    cluster = installed()
    scale(cluster, 5)
    rule = helmapi.IgnoreRule(paths=("/spec/replicas",), target=meta.Selector(kind="ConfigMap"))

    assert (
        detect(cluster, rule).summary()
        == "Deployment/apps/podinfo changed (0 additions, 1 changes, 0 removals)"
    )


def test_a_root_ignore_path_excludes_the_object() -> None:
    cluster = installed()
    rule = helmapi.IgnoreRule(paths=("",), target=meta.Selector(kind="Deployment"))

    assert detect(cluster, rule).summary() == "Deployment/apps/podinfo excluded"


def test_an_object_annotated_drift_detection_disabled_is_excluded() -> None:
    cluster = installed()
    cluster.merge_patch(
        DEPLOYMENT,
        {
            "metadata": {"annotations": {"helm.toolkit.fluxcd.io/driftDetection": "disabled"}},
            "spec": {"replicas": 5},
        },
        field_manager="kubectl-edit",
    )

    report = detect(cluster)

    assert (report.has_changes, report.brief()) == (False, "removed: 0, changed: 0, excluded: 1")


def test_a_deleted_object_is_reported_removed() -> None:
    cluster = installed()
    cluster.delete(CONFIGMAP)

    report = detect(cluster)

    assert [(d.resource_name, d.type) for d in report.diffs] == [
        ("ConfigMap/apps/podinfo-config", drift.DiffType.CREATE),
        ("Deployment/apps/podinfo", drift.DiffType.NONE),
    ]
    assert report.message(RELEASE) == (
        "Cluster state of release apps/podinfo.v1 has drifted from the desired state:\n"
        "ConfigMap/apps/podinfo-config removed"
    )


def test_a_label_another_manager_added_is_not_drift() -> None:
    cluster = installed()
    cluster.merge_patch(DEPLOYMENT, {"metadata": {"labels": {"team": "web"}}}, field_manager="kubectl-edit")

    assert not detect(cluster).has_changes


def test_a_label_of_the_release_removed_by_hand_is_drift() -> None:
    cluster = installed()
    cluster.merge_patch(DEPLOYMENT, {"metadata": {"labels": {"app": None}}}, field_manager="kubectl-edit")

    (changed,) = [d for d in detect(cluster).diffs if d.type is drift.DiffType.UPDATE]

    assert [op.as_json() for op in changed.patch] == [
        {"op": "add", "path": "/metadata/labels/app", "value": "podinfo"}
    ]


def test_correct_restores_a_deleted_and_a_changed_object() -> None:
    cluster = installed()
    cluster.delete(CONFIGMAP)
    scale(cluster, 5)

    correction = drift.correct(cluster, detect(cluster))

    assert cluster.get(DEPLOYMENT)["spec"]["replicas"] == 2
    assert cluster.get(CONFIGMAP)["data"] == {"color": "blue"}
    assert not detect(cluster).has_changes
    assert correction.event(RELEASE) == drift.Event(
        "Normal",
        "DriftCorrected",
        "Cluster state of release apps/podinfo.v1 has been corrected:\n"
        "ConfigMap/apps/podinfo-config created\n"
        "Deployment/apps/podinfo configured",
    )


def test_correct_does_nothing_and_sends_no_event_without_drift() -> None:
    cluster = installed()

    correction = drift.correct(cluster, detect(cluster))

    assert (correction.changes, correction.event(RELEASE)) == ((), None)


def test_a_failed_correction_lists_the_errors_and_the_successful_corrections() -> None:
    done = changeset.Entry(CONFIGMAP, "v1", changeset.Action.CREATED)
    correction = drift.Correction((done,), ("Deployment/apps/podinfo patch failure: boom",))

    assert correction.event(RELEASE) == drift.Event(
        "Warning",
        "DriftCorrectionFailed",
        "Failed to partially correct cluster state of release apps/podinfo.v1:\n"
        "Deployment/apps/podinfo patch failure: boom\n\n"
        "Successful corrections:\n"
        "ConfigMap/apps/podinfo-config created",
    )


def test_a_kind_the_cluster_does_not_serve_is_an_error_not_a_diff() -> None:
    cluster = installed()
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}

    report = drift.detect(cluster, [widget], release_name="podinfo", release_namespace="apps")

    assert (report.diffs, len(report.errors)) == ((), 1)
    assert report.errors[0].startswith("failed to determine if Widget is namespace scoped: ")


@pytest.mark.parametrize(
    ("src", "tgt", "patch"),
    [
        pytest.param({"a": 1}, {"a": 1}, [], id="equal"),
        pytest.param(
            {"a": 1, "b": 2}, {"a": 2, "b": 2}, [{"op": "replace", "path": "/a", "value": 2}], id="scalar"
        ),
        pytest.param(
            {"a": True}, {"a": 1}, [{"op": "replace", "path": "/a", "value": 1}], id="bool-is-not-a-number"
        ),
        pytest.param({"a/b": 1}, {}, [{"op": "remove", "path": "/a~1b"}], id="escaped-key-removed"),
        pytest.param(
            {"l": ["x" * 20, "y" * 20, "z" * 20, "w" * 20]},
            {"l": ["x" * 20, "y" * 20]},
            [{"op": "remove", "path": "/l/2"}, {"op": "remove", "path": "/l/2"}],
            id="array-shortened",
        ),
        pytest.param(
            {"l": [1, 2, 3, 4, 5, 6]},
            {"l": [1, 2, 3, 4, 5, 6, 7]},
            [{"op": "add", "path": "/l/-", "value": 7}],
            id="array-appended",
        ),
        pytest.param(
            {"l": [1, 2]},
            {"l": [3, 4]},
            [{"op": "replace", "path": "/l", "value": [3, 4]}],
            id="rationalized-to-one-replace",
        ),
    ],
)
def test_compare_writes_jsondiffs_rationalized_patch(src: Any, tgt: Any, patch: list[dict[str, Any]]) -> None:
    assert [op.as_json() for op in drift.compare(src, tgt)] == patch
