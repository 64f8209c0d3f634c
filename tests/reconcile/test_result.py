"""fluxcd/pkg runtime/reconcile: the progressive status and the result finalizer the image controllers use."""

from __future__ import annotations

from typing import Any

from gitops_sim.model import conditions, objects
from gitops_sim.reconcile import result

NOW = "2026-01-01T00:00:00Z"
INTERVAL = 600_000
READY_MESSAGE = "successful scan: found 3 tags with checksum 1943865137"


def repository(**annotations: str) -> objects.RawObject:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "apps", "generation": 1, "annotations": annotations},
        "status": {},
    }


def scan_success(res: result.Result, error: str | None) -> bool:
    """ImageRepository's `isSuccess`: no error, requeued after the next scan time, nothing else."""
    return error is None and res.requeue_after_ms == INTERVAL and not res.requeue


def no_requeue_success(res: result.Result, error: str | None) -> bool:
    """A controller whose success is an empty result and no error."""
    return error is None and res.is_zero


def state(obj: objects.RawObject) -> dict[str, tuple[str, str, str]]:
    return {
        c["type"]: (c["status"], c["reason"], c["message"])
        for c in obj.get("status", {}).get("conditions", [])
    }


def finalize(obj: objects.RawObject, res: result.Result, error: str | None, **kw: Any) -> str | None:
    return result.finalize(
        obj, res, error, is_success=kw.get("is_success", scan_success), ready_message=READY_MESSAGE, now=NOW
    )


def test_progress_marks_reconciling_and_an_unknown_ready_on_a_new_object() -> None:
    obj = repository()
    result.progressive_status(obj, False, "Progressing", "scanning: first scan", now=NOW)
    assert state(obj) == {
        "Reconciling": ("True", "Progressing", "scanning: first scan"),
        "Ready": ("Unknown", "Progressing", "scanning: first scan"),
    }


def test_progress_leaves_a_true_ready_alone_unless_it_is_drift() -> None:
    obj = repository()
    conditions.mark_true(obj, "Ready", "Succeeded", "before", now=NOW)
    result.progressive_status(obj, False, "Progressing", "scanning: triggered by interval", now=NOW)
    assert state(obj)["Ready"] == ("True", "Succeeded", "before")
    result.progressive_status(obj, True, "Progressing", "scanning: no tags in database", now=NOW)
    assert state(obj)["Ready"] == ("Unknown", "Progressing", "scanning: no tags in database")


def test_a_successful_scan_ends_ready_with_the_success_message() -> None:
    obj = repository()
    result.progressive_status(obj, False, "Progressing", "scanning: first scan", now=NOW)
    assert finalize(obj, result.Result(requeue_after_ms=INTERVAL), None) is None
    assert state(obj) == {"Ready": ("True", "Succeeded", READY_MESSAGE)}


def test_a_failed_scan_keeps_the_steps_ready_and_reconciling_and_returns_the_error() -> None:
    obj = repository()
    result.progressive_status(obj, False, "Progressing", "scanning: first scan", now=NOW)
    conditions.mark_false(obj, "Ready", "ReadOperationFailed", "scan failed: 503", now=NOW)
    assert finalize(obj, result.Result(), "scan failed: 503") == "scan failed: 503"
    assert state(obj) == {
        "Reconciling": ("True", "Progressing", "scanning: first scan"),
        "Ready": ("False", "ReadOperationFailed", "scan failed: 503"),
    }


def test_an_error_where_ready_was_still_true_marks_it_failed() -> None:
    obj = repository()
    conditions.mark_true(obj, "Ready", "Succeeded", "before", now=NOW)
    assert finalize(obj, result.Result(), "failed to determine if it's scan time: x") is not None
    assert state(obj)["Ready"] == ("False", "Failed", "failed to determine if it's scan time: x")


def test_a_stall_without_an_error_becomes_ready_false_with_its_reason() -> None:
    obj = repository()
    result.progressive_status(obj, False, "Progressing", "reconciliation in progress", now=NOW)
    conditions.mark_stalled(
        obj, "ImageURLInvalid", "image 'a:1' should not include a tag; remove ':1'", now=NOW
    )
    assert finalize(obj, result.Result(), None) is None
    assert state(obj) == {
        "Stalled": ("True", "ImageURLInvalid", "image 'a:1' should not include a tag; remove ':1'"),
        "Ready": ("False", "ImageURLInvalid", "image 'a:1' should not include a tag; remove ':1'"),
    }
    assert result.observes_generation(obj)


def test_an_error_clears_a_stall_left_from_before() -> None:
    obj = repository()
    conditions.mark_stalled(obj, "ImageURLInvalid", "old", now=NOW)
    conditions.mark_unknown(obj, "Ready", "Progressing", "reconciliation in progress", now=NOW)
    finalize(obj, result.Result(), "scan failed: x")
    assert "Stalled" not in state(obj)
    assert state(obj)["Ready"] == ("False", "Failed", "scan failed: x")
    assert not result.observes_generation(obj)


def test_a_requeue_that_is_not_success_clears_the_stall() -> None:
    obj = repository()
    conditions.mark_stalled(obj, "ImageURLInvalid", "old", now=NOW)
    conditions.mark_true(obj, "Ready", "Succeeded", "before", now=NOW)
    finalize(obj, result.Result(requeue_after_ms=30_000), None)
    assert "Stalled" not in state(obj)


def test_a_success_that_left_ready_false_ends_in_an_error_with_its_message() -> None:
    obj = repository()
    conditions.mark_false(obj, "Ready", "DependencyNotReady", "no tags in database", now=NOW)
    assert finalize(obj, result.Result(requeue_after_ms=INTERVAL), None) == "no tags in database"


def test_with_a_no_requeue_success_a_stall_set_this_reconcile_still_wins_over_ready() -> None:
    obj = repository()
    conditions.mark_true(obj, "Ready", "Succeeded", "before", now=NOW)
    conditions.mark_stalled(obj, "InvalidPolicy", "invalid policy: x", now=NOW)
    assert finalize(obj, result.Result(), None, is_success=no_requeue_success) is None
    assert state(obj)["Ready"] == ("False", "InvalidPolicy", "invalid policy: x")


def test_the_handled_reconcile_request_is_recorded() -> None:
    obj = repository(**{"reconcile.fluxcd.io/requestedAt": "2026-01-01T00:00:00.5Z"})
    finalize(obj, result.Result(requeue_after_ms=INTERVAL), None)
    assert obj["status"]["lastHandledReconcileAt"] == "2026-01-01T00:00:00.5Z"


def test_a_ready_object_still_reconciling_does_not_observe_its_generation() -> None:
    obj = repository()
    conditions.mark_true(obj, "Ready", "Succeeded", "ok", now=NOW)
    assert result.observes_generation(obj)
    conditions.mark_reconciling(obj, "Progressing", "scanning", now=NOW)
    assert not result.observes_generation(obj)
