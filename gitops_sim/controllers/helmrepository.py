"""HelmRepository (source.toolkit.fluxcd.io/v1): fetch a chart repository's index as an artifact.

Provenance: source-controller `internal/controller/helmrepository_controller.go` and
`internal/helm/repository/chart_repository.go`; our own code.

Type `default`: GET `<url>/index.yaml` (basic auth from `spec.secretRef` `username`/`password`);
the revision is the sha256 of the bytes as downloaded; the artifact is the parsed index, entries
sorted newest version first, as indented JSON in `index-<hex>.yaml` (as Flux stores it), and
`status.url` points at `index.yaml`. Type `oci` produces nothing: Flux treats such an object as
static (no artifact, no conditions), and so does this.

Differs from Flux: the stored JSON is our serialisation of the index, so the artifact's digest
and size differ from source-controller's (the revision does not).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from gitops_sim.controllers import source
from gitops_sim.model import duration, flux, semver, yamlsafe
from gitops_sim.model.fluxapi import source as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.sources import charts
from gitops_sim.storage import Storage

FAILED = "Failed"
INDEXATION_FAILED = "IndexationFailed"
MAX_INDEX_SIZE = 50 << 20
DEFAULT_INTERVAL = "1m"  # `GetRequeueAfter` when spec.interval is omitted
DEFAULT_TIMEOUT = "60s"  # `GetTimeout` when spec.timeout is omitted


def reconciler(
    rt: base.Runtime, repositories: charts.ChartRepositories, storage: Storage
) -> kernel.Reconciler[api.HelmRepositorySpec, None]:
    return source.reconciler(
        rt,
        storage,
        flux.HELMREPOSITORY,
        api.HelmRepositorySpec,
        _IndexFetch(rt, repositories, storage).fetch,
        lambda spec: spec.interval or DEFAULT_INTERVAL,
        static=lambda obj: base.typed_spec(obj, api.HelmRepositorySpec).type == "oci",
    )


def _sorted_index(index: dict[str, Any]) -> dict[str, Any]:
    """Helm's SortEntries: each chart's versions newest first (semver order, unparsable last)."""

    def key(entry: dict[str, Any]) -> tuple[int, Any]:
        try:
            return (1, semver.parse_version(str(entry.get("version", ""))).key())
        except semver.SemverError:
            return (0, ())

    entries = {
        name: sorted(versions or [], key=key, reverse=True)
        for name, versions in sorted((index.get("entries") or {}).items())
    }
    return {**index, "entries": entries}


@dataclass(slots=True)
class _IndexFetch:
    rt: base.Runtime
    repositories: charts.ChartRepositories
    storage: Storage

    def fetch(self, ctx: kernel.Context[api.HelmRepositorySpec, None]) -> source.Stored:
        obj, now, url = ctx.obj, ctx.now, ctx.spec.url
        if url.startswith("oci://"):
            raise kernel.Stalling(
                source.URL_INVALID,
                "invalid Helm repository URL: "
                "'oci' URL scheme cannot be used with 'default' HelmRepository type",
            )
        if not url.startswith(("http://", "https://")):
            raise kernel.Stalling(
                source.URL_INVALID, f"invalid Helm repository URL: unsupported scheme in '{url}'"
            )
        credentials = source.helm_basic_auth(self.rt, obj)
        index_url = url.rstrip("/") + "/index.yaml"
        try:
            raw = self.repositories.fetch(
                index_url,
                credentials,
                duration.parse(ctx.spec.timeout or DEFAULT_TIMEOUT) / 1000,
                max_bytes=MAX_INDEX_SIZE,
            )
        except charts.TooLarge as exc:
            raise kernel.StepError(
                FAILED, f"index exceeds the maximum index file size of {MAX_INDEX_SIZE} bytes"
            ) from exc
        except charts.ChartError as exc:
            raise kernel.StepError(
                FAILED,
                "failed to fetch Helm repository index: "
                f"failed to cache index to temporary file: {exc.message}",
            ) from exc
        revision = "sha256:" + hashlib.sha256(raw).hexdigest()
        try:
            index = yamlsafe.loads_json(raw) if raw.lstrip().startswith(b"{") else yamlsafe.load(raw)
            if not raw.strip():
                raise ValueError("empty index.yaml file")
            if not isinstance(index, dict) or not index.get("apiVersion"):
                raise ValueError("no API version specified")
        except (ValueError, yaml.YAMLError) as exc:
            raise kernel.StepError(
                INDEXATION_FAILED,
                f"failed to load Helm repository from index YAML: failed to load index: {exc}",
            ) from exc
        status = base.status(obj)
        current = status.get("artifact")
        meta = obj["metadata"]
        status["url"] = self.storage.url_for(
            f"{flux.HELMREPOSITORY.kind.lower()}/{meta['namespace']}/{meta['name']}/index.yaml"
        )
        if current and current.get("revision") == revision:
            return source.Stored(source.NEW_ARTIFACT, _fetched_message(int(current.get("size", 0)), url))
        source.new_revision(obj, f"new index revision '{revision}'", now)
        content = json.dumps(_sorted_index(index), indent=2, sort_keys=True, default=str).encode()
        artifact = self.storage.store_blob(
            flux.HELMREPOSITORY.kind,
            meta["namespace"],
            meta["name"],
            f"index-{revision.removeprefix('sha256:')}.yaml",
            content,
            revision=revision,
            now=now,
        )
        source.stored(obj, artifact, f"stored artifact: revision '{revision}'", now)
        return source.Stored(source.NEW_ARTIFACT, _fetched_message(artifact.size, url))


def human_size(size: float) -> str:
    """go-units HumanSize: four significant digits, decimal units, no space (`1.234kB`)."""
    units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.4g}{units[i]}"


def _fetched_message(size: int, url: str) -> str:
    return f"stored fetched index of size {human_size(size)} from '{url}'"


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def charts(self) -> charts.ChartRepositories: ...
    @property
    def storage(self) -> Storage: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.charts, services.storage)


registry.register(
    registry.Entry(
        "helmrepository", flux.HELMREPOSITORY.group_kind, _build, order=30, component=flux.SOURCE_CONTROLLER
    )
)
