"""`order:` expectations: events since the last action step, one matching each item, in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario


def test_the_source_s_artifact_comes_before_the_kustomization_applies_it(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - expect:
            order:
              - event: {object: GitRepository/flux-system/fleet, reason: NewArtifact}
              - event: {object: Kustomization/flux-system/apps, reason: ReconciliationSucceeded}
            within: 1m
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure


def test_events_in_the_other_order_fail_naming_the_item(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1m
        - expect:
            order:
              - event: {object: Kustomization/flux-system/apps, reason: ReconciliationSucceeded}
              - event: {object: GitRepository/flux-system/fleet, reason: NewArtifact}
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert str(outcome.failure).endswith(
        'expectation failed: order: no event of GitRepository/flux-system/fleet with reason="NewArtifact" '
        "after the one before it (item 1)"
    )


def test_order_takes_events_only(write_scenario: WriteScenario) -> None:
    path = write_scenario("""\
        - expect: {order: [{absent: ConfigMap/default/a}, {event: {object: Kustomization/flux-system/apps}}]}
        """)
    with pytest.raises(LoadError, match=r"steps\[0\]\.expect\.order\[0\]: order takes events"):
        loader.load(path)
