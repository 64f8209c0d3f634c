"""The source-controller API (source.toolkit.fluxcd.io/v1) as a cluster serves it from the
generated CRDs: valid sources are accepted and defaulted, and each marker and CEL rule refuses
what Flux's CRDs refuse, worded as kube-apiserver words it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import crds, declare, source
from tests.fluxapi.conftest import cluster_with, refused

GROUP = "source.toolkit.fluxcd.io"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
TIMEOUT = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"

# One valid object per kind, in the shape Flux's docs show.
GIT: dict[str, Any] = {
    "interval": "5m",
    "url": "https://github.com/example/podinfo",
    "ref": {"branch": "main"},
    "include": [{"repository": {"name": "shared"}, "toPath": "shared"}],
    "verify": {"secretRef": {"name": "pgp-public-keys"}},
}
OCI: dict[str, Any] = {
    "interval": "10m",
    "url": "oci://ghcr.io/example/manifests/podinfo",
    "ref": {"semver": ">=6.0.0"},
    "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip"},
    "verify": {
        "matchOIDCIdentity": [{"issuer": "^https://token.actions.githubusercontent.com$", "subject": ".*"}]
    },
}
HELMREPO: dict[str, Any] = {"interval": "1h", "url": "https://charts.example.com"}
HELMCHART: dict[str, Any] = {
    "chart": "podinfo",
    "interval": "5m",
    "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
    "valuesFiles": ["values.yaml", "values-prod.yaml"],
}
BUCKET: dict[str, Any] = {
    "interval": "5m",
    "endpoint": "minio.example.com",
    "bucketName": "manifests",
    "insecure": True,
    "secretRef": {"name": "minio-credentials"},
}
EXTERNAL: dict[str, Any] = {
    "sourceRef": {"apiVersion": "example.com/v1", "kind": "Source", "name": "my-source"}
}

VALID: dict[str, dict[str, Any]] = {
    "GitRepository": GIT,
    "OCIRepository": OCI,
    "HelmRepository": HELMREPO,
    "HelmChart": HELMCHART,
    "Bucket": BUCKET,
    "ExternalArtifact": EXTERNAL,
}


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return cluster_with(*source.KINDS)


def obj(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": kind,
        "metadata": {"name": "podinfo", "namespace": "default"},
        "spec": spec,
    }


def changed(kind: str, path: str, value: Any) -> dict[str, Any]:
    """The valid object of `kind` with the field at dotted `path` (under spec) set to `value`,
    or removed when `value` is REMOVE; a number in the path indexes a list."""
    spec = copy.deepcopy(VALID[kind])
    *parents, last = path.split(".")
    node: Any = spec
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if value is REMOVE:
        del node[last]
    else:
        node[last] = value
    return obj(kind, spec)


REMOVE: Any = object()


def create(cluster: store.MemoryCluster, body: dict[str, Any]) -> dict[str, Any]:
    return cluster.create(body, field_manager="kubectl-create", field_validation="Strict")


def invalid(kind: str, detail: str) -> str:
    return f'{kind}.{GROUP} "podinfo" is invalid: {detail}'


# The kinds whose CRD carries CEL rules. For them kube-apiserver skips the rules when the schema
# already refused a required, enum, length, count or type error, and says so in one more error
# (apiextensions-apiserver's customresource strategy, hasBlockingErr).
WITH_CEL = {"GitRepository", "HelmChart", "Bucket"}
NOT_CHECKED = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation"
)


def blocking(kind: str, detail: str) -> str:
    """The refusal of a schema error that stops CEL evaluation (required, enum, ...)."""
    if kind in WITH_CEL:
        return invalid(kind, f"[{detail}, {NOT_CHECKED}]")
    return invalid(kind, detail)


# ---------------------------------------------------------------------------------------------
# Valid objects and their defaults


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        pytest.param(
            "GitRepository",
            {**GIT, "timeout": "60s", "verify": {"mode": "HEAD", "secretRef": {"name": "pgp-public-keys"}}},
            id="GitRepository",
        ),
        pytest.param(
            "OCIRepository",
            {
                **OCI,
                "provider": "generic",
                "timeout": "60s",
                "verify": {**OCI["verify"], "provider": "cosign"},
            },
            id="OCIRepository",
        ),
        pytest.param("HelmRepository", {**HELMREPO, "provider": "generic"}, id="HelmRepository"),
        pytest.param(
            "HelmChart", {**HELMCHART, "reconcileStrategy": "ChartVersion", "version": "*"}, id="HelmChart"
        ),
        pytest.param("Bucket", {**BUCKET, "provider": "generic", "timeout": "60s"}, id="Bucket"),
        pytest.param("ExternalArtifact", EXTERNAL, id="ExternalArtifact"),
    ],
)
def test_a_valid_source_is_accepted_with_the_schema_defaults_filled_in(
    cluster: store.MemoryCluster, kind: str, spec: dict[str, Any]
) -> None:
    stored = create(cluster, obj(kind, VALID[kind]))
    assert stored["spec"] == spec


@pytest.mark.parametrize("kind", ["GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket"])
def test_a_new_source_starts_at_observed_generation_minus_one(
    cluster: store.MemoryCluster, kind: str
) -> None:
    stored = create(cluster, obj(kind, VALID[kind]))
    assert stored["status"] == {"observedGeneration": -1}


def test_a_new_external_artifact_has_no_status_until_its_producer_writes_one(
    cluster: store.MemoryCluster,
) -> None:
    stored = create(cluster, obj("ExternalArtifact", EXTERNAL))
    assert "status" not in stored


def test_a_git_repository_reads_back_typed_with_its_defaults(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("GitRepository", GIT))
    spec = declare.parse(source.GitRepositorySpec, stored["spec"])
    assert spec.interval == "5m"
    assert spec.timeout == "60s"
    assert spec.ref == source.GitRepositoryRef(branch="main")
    assert spec.verify is not None and spec.verify.mode == "HEAD"
    assert spec.include[0].repository.name == "shared"
    assert spec.provider is None
    assert spec.sparse_checkout == ()
    assert spec.suspend is False


def test_an_oci_repository_reads_back_typed_with_its_defaults(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("OCIRepository", OCI))
    spec = declare.parse(source.OCIRepositorySpec, stored["spec"])
    assert spec.provider == "generic"
    assert spec.timeout == "60s"
    assert spec.verify is not None and spec.verify.provider == "cosign"
    assert spec.verify.match_oidc_identity[0].subject == ".*"
    assert spec.layer_selector is not None and spec.layer_selector.operation is None


def test_a_helm_repository_reads_back_typed_with_its_defaults(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("HelmRepository", HELMREPO))
    spec = declare.parse(source.HelmRepositorySpec, stored["spec"])
    assert spec.provider == "generic"
    assert spec.type is None
    assert spec.timeout is None
    assert spec.pass_credentials is False


def test_a_helm_chart_reads_back_typed_with_its_defaults(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("HelmChart", HELMCHART))
    spec = declare.parse(source.HelmChartSpec, stored["spec"])
    assert spec.version == "*"
    assert spec.reconcile_strategy == "ChartVersion"
    assert spec.source_ref == source.LocalHelmChartSourceReference(kind="HelmRepository", name="podinfo")
    assert spec.values_files == ("values.yaml", "values-prod.yaml")


def test_a_bucket_reads_back_typed_with_its_defaults(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("Bucket", BUCKET))
    spec = declare.parse(source.BucketSpec, stored["spec"])
    assert spec.provider == "generic"
    assert spec.timeout == "60s"
    assert spec.insecure is True
    assert spec.sts is None


def test_an_external_artifact_reads_back_typed(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("ExternalArtifact", EXTERNAL))
    spec = declare.parse(source.ExternalArtifactSpec, stored["spec"])
    assert spec.source_ref is not None
    assert (spec.source_ref.kind, spec.source_ref.name, spec.source_ref.namespace) == (
        "Source",
        "my-source",
        None,
    )


# ---------------------------------------------------------------------------------------------
# Required fields


@pytest.mark.parametrize(
    ("kind", "path", "value", "field"),
    [
        pytest.param("GitRepository", "interval", REMOVE, "spec.interval", id="git-interval"),
        pytest.param("GitRepository", "url", REMOVE, "spec.url", id="git-url"),
        pytest.param(
            "GitRepository", "include", [{"toPath": "x"}], "spec.include[0].repository", id="git-include"
        ),
        pytest.param(
            "GitRepository",
            "include.0.repository",
            {},
            "spec.include[0].repository.name",
            id="git-include-name",
        ),
        pytest.param(
            "GitRepository", "verify", {"mode": "Tag"}, "spec.verify.secretRef", id="git-verify-secret"
        ),
        pytest.param("GitRepository", "secretRef", {}, "spec.secretRef.name", id="git-secret-name"),
        pytest.param("OCIRepository", "interval", REMOVE, "spec.interval", id="oci-interval"),
        pytest.param("OCIRepository", "url", REMOVE, "spec.url", id="oci-url"),
        pytest.param(
            "OCIRepository",
            "verify.matchOIDCIdentity",
            [{"subject": ".*"}],
            "spec.verify.matchOIDCIdentity[0].issuer",
            id="oci-oidc-issuer",
        ),
        pytest.param(
            "OCIRepository",
            "verify.matchOIDCIdentity",
            [{"issuer": ".*"}],
            "spec.verify.matchOIDCIdentity[0].subject",
            id="oci-oidc-subject",
        ),
        pytest.param("HelmRepository", "url", REMOVE, "spec.url", id="helmrepo-url"),
        pytest.param(
            "HelmRepository", "accessFrom", {}, "spec.accessFrom.namespaceSelectors", id="helmrepo-access"
        ),
        pytest.param("HelmChart", "chart", REMOVE, "spec.chart", id="chart-chart"),
        pytest.param("HelmChart", "interval", REMOVE, "spec.interval", id="chart-interval"),
        pytest.param("HelmChart", "sourceRef", REMOVE, "spec.sourceRef", id="chart-sourceRef"),
        pytest.param("HelmChart", "sourceRef.kind", REMOVE, "spec.sourceRef.kind", id="chart-sourceRef-kind"),
        pytest.param("HelmChart", "sourceRef.name", REMOVE, "spec.sourceRef.name", id="chart-sourceRef-name"),
        pytest.param("Bucket", "bucketName", REMOVE, "spec.bucketName", id="bucket-bucketName"),
        pytest.param("Bucket", "endpoint", REMOVE, "spec.endpoint", id="bucket-endpoint"),
        pytest.param("Bucket", "interval", REMOVE, "spec.interval", id="bucket-interval"),
        pytest.param("Bucket", "sts", {"provider": "ldap"}, "spec.sts.endpoint", id="bucket-sts-endpoint"),
        pytest.param(
            "Bucket",
            "sts",
            {"endpoint": "https://sts.example.com"},
            "spec.sts.provider",
            id="bucket-sts-provider",
        ),
        pytest.param(
            "ExternalArtifact", "sourceRef.kind", REMOVE, "spec.sourceRef.kind", id="ea-sourceRef-kind"
        ),
        pytest.param(
            "ExternalArtifact", "sourceRef.name", REMOVE, "spec.sourceRef.name", id="ea-sourceRef-name"
        ),
    ],
)
def test_a_missing_required_field_is_refused(
    cluster: store.MemoryCluster, kind: str, path: str, value: Any, field: str
) -> None:
    assert refused(cluster, changed(kind, path, value)) == blocking(kind, f"{field}: Required value")


# ---------------------------------------------------------------------------------------------
# Patterns


@pytest.mark.parametrize(
    ("kind", "path", "value", "pattern"),
    [
        pytest.param("GitRepository", "interval", "5", DURATION, id="git-interval"),
        pytest.param("GitRepository", "timeout", "1h", TIMEOUT, id="git-timeout-in-hours"),
        pytest.param(
            "GitRepository", "url", "git@github.com:example/podinfo", r"^(http|https|ssh)://.*$", id="git-url"
        ),
        pytest.param("OCIRepository", "interval", "10 minutes", DURATION, id="oci-interval"),
        pytest.param("OCIRepository", "timeout", "2h", TIMEOUT, id="oci-timeout"),
        pytest.param("OCIRepository", "url", "ghcr.io/example/podinfo", r"^oci://.*$", id="oci-url"),
        pytest.param("HelmRepository", "interval", "1d", DURATION, id="helmrepo-interval"),
        pytest.param("HelmRepository", "timeout", "1h", TIMEOUT, id="helmrepo-timeout"),
        pytest.param(
            "HelmRepository", "url", "ftp://charts.example.com", r"^(http|https|oci)://.*$", id="helmrepo-url"
        ),
        pytest.param("HelmChart", "interval", "5", DURATION, id="chart-interval"),
        pytest.param("Bucket", "interval", "5", DURATION, id="bucket-interval"),
        pytest.param("Bucket", "timeout", "1h", TIMEOUT, id="bucket-timeout"),
    ],
)
def test_a_value_not_matching_its_pattern_is_refused(
    cluster: store.MemoryCluster, kind: str, path: str, value: str, pattern: str
) -> None:
    field = f"spec.{path}"
    assert refused(cluster, changed(kind, path, value)) == invalid(
        kind, f"{field}: Invalid value: \"{value}\": {field} in body should match '{pattern}'"
    )


def test_an_sts_endpoint_without_a_scheme_is_refused(cluster: store.MemoryCluster) -> None:
    body = changed("Bucket", "sts", {"provider": "ldap", "endpoint": "sts.example.com"})
    assert refused(cluster, body) == invalid(
        "Bucket",
        'spec.sts.endpoint: Invalid value: "sts.example.com": spec.sts.endpoint in body should match '
        "'^(http|https)://.*$'",
    )


# ---------------------------------------------------------------------------------------------
# Enums


@pytest.mark.parametrize(
    ("kind", "path", "supported"),
    [
        pytest.param("GitRepository", "provider", '"generic", "aws", "azure", "github"', id="git-provider"),
        pytest.param(
            "GitRepository", "verify.mode", '"head", "HEAD", "Tag", "TagAndHEAD"', id="git-verify-mode"
        ),
        pytest.param("OCIRepository", "provider", '"generic", "aws", "azure", "gcp"', id="oci-provider"),
        pytest.param(
            "OCIRepository", "layerSelector.operation", '"extract", "copy"', id="oci-layer-operation"
        ),
        pytest.param("OCIRepository", "verify.provider", '"cosign", "notation"', id="oci-verify-provider"),
        pytest.param(
            "HelmRepository", "provider", '"generic", "aws", "azure", "gcp"', id="helmrepo-provider"
        ),
        pytest.param("HelmRepository", "type", '"default", "oci"', id="helmrepo-type"),
        pytest.param("HelmChart", "reconcileStrategy", '"ChartVersion", "Revision"', id="chart-strategy"),
        pytest.param(
            "HelmChart",
            "sourceRef.kind",
            '"HelmRepository", "GitRepository", "Bucket"',
            id="chart-source-kind",
        ),
        pytest.param("HelmChart", "verify.provider", '"cosign", "notation"', id="chart-verify-provider"),
        pytest.param("Bucket", "provider", '"generic", "aws", "gcp", "azure"', id="bucket-provider"),
        pytest.param("Bucket", "sts.provider", '"aws", "ldap"', id="bucket-sts-provider"),
    ],
)
def test_a_value_outside_its_enum_is_refused(
    cluster: store.MemoryCluster, kind: str, path: str, supported: str
) -> None:
    body = changed(kind, path, "foo")
    if kind == "Bucket" and path == "sts.provider":
        body["spec"]["sts"]["endpoint"] = "https://sts.example.com"
    assert refused(cluster, body) == blocking(
        kind, f'spec.{path}: Unsupported value: "foo": supported values: {supported}'
    )


# ---------------------------------------------------------------------------------------------
# Unknown fields


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        pytest.param("GitRepository", "foo", id="GitRepository"),
        pytest.param("GitRepository", "ref.foo", id="GitRepository-ref"),
        pytest.param("OCIRepository", "foo", id="OCIRepository"),
        pytest.param("OCIRepository", "ref.foo", id="OCIRepository-ref"),
        pytest.param("HelmRepository", "foo", id="HelmRepository"),
        pytest.param("HelmChart", "foo", id="HelmChart"),
        pytest.param("HelmChart", "sourceRef.foo", id="HelmChart-sourceRef"),
        pytest.param("Bucket", "foo", id="Bucket"),
        pytest.param("ExternalArtifact", "foo", id="ExternalArtifact"),
    ],
)
def test_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, kind: str, path: str
) -> None:
    assert refused(cluster, changed(kind, path, "bar")) == (
        f'{kind} in version "v1" cannot be handled as a {kind}: '
        f'strict decoding error: unknown field "spec.{path}"'
    )


# ---------------------------------------------------------------------------------------------
# CEL rules (x-kubernetes-validations). A rule on an object reports no value, only its message
# (v1.37's apiextensions CEL validator passes field.OmitValueType for objects and arrays).

GIT_SA = "serviceAccountName can only be set when provider is 'azure' or 'aws'"
CHART_VERIFY = "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'"


@pytest.mark.parametrize(
    "provider",
    [
        pytest.param(REMOVE, id="no-provider"),
        pytest.param("generic", id="generic"),
        pytest.param("github", id="github"),
    ],
)
def test_a_git_repository_service_account_without_a_cloud_provider_is_refused(
    cluster: store.MemoryCluster, provider: Any
) -> None:
    spec = {**GIT, "serviceAccountName": "git-reader"}
    if provider is not REMOVE:
        spec["provider"] = provider
    assert refused(cluster, obj("GitRepository", spec)) == invalid(
        "GitRepository", f"spec: Invalid value: {GIT_SA}"
    )


@pytest.mark.parametrize("provider", ["azure", "aws"])
def test_a_git_repository_service_account_with_a_cloud_provider_is_accepted(
    cluster: store.MemoryCluster, provider: str
) -> None:
    stored = create(
        cluster, obj("GitRepository", {**GIT, "provider": provider, "serviceAccountName": "git-reader"})
    )
    assert stored["spec"]["serviceAccountName"] == "git-reader"


def test_a_helm_chart_verify_on_a_git_repository_source_is_refused(cluster: store.MemoryCluster) -> None:
    spec = {
        **HELMCHART,
        "sourceRef": {"kind": "GitRepository", "name": "podinfo"},
        "verify": {"provider": "cosign"},
    }
    assert refused(cluster, obj("HelmChart", spec)) == invalid(
        "HelmChart", f"spec: Invalid value: {CHART_VERIFY}"
    )


def test_a_helm_chart_verify_on_a_helm_repository_source_is_accepted(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, obj("HelmChart", {**HELMCHART, "verify": {"secretRef": {"name": "cosign-pub"}}}))
    assert stored["spec"]["verify"] == {"provider": "cosign", "secretRef": {"name": "cosign-pub"}}


AWS_STS = {"provider": "aws", "endpoint": "https://sts.amazonaws.com"}
LDAP_STS = {"provider": "ldap", "endpoint": "https://minio.example.com"}


def bucket(**fields: Any) -> dict[str, Any]:
    spec = {key: value for key, value in BUCKET.items() if key != "secretRef"}
    return obj("Bucket", {**spec, **fields})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            {"provider": "gcp", "sts": AWS_STS},
            "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
            id="sts-on-gcp",
        ),
        pytest.param(
            {"provider": "aws", "sts": LDAP_STS},
            "'aws' is the only supported STS provider for the 'aws' Bucket provider",
            id="ldap-sts-on-aws",
        ),
        pytest.param(
            {"sts": AWS_STS},
            "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
            id="aws-sts-on-generic",
        ),
        pytest.param(
            {"provider": "aws", "sts": {**AWS_STS, "secretRef": {"name": "sts-creds"}}},
            "spec.sts.secretRef is not required for the 'aws' STS provider",
            id="secret-for-aws-sts",
        ),
        pytest.param(
            {"provider": "aws", "sts": {**AWS_STS, "certSecretRef": {"name": "sts-tls"}}},
            "spec.sts.certSecretRef is not required for the 'aws' STS provider",
            id="cert-for-aws-sts",
        ),
        pytest.param(
            {"serviceAccountName": "bucket-reader"},
            "ServiceAccountName is not supported for the 'generic' Bucket provider",
            id="service-account-on-generic",
        ),
        pytest.param(
            {"provider": "aws", "secretRef": {"name": "creds"}, "serviceAccountName": "bucket-reader"},
            "cannot set both .spec.secretRef and .spec.serviceAccountName",
            id="secret-and-service-account",
        ),
    ],
)
def test_a_bucket_breaking_a_cel_rule_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], message: str
) -> None:
    assert refused(cluster, bucket(**spec)) == invalid("Bucket", f"spec: Invalid value: {message}")


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"sts": LDAP_STS}, id="ldap-sts-on-generic"),
        pytest.param({"provider": "aws", "sts": AWS_STS}, id="aws-sts-on-aws"),
        pytest.param(
            {"sts": {**LDAP_STS, "secretRef": {"name": "ldap"}, "certSecretRef": {"name": "ldap-tls"}}},
            id="ldap-sts-with-secrets",
        ),
        pytest.param({"provider": "gcp", "serviceAccountName": "bucket-reader"}, id="service-account-on-gcp"),
        pytest.param({"provider": "aws", "serviceAccountName": "bucket-reader"}, id="service-account-on-aws"),
        pytest.param(
            {"provider": "azure", "secretRef": {"name": "creds"}}, id="secret-without-service-account"
        ),
    ],
)
def test_a_bucket_keeping_the_cel_rules_is_accepted(
    cluster: store.MemoryCluster, spec: dict[str, Any]
) -> None:
    stored = create(cluster, bucket(**spec))
    assert {key: stored["spec"][key] for key in spec} == spec


# ---------------------------------------------------------------------------------------------
# The CRDs


@pytest.mark.parametrize(
    ("kind", "plural", "short_names"),
    [
        pytest.param(source.GITREPOSITORY, "gitrepositories", ["gitrepo"], id="GitRepository"),
        pytest.param(source.OCIREPOSITORY, "ocirepositories", ["ocirepo"], id="OCIRepository"),
        pytest.param(source.HELMREPOSITORY, "helmrepositories", ["helmrepo"], id="HelmRepository"),
        pytest.param(source.HELMCHART, "helmcharts", ["hc"], id="HelmChart"),
        pytest.param(source.BUCKET, "buckets", None, id="Bucket"),
        pytest.param(source.EXTERNALARTIFACT, "externalartifacts", ["ea"], id="ExternalArtifact"),
    ],
)
def test_each_source_crd_serves_v1_alone_for_the_source_controller(
    kind: declare.Kind, plural: str, short_names: list[str] | None
) -> None:
    manifest = crds.manifest(kind)
    assert manifest["metadata"]["name"] == f"{plural}.{GROUP}"
    assert manifest["metadata"]["labels"]["app.kubernetes.io/component"] == "source-controller"
    assert manifest["metadata"]["annotations"] == {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}
    assert manifest["spec"]["names"].get("shortNames") == short_names
    assert manifest["spec"]["names"]["categories"] == ["all", "fluxcd", "fluxcd-sources"]
    assert [(v["name"], v["storage"]) for v in manifest["spec"]["versions"]] == [("v1", True)]
