"""What source-controller's reconcilers share: the loop around fetching and storing an artifact.

Provenance: source-controller `internal/controller/*_controller.go` (reconcile, reconcileStorage,
notify) with fluxcd/pkg `runtime/conditions` and `internal/reconcile` summaries; our own code.

`SourceReconciler.reconcile` runs Flux's preamble; marks a new generation as progressing;
applies storage retention and notices an artifact that disappeared (`reconcileStorage`); calls the
kind's `fetch`, which resolves the upstream revision and stores a new artifact when needed; then
summarises: on success Ready copies `ArtifactInStorage`, Reconciling goes, `observedGeneration`
is recorded, and a `NewArtifact` event (or the kind's own reason) is sent when the digest changed,
`Succeeded` when it recovered from a failure; on failure the error's condition (`FetchFailed`
unless said otherwise) and Ready=False carry its reason and message, Reconciling turns to
`ProgressingWithRetry`, a Warning event is sent, and the work queue retries with backoff, or,
for a stalling error (an invalid URL), Stalled=True and no retry.

Callers: the source kinds' controller modules. It must not import any of them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.cluster import errors
from gitops_sim.controllers import base
from gitops_sim.model import artifacts as artifacts_model
from gitops_sim.model import conditions, flux, objects, refs
from gitops_sim.model.fluxapi import meta
from gitops_sim.model.fluxapi import source as api
from gitops_sim.storage import Storage
from gitops_sim.timing import workqueue

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
ARTIFACT_OUTDATED = "ArtifactOutdated"
FETCH_FAILED = "FetchFailed"
STORAGE_OPERATION_FAILED = "StorageOperationFailed"
NEW_ARTIFACT = "NewArtifact"
AUTHENTICATION_FAILED = "AuthenticationFailed"
URL_INVALID = "URLInvalid"
INCLUDE_UNAVAILABLE = "IncludeUnavailable"
FAIL_CONDITIONS = (FETCH_FAILED, INCLUDE_UNAVAILABLE, STORAGE_OPERATION_FAILED)
"""A success after one of these is a recovery (a `Succeeded` event)."""


class SourceError(workqueue.RequeueError):
    """A failed step: the condition it sets, its reason and message; `stall` for errors that a
    retry cannot fix (Stalled=True, no requeue)."""

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        condition: str = FETCH_FAILED,
        stall: bool = False,
        wait_ms: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.condition = condition
        self.stall = stall
        self.wait_ms = wait_ms
        """A dependency to wait for (Flux's serror.Waiting): retry after this, no Warning event."""


class Stalled(workqueue.TerminalError):
    """Raised to the work queue for a stalling SourceError: forget it, do not requeue."""


@dataclass(frozen=True, slots=True)
class Stored:
    """What to announce: the event reason for a new artifact, and the message, which a recovery
    (`Succeeded`) repeats even when nothing new was stored, as Flux's notify does."""

    reason: str
    message: str


class Fetch(Protocol):
    def __call__(self, obj: objects.RawObject, now: str) -> Stored:
        """Resolve the upstream; store a new artifact when needed, setting ArtifactInStorage (and
        the kind's observed fields). Returns what to announce. Raises SourceError."""


def secret_ref_data(
    rt: base.Runtime, obj: objects.RawObject, secret_ref: meta.LocalObjectReference | None, prefix: str
) -> dict[str, str] | None:
    """The decoded data of the Secret `secret_ref` (`obj`'s `spec.secretRef`) names, in `obj`'s
    namespace (None when there is no secretRef). A missing Secret is `AuthenticationFailed`:
    `<prefix>'<ns>/<name>': secrets "<name>" not found`."""
    if secret_ref is None:
        return None
    name = secret_ref.name
    namespace = obj["metadata"]["namespace"]
    try:
        secret = rt.cluster.get(refs.ObjectRef("", "Secret", namespace, str(name)))
    except errors.NotFound as exc:
        raise SourceError(
            AUTHENTICATION_FAILED, f"{prefix}'{namespace}/{name}': secrets \"{name}\" not found"
        ) from exc
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}


def helm_basic_auth(rt: base.Runtime, obj: objects.RawObject) -> tuple[str, str] | None:
    """(username, password) from a HelmRepository's `spec.secretRef`, as Helm's getter options."""
    secret_ref = base.typed_spec(obj, api.HelmRepositorySpec).secret_ref
    data = secret_ref_data(rt, obj, secret_ref, "failed to get authentication secret ")
    return (data["username"], data.get("password", "")) if data and "username" in data else None


def progressing(obj: objects.RawObject, message: str, now: str) -> None:
    """fluxcd/pkg ProgressiveStatus: Reconciling=True; Ready=Unknown unless Ready is already decided."""
    conditions.mark_true(obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=now)
    ready = conditions.get(obj, conditions.READY)
    if ready is None or ready.get("status") == conditions.Status.UNKNOWN:
        conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, message, now=now)


def new_revision(obj: objects.RawObject, detail: str, now: str) -> None:
    """A revision not in storage yet: ArtifactOutdated (when there was an artifact) and progress."""
    if base.status(obj).get("artifact"):
        conditions.mark_true(obj, ARTIFACT_OUTDATED, "NewRevision", detail, now=now)
    progressing(obj, f"building artifact: {detail}", now)
    conditions.mark_unknown(
        obj, conditions.READY, conditions.Reason.PROGRESSING, f"building artifact: {detail}", now=now
    )


def stored(
    obj: objects.RawObject,
    artifact: artifacts_model.Artifact,
    message: str,
    now: str,
    reason: str = conditions.Reason.SUCCEEDED,
) -> None:
    """Record a new artifact and ArtifactInStorage=True (reason Succeeded unless the kind says)."""
    base.status(obj)["artifact"] = artifact.to_status()
    conditions.delete(obj, ARTIFACT_OUTDATED)
    conditions.mark_true(obj, ARTIFACT_IN_STORAGE, reason, message, now=now)


def observe(obj: objects.RawObject, field: str, value: Any) -> None:
    """status.<field> = value, or absent when value is None (Flux's omitempty)."""
    status = base.status(obj)
    if value is None:
        status.pop(field, None)
    else:
        status[field] = value


@dataclass(slots=True)
class SourceReconciler:
    rt: base.Runtime
    storage: Storage
    gvk: refs.GVK
    fetch: Fetch
    name: str = flux.SOURCE_CONTROLLER
    watched: tuple[base.Watch, ...] = ()
    """Changes to other kinds that enqueue objects of this kind (HelmChart: its sources)."""
    static: Callable[[objects.RawObject], bool] | None = None
    """Objects this controller leaves static (HelmRepository type oci): no finalizer, no status."""

    def watches(self) -> list[base.Watch]:
        return list(self.watched)

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        if self.static is not None and self._left_static(ref):
            return base.Result()
        try:
            obj, before = base.begin(self.rt, ref, self.name, self._finalize)
        except base.Done as done:
            return done.result
        now = self.rt.now()
        generation = int(obj["metadata"].get("generation", 0))
        observed = int(base.status(obj).get("observedGeneration", -1))
        if generation != observed:
            progressing(obj, f"processing object: new generation {observed} -> {generation}", now)
        self._reconcile_storage(obj, now)
        old_digest = (before.get("artifact") or {}).get("digest")
        try:
            announced = self.fetch(obj, now)
        except SourceError as exc:
            return self._failed(obj, before, exc, now)
        for failure in FAIL_CONDITIONS:
            conditions.delete(obj, failure)
        in_storage = conditions.get(obj, ARTIFACT_IN_STORAGE)
        assert in_storage is not None, "a fetch that succeeds leaves ArtifactInStorage set"
        conditions.mark_true(obj, conditions.READY, in_storage["reason"], in_storage["message"], now=now)
        conditions.delete(obj, conditions.RECONCILING)
        conditions.delete(obj, conditions.STALLED)
        base.status(obj)["observedGeneration"] = generation
        base.patch_status(self.rt, obj, self.name, before)
        artifact = base.status(obj)["artifact"]
        meta = {
            f"{flux.SOURCE_GROUP}/revision": artifact["revision"],
            f"{flux.SOURCE_GROUP}/digest": artifact["digest"],
        }
        recovered = any(c.get("type") in FAIL_CONDITIONS for c in before.get("conditions") or [])
        if artifact["digest"] != old_digest:
            self._event(obj, base.EventType.NORMAL, announced.reason, announced.message, meta)
        elif recovered:
            self._event(obj, base.EventType.NORMAL, conditions.Reason.SUCCEEDED, announced.message, meta)
        return base.Result(requeue_after=base.interval_ms(obj))

    def _left_static(self, ref: refs.ObjectRef) -> bool:
        """Flux's migrationToStatic: drop the finalizer, artifacts and status of a static object."""
        assert self.static is not None
        try:
            obj = self.rt.cluster.get(ref)
        except errors.NotFound:
            return True
        if not self.static(obj):
            return False
        meta = obj["metadata"]
        if flux.FINALIZER in (meta.get("finalizers") or []) or obj.get("status"):
            self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep=None)
            if obj.get("status"):
                before = objects.deep_copy(obj["status"])
                obj["status"] = {}
                base.patch_status(self.rt, obj, self.name, before)
                obj = self.rt.cluster.get(ref)
            meta = obj["metadata"]
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != flux.FINALIZER]
            meta.pop("resourceVersion", None)
            self.rt.cluster.update(obj, field_manager=self.name)
        return True

    def _reconcile_storage(self, obj: objects.RawObject, now: str) -> None:
        """Retention, then check that the advertised artifact is still there and intact (a
        corrupted one is removed, with an `ArtifactVerificationFailed` Warning)."""
        status = base.status(obj)
        current = status.get("artifact")
        meta = obj["metadata"]
        missing = False
        if current:
            artifact = artifacts_model.Artifact.from_status(current)
            self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep=artifact.path)
            missing = not self.storage.exists(artifact)
            if not missing and (problem := self.storage.verify(artifact)) is not None:
                self._event(
                    obj,
                    base.EventType.WARNING,
                    "ArtifactVerificationFailed",
                    f"failed to verify integrity of artifact: {problem}",
                    None,
                )
                self.storage.remove(artifact)
                missing = True
            if missing:
                status.pop("artifact", None)
                status.pop("url", None)
        if not status.get("artifact"):
            progressing(obj, "building artifact" + (": disappeared from storage" if missing else ""), now)
            conditions.delete(obj, ARTIFACT_IN_STORAGE)

    def _failed(
        self, obj: objects.RawObject, before: dict[str, Any], exc: SourceError, now: str
    ) -> base.Result:
        conditions.mark_true(obj, exc.condition, exc.reason, exc.message, now=now)
        conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
        if exc.stall:
            conditions.mark_true(obj, conditions.STALLED, exc.reason, exc.message, now=now)
            conditions.delete(obj, conditions.RECONCILING)
            base.status(obj)["observedGeneration"] = int(obj["metadata"].get("generation", 0))
        else:
            conditions.mark_retrying(obj, now=now)
        base.patch_status(self.rt, obj, self.name, before)
        if exc.wait_ms is not None:
            return base.Result(requeue_after=exc.wait_ms)
        self._event(obj, base.EventType.WARNING, exc.reason, exc.message, None)
        if exc.stall:
            raise Stalled(exc.message) from exc
        raise exc

    def _event(
        self,
        obj: objects.RawObject,
        type: base.EventType,
        reason: str,
        message: str,
        metadata: dict[str, str] | None,
    ) -> None:
        self.rt.recorder.event(
            obj, type=type, reason=reason, message=message, controller=self.name, metadata=metadata
        )

    def _finalize(self, obj: objects.RawObject) -> None:
        meta = obj["metadata"]
        self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep=None)
