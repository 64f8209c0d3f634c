"""How a scenario's expected values match what is there: literals, `{contains: …}`, `{regex: …}`
and `{glob: …}`, and partial matches of objects that name the exact path that failed.

- A literal string matches the same string; a trailing newline on either side is ignored (Flux's
  messages often end in one, YAML's block scalars add one).
- `Match` is one of the three forms: `contains` (a substring), `regex` (Go's RE2 syntax, as Flux's
  own patterns, searched anywhere: anchor it with `^…$`) or `glob` (`fnmatch`'s `*`, `?` and
  `[…]`, against the whole text). `parse` reads the form from a one-key mapping.
- `problems(expected, actual, path)` compares a partial object: maps match key by key (a `null`
  expects the key to be absent, at any depth), lists item by item and of the same length, strings
  as above, anything else by equality; each mismatch is reported with its path (`status.
  conditions[0].reason: expected …, got …`).

Callers: `scenario.steps` (parsing expectations) and `scenario.assertions` (checking them). Pure.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Literal

from gitops_sim.model import goregexp, objects

FORMS = ("contains", "regex", "glob")

How = Literal["contains", "regex", "glob"]


class MatchError(ValueError):
    """A form that cannot be used (a regex that does not compile): the message says why."""


@dataclass(frozen=True, slots=True)
class Match:
    how: How
    pattern: str

    def matches(self, actual: Any) -> bool:
        if not isinstance(actual, str):
            return False
        if self.how == "contains":
            return self.pattern in actual
        if self.how == "glob":
            return fnmatch.fnmatchcase(actual.rstrip("\n"), self.pattern)
        return goregexp.compile_go(self.pattern).search(actual) is not None

    def __str__(self) -> str:
        return f"{{{self.how}: {json.dumps(self.pattern, ensure_ascii=False)}}}"


def parse(value: Any) -> Match | None:
    """The form a one-key mapping `{contains|regex|glob: text}` gives, or None for any other
    value; MatchError for a form whose text is not a string or a regex that does not compile."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((how, pattern),) = value.items()
    if how not in FORMS:
        return None
    if not isinstance(pattern, str):
        raise MatchError(f"`{how}` takes a string")
    if how == "regex":
        try:
            goregexp.compile_go(pattern)
        except goregexp.GoRegexpError as exc:
            raise MatchError(str(exc)) from exc
    return Match(how, pattern)


def forms(value: Any) -> Any:
    """`value` with every one-key `{contains|regex|glob: …}` mapping in it read as a `Match`."""
    found = parse(value)
    if found is not None:
        return found
    if isinstance(value, dict):
        return {k: forms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [forms(v) for v in value]
    return value


def holds(expected: Any, actual: Any) -> bool:
    """Whether one expected value matches (see the module docstring)."""
    return not problems(expected, actual, "")


def show(value: Any) -> str:
    if value is objects.MISSING:
        return "<absent>"
    if isinstance(value, Match):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def problems(expected: Any, actual: Any, path: str) -> list[str]:
    """Each place where `actual` does not match `expected`, as `<path>: expected …, got …`."""
    where = path or "value"
    if isinstance(expected, Match):
        return [] if expected.matches(actual) else [f"{where}: expected {expected}, got {show(actual)}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {show(actual)}"]
        out: list[str] = []
        for key, want in expected.items():
            sub = f"{path}.{key}" if path else str(key)
            if want is None:
                if actual.get(key) is not None:
                    out.append(f"{sub}: expected it absent, got {show(actual[key])}")
                continue
            if key not in actual:
                out.append(f"{sub}: expected {show(want)}, got <absent>")
                continue
            out += problems(want, actual[key], sub)
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {show(expected)}, got {show(actual)}"]
        out = []
        for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
            out += problems(want, got, f"{path}[{i}]")
        return out
    if isinstance(expected, str) and isinstance(actual, str):
        same = expected.rstrip("\n") == actual.rstrip("\n")
    else:
        same = bool(expected == actual) and isinstance(expected, bool) == isinstance(actual, bool)
    return [] if same else [f"{where}: expected {show(expected)}, got {show(actual)}"]
