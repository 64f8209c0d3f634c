"""`gitops-sim flux check --pre`: the flux CLI's prerequisite check, line for line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli, fluxcheck
from gitops_sim.cluster.http import server


def test_the_served_cluster_passes_flux_s_prerequisites(
    api: server.ApiServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(api.kubeconfig())
    assert cli.main(["flux", "check", "--pre", "--kubeconfig", str(config)]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "► checking prerequisites"
    assert lines[1].startswith("✔ Kubernetes 1.37.") and lines[1].endswith(" >=1.33.0-0")
    assert lines[2] == "✔ prerequisites checks passed"


@pytest.mark.parametrize(
    ("version", "lines", "code"),
    [
        (
            "v1.31.2",
            ["► checking prerequisites", "✗ Kubernetes version 1.31.2 does not match >=1.33.0-0"],
            1,
        ),
        (
            "v1.34.1+k3s1",
            [
                "► checking prerequisites",
                "✔ Kubernetes 1.34.1+k3s1 >=1.33.0-0",
                "✔ prerequisites checks passed",
            ],
            0,
        ),
    ],
)
def test_the_kubernetes_constraint_is_flux_2_10_s(version: str, lines: list[str], code: int) -> None:
    assert fluxcheck.pre(version) == (lines, code)
