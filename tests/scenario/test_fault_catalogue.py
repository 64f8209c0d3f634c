"""The fault catalogue in scenarios/README.md cannot go stale: every target and type the `fault:` step
accepts (`steps.faults.FAULT_TYPES`) has a row, and every row names shipped scenarios that run its
step (for a fault, that target and type) and check something with `expect:` after it.

Reads the README and loads the scenarios it names; runs none of them (the shipped scenarios run
as pytest items of their own). Never edits a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_sim.scenario import loader
from gitops_sim.scenario.steps import faults

SCENARIOS = Path(__file__).parents[2] / "scenarios"
README = SCENARIOS / "README.md"
HEADING = "## Fault catalogue"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    step: str  # the step cell's first code span, e.g. "fault: {repo: <name>, type: auth}"
    keyword: str
    fault: tuple[str, str] | None  # (target, type) for a `fault:` row
    scenarios: tuple[str, ...]  # paths under scenarios/


def _row(line: int, text: str) -> Row:
    cells = [cell.strip() for cell in text.strip().strip("|").split("|")]
    step = re.match(r"`([^`]+)`", cells[0])
    assert step is not None, f"README.md:{line}: the step cell starts with no `code`"
    parsed: Any = yaml.safe_load(step.group(1))
    assert isinstance(parsed, dict) and len(parsed) == 1, f"README.md:{line}: not one step: {step.group(1)}"
    keyword, value = next(iter(parsed.items()))
    fault = None
    if keyword == "fault":
        target = next(key for key in value if key != "type")
        fault = (str(target), str(value["type"]))
    return Row(line, step.group(1), str(keyword), fault, tuple(re.findall(r"`([^`]+\.yaml)`", cells[-1])))


def catalogue() -> list[Row]:
    """The rows of the table under the catalogue's heading, up to the next heading."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADING)
    rows = []
    for number, text in enumerate(lines[start + 1 :], start + 2):
        if text.startswith("## "):
            break
        if text.startswith("| `"):
            rows.append(_row(number, text))
    return rows


def test_every_fault_target_and_type_has_exactly_one_row_in_the_fault_catalogue() -> None:
    listed = [row.fault for row in catalogue() if row.fault is not None]
    declared = [(target, kind) for target, kinds in faults.FAULT_TYPES.items() for kind in kinds]
    assert sorted(listed) == sorted(declared)


def _follows(row: Row, path: Path) -> str | None:
    """None when the scenario runs the row's step and an `expect:` after it, else what is missing."""
    steps = loader.load(path).steps
    for index, step in enumerate(steps):
        if step.keyword != row.keyword:
            continue
        action = step.action
        if row.fault is not None and not (
            isinstance(action, faults.Fault) and (action.upstream, action.type) == row.fault
        ):
            continue
        if any(later.keyword == "expect" for later in steps[index + 1 :]):
            return None
        return f"{path}:{step.loc.line}: no `expect:` after `{row.step}`"
    return f"{path} never runs `{row.step}`"


@pytest.mark.parametrize("row", catalogue(), ids=lambda row: f"line{row.line}")
def test_each_catalogue_row_names_shipped_scenarios_that_run_its_step_then_expect(row: Row) -> None:
    assert row.scenarios, f"README.md:{row.line}: the row names no scenario"
    for name in row.scenarios:
        path = SCENARIOS / name
        assert path.is_file(), f"README.md:{row.line}: {name} is not a shipped scenario"
        missing = _follows(row, path)
        assert missing is None, f"README.md:{row.line}: {missing}"
