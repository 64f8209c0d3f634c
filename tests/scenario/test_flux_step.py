"""The `flux` step: a flux CLI command inside a scenario, its output on the timeline, its exit
code (and, when asked, its output) expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario


def test_a_flux_command_runs_in_virtual_time_and_its_output_goes_on_the_timeline(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - flux: {run: "reconcile ks apps", output: "applied revision main@sha1:"}
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure
    [record] = [r for r in outcome.trace.records if r["kind"] == "flux"]
    assert record["command"] == "reconcile ks apps" and record["exit"] == 0
    assert record["output"].startswith("► annotating Kustomization apps in flux-system namespace\n")
    assert record["t"] > 1_000  # the CLI polled: virtual time went by


def test_a_command_that_exits_otherwise_than_expected_fails_the_step_with_its_output(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - flux: get helmreleases
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert str(outcome.failure) == (
        f"{path}:23:5: flux get helmreleases exited 1, expected 0:\n"
        '✗ no HelmRelease objects found in "flux-system" namespace\n'
    )


def test_an_expected_failure_passes(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario("""\
        - flux: {run: "install --components-extra=image-reflector", exit: 1, output: "is not available"}
        """)
    assert runner.run(loader.load(path), tmp_path / "work").passed


def test_a_command_line_that_cannot_be_split_is_refused_at_load(write_scenario: WriteScenario) -> None:
    path = write_scenario("""\
        - flux: get ks "apps
        """)
    with pytest.raises(
        LoadError, match=r"steps\[0\]\.flux: cannot split the command line: No closing quotation"
    ):
        loader.load(path)


def test_a_scenario_can_start_without_flux_and_install_it_with_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "no-flux.yaml"
    path.write_text(
        "name: no flux\n"
        "cluster: {flux: absent}\n"
        "steps:\n"
        "  - flux: {run: check, exit: 1}\n"
        "  - flux: {run: install, output: '✔ install finished'}\n"
        "  - flux: {run: check, output: '✔ all checks passed'}\n"
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure
    started = [r["component"] for r in outcome.trace.records if r["kind"] == "controller" and r["up"]]
    assert sorted(started) == [
        "helm-controller",
        "kustomize-controller",
        "notification-controller",
        "source-controller",
    ]


def test_cluster_flux_takes_installed_or_absent(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ncluster: {flux: maybe}\nsteps: []\n")
    with pytest.raises(
        LoadError, match=r"bad.yaml:2:17: cluster.flux: expected installed or absent; got 'maybe'"
    ):
        loader.load(path)


def test_a_helm_step_that_fails_fails_with_helm_s_error(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - helm: uninstall flux -n flux-system
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert str(outcome.failure) == (
        f"{path}:23:5: helm uninstall flux -n flux-system exited 1, expected 0:\n"
        "Error: uninstall: Release not loaded: flux: release: not found\n"
    )
    [record] = [r for r in outcome.trace.records if r["kind"] == "helm"]
    assert record["exit"] == 1


def test_a_helm_chart_folder_outside_the_scenario_s_folder_is_refused(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - helm: {run: "install web ../../elsewhere", exit: 1, output: "outside the scenario's folder"}
        """)
    assert runner.run(loader.load(path), tmp_path / "work").passed
