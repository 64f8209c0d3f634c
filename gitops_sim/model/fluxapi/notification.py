"""The notification.toolkit.fluxcd.io API: Receiver, Alert and Provider, as typed declarations.

Declares the kinds the notification-controller serves in Flux 2.10: Receiver v1 (incoming
webhooks that ask Flux objects to reconcile), and Alert and Provider (outgoing events: which
events to forward, and where to) in v1, the storage version, and v1beta3, still served but
deprecated.

Provenance: fluxcd/notification-controller api/v1/receiver_types.go, api/v1/reference_types.go,
api/v1beta3/alert_types.go, api/v1beta3/provider_types.go and the CRDs generated from them
(config/crd/bases/notification.toolkit.fluxcd.io_{receivers,alerts,providers}.yaml); docs/spec
for the meaning of the fields. Field names, markers, defaults and CEL rules are Flux's; the
descriptions are our own words.

Assumption about Alert and Provider v1: Flux 2.10 promoted Alert and Provider to v1 (the storage
version) and still serves v1beta3. The notification-controller sources we learned from predate
that promotion and have the two kinds in v1beta3 only. Flux promotes an API without changing
its types, so v1 here has exactly the v1beta3 schema (the same dataclasses serve both versions),
and v1beta3 is served with storage off and a deprecation warning worded as Flux worded the
previous one ("v1beta2 Alert is deprecated, upgrade to v1beta3").

Callers: the notification-controller simulation reads specs with `declare.parse`; `crds`
generates the CustomResourceDefinitions from `KINDS`. Pure declarations, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi.declare import f
from gitops_sim.model.fluxapi.meta import (
    CONDITIONS_DOC,
    DURATION,
    LAST_HANDLED_RECONCILE_AT_DOC,
    Condition,
    LocalObjectReference,
)

GROUP = "notification.toolkit.fluxcd.io"
COMPONENT = "notification-controller"
CATEGORIES = ("all", "fluxcd", "fluxcd-notifications")
ANNOTATIONS = {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}

# The kinds of Flux object an Alert may watch and a Receiver may trigger.
ObjectKind = Literal[
    "Bucket",
    "GitRepository",
    "Kustomization",
    "HelmRelease",
    "HelmChart",
    "HelmRepository",
    "ImageRepository",
    "ImagePolicy",
    "ImageUpdateAutomation",
    "OCIRepository",
    "ArtifactGenerator",
    "ExternalArtifact",
]

_API_VERSION_DOC = "API version of the referenced objects; any served version when omitted."
_KIND_DOC = "Kind of the referenced objects."
_MATCH_LABELS_DOC = (
    "Labels the referenced objects must all carry; only allowed when name is `*`, and then "
    "only the matching objects are selected."
)
_NAME_DOC = "Name of the referenced object, or `*` for every object of the kind in the namespace."
_NAMESPACE_DOC = "Namespace of the referenced objects; the referrer's when omitted."


# ---------------------------------------------------------------------------------------------
# Shared references


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossNamespaceObjectReference:
    """Flux objects of one kind, named (or all of them with `*`), in any namespace."""

    api_version: str | None = f(_API_VERSION_DOC, empty=None)
    kind: ObjectKind = f(_KIND_DOC)
    match_labels: dict[str, str] | None = f(_MATCH_LABELS_DOC, empty=None)
    name: str = f(_NAME_DOC, max_length=253, min_length=1)
    namespace: str | None = f(_NAMESPACE_DOC, empty=None, max_length=253, min_length=1)


# ---------------------------------------------------------------------------------------------
# Receiver v1


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiverResource:
    """Flux objects a webhook asks to reconcile, optionally narrowed by a CEL filter."""

    api_version: str | None = f(_API_VERSION_DOC, empty=None)
    filter: str | None = f(
        "A CEL expression over `res` (the object's metadata), `req` (the webhook body) and, for "
        "generic-oidc, `claims`; only objects for which it (and resourceFilter) is true reconcile.",
        empty=None,
    )
    kind: ObjectKind = f(_KIND_DOC)
    match_labels: dict[str, str] | None = f(_MATCH_LABELS_DOC, empty=None)
    name: str = f(_NAME_DOC, max_length=253, min_length=1)
    namespace: str | None = f(_NAMESPACE_DOC, empty=None, max_length=253, min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class OIDCValidation:
    """A CEL check of a caller's OIDC token, with the message returned when it fails."""

    expression: str = f("A CEL expression over `claims` and `vars` that must be true.")
    message: str = f("What the caller is told when the expression is false.")


@dataclass(frozen=True, slots=True, kw_only=True)
class OIDCVariable:
    """A named CEL expression over the token's claims, readable later as `vars.<name>`."""

    expression: str = f("The CEL expression whose value the variable holds.")
    name: str = f("The variable's name, a CEL identifier.")


@dataclass(frozen=True, slots=True, kw_only=True)
class OIDCProvider:
    """An OIDC issuer whose tokens a generic-oidc Receiver accepts, and the checks they must pass."""

    audience: str | None = f(
        "The audience (`aud` claim) the tokens must carry; `notification-controller` when omitted.",
        empty=None,
    )
    issuer_url: str = f(
        "The issuer's URL, used for discovery; it must equal the tokens' `iss` claim.",
        json="issuerURL",
        pattern="^https?://",
    )
    validations: tuple[OIDCValidation, ...] = f(
        "CEL checks of the token's claims, all of which must hold; at least one is needed, "
        "since a valid signature alone does not say who the caller is.",
        min_items=1,
    )
    variables: tuple[OIDCVariable, ...] = f(
        "Named CEL expressions evaluated in order before the validations, to share sub-expressions.",
        empty=tuple,
    )


@declare.rules(
    declare.Rule(
        "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",
        "generic-oidc receivers must define at least one oidcProvider",
    ),
    declare.Rule(
        "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",
        "oidcProviders can only be set when type is generic-oidc",
    ),
    declare.Rule(
        "self.type != 'generic-oidc' || !has(self.secretRef)",
        "secretRef cannot be set when type is generic-oidc",
    ),
    declare.Rule(
        "self.type == 'generic-oidc' || has(self.secretRef)",
        "secretRef is required when type is not generic-oidc",
    ),
)
@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiverSpec:
    """The webhook a Receiver accepts, how it is authenticated, and what it reconciles."""

    events: tuple[str, ...] = f(
        "The event types to act on (such as `push` for GitHub); every event when empty.",
        empty=tuple,
    )
    interval: str = f(
        "How often the Receiver's Secret references are checked again.",
        default="10m",
        pattern=DURATION,
    )
    oidc_providers: tuple[OIDCProvider, ...] = f(
        "The OIDC issuers a generic-oidc Receiver trusts; a token is verified by the one whose "
        "issuerURL matches its `iss` claim. Only for type generic-oidc.",
        empty=tuple,
        list_type="map",
        list_map_keys=("issuerURL",),
    )
    resource_filter: str | None = f(
        "A CEL expression over `res`, `req` and, for generic-oidc, `claims`, evaluated for every "
        "resource; only those for which it is true reconcile.",
        empty=None,
    )
    resources: tuple[ReceiverResource, ...] = f("The Flux objects a received webhook reconciles.")
    secret_ref: LocalObjectReference | None = f(
        "The Secret whose `token` authenticates the webhook (gcr also reads `email` and "
        "`audience`). Required for every type but generic-oidc, which must not set it.",
        empty=None,
    )
    suspend: bool = f("Whether incoming webhooks are ignored for now.", empty=False)
    type: Literal[
        "generic",
        "generic-hmac",
        "generic-oidc",
        "github",
        "gitlab",
        "bitbucket",
        "harbor",
        "dockerhub",
        "quay",
        "gcr",
        "nexus",
        "acr",
        "cdevents",
    ] = f("Who sends the webhook: decides how it is authenticated and how its body is read.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiverStatus:
    """What the notification-controller last observed of a Receiver."""

    conditions: tuple[Condition, ...] = f(CONDITIONS_DOC, empty=tuple)
    last_handled_reconcile_at: str | None = f(LAST_HANDLED_RECONCILE_AT_DOC, empty=None)
    observed_generation: int | None = f("The generation of the Receiver last reconciled.", empty=None)
    webhook_path: str | None = f(
        "The path the webhook is received at, `/hook/` and the sha256 of token, name and namespace.",
        empty=None,
    )


RECEIVER = declare.Kind(
    GROUP,
    "Receiver",
    "receivers",
    (),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1",
            "A Receiver accepts webhooks from Git hosts, registries and CI and asks the Flux "
            "objects it lists to reconcile at once.",
            ReceiverSpec,
            ReceiverStatus,
            (declare.AGE, declare.READY, declare.STATUS),
            storage=True,
            deprecation=None,
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# Alert v1 and v1beta3 (identical types)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertSpec:
    """Which events of which Flux objects an Alert forwards, and to which Provider."""

    event_metadata: dict[str, str] | None = f(
        "Extra metadata added to every forwarded event; a key the event already has keeps the event's value.",
        empty=None,
    )
    event_severity: Literal["info", "error"] = f(
        "The least severe events forwarded: `info` forwards all, `error` only errors.",
        default="info",
    )
    event_sources: tuple[CrossNamespaceObjectReference, ...] = f(
        "The Flux objects whose events are forwarded."
    )
    exclusion_list: tuple[str, ...] = f(
        "Go regular expressions; an event whose message matches one is dropped.", empty=tuple
    )
    inclusion_list: tuple[str, ...] = f(
        "Go regular expressions; when set, only events whose message matches one are forwarded.",
        empty=tuple,
    )
    provider_ref: LocalObjectReference = f("The Provider, in the same namespace, events are sent to.")
    summary: str | None = f(
        "A short account of the impact, added to events. Deprecated: use eventMetadata.",
        empty=None,
        max_length=255,
    )
    suspend: bool = f("Whether forwarding events is paused for now.", empty=False)


ALERT_DOC = "An Alert forwards the events of chosen Flux objects, filtered by severity, to a Provider."

ALERT = declare.Kind(
    GROUP,
    "Alert",
    "alerts",
    (),
    CATEGORIES,
    versions=(
        declare.Version("v1", ALERT_DOC, AlertSpec, None, (declare.AGE,), storage=True, deprecation=None),
        declare.Version(
            "v1beta3",
            ALERT_DOC,
            AlertSpec,
            None,
            (declare.AGE,),
            storage=False,
            deprecation="v1beta3 Alert is deprecated, upgrade to v1",
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


# ---------------------------------------------------------------------------------------------
# Provider v1 and v1beta3 (identical types)


@declare.rules(
    declare.Rule(
        "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || "
        "self.type == 'bitbucketserver' || self.type == 'bitbucket' || "
        "self.type == 'azuredevops' || !has(self.commitStatusExpr)",
        "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', "
        "'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
    )
)
@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderSpec:
    """Where a Provider sends events and how it encodes and authenticates them."""

    address: str | None = f(
        "Where events are sent: an HTTP/S address for most types, a project or namespace for some.",
        empty=None,
        max_length=2048,
    )
    cert_secret_ref: LocalObjectReference | None = f(
        "A Secret with TLS material: `ca.crt` to trust the server, `tls.crt` and `tls.key` "
        "for client authentication.",
        empty=None,
    )
    channel: str | None = f("The channel events are posted to.", empty=None, max_length=2048)
    commit_status_expr: str | None = f(
        "A CEL expression over `event`, `provider` and `alert` giving the commit status text; "
        "only for git-host types.",
        empty=None,
    )
    interval: str | None = f(
        "Deprecated and unused: Providers are not reconciled on a schedule.",
        empty=None,
        pattern=DURATION,
    )
    proxy: str | None = f(
        "An HTTP/S proxy address. Deprecated: use proxySecretRef.",
        empty=None,
        max_length=2048,
        pattern="^(http|https)://.*$",
    )
    proxy_secret_ref: LocalObjectReference | None = f(
        "A Secret with the proxy's `address` and, optionally, `username` and `password`.",
        empty=None,
    )
    secret_ref: LocalObjectReference | None = f(
        "A Secret with the credentials for the destination, such as a token, an address or headers.",
        empty=None,
    )
    service_account_name: str | None = f(
        "A ServiceAccount whose workload identity authenticates to the cloud (azureeventhub, "
        "azuredevops, googlepubsub); needs the ObjectLevelWorkloadIdentity feature gate.",
        empty=None,
    )
    suspend: bool = f("Whether sending events is paused for now.", empty=False)
    timeout: str | None = f(
        "How long sending one event may take; 15s when omitted.",
        empty=None,
        pattern=r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$",
    )
    type: Literal[
        "slack",
        "discord",
        "msteams",
        "rocket",
        "generic",
        "generic-hmac",
        "github",
        "gitlab",
        "gitea",
        "giteapullrequestcomment",
        "bitbucketserver",
        "bitbucket",
        "azuredevops",
        "googlechat",
        "googlepubsub",
        "webex",
        "sentry",
        "azureeventhub",
        "telegram",
        "lark",
        "matrix",
        "opsgenie",
        "alertmanager",
        "grafana",
        "githubdispatch",
        "githubpullrequestcomment",
        "gitlabmergerequestcomment",
        "pagerduty",
        "datadog",
        "nats",
        "zulip",
        "otel",
        "zoom",
        "incident.io",
    ] = f("The service events are sent to, which decides how they are encoded.")
    username: str | None = f("The name events are posted under.", empty=None, max_length=2048)


PROVIDER_DOC = (
    "A Provider is a destination for Alerts' events: a chat, a git host, an event bus or a webhook."
)

PROVIDER = declare.Kind(
    GROUP,
    "Provider",
    "providers",
    (),
    CATEGORIES,
    versions=(
        declare.Version(
            "v1", PROVIDER_DOC, ProviderSpec, None, (declare.AGE,), storage=True, deprecation=None
        ),
        declare.Version(
            "v1beta3",
            PROVIDER_DOC,
            ProviderSpec,
            None,
            (declare.AGE,),
            storage=False,
            deprecation="v1beta3 Provider is deprecated, upgrade to v1",
        ),
    ),
    component=COMPONENT,
    annotations=ANNOTATIONS,
)


KINDS: tuple[declare.Kind, ...] = (RECEIVER, ALERT, PROVIDER)
