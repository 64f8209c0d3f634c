"""Semantic versions and range constraints, as Flux reads them (Masterminds/semver v3).

`parse_version` is fluxcd/pkg `version.ParseVersion`: Masterminds' loose parser restricted to
exactly three numeric parts (a `v` prefix is fine; `1.2` and `1.0.0.1` are not versions).
`Constraint` follows Masterminds v3: `||` separates alternatives, commas or spaces separate
conditions that must all hold; operators `=`, `!=`, `>`, `<`, `>=`, `<=` (`=<`), `~` (`~>`), `^`;
wildcards `x`, `X`, `*` and missing parts (`1.2` in a constraint means `1.2.x`); hyphen ranges
`1.2 - 1.4.5`. As in Masterminds, a version with a pre-release (`1.2.0-rc.1`) satisfies an
alternative only when one of its conditions names a pre-release (`>= 1.2.0-0 < 1.3.0`).

Callers: the source controllers (Git tags, OCI tags, Helm chart versions). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION = re.compile(
    r"^v?(?P<major>0|[0-9]+)\.(?P<minor>[0-9]+)\.(?P<patch>[0-9]+)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_PARTIAL = re.compile(
    r"^v?(?P<major>[0-9]+|[xX*])(?:\.(?P<minor>[0-9]+|[xX*]))?(?:\.(?P<patch>[0-9]+|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$"
)
_CONDITION = re.compile(r"^\s*(?P<op>!=|>=|=<|<=|=>|~>|>|<|=|~|\^)?\s*(?P<ver>\S+)\s*$")


class SemverError(ValueError):
    """Not a version, or not a constraint."""


@dataclass(frozen=True, slots=True, order=False)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    original: str = field(default="", compare=False)

    def key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        """Sort key in semver precedence (a release sorts after its pre-releases)."""
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def parse_version(text: str) -> Version:
    match = _VERSION.match(text)
    if match is None:
        raise SemverError(f"invalid semantic version: {text!r}")
    pre = tuple(match["pre"].split(".")) if match["pre"] else ()
    return Version(int(match["major"]), int(match["minor"]), int(match["patch"]), pre, text)


@dataclass(frozen=True, slots=True)
class _Condition:
    op: str
    version: Version
    wild: int  # how many leading parts were given (3: all; 1: "1" or "1.x")

    def check(self, v: Version) -> bool:
        c = self.version
        if self.op in ("", "="):
            if self.wild < 3:
                return v.core()[: self.wild] == c.core()[: self.wild]
            return v.key() == c.key()
        if self.op == "!=":
            if self.wild < 3:
                return v.core()[: self.wild] != c.core()[: self.wild]
            return v.key() != c.key()
        if self.op == ">":
            if self.wild < 3:
                return v.core()[: self.wild] > c.core()[: self.wild]
            return v.key() > c.key()
        if self.op == ">=":
            return v.key() >= c.key()
        if self.op == "<":
            return v.key() < c.key()
        if self.op == "<=":
            if self.wild < 3:
                return v.core()[: self.wild] <= c.core()[: self.wild]
            return v.key() <= c.key()
        if self.op == "~":  # >= c, < next minor (or next major when only the major was given)
            upper = (c.major + 1, 0, 0) if self.wild == 1 else (c.major, c.minor + 1, 0)
            return v.key() >= c.key() and v.core() < upper
        if self.op == "^":  # >= c, < next significant part
            if c.major > 0 or self.wild == 1:
                upper = (c.major + 1, 0, 0)
            elif c.minor > 0 or self.wild == 2:
                upper = (0, c.minor + 1, 0)
            else:
                upper = (0, 0, c.patch + 1)
            return v.key() >= c.key() and v.core() < upper
        raise AssertionError(self.op)


def _condition(text: str) -> _Condition:
    match = _CONDITION.match(text)
    if match is None:
        raise SemverError(f"improper constraint: {text}")
    op = {"=<": "<=", "=>": ">=", "~>": "~"}.get(match["op"] or "", match["op"] or "")
    part = _PARTIAL.match(match["ver"])
    if part is None:
        raise SemverError(f"improper constraint: {text.strip()}")
    nums: list[int] = []
    for name in ("major", "minor", "patch"):
        value = part[name]
        if value is None or value in ("x", "X", "*"):
            break
        nums.append(int(value))
    wild = len(nums)
    if wild == 0:
        return _Condition(">=", Version(0, 0, 0), 3)  # "*": anything
    nums += [0] * (3 - wild)
    pre = tuple(part["pre"].split(".")) if part["pre"] else ()
    return _Condition(op, Version(nums[0], nums[1], nums[2], pre), wild)


class Constraint:
    def __init__(self, text: str) -> None:
        self.text = text
        if not text.strip():
            raise SemverError("improper constraint: ")
        self._groups: list[list[_Condition]] = []
        for alternative in text.split("||"):
            alternative = re.sub(r"\s*-\s+", " - ", alternative.strip())
            conditions: list[_Condition] = []
            tokens = [
                t
                for t in re.split(r"[,\s]+", re.sub(r"(!=|>=|=<|<=|=>|~>|[><=~^])\s+", r"\1", alternative))
                if t
            ]
            i = 0
            while i < len(tokens):
                if i + 2 < len(tokens) and tokens[i + 1] == "-":  # a hyphen range
                    low, high = _condition(tokens[i]), _condition(tokens[i + 2])
                    conditions.append(_Condition(">=", low.version, 3))
                    conditions.append(_Condition("<=", high.version, high.wild))
                    i += 3
                    continue
                conditions.append(_condition(tokens[i]))
                i += 1
            if not conditions:
                raise SemverError(f"improper constraint: {text}")
            self._groups.append(conditions)

    def check(self, v: Version) -> bool:
        for conditions in self._groups:
            if v.pre and not any(c.version.pre for c in conditions):
                continue  # pre-releases only match where the alternative asks for them
            if all(c.check(v) for c in conditions):
                return True
        return False


def highest(tags: list[str], constraint: str) -> str | None:
    """The tag with the highest version matching `constraint` (tags that are not versions are
    skipped); None when none matches. Ties (same precedence, other build) go to the later name."""
    rule = Constraint(constraint)
    matching = []
    for tag in tags:
        try:
            version = parse_version(tag)
        except SemverError:
            continue
        if rule.check(version):
            matching.append((version.key(), tag))
    return max(matching)[1] if matching else None
