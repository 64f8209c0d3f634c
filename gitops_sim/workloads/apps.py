"""The apps/v1 controllers of kube-controller-manager, simulated: ReplicaSet, Deployment,
StatefulSet and DaemonSet.

What they do, as the real ones (kubernetes `pkg/controller/{replicaset,deployment,statefulset,
daemon}`):
- ReplicaSet keeps `spec.replicas` active Pods (`<rs>-<5 chars>`), replacing evicted or failed
  ones, and reports replicas/ready/available.
- Deployment owns one ReplicaSet per pod template (`<deployment>-<pod-template-hash>`, revision
  annotation), rolls from the old ones to the new one within `maxSurge`/`maxUnavailable` (25%
  each by default; `Recreate` scales the old to zero first), and writes the status kstatus reads:
  replicas, updated/ready/available/unavailable, `Available` (MinimumReplicasAvailable/Unavailable)
  and `Progressing` (NewReplicaSetCreated, ReplicaSetUpdated, NewReplicaSetAvailable, and
  ProgressDeadlineExceeded when `progressDeadlineSeconds`, default 600, pass without progress).
- StatefulSet creates `<name>-<ordinal>` one at a time, each after the previous is Ready
  (`podManagementPolicy: Parallel` all at once), and rolls by deleting the highest ordinal on an
  old revision first; status with current/update revisions. Before a Pod it creates the claims of
  its `volumeClaimTemplates` (`<template>-<name>-<ordinal>`, labelled with the selector's labels,
  owned by the StatefulSet when `persistentVolumeClaimRetentionPolicy.whenDeleted` is Delete) and
  mounts them; events are the controller's ("create Claim data-web-0 Pod web-0 in StatefulSet web
  success", "create Pod web-0 in StatefulSet web successful").
- DaemonSet runs one Pod on the one simulated node, replaced when the template changes.
(What a deleted owner leaves is collected by the store's garbage collector, through
ownerReferences.)

Differences, on purpose: the pod-template hash is an FNV-1a hash of the template's canonical
JSON (the real one hashes Go's printed struct), so names differ from a real cluster's; minReadySeconds
is not honoured (available = ready); the Deployment's own revision annotation is not written; a
StatefulSet's `whenScaled: Delete` retention is not simulated (claims of removed ordinals stay).

Callers: the engine, on MemoryCluster only. Never reads the real time.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.cluster import errors
from gitops_sim.model import duration, objects, refs
from gitops_sim.reconcile import base, registry
from gitops_sim.workloads import pods

DEPLOYMENT = refs.GVK("apps", "v1", "Deployment")
REPLICASET = refs.GVK("apps", "v1", "ReplicaSet")
STATEFULSET = refs.GVK("apps", "v1", "StatefulSet")
DAEMONSET = refs.GVK("apps", "v1", "DaemonSet")
POD = pods.POD.group_kind
HASH_LABEL = "pod-template-hash"
REVISION_LABEL = "controller-revision-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DEFAULT_DEADLINE_S = 600


def template_hash(template: Any) -> str:
    """A short, stable name-safe hash of a pod template (cf. `controller.ComputeHash`)."""
    h = 0x811C9DC5
    for byte in json.dumps(template, sort_keys=True, separators=(",", ":")).encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(pods.NAME_ALPHABET[b % len(pods.NAME_ALPHABET)] for b in str(h).encode())


def _replicas(obj: objects.RawObject) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _status(obj: objects.RawObject) -> dict[str, Any]:
    return dict(obj.get("status") or {})


def _event(rt: base.Runtime, obj: objects.RawObject, controller: str, reason: str, message: str) -> None:
    rt.recorder.event(obj, type=base.EventType.NORMAL, reason=reason, message=message, controller=controller)


def _with_labels(template: Any, labels: dict[str, str]) -> dict[str, Any]:
    out = objects.clone(template or {})
    meta = out.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **labels}
    return dict(out)


def _create_pod(
    rt: base.Runtime,
    rng: random.Random,
    owner: objects.RawObject,
    controller: str,
    name: str | None,
    labels: dict[str, str],
) -> None:
    """Create a Pod for `owner` (`name`, or `<owner>-<5 chars>`) and record SuccessfulCreate."""
    for _ in range(5):
        pod_name = name or f"{owner['metadata']['name']}-{pods.random_suffix(rng)}"
        try:
            rt.cluster.create(pods.new_pod(owner, pod_name, labels), field_manager=controller)
        except errors.AlreadyExists:
            if name is not None:
                return
            continue
        _event(rt, owner, controller, "SuccessfulCreate", f"Created pod: {pod_name}")
        return


def _delete_pod(rt: base.Runtime, owner: objects.RawObject, controller: str, pod: objects.RawObject) -> None:
    try:
        rt.cluster.delete(objects.ref_of(pod))
    except errors.NotFound:
        return
    _event(rt, owner, controller, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")


@dataclass(slots=True)
class ReplicaSetController:
    rt: base.Runtime
    rng: random.Random
    name: str = "replicaset-controller"
    gvk: refs.GVK = REPLICASET

    def watches(self) -> list[base.Watch]:
        return [
            base.Watch(POD, pods.on_owned_change("ReplicaSet")),
        ]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        # Only read: the ReplicaSet and its Pods are the API's own copies.
        rs = pods.fetch(self.rt, ref, shared=True)
        if rs is None:
            return base.Result()
        want = _replicas(rs)
        live = [p for p in pods.owned_by(self.rt.cluster, POD, rs, shared=True) if pods.active(p)]
        if len(live) < want:
            for _ in range(want - len(live)):
                _create_pod(self.rt, self.rng, rs, self.name, None, {})
        elif len(live) > want:
            # Not-ready Pods go first, then the newest (the real controller's ranking, simplified).
            ranked = sorted(live, key=lambda p: (pods.ready(p), p["metadata"].get("creationTimestamp", "")))
            for pod in ranked[: len(live) - want]:
                _delete_pod(self.rt, rs, self.name, pod)
        live = [p for p in pods.owned_by(self.rt.cluster, POD, rs, shared=True) if pods.active(p)]
        ready = sum(1 for p in live if pods.ready(p))
        status = _status(rs) | {
            "replicas": len(live),
            "fullyLabeledReplicas": len(live),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        pods.write_status(self.rt, rs, status, self.name)
        return base.Result()


@dataclass(slots=True)
class DeploymentController:
    rt: base.Runtime
    name: str = "deployment-controller"
    gvk: refs.GVK = DEPLOYMENT

    def watches(self) -> list[base.Watch]:
        return [base.Watch(REPLICASET.group_kind, pods.on_owned_change("Deployment"))]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        # The Deployment is only read (the API's own copy); its ReplicaSets are copies, which
        # `_scale` updates in place.
        deploy = pods.fetch(self.rt, ref, shared=True)
        if deploy is None:
            return base.Result()
        spec = deploy.get("spec") or {}
        want = _replicas(deploy)
        surge, unavailable = _rolling_limits(spec, want)
        template = spec.get("template") or {}
        hashed = template_hash(template)
        owned = pods.owned_by(self.rt.cluster, REPLICASET.group_kind, deploy)
        new = next((rs for rs in owned if rs["metadata"]["name"] == f"{ref.name}-{hashed}"), None)
        old = sorted(
            (rs for rs in owned if rs is not new),
            key=lambda rs: int(objects.annotations_of(rs).get(REVISION_ANNOTATION, "0")),
        )
        created = False
        if spec.get("paused"):
            pass
        elif new is None:
            revision = 1 + max(
                (int(objects.annotations_of(rs).get(REVISION_ANNOTATION, "0")) for rs in old), default=0
            )
            if (spec.get("strategy") or {}).get("type") == "Recreate":
                first = 0 if any(_replicas(rs) or _status(rs).get("replicas") for rs in old) else want
            else:
                first = max(0, min(want + surge - sum(_replicas(rs) for rs in old), want))
            new = self._create_replica_set(deploy, ref.name, hashed, revision, first)
            created = True
        else:
            self._roll(deploy, new, old, want, surge, unavailable)
        return self._update_status(deploy, new, old, want, unavailable, created)

    def _create_replica_set(
        self, deploy: objects.RawObject, name: str, hashed: str, revision: int, replicas: int
    ) -> objects.RawObject:
        spec = deploy.get("spec") or {}
        selector = objects.clone(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = hashed
        template = _with_labels(spec.get("template"), {HASH_LABEL: hashed})
        rs: objects.RawObject = {
            "apiVersion": REPLICASET.api_version,
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-{hashed}",
                "namespace": deploy["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {REVISION_ANNOTATION: str(revision)},
                "ownerReferences": [pods.owner_ref(deploy)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
        }
        created = self.rt.cluster.create(rs, field_manager=self.name)
        _event(
            self.rt,
            deploy,
            self.name,
            "ScalingReplicaSet",
            f"Scaled up replica set {name}-{hashed} from 0 to {replicas}",
        )
        return created

    def _scale(self, deploy: objects.RawObject, rs: objects.RawObject, to: int) -> None:
        before = _replicas(rs)
        if before == to:
            return
        out = objects.deep_copy(rs)
        out["spec"]["replicas"] = to
        out["metadata"].pop("resourceVersion", None)
        rs.update(self.rt.cluster.update(out, field_manager=self.name))
        way = "up" if to > before else "down"
        _event(
            self.rt,
            deploy,
            self.name,
            "ScalingReplicaSet",
            f"Scaled {way} replica set {rs['metadata']['name']} from {before} to {to}",
        )

    def _roll(
        self,
        deploy: objects.RawObject,
        new: objects.RawObject,
        old: list[objects.RawObject],
        want: int,
        surge: int,
        unavailable: int,
    ) -> None:
        spec = deploy.get("spec") or {}
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            for rs in old:
                self._scale(deploy, rs, 0)
            if not any(_status(rs).get("replicas") for rs in old):
                self._scale(deploy, new, want)
            return
        if not old or _replicas(new) > want:
            self._scale(deploy, new, min(_replicas(new), want) if old else want)
        if _replicas(new) < want:
            room = want + surge - sum(_replicas(rs) for rs in [new, *old])
            self._scale(deploy, new, _replicas(new) + max(0, min(room, want - _replicas(new))))
        total = sum(_replicas(rs) for rs in [new, *old])
        new_unavailable = _replicas(new) - int(_status(new).get("availableReplicas") or 0)
        room = total - (want - unavailable) - new_unavailable
        for rs in old:
            # Old Pods that are not available can go at once; available ones within the budget.
            unhealthy = _replicas(rs) - int(_status(rs).get("availableReplicas") or 0)
            down = min(_replicas(rs), max(room, 0) + max(unhealthy, 0))
            if down > 0:
                self._scale(deploy, rs, _replicas(rs) - down)
                room -= down

    def _update_status(
        self,
        deploy: objects.RawObject,
        new: objects.RawObject | None,
        old: list[objects.RawObject],
        want: int,
        unavailable: int,
        created: bool,
    ) -> base.Result:
        every = [rs for rs in [new, *old] if rs is not None]
        previous = _status(deploy)
        count = {
            key: sum(int(_status(rs).get(key) or 0) for rs in every)
            for key in ("replicas", "readyReplicas", "availableReplicas")
        }
        updated = int(_status(new).get("replicas") or 0) if new is not None else 0
        status: dict[str, Any] = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": count["replicas"],
            "updatedReplicas": updated,
            "readyReplicas": count["readyReplicas"],
            "availableReplicas": count["availableReplicas"],
        }
        if want - count["availableReplicas"] > 0:
            status["unavailableReplicas"] = want - count["availableReplicas"]
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        now = self.rt.now()
        now_ms = self.rt.clock.epoch_ms + self.rt.clock.now()
        conds = {c["type"]: c for c in previous.get("conditions") or []}
        if count["availableReplicas"] >= want - unavailable:
            available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            available = (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        _set(conds, "Available", *available, now, touch=False)
        name = new["metadata"]["name"] if new is not None else ""
        deadline_ms = (
            int((deploy.get("spec") or {}).get("progressDeadlineSeconds", DEFAULT_DEADLINE_S)) * 1000
        )
        progressing = conds.get("Progressing")
        complete = updated == want and count["availableReplicas"] >= want and count["replicas"] == want
        requeue: int | None = None
        if new is None:
            pass
        elif complete:
            _set(
                conds,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
                now,
                touch=progressing is None or progressing.get("reason") != "NewReplicaSetAvailable",
            )
        elif created:
            _set(
                conds,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{name}"',
                now,
                touch=True,
            )
        elif progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
            pass
        elif (
            progressing is None
            or _progressed(previous, status)
            or progressing.get("reason") == "NewReplicaSetAvailable"
        ):
            _set(
                conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{name}" is progressing.',
                now,
                touch=True,
            )
        if new is not None and not complete and conds.get("Progressing", {}).get("status") == "True":
            since = duration.parse_rfc3339(str(conds["Progressing"]["lastUpdateTime"]))
            left = since + deadline_ms - now_ms
            if left <= 0:
                _set(
                    conds,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{name}" has timed out progressing.',
                    now,
                    touch=True,
                )
            else:
                requeue = left
        status["conditions"] = [conds[t] for t in ("Available", "Progressing") if t in conds]
        pods.write_status(self.rt, deploy, status, self.name)
        return base.Result(requeue_after=requeue)


def _set(
    conds: dict[str, dict[str, Any]],
    ctype: str,
    status: str,
    reason: str,
    message: str,
    now: str,
    *,
    touch: bool,
) -> None:
    """Set a Deployment condition: `lastTransitionTime` moves when the status does,
    `lastUpdateTime` when asked to (progress) or when anything changed."""
    old = conds.get(ctype)
    changed = old is None or (old["status"], old["reason"], old["message"]) != (status, reason, message)
    conds[ctype] = {
        "type": ctype,
        "status": status,
        "lastUpdateTime": now if (touch or changed or old is None) else old["lastUpdateTime"],
        "lastTransitionTime": now if old is None or old["status"] != status else old["lastTransitionTime"],
        "reason": reason,
        "message": message,
    }


def _progressed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """The deployment controller's notion of progress (`util.DeploymentProgressing`)."""

    def get(status: dict[str, Any], key: str) -> int:
        return int(status.get(key) or 0)

    old_before = get(before, "replicas") - get(before, "updatedReplicas")
    old_after = get(after, "replicas") - get(after, "updatedReplicas")
    return (
        get(after, "updatedReplicas") > get(before, "updatedReplicas")
        or old_after < old_before
        or get(after, "readyReplicas") > get(before, "readyReplicas")
        or get(after, "availableReplicas") > get(before, "availableReplicas")
    )


def _rolling_limits(spec: dict[str, Any], replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as Pod counts: percentages round surge up and unavailable down;
    both zero is not allowed, so unavailable becomes 1 (`ResolveFenceposts`)."""
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}

    def resolve(value: Any, up: bool) -> int:
        if isinstance(value, str) and value.endswith("%"):
            share = replicas * int(value[:-1]) / 100
            return math.ceil(share) if up else math.floor(share)
        return int(value)

    surge = resolve(rolling.get("maxSurge", "25%"), True)
    unavailable = resolve(rolling.get("maxUnavailable", "25%"), False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


@dataclass(slots=True)
class StatefulSetController:
    rt: base.Runtime
    name: str = "statefulset-controller"
    gvk: refs.GVK = STATEFULSET

    def watches(self) -> list[base.Watch]:
        return [base.Watch(POD, pods.on_owned_change("StatefulSet"))]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        sts = pods.fetch(self.rt, ref)
        if sts is None:
            return base.Result()
        spec = sts.get("spec") or {}
        want = _replicas(sts)
        update_rev = f"{ref.name}-{template_hash(spec.get('template') or {})}"
        owned = {p["metadata"]["name"]: p for p in pods.owned_by(self.rt.cluster, POD, sts)}
        for pod_name, pod in sorted(owned.items()):
            ordinal = pod_name.rpartition("-")[2]
            if not ordinal.isdigit() or int(ordinal) >= want or not pods.active(pod):
                self._delete(sts, pod)
                owned.pop(pod_name)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        for i in range(want):
            pod_name = f"{ref.name}-{i}"
            if pod_name not in owned:
                claims = self._claims(sts, pod_name, i)
                if claims is None:
                    break  # a claim is being deleted: wait for it to go
                labels = {
                    REVISION_LABEL: update_rev,
                    "statefulset.kubernetes.io/pod-name": pod_name,
                    "apps.kubernetes.io/pod-index": str(i),
                }
                self._create(sts, pod_name, labels, claims)
                if not parallel:
                    break
            elif not pods.ready(owned[pod_name]) and not parallel:
                break
        else:
            # Everything is there and Ready: roll the highest ordinal still on an old revision.
            stale = [
                owned[f"{ref.name}-{i}"]
                for i in range(want)
                if objects.labels_of(owned[f"{ref.name}-{i}"]).get(REVISION_LABEL) != update_rev
            ]
            if stale and all(pods.ready(p) for p in owned.values()):
                self._delete(sts, stale[-1])
        live = [p for p in pods.owned_by(self.rt.cluster, POD, sts) if pods.active(p)]
        ready = sum(1 for p in live if pods.ready(p))
        updated = sum(1 for p in live if objects.labels_of(p).get(REVISION_LABEL) == update_rev)
        previous = _status(sts)
        current_rev = str(previous.get("currentRevision") or update_rev)
        if updated == want and ready == want:
            current_rev = update_rev
        current = sum(1 for p in live if objects.labels_of(p).get(REVISION_LABEL) == current_rev)
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": current,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current_rev,
            "updateRevision": update_rev,
            "collisionCount": 0,
        }
        pods.write_status(self.rt, sts, status, self.name)
        return base.Result()

    def _claims(self, sts: objects.RawObject, pod_name: str, ordinal: int) -> dict[str, str] | None:
        """The Pod's claims from `volumeClaimTemplates` (`<template>-<set>-<ordinal>`), created
        when missing, as `createPersistentVolumeClaims` does; None while one is being deleted."""
        spec = sts.get("spec") or {}
        meta = sts["metadata"]
        selector = ((spec.get("selector") or {}).get("matchLabels")) or {}
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        claims: dict[str, str] = {}
        for template in spec.get("volumeClaimTemplates") or []:
            if not isinstance(template, dict):
                continue
            tmeta = template.get("metadata") or {}
            volume = str(tmeta.get("name") or "")
            if not volume:
                continue  # the real API server refuses such a template
            claim_name = f"{volume}-{meta['name']}-{ordinal}"
            claims[volume] = claim_name
            try:
                existing = self.rt.cluster.get(
                    refs.ObjectRef("", "PersistentVolumeClaim", meta["namespace"], claim_name)
                )
            except errors.NotFound:
                existing = None
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    return None
                continue
            claim_meta: dict[str, Any] = {
                "name": claim_name,
                "namespace": meta["namespace"],
                "labels": {**(tmeta.get("labels") or {}), **selector},
            }
            if tmeta.get("annotations"):
                claim_meta["annotations"] = dict(tmeta["annotations"])
            if retention.get("whenDeleted") == "Delete":
                claim_meta["ownerReferences"] = [pods.owner_ref(sts)]
            claim = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": claim_meta,
                "spec": objects.clone(template.get("spec") or {}),
            }
            try:
                self.rt.cluster.create(claim, field_manager=self.name)
            except errors.AlreadyExists:
                continue
            except errors.ApiError as exc:
                self.rt.recorder.event(
                    sts,
                    type=base.EventType.WARNING,
                    reason="FailedCreate",
                    message=f"create Claim {claim_name} for Pod {pod_name} in StatefulSet {meta['name']} "
                    f"failed error: {exc.message}",
                    controller=self.name,
                )
                return None
            _event(
                self.rt,
                sts,
                self.name,
                "SuccessfulCreate",
                f"create Claim {claim_name} Pod {pod_name} in StatefulSet {meta['name']} success",
            )
        return claims

    def _create(
        self, sts: objects.RawObject, name: str, labels: dict[str, str], claims: dict[str, str]
    ) -> None:
        try:
            self.rt.cluster.create(pods.new_pod(sts, name, labels, claims), field_manager=self.name)
        except errors.AlreadyExists:
            return
        _event(
            self.rt,
            sts,
            self.name,
            "SuccessfulCreate",
            f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful",
        )

    def _delete(self, sts: objects.RawObject, pod: objects.RawObject) -> None:
        try:
            self.rt.cluster.delete(objects.ref_of(pod))
        except errors.NotFound:
            return
        name = pod["metadata"]["name"]
        _event(
            self.rt,
            sts,
            self.name,
            "SuccessfulDelete",
            f"delete Pod {name} in StatefulSet {sts['metadata']['name']} successful",
        )


@dataclass(slots=True)
class DaemonSetController:
    rt: base.Runtime
    rng: random.Random
    name: str = "daemonset-controller"
    gvk: refs.GVK = DAEMONSET

    def watches(self) -> list[base.Watch]:
        return [base.Watch(POD, pods.on_owned_change("DaemonSet"))]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        ds = pods.fetch(self.rt, ref)
        if ds is None:
            return base.Result()
        revision = template_hash((ds.get("spec") or {}).get("template") or {})
        live = [p for p in pods.owned_by(self.rt.cluster, POD, ds) if pods.active(p)]
        for pod in live:
            if objects.labels_of(pod).get(REVISION_LABEL) != revision:
                _delete_pod(self.rt, ds, self.name, pod)
        live = [p for p in live if objects.labels_of(p).get(REVISION_LABEL) == revision]
        if not live:
            _create_pod(self.rt, self.rng, ds, self.name, None, {REVISION_LABEL: revision})
            live = [p for p in pods.owned_by(self.rt.cluster, POD, ds) if pods.active(p)]
        ready = sum(1 for p in live if pods.ready(p))
        status = {
            "observedGeneration": ds["metadata"].get("generation", 1),
            "desiredNumberScheduled": 1,
            "currentNumberScheduled": len(live),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": len(live),
        }
        if ready < 1:
            status["numberUnavailable"] = 1 - ready
        pods.write_status(self.rt, ds, status, self.name)
        return base.Result()


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def pod_names(self) -> random.Random: ...


def _register(name: str, gvk: refs.GVK, order: int, build: Any) -> None:
    registry.register(registry.Entry(name, gvk.group_kind, build, order=order, workload=True))


def _deployments(services: _Services) -> base.Reconciler:
    return DeploymentController(services.runtime)


def _replicasets(services: _Services) -> base.Reconciler:
    return ReplicaSetController(services.runtime, services.pod_names)


def _statefulsets(services: _Services) -> base.Reconciler:
    return StatefulSetController(services.runtime)


def _daemonsets(services: _Services) -> base.Reconciler:
    return DaemonSetController(services.runtime, services.pod_names)


_register("deployment", DEPLOYMENT, 100, _deployments)
_register("replicaset", REPLICASET, 110, _replicasets)
_register("statefulset", STATEFULSET, 120, _statefulsets)
_register("daemonset", DAEMONSET, 130, _daemonsets)
