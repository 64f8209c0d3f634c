"""Writes of Flux objects through Flux's real schemas: what validation, defaults and CEL cost.

    python benchmarks/flux_writes.py [--objects 2000]

Creates N Kustomizations and N HelmReleases (HelmRelease's CRD has CEL rules: chart or
chartRef, kubeConfig, retry intervals) in the in-memory store, then writes a Ready status to
each Kustomization through the status subresource, as kustomize-controller does, and prints the
microseconds per write of each phase. No target yet (issue 21 sets them); the figures compare a
change with the one before it.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from gitops_sim.cluster.memory import store
from gitops_sim.model import refs
from gitops_sim.model.fluxapi import crds
from gitops_sim.timing import clock as clocks

NAMESPACE = "flux-system"


def kustomization(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": f"ks-{i}", "namespace": NAMESPACE},
        "spec": {
            "interval": "10m",
            "prune": True,
            "path": f"./apps/app-{i}",
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
    }


def helmrelease(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": f"hr-{i}", "namespace": NAMESPACE},
        "spec": {
            "interval": "10m",
            "chart": {
                "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}
            },
            "values": {"replicaCount": 2, "ingress": {"enabled": True, "hosts": [f"app-{i}.example.com"]}},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    clock = clocks.VirtualClock()
    cluster = store.MemoryCluster(clock, random.Random("0/bench"))
    for crd in crds.manifests():
        cluster.create(crd, field_manager="flux-install")
    cluster.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, field_manager="b"
    )

    def timed(label: str, writes: list[Any]) -> None:
        start = time.perf_counter()
        for write in writes:
            write()
        spent = time.perf_counter() - start
        print(f"{label:<28} {len(writes):>7}  {1e6 * spent / len(writes):7.0f} µs per write")

    n = args.objects
    timed(
        "create Kustomization",
        [lambda i=i: cluster.create(kustomization(i), field_manager="kubectl") for i in range(n)],
    )
    timed(
        "create HelmRelease",
        [lambda i=i: cluster.create(helmrelease(i), field_manager="kubectl") for i in range(n)],
    )

    def ready(i: int) -> None:
        live = cluster.get(
            refs.ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", NAMESPACE, f"ks-{i}")
        )
        live["status"] = {
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ReconciliationSucceeded",
                    "message": "Applied revision: main@sha1:0123456789abcdef",
                    "lastTransitionTime": "2025-01-01T00:00:00Z",
                }
            ],
        }
        cluster.update(live, field_manager="gotk-kustomize-controller", subresource="status")

    timed("status update Kustomization", [lambda i=i: ready(i) for i in range(n)])


if __name__ == "__main__":
    main()
