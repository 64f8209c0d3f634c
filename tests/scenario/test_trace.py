"""What the trace keeps besides the timeline: condition transitions, steps, and the final state."""

from __future__ import annotations

from pathlib import Path

from gitops_sim.engine import history
from gitops_sim.model import refs
from gitops_sim.scenario import loader, report, runner
from tests.scenario.conftest import WriteScenario

_BROKEN_COMMIT = """\
- advance: 1s
- commit:
    repo: fleet
    message: broken
    files: {apps/cm.yaml: "kind: ConfigMap\\nmetadata: {name: settings"}
- advance: 12m
- expect: {condition: {object: Kustomization/flux-system/apps, type: Ready, status: "False"}}
"""


def _run(write_scenario: WriteScenario, tmp_path: Path, steps: str) -> runner.Outcome:
    outcome = runner.run(loader.load(write_scenario(steps)), tmp_path / "work")
    assert outcome.passed, outcome.failure
    return outcome


def test_the_trace_records_each_ready_transition_of_a_flux_object(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    outcome = _run(write_scenario, tmp_path, _BROKEN_COMMIT)
    ready = [
        (r["status"], r["reason"])
        for r in outcome.trace.records
        if r["kind"] == "condition"
        and r["object"] == "Kustomization/flux-system/apps"
        and r["type"] == "Ready"
    ]
    assert ready == [("True", "ReconciliationSucceeded"), ("False", "BuildFailed")]


def test_a_condition_record_is_written_only_when_the_condition_changes(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    outcome = _run(write_scenario, tmp_path, "- advance: 30m\n")
    ready = [
        r
        for r in outcome.trace.records
        if r["kind"] == "condition"
        and r["object"] == "GitRepository/flux-system/fleet"
        and r["type"] == "Ready"
    ]
    assert [(r["status"], r["reason"]) for r in ready] == [("True", "Succeeded")]  # 30 reconciles


def test_condition_and_step_records_stay_off_the_timeline(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    outcome = _run(write_scenario, tmp_path, _BROKEN_COMMIT)
    kinds = {r["kind"] for r in outcome.trace.records}
    assert {"condition", "step"} <= kinds
    lines = report.timeline_lines(outcome.trace.records)
    assert not any("ReconciliationSucceeded" in line and "Ready" in line.split()[-3:] for line in lines)
    assert len(lines) == len(
        report.timeline_lines(r for r in outcome.trace.records if r["kind"] != "condition")
    )


def test_each_step_is_on_the_trace_with_its_line(write_scenario: WriteScenario, tmp_path: Path) -> None:
    outcome = _run(write_scenario, tmp_path, _BROKEN_COMMIT)
    steps = [(r["index"], r["step"], r["line"]) for r in outcome.trace.records if r["kind"] == "step"]
    first = steps[0][2]
    assert steps == [
        (0, "advance", first),
        (1, "commit", first + 1),
        (2, "advance", first + 5),
        (3, "expect", first + 6),
    ]


def test_the_outcome_carries_every_object_the_run_left(write_scenario: WriteScenario, tmp_path: Path) -> None:
    outcome = _run(write_scenario, tmp_path, "- advance: 1m\n")
    names = {
        f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in outcome.final
    }
    assert {
        "ConfigMap/default/settings",
        "Kustomization/flux-system/apps",
        "Deployment/flux-system/source-controller",
    } <= names
    kustomization = next(o for o in outcome.final if o["kind"] == "Kustomization")
    assert kustomization["status"]["lastAppliedRevision"].startswith("main@sha1:")
    assert all("managedFields" not in o["metadata"] for o in outcome.final)
    assert not any(o["kind"] in ("CustomResourceDefinition", "Event") for o in outcome.final)


def test_a_secret_in_the_final_state_has_its_keys_but_not_its_values() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "git", "namespace": "flux-system", "managedFields": [{"manager": "kubectl"}]},
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "hunter2"},
    }
    shown = history.shown(secret)
    assert shown["data"] == {"password": "<redacted>"}
    assert shown["stringData"] == {"token": "<redacted>"}
    assert "hunter2" not in str(shown) and "aHVudGVyMg" not in str(shown)
    assert secret["data"] == {"password": "aHVudGVyMg=="}  # the object itself is untouched


def test_the_history_answers_what_an_object_was_before_and_after_an_instant() -> None:
    kept = history.History()
    ref = refs.ObjectRef("", "ConfigMap", "default", "settings")
    key = str(ref)
    kept.observe(10, ref, {"kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "a"}})
    kept.observe(20, ref, {"kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "b"}})
    kept.observe(20, ref, {"kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "c"}})
    kept.observe(30, ref, None)
    assert kept.state(key, 5) is None
    assert kept.state(key, 20, before=True)["data"] == {"mode": "a"}  # type: ignore[index]
    assert kept.state(key, 20)["data"] == {"mode": "c"}  # type: ignore[index]
    assert kept.state(key, 30) is None and kept.changed_at(key, 20) and not kept.changed_at(key, 25)
