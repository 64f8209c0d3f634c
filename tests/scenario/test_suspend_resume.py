"""The `suspend` and `resume` steps: what `flux suspend|resume` do to an object, on the timeline."""

from __future__ import annotations

from pathlib import Path

from gitops_sim.scenario import loader, report, runner
from tests.scenario.conftest import WriteScenario


def test_a_suspended_kustomization_applies_nothing_until_resumed(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - suspend: Kustomization/flux-system/apps
        - commit:
            repo: fleet
            message: mode b
            files:
              apps/cm.yaml: |
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: default}
                data: {mode: b}
        - advance: 30m
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: a}}
        - expect: {object: Kustomization/flux-system/apps, fields: {spec.suspend: true}}
        - resume: Kustomization/flux-system/apps
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: b}, within: 2m}
        - expect: {object: Kustomization/flux-system/apps, fields: {spec.suspend: null}}
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure
    lines = report.timeline_lines(outcome.trace.records)
    assert any("Kustomization/flux-system/apps" in line and "suspend" in line for line in lines)
    assert any("resume" in line and "spec.suspend removed" in line for line in lines)
