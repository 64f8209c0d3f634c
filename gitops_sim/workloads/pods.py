"""Pods: what the workload controllers share about them, and the kubelet that runs them.

`Kubelet` is one simulated node (`sim-node`). A Pod it has not seen is scheduled onto it
(Pending, containers `ContainerCreating`); after `Timings.pull_ms` its images are pulled, or
fail to (`ErrImagePull`, then `ImagePullBackOff` with the kubelet's back-off: 10s doubling to
5m, retried until the image appears); running containers pass their readiness after
`Timings.ready_ms`. Containers of Pods with `restartPolicy: Never|OnFailure` (Jobs) finish after
`Timings.run_ms` (`Succeeded`). Faults from `workloads.images`: `crash-loop` (exit 1 a second
after each start: `CrashLoopBackOff` with the same back-off and `restartCount`, or `Failed` for
`restartPolicy: Never`), `never-ready`. Pods already `Succeeded` or `Failed` (an eviction) are
left alone. (Pods of a deleted owner are collected by the store's garbage collector, through
their ownerReferences, as on a real cluster.)

Pods are scheduled as kube-scheduler's VolumeBinding plugin would when they mount
PersistentVolumeClaims (a StatefulSet's): such a Pod is created without a node and waits, Pending
with no status, while a claim of a WaitForFirstConsumer class is given the node
(`volume.kubernetes.io/selected-node`) and provisioned; it is bound to the node (`Scheduled`, from
`default-scheduler`) once every claim is Bound. A claim that is missing, being deleted, or unbound
with an Immediate class leaves it Unschedulable (`PodScheduled=False`, `FailedScheduling` with the
scheduler's "0/1 nodes are available: ..." message) until the claim changes. A claim that is
never provisioned (a class whose provisioner this cluster does not run) keeps its Pod Pending with
no status: the scheduler's 10-minute PreBind timeout is not simulated.

Differences from a real node, on purpose: one node, no resources or scheduling constraints; a Pod
without claims is created already on the node (the scheduler's choice is trivial), with no
`Scheduled` event; init containers, probes and volumes are not run (readiness is a timer); each
kind of kubelet event is recorded once per Pod rather than repeated on every back-off, to keep the
timeline readable.

Callers: the engine (one work queue for Pods), `workloads.apps` and `workloads.batch` for the
helpers. Never reads the real time: timers are work-queue requeues on the virtual clock.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

from gitops_sim.cluster import backend, errors
from gitops_sim.model import duration, objects, refs
from gitops_sim.reconcile import base, registry
from gitops_sim.workloads import images as imgs

POD = refs.GVK("", "v1", "Pod")
PVC = refs.GroupKind("", "PersistentVolumeClaim")
STORAGE_CLASS = refs.GroupKind("storage.k8s.io", "StorageClass")
SELECTED_NODE = "volume.kubernetes.io/selected-node"
SCHEDULER = "default-scheduler"
NODE = "sim-node"
NODE_IP = "172.18.0.2"
BACKOFF_START_MS = 10_000
BACKOFF_MAX_MS = 300_000
CRASH_AFTER_MS = 1_000
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's rand.String alphabet


@dataclass(frozen=True, slots=True)
class Timings:
    """How long a Pod's steps take on the simulated node (configurable per scenario)."""

    pull_ms: int = 2_000
    ready_ms: int = 1_000
    run_ms: int = 5_000


# -- helpers for the controllers that own Pods ------------------------------------------------


def fetch(rt: base.Runtime, ref: refs.ObjectRef, *, shared: bool = False) -> objects.RawObject | None:
    """The object a controller is asked to reconcile, or None when it is gone or going.
    `shared`: the API's own copy (`Cluster.read`), for a controller that never changes it."""
    try:
        obj = rt.cluster.read(ref) if shared else rt.cluster.get(ref)
    except errors.NotFound:
        return None
    return None if obj["metadata"].get("deletionTimestamp") else obj


def write_status(rt: base.Runtime, obj: objects.RawObject, status: dict[str, Any], manager: str) -> None:
    """Write `status` through the status subresource, unless it is what the object has. `obj` is
    only read (it may be the API's own copy)."""
    if status == (obj.get("status") or {}):
        return
    # Shallow: a status update copies the status it keeps and only reads the rest.
    meta = {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}
    out = {**obj, "metadata": meta, "status": status}
    with contextlib.suppress(errors.NotFound):
        rt.cluster.update(out, field_manager=manager, subresource="status", shared=True)


def controller_of(obj: objects.RawObject) -> dict[str, Any] | None:
    for owner in objects.metadata(obj).get("ownerReferences") or []:
        if owner.get("controller"):
            return dict(owner)
    return None


def owner_ref(owner: objects.RawObject) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(
    cluster: backend.Cluster, gk: refs.GroupKind, owner: objects.RawObject, *, shared: bool = False
) -> list[objects.RawObject]:
    """The objects of `gk` in the owner's namespace that it controls: those its selector's
    `matchLabels` match (as the workload controllers list them), then those it owns. `shared`:
    the API's own copies (`Cluster.read_list`), for a controller that never changes them."""
    uid = owner["metadata"]["uid"]
    selector = (owner.get("spec") or {}).get("selector")
    match = selector.get("matchLabels") if isinstance(selector, dict) else None
    labels = {str(k): str(v) for k, v in match.items()} if isinstance(match, dict) and match else None
    listed = (cluster.read_list if shared else cluster.list)(
        gk, namespace=owner["metadata"].get("namespace"), labels=labels
    )
    return [o for o in listed if (controller_of(o) or {}).get("uid") == uid]


def evict(cluster: backend.Cluster, owner: objects.RawObject) -> list[str]:
    """Evict every running Pod of a workload (a Deployment's through its ReplicaSets), as the
    kubelet does under node pressure: phase `Failed`, reason `Evicted`, written by `kubelet`
    through the status subresource. Returns the evicted Pods' names."""
    owners = [owner]
    if owner.get("kind") == "Deployment":
        owners = owned_by(cluster, refs.GroupKind("apps", "ReplicaSet"), owner)
    evicted = []
    for each in owners:
        for pod in owned_by(cluster, POD.group_kind, each):
            if not active(pod):
                continue
            status = dict(pod.get("status") or {})
            status.update(phase="Failed", reason="Evicted", message="The node was low on resource: memory. ")
            pod["status"] = status
            pod["metadata"].pop("resourceVersion", None)
            cluster.update(pod, field_manager="kubelet", subresource="status")
            evicted.append(pod["metadata"]["name"])
    return evicted


def on_owned_change(kind: str) -> base.Mapper:
    """A mapper: a change to an object controlled by a `kind` enqueues that owner."""

    def mapper(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
        obj = new if new is not None else old
        owner = controller_of(obj) if obj is not None else None
        if obj is None or owner is None or owner.get("kind") != kind:
            return []
        gvk = refs.GVK.of(str(owner.get("apiVersion", "")), kind)
        return [refs.ObjectRef(gvk.group, kind, obj["metadata"].get("namespace", ""), str(owner["name"]))]

    return mapper


def random_suffix(rng: random.Random, n: int = 5) -> str:
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(n))


def new_pod(
    owner: objects.RawObject,
    name: str,
    labels: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
) -> objects.RawObject:
    """A Pod from `owner`'s `spec.template`, controlled by `owner`; `claims` maps volume names to
    the PersistentVolumeClaims they mount (a StatefulSet's), replacing template volumes so named.
    A Pod with no claim is created on the node; one with claims is left to the scheduler."""
    template = objects.clone((owner.get("spec") or {}).get("template") or {})
    meta = dict(template.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), **(labels or {})}
    meta.update(name=name, namespace=owner["metadata"]["namespace"], ownerReferences=[owner_ref(owner)])
    spec = dict(template.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    if claims:
        kept = [v for v in spec.get("volumes") or [] if not (isinstance(v, dict) and v.get("name") in claims)]
        spec["volumes"] = kept + [
            {"name": volume, "persistentVolumeClaim": {"claimName": claim}}
            for volume, claim in claims.items()
        ]
    if not claim_names({"spec": spec}):
        spec["nodeName"] = NODE
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def claim_names(pod: objects.RawObject) -> list[str]:
    """The PersistentVolumeClaims a Pod's volumes mount, in order."""
    return [
        str(v["persistentVolumeClaim"]["claimName"])
        for v in (pod.get("spec") or {}).get("volumes") or []
        if isinstance(v, dict)
        and isinstance(v.get("persistentVolumeClaim"), dict)
        and v["persistentVolumeClaim"].get("claimName")
    ]


def phase(pod: objects.RawObject) -> str:
    return str((pod.get("status") or {}).get("phase", ""))


def active(pod: objects.RawObject) -> bool:
    return phase(pod) not in ("Succeeded", "Failed") and not pod["metadata"].get("deletionTimestamp")


def ready(pod: objects.RawObject) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def backoff_ms(attempt: int) -> int:
    return int(min(BACKOFF_START_MS * 2 ** min(attempt, 20), BACKOFF_MAX_MS))


# -- the kubelet --------------------------------------------------------------------------------


@dataclass(slots=True)
class _PodState:
    """What the kubelet remembers of one Pod between its timers."""

    step: str = "schedule"  # schedule | pull | backoff | start | ready | crash | finish | idle
    due: int | None = None  # when the next step is due (virtual ms; None: now)
    attempts: int = 0  # failed pulls
    restarts: int = 0
    started_at: str = ""
    emitted: set[tuple[str, str]] = field(default_factory=set)


@dataclass(slots=True)
class Kubelet:
    rt: base.Runtime
    images: imgs.Images
    timings: Timings = field(default_factory=Timings)
    name: str = "kubelet"
    gvk: refs.GVK = POD
    _pods: dict[str, _PodState] = field(default_factory=dict)
    _ips: int = 0

    def watches(self) -> list[base.Watch]:
        cluster = self.rt.cluster

        def waiting_on(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            claim = new if new is not None else old
            if claim is None:
                return []
            name = claim["metadata"]["name"]
            return [
                objects.ref_of(p)
                for p in cluster.list(POD.group_kind, namespace=claim["metadata"].get("namespace"))
                if not (p.get("spec") or {}).get("nodeName") and name in claim_names(p)
            ]

        return [base.Watch(PVC, waiting_on)]

    def save_state(self) -> object:
        """The Pods in progress and the addresses handed out (`base.Stateful`)."""
        return (
            {uid: replace(state, emitted=set(state.emitted)) for uid, state in self._pods.items()},
            self._ips,
        )

    def load_state(self, state: object) -> None:
        pods, ips = cast(tuple[dict[str, _PodState], int], state)
        self._pods = {uid: replace(s, emitted=set(s.emitted)) for uid, s in pods.items()}
        self._ips = ips

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        try:
            pod = self.rt.cluster.get(ref)
        except errors.NotFound:
            return base.Result()
        uid = str(pod["metadata"]["uid"])
        if not active(pod):
            self._pods.pop(uid, None)
            return base.Result()
        state = self._pods.setdefault(uid, _PodState())
        now = self.rt.clock.now()
        if state.due is not None and now < state.due:
            return base.Result(requeue_after=state.due - now)
        if state.step == "schedule" and not (pod.get("spec") or {}).get("nodeName") and claim_names(pod):
            scheduled = self._schedule(pod, state)
            if scheduled is None:
                return base.Result()  # the claims' changes bring it back
            pod = scheduled
        wait = self._step(pod, state)
        if wait is None:
            state.step = "idle"
            return base.Result()
        state.due = now + wait
        return base.Result(requeue_after=wait)

    def _step(self, pod: objects.RawObject, state: _PodState) -> int | None:
        """Take the Pod's next step; returns when the one after is due (None: nothing to come)."""
        containers = [str(c.get("name")) for c in (pod.get("spec") or {}).get("containers") or []]
        restart_policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
        now = self.rt.now()
        if state.step == "schedule":
            state.started_at = now
            self._ips += 1
            self._write(pod, "Pending", {c: _waiting("ContainerCreating") for c in containers}, ready=False)
            state.step = "pull"
            return self.timings.pull_ms
        if state.step in ("pull", "backoff"):
            failing = self._pull_failure(pod)
            if failing is not None:
                container, image, message = failing
                if state.step == "pull":
                    self._event(pod, state, "Warning", "Failed", f'Failed to pull image "{image}": {message}')
                    self._write(pod, "Pending", {container: _waiting("ErrImagePull", message)}, ready=False)
                    state.step = "backoff"
                    return 1_000
                self._event(pod, state, "Normal", "BackOff", f'Back-off pulling image "{image}"')
                self._write(
                    pod,
                    "Pending",
                    {container: _waiting("ImagePullBackOff", f'Back-off pulling image "{image}"')},
                    ready=False,
                )
                state.step = "pull"
                state.attempts += 1
                return backoff_ms(state.attempts - 1)
            state.step = "start"
        fault = self._fault(pod)
        if state.step in ("start", "restart"):
            for c in containers:
                self._event(pod, state, "Normal", "Started", f"Started container {c}")
            self._write(
                pod, "Running", {c: _running(now) for c in containers}, ready=False, restarts=state.restarts
            )
            if fault == "crash-loop":
                state.step = "crash"
                return CRASH_AFTER_MS
            if fault == "never-ready":
                self._event(
                    pod,
                    state,
                    "Warning",
                    "Unhealthy",
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                )
                return None
            state.step = "ready"
            return self.timings.ready_ms
        if state.step == "ready":
            self._write(pod, "Running", {c: _running(state.started_at) for c in containers}, ready=True)
            if restart_policy == "Always":
                return None
            state.step = "finish"
            return max(self.timings.run_ms - self.timings.ready_ms, 0)
        if state.step == "finish":
            self._write(
                pod, "Succeeded", {c: _terminated(0, "Completed", now) for c in containers}, ready=False
            )
            return None
        if state.step == "crash":
            if restart_policy == "Never":
                self._write(pod, "Failed", {c: _terminated(1, "Error", now) for c in containers}, ready=False)
                return None
            state.restarts += 1
            wait = backoff_ms(state.restarts - 1)
            ident = f"{pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})"
            for c in containers:
                self._event(
                    pod,
                    state,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {c} in pod {ident}",
                )
            waiting = {
                c: _waiting(
                    "CrashLoopBackOff",
                    f"back-off {duration.format(wait)} restarting failed container={c} pod={ident}",
                    last=_terminated(1, "Error", now)["terminated"],
                )
                for c in containers
            }
            self._write(pod, "Running", waiting, ready=False, restarts=state.restarts)
            state.step = "restart"
            return wait
        return None

    def _schedule(self, pod: objects.RawObject, state: _PodState) -> objects.RawObject | None:
        """kube-scheduler's part for a Pod with PersistentVolumeClaims (its VolumeBinding plugin):
        the Pod bound to the node once every claim is bound, or None while it waits. A claim of a
        WaitForFirstConsumer class gets the node as `volume.kubernetes.io/selected-node`; a claim
        that is missing, being deleted or unbound with an Immediate class leaves the Pod
        Unschedulable (`FailedScheduling`)."""
        namespace = pod["metadata"]["namespace"]
        problem = None
        waiting = False
        for name in claim_names(pod):
            try:
                claim = self.rt.cluster.get(refs.ObjectRef("", "PersistentVolumeClaim", namespace, name))
            except errors.NotFound:
                problem = f'persistentvolumeclaim "{name}" not found'
                break
            if claim["metadata"].get("deletionTimestamp"):
                problem = f'persistentvolumeclaim "{name}" is being deleted'
                break
            if (claim.get("spec") or {}).get("volumeName"):
                continue
            class_name = str((claim.get("spec") or {}).get("storageClassName") or "")
            storage_class = None
            if class_name:
                with contextlib.suppress(errors.NotFound):
                    storage_class = self.rt.cluster.get(
                        refs.ObjectRef(STORAGE_CLASS.group, "StorageClass", "", class_name)
                    )
            if storage_class is None or storage_class.get("volumeBindingMode") != "WaitForFirstConsumer":
                problem = "pod has unbound immediate PersistentVolumeClaims"
                break
            waiting = True
            if objects.annotations_of(claim).get(SELECTED_NODE) != NODE:
                claim["metadata"]["annotations"] = {**objects.annotations_of(claim), SELECTED_NODE: NODE}
                claim["metadata"].pop("resourceVersion", None)
                with contextlib.suppress(errors.NotFound):
                    self.rt.cluster.update(claim, field_manager="kube-scheduler")
        if problem is not None:
            message = (
                f"0/1 nodes are available: {problem}. preemption: 0/1 nodes are available: "
                "1 Preemption is not helpful for scheduling."
            )
            self._event(pod, state, "Warning", "FailedScheduling", message, SCHEDULER)
            condition = {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": self.rt.now(),
                "reason": "Unschedulable",
                "message": message,
            }
            old = next(
                (
                    c
                    for c in (pod.get("status") or {}).get("conditions") or []
                    if c.get("type") == "PodScheduled"
                ),
                None,
            )
            if old is not None and old.get("message") == message:
                condition["lastTransitionTime"] = old["lastTransitionTime"]
            write_status(self.rt, pod, {"phase": "Pending", "conditions": [condition]}, SCHEDULER)
            return None
        if waiting:
            return None
        bound = objects.deep_copy(pod)
        bound["spec"]["nodeName"] = NODE
        bound["metadata"].pop("resourceVersion", None)
        try:
            bound = self.rt.cluster.update(bound, field_manager="kube-scheduler")
        except errors.NotFound:
            return None
        self._event(
            bound,
            state,
            "Normal",
            "Scheduled",
            f"Successfully assigned {namespace}/{pod['metadata']['name']} to {NODE}",
            SCHEDULER,
        )
        return bound

    def _pull_failure(self, pod: objects.RawObject) -> tuple[str, str, str] | None:
        for c in (pod.get("spec") or {}).get("containers") or []:
            message = self.images.pull_error(str(c.get("image", "")))
            if message is not None:
                return str(c.get("name")), str(c.get("image")), message
        return None

    def _fault(self, pod: objects.RawObject) -> str | None:
        for c in (pod.get("spec") or {}).get("containers") or []:
            fault = self.images.fault(str(c.get("image", "")))
            if fault is not None:
                return fault
        return None

    def _event(
        self,
        pod: objects.RawObject,
        state: _PodState,
        etype: str,
        reason: str,
        message: str,
        source: str = "",
    ) -> None:
        if (reason, message) in state.emitted:
            return
        state.emitted.add((reason, message))
        self.rt.recorder.event(
            pod, type=base.EventType(etype), reason=reason, message=message, controller=source or self.name
        )

    def _write(
        self,
        pod: objects.RawObject,
        pod_phase: str,
        states: dict[str, dict[str, Any]],
        *,
        ready: bool,
        restarts: int = 0,
    ) -> None:
        """Write the Pod's status: `states` by container name (a container not named keeps
        waiting in ContainerCreating)."""
        now = self.rt.now()
        old = pod.get("status") or {}
        spec_containers = (pod.get("spec") or {}).get("containers") or []
        statuses = []
        for c in spec_containers:
            name = str(c.get("name"))
            state = states.get(name, _waiting("ContainerCreating"))
            last = state.pop("lastState", None)
            statuses.append(
                {
                    "name": name,
                    "image": c.get("image"),
                    "imageID": "",
                    "ready": ready,
                    "started": "running" in state,
                    "restartCount": restarts,
                    "state": state,
                    "lastState": last or {},
                }
            )
        unready = [s["name"] for s in statuses if not s["ready"]]
        reason = "PodCompleted" if pod_phase == "Succeeded" else "ContainersNotReady"
        not_ready = {"reason": reason} | (
            {"message": f"containers with unready status: [{' '.join(unready)}]"}
            if reason != "PodCompleted"
            else {}
        )

        def condition(ctype: str, ok: bool, extra: dict[str, str] | None = None) -> dict[str, Any]:
            status = "True" if ok else "False"
            previous = next((c for c in old.get("conditions") or [] if c.get("type") == ctype), None)
            since = previous["lastTransitionTime"] if previous and previous.get("status") == status else now
            return {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": since} | (
                extra or {}
            )

        status = {
            "phase": pod_phase,
            "conditions": [
                condition("Initialized", True),
                condition("Ready", ready, None if ready else not_ready),
                condition("ContainersReady", ready, None if ready else not_ready),
                condition("PodScheduled", True),
            ],
            "hostIP": NODE_IP,
            "podIP": old.get("podIP") or f"10.42.0.{self._ips % 250 + 2}",
            "startTime": old.get("startTime") or now,
            "containerStatuses": statuses,
        }
        write_status(self.rt, pod, status, self.name)


def _waiting(reason: str, message: str | None = None, last: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"waiting": {"reason": reason} | ({"message": message} if message else {})}
    if last is not None:
        out["lastState"] = {"terminated": last}
    return out


def _running(since: str) -> dict[str, Any]:
    return {"running": {"startedAt": since}}


def _terminated(code: int, reason: str, at: str) -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "reason": reason, "startedAt": at, "finishedAt": at}}


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def images(self) -> imgs.Images: ...
    @property
    def kubelet(self) -> Timings: ...


def _build(services: _Services) -> base.Reconciler:
    return Kubelet(services.runtime, services.images, services.kubelet)


registry.register(registry.Entry("kubelet", POD.group_kind, _build, order=150, workload=True))
