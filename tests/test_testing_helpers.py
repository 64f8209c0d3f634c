"""The public test helpers of `gitops_sim.testing`: `ready` and `events_of`, as users' tests use them."""

from __future__ import annotations

import pytest

from gitops_sim import testing
from gitops_sim.engine import simulation
from tests.builders import CONFIGMAP, GITREPO, KS, gitrepository, kustomization, repo_with


def synced(sim: simulation.Simulation) -> str:
    """`fleet` with one ConfigMap, its GitRepository and Kustomization reconciled once; the commit."""
    repo = repo_with(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(1_000)
    return repo.head() or ""


def test_ready_gives_the_status_reason_and_message_of_the_ready_condition(sim: simulation.Simulation) -> None:
    commit = synced(sim)
    assert testing.ready(sim.cluster.get(KS)) == {
        "status": "True",
        "reason": "ReconciliationSucceeded",
        "message": f"Applied revision: main@sha1:{commit}",
    }


def test_ready_picks_the_ready_condition_among_others() -> None:
    obj = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "status": {
            "conditions": [
                {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "Building"},
                {"type": "Ready", "status": "Unknown", "reason": "Progressing", "message": "Reconciling"},
                {"type": "Healthy", "status": "False", "reason": "Progressing", "message": "waiting"},
            ]
        },
    }
    assert testing.ready(obj) == {"status": "Unknown", "reason": "Progressing", "message": "Reconciling"}


def test_ready_of_an_object_not_yet_reconciled_raises_lookup_error_naming_it(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    with pytest.raises(LookupError) as raised:
        testing.ready(sim.cluster.get(GITREPO))
    assert str(raised.value) == (
        f"{GITREPO} has no Ready condition: has its controller reconciled it yet "
        "(advance the simulation's clock)?"
    )


def test_events_of_lists_one_objects_events_oldest_first_with_their_virtual_time(
    sim: simulation.Simulation,
) -> None:
    synced(sim)
    assert testing.events_of(sim, KS) == [
        testing.RecordedEvent(750, "Normal", "Progressing", "ConfigMap/default/settings created"),
        testing.RecordedEvent(
            750, "Normal", "ReconciliationSucceeded", "Reconciliation finished in 0s, next run in 10m0s"
        ),
    ]
    assert testing.events_of(sim, GITREPO) == [
        testing.RecordedEvent(750, "Normal", "NewArtifact", "stored artifact for commit 'init'")
    ]


def test_a_recorded_event_compares_equal_to_a_plain_tuple_and_names_its_fields(
    sim: simulation.Simulation,
) -> None:
    synced(sim)
    [event] = testing.events_of(sim, GITREPO)
    assert event == (750, "Normal", "NewArtifact", "stored artifact for commit 'init'")
    assert (event.t, event.type, event.reason) == (750, "Normal", "NewArtifact")


def test_events_of_an_object_without_events_is_empty(sim: simulation.Simulation) -> None:
    assert testing.events_of(sim, KS) == []
