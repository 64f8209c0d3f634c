"""The scenario CLI's conveniences: `-k` picks scenarios by name, `--seed` overrides the files',
plurals are right, a mistyped step or key gets the nearest known name, `$schema` is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.scenario import loader, select
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario

DECLARED = "apiVersion: gitops-sim/v1alpha1\nkind: Scenario\n"
BODY = "steps:\n  - expect: {object: Namespace/default, fields: {status.phase: Active}}\n"


@pytest.mark.parametrize(
    ("expr", "text", "picked"),
    [
        ("drift", "a drift is reverted scenarios/drift/x.yaml", True),
        ("DRIFT and not helm", "a drift is reverted", True),
        ("helm or image", "a drift is reverted", False),
        ("not (helm or image)", "a drift is reverted", True),
    ],
)
def test_k_reads_words_with_and_or_not(expr: str, text: str, picked: bool) -> None:
    assert select.matches(expr, text) is picked


def test_a_malformed_k_expression_is_refused() -> None:
    with pytest.raises(select.SelectError, match="expected"):
        select.matches("(drift", "x")


def test_run_k_picks_by_name_and_says_one_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(DECLARED + "name: alpha check\n" + BODY)
    (tmp_path / "b.yaml").write_text(DECLARED + "name: beta check\n" + BODY)
    assert cli.main(["run", "-q", "-k", "beta", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "beta check" in out and "alpha check" not in out
    assert "1 scenario in " in out


def test_seed_overrides_the_file_s(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(DECLARED + "name: seeded\nseed: 3\n" + BODY)
    trace = tmp_path / "trace.json"
    assert cli.main(["run", "-q", "--seed", "9", "--trace", str(trace), str(path)]) == 0
    assert '"seed": 9' in trace.read_text()


def test_a_mistyped_step_gets_the_nearest_name(write_scenario: WriteScenario) -> None:
    path = write_scenario("- advanse: 1m\n")
    with pytest.raises(
        LoadError, match=r"steps\[0\]\.advanse: unknown step; did you mean 'advance'\? expected"
    ):
        loader.load(path)


def test_a_schema_key_is_accepted_for_editors(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text('$schema: "./scenario.schema.json"\n' + DECLARED + "name: with schema\n" + BODY)
    assert loader.load(path).name == "with schema"
