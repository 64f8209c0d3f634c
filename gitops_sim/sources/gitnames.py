"""What the simulation's git repositories accept as names, and the faults a scenario may give them.

Repository names (`repo_name_problem`: one plain path component, since each becomes a folder of
the scratch space), branch and tag names (`ref_problem`: git check-ref-format's rules, and no
leading '-', which a git command would read as an option) and file paths (`path_problem`:
relative, inside the work tree, never into `.git`). Each answers why a name is refused, or None.

Callers: `sources.git` and `sources.githttp` (which check what scenarios and pushes name with
these, and re-export them), and the scenario language, which checks a scenario file with them
without loading git's client and HTTP server. Pure rules: no git, no I/O.
"""

from __future__ import annotations

import re
from typing import Literal

Fault = Literal["unreachable", "auth", "hang", "protected", "read-only"]
FAULTS: tuple[Fault, ...] = ("unreachable", "auth", "hang", "protected", "read-only")
"""What a scenario's `fault: {repo: …}` can make of a repository (`sources.git` says what each does)."""

_REPO_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def repo_name_problem(name: str) -> str | None:
    """Why `name` cannot name a repository of a scenario (it becomes a folder of the scratch
    space, so it is one plain path component), or None."""
    if not _REPO_NAME.fullmatch(name) or name in (".", ".."):
        return "a repository name is letters, digits, '.', '_' and '-', not starting with '.' or '-'"
    return None


def path_problem(rel: str) -> str | None:
    """Why `rel` cannot be the path of a file in a repository, or None: it must be relative,
    stay inside the work tree, and never reach into git's own folder (`.git` in any case, in any
    component: git refuses such paths in trees for the same reason)."""
    if not rel or "\0" in rel:
        return "a file path must be a non-empty relative path"
    if rel.startswith("/") or "\\" in rel or (len(rel) > 1 and rel[1] == ":"):
        return "file paths must be relative to the repository root (no leading '/', no drive, no '\\')"
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a file path may not contain '..', '.' or empty components"
    if any(part.lower() == ".git" for part in parts):
        return "a file path may not reach into '.git' (git's own folder)"
    if any(part.startswith("-") for part in parts):
        return "a file path component may not start with '-'"
    return None


def ref_problem(name: str) -> str | None:
    """Why `name` cannot be a branch or tag name (git check-ref-format's rules, and no leading
    '-', which a git command would read as an option), or None."""
    if not name or name.startswith("-"):
        return "a branch or tag name may not be empty or start with '-'"
    if (
        _REF_FORBIDDEN.search(name)
        or name == "@"
        or name.endswith(("/", ".", ".lock"))
        or any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
    ):
        return (
            f"{name!r} is not a valid git ref name (no spaces, control characters, '~^:?*[\\', "
            "'..', '@{', '//', and no component starting with '.' or ending with '.lock')"
        )
    return None
