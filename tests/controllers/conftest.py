"""Builders for controller tests: a repository with files and the Flux objects that sync it."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import git

URL = "https://github.com/acme/fleet"
GITREPO = refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "fleet")
KS = refs.ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", "apps")

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {mode: "%s"}
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"


def repo_with(
    sim: simulation.Simulation, files: dict[str, str | None], message: str = "init"
) -> git.Repository:
    repo = sim.git.create("fleet", URL)
    repo.commit(files, message)
    return repo


def gitrepository(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"url": URL, "interval": "1m", "ref": {"branch": "main"}, **spec},
    }


def secret(name: str, **string_data: str) -> dict[str, Any]:
    """A Secret in flux-system, its values given as stringData."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "flux-system"},
        "stringData": string_data,
    }


def kustomization(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": "./apps",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            **spec,
        },
    }


def ready(obj: dict[str, Any]) -> dict[str, Any]:
    cond = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    return {k: cond[k] for k in ("status", "reason", "message")}


def events_of(sim: simulation.Simulation, ref: refs.ObjectRef) -> list[tuple[int, str, str, str]]:
    return [
        (r["t"], r["type"], r["reason"], r["message"])
        for r in sim.trace.records
        if r["kind"] == "event" and r["object"] == str(ref)
    ]
