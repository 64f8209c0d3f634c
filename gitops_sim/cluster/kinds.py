"""The kinds a cluster serves: built-ins and those added by CustomResourceDefinitions.

Each `KindInfo` says what the API server needs to know about a kind to store it faithfully:
its plural, whether it is namespaced, whether it has a status subresource, whether the server
keeps `metadata.generation` for it, and its short names and categories (what discovery lists).
The built-in table (`BUILTINS`) is every kind a v1.37 server stores that `kubernetes-validate`
has a schema for, at its GA version (the comment above the table says what is left out and why);
a CRD adds its kind when it is created.

HorizontalPodAutoscaler is one resource served as autoscaling/v2 (preferred) and autoscaling/v1,
as kube-apiserver serves it; `KindInfo.present` converts an object between the two
(`convert_hpa`, after kubernetes `pkg/apis/autoscaling/v1/conversion.go`). Where we knowingly
differ: an object is kept in the version it was written through (the store has no conversion on
write yet), so a patch sent through one version to an object written through the other is applied
to the other's shape; reads, lists and watches through either version are converted.

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
    deprecation: str | None = None
    """The warning every request through this version gets (a CRD version marked `deprecated`)."""

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
        have = obj.get("apiVersion")
        if have == want:
            return obj
        if self.gvk.group_kind == HPA and have in _HPA_VERSIONS:
            return convert_hpa(obj, want)
        return {**obj, "apiVersion": want}


def _builtin(
    api_version: str,
    kind: str,
    plural: str,
    *,
    ns: bool = True,
    status: bool = True,
    generation: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    storage: str = "",
) -> KindInfo:
    return KindInfo(
        refs.GVK.of(api_version, kind),
        plural,
        ns,
        status,
        generation,
        short_names=short,
        categories=categories,
        storage_version=storage,
    )


_ALL = ("all",)
_EXT = ("api-extensions",)
_ADM = "admissionregistration.k8s.io/v1"

# Every kind kubernetes-validate has a v1.37 schema for that a client can store, at the version a
# v1.37 server serves by default: its GA version (alpha and beta APIs are off by default, KEP-3136;
# autoscaling serves v2 and v1). Left out as the real server stores none of them: the create-only
# reviews and requests (TokenReview, TokenRequest, SelfSubjectReview, *SubjectAccessReview,
# Binding, Eviction, Scale) and the read-only ComponentStatus.
# Scope, short names and categories as `kubectl api-resources` shows them (each kind's REST storage
# `ShortNames`/`Categories` in kubernetes/kubernetes pkg/registry).
# Status: the kinds whose schema has `status` have the status subresource.
# Generation: kinds with a spec keep it (kube-api.md §1.6), save the core/v1 ones whose strategies
# do not (Namespace, Service, Pod, PersistentVolume(Claim), Node, ResourceQuota, LimitRange); the
# webhook configurations have no spec but their strategies keep it.
BUILTINS: tuple[KindInfo, ...] = (
    # core/v1
    _builtin("v1", "ConfigMap", "configmaps", status=False, generation=False, short=("cm",)),
    _builtin("v1", "Endpoints", "endpoints", status=False, generation=False, short=("ep",)),
    _builtin("v1", "Event", "events", status=False, generation=False, short=("ev",)),
    _builtin("v1", "LimitRange", "limitranges", status=False, generation=False, short=("limits",)),
    _builtin("v1", "Namespace", "namespaces", ns=False, generation=False, short=("ns",)),
    _builtin("v1", "Node", "nodes", ns=False, generation=False, short=("no",)),
    _builtin("v1", "PersistentVolume", "persistentvolumes", ns=False, generation=False, short=("pv",)),
    _builtin("v1", "PersistentVolumeClaim", "persistentvolumeclaims", generation=False, short=("pvc",)),
    _builtin("v1", "Pod", "pods", generation=False, short=("po",), categories=_ALL),
    _builtin("v1", "PodTemplate", "podtemplates", status=False, generation=False),
    _builtin("v1", "ReplicationController", "replicationcontrollers", short=("rc",), categories=_ALL),
    _builtin("v1", "ResourceQuota", "resourcequotas", generation=False, short=("quota",)),
    _builtin("v1", "Secret", "secrets", status=False, generation=False),
    _builtin("v1", "Service", "services", generation=False, short=("svc",), categories=_ALL),
    _builtin("v1", "ServiceAccount", "serviceaccounts", status=False, generation=False, short=("sa",)),
    # admissionregistration.k8s.io/v1
    _builtin(
        _ADM, "MutatingAdmissionPolicy", "mutatingadmissionpolicies", ns=False, status=False, categories=_EXT
    ),
    _builtin(
        _ADM,
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        ns=False,
        status=False,
        categories=_EXT,
    ),
    _builtin(
        _ADM,
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        ns=False,
        status=False,
        categories=_EXT,
    ),
    _builtin(_ADM, "ValidatingAdmissionPolicy", "validatingadmissionpolicies", ns=False, categories=_EXT),
    _builtin(
        _ADM,
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        ns=False,
        status=False,
        categories=_EXT,
    ),
    _builtin(
        _ADM,
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        ns=False,
        status=False,
        categories=_EXT,
    ),
    _builtin(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        ns=False,
        short=("crd", "crds"),
        categories=_EXT,
    ),
    _builtin("apiregistration.k8s.io/v1", "APIService", "apiservices", ns=False, categories=_EXT),
    # apps/v1
    _builtin("apps/v1", "ControllerRevision", "controllerrevisions", status=False, generation=False),
    _builtin("apps/v1", "DaemonSet", "daemonsets", short=("ds",), categories=_ALL),
    _builtin("apps/v1", "Deployment", "deployments", short=("deploy",), categories=_ALL),
    _builtin("apps/v1", "ReplicaSet", "replicasets", short=("rs",), categories=_ALL),
    _builtin("apps/v1", "StatefulSet", "statefulsets", short=("sts",), categories=_ALL),
    # autoscaling: v2 and v1 are one resource (see `register_builtins`), stored in v2
    _builtin(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=("hpa",),
        categories=_ALL,
    ),
    _builtin("batch/v1", "CronJob", "cronjobs", short=("cj",), categories=_ALL),
    _builtin("batch/v1", "Job", "jobs", categories=_ALL),
    _builtin(
        "certificates.k8s.io/v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        ns=False,
        short=("csr",),
    ),
    _builtin("certificates.k8s.io/v1", "ClusterTrustBundle", "clustertrustbundles", ns=False, status=False),
    _builtin("certificates.k8s.io/v1", "PodCertificateRequest", "podcertificaterequests"),
    _builtin("coordination.k8s.io/v1", "Lease", "leases", status=False),
    _builtin("discovery.k8s.io/v1", "EndpointSlice", "endpointslices", status=False, generation=False),
    _builtin("events.k8s.io/v1", "Event", "events", status=False, generation=False, short=("ev",)),
    _builtin("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "flowschemas", ns=False),
    _builtin(
        "flowcontrol.apiserver.k8s.io/v1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        ns=False,
    ),
    _builtin("networking.k8s.io/v1", "IPAddress", "ipaddresses", ns=False, status=False, short=("ip",)),
    _builtin("networking.k8s.io/v1", "Ingress", "ingresses", short=("ing",)),
    _builtin("networking.k8s.io/v1", "IngressClass", "ingressclasses", ns=False, status=False),
    _builtin("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", status=False, short=("netpol",)),
    _builtin("networking.k8s.io/v1", "ServiceCIDR", "servicecidrs", ns=False),
    _builtin("node.k8s.io/v1", "RuntimeClass", "runtimeclasses", ns=False, status=False, generation=False),
    _builtin("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",)),
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
    _builtin("rbac.authorization.k8s.io/v1", "Role", "roles", status=False, generation=False),
    _builtin("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", status=False, generation=False),
    _builtin("resource.k8s.io/v1", "DeviceClass", "deviceclasses", ns=False, status=False),
    _builtin("resource.k8s.io/v1", "DeviceTaintRule", "devicetaintrules", ns=False),
    _builtin("resource.k8s.io/v1", "ResourceClaim", "resourceclaims"),
    _builtin("resource.k8s.io/v1", "ResourceClaimTemplate", "resourceclaimtemplates", status=False),
    _builtin("resource.k8s.io/v1", "ResourceSlice", "resourceslices", ns=False, status=False),
    _builtin(
        "scheduling.k8s.io/v1",
        "PriorityClass",
        "priorityclasses",
        ns=False,
        status=False,
        generation=False,
        short=("pc",),
    ),
    _builtin("storage.k8s.io/v1", "CSIDriver", "csidrivers", ns=False, status=False),
    _builtin("storage.k8s.io/v1", "CSINode", "csinodes", ns=False, status=False),
    _builtin(
        "storage.k8s.io/v1", "CSIStorageCapacity", "csistoragecapacities", status=False, generation=False
    ),
    _builtin(
        "storage.k8s.io/v1",
        "StorageClass",
        "storageclasses",
        ns=False,
        status=False,
        generation=False,
        short=("sc",),
    ),
    _builtin("storage.k8s.io/v1", "VolumeAttachment", "volumeattachments", ns=False),
    _builtin(
        "storage.k8s.io/v1",
        "VolumeAttributesClass",
        "volumeattributesclasses",
        ns=False,
        status=False,
        generation=False,
        short=("vac",),
    ),
    _builtin("storagemigration.k8s.io/v1", "StorageVersionMigration", "storageversionmigrations", ns=False),
)

# Built-in kinds served in more than one version: the storage version's other served versions.
SERVED_ALSO: dict[refs.GroupKind, tuple[KindInfo, ...]] = {
    refs.GroupKind("autoscaling", "HorizontalPodAutoscaler"): (
        _builtin(
            "autoscaling/v1",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            short=("hpa",),
            categories=_ALL,
        ),
    ),
}

CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
"""The namespaces kube-apiserver creates as it starts (its system namespaces controller)."""


class KindRegistry:
    def __init__(self, *, with_builtins: bool = True) -> None:
        """Starts with the built-in table, or empty (`with_builtins=False`: a server found by discovery)."""
        self._by_gk: dict[refs.GroupKind, KindInfo] = {}
        self._served: dict[refs.GroupKind, dict[str, KindInfo]] = {}
        self._resolved: dict[tuple[str, str], KindInfo] = {}
        self._all: tuple[KindInfo, ...] | None = None
        for info in BUILTINS if with_builtins else ():
            self.register(info, (info, *SERVED_ALSO.get(info.gvk.group_kind, ())))

    def copy(self) -> KindRegistry:
        """An independent registry serving the same kinds."""
        out = KindRegistry(with_builtins=False)
        out._by_gk = dict(self._by_gk)
        out._served = {gk: dict(versions) for gk, versions in self._served.items()}
        return out

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


def _deprecation(spec: dict[str, Any], version: dict[str, Any], name: str) -> str | None:
    """A deprecated version's warning: its own, or the server's default wording."""
    if not version.get("deprecated"):
        return None
    kind = str((spec.get("names") or {}).get("kind", ""))
    return str(version.get("deprecationWarning") or f"{spec.get('group', '')}/{name} {kind} is deprecated")


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
        deprecation=_deprecation(spec, version, name),
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


HPA = refs.GroupKind("autoscaling", "HorizontalPodAutoscaler")
_HPA_VERSIONS = frozenset({"autoscaling/v1", "autoscaling/v2"})
_CPU = "cpu"


def convert_hpa(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """A HorizontalPodAutoscaler in `api_version` (autoscaling/v1 or v2), converted from the other:
    a new object sharing unchanged parts with `obj` (neither is to be changed).

    After kubernetes/kubernetes pkg/apis/autoscaling/v1/conversion.go (our own code): v1's
    `targetCPUUtilizationPercentage` is v2's Resource metric `cpu` with an `Utilization` target,
    and v1's `currentCPUUtilizationPercentage` v2's current `cpu` utilization; scaleTargetRef,
    min/maxReplicas and the other status counts are the same fields. Where we knowingly differ: the
    real server keeps what v1 cannot say (v2's other metrics, behavior, conditions) in
    `autoscaling.alpha.kubernetes.io/*` annotations of the v1 object; we leave it out of the v1 view.
    """
    out = {**obj, "apiVersion": api_version}
    spec = obj.get("spec")
    status = obj.get("status")
    common = ("scaleTargetRef", "minReplicas", "maxReplicas")
    counts = ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
    if api_version == "autoscaling/v2":
        if isinstance(spec, dict):
            new_spec = {k: v for k, v in spec.items() if k in common}
            target = spec.get("targetCPUUtilizationPercentage")
            if target is not None:
                new_spec["metrics"] = [
                    _cpu_metric("target", {"type": "Utilization", "averageUtilization": target})
                ]
            out["spec"] = new_spec
        if isinstance(status, dict):
            new_status = {k: v for k, v in status.items() if k in counts}
            current = status.get("currentCPUUtilizationPercentage")
            if current is not None:
                new_status["currentMetrics"] = [_cpu_metric("current", {"averageUtilization": current})]
            out["status"] = new_status
        return out
    if isinstance(spec, dict):
        new_spec = {k: v for k, v in spec.items() if k in common}
        target = _cpu_utilization(spec.get("metrics"), "target")
        if target is not None:
            new_spec["targetCPUUtilizationPercentage"] = target
        out["spec"] = new_spec
    if isinstance(status, dict):
        new_status = {k: v for k, v in status.items() if k in counts}
        current = _cpu_utilization(status.get("currentMetrics"), "current")
        if current is not None:
            new_status["currentCPUUtilizationPercentage"] = current
        out["status"] = new_status
    return out


def _cpu_metric(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": _CPU, key: value}}


def _cpu_utilization(metrics: Any, key: str) -> Any:
    """The averageUtilization of the first `cpu` Resource metric, or None."""
    for metric in metrics if isinstance(metrics, list) else ():
        if not isinstance(metric, dict) or metric.get("type") != "Resource":
            continue
        resource = metric.get("resource")
        if isinstance(resource, dict) and resource.get("name") == _CPU:
            value = resource.get(key)
            if isinstance(value, dict) and value.get("averageUtilization") is not None:
                return value["averageUtilization"]
    return None
