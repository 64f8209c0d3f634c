"""The kinds a cluster serves: built-ins and those added by CustomResourceDefinitions.

Each `KindInfo` says what the API server needs to know about a kind to store it faithfully:
its plural, whether it is namespaced, whether it has a status subresource, and whether the
server keeps `metadata.generation` for it. The built-in table covers the kinds GitOps
repositories commonly hold; a CRD adds its kind when it is created.

A CRD serves its kind in every version marked `served: true`, one `KindInfo` each (with that
version's schema, subresources and columns); objects are stored once, in the storage version, and
with conversion strategy None (the only one simulated; a `Webhook` strategy is served as None) a
read or write through another served version differs only in `apiVersion` (apiextensions-apiserver
`pkg/apiserver/conversion/nop_converter.go`: the nop converter rewrites apiVersion and nothing
else). `KindRegistry.get` and `by_kind` answer with the storage version, `resolve` and `all` with
every served one. `version_priority` orders versions as kube-apiserver's discovery does
(apimachinery `version.CompareKubeAwareVersionStrings`).

Callers: cluster backends. Pure lookups; no I/O.
"""

from __future__ import annotations

import re
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
    storage_version: str = ""
    """The version objects are stored in, when it is not `gvk.version` (a CRD's other versions)."""

    @property
    def storage_api_version(self) -> str:
        """The apiVersion stored objects of this kind carry."""
        if not self.storage_version:
            return self.gvk.api_version
        return f"{self.gvk.group}/{self.storage_version}" if self.gvk.group else self.storage_version

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A stored object as read through this version: `obj` itself when its apiVersion is this
        version's, else a shallow copy with apiVersion rewritten (conversion strategy None). Neither
        is to be changed: the copy shares everything else with `obj`."""
        want = self.gvk.api_version
        return obj if obj.get("apiVersion") == want else {**obj, "apiVersion": want}


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
        self._served: dict[refs.GroupKind, dict[str, KindInfo]] = {}
        self._resolved: dict[tuple[str, str], KindInfo] = {}
        self._all: tuple[KindInfo, ...] | None = None
        for info in BUILTINS if with_builtins else ():
            self.register(info)

    def replace(self, infos: list[KindInfo]) -> None:
        """Serve exactly `infos` from now on (what discovery found)."""
        self._by_gk = {i.gvk.group_kind: i for i in infos}
        self._served = {gk: {i.gvk.version: i} for gk, i in self._by_gk.items()}
        self._changed()

    def register(self, info: KindInfo, served: tuple[KindInfo, ...] | None = None) -> None:
        """Serve `info`'s kind: `info` is the storage version, `served` every version served (just
        `info` when omitted)."""
        gk = info.gvk.group_kind
        self._by_gk[gk] = info
        self._served[gk] = {i.gvk.version: i for i in (served if served is not None else (info,))}
        self._changed()

    def unregister(self, gk: refs.GroupKind) -> None:
        self._by_gk.pop(gk, None)
        self._served.pop(gk, None)
        self._changed()

    def _changed(self) -> None:
        self._resolved.clear()
        self._all = None

    def get(self, gk: refs.GroupKind) -> KindInfo | None:
        """The kind's storage version."""
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
        """The served kind for `gvk` (any served version), or the RESTMapper's `no matches for kind`
        error."""
        info = self._served.get(gvk.group_kind, {}).get(gvk.version)
        if info is None:
            raise errors.no_kind_match(gvk)
        return info

    def by_kind(self, kind: str) -> list[KindInfo]:
        """Every served kind named `kind`, in a stable order."""
        return sorted((i for i in self._by_gk.values() if i.gvk.kind == kind), key=lambda i: i.gvk)

    def all(self) -> tuple[KindInfo, ...]:
        """Every served kind in every served version, in a stable order: the same tuple until the
        served kinds change."""
        if self._all is None:
            self._all = tuple(
                sorted((i for served in self._served.values() for i in served.values()), key=lambda i: i.gvk)
            )
        return self._all


def from_crd(crd: dict[str, Any]) -> KindInfo:
    """The kind a CustomResourceDefinition stores: its storage version (or its first version)."""
    spec = crd.get("spec") or {}
    versions = spec.get("versions") or []
    fallback: dict[str, Any] = versions[0] if versions else {"name": "v1"}
    storage: dict[str, Any] = next((v for v in versions if v.get("storage")), fallback)
    return _version_info(spec, storage, str(storage.get("name", "v1")))


def served_from_crd(crd: dict[str, Any]) -> tuple[KindInfo, ...]:
    """The kind a CustomResourceDefinition serves, once for each version with `served: true`."""
    spec = crd.get("spec") or {}
    stored = from_crd(crd).gvk.version
    return tuple(
        _version_info(spec, v, stored)
        for v in spec.get("versions") or []
        if isinstance(v, dict) and v.get("served")
    )


def _version_info(spec: dict[str, Any], version: dict[str, Any], storage: str) -> KindInfo:
    names = spec.get("names") or {}
    name = str(version.get("name", "v1"))
    return KindInfo(
        gvk=refs.GVK(str(spec.get("group", "")), name, str(names.get("kind", ""))),
        plural=str(names.get("plural", "")),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        status_subresource="status" in (version.get("subresources") or {}),
        generation=True,
        selectable_fields=tuple(
            str(f.get("jsonPath", "")).lstrip(".") for f in version.get("selectableFields") or []
        ),
        openapi=(version.get("schema") or {}).get("openAPIV3Schema"),
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
            for c in version.get("additionalPrinterColumns") or []
        ),
        storage_version="" if name == storage else storage,
    )


_KUBE_VERSION = re.compile(r"^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """A sort key putting the preferred version first, as kube-apiserver's discovery orders them:
    GA before beta before alpha, higher majors first, then higher minors (v2 > v1 > v1beta2 >
    v1beta1 > v1alpha1); versions that are not Kubernetes-like come last, alphabetically.
    Behaviour of apimachinery `version.CompareKubeAwareVersionStrings`; our own code."""
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[match.group(2)]
    return (stage, -int(match.group(1)), -int(match.group(3) or 0), version)
