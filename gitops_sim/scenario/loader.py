"""Finding and loading scenario files.

`discover` turns the paths a user gives (files or folders) into scenario files: a file named
explicitly is always a scenario; in a folder, every `*.yaml`/`*.yml` whose top level is a mapping
with `steps` is one (other YAML files there, such as manifests a scenario includes with
`file:`, are not). `load` parses one file into a `schema.Scenario`, raising `LoadError` with
file:line:column and the field on any mistake.

Callers: the CLI, the pytest plugin, `testing`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from gitops_sim.scenario import located, schema
from gitops_sim.scenario.located import LoadError, Location


def load(path: Path) -> schema.Scenario:
    try:
        text = path.read_text()
    except OSError as exc:
        raise LoadError(Location(str(path), 1, 1), f"cannot read scenario: {exc.strerror}") from exc
    return schema.parse(located.load(text, str(path)), path)


def is_scenario(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return True  # let `load` report the problem with its location
    return isinstance(data, dict) and "steps" in data and "kind" not in data


def discover(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            found.extend(p for p in candidates if is_scenario(p))
        else:
            found.append(path)
    return found
