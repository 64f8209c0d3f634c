"""Routing an event to Alerts: notification-controller's event server, minus HTTP.

What it does: the rules the event server applies to a posted `Event`, as pure functions.
- `cleanup_metadata` keeps only the metadata under the involved object's group or
  `event.toolkit.fluxcd.io`, minus the object's `checksum` and `digest` (the server's middleware);
  `exclude_internal_metadata` then removes the object's `token`; `cleanup` does both.
- `event_key` is the rate limiter's key, and `RateLimiter` the limiter: one token per key per
  interval (`--rate-limit-interval`, 5m), so an identical event inside the window is refused (429).
  The key reads `<group>/token`, so it is computed between the two clean-ups: on
  `cleanup_metadata(event)` (or the raw event: the key is the same), never on `cleanup(event)`.
- `alerts_for` picks the Alerts an event goes to (suspend, eventSources, severity, matchLabels,
  inclusion and exclusion regexps), with the Warning events Flux records on the Alerts on the way.
- `notification_for` decides, for one matched Alert and its Provider, whether a notification is
  sent (and with which event and commit status) or dropped, and why, in Flux's words.

The provider-type lists Flux routes by are `COMMIT_STATUS_PROVIDERS`, `GENERIC_PROVIDERS` and
`CHANGE_REQUEST_PROVIDERS`.

Provenance: fluxcd/notification-controller internal/server/event_server.go (`cleanupMetadata`,
`eventKeyFunc`, the middleware order), event_handlers.go (`handleEvent`, `filterAlertsForEvent`,
`eventMatchesAlertSource(s)`, `messageIsIncluded/Excluded`, `getNotificationParams`,
`combineEventMetadata`, `excludeInternalMetadata`, `createCommitStatus`), provider_commit_status.go
(`generateDefaultCommitStatus`, `newCommitStatus`, the provider and event predicates),
provider_change_request.go, main.go (the limiter's store); the limiter's arithmetic is
sethvargo/go-limiter's memorystore; fluxcd/pkg apis/event/v1beta1 (metadata keys) and
runtime/cel (`EvaluateString`'s errors). Our own code.

Callers: the notification-controller simulation (it lists Alerts, reads Providers, records the
returned Warning events on the Alerts, and sends through the providers' library). Pure: no cluster,
no clock (the caller passes `now_ms`), no HTTP. It must never post anything, read a Secret or put
a secret in a message.

Deliberate differences from Flux:
- No glob names: Flux matches an event source by `*` or the exact name, and so do we. Flux also
  checks `matchLabels` when the name is not `*` (the API doc says it needs `*`, the server does
  not enforce it); we do as the server does.
- Logs are returned as strings (`Decision.log`, `Routing.log`), not written.
- The limiter's store is swept (entries unused for two intervals forgotten) when a key is next
  taken, not on Flux's background ticker: whether an event passes is the same either way, but
  after a sweep the next window starts at the new event instead of staying aligned with the
  first one. Flux's phase depends on when its ticker fires, which a simulation cannot know.
- `commitStatusExpr` runs on `model.cel` (a CEL implementation that is not cel-go): core CEL
  works; cel-go's string/set/encoder extensions (`lowerAscii`, `split`, ...) that Flux enables are
  missing and fail with the evaluator's message; the output type is checked on the value (Flux's
  `failed to evaluate CEL expression as string`), not at compile time. `alert` and `provider` are
  `{metadata: {name, namespace[, uid]}, spec}` only (no labels, annotations or other metadata).
- Building the notifier (`createNotifier`: Secrets, proxy, TLS) is the providers' library's, so
  its errors are not decided here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from gitops_sim.model import cel, goregexp
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import notification as api
from gitops_sim.notification import event as ev

RATE_LIMIT_INTERVAL_MS = 5 * 60 * 1000
"""`--rate-limit-interval`'s default, 5m."""

COMMIT_STATUS_PROVIDERS = frozenset(
    {"github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops"}
)
"""`isCommitStatusProvider`: the git hosts that set commit statuses."""

GENERIC_PROVIDERS = frozenset({"generic", "generic-hmac"})
"""`isGenericProvider`: webhooks that receive the event as it is, commit status updates too."""

CHANGE_REQUEST_PROVIDERS = frozenset(
    {"githubpullrequestcomment", "gitlabmergerequestcomment", "giteapullrequestcomment"}
)
"""`isChangeRequestProvider`: comments on a pull or merge request."""

INVALID_CONFIG = "InvalidConfig"
SOURCE_FETCH_FAILED = "SourceFetchFailed"
METADATA_APPEND_FAILED = "MetadataAppendFailed"
NOTIFICATION_DISPATCH_FAILED = "NotificationDispatchFailed"

METADATA_CONFLICT_MESSAGE = (
    "metadata key conflicts detected "
    "(please refer to the Alert API docs and Flux RFC 0008 for more information)"
)
SUMMARY_DEPRECATED_LOG = (
    "warning: specifying an alert summary with '.spec.summary' is deprecated, "
    "use '.spec.eventMetadata.summary' instead"
)
DROPPED_COMMIT_STATUS_LOG = "event dropped for commit status providers due to missing commit metadata key"
DROPPED_CHANGE_REQUEST_LOG = (
    "event dropped for change request providers due to missing change request metadata key"
)
NO_ALERTS_LOG = "discarding event, no alerts found for the involved object"
RATE_LIMITED_LOG = "Discarding event, rate limiting duplicate events"

_EVENT_GROUP_PREFIX = ev.GROUP + "/"

# The metadata sources `combineEventMetadata` names in its conflict annotations, lowest first.
_FROM_EVENT_GROUP = "involved object annotations"
_FROM_ALERT_METADATA = "Alert object .spec.eventMetadata"
_FROM_ALERT_SUMMARY = "Alert object .spec.summary"
_FROM_OBJECT_GROUP = "involved object controller metadata"


@dataclass(frozen=True, slots=True)
class Alert:
    """An Alert as the server lists it: where it lives and its spec."""

    namespace: str
    name: str
    spec: api.AlertSpec


@dataclass(frozen=True, slots=True)
class Provider:
    """The Provider an Alert names (in the Alert's namespace); `uid` names default commit statuses."""

    namespace: str
    name: str
    uid: str
    spec: api.ProviderSpec


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A Kubernetes Warning event the server records on an Alert (`Eventf`/`AnnotatedEventf`)."""

    namespace: str
    name: str
    reason: str
    message: str
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def on(cls, alert: Alert, reason: str, message: str, annotations: Mapping[str, str] = {}) -> AlertEvent:
        return cls(alert.namespace, alert.name, reason, message, dict(annotations))


@dataclass(frozen=True, slots=True)
class Routing:
    """`filterAlertsForEvent`'s answer: the Alerts the event goes to, in list order, and the
    Warning events recorded on Alerts (matched or not) on the way, in the order Flux records them."""

    matches: tuple[Alert, ...]
    events: tuple[AlertEvent, ...] = ()
    log: tuple[str, ...] = ()


Outcome = Literal["send", "drop", "error"]
Dropped = Literal["", "commitStatus", "changeRequest"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What the server does with one (event, Alert) pair.

    `send`: post `event` (its metadata combined) through the Provider, with `commit_status` for
    the git hosts. `drop`: nothing is sent; `why` says why (Flux logs only the `dropped` cases,
    once per event over all Alerts: see `dropped_logs`). `error`: nothing is sent, and `events`
    holds the `NotificationDispatchFailed` Warning recorded on the Alert. `events` also holds the
    `MetadataAppendFailed` Warning when the metadata had conflicts.
    """

    outcome: Outcome
    why: str = ""
    event: ev.Event | None = None
    commit_status: str = ""
    dropped: Dropped = ""
    events: tuple[AlertEvent, ...] = ()
    log: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Predicates


def is_commit_status_provider(provider_type: str) -> bool:
    return provider_type in COMMIT_STATUS_PROVIDERS


def is_generic_provider(provider_type: str) -> bool:
    return provider_type in GENERIC_PROVIDERS


def is_change_request_provider(provider_type: str) -> bool:
    return provider_type in CHANGE_REQUEST_PROVIDERS


def is_commit_status_update(event: ev.Event) -> bool:
    """`<object group>/commit_status` is `update`."""
    return event.meta(ev.META_COMMIT_STATUS_KEY) == ev.META_COMMIT_STATUS_UPDATE_VALUE


def has_commit_key(event: ev.Event) -> bool:
    """A non-empty `event.toolkit.fluxcd.io/commit` (the event group's key, not the object's)."""
    return bool(event.metadata.get(_EVENT_GROUP_PREFIX + ev.META_COMMIT_KEY))


def has_change_request_key(event: ev.Event) -> bool:
    """A non-empty `event.toolkit.fluxcd.io/change_request`."""
    return bool(event.metadata.get(_EVENT_GROUP_PREFIX + ev.META_CHANGE_REQUEST_KEY))


def involved_object_string(event: ev.Event) -> str:
    """`Kind/namespace/name`, as Flux names the involved object in messages."""
    ref = event.involved_object
    return f"{ref.kind}/{ref.namespace}/{ref.name}"


# ---------------------------------------------------------------------------------------------
# Clean-up and rate limiting


def cleanup_metadata(event: ev.Event) -> ev.Event:
    """`cleanupMetadata`: keep the keys under `event.toolkit.fluxcd.io/` or the object's group,
    but not the object's `checksum` and `digest` (compared case-insensitively, as Flux does)."""
    object_prefix = event.involved_object.group + "/"
    excluded = {f"{object_prefix}{key}".casefold() for key in (ev.META_CHECKSUM_KEY, ev.META_DIGEST_KEY)}
    kept = {
        key: value
        for key, value in event.metadata.items()
        if key.casefold() not in excluded
        and (key.startswith(_EVENT_GROUP_PREFIX) or key.startswith(object_prefix))
    }
    return replace(event, metadata=kept)


def exclude_internal_metadata(event: ev.Event) -> ev.Event:
    """`excludeInternalMetadata`: drop `<object group>/token` before routing."""
    token_key = f"{event.involved_object.group}/{ev.META_TOKEN_KEY}"
    if token_key not in event.metadata:
        return event
    return replace(event, metadata={k: v for k, v in event.metadata.items() if k != token_key})


def cleanup(event: ev.Event) -> ev.Event:
    """What the server does to an event before routing it: both clean-ups."""
    return exclude_internal_metadata(cleanup_metadata(event))


def event_key(event: ev.Event) -> str:
    """`eventKeyFunc`: hex sha256 of `event/name=…/namespace=…/kind=…/message=…`, followed by
    `/originRevision=…`, `/revision=…` and `/token=…` for those of the object's group's keys the
    event has. Severity, reason and time are not part of it."""
    ref = event.involved_object
    parts = ["event", f"name={ref.name}", f"namespace={ref.namespace}", f"kind={ref.kind}"]
    parts.append(f"message={event.message}")
    for key in (ev.META_ORIGIN_REVISION_KEY, ev.META_REVISION_KEY, ev.META_TOKEN_KEY):
        value = event.meta(key)
        if value is not None:
            parts.append(f"{key}={value}")
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Bucket:
    start_ms: int
    last_tick: int
    available: bool


class RateLimiter:
    """The event server's limiter: go-limiter's memorystore with one token per interval per key.

    A key's bucket starts at its first event; time is cut into fixed windows of `interval_ms` from
    there, and each window has one token. The first event of a window passes, the others are
    refused (Flux answers 429 and logs `RATE_LIMITED_LOG`). A refused event takes nothing: the
    next window passes the next event whatever came before. A bucket not used for two intervals
    is forgotten (see the module docstring), and the next event starts a new one.
    """

    __slots__ = ("_buckets", "interval_ms")

    def __init__(self, interval_ms: int = RATE_LIMIT_INTERVAL_MS) -> None:
        if interval_ms <= 0:
            raise ValueError(f"rate limit interval must be positive, got {interval_ms}ms")
        self.interval_ms = interval_ms
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str, now_ms: int) -> bool:
        """Take the key's token at `now_ms`: True when the event passes."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            last_used = bucket.start_ms + bucket.last_tick * self.interval_ms
            if now_ms - last_used > 2 * self.interval_ms:
                bucket = None
        if bucket is None:
            bucket = _Bucket(start_ms=now_ms, last_tick=0, available=True)
        tick = (now_ms - bucket.start_ms) // self.interval_ms
        if bucket.last_tick < tick:
            bucket = replace(bucket, last_tick=tick, available=True)
        allowed = bucket.available
        self._buckets[key] = replace(bucket, available=False)
        return allowed

    def __repr__(self) -> str:
        return f"RateLimiter(interval_ms={self.interval_ms}, keys={len(self._buckets)})"


# ---------------------------------------------------------------------------------------------
# Which Alerts


LabelsOf = Callable[[ev.ObjectReference], Mapping[str, str] | None]
"""The involved object's labels, or None when it cannot be read (it does not exist)."""

_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _valid_label_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and _LABEL_NAME.fullmatch(name) is not None


def _valid_label_value(value: str) -> bool:
    return len(value) <= 63 and _LABEL_NAME.fullmatch(value) is not None


def _matches_source(
    event: ev.Event,
    alert: Alert,
    source: api.CrossNamespaceObjectReference,
    labels_of: LabelsOf,
    events: list[AlertEvent],
) -> bool:
    """`eventMatchesAlertSource`, the source's namespace defaulting to the Alert's."""
    ref = event.involved_object
    namespace = source.namespace or alert.namespace
    if ref.namespace != namespace or ref.kind != source.kind:
        return False
    severity = alert.spec.event_severity
    if event.severity != severity and severity != ev.INFO:
        return False
    if source.name != "*" and source.name != ref.name:
        return False
    if source.match_labels is None:
        return True
    labels = labels_of(ref)
    if labels is None:
        message = f"error getting source object {involved_object_string(event)}"
        events.append(AlertEvent.on(alert, SOURCE_FETCH_FAILED, message))
        return False
    selector = source.match_labels
    if not all(_valid_label_key(k) and _valid_label_value(v) for k, v in selector.items()):
        where = f"{source.kind}/{namespace}/{source.name}"
        events.append(
            AlertEvent.on(alert, INVALID_CONFIG, f"error using matchLabels from event source {where}")
        )
        return False
    return all(labels.get(k) == v for k, v in selector.items())


def _message_matches(
    which: Literal["inclusion", "exclusion"],
    expressions: Iterable[str],
    message: str,
    alert: Alert,
    events: list[AlertEvent],
) -> bool:
    """True at the first expression that matches; those that do not compile are reported (only
    the ones tried before a match, as Flux stops there) and skipped."""
    for expression in expressions:
        try:
            compiled = goregexp.compile_go(expression)
        except goregexp.GoRegexpError:
            reason = f"failed to compile {which} regex: {expression}"
            events.append(AlertEvent.on(alert, INVALID_CONFIG, reason))
            continue
        if compiled.search(message) is not None:
            return True
    return False


def alerts_for(event: ev.Event, alerts: Iterable[Alert], labels_of: LabelsOf) -> Routing:
    """`filterAlertsForEvent` over `alerts` (in the order listed) for a cleaned-up event.

    An Alert matches when it is not suspended, one of its eventSources matches (same namespace,
    the Alert's when the source has none; same kind; the severity passes: `info` takes info and
    error, `error` only error; name `*` or the same name; `matchLabels`, when set, all carried by
    the object `labels_of` reads), its inclusionList is empty or one of its Go regexps matches the
    message, and none of its exclusionList does.
    """
    matches: list[Alert] = []
    events: list[AlertEvent] = []
    for alert in alerts:
        if alert.spec.suspend:
            continue
        if not any(_matches_source(event, alert, s, labels_of, events) for s in alert.spec.event_sources):
            continue
        inclusions = alert.spec.inclusion_list
        if inclusions and not _message_matches("inclusion", inclusions, event.message, alert, events):
            continue
        if _message_matches("exclusion", alert.spec.exclusion_list, event.message, alert, events):
            continue
        matches.append(alert)
    return Routing(tuple(matches), tuple(events), () if matches else (NO_ALERTS_LOG,))


# ---------------------------------------------------------------------------------------------
# One notification


def combine_metadata(
    event: ev.Event, alert: Alert
) -> tuple[ev.Event, tuple[AlertEvent, ...], tuple[str, ...]]:
    """`combineEventMetadata` (RFC 0008): the event with its metadata rebuilt, lowest first, from
    `event.toolkit.fluxcd.io/*` (prefix stripped), the Alert's eventMetadata, its summary (as
    `summary`), then the object group's keys (prefix stripped). A key given by more than one source
    yields one `MetadataAppendFailed` Warning annotated with each key's sources; the later source
    wins. When nothing is combined the event keeps its metadata."""
    metadata: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    log: list[str] = []

    def put(key: str, value: str, source: str) -> None:
        metadata[key] = value
        sources.setdefault(key, []).append(source)

    for key, value in event.metadata.items():
        if key.startswith(_EVENT_GROUP_PREFIX):
            put(key.removeprefix(_EVENT_GROUP_PREFIX), value, _FROM_EVENT_GROUP)
    for key, value in (alert.spec.event_metadata or {}).items():
        put(key, value, _FROM_ALERT_METADATA)
    if alert.spec.summary:
        put("summary", alert.spec.summary, _FROM_ALERT_SUMMARY)
        log.append(SUMMARY_DEPRECATED_LOG)
    object_prefix = event.involved_object.group + "/"
    for key, value in event.metadata.items():
        if key.startswith(object_prefix):
            put(key.removeprefix(object_prefix), value, _FROM_OBJECT_GROUP)

    conflicts = {key: ", ".join(names) for key, names in sorted(sources.items()) if len(names) > 1}
    events: tuple[AlertEvent, ...] = ()
    if conflicts:
        log.append(f"warning: {METADATA_CONFLICT_MESSAGE} conflictingKeys={sorted(conflicts)}")
        events = (AlertEvent.on(alert, METADATA_APPEND_FAILED, METADATA_CONFLICT_MESSAGE, conflicts),)
    combined = replace(event, metadata=metadata) if metadata else event
    return combined, events, tuple(log)


def default_commit_status(provider_uid: str, event: ev.Event) -> str:
    """`generateDefaultCommitStatus`: `<kind>/<name>/<first dash-separated part of the Provider's
    UID>`, lower-cased (unique per cluster, stable across reconciliations)."""
    ref = event.involved_object
    return f"{ref.kind}/{ref.name}/{provider_uid.split('-')[0]}".lower()


class CommitStatusError(ValueError):
    """`spec.commitStatusExpr` did not give a string (the message is Flux's)."""


def _omit_empty(value: Any) -> Any:
    """A spec's JSON as Go's `omitempty` writes it (no false, "", empty lists or maps)."""
    if isinstance(value, dict):
        return {k: _omit_empty(v) for k, v in value.items() if v not in (False, "", [], {}, None)}
    if isinstance(value, list):
        return [_omit_empty(v) for v in value]
    return value


def _object_map(namespace: str, name: str, uid: str, spec: object) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace} | ({"uid": uid} if uid else {})
    return {"metadata": metadata, "spec": _omit_empty(declare.dump(spec))}


def commit_status(event: ev.Event, alert: Alert, provider: Provider) -> str:
    """`createCommitStatus`: "" for a Provider that is not a git host; else the value of
    `commitStatusExpr` over `event`, `alert` and `provider`, or the default. Raises
    `CommitStatusError` with Flux's words when the expression fails."""
    if not is_commit_status_provider(provider.spec.type):
        return ""
    source = provider.spec.commit_status_expr
    if not source:
        return default_commit_status(provider.uid, event)
    failed = "failed to evaluate the spec.commitStatusExpr CEL expression for the event"
    try:
        cel.Expression.parse(source)
    except cel.CelError as exc:
        raise CommitStatusError(f"{failed}: failed to compile expression: {exc}") from exc
    variables = {
        "event": event.to_json(),
        "alert": _object_map(alert.namespace, alert.name, "", alert.spec),
        "provider": _object_map(provider.namespace, provider.name, provider.uid, provider.spec),
    }
    try:
        value = cel.run(source, variables)
    except cel.CelError as exc:
        raise CommitStatusError(f"{failed}: failed to evaluate the CEL expression '{source}': {exc}") from exc
    if not isinstance(value, str):
        raise CommitStatusError(f"{failed}: failed to evaluate CEL expression as string: '{source}'")
    return value


def _failed(
    event: ev.Event,
    alert: Alert,
    error: str,
    events: tuple[AlertEvent, ...] = (),
    log: tuple[str, ...] = (),
) -> Decision:
    """An error: the `NotificationDispatchFailed` Warning recorded on the Alert, after `events`."""
    message = f"failed to dispatch notification for {involved_object_string(event)}: {error}"
    dispatch_failed = AlertEvent.on(alert, NOTIFICATION_DISPATCH_FAILED, message)
    log = (*log, f"failed to dispatch notification: {error}")
    return Decision("error", why=error, events=(*events, dispatch_failed), log=log)


def notification_for(
    event: ev.Event,
    alert: Alert,
    provider: Provider | None,
    *,
    no_cross_namespace_refs: bool = False,
    object_level_workload_identity: bool = False,
) -> Decision:
    """`getNotificationParams` for a cleaned-up event and one matched Alert.

    `provider` is the Provider the Alert names, None when it cannot be read. The options are the
    controller's `--no-cross-namespace-refs` and the `ObjectLevelWorkloadIdentity` feature gate,
    both off by default as in Flux. The checks, in Flux's order: a cross-namespace event when
    refused, the Provider missing (errors), the Provider suspended, a commit status update for a
    Provider that neither sets commit statuses nor is generic, a git host and an event that is
    neither a commit status update, nor carries `event.toolkit.fluxcd.io/commit`, nor is an error,
    a change-request Provider and an event without `event.toolkit.fluxcd.io/change_request`
    (drops), `serviceAccountName` without the feature gate (error); then the metadata is combined
    and the commit status computed.
    """
    if no_cross_namespace_refs and event.involved_object.namespace != alert.namespace:
        denied = (
            f"alert '{alert.namespace}/{alert.name}' can't process event from "
            f"'{involved_object_string(event)}', cross-namespace references have been blocked"
        )
        return _failed(event, alert, f"discarding event, access denied to cross-namespace sources: {denied}")
    if provider is None:
        missing = f'{api.PROVIDER.plural}.{api.GROUP} "{alert.spec.provider_ref.name}" not found'
        return _failed(event, alert, f"failed to read provider: {missing}")
    kind = provider.spec.type
    if provider.spec.suspend:
        return Decision("drop", why="the provider is suspended")
    if (
        not is_commit_status_provider(kind)
        and not is_generic_provider(kind)
        and is_commit_status_update(event)
    ):
        return Decision("drop", why=f"a commit status update is not sent to a '{kind}' provider")
    if (
        is_commit_status_provider(kind)
        and not has_commit_key(event)
        and not is_commit_status_update(event)
        and event.severity != ev.ERROR
    ):
        return Decision("drop", why=DROPPED_COMMIT_STATUS_LOG, dropped="commitStatus")
    if is_change_request_provider(kind) and not has_change_request_key(event):
        return Decision("drop", why=DROPPED_CHANGE_REQUEST_LOG, dropped="changeRequest")
    if provider.spec.service_account_name and not object_level_workload_identity:
        return _failed(
            event,
            alert,
            "to use spec.serviceAccountName for provider authentication please enable the "
            "ObjectLevelWorkloadIdentity feature gate in the controller",
        )
    notification, events, log = combine_metadata(event, alert)
    try:
        status = commit_status(notification, alert, provider)
    except CommitStatusError as exc:
        return _failed(event, alert, f"failed to create commit status: {exc}", events, log)
    return Decision("send", event=notification, commit_status=status, events=events, log=log)


def dropped_logs(decisions: Iterable[tuple[Alert, Decision]]) -> tuple[str, ...]:
    """The lines `handleEvent` logs once per event for the Alerts whose git-host or change-request
    Provider dropped it: the message and the `namespace/name` of those Alerts."""
    pairs = list(decisions)
    out: list[str] = []
    for dropped, message in (
        ("commitStatus", DROPPED_COMMIT_STATUS_LOG),
        ("changeRequest", DROPPED_CHANGE_REQUEST_LOG),
    ):
        names = [
            f"{alert.namespace}/{alert.name}" for alert, decision in pairs if decision.dropped == dropped
        ]
        if names:
            out.append(f"{message} alerts={names}")
    return tuple(out)
