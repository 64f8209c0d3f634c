"""Health checks over Flux objects that no simulated controller reconciles.

Flux's CRDs default `status` to `{observedGeneration: -1}` (`+kubebuilder:default` on each
kind's Status field), so kstatus sees a new Flux object InProgress until its controller reports.
A kind gitops-sim does not reconcile is never Current, and the health check says why. Every Flux
kind has a controller now, so these tests build a simulation without one: the ArtifactGenerator's
(source-watcher's) registry entry is left out while it is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import kstatus, refs
from gitops_sim.reconcile import registry
from gitops_sim.testing import ready
from tests.builders import KS, gitrepository, kustomization, repo_with


@pytest.fixture
def without_source_watcher(tmp_path: Path) -> Iterator[simulation.Simulation]:
    """A simulation whose engine has no ArtifactGenerator controller."""
    entry = next(e for e in registry.entries() if e.name == "artifactgenerator")
    registry.unregister(entry.name)
    try:
        sim = simulation.Simulation(simulation.Settings(workdir=tmp_path))
    finally:
        registry.register(entry)
    try:
        yield sim
    finally:
        sim.close()


AUTOMATION = refs.ObjectRef("source.extensions.fluxcd.io", "ArtifactGenerator", "default", "podinfo")
GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: podinfo, namespace: default}
spec:
  sources: [{alias: repo, kind: GitRepository, name: podinfo}]
  artifacts: [{name: podinfo, copy: [{from: "@repo/**", to: "@artifact/"}]}]
"""
NOT_SIMULATED = (
    "gitops-sim does not simulate source-watcher: ArtifactGenerator objects are never reconciled here"
)


def test_a_new_flux_object_reads_with_flux_s_status_default(sim: simulation.Simulation) -> None:
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    obj = sim.cluster.get(KS)
    assert obj["status"] == {"observedGeneration": -1}
    assert kstatus.compute(obj) == kstatus.Result(
        kstatus.Status.IN_PROGRESS, "Kustomization generation is 1, but latest observed generation is -1"
    )


def test_wait_over_an_artifact_generator_nobody_reconciles_times_out_saying_so(
    without_source_watcher: simulation.Simulation,
) -> None:
    sim = without_source_watcher
    repo_with(sim, {"apps/generator.yaml": GENERATOR})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(wait=True, timeout="1m"), field_manager="kubectl")
    sim.advance(61_000)
    assert "status" not in sim.cluster.get(AUTOMATION)  # nobody reports on it
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "HealthCheckFailed",
        "message": "health check failed after 1m0s: timeout waiting for: "
        f"[ArtifactGenerator/default/podinfo status: 'InProgress': {NOT_SIMULATED}]",
    }


def test_an_artifact_generator_reporting_ready_is_still_not_current_when_nobody_reconciles_it(
    without_source_watcher: simulation.Simulation,
) -> None:
    sim = without_source_watcher
    sim.cluster.apply(
        {
            "apiVersion": "source.extensions.fluxcd.io/v1beta1",
            "kind": "ArtifactGenerator",
            "metadata": {"name": "podinfo", "namespace": "default"},
            "spec": {
                "sources": [{"alias": "repo", "kind": "GitRepository", "name": "podinfo"}],
                "artifacts": [{"name": "podinfo", "copy": [{"from": "@repo/**", "to": "@artifact/"}]}],
            },
        },
        field_manager="kubectl",
    )
    live = sim.cluster.get(AUTOMATION)
    live["status"] = {
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Succeeded",
                "message": "by hand",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    }
    sim.cluster.update(live, field_manager="kubectl", subresource="status")
    repo_with(
        sim,
        {"apps/keep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: default}\n"},
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    check = {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "name": "podinfo",
        "namespace": "default",
    }
    sim.cluster.apply(kustomization(healthChecks=[check], timeout="1m"), field_manager="kubectl")
    sim.advance(61_000)
    assert ready(sim.cluster.get(KS))["message"] == (
        "health check failed after 1m0s: timeout waiting for: "
        f"[ArtifactGenerator/default/podinfo status: 'InProgress': {NOT_SIMULATED}]"
    )
