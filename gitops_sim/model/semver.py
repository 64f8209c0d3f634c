"""Semantic versions and range constraints, as Flux reads them (Masterminds/semver v3).

`parse_version` is fluxcd/pkg `version.ParseVersion`: Masterminds' loose parser restricted to
exactly three numeric parts (a `v` prefix is fine; `1.2` and `1.0.0.1` are not versions).
`Constraint` follows Masterminds v3: `||` separates alternatives, commas or spaces separate
conditions that must all hold; operators `=`, `!=`, `>`, `<`, `>=`, `<=` (`=<`), `~` (`~>`), `^`;
wildcards `x`, `X`, `*` and missing parts (`1.2` in a constraint means `1.2.x`); hyphen ranges
`1.2 - 1.4.5`. As in Masterminds, a version with a pre-release (`1.2.0-rc.1`) satisfies an
alternative only when one of its conditions names a pre-release (`>= 1.2.0-0 < 1.3.0`).

A constraint is first checked as Masterminds v3.5.0 `NewConstraint` checks it (`constraints.go`:
`rewriteRange`, `validConstraintRegex`, `findConstraintRegex`, `parseConstraint`), so an invalid
one fails with its words: `improper constraint: "<the ||-alternative>"` (Go's `%q`), or
`constraint parser error` when a condition's version is no version (`1x`, `1.0.0-01`). A version's
numeric pre-release identifiers may not have leading zeros (`validatePrerelease`: `1.0.0-rc.01`
is not a version).

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


# Masterminds v3.5.0 constraints.go, as Go's RE2 reads them (`\s` is ASCII whitespace without \v).
_WS = r"[\t\n\f\r ]"
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_MM_ONE = re.compile(rf"{_WS}*({_OPS}){_WS}*({_CV}){_WS}*")
_MM_RANGE = re.compile(rf"{_WS}*({_CV}){_WS}+-{_WS}+({_CV}){_WS}*")
_MM_FIND = re.compile(rf"({_OPS}){_WS}*({_CV})")
_MM_VALID = re.compile(
    rf"({_WS}*({_OPS}){_WS}*({_CV}){_WS}*)((?:{_WS}+|,{_WS}*)({_OPS}){_WS}*({_CV}){_WS}*)*"
)
_MM_LOOSE = re.compile(
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_UINT64_MAX = 2**64 - 1


def go_quote(text: str) -> str:
    """Go's `%q` of a string (strconv.Quote) for the text a constraint can hold."""
    escapes = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in escapes:
            out.append(escapes[ch])
        elif not ch.isprintable():
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _valid_prerelease(pre: str) -> bool:
    """Masterminds `validatePrerelease`: no empty identifier, no leading zero in a numeric one."""
    for part in pre.split("."):
        if part == "" or (part.isdigit() and len(part) > 1 and part[0] == "0"):
            return False
    return True


def _masterminds_version_ok(text: str) -> bool:
    """Whether Masterminds' (coercing) `NewVersion` accepts `text`."""
    match = _MM_LOOSE.fullmatch(text)
    if match is None:
        return False
    numbers = [match[1], (match[2] or ".0")[1:], (match[3] or ".0")[1:]]
    if any(int(n) > _UINT64_MAX for n in numbers):
        return False
    return not match[5] or _valid_prerelease(match[5])


def _check_masterminds(text: str) -> None:
    """Refuse what Masterminds' `NewConstraint` refuses, with its messages."""
    rewritten = text
    for m in _MM_RANGE.finditer(text):
        rewritten = rewritten.replace(m[0], f">= {m[1]}, <= {m[11]} ", 1)
    for alternative in rewritten.split("||"):
        if _MM_VALID.fullmatch(alternative) is None:
            raise SemverError(f"improper constraint: {go_quote(alternative)}")
        for found in _MM_FIND.finditer(alternative):
            one = _MM_ONE.fullmatch(found[0])
            if one is None:
                raise SemverError(f"improper constraint: {go_quote(found[0])}")
            major, minor, patch, pre = one[3], one[4] or "", one[5] or "", one[6] or ""
            if major in ("x", "X", "*") or major == "":
                version = f"0.0.0{pre}"
            elif minor[1:] in ("x", "X", "*") or minor == "":
                version = f"{major}.0.0{pre}"
            elif patch[1:] in ("x", "X", "*") or patch == "":
                version = f"{major}{minor}.0{pre}"
            else:
                version = one[2]
            if not _masterminds_version_ok(version):
                raise SemverError("constraint parser error")


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
    version = try_parse_version(text)
    if version is None:
        raise SemverError(f"invalid semantic version: {text!r}")
    return version


def try_parse_version(text: str) -> Version | None:
    """`parse_version`, None for what is not a version (no exception: tag lists are mostly not)."""
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    major, minor, patch, pre = match.group("major", "minor", "patch", "pre")
    if pre and not _valid_prerelease(pre):
        return None
    return Version(int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else (), text)


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
        _check_masterminds(text)
        try:
            self._groups = self._parse(text)
        except SemverError as exc:  # Masterminds accepted it: a case our reading does not know
            raise SemverError("constraint parser error") from exc

    @staticmethod
    def _parse(text: str) -> list[list[_Condition]]:
        groups: list[list[_Condition]] = []
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
            groups.append(conditions)
        return groups

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
