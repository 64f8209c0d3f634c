"""Staged server-side apply and prune, after fluxcd/pkg `ssa` (ResourceManager).

Provenance: behaviour of fluxcd/pkg `ssa/manager_apply.go` (ApplyAllStaged, dry-run drift
check, metadata clean-up), `ssa/sort.go` (ReconcileOrder) and `ssa/manager_delete.go`; our code.

`apply_all_staged` applies CRDs, Namespaces and ClusterRoles first, then `*Class` kinds, then the
rest, each stage sorted by Flux's kind order, then namespace and name. For every object it first
runs a server-side dry-run apply and compares the result with the live object: an object that
would not change and needed no metadata clean-up is `unchanged` and is not written, so its
resourceVersion does not move. Field manager `kustomize-controller`, always with force.

Not yet modelled (issue 6): waiting for stage-one objects to become Current, the `ssa`,
`reconcile`, `prune` and `force` annotations, recreate on immutable fields, `spec.ignore` rules.

Callers: the kustomize controller. Works with any `Cluster` backend; never imports one.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from gitops_sim.apply import changeset
from gitops_sim.cluster import backend, errors
from gitops_sim.model import objects, refs

RECONCILE_ORDER = (
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")

CLEANUP_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "kustomize.toolkit.fluxcd.io/checksum",
    "fluxcd.io/sync-checksum",
)
CLEANUP_LABELS = ("fluxcd.io/sync-gc-mark",)


class ApplyError(Exception):
    """Applying one object failed; `changeset` holds what was applied before it."""

    def __init__(self, message: str, done: changeset.ChangeSet) -> None:
        super().__init__(message)
        self.changeset = done


def _kind_rank(kind: str) -> int:
    if kind in RECONCILE_ORDER:
        return RECONCILE_ORDER.index(kind)
    if kind in _LAST:
        return len(RECONCILE_ORDER) + 1 + _LAST.index(kind)
    return len(RECONCILE_ORDER)


def _stage(obj: objects.RawObject) -> int:
    gvk = objects.gvk_of(obj)
    if (
        (gvk.kind == "CustomResourceDefinition" and gvk.group == "apiextensions.k8s.io")
        or (gvk.kind == "Namespace" and gvk.group == "")
        or (gvk.kind == "ClusterRole" and gvk.group == "rbac.authorization.k8s.io")
    ):
        return 0
    return 1 if gvk.kind.endswith("Class") else 2


def sort_key(obj: objects.RawObject) -> tuple[int, int, str, str]:
    ref = objects.ref_of(obj)
    return (_stage(obj), _kind_rank(ref.kind), ref.namespace, ref.name)


class ResourceManager:
    def __init__(
        self, cluster: backend.Cluster, field_manager: str, cleanup_managers: tuple[tuple[str, str], ...]
    ) -> None:
        """`cleanup_managers` are (manager-name prefix, operation) pairs whose entries are dropped."""
        self._cluster = cluster
        self._field_manager = field_manager
        self._cleanup_managers = cleanup_managers

    def apply_all_staged(self, objs: list[objects.RawObject]) -> changeset.ChangeSet:
        done = changeset.ChangeSet()
        for obj in sorted(objs, key=sort_key):
            done.add(self._apply_one(obj, done))
        return done

    def _apply_one(self, obj: objects.RawObject, done: changeset.ChangeSet) -> changeset.Entry:
        ref = objects.ref_of(obj)
        gvk = objects.gvk_of(obj)
        try:
            info = self._cluster.kind_info(gvk)
        except errors.ApiError as exc:
            raise ApplyError(f"{ref} dry-run failed: {exc.message}", done) from exc
        if not info.namespaced and ref.namespace:
            obj = copy.deepcopy(obj)
            obj["metadata"].pop("namespace", None)
            ref = objects.ref_of(obj)
        try:
            live: objects.RawObject | None = self._cluster.get(ref)
        except errors.NotFound:
            live = None
        try:
            dry = self._cluster.apply(obj, field_manager=self._field_manager, force=True, dry_run=True)
        except errors.ApiError as exc:
            raise ApplyError(f"{ref} dry-run failed ({exc.reason}): {exc.message}", done) from exc
        cleaned = live is not None and self._cleanup(ref, live)
        if live is not None and not cleaned and not _drifted(live, dry):
            return changeset.Entry(ref, gvk.version, changeset.Action.UNCHANGED)
        try:
            self._cluster.apply(obj, field_manager=self._field_manager, force=True)
        except errors.ApiError as exc:
            raise ApplyError(f"{ref} apply failed ({exc.reason}): {exc.message}", done) from exc
        action = changeset.Action.CREATED if live is None else changeset.Action.CONFIGURED
        return changeset.Entry(ref, gvk.version, action)

    def _cleanup(self, ref: refs.ObjectRef, live: objects.RawObject) -> bool:
        """Drop kubectl's and legacy managers and annotations from `live`; True when it patched."""
        meta = live.get("metadata", {})
        ops: list[dict[str, Any]] = []
        managed = meta.get("managedFields") or []
        kept = [
            m
            for m in managed
            if m.get("subresource")
            or not any(
                str(m.get("manager", "")).startswith(prefix) and m.get("operation") == operation
                for prefix, operation in self._cleanup_managers
            )
        ]
        if len(kept) != len(managed):
            ops.append({"op": "replace", "path": "/metadata/managedFields", "value": kept or [{}]})
        for key in CLEANUP_ANNOTATIONS:
            if key in (meta.get("annotations") or {}):
                ops.append({"op": "remove", "path": "/metadata/annotations/" + key.replace("/", "~1")})
        for key in CLEANUP_LABELS:
            if key in (meta.get("labels") or {}):
                ops.append({"op": "remove", "path": "/metadata/labels/" + key.replace("/", "~1")})
        if not ops:
            return False
        self._cluster.json_patch(ref, ops, field_manager=self._field_manager)
        return True

    def delete_all(
        self, stale: list[tuple[refs.ObjectRef, str]], owner_labels: dict[str, str]
    ) -> changeset.ChangeSet:
        """Prune: delete each stale object that still carries the owner labels (background propagation)."""
        done = changeset.ChangeSet()
        for ref, version in stale:
            try:
                live = self._cluster.get(ref)
            except errors.NotFound:
                done.add(changeset.Entry(ref, version, changeset.Action.DELETED))
                continue
            labels = objects.labels_of(live)
            if any(labels.get(k) != v for k, v in owner_labels.items()):
                done.add(changeset.Entry(ref, version, changeset.Action.SKIPPED))
                continue
            with contextlib.suppress(errors.NotFound):
                self._cluster.delete(ref, propagation="Background")
            done.add(changeset.Entry(ref, version, changeset.Action.DELETED))
        return done


_VOLATILE_META = ("resourceVersion", "managedFields", "generation")


def _drifted(live: objects.RawObject, dry: objects.RawObject) -> bool:
    def strip(obj: objects.RawObject) -> objects.RawObject:
        out = dict(obj)
        out["metadata"] = {k: v for k, v in obj.get("metadata", {}).items() if k not in _VOLATILE_META}
        return out

    return strip(live) != strip(dry)
