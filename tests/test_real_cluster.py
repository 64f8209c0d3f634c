"""The shipped scenarios on a real cluster (marked `k3d`; they need a Docker engine): on k3s
started by testcontainers, and on the k3d cluster of k3d/ when its kubeconfig is there
(k3d/up.sh writes it). Here (no Docker) they skip and say why; the same code paths run on every
CI run against our HTTP front (tests/http/test_engine_over_http.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.cluster import k3s

ROOT = Path(__file__).parents[1]

pytestmark = [
    pytest.mark.k3d,
    pytest.mark.skipif(not k3s.docker_answers(), reason="no Docker engine answers here: no real cluster"),
]


def test_the_shipped_scenarios_pass_on_k3s(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "-q", str(ROOT / "scenarios"), "--cluster", "k3s", "--pace", "30"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(" 0 failed")


@pytest.mark.skipif(not (ROOT / "k3d" / "kubeconfig").exists(), reason="no k3d cluster: run k3d/up.sh")
def test_the_shipped_scenarios_pass_on_the_k3d_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = str(ROOT / "k3d" / "kubeconfig")
    assert cli.main(["run", "-q", str(ROOT / "scenarios"), "--kubeconfig", kubeconfig, "--pace", "30"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(" 0 failed")
