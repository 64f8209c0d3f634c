"""Matching in expectations: literals, `{contains}`, `{regex}` and `{glob}` wherever a string is
compared, `null` as absent at any depth, and failures that name the exact path."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.model import matching
from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario


def run(path: Path, tmp_path: Path) -> runner.Outcome:
    return runner.run(loader.load(path), tmp_path / "work")


def test_a_condition_message_can_be_matched_by_contains_regex_or_glob(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect:
            - condition:
                object: Kustomization/flux-system/apps
                type: Ready
                message: {contains: "Applied revision"}
            - condition:
                object: Kustomization/flux-system/apps
                type: Ready
                message: {regex: "^Applied revision: main@sha1:[0-9a-f]{40}$"}
            - condition:
                {object: Kustomization/flux-system/apps, type: Ready, reason: {glob: "Reconciliation*"}}
        """)
    outcome = run(path, tmp_path)
    assert outcome.passed, outcome.failure


def test_an_event_s_message_matches_by_regex(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect:
            event:
              object: Kustomization/flux-system/apps
              message: {regex: "ConfigMap/default/settings (created|configured)"}
        """)
    assert run(path, tmp_path).passed


def test_a_literal_message_ignores_a_trailing_newline(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect:
            condition:
              object: Kustomization/flux-system/apps
              type: Ready
              message: |
                ${repos.fleet.head}
        """)
    outcome = run(path, tmp_path)
    assert not outcome.passed  # the literal differs; the newline YAML's block adds is not why
    assert "message: expected" in str(outcome.failure)
    path = write_scenario("""\
        - advance: 1s
        - expect:
            condition:
              object: Kustomization/flux-system/apps
              type: Ready
              message: |
                Applied revision: main@sha1:${repos.fleet.head}
        """)
    assert run(path, tmp_path).passed


def test_null_inside_a_nested_map_means_absent(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect: {object: ConfigMap/default/settings, fields: {data: {mode: a, other: null}}}
        """)
    assert run(path, tmp_path).passed


def test_a_failed_match_names_the_exact_path_expected_and_got(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect:
            object: Kustomization/flux-system/apps
            fields: {status: {conditions: [{type: Ready, reason: {glob: "Fail*"}}]}}
        """)
    outcome = run(path, tmp_path)
    assert 'status.conditions[0].reason: expected {glob: "Fail*"}, got "ReconciliationSucceeded"' in str(
        outcome.failure
    )


def test_a_regex_that_does_not_compile_is_refused_at_load(write_scenario: WriteScenario) -> None:
    path = write_scenario("""\
        - expect: {event: {object: Kustomization/flux-system/apps, message: {regex: "(unclosed"}}}
        """)
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value) == (
        f"{path}:23:71: steps[0].expect.event.message: error parsing regexp: missing closing ): `(unclosed`"
    )


@pytest.mark.parametrize(
    ("expected", "actual", "found"),
    [
        ({"a": {"b": None}}, {"a": {"c": 1}}, []),
        ({"a": {"b": None}}, {"a": {"b": 2}}, ["a.b: expected it absent, got 2"]),
        ({"a": [1, 2]}, {"a": [1]}, ["a: expected [1, 2], got [1]"]),
        ({"a": True}, {"a": 1}, ["a: expected true, got 1"]),
        ({"a": "x\n"}, {"a": "x"}, []),
        ({"a": matching.Match("glob", "v1.*")}, {"a": "v1.2"}, []),
        ({"a": matching.Match("contains", "x")}, {"a": 3}, ['a: expected {contains: "x"}, got 3']),
    ],
)
def test_partial_matches_report_each_mismatch_at_its_path(
    expected: object, actual: object, found: list[str]
) -> None:
    assert matching.problems(expected, actual, "") == found
