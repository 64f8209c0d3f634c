"""HelmRelease: charts released with the Helm v4 engine as helm-controller releases them, in virtual time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.helm import storage
from gitops_sim.model import objects, refs
from gitops_sim.testing import events_of, ready
from tests.builders import HELM_URL, helmrepository

HR = refs.ObjectRef("helm.toolkit.fluxcd.io", "HelmRelease", "apps", "web")
CHART_OBJ = refs.ObjectRef("source.toolkit.fluxcd.io", "HelmChart", "flux-system", "apps-web")
DEPLOYMENT = refs.ObjectRef("apps", "Deployment", "apps", "web")
CONFIGMAP = refs.ObjectRef("", "ConfigMap", "apps", "web-settings")
TEST_POD = refs.ObjectRef("", "Pod", "apps", "web-test")
IMAGE = "ghcr.io/acme/web"

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: {version}\nappVersion: '{version}'\n",
    "values.yaml": "tag: '1.0'\nmessage: hello\ntestImage: busybox\n",
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  selector:\n    matchLabels: {app: web}\n"
        "  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers: [{name: web, image: 'ghcr.io/acme/web:{{ .Values.tag }}'}]\n"
    ),
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    ),
    "templates/tests/test.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n"
        "  annotations: {helm.sh/hook: test}\n"
        "spec:\n  restartPolicy: Never\n  containers: [{name: test, image: '{{ .Values.testImage }}'}]\n"
    ),
}


def publish(sim: simulation.Simulation, version: str = "1.0.0", **extra: str) -> None:
    files = {k: v.replace("{version}", version) for k, v in CHART.items()} | extra
    sim.charts.publish(HELM_URL, "web", version, files)


def helmrelease(**spec: Any) -> dict[str, Any]:
    """HelmRelease apps/web: chart web 1.x of HelmRepository flux-system/stable every 10m."""
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {
            "interval": "10m",
            "chart": {
                "spec": {
                    "chart": "web",
                    "version": "1.x",
                    "interval": "1m",
                    "sourceRef": {"kind": "HelmRepository", "name": "stable", "namespace": "flux-system"},
                }
            },
            **spec,
        },
    }


def start(sim: simulation.Simulation, version: str = "1.0.0", **spec: Any) -> None:
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    publish(sim, version)
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmrelease(**spec), field_manager="kubectl")


def change(sim: simulation.Simulation, **spec: Any) -> None:
    sim.cluster.apply(helmrelease(**spec), field_manager="kubectl")


def upgrade_to_a_tag_that_never_gets_ready(sim: simulation.Simulation, spec: dict[str, Any]) -> None:
    """Install with `spec` (ready at t=5.5s), then at t=1m upgrade to image tag 2.0, whose Pods
    never become ready."""
    start(sim, **spec)
    sim.advance(60_000)
    sim.images.set_fault(f"{IMAGE}:2.0", "never-ready")
    change(sim, values={"tag": "2.0"}, **spec)


def status(sim: simulation.Simulation) -> dict[str, Any]:
    result: dict[str, Any] = sim.cluster.get(HR)["status"]
    return result


def condition(sim: simulation.Simulation, ctype: str) -> dict[str, str] | None:
    for cond in status(sim).get("conditions") or []:
        if cond["type"] == ctype:
            return {k: cond[k] for k in ("status", "reason", "message")}
    return None


def history(sim: simulation.Simulation) -> list[tuple[int, str, str | None]]:
    return [(s["version"], s["status"], s.get("action")) for s in status(sim).get("history") or []]


def releases(sim: simulation.Simulation) -> list[tuple[int, str, str]]:
    return [
        (r.version, r.info.status, r.info.description) for r in storage.releases(sim.cluster, "apps", "web")
    ]


def reasons(sim: simulation.Simulation) -> list[tuple[str, str]]:
    return [(e.type, e.reason) for e in events_of(sim, HR)]


def exists(sim: simulation.Simulation, ref: refs.ObjectRef) -> bool:
    try:
        sim.cluster.get(ref)
    except errors.NotFound:
        return False
    return True


# --- install --------------------------------------------------------------------------------


def test_a_release_is_installed_from_a_helm_repository_through_its_helmchart(
    sim: simulation.Simulation,
) -> None:
    start(sim)
    sim.advance(60_000)

    assert ready(sim.cluster.get(HR)) == {
        "status": "True",
        "reason": "InstallSucceeded",
        "message": "Helm install succeeded for release apps/web.v1 with chart web@1.0.0",
    }
    assert condition(sim, "Released") == ready(sim.cluster.get(HR))
    assert status(sim)["helmChart"] == "flux-system/apps-web"
    assert sim.cluster.get(CHART_OBJ)["metadata"]["labels"] == {
        "helm.toolkit.fluxcd.io/name": "web",
        "helm.toolkit.fluxcd.io/namespace": "apps",
    }
    assert releases(sim) == [(1, "deployed", "Install complete")]
    assert history(sim) == [(1, "deployed", "install")]
    [(_, kind, reason, message)] = events_of(sim, HR)
    assert (kind, reason) == ("Normal", "InstallSucceeded")
    assert message == "Helm install succeeded for release apps/web.v1 with chart web@1.0.0"


def test_the_installed_objects_carry_helms_ownership_and_flux_s_origin_labels(
    sim: simulation.Simulation,
) -> None:
    start(sim)
    sim.advance(60_000)

    meta = sim.cluster.get(DEPLOYMENT)["metadata"]
    assert meta["labels"] == {
        "app.kubernetes.io/managed-by": "Helm",
        "helm.toolkit.fluxcd.io/name": "web",
        "helm.toolkit.fluxcd.io/namespace": "apps",
    }
    assert meta["annotations"] == {
        "meta.helm.sh/release-name": "web",
        "meta.helm.sh/release-namespace": "apps",
    }
    assert [e["id"] for e in status(sim)["inventory"]["entries"]] == [
        "apps_web-settings__ConfigMap",
        "apps_web_apps_Deployment",
    ]


def test_the_install_waits_for_the_deployment_to_roll_out_in_virtual_time(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(2_000)
    assert condition(sim, "Reconciling") == {
        "status": "True",
        "reason": "Progressing",
        "message": "Running 'install' action with timeout of 5m0s",
    }
    assert ready(sim.cluster.get(HR))["reason"] == "Progressing"
    assert releases(sim) == [(1, "pending-install", "Initial install underway")]
    sim.advance(60_000)
    assert releases(sim) == [(1, "deployed", "Install complete")]
    assert condition(sim, "Reconciling") is None


def test_an_install_without_wait_is_done_at_once(sim: simulation.Simulation) -> None:
    start(sim, install={"disableWait": True})
    sim.advance(3_000)
    assert releases(sim) == [(1, "deployed", "Install complete")]


# --- upgrade -------------------------------------------------------------------------------


def test_new_values_upgrade_the_release_and_supersede_the_last(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    change(sim, values={"message": "bonjour"})
    sim.advance(60_000)

    assert ready(sim.cluster.get(HR)) == {
        "status": "True",
        "reason": "UpgradeSucceeded",
        "message": "Helm upgrade succeeded for release apps/web.v2 with chart web@1.0.0",
    }
    assert releases(sim) == [(1, "superseded", "Install complete"), (2, "deployed", "Upgrade complete")]
    assert history(sim) == [(2, "deployed", "upgrade"), (1, "superseded", None)]
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "bonjour"}


def test_a_new_chart_version_is_an_upgrade(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    publish(sim, "1.1.0")
    sim.advance(180_000)
    assert ready(sim.cluster.get(HR))["message"] == (
        "Helm upgrade succeeded for release apps/web.v2 with chart web@1.1.0"
    )
    assert status(sim)["lastAttemptedRevision"] == "1.1.0"


def test_a_values_configmap_change_is_an_upgrade_at_the_next_interval(sim: simulation.Simulation) -> None:
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web-values", "namespace": "apps"},
        "data": {"values.yaml": "message: from-configmap\n"},
    }
    start(sim, valuesFrom=[{"kind": "ConfigMap", "name": "web-values"}])
    sim.cluster.apply(settings, field_manager="kubectl")
    sim.advance(60_000)
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "from-configmap"}
    settings["data"] = {"values.yaml": "message: changed\n"}
    sim.cluster.apply(settings, field_manager="kubectl")
    sim.advance(11 * 60_000)
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "changed"}
    assert [v for v, _, _ in releases(sim)] == [1, 2]


def test_a_no_change_interval_writes_no_release(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    sim.advance(3 * 3_600_000)
    assert releases(sim) == [(1, "deployed", "Install complete")]
    assert reasons(sim) == [("Normal", "InstallSucceeded")]


# --- failures and remediation ----------------------------------------------------------------


def test_a_missing_values_configmap_is_a_values_error(sim: simulation.Simulation) -> None:
    start(sim, valuesFrom=[{"kind": "ConfigMap", "name": "absent"}])
    sim.advance(60_000)
    message = (
        "could not resolve ConfigMap chart values reference 'apps/absent' with key 'values.yaml': "
        'configmaps "absent" not found'
    )
    assert ready(sim.cluster.get(HR)) == {"status": "False", "reason": "ValuesError", "message": message}
    assert ("Warning", "ValuesError") in reasons(sim)
    assert releases(sim) == []


def test_an_optional_missing_values_configmap_is_skipped(sim: simulation.Simulation) -> None:
    start(sim, valuesFrom=[{"kind": "ConfigMap", "name": "absent", "optional": True}])
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR))["reason"] == "InstallSucceeded"


def test_a_chart_version_that_does_not_exist_leaves_the_release_waiting_for_its_source(
    sim: simulation.Simulation,
) -> None:
    start(sim)
    change(
        sim,
        chart=helmrelease()["spec"]["chart"]
        | {"spec": {**helmrelease()["spec"]["chart"]["spec"], "version": "9.x"}},
    )
    sim.advance(60_000)
    got = ready(sim.cluster.get(HR))
    assert (got["status"], got["reason"]) == ("False", "SourceNotReady")
    assert got["message"].startswith("HelmChart 'flux-system/apps-web' is not ready: ")
    assert releases(sim) == []


def test_a_template_error_fails_the_install_with_helms_message(sim: simulation.Simulation) -> None:
    start(sim, values={"tag": None}, install={"disableWait": True})
    publish(sim, "1.0.0", **{"templates/broken.yaml": '{{ required "tag is required" .Values.missing }}\n'})
    sim.advance(60_000)
    released = condition(sim, "Released")
    assert released is not None and released["reason"] == "InstallFailed"
    assert released["message"].startswith("Helm install failed for release apps/web with chart web@1.0.0: ")
    assert "tag is required" in released["message"]
    assert releases(sim) == []


def test_values_that_break_the_chart_schema_fail_the_install(sim: simulation.Simulation) -> None:
    schema = '{"type": "object", "properties": {"tag": {"type": "string"}}}'
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    publish(sim, "1.0.0", **{"values.schema.json": schema})
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmrelease(values={"tag": 7}), field_manager="kubectl")
    sim.advance(60_000)
    released = condition(sim, "Released")
    assert released is not None and released["reason"] == "InstallFailed"
    assert "values don't meet the specifications of the schema(s)" in released["message"]
    assert status(sim)["failures"] >= 1
    assert "installFailures" not in status(sim)


def test_an_upgrade_that_never_becomes_healthy_is_rolled_back(sim: simulation.Simulation) -> None:
    spec: dict[str, Any] = {"timeout": "1m", "upgrade": {"remediation": {"retries": 1}}}
    upgrade_to_a_tag_that_never_gets_ready(sim, spec)
    # The wait times out a minute after the upgrade began (t=2m); the rollback follows in 1s, and
    # Flux requeues at once for the second attempt (t=2m1.75s).
    sim.advance(61_200)

    assert condition(sim, "Remediated") == {
        "status": "True",
        "reason": "RollbackSucceeded",
        "message": "Helm rollback to previous release apps/web.v1 with chart web@1.0.0 succeeded",
    }
    assert ready(sim.cluster.get(HR))["reason"] == "RollbackSucceeded"
    error = (
        "resource Deployment/apps/web not ready. status: InProgress, message: Pending termination: 1\n"
        "context deadline exceeded"
    )
    [failed] = [m for (_, _, r, m) in events_of(sim, HR) if r == "UpgradeFailed"]
    assert failed == f"Helm upgrade failed for release apps/web with chart web@1.0.0: {error}"
    assert releases(sim) == [
        (1, "superseded", "Install complete"),
        (2, "failed", f'Upgrade "web" failed: {error}'),
        (3, "deployed", "Rollback to 1"),
    ]
    # Helm writes v3 twice (pending, then deployed) and v1 once (superseded): Flux's rollback
    # observer re-observes each snapshot it already holds with the action "rollback".
    assert history(sim) == [
        (3, "deployed", "rollback"),
        (2, "failed", "upgrade"),
        (1, "superseded", "rollback"),
    ]
    assert status(sim)["upgradeFailures"] == 1
    assert sim.cluster.get(DEPLOYMENT)["spec"]["template"]["spec"]["containers"][0]["image"] == f"{IMAGE}:1.0"


def test_retries_exhausted_stall_the_release(sim: simulation.Simulation) -> None:
    spec: dict[str, Any] = {"timeout": "1m", "upgrade": {"remediation": {"retries": 1}}}
    upgrade_to_a_tag_that_never_gets_ready(sim, spec)
    sim.advance(10 * 60_000)
    assert condition(sim, "Stalled") == {
        "status": "True",
        "reason": "RetriesExceeded",
        "message": "Failed to upgrade after 2 attempt(s)",
    }
    assert [s for _, s, _ in releases(sim)][-1] == "deployed"
    assert sim.cluster.get(HR)["status"]["observedGeneration"] == 2


def test_a_failing_test_hook_fails_the_release_test(sim: simulation.Simulation) -> None:
    sim.images.set_fault("busybox:latest", "crash-loop")
    start(sim, test={"enable": True})
    sim.advance(3 * 60_000)
    test = condition(sim, "TestSuccess")
    assert test is not None and (test["status"], test["reason"]) == ("False", "TestFailed")
    assert test["message"].startswith("Helm test failed for release apps/web.v1 with chart web@1.0.0: ")
    assert ready(sim.cluster.get(HR))["reason"] == "TestFailed"


def test_ignored_test_failures_leave_the_release_ready(sim: simulation.Simulation) -> None:
    sim.images.set_fault("busybox:latest", "crash-loop")
    start(sim, test={"enable": True, "ignoreFailures": True})
    sim.advance(3 * 60_000)
    test = condition(sim, "TestSuccess")
    assert test is not None and test["reason"] == "TestFailed"
    assert ready(sim.cluster.get(HR)) == {
        "status": "True",
        "reason": "InstallSucceeded",
        "message": "Helm install succeeded for release apps/web.v1 with chart web@1.0.0",
    }


def test_passing_tests_are_recorded_on_the_snapshot(sim: simulation.Simulation) -> None:
    start(sim, test={"enable": True})
    sim.advance(3 * 60_000)
    assert condition(sim, "TestSuccess") == {
        "status": "True",
        "reason": "TestSucceeded",
        "message": "Helm test succeeded for release apps/web.v1 with chart web@1.0.0: "
        "1 test hook completed successfully",
    }
    hook = status(sim)["history"][0]["testHooks"]["web-test"]
    assert hook["phase"] == "Succeeded"
    assert hook["lastStarted"] < hook["lastCompleted"]
    assert hook["lastStarted"].startswith("2025-01-01T00:0"), "calendar time, not virtual milliseconds"
    assert ready(sim.cluster.get(HR))["reason"] == "TestSucceeded"


# --- drift and storage --------------------------------------------------------------------------


def test_drift_is_corrected_when_detection_is_enabled(sim: simulation.Simulation) -> None:
    start(sim, driftDetection={"mode": "enabled"})
    sim.advance(60_000)
    sim.cluster.merge_patch(CONFIGMAP, {"data": {"message": "edited"}}, field_manager="kubectl-edit")
    sim.advance(10 * 60_000)
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "hello"}
    drifted = [m for (_, t, r, m) in events_of(sim, HR) if r == "DriftDetected"]
    assert drifted and drifted[0].startswith(
        "Cluster state of release apps/web.v1 has drifted from the desired state:"
    )
    assert ("Normal", "DriftCorrected") in reasons(sim)
    assert releases(sim) == [(1, "deployed", "Install complete")]


def test_drift_is_only_reported_in_warn_mode(sim: simulation.Simulation) -> None:
    start(sim, driftDetection={"mode": "warn"})
    sim.advance(60_000)
    sim.cluster.merge_patch(CONFIGMAP, {"data": {"message": "edited"}}, field_manager="kubectl-edit")
    sim.advance(10 * 60_000)
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "edited"}
    assert condition(sim, "Drifted") is not None and condition(sim, "Drifted")["reason"] == "DriftDetected"  # type: ignore[index]
    assert ("Normal", "DriftCorrected") not in reasons(sim)


def test_a_storage_secret_deleted_by_hand_is_installed_again(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    sim.cluster.delete(storage.secret_ref("apps", "web", 1))
    sim.advance(10 * 60_000)
    assert releases(sim) == [(1, "deployed", "Install complete")]
    assert [r for _, r in reasons(sim)].count("InstallSucceeded") == 2


def test_deleting_the_helmrelease_uninstalls_the_release(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    sim.cluster.delete(HR)
    sim.advance(5_000)
    assert not exists(sim, HR)
    assert not exists(sim, DEPLOYMENT)
    assert not exists(sim, CHART_OBJ)
    assert releases(sim) == []
    uninstalled = [m for (_, _, r, m) in events_of(sim, HR) if r == "UninstallSucceeded"]
    assert uninstalled == ["Helm uninstall succeeded for release apps/web.v1 with chart web@1.0.0"]


def test_depends_on_waits_for_the_other_release(sim: simulation.Simulation) -> None:
    start(sim, dependsOn=[{"name": "database"}])
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR)) == {
        "status": "False",
        "reason": "DependencyNotReady",
        "message": "unable to get 'apps/database' dependency: "
        'helmreleases.helm.toolkit.fluxcd.io "database" not found',
    }
    assert releases(sim) == []


# --- what unmodified Helm reads -----------------------------------------------------------------


@pytest.fixture
def served_helm(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> Iterator[tuple[simulation.Simulation, helm.Config]]:
    sim, api = served
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(api.kubeconfig())
    try:
        with helm.Config(kubeconfig_path=kubeconfig, namespace="apps") as config:
            yield sim, config
    finally:
        sim.close()


def test_helm_reads_the_release_helm_controller_made(
    served_helm: tuple[simulation.Simulation, helm.Config],
) -> None:
    sim, config = served_helm
    start(sim)
    sim.advance(60_000)
    change(sim, values={"message": "bonjour"})
    sim.advance(60_000)

    def row(entry: dict[str, Any]) -> tuple[Any, ...]:
        chart = f"{entry['chart_name']}-{entry['chart_version']}"
        return (entry["name"], entry["revision"], entry["status"], chart, entry["app_version"])

    assert [row(e) for e in config.list()] == [("web", 2, "deployed", "web-1.0.0", "1.0.0")]
    assert [row(e) for e in config.history("web")] == [
        ("web", 1, "superseded", "web-1.0.0", "1.0.0"),
        ("web", 2, "deployed", "web-1.0.0", "1.0.0"),
    ]
    assert config.get_values("web") == {"message": "bonjour"}
    assert row(config.status("web")) == ("web", 2, "deployed", "web-1.0.0", "1.0.0")


def test_the_release_secret_is_owned_by_nobody_and_typed_as_helm_s(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    secret = sim.cluster.get(storage.secret_ref("apps", "web", 1))
    assert secret["type"] == "helm.sh/release.v1"
    assert objects.labels_of(secret)["owner"] == "helm"


def test_a_chart_from_an_ocirepository_is_released_with_its_digest_in_the_version(
    sim: simulation.Simulation,
) -> None:
    from gitops_sim.sources import oci

    client = oci.RegistryClient(sim.registries.route)
    host, path = sim.registries.host("oci://charts.example.com/acme")
    data, metadata = sim.charts.package(
        "web", "1.0.0", {k: v.replace("{version}", "1.0.0") for k, v in CHART.items()}
    )
    client.push_chart(host, f"{path}/web", data, metadata)
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {
                "url": "oci://charts.example.com/acme/web",
                "interval": "1m",
                "ref": {"tag": "1.0.0"},
                "layerSelector": {
                    "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "operation": "copy",
                },
            },
        },
        field_manager="kubectl",
    )
    hr = helmrelease()
    del hr["spec"]["chart"]
    hr["spec"]["chartRef"] = {"kind": "OCIRepository", "name": "web"}
    sim.cluster.apply(hr, field_manager="kubectl")
    sim.advance(60_000)

    digest = sim.cluster.get(refs.ObjectRef("source.toolkit.fluxcd.io", "OCIRepository", "apps", "web"))[
        "status"
    ]["artifact"]["revision"].split("@", 1)[1]
    version = f"1.0.0+{digest.split(':', 1)[1][:12]}"
    assert ready(sim.cluster.get(HR)) == {
        "status": "True",
        "reason": "InstallSucceeded",
        "message": f"Helm install succeeded for release apps/web.v1 with chart web@{version}",
    }
    assert status(sim)["lastAttemptedRevisionDigest"] == digest
    assert status(sim)["history"][0]["ociDigest"] == digest
    assert "helmChart" not in status(sim)
    sim.advance(30 * 60_000)
    assert releases(sim) == [(1, "deployed", "Install complete")]


# --- events, annotations, strategies -----------------------------------------------------------


def test_events_carry_the_chart_version_values_digest_and_app_version(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    [event] = [
        e
        for e in sim.cluster.list(refs.GroupKind("", "Event"), namespace="apps")
        if e["reason"] == "InstallSucceeded"
    ]
    assert event["metadata"]["annotations"] == {
        "helm.toolkit.fluxcd.io/app-version": "1.0.0",
        "helm.toolkit.fluxcd.io/revision": "1.0.0",
        "helm.toolkit.fluxcd.io/token": status(sim)["history"][0]["configDigest"],
    }
    assert event["source"] == {"component": "helm-controller"}


def test_force_at_upgrades_a_release_in_sync(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    obj = sim.cluster.get(HR)
    annotations = {"reconcile.fluxcd.io/requestedAt": "now", "reconcile.fluxcd.io/forceAt": "now"}
    sim.cluster.merge_patch(HR, {"metadata": {"annotations": annotations}}, field_manager="flux")
    sim.advance(30_000)
    assert releases(sim)[-1][:2] == (2, "deployed")
    assert status(sim)["lastHandledForceAt"] == "now"
    sim.advance(11 * 60_000)
    assert len(releases(sim)) == 2, "a handled request is not handled again"
    assert obj["metadata"]["generation"] == sim.cluster.get(HR)["metadata"]["generation"]


def test_reset_at_gives_a_stalled_release_its_retries_back(sim: simulation.Simulation) -> None:
    spec: dict[str, Any] = {"timeout": "1m", "upgrade": {"remediation": {"retries": 1}}}
    upgrade_to_a_tag_that_never_gets_ready(sim, spec)
    sim.advance(10 * 60_000)
    assert condition(sim, "Stalled") is not None
    sim.images.set_fault(f"{IMAGE}:2.0", None)
    annotations = {"reconcile.fluxcd.io/requestedAt": "again", "reconcile.fluxcd.io/resetAt": "again"}
    sim.cluster.merge_patch(HR, {"metadata": {"annotations": annotations}}, field_manager="flux")
    sim.advance(2 * 60_000)
    assert ready(sim.cluster.get(HR))["reason"] == "UpgradeSucceeded"
    assert condition(sim, "Stalled") is None
    assert status(sim)["lastHandledResetAt"] == "again"


def test_a_failed_install_is_remediated_by_uninstalling_it(sim: simulation.Simulation) -> None:
    sim.images.set_fault(f"{IMAGE}:1.0", "never-ready")
    start(sim, timeout="1m", install={"remediation": {"retries": 1}})
    sim.advance(62_000)  # the install times out at 1m1.5s; the uninstall follows at once
    assert condition(sim, "Remediated") == {
        "status": "True",
        "reason": "UninstallSucceeded",
        "message": "Helm uninstall remediation for release apps/web.v1 with chart web@1.0.0 succeeded",
    }
    assert releases(sim) == []
    assert not exists(sim, DEPLOYMENT)
    sim.advance(5 * 60_000)
    # Install remediation does not remediate the last failure unless asked to: the second
    # failed install stays, and the release stalls.
    assert condition(sim, "Stalled") == {
        "status": "True",
        "reason": "RetriesExceeded",
        "message": "Failed to install after 2 attempt(s)",
    }
    assert condition(sim, "Reconciling") is None
    assert [s for _, s, _ in releases(sim)] == ["failed"]
    assert reasons(sim) == [
        ("Warning", "InstallFailed"),
        ("Normal", "UninstallSucceeded"),
        ("Warning", "InstallFailed"),
    ]


def test_retry_on_failure_retries_the_upgrade_without_rolling_back(sim: simulation.Simulation) -> None:
    spec: dict[str, Any] = {
        "timeout": "1m",
        "upgrade": {"strategy": {"name": "RetryOnFailure", "retryInterval": "2m"}},
    }
    upgrade_to_a_tag_that_never_gets_ready(sim, spec)
    sim.advance(61_000)
    assert condition(sim, "Reconciling") == {
        "status": "True",
        "reason": "ProgressingWithRetry",
        "message": "retrying after 2m0s",
    }
    assert [s for _, s, _ in releases(sim)] == ["deployed", "failed"], "Helm leaves the last release deployed"
    sim.advance(4 * 60_000)
    assert [s for _, s, _ in releases(sim)] == ["deployed", "failed", "failed"]
    assert condition(sim, "Remediated") is None
    assert [r for _, r in reasons(sim)].count("UpgradeFailed") == 2


def test_a_release_left_pending_is_unlocked_then_upgraded(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    record = storage.releases(sim.cluster, "apps", "web")[0]
    pending = storage.with_status(record, "pending-upgrade", "Preparing upgrade")
    secret = storage.secret_for(pending, "apps", modified_at=0)
    live = sim.cluster.get(storage.secret_ref("apps", "web", 1))
    secret["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    sim.cluster.update(secret, field_manager="helm")
    annotations = {"reconcile.fluxcd.io/requestedAt": "unlock"}
    sim.cluster.merge_patch(HR, {"metadata": {"annotations": annotations}}, field_manager="flux")
    sim.advance(30_000)
    unlocked = [m for (_, _, r, m) in events_of(sim, HR) if r == "PendingRelease"]
    assert unlocked == ["Unlocked Helm release apps/web.v1 with chart web@1.0.0 in pending-upgrade state"]
    assert releases(sim) == [
        (1, "superseded", "Release unlocked from stale 'pending-upgrade' state"),
        (2, "deployed", "Upgrade complete"),
    ]


def test_post_renderers_and_common_metadata_shape_the_release(sim: simulation.Simulation) -> None:
    patch = {"patch": "- op: add\n  path: /data/extra\n  value: patched\n", "target": {"kind": "ConfigMap"}}
    start(
        sim,
        postRenderers=[{"kustomize": {"patches": [patch]}}],
        commonMetadata={"labels": {"team": "web"}},
    )
    sim.advance(60_000)
    configmap = sim.cluster.get(CONFIGMAP)
    assert configmap["data"] == {"message": "hello", "extra": "patched"}
    assert configmap["metadata"]["labels"]["team"] == "web"
    assert status(sim)["observedPostRenderersDigest"].startswith("sha256:")
    assert status(sim)["observedCommonMetadataDigest"].startswith("sha256:")


def test_a_changed_immutable_field_fails_the_upgrade_with_the_api_servers_words(
    sim: simulation.Simulation,
) -> None:
    start(sim)
    sim.advance(60_000)
    selector = CHART["templates/deployment.yaml"].replace(
        "matchLabels: {app: web}", "matchLabels: {app: web2}"
    )
    selector = selector.replace("labels: {app: web}", "labels: {app: web2}")
    publish(sim, "1.1.0", **{"templates/deployment.yaml": selector})
    sim.advance(180_000)
    failed = [m for (_, _, r, m) in events_of(sim, HR) if r == "UpgradeFailed"]
    assert failed and failed[0].startswith("Helm upgrade failed for release apps/web with chart web@1.1.0: ")
    assert "field is immutable" in failed[0]
    assert releases(sim)[1][1] == "failed"


def test_an_invalid_health_check_expression_stalls_the_release(sim: simulation.Simulation) -> None:
    start(sim, healthCheckExprs=[{"apiVersion": "apps/v1", "kind": "Deployment", "current": "status.("}])
    sim.advance(10_000)
    got = ready(sim.cluster.get(HR))
    assert (got["status"], got["reason"]) == ("False", "InvalidCELExpression")
    assert got["message"].startswith(
        "Reconciliation failed terminally due to configuration error: "
        "failed to create custom status evaluator for healthchecks[0]: "
    )
    assert condition(sim, "Stalled") == got | {"status": "True"}
    assert releases(sim) == []


def test_a_suspended_helmrelease_is_left_alone(sim: simulation.Simulation) -> None:
    start(sim, suspend=True)
    sim.advance(60_000)
    assert releases(sim) == []
    assert "conditions" not in status(sim)


def test_a_kustomization_waiting_on_a_helmrelease_is_healthy_once_it_is_released(
    sim: simulation.Simulation,
) -> None:
    from tests.builders import KS, gitrepository, kustomization, repo_with

    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    publish(sim)
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    import yaml

    repo_with(sim, {"apps/release.yaml": yaml.safe_dump(helmrelease())})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(wait=True, timeout="2m"), field_manager="kubectl")
    sim.advance(60_000)
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    assert ready(sim.cluster.get(HR))["reason"] == "InstallSucceeded"


# --- names and storage --------------------------------------------------------------------------


def test_release_name_target_and_storage_namespaces_are_honoured(sim: simulation.Simulation) -> None:
    for name in ("web-prod", "helm-storage"):
        sim.cluster.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager="kubectl"
        )
    start(sim, releaseName="frontend", targetNamespace="web-prod", storageNamespace="helm-storage")
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR))["message"] == (
        "Helm install succeeded for release web-prod/frontend.v1 with chart web@1.0.0"
    )
    assert exists(sim, refs.ObjectRef("apps", "Deployment", "web-prod", "frontend"))
    [record] = storage.releases(sim.cluster, "helm-storage", "frontend")
    assert (record.namespace, record.info.status) == ("web-prod", "deployed")
    assert status(sim)["storageNamespace"] == "helm-storage"


def test_a_new_release_name_uninstalls_the_old_release_first(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    change(sim, releaseName="frontend")
    sim.advance(60_000)
    assert releases(sim) == []
    assert not exists(sim, DEPLOYMENT)
    assert [(r.name, r.info.status) for r in storage.releases(sim.cluster, "apps", "frontend")] == [
        ("frontend", "deployed")
    ]
    assert exists(sim, refs.ObjectRef("apps", "Deployment", "apps", "frontend"))
    assert history(sim) == [(1, "deployed", "install")]


def test_a_release_installed_by_hand_is_taken_over_by_an_upgrade(sim: simulation.Simulation) -> None:
    from gitops_sim.helm import actions, render

    start(sim, suspend=True)
    archive, _ = sim.charts.package(
        "web", "1.0.0", {k: v.replace("{version}", "1.0.0") for k, v in CHART.items()}
    )
    renderer = render.Renderer(sim.settings.workdir / "by-hand")
    info = render.ReleaseInfo("web", "apps")
    rendered = renderer.render(archive, {}, info, render.PostRender("web", "apps"))
    pending = actions.begin_install(
        sim.cluster,
        storage_namespace="apps",
        name="web",
        namespace="apps",
        chart=renderer.load(archive),
        config={},
        rendered=rendered,
        now="2025-01-01T00:01:00Z",
        owner_name="web",
        owner_namespace="apps",
    )
    actions.apply_manifest(sim.cluster, pending)
    actions.finish(sim.cluster, pending, succeeded=True, now="2025-01-01T00:01:00Z")
    change(sim)
    sim.advance(60_000)
    assert releases(sim) == [(1, "superseded", "Install complete"), (2, "deployed", "Upgrade complete")]
    assert ready(sim.cluster.get(HR))["reason"] == "UpgradeSucceeded"


def test_a_watched_values_configmap_upgrades_the_release_at_once(sim: simulation.Simulation) -> None:
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web-values",
            "namespace": "apps",
            "labels": {"reconcile.fluxcd.io/watch": "Enabled"},
        },
        "data": {"values.yaml": "message: first\n"},
    }
    start(sim, valuesFrom=[{"kind": "ConfigMap", "name": "web-values"}])
    sim.cluster.apply(settings, field_manager="kubectl")
    sim.advance(60_000)
    settings["data"] = {"values.yaml": "message: second\n"}
    sim.cluster.apply(settings, field_manager="kubectl")
    sim.advance(5_000)
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "second"}
    assert [v for v, _, _ in releases(sim)] == [1, 2]


# --- hooks, CRDs, custom health, readyExpr ------------------------------------------------------

PRE_INSTALL_JOB = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-migrate\n  annotations:\n"
    "    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-delete-policy: hook-succeeded\n"
    "spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n"
    "      containers: [{name: migrate, image: 'ghcr.io/acme/migrate:1.0'}]\n"
)
WIDGET_CRD = (
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
    "metadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n"
    "  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}\n"
    "  versions:\n  - name: v1\n    served: true\n    storage: true\n"
    "    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
)
JOB = refs.ObjectRef("batch", "Job", "apps", "web-migrate")


def test_a_pre_install_hook_job_runs_to_completion_before_the_objects_and_is_deleted(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    publish(sim, "1.0.0", **{"templates/migrate.yaml": PRE_INSTALL_JOB})
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmrelease(), field_manager="kubectl")
    sim.advance(2_500)
    assert exists(sim, JOB), "the hook runs first"
    assert not exists(sim, DEPLOYMENT), "the release's objects wait for the hook"
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR))["reason"] == "InstallSucceeded"
    assert exists(sim, DEPLOYMENT)
    assert not exists(sim, JOB), "hook-succeeded deletes the Job"
    [record] = storage.releases(sim.cluster, "apps", "web")
    [hook] = [h for h in record.hooks if h.name == "web-migrate"]
    assert hook.last_run.phase == "Succeeded"


def test_a_failing_pre_install_hook_fails_the_install_with_helms_words(sim: simulation.Simulation) -> None:
    sim.images.set_fault("ghcr.io/acme/migrate:1.0", "crash-loop")
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    publish(sim, "1.0.0", **{"templates/migrate.yaml": PRE_INSTALL_JOB})
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmrelease(), field_manager="kubectl")
    sim.advance(10 * 60_000)
    released = condition(sim, "Released")
    assert released is not None and released["reason"] == "InstallFailed"
    assert released["message"].startswith(
        "Helm install failed for release apps/web with chart web@1.0.0: failed pre-install: "
        "resource Job/apps/web-migrate not ready. status: Failed, message: Job Failed. failed: 1/1"
    )
    assert not exists(sim, DEPLOYMENT)
    assert releases(sim)[0][1] == "failed"


def test_the_charts_crds_are_created_on_install(sim: simulation.Simulation) -> None:
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}\n"
    publish(sim, "1.0.0", **{"crds/widgets.yaml": WIDGET_CRD, "templates/widget.yaml": widget})
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmrelease(), field_manager="kubectl")
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR))["reason"] == "InstallSucceeded"
    assert exists(sim, refs.ObjectRef("example.com", "Widget", "apps", "web"))
    entries = [e["id"] for e in status(sim)["inventory"]["entries"]]
    assert "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition" in entries


def test_health_check_exprs_decide_when_a_custom_resource_is_ready(sim: simulation.Simulation) -> None:
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}\n"
    publish(sim, "1.0.0", **{"crds/widgets.yaml": WIDGET_CRD, "templates/widget.yaml": widget})
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    check = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "current": "status.ok == true",
    }
    sim.cluster.apply(helmrelease(timeout="2m", healthCheckExprs=[check]), field_manager="kubectl")
    sim.advance(60_000)
    assert releases(sim) == [(1, "pending-install", "Initial install underway")]
    ref = refs.ObjectRef("example.com", "Widget", "apps", "web")
    live = sim.cluster.get(ref)
    live["status"] = {"ok": True}
    sim.cluster.update(live, field_manager="widget-operator")
    sim.advance(5_000)
    assert releases(sim) == [(1, "deployed", "Install complete")]


def test_depends_on_with_a_ready_expression(sim: simulation.Simulation) -> None:
    database = helmrelease()
    database["metadata"]["name"] = "database"
    database["spec"]["suspend"] = True
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    sim.cluster.apply(database, field_manager="kubectl")
    start(sim, dependsOn=[{"name": "database", "readyExpr": "dep.spec.suspend == false"}])
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR)) == {
        "status": "False",
        "reason": "DependencyNotReady",
        "message": "dependency 'apps/database' is not ready according to readyExpr eval",
    }
    database["spec"]["suspend"] = False
    sim.cluster.apply(database, field_manager="kubectl")
    sim.advance(60_000)
    assert ready(sim.cluster.get(HR))["reason"] == "InstallSucceeded"


def test_a_hand_edited_helmchart_is_put_back_at_the_next_reconcile(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(60_000)
    sim.cluster.merge_patch(CHART_OBJ, {"spec": {"version": "9.9.9"}}, field_manager="kubectl-edit")
    sim.advance(11 * 60_000)
    assert sim.cluster.get(CHART_OBJ)["spec"]["version"] == "1.x"


def test_a_spec_changed_while_an_action_waits_is_released_after_it(sim: simulation.Simulation) -> None:
    start(sim)
    sim.advance(2_000)
    assert releases(sim) == [(1, "pending-install", "Initial install underway")]
    change(sim, values={"message": "changed while waiting"})
    sim.advance(60_000)
    assert [(v, s) for v, s, _ in releases(sim)] == [(1, "superseded"), (2, "deployed")]
    assert status(sim)["history"][1]["configDigest"] != status(sim)["history"][0]["configDigest"]
    assert sim.cluster.get(CONFIGMAP)["data"] == {"message": "changed while waiting"}
