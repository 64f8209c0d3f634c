"""A refused write of a Flux object's own status or finalizer is that reconcile's error.

controller-runtime gets the patch helper's error back from Reconcile, logs it and requeues the
object with the rate limiter's backoff (`pkg/internal/controller/controller.go`
reconcileHandler); nothing else stops. Here: a `RequeueError`, never an unexpected exception.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import objects
from gitops_sim.reconcile import base
from gitops_sim.testing import ready
from gitops_sim.timing import workqueue
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with

REFUSAL = (
    'Kustomization.kustomize.toolkit.fluxcd.io "apps" is invalid: '
    'status.conditions[0].reason: Invalid value: "null"'
)


def refuse_status_writes(sim: simulation.Simulation, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the API refuse every status write of the Kustomization; returns the refused calls."""
    refused: list[str] = []
    update = sim.cluster.update

    def refusing(obj: objects.RawObject, **kwargs: Any) -> objects.RawObject:
        if kwargs.get("subresource") == "status" and objects.ref_of(obj) == KS:
            refused.append(str(objects.ref_of(obj)))
            raise errors.Invalid(REFUSAL)
        return update(obj, **kwargs)

    monkeypatch.setattr(sim.cluster, "update", refusing)
    return refused


def test_a_refused_status_patch_raises_a_requeue_error_naming_the_refusal(
    sim: simulation.Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_status_writes(sim, monkeypatch)
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    obj = sim.cluster.get(KS)
    obj["status"] = {"lastHandledReconcileAt": "now"}
    rt = base.Runtime(sim.cluster, sim.clock, sim.recorder, random.Random(0))
    with pytest.raises(workqueue.RequeueError) as caught:
        base.patch_status(rt, obj, "gotk-kustomize-controller", {})
    assert str(caught.value) == f"failed to patch status: {REFUSAL}"


def test_a_refused_status_write_is_retried_with_backoff_and_never_an_unexpected_error(
    sim: simulation.Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = refuse_status_writes(sim, monkeypatch)
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(1_000)
    assert len(refused) >= 1
    assert [r for r in sim.trace.records if r["kind"] == "reconcile-error"] == []
    monkeypatch.undo()  # the API accepts the writes again: the backoff's next retry succeeds
    sim.advance(5_000)
    assert ready(sim.cluster.get(KS))["reason"] == "ReconciliationSucceeded"
    assert [r for r in sim.trace.records if r["kind"] == "reconcile-error"] == []
