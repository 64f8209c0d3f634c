"""Persistent volumes on the simulated node: the default StorageClass, kube-controller-manager's
PersistentVolume controller and the local-path provisioner behind the class.

The cluster ships kind's default StorageClass (`default_storage_class`): `standard`, the default
(`storageclass.kubernetes.io/is-default-class: "true"`), provisioner `rancher.io/local-path`,
`volumeBindingMode: WaitForFirstConsumer`, `reclaimPolicy: Delete`. Why kind's: its name is the
`standard` most charts and tutorials assume, and its provisioner is the one k3s ships too
(rancher/local-path-provisioner), so a repository tested against kind or k3s meets the same
behaviour here. A claim without a class gets it from the API server (`cluster.admission`).

What runs, as the real ones (kubernetes `pkg/controller/volume/persistentvolume` pv_controller.go,
sigs.k8s.io/sig-storage-lib-external-provisioner controller.go and rancher/local-path-provisioner
provisioner.go; behaviour learned there, our own code):
- the claim side (`ClaimController`, events as `persistentvolume-controller`): an unbound claim
  binds to a volume pre-bound to it or to the smallest Available volume of its class that fits
  (access modes, volume mode, size, selector); otherwise a claim of a WaitForFirstConsumer class
  waits for the scheduler to pick a node (`WaitForFirstConsumer`, "waiting for first consumer to
  be created before binding"), a claim with no class reports `FailedBinding`, a missing class
  `ProvisioningFailed`, and any other is handed to its class's provisioner (the
  `volume.kubernetes.io/storage-provisioner` annotations, `ExternalProvisioning`). Binding writes
  the volume's `claimRef` and phase `Bound`, then the claim's `volumeName`, its
  `pv.kubernetes.io/bind-completed`/`bound-by-controller` annotations and status (phase `Bound`,
  access modes, capacity). A bound claim whose volume is gone is `Lost` (`ClaimLost`);
- the volume side (`VolumeController`): a volume without a claim is `Available`; one whose claim
  is gone is `Released`, and deleted when its reclaim policy is Delete and the local-path
  provisioner made it;
- the local-path provisioner, for claims of its classes (events as `rancher.io/local-path`):
  `Provisioning`, then the volume `pvc-<claim uid>` with a hostPath under
  `/var/local-path-provisioner` pinned to the node, and `ProvisioningSucceeded`; it refuses, with
  `ProvisioningFailed` as it words it, a claim with a selector, with access modes other than
  ReadWriteOnce/ReadWriteOncePod, or without a selected node (an Immediate class).
Pods wait for their claims in the scheduler's part of the kubelet (`workloads.pods`).

Differences, on purpose: provisioning takes no time (local-path runs a helper Pod for a few
seconds); claims and volumes get no protection finalizers (`kubernetes.io/pvc-protection`,
`kubernetes.io/pv-protection`), so a claim in use is deleted at once; volume expansion, Recycle,
Block volumes, topology and a volume's own node affinity are not simulated; a Released volume of
another provisioner with policy Delete stays Released; the controllers do not resync every 15s,
they react to the changes they watch.

Callers: the engine (two work queues, claims and volumes), `engine.simulation` for the default
class. Never reads the real time.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from typing import Any, Protocol

from gitops_sim.cluster import admission, errors
from gitops_sim.model import objects, quantity, refs
from gitops_sim.reconcile import base, registry
from gitops_sim.workloads import pods

PVC = refs.GVK("", "v1", "PersistentVolumeClaim")
PV = refs.GVK("", "v1", "PersistentVolume")
STORAGE_CLASS = refs.GVK("storage.k8s.io", "v1", "StorageClass")
DEFAULT_CLASS = "standard"
PROVISIONER = "rancher.io/local-path"
BASE_PATH = "/var/local-path-provisioner"
CONTROLLER = "persistentvolume-controller"
PROVISIONER_FIELD_MANAGER = "local-path-provisioner"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
SELECTED_NODE = pods.SELECTED_NODE
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
LOCAL_PATH_NODE = "local.path.provisioner/selected-node"
_SINGLE_NODE_MODES = frozenset({"ReadWriteOnce", "ReadWriteOncePod"})


def default_storage_class() -> objects.RawObject:
    """The StorageClass every simulated cluster starts with (kind's, see the module docstring)."""
    return {
        "apiVersion": STORAGE_CLASS.api_version,
        "kind": "StorageClass",
        "metadata": {"name": DEFAULT_CLASS, "annotations": {admission.DEFAULT_CLASS_ANNOTATIONS[0]: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": WAIT_FOR_FIRST_CONSUMER,
    }


def _claim_ref(volume: objects.RawObject) -> dict[str, Any]:
    value = (volume.get("spec") or {}).get("claimRef")
    return value if isinstance(value, dict) else {}


def _phase(obj: objects.RawObject) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def _request(claim: objects.RawObject) -> Fraction:
    requests = (((claim.get("spec") or {}).get("resources") or {}).get("requests")) or {}
    try:
        return quantity.parse(requests.get("storage", 0))
    except quantity.QuantityError:
        return Fraction(0)


def _capacity(volume: objects.RawObject) -> Fraction:
    try:
        return quantity.parse(((volume.get("spec") or {}).get("capacity") or {}).get("storage", 0))
    except quantity.QuantityError:
        return Fraction(0)


class _Writer:
    """What both sides of the controller write, each through the API as the real one does."""

    rt: base.Runtime
    name: str

    def _event(self, obj: objects.RawObject, etype: base.EventType, reason: str, message: str) -> None:
        self.rt.recorder.event(obj, type=etype, reason=reason, message=message, controller=CONTROLLER)

    def _update(self, obj: objects.RawObject, manager: str = CONTROLLER) -> objects.RawObject | None:
        out = objects.deep_copy(obj)
        out["metadata"].pop("resourceVersion", None)
        try:
            return self.rt.cluster.update(out, field_manager=manager)
        except errors.NotFound:
            return None

    def _set_phase(self, obj: objects.RawObject, phase: str, extra: dict[str, Any] | None = None) -> None:
        """A volume's or claim's status phase (a volume's with `lastPhaseTransitionTime`)."""
        status = dict(obj.get("status") or {})
        if status.get("phase") != phase and obj.get("kind") == "PersistentVolume":
            status["lastPhaseTransitionTime"] = self.rt.now()
        status["phase"] = phase
        status |= extra or {}
        pods.write_status(self.rt, obj, status, CONTROLLER)
        obj["status"] = status


class ClaimController(_Writer):
    """The PersistentVolume controller's claim queue, with the local-path provisioner."""

    gvk = PVC

    def __init__(self, rt: base.Runtime) -> None:
        self.rt = rt
        self.name = "persistentvolumeclaim-binder"

    def watches(self) -> list[base.Watch]:
        cluster = self.rt.cluster

        def itself(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            return [objects.ref_of(new)] if new is not None else []

        def claim_of(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            found = []
            for volume in (old, new):
                ref = _claim_ref(volume) if volume is not None else {}
                if ref.get("name"):
                    found.append(
                        refs.ObjectRef("", "PersistentVolumeClaim", ref.get("namespace", ""), ref["name"])
                    )
            return sorted(set(found))

        def claims_of_class(
            old: objects.RawObject | None, new: objects.RawObject | None
        ) -> list[refs.ObjectRef]:
            if new is None:
                return []
            name = new["metadata"]["name"]
            return [
                objects.ref_of(c)
                for c in cluster.list(PVC.group_kind)
                if (c.get("spec") or {}).get("storageClassName") == name
                and not (c.get("spec") or {}).get("volumeName")
            ]

        return [
            base.Watch(PVC.group_kind, itself),
            base.Watch(PV.group_kind, claim_of),
            base.Watch(STORAGE_CLASS.group_kind, claims_of_class),
        ]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        claim = pods.fetch(self.rt, ref)
        if claim is None:
            return base.Result()
        if (claim.get("spec") or {}).get("volumeName"):
            self._sync_bound(claim)
        else:
            self._sync_unbound(claim)
        return base.Result()

    # -- an unbound claim ----------------------------------------------------------------------

    def _sync_unbound(self, claim: objects.RawObject) -> None:
        spec = claim.get("spec") or {}
        class_name = str(spec.get("storageClassName") or "")
        storage_class = self._storage_class(class_name)
        delayed = (
            storage_class is not None and storage_class.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER
        )
        selected = objects.annotations_of(claim).get(SELECTED_NODE)
        volume = self._match(claim, class_name, only_prebound=delayed and not selected)
        if volume is not None:
            self._bind(volume, claim)
            return
        if delayed and not selected:
            self._event(
                claim,
                base.EventType.NORMAL,
                WAIT_FOR_FIRST_CONSUMER,
                "waiting for first consumer to be created before binding",
            )
        elif not class_name:
            self._event(
                claim,
                base.EventType.NORMAL,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            )
        elif storage_class is None:
            self._event(
                claim,
                base.EventType.WARNING,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
            )
        else:
            self._hand_to_provisioner(claim, storage_class)

    def _storage_class(self, name: str) -> objects.RawObject | None:
        if not name:
            return None
        try:
            return self.rt.cluster.get(refs.ObjectRef(STORAGE_CLASS.group, "StorageClass", "", name))
        except errors.NotFound:
            return None

    def _match(
        self, claim: objects.RawObject, class_name: str, *, only_prebound: bool
    ) -> objects.RawObject | None:
        """A volume pre-bound to the claim, else the smallest Available one that fits it."""
        meta = claim["metadata"]
        spec = claim.get("spec") or {}
        fitting: list[tuple[Fraction, str, objects.RawObject]] = []
        for volume in self.rt.cluster.list(PV.group_kind):
            if volume["metadata"].get("deletionTimestamp"):
                continue
            ref = _claim_ref(volume)
            if ref:
                if (ref.get("name"), ref.get("namespace")) == (meta["name"], meta["namespace"]) and ref.get(
                    "uid", meta["uid"]
                ) in ("", meta["uid"]):
                    return volume
                continue
            if only_prebound or _phase(volume) != "Available" or not self._fits(volume, spec, class_name):
                continue
            fitting.append((_capacity(volume), volume["metadata"]["name"], volume))
        return min(fitting, key=lambda f: (f[0], f[1]))[2] if fitting else None

    @staticmethod
    def _fits(volume: objects.RawObject, spec: dict[str, Any], class_name: str) -> bool:
        vspec = volume.get("spec") or {}
        if str(vspec.get("storageClassName") or "") != class_name:
            return False
        if (vspec.get("volumeMode") or "Filesystem") != (spec.get("volumeMode") or "Filesystem"):
            return False
        if not set(spec.get("accessModes") or []) <= set(vspec.get("accessModes") or []):
            return False
        wanted = ((spec.get("selector") or {}).get("matchLabels")) or {}
        labels = objects.labels_of(volume)
        if any(labels.get(k) != v for k, v in wanted.items()):
            return False
        return _capacity(volume) >= _request({"spec": spec})

    def _hand_to_provisioner(self, claim: objects.RawObject, storage_class: objects.RawObject) -> None:
        provisioner = str(storage_class.get("provisioner") or "")
        annotations = objects.annotations_of(claim)
        if annotations.get(STORAGE_PROVISIONER) != provisioner:
            claim["metadata"]["annotations"] = {
                **annotations,
                BETA_STORAGE_PROVISIONER: provisioner,
                STORAGE_PROVISIONER: provisioner,
            }
            updated = self._update(claim)
            if updated is None:
                return
            claim = updated
        self._event(
            claim,
            base.EventType.NORMAL,
            "ExternalProvisioning",
            f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or "
            "manually by the system administrator. If volume creation is delayed, please verify that "
            "the provisioner is running and correctly registered.",
        )
        if provisioner == PROVISIONER:
            self._provision(claim, storage_class)

    # -- the local-path provisioner ------------------------------------------------------------

    def _provision(self, claim: objects.RawObject, storage_class: objects.RawObject) -> None:
        meta = claim["metadata"]
        name = f"pvc-{meta['uid']}"
        with contextlib.suppress(errors.NotFound):
            self.rt.cluster.get(refs.ObjectRef("", "PersistentVolume", "", name))
            return  # already provisioned: the volume side binds it
        spec = claim.get("spec") or {}
        node = objects.annotations_of(claim).get(SELECTED_NODE, "")
        problem = None
        if spec.get("selector") is not None:
            problem = "claim.Spec.Selector is not supported"
        elif not set(spec.get("accessModes") or []) <= _SINGLE_NODE_MODES:
            problem = "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes"
        elif not node:
            problem = "configuration error, no node was specified"
        self._provisioner_event(
            claim,
            base.EventType.NORMAL,
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{meta["namespace"]}/{meta["name"]}"',
        )
        if problem is not None:
            class_name = storage_class["metadata"]["name"]
            self._provisioner_event(
                claim,
                base.EventType.WARNING,
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{class_name}": {problem}',
            )
            return
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {LOCAL_PATH_NODE: node, PROVISIONED_BY: PROVISIONER},
            },
            "spec": {
                "accessModes": list(spec.get("accessModes") or []),
                "capacity": {
                    "storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "0")
                },
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "resourceVersion": meta.get("resourceVersion", ""),
                    "uid": meta["uid"],
                },
                "hostPath": {
                    "path": f"{BASE_PATH}/{name}_{meta['namespace']}_{meta['name']}",
                    "type": "DirectoryOrCreate",
                },
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
                                ]
                            }
                        ]
                    }
                },
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
                "storageClassName": storage_class["metadata"]["name"],
                "volumeMode": "Filesystem",
            },
        }
        try:
            self.rt.cluster.create(volume, field_manager=PROVISIONER_FIELD_MANAGER)
        except errors.AlreadyExists:
            return
        except errors.ApiError as exc:  # a claim the API server took but a volume it refuses
            self._provisioner_event(
                claim,
                base.EventType.WARNING,
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{storage_class["metadata"]["name"]}": '
                f"{exc.message}",
            )
            return
        self._provisioner_event(
            claim, base.EventType.NORMAL, "ProvisioningSucceeded", f"Successfully provisioned volume {name}"
        )

    def _provisioner_event(
        self, obj: objects.RawObject, etype: base.EventType, reason: str, message: str
    ) -> None:
        self.rt.recorder.event(obj, type=etype, reason=reason, message=message, controller=PROVISIONER)

    # -- binding -------------------------------------------------------------------------------

    def _bind(self, volume: objects.RawObject, claim: objects.RawObject) -> None:
        """`ctrl.bind`: the volume's claimRef and phase, then the claim's volumeName and phase."""
        meta = claim["metadata"]
        ref = _claim_ref(volume)
        if ref.get("uid") != meta["uid"] or ref.get("name") != meta["name"]:
            volume["spec"]["claimRef"] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "resourceVersion": meta.get("resourceVersion", ""),
                "uid": meta["uid"],
            }
            if not ref:
                volume["metadata"]["annotations"] = {
                    **objects.annotations_of(volume),
                    BOUND_BY_CONTROLLER: "yes",
                }
            updated = self._update(volume)
            if updated is None:
                return
            volume = updated
        if _phase(volume) != "Bound":
            self._set_phase(volume, "Bound")
        spec = claim.setdefault("spec", {})
        annotations = objects.annotations_of(claim)
        wanted = {**annotations, BIND_COMPLETED: "yes"}
        if not spec.get("volumeName"):
            wanted[BOUND_BY_CONTROLLER] = "yes"
        if spec.get("volumeName") != volume["metadata"]["name"] or wanted != annotations:
            spec["volumeName"] = volume["metadata"]["name"]
            meta["annotations"] = wanted
            updated = self._update(claim)
            if updated is None:
                return
            claim = updated
        vspec = volume.get("spec") or {}
        self._set_phase(
            claim,
            "Bound",
            {
                "accessModes": list(vspec.get("accessModes") or []),
                "capacity": dict(vspec.get("capacity") or {}),
            },
        )

    def _sync_bound(self, claim: objects.RawObject) -> None:
        name = str(claim["spec"]["volumeName"])
        try:
            volume = self.rt.cluster.get(refs.ObjectRef("", "PersistentVolume", "", name))
        except errors.NotFound:
            if _phase(claim) != "Lost":
                self._set_phase(claim, "Lost")
                self._event(
                    claim,
                    base.EventType.WARNING,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                )
            return
        ref = _claim_ref(volume)
        meta = claim["metadata"]
        mine = (ref.get("name"), ref.get("namespace")) == (meta["name"], meta["namespace"]) and ref.get(
            "uid"
        ) in ("", None, meta["uid"])
        if not ref or mine:
            complete = objects.annotations_of(claim).get(BIND_COMPLETED) == "yes"
            if not ref.get("uid") or not complete or _phase(claim) != "Bound" or _phase(volume) != "Bound":
                self._bind(volume, claim)
            return
        if _phase(claim) != "Lost":
            self._set_phase(claim, "Lost")
            self._event(
                claim,
                base.EventType.WARNING,
                "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly",
            )


class VolumeController(_Writer):
    """The PersistentVolume controller's volume queue (phases, release and reclaim)."""

    gvk = PV

    def __init__(self, rt: base.Runtime) -> None:
        self.rt = rt
        self.name = "persistentvolume-binder"

    def watches(self) -> list[base.Watch]:
        cluster = self.rt.cluster

        def itself(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            return [objects.ref_of(new)] if new is not None else []

        def volumes_of(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            claim = new if new is not None else old
            if claim is None:
                return []
            meta = claim["metadata"]
            return [
                objects.ref_of(v)
                for v in cluster.list(PV.group_kind)
                if (_claim_ref(v).get("name"), _claim_ref(v).get("namespace"))
                == (meta["name"], meta["namespace"])
            ]

        return [base.Watch(PV.group_kind, itself), base.Watch(PVC.group_kind, volumes_of)]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        volume = pods.fetch(self.rt, ref)
        if volume is None:
            return base.Result()
        claim_ref = _claim_ref(volume)
        claim = None
        if claim_ref.get("name"):
            with contextlib.suppress(errors.NotFound):
                claim = self.rt.cluster.get(
                    refs.ObjectRef(
                        "", "PersistentVolumeClaim", str(claim_ref.get("namespace", "")), claim_ref["name"]
                    )
                )
            if claim is not None and claim_ref.get("uid") and claim["metadata"]["uid"] != claim_ref["uid"]:
                claim = None
        if not claim_ref or (claim is None and not claim_ref.get("uid")):
            if _phase(volume) != "Available":
                self._set_phase(volume, "Available")
        elif claim is None:
            self._release(volume)
        elif (claim.get("spec") or {}).get("volumeName") == ref.name:
            if _phase(volume) != "Bound":
                self._set_phase(volume, "Bound")
        elif _phase(volume) != "Available":
            self._set_phase(volume, "Available")
        return base.Result()

    def _release(self, volume: objects.RawObject) -> None:
        """The volume's claim is gone: Released, then reclaimed as its policy says."""
        if _phase(volume) not in ("Released", "Failed"):
            self._set_phase(volume, "Released")
        policy = (volume.get("spec") or {}).get("persistentVolumeReclaimPolicy")
        if policy == "Delete" and objects.annotations_of(volume).get(PROVISIONED_BY) == PROVISIONER:
            with contextlib.suppress(errors.NotFound):
                self.rt.cluster.delete(objects.ref_of(volume))


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...


def _claims(services: _Services) -> base.Reconciler:
    return ClaimController(services.runtime)


def _volumes(services: _Services) -> base.Reconciler:
    return VolumeController(services.runtime)


registry.register(registry.Entry("persistentvolumeclaim", PVC.group_kind, _claims, order=144, workload=True))
registry.register(registry.Entry("persistentvolume", PV.group_kind, _volumes, order=146, workload=True))
