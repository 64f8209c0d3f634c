"""Helm v4's release actions as helm-controller runs them, in phases, without hooks and waits.

What it does: install, upgrade, rollback, uninstall and unlock a release against the `Cluster`
protocol, writing release storage as Helm does (`helm.storage`). The controller runs hooks and
waits in virtual time between the phases, so each action is cut where Helm would run a hook or
wait:

- `begin_install` applies the chart's CRDs per `install.crds`, checks the release name, builds
  the manifest's objects (Helm's ownership metadata, the release namespace on namespaced kinds),
  finds the objects to adopt, and stores revision 1 (or the next one, with `install.replace`)
  as `pending-install` "Initial install underway";
- `begin_upgrade` applies CRDs per `upgrade.crds`, picks the current release as Helm does, refuses
  a pending one, checks that new objects may be adopted, prunes history for `maxHistory` and
  stores `pending-upgrade` "Preparing upgrade";
- `begin_rollback` prunes history and stores `pending-rollback` "Rollback to N" with the target
  revision's chart, values, manifest and hooks;
- `apply_manifest` server-side applies the release's objects (field manager `helm-controller`,
  conflicts forced) and, for upgrades and rollbacks, deletes what left the manifest (Helm's
  `kube.Client.Update`: objects annotated `helm.sh/resource-policy: keep` stay); its failures
  carry Helm's words (`ApplyFailed.message`, and `.description` for the record);
- `finish` records the outcome: deployed with "Install complete"/"Upgrade complete" (a rollback
  keeps "Rollback to N"), the previous release superseded; or failed with the description given
  (`failure_description` has Helm's texts);
- `begin_uninstall`, `delete_release_objects` and `finish_uninstall` (or `uninstall`, all three)
  mark the release uninstalling, delete its objects in Helm's uninstall order and either purge the
  history or keep it with the release `uninstalled`;
- `unlock` marks a `pending-*` release failed with helm-controller's description.

Provenance (behaviour learned, no code copied): fluxcd/helm-controller `internal/action/`
install.go, upgrade.go, rollback.go, uninstall.go, crds.go, ssa.go and `internal/reconcile/`
unlock.go, uninstall.go; helm/helm v4.2.3 `pkg/action/` install.go (RunWithContext,
performInstall, failRelease, availableName, replaceRelease), upgrade.go (prepareUpgrade,
performUpgrade, releasingUpgrade, failRelease), rollback.go, uninstall.go, validate.go
(requireAdoption, existingResourceConflict, checkOwnership), action.go (setMetadataVisitor),
resource_policy.go; `pkg/kube/client.go` (Create, Update, Delete, patchResourceServerSide);
`pkg/storage/storage.go` (Create with MaxHistory); `pkg/release/v1/util` (SplitManifests,
SortManifests, UninstallOrder).

Callers: the HelmRelease controller, which renders the chart (`helm.render`), runs hooks and
waits between the phases, and turns the errors into Flux's conditions and events.

Never: renders a chart, runs a hook, waits, reads the clock (times come in as RFC 3339 strings),
or imports a controller, the kernel or the engine.

Differences, on purpose:
- Always server-side apply (helm-controller's default under Helm v4). `install.serverSideApply:
  false` (client-side apply, three-way merges) is not modelled, so `upgrade.force` and
  `rollback.force` do nothing, as in helm-controller, which passes `ForceReplace` only without
  server-side apply.
- Helm applies the objects of one kind concurrently; here they are applied one by one in the
  manifest's order, so the first error of a kind may come with fewer of its siblings applied.
- Helm waits up to 60s for applied CRDs to be established; in memory they are served at once and
  on a real cluster the next apply fails and the reconcile is retried.
- `upgrade.preserveValues` (reuse of the previous values) and `upgrade.cleanupOnFail` are not
  modelled; the client-side field-manager upgrade of objects written by Helm 3 neither.
- After an upgrade's apply fails Helm rewrites the previous record unchanged; that no-op write is
  left out.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from gitops_sim.cluster import backend, errors
from gitops_sim.helm import render, storage
from gitops_sim.model import duration, objects, refs, yamlsafe
from gitops_sim.model.fluxapi import helm as helmapi

FIELD_MANAGER = "helm-controller"
"""The field manager Helm writes under (helm-controller sets `kube.ManagedFieldsManager`)."""

Action = Literal["install", "upgrade", "rollback"]
Propagation = Literal["background", "foreground", "orphan"]

INSTALL_COMPLETE = "Install complete"
UPGRADE_COMPLETE = "Upgrade complete"
INSTALL_UNDERWAY = "Initial install underway"
UPGRADE_PREPARING = "Preparing upgrade"
UNINSTALL_IN_PROGRESS = "Deletion in progress (or silently failed)"
UNINSTALL_COMPLETE = "Uninstallation complete"
SUPERSEDED_BY_NEW = "superseded by new release"

RESOURCE_POLICY = "helm.sh/resource-policy"
KEEP_POLICY = "keep"
ORIGIN_GROUP = "helm.toolkit.fluxcd.io"
_CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")

UNINSTALL_ORDER = (
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "Ingress",
    "IngressClass",
    "Service",
    "CronJob",
    "Job",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "Pod",
    "DaemonSet",
    "RoleBindingList",
    "RoleBinding",
    "RoleList",
    "Role",
    "ClusterRoleBindingList",
    "ClusterRoleBinding",
    "ClusterRoleList",
    "ClusterRole",
    "CustomResourceDefinition",
    "PersistentVolumeClaim",
    "PersistentVolume",
    "StorageClass",
    "ConfigMap",
    "SecretList",
    "Secret",
    "ServiceAccount",
    "PodDisruptionBudget",
    "PodSecurityPolicy",
    "LimitRange",
    "ResourceQuota",
    "NetworkPolicy",
    "Namespace",
    "PriorityClass",
)
"""Helm's `UninstallOrder`: earlier kinds are deleted first; unknown kinds last, by kind."""


class ActionError(Exception):
    """A Helm action failed; `message` is Helm's error text (what helm-controller shows)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReleaseNotFound(ActionError):
    """Storage holds no revision of the release (Helm's `driver.ErrReleaseNotFound`)."""


class ApplyFailed(ActionError):
    """Applying the manifest failed; `description` is what Helm records on the release."""

    def __init__(self, message: str, description: str) -> None:
        super().__init__(message)
        self.description = description


@dataclass(frozen=True, slots=True)
class Pending:
    """A release stored in a `pending-*` state, and what the apply phase needs."""

    action: Action
    release: storage.Release
    """The new revision, as stored."""
    storage_namespace: str
    previous: storage.Release | None = None
    """The release being upgraded or rolled back from (Helm's `currentRelease`)."""
    adopt: tuple[refs.ObjectRef, ...] = ()
    """Install: existing objects the release takes over. Upgrade: existing objects new to the
    manifest, taken over (Helm appends them to the current objects)."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What `apply_manifest` changed, each list in Helm's order."""

    created: tuple[refs.ObjectRef, ...] = ()
    updated: tuple[refs.ObjectRef, ...] = ()
    deleted: tuple[refs.ObjectRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Uninstalling:
    """An uninstall under way: the latest release (marked uninstalling) and the history read."""

    release: storage.Release
    history: tuple[storage.Release, ...]
    storage_namespace: str
    keep_history: bool


@dataclass(frozen=True, slots=True)
class Uninstalled:
    """The outcome of an uninstall: the release as last recorded, what was deleted and kept."""

    release: storage.Release
    deleted: tuple[refs.ObjectRef, ...] = ()
    kept: str = ""
    """Helm's `These resources were kept due to the resource policy:` text, or ""."""


# --- storage writes -------------------------------------------------------------------------


def _unix(now: str) -> int:
    return duration.parse_rfc3339(re.sub(r"\.[0-9]+", "", now)) // 1000


def _create(cluster: backend.Cluster, ns: str, release: storage.Release, now: str) -> None:
    """Helm's `Secrets.Create`."""
    secret = storage.secret_for(release, ns, created_at=_unix(now))
    try:
        cluster.create(secret, field_manager=FIELD_MANAGER)
    except errors.AlreadyExists as exc:
        raise ActionError("release: already exists") from exc
    except errors.ApiError as exc:
        raise ActionError(f"create: failed to create: {exc.message}") from exc


def update_record(cluster: backend.Cluster, ns: str, release: storage.Release, now: str) -> None:
    """Helm's `Secrets.Update`: the whole Secret rewritten (`createdAt` gone, `modifiedAt` set)."""
    cluster.update(storage.secret_for(release, ns, modified_at=_unix(now)), field_manager=FIELD_MANAGER)


def _delete_record(cluster: backend.Cluster, ns: str, release: storage.Release) -> None:
    with contextlib.suppress(errors.NotFound):
        cluster.delete(storage.secret_ref(ns, release.name, release.version))


def _prune(cluster: backend.Cluster, ns: str, name: str, max_history: int) -> None:
    """Storage.Create's `removeLeastRecent` before a new revision is written."""
    for doomed in storage.prune_history(storage.releases(cluster, ns, name), max_history):
        _delete_record(cluster, ns, doomed)


# --- building objects (Helm's KubeClient.Build and setMetadataVisitor) -----------------------


def _gvk_string(gvk: refs.GVK) -> str:
    """Go's `schema.GroupVersionKind.String()`."""
    return f"{gvk.group}/{gvk.version}, Kind={gvk.kind}"


_PARSED: dict[str, tuple[dict[str, Any], ...]] = {}
_PARSED_KEPT = 256


def documents(manifest: str) -> list[dict[str, Any]]:
    """The non-empty mapping documents of a release manifest, as new objects the caller owns.

    A release's manifest is read again and again (the apply, the wait, the inventory, drift
    detection, the next upgrade): the parse of the last few manifests is kept, keyed by their
    text, and each call gets its own copy."""
    parsed = _PARSED.get(manifest)
    if parsed is None:
        found = []
        for doc in render.split_manifests(manifest):
            for obj in yamlsafe.load_all(doc):
                if isinstance(obj, dict) and obj:
                    found.append(obj)
        parsed = _PARSED[manifest] = tuple(found)
        while len(_PARSED) > _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
    return [objects.deep_copy(o) for o in parsed]


def build_objects(
    cluster: backend.Cluster, manifest: str, namespace: str, *, owned_by: str | None = None
) -> list[dict[str, Any]]:
    """The manifest's objects as Helm builds them: the release namespace on namespaced kinds
    without one, and with `owned_by` (the release name) Helm's ownership metadata."""
    built = []
    for raw in documents(manifest):
        obj: dict[str, Any] = objects.clone(raw)
        gvk = objects.gvk_of(obj)
        meta = obj.setdefault("metadata", {})
        try:
            info = cluster.kind_info(gvk)
        except errors.NoKindMatch as exc:
            raise ActionError(
                f'resource mapping not found for name: "{meta.get("name", "")}" namespace: '
                f'"{meta.get("namespace", "")}" from "": no matches for kind "{gvk.kind}" in version '
                f'"{gvk.group + "/" if gvk.group else ""}{gvk.version}"\nensure CRDs are installed first'
            ) from exc
        if info.namespaced and not meta.get("namespace"):
            meta["namespace"] = namespace
        if not info.namespaced:
            meta.pop("namespace", None)
        if owned_by is not None:
            render.set_ownership(meta, owned_by, namespace)
        built.append(obj)
    return built


def _resource_string(obj: Mapping[str, Any]) -> str:
    """Helm's `resourceString`: `Kind "name" in namespace "ns"`."""
    ref = objects.ref_of(dict(obj))
    return f'{ref.kind} "{ref.name}" in namespace "{ref.namespace}"'


def _exists(cluster: backend.Cluster, obj: Mapping[str, Any]) -> objects.RawObject | None:
    try:
        return cluster.read(objects.ref_of(dict(obj)))
    except errors.NotFound:
        return None
    except errors.ApiError as exc:
        raise ActionError(
            f"could not get information about the resource {_resource_string(obj)}: {exc.message}"
        ) from exc


def _ownership_error(live: objects.RawObject, name: str, namespace: str) -> str | None:
    """Helm's `checkOwnership`."""
    found: list[str] = []
    for where, values, key, want in (
        ("label", objects.labels_of(live), render.MANAGED_BY_LABEL, "Helm"),
        ("annotation", objects.annotations_of(live), render.RELEASE_NAME_ANNOTATION, name),
        ("annotation", objects.annotations_of(live), render.RELEASE_NAMESPACE_ANNOTATION, namespace),
    ):
        if key not in values:
            found.append(f'{where} validation error: missing key "{key}": must be set to "{want}"')
        elif values[key] != want:
            found.append(
                f'{where} validation error: key "{key}" must equal "{want}": current value is "{values[key]}"'
            )
    return f"invalid ownership metadata; {'; '.join(found)}" if found else None


def _adoptable(
    cluster: backend.Cluster, objs: Sequence[Mapping[str, Any]], name: str, namespace: str, take: bool
) -> tuple[refs.ObjectRef, ...]:
    """Helm's `requireAdoption` (take ownership) or `existingResourceConflict`: the objects that
    already exist; without `take`, each must carry this release's ownership metadata."""
    found = []
    for obj in objs:
        live = _exists(cluster, obj)
        if live is None:
            continue
        problem = None if take else _ownership_error(live, name, namespace)
        if problem is not None:
            raise ActionError(
                f"{_resource_string(obj)} exists and cannot be imported into the current release: {problem}"
            )
        found.append(objects.ref_of(dict(obj)))
    return tuple(found)


# --- CRDs (helm-controller internal/action/crds.go) ------------------------------------------


def apply_crds(
    cluster: backend.Cluster,
    policy: helmapi.CRDsPolicy,
    crds: Sequence[render.CrdFile],
    *,
    owner_name: str,
    owner_namespace: str,
) -> tuple[refs.ObjectRef, ...]:
    """Apply the chart's `crds/` per policy (Skip, Create, CreateReplace), each CRD labelled with
    the HelmRelease's origin labels; non-CRD documents there are ignored. Under server-side apply
    Create and CreateReplace both apply existing CRDs too. Raises `ActionError` with
    helm-controller's `failed to apply CustomResourceDefinitions: ...`."""
    if policy == "Skip":
        return ()
    origin = {f"{ORIGIN_GROUP}/name": owner_name, f"{ORIGIN_GROUP}/namespace": owner_namespace}
    chosen = []
    for crd in crds:
        for raw in crd.objects:
            if objects.gvk_of(dict(raw)).group_kind != _CRD:
                continue
            obj: dict[str, Any] = objects.clone(dict(raw))
            meta = obj.setdefault("metadata", {})
            meta["labels"] = {**(meta.get("labels") or {}), **origin}
            chosen.append(obj)
    done: list[refs.ObjectRef] = []
    failures: list[str] = []
    for obj in chosen:
        ref = objects.ref_of(obj)
        creating = policy == "CreateReplace" and _exists(cluster, obj) is None
        try:
            cluster.apply(obj, field_manager=FIELD_MANAGER, force=True)
        except errors.ApiError as exc:
            text = _ssa_error(obj, exc)
            if policy == "Create":
                raise ActionError(
                    f"failed to apply CustomResourceDefinitions: failed to create "
                    f"CustomResourceDefinition {ref.name}: {text}"
                ) from exc
            if creating:
                raise ActionError(
                    "failed to apply CustomResourceDefinitions: failed to update "
                    f"CustomResourceDefinition(s): failed to create resource: {text}"
                ) from exc
            failures.append(text)
            continue
        done.append(ref)
    if failures:
        raise ActionError(
            "failed to apply CustomResourceDefinitions: failed to update CustomResourceDefinition(s): "
            + " && ".join(failures)
        )
    return tuple(done)


# --- install, upgrade, rollback --------------------------------------------------------------


def _hooks(rendered: render.Rendered) -> tuple[storage.Hook, ...]:
    return tuple(
        storage.Hook(
            name=h.name,
            kind=h.kind,
            path=h.path,
            manifest=h.manifest,
            events=h.events,
            weight=h.weight,
            delete_policies=tuple(_DELETE_POLICIES[p] for p in h.delete_policies if p in _DELETE_POLICIES),
            output_log_policies=h.output_log_policies,
        )
        for h in rendered.hooks
    )


_DELETE_POLICIES: dict[str, storage.HookDeletePolicy] = {
    "hook-succeeded": "hook-succeeded",
    "hook-failed": "hook-failed",
    "before-hook-creation": "before-hook-creation",
}


def begin_install(
    cluster: backend.Cluster,
    *,
    storage_namespace: str,
    name: str,
    namespace: str,
    chart: storage.LoadedChart | storage.ChartRecord,
    config: Mapping[str, Any],
    rendered: render.Rendered,
    now: str,
    crds: helmapi.CRDsPolicy = "Create",
    owner_name: str,
    owner_namespace: str,
    replace_release: bool = False,
    take_ownership: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Pending:
    """Helm's install up to the pending record: CRDs, the name check, the objects and those to
    adopt, then the record `pending-install` (revision 1; with `replace_release` after an
    uninstalled or failed release, the next revision, the last one superseded unless failed)."""
    apply_crds(cluster, crds, rendered.crds, owner_name=owner_name, owner_namespace=owner_namespace)
    history = storage.releases(cluster, storage_namespace, name)
    last = history[-1] if history else None
    if last is not None and not (replace_release and last.info.status in ("uninstalled", "failed")):
        raise ActionError("release name check failed: cannot reuse a name that is still in use")
    try:
        objs = build_objects(cluster, rendered.manifest, namespace, owned_by=name)
    except ActionError as exc:
        raise ActionError(f"unable to build kubernetes objects from release manifest: {exc.message}") from exc
    try:
        adopt = _adoptable(cluster, objs, name, namespace, take_ownership)
    except ActionError as exc:
        raise ActionError(f"unable to continue with install: {exc.message}") from exc
    release = storage.new_release(
        chart,
        name=name,
        namespace=namespace,
        version=1,
        config=config,
        manifest=rendered.manifest,
        status="pending-install",
        description=INSTALL_UNDERWAY,
        first_deployed=now,
        last_deployed=now,
        hooks=_hooks(rendered),
        notes=rendered.notes,
        labels=labels,
    )
    if replace_release and last is not None:
        release = replace(release, version=last.version + 1)
        if last.info.status != "failed":
            update_record(
                cluster, storage_namespace, storage.with_status(last, "superseded", SUPERSEDED_BY_NEW), now
            )
    _create(cluster, storage_namespace, release, now)
    return Pending("install", release, storage_namespace, adopt=adopt)


def upgrade_base(history: Sequence[storage.Release], name: str) -> tuple[storage.Release, storage.Release]:
    """(last, current) as Helm's `prepareUpgrade` picks them: the newest revision, and the
    deployed one (else the last when it failed or was superseded). The new revision is
    `last.version + 1`. Raises Helm's `has no deployed releases` and pending errors."""
    if not history:
        raise ActionError(f'"{name}" has no deployed releases')
    last = max(history, key=lambda r: r.version)
    if last.info.status.startswith("pending-"):
        raise ActionError("another operation (install/upgrade/rollback) is in progress")
    current = last if last.info.status == "deployed" else storage.deployed(history)
    if current is None:
        if last.info.status not in ("failed", "superseded"):
            raise ActionError(f'"{name}" has no deployed releases')
        current = last
    return last, current


def begin_upgrade(
    cluster: backend.Cluster,
    *,
    storage_namespace: str,
    name: str,
    chart: storage.LoadedChart | storage.ChartRecord,
    config: Mapping[str, Any],
    rendered: render.Rendered,
    now: str,
    max_history: int,
    crds: helmapi.CRDsPolicy = "Create",
    owner_name: str,
    owner_namespace: str,
    take_ownership: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Pending:
    """Helm's upgrade up to the pending record. `rendered` must be rendered for revision
    `last.version + 1` (`upgrade_base`) as an upgrade. History is pruned for `max_history`
    (0: unlimited) before the `pending-upgrade` record is created."""
    apply_crds(cluster, crds, rendered.crds, owner_name=owner_name, owner_namespace=owner_namespace)
    last, current = upgrade_base(storage.releases(cluster, storage_namespace, name), name)
    namespace = current.namespace
    try:
        old = build_objects(cluster, current.manifest, namespace)
    except ActionError as exc:
        raise ActionError(
            f"unable to build kubernetes objects from current release manifest: {exc.message}"
        ) from exc
    try:
        new = build_objects(cluster, rendered.manifest, namespace, owned_by=name)
    except ActionError as exc:
        raise ActionError(
            f"unable to build kubernetes objects from new release manifest: {exc.message}"
        ) from exc
    known = {_object_key(o) for o in old}
    fresh = [o for o in new if _object_key(o) not in known]
    try:
        adopt = _adoptable(cluster, fresh, name, namespace, take_ownership)
    except ActionError as exc:
        raise ActionError(f"unable to continue with update: {exc.message}") from exc
    release = storage.new_release(
        chart,
        name=name,
        namespace=namespace,
        version=last.version + 1,
        config=config,
        manifest=rendered.manifest,
        status="pending-upgrade",
        description=UPGRADE_PREPARING,
        first_deployed=current.info.first_deployed,
        last_deployed=now,
        hooks=_hooks(rendered),
        notes=rendered.notes,
        labels={**last.labels, **(labels or {})},
    )
    _prune(cluster, storage_namespace, name, max_history)
    _create(cluster, storage_namespace, release, now)
    return Pending("upgrade", release, storage_namespace, previous=current, adopt=adopt)


def begin_rollback(
    cluster: backend.Cluster,
    *,
    storage_namespace: str,
    name: str,
    version: int,
    now: str,
    max_history: int,
) -> Pending:
    """Helm's rollback up to the pending record: a new revision (last + 1) with revision
    `version`'s chart, values, manifest and hooks (0: the one before the last), stored
    `pending-rollback` "Rollback to N" after pruning history for `max_history`."""
    history = storage.releases(cluster, storage_namespace, name)
    if not history:
        raise ReleaseNotFound("release: not found")
    current = history[-1]
    wanted = version or current.version - 1
    target = next((r for r in history if r.version == wanted), None)
    if target is None:
        raise ActionError(f"release has no {wanted} version")
    release = storage.Release(
        name=name,
        namespace=current.namespace,
        version=current.version + 1,
        info=storage.Info(
            first_deployed=current.info.first_deployed,
            last_deployed=now,
            status="pending-rollback",
            notes=target.info.notes,
            description=f"Rollback to {wanted}",
        ),
        chart=target.chart,
        config=target.config,
        manifest=target.manifest,
        hooks=target.hooks,
        labels=target.labels,
        apply_method="ssa",
    )
    _prune(cluster, storage_namespace, name, max_history)
    _create(cluster, storage_namespace, release, now)
    return Pending("rollback", release, storage_namespace, previous=current)


def _object_key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """Helm's `objectKey`: group/version, kind, namespace, name."""
    meta = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion")),
        str(obj.get("kind")),
        str(meta.get("namespace") or ""),
        str(meta["name"]),
    )


def _match_key(obj: Mapping[str, Any]) -> refs.ObjectRef:
    """What Helm's `ResourceList.Get`/`Difference` match on: group, kind, namespace, name."""
    return objects.ref_of(dict(obj))


def _ssa_error(obj: Mapping[str, Any], exc: errors.ApiError) -> str:
    """Helm's `patchResourceServerSide` error."""
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace') or ''}/{meta.get('name')} {_gvk_string(objects.gvk_of(dict(obj)))}"
    if exc.code == 415:
        return f"server-side apply not available on the server: {exc.message}"
    if isinstance(exc, errors.Conflict):
        return f"conflict occurred while applying object {where}: {exc.message}"
    return f"server-side apply failed for object {where}: {exc.message}"


def failure_description(pending: Pending, error: str, *, waiting: bool = False) -> str:
    """What Helm records on a release whose action failed after its record was written:
    install `Release "<name>" failed: <err>`, upgrade `Upgrade "<name>" failed: <err>`,
    rollback `Rollback "<name>" failed: <err>` when applying failed and `Release "<name>"
    failed: <err>` when waiting did (`waiting`)."""
    name = pending.release.name
    if pending.action == "upgrade":
        return f'Upgrade "{name}" failed: {error}'
    if pending.action == "rollback" and not waiting:
        return f'Rollback "{name}" failed: {error}'
    return f'Release "{name}" failed: {error}'


def apply_manifest(cluster: backend.Cluster, pending: Pending) -> Applied:
    """Apply the pending release's manifest with server-side apply (conflicts forced) and, for an
    upgrade or rollback, delete the previous release's objects it no longer has (unless annotated
    `helm.sh/resource-policy: keep`). Writes no release record, except for a rollback whose apply
    fails: Helm then records the current release superseded and the new one failed at once.
    Raises `ApplyFailed` with Helm's message and the description to record."""
    rel = pending.release
    try:
        targets = build_objects(cluster, rel.manifest, rel.namespace, owned_by=rel.name)
        previous = pending.previous
        currents = [] if previous is None else build_objects(cluster, previous.manifest, rel.namespace)
    except ActionError as exc:
        which = "release" if pending.action == "install" else "new release"
        text = f"unable to build kubernetes objects from {which} manifest: {exc.message}"
        raise ApplyFailed(text, failure_description(pending, text)) from exc
    try:
        if pending.action == "install" and not pending.adopt:
            return _create_all(cluster, targets)
        adopted = [o for o in targets if _match_key(o) in set(pending.adopt)]
        return _update_all(cluster, currents + adopted, targets)
    except ActionError as exc:
        description = failure_description(pending, exc.message)
        if pending.action == "rollback" and pending.previous is not None:
            now = rel.info.last_deployed
            ns = pending.storage_namespace
            update_record(cluster, ns, _status(pending.previous, "superseded"), now)
            update_record(cluster, ns, storage.with_status(rel, "failed", description), now)
        raise ApplyFailed(exc.message, description) from exc


def _status(release: storage.Release, status: storage.Status) -> storage.Release:
    """A new status, the description kept (Helm sets `Info.Status` alone)."""
    return replace(release, info=replace(release.info, status=status))


def _create_all(cluster: backend.Cluster, targets: Sequence[dict[str, Any]]) -> Applied:
    """Helm's `Client.Create` with server-side apply: every object applied, errors joined."""
    failures = []
    created = []
    for obj in targets:
        try:
            cluster.apply(obj, field_manager=FIELD_MANAGER, force=True)
        except errors.ApiError as exc:
            failures.append(_ssa_error(obj, exc))
            continue
        created.append(objects.ref_of(obj))
    if failures:
        raise ActionError("\n".join(failures))
    return Applied(created=tuple(created))


def _update_all(
    cluster: backend.Cluster, currents: Sequence[dict[str, Any]], targets: Sequence[dict[str, Any]]
) -> Applied:
    """Helm's `Client.Update` with server-side apply: create what is missing (the first failure
    stops), apply the rest (failures joined with ` && `), then delete what left the manifest."""
    created: list[refs.ObjectRef] = []
    updated: list[refs.ObjectRef] = []
    failures: list[str] = []
    for obj in targets:
        live = _exists(cluster, obj)
        try:
            cluster.apply(obj, field_manager=FIELD_MANAGER, force=True)
        except errors.ApiError as exc:
            if live is None:
                raise ActionError(f"failed to create resource: {_ssa_error(obj, exc)}") from exc
            failures.append(_ssa_error(obj, exc))
            updated.append(objects.ref_of(obj))
            continue
        (created if live is None else updated).append(objects.ref_of(obj))
    if failures:
        raise ActionError(" && ".join(failures))
    wanted = {_match_key(o) for o in targets}
    deleted: list[refs.ObjectRef] = []
    seen: set[refs.ObjectRef] = set()
    for obj in currents:
        ref = _match_key(obj)
        if ref in wanted or ref in seen:
            continue
        seen.add(ref)
        live = _exists(cluster, obj)
        if live is None or objects.annotations_of(live).get(RESOURCE_POLICY) == KEEP_POLICY:
            continue
        try:
            cluster.delete(ref, propagation="Background")
        except errors.NotFound:
            continue
        except errors.ApiError as exc:
            failures.append(
                f"failed to delete resource namespace={ref.namespace}, name={ref.name}, kind={ref.kind}: "
                f"{exc.message}"
            )
            continue
        deleted.append(ref)
    if failures:
        raise ActionError(" && ".join(failures))
    return Applied(tuple(created), tuple(updated), tuple(deleted))


def finish(
    cluster: backend.Cluster,
    pending: Pending,
    *,
    succeeded: bool,
    now: str,
    description: str = "",
) -> storage.Release:
    """Record the outcome of a pending install, upgrade or rollback; returns the new record.

    Success: install `deployed` "Install complete"; upgrade `deployed` "Upgrade complete" and the
    previous release `superseded` (its description kept); rollback `deployed` ("Rollback to N"
    kept) and every other deployed revision superseded. Failure: the new record `failed` with
    `description` (see `failure_description`). Helm's own `Description` option is not used by
    helm-controller."""
    ns, rel = pending.storage_namespace, pending.release
    if not succeeded:
        failed = storage.with_status(rel, "failed", description)
        update_record(cluster, ns, failed, now)
        return failed
    if pending.action == "install":
        done = storage.with_status(rel, "deployed", description or INSTALL_COMPLETE)
    elif pending.action == "upgrade":
        if pending.previous is not None:
            update_record(cluster, ns, _status(pending.previous, "superseded"), now)
        done = storage.with_status(rel, "deployed", description or UPGRADE_COMPLETE)
    else:
        for other in storage.releases(cluster, ns, rel.name):
            if other.info.status == "deployed" and other.version != rel.version:
                update_record(cluster, ns, _status(other, "superseded"), now)
        done = _status(rel, "deployed")
    update_record(cluster, ns, done, now)
    return done


# --- uninstall -------------------------------------------------------------------------------


def begin_uninstall(
    cluster: backend.Cluster, *, storage_namespace: str, name: str, keep_history: bool, now: str
) -> Uninstalling | Uninstalled:
    """Helm's uninstall up to its pre-delete hooks: the latest release marked `uninstalling`
    ("Deletion in progress (or silently failed)", deleted at `now`), not yet stored. A release
    already uninstalled is purged (no `keep_history`: returns `Uninstalled`) or refused with
    Helm's `the release named "<name>" is already deleted`."""
    history = tuple(storage.releases(cluster, storage_namespace, name))
    if not history:
        raise ReleaseNotFound(f"uninstall: Release not loaded: {name}: release: not found")
    last = history[-1]
    if last.info.status == "uninstalled":
        if keep_history:
            raise ActionError(f'the release named "{name}" is already deleted')
        for rel in history:
            _delete_record(cluster, storage_namespace, rel)
        return Uninstalled(last)
    marked = replace(
        last,
        info=replace(last.info, status="uninstalling", deleted=now, description=UNINSTALL_IN_PROGRESS),
    )
    return Uninstalling(marked, history, storage_namespace, keep_history)


_PROPAGATION: dict[Propagation, backend.Propagation] = {
    "background": "Background",
    "foreground": "Foreground",
    "orphan": "Orphan",
}


def _uninstall_rank(kind: str) -> tuple[int, str]:
    order = {k: i for i, k in enumerate(UNINSTALL_ORDER)}
    return (order[kind], "") if kind in order else (len(order), kind)


def delete_release_objects(
    cluster: backend.Cluster, plan: Uninstalling, *, now: str, propagation: Propagation = "background"
) -> Uninstalled:
    """Store the `uninstalling` record, then delete the manifest's objects in Helm's uninstall
    order, keeping those annotated `helm.sh/resource-policy: keep`. Raises Helm's `failed to
    delete release: <name>` when a delete fails (objects already gone count as deleted)."""
    rel = plan.release
    with contextlib.suppress(errors.ApiError):
        update_record(cluster, plan.storage_namespace, rel, now)
    docs = render.split_manifests(rel.manifest)
    numbered = sorted((f"manifest-{i}", d) for i, d in enumerate(docs))
    heads: list[tuple[str, dict[str, Any]]] = []
    for _, doc in numbered:
        loaded = yamlsafe.load(doc)
        if isinstance(loaded, dict) and loaded:
            heads.append((doc, loaded))
    heads.sort(key=lambda h: _uninstall_rank(str(h[1].get("kind") or "")))
    kept: list[str] = []
    remaining: list[dict[str, Any]] = []
    for _, head in heads:
        policy = ((head.get("metadata") or {}).get("annotations") or {}).get(RESOURCE_POLICY)
        if policy is None:
            remaining.append(head)
        elif str(policy).strip().lower() == KEEP_POLICY:
            kept.append(f"[{head.get('kind')}] {(head.get('metadata') or {}).get('name')}\n")
    try:
        built = build_objects(cluster, "\n---\n".join(yamlsafe.dump(o) for o in remaining), rel.namespace)
    except ActionError as exc:
        raise ActionError(f"failed to delete release: {rel.name}") from exc
    mode = _PROPAGATION[propagation]
    deleted: list[refs.ObjectRef] = []
    failed = False
    for obj in built:
        ref = objects.ref_of(obj)
        try:
            cluster.delete(ref, propagation=mode)
        except errors.NotFound:
            pass
        except errors.ApiError:
            failed = True
            continue
        deleted.append(ref)
    if failed:
        raise ActionError(f"failed to delete release: {rel.name}")
    text = "These resources were kept due to the resource policy:\n" + "".join(kept) if kept else ""
    return Uninstalled(rel, tuple(deleted), text)


def finish_uninstall(
    cluster: backend.Cluster,
    plan: Uninstalling,
    deleted: Uninstalled,
    *,
    now: str,
    problems: Sequence[str] = (),
) -> Uninstalled:
    """Record the uninstall: `uninstalled` "Uninstallation complete"; without `keep_history`
    every revision is purged, with it the record is kept and every deployed revision superseded.
    `problems` (a failed wait for deletion, a failed post-delete hook) are reported afterwards as
    Helm's `uninstallation completed with N error(s): ...`."""
    rel = storage.with_status(plan.release, "uninstalled", UNINSTALL_COMPLETE)
    ns = plan.storage_namespace
    if not plan.keep_history:
        for old in plan.history:
            _delete_record(cluster, ns, old)
    else:
        with contextlib.suppress(errors.ApiError):
            update_record(cluster, ns, rel, now)
        for other in storage.releases(cluster, ns, rel.name):
            if other.info.status == "deployed":
                update_record(cluster, ns, _status(other, "superseded"), now)
    if problems:
        raise ActionError(f"uninstallation completed with {len(problems)} error(s): {'; '.join(problems)}")
    return replace(deleted, release=rel)


def uninstall(
    cluster: backend.Cluster,
    *,
    storage_namespace: str,
    name: str,
    keep_history: bool,
    now: str,
    propagation: Propagation = "background",
) -> Uninstalled:
    """All three uninstall phases at once (no hooks, no wait)."""
    plan = begin_uninstall(
        cluster, storage_namespace=storage_namespace, name=name, keep_history=keep_history, now=now
    )
    if isinstance(plan, Uninstalled):
        return plan
    gone = delete_release_objects(cluster, plan, now=now, propagation=propagation)
    return finish_uninstall(cluster, plan, gone, now=now)


# --- unlock (helm-controller internal/reconcile/unlock.go) -----------------------------------


def unlock(
    cluster: backend.Cluster, *, storage_namespace: str, name: str, now: str
) -> storage.Release | None:
    """Mark a release left `pending-*` failed, "Release unlocked from stale '<status>' state".
    Returns the record written, or None when there is no release or it is not pending."""
    last = storage.latest(cluster, storage_namespace, name)
    if last is None or not last.info.status.startswith("pending-"):
        return None
    failed = storage.with_status(last, "failed", f"Release unlocked from stale '{last.info.status}' state")
    update_record(cluster, storage_namespace, failed, now)
    return failed
