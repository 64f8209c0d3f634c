"""Bucket (source.toolkit.fluxcd.io/v1, provider `generic`): fetch an S3 bucket as an artifact.

Provenance: source-controller `internal/controller/bucket_controller.go` (fetchEtagIndex,
fetchIndexFiles, reconcileSource, notify) and `internal/index/digest.go`; our own code.

Steps: read `spec.secretRef` (`accesskey`/`secretkey`: signed requests; none: anonymous);
confirm that `spec.bucketName` exists at `spec.endpoint` (HTTP when `insecure`); list the objects
under `spec.prefix` with their ETags, dropping keys that end in `/`, the `.sourceignore` object
(whose patterns apply, then `spec.ignore`'s; no default excludes for buckets); the revision is
`sha256:` of the sorted `<key> <etag>\\n` lines. When that revision is not stored yet (or
`spec.ignore` changed), download the objects and store them as `<hex>.tar.gz`:
`stored artifact: revision '<rev>'`, event `stored artifact with <n> fetched files from
'<bucket>' bucket`.

Object keys are untrusted names: each is placed inside the artifact's root the way a secure
join does (source-controller joins keys onto its temporary folder with filepath-securejoin):
`../x` and `/x` become `x`, so no key names a file outside the artifact.

Not modelled: providers `aws`, `gcp`, `azure` (their own auth), `sts`, `certSecretRef`,
`proxySecretRef`. `timeout` bounds each request in wall time.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass
from typing import Protocol

from gitops_sim.controllers import source
from gitops_sim.model import conditions, duration, flux, objects
from gitops_sim.model.fluxapi import source as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.sources import ignore, s3
from gitops_sim.storage import Storage

BUCKET_OPERATION_FAILED = "BucketOperationFailed"


def reconciler(
    rt: base.Runtime, endpoints: s3.Endpoints, storage: Storage
) -> kernel.Reconciler[api.BucketSpec, None]:
    fetch = _BucketFetch(rt, endpoints, storage).fetch
    return source.reconciler(rt, storage, flux.BUCKET, api.BucketSpec, fetch, lambda spec: spec.interval)


def index_revision(index: dict[str, str]) -> str:
    """`sha256:` of the sorted `<key> <etag>` lines (source-controller's index digest)."""
    digest = hashlib.sha256()
    for key in sorted(index):
        digest.update(f"{key} {index[key]}\n".encode())
    return "sha256:" + digest.hexdigest()


@dataclass(slots=True)
class _BucketFetch:
    rt: base.Runtime
    endpoints: s3.Endpoints
    storage: Storage

    def fetch(self, ctx: kernel.Context[api.BucketSpec, None]) -> source.Stored:
        obj, spec, now = ctx.obj, ctx.spec, ctx.now
        bucket = spec.bucket_name
        client = self._client(obj, spec)

        def failed(message: str) -> kernel.StepError:
            return kernel.StepError(BUCKET_OPERATION_FAILED, message)

        try:
            exists = client.bucket_exists(bucket)
        except s3.S3Error as exc:
            raise failed(f"failed to confirm existence of '{bucket}' bucket: {exc.message}") from exc
        if not exists:
            raise failed(f"bucket '{bucket}' not found")
        try:
            listed = client.list_objects(bucket, spec.prefix or "")
            patterns: list[ignore.Pattern] = []
            if ignore.IGNORE_FILE in listed:
                patterns = ignore.parse(
                    client.get_object(bucket, ignore.IGNORE_FILE).decode(errors="replace")
                )
        except s3.S3Error as exc:
            raise failed(f"indexation of objects from bucket '{bucket}' failed: {exc.message}") from exc
        if spec.ignore is not None:
            patterns += ignore.parse(spec.ignore)
        index = {
            key: etag
            for key, etag in listed.items()
            if not key.endswith("/") and key != ignore.IGNORE_FILE and not ignore.excluded(key, patterns)
        }
        revision = index_revision(index)
        status = base.status(obj)
        current = status.get("artifact")
        fetched = f"stored artifact with {len(index)} fetched files from '{bucket}' bucket"
        if current and current.get("revision") == revision and status.get("observedIgnore") == spec.ignore:
            conditions.delete(obj, source.ARTIFACT_OUTDATED)
            return source.Stored(source.NEW_ARTIFACT, fetched)
        source.new_revision(obj, f"new upstream revision '{revision}'", now)
        files = {}
        for key in sorted(index):
            try:
                files[_inside(key)] = client.get_object(bucket, key)
            except s3.S3Error as exc:
                raise failed(
                    f"fetch from bucket '{bucket}' failed: failed to get '{key}' object: {exc.message}"
                ) from exc
        meta = obj["metadata"]
        artifact = self.storage.store(
            flux.BUCKET.kind,
            meta["namespace"],
            meta["name"],
            f"{revision.removeprefix('sha256:')}.tar.gz",
            files,
            revision=revision,
            now=now,
        )
        status["url"] = self.storage.latest_url(flux.BUCKET.kind, meta["namespace"], meta["name"])
        source.observe(obj, "observedIgnore", spec.ignore)
        source.stored(obj, artifact, f"stored artifact: revision '{revision}'", now)
        return source.Stored(source.NEW_ARTIFACT, fetched)

    def _client(self, obj: objects.RawObject, spec: api.BucketSpec) -> s3.S3Client:
        data = source.secret_ref_data(self.rt, obj, spec.secret_ref, "failed to get secret ")
        keys = None
        if data is not None and spec.secret_ref is not None:
            if not data.get("accesskey") or not data.get("secretkey"):
                name = spec.secret_ref.name
                raise kernel.StepError(
                    source.AUTHENTICATION_FAILED,
                    f"invalid '{name}' secret data: required fields 'accesskey' and 'secretkey'",
                )
            keys = s3.Keys(data["accesskey"], data["secretkey"])
        stamp = duration.rfc3339(self.rt.clock.epoch_ms + self.rt.clock.now())
        amz_date = stamp[:19].replace("-", "").replace(":", "") + "Z"
        return s3.S3Client(
            self.endpoints.route,
            spec.endpoint,
            secure=not spec.insecure,
            keys=keys,
            region=spec.region or "us-east-1",
            amz_date=amz_date,
            timeout_s=duration.parse(spec.timeout) / 1000,
        )


def _inside(key: str) -> str:
    """`key` as a path inside the artifact root: `..` steps cannot climb above it."""
    return posixpath.normpath("/" + key.replace("\\", "/")).lstrip("/") or "_"


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def buckets(self) -> s3.Endpoints: ...
    @property
    def storage(self) -> Storage: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.buckets, services.storage)


registry.register(
    registry.Entry("bucket", flux.BUCKET.group_kind, _build, order=40, component=flux.SOURCE_CONTROLLER)
)
