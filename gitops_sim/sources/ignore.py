"""Which files of a source stay out of its artifact: `.sourceignore` files, `spec.ignore`, and
source-controller's defaults, with .gitignore semantics (as go-git's gitignore package reads them).

Rules, as fluxcd/pkg `sourceignore` and source-controller's archive filter apply them:
- with no `.sourceignore` anywhere and no `spec.ignore`, the default patterns apply (VCS files,
  images and archives, CI configuration);
- otherwise only the VCS patterns (`.git/`, `.gitignore`, `.gitmodules`, `.gitattributes`), then
  every `.sourceignore` (each scoped to its own directory, shallower files first), then
  `spec.ignore` (scoped to the root, so it has the last word);
- the last pattern that matches decides; `!` re-includes; a leading `/` anchors the pattern to its
  file's directory; a trailing `/` matches directories only; a pattern without a slash matches
  at any depth; `**` spans directories. A file inside an excluded directory is excluded: the
  archive never descends into it, so a later `!file` cannot bring it back.

Callers: the source controllers. Pure functions.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VCS_PATTERNS = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
EXTRA_PATTERNS = (
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
)
IGNORE_FILE = ".sourceignore"


@dataclass(frozen=True, slots=True)
class Pattern:
    domain: tuple[str, ...]
    parts: tuple[str, ...]
    negate: bool
    dir_only: bool
    anchored: bool

    def matches(self, path: tuple[str, ...], is_dir: bool) -> bool:
        if path[: len(self.domain)] != self.domain or len(path) <= len(self.domain):
            return False
        if self.dir_only and not is_dir:
            return False
        rel = path[len(self.domain) :]
        if not self.anchored and len(self.parts) == 1:
            return fnmatch.fnmatchcase(rel[-1], self.parts[0])
        return _glob(self.parts, rel)


def _glob(parts: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not parts:
        return not path
    if parts[0] == "**":
        return any(_glob(parts[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], parts[0]) and _glob(parts[1:], path[1:])


def parse(text: str, domain: tuple[str, ...] = ()) -> list[Pattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:] if negate else line
        line = re.sub(r"^\\([#!])", r"\1", line)
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line  # a slash anywhere but at the end anchors it (gitignore)
        parts = tuple(p for p in line.split("/") if p)
        if parts:
            patterns.append(Pattern(domain, parts, negate, dir_only, anchored))
    return patterns


def patterns_for(files: Mapping[str, bytes], spec_ignore: str | None) -> list[Pattern]:
    """The patterns that apply to a source tree, in the order they are read."""
    ignore_files = sorted(
        (p for p in files if p.split("/")[-1] == IGNORE_FILE), key=lambda p: (p.count("/"), p)
    )
    user = [
        pattern
        for path in ignore_files
        for pattern in parse(files[path].decode(errors="replace"), tuple(path.split("/")[:-1]))
    ]
    if spec_ignore is not None:
        user += parse(spec_ignore)
    if not user and spec_ignore is None:
        return parse("\n".join(VCS_PATTERNS + EXTRA_PATTERNS))
    return parse("\n".join(VCS_PATTERNS)) + user


def excluded(path: str, patterns: Iterable[Pattern]) -> bool:
    rules = list(patterns)
    parts = tuple(path.split("/"))
    for depth in range(1, len(parts) + 1):
        prefix, is_dir = parts[:depth], depth < len(parts)
        verdict = False
        for rule in rules:
            if rule.matches(prefix, is_dir):
                verdict = not rule.negate
        if verdict:
            return True
    return False


def select(files: Mapping[str, bytes], spec_ignore: str | None = None) -> dict[str, bytes]:
    """The files that go into the artifact."""
    rules = patterns_for(files, spec_ignore)
    return {path: content for path, content in files.items() if not excluded(path, rules)}
