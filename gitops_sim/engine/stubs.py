"""Stub CRDs for kinds nothing defines (`up --stub-unknown-kinds`), so that one missing CRD does
not hold up a whole tree.

A real cluster refuses an object whose kind no CRD serves (`no matches for kind "Certificate" in
version "cert-manager.io/v1"`); a Kustomization or HelmRelease that holds one fails as a whole.
Often the CRD comes from a chart the simulation stands in for, or from an operator's install a
repository does not carry. `StubUnknownKinds(sim)` watches the trace: when an event or failure
names such a kind, in a group neither Kubernetes nor Flux serves, it waits `GRACE_MS` of virtual
time (a HelmRelease may be about to install the real CRD, as Helm installs a chart's `crds/`),
and if the kind is still unknown it creates an open-schema CRD for it (every field kept, no
validation, a status subresource) and writes a `stub` record. The Kustomization or HelmRelease
then succeeds at its next try. Whether the kind is namespaced is read from how the failure names
the object (`Kind/namespace/name` or `Kind/name`); the plural is kubectl's guess.

This is gitops-sim's, not Flux's: a real cluster has no such thing. The summary lists every stub.

Callers: the scenario runner, when asked. It only creates CRDs, and only for groups outside
Kubernetes' and Flux's.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation, trace
from gitops_sim.model import refs

GRACE_MS = 60_000
FIELD_MANAGER = "gitops-sim"
_NO_MATCH = re.compile(
    r'(?:(?P<object>[A-Za-z0-9]+/[^\s:]+) dry-run failed[^"]*)?'
    r'no matches for kind "(?P<kind>[A-Za-z0-9]+)" in version "(?P<group>[a-z0-9.-]+)/(?P<version>[a-z0-9]+)"'
)
_HELM_NAMESPACE = re.compile(r'namespace: "(?P<ns>[^"]*)"')
_K8S_SUFFIXES = (".k8s.io", ".kubernetes.io", ".toolkit.fluxcd.io")
_K8S_GROUPS = frozenset({"apps", "batch", "autoscaling", "policy", ""})


def plural(kind: str) -> str:
    """kubectl's guess at a kind's resource name (`Policy` → `policies`, `Ingress` → `ingresses`)."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


def stub_crd(group: str, version: str, kind: str, namespaced: bool) -> dict[str, Any]:
    name = plural(kind)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{name}.{group}", "labels": {"gitops-sim.io/stub": "true"}},
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": name, "singular": kind.lower()},
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                    "subresources": {"status": {}},
                }
            ],
        },
    }


class StubUnknownKinds:
    def __init__(self, sim: simulation.Simulation) -> None:
        self._sim = sim
        self._pending: set[tuple[str, str, str]] = set()
        sim.trace.subscribe(self._seen)

    def _seen(self, rec: trace.Record) -> None:
        if rec["kind"] not in ("event", "failure"):
            return
        message = str(rec.get("message", ""))
        for match in _NO_MATCH.finditer(message):
            group, version, kind = match["group"], match["version"], match["kind"]
            if group in _K8S_GROUPS or group.endswith(_K8S_SUFFIXES):
                continue
            key = (group, version, kind)
            if key in self._pending:
                continue
            self._pending.add(key)
            named = match["object"]
            helm_ns = _HELM_NAMESPACE.search(message)
            namespaced = named.count("/") == 2 if named else bool(helm_ns and helm_ns["ns"])
            self._sim.scheduler.call_later(
                GRACE_MS, functools.partial(self._install, group, version, kind, namespaced)
            )

    def _install(self, group: str, version: str, kind: str, namespaced: bool) -> None:
        if self._sim.cluster.find_kind(refs.GroupKind(group, kind)) is not None:
            return  # something installed the real one meanwhile
        name = f"{plural(kind)}.{group}"
        try:
            self._sim.cluster.create(stub_crd(group, version, kind, namespaced), field_manager=FIELD_MANAGER)
        except errors.ApiError:
            return  # a CRD of that name exists (another version): leave it to the repository
        self._sim.trace.record("stub", crd=name, object_kind=f"{kind}.{group}/{version}")
