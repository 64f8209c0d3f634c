"""A memory cluster with one Flux group's generated CRDs installed, and helpers to write to it."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import crds, declare
from tests.builders import memory_cluster


def cluster_with(*kinds: declare.Kind) -> store.MemoryCluster:
    """A memory cluster serving `kinds` through their generated CRDs."""
    cluster = memory_cluster()
    for kind in kinds:
        cluster.create(crds.manifest(kind), field_manager="flux-install")
    return cluster


def refused(cluster: store.MemoryCluster, obj: dict[str, Any]) -> str:
    """The message of the error the server answers a create of `obj` with (it must refuse it)."""
    with pytest.raises((errors.Invalid, errors.BadRequest)) as caught:
        cluster.create(obj, field_manager="kubectl-create", field_validation="Strict")
    return str(caught.value)


NOT_CHECKED = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation"
)


def blocked(message: str) -> str:
    """`message` (`<Kind> "<name>" is invalid: <cause>`) as the server words it for a kind whose
    CRD has CEL rules: after a blocking error the rules are skipped, and a note says so."""
    head, sep, cause = message.partition(" is invalid: ")
    return f"{head}{sep}[{cause}, {NOT_CHECKED}]"
