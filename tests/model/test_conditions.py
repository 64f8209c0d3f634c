from __future__ import annotations

from typing import Any

from gitops_sim.model import conditions


def obj(generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": "x", "generation": generation}}


def test_a_new_condition_carries_the_generation_and_the_time() -> None:
    o = obj(generation=3)
    conditions.mark_true(o, "Ready", "Succeeded", "ok", now="T1")
    assert conditions.all_of(o) == [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": 3,
            "lastTransitionTime": "T1",
            "reason": "Succeeded",
            "message": "ok",
        }
    ]


def test_last_transition_time_is_kept_when_the_state_does_not_change() -> None:
    o = obj()
    conditions.mark_true(o, "Ready", "Succeeded", "ok", now="T1")
    conditions.mark_true(o, "Ready", "Succeeded", "ok", now="T2")
    assert conditions.get(o, "Ready")["lastTransitionTime"] == "T1"  # type: ignore[index]


def test_last_transition_time_moves_when_the_message_changes_as_in_flux() -> None:
    o = obj()
    conditions.mark_true(o, "Ready", "Succeeded", "rev a", now="T1")
    conditions.mark_true(o, "Ready", "Succeeded", "rev b", now="T2")
    assert conditions.get(o, "Ready")["lastTransitionTime"] == "T2"  # type: ignore[index]


def test_observed_generation_follows_the_object_even_when_the_state_holds() -> None:
    o = obj(generation=1)
    conditions.mark_true(o, "Ready", "Succeeded", "ok", now="T1")
    o["metadata"]["generation"] = 2
    conditions.mark_true(o, "Ready", "Succeeded", "ok", now="T2")
    assert conditions.get(o, "Ready")["observedGeneration"] == 2  # type: ignore[index]


def test_conditions_are_ordered_stalled_reconciling_ready_then_by_type() -> None:
    o = obj()
    for ctype in ("FetchFailed", "Ready", "ArtifactInStorage", "Reconciling", "Stalled"):
        conditions.mark_true(o, ctype, "R", "m", now="T")
    assert [c["type"] for c in conditions.all_of(o)] == [
        "Stalled",
        "Reconciling",
        "Ready",
        "ArtifactInStorage",
        "FetchFailed",
    ]


def test_delete_removes_only_the_named_condition() -> None:
    o = obj()
    conditions.mark_true(o, "Ready", "R", "m", now="T")
    conditions.mark_true(o, "Reconciling", "R", "m", now="T")
    conditions.delete(o, "Reconciling")
    assert [c["type"] for c in conditions.all_of(o)] == ["Ready"]


def test_a_failure_rewrites_an_existing_reconciling_reason_and_adds_none() -> None:
    o = obj()
    conditions.mark_retrying(o, now="T")
    assert conditions.get(o, "Reconciling") is None
    conditions.mark_true(o, "Reconciling", "Progressing", "building artifact", now="T")
    conditions.mark_retrying(o, now="T2")
    cond = conditions.get(o, "Reconciling")
    assert cond is not None
    assert (cond["reason"], cond["message"]) == ("ProgressingWithRetry", "building artifact")
