"""The notification.toolkit.fluxcd.io CRDs generated from `fluxapi.notification`, as a server enforces them.

Receiver v1; Alert and Provider in v1 (stored) and v1beta3 (served, deprecated), with one schema.
Receiver and Provider carry CEL rules: when a schema error blocks them (a required field, an enum,
a length), the API server says so after the schema errors (`BLOCKED`).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import crds, declare, meta, notification
from gitops_sim.model.refs import ObjectRef
from tests.fluxapi.conftest import cluster_with, refused

GROUP = "notification.toolkit.fluxcd.io"
NAMESPACE = "flux-system"
VERSIONS = ("v1", "v1beta3")
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
BLOCKED = (
    "<nil>: Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation"
)
KIND_VALUES = (
    '"Bucket", "GitRepository", "Kustomization", "HelmRelease", "HelmChart", "HelmRepository", '
    '"ImageRepository", "ImagePolicy", "ImageUpdateAutomation", "OCIRepository", '
    '"ArtifactGenerator", "ExternalArtifact"'
)


@pytest.fixture
def cluster() -> store.MemoryCluster:
    served = cluster_with(*notification.KINDS)
    served.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, field_manager="setup"
    )
    return served


def manifest(kind: str, name: str, spec: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }


def stored(cluster: store.MemoryCluster, kind: str, name: str) -> dict[str, Any]:
    return cluster.get(ObjectRef(GROUP, kind, NAMESPACE, name))


def invalid(kind: str, name: str, *causes: str) -> str:
    """The API server's message for an object refused with `causes`."""
    listed = causes[0] if len(causes) == 1 else "[" + ", ".join(causes) + "]"
    return f'{kind}.{GROUP} "{name}" is invalid: {listed}'


def edited(spec: dict[str, Any], path: str, value: Any = None) -> dict[str, Any]:
    """A copy of `spec` with the field at dotted `path` (list indices as numbers) set, or
    removed when `value` is None."""
    out = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node: Any = out
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    key: Any = int(last) if isinstance(node, list) else last
    if value is None:
        del node[key]
    else:
        node[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Receiver


GITHUB_RECEIVER = {
    "type": "github",
    "events": ["ping", "push"],
    "secretRef": {"name": "webhook-token"},
    "resources": [
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "flux-system"}
    ],
}
OIDC_RECEIVER = {
    "type": "generic-oidc",
    "resources": [{"kind": "OCIRepository", "name": "*", "matchLabels": {"team": "apps"}, "filter": "true"}],
    "oidcProviders": [
        {
            "issuerURL": "https://token.actions.githubusercontent.com",
            "variables": [{"name": "owner", "expression": "claims.repository_owner"}],
            "validations": [{"expression": "vars.owner == 'acme'", "message": "only acme may call"}],
        }
    ],
}
RECEIVER_TYPES = (
    '"generic", "generic-hmac", "generic-oidc", "github", "gitlab", "bitbucket", "harbor", '
    '"dockerhub", "quay", "gcr", "nexus", "acr", "cdevents"'
)


def test_a_github_receiver_is_accepted_with_its_interval_defaulted(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Receiver", "github-receiver", GITHUB_RECEIVER), field_manager="kubectl")

    got = stored(cluster, "Receiver", "github-receiver")
    assert got["spec"] == {**GITHUB_RECEIVER, "interval": "10m"}
    assert got["status"] == {"observedGeneration": -1}


def test_a_generic_oidc_receiver_without_a_secret_is_accepted(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Receiver", "ci", OIDC_RECEIVER), field_manager="kubectl")

    assert stored(cluster, "Receiver", "ci")["spec"] == {**OIDC_RECEIVER, "interval": "10m"}


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(edited(GITHUB_RECEIVER, "type"), "spec.type", id="type"),
        pytest.param(edited(GITHUB_RECEIVER, "resources"), "spec.resources", id="resources"),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.kind"), "spec.resources[0].kind", id="resource-kind"
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.name"), "spec.resources[0].name", id="resource-name"
        ),
        pytest.param(edited(GITHUB_RECEIVER, "secretRef.name"), "spec.secretRef.name", id="secret-name"),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.issuerURL"),
            "spec.oidcProviders[0].issuerURL",
            id="issuer-url",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.validations"),
            "spec.oidcProviders[0].validations",
            id="validations",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.validations.0.expression"),
            "spec.oidcProviders[0].validations[0].expression",
            id="validation-expression",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.validations.0.message"),
            "spec.oidcProviders[0].validations[0].message",
            id="validation-message",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.variables.0.name"),
            "spec.oidcProviders[0].variables[0].name",
            id="variable-name",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.variables.0.expression"),
            "spec.oidcProviders[0].variables[0].expression",
            id="variable-expression",
        ),
    ],
)
def test_a_receiver_missing_a_required_field_is_refused_and_its_rules_left_unchecked(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str
) -> None:
    message = refused(cluster, manifest("Receiver", "hook", spec))

    assert message == invalid("Receiver", "hook", f"{path}: Required value", BLOCKED)


@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        pytest.param(
            edited(GITHUB_RECEIVER, "interval", "5"),
            f"spec.interval: Invalid value: \"5\": spec.interval in body should match '{DURATION}'",
            id="interval-pattern",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.issuerURL", "ftp://issuer"),
            'spec.oidcProviders[0].issuerURL: Invalid value: "ftp://issuer": '
            "spec.oidcProviders[0].issuerURL in body should match '^https?://'",
            id="issuer-url-pattern",
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.name", ""),
            'spec.resources[0].name: Invalid value: "": '
            "spec.resources[0].name in body should be at least 1 chars long",
            id="resource-name-min-length",
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.namespace", ""),
            'spec.resources[0].namespace: Invalid value: "": '
            "spec.resources[0].namespace in body should be at least 1 chars long",
            id="resource-namespace-min-length",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.validations", []),
            "spec.oidcProviders[0].validations: Invalid value: 0: "
            "spec.oidcProviders[0].validations in body should have at least 1 items",
            id="validations-min-items",
        ),
    ],
)
def test_a_receiver_breaking_a_pattern_or_minimum_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], cause: str
) -> None:
    assert refused(cluster, manifest("Receiver", "hook", spec)) == invalid("Receiver", "hook", cause)


@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        pytest.param(
            edited(GITHUB_RECEIVER, "type", "foo"),
            f'spec.type: Unsupported value: "foo": supported values: {RECEIVER_TYPES}',
            id="type-enum",
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.kind", "Deployment"),
            f'spec.resources[0].kind: Unsupported value: "Deployment": supported values: {KIND_VALUES}',
            id="resource-kind-enum",
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.name", "n" * 254),
            "spec.resources[0].name: Too long: may not be more than 253 bytes",
            id="resource-name-max-length",
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "resources.0.namespace", "n" * 254),
            "spec.resources[0].namespace: Too long: may not be more than 253 bytes",
            id="resource-namespace-max-length",
        ),
    ],
)
def test_a_receiver_breaking_an_enum_or_maximum_is_refused_and_its_rules_left_unchecked(
    cluster: store.MemoryCluster, spec: dict[str, Any], cause: str
) -> None:
    assert refused(cluster, manifest("Receiver", "hook", spec)) == invalid("Receiver", "hook", cause, BLOCKED)


def test_a_receiver_naming_one_issuer_twice_is_refused(cluster: store.MemoryCluster) -> None:
    provider = OIDC_RECEIVER["oidcProviders"][0]
    spec = edited(OIDC_RECEIVER, "oidcProviders", [provider, provider])

    assert refused(cluster, manifest("Receiver", "hook", spec)) == invalid(
        "Receiver",
        "hook",
        'spec.oidcProviders[1]: Duplicate value: {"issuerURL":"https://token.actions.githubusercontent.com"}',
    )


def test_a_receiver_with_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster,
) -> None:
    message = refused(cluster, manifest("Receiver", "hook", {**GITHUB_RECEIVER, "foo": "bar"}))

    assert message == (
        'Receiver in version "v1" cannot be handled as a Receiver: '
        'strict decoding error: unknown field "spec.foo"'
    )


@pytest.mark.parametrize(
    ("spec", "rule_message"),
    [
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders"),
            "generic-oidc receivers must define at least one oidcProvider",
            id="oidc-without-providers",
        ),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders", []),
            "generic-oidc receivers must define at least one oidcProvider",
            id="oidc-with-empty-providers",
        ),
        pytest.param(
            {**GITHUB_RECEIVER, "oidcProviders": OIDC_RECEIVER["oidcProviders"]},
            "oidcProviders can only be set when type is generic-oidc",
            id="providers-without-oidc",
        ),
        pytest.param(
            {**OIDC_RECEIVER, "secretRef": {"name": "webhook-token"}},
            "secretRef cannot be set when type is generic-oidc",
            id="oidc-with-secret",
        ),
        pytest.param(
            edited(GITHUB_RECEIVER, "secretRef"),
            "secretRef is required when type is not generic-oidc",
            id="github-without-secret",
        ),
    ],
)
def test_a_receiver_breaking_a_rule_is_refused_with_its_message(
    cluster: store.MemoryCluster, spec: dict[str, Any], rule_message: str
) -> None:
    message = refused(cluster, manifest("Receiver", "hook", spec))

    assert message == invalid("Receiver", "hook", f"spec: Invalid value: {rule_message}")


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(OIDC_RECEIVER, id="oidc-with-providers"),
        pytest.param({**GITHUB_RECEIVER, "oidcProviders": []}, id="github-with-empty-providers"),
        pytest.param(
            edited(OIDC_RECEIVER, "oidcProviders.0.variables"), id="oidc-without-secret-or-variables"
        ),
        pytest.param({**GITHUB_RECEIVER, "type": "generic"}, id="generic-with-secret"),
    ],
)
def test_a_receiver_keeping_every_rule_is_accepted(
    cluster: store.MemoryCluster, spec: dict[str, Any]
) -> None:
    created = cluster.create(manifest("Receiver", "hook", spec), field_manager="kubectl")

    assert created["spec"]["type"] == spec["type"]


def test_a_receiver_spec_parses_with_its_defaults(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Receiver", "github-receiver", GITHUB_RECEIVER), field_manager="kubectl")

    spec = declare.parse(notification.ReceiverSpec, stored(cluster, "Receiver", "github-receiver")["spec"])

    assert spec.type == "github"
    assert spec.interval == "10m"
    assert spec.events == ("ping", "push")
    assert spec.secret_ref is not None and spec.secret_ref.name == "webhook-token"
    assert spec.resources[0].kind == "GitRepository"
    assert spec.resources[0].namespace is None
    assert spec.oidc_providers == ()
    assert spec.suspend is False


def test_an_oidc_receiver_spec_parses_its_providers(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Receiver", "ci", OIDC_RECEIVER), field_manager="kubectl")

    spec = declare.parse(notification.ReceiverSpec, stored(cluster, "Receiver", "ci")["spec"])

    issuer = spec.oidc_providers[0]
    assert issuer.issuer_url == "https://token.actions.githubusercontent.com"
    assert issuer.audience is None
    assert issuer.variables == (
        notification.OIDCVariable(name="owner", expression="claims.repository_owner"),
    )
    assert issuer.validations[0].message == "only acme may call"
    assert spec.resources[0].match_labels == {"team": "apps"}
    assert spec.secret_ref is None


# ---------------------------------------------------------------------------------------------
# Alert


ALERT = {
    "providerRef": {"name": "slack-bot"},
    "eventMetadata": {"cluster": "staging", "region": "eu-west-1"},
    "eventSources": [
        {"kind": "GitRepository", "name": "*"},
        {"kind": "Kustomization", "name": "apps", "namespace": "apps"},
    ],
    "exclusionList": ["^Dependencies do not meet"],
}


@pytest.mark.parametrize("version", VERSIONS)
def test_an_alert_is_accepted_with_its_severity_defaulted_and_no_status(
    cluster: store.MemoryCluster, version: str
) -> None:
    cluster.create(manifest("Alert", "on-call", ALERT, version), field_manager="kubectl")

    got = stored(cluster, "Alert", "on-call")
    assert got["spec"] == {**ALERT, "eventSeverity": "info"}
    assert "status" not in got


def test_an_alert_written_in_v1beta3_is_stored_in_v1(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Alert", "on-call", ALERT, "v1beta3"), field_manager="kubectl")

    assert stored(cluster, "Alert", "on-call")["apiVersion"] == f"{GROUP}/v1"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(edited(ALERT, "providerRef"), "spec.providerRef", id="provider-ref"),
        pytest.param(edited(ALERT, "providerRef.name"), "spec.providerRef.name", id="provider-name"),
        pytest.param(edited(ALERT, "eventSources"), "spec.eventSources", id="event-sources"),
        pytest.param(edited(ALERT, "eventSources.0.kind"), "spec.eventSources[0].kind", id="source-kind"),
        pytest.param(edited(ALERT, "eventSources.0.name"), "spec.eventSources[0].name", id="source-name"),
    ],
)
def test_an_alert_missing_a_required_field_is_refused(
    cluster: store.MemoryCluster, version: str, spec: dict[str, Any], path: str
) -> None:
    message = refused(cluster, manifest("Alert", "on-call", spec, version))

    assert message == invalid("Alert", "on-call", f"{path}: Required value")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        pytest.param(
            {**ALERT, "eventSeverity": "warning"},
            'spec.eventSeverity: Unsupported value: "warning": supported values: "info", "error"',
            id="severity-enum",
        ),
        pytest.param(
            edited(ALERT, "eventSources.0.kind", "Pod"),
            f'spec.eventSources[0].kind: Unsupported value: "Pod": supported values: {KIND_VALUES}',
            id="source-kind-enum",
        ),
        pytest.param(
            {**ALERT, "summary": "s" * 256},
            "spec.summary: Too long: may not be more than 255 bytes",
            id="summary-max-length",
        ),
        pytest.param(
            edited(ALERT, "eventSources.0.name", ""),
            'spec.eventSources[0].name: Invalid value: "": '
            "spec.eventSources[0].name in body should be at least 1 chars long",
            id="source-name-min-length",
        ),
        pytest.param(
            edited(ALERT, "eventSources.0.name", "n" * 254),
            "spec.eventSources[0].name: Too long: may not be more than 253 bytes",
            id="source-name-max-length",
        ),
        pytest.param(
            edited(ALERT, "eventSources.1.namespace", ""),
            'spec.eventSources[1].namespace: Invalid value: "": '
            "spec.eventSources[1].namespace in body should be at least 1 chars long",
            id="source-namespace-min-length",
        ),
        pytest.param(
            edited(ALERT, "eventSources.1.namespace", "n" * 254),
            "spec.eventSources[1].namespace: Too long: may not be more than 253 bytes",
            id="source-namespace-max-length",
        ),
    ],
)
def test_an_alert_breaking_an_enum_or_length_is_refused(
    cluster: store.MemoryCluster, version: str, spec: dict[str, Any], cause: str
) -> None:
    assert refused(cluster, manifest("Alert", "on-call", spec, version)) == invalid("Alert", "on-call", cause)


@pytest.mark.parametrize("version", VERSIONS)
def test_an_alert_with_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, version: str
) -> None:
    message = refused(cluster, manifest("Alert", "on-call", {**ALERT, "foo": "bar"}, version))

    assert message == (
        f'Alert in version "{version}" cannot be handled as a Alert: '
        'strict decoding error: unknown field "spec.foo"'
    )


def test_an_alert_spec_parses_with_its_defaults(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Alert", "on-call", ALERT, "v1beta3"), field_manager="kubectl")

    spec = declare.parse(notification.AlertSpec, stored(cluster, "Alert", "on-call")["spec"])

    assert spec.event_severity == "info"
    assert spec.provider_ref.name == "slack-bot"
    assert spec.event_sources[1] == notification.CrossNamespaceObjectReference(
        kind="Kustomization", name="apps", namespace="apps"
    )
    assert spec.event_metadata == {"cluster": "staging", "region": "eu-west-1"}
    assert spec.inclusion_list == ()
    assert spec.exclusion_list == ("^Dependencies do not meet",)
    assert spec.summary is None
    assert spec.suspend is False


# ---------------------------------------------------------------------------------------------
# Provider


PROVIDER = {
    "type": "slack",
    "channel": "deployments",
    "address": "https://slack.com/api/chat.postMessage",
    "secretRef": {"name": "slack-bot-token"},
    "timeout": "30s",
}
PROVIDER_TYPES = (
    '"slack", "discord", "msteams", "rocket", "generic", "generic-hmac", "github", "gitlab", "gitea", '
    '"giteapullrequestcomment", "bitbucketserver", "bitbucket", "azuredevops", "googlechat", '
    '"googlepubsub", "webex", "sentry", "azureeventhub", "telegram", "lark", "matrix", "opsgenie", '
    '"alertmanager", "grafana", "githubdispatch", "githubpullrequestcomment", '
    '"gitlabmergerequestcomment", "pagerduty", "datadog", "nats", "zulip", "otel", "zoom", "incident.io"'
)
COMMIT_STATUS_RULE = (
    "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', "
    "'bitbucket', 'azuredevops' provider types"
)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_provider_is_accepted_as_written_and_has_no_status(
    cluster: store.MemoryCluster, version: str
) -> None:
    cluster.create(manifest("Provider", "slack-bot", PROVIDER, version), field_manager="kubectl")

    got = stored(cluster, "Provider", "slack-bot")
    assert got["spec"] == PROVIDER
    assert "status" not in got


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(edited(PROVIDER, "type"), "spec.type", id="type"),
        pytest.param(edited(PROVIDER, "secretRef.name"), "spec.secretRef.name", id="secret-name"),
        pytest.param({**PROVIDER, "certSecretRef": {}}, "spec.certSecretRef.name", id="cert-secret-name"),
        pytest.param({**PROVIDER, "proxySecretRef": {}}, "spec.proxySecretRef.name", id="proxy-secret-name"),
    ],
)
def test_a_provider_missing_a_required_field_is_refused_and_its_rule_left_unchecked(
    cluster: store.MemoryCluster, version: str, spec: dict[str, Any], path: str
) -> None:
    message = refused(cluster, manifest("Provider", "slack-bot", spec, version))

    assert message == invalid("Provider", "slack-bot", f"{path}: Required value", BLOCKED)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        pytest.param(
            {**PROVIDER, "type": "foo"},
            f'spec.type: Unsupported value: "foo": supported values: {PROVIDER_TYPES}',
            id="type-enum",
        ),
        pytest.param(
            {**PROVIDER, "address": "a" * 2049},
            "spec.address: Too long: may not be more than 2048 bytes",
            id="address-max-length",
        ),
        pytest.param(
            {**PROVIDER, "channel": "c" * 2049},
            "spec.channel: Too long: may not be more than 2048 bytes",
            id="channel-max-length",
        ),
        pytest.param(
            {**PROVIDER, "username": "u" * 2049},
            "spec.username: Too long: may not be more than 2048 bytes",
            id="username-max-length",
        ),
        pytest.param(
            {**PROVIDER, "proxy": "https://" + "p" * 2041},
            "spec.proxy: Too long: may not be more than 2048 bytes",
            id="proxy-max-length",
        ),
    ],
)
def test_a_provider_breaking_an_enum_or_maximum_is_refused_and_its_rule_left_unchecked(
    cluster: store.MemoryCluster, version: str, spec: dict[str, Any], cause: str
) -> None:
    message = refused(cluster, manifest("Provider", "slack-bot", spec, version))

    assert message == invalid("Provider", "slack-bot", cause, BLOCKED)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        pytest.param(
            {**PROVIDER, "interval": "5"},
            f"spec.interval: Invalid value: \"5\": spec.interval in body should match '{DURATION}'",
            id="interval-pattern",
        ),
        pytest.param(
            {**PROVIDER, "timeout": "1h"},
            'spec.timeout: Invalid value: "1h": spec.timeout in body should match '
            r"'^([0-9]+(\.[0-9]+)?(ms|s|m))+$'",
            id="timeout-pattern",
        ),
        pytest.param(
            {**PROVIDER, "proxy": "socks5://proxy:1080"},
            'spec.proxy: Invalid value: "socks5://proxy:1080": spec.proxy in body should match '
            "'^(http|https)://.*$'",
            id="proxy-pattern",
        ),
    ],
)
def test_a_provider_breaking_a_pattern_is_refused(
    cluster: store.MemoryCluster, version: str, spec: dict[str, Any], cause: str
) -> None:
    message = refused(cluster, manifest("Provider", "slack-bot", spec, version))

    assert message == invalid("Provider", "slack-bot", cause)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_provider_with_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, version: str
) -> None:
    message = refused(cluster, manifest("Provider", "slack-bot", {**PROVIDER, "foo": "bar"}, version))

    assert message == (
        f'Provider in version "{version}" cannot be handled as a Provider: strict decoding error: '
        'unknown field "spec.foo"'
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_a_commit_status_expression_on_a_chat_provider_is_refused(
    cluster: store.MemoryCluster, version: str
) -> None:
    spec = {**PROVIDER, "commitStatusExpr": "event.metadata.summary"}

    message = refused(cluster, manifest("Provider", "slack-bot", spec, version))

    assert message == invalid("Provider", "slack-bot", f"spec: Invalid value: {COMMIT_STATUS_RULE}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "git_host", ["github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops"]
)
def test_a_commit_status_expression_on_a_git_host_provider_is_accepted(
    cluster: store.MemoryCluster, version: str, git_host: str
) -> None:
    spec = {
        "type": git_host,
        "address": "https://git.example.com/org/app",
        "secretRef": {"name": "git-token"},
        "commitStatusExpr": "(provider.metadata.name + '/' + event.reason).lowerAscii()",
    }

    created = cluster.create(manifest("Provider", "commit-status", spec, version), field_manager="kubectl")

    assert created["spec"] == spec


def test_a_provider_spec_parses_with_its_absent_fields_empty(cluster: store.MemoryCluster) -> None:
    cluster.create(manifest("Provider", "slack-bot", PROVIDER), field_manager="kubectl")

    spec = declare.parse(notification.ProviderSpec, stored(cluster, "Provider", "slack-bot")["spec"])

    assert spec.type == "slack"
    assert spec.channel == "deployments"
    assert spec.timeout == "30s"
    assert spec.secret_ref == meta.LocalObjectReference(name="slack-bot-token")
    assert spec.interval is None
    assert spec.cert_secret_ref is None
    assert spec.suspend is False


# ---------------------------------------------------------------------------------------------
# Versions


@pytest.mark.parametrize("kind", [notification.ALERT, notification.PROVIDER], ids=lambda k: k.kind)
def test_alert_and_provider_are_stored_in_v1_and_v1beta3_is_deprecated(kind: declare.Kind) -> None:
    versions = {v["name"]: v for v in crds.manifest(kind)["spec"]["versions"]}

    assert versions["v1"]["storage"] is True
    assert "deprecated" not in versions["v1"]
    assert versions["v1beta3"]["storage"] is False
    assert versions["v1beta3"]["deprecated"] is True
    assert versions["v1beta3"]["deprecationWarning"] == f"v1beta3 {kind.kind} is deprecated, upgrade to v1"
    assert versions["v1"]["schema"] == versions["v1beta3"]["schema"]


def test_the_receiver_is_served_in_v1_only() -> None:
    versions = crds.manifest(notification.RECEIVER)["spec"]["versions"]

    assert [(v["name"], v["storage"], v["subresources"]) for v in versions] == [("v1", True, {"status": {}})]
