"""Defaulting of built-in objects, as the kube-apiserver's defaulters fill in what a client left out.

The real server decodes every write (create, update, every patch and server-side apply, after
the patch is applied) and runs the generated defaulters (`zz_generated.defaults.go`), which call
each kind's `SetDefaults_*` and those of the structs it contains (pod templates, containers,
ports, probes, volumes). This module does the same for the kinds GitOps repositories use: one pure
function per kind, each naming the Kubernetes file it follows (kubernetes/kubernetes
`pkg/apis/<group>/v1/defaults.go`; behaviour learned there, our own code). `for_kind` answers
None for a kind without a defaulter (ConfigMap, for one), so those writes pay nothing.

Covered: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod and every pod template
in them (PodSpec, containers and init containers, their ports, probes, lifecycle handlers,
env fieldRefs, volumes), Service (spec defaults here; the clusterIP, clusterIPs, ipFamilies,
ipFamilyPolicy and nodePorts the service registry allocates in `allocate_service`), Secret
(type Opaque), PersistentVolumeClaim and PersistentVolume, StorageClass, NetworkPolicy, IngressClass,
HorizontalPodAutoscaler (autoscaling/v2 and v1), RoleBinding and ClusterRoleBinding subjects,
Namespace (the `kubernetes.io/metadata.name` label).
Ingress (networking.k8s.io/v1) and ConfigMap have no defaulter in Kubernetes either.

Fidelity and known gaps:
- Admission plugins are not simulated here (the default StorageClass of a PVC is
  `cluster.admission`'s, run by the store on create): no serviceAccountName or token volume, no
  default tolerations or priority on Pods; a Job gets no generated selector
  or controller-uid labels (the Job registry's PrepareForCreate).
- Feature-gated defaults follow a v1.37 cluster with default gates (PVC retention policy on
  StatefulSets, podReplacementPolicy on Jobs); StatefulSet's maxUnavailable (alpha) is not set.
- Go's serialisation of empty structs (`resources: {}`, `status: {}`, a template's
  `creationTimestamp: null`) is not reproduced: only what a defaulter sets.
- The cluster is single-stack IPv4 with the service CIDR 10.96.0.0/12 and node ports
  30000-32767; addresses are drawn from the store's seeded RNG, never reused while taken.

Callers: the memory store's write path (`_validate` after the schema walk, `_commit` for the
Service allocation). Defaulters only add what is missing: run on an already-defaulted object they
change nothing (the store relies on it for status writes sharing the old spec). They must never
read the clock or the environment, and never refuse an object (validation is not theirs).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Collection
from typing import Any

from gitops_sim.model import refs

Defaulter = Callable[[dict[str, Any]], None]

SERVICE = refs.GroupKind("", "Service")
SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
NODE_PORTS = range(30000, 32768)
# The first address of the range is the `kubernetes` Service's; kubeadm gives the tenth to kube-dns.
_RESERVED_OFFSETS = frozenset({0, 1, 10, SERVICE_CIDR.num_addresses - 1})


def _child(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """`parent[key]`, created when absent or null; a value of the wrong type is left for validation
    to refuse (the defaulters then fill a throwaway map)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else {}


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return _child(obj, "spec")


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The maps of a list (anything else in it is left for validation to refuse)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _map(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = parent.get(key)
    return value if isinstance(value, dict) else None


# --- core/v1: pkg/apis/core/v1/defaults.go -----------------------------------------------------


def pull_policy(image: str) -> str:
    """SetDefaults_Container: Always for `:latest` or an image without tag or digest, else IfNotPresent.

    As `parsers.ParseImageName` reads it: a tag is after the last ':' of the last path part; an
    image with only a digest has no tag (IfNotPresent).
    """
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else ("" if digest else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def _probe(probe: dict[str, Any]) -> None:
    """SetDefaults_Probe, and SetDefaults_HTTPGetAction on its handler."""
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(key):  # Go int32 fields: a zero is defaulted too
            probe[key] = value
    _http_get(probe)


def _http_get(handler: dict[str, Any]) -> None:
    """SetDefaults_HTTPGetAction: path `/`, scheme HTTP."""
    action = _map(handler, "httpGet")
    if action is not None:
        if not action.get("path"):
            action["path"] = "/"
        if not action.get("scheme"):
            action["scheme"] = "HTTP"


def _container(container: dict[str, Any], host_network: bool) -> None:
    """SetDefaults_Container, SetDefaults_ContainerPort, probes, lifecycle, env (core/v1 defaults.go)."""
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = pull_policy(str(container.get("image") or ""))
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = "/dev/termination-log"
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    for port in _dicts(container.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if host_network and not port.get("hostPort") and "containerPort" in port:
            port["hostPort"] = port["containerPort"]  # defaultHostNetworkPorts
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = _map(container, key)
        if probe is not None:
            _probe(probe)
    lifecycle = _map(container, "lifecycle")
    if lifecycle is not None:
        for key in ("postStart", "preStop"):
            handler = _map(lifecycle, key)
            if handler is not None:
                _http_get(handler)
    for env in _dicts(container.get("env")):
        source = _map(env, "valueFrom")
        ref = _map(source, "fieldRef") if source is not None else None
        if ref is not None and not ref.get("apiVersion"):
            ref["apiVersion"] = "v1"  # SetDefaults_ObjectFieldSelector


_MODE_SOURCES = ("secret", "configMap", "downwardAPI", "projected")
_VOLUME_SOURCES = frozenset(
    {
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs",
        "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
        "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk",
        "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral",
        "image",
    }
)  # fmt: skip


def _volume(volume: dict[str, Any]) -> None:
    """SetDefaults_Volume (no source: emptyDir), defaultMode 0644 of secret/configMap/downwardAPI/
    projected sources, SetDefaults_HostPathVolumeSource (type "")."""
    if not _VOLUME_SOURCES.intersection(volume):
        volume["emptyDir"] = {}
    for key in _MODE_SOURCES:
        source = _map(volume, key)
        if source is not None and "defaultMode" not in source:
            source["defaultMode"] = 0o644
    host_path = _map(volume, "hostPath")
    if host_path is not None and "type" not in host_path:
        host_path["type"] = ""
    ephemeral = _map(volume, "ephemeral")
    template = _map(ephemeral, "volumeClaimTemplate") if ephemeral is not None else None
    claim_spec = _map(template, "spec") if template is not None else None
    if claim_spec is not None:
        _claim_spec(claim_spec)


def pod_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and what the generated defaulters call on a PodSpec's parts."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    host_network = spec.get("hostNetwork") is True
    for key in ("initContainers", "containers"):
        for container in _dicts(spec.get(key)):
            _container(container, host_network)
    for volume in _dicts(spec.get("volumes")):
        _volume(volume)


def pod_template(owner_spec: dict[str, Any]) -> None:
    """The pod template of a workload spec (`spec.template.spec`), when there is one."""
    template = _map(owner_spec, "template")
    spec = _map(template, "spec") if template is not None else None
    if spec is not None:
        pod_spec(spec)


def pod(obj: dict[str, Any]) -> None:
    """SetDefaults_Pod: requests from limits where unset, enableServiceLinks; then the PodSpec."""
    spec = _spec(obj)
    for key in ("initContainers", "containers"):
        for container in _dicts(spec.get(key)):
            resources = _map(container, "resources")
            limits = _map(resources, "limits") if resources is not None else None
            if resources is not None and limits:
                requests = _child(resources, "requests")
                for name, quantity in limits.items():
                    requests.setdefault(name, quantity)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    pod_spec(spec)


def service(obj: dict[str, Any]) -> None:
    """SetDefaults_Service: sessionAffinity, type, ports' protocol and targetPort, traffic policies."""
    spec = _spec(obj)
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _child(_child(spec, "sessionAffinityConfig"), "clientIP")
        if client_ip.get("timeoutSeconds") is None:
            client_ip["timeoutSeconds"] = 10800
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    kind = spec["type"]
    for port in _dicts(spec.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    if kind in ("NodePort", "LoadBalancer") and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if kind in ("ClusterIP", "NodePort", "LoadBalancer") and not spec.get("internalTrafficPolicy"):
        spec["internalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def secret(obj: dict[str, Any]) -> None:
    """SetDefaults_Secret: type Opaque."""
    if not obj.get("type"):
        obj["type"] = "Opaque"


def _claim_spec(spec: dict[str, Any]) -> None:
    """SetDefaults_PersistentVolumeClaimSpec: volumeMode Filesystem."""
    if not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"


def _pending(obj: dict[str, Any]) -> None:
    """A volume's or a claim's status phase Pending until a controller says otherwise."""
    status = obj.get("status")
    if status is None:
        obj["status"] = {"phase": "Pending"}
    elif isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


def persistent_volume_claim(obj: dict[str, Any]) -> None:
    """SetDefaults_PersistentVolumeClaim(Spec): phase Pending, volumeMode Filesystem."""
    _pending(obj)
    _claim_spec(_spec(obj))


def persistent_volume(obj: dict[str, Any]) -> None:
    """SetDefaults_PersistentVolume: phase Pending, reclaim policy Retain, volumeMode Filesystem."""
    _pending(obj)
    spec = _spec(obj)
    if not spec.get("persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = "Retain"
    if not spec.get("volumeMode"):
        spec["volumeMode"] = "Filesystem"


# --- apps/v1: pkg/apis/apps/v1/defaults.go -----------------------------------------------------


def _rolling(strategy: dict[str, Any], unavailable: int | str, surge: int | str) -> None:
    rolling = _child(strategy, "rollingUpdate")
    if rolling.get("maxUnavailable") is None:
        rolling["maxUnavailable"] = unavailable
    if rolling.get("maxSurge") is None:
        rolling["maxSurge"] = surge


def _strategy(spec: dict[str, Any], key: str) -> dict[str, Any]:
    strategy = _child(spec, key)
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
    return strategy


def deployment(obj: dict[str, Any]) -> None:
    """SetDefaults_Deployment: replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10,
    progressDeadlineSeconds 600; the pod template."""
    spec = _spec(obj)
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _strategy(spec, "strategy")
    if strategy["type"] == "RollingUpdate":
        _rolling(strategy, "25%", "25%")
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600
    pod_template(spec)


def daemon_set(obj: dict[str, Any]) -> None:
    """SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0, history 10."""
    spec = _spec(obj)
    strategy = _strategy(spec, "updateStrategy")
    if strategy["type"] == "RollingUpdate":
        _rolling(strategy, 1, 0)
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    pod_template(spec)


def stateful_set(obj: dict[str, Any]) -> None:
    """SetDefaults_StatefulSet: OrderedReady, RollingUpdate partition 0, PVC retention Retain/Retain,
    replicas 1, history 10; the pod template and the volume claim templates' specs."""
    spec = _spec(obj)
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = _child(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _child(strategy, "rollingUpdate")
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict) and rolling.get("partition") is None:
        rolling["partition"] = 0
    retention = _child(spec, "persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled"):
        if not retention.get(key):
            retention[key] = "Retain"
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    pod_template(spec)
    for claim in _dicts(spec.get("volumeClaimTemplates")):
        claim_spec = _map(claim, "spec")
        if claim_spec is not None:
            _claim_spec(claim_spec)


def replica_set(obj: dict[str, Any]) -> None:
    """SetDefaults_ReplicaSet: replicas 1; the pod template."""
    spec = _spec(obj)
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    pod_template(spec)


# --- batch/v1: pkg/apis/batch/v1/defaults.go ---------------------------------------------------


def _job_spec(spec: dict[str, Any]) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
    pod_template(spec)


def job(obj: dict[str, Any]) -> None:
    """SetDefaults_Job: completions/parallelism 1, backoffLimit 6, NonIndexed, not suspended,
    podReplacementPolicy; the Job takes its template's labels when it has none."""
    spec = _spec(obj)
    _job_spec(spec)
    template = _map(spec, "template")
    labels = _map(_map(template, "metadata") or {}, "labels") if template is not None else None
    meta = obj.get("metadata")
    if labels and isinstance(meta, dict) and not meta.get("labels"):
        meta["labels"] = dict(labels)


def cron_job(obj: dict[str, Any]) -> None:
    """SetDefaults_CronJob: Allow, not suspended, history 3 successful and 1 failed; the job
    template's pod template (the generated defaulter does not run SetDefaults_Job on it)."""
    spec = _spec(obj)
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    job_template = _map(spec, "jobTemplate")
    job_spec = _map(job_template, "spec") if job_template is not None else None
    if job_spec is not None:
        pod_template(job_spec)


# --- networking/v1: pkg/apis/networking/v1/defaults.go -----------------------------------------


def network_policy(obj: dict[str, Any]) -> None:
    """SetDefaults_NetworkPolicy (policyTypes Ingress, plus Egress with egress rules) and
    SetDefaults_NetworkPolicyPort (protocol TCP)."""
    spec = _spec(obj)
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for key in ("ingress", "egress"):
        for rule in _dicts(spec.get(key)):
            for port in _dicts(rule.get("ports")):
                if not port.get("protocol"):
                    port["protocol"] = "TCP"


def ingress_class(obj: dict[str, Any]) -> None:
    """SetDefaults_IngressClass: parameters' scope Cluster."""
    parameters = _map(_spec(obj), "parameters")
    if parameters is not None and not parameters.get("scope"):
        parameters["scope"] = "Cluster"


# --- autoscaling: pkg/apis/autoscaling/v2/defaults.go and v1/defaults.go -----------------------


def _scale_rules(rules: dict[str, Any], window: int, policies: list[dict[str, Any]]) -> None:
    """GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: fill what a behavior's rules leave out."""
    if rules.get("stabilizationWindowSeconds") is None:
        rules["stabilizationWindowSeconds"] = window
    if not rules.get("selectPolicy"):
        rules["selectPolicy"] = "Max"
    if rules.get("policies") is None:
        rules["policies"] = policies


def horizontal_pod_autoscaler(obj: dict[str, Any]) -> None:
    """SetDefaults_HorizontalPodAutoscaler: minReplicas 1; in autoscaling/v2, a CPU target of 80%
    when no metric is given, and a given `behavior`'s scaleUp/scaleDown rules completed."""
    spec = _spec(obj)
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if obj.get("apiVersion") != "autoscaling/v2":
        return
    if not spec.get("metrics"):
        target = {"type": "Utilization", "averageUtilization": 80}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    behavior = _map(spec, "behavior")
    if behavior is not None:
        up = [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15},
        ]
        down = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        _scale_rules(_child(behavior, "scaleUp"), 0, up)
        _scale_rules(_child(behavior, "scaleDown"), 300, down)


# --- storage/v1: pkg/apis/storage/v1/defaults.go -----------------------------------------------


def storage_class(obj: dict[str, Any]) -> None:
    """SetDefaults_StorageClass: reclaim policy Delete, binding mode Immediate."""
    if not obj.get("reclaimPolicy"):
        obj["reclaimPolicy"] = "Delete"
    if not obj.get("volumeBindingMode"):
        obj["volumeBindingMode"] = "Immediate"


# --- rbac/v1: pkg/apis/rbac/v1/defaults.go -----------------------------------------------------


def role_binding(obj: dict[str, Any]) -> None:
    """SetDefaults_Subject: apiGroup rbac.authorization.k8s.io for User and Group subjects."""
    for subject in _dicts(obj.get("subjects")):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = "rbac.authorization.k8s.io"


def namespace(obj: dict[str, Any]) -> None:
    """SetDefaults_Namespace (core/v1/defaults.go): the `kubernetes.io/metadata.name` label, set to
    the name (whatever a client wrote there), so selectors can pick a namespace by name."""
    meta = obj.get("metadata") or {}
    if meta.get("name"):
        meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta["name"]}


_DEFAULTERS: dict[refs.GroupKind, Defaulter] = {
    refs.GroupKind("", "Namespace"): namespace,
    refs.GroupKind("apps", "Deployment"): deployment,
    refs.GroupKind("apps", "StatefulSet"): stateful_set,
    refs.GroupKind("apps", "DaemonSet"): daemon_set,
    refs.GroupKind("apps", "ReplicaSet"): replica_set,
    refs.GroupKind("batch", "Job"): job,
    refs.GroupKind("batch", "CronJob"): cron_job,
    refs.GroupKind("", "Pod"): pod,
    refs.GroupKind("", "PodTemplate"): lambda obj: pod_template(obj),
    refs.GroupKind("", "ReplicationController"): replica_set,
    SERVICE: service,
    refs.GroupKind("", "Secret"): secret,
    refs.GroupKind("", "PersistentVolumeClaim"): persistent_volume_claim,
    refs.GroupKind("", "PersistentVolume"): persistent_volume,
    refs.GroupKind("storage.k8s.io", "StorageClass"): storage_class,
    refs.GroupKind("networking.k8s.io", "NetworkPolicy"): network_policy,
    refs.GroupKind("networking.k8s.io", "IngressClass"): ingress_class,
    refs.GroupKind("autoscaling", "HorizontalPodAutoscaler"): horizontal_pod_autoscaler,
    refs.GroupKind("rbac.authorization.k8s.io", "RoleBinding"): role_binding,
    refs.GroupKind("rbac.authorization.k8s.io", "ClusterRoleBinding"): role_binding,
}


def for_kind(gk: refs.GroupKind) -> Defaulter | None:
    """The defaulter of a built-in kind, or None when Kubernetes has none worth simulating."""
    return _DEFAULTERS.get(gk)


# --- the service registry's allocation: pkg/registry/core/service/storage/alloc.go -------------


def allocate_service(
    obj: dict[str, Any], old: dict[str, Any] | None, rng: random.Random, taken_ips: Collection[str]
) -> None:
    """Give a Service what the registry allocates: clusterIP(s), ipFamilies and ipFamilyPolicy
    (single-stack IPv4), and node ports for NodePort and LoadBalancer Services.

    On update, what the client left out is kept from `old` (the registry's patchAllocatedValues),
    so an apply or replace without `clusterIP` keeps the address. ExternalName Services get none.
    """
    spec = _spec(obj)
    old_spec = (old or {}).get("spec") or {}
    kind = spec.get("type")
    if kind == "ExternalName":
        return
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if not spec.get("clusterIP"):
        spec["clusterIP"] = _free_ip(rng, taken_ips)
    if not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    if not spec.get("ipFamilies"):
        spec["ipFamilies"] = list(old_spec.get("ipFamilies") or ["IPv4"])
    if not spec.get("ipFamilyPolicy"):
        spec["ipFamilyPolicy"] = old_spec.get("ipFamilyPolicy") or "SingleStack"
    if kind in ("NodePort", "LoadBalancer") and spec.get("allocateLoadBalancerNodePorts") is not False:
        _node_ports(spec, old_spec, rng)


def _free_ip(rng: random.Random, taken: Collection[str]) -> str:
    while True:
        offset = rng.randrange(SERVICE_CIDR.num_addresses)
        if offset not in _RESERVED_OFFSETS:
            address = str(SERVICE_CIDR.network_address + offset)
            if address not in taken:
                return address


def _node_ports(spec: dict[str, Any], old_spec: dict[str, Any], rng: random.Random) -> None:
    """Node ports for the ports without one: the old port of the same name/port, else a free one."""
    kept = {
        (p.get("port"), p.get("protocol")): p["nodePort"]
        for p in _dicts(old_spec.get("ports"))
        if p.get("nodePort")
    }
    ports = _dicts(spec.get("ports"))
    used = {p["nodePort"] for p in ports if p.get("nodePort")}
    for port in ports:
        if port.get("nodePort"):
            continue
        number = kept.get((port.get("port"), port.get("protocol")))
        while number is None or number in used:
            number = rng.choice(NODE_PORTS)
        port["nodePort"] = number
        used.add(number)
