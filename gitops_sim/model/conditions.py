"""Status conditions with Flux's semantics, on raw objects.

Provenance: behaviour of fluxcd/pkg `runtime/conditions/setter.go` (Set, Delete, ordering) and
`runtime/reconcile/result.go` (kstatus pattern); our own code. What we changed: the time is passed
in by the caller (the virtual clock) instead of `time.Now()`.

Semantics kept from Flux, which differ from `meta.SetStatusCondition` in apimachinery:
- a condition's `observedGeneration` is always the object's current `metadata.generation`;
- `lastTransitionTime` changes when the condition's *state* changes (status, reason or message),
  and is kept otherwise;
- conditions are ordered Stalled, Reconciling, Ready, then the rest by newest observedGeneration
  and type, for the benefit of kubectl readers.

Callers are the controllers; this module must never read a clock or touch the cluster.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from gitops_sim.model import objects

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
HEALTHY = "Healthy"


class Status(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Reason(StrEnum):
    """Reasons shared by the Flux controllers (fluxcd/pkg `apis/meta/conditions.go`)."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    PROGRESSING = "Progressing"
    PROGRESSING_WITH_RETRY = "ProgressingWithRetry"
    SUSPENDED = "Suspended"
    DEPENDENCY_NOT_READY = "DependencyNotReady"
    ARTIFACT_FAILED = "ArtifactFailed"
    BUILD_FAILED = "BuildFailed"
    PRUNE_FAILED = "PruneFailed"
    HEALTH_CHECK_FAILED = "HealthCheckFailed"
    RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
    RECONCILIATION_FAILED = "ReconciliationFailed"
    INVALID_CEL_EXPRESSION = "InvalidCELExpression"


_WEIGHT = {STALLED: 0, RECONCILING: 1, READY: 2}


def all_of(obj: objects.RawObject) -> list[dict[str, Any]]:
    conds = (obj.get("status") or {}).get("conditions") or []
    assert isinstance(conds, list)
    return conds


def get(obj: objects.RawObject, ctype: str) -> dict[str, Any] | None:
    for cond in all_of(obj):
        if cond.get("type") == ctype:
            return cond
    return None


def is_true(obj: objects.RawObject, ctype: str) -> bool:
    cond = get(obj, ctype)
    return cond is not None and cond.get("status") == Status.TRUE


def _sort_key(cond: dict[str, Any]) -> tuple[int, int, str]:
    ctype = str(cond.get("type", ""))
    if ctype in _WEIGHT:
        return (_WEIGHT[ctype], 0, "")
    return (3, -int(cond.get("observedGeneration", 0)), ctype)


def set_condition(
    obj: objects.RawObject, ctype: str, status: Status, reason: str, message: str, *, now: str
) -> None:
    """Set one condition on `obj` (a raw object), keeping lastTransitionTime when the state holds."""
    generation = int(obj.get("metadata", {}).get("generation", 0))
    new = {
        "type": ctype,
        "status": str(status),
        "observedGeneration": generation,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
    conds = [c for c in all_of(obj)]
    for i, old in enumerate(conds):
        if old.get("type") == ctype:
            same = (old.get("status"), old.get("reason"), old.get("message")) == (
                str(status),
                reason,
                message,
            )
            if same:
                new["lastTransitionTime"] = old.get("lastTransitionTime", now)
            conds[i] = new
            break
    else:
        conds.append(new)
    conds.sort(key=_sort_key)
    obj.setdefault("status", {})["conditions"] = conds


def mark_true(obj: objects.RawObject, ctype: str, reason: str, message: str, *, now: str) -> None:
    set_condition(obj, ctype, Status.TRUE, reason, message, now=now)


def mark_false(obj: objects.RawObject, ctype: str, reason: str, message: str, *, now: str) -> None:
    set_condition(obj, ctype, Status.FALSE, reason, message, now=now)


def mark_unknown(obj: objects.RawObject, ctype: str, reason: str, message: str, *, now: str) -> None:
    set_condition(obj, ctype, Status.UNKNOWN, reason, message, now=now)


def mark_reconciling(obj: objects.RawObject, reason: str, message: str, *, now: str) -> None:
    """fluxcd/pkg `MarkReconciling`: Reconciling=True, and Stalled removed."""
    delete(obj, STALLED)
    mark_true(obj, RECONCILING, reason, message, now=now)


def mark_stalled(obj: objects.RawObject, reason: str, message: str, *, now: str) -> None:
    """fluxcd/pkg `MarkStalled`: Stalled=True, and Reconciling removed."""
    delete(obj, RECONCILING)
    mark_true(obj, STALLED, reason, message, now=now)


def mark_retrying(obj: objects.RawObject, *, now: str) -> None:
    """After a failure, a Reconciling condition that is still there gets reason ProgressingWithRetry."""
    cond = get(obj, RECONCILING)
    if cond is not None:
        set_condition(
            obj,
            RECONCILING,
            Status(cond["status"]),
            Reason.PROGRESSING_WITH_RETRY,
            str(cond.get("message", "")),
            now=now,
        )


def delete(obj: objects.RawObject, ctype: str) -> None:
    status = obj.get("status")
    if not status or "conditions" not in status:
        return
    status["conditions"] = [c for c in status["conditions"] if c.get("type") != ctype]
