"""Shared fixtures: every test leaves no thread behind; `served` is a simulation with its API
server started."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"test leaked threads: {leaked}"


@pytest.fixture(autouse=True, scope="session")
def _build_cache_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI keeps kustomize builds and Helm renders in `$GITOPS_SIM_CACHE`: the tests' is a
    folder of the session's, never the user's own cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITOPS_SIM_CACHE", str(tmp_path_factory.mktemp("build-cache")))
        yield


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[simulation.Simulation, server.ApiServer]]:
    sim = simulation.Simulation(simulation.Settings(workdir=tmp_path / "sim"))
    api = server.ApiServer(sim.memory, sim.clock)
    api.start()
    try:
        yield sim, api
    finally:
        api.stop()
