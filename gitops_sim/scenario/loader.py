"""Finding and loading scenario files.

`discover` turns the paths a user gives (files or folders) into scenario files: a file named
explicitly is always a scenario; in a folder, every `*.yaml`/`*.yml` that declares itself one
(`apiVersion: gitops-sim/v1alpha1`, `kind: Scenario`) is, and nothing else (repository folders,
Flux manifests and files a scenario includes with `file:` are never mistaken for scenarios).
`load` parses one file into a `schema.Scenario`, raising `LoadError` with file:line:column and
the field on any mistake.

Scenario files are untrusted: `load` raises nothing but `LoadError` (a file that is not UTF-8, is
larger than `located.MAX_FILE_BYTES`, or is a YAML bomb included), and `is_scenario` is cheap, bounded
and never raises: a file that declares itself a scenario counts as one whatever else is wrong
with it, so that `load` reports what is wrong instead of the file being silently skipped.

Callers: the CLI, the pytest plugin, `testing`.
This module must never execute anything a file says, nor read outside the paths it is given
(files that scenarios include are `schema`'s, confined to the scenario's folder).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from gitops_sim.scenario import located, schema


def load(path: Path, *, horizon_ms: int = schema.DEFAULT_HORIZON_MS) -> schema.Scenario:
    """The scenario in `path`; its advances and waits may add up to `horizon_ms` of virtual time."""
    text = located.read_text(path)
    return schema.parse(located.load(text, str(path)), path, horizon_ms=horizon_ms)


_TOP_LINE = re.compile(
    r"^(apiVersion|kind|name):[ \t]*(?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s#][^#\n]*?))[ \t]*(?:#.*)?$"
)


def header(path: Path) -> dict[str, str]:
    """The top-level `apiVersion`, `kind` and `name` of a file's first document, read line by line
    without parsing (a repository's manifests beside a scenario may hold several documents, or
    anything else); a value that is not a plain or quoted scalar on its line is left out. Bounded
    by `located.MAX_FILE_BYTES` and never raises (an unreadable file has none)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(located.MAX_FILE_BYTES)
    except OSError:
        return {}
    found: dict[str, str] = {}
    started = False
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.startswith(("---", "...")) and started:
            break  # the first document ended
        if line.strip() and not line.lstrip().startswith("#") and not line.startswith("---"):
            started = True
        match = _TOP_LINE.match(line)
        if match:
            found.setdefault(match.group(1), next(g for g in match.groups()[1:] if g is not None))
    return found


def is_scenario(path: Path) -> bool:
    """Whether a YAML file found in a folder is a scenario: its first document declares
    `apiVersion: gitops-sim/v1alpha1` and `kind: Scenario` at its top level (`header`). An
    undeclared file is not a scenario; a declared one is, whatever else is wrong in it (`load`
    then says what)."""
    found = header(path)
    return found.get("apiVersion") == schema.API_VERSION and found.get("kind") == schema.KIND


def discover(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            found.extend(p for p in candidates if is_scenario(p))
        else:
            found.append(path)
    return found
