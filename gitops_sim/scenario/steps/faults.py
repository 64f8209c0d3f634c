"""The fault steps, `fault` and `heal`, and the registry of what can be faulted.

    fault: {<target>: what, type: <one of the target's fault types>}
    heal: {<target>: what}

A target (`repo`, `registry`, `charts`, `bucket`, `artifact`, `image`, `pods`) is declared once
with `target(...)`: its name, what it names, and its fault types; `FAULT_TYPES` is built from those
declarations and the parser accepts exactly them. What a fault does to a target is registered on
the runner side (`steps.actions.faults.injects`).

Declares the steps (schema side). Never imports a runtime module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import fields, registry, shapes
from gitops_sim.sources import gitnames


@dataclass(frozen=True, slots=True)
class Fault(registry.Action):
    target: str  # a repository name, a registry host[/name], or a chart repository URL
    type: str  # see FAULT_TYPES
    upstream: str = "repo"  # the target's kind: a key of FAULT_TYPES


@dataclass(frozen=True, slots=True)
class Heal(registry.Action):
    target: str
    upstream: str = "repo"


FAULT_TYPES: dict[str, tuple[str, ...]] = {}
"""Fault types by target, in the order targets were declared."""
_NAMES: dict[str, str] = {}


def target(name: str, names: str, types: tuple[str, ...]) -> None:
    """Declare a fault target: its key in a `fault:`/`heal:` step, what its value names (for
    messages), and its fault types."""
    if name in FAULT_TYPES:
        raise ValueError(f"fault target {name!r} is already declared")
    FAULT_TYPES[name] = types
    _NAMES[name] = names


target("repo", "a repository", gitnames.FAULTS)
target("registry", "host[/name]", ("unreachable", "unavailable", "hang"))
target("charts", "a URL", ("unreachable", "unavailable"))
target("bucket", "endpoint/bucket", ("unreachable", "unavailable"))
target("artifact", "a source object", ("missing", "corrupted"))  # one-off: the source controller repairs it
# The two below are `workloads.images.FAULTS` and `sources.webhooks.FAULTS`, written out: those
# modules load the kubelet and an HTTP client, which checking a scenario file does not need
# (`tests/test_startup.py` keeps them equal).
target("image", "a container image", ("crash-loop", "never-ready", "unpullable"))
target("sink", "a sink name", ("down", "unavailable", "hang"))
target(
    "pods", "a workload, Kind/namespace/name", ("evicted",)
)  # one-off: the workload's controller replaces them


def _one_of() -> str:
    named = [f"`{name}` ({what})" for name, what in _NAMES.items()]
    return ", ".join(named[:-1]) + " or " + named[-1] if len(named) > 1 else "".join(named)


def _parse(value: Any, vloc: Location, vwhere: str, *, heal: bool) -> Fault | Heal:
    allowed = tuple(FAULT_TYPES) if heal else (*FAULT_TYPES, "type")
    spec = fields.mapping(value, vloc, vwhere, allowed, required=() if heal else ("type",))
    which = [k for k in FAULT_TYPES if k in spec]
    if len(which) != 1:
        raise fields.fail(vloc, vwhere, f"name exactly one of {_one_of()}")
    what = fields.string(spec[which[0]], spec.value_locs[which[0]], f"{vwhere}.{which[0]}")
    if heal:
        return Heal(what, upstream=which[0])
    kind = fields.string(spec["type"], spec.value_locs["type"], f"{vwhere}.type")
    if kind not in FAULT_TYPES[which[0]]:
        raise fields.fail(
            spec.value_locs["type"], f"{vwhere}.type", f"expected one of: {', '.join(FAULT_TYPES[which[0]])}"
        )
    return Fault(what, kind, upstream=which[0])


def _parse_fault(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Fault | Heal:
    return _parse(value, vloc, vwhere, heal=False)


def _parse_heal(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Fault | Heal:
    return _parse(value, vloc, vwhere, heal=True)


def _fault_schema() -> shapes.Fragment:
    """One branch per target: its key and its fault types, from `FAULT_TYPES` as it is when asked
    (a target declared later is in it)."""
    return shapes.any_of(
        "Make an upstream, a stored artifact or a workload misbehave until `heal` (one-off for "
        "artifact and pods): name exactly one target and one of its fault types.",
        *(
            shapes.mapping(
                f"a fault of {_NAMES[name]}",
                {
                    name: shapes.string(f"the target: {_NAMES[name]}"),
                    "type": shapes.choice(f"what goes wrong with {_NAMES[name]}", types),
                },
                required=(name, "type"),
            )
            for name, types in FAULT_TYPES.items()
        ),
    )


def _heal_schema() -> shapes.Fragment:
    return shapes.mapping(
        "The target answers again: name exactly one.",
        {name: shapes.string(f"the target: {_NAMES[name]}") for name in FAULT_TYPES},
        minProperties=1,
        maxProperties=1,
    )


registry.declare(
    registry.Declaration(
        "fault",
        _parse_fault,
        "fault: {<target>: what, type}  (targets below)",
        value_schema=_fault_schema,
    )
)
registry.declare(
    registry.Declaration("heal", _parse_heal, "heal: {<target>: what}", value_schema=_heal_schema)
)
