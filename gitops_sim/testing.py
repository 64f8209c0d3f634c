"""Public helpers for users' own tests: load and run scenarios, build simulations, and read back
what Flux reported (the Ready condition of an object, the events recorded for it).

    from gitops_sim import testing
    outcome = testing.run_scenario("scenarios/drift/replicas-reverted.yaml", tmp_path)
    assert outcome.passed, outcome.failure

    sim.cluster.apply(gitrepository, field_manager="kubectl")   # `sim`: the plugin's fixture
    sim.advance(1_000)
    assert testing.ready(sim.cluster.get(ref))["reason"] == "Succeeded"
    assert testing.events_of(sim, ref)[-1].reason == "NewArtifact"

    result = testing.run_repo(".", tmp_path, path="clusters/staging")   # your own repository
    assert result.ready, result.text

Callers: users' tests, the project's own tests and the pytest plugin's users; `gitops_sim/__init__.py`
re-exports the scenario helpers. This module only reads what a simulation recorded: it must never
change an object, advance a clock or reach into a controller.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple, cast

from gitops_sim.engine.simulation import Settings, Simulation
from gitops_sim.model import conditions, duration, objects, refs
from gitops_sim.scenario import loader, runner, summary, up
from gitops_sim.scenario.runner import Outcome
from gitops_sim.scenario.schema import Scenario

__all__ = [
    "Outcome",
    "RecordedEvent",
    "Scenario",
    "Settings",
    "Simulation",
    "events_of",
    "load_scenario",
    "ready",
    "run_repo",
    "run_scenario",
]


def load_scenario(path: str | Path) -> Scenario:
    return loader.load(Path(path))


def run_scenario(path: str | Path | Scenario, workdir: str | Path) -> Outcome:
    scenario = path if isinstance(path, Scenario) else load_scenario(path)
    return runner.run(scenario, Path(workdir))


class RepoRun(NamedTuple):
    """What `run_repo` found: `ready` (every Flux object but the suspended is Ready), the
    `summary` and its `text` (what `gitops-sim up` prints), and the run's `outcome` (trace,
    final state)."""

    ready: bool
    text: str
    summary: summary.Summary
    outcome: Outcome


def run_repo(
    folder: str | Path,
    workdir: str | Path,
    *,
    path: str | None = None,
    virtual_time: str = "30m",
    stub_unknown_kinds: bool = False,
) -> RepoRun:
    """Run a Flux repository folder as `gitops-sim up` does (`scenario.up`): its flux-system
    sync (or `path`'s), for `virtual_time` (a Go duration). Raises `up.RepositoryError` when the
    folder cannot be run (no flux-system and no `path`, several clusters, …)."""
    result = up.run(
        Path(folder),
        Path(workdir),
        path=path,
        for_ms=duration.parse(virtual_time),
        stub_unknown_kinds=stub_unknown_kinds,
    )
    return RepoRun(result.ready, summary.render(result.summary), result.summary, result.outcome)


class RecordedEvent(NamedTuple):
    """One Kubernetes Event a controller recorded, as the trace holds it.

    A tuple so that a test compares it with a plain tuple: `events_of(sim, ref)[-1][2:] ==
    ("NewArtifact", "stored artifact …")`, or `== [(0, "Normal", reason, message)]`.
    """

    t: int
    """Virtual time of the event, in milliseconds since the simulation started."""
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


def ready(obj: objects.RawObject) -> dict[str, str]:
    """`obj`'s Ready condition as `{"status": …, "reason": …, "message": …}`, its times left out.

    `obj` is an object as read from the cluster (`sim.cluster.get(ref)`); status is "True",
    "False" or "Unknown". Raises `LookupError` naming the object when it has no Ready condition
    (not yet reconciled, or a kind Flux does not reconcile).

    A plain dict, not a TypedDict: tests compare it with a dict literal and keep it in
    `dict[str, Any]` values, which a TypedDict is not assignable to.
    """
    cond = conditions.get(obj, conditions.READY)
    if cond is None:
        raise LookupError(
            f"{objects.ref_of(obj)} has no Ready condition: has its controller reconciled it yet "
            "(advance the simulation's clock)?"
        )
    return {"status": cond["status"], "reason": cond["reason"], "message": cond["message"]}


def events_of(sim: Simulation, ref: refs.ObjectRef) -> list[RecordedEvent]:
    """Every event recorded for the object `ref` so far, oldest first (an empty list if none)."""
    return [
        RecordedEvent(
            t=record["t"],
            type=cast(Literal["Normal", "Warning"], record["type"]),
            reason=record["reason"],
            message=record["message"],
        )
        for record in sim.trace.records
        if record["kind"] == "event" and record["object"] == str(ref)
    ]
