"""The EndpointSlice controller of kube-controller-manager, simulated (kubernetes
`pkg/controller/endpointslice` and `staging/src/k8s.io/endpointslice`: reconciler.go, utils.go;
behaviour learned there, our own code).

For each Service with a selector (not ExternalName), the Pods of its namespace that the selector
matches and that have an IP and are not finished become endpoints of EndpointSlices named
`<service>-<5 random characters>` (`generateName: <service>-`), labelled
`kubernetes.io/service-name: <service>` and `endpointslice.kubernetes.io/managed-by:
endpointslice-controller.k8s.io` (plus the Service's own labels, and
`service.kubernetes.io/headless` for a headless Service) and controlled by the Service. Each
endpoint has the Pod's IP, its conditions (`ready`: Ready and not terminating, or the Service
publishes not-ready addresses; `serving`: Ready; `terminating`: being deleted), its node, its
hostname when the Pod's subdomain is the Service, and a reference to the Pod. Ports are the
Service's ports resolved against each Pod (a named targetPort is looked up in its containers);
Pods whose ports resolve differently go to different slices, at most 100 endpoints per slice. A
Service with no endpoints keeps one empty slice, as the real placeholder. Slices follow Pods as
they come, become ready and go; a slice deleted by hand is made again.

Differences, on purpose: endpoints are ordered by Pod name; the
`endpoints.kubernetes.io/last-change-trigger-time` annotation, topology hints and zones are not
written; the legacy core/v1 Endpoints object (deprecated since v1.33) is not made; the slices'
names are drawn from the simulation's seeded RNG (`Services.slice_names`), not the API server's
`generateName`.

Callers: the engine (one work queue, keyed by Service), on MemoryCluster only. Never reads the real
time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.cluster import errors
from gitops_sim.model import objects, refs
from gitops_sim.reconcile import base, registry
from gitops_sim.workloads import pods

SERVICE = refs.GVK("", "v1", "Service")
ENDPOINT_SLICE = refs.GVK("discovery.k8s.io", "v1", "EndpointSlice")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
MAX_ENDPOINTS_PER_SLICE = 100

_Ports = tuple[tuple[tuple[str, Any], ...], ...]


@dataclass(slots=True)
class EndpointSliceController:
    rt: base.Runtime
    rng: random.Random
    name: str = "endpointslice-controller"
    gvk: refs.GVK = SERVICE

    def watches(self) -> list[base.Watch]:
        cluster = self.rt.cluster

        def itself(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            return [objects.ref_of(new)] if new is not None else []

        def selecting(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            pod = new if new is not None else old
            if pod is None:
                return []
            labels = [objects.labels_of(p) for p in (old, new) if p is not None]
            return [
                objects.ref_of(s)
                for s in cluster.read_list(SERVICE.group_kind, namespace=pod["metadata"].get("namespace"))
                if (selector := _selector(s)) and any(_matches(selector, lbl) for lbl in labels)
            ]

        def owner(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            eps = new if new is not None else old
            if eps is None:
                return []
            labels = objects.labels_of(eps)
            if labels.get(MANAGED_BY_LABEL) != MANAGED_BY or not labels.get(SERVICE_NAME_LABEL):
                return []
            return [refs.ObjectRef("", "Service", eps["metadata"]["namespace"], labels[SERVICE_NAME_LABEL])]

        return [
            base.Watch(SERVICE.group_kind, itself),
            base.Watch(pods.POD.group_kind, selecting),
            base.Watch(ENDPOINT_SLICE.group_kind, owner),
        ]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        # Only read: the Service, its Pods and its slices are the API's own copies.
        service = pods.fetch(self.rt, ref, shared=True)
        if service is None:
            return base.Result()
        selector = _selector(service)
        if not selector or (service.get("spec") or {}).get("type") == "ExternalName":
            return base.Result()
        groups: dict[_Ports, list[tuple[str, dict[str, Any]]]] = {}
        for pod in self.rt.cluster.read_list(pods.POD.group_kind, namespace=ref.namespace, labels=selector):
            if not _included(pod):
                continue
            ports = _ports(service, pod)
            groups.setdefault(ports, []).append((pod["metadata"]["name"], _endpoint(service, pod)))
        wanted: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []
        for ports, members in sorted(groups.items()):
            endpoints = [e for _, e in sorted(members, key=lambda m: m[0])]
            for i in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
                wanted.append(([dict(p) for p in ports], endpoints[i : i + MAX_ENDPOINTS_PER_SLICE]))
        if not wanted:
            wanted.append(([], []))  # the placeholder
        existing = [
            s
            for s in self.rt.cluster.read_list(
                ENDPOINT_SLICE.group_kind,
                namespace=ref.namespace,
                labels={SERVICE_NAME_LABEL: ref.name, MANAGED_BY_LABEL: MANAGED_BY},
            )
            if (pods.controller_of(s) or {}).get("uid") == service["metadata"]["uid"]
        ]
        labels = _labels(service)
        unused = list(existing)
        placed: list[tuple[objects.RawObject | None, list[dict[str, Any]], list[dict[str, Any]]]] = []
        for slice_ports, endpoints in wanted:  # a slice with the same ports first, as the reconciler
            same = next((s for s in unused if (s.get("ports") or []) == slice_ports), None)
            if same is not None:
                unused.remove(same)
            placed.append((same, slice_ports, endpoints))
        for existing_slice, slice_ports, endpoints in placed:
            if existing_slice is None and unused:
                existing_slice = unused.pop(0)
            if existing_slice is not None:
                self._update(existing_slice, labels, slice_ports, endpoints)
            else:
                self._create(service, labels, slice_ports, endpoints)
        for stale in unused:
            try:
                self.rt.cluster.delete(objects.ref_of(stale))
            except errors.NotFound:
                continue
        return base.Result()

    def _create(
        self,
        service: objects.RawObject,
        labels: dict[str, str],
        ports: list[dict[str, Any]],
        endpoints: list[dict[str, Any]],
    ) -> None:
        prefix = service["metadata"]["name"][:57] + "-"
        for _ in range(5):
            slice_ = {
                "apiVersion": ENDPOINT_SLICE.api_version,
                "kind": "EndpointSlice",
                "metadata": {
                    "name": prefix + pods.random_suffix(self.rng),
                    "generateName": prefix,
                    "namespace": service["metadata"]["namespace"],
                    "labels": labels,
                    "ownerReferences": [pods.owner_ref(service)],
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            }
            try:
                self.rt.cluster.create(slice_, field_manager=self.name)
            except errors.AlreadyExists:
                continue
            return

    def _update(
        self,
        existing: objects.RawObject,
        labels: dict[str, str],
        ports: list[dict[str, Any]],
        endpoints: list[dict[str, Any]],
    ) -> None:
        if (
            objects.labels_of(existing) == labels
            and (existing.get("ports") or []) == ports
            and (existing.get("endpoints") or []) == endpoints
        ):
            return
        out = objects.deep_copy(existing)
        out["metadata"]["labels"] = labels
        out["metadata"].pop("resourceVersion", None)
        out["ports"] = ports
        out["endpoints"] = endpoints
        try:
            self.rt.cluster.update(out, field_manager=self.name)
        except errors.NotFound:
            return


def _selector(service: objects.RawObject) -> dict[str, str]:
    value = (service.get("spec") or {}).get("selector")
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _included(pod: objects.RawObject) -> bool:
    """`ShouldPodBeInEndpoints` (terminating Pods included): an IP, and not Succeeded or Failed."""
    status = pod.get("status") or {}
    return bool(status.get("podIP") or status.get("podIPs")) and pods.phase(pod) not in (
        "Succeeded",
        "Failed",
    )


def _labels(service: objects.RawObject) -> dict[str, str]:
    """`setEndpointSliceLabels`: the Service's labels, then the controller's own."""
    reserved = (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)
    labels = {k: v for k, v in objects.labels_of(service).items() if k not in reserved}
    labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def _endpoint(service: objects.RawObject, pod: objects.RawObject) -> dict[str, Any]:
    """`podToEndpoint`."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    terminating = bool(pod["metadata"].get("deletionTimestamp"))
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    serving = publish or pods.ready(pod)
    out: dict[str, Any] = {
        "addresses": [str(status.get("podIP") or (status.get("podIPs") or [{}])[0].get("ip", ""))],
        "conditions": {
            "ready": publish or (serving and not terminating),
            "serving": serving,
            "terminating": terminating,
        },
    }
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        out["hostname"] = spec["hostname"]
    out["targetRef"] = {
        "kind": "Pod",
        "namespace": pod["metadata"]["namespace"],
        "name": pod["metadata"]["name"],
        "uid": pod["metadata"]["uid"],
    }
    if spec.get("nodeName"):
        out["nodeName"] = spec["nodeName"]
    return out


def _ports(service: objects.RawObject, pod: objects.RawObject) -> _Ports:
    """`getEndpointPorts`: each Service port that resolves on the Pod (as sortable tuples)."""
    out = []
    for port in (service.get("spec") or {}).get("ports") or []:
        if not isinstance(port, dict):
            continue
        number = _find_port(pod, port)
        if number is None:
            continue
        entry: dict[str, Any] = {
            "name": str(port.get("name") or ""),
            "port": number,
            "protocol": str(port.get("protocol") or "TCP"),
        }
        if port.get("appProtocol"):
            entry["appProtocol"] = port["appProtocol"]
        out.append(tuple(entry.items()))
    return tuple(out)


def _find_port(pod: objects.RawObject, port: dict[str, Any]) -> int | None:
    """`podutil.FindPort`: a number as it is, a name looked up among the containers' ports."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in (container or {}).get("ports") or []:
            if cport.get("name") == target and (cport.get("protocol") or "TCP") == protocol:
                return int(cport.get("containerPort") or 0)
    return None


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def slice_names(self) -> random.Random: ...


def _build(services: _Services) -> base.Reconciler:
    return EndpointSliceController(services.runtime, services.slice_names)


registry.register(registry.Entry("endpointslice", SERVICE.group_kind, _build, order=160, workload=True))
