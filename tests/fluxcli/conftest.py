"""Fixtures of the flux CLI tests: a command runner inside a simulation, in virtual time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from gitops_sim.engine import simulation
from gitops_sim.scenario.steps.actions import flux


class Ran(NamedTuple):
    code: int
    out: str
    err: str


Flux = Callable[..., Ran]


def runner(sim: simulation.Simulation) -> Flux:
    def run(*argv: str) -> Ran:
        return Ran(*flux.run(sim, argv))

    return run


@pytest.fixture
def flux_cmd(sim: simulation.Simulation) -> Flux:
    """`flux_cmd("get", "ks")`: the flux CLI run in `sim` (Flux installed before t=0)."""
    return runner(sim)


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[simulation.Simulation]:
    """A simulation of a cluster without Flux (`gitops-sim serve --no-flux`)."""
    fresh = simulation.Simulation(simulation.Settings(workdir=tmp_path / "bare", with_flux=False))
    try:
        yield fresh
    finally:
        fresh.close()
