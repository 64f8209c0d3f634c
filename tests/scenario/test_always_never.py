"""`always:` and `never:` expectations: one that holds at every instant of a `for:` window, or at
none of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario

MODE_B = """\
        - commit:
            repo: fleet
            message: mode b
            files:
              apps/cm.yaml: |
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: default}
                data: {mode: b}
"""


def run(path: Path, tmp_path: Path) -> runner.Outcome:
    return runner.run(loader.load(path), tmp_path / "work")


def test_never_holds_when_a_reverted_value_never_comes_back(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - drift: {object: ConfigMap/default/settings, set: {data.mode: z}}
        - reconcile: Kustomization/flux-system/apps
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: a}, within: 1m}
        - expect: {never: {object: ConfigMap/default/settings, fields: {data.mode: z}}, for: 30m}
        """)
    outcome = run(path, tmp_path)
    assert outcome.passed, outcome.failure
    assert outcome.virtual_ms >= 30 * 60_000


def test_never_fails_at_the_instant_it_holds(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario(
        "- advance: 1s\n"
        + MODE_B.replace("        ", "", 1).replace("\n        ", "\n")
        + "- expect: {never: {object: ConfigMap/default/settings, fields: {data.mode: b}}, for: 30m}\n"
    )
    outcome = run(path, tmp_path)
    assert not outcome.passed
    assert (
        'expectation failed: never (ConfigMap/default/settings data.mode="b") for 30m0s: it held at 00:'
        in str(outcome.failure)
    )


def test_always_holds_through_the_window_or_fails_when_it_breaks(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    steady = write_scenario("""\
        - advance: 1s
        - expect:
            always: {condition: {object: Kustomization/flux-system/apps, type: Ready, status: "True"}}
            for: 1h
        """)
    assert run(steady, tmp_path).passed
    broken = write_scenario(
        "- advance: 1s\n"
        + MODE_B.replace("        ", "", 1).replace("\n        ", "\n")
        + "- expect: {always: {object: ConfigMap/default/settings, fields: {data.mode: a}}, for: 30m}\n"
    )
    outcome = run(broken, tmp_path)
    assert 'data.mode: expected "a", got "b"' in str(outcome.failure)
    assert outcome.virtual_ms < 30 * 60_000


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("- expect: {never: {absent: ConfigMap/default/x}}", "steps[0].expect: missing required field 'for'"),
        (
            "- expect: {always: [{absent: ConfigMap/default/x}], for: 1m}",
            "steps[0].expect.always: expected one expectation, not a list",
        ),
        (
            "- expect: {always: {absent: ConfigMap/default/x, within: 1m}, for: 1m}",
            "steps[0].expect.always: always takes a plain expectation (no within, for, or no-…)",
        ),
    ],
)
def test_a_window_without_its_duration_or_with_a_nested_window_is_refused(
    write_scenario: WriteScenario, step: str, message: str
) -> None:
    path = write_scenario(step + "\n")
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert message in str(caught.value)
