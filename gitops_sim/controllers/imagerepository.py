"""ImageRepository (image.toolkit.fluxcd.io/v1): a registry repository's tags, scanned at an interval.

Provenance: behaviour of image-reflector-controller internal/controller/
imagerepository_controller.go (`Reconcile`, `reconcile`, `shouldScan`, `scan`, `notify`),
internal/registry/helper.go and api/v1 imagerepository_types.go (`GetTimeout`,
`GetRequeueAfter`), and fluxcd/pkg runtime/reconcile (`ProgressiveStatus`, `ResultFinalizer`,
`AddPatchOptions`); our own code.

Steps, on the reconcile kernel:
1. Flux's preamble (finalizer, requestedAt, suspend); "reconciliation in progress" (and, for a
   new generation, "processing object: new generation <a> -> <b>") as `ProgressiveStatus`;
2. `spec.image` parsed (`images.tags.parse_image`): a scheme, a tag or a bad reference is Stalled
   `ImageURLInvalid` with Flux's message;
3. the credentials: `spec.secretRef` (a dockerconfigjson Secret; missing: Ready=False
   `AuthenticationFailed` "failed to configure authentication options: ...");
4. whether to scan (`shouldScan`): never scanned ("first scan"), a reconcile request ("reconcile
   requested"), a new canonical name ("new image name"), a changed exclusion list ("updated
   exclusion list"), no tags in the database ("no tags in database", which also marks Ready
   Unknown), or the interval elapsed since the last scan (less than a second left counts);
   otherwise nothing, and a requeue for the time left;
5. the scan: Reconciling "scanning: <why>", the tags listed through the project's OCI client
   (pagination, basic auth, `insecure`, `timeout`), the exclusion list applied, the tags stored in
   the controller's own database (`images.tags.TagDatabase`, never the API) sorted descending,
   `status.lastScanResult` (revision = the database's checksum, tag count, scan time, the ten
   latest tags); a failure is Ready=False `ReadOperationFailed` "scan failed: <error>";
6. `status.canonicalImageName`, `status.observedExclusionList`.

The summary is fluxcd/pkg's result finalizer (`reconcile.result`): Ready=True `Succeeded`
"successful scan: found <n> tags with checksum <revision>" on a success (a requeue after the next
scan time), a Reconciling left after a failure gets `ProgressingWithRetry`, `observedGeneration`
is recorded when the object ends Ready or Stalled, and `notify`'s events: Normal when it became
ready or its Ready message changed, Warning when it is not ready; a success that changes nothing
sends Flux's trace event ("tags did not change, next scan in 1m0s", "no change in repository
configuration since last scan, next scan in 42s"), which fluxcd/pkg keeps as a Normal event.

Differences, on purpose: `provider` other than generic (cloud workload identity),
`serviceAccountName`, `certSecretRef` and `proxySecretRef` are not honoured (the scan is
anonymous or uses `secretRef`); there is no interval jitter, as in Flux. The tag database lives as
long as the simulation.

Callers: the engine (the registry entry at the bottom). Never imports another controller; talks
to registries only through `sources.oci`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops_sim.cluster import errors
from gitops_sim.images import tags as tagdb
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import image as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.reconcile import result as finalizer
from gitops_sim.sources import oci

CONTROLLER = "image-reflector-controller"
IMAGE_URL_INVALID = "ImageURLInvalid"
AUTHENTICATION_FAILED = "AuthenticationFailed"
READ_OPERATION_FAILED = "ReadOperationFailed"
FIRST_SCAN = "first scan"
RECONCILE_REQUESTED = "reconcile requested"
NEW_IMAGE_NAME = "new image name"
UPDATED_EXCLUSION_LIST = "updated exclusion list"
EMPTY_DATABASE = "no tags in database"
INTERVAL = "triggered by interval"


@dataclass(slots=True)
class _State:
    """Nothing survives between reconciles but the status and the tag database."""


@dataclass(slots=True)
class _Work:
    """One reconcile of an ImageRepository, step to step."""

    interval_ms: int
    image: tagdb.Image | None = None
    auth: str | None = None
    next_ms: int = 0
    """The requeue a success asks for (`nextScanTime`): the interval, or the time left."""
    result: finalizer.Result = field(default_factory=finalizer.Result)
    ready_message: str = ""
    trace_message: str = ""


def _work(ctx: kernel.Context[api.ImageRepositorySpec, _State]) -> _Work:
    work = ctx.work
    assert isinstance(work, _Work)
    return work


@dataclass(slots=True)
class _ImageRepositories:
    rt: base.Runtime
    client: oci.RegistryClient
    database: tagdb.TagDatabase

    def kind(self) -> kernel.Kind[api.ImageRepositorySpec, _State]:
        return kernel.Kind(
            flux.IMAGEREPOSITORY,
            api.ImageRepositorySpec,
            CONTROLLER,
            steps=(self.start, self.image, self.credentials, self.scan),
            interval_ms=lambda spec: duration.parse(spec.interval),
            finalize=lambda rt, obj, state: None,  # Flux's database Delete keeps the tags
            summary=finalizer.FinalizedSummary(),
            new_state=_State,
        )

    def start(self, ctx: kernel.Context[api.ImageRepositorySpec, _State]) -> None:
        """`ProgressiveStatus`, naming a new generation."""
        interval = duration.parse(ctx.spec.interval)
        ctx.work = _Work(interval, next_ms=interval)
        finalizer.begin(ctx.obj, ctx.before, ctx.generation, now=ctx.now)

    def image(self, ctx: kernel.Context[api.ImageRepositorySpec, _State]) -> None:
        """`ParseImageReference`: a bad image stalls the object."""
        try:
            _work(ctx).image = tagdb.parse_image(ctx.spec.image)
        except tagdb.ImageError as exc:
            conditions.mark_stalled(ctx.obj, IMAGE_URL_INVALID, str(exc), now=ctx.now)
            raise kernel.Stalling(IMAGE_URL_INVALID, str(exc)) from exc
        conditions.delete(ctx.obj, conditions.STALLED)

    def credentials(self, ctx: kernel.Context[api.ImageRepositorySpec, _State]) -> None:
        """Basic auth for the registry from `spec.secretRef` (a dockerconfigjson Secret)."""
        work, ref = _work(ctx), ctx.spec.secret_ref
        if ref is None:
            return
        namespace = ctx.obj["metadata"]["namespace"]
        try:
            secret = self.rt.cluster.get(refs.ObjectRef("", "Secret", namespace, ref.name))
            assert work.image is not None
            work.auth = oci.docker_config_auth(objects.secret_data(secret), work.image.registry)
        except (errors.NotFound, ValueError) as exc:
            reason = exc.message if isinstance(exc, errors.NotFound) else f"invalid dockerconfigjson: {exc}"
            message = f"failed to configure authentication options: {reason}"
            conditions.mark_false(ctx.obj, conditions.READY, AUTHENTICATION_FAILED, message, now=ctx.now)
            raise kernel.StepError(AUTHENTICATION_FAILED, message) from exc

    def scan(self, ctx: kernel.Context[api.ImageRepositorySpec, _State]) -> None:
        """`shouldScan`, then the scan, then the status; Ready is left to the finalizer."""
        work, spec, status = _work(ctx), ctx.spec, ctx.status
        assert work.image is not None
        why, when = self._should_scan(ctx, work.image)
        if why is not None:
            finalizer.progressive_status(
                ctx.obj, why == EMPTY_DATABASE, finalizer.PROGRESSING, f"scanning: {why}", now=ctx.now
            )
            try:
                timeout_s = max(duration.parse(spec.timeout or spec.interval), 1_000) / 1000
                found = self.client.with_timeout(timeout_s).tags(
                    work.image.registry, work.image.repository, insecure=spec.insecure, auth=work.auth
                )
                kept = tagdb.sort_descending(tagdb.exclude(found, spec.exclusion_list))
            except (oci.RegistryError, tagdb.ExclusionError) as exc:
                message = f"scan failed: {exc}"
                conditions.mark_false(ctx.obj, conditions.READY, READ_OPERATION_FAILED, message, now=ctx.now)
                raise kernel.StepError(READ_OPERATION_FAILED, message) from exc
            revision = self.database.set_tags(work.image.canonical_name, kept)
            scan: dict[str, Any] = {"revision": revision, "tagCount": len(kept), "scanTime": ctx.now}
            if kept:
                scan["latestTags"] = tagdb.latest_tags(kept)
            status["lastScanResult"] = scan
            same = (ctx.before.get("lastScanResult") or {}).get("revision") == revision
            next_scan = f"next scan in {duration.format(when)}"
            work.trace_message = f"{'tags did not change' if same else 'successful scan'}, {next_scan}"
        else:
            work.trace_message = (
                f"no change in repository configuration since last scan, next scan in {duration.format(when)}"
            )
        status["canonicalImageName"] = work.image.canonical_name
        status["observedExclusionList"] = list(spec.exclusion_list)
        conditions.delete(ctx.obj, conditions.READY)
        work.next_ms = when
        work.result = finalizer.Result(requeue_after_ms=when)
        scanned = status.get("lastScanResult") or {}
        count, revision = int(scanned.get("tagCount") or 0), scanned.get("revision", "")
        work.ready_message = f"successful scan: found {count} tags with checksum {revision}"

    def _should_scan(
        self, ctx: kernel.Context[api.ImageRepositorySpec, _State], image: tagdb.Image
    ) -> tuple[str | None, int]:
        """(why a scan is due, or None; when the next one is)."""
        interval, before = _work(ctx).interval_ms, ctx.before
        last = before.get("lastScanResult")
        if not last:
            return FIRST_SCAN, interval
        requested = objects.annotations_of(ctx.obj).get(flux.REQUESTED_AT_ANNOTATION)
        if requested and requested != before.get("lastHandledReconcileAt"):
            return RECONCILE_REQUESTED, interval
        if before.get("canonicalImageName") != image.canonical_name:
            return NEW_IMAGE_NAME, interval
        if sorted(before.get("observedExclusionList") or ()) != sorted(ctx.spec.exclusion_list):
            return UPDATED_EXCLUSION_LIST, interval
        if not self.database.tags(image.canonical_name):
            return EMPTY_DATABASE, interval
        scanned = duration.parse_rfc3339(str(last.get("scanTime") or "1970-01-01T00:00:00Z"))
        left = interval - (ctx.rt.clock.epoch_ms + ctx.rt.clock.now() - scanned)
        if left < 1_000:
            return INTERVAL, interval
        return None, left


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def image_tags(self) -> tagdb.TagDatabase: ...
    def oci_client(self) -> oci.RegistryClient: ...


def reconciler(
    rt: base.Runtime, client: oci.RegistryClient, database: tagdb.TagDatabase
) -> kernel.Reconciler[api.ImageRepositorySpec, _State]:
    """The ImageRepository controller on the kernel."""
    return kernel.Reconciler(rt, _ImageRepositories(rt, client, database).kind())


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.oci_client(), services.image_tags)


registry.register(
    registry.Entry(
        "imagerepository",
        flux.IMAGEREPOSITORY.group_kind,
        _build,
        order=80,
        component="image-reflector-controller",
    )
)
