"""The flux2 chart's files (`model.fluxchart`): written by libyaml as PyYAML's Python emitter
writes them."""

from __future__ import annotations

import pytest
import yaml

from gitops_sim.model import fluxchart


def test_the_charts_files_are_what_the_python_emitter_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = fluxchart.files()
    fluxchart._files.cache_clear()
    monkeypatch.setattr(fluxchart, "_DUMPER", yaml.SafeDumper)
    try:
        assert fluxchart.files() == fast
    finally:
        fluxchart._files.cache_clear()


def test_changing_the_files_given_changes_nothing_for_the_next_caller() -> None:
    given = fluxchart.files()
    given["values.yaml"] = "changed"
    assert fluxchart.files()["values.yaml"] != "changed"
