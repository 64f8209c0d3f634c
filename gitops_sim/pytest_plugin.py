"""The pytest plugin (registered through the `pytest11` entry point as `gitops_sim`).

- Collects scenario files as test items: every `*.yaml`/`*.yml` that declares itself a scenario
  (`apiVersion: gitops-sim/v1alpha1`, `kind: Scenario`) under the folders the ini option
  `gitops_sim_paths` lists (default: any folder named `scenarios`), and any file named on the
  command line. Each becomes one item named after the scenario's `name` (else the file's stem),
  so `-k`, `-x` and `--junitxml` work per scenario and read as the scenario is called. Turn it
  off with `gitops_sim_collect = false` in the ini.
- A failing scenario reports the failure (file:line, expected vs actual) and the timeline; a
  scenario that cannot be loaded reports file:line:column and the field, never a traceback.
  Scenario files are untrusted: deciding whether a YAML file is a scenario
  (`loader.is_scenario`) is bounded and never raises, so a broken or hostile file is that one
  item's failure (file:line:column), never an error of the whole collection. Text from the file
  is shown literally (`report.printable`: no raw control characters).
- The `sim` fixture gives a test a fresh `Simulation` (seed 0) in its own tmp_path.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.engine import simulation
from gitops_sim.scenario import loader, report, runner
from gitops_sim.scenario.located import LoadError


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "gitops_sim_collect",
        "collect scenario files (those declaring kind: Scenario) as tests",
        type="bool",
        default=True,
    )
    parser.addini(
        "gitops_sim_paths",
        "folders whose scenario files are collected: paths from the rootdir, or a bare folder name "
        "matching a folder of that name anywhere (default: scenarios)",
        type="linelist",
        default=["scenarios"],
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or not parent.config.getini("gitops_sim_collect"):
        return None
    if _named(parent.config, file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    if _listed(parent.config, file_path) and loader.is_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _named(config: pytest.Config, file_path: Path) -> bool:
    """Whether the file was named on the command line (then it is a scenario, declared or not:
    loading it says what is wrong)."""
    here = config.invocation_params.dir
    return any((here / arg.split("::")[0]).resolve() == file_path.resolve() for arg in config.args)


def _listed(config: pytest.Config, file_path: Path) -> bool:
    """Whether the file is under one of the `gitops_sim_paths` folders."""
    for entry in config.getini("gitops_sim_paths"):
        if "/" not in entry.strip("/") and entry.strip("/") in file_path.parts[:-1]:
            return True
        if file_path.resolve().is_relative_to((config.rootpath / entry).resolve()):
            return True
    return False


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        """One item, named after the scenario's `name` (the file's stem when the name is not a
        one-line scalar), so `-k` and JUnit reports read as the scenario is called."""
        name = loader.header(self.path).get("name") or self.path.stem
        yield ScenarioItem.from_parent(self, name=report.printable(name, multiline=False))


class ScenarioFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class ScenarioItem(pytest.Item):
    def runtest(self) -> None:
        try:
            scenario = loader.load(self.path)
        except LoadError as exc:
            raise ScenarioFailed(report.printable(str(exc))) from exc
        with tempfile.TemporaryDirectory(prefix="gitops-sim-") as workdir:
            outcome = runner.run(scenario, Path(workdir))
        if not outcome.passed:
            timeline = "\n".join(report.timeline_lines(outcome.trace.records))
            name = report.printable(scenario.name, multiline=False)
            failure = report.printable(str(outcome.failure))
            raise ScenarioFailed(f"{failure}\n\nTimeline of '{name}':\n{timeline}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.text
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.path.name}"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[simulation.Simulation]:
    """A fresh simulation with Flux installed, seed 0, virtual time 0."""
    fresh = simulation.Simulation(simulation.Settings(workdir=tmp_path))
    try:
        yield fresh
    finally:
        fresh.close()
