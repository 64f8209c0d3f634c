"""Public helpers for users' own tests: load and run scenarios, build simulations.

from gitops_sim import testing
outcome = testing.run_scenario("scenarios/drift/replicas-reverted.yaml", tmp_path)
assert outcome.passed, outcome.failure
"""

from __future__ import annotations

from pathlib import Path

from gitops_sim.engine.simulation import Settings, Simulation
from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.runner import Outcome
from gitops_sim.scenario.schema import Scenario

__all__ = ["Outcome", "Scenario", "Settings", "Simulation", "load_scenario", "run_scenario"]


def load_scenario(path: str | Path) -> Scenario:
    return loader.load(Path(path))


def run_scenario(path: str | Path | Scenario, workdir: str | Path) -> Outcome:
    scenario = path if isinstance(path, Scenario) else load_scenario(path)
    return runner.run(scenario, Path(workdir))
