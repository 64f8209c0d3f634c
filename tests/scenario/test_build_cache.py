"""A scenario run with the build cache: the second run builds from it, and every run, cached or
not, leaves the same trace and the same objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_sim import buildcache
from gitops_sim.engine import simulation
from gitops_sim.scenario import loader, runner

SCENARIOS = Path(__file__).parents[2] / "scenarios"


def run(path: Path, workdir: Path, cache_dir: Path | None) -> tuple[str, buildcache.Counts | None]:
    """The run's trace and final objects (as JSON), and what its cache did."""
    counts: list[buildcache.Counts | None] = []

    def inspect(sim: simulation.Simulation) -> None:
        counts.append(None if sim.build_cache is None else sim.build_cache.counts)

    outcome = runner.run(loader.load(path), workdir, inspect=inspect, cache_dir=cache_dir)
    assert outcome.passed, outcome.failure
    return json.dumps([outcome.trace.records, list(outcome.final)], sort_keys=True), counts[0]


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param("kustomize/bad-commit-then-fix.yaml", id="kustomize"),
        pytest.param("helm/upgrade-from-git.yaml", id="helm"),
    ],
)
def test_a_warm_cache_builds_nothing_anew_and_changes_nothing_a_run_shows(
    tmp_path: Path, scenario: str
) -> None:
    path = SCENARIOS / scenario
    uncached, none = run(path, tmp_path / "plain", None)
    cold, first = run(path, tmp_path / "cold", tmp_path / "cache")
    warm, second = run(path, tmp_path / "warm", tmp_path / "cache")
    assert none is None and first is not None and second is not None
    assert first.writes > 0 and second.hits > 0
    assert second.writes == 0 and second.misses == 0
    assert cold == uncached and warm == uncached


def test_a_simulation_has_no_build_cache_unless_its_settings_name_a_folder(tmp_path: Path) -> None:
    sim = simulation.Simulation(simulation.Settings(tmp_path))
    try:
        assert sim.build_cache is None
    finally:
        sim.close()


def test_a_cold_run_builds_the_other_kustomizations_of_an_artifact_ahead_and_shows_the_same(
    tmp_path: Path,
) -> None:
    path = SCENARIOS / "kustomize/depends-on.yaml"  # two Kustomizations over one GitRepository
    uncached, _ = run(path, tmp_path / "plain", None)
    cold, counts = run(path, tmp_path / "cold", tmp_path / "cache")
    assert counts is not None and counts.hits > 0  # the second one's build was made ahead
    assert cold == uncached
