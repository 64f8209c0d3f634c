"""Go's glob dialects over a tree of files: `path.Match` and `io/fs.Glob`, and doublestar's.

What it does: `match(pattern, name)` is Go's `path.Match` (`*` and `?` never cross `/`, `[...]`
classes with `^` negation and ranges, `\\` escapes), `glob(tree, pattern)` is `io/fs.Glob`
(one directory level per pattern segment, matches in directory order, files and directories
alike), and `doublestar_match`/`doublestar_glob` are github.com/bmatcuk/doublestar/v4's (`**`
as a whole segment spans any number of directories, zero included; `{a,b}` alternatives; `!` or
`^` negates a class). A malformed pattern is `PatternError` ("syntax error in pattern", Go's
`ErrBadPattern`), also where Go only notices it when the match gets that far: the whole pattern
is checked first.

Provenance: behaviour of Go's `path/match.go` and `io/fs/glob.go`, and doublestar v4's
`match.go`/`glob.go`; our own code. Differences: a class range written high-to-low matches
nothing (as in Go) rather than failing; doublestar's brace alternatives are expanded up to
`MAX_ALTERNATIVES`, more is a `PatternError`.

Callers: `model.artifactbuild` (source-watcher's copy operations). Pure functions over a `Tree`
protocol; no filesystem access.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Protocol

MAX_ALTERNATIVES = 1024
"""Brace alternatives a doublestar pattern may expand to."""


class PatternError(ValueError):
    """A malformed pattern (Go's `path.ErrBadPattern`, doublestar's `ErrBadPattern`)."""

    def __init__(self) -> None:
        super().__init__("syntax error in pattern")


class Tree(Protocol):
    """A tree of files and directories, by clean relative path ("." is the root)."""

    def is_dir(self, path: str) -> bool: ...

    def is_file(self, path: str) -> bool: ...

    def list_dir(self, path: str) -> list[str]:
        """The names in directory `path`, sorted (as `fs.ReadDir` returns them)."""
        ...

    def paths(self) -> list[str]:
        """Every file and directory but the root."""
        ...


def _class(pattern: str, i: int, negations: str) -> tuple[str, int]:
    """The regex of the class opening at `pattern[i]` ('['), and the index after its ']'."""
    i += 1
    negated = i < len(pattern) and pattern[i] in negations
    if negated:
        i += 1
    ranges: list[str] = []
    count = 0
    while True:
        if i < len(pattern) and pattern[i] == "]" and count > 0:
            i += 1
            break
        lo, i = _class_char(pattern, i)
        hi = lo
        if pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1)
        if lo <= hi:
            ranges.append(re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}")
        count += 1
    if not ranges:
        return ("(?s:.)" if negated else "(?!)"), i
    return f"[{'^' if negated else ''}{''.join(ranges)}]", i


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly escaped) class character at `pattern[i]`, as Go's `getEsc` reads it."""
    if i >= len(pattern) or pattern[i] in "-]":
        raise PatternError()
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise PatternError()
    if i + 1 >= len(pattern):  # a class must be closed
        raise PatternError()
    return pattern[i], i + 1


def _segment_regex(pattern: str, negations: str) -> str:
    """The regex of a pattern without `/`-spanning stars: `*`, `?`, classes, escapes."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            regex, i = _class(pattern, i, negations)
            out.append(regex)
        elif c == "\\":
            if i + 1 >= len(pattern):
                raise PatternError()
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def _path_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_segment_regex(pattern, "^") + r"\Z", re.DOTALL)


def match(pattern: str, name: str) -> bool:
    """Go's `path.Match(pattern, name)`; `PatternError` when the pattern is malformed."""
    return _path_regex(pattern).match(name) is not None


def _has_meta(path: str) -> bool:
    return any(c in path for c in "*?[\\")


def valid_path(path: str) -> bool:
    """`io/fs.ValidPath`: "." or slash-separated names, none empty, "." or ".."."""
    if path == ".":
        return True
    return bool(path) and all(part not in ("", ".", "..") for part in path.split("/"))


def glob(tree: Tree, pattern: str) -> list[str]:
    """`io/fs.Glob(tree, pattern)`: the paths that match, files and directories alike."""
    _path_regex(pattern)  # a malformed pattern fails even where nothing would match
    return _glob(tree, pattern, 0)


def _exists(tree: Tree, path: str) -> bool:
    return valid_path(path) and (tree.is_dir(path) or tree.is_file(path))


def _glob(tree: Tree, pattern: str, depth: int) -> list[str]:
    if depth > 10_000:
        raise PatternError()
    if not _has_meta(pattern):
        return [pattern] if _exists(tree, pattern) else []
    cut = pattern.rfind("/")
    folder, file = pattern[: cut + 1], pattern[cut + 1 :]
    folder = "." if folder == "" else folder[:-1]
    if not _has_meta(folder):
        return _glob_in(tree, folder, file)
    if folder == pattern:
        raise PatternError()
    out: list[str] = []
    for found in _glob(tree, folder, depth + 1):
        out += _glob_in(tree, found, file)
    return out


def _glob_in(tree: Tree, folder: str, pattern: str) -> list[str]:
    if not valid_path(folder) or not tree.is_dir(folder):
        return []  # fs.Glob ignores I/O errors
    return [
        name if folder == "." else f"{folder}/{name}"
        for name in tree.list_dir(folder)
        if match(pattern, name)
    ]


# --- doublestar ------------------------------------------------------------------------------


def _alternatives(pattern: str) -> list[str]:
    """`pattern` with its `{a,b}` alternatives expanded (nested ones too)."""
    start = -1
    depth = 0
    i = 0
    in_class = False
    commas: list[int] = []
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "{":
            if depth == 0:
                start, commas = i, []
            depth += 1
        elif c == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                head, tail = pattern[:start], pattern[i + 1 :]
                bounds = [start, *commas, i]
                out: list[str] = []
                for a, b in itertools.pairwise(bounds):
                    for rest in _alternatives(pattern[a + 1 : b] + tail):
                        out.append(head + rest)
                        if len(out) > MAX_ALTERNATIVES:
                            raise PatternError()
                return out
        elif c == "," and depth == 1:
            commas.append(i)
        i += 1
    if depth > 0 or in_class:
        raise PatternError()
    return [pattern]


@functools.lru_cache(maxsize=512)
def _doublestar_regex(pattern: str) -> re.Pattern[str]:
    branches: list[str] = []
    for alternative in _alternatives(pattern):
        segments = alternative.split("/")
        out = ""
        for index, segment in enumerate(segments):
            last = index == len(segments) - 1
            if segment == "**":
                if len(segments) == 1:
                    out += ".*"
                elif last:
                    out = f"{out[:-1]}(?:/.*)?" if out.endswith("/") else out + ".*"
                else:
                    out += "(?:.*/)?"
            else:
                out += _segment_regex(segment, "^!") + ("" if last else "/")
        branches.append(out)
    return re.compile("(?:" + "|".join(branches) + r")\Z", re.DOTALL)


def doublestar_match(pattern: str, name: str) -> bool:
    """doublestar's `Match(pattern, name)`; `PatternError` when the pattern is malformed."""
    return _doublestar_regex(pattern).match(name) is not None


def doublestar_glob(tree: Tree, pattern: str) -> list[str]:
    """doublestar's `Glob(tree, pattern)`: the matching paths in walk order (depth first, names
    sorted in each directory)."""
    regex = _doublestar_regex(pattern)
    found = [p for p in tree.paths() if regex.match(p)]
    return sorted(found, key=lambda p: p.split("/"))
