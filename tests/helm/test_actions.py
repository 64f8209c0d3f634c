"""Helm's release actions in phases on a MemoryCluster: what storage holds, what the cluster holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.helm import actions, render, storage
from gitops_sim.model import objects, refs
from tests.builders import memory_cluster

NS = "default"
T0, T1, T2, T3 = (f"2026-01-01T00:0{i}:00Z" for i in range(4))

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: '1.0'\n",
    "values.yaml": "app: web\nservice: true\nkeep: false\n",
    "templates/app.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  selector:\n    matchLabels: {app: {{ .Values.app }}}\n"
        "  template:\n    metadata:\n      labels: {app: {{ .Values.app }}}\n"
        "    spec:\n      containers: [{name: app, image: nginx}]\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
        "data: {revision: '{{ .Release.Revision }}'}\n"
    ),
    "templates/svc.yaml": (
        "{{- if .Values.service }}\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  {{- if .Values.keep }}\n  annotations: {helm.sh/resource-policy: keep}\n  {{- end }}\n"
        "spec:\n  ports: [{port: 80}]\n{{- end }}\n"
    ),
    "crds/widget.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n"
        "  names: {kind: Widget, plural: widgets}\n"
        "  versions: [{name: v1, served: true, storage: true}]\n"
    ),
}

DEPLOYMENT = refs.ObjectRef("apps", "Deployment", NS, "web")
SERVICE = refs.ObjectRef("", "Service", NS, "web")
CONFIGMAP = refs.ObjectRef("", "ConfigMap", NS, "web-config")
CRD = refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")


class Harness:
    """A chart folder, a renderer and a cluster: renders and runs the actions' phases."""

    def __init__(self, root: Path) -> None:
        self.chart = root / "demo"
        for name, text in CHART.items():
            (self.chart / name).parent.mkdir(parents=True, exist_ok=True)
            (self.chart / name).write_text(text)
        self.renderer = render.Renderer(root / "scratch")
        self.cluster: store.MemoryCluster = memory_cluster(NS)

    def render(self, values: dict[str, Any], revision: int) -> render.Rendered:
        info = render.ReleaseInfo("web", NS, revision=revision, is_upgrade=revision > 1)
        return self.renderer.render(self.chart, values, info, render.PostRender("web", "flux-system"))

    def loaded(self) -> Any:
        import helm_python as helm

        return helm.Chart.load(str(self.chart))

    def install(self, values: dict[str, Any] | None = None, **options: Any) -> storage.Release:
        pending = actions.begin_install(
            self.cluster,
            storage_namespace=NS,
            name="web",
            namespace=NS,
            chart=self.loaded(),
            config=values or {},
            rendered=self.render(values or {}, 1),
            now=T0,
            owner_name="web",
            owner_namespace="flux-system",
            **options,
        )
        actions.apply_manifest(self.cluster, pending)
        return actions.finish(self.cluster, pending, succeeded=True, now=T0)

    def begin_upgrade(self, values: dict[str, Any], now: str, max_history: int = 5) -> actions.Pending:
        last, _ = actions.upgrade_base(self.history(), "web")
        return actions.begin_upgrade(
            self.cluster,
            storage_namespace=NS,
            name="web",
            chart=self.loaded(),
            config=values,
            rendered=self.render(values, last.version + 1),
            now=now,
            max_history=max_history,
            owner_name="web",
            owner_namespace="flux-system",
        )

    def upgrade(self, values: dict[str, Any], now: str, max_history: int = 5) -> storage.Release:
        pending = self.begin_upgrade(values, now, max_history)
        actions.apply_manifest(self.cluster, pending)
        return actions.finish(self.cluster, pending, succeeded=True, now=now)

    def history(self) -> list[storage.Release]:
        return storage.releases(self.cluster, NS, "web")

    def summary(self) -> list[tuple[int, str, str]]:
        return [(r.version, r.info.status, r.info.description) for r in self.history()]

    def exists(self, ref: refs.ObjectRef) -> bool:
        try:
            self.cluster.get(ref)
        except errors.NotFound:
            return False
        return True


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_begin_install_stores_revision_one_pending_install(h: Harness) -> None:
    actions.begin_install(
        h.cluster,
        storage_namespace=NS,
        name="web",
        namespace=NS,
        chart=h.loaded(),
        config={},
        rendered=h.render({}, 1),
        now=T0,
        owner_name="web",
        owner_namespace="flux-system",
    )
    assert h.summary() == [(1, "pending-install", "Initial install underway")]
    assert not h.exists(DEPLOYMENT)


def test_install_applies_the_manifest_and_records_it_deployed(h: Harness) -> None:
    rel = h.install({"app": "web"})
    assert h.summary() == [(1, "deployed", "Install complete")]
    assert (rel.chart.name, rel.chart.version, dict(rel.config)) == ("demo", "1.0.0", {"app": "web"})
    live = h.cluster.get(DEPLOYMENT)
    assert objects.labels_of(live)["app.kubernetes.io/managed-by"] == "Helm"
    assert {k: v for k, v in objects.annotations_of(live).items() if k.startswith("meta.helm.sh/")} == {
        "meta.helm.sh/release-name": "web",
        "meta.helm.sh/release-namespace": NS,
    }
    assert [e["manager"] for e in live["metadata"]["managedFields"]] == ["helm-controller"]


def test_install_applies_chart_crds_with_the_helmrelease_origin_labels(h: Harness) -> None:
    h.install()
    labels = objects.labels_of(h.cluster.get(CRD))
    assert labels == {"helm.toolkit.fluxcd.io/name": "web", "helm.toolkit.fluxcd.io/namespace": "flux-system"}


def test_install_with_crds_skip_leaves_the_crds_out(h: Harness) -> None:
    h.install(crds="Skip")
    assert not h.exists(CRD)


def test_install_is_refused_while_the_name_is_in_use(h: Harness) -> None:
    h.install()
    with pytest.raises(actions.ActionError) as caught:
        h.install()
    assert caught.value.message == "release name check failed: cannot reuse a name that is still in use"


def test_install_without_take_ownership_refuses_an_object_helm_does_not_own(h: Harness) -> None:
    h.cluster.create(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NS}, "spec": {}},
        field_manager="kubectl",
    )
    with pytest.raises(actions.ActionError) as caught:
        h.install(take_ownership=False)
    assert caught.value.message == (
        'unable to continue with install: Service "web" in namespace "default" exists and cannot be '
        "imported into the current release: invalid ownership metadata; label validation error: "
        'missing key "app.kubernetes.io/managed-by": must be set to "Helm"; annotation validation '
        'error: missing key "meta.helm.sh/release-name": must be set to "web"; annotation validation '
        'error: missing key "meta.helm.sh/release-namespace": must be set to "default"'
    )
    assert h.summary() == []


def test_upgrade_supersedes_the_deployed_release(h: Harness) -> None:
    h.install()
    h.upgrade({"service": True}, T1)
    assert h.summary() == [(1, "superseded", "Install complete"), (2, "deployed", "Upgrade complete")]
    assert h.cluster.get(CONFIGMAP)["data"] == {"revision": "2"}


def test_upgrade_deletes_objects_that_left_the_manifest(h: Harness) -> None:
    h.install()
    pending = h.begin_upgrade({"service": False}, T1)
    applied = actions.apply_manifest(h.cluster, pending)
    assert applied.deleted == (SERVICE,)
    assert not h.exists(SERVICE)


def test_upgrade_keeps_a_removed_object_with_the_keep_resource_policy(h: Harness) -> None:
    h.install({"keep": True})
    pending = h.begin_upgrade({"keep": True, "service": False}, T1)
    assert actions.apply_manifest(h.cluster, pending).deleted == ()
    assert h.exists(SERVICE)


def test_uninstall_keeps_an_object_with_the_keep_resource_policy(h: Harness) -> None:
    h.install({"keep": True})
    done = actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=False, now=T1)
    assert done.deleted == (DEPLOYMENT, CONFIGMAP)
    assert done.kept == "These resources were kept due to the resource policy:\n[Service] web\n"
    assert h.exists(SERVICE)


def test_upgrade_is_refused_while_a_release_is_pending(h: Harness) -> None:
    h.install()
    h.begin_upgrade({}, T1)
    with pytest.raises(actions.ActionError) as caught:
        h.begin_upgrade({}, T2)
    assert caught.value.message == "another operation (install/upgrade/rollback) is in progress"


def test_an_immutable_field_fails_the_upgrade_with_helms_message(h: Harness) -> None:
    h.install()
    pending = h.begin_upgrade({"app": "other"}, T1)
    with pytest.raises(actions.ApplyFailed) as caught:
        actions.apply_manifest(h.cluster, pending)
    assert caught.value.message == (
        'server-side apply failed for object default/web apps/v1, Kind=Deployment: Deployment.apps "web" '
        'is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":'
        '"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'
    )
    assert caught.value.description == f'Upgrade "web" failed: {caught.value.message}'
    actions.finish(h.cluster, pending, succeeded=False, now=T1, description=caught.value.description)
    assert h.summary() == [(1, "deployed", "Install complete"), (2, "failed", caught.value.description)]


def test_rollback_reapplies_the_target_and_supersedes_the_current_release(h: Harness) -> None:
    h.install()
    h.upgrade({"service": False}, T1)
    pending = actions.begin_rollback(
        h.cluster, storage_namespace=NS, name="web", version=1, now=T2, max_history=5
    )
    assert h.summary()[-1] == (3, "pending-rollback", "Rollback to 1")
    actions.apply_manifest(h.cluster, pending)
    actions.finish(h.cluster, pending, succeeded=True, now=T2)
    assert h.summary() == [
        (1, "superseded", "Install complete"),
        (2, "superseded", "Upgrade complete"),
        (3, "deployed", "Rollback to 1"),
    ]
    assert h.exists(SERVICE)
    assert h.cluster.get(CONFIGMAP)["data"] == {"revision": "1"}


def test_rollback_to_a_missing_version_is_refused(h: Harness) -> None:
    h.install()
    with pytest.raises(actions.ActionError) as caught:
        actions.begin_rollback(h.cluster, storage_namespace=NS, name="web", version=7, now=T1, max_history=5)
    assert caught.value.message == "release has no 7 version"


@pytest.mark.parametrize(
    ("max_history", "versions"),
    [
        pytest.param(2, [3, 4], id="two-kept"),
        pytest.param(3, [2, 3, 4], id="three-kept"),
        pytest.param(0, [1, 2, 3, 4], id="unlimited"),
    ],
)
def test_upgrade_prunes_history_to_max_history(h: Harness, max_history: int, versions: list[int]) -> None:
    h.install()
    for i, now in enumerate((T1, T2, T3)):
        h.upgrade({"app": "web", "n": i}, now, max_history)
    assert [r.version for r in h.history()] == versions


def test_uninstall_deletes_the_objects_and_purges_the_history(h: Harness) -> None:
    h.install()
    done = actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=False, now=T1)
    assert done.deleted == (SERVICE, DEPLOYMENT, CONFIGMAP)
    assert (done.release.info.status, done.release.info.description) == (
        "uninstalled",
        "Uninstallation complete",
    )
    assert h.summary() == []
    assert not any(h.exists(r) for r in (SERVICE, DEPLOYMENT, CONFIGMAP))


def test_uninstall_with_keep_history_records_the_release_uninstalled(h: Harness) -> None:
    h.install()
    actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=True, now=T1)
    assert h.summary() == [(1, "uninstalled", "Uninstallation complete")]
    assert h.history()[0].info.deleted == T1


def test_uninstall_of_an_uninstalled_release_with_keep_history_is_refused(h: Harness) -> None:
    h.install()
    actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=True, now=T1)
    with pytest.raises(actions.ActionError) as caught:
        actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=True, now=T2)
    assert caught.value.message == 'the release named "web" is already deleted'


def test_uninstall_records_deletion_in_progress_before_deleting(h: Harness) -> None:
    h.install()
    plan = actions.begin_uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=True, now=T1)
    assert isinstance(plan, actions.Uninstalling)
    actions.delete_release_objects(h.cluster, plan, now=T1)
    assert h.summary() == [(1, "uninstalling", "Deletion in progress (or silently failed)")]


def test_uninstall_of_an_unknown_release_is_not_found(h: Harness) -> None:
    with pytest.raises(actions.ReleaseNotFound) as caught:
        actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=False, now=T1)
    assert caught.value.message == "uninstall: Release not loaded: web: release: not found"


def test_unlock_marks_a_pending_release_failed(h: Harness) -> None:
    h.install()
    h.begin_upgrade({}, T1)
    unlocked = actions.unlock(h.cluster, storage_namespace=NS, name="web", now=T2)
    assert unlocked is not None
    assert h.summary() == [
        (1, "deployed", "Install complete"),
        (2, "failed", "Release unlocked from stale 'pending-upgrade' state"),
    ]


def test_unlock_leaves_a_release_that_is_not_pending_alone(h: Harness) -> None:
    h.install()
    assert actions.unlock(h.cluster, storage_namespace=NS, name="web", now=T1) is None
    assert h.summary() == [(1, "deployed", "Install complete")]


def test_storage_secrets_carry_helms_labels(h: Harness) -> None:
    h.install()
    secret = h.cluster.get(storage.secret_ref(NS, "web", 1))
    assert objects.labels_of(secret) == {
        "modifiedAt": "1767225600",
        "name": "web",
        "owner": "helm",
        "status": "deployed",
        "version": "1",
    }


def test_a_failed_rollback_apply_records_the_current_release_superseded(h: Harness) -> None:
    h.install()
    h.cluster.delete(DEPLOYMENT)
    h.upgrade({"app": "other"}, T1)
    pending = actions.begin_rollback(
        h.cluster, storage_namespace=NS, name="web", version=1, now=T2, max_history=5
    )
    with pytest.raises(actions.ApplyFailed) as caught:
        actions.apply_manifest(h.cluster, pending)
    assert caught.value.description == f'Rollback "web" failed: {caught.value.message}'
    assert h.summary() == [
        (1, "superseded", "Install complete"),
        (2, "superseded", "Upgrade complete"),
        (3, "failed", caught.value.description),
    ]


def test_install_with_replace_supersedes_an_uninstalled_release(h: Harness) -> None:
    h.install()
    actions.uninstall(h.cluster, storage_namespace=NS, name="web", keep_history=True, now=T1)
    pending = actions.begin_install(
        h.cluster,
        storage_namespace=NS,
        name="web",
        namespace=NS,
        chart=h.loaded(),
        config={},
        rendered=h.render({}, 1),
        now=T2,
        replace_release=True,
        owner_name="web",
        owner_namespace="flux-system",
    )
    assert pending.release.version == 2
    assert h.summary() == [
        (1, "superseded", "superseded by new release"),
        (2, "pending-install", "Initial install underway"),
    ]
