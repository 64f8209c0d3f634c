"""Flux objects written by their controllers under the field managers Flux uses.

kustomize-controller adds its finalizer and writes status through fluxcd/pkg's patch helper with
the field owner `gotk-kustomize-controller`; its server-side apply takes over the fields of
`kustomize-controller` Updates (cleanup of pre-SSA writes). A child Kustomization applied by a
parent therefore keeps its finalizer across the parent's intervals, and is pruned with its objects.
"""

from __future__ import annotations

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import events_of
from tests.builders import CONFIGMAP, KS, gitrepository, kustomization, repo_with

CHILD = refs.ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", "child")
SETTINGS = refs.ObjectRef("", "ConfigMap", "default", "settings")
CHILD_YAML = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: child, namespace: flux-system}
spec:
  interval: 10m
  path: ./child
  prune: true
  sourceRef: {kind: GitRepository, name: fleet}
"""
INTERVAL_MS = 10 * 60_000
KEEP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: parent, namespace: default}\n"


def parent_and_child(sim: simulation.Simulation) -> None:
    files: dict[str, str | None] = {
        "apps/keep.yaml": KEEP,
        "apps/child.yaml": CHILD_YAML,
        "child/cm.yaml": CONFIGMAP % "a",
    }
    repo_with(sim, files)
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(2_000)  # the parent applies the child at 750ms, the child reconciles at 1.5s


def test_the_kustomize_controller_writes_its_finalizer_and_status_as_gotk_kustomize_controller(
    sim: simulation.Simulation,
) -> None:
    parent_and_child(sim)
    managers = [
        (m["manager"], m["operation"], m.get("subresource", ""))
        for m in sim.cluster.get(CHILD)["metadata"]["managedFields"]
    ]
    assert managers == [
        ("kustomize-controller", "Apply", ""),
        ("gotk-kustomize-controller", "Update", ""),
        ("gotk-kustomize-controller", "Update", "status"),
    ]


def test_a_child_kustomization_keeps_its_finalizer_across_the_parents_intervals(
    sim: simulation.Simulation,
) -> None:
    parent_and_child(sim)
    sim.advance(3 * INTERVAL_MS)
    assert sim.cluster.get(CHILD)["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]
    changes = [e[3] for e in events_of(sim, KS) if "Kustomization/flux-system/child" in e[3]]
    assert changes == ["ConfigMap/default/parent created\nKustomization/flux-system/child created"]


def test_a_child_kustomization_removed_from_git_after_several_intervals_prunes_its_objects(
    sim: simulation.Simulation,
) -> None:
    parent_and_child(sim)
    sim.advance(3 * INTERVAL_MS)
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "a"}
    sim.git.lookup("https://github.com/acme/fleet").commit({"apps/child.yaml": None}, "drop child")
    sim.advance(INTERVAL_MS + 60_000)
    for ref in (CHILD, SETTINGS):
        try:
            sim.cluster.get(ref)
        except errors.NotFound:
            continue
        raise AssertionError(f"{ref} survived")
    assert [e[3] for e in events_of(sim, CHILD)][-1] == "ConfigMap/default/settings deleted"
