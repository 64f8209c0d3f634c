"""HelmChart (source.toolkit.fluxcd.io/v1): pull a chart version from a HelmRepository's index,
or package a chart from a GitRepository's artifact, and publish it as an artifact.

Provenance: source-controller `internal/controller/helmchart_controller.go` and
`internal/helm/chart` (RemoteBuilder, LocalBuilder, Build.Summary); our own code.

From a HelmRepository: read the repository's index from storage (never from the upstream again),
pick `spec.version` (an exact version, else the highest match of the semver range; default `*`),
download the chart from the URL in the index, and store it as `<chart>-<version>.tgz`:
`pulled '<chart>' chart with version '<version>'` (reason `ChartPullSucceeded`, which is also the
event's reason). With `valuesFiles`, the listed files of the chart are merged, in order, into its
`values.yaml`, and the chart is packaged again with the real Helm SDK: `packaged … and merged
values files [a.yaml b.yaml]` (`ChartPackageSucceeded`).

From a GitRepository (or a Bucket): the chart directory `spec.chart` of the source artifact is packaged with
the Helm SDK; with `reconcileStrategy: Revision` the version gets `+<first 12 hex of the source
revision>` as build metadata.

Failures as Flux reports them: no source artifact (`NoSourceArtifact`, retried after
`--requeue-dependency`), no matching version or chart (`InvalidChartReference`, stalled),
a download that fails (`ChartPullError`; 401s are `AuthenticationFailed`).

From a Bucket: as from a GitRepository.

From an OCI HelmRepository (`type: oci`, which has no artifact of its own): the chart's tags
are its versions; the chart is pulled from the registry through `sources.oci`.

Not modelled: `verify`, `ignoreMissingValuesFiles`,
chart dependencies of local charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from gitops_sim.cluster import errors
from gitops_sim.controllers import source
from gitops_sim.helm import values as helm_values
from gitops_sim.model import archives, artifacts, conditions, flux, objects, refs, semver, yamlsafe
from gitops_sim.model.fluxapi import source as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.sources import charts, oci
from gitops_sim.storage import ArtifactError, Storage

CHART_PULL_SUCCEEDED = "ChartPullSucceeded"
CHART_PACKAGE_SUCCEEDED = "ChartPackageSucceeded"
CHART_PULL_ERROR = "ChartPullError"
CHART_PACKAGE_ERROR = "ChartPackageError"
INVALID_CHART_REFERENCE = "InvalidChartReference"
NO_SOURCE_ARTIFACT = "NoSourceArtifact"
SOURCE_UNAVAILABLE = "SourceUnavailable"


def reconciler(
    rt: base.Runtime,
    repositories: charts.ChartRepositories,
    registry: oci.RegistryClient,
    storage: Storage,
) -> kernel.Reconciler[api.HelmChartSpec, None]:
    def uses(chart: objects.RawObject, changed: refs.ObjectRef) -> bool:
        ref = base.typed_spec(chart, api.HelmChartSpec).source_ref
        same_namespace = chart["metadata"]["namespace"] == changed.namespace
        return same_namespace and ref.kind == changed.kind and ref.name == changed.name

    mapper = base.on_new_revision(rt.cluster, flux.HELMCHART.group_kind, uses)
    return source.reconciler(
        rt,
        storage,
        flux.HELMCHART,
        api.HelmChartSpec,
        _ChartFetch(rt, repositories, registry, storage).fetch,
        lambda spec: spec.interval,
        watched=tuple(
            base.Watch(gvk.group_kind, mapper)
            for gvk in (flux.HELMREPOSITORY, flux.GITREPOSITORY, flux.BUCKET)
        ),
    )


def _invalid_reference(why: str) -> kernel.StepError:
    return kernel.Stalling(
        INVALID_CHART_REFERENCE,
        f"invalid chart reference: failed to get chart version for remote reference: {why}",
    )


def _summary(action: str, name: str, version: str, values_files: list[str]) -> str:
    text = f"{action} '{name}' chart with version '{version}'"
    if values_files:
        text += f" and merged values files [{' '.join(values_files)}]"
    return text


@dataclass(slots=True)
class _ChartFetch:
    rt: base.Runtime
    repositories: charts.ChartRepositories
    registry: oci.RegistryClient
    storage: Storage
    timeout_s: float = 60.0
    """Downloads are bounded by 60s of wall time (a HelmChart v1 has no `spec.timeout`)."""

    def fetch(self, ctx: kernel.Context[api.HelmChartSpec, None]) -> source.Stored:
        timed = _ChartFetch(
            self.rt, self.repositories, self.registry.with_timeout(self.timeout_s), self.storage
        )
        return timed._fetch(ctx)

    def _fetch(self, ctx: kernel.Context[api.HelmChartSpec, None]) -> source.Stored:
        obj, spec, now = ctx.obj, ctx.spec, ctx.now
        kind, name = spec.source_ref.kind, spec.source_ref.name
        namespace = obj["metadata"]["namespace"]
        gvk = {
            "HelmRepository": flux.HELMREPOSITORY,
            "GitRepository": flux.GITREPOSITORY,
            "Bucket": flux.BUCKET,
        }[kind]
        source_ref = refs.ObjectRef(gvk.group, gvk.kind, namespace, name)
        try:
            repo = self.rt.cluster.get(source_ref)
        except errors.NotFound as exc:
            raise kernel.StepError(
                SOURCE_UNAVAILABLE, f"failed to get source: {errors.kind_not_found(source_ref).message}"
            ) from exc
        oci_repo = kind == "HelmRepository" and base.typed_spec(repo, api.HelmRepositorySpec).type == "oci"
        raw = (repo.get("status") or {}).get("artifact")
        if not raw and not oci_repo:
            raise kernel.StepError(NO_SOURCE_ARTIFACT, f"no artifact available for {kind} source '{name}'")
        artifact = artifacts.Artifact.from_status(raw) if raw else None
        chart_name = spec.chart
        values_files = list(spec.values_files)
        if oci_repo:
            chart_base = chart_name
            version, build = self._remote_oci(repo, chart_name, spec.version)
            action = "pulled"
        elif kind == "HelmRepository":
            assert artifact is not None
            chart_base = chart_name
            version, build = self._remote(repo, artifact, chart_name, spec.version)
            action = "pulled"
        else:
            chart_base = chart_name.rstrip("/").split("/")[-1]
            assert artifact is not None
            version, build = self._local(artifact, chart_name, spec)
            action = "packaged"
        if values_files:
            action = "packaged"
        reason = CHART_PULL_SUCCEEDED if action == "pulled" else CHART_PACKAGE_SUCCEEDED
        summary = _summary(action, chart_base, version, values_files)
        status = base.status(obj)
        current = status.get("artifact")
        up_to_date = (
            current
            and current.get("revision") == version
            and (status.get("observedValuesFiles") or []) == values_files
            and status.get("observedChartName") == chart_base
        )
        source.observe(obj, "observedChartName", chart_base)
        source.observe(obj, "observedSourceArtifactRevision", artifact.revision if artifact else None)
        source.observe(obj, "observedValuesFiles", values_files or None)
        if up_to_date:
            conditions.delete(obj, source.ARTIFACT_OUTDATED)
            return source.Stored(reason, summary)
        new = _summary("new", chart_base, version, [])
        if current:
            conditions.mark_true(obj, source.ARTIFACT_OUTDATED, "NewChart", new, now=now)
        source.progressing(obj, f"building artifact: {new}", now)
        data = build()
        if values_files:
            data = self._merge_values(data, values_files, version)
        meta = obj["metadata"]
        stored = self.storage.store_blob(
            flux.HELMCHART.kind,
            meta["namespace"],
            meta["name"],
            f"{chart_base}-{version}.tgz",
            data,
            revision=version,
            now=now,
        )
        status["url"] = self.storage.latest_url(flux.HELMCHART.kind, meta["namespace"], meta["name"])
        source.stored(obj, stored, summary, now, reason)
        return source.Stored(reason, summary)

    def _remote_oci(
        self, repo: objects.RawObject, chart: str, wanted: str
    ) -> tuple[str, Callable[[], bytes]]:
        """A chart in an OCI HelmRepository: tags are versions (`+` written `_`); the chart is the
        manifest's Helm chart layer."""
        repo_spec = base.typed_spec(repo, api.HelmRepositorySpec)
        host, path = oci.split_url(repo_spec.url)
        name = f"{path}/{chart}" if path else chart
        insecure = repo_spec.insecure
        creds = source.helm_basic_auth(self.rt, repo)
        auth = oci.basic_auth(*creds) if creds else None

        def pull_error(message: str) -> kernel.StepError:
            return kernel.StepError(CHART_PULL_ERROR, f"chart pull error: {message}")

        try:
            exact = semver.parse_version(wanted)
        except semver.SemverError:
            exact = None
        if exact is not None:
            version = wanted
        else:
            try:
                tags = self.registry.tags(host, name, insecure=insecure, auth=auth)
            except oci.RegistryError as exc:
                raise pull_error(f"failed to get chart version for remote reference: {exc.message}") from exc
            try:
                picked = semver.highest(
                    [t.replace("_", "+") for t in tags], "*" if wanted in ("", "*") else wanted
                )
            except semver.SemverError as exc:
                raise _invalid_reference(str(exc)) from exc
            if picked is None:
                raise _invalid_reference(f"no '{chart}' chart with version matching '{wanted}' found")
            version = picked

        def download() -> bytes:
            try:
                manifest = self.registry.manifest(
                    host, name, oci.helm_tag(version), insecure=insecure, auth=auth
                )
                layer = next(
                    (
                        entry
                        for entry in manifest.body.get("layers") or []
                        if entry.get("mediaType") == oci.HELM_CHART_TYPE
                    ),
                    None,
                )
                if layer is None:
                    raise pull_error(
                        f"failed to download chart for remote reference: no chart layer in {host}/{name}"
                    )
                return self.registry.blob(host, name, str(layer["digest"]), insecure=insecure, auth=auth)
            except oci.RegistryError as exc:
                if exc.status == 404:
                    raise _invalid_reference(
                        f"no '{chart}' chart with version matching '{wanted}' found"
                    ) from exc
                raise pull_error(f"failed to download chart for remote reference: {exc.message}") from exc

        return version, download

    def _remote(
        self, repo: objects.RawObject, artifact: artifacts.Artifact, chart: str, wanted: str
    ) -> tuple[str, Callable[[], bytes]]:
        """The version to use, and how to download it (only done when it is not stored yet)."""
        try:
            index = yamlsafe.loads_json(self.storage.fetch_blob(artifact))
        except (ArtifactError, ValueError) as exc:
            raise kernel.StepError(
                CHART_PULL_ERROR, f"chart pull error: failed to load index: {exc}"
            ) from exc
        entries = (index.get("entries") or {}).get(chart)

        invalid = _invalid_reference

        if not entries:
            raise invalid("no chart name found")
        versions = {str(e.get("version")): e for e in entries}
        if wanted in versions:
            version = wanted
        else:
            try:
                picked = semver.highest(list(versions), "*" if wanted in ("", "*") else wanted)
            except semver.SemverError as exc:
                raise invalid(str(exc)) from exc
            if picked is None:
                raise invalid(f"no '{chart}' chart with version matching '{wanted}' found")
            version = picked
        urls = versions[version].get("urls") or []
        if not urls:
            raise invalid(f"chart '{chart}' version '{version}' has no downloadable URLs")
        chart_url = charts.resolve_chart_url(base.typed_spec(repo, api.HelmRepositorySpec).url, str(urls[0]))

        def download() -> bytes:
            try:
                return self.repositories.fetch(
                    chart_url, source.helm_basic_auth(self.rt, repo), self.timeout_s
                )
            except charts.ChartError as exc:
                if exc.status == 401:
                    raise kernel.StepError(
                        source.AUTHENTICATION_FAILED,
                        f"failed to authenticate with the Helm repository: {exc.message}",
                    ) from exc
                raise kernel.StepError(
                    CHART_PULL_ERROR,
                    f"chart pull error: failed to download chart for remote reference: {exc.message}",
                ) from exc

        return version, download

    def _local(
        self, artifact: artifacts.Artifact, chart_path: str, spec: api.HelmChartSpec
    ) -> tuple[str, Callable[[], bytes]]:
        """The version of the chart in the source artifact, and how to package it."""
        try:
            files = self.storage.fetch(artifact)
        except ArtifactError as exc:
            raise kernel.StepError(CHART_PULL_ERROR, f"chart pull error: {exc}") from exc
        prefix = chart_path.strip("./").rstrip("/") + "/"
        chart_files = {p[len(prefix) :]: c for p, c in files.items() if p.startswith(prefix)}
        if "Chart.yaml" not in chart_files:
            raise kernel.Stalling(
                INVALID_CHART_REFERENCE,
                f"invalid chart reference: path '{chart_path}' not found in source artifact or no Chart.yaml",
            )
        try:
            metadata = yamlsafe.load(chart_files["Chart.yaml"]) or {}
            if not isinstance(metadata, dict):
                raise ValueError("Chart.yaml is not a map")
        except (ValueError, yaml.YAMLError) as exc:
            raise kernel.StepError(
                INVALID_CHART_REFERENCE,
                "invalid chart reference: failed to load chart metadata from "
                f"'{chart_path}/Chart.yaml': {exc}",
            ) from exc
        version = str(metadata.get("version", ""))
        if spec.reconcile_strategy == "Revision":
            digest = artifact.revision.rpartition(":")[2][:12]
            version = f"{version}+{digest}"
        name = str(metadata.get("name", "chart"))
        return version, lambda: self._package(
            {f"{name}/{rel}": c for rel, c in chart_files.items()}, name, version
        )

    def _package(self, files: dict[str, bytes], name: str, version: str) -> bytes:
        """Package `name/…` files with the Helm SDK, as a published chart is packaged."""
        try:
            data, _ = self.repositories.package(
                name, version, {rel.removeprefix(f"{name}/"): c for rel, c in files.items()}
            )
        except charts.ChartError as exc:
            raise kernel.StepError(CHART_PACKAGE_ERROR, f"chart package error: {exc.message}") from exc
        return data

    def _merge_values(self, data: bytes, values_files: list[str], version: str) -> bytes:
        files = archives.unpack(data)
        root = next(iter(files)).split("/")[0]
        merged = _values(files.get(f"{root}/values.yaml", b""), "values.yaml")
        for name in values_files:
            content = files.get(f"{root}/{name.removeprefix('./')}")
            if content is None:
                raise kernel.StepError(
                    CHART_PACKAGE_ERROR,
                    f"chart package error: failed to merge values: no values file found at path '{name}'",
                )
            merged = helm_values.merge_maps(merged, _values(content, name))
        files[f"{root}/values.yaml"] = yaml.safe_dump(merged, sort_keys=True).encode()
        return self._package(files, root, version)


def _values(content: bytes, name: str) -> dict[str, Any]:
    """A values file (bounded YAML, a map or nothing); anything else is a ChartPackageError."""
    try:
        values = yamlsafe.load(content) or {}
        if not isinstance(values, dict):
            raise ValueError("values are not a map")
    except (ValueError, yaml.YAMLError) as exc:
        raise kernel.StepError(
            CHART_PACKAGE_ERROR, f"chart package error: failed to merge values: '{name}': {exc}"
        ) from exc
    return values


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def charts(self) -> charts.ChartRepositories: ...
    @property
    def storage(self) -> Storage: ...
    def oci_client(self) -> oci.RegistryClient: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.charts, services.oci_client(), services.storage)


registry.register(
    registry.Entry("helmchart", flux.HELMCHART.group_kind, _build, order=50, component=flux.SOURCE_CONTROLLER)
)
