"""What the runner checks after every step (`assertions.invariants`): Flux's status rules."""

from __future__ import annotations

import random
from typing import Any

from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import crds
from gitops_sim.scenario import assertions
from gitops_sim.timing import clock as clocks


def cluster_with(status: dict[str, Any], generation_bumps: int = 0) -> store.MemoryCluster:
    cluster = store.MemoryCluster(clocks.VirtualClock(), random.Random(0))
    for crd in crds.manifests():
        cluster.create(crd, field_manager="test")
    cluster.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, field_manager="t"
    )
    body = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {"interval": "10m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    }
    made = cluster.create(body, field_manager="test")
    made["status"] = status
    cluster.update(made, field_manager="test", subresource="status")
    return cluster


def condition(ctype: str, status: str = "True") -> dict[str, Any]:
    return {
        "type": ctype,
        "status": status,
        "reason": "Testing",
        "message": "",
        "lastTransitionTime": "2025-01-01T00:00:00Z",
    }


def test_conditions_without_ready_break_an_invariant() -> None:
    problems = assertions.invariants(cluster_with({"conditions": [condition("Reconciling")]}))
    assert problems == [
        "Kustomization/flux-system/apps: Ready condition must always be present once conditions are set"
    ]


def test_reconciling_and_stalled_both_true_break_an_invariant() -> None:
    status = {"conditions": [condition("Ready", "False"), condition("Reconciling"), condition("Stalled")]}
    assert assertions.invariants(cluster_with(status)) == [
        "Kustomization/flux-system/apps: only one of Reconciling or Stalled may be True"
    ]


def test_a_well_formed_status_breaks_none() -> None:
    status = {"observedGeneration": 1, "conditions": [condition("Ready")]}
    assert assertions.invariants(cluster_with(status)) == []
