"""Builders shared by the tests: fresh stores, a CRD, git repositories with files, and the Flux
objects (sources, Kustomizations, Secrets) that the controller tests apply.

Callers: test modules under tests/ (import the names: `from tests.builders import KS,
gitrepository`). Builders only make values, or commits in a simulation's git server; they must
never assert, advance a clock or apply anything to a cluster (the test does that, so the timeline
it asserts on is in the test). Reading what Flux reported is `gitops_sim.testing.ready` and
`events_of`, public for users' tests too.
"""

from __future__ import annotations

import random
from typing import Any

from gitops_sim.cluster.memory import store
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import git
from gitops_sim.timing import clock as clocks

# --- The in-memory store ---------------------------------------------------------------------


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


# --- A git repository and what it holds ------------------------------------------------------

URL = "https://github.com/acme/fleet"
"""The git repository `fleet` that `repo_with` creates and `gitrepository()` points at."""

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {mode: "%s"}
"""
"""The ConfigMap default/settings, its `data.mode` left as `%s` for the test to fill in."""

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"


def repo_with(
    sim: simulation.Simulation, files: dict[str, str | None], message: str = "init"
) -> git.Repository:
    """The repository `fleet` at `URL` in `sim`'s git server, with one commit of `files` on main."""
    repo = sim.git.create("fleet", URL)
    repo.commit(files, message)
    return repo


# --- Flux objects, all in flux-system --------------------------------------------------------

GITREPO = refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "fleet")
KS = refs.ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", "apps")

HELM_URL = "https://charts.example.com/stable"
"""The Helm repository that `helmrepository()` points at."""
HELMREPO = refs.ObjectRef("source.toolkit.fluxcd.io", "HelmRepository", "flux-system", "stable")
HELMCHART = refs.ObjectRef("source.toolkit.fluxcd.io", "HelmChart", "flux-system", "podinfo")

OCI_URL = "oci://ghcr.io/acme/manifests"
"""The OCI repository that `ocirepository()` points at."""
OCIREPO = refs.ObjectRef("source.toolkit.fluxcd.io", "OCIRepository", "flux-system", "manifests")

BUCKET_ENDPOINT = "minio.example.com:9000"
"""The S3 endpoint that `bucket_object()` points at (plain HTTP)."""
BUCKET = refs.ObjectRef("source.toolkit.fluxcd.io", "Bucket", "flux-system", "fleet")


def gitrepository(**spec: Any) -> dict[str, Any]:
    """GitRepository flux-system/fleet: main of `URL` every minute, `spec` added or overriding."""
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"url": URL, "interval": "1m", "ref": {"branch": "main"}, **spec},
    }


def kustomization(**spec: Any) -> dict[str, Any]:
    """Kustomization flux-system/apps: ./apps of GitRepository fleet every 10m, pruning."""
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


def helmrepository(**spec: Any) -> dict[str, Any]:
    """HelmRepository flux-system/stable: the index at `HELM_URL` every minute."""
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": "stable", "namespace": "flux-system"},
        "spec": {"url": HELM_URL, "interval": "1m", **spec},
    }


def helmchart(**spec: Any) -> dict[str, Any]:
    """HelmChart flux-system/podinfo: chart podinfo of HelmRepository stable every minute."""
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "podinfo", "namespace": "flux-system"},
        "spec": {
            "chart": "podinfo",
            "interval": "1m",
            "sourceRef": {"kind": "HelmRepository", "name": "stable"},
            **spec,
        },
    }


def ocirepository(**spec: Any) -> dict[str, Any]:
    """OCIRepository flux-system/manifests: `OCI_URL` every minute (the latest tag unless `ref`)."""
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": "manifests", "namespace": "flux-system"},
        "spec": {"url": OCI_URL, "interval": "1m", **spec},
    }


def bucket_object(**spec: Any) -> dict[str, Any]:
    """Bucket flux-system/fleet: bucket `fleet` at `BUCKET_ENDPOINT` (insecure) every minute.

    Not `bucket()`: tests of the Bucket controller import its module under that name.
    """
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "Bucket",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {
            "bucketName": "fleet",
            "endpoint": BUCKET_ENDPOINT,
            "insecure": True,
            "interval": "1m",
            **spec,
        },
    }


def secret(name: str, **string_data: str) -> dict[str, Any]:
    """A Secret in flux-system, its values given as stringData."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "flux-system"},
        "stringData": string_data,
    }
