"""Staged server-side apply and prune, after fluxcd/pkg `ssa` (ResourceManager).

Provenance: behaviour of fluxcd/pkg `ssa/manager_apply.go` (ApplyAllStaged, dry-run drift
check, metadata clean-up), `ssa/sort.go` (ReconcileOrder) and `ssa/manager_delete.go`; our code.

`apply_all_staged` applies CRDs, Namespaces and ClusterRoles first, then `*Class` kinds, then the
rest, each stage sorted by Flux's kind order, then namespace and name. For every object it first
runs a server-side dry-run apply and compares the result with the live object: an object that
would not change and needed no metadata clean-up is `unchanged` and is not written, so its
resourceVersion does not move. Field manager `kustomize-controller`, always with SSA's force
(taking over conflicting fields; not the force-recreate below).

Before writing an object that exists, the metadata clean-up drops legacy annotations and hands
the fields owned by `kubectl*` (Apply or Update), `before-first-apply` and our own Update entries
over to our Apply entry, so that what only `kubectl edit` had added is removed by the apply (skipped
for objects annotated `kustomize.toolkit.fluxcd.io/ssa: Merge`). Managers match by name prefix
and operation, subresource entries never (fluxcd/pkg `ssa` PatchReplaceFieldsManagers): the
kustomize controller's list (kubectl Apply and Update, before-first-apply Update,
kustomize-controller Update) does not reach `gotk-kustomize-controller`, the field owner under
which Flux writes a Kustomization's finalizer and status, so a parent applying a child
Kustomization keeps the child's finalizer.

Exclusions, as kustomize-controller sets fluxcd/pkg's options: an object annotated (or labelled)
`kustomize.toolkit.fluxcd.io/reconcile: disabled` or `kustomize.toolkit.fluxcd.io/ssa: Ignore`
is skipped (the annotation is looked up on the live object when there is one, on the desired
one otherwise); `ssa: IfNotPresent` is created once and never updated; prune skips live objects
annotated `kustomize.toolkit.fluxcd.io/prune: disabled`. Skipped objects are not announced.

Force recreate, as kustomize-controller asks for it with `spec.force` or an object annotated
`kustomize.toolkit.fluxcd.io/force: enabled`: when the dry-run of an existing object is refused
as an immutable-field change (ssa's IsImmutableError: a 409 or 422, or a message naming an
immutable field), the object is deleted (background propagation) and applied again as a new one.
Without force that refusal is the apply's error. fluxcd/pkg waits for the deleted object to be
gone; in memory it is gone at once, and one that a finalizer keeps fails the apply ("is being
deleted and has not gone yet") instead of being waited for.

Not modelled: waiting for the first stage's objects (CRDs, Namespaces) to become Current before
the next stage (ssa WaitForSet). In memory a CRD serves its kind as soon as it is created; on a
real cluster a kind not yet served fails the next stage's dry-run, and the reconcile is retried.

Callers: the kustomize controller. Works with any `Cluster` backend; never imports one.
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from gitops_sim.apply import changeset, drift
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
SSA_ANNOTATION = "kustomize.toolkit.fluxcd.io/ssa"
RECONCILE_ANNOTATION = "kustomize.toolkit.fluxcd.io/reconcile"
PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
FORCE_ANNOTATION = "kustomize.toolkit.fluxcd.io/force"


def _marked(obj: objects.RawObject, key: str, value: str) -> bool:
    """fluxcd/pkg utils.AnyInMetadata: the key in labels or annotations, value case-insensitive."""
    meta = obj.get("metadata") or {}
    found = (meta.get("annotations") or {}).get(key)  # an annotation wins over a label
    if found is None:
        found = (meta.get("labels") or {}).get(key)
    return found is not None and str(found).lower() == value.lower()


def _excluded(obj: objects.RawObject) -> bool:
    return _marked(obj, RECONCILE_ANNOTATION, "disabled") or _marked(obj, SSA_ANNOTATION, "Ignore")


def _skip_apply(desired: objects.RawObject, live: objects.RawObject | None) -> bool:
    """fluxcd/pkg shouldSkipApply."""
    if live is None:
        return _excluded(desired)
    return _marked(desired, SSA_ANNOTATION, "IfNotPresent") or _excluded(live)


class PruneError(Exception):
    """Some stale objects could not be deleted: what was done, and what survives."""

    def __init__(
        self, message: str, done: changeset.ChangeSet, survivors: list[tuple[refs.ObjectRef, str]]
    ) -> None:
        super().__init__(message)
        self.changeset = done
        self.survivors = survivors


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
        """`cleanup_managers` are (manager-name prefix, operation) pairs whose fields Flux takes over."""
        self._cluster = cluster
        self._field_manager = field_manager
        self._cleanup_managers = cleanup_managers
        # IMPLEMENTATION DETAIL: Problem: a dry-run apply per object per reconcile is most of a
        # no-change reconcile's cost. Solution: remember, per object, the desired manifest and
        # the live resourceVersion for which a dry-run (or our own apply) found nothing to
        # change; the same desired object against the same live version gives the same verdict,
        # so the drift check is answered without the dry-run. Any write to the object (a drift)
        # changes its resourceVersion and brings the full dry-run back.
        self._verified: dict[refs.ObjectRef, tuple[str, str]] = {}

    def apply_all_staged(
        self,
        objs: list[objects.RawObject],
        *,
        force: bool = False,
        fingerprint: str | None = None,
        ignore: tuple[drift.Rule, ...] = (),
    ) -> changeset.ChangeSet:
        """Apply stage by stage; an error raises `ApplyError` carrying the earlier stages' entries.
        With `force` (or an object's `kustomize.toolkit.fluxcd.io/force: enabled`), an object
        whose dry-run is refused as an immutable-field change is deleted and created again.
        `fingerprint`, when given, names the content of the whole set (equal fingerprints, equal
        objects), sparing a serialisation of each object for the drift-check memo. `ignore`
        holds the drift-ignore rules (`spec.ignore`)."""
        done = changeset.ChangeSet()
        keyed = sorted(((sort_key(o), i, o) for i, o in enumerate(objs)), key=lambda t: (t[0], t[1]))
        for stage in sorted({key[0] for key, _, _ in keyed}):
            batch = [o for key, _, o in keyed if key[0] == stage]
            done.extend(self._apply_all(batch, done, force, fingerprint, ignore))
        return done

    def _apply_all(
        self,
        objs: list[objects.RawObject],
        done: changeset.ChangeSet,
        force: bool,
        fingerprint: str | None,
        ignore: tuple[drift.Rule, ...],
    ) -> changeset.ChangeSet:
        """ssa ApplyAll: dry-run every object of a stage first, then write only what drifted."""
        out = changeset.ChangeSet()
        plans = []
        rules = repr(ignore) if ignore else ""  # the drift-ignore rules change the verdict too
        for obj in objs:
            live = self._live(obj)
            ref, version = objects.ref_of(obj), objects.gvk_of(obj).version
            if _skip_apply(obj, live):
                out.add(changeset.Entry(ref, version, changeset.Action.SKIPPED))
                continue
            desired = (fingerprint if fingerprint is not None else json.dumps(obj, sort_keys=True)) + rules
            if live is not None and self._verified.get(ref) == (
                desired,
                live["metadata"].get("resourceVersion"),
            ):
                out.add(changeset.Entry(ref, version, changeset.Action.UNCHANGED))
                continue
            plans.append((desired, *self._plan(obj, live, done, force)))
        for desired, obj, live, dry in plans:
            ref, version = objects.ref_of(obj), objects.gvk_of(obj).version
            cleaned = live is not None and self._cleanup(obj, live)
            paths = drift.ignored_paths(list(ignore), obj) if live is not None else []
            drifted = live is None or (
                _drifted(drift.without(live, paths), drift.without(dry, paths))
                if paths
                else _drifted(live, dry)
            )
            if live is not None and not cleaned and not drifted:
                self._verified[ref] = (desired, str(live["metadata"].get("resourceVersion")))
                out.add(changeset.Entry(ref, version, changeset.Action.UNCHANGED))
                continue
            payload = obj
            if paths and live is not None:
                payload = objects.deep_copy(obj)
                drift.reconcile_payload(payload, live, dry, paths, self._field_manager)
            try:
                applied = self._cluster.apply(
                    payload, field_manager=self._field_manager, force=True, shared=True
                )
            except errors.ApiError as exc:
                raise ApplyError(f"{ref} apply failed: {exc.message}", done) from exc
            self._verified[ref] = (desired, str(applied["metadata"].get("resourceVersion")))
            action = changeset.Action.CREATED if live is None else changeset.Action.CONFIGURED
            out.add(changeset.Entry(ref, version, action))
        return out

    def _live(self, obj: objects.RawObject) -> objects.RawObject | None:
        """The live object, read-only (shared with the store in memory)."""
        try:
            return self._cluster.read(objects.ref_of(obj))
        except (errors.NotFound, errors.NoKindMatch):
            return None

    def _plan(
        self, obj: objects.RawObject, live: objects.RawObject | None, done: changeset.ChangeSet, force: bool
    ) -> tuple[objects.RawObject, objects.RawObject | None, objects.RawObject]:
        """(object as it will be applied, live object or None, dry-run result)."""
        ref = objects.ref_of(obj)
        try:
            info = self._cluster.kind_info(objects.gvk_of(obj))
        except errors.NoKindMatch as exc:
            raise ApplyError(f"{ref} dry-run failed: {exc.message}", done) from exc
        if not info.namespaced and ref.namespace:
            obj = copy.deepcopy(obj)
            obj["metadata"].pop("namespace", None)
            ref = objects.ref_of(obj)
            live = self._live(obj)
        try:  # the dry-run result is only compared with the live object: shared, not copied
            dry = self._cluster.apply(
                obj, field_manager=self._field_manager, force=True, dry_run=True, shared=True
            )
        except errors.ApiError as exc:
            recreate = force or _marked(obj, FORCE_ANNOTATION, "enabled")
            if live is None or not recreate or not _immutable_error(exc):
                raise ApplyError(_dry_run_error(ref, exc), done) from exc
            self._recreate(ref, done)
            live = None
            try:
                dry = self._cluster.apply(
                    obj, field_manager=self._field_manager, force=True, dry_run=True, shared=True
                )
            except errors.ApiError as again:
                raise ApplyError(_dry_run_error(ref, again), done) from again
        return obj, live, dry

    def _recreate(self, ref: refs.ObjectRef, done: changeset.ChangeSet) -> None:
        """Delete (background propagation) and wait until the object is gone, as fluxcd/pkg ssa
        does before applying it again. In memory it is gone at once; an object a finalizer keeps
        is reported, since waiting on it would need time this reconcile does not take."""
        with contextlib.suppress(errors.NotFound):
            self._cluster.delete(ref, propagation="Background")
        self._verified.pop(ref, None)
        with contextlib.suppress(errors.NotFound):
            self._cluster.read(ref)
            raise ApplyError(f"{ref} is being deleted and has not gone yet (force recreate)", done)

    def _cleanup(self, desired: objects.RawObject, live: objects.RawObject) -> bool:
        """ssa cleanupMetadata: drop legacy annotations and labels, and hand the fields of kubectl
        and other listed managers over to our own Apply entry (PatchReplaceFieldsManagers), so that
        the next apply removes what only they had set. True when it patched the object."""
        if _merge_requested(desired) or _merge_requested(live):
            return False
        meta = live.get("metadata", {})
        ops: list[dict[str, Any]] = []
        for key in CLEANUP_ANNOTATIONS:
            if key in (meta.get("annotations") or {}):
                ops.append({"op": "remove", "path": "/metadata/annotations/" + key.replace("/", "~1")})
        for key in CLEANUP_LABELS:
            if key in (meta.get("labels") or {}):
                ops.append({"op": "remove", "path": "/metadata/labels/" + key.replace("/", "~1")})
        managed = self._take_over(meta.get("managedFields") or [])
        if managed is not None:
            ops.append({"op": "replace", "path": "/metadata/managedFields", "value": managed})
        if not ops:
            return False
        self._cluster.json_patch(objects.ref_of(live), ops, field_manager=self._field_manager)
        return True

    def _take_over(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """The managedFields with every matching entry merged into ours, or None if none matched."""
        mine = next(
            (e for e in entries if e.get("manager") == self._field_manager and e.get("operation") == "Apply"),
            None,
        )
        kept: list[dict[str, Any]] = []
        edited = False
        for entry in entries:
            if entry is mine:
                continue
            if entry.get("subresource") or not any(
                str(entry.get("manager", "")).startswith(prefix) and entry.get("operation") == operation
                for prefix, operation in self._cleanup_managers
            ):
                kept.append(entry)
                continue
            edited = True
            if mine is None:
                mine = {**entry, "manager": self._field_manager, "operation": "Apply"}
            else:
                mine = {
                    **mine,
                    "fieldsV1": _merge_fields(mine.get("fieldsV1") or {}, entry.get("fieldsV1") or {}),
                }
        if not edited or mine is None:
            return None
        return [*kept, mine]

    def delete_all(
        self, stale: list[tuple[refs.ObjectRef, str]], owner_labels: dict[str, str]
    ) -> changeset.ChangeSet:
        """Prune: delete each stale object that still carries the owner labels (background
        propagation), in the reverse of the apply order. Refused deletes are collected into one
        `PruneError` (ssa DeleteAll's `delete failed, errors: <obj> delete failed: <err>;…`)."""
        done = changeset.ChangeSet()
        failures: list[str] = []
        survivors: list[tuple[refs.ObjectRef, str]] = []

        def rank(item: tuple[refs.ObjectRef, str]) -> tuple[int, int, str, str]:
            ref = item[0]
            shape = {"kind": ref.kind, "apiVersion": f"{ref.group}/v" if ref.group else "v1"}
            return sort_key({**shape, "metadata": {"namespace": ref.namespace, "name": ref.name}})

        for ref, version in sorted(stale, key=rank, reverse=True):
            try:
                live = self._cluster.get(ref)
            except errors.NotFound:
                done.add(changeset.Entry(ref, version, changeset.Action.DELETED))
                continue
            except errors.ApiError as exc:
                failures.append(f"{ref} query failed: {exc.message};")
                survivors.append((ref, version))
                continue
            labels = objects.labels_of(live)
            if any(labels.get(k) != v for k, v in owner_labels.items()) or _marked(
                live, PRUNE_ANNOTATION, "disabled"
            ):
                done.add(changeset.Entry(ref, version, changeset.Action.SKIPPED))
                continue
            try:
                self._cluster.delete(ref, propagation="Background")
            except errors.NotFound:
                pass
            except errors.ApiError as exc:
                failures.append(f"{ref} delete failed: {exc.message};")
                survivors.append((ref, version))
                continue
            self._verified.pop(ref, None)
            done.add(changeset.Entry(ref, version, changeset.Action.DELETED))
        if failures:
            raise PruneError(f"delete failed, errors: {''.join(failures)}", done, survivors)
        return done


def _immutable_error(exc: errors.ApiError) -> bool:
    """fluxcd/pkg ssa's test for a recreate: a 409 or 422, or a message saying a field is immutable."""
    text = exc.message.lower()
    return exc.code in (409, 422) or "is immutable" in text or "immutable field" in text


def _dry_run_error(ref: refs.ObjectRef, exc: errors.ApiError) -> str:
    """ssa DryRunErr.Error(): NotFound is "<obj> not found: …", else "<obj> dry-run failed (<Reason>): …"."""
    if isinstance(exc, errors.NotFound):
        return f"{ref} not found: {exc.message}"
    return f"{ref} dry-run failed ({exc.reason}): {exc.message}"


def _merge_requested(obj: objects.RawObject) -> bool:
    return _marked(obj, SSA_ANNOTATION, "Merge")


def _merge_fields(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge_fields(out[key], value) if isinstance(out.get(key), dict) else value
    return out


def _drifted(live: objects.RawObject, dry: objects.RawObject) -> bool:
    """ssa hasDrifted: labels, annotations, and everything outside metadata and status."""
    if objects.labels_of(live) != objects.labels_of(dry) or objects.annotations_of(
        live
    ) != objects.annotations_of(dry):
        return True

    def body(obj: objects.RawObject) -> objects.RawObject:
        return {k: v for k, v in obj.items() if k not in ("metadata", "status")}

    return body(live) != body(dry)
