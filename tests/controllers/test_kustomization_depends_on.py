"""dependsOn as kustomize-controller checks it: exists, reconciled, Ready, and on the same source,
applied the same revision; otherwise DependencyNotReady and a retry after 30s."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import events_of, ready
from tests.builders import CONFIGMAP, KS, NAMESPACE, gitrepository, kustomization, repo_with

INFRA = refs.ObjectRef(KS.group, KS.kind, "flux-system", "infra")


def named(name: str, **spec: Any) -> dict[str, Any]:
    ks = kustomization(**spec)
    ks["metadata"]["name"] = name
    return ks


def test_an_app_waits_for_its_infrastructure_then_applies(sim: simulation.Simulation) -> None:
    repo_with(sim, {"infra/ns.yaml": NAMESPACE, "apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(dependsOn=[{"name": "infra"}]), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "DependencyNotReady",
        "message": "dependency 'flux-system/infra' not found: "
        'Kustomization.kustomize.toolkit.fluxcd.io "infra" not found',
    }
    assert events_of(sim, KS)[-1][1:] == (
        "Normal",
        "DependencyNotReady",
        "Dependencies do not meet ready condition, retrying in 30s",
    )
    sim.cluster.apply(named("infra", path="./infra"), field_manager="kubectl")
    sim.advance(31_000)
    assert ready(sim.cluster.get(INFRA))["status"] == "True"
    assert ready(sim.cluster.get(KS))["status"] == "True"


def test_a_dependency_on_the_same_source_must_have_applied_the_same_revision(
    sim: simulation.Simulation,
) -> None:
    repo = repo_with(sim, {"infra/ns.yaml": NAMESPACE, "apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(named("infra", path="./infra"), field_manager="kubectl")
    sim.cluster.apply(kustomization(dependsOn=[{"name": "infra"}]), field_manager="kubectl")
    sim.advance(32_000)
    assert ready(sim.cluster.get(KS))["status"] == "True"
    repo.commit({"apps/cm.yaml": CONFIGMAP % "b"}, "b")
    # At the GitRepository's next interval (60.75s) both Kustomizations are enqueued; "apps" runs
    # first, while "infra" still shows the old revision.
    sim.advance(29_000)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "DependencyNotReady",
        "message": "dependency 'flux-system/infra' revision is not up to date",
    }
    sim.advance(31_000)  # the retry after 30s finds infra on the new revision
    assert ready(sim.cluster.get(KS))["message"] == f"Applied revision: main@sha1:{repo.head()}"
