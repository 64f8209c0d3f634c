"""What source-controller's reconcilers share: the loop around fetching and storing an artifact.

Provenance: source-controller `internal/controller/*_controller.go` (reconcile, reconcileStorage,
notify) with fluxcd/pkg `runtime/conditions` and `internal/reconcile` summaries; our own code.

`reconciler(...)` declares a source kind for the reconcile kernel (`reconcile.kernel`): its steps
are the generation check (a new generation is progressing), `reconcileStorage` (retention; an
artifact that disappeared or fails verification is noticed) and the kind's `fetch`, which
resolves the upstream revision, stores a new artifact when needed and says what to announce. The
kernel summarises with the conditions table `TABLE`: on success Ready copies `ArtifactInStorage`
and a `NewArtifact` event (or the kind's own reason) is sent when the digest changed, `Succeeded`
when it recovered from a failure; on failure the step error's condition (`FetchFailed` unless
said otherwise) and Ready=False carry its reason and message, with a Warning event and the work
queue's backoff, or, for a `Stalling` error (an invalid URL), Stalled=True and no retry.

Callers: the source kinds' controller modules. It must not import any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gitops_sim.cluster import errors
from gitops_sim.model import artifacts as artifacts_model
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import meta
from gitops_sim.model.fluxapi import source as api
from gitops_sim.reconcile import base, kernel
from gitops_sim.storage import Storage

S = TypeVar("S")

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
ARTIFACT_OUTDATED = "ArtifactOutdated"
FETCH_FAILED = "FetchFailed"
STORAGE_OPERATION_FAILED = "StorageOperationFailed"
NEW_ARTIFACT = "NewArtifact"
AUTHENTICATION_FAILED = "AuthenticationFailed"
URL_INVALID = "URLInvalid"
INCLUDE_UNAVAILABLE = "IncludeUnavailable"


@dataclass(frozen=True, slots=True)
class Stored:
    """What to announce: the event reason for a new artifact, and the message, which a recovery
    (`Succeeded`) repeats even when nothing new was stored, as Flux's notify does."""

    reason: str
    message: str


Fetch = Callable[[kernel.Context[S, None]], Stored]
"""A kind's fetch: resolve the upstream; store a new artifact when needed, setting
ArtifactInStorage (and the kind's observed fields); return what to announce; raise a kernel step
error."""


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
        raise kernel.StepError(
            AUTHENTICATION_FAILED, f"{prefix}'{namespace}/{name}': secrets \"{name}\" not found"
        ) from exc
    return objects.secret_data(secret)


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


TABLE = kernel.ConditionsTable(
    ready_from=ARTIFACT_IN_STORAGE,
    negative=(FETCH_FAILED, INCLUDE_UNAVAILABLE, STORAGE_OPERATION_FAILED),
    failure=FETCH_FAILED,
)


def reconciler(
    rt: base.Runtime,
    storage: Storage,
    gvk: refs.GVK,
    spec_type: type[S],
    fetch: Fetch[S],
    interval: Callable[[S], str | None],
    *,
    watched: tuple[base.Watch, ...] = (),
    static: Callable[[objects.RawObject], bool] | None = None,
) -> kernel.Reconciler[S, None]:
    """A source kind on the kernel: the generation step, `reconcileStorage`, then the kind's
    `fetch`; `interval(spec)` is the kind's `spec.interval`. `watched`: changes to other kinds
    that enqueue objects of this kind (HelmChart: its sources). `static`: objects this controller
    leaves static (HelmRepository type oci): no finalizer, no status."""

    def generation(ctx: kernel.Context[S, None]) -> None:
        observed = int(ctx.status.get("observedGeneration", -1))
        if ctx.generation != observed:
            progressing(ctx.obj, f"processing object: new generation {observed} -> {ctx.generation}", ctx.now)

    def fetched(ctx: kernel.Context[S, None]) -> None:
        announced = fetch(ctx)
        artifact = ctx.status["artifact"]
        ctx.announcement = kernel.Announcement(
            announced.reason,
            announced.message,
            new=artifact["digest"] != (ctx.before.get("artifact") or {}).get("digest"),
            metadata={
                f"{flux.SOURCE_GROUP}/revision": artifact["revision"],
                f"{flux.SOURCE_GROUP}/digest": artifact["digest"],
            },
        )

    def finalize(_: base.Runtime, obj: objects.RawObject, __: None) -> None:
        meta = obj["metadata"]
        storage.garbage_collect(gvk.kind, meta["namespace"], meta["name"], keep=None)

    def interval_ms(spec: S) -> int:
        value = interval(spec)
        if value is None:
            raise base.InvalidSpec(f"{gvk.kind}: spec.interval is required")
        return duration.parse(value)

    kind = kernel.Kind(
        gvk,
        spec_type,
        flux.SOURCE_CONTROLLER,
        steps=(generation, lambda ctx: _reconcile_storage(rt, storage, ctx), fetched),
        interval_ms=interval_ms,
        finalize=finalize,
        summary=kernel.ArtifactSummary(TABLE),
        new_state=lambda: None,
        static=static,
    )
    return kernel.Reconciler(rt, kind, watched)


def _reconcile_storage(rt: base.Runtime, storage: Storage, ctx: kernel.Context[Any, None]) -> None:
    """`reconcileStorage`: retention, then check that the advertised artifact is still there and
    intact (a corrupted one is removed, with an `ArtifactVerificationFailed` Warning)."""
    obj, status = ctx.obj, ctx.status
    current = status.get("artifact")
    meta = obj["metadata"]
    missing = False
    if current:
        artifact = artifacts_model.Artifact.from_status(current)
        storage.garbage_collect(obj["kind"], meta["namespace"], meta["name"], keep=artifact.path)
        missing = not storage.exists(artifact)
        if not missing and (problem := storage.verify(artifact)) is not None:
            rt.recorder.event(
                obj,
                type=base.EventType.WARNING,
                reason="ArtifactVerificationFailed",
                message=f"failed to verify integrity of artifact: {problem}",
                controller=flux.SOURCE_CONTROLLER,
            )
            storage.remove(artifact)
            missing = True
        if missing:
            status.pop("artifact", None)
            status.pop("url", None)
    if not status.get("artifact"):
        progressing(obj, "building artifact" + (": disappeared from storage" if missing else ""), ctx.now)
        conditions.delete(obj, ARTIFACT_IN_STORAGE)
