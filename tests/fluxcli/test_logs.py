"""`flux logs`: the controllers' JSON log lines, written by the engine as Flux's controllers write
them, read from their Pods' logs and printed in the CLI's shape, filtered as the CLI filters."""

from __future__ import annotations

import json

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from tests.builders import gitrepository, kustomization, repo_with
from tests.fluxcli.conftest import Flux

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
POD = refs.GroupKind("", "Pod")


@pytest.fixture
def synced(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(62_000)


def _pod_log(sim: simulation.Simulation, component: str) -> list[dict[str, object]]:
    pod = sim.cluster.list(POD, namespace="flux-system", labels={"app": component})[0]
    text = sim.cluster.pod_log(refs.ObjectRef("", "Pod", "flux-system", pod["metadata"]["name"]))
    return [json.loads(line) for line in text.splitlines()]


def test_a_controller_s_pod_log_holds_its_reconciles_as_zap_json(
    sim: simulation.Simulation, synced: None
) -> None:
    lines = [line for line in _pod_log(sim, "source-controller") if "reconcileID" in line]
    first = lines[0]
    assert list(first)[:4] == ["level", "ts", "msg", "controller"]
    assert first["msg"] == "stored artifact for commit 'init'"
    assert first["ts"] == "2025-01-01T00:00:00.750Z"
    assert first["GitRepository"] == {"name": "fleet", "namespace": "flux-system"}
    assert str(lines[1]["msg"]).startswith(
        "no changes since last reconciliation: observed revision 'main@sha1:"
    )


def test_kustomize_controller_logs_the_apply_and_the_end_of_the_reconcile(
    sim: simulation.Simulation, synced: None
) -> None:
    lines = [line for line in _pod_log(sim, "kustomize-controller") if "reconcileID" in line]
    assert [line["msg"] for line in lines] == [
        "server-side apply completed",
        "Reconciliation finished in 0s, next run in 10m0s",
    ]
    assert lines[0]["output"] == {"ConfigMap/default/a": "created"}
    assert str(lines[0]["revision"]).startswith("main@sha1:")


def test_a_failed_kustomization_logs_an_error_line_with_the_cause(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\nmetadata: {name: a}\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(2_000)
    failed = [line for line in _pod_log(sim, "kustomize-controller") if line["level"] == "error"]
    assert failed[0]["msg"] == "Reconciliation failed after 0s, next try in 10m0s"
    assert list(failed[0])[-1] == "error"


def test_flux_logs_prints_the_namespace_s_lines_in_the_cli_s_shape(synced: None, flux_cmd: Flux) -> None:
    ran = flux_cmd("logs")
    assert ran.code == 0
    lines = ran.out.splitlines(keepends=True)
    assert lines[0] == (
        "2025-01-01T00:00:00.750Z info Kustomization/apps.flux-system - server-side apply completed \n"
    )
    assert (
        "2025-01-01T00:00:00.750Z info GitRepository/fleet.flux-system - stored artifact for commit 'init' \n"
        in lines
    )
    assert not any("Starting" in line for line in lines)  # start-up lines have no namespace


def test_flux_logs_filters_by_kind_level_and_namespace(synced: None, flux_cmd: Flux) -> None:
    kinds = {
        line.split()[2].split("/")[0] for line in flux_cmd("logs", "--kind", "gitrepository").out.splitlines()
    }
    assert kinds == {"GitRepository"}
    assert flux_cmd("logs", "--level", "error").out == ""
    assert flux_cmd("logs", "-n", "default").out == ""
    everything = flux_cmd("logs", "-A").out
    assert " info GitRepository - Starting Controller \n" in everything
    assert " info  - starting manager \n" in everything


def test_flux_logs_tail_keeps_each_pod_s_last_lines(synced: None, flux_cmd: Flux) -> None:
    lines = flux_cmd("logs", "--tail", "1").out.splitlines()
    assert len(lines) == 2  # kustomize-controller's last line, then source-controller's
    assert lines[0].endswith(
        " info Kustomization/apps.flux-system - Reconciliation finished in 0s, next run in 10m0s "
    )
    assert lines[1].startswith(
        "2025-01-01T00:01:00.750Z info GitRepository/fleet.flux-system - no changes since"
    )


def test_flux_logs_follow_prints_new_lines_until_the_timeout(
    sim: simulation.Simulation, synced: None, flux_cmd: Flux
) -> None:
    before = sim.clock.now()
    ran = flux_cmd("logs", "--kind", "GitRepository", "-f", "--timeout", "2m")
    assert ran.code == 0
    assert sim.clock.now() - before >= 120_000
    unchanged = [line for line in ran.out.splitlines() if "no changes since last reconciliation" in line]
    assert len(unchanged) == 3  # at 1m, then the two reconciles of the two minutes followed


def test_flux_logs_refuses_what_the_cli_refuses(flux_cmd: Flux) -> None:
    assert flux_cmd("logs", "x").err == "✗ no argument required\n"
    assert (
        flux_cmd("logs", "--flux-namespace", "default").err == '✗ no Flux pods found in namespace "default"\n'
    )
    assert flux_cmd("logs", "--level", "warn").err == (
        '✗ invalid argument "warn" for "--level" flag: unsupported log level \'warn\', must be one of: '
        "debug, info, error\n"
    )
    assert flux_cmd("logs", "--since", "1m", "--since-time", "2025-01-01T00:00:00Z").err == (
        "✗ at most one of `sinceTime` or `sinceDuration` may be specified\n"
    )


def test_a_controller_that_starts_again_begins_a_new_log(sim: simulation.Simulation, synced: None) -> None:
    deployment = refs.ObjectRef("apps", "Deployment", "flux-system", "source-controller")
    sim.cluster.merge_patch(deployment, {"spec": {"replicas": 0}}, field_manager="kubectl")
    sim.advance(5_000)
    sim.cluster.merge_patch(deployment, {"spec": {"replicas": 1}}, field_manager="kubectl")
    sim.advance(10_000)
    messages = [line["msg"] for line in _pod_log(sim, "source-controller")]
    assert messages[0] == "starting manager"
    assert "stored artifact for commit 'init'" not in messages
