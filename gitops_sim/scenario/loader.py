"""Finding and loading scenario files.

`discover` turns the paths a user gives (files or folders) into scenario files: a file named
explicitly is always a scenario; in a folder, every `*.yaml`/`*.yml` whose top level is a mapping
with `steps` is one (other YAML files there, such as manifests a scenario includes with
`file:`, are not). `load` parses one file into a `schema.Scenario`, raising `LoadError` with
file:line:column and the field on any mistake.

Scenario files are untrusted: `load` raises nothing but `LoadError` (a file that is not UTF-8, is
larger than `located.MAX_FILE_BYTES`, or is a YAML bomb included), and `is_scenario` is cheap, bounded
and never raises: a file it cannot read or parse counts as a scenario, so that `load` reports
what is wrong with it instead of the file being silently skipped.

Callers: the CLI, the pytest plugin, `testing`.
This module must never execute anything a file says, nor read outside the paths it is given
(files that scenarios include are `schema`'s, confined to the scenario's folder).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gitops_sim.model import yamlsafe
from gitops_sim.scenario import located, schema


def load(path: Path, *, horizon_ms: int = schema.DEFAULT_HORIZON_MS) -> schema.Scenario:
    """The scenario in `path`; its advances and waits may add up to `horizon_ms` of virtual time."""
    text = located.read_text(path)
    return schema.parse(located.load(text, str(path)), path, horizon_ms=horizon_ms)


def is_scenario(path: Path) -> bool:
    """Whether a YAML file found in a folder is a scenario (a mapping with `steps`, no `kind`).
    Bounded (`located.MAX_FILE_BYTES`, `yamlsafe`'s limits) and never raises."""
    try:
        with path.open("rb") as handle:
            data = handle.read(located.MAX_FILE_BYTES + 1)
        if len(data) > located.MAX_FILE_BYTES:
            return True
        parsed = yamlsafe.load(data.decode("utf-8"))
    except Exception:  # whatever is wrong, `load` reports it with its location
        return True
    return isinstance(parsed, dict) and "steps" in parsed and "kind" not in parsed


def discover(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            found.extend(p for p in candidates if is_scenario(p))
        else:
            found.append(path)
    return found
