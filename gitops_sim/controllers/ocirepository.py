"""OCIRepository (source.toolkit.fluxcd.io/v1): pull an OCI artifact and publish it as a Flux artifact.

Provenance: source-controller `internal/controller/ocirepository_controller.go` (getArtifactRef,
getRevision, getTagBySemver, selectLayer, reconcileArtifact, notify); our own code.

Steps (the shared loop in `controllers.source` around them): validate `spec.url` (`oci://`, no
tag; otherwise Stalled with `URLInvalid`); read `spec.secretRef` (a dockerconfigjson Secret) for
basic auth; resolve the ref (digest > semver with `semverFilter` > tag > `latest`) to a revision
`<tag>@sha256:<hex>` or `sha256:<hex>`; when that revision is not stored yet, or `ignore` or
`layerSelector` changed, pull the manifest, select the layer (the first, or the first with
`layerSelector.mediaType`), `extract` it (untar, then `.sourceignore`/`spec.ignore`) or `copy` it
as it is, and store it as `<digest>.tar.gz` with the manifest's annotations as artifact metadata.
The registry is reached through `sources.oci.RegistryClient` (HTTP when `insecure`).
A layer is untrusted: extraction refuses, as fluxcd/pkg `tar.Untar` does, an entry named with a
`..` step or an absolute path, a symlink or device, or more than 100 MiB in all
(`OCIArtifactLayerOperationFailed`, `model.archives`).

Not modelled: `verify` (cosign/notation), `provider` (cloud registries' auth), `certSecretRef`,
`proxySecretRef`, `serviceAccountName`; token-based registry auth (basic only). `timeout` bounds
each registry request in wall time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.controllers import source
from gitops_sim.model import archives, conditions, duration, flux, objects, semver
from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi import source as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.sources import ignore, oci
from gitops_sim.storage import Storage

OCI_PULL_FAILED = "OCIArtifactPullFailed"
OCI_LAYER_FAILED = "OCIArtifactLayerOperationFailed"
READ_OPERATION_FAILED = "ReadOperationFailed"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def reconciler(
    rt: base.Runtime, client: oci.RegistryClient, storage: Storage
) -> kernel.Reconciler[api.OCIRepositorySpec, None]:
    fetch = _OciFetch(rt, client, storage).fetch
    return source.reconciler(
        rt, storage, flux.OCIREPOSITORY, api.OCIRepositorySpec, fetch, lambda spec: spec.interval
    )


def _url_invalid(url: str, why: str) -> kernel.StepError:
    return kernel.Stalling(source.URL_INVALID, f"URL validation failed for '{url}': {why}")


@dataclass(slots=True)
class _OciFetch:
    rt: base.Runtime
    client: oci.RegistryClient
    storage: Storage

    def fetch(self, ctx: kernel.Context[api.OCIRepositorySpec, None]) -> source.Stored:
        """With a client whose requests are bounded by `spec.timeout` (default 60s)."""
        timeout_s = duration.parse(ctx.spec.timeout) / 1000
        return _OciFetch(self.rt, self.client.with_timeout(timeout_s), self.storage)._fetch(ctx)

    def _fetch(self, ctx: kernel.Context[api.OCIRepositorySpec, None]) -> source.Stored:
        obj, spec, now = ctx.obj, ctx.spec, ctx.now
        url = spec.url
        host, name = self._parse(url)
        insecure = spec.insecure
        auth = self._auth(obj, spec.secret_ref, host)
        tag, revision = self._revision(url, host, name, spec.ref or api.OCIRepositoryRef(), insecure, auth)
        status = base.status(obj)
        current = status.get("artifact")
        selector = spec.layer_selector or api.OCILayerSelector()
        observed_selector = declare.dump(spec.layer_selector)
        if (
            current
            and current.get("revision") == revision
            and status.get("observedIgnore") == spec.ignore
            and status.get("observedLayerSelector") == observed_selector
        ):
            conditions.delete(obj, source.ARTIFACT_OUTDATED)
            return source.Stored(
                source.NEW_ARTIFACT, f"stored artifact with revision '{revision}' from '{url}'"
            )
        reference = f"{host}/{name}@{revision}" if tag is None else f"{host}/{name}:{tag}"
        source.new_revision(obj, f"new revision '{revision}' for '{reference}'", now)
        digest = revision.rpartition("@")[2]
        try:
            manifest = self.client.manifest(host, name, digest, insecure=insecure, auth=auth)
        except oci.RegistryError as exc:
            raise kernel.StepError(
                OCI_PULL_FAILED, f"failed to pull artifact from '{url}': {exc.message}"
            ) from exc
        layer = self._select_layer(manifest, selector)
        try:
            blob = self.client.blob(host, name, layer["digest"], insecure=insecure, auth=auth)
        except oci.RegistryError as exc:
            raise kernel.StepError(
                OCI_PULL_FAILED, f"failed to pull artifact from '{url}': {exc.message}"
            ) from exc
        meta = obj["metadata"]
        filename = f"{digest}.tar.gz"
        operation = selector.operation or "extract"
        if operation == "copy":
            artifact = self.storage.store_blob(
                flux.OCIREPOSITORY.kind,
                meta["namespace"],
                meta["name"],
                filename,
                blob,
                revision=revision,
                now=now,
            )
        else:
            try:
                files = archives.unpack(blob, links="refuse")
            except archives.ArchiveError as exc:
                raise kernel.StepError(
                    OCI_LAYER_FAILED, f"failed to extract layer contents from artifact: {exc}"
                ) from exc
            artifact = self.storage.store(
                flux.OCIREPOSITORY.kind,
                meta["namespace"],
                meta["name"],
                filename,
                ignore.select(files, spec.ignore),
                revision=revision,
                now=now,
            )
        annotations = dict(manifest.body.get("annotations") or {})
        if annotations:
            artifact = artifact.with_metadata(annotations)
        source.observe(obj, "observedIgnore", spec.ignore)
        source.observe(obj, "observedLayerSelector", observed_selector)
        status["url"] = self.storage.latest_url(flux.OCIREPOSITORY.kind, meta["namespace"], meta["name"])
        source.stored(obj, artifact, f"stored artifact for digest '{revision}'", now)
        message = f"stored artifact with revision '{revision}' from '{url}'"
        origin_source = annotations.get("org.opencontainers.image.source")
        origin_revision = annotations.get("org.opencontainers.image.revision")
        if origin_source and origin_revision:
            message += f", origin source '{origin_source}', origin revision '{origin_revision}'"
        return source.Stored(source.NEW_ARTIFACT, message)

    def _parse(self, url: str) -> tuple[str, str]:
        if not url.startswith("oci://"):
            raise _url_invalid(url, "URL must be in format 'oci://<domain>/<org>/<repo>'")
        host, name = oci.split_url(url)
        if not host or not name:
            raise _url_invalid(url, "URL must be in format 'oci://<domain>/<org>/<repo>'")
        if ":" in name:
            raise _url_invalid(url, f"URL must not contain a tag; remove ':{name.rpartition(':')[2]}'")
        return host, name

    def _auth(
        self, obj: objects.RawObject, secret_ref: meta.LocalObjectReference | None, host: str
    ) -> str | None:
        """Basic auth for `host` from a dockerconfigjson Secret (`spec.secretRef`)."""
        data = source.secret_ref_data(
            self.rt, obj, secret_ref, "failed to get credential: failed to get secret "
        )
        if data is None:
            return None
        return oci.docker_config_auth(data, host)

    def _revision(
        self, url: str, host: str, name: str, ref: api.OCIRepositoryRef, insecure: bool, auth: str | None
    ) -> tuple[str | None, str]:
        """(tag or None for a digest ref, revision)."""
        digest = ref.digest or ""
        if digest:
            if not _DIGEST.match(digest):
                raise kernel.StepError(
                    OCI_PULL_FAILED,
                    f"failed to determine artifact digest: unsupported or malformed digest {digest!r}",
                )
            return None, digest
        constraint = ref.semver or ""
        if constraint:
            tag = self._tag_by_semver(url, host, name, constraint, ref.semver_filter or "", insecure, auth)
        else:
            tag = ref.tag or "latest"
        try:
            resolved = self.client.resolve(host, name, tag, insecure=insecure, auth=auth)
        except oci.RegistryError:
            try:  # go-containerregistry falls back to a GET, whose error is the one shown
                resolved = self.client.manifest(host, name, tag, insecure=insecure, auth=auth).digest
            except oci.RegistryError as exc:
                raise kernel.StepError(
                    OCI_PULL_FAILED, f"failed to determine artifact digest: {exc.message}"
                ) from exc
        return tag, f"{tag}@{resolved}"

    def _tag_by_semver(
        self, url: str, host: str, name: str, constraint: str, pattern: str, insecure: bool, auth: str | None
    ) -> str:
        def failed(why: str) -> kernel.StepError:
            return kernel.StepError(
                READ_OPERATION_FAILED, f"failed to determine the artifact tag for '{url}': {why}"
            )

        try:
            tags = self.client.tags(host, name, insecure=insecure, auth=auth)
        except oci.RegistryError as exc:
            raise failed(exc.message) from exc
        if pattern:
            try:
                tags = [t for t in tags if re.search(pattern, t)]
            except re.error as exc:
                raise failed(f"semver regex parse error: {exc}") from exc
        try:
            picked = semver.highest(tags, constraint)
        except semver.SemverError as exc:
            raise failed(f"semver '{constraint}' parse error: {exc}") from exc
        if picked is None:
            raise failed(f"no match found for semver: {constraint}")
        return picked

    def _select_layer(self, manifest: oci.Manifest, selector: api.OCILayerSelector) -> dict[str, Any]:
        layers = manifest.body.get("layers") or []
        if not layers:
            raise kernel.StepError(OCI_LAYER_FAILED, "no layers found in artifact")
        media_type = selector.media_type
        if not media_type:
            return dict(layers[0])
        for layer in layers:
            if layer.get("mediaType") == media_type:
                return dict(layer)
        raise kernel.StepError(
            OCI_LAYER_FAILED, f"failed to find layer with media type '{media_type}' in artifact"
        )


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def storage(self) -> Storage: ...
    def oci_client(self) -> oci.RegistryClient: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.oci_client(), services.storage)


registry.register(
    registry.Entry(
        "ocirepository", flux.OCIREPOSITORY.group_kind, _build, order=20, component=flux.SOURCE_CONTROLLER
    )
)
