"""`flux migrate`: manifests rewritten to the API versions Flux 2.10 serves (file mode, from the
command line) and the cluster's Flux objects rewritten at their CRDs' storage versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from tests.fluxcli.conftest import Flux

OLD = (
    "apiVersion: source.toolkit.fluxcd.io/v1beta2   # the source\n"
    "kind: GitRepository\n"
    "metadata: {name: fleet}\n"
    "---\n"
    "apiVersion: helm.toolkit.fluxcd.io/v2beta1\n"
    "kind: HelmRelease\n"
    "metadata: {name: app}\n"
    "---\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
)


def test_migrate_rewrites_outdated_flux_versions_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "fleet.yaml").write_text(OLD)
    assert cli.main(["flux", "migrate", "-f", str(tmp_path), "--yes"]) == 0
    assert (tmp_path / "fleet.yaml").read_text() == OLD.replace("v1beta2", "v1", 1).replace(
        "v2beta1", "v2", 1
    )
    assert capsys.readouterr().err.splitlines() == [
        "► starting migration of custom resources",
        f"✚ {tmp_path}/fleet.yaml:1: GitRepository v1beta2 -> v1",
        f"✚ {tmp_path}/fleet.yaml:5: HelmRelease v2beta1 -> v2",
        f"✔ file {tmp_path}/fleet.yaml migrated successfully",
        "✔ custom resources migrated successfully",
    ]


def test_a_dry_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fleet.yaml").write_text(OLD)
    assert cli.main(["flux", "migrate", "-f", str(tmp_path), "--dry-run"]) == 0
    assert (tmp_path / "fleet.yaml").read_text() == OLD
    assert capsys.readouterr().err.splitlines()[-1] == "✔ dry-run mode enabled, no changes will be made"


def test_migrate_in_a_scenario_may_not_write_files(flux_cmd: Flux) -> None:
    assert flux_cmd("migrate", "-f", ".").err == (
        "✗ migrate -f writes local files: run it with gitops-sim flux, not in a scenario\n"
    )


def test_cluster_migration_reports_each_crd_s_storage_version(flux_cmd: Flux) -> None:
    ran = flux_cmd("migrate")
    assert ran.code == 0
    lines = ran.err.splitlines()
    assert lines[0] == "► starting migration of custom resources"
    assert "✔ kustomizations.kustomize.toolkit.fluxcd.io migrated to storage version v1" in lines
    assert lines[-1] == "✔ custom resources migrated successfully"
