"""The two registries of scenario steps: what a step key parses into, and what runs it.

`declare` (schema side) maps a step key (`commit`) to a `Declaration`: its parser, its one-line
usage for the docs and error messages, whether it is an action step, the virtual time it asks
for, and the JSON Schema of its value (for editors: `gitops-sim schema`). `performs` (runner
side) maps the parsed value's type (`git.Commit`) to the function that carries it out on a
running simulation. `scenario.schema`, `scenario.language_schema` and `scenario.runner` iterate
these and hold no per-step code. Declaring a key twice, or a performer twice, is a mistake
(`ValueError`), so one step cannot silently replace another.

Callers: the modules in `scenario.steps` (they register), `scenario.schema`, `scenario.runner`,
and tests that add their own steps. This module must never import a runtime module: the schema
imports it, and performers are stored here only as callables, typed without their context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import fields


class Action:
    """What a step does, parsed: every step's value type derives from this (a frozen, slotted
    dataclass)."""

    __slots__ = ()


Parser = Callable[[Any, Location, str, fields.Context], Action]
"""(the step's YAML value, its location, its field path `steps[3].commit`, the file context)."""

Span = tuple[int, Location, str]
"""Virtual time a step asks for: (milliseconds, where it is asked, its field path)."""


def _no_spans(action: Action, index: int, loc: Location) -> Iterable[Span]:
    return ()


@dataclass(frozen=True, slots=True)
class Declaration:
    key: str
    parse: Parser
    usage: str
    """One line for the docs: `commit: {repo, message, branch, files, delete, author, tag}`."""
    marks_events: bool = True
    """An action step: event expectations look at events since the last such step began."""
    spans: Callable[[Action, int, Location], Iterable[Span]] = _no_spans
    """The virtual time the step asks for (`advance`, `expect … within`), checked at load."""
    value_schema: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = field(default_factory=dict)
    """The JSON Schema (draft 2020-12) of the step's value, written beside its parser with
    `steps.shapes`, or a function that builds it when asked (a schema made from a registry that
    may still grow, as `fault`'s targets); see `schema()`. Empty: any value."""

    def schema(self) -> Mapping[str, Any]:
        """The JSON Schema of the step's value, as it stands now: what `scenario.language_schema`
        puts under the step's key in the schema editors read."""
        return self.value_schema() if callable(self.value_schema) else self.value_schema


F = TypeVar("F", bound=Callable[..., None])

_DECLARED: dict[str, Declaration] = {}
_PERFORMERS: dict[type[Action], Callable[..., None]] = {}


def declare(declaration: Declaration) -> Declaration:
    """Make `declaration.key` a step of the scenario language."""
    if declaration.key in _DECLARED:
        raise ValueError(f"step {declaration.key!r} is already declared")
    _DECLARED[declaration.key] = declaration
    return declaration


def declared() -> dict[str, Declaration]:
    """The declared steps by key, in the order they were declared."""
    return dict(_DECLARED)


def withdraw(key: str, action_type: type[Action] | None = None) -> None:
    """Take step `key` (and the performer of `action_type`) out of the language: what a step
    declared for a while (a test's, a plugin's that is unloaded) does when it is done."""
    _DECLARED.pop(key, None)
    if action_type is not None:
        _PERFORMERS.pop(action_type, None)


def performs(action_type: type[Action]) -> Callable[[F], F]:
    """Register the decorated function as what runs a step parsed into `action_type`; it is
    called as `fn(action, step, context)` with the runner's `actions.base.Context`."""

    def register(fn: F) -> F:
        if action_type in _PERFORMERS:
            raise ValueError(f"{action_type.__name__} already has a performer")
        _PERFORMERS[action_type] = fn
        return fn

    return register


def performer(action: Action) -> Callable[..., None] | None:
    """What runs `action`, or None when nothing was registered for its type."""
    return _PERFORMERS.get(type(action))
