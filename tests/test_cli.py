from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.scenario import loader

SCENARIOS = Path(__file__).parents[1] / "scenarios"
FAILING = """\
name: expects what never happens
steps:
  - expect: {absent: Namespace/default}
"""


def test_run_prints_the_timeline_and_a_summary_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", str(SCENARIOS / "drift" / "replicas-reverted.yaml")]) == 0
    out = capsys.readouterr().out
    assert "kustomize-controller" in out and "Deployment/apps/podinfo configured" in out
    assert out.rstrip().splitlines()[-1] == "1 passed, 0 failed"


def test_a_failing_scenario_exits_one_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "failing.yaml"
    path.write_text(FAILING)
    assert cli.main(["run", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:3:13: expectation failed: Namespace/default still exists" in out.replace("\n", "")
    assert out.rstrip().splitlines()[-1] == "0 passed, 1 failed"


def test_a_scenario_that_cannot_load_exits_two_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsteps:\n  - advance: forever\n")
    assert cli.main(["run", str(path)]) == 2
    out = capsys.readouterr().out
    assert "steps[0].advance: invalid duration 'forever'" in out
    assert "Traceback" not in out


def test_an_empty_folder_is_an_error_not_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", str(tmp_path)]) == 2
    assert "no scenarios found" in capsys.readouterr().out


def test_trace_writes_every_record_as_json(tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    assert (
        cli.main(["run", "-q", str(SCENARIOS / "kustomize" / "prune-on-off.yaml"), "--trace", str(trace)])
        == 0
    )
    [run] = json.loads(trace.read_text())
    assert run["passed"] is True
    kinds = {r["kind"] for r in run["records"]}
    assert {"commit", "apply", "event", "expect"} <= kinds


def test_validate_checks_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(SCENARIOS)]) == 0
    shipped = len(loader.discover([SCENARIOS]))
    lines = capsys.readouterr().out.strip().splitlines()  # warnings (a deprecated version) may come first
    assert lines[-1] == f"{shipped} valid, 0 invalid"
    assert [line for line in lines if not line.startswith("warning ")] == lines[-1:]


def test_python_dash_m_is_the_same_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gitops_sim", "list", str(SCENARIOS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "a hand-edited replica count is reverted at the next interval" in proc.stdout


def test_explain_runs_the_scenario_then_tells_why_an_automation_committed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = SCENARIOS / "images" / "numerical-release-candidates.yaml"
    assert cli.main(["explain", "imageupdateautomation", "fleet", str(path)]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out
    assert "app-rc: selected, numerical asc" in out
    assert "app-text: not selected" in out
    assert "chosen: 1.2.0-rc10" in out


def test_explain_of_an_automation_that_does_not_exist_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    path = SCENARIOS / "images" / "push-race.yaml"
    assert cli.main(["explain", "iua", "nope", str(path)]) == 2
    assert "ImageUpdateAutomation/flux-system/nope: not found" in capsys.readouterr().out
