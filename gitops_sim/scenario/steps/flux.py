"""The `flux` and `helm` steps: a flux CLI or helm command, run against the scenario's cluster as
the real CLI would.

    flux: get kustomizations -A                  (must exit 0)
    flux: {run: "reconcile ks apps --with-source", exit: 0, output: "applied revision"}

`run` is the command line after `flux` (split as a shell splits words; nothing is executed);
`exit` is the exit code it must end with (default 0); `output`, when given, is text its output
(stdout then stderr) must contain; `env` the environment the command reads (`GITHUB_TOKEN`
for `bootstrap github`; never shown). Both may use `${repos.<name>.head}` and the other variables
of expectations (`run` read before the command, `output` after it). Waiting commands
(`reconcile`, `resume`, `install`, `bootstrap`, `check`) take virtual time, as the CLI polls.
The output goes on the timeline.

    helm: install flux flux2 -n flux-system --create-namespace --set sourceWatcher.create=true

`helm` takes `run`, `exit` and `output` likewise (`helmcli`: install, upgrade, uninstall; the
chart `flux2` is gitops-sim's Flux chart, any other a folder beside the scenario).

Declares the step (schema side); `steps.actions.flux` runs it. Never imports a runtime module.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import LDict, Location
from gitops_sim.scenario.steps import fields, registry, shapes


@dataclass(frozen=True, slots=True)
class Flux(registry.Action):
    argv: tuple[str, ...]
    exit: int
    output: str | None
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Helm(registry.Action):
    argv: tuple[str, ...]
    exit: int
    output: str | None


def _command(
    value: Any, vloc: Location, vwhere: str, program: str, example: str, env_keys: tuple[str, ...]
) -> tuple[tuple[str, ...], int, str | None, tuple[tuple[str, str], ...]]:
    """A command step's value: (argv after the program's name, exit code, output, env)."""
    exit_code, output = 0, None
    env: tuple[tuple[str, str], ...] = ()
    if isinstance(value, LDict):
        keys = ("run", "exit", "output", *(("env",) if env_keys else ()))
        spec = fields.mapping(value, vloc, vwhere, keys, required=("run",))
        if "env" in spec:
            raw = fields.mapping(spec["env"], spec.value_locs["env"], f"{vwhere}.env", env_keys)
            env = tuple((k, fields.string(v, raw.value_locs[k], f"{vwhere}.env.{k}")) for k, v in raw.items())
        line = fields.string(spec["run"], spec.value_locs["run"], f"{vwhere}.run")
        loc, where = spec.value_locs["run"], f"{vwhere}.run"
        if "exit" in spec:
            if (
                not isinstance(spec["exit"], int)
                or isinstance(spec["exit"], bool)
                or not 0 <= spec["exit"] < 256
            ):
                raise fields.fail(spec.value_locs["exit"], f"{vwhere}.exit", "expected an exit code (0-255)")
            exit_code = spec["exit"]
        if "output" in spec:
            output = fields.text(spec["output"], spec.value_locs["output"], f"{vwhere}.output")
    else:
        line, loc, where = fields.string(value, vloc, vwhere), vloc, vwhere
    try:
        argv = tuple(shlex.split(line))
    except ValueError as exc:
        raise fields.fail(loc, where, f"cannot split the command line: {exc}") from exc
    if argv[:1] == (program,):
        argv = argv[1:]
    if not argv:
        raise fields.fail(loc, where, f"expected a {program} command, such as `{example}`")
    return argv, exit_code, output, env


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Flux:
    return Flux(*_command(value, vloc, vwhere, "flux", "get kustomizations -A", ("GITHUB_TOKEN",)))


def _parse_helm(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Helm:
    argv, exit_code, output, _ = _command(
        value, vloc, vwhere, "helm", "install flux flux2 -n flux-system", ()
    )
    return Helm(argv, exit_code, output)


def _command_schema(
    description: str, program: str, example: str, env_keys: tuple[str, ...]
) -> shapes.Fragment:
    """What `_command` reads: the command line, or {run, exit, output (, env)}."""
    line = shapes.string(
        f"the command line after `{program}`, split as a shell splits words (nothing is executed)",
        pattern=r"\S",
        examples=[example],
    )
    properties = {
        "run": line,
        "exit": shapes.integer("the exit code the command must end with (default 0)", 0, 255),
        "output": shapes.text("text its output (stdout then stderr) must contain"),
    }
    if env_keys:
        properties["env"] = shapes.mapping(
            "the environment the command reads (never shown)",
            {key: shapes.string(f"the value of {key}") for key in env_keys},
        )
    return shapes.any_of(
        description, line, shapes.mapping("the command, its exit code and output", properties, ("run",))
    )


registry.declare(
    registry.Declaration(
        "flux",
        _parse,
        'flux: "<command>"  or {run: "<command>", exit: 0, output: "<text>"}  (the flux CLI)',
        value_schema=_command_schema(
            "A flux CLI command, run against the scenario's cluster in virtual time as the real CLI "
            "would (it must exit 0 unless `exit` says otherwise); `${repos.<name>.head}` and the other "
            "variables of expectations may be used.",
            "flux",
            "get kustomizations -A",
            ("GITHUB_TOKEN",),
        ),
    )
)
registry.declare(
    registry.Declaration(
        "helm",
        _parse_helm,
        'helm: "install|upgrade|uninstall …"  or {run: "<command>", exit: 0, output: "<text>"}  (helm)',
        value_schema=_command_schema(
            "helm install, upgrade or uninstall against the scenario's cluster (the chart flux2 is "
            "gitops-sim's Flux chart, any other a folder beside the scenario).",
            "helm",
            "install flux flux2 -n flux-system --create-namespace",
            (),
        ),
    )
)
