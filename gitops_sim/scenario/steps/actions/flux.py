"""Runs the `flux` step: a flux command (`fluxcli`) against the simulation, in virtual time.

`session(sim, out, err)` is the CLI's session inside a simulation: its cluster, its API server's
version, and time that passes by advancing the simulation (a command that polls every 2 s lets
2 s of virtual time go by). `run(sim, argv)` runs one command line and returns its exit code
and output; the performer records it on the trace (`flux`: the command, the exit code and the
output) and fails the step when the exit code or the output is not the one expected.

Callers: `scenario.runner` (through the registry) and tests. Never reads the real time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TextIO

from gitops_sim.cluster.http import discovery
from gitops_sim.engine import simulation
from gitops_sim.fluxcli import command
from gitops_sim.fluxcli.session import Session
from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import flux, registry
from gitops_sim.scenario.steps.actions import base


def session(
    sim: simulation.Simulation, out: TextIO, err: TextIO, flags: command.Flags | None = None
) -> Session:
    """The flux CLI's session inside `sim` (see the module docstring)."""
    return Session(
        sim.cluster,
        lambda: str(discovery.KUBERNETES_VERSION["gitVersion"]),
        sim.advance,
        lambda: sim.clock.epoch_ms + sim.now(),
        out,
        err,
        namespace=flags.namespace if flags else "flux-system",
        timeout_ms=flags.timeout_ms if flags else command.DEFAULT_TIMEOUT_MS,
    )


def run(sim: simulation.Simulation, argv: Sequence[str]) -> tuple[int, str, str]:
    """Run `flux <argv>` in `sim`: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = command.run(argv, lambda flags: session(sim, out, err, flags), out, err)
    return code, out.getvalue(), err.getvalue()


@registry.performs(flux.Flux)
def run_flux(action: flux.Flux, step: schema.Step, ctx: base.Context) -> None:
    code, out, err = run(ctx.sim, action.argv)
    command_line = " ".join(action.argv)
    ctx.trace.record("flux", command=command_line, exit=code, output=out + err)
    if code != action.exit:
        raise base.StepFailed(
            step.loc, f"flux {command_line} exited {code}, expected {action.exit}:\n{out}{err}"
        )
    if action.output is not None and action.output not in out + err:
        raise base.StepFailed(
            step.loc, f"flux {command_line}: its output has no {action.output!r}:\n{out}{err}"
        )
