"""Runs the `flux` step: a flux command (`fluxcli`) against the simulation, in virtual time.

`session(sim, out, err)` is the CLI's session inside a simulation: its cluster, its API server's
version, and time that passes by advancing the simulation (a command that polls every 2 s lets
2 s of virtual time go by). `run(sim, argv)` runs one command line and returns its exit code
and output; the performer records it on the trace (`flux`: the command with its secret flags
masked, the exit code and the output) and fails the step when the exit code or the output is
not the one expected.

Callers: `scenario.runner` (through the registry) and tests. Never reads the real time.
"""

from __future__ import annotations

import functools
import io
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from gitops_sim import helmcli
from gitops_sim.cluster.http import discovery
from gitops_sim.engine import simulation
from gitops_sim.fluxcli import build, command
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import flux, registry
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import githttp


def session(
    sim: simulation.Simulation,
    out: TextIO,
    err: TextIO,
    flags: command.Flags | None = None,
    git: githttp.GitHttpClient | None = None,
    folder: Path | None = None,
    env: dict[str, str] | None = None,
) -> Session:
    """The flux CLI's session inside `sim` (see the module docstring); `git` reaches the
    simulation's repositories, keys come from the run's seed and the time, and local paths
    (`--path`) are read inside `folder` only (the scenario's)."""
    return Session(
        sim.cluster,
        lambda: str(discovery.KUBERNETES_VERSION["gitVersion"]),
        sim.advance,
        lambda: sim.clock.epoch_ms + sim.now(),
        out,
        err,
        namespace=flags.namespace if flags else "flux-system",
        timeout_ms=flags.timeout_ms if flags else command.DEFAULT_TIMEOUT_MS,
        git=git,
        rng=random.Random(f"{sim.settings.seed}/flux-cli/{sim.now()}"),
        scratch=sim.settings.workdir / "flux-cli-build",
        env=dict(env or {}),
        github_api=f"http://{sim.forge.serving()}",
        read_folder=None if folder is None else functools.partial(_read_inside, folder),
    )


def _read_inside(folder: Path, where: str) -> dict[str, bytes]:
    """`read_folder` confined to `folder`: a path that leads out of it is refused."""
    root = folder.resolve()
    target = (root / where).resolve()
    if not target.is_relative_to(root):
        raise FluxError(f"{where} is outside the scenario's folder")
    return build.read_local(target)


def run(
    sim: simulation.Simulation,
    argv: Sequence[str],
    folder: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    """Run `flux <argv>` in `sim`: (exit code, stdout, stderr); local paths inside `folder`,
    `env` the environment it reads (`GITHUB_TOKEN`)."""
    out, err = io.StringIO(), io.StringIO()
    git = sim.git.client()
    try:
        code = command.run(argv, lambda flags: session(sim, out, err, flags, git, folder, env), out, err)
    finally:
        git.close()
    return code, out.getvalue(), err.getvalue()


SECRET_FLAGS = ("--password", "-p", "--registry-creds", "--gpg-passphrase", "--ssh-signing-password")
"""Flags whose value is a secret: masked wherever the command line is shown."""


def shown(argv: Sequence[str]) -> str:
    """The command line with the values of `SECRET_FLAGS` masked (`--password=*****`)."""
    out: list[str] = []
    masked_next = False
    for arg in argv:
        flag, eq, _ = arg.partition("=")
        if masked_next:
            out.append("*****")
        elif eq and flag in SECRET_FLAGS:
            out.append(f"{flag}=*****")
        else:
            out.append(arg)
        masked_next = not eq and arg in SECRET_FLAGS
    return " ".join(out)


def run_helm(
    sim: simulation.Simulation, argv: Sequence[str], folder: Path | None = None
) -> tuple[int, str, str]:
    """Run `helm <argv>` in `sim` (`helmcli`): (exit code, stdout, stderr); charts and values
    files are read inside `folder` only."""
    out, err = io.StringIO(), io.StringIO()

    def read(where: str) -> dict[str, bytes]:
        if folder is None:
            raise helmcli.HelmError(f"open {where}: no such file or directory")
        try:
            return _read_inside(folder, where)
        except FluxError as exc:
            raise helmcli.HelmError(exc.message) from exc

    code = helmcli.run(
        argv,
        sim.cluster,
        out,
        err,
        calendar_ms=lambda: sim.clock.epoch_ms + sim.now(),
        scratch=sim.settings.workdir / "helm-cli",
        read_folder=read,
    )
    return code, out.getvalue(), err.getvalue()


@registry.performs(flux.Flux)
def perform_flux(action: flux.Flux, step: schema.Step, ctx: base.Context) -> None:
    argv = [ctx.expand(arg, step) for arg in action.argv]
    code, out, err = run(ctx.sim, argv, Path(step.loc.file).parent, dict(action.env))
    _judge(ctx, step, "flux", shown(argv), (code, out, err), action.exit, action.output)


@registry.performs(flux.Helm)
def perform_helm(action: flux.Helm, step: schema.Step, ctx: base.Context) -> None:
    argv = [ctx.expand(arg, step) for arg in action.argv]
    ran = run_helm(ctx.sim, argv, Path(step.loc.file).parent)
    _judge(ctx, step, "helm", shown(argv), ran, action.exit, action.output)


def _judge(
    ctx: base.Context,
    step: schema.Step,
    program: str,
    command_line: str,
    ran: tuple[int, str, str],
    exit_code: int,
    output: str | None,
) -> None:
    """Record a command step on the trace; fail the step on another exit code or a missing output."""
    code, out, err = ran
    ctx.trace.record(program, command=command_line, exit=code, output=out + err)
    if code != exit_code:
        raise base.StepFailed(
            step.loc, f"{program} {command_line} exited {code}, expected {exit_code}:\n{out}{err}"
        )
    wanted = None if output is None else ctx.expand(output, step)
    if wanted is not None and wanted not in out + err:
        raise base.StepFailed(
            step.loc, f"{program} {command_line}: its output has no {wanted!r}:\n{out}{err}"
        )
