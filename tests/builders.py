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
