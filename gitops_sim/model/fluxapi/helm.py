"""The helm-controller's API: HelmRelease, helm.toolkit.fluxcd.io/v2.

Declares the HelmRelease kind with its whole spec (the chart template or chart reference, the
install, upgrade, test, rollback and uninstall actions with their strategies and remediation,
drift detection and its ignore rules, post-renderers, values and their sources, dependencies,
remote cluster access, common metadata) and its whole status (the release history snapshots,
the inventory, the last attempted release, the failure counters, the conditions), with every
validation marker, default and CEL rule of the generated CRD.

Provenance: fluxcd/helm-controller api/v2/helmrelease_types.go, reference_types.go,
snapshot_types.go and inventory_types.go, checked against
config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml; the shared types come from
fluxcd/pkg apis/meta and apis/kustomize (declared in `meta`). The field names, markers, defaults
and CEL rules are Flux's; the descriptions are our own words.

Callers: the helm-controller simulation reads specs with `declare.parse(HelmReleaseSpec, ...)`;
`crds` generates the HelmRelease CRD from `HELMRELEASE`. Pure declarations, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi.declare import f

GROUP = "helm.toolkit.fluxcd.io"

CRDsPolicy = Literal["Skip", "Create", "CreateReplace"]
ActionStrategyName = Literal["RemediateOnFailure", "RetryOnFailure"]
ServerSideApplyMode = Literal["enabled", "disabled", "auto"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossNamespaceObjectReference:
    """The source-controller object (HelmRepository, GitRepository or Bucket) a chart is fetched
    from, in any namespace."""

    api_version: str | None = f("API version of the source.", empty=None)
    kind: Literal["HelmRepository", "GitRepository", "Bucket"] = f("Kind of the source.")
    name: str = f("Name of the source.", max_length=253, min_length=1)
    namespace: str | None = f(
        "Namespace of the source; the HelmRelease's when omitted.", empty=None, max_length=63, min_length=1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossNamespaceSourceReference:
    """A source-controller object (OCIRepository, HelmChart or ExternalArtifact) whose artifact
    is the chart to release, in any namespace."""

    api_version: str | None = f("API version of the source.", empty=None)
    kind: Literal["OCIRepository", "HelmChart", "ExternalArtifact"] = f("Kind of the source.")
    name: str = f("Name of the source.", max_length=253, min_length=1)
    namespace: str | None = f(
        "Namespace of the source; the HelmRelease's when omitted.", empty=None, max_length=63, min_length=1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartTemplateObjectMeta:
    """Labels and annotations to put on the HelmChart the controller creates."""

    annotations: dict[str, str] | None = f("Annotations for the HelmChart.", empty=None)
    labels: dict[str, str] | None = f("Labels for the HelmChart.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartTemplateVerification:
    """How to verify the signature of a chart pulled from an OCI registry."""

    provider: Literal["cosign", "notation"] = f(
        "The signing technology the chart was signed with.", default="cosign", required=True
    )
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret holding the trusted public keys (or certificates); cosign keyless "
        "verification when omitted.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartTemplateSpec:
    """The spec of the HelmChart the controller creates for the release."""

    chart: str = f(
        "The chart's name in a HelmRepository, or its path in a GitRepository or Bucket.",
        max_length=2048,
        min_length=1,
    )
    ignore_missing_values_files: bool = f(
        "Whether values files that do not exist are skipped instead of failing the chart.", empty=False
    )
    interval: str | None = f(
        "How often the HelmChart checks its source for a new chart; the HelmRelease's interval when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )
    reconcile_strategy: Literal["ChartVersion", "Revision"] = f(
        "What makes a new chart artifact: a new chart version, or any new revision of the source.",
        default="ChartVersion",
    )
    source_ref: CrossNamespaceObjectReference = f("The source the chart is taken from.")
    values_files: tuple[str, ...] | None = f(
        "Values files, relative paths in the source, merged in order in place of the chart's "
        "values.yaml (which is then only used if listed).",
        empty=None,
    )
    verify: HelmChartTemplateVerification | None = f(
        "Signature verification of the chart; only for OCI HelmRepositories.", empty=None
    )
    version: str = f(
        "A semver range the chart version must satisfy; ignored for GitRepository and Bucket sources.",
        default="*",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartTemplate:
    """The HelmChart the controller creates and keeps in the source's namespace for this release."""

    metadata: HelmChartTemplateObjectMeta | None = f("Labels and annotations for the HelmChart.", empty=None)
    spec: HelmChartTemplateSpec = f("The HelmChart's spec.")


# ---------------------------------------------------------------------------------------------
# Drift detection, post-rendering, metadata


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreRule:
    """Fields drift detection leaves alone, in all objects of the release or in those selected."""

    paths: tuple[str, ...] = f("JSON Pointers (RFC 6901) of the fields to ignore.")
    target: meta.Selector | None = f(
        "The objects the rule applies to; every object of the release when omitted.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftDetection:
    """Whether the controller compares the release's manifest with the cluster, and what it ignores."""

    ignore: tuple[IgnoreRule, ...] | None = f("Differences to disregard.", empty=None)
    mode: Literal["enabled", "warn", "disabled"] | None = f(
        "`enabled` corrects drift with an upgrade, `warn` only reports it, `disabled` (when "
        "omitted) does not look for it.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Kustomize:
    """A kustomize pass over the rendered manifests: patches and image rewrites."""

    images: tuple[meta.Image, ...] | None = f("Image names, tags or digests to rewrite.", empty=None)
    patches: tuple[meta.Patch, ...] | None = f(
        "Strategic merge or JSON 6902 patches and the objects they apply to.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PostRenderer:
    """One step that rewrites the manifests Helm rendered before they are applied."""

    kustomize: Kustomize | None = f("A kustomize post-renderer.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommonMetadata:
    """Labels and annotations set on every object of the release."""

    annotations: dict[str, str] | None = f(
        "Annotations to set, replacing any the chart sets under the same key.", empty=None
    )
    labels: dict[str, str] | None = f(
        "Labels to set, replacing any the chart sets under the same key.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitStrategy:
    """How Helm waits for the applied objects to become ready."""

    name: Literal["poller", "legacy"] = f(
        "`poller` watches the objects' status with kstatus; `legacy` is Helm 3's wait."
    )


# ---------------------------------------------------------------------------------------------
# Helm actions


@declare.rules(
    declare.Rule(
        "!has(self.retryInterval) || self.name != 'RemediateOnFailure'",
        ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class InstallStrategy:
    """What the controller does after a failed install: remediate it, or retry it later."""

    name: ActionStrategyName = f("The strategy.")
    retry_interval: str | None = f(
        "How long to wait before retrying a failed install (RetryOnFailure only); 5m when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallRemediation:
    """How a failed install is retried, each retry after uninstalling the failed release."""

    ignore_test_failures: bool | None = f(
        "Whether failed tests after an install are not remediated; test.ignoreFailures when omitted.",
        empty=None,
    )
    remediate_last_failure: bool | None = f(
        "Whether the last failure is remediated once no retries are left; false when omitted.",
        empty=None,
    )
    retries: int | None = f(
        "How many times a failed install is retried; 0 when omitted, negative for no limit.",
        empty=None,
        format="",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Install:
    """How the controller installs the release with Helm."""

    crds: CRDsPolicy | None = f(
        "What to do with the chart's crds directory on install: Skip, Create (missing ones, "
        "the default) or CreateReplace (also replace existing ones).",
        empty=None,
    )
    create_namespace: bool = f(
        "Whether to create the target namespace if it does not exist; it is never deleted.", empty=False
    )
    disable_hooks: bool = f("Whether the chart's hooks are skipped on install.", empty=False)
    disable_open_api_validation: bool = f(
        "Whether rendered manifests are not validated against the cluster's OpenAPI schema.",
        empty=False,
        json="disableOpenAPIValidation",
    )
    disable_schema_validation: bool = f(
        "Whether values are not validated against the chart's JSON schema.", empty=False
    )
    disable_take_ownership: bool = f(
        "Whether the install refuses to adopt objects that already exist.", empty=False
    )
    disable_wait: bool = f("Whether the install does not wait for the objects to be ready.", empty=False)
    disable_wait_for_jobs: bool = f("Whether the install does not wait for Jobs to complete.", empty=False)
    remediation: InstallRemediation | None = f("What happens when the install fails.", empty=None)
    replace: bool = f(
        "Whether the install may reuse the name of a deleted release kept in the history.", empty=False
    )
    server_side_apply: bool | None = f(
        "Whether objects are applied server-side; true when omitted (false with the "
        "UseHelm3Defaults feature gate).",
        empty=None,
    )
    skip_crds: bool = f(
        "Whether the chart's CRDs are not installed. Deprecated: use crds: Skip.",
        empty=False,
        json="skipCRDs",
    )
    strategy: InstallStrategy | None = f(
        "Remediate or retry a failed install; RemediateOnFailure when omitted (RetryOnFailure "
        "with the DefaultToRetryOnFailure feature gate).",
        empty=None,
    )
    timeout: str | None = f(
        "How long each Kubernetes operation of the install may take; spec.timeout when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


@declare.rules(
    declare.Rule(
        "!has(self.retryInterval) || self.name == 'RetryOnFailure'",
        ".retryInterval can only be set when .name is 'RetryOnFailure'",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class UpgradeStrategy:
    """What the controller does after a failed upgrade: remediate it, or retry it later."""

    name: ActionStrategyName = f("The strategy.")
    retry_interval: str | None = f(
        "How long to wait before retrying a failed upgrade (RetryOnFailure only); 5m when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UpgradeRemediation:
    """How a failed upgrade is retried, each retry after remediating with `strategy`."""

    ignore_test_failures: bool | None = f(
        "Whether failed tests after an upgrade are not remediated; test.ignoreFailures when omitted.",
        empty=None,
    )
    remediate_last_failure: bool | None = f(
        "Whether the last failure is remediated once no retries are left; true when omitted if "
        "retries is above 0, false otherwise.",
        empty=None,
    )
    retries: int | None = f(
        "How many times a failed upgrade is retried; 0 when omitted, negative for no limit.",
        empty=None,
        format="",
    )
    strategy: Literal["rollback", "uninstall"] | None = f(
        "How a failed upgrade is remediated; rollback when omitted.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Upgrade:
    """How the controller upgrades the release with Helm."""

    chart_name_change_strategy: Literal["InPlaceUpdate", "Reinstall"] | None = f(
        "What to do when the chart's name changes: Reinstall (uninstall first, the default) "
        "or InPlaceUpdate.",
        empty=None,
    )
    cleanup_on_fail: bool = f("Whether objects created by a failed upgrade are deleted.", empty=False)
    crds: CRDsPolicy | None = f(
        "What to do with the chart's crds directory on upgrade: Skip (the default), Create "
        "(missing ones) or CreateReplace (also replace existing ones).",
        empty=None,
    )
    disable_hooks: bool = f("Whether the chart's hooks are skipped on upgrade.", empty=False)
    disable_open_api_validation: bool = f(
        "Whether rendered manifests are not validated against the cluster's OpenAPI schema.",
        empty=False,
        json="disableOpenAPIValidation",
    )
    disable_schema_validation: bool = f(
        "Whether values are not validated against the chart's JSON schema.", empty=False
    )
    disable_take_ownership: bool = f(
        "Whether the upgrade refuses to adopt objects it did not create.", empty=False
    )
    disable_wait: bool = f("Whether the upgrade does not wait for the objects to be ready.", empty=False)
    disable_wait_for_jobs: bool = f("Whether the upgrade does not wait for Jobs to complete.", empty=False)
    force: bool = f(
        "Whether client-side applies replace objects rather than merge into them; server-side "
        "apply always forces.",
        empty=False,
    )
    preserve_values: bool = f(
        "Whether the previous release's values are reused with spec.values merged over them "
        "(which makes the release depend on its past).",
        empty=False,
    )
    remediation: UpgradeRemediation | None = f("What happens when the upgrade fails.", empty=None)
    server_side_apply: ServerSideApplyMode | None = f(
        "Whether objects are applied server-side; auto (when omitted) keeps the release's previous choice.",
        empty=None,
    )
    strategy: UpgradeStrategy | None = f(
        "Remediate or retry a failed upgrade; RemediateOnFailure when omitted (RetryOnFailure "
        "with the DefaultToRetryOnFailure feature gate).",
        empty=None,
    )
    timeout: str | None = f(
        "How long each Kubernetes operation of the upgrade may take; spec.timeout when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Filter:
    """A Helm test picked to run, or left out when `exclude` is set."""

    exclude: bool = f("Whether the named test is left out instead of selected.", empty=False)
    name: str = f("Name of the test.", max_length=253, min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Test:
    """Whether and how the chart's Helm tests run after an install or upgrade."""

    enable: bool = f("Whether Helm tests run after each install or upgrade.", empty=False)
    filters: tuple[Filter, ...] | None = f(
        "Tests to run, or to leave out; all tests when omitted.", empty=None
    )
    ignore_failures: bool = f(
        "Whether failed tests are not remediated (install and upgrade remediation may say otherwise).",
        empty=False,
    )
    timeout: str | None = f(
        "How long each Kubernetes operation of the tests may take; spec.timeout when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollback:
    """How the controller rolls the release back with Helm (the default upgrade remediation)."""

    cleanup_on_fail: bool = f("Whether objects created by a failed rollback are deleted.", empty=False)
    disable_hooks: bool = f("Whether the chart's hooks are skipped on rollback.", empty=False)
    disable_wait: bool = f("Whether the rollback does not wait for the objects to be ready.", empty=False)
    disable_wait_for_jobs: bool = f("Whether the rollback does not wait for Jobs to complete.", empty=False)
    force: bool = f(
        "Whether client-side applies replace objects rather than merge into them; server-side "
        "apply always forces.",
        empty=False,
    )
    recreate: bool = f("Deprecated and without effect since Helm 4: it only causes a warning.", empty=False)
    server_side_apply: ServerSideApplyMode | None = f(
        "Whether objects are applied server-side; auto (when omitted) keeps the release's previous choice.",
        empty=None,
    )
    timeout: str | None = f(
        "How long each Kubernetes operation of the rollback may take; spec.timeout when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Uninstall:
    """How the controller uninstalls the release with Helm."""

    deletion_propagation: Literal["background", "foreground", "orphan"] = f(
        "The deletion propagation policy for the release's objects.", default="background"
    )
    disable_hooks: bool = f("Whether the chart's hooks are skipped on uninstall.", empty=False)
    disable_wait: bool = f("Whether the uninstall does not wait for the objects to be gone.", empty=False)
    keep_history: bool = f(
        "Whether the release's history is kept (marked uninstalled) after its objects are deleted.",
        empty=False,
    )
    timeout: str | None = f(
        "How long each Kubernetes operation of the uninstall may take; spec.timeout when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )


# ---------------------------------------------------------------------------------------------
# The spec


@declare.rules(
    declare.Rule(
        "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
        "either chart or chartRef must be set",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class HelmReleaseSpec:
    """The Helm release to keep installed and up to date: its chart, values and Helm actions."""

    chart: HelmChartTemplate | None = f(
        "A HelmChart to create for the release. Exactly one of chart and chartRef is set.", empty=None
    )
    chart_ref: CrossNamespaceSourceReference | None = f(
        "An existing source object whose artifact is the chart. Exactly one of chart and chartRef is set.",
        empty=None,
    )
    common_metadata: CommonMetadata | None = f(
        "Labels and annotations set on every object of the release.", empty=None
    )
    depends_on: tuple[meta.DependencyReference, ...] | None = f(
        "HelmReleases that must be ready before this one is reconciled.", empty=None
    )
    drift_detection: DriftDetection | None = f(
        "Whether and how the cluster is compared with the release's manifest.", empty=None
    )
    health_check_exprs: tuple[meta.CustomHealthCheck, ...] | None = f(
        "CEL expressions that assess custom resources' health, used when Helm waits with the "
        "poller strategy.",
        empty=None,
    )
    install: Install | None = f("How the release is installed.", empty=None)
    interval: str = f("How often the release is reconciled.", pattern=meta.DURATION)
    kube_config: meta.KubeConfigReference | None = f(
        "The remote cluster to release to, instead of the controller's own; serviceAccountName "
        "is then impersonated there.",
        empty=None,
    )
    max_history: int | None = f(
        "How many release versions Helm keeps in storage; 5 when omitted, 0 for no limit.",
        empty=None,
        format="",
    )
    persistent_client: bool | None = f(
        "Whether one Kubernetes client serves a whole reconciliation instead of one per Helm "
        "action; true when omitted. Faster, but charts that create CRDs outside Helm's CRD "
        "handling may need it off.",
        empty=None,
    )
    post_render_strategy: Literal["nohooks", "combined", "separate"] | None = f(
        "Whether hooks go through the post-renderers: nohooks (Helm 3), combined with the "
        "templates (the default) or separate streams.",
        empty=None,
    )
    post_renderers: tuple[PostRenderer, ...] | None = f(
        "Post-renderers applied in order to the rendered manifests.", empty=None
    )
    release_name: str | None = f(
        "The Helm release's name; `[targetNamespace-]name` when omitted.",
        empty=None,
        max_length=53,
        min_length=1,
    )
    rollback: Rollback | None = f("How the release is rolled back.", empty=None)
    service_account_name: str | None = f(
        "The service account impersonated to act on the cluster.", empty=None, max_length=253, min_length=1
    )
    storage_namespace: str | None = f(
        "The namespace Helm stores the release in; the HelmRelease's when omitted.",
        empty=None,
        max_length=63,
        min_length=1,
    )
    suspend: bool = f("Whether reconciliation is paused; one already running finishes.", empty=False)
    target_namespace: str | None = f(
        "The namespace the release is installed into; the HelmRelease's when omitted.",
        empty=None,
        max_length=63,
        min_length=1,
    )
    test: Test | None = f("Whether and how Helm tests run.", empty=None)
    timeout: str | None = f(
        "How long each Kubernetes operation of a Helm action (a hook Job, say) may take; 5m0s when omitted.",
        empty=None,
        pattern=meta.DURATION,
    )
    uninstall: Uninstall | None = f("How the release is uninstalled.", empty=None)
    upgrade: Upgrade | None = f("How the release is upgraded.", empty=None)
    values: declare.Json | None = f("Helm values for the release, merged over valuesFrom.", empty=None)
    values_from: tuple[meta.ValuesReference, ...] | None = f(
        "ConfigMaps and Secrets holding values, merged in order before spec.values.", empty=None
    )
    wait_strategy: WaitStrategy | None = f(
        "How Helm waits for the objects to be ready; poller when omitted (legacy with the "
        "UseHelm3Defaults feature gate).",
        empty=None,
    )


# ---------------------------------------------------------------------------------------------
# The status


@dataclass(frozen=True, slots=True, kw_only=True)
class TestHookStatus:
    """What the controller saw of one Helm test hook."""

    last_completed: str | None = f("When the test hook last completed.", empty=None, format=meta.DATE_TIME)
    last_started: str | None = f("When the test hook last started.", empty=None, format=meta.DATE_TIME)
    phase: str | None = f("The phase the test hook was last seen in (Succeeded, Failed, ...).", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """A copy of what a Helm release version in storage looked like to the controller."""

    action: str | None = f("The release action that made this version (install, upgrade, ...).", empty=None)
    api_version: str | None = f(
        "The version of the snapshot format, which changes when the digest is computed differently.",
        empty=None,
    )
    app_version: str | None = f("The app version of the release's chart.", empty=None)
    chart_name: str = f("The name of the release's chart.")
    chart_version: str = f("The version of the release's chart.")
    config_digest: str = f("Checksum, `<algo>:<checksum>`, of the release's values.")
    deleted: str | None = f("When the release was uninstalled.", empty=None, format=meta.DATE_TIME)
    digest: str = f("Checksum, `<algo>:<checksum>`, of the release object in storage.")
    first_deployed: str = f("When the release was first deployed.", format=meta.DATE_TIME)
    last_deployed: str = f("When the release was last deployed.", format=meta.DATE_TIME)
    name: str = f("The release's name.")
    namespace: str = f("The namespace the release is installed into.")
    oci_digest: str | None = f("Digest of the OCI artifact the chart came from.", empty=None)
    status: str = f("The release's state in Helm (deployed, superseded, failed, ...).")
    test_hooks: dict[str, TestHookStatus] | None = f(
        "The release's test hooks the controller saw run, by name.", empty=None
    )
    version: int = f("The release's version in storage.", format="")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceRef:
    """One object applied for the release."""

    id: str = f("The object as `<namespace>_<name>_<group>_<kind>`.")
    v: str = f("The API version of the object's kind.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceInventory:
    """The objects applied for the release."""

    entries: tuple[ResourceRef, ...] = f("The objects.")


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmReleaseStatus:
    """What the helm-controller last observed and did for the release."""

    conditions: tuple[meta.Condition, ...] | None = f(meta.CONDITIONS_DOC, empty=None)
    failures: int | None = f(
        "Failed reconciliations since the desired state last changed or a reconciliation succeeded.",
        empty=None,
    )
    helm_chart: str | None = f("The HelmChart created for the release, as `<namespace>/<name>`.", empty=None)
    history: tuple[Snapshot, ...] | None = f(
        "The release versions made for this HelmRelease, newest first, back to the last successful one.",
        empty=None,
    )
    install_failures: int | None = f(
        "Failed installs since the desired state last changed or a reconciliation succeeded.", empty=None
    )
    inventory: ResourceInventory | None = f("The objects applied for the release.", empty=None)
    last_attempted_config_digest: str | None = f(
        "Digest of the values of the last reconciliation attempt.", empty=None
    )
    last_attempted_generation: int | None = f(
        "The generation the controller last tried to reconcile.", empty=None
    )
    last_attempted_release_action: Literal["install", "upgrade"] | None = f(
        "The last release action tried, which picks the retry or remediation settings in force.",
        empty=None,
    )
    last_attempted_release_action_duration: str | None = f(
        "How long the last release action took.", empty=None
    )
    last_attempted_revision: str | None = f(
        "The source revision of the last reconciliation attempt (for an OCIRepository, the chart "
        "version with the digest's first 12 characters appended, `1.2.3+1234567890ab`).",
        empty=None,
    )
    last_attempted_revision_digest: str | None = f(
        "The digest of the last reconciliation attempt (OCIRepository sources only).", empty=None
    )
    last_attempted_values_checksum: str | None = f(
        "SHA1 of the values of the last reconciliation attempt. Deprecated: see lastAttemptedConfigDigest.",
        empty=None,
    )
    last_handled_force_at: str | None = f(
        "The value of the reconcile.fluxcd.io/forceAt annotation the controller last acted on.",
        empty=None,
    )
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    last_handled_reset_at: str | None = f(
        "The value of the reconcile.fluxcd.io/resetAt annotation the controller last acted on "
        "(a reset clears the failure counters).",
        empty=None,
    )
    last_release_revision: int | None = f(
        "The version of the last successful Helm release. Deprecated: see history.", empty=None, format=""
    )
    observed_common_metadata_digest: str | None = f(
        "Digest of spec.commonMetadata at the last successful reconciliation.", empty=None
    )
    observed_generation: int | None = f("The last generation the controller observed.", empty=None)
    observed_post_renderers_digest: str | None = f(
        "Digest of spec.postRenderers at the last successful reconciliation.", empty=None
    )
    storage_namespace: str | None = f(
        "The namespace Helm stores the current release in.", empty=None, max_length=63, min_length=1
    )
    upgrade_failures: int | None = f(
        "Failed upgrades since the desired state last changed or a reconciliation succeeded.", empty=None
    )


HELMRELEASE = declare.Kind(
    GROUP,
    "HelmRelease",
    "helmreleases",
    ("hr",),
    ("all", "fluxcd", "fluxcd-appliers"),
    versions=(
        declare.Version(
            "v2",
            "A Helm release the helm-controller installs from a chart, keeps up to date with its "
            "values and source, tests, and remediates or uninstalls.",
            HelmReleaseSpec,
            HelmReleaseStatus,
            (declare.AGE, declare.READY, declare.STATUS),
            storage=True,
            deprecation=None,
        ),
    ),
    component="helm-controller",
    annotations={"kustomize.toolkit.fluxcd.io/substitute": "disabled"},
)

KINDS: tuple[declare.Kind, ...] = (HELMRELEASE,)
