"""Builders shared by the tests."""

from __future__ import annotations

import random
from typing import Any

from gitops_sim.cluster.memory import store
from gitops_sim.timing import clock as clocks


def memory_cluster(
    *namespaces: str, clock: clocks.VirtualClock | None = None, **options: Any
) -> store.MemoryCluster:
    """A fresh store (seed 0) holding the given namespaces ("default" when none are named)."""
    cluster = store.MemoryCluster(clock or clocks.VirtualClock(), random.Random(0), **options)
    for name in namespaces or ("default",):
        cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager="setup"
        )
    return cluster


def widget_crd(**version: Any) -> dict[str, Any]:
    """The CRD of example.com/v1 Widget (namespaced), its one version extended by `version`."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1", "served": True, "storage": True, **version}],
        },
    }
