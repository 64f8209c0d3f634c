"""Where a HelmRelease's chart comes from: its HelmChart, its source, its release names, its artifact.

What it does, as pure functions over the typed spec (`fluxapi.helm.HelmReleaseSpec`) and the
HelmRelease's own name and namespace:
- the names helm-controller derives: the HelmChart `<namespace>-<name>` and its namespace (the
  chart's sourceRef's), the release name `[targetNamespace-]name` (`release_name`, the text
  Flux's failure messages show) and the name Helm stores it under, shortened to 53 characters
  with a hash (`storage_release_name`), the release and storage namespaces;
- the HelmChart to server-side apply for `chart.spec` (`helm_chart`), with the owner labels
  `helm.toolkit.fluxcd.io/name` and `/namespace`, and the plan of the chart-template step
  (`plan_chart_template`: which HelmChart to delete first, which to apply, what
  `status.helmChart` becomes) with its trace events;
- the cross-namespace rule (`access_denied`) and the source the chart artifact is read from, for
  `chart` and for `chartRef` (`chart_source`);
- what a looked-up source (or its absence) means (`chart_artifact`): the artifact, or Flux's
  exact failure (Ready reason and message, whether it is a wait, a retry or a stall, the Warning
  event); and the chart version with the OCI digest appended (`chart_revision`), which becomes
  `status.lastAttemptedRevision`.

Provenance: fluxcd/helm-controller internal/reconcile/helmchart_template.go (`Reconcile`,
`reconcileDelete`, `buildHelmChartFromTemplate`, `mustCleanDeployedChart`), api/v2
helmrelease_types.go and reference_types.go (`GetReleaseName`, `GetReleaseNamespace`,
`GetStorageNamespace`, `GetHelmChartName`, `HelmChartTemplate.GetNamespace/GetInterval`,
`HelmReleaseStatus.GetHelmChart`), internal/release/name.go (`ShortenName`), internal/acl/acl.go
(`AllowsAccessTo`), internal/controller/helmrelease_controller.go (`reconcileRelease`'s source
and chart-loading steps, `getSource`, `getSourceFromOCIRef`, `getSourceFromExternalArtifact`,
`isSourceReady`, `isReady`, `mutateChartWithSourceRevision` and its helpers), internal/strings
(`Normalize`), fluxcd/pkg ssa (`SetOwnerLabels`, the change-set subject) and runtime/object
(`GetStatusObservedGeneration`); source-controller api/v1 helmchart_types.go for the HelmChart's
JSON. Behaviour learned there; the code is ours.

Callers: the HelmRelease controller (its chart-template and source steps) and the local
`build`/`diff helmrelease` commands. Never: read or write the cluster, storage or the clock,
load a chart, or import a controller, the kernel or the engine. The caller looks the source up
and hands the raw object in.

Differences, on purpose:
- The source is named from the spec, not from `status.helmChart` as `getSource` does for
  `chart`; the two agree whenever the chart-template step has succeeded, and Flux stops the
  reconcile when it has not.
- A missing source reads as the controller-runtime cache's NotFound text
  (`HelmChart.source.toolkit.fluxcd.io "x" not found`, `errors.kind_not_found`), the cached
  client being helm-controller's default (`--feature-gates=DirectSourceFetch` off).
- Chart versions are read with `semver.parse_version` (exactly three numeric parts), where
  Flux's Masterminds parser also accepts `1.2`: such a chart from an OCIRepository fails with
  `ChartMutateError` "invalid chart version 1.2" here. Helm itself refuses such charts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gitops_sim.apply import changeset
from gitops_sim.cluster import errors
from gitops_sim.model import artifacts, duration, flux, refs, semver
from gitops_sim.model.fluxapi import helm as helmapi

OWNER_GROUP = helmapi.GROUP
NAME_LABEL = f"{OWNER_GROUP}/name"
NAMESPACE_LABEL = f"{OWNER_GROUP}/namespace"
FIELD_MANAGER = "helm-controller"
"""helm-controller's `--field-manager` default (its controller name), for the HelmChart's apply."""

EXTERNALARTIFACT = flux.EXTERNALARTIFACT
SOURCE_KINDS: dict[str, refs.GVK] = {
    "HelmChart": flux.HELMCHART,
    "OCIRepository": flux.OCIREPOSITORY,
    "ExternalArtifact": EXTERNALARTIFACT,
}
EXTERNAL_ARTIFACT_GATE = "ExternalArtifact"
"""The feature gate (off by default in helm-controller v1.7) that allows `chartRef` to an ExternalArtifact."""

MAX_RELEASE_NAME = 53
_SHORT_HASH = 12


class Reason(StrEnum):
    """Ready reasons of the source and chart steps (api/v2, fluxcd/pkg apis/acl, and literals)."""

    ARTIFACT_FAILED = "ArtifactFailed"
    SOURCE_NOT_READY = "SourceNotReady"
    ACCESS_DENIED = "AccessDenied"
    CHART_MUTATE_ERROR = "ChartMutateError"


class Outcome(StrEnum):
    """How the reconcile ends after a failure, in helm-controller's terms.

    RETRY: an error is returned (the work queue's backoff; observedGeneration is not recorded).
    WAIT: requeue after `Failure.requeue_after_ms`, no error (observedGeneration not recorded).
    STALL: a terminal error: Stalled=True with the same reason and message, Reconciling removed,
    observedGeneration recorded, no requeue.
    """

    RETRY = "retry"
    WAIT = "wait"
    STALL = "stall"


@dataclass(frozen=True, slots=True)
class Failure:
    """Ready=False with `reason` and `message`, ending the reconcile as `outcome` says."""

    reason: str
    message: str
    outcome: Outcome
    requeue_after_ms: int | None = None
    """For WAIT: the delay (`--requeue-dependency`)."""
    jitter: bool = False
    """For WAIT: whether the delay gets the interval jitter (`jitter.JitteredRequeueInterval`)."""
    event: str | None = None
    """The Warning event's message (its reason is `reason`), or None when Flux sends none."""


# ---------------------------------------------------------------------------------------------
# Names


def helm_chart_name(name: str, namespace: str) -> str:
    """`GetHelmChartName`: the HelmChart made for the release, `<namespace>-<name>`."""
    return f"{namespace}-{name}"


def helm_chart_namespace(template: helmapi.HelmChartTemplate, namespace: str) -> str:
    """`HelmChartTemplate.GetNamespace`: the chart's sourceRef namespace, else the HelmRelease's."""
    return template.spec.source_ref.namespace or namespace


def release_name(spec: helmapi.HelmReleaseSpec, name: str) -> str:
    """`GetReleaseName`: `releaseName`, else `<targetNamespace>-<name>`, else `<name>`, unshortened.

    Flux's install and upgrade failure messages and its logs show this text."""
    if spec.release_name:
        return spec.release_name
    if spec.target_namespace:
        return f"{spec.target_namespace}-{name}"
    return name


def shorten_name(name: str) -> str:
    """`release.ShortenName`: a name over 53 characters becomes its first 40, a hyphen and the
    first 12 hex digits of its SHA-256."""
    if len(name) <= MAX_RELEASE_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()
    return name[: MAX_RELEASE_NAME - (_SHORT_HASH + 1)] + "-" + digest[:_SHORT_HASH]


def storage_release_name(spec: helmapi.HelmReleaseSpec, name: str) -> str:
    """The name Helm installs, stores and looks the release up under (`ShortenName(GetReleaseName())`),
    which status.history and the success messages show."""
    return shorten_name(release_name(spec, name))


def release_namespace(spec: helmapi.HelmReleaseSpec, namespace: str) -> str:
    """`GetReleaseNamespace`: `targetNamespace`, else the HelmRelease's namespace."""
    return spec.target_namespace or namespace


def storage_namespace(spec: helmapi.HelmReleaseSpec, namespace: str) -> str:
    """`GetStorageNamespace`: `storageNamespace`, else the HelmRelease's namespace."""
    return spec.storage_namespace or namespace


# ---------------------------------------------------------------------------------------------
# The HelmChart template


def owner_labels(name: str, namespace: str) -> dict[str, str]:
    """The labels fluxcd/pkg ssa `SetOwnerLabels` puts on what helm-controller applies."""
    return {NAME_LABEL: name, NAMESPACE_LABEL: namespace}


def helm_chart(spec: helmapi.HelmReleaseSpec, *, name: str, namespace: str) -> dict[str, Any]:
    """The HelmChart `buildHelmChartFromTemplate` makes from `spec.chart`, with the owner labels,
    as helm-controller sends it to server-side apply.

    The interval defaults to the HelmRelease's; durations are written as Go prints them (`10m`
    becomes `10m0s`), empty fields are left out as Go's `omitempty` does.
    """
    template = spec.chart
    if template is None:
        raise ValueError("the HelmRelease has no chart template (spec.chart); it uses chartRef")
    tpl = template.spec
    chart_spec: dict[str, Any] = {"chart": tpl.chart}
    if tpl.version:
        chart_spec["version"] = tpl.version
    chart_spec["sourceRef"] = {"kind": tpl.source_ref.kind, "name": tpl.source_ref.name}
    chart_spec["interval"] = duration.format(duration.parse(tpl.interval or spec.interval))
    if tpl.reconcile_strategy:
        chart_spec["reconcileStrategy"] = tpl.reconcile_strategy
    if tpl.values_files:
        chart_spec["valuesFiles"] = list(tpl.values_files)
    if tpl.ignore_missing_values_files:
        chart_spec["ignoreMissingValuesFiles"] = True
    if tpl.verify is not None:
        verify: dict[str, Any] = {"provider": tpl.verify.provider}
        if tpl.verify.secret_ref is not None:
            verify["secretRef"] = {"name": tpl.verify.secret_ref.name}
        chart_spec["verify"] = verify
    meta = template.metadata
    labels = {**((meta.labels if meta else None) or {}), **owner_labels(name, namespace)}
    metadata: dict[str, Any] = {
        "name": helm_chart_name(name, namespace),
        "namespace": helm_chart_namespace(template, namespace),
        "labels": labels,
    }
    if meta is not None and meta.annotations:
        metadata["annotations"] = dict(meta.annotations)
    return {
        "apiVersion": flux.HELMCHART.api_version,
        "kind": flux.HELMCHART.kind,
        "metadata": metadata,
        "spec": chart_spec,
    }


def helm_chart_status(spec: helmapi.HelmReleaseSpec, *, name: str, namespace: str) -> str:
    """What `status.helmChart` holds once the chart template is applied: `<chartNs>/<chartName>`,
    or "" for a HelmRelease with chartRef."""
    if spec.chart is None:
        return ""
    return f"{helm_chart_namespace(spec.chart, namespace)}/{helm_chart_name(name, namespace)}"


def parse_status_helm_chart(text: str) -> tuple[str, str]:
    """`HelmReleaseStatus.GetHelmChart`: (namespace, name) of `status.helmChart`, ("", "") when unset."""
    parts = text.split("/")
    if not text or len(parts) < 2:
        return ("", "")
    return (parts[0], parts[1])


def access_denied(
    namespace: str, kind: str, ref: tuple[str, str], *, allow_cross_namespace: bool
) -> str | None:
    """`acl.AllowsAccessTo`: the AccessDenied error text when the HelmRelease (in `namespace`) may
    not read `kind` `ref` = (namespace, name), or None. Cross-namespace references are allowed
    unless helm-controller runs with `--no-cross-namespace-refs`."""
    if allow_cross_namespace or namespace == ref[0]:
        return None
    return f"cross-namespace references are not allowed: cannot access {kind} {ref[0]}/{ref[1]}"


@dataclass(frozen=True, slots=True)
class TemplatePlan:
    """What the chart-template step does, in order: delete, then apply, then record."""

    delete: refs.ObjectRef | None
    """The HelmChart to delete first (status.helmChart is cleared once it is gone)."""
    apply: dict[str, Any] | None
    """The HelmChart to server-side apply, as `helm-controller`, forcing conflicts (fluxcd/pkg ssa
    always applies with ForceOwnership)."""
    helm_chart: str
    """`status.helmChart` after the step succeeds."""
    error: str | None = None
    """The error that ends the reconcile before anything is done (no condition changes, the
    work queue retries with backoff): an AccessDenied from the cross-namespace rule."""


def plan_chart_template(
    spec: helmapi.HelmReleaseSpec,
    *,
    name: str,
    namespace: str,
    status_helm_chart: str,
    deleting: bool,
    allow_cross_namespace: bool,
) -> TemplatePlan:
    """helm-controller's `HelmChartTemplate.Reconcile` as a plan.

    The HelmChart in `status.helmChart` is deleted when it is not the one the spec asks for (the
    chart moved, or chartRef replaced chart) or when the HelmRelease is being deleted; a suspended
    HelmRelease deletes nothing. Being deleted or having chartRef, nothing is applied. Otherwise
    the HelmChart is built from the template.
    """
    desired = helm_chart_status(spec, name=name, namespace=namespace)
    current = status_helm_chart
    delete: refs.ObjectRef | None = None
    if current and (deleting or current != desired) and not spec.suspend:
        ref = parse_status_helm_chart(current)
        denied = access_denied(
            namespace, flux.HELMCHART.kind, ref, allow_cross_namespace=allow_cross_namespace
        )
        if denied is not None:
            return TemplatePlan(delete=None, apply=None, helm_chart=current, error=denied)
        delete = refs.ObjectRef(flux.HELMCHART.group, flux.HELMCHART.kind, ref[0], ref[1])
        current = ""
    if deleting or spec.chart is None:
        return TemplatePlan(delete=delete, apply=None, helm_chart=current)
    chart_ref = (helm_chart_namespace(spec.chart, namespace), helm_chart_name(name, namespace))
    denied = access_denied(
        namespace, flux.HELMCHART.kind, chart_ref, allow_cross_namespace=allow_cross_namespace
    )
    if denied is not None:
        return TemplatePlan(delete=delete, apply=None, helm_chart=current, error=denied)
    chart = helm_chart(spec, name=name, namespace=namespace)
    return TemplatePlan(delete=delete, apply=chart, helm_chart=desired)


def chart_applied_event(action: changeset.Action, chart: dict[str, Any]) -> tuple[str, str] | None:
    """The trace event (reason, message) after the HelmChart's apply: `HelmChartCreated` or
    `HelmChartConfigured`, "Created HelmChart/<ns>/<name> with SourceRef '<Kind>/<ns>/<name>'";
    None when it was unchanged (Flux only logs "... is in-sync")."""
    if action not in (changeset.Action.CREATED, changeset.Action.CONFIGURED):
        return None
    meta, source = chart["metadata"], chart["spec"]["sourceRef"]
    subject = f"{chart['kind']}/{meta['namespace']}/{meta['name']}"
    text = f"{action} {subject} with SourceRef '{source['kind']}/{meta['namespace']}/{source['name']}'"
    return (f"HelmChart{str(action).title()}", text[:1].upper() + text[1:])


def chart_deleted_event(status_helm_chart: str) -> tuple[str, str]:
    """The trace event after the old HelmChart is deleted."""
    return ("HelmChartDeleted", f"deleted HelmChart '{status_helm_chart}'")


def chart_delete_error(status_helm_chart: str, err: str) -> str:
    """The error returned when the old HelmChart cannot be read or deleted (retried with backoff)."""
    return f"failed to delete HelmChart '{status_helm_chart}': {err}"


def chart_apply_error(err: str) -> tuple[str, str]:
    """The trace event (`HelmChartSyncErr`) and returned error when the apply fails."""
    return ("HelmChartSyncErr", f"failed to run server-side apply: {err}")


# ---------------------------------------------------------------------------------------------
# The source and its artifact


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The source-controller object whose artifact is the chart."""

    kind: str
    namespace: str
    name: str

    @property
    def gvk(self) -> refs.GVK:
        return SOURCE_KINDS[self.kind]

    @property
    def object_ref(self) -> refs.ObjectRef:
        return refs.ObjectRef(self.gvk.group, self.kind, self.namespace, self.name)

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def chart_source(spec: helmapi.HelmReleaseSpec, *, name: str, namespace: str) -> SourceRef:
    """Where the chart artifact is read: `chartRef` (its namespace defaulting to the
    HelmRelease's), or the HelmChart made from `chart`."""
    if spec.chart_ref is not None:
        ref = spec.chart_ref
        return SourceRef(ref.kind, ref.namespace or namespace, ref.name)
    if spec.chart is None:
        raise ValueError("the HelmRelease has neither chart nor chartRef")
    return SourceRef(
        "HelmChart", helm_chart_namespace(spec.chart, namespace), helm_chart_name(name, namespace)
    )


@dataclass(frozen=True, slots=True)
class ChartArtifact:
    """A ready source and the artifact to load the chart from."""

    source: SourceRef
    artifact: artifacts.Artifact


def _condition(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            assert isinstance(cond, dict)
            return cond
    return None


def not_ready(source: SourceRef, obj: dict[str, Any]) -> str | None:
    """`isSourceReady`: why the source cannot be used yet, or None when it can.

    An ExternalArtifact only needs an artifact. The others must have reconciled their latest
    generation (else their Ready message if Ready=False), not be stalled, and have an artifact.
    """
    status = obj.get("status") or {}
    prefix = f"{source.kind} '{source.namespace}/{source.name}' is not ready: "
    if source.kind == EXTERNALARTIFACT.kind:
        return None if status.get("artifact") else prefix + "does not have an artifact"
    observed = status.get("observedGeneration")
    if not observed:  # Go's omitempty drops 0: `GetStatusObservedGeneration` finds nothing
        return "observed generation not found"
    if int(obj.get("metadata", {}).get("generation", 0)) != int(observed):
        ready = _condition(obj, "Ready")
        if ready is not None and ready.get("status") == "False":
            return prefix + str(ready.get("message", ""))
        return prefix + "latest generation of object has not been reconciled"
    stalled = _condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return prefix + str(stalled.get("message", ""))
    if not status.get("artifact"):
        return prefix + "does not have an artifact"
    return None


def chart_artifact(
    source: SourceRef,
    obj: dict[str, Any] | None,
    *,
    namespace: str,
    allow_cross_namespace: bool,
    allow_external_artifact: bool,
    requeue_dependency_ms: int = flux.REQUEUE_DEPENDENCY_MS,
) -> ChartArtifact | Failure:
    """What the looked-up `source` (`obj`, None when it does not exist) gives the HelmRelease in
    `namespace`: the artifact, or helm-controller's failure.

    - cross-namespace reference refused, or the ExternalArtifact gate off: Stalled and Ready=False
      `AccessDenied`, a Warning event;
    - no such source: Ready=False `ArtifactFailed` "could not get Source object: <NotFound>",
      retried with backoff, no event;
    - not ready (see `not_ready`): Ready=False `SourceNotReady`, wait 30s (jittered), no event.
    The access checks come first: a refused source is never read.
    """
    ref = (source.namespace, source.name)
    denied = access_denied(namespace, source.kind, ref, allow_cross_namespace=allow_cross_namespace)
    if denied is None and source.kind == EXTERNALARTIFACT.kind and not allow_external_artifact:
        denied = (
            f"can't access '{source.kind}/{source.namespace}/{source.name}', "
            f"{EXTERNAL_ARTIFACT_GATE} feature gate is disabled"
        )
    if denied is not None:
        return Failure(Reason.ACCESS_DENIED, denied, Outcome.STALL, event=denied)
    if obj is None:
        message = f"could not get Source object: {errors.kind_not_found(source.object_ref).message}"
        return Failure(Reason.ARTIFACT_FAILED, message, Outcome.RETRY)
    why = not_ready(source, obj)
    if why is not None:
        return Failure(
            Reason.SOURCE_NOT_READY, why, Outcome.WAIT, requeue_after_ms=requeue_dependency_ms, jitter=True
        )
    return ChartArtifact(source, artifacts.Artifact.from_status(obj["status"]["artifact"]))


def artifact_not_found(requeue_dependency_ms: int = flux.REQUEUE_DEPENDENCY_MS) -> Failure:
    """The artifact's file is gone from storage (`loader.ErrFileNotFound`): wait, unjittered."""
    message = f"Source not ready: artifact not found. Retrying in {duration.format(requeue_dependency_ms)}"
    return Failure(Reason.ARTIFACT_FAILED, message, Outcome.WAIT, requeue_after_ms=requeue_dependency_ms)


def chart_load_failed(err: str) -> Failure:
    """The artifact could not be loaded as a chart (bad digest, not a chart archive...)."""
    return Failure(Reason.ARTIFACT_FAILED, f"Could not load chart: {err}", Outcome.RETRY, event=err)


# ---------------------------------------------------------------------------------------------
# The chart version with the source's digest


@dataclass(frozen=True, slots=True)
class ChartRevision:
    """The chart version the release records (`lastAttemptedRevision`, the snapshot's
    chartVersion) and the digest it came with (`lastAttemptedRevisionDigest`, "" for none)."""

    version: str
    digest: str


def _short_digest(revision: str) -> str | None:
    pair = revision.split(":")
    if len(pair) != 2 or len(pair[1]) < _SHORT_HASH:
        return None
    return pair[1][:_SHORT_HASH]


def _with_metadata(version: semver.Version, metadata: str) -> str:
    core = f"{version.major}.{version.minor}.{version.patch}"
    pre = f"-{'.'.join(version.pre)}" if version.pre else ""
    return f"{core}{pre}+{metadata}"


def _tag_version(revision: str) -> semver.Version | None:
    candidate = revision
    if "@" in revision:
        candidate = revision.split("@")[0].replace("_", "+")
    try:
        return semver.parse_version(candidate)
    except semver.SemverError:
        return None


def chart_revision(
    chart_version: str, source: SourceRef, artifact_revision: str, *, digest_tracking: bool = True
) -> ChartRevision | Failure:
    """`mutateChartWithSourceRevision`: for an OCIRepository (or an ExternalArtifact whose
    revision holds a digest) the chart version gets the digest's first 12 hex digits as build
    metadata (`6.5.0+0123456789ab`), so a moved tag is a new revision; other sources leave it.

    A `<tag>@<digest>` revision whose tag is a version must match the chart's version.
    `digest_tracking` off (`--feature-gates=DisableChartDigestTracking`) keeps the version but
    still returns the digest. Failures are `ChartMutateError`, retried with backoff.
    """
    tracked = source.kind == flux.OCIREPOSITORY.kind or (
        source.kind == EXTERNALARTIFACT.kind and ":" in artifact_revision
    )
    if not tracked:
        return ChartRevision(chart_version, "")

    def fail(message: str) -> Failure:
        return Failure(Reason.CHART_MUTATE_ERROR, message, Outcome.RETRY)

    try:
        version = semver.parse_version(chart_version)
    except semver.SemverError:
        return fail(f"invalid chart version {chart_version}")
    tag_version = _tag_version(artifact_revision)
    if tag_version is not None:
        pair = artifact_revision.split("@")
        if len(pair) != 2 or tag_version != version:
            return fail(f"artifact revision {pair[0]} does not match chart version {chart_version}")
        digest = pair[1]
    else:
        digest = artifact_revision
    short = _short_digest(digest)
    if short is None:
        return fail(f"invalid artifact revision {digest}")
    return ChartRevision(_with_metadata(version, short) if digest_tracking else chart_version, digest)
