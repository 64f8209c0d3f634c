"""The controllers a simulation runs: each controller module registers itself here.

An `Entry` says which kind a controller reconciles, how to build it from the services the engine
offers, and its `order`: the work queues' tie-break priority at one instant (lower runs first,
as the Flux controllers' reconciles interleave: sources before their consumers) and, reversed, the
order the scenario runner cleans up in (consumers before their sources). A `workload` entry is one
of the cluster's own controllers (Deployment, ReplicaSet, ..., the kubelet): the engine builds
those only for a cluster that does not run its own.

`build` is given the engine's services object (`engine.simulation.Services`); each controller
module types what it needs from it as a Protocol, so the kernel never knows the engine.

Callers: the controller and workload modules (`register`, at import), the engine (`entries`).
Importing `gitops_sim.controllers` and `gitops_sim.workloads` registers everything they hold.
Never imports a controller, a workload or the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops_sim.model import refs
from gitops_sim.reconcile import base


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    kind: refs.GroupKind
    build: Callable[[Any], base.Reconciler]
    order: int
    workload: bool = False
    component: str = ""
    """The Flux component (its Deployment's name) whose process runs this controller: the engine
    runs the controller only while that Deployment has an available replica. Empty for the
    cluster's own controllers."""


_ENTRIES: dict[str, Entry] = {}


def register(entry: Entry) -> Entry:
    """Add `entry` (a name registered again replaces the earlier entry, as a module reloaded)."""
    _ENTRIES[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove the entry called `name` (tests that register a kind of their own clean up with it)."""
    _ENTRIES.pop(name, None)


def entries() -> tuple[Entry, ...]:
    """Every registered controller, by `order` (then name, so the order never depends on imports)."""
    return tuple(sorted(_ENTRIES.values(), key=lambda e: (e.order, e.name)))
