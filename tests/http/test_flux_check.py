"""`gitops-sim flux check --pre` against the served API: the flux CLI's prerequisite check."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.cluster.http import server


def test_the_served_cluster_passes_flux_s_prerequisites(
    api: server.ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(api.kubeconfig())
    assert cli.main(["flux", "check", "--pre", "--kubeconfig", str(config)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "► checking prerequisites",
        "✔ Kubernetes 1.37.0 >=1.33.0-0",
        "✔ prerequisites checks passed",
    ]


def test_an_unreachable_cluster_fails_as_the_cli_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["flux", "check", "--pre", "--kubeconfig", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.startswith("✗ Kubernetes client initialization failed: ")
