"""The kinds a cluster serves: built-ins and those added by CustomResourceDefinitions.

Each `KindInfo` says what the API server needs to know about a kind to store it faithfully:
its plural, whether it is namespaced, whether it has a status subresource, and whether the
server keeps `metadata.generation` for it. The built-in table covers the kinds GitOps
repositories commonly hold; a CRD adds its kind when it is created.

Callers: cluster backends. Pure lookups; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.model import refs


@dataclass(frozen=True, slots=True)
class KindInfo:
    gvk: refs.GVK
    plural: str
    namespaced: bool
    status_subresource: bool
    generation: bool
    selectable_fields: tuple[str, ...] = ()
    custom: bool = False
    """Served from a CustomResourceDefinition."""
    kind_singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[tuple[str, str, str, int], ...] = ()
    """A CRD's additionalPrinterColumns: (name, type, jsonPath, priority)."""
    openapi: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    """A CRD's openAPIV3Schema for this version (built-ins take theirs from `cluster.schema`)."""


def _builtin(
    api_version: str, kind: str, plural: str, *, ns: bool = True, status: bool = True, generation: bool = True
) -> KindInfo:
    return KindInfo(refs.GVK.of(api_version, kind), plural, ns, status, generation)


# Generation: kinds with a spec that the server versions (Deployment...) keep it; ConfigMap,
# Secret, Namespace, Service and friends do not (apiserver strategies, kube-api.md §1.6).
BUILTINS: tuple[KindInfo, ...] = (
    _builtin("v1", "Namespace", "namespaces", ns=False, generation=False),
    _builtin("v1", "ConfigMap", "configmaps", status=False, generation=False),
    _builtin("v1", "Secret", "secrets", status=False, generation=False),
    _builtin("v1", "Service", "services", generation=False),
    _builtin("v1", "ServiceAccount", "serviceaccounts", status=False, generation=False),
    _builtin("v1", "Pod", "pods", generation=False),
    _builtin("v1", "PersistentVolumeClaim", "persistentvolumeclaims", generation=False),
    _builtin("v1", "PersistentVolume", "persistentvolumes", ns=False, generation=False),
    _builtin("v1", "Endpoints", "endpoints", status=False, generation=False),
    _builtin("v1", "Event", "events", status=False, generation=False),
    _builtin("v1", "LimitRange", "limitranges", status=False, generation=False),
    _builtin("v1", "ResourceQuota", "resourcequotas", generation=False),
    _builtin("apps/v1", "Deployment", "deployments"),
    _builtin("apps/v1", "StatefulSet", "statefulsets"),
    _builtin("apps/v1", "DaemonSet", "daemonsets"),
    _builtin("apps/v1", "ReplicaSet", "replicasets"),
    _builtin("batch/v1", "Job", "jobs"),
    _builtin("batch/v1", "CronJob", "cronjobs"),
    _builtin("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    _builtin("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    _builtin("networking.k8s.io/v1", "Ingress", "ingresses"),
    _builtin("networking.k8s.io/v1", "IngressClass", "ingressclasses", ns=False, status=False),
    _builtin("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", status=False),
    _builtin("storage.k8s.io/v1", "StorageClass", "storageclasses", ns=False, status=False, generation=False),
    _builtin("rbac.authorization.k8s.io/v1", "Role", "roles", status=False, generation=False),
    _builtin("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", status=False, generation=False),
    _builtin(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        ns=False,
        status=False,
        generation=False,
    ),
    _builtin(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        ns=False,
        status=False,
        generation=False,
    ),
    _builtin("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", ns=False),
)

CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")


class KindRegistry:
    def __init__(self, *, with_builtins: bool = True) -> None:
        """Starts with the built-in table, or empty (`with_builtins=False`: a server found by discovery)."""
        self._by_gk: dict[refs.GroupKind, KindInfo] = {}
        self._resolved: dict[tuple[str, str], KindInfo] = {}
        self._all: tuple[KindInfo, ...] | None = None
        for info in BUILTINS if with_builtins else ():
            self.register(info)

    def replace(self, infos: list[KindInfo]) -> None:
        """Serve exactly `infos` from now on (what discovery found)."""
        self._by_gk = {i.gvk.group_kind: i for i in infos}
        self._changed()

    def register(self, info: KindInfo) -> None:
        self._by_gk[info.gvk.group_kind] = info
        self._changed()

    def unregister(self, gk: refs.GroupKind) -> None:
        self._by_gk.pop(gk, None)
        self._changed()

    def _changed(self) -> None:
        self._resolved.clear()
        self._all = None

    def get(self, gk: refs.GroupKind) -> KindInfo | None:
        return self._by_gk.get(gk)

    def lookup(self, api_version: str, kind: str) -> KindInfo:
        """`resolve` for an object's apiVersion and kind, remembered until the served kinds change."""
        key = (api_version, kind)
        info = self._resolved.get(key)
        if info is None:
            if not kind or not api_version.rpartition("/")[2]:
                raise errors.BadRequest(
                    "Object 'Kind' is missing in the request body"
                    if not kind
                    else "Object 'apiVersion' is missing in the request body"
                )
            info = self._resolved[key] = self.resolve(refs.GVK.of(api_version, kind))
        return info

    def resolve(self, gvk: refs.GVK) -> KindInfo:
        """The served kind for `gvk`, or the RESTMapper's `no matches for kind` error."""
        info = self._by_gk.get(gvk.group_kind)
        if info is None or info.gvk.version != gvk.version:
            raise errors.no_kind_match(gvk)
        return info

    def by_kind(self, kind: str) -> list[KindInfo]:
        """Every served kind named `kind`, in a stable order."""
        return sorted((i for i in self._by_gk.values() if i.gvk.kind == kind), key=lambda i: i.gvk)

    def all(self) -> tuple[KindInfo, ...]:
        """Every served kind, in a stable order: the same tuple until the served kinds change."""
        if self._all is None:
            self._all = tuple(sorted(self._by_gk.values(), key=lambda i: i.gvk))
        return self._all


def from_crd(crd: dict[str, Any]) -> KindInfo:
    """The kind a CustomResourceDefinition serves (its storage version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = spec.get("versions") or []
    fallback: dict[str, Any] = versions[0] if versions else {"name": "v1"}
    storage: dict[str, Any] = next((v for v in versions if v.get("storage")), fallback)
    return KindInfo(
        gvk=refs.GVK(str(spec.get("group", "")), str(storage.get("name", "v1")), str(names.get("kind", ""))),
        plural=str(names.get("plural", "")),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        status_subresource="status" in (storage.get("subresources") or {}),
        generation=True,
        selectable_fields=tuple(
            str(f.get("jsonPath", "")).lstrip(".") for f in storage.get("selectableFields") or []
        ),
        openapi=(storage.get("schema") or {}).get("openAPIV3Schema"),
        custom=True,
        kind_singular=str(names.get("singular") or ""),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        printer_columns=tuple(
            (
                str(c.get("name", "")),
                str(c.get("type", "string")),
                str(c.get("jsonPath", "")),
                int(c.get("priority", 0)),
            )
            for c in storage.get("additionalPrinterColumns") or []
        ),
    )
