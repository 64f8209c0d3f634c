"""What a step's performer may use of the run: the `Context` the runner offers, and `StepFailed`.

A performer (`@registry.performs(ValueType)`) is called as `fn(action, step, ctx)`. It reaches the
simulation through `ctx.sim` and only through public methods of its parts (the store's client
API, `storage.Storage`, the upstreams in `sources`, `workloads.pods`); it records what it did with
`ctx.trace.record(...)`, and refuses with `StepFailed(step.loc, message)`. It must never write
into the internals of those parts, nor read the real time.

Callers: the performers in `steps.actions`, and `scenario.runner`, which implements `Context`.
"""

from __future__ import annotations

from typing import Protocol

from gitops_sim.engine import simulation, trace
from gitops_sim.scenario import schema
from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import expect, fields
from gitops_sim.sources import git


class StepFailed(Exception):
    """The step cannot be carried out (or an expectation failed): the run fails here."""

    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class Context(Protocol):
    """The run as a performer sees it (implemented by `scenario.runner.Runner`)."""

    @property
    def sim(self) -> simulation.Simulation: ...

    @property
    def trace(self) -> trace.Trace: ...

    def apply(self, manifest: fields.Manifest) -> None:
        """Apply as `kubectl apply --server-side` (field manager `kubectl`), and record it."""

    def repo(self, name: str, step: schema.Step) -> git.Repository:
        """The scenario's repository `name`, or `StepFailed` naming the ones there are."""

    def commit(
        self,
        repo: git.Repository,
        files: dict[str, str | bytes | None],
        message: str,
        branch: str | None,
        author: tuple[str, str] | None,
    ) -> str:
        """Commit to `repo`, record it, and return the new commit's SHA."""

    def push_images(
        self, images: tuple[str, ...], *, revision: str | None = None, created: str | None = None
    ) -> None:
        """Push container images (host/name:tag) to the scenario's registries, and record it."""

    def expand(self, text: str, step: schema.Step) -> str:
        """`text` with its `${repos.<name>.head}`-style variables replaced by their values now."""

    def within_horizon(self, ms: int, step: schema.Step) -> None:
        """`StepFailed` unless `ms` more of virtual time stays within the run's horizon."""

    def advance(self, ms: int, step: schema.Step) -> None:
        """Let `ms` of virtual time pass, asking the run's `stop` between events."""

    def expect(self, item: expect.Expectation, step: schema.Step) -> None:
        """Check `item`, letting virtual time run for its `within`; `StepFailed` if it fails."""
