"""The source-controller API, `source.toolkit.fluxcd.io/v1`: GitRepository, OCIRepository,
HelmRepository, HelmChart, Bucket and ExternalArtifact, with their spec and status types.

Provenance: fluxcd/source-controller `api/v1` (gitrepository_types.go, ocirepository_types.go,
ociverification_types.go, helmrepository_types.go, helmchart_types.go, bucket_types.go,
externalartifact_types.go) checked against the generated CRDs in `config/crd/bases`; field
names, markers, defaults and CEL rules are Flux's, the descriptions our own words. Flux 2.10
serves only v1 of these kinds (v1beta2 is gone), so only v1 is declared.

Callers: the source controllers of the simulation read specs with `declare.parse` (for example
`declare.parse(GitRepositorySpec, obj["spec"])`) and `crds` generates the CustomResourceDefinitions
from the `Kind` constants below. Pure declarations, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model.fluxapi import declare, meta
from gitops_sim.model.fluxapi.declare import f

GROUP = "source.toolkit.fluxcd.io"
CATEGORIES = ("all", "fluxcd", "fluxcd-sources")
COMPONENT = "source-controller"
ANNOTATIONS = {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}

# Source timeouts take ms, s and m only (no hours), unlike intervals (meta.DURATION).
TIMEOUT = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"

_INTERVAL_DOC = (
    "How often the controller looks for a new revision, as a Go duration (`5m`, `1h`); "
    "a little jitter is added to spread the load."
)
_SUSPEND_DOC = "Whether the controller stops reconciling the object until this is set back to false."
_IGNORE_DOC = (
    "Exclusion patterns in .sourceignore (.gitignore) syntax that replace the default ones "
    "when packaging the artifact."
)
_CERT_SECRET_DOC = (
    "A Secret (type Opaque or kubernetes.io/tls) with a client certificate and key "
    "(`tls.crt`, `tls.key`) and/or a CA certificate (`ca.crt`) for the TLS connection."
)
_PROXY_SECRET_DOC = "A Secret with the proxy settings (`address`, `username`, `password`) to connect through."
_OBSERVED_GENERATION_DOC = "The object's .metadata.generation the controller last reconciled."
_OBSERVED_IGNORE_DOC = "The exclusion patterns the current artifact was built with."
_URL_STATUS_DOC = (
    "A stable address for the latest artifact, served on a best-effort basis; prefer .status.artifact.url."
)


# ---------------------------------------------------------------------------------------------
# GitRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRepositoryInclude:
    """The artifact of another GitRepository copied into this one's artifact."""

    from_path: str | None = f(
        "The directory of the included artifact to copy; its root when omitted.", empty=None
    )
    repository: meta.LocalObjectReference = f(
        "The GitRepository, in the same namespace, whose artifact is included."
    )
    to_path: str | None = f(
        "Where the content lands in this artifact; a directory named after the included "
        "GitRepository when omitted.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRepositoryRef:
    """The Git reference to check out. The most specific one set wins: commit, then name,
    then semver, then tag, then branch."""

    branch: str | None = f("The branch to check out; `master` when no other field is set.", empty=None)
    commit: str | None = f(
        "The commit SHA to check out, above all other fields; with branch set, the branch is "
        "cloned shallowly and must contain the commit.",
        empty=None,
    )
    name: str | None = f(
        "A full Git reference such as `refs/heads/main`, `refs/tags/v1.0.0` or "
        "`refs/pull/42/head`; it wins over branch, tag and semver.",
        empty=None,
    )
    semver: str | None = f(
        "A semver range; the highest matching tag is checked out. Wins over tag.", empty=None
    )
    tag: str | None = f("The tag to check out; wins over branch.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRepositoryVerification:
    """How the signatures of the checked-out commit or tag are verified."""

    mode: Literal["head", "HEAD", "Tag", "TagAndHEAD"] = f(
        "What is verified: the HEAD commit (`HEAD`, or `head` kept for compatibility), the "
        "tag object (`Tag`) or both (`TagAndHEAD`).",
        default="HEAD",
    )
    secret_ref: meta.LocalObjectReference = f(
        "A Secret with the trusted public keys: PGP keys under keys ending in `.asc`, SSH keys "
        "under keys ending in `.sshpub`."
    )


@declare.rules(
    declare.Rule(
        "!has(self.serviceAccountName) || "
        "(has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
        "serviceAccountName can only be set when provider is 'azure' or 'aws'",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class GitRepositorySpec:
    """A Git repository to fetch, the reference to follow and how to package it as an artifact."""

    ignore: str | None = f(_IGNORE_DOC, empty=None)
    include: tuple[GitRepositoryInclude, ...] = f(
        "Other GitRepositories whose artifacts are copied into this one's artifact.", empty=tuple
    )
    interval: str = f(_INTERVAL_DOC, pattern=meta.DURATION)
    provider: Literal["generic", "aws", "azure", "github"] | None = f(
        "How the controller authenticates: `generic` (secretRef, the behaviour when omitted), "
        "`aws` or `azure` (workload identity) or `github` (a GitHub App).",
        empty=None,
    )
    proxy_secret_ref: meta.LocalObjectReference | None = f(_PROXY_SECRET_DOC, empty=None)
    recurse_submodules: bool = f(
        "Whether the Git submodules are cloned too, with their default settings.", empty=False
    )
    ref: GitRepositoryRef | None = f(
        "The Git reference to check out and watch; the `master` branch when omitted.", empty=None
    )
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the credentials: `username` and `password` or `bearerToken` for HTTPS, "
        "`identity` and `known_hosts` for SSH.",
        empty=None,
    )
    service_account_name: str | None = f(
        "The ServiceAccount whose workload identity authenticates to the repository; only with "
        "the `azure` and `aws` providers.",
        empty=None,
    )
    sparse_checkout: tuple[str, ...] = f(
        "Directories to check out; when set, only they are in the artifact.", empty=tuple
    )
    suspend: bool = f(_SUSPEND_DOC, empty=False)
    timeout: str = f("How long a Git operation such as a clone may take.", default="60s", pattern=TIMEOUT)
    url: str = f(
        "The repository's address, `http://`, `https://` or `ssh://`.", pattern=r"^(http|https|ssh)://.*$"
    )
    verify: GitRepositoryVerification | None = f(
        "Verify the signatures of the checked-out commit or tag; unverified sources fail.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GitRepositoryStatus:
    """What the source-controller last observed and produced for a GitRepository."""

    artifact: meta.Artifact | None = f("The artifact of the last successful reconciliation.", empty=None)
    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    included_artifacts: tuple[meta.Artifact, ...] = f(
        "The artifacts of the included GitRepositories, as last included successfully.", empty=tuple
    )
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_generation: int | None = f(_OBSERVED_GENERATION_DOC, empty=None)
    observed_ignore: str | None = f(_OBSERVED_IGNORE_DOC, empty=None)
    observed_include: tuple[GitRepositoryInclude, ...] = f(
        "The includes the current artifact was built with.", empty=tuple
    )
    observed_recurse_submodules: bool = f(
        "Whether the current artifact was built with submodules.", empty=False
    )
    observed_sparse_checkout: tuple[str, ...] = f(
        "The sparse checkout directories the current artifact was built with.", empty=tuple
    )
    source_verification_mode: str | None = f(
        "The verification mode last applied: which Git objects were verified.", empty=None
    )


GITREPOSITORY = declare.Kind(
    GROUP,
    "GitRepository",
    "gitrepositories",
    ("gitrepo",),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "A Git repository the source-controller clones at a chosen reference and serves as a "
            "tarball artifact.",
            GitRepositorySpec,
            GitRepositoryStatus,
            (declare.Column("URL", ".spec.url"), declare.AGE, declare.READY, declare.STATUS),
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# OCIRepository and the OCI verification types


@dataclass(frozen=True, slots=True, kw_only=True)
class OIDCIdentityMatch:
    """Regular expressions the issuer and subject of a keyless signing certificate must match."""

    issuer: str = f("A Go regular expression the OIDC issuer of the Fulcio certificate must match.")
    subject: str = f("A Go regular expression the identity subject of the Fulcio certificate must match.")


@dataclass(frozen=True, slots=True, kw_only=True)
class OCIRepositoryVerification:
    """How the signature of an OCI artifact is verified."""

    match_oidc_identity: tuple[OIDCIdentityMatch, ...] = f(
        "For cosign keyless signatures: the identities accepted; any one matching is enough.",
        empty=tuple,
        json="matchOIDCIdentity",
    )
    provider: Literal["cosign", "notation"] = f("The signing technology.", default="cosign", required=True)
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the trusted public keys or certificates.", empty=None
    )
    trusted_root_secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with a Sigstore `trusted_root.json`, to verify against a self-hosted Sigstore "
        "(own Fulcio CA, own Rekor).",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OCIRepositoryRef:
    """Which artifact of the repository to pull: digest wins over semver, semver over tag."""

    digest: str | None = f("The digest to pull, `sha256:<hash>`.", empty=None)
    semver: str | None = f("A semver range; the highest matching tag is pulled. Wins over tag.", empty=None)
    semver_filter: str | None = f(
        "A regular expression the tags must match to be considered for semver.", empty=None
    )
    tag: str | None = f("The tag to pull; `latest` when nothing is set.", empty=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class OCILayerSelector:
    """Which layer of an OCI artifact becomes the source, and how."""

    media_type: str | None = f(
        "The media type of the layer to use (the first layer of that type); the first layer when omitted.",
        empty=None,
    )
    operation: Literal["extract", "copy"] | None = f(
        "`extract` (the default) unpacks the layer's compressed content; `copy` stores it as it is.",
        empty=None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OCIRepositorySpec:
    """An OCI artifact in a container registry to pull, verify and serve as an artifact."""

    cert_secret_ref: meta.LocalObjectReference | None = f(_CERT_SECRET_DOC, empty=None)
    ignore: str | None = f(_IGNORE_DOC, empty=None)
    insecure: bool = f("Whether the registry is reached over plain HTTP.", empty=False)
    interval: str = f(_INTERVAL_DOC, pattern=meta.DURATION)
    layer_selector: OCILayerSelector | None = f(
        "Which layer to take from the artifact; the first one when omitted.", empty=None
    )
    provider: Literal["generic", "aws", "azure", "gcp"] = f(
        "How the controller authenticates: `generic` (secretRef or none) or the cloud's workload "
        "identity (`aws`, `azure`, `gcp`).",
        default="generic",
    )
    proxy_secret_ref: meta.LocalObjectReference | None = f(_PROXY_SECRET_DOC, empty=None)
    ref: OCIRepositoryRef | None = f(
        "The artifact to pull and watch; the `latest` tag when omitted.", empty=None
    )
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret of type kubernetes.io/dockerconfigjson with the registry credentials.", empty=None
    )
    service_account_name: str | None = f(
        "A ServiceAccount whose image pull secrets are used as registry credentials.", empty=None
    )
    suspend: bool = f(_SUSPEND_DOC, empty=False)
    timeout: str = f("How long a registry operation such as a pull may take.", default="60s", pattern=TIMEOUT)
    url: str = f("The repository's address, `oci://<registry>/<repository>`.", pattern=r"^oci://.*$")
    verify: OCIRepositoryVerification | None = f(
        "Verify the artifact's signature; unverified artifacts fail.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OCIRepositoryStatus:
    """What the source-controller last observed and produced for an OCIRepository."""

    artifact: meta.Artifact | None = f("The artifact of the last successful pull.", empty=None)
    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_generation: int | None = f(_OBSERVED_GENERATION_DOC, empty=None)
    observed_ignore: str | None = f(_OBSERVED_IGNORE_DOC, empty=None)
    observed_layer_selector: OCILayerSelector | None = f(
        "The layer selector the current artifact was built with.", empty=None
    )
    url: str | None = f(_URL_STATUS_DOC, empty=None)


OCIREPOSITORY = declare.Kind(
    GROUP,
    "OCIRepository",
    "ocirepositories",
    ("ocirepo",),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "An OCI artifact in a container registry that the source-controller pulls and serves "
            "as a tarball artifact.",
            OCIRepositorySpec,
            OCIRepositoryStatus,
            (declare.Column("URL", ".spec.url"), declare.READY, declare.STATUS, declare.AGE),
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# HelmRepository


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmRepositorySpec:
    """A Helm chart repository: an HTTP(S) index to fetch, or an OCI registry of charts."""

    access_from: meta.AccessFrom | None = f(
        "Namespaces allowed to refer to this repository (provisional, not enforced).", empty=None
    )
    cert_secret_ref: meta.LocalObjectReference | None = f(
        _CERT_SECRET_DOC + " It wins over TLS keys in the secretRef Secret.", empty=None
    )
    insecure: bool = f("Whether an OCI registry is reached over plain HTTP (type `oci` only).", empty=False)
    interval: str | None = f(
        "How often the index is fetched, as a Go duration (`1m` when omitted); ignored for OCI repositories.",
        empty=None,
        pattern=meta.DURATION,
    )
    pass_credentials: bool = f(
        "Whether the secretRef credentials are also sent to hosts other than the URL's, when "
        "the index points to charts elsewhere; beware of leaking them.",
        empty=False,
    )
    provider: Literal["generic", "aws", "azure", "gcp"] = f(
        "How the controller authenticates to an OCI registry (type `oci` only): `generic` or the "
        "cloud's workload identity.",
        default="generic",
    )
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the credentials: `username` and `password` (TLS keys here are deprecated, "
        "use certSecretRef).",
        empty=None,
    )
    suspend: bool = f(_SUSPEND_DOC, empty=False)
    timeout: str | None = f(
        "How long fetching the index, or pulling an OCI chart, may take; 60s when omitted.",
        empty=None,
        pattern=TIMEOUT,
    )
    type: Literal["default", "oci"] | None = f(
        "`default` for an HTTP(S) index, `oci` for an OCI registry (the URL must then start with `oci://`).",
        empty=None,
    )
    url: str = f(
        "The repository's address, `http://`, `https://` or `oci://`.", pattern=r"^(http|https|oci)://.*$"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmRepositoryStatus:
    """What the source-controller last observed and produced for a HelmRepository."""

    artifact: meta.Artifact | None = f("The index artifact of the last successful fetch.", empty=None)
    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_generation: int | None = f(_OBSERVED_GENERATION_DOC, empty=None)
    url: str | None = f(_URL_STATUS_DOC, empty=None)


HELMREPOSITORY = declare.Kind(
    GROUP,
    "HelmRepository",
    "helmrepositories",
    ("helmrepo",),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "A Helm chart repository whose index the source-controller fetches and serves, or "
            "an OCI registry its HelmCharts pull from.",
            HelmRepositorySpec,
            HelmRepositoryStatus,
            (declare.Column("URL", ".spec.url"), declare.AGE, declare.READY, declare.STATUS),
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# HelmChart


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalHelmChartSourceReference:
    """The source, in the HelmChart's namespace, that holds the chart."""

    api_version: str | None = f("API version of the source.", empty=None)
    kind: Literal["HelmRepository", "GitRepository", "Bucket"] = f("Kind of the source.")
    name: str = f("Name of the source.")


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartVerification:
    """How the signature of a chart pulled from an OCI HelmRepository is verified."""

    match_oidc_identity: tuple[OIDCIdentityMatch, ...] = f(
        "For cosign keyless signatures: the identities accepted; any one matching is enough.",
        empty=tuple,
        json="matchOIDCIdentity",
    )
    provider: Literal["cosign", "notation"] = f("The signing technology.", default="cosign", required=True)
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the trusted public keys or certificates.", empty=None
    )


@declare.rules(
    declare.Rule(
        "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",
        "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartSpec:
    """A Helm chart to take from a source, package and serve as an artifact."""

    chart: str = f("The chart's name in a HelmRepository, or its path in a GitRepository or Bucket.")
    ignore_missing_values_files: bool = f(
        "Whether values files that do not exist are skipped instead of failing.", empty=False
    )
    interval: str = f(_INTERVAL_DOC, pattern=meta.DURATION)
    reconcile_strategy: Literal["ChartVersion", "Revision"] = f(
        "What makes a new artifact: a new chart version (`ChartVersion`) or any new source "
        "revision (`Revision`).",
        default="ChartVersion",
    )
    source_ref: LocalHelmChartSourceReference = f("The source the chart is taken from.")
    suspend: bool = f(_SUSPEND_DOC, empty=False)
    values_files: tuple[str, ...] = f(
        "Values files, relative to the source, merged in order (later ones win) to replace the "
        "chart's values.yaml.",
        empty=tuple,
    )
    verify: HelmChartVerification | None = f(
        "Verify the chart's signature; OCI HelmRepository sources only, and chart dependencies "
        "not bundled in it are not verified.",
        empty=None,
    )
    version: str = f(
        "A semver range of the chart version to use; the latest (`*`) by default. Ignored for "
        "GitRepository and Bucket sources.",
        default="*",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class HelmChartStatus:
    """What the source-controller last observed and produced for a HelmChart."""

    artifact: meta.Artifact | None = f(
        "The packaged chart of the last successful reconciliation.", empty=None
    )
    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_chart_name: str | None = f("The chart name last resolved from the chart reference.", empty=None)
    observed_generation: int | None = f(_OBSERVED_GENERATION_DOC, empty=None)
    observed_source_artifact_revision: str | None = f(
        "The revision of the source's artifact last seen.", empty=None
    )
    observed_values_files: tuple[str, ...] = f(
        "The values files the current artifact was packaged with.", empty=tuple
    )
    url: str | None = f(_URL_STATUS_DOC, empty=None)


HELMCHART = declare.Kind(
    GROUP,
    "HelmChart",
    "helmcharts",
    ("hc",),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "A Helm chart the source-controller takes from a HelmRepository, GitRepository or "
            "Bucket and serves as a packaged chart artifact.",
            HelmChartSpec,
            HelmChartStatus,
            (
                declare.Column("Chart", ".spec.chart"),
                declare.Column("Version", ".spec.version"),
                declare.Column("Source Kind", ".spec.sourceRef.kind"),
                declare.Column("Source Name", ".spec.sourceRef.name"),
                declare.AGE,
                declare.READY,
                declare.STATUS,
            ),
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# Bucket


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketSTSSpec:
    """A Security Token Service the controller gets temporary bucket credentials from."""

    cert_secret_ref: meta.LocalObjectReference | None = f(
        _CERT_SECRET_DOC + " The `ldap` provider only.", empty=None
    )
    endpoint: str = f("The STS's HTTP or HTTPS address.", pattern=r"^(http|https)://.*$")
    provider: Literal["aws", "ldap"] = f("The kind of Security Token Service.")
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the `username` and `password` for the STS; the `ldap` provider only.", empty=None
    )


@declare.rules(
    declare.Rule(
        "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
        "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
    ),
    declare.Rule(
        "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
        "'aws' is the only supported STS provider for the 'aws' Bucket provider",
    ),
    declare.Rule(
        "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
        "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
    ),
    declare.Rule(
        "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
        "spec.sts.secretRef is not required for the 'aws' STS provider",
    ),
    declare.Rule(
        "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
        "spec.sts.certSecretRef is not required for the 'aws' STS provider",
    ),
    declare.Rule(
        "self.provider != 'generic' || !has(self.serviceAccountName)",
        "ServiceAccountName is not supported for the 'generic' Bucket provider",
    ),
    declare.Rule(
        "!has(self.secretRef) || !has(self.serviceAccountName)",
        "cannot set both .spec.secretRef and .spec.serviceAccountName",
    ),
)
@dataclass(frozen=True, slots=True, kw_only=True)
class BucketSpec:
    """An object storage bucket whose objects are fetched and served as an artifact."""

    bucket_name: str = f("The bucket's name.")
    cert_secret_ref: meta.LocalObjectReference | None = f(
        _CERT_SECRET_DOC + " The `generic` provider only.", empty=None
    )
    endpoint: str = f("The object storage host (and port) to fetch from; HTTPS unless insecure is set.")
    ignore: str | None = f(_IGNORE_DOC, empty=None)
    insecure: bool = f("Whether the endpoint is reached over plain HTTP.", empty=False)
    interval: str = f(_INTERVAL_DOC, pattern=meta.DURATION)
    prefix: str | None = f("Only objects whose key starts with this prefix are listed.", empty=None)
    provider: Literal["generic", "aws", "gcp", "azure"] = f(
        "The storage's API: `generic` for any S3-compatible store, or `aws`, `gcp`, `azure`.",
        default="generic",
    )
    proxy_secret_ref: meta.LocalObjectReference | None = f(_PROXY_SECRET_DOC, empty=None)
    region: str | None = f("The endpoint's region the bucket is in.", empty=None)
    secret_ref: meta.LocalObjectReference | None = f(
        "A Secret with the credentials for the bucket.", empty=None
    )
    service_account_name: str | None = f(
        "The ServiceAccount whose workload identity authenticates to the bucket; not with the "
        "`generic` provider, nor together with secretRef.",
        empty=None,
    )
    sts: BucketSTSSpec | None = f(
        "Get temporary credentials from a Security Token Service; the `aws` and `generic` providers only.",
        empty=None,
    )
    suspend: bool = f(_SUSPEND_DOC, empty=False)
    timeout: str = f("How long listing and fetching the objects may take.", default="60s", pattern=TIMEOUT)


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketStatus:
    """What the source-controller last observed and produced for a Bucket."""

    artifact: meta.Artifact | None = f("The artifact of the last successful fetch.", empty=None)
    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)
    last_handled_reconcile_at: str | None = f(meta.LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_generation: int | None = f(_OBSERVED_GENERATION_DOC, empty=None)
    observed_ignore: str | None = f(_OBSERVED_IGNORE_DOC, empty=None)
    url: str | None = f(_URL_STATUS_DOC, empty=None)


BUCKET = declare.Kind(
    GROUP,
    "Bucket",
    "buckets",
    (),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "An object storage bucket (S3-compatible, GCS or Azure Blob) whose objects the "
            "source-controller fetches and serves as a tarball artifact.",
            BucketSpec,
            BucketStatus,
            (declare.Column("Endpoint", ".spec.endpoint"), declare.AGE, declare.READY, declare.STATUS),
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# ExternalArtifact


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalArtifactSpec:
    """Where an artifact produced outside Flux comes from."""

    source_ref: meta.NamespacedObjectKindReference | None = f(
        "The custom resource the artifact was produced for.", empty=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalArtifactStatus:
    """The artifact a third-party controller published, and its conditions."""

    artifact: meta.Artifact | None = f("The artifact last produced.", empty=None)
    conditions: tuple[meta.Condition, ...] = f(meta.CONDITIONS_DOC, empty=tuple)


EXTERNALARTIFACT = declare.Kind(
    GROUP,
    "ExternalArtifact",
    "externalartifacts",
    ("ea",),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "An artifact produced and stored by a third-party controller, which Flux consumes "
            "like any source's artifact.",
            ExternalArtifactSpec,
            ExternalArtifactStatus,
            (declare.AGE, declare.READY, declare.STATUS, declare.Column("Source", ".spec.sourceRef.name")),
            status_default=None,
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


KINDS: tuple[declare.Kind, ...] = (
    GITREPOSITORY,
    OCIREPOSITORY,
    HELMREPOSITORY,
    HELMCHART,
    BUCKET,
    EXTERNALARTIFACT,
)
