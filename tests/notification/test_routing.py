"""The event server's routing: clean-up, the rate limiter's key and window, which Alerts an event
goes to, and what one (Alert, Provider) pair does with it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pytest

from gitops_sim.model.fluxapi import meta
from gitops_sim.model.fluxapi import notification as api
from gitops_sim.notification import event as ev
from gitops_sim.notification import routing

KS = "kustomize.toolkit.fluxcd.io"
MINUTE = 60_000


def make_event(
    kind: str = "Kustomization",
    name: str = "apps",
    namespace: str = "flux-system",
    severity: ev.Severity = "info",
    message: str = "Reconciliation finished",
    metadata: Mapping[str, str] | None = None,
    api_version: str = f"{KS}/v1",
) -> ev.Event:
    ref = ev.ObjectReference(kind=kind, namespace=namespace, name=name, api_version=api_version)
    return ev.Event(
        involved_object=ref,
        severity=severity,
        timestamp="2026-01-01T00:00:00Z",
        message=message,
        reason="ReconciliationSucceeded",
        reporting_controller="kustomize-controller",
        metadata=dict(metadata or {}),
    )


def source(
    kind: api.ObjectKind = "Kustomization", name: str = "*", **kw: Any
) -> api.CrossNamespaceObjectReference:
    return api.CrossNamespaceObjectReference(kind=kind, name=name, **kw)


def make_alert(
    name: str = "alert",
    *sources: api.CrossNamespaceObjectReference,
    namespace: str = "flux-system",
    **spec: Any,
) -> routing.Alert:
    spec_value = api.AlertSpec(
        event_sources=sources or (source(),), provider_ref=meta.LocalObjectReference(name="hook"), **spec
    )
    return routing.Alert(namespace, name, spec_value)


def make_provider(type_: str = "generic", uid: str = "0c9c2e41-aaaa-bbbb", **spec: Any) -> routing.Provider:
    return routing.Provider("flux-system", "hook", uid, api.ProviderSpec(type=type_, **spec))  # type: ignore[arg-type]


def no_labels(ref: ev.ObjectReference) -> Mapping[str, str] | None:
    return {}


def names(routed: routing.Routing) -> list[str]:
    return [alert.name for alert in routed.matches]


# ---------------------------------------------------------------------------------------------
# Which Alerts


ALERTS = (
    make_alert("all-kustomizations", source("Kustomization", "*")),
    make_alert("apps-only", source("Kustomization", "apps")),
    make_alert("git-only", source("GitRepository", "*")),
    make_alert("other-namespace", source("Kustomization", "*", namespace="team-a")),
    make_alert("errors-only", source("Kustomization", "*"), event_severity="error"),
    make_alert("suspended", source("Kustomization", "*"), suspend=True),
    make_alert("two-sources", source("GitRepository", "*"), source("Kustomization", "infra")),
)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(make_event(), ["all-kustomizations", "apps-only"], id="info-apps"),
        pytest.param(
            make_event(severity="error"), ["all-kustomizations", "apps-only", "errors-only"], id="error-apps"
        ),
        pytest.param(make_event(name="infra"), ["all-kustomizations", "two-sources"], id="second-source"),
        pytest.param(make_event(kind="GitRepository"), ["git-only", "two-sources"], id="other-kind"),
        pytest.param(make_event(namespace="team-a"), ["other-namespace"], id="named-namespace"),
        pytest.param(make_event(kind="HelmRelease"), [], id="no-alert"),
    ],
)
def test_an_event_goes_to_the_alerts_whose_sources_match_it(event: ev.Event, expected: list[str]) -> None:
    assert names(routing.alerts_for(event, ALERTS, no_labels)) == expected


@pytest.mark.parametrize(
    ("alert_severity", "event_severity", "forwarded"),
    [
        pytest.param("info", "info", True, id="info-takes-info"),
        pytest.param("info", "error", True, id="info-takes-error"),
        pytest.param("error", "error", True, id="error-takes-error"),
        pytest.param("error", "info", False, id="error-refuses-info"),
    ],
)
def test_an_info_alert_takes_every_event_and_an_error_alert_only_errors(
    alert_severity: str, event_severity: ev.Severity, forwarded: bool
) -> None:
    alert = make_alert("a", event_severity=alert_severity)
    routed = routing.alerts_for(make_event(severity=event_severity), [alert], no_labels)
    assert bool(routed.matches) is forwarded


def test_a_source_without_namespace_is_in_the_alerts_namespace() -> None:
    alert = make_alert("a", source("Kustomization", "apps"), namespace="team-a")
    assert names(routing.alerts_for(make_event(namespace="team-a"), [alert], no_labels)) == ["a"]
    assert names(routing.alerts_for(make_event(namespace="flux-system"), [alert], no_labels)) == []


@pytest.mark.parametrize(
    ("source_name", "matched"),
    [
        pytest.param("*", True, id="star"),
        pytest.param("apps", True, id="exact"),
        pytest.param("app*", False, id="no-glob"),
        pytest.param("Apps", False, id="case-sensitive"),
    ],
)
def test_a_source_name_is_a_star_or_the_exact_name_never_a_glob(source_name: str, matched: bool) -> None:
    alert = make_alert("a", source("Kustomization", source_name))
    assert bool(routing.alerts_for(make_event(name="apps"), [alert], no_labels).matches) is matched


@pytest.mark.parametrize(
    ("source_name", "labels", "matched"),
    [
        pytest.param("*", {"team": "a", "tier": "web"}, True, id="all-carried"),
        pytest.param("*", {"team": "b"}, False, id="other-value"),
        pytest.param("*", {}, False, id="unlabelled"),
        pytest.param("apps", {"team": "b"}, False, id="checked-with-a-name-too"),
        pytest.param("apps", {"team": "a"}, True, id="name-and-labels"),
    ],
)
def test_match_labels_select_the_involved_objects_that_carry_them(
    source_name: str, labels: dict[str, str], matched: bool
) -> None:
    alert = make_alert("a", source("Kustomization", source_name, match_labels={"team": "a"}))
    seen: list[ev.ObjectReference] = []

    def labels_of(ref: ev.ObjectReference) -> Mapping[str, str] | None:
        seen.append(ref)
        return labels

    routed = routing.alerts_for(make_event(), [alert], labels_of)
    assert bool(routed.matches) is matched
    assert seen == [make_event().involved_object]


def test_labels_are_not_read_when_the_source_has_none() -> None:
    def labels_of(ref: ev.ObjectReference) -> Mapping[str, str] | None:
        raise AssertionError("labels read")

    assert names(routing.alerts_for(make_event(), [make_alert("a")], labels_of)) == ["a"]


def test_empty_match_labels_still_need_the_object_to_exist() -> None:
    alert = make_alert("a", source(match_labels={}))
    assert names(routing.alerts_for(make_event(), [alert], no_labels)) == ["a"]
    assert names(routing.alerts_for(make_event(), [alert], lambda ref: None)) == []


def test_an_involved_object_that_cannot_be_read_is_no_match_and_a_warning_on_the_alert() -> None:
    alert = make_alert("a", source(match_labels={"team": "a"}))
    routed = routing.alerts_for(make_event(), [alert], lambda ref: None)
    assert routed.matches == ()
    assert routed.events == (
        routing.AlertEvent(
            "flux-system",
            "a",
            "SourceFetchFailed",
            "error getting source object Kustomization/flux-system/apps",
        ),
    )


def test_match_labels_that_are_not_a_selector_are_no_match_and_a_warning() -> None:
    alert = make_alert("a", source(match_labels={"bad key!": "a"}))
    routed = routing.alerts_for(make_event(), [alert], no_labels)
    assert routed.matches == ()
    assert [(e.reason, e.message) for e in routed.events] == [
        ("InvalidConfig", "error using matchLabels from event source Kustomization/flux-system/*")
    ]


@pytest.mark.parametrize(
    ("inclusions", "exclusions", "message", "forwarded"),
    [
        pytest.param((), (), "anything", True, id="no-lists"),
        pytest.param(("^Health",), (), "Health check passed", True, id="included"),
        pytest.param(("^Health",), (), "Reconciliation finished", False, id="not-included"),
        pytest.param(("nope", "passed"), (), "Health check passed", True, id="any-inclusion"),
        pytest.param((), ("passed",), "Health check passed", False, id="excluded-anywhere"),
        pytest.param(("Health",), ("passed$",), "Health check passed", False, id="exclusion-wins"),
        pytest.param((), ("^passed$",), "passed\n", True, id="go-dollar-is-end-of-text"),
        pytest.param((), (r"\Qa.b\E",), "axb", True, id="go-quoting"),
    ],
)
def test_the_message_must_match_an_inclusion_and_no_exclusion(
    inclusions: tuple[str, ...], exclusions: tuple[str, ...], message: str, forwarded: bool
) -> None:
    alert = make_alert("a", inclusion_list=inclusions, exclusion_list=exclusions)
    routed = routing.alerts_for(make_event(message=message), [alert], no_labels)
    assert bool(routed.matches) is forwarded
    assert routed.events == ()


def test_an_inclusion_that_does_not_compile_is_skipped_with_a_warning_on_the_alert() -> None:
    alert = make_alert("a", inclusion_list=("(unclosed", "passed"))
    routed = routing.alerts_for(make_event(message="Health check passed"), [alert], no_labels)
    assert names(routed) == ["a"]
    assert routed.events == (
        routing.AlertEvent(
            "flux-system", "a", "InvalidConfig", "failed to compile inclusion regex: (unclosed"
        ),
    )


def test_an_alert_whose_only_inclusion_does_not_compile_takes_nothing() -> None:
    alert = make_alert("a", inclusion_list=("(unclosed",))
    routed = routing.alerts_for(make_event(), [alert], no_labels)
    assert routed.matches == ()
    assert [e.message for e in routed.events] == ["failed to compile inclusion regex: (unclosed"]


def test_regexps_after_the_first_match_are_not_compiled_so_not_reported() -> None:
    alert = make_alert("a", inclusion_list=("passed", "(unclosed"))
    routed = routing.alerts_for(make_event(message="Health check passed"), [alert], no_labels)
    assert names(routed) == ["a"]
    assert routed.events == ()


def test_an_exclusion_that_does_not_compile_is_ignored_with_a_warning() -> None:
    alert = make_alert("a", exclusion_list=("[z-a]",))
    routed = routing.alerts_for(make_event(), [alert], no_labels)
    assert names(routed) == ["a"]
    assert [e.message for e in routed.events] == ["failed to compile exclusion regex: [z-a]"]


def test_no_matching_alert_is_logged_as_flux_does() -> None:
    routed = routing.alerts_for(make_event(kind="Bucket"), ALERTS, no_labels)
    assert routed.log == ("discarding event, no alerts found for the involved object",)


# ---------------------------------------------------------------------------------------------
# Clean-up


def test_cleanup_keeps_the_objects_group_and_the_event_group_but_not_checksum_digest_or_token() -> None:
    raw = make_event(
        metadata={
            f"{KS}/revision": "main@sha1:abc",
            f"{KS}/checksum": "c",
            f"{KS}/Digest": "sha256:d",
            f"{KS}/token": "t",
            "event.toolkit.fluxcd.io/commit": "abc",
            "source.toolkit.fluxcd.io/revision": "other group",
            "unprefixed": "x",
        }
    )
    assert routing.cleanup_metadata(raw).metadata == {
        f"{KS}/revision": "main@sha1:abc",
        f"{KS}/token": "t",
        "event.toolkit.fluxcd.io/commit": "abc",
    }
    assert routing.cleanup(raw).metadata == {
        f"{KS}/revision": "main@sha1:abc",
        "event.toolkit.fluxcd.io/commit": "abc",
    }


def test_cleanup_leaves_the_rest_of_the_event_alone() -> None:
    raw = make_event(metadata={f"{KS}/revision": "r"})
    assert routing.cleanup(raw) == raw


# ---------------------------------------------------------------------------------------------
# Rate limiting


def test_the_rate_limit_key_is_the_sha256_of_fluxs_components() -> None:
    event = make_event(metadata={f"{KS}/revision": "r1", f"{KS}/originRevision": "o1", f"{KS}/token": "t1"})
    text = "event/name=apps/namespace=flux-system/kind=Kustomization/message=Reconciliation finished"
    expected = hashlib.sha256(f"{text}/originRevision=o1/revision=r1/token=t1".encode()).hexdigest()
    assert routing.event_key(event) == expected
    assert routing.event_key(make_event()) == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(make_event(severity="error"), True, id="severity-ignored"),
        pytest.param(make_event(metadata={"event.toolkit.fluxcd.io/revision": "r"}), True, id="event-group"),
        pytest.param(make_event(message="other"), False, id="message"),
        pytest.param(make_event(name="infra"), False, id="name"),
        pytest.param(make_event(metadata={f"{KS}/revision": "r2"}), False, id="revision"),
        pytest.param(make_event(metadata={f"{KS}/token": "t"}), False, id="token"),
    ],
)
def test_events_share_a_key_when_object_message_and_revisions_agree(other: ev.Event, same: bool) -> None:
    assert (routing.event_key(other) == routing.event_key(make_event())) is same


def test_the_key_is_the_same_before_and_after_the_middlewares_cleanup_but_needs_the_token() -> None:
    raw = make_event(metadata={f"{KS}/token": "t", f"{KS}/checksum": "c", "other/x": "y"})
    assert routing.event_key(routing.cleanup_metadata(raw)) == routing.event_key(raw)
    assert routing.event_key(routing.cleanup(raw)) != routing.event_key(raw)


@pytest.mark.parametrize(
    ("times_min", "passed"),
    [
        pytest.param([0, 0, 4.99], [True, False, False], id="duplicates-within-the-interval"),
        pytest.param([0, 5], [True, True], id="next-window"),
        pytest.param([0, 4, 5, 6], [True, False, True, False], id="fixed-windows-not-sliding"),
        pytest.param([0, 4, 8, 9.99, 10], [True, False, True, False, True], id="refusals-take-nothing"),
        pytest.param([0, 13, 16], [True, True, False], id="swept-after-two-idle-intervals-realigns"),
    ],
)
def test_the_limiter_passes_one_event_per_key_per_window(times_min: list[float], passed: list[bool]) -> None:
    limiter = routing.RateLimiter(5 * MINUTE)
    assert [limiter.allow("k", int(t * MINUTE)) for t in times_min] == passed


def test_the_limiter_keeps_keys_apart_and_defaults_to_five_minutes() -> None:
    limiter = routing.RateLimiter()
    assert limiter.interval_ms == 5 * MINUTE
    assert [limiter.allow("a", 0), limiter.allow("b", 0), limiter.allow("a", 1)] == [True, True, False]


# ---------------------------------------------------------------------------------------------
# One notification


def test_metadata_is_combined_with_rfc_0008_precedence() -> None:
    event = make_event(
        metadata={
            "event.toolkit.fluxcd.io/env": "from-annotation",
            "event.toolkit.fluxcd.io/owner": "team-a",
            f"{KS}/revision": "main@sha1:abc",
            f"{KS}/env": "from-controller",
        }
    )
    alert = make_alert("a", event_metadata={"env": "from-alert", "cluster": "prod"}, summary="outage")
    combined, events, log = routing.combine_metadata(event, alert)
    assert combined.metadata == {
        "env": "from-controller",
        "owner": "team-a",
        "cluster": "prod",
        "summary": "outage",
        "revision": "main@sha1:abc",
    }
    assert events == (
        routing.AlertEvent(
            "flux-system",
            "a",
            "MetadataAppendFailed",
            routing.METADATA_CONFLICT_MESSAGE,
            {
                "env": "involved object annotations, Alert object .spec.eventMetadata, "
                "involved object controller metadata"
            },
        ),
    )
    assert log[0] == routing.SUMMARY_DEPRECATED_LOG


def test_the_summary_conflicts_with_an_event_metadata_summary_and_wins() -> None:
    alert = make_alert("a", event_metadata={"summary": "meta"}, summary="spec")
    combined, events, _ = routing.combine_metadata(make_event(), alert)
    assert combined.metadata == {"summary": "spec"}
    assert events[0].annotations == {
        "summary": "Alert object .spec.eventMetadata, Alert object .spec.summary"
    }


def test_an_event_with_nothing_to_combine_keeps_its_metadata() -> None:
    event = make_event(metadata={"unprefixed": "x"})
    combined, events, log = routing.combine_metadata(event, make_alert("a"))
    assert (combined, events, log) == (event, (), ())


def test_a_generic_provider_gets_the_combined_event_and_no_commit_status() -> None:
    event = make_event(metadata={f"{KS}/revision": "r"})
    decision = routing.notification_for(event, make_alert("a", event_metadata={"x": "y"}), make_provider())
    assert decision.outcome == "send"
    assert decision.event is not None and decision.event.metadata == {"revision": "r", "x": "y"}
    assert decision.commit_status == ""


COMMIT = {"event.toolkit.fluxcd.io/commit": "abc"}
UPDATE = {f"{KS}/commit_status": "update"}
CHANGE_REQUEST = {"event.toolkit.fluxcd.io/change_request": "42"}


@pytest.mark.parametrize(
    ("provider_type", "severity", "metadata", "outcome", "dropped"),
    [
        pytest.param("github", "info", {}, "drop", "commitStatus", id="git-host-needs-the-commit"),
        pytest.param("github", "info", COMMIT, "send", "", id="git-host-with-commit"),
        pytest.param("gitlab", "info", UPDATE, "send", "", id="git-host-commit-status-update"),
        pytest.param("gitea", "error", {}, "send", "", id="git-host-takes-errors"),
        pytest.param(
            "github",
            "info",
            {f"{KS}/commit": "abc"},
            "drop",
            "commitStatus",
            id="object-group-commit-is-not-it",
        ),
        pytest.param("slack", "info", UPDATE, "drop", "", id="chat-skips-commit-status-updates"),
        pytest.param("slack", "info", COMMIT, "send", "", id="chat-takes-the-rest"),
        pytest.param("generic", "info", UPDATE, "send", "", id="generic-takes-commit-status-updates"),
        pytest.param("generic-hmac", "info", UPDATE, "send", "", id="generic-hmac-too"),
        pytest.param(
            "githubpullrequestcomment", "info", {}, "drop", "changeRequest", id="change-request-needs-key"
        ),
        pytest.param(
            "gitlabmergerequestcomment", "info", CHANGE_REQUEST, "send", "", id="change-request-with-key"
        ),
    ],
)
def test_commit_status_and_change_request_gating(
    provider_type: str, severity: ev.Severity, metadata: dict[str, str], outcome: str, dropped: str
) -> None:
    event = make_event(severity=severity, metadata=metadata)
    decision = routing.notification_for(event, make_alert("a"), make_provider(provider_type))
    assert (decision.outcome, decision.dropped) == (outcome, dropped)


def test_the_provider_type_lists_are_fluxs() -> None:
    assert {
        "github",
        "gitlab",
        "gitea",
        "bitbucketserver",
        "bitbucket",
        "azuredevops",
    } == routing.COMMIT_STATUS_PROVIDERS
    assert {"generic", "generic-hmac"} == routing.GENERIC_PROVIDERS
    assert {
        "githubpullrequestcomment",
        "gitlabmergerequestcomment",
        "giteapullrequestcomment",
    } == routing.CHANGE_REQUEST_PROVIDERS


def test_a_git_host_gets_the_default_commit_status_from_kind_name_and_provider_uid() -> None:
    event = make_event(kind="Kustomization", name="Apps", metadata=COMMIT)
    decision = routing.notification_for(event, make_alert("a"), make_provider("github", uid="0C9C2E41-1-2"))
    assert decision.commit_status == "kustomization/apps/0c9c2e41"


def test_a_commit_status_expression_names_the_status() -> None:
    provider = make_provider(
        "github",
        commit_status_expr="event.involvedObject.name + '/' + provider.metadata.uid + '/' "
        "+ alert.metadata.name",
    )
    decision = routing.notification_for(make_event(metadata=COMMIT), make_alert("a"), provider)
    assert decision.commit_status == "apps/0c9c2e41-aaaa-bbbb/a"


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        pytest.param(
            "1 +",
            "failed to create commit status: failed to evaluate the spec.commitStatusExpr CEL expression for "
            "the event: failed to compile expression: failed to parse the CEL expression '1 +': ",
            id="parse",
        ),
        pytest.param(
            "event.nope",
            "failed to create commit status: failed to evaluate the spec.commitStatusExpr CEL expression for "
            "the event: failed to evaluate the CEL expression 'event.nope': no such key: nope",
            id="evaluate",
        ),
        pytest.param(
            "1 + 2",
            "failed to create commit status: failed to evaluate the spec.commitStatusExpr CEL expression for "
            "the event: failed to evaluate CEL expression as string: '1 + 2'",
            id="not-a-string",
        ),
    ],
)
def test_a_failing_commit_status_expression_is_a_dispatch_failure(expression: str, error: str) -> None:
    provider = make_provider("github", commit_status_expr=expression)
    decision = routing.notification_for(make_event(metadata=COMMIT), make_alert("a"), provider)
    assert decision.outcome == "error"
    assert decision.why.startswith(error)
    assert decision.events[-1].reason == "NotificationDispatchFailed"
    assert decision.events[-1].message.startswith(
        f"failed to dispatch notification for Kustomization/flux-system/apps: {error}"
    )


def test_a_suspended_provider_drops_the_event_silently() -> None:
    decision = routing.notification_for(make_event(), make_alert("a"), make_provider(suspend=True))
    assert (decision.outcome, decision.events, decision.log) == ("drop", (), ())


def test_a_missing_provider_is_a_dispatch_failure() -> None:
    decision = routing.notification_for(make_event(), make_alert("a"), None)
    assert decision.outcome == "error"
    assert decision.events == (
        routing.AlertEvent(
            "flux-system",
            "a",
            "NotificationDispatchFailed",
            "failed to dispatch notification for Kustomization/flux-system/apps: failed to read provider: "
            'providers.notification.toolkit.fluxcd.io "hook" not found',
        ),
    )


def test_cross_namespace_events_are_refused_only_when_the_controller_blocks_them() -> None:
    event = make_event(namespace="team-a")
    alert = make_alert("a", source(namespace="team-a"))
    assert routing.notification_for(event, alert, make_provider()).outcome == "send"
    blocked = routing.notification_for(event, alert, make_provider(), no_cross_namespace_refs=True)
    assert blocked.outcome == "error"
    assert blocked.why == (
        "discarding event, access denied to cross-namespace sources: alert 'flux-system/a' can't process "
        "event from 'Kustomization/team-a/apps', cross-namespace references have been blocked"
    )


def test_a_service_account_needs_the_object_level_workload_identity_gate() -> None:
    provider = make_provider("googlepubsub", service_account_name="sa")
    refused = routing.notification_for(make_event(), make_alert("a"), provider)
    assert refused.why == (
        "to use spec.serviceAccountName for provider authentication please enable the "
        "ObjectLevelWorkloadIdentity feature gate in the controller"
    )
    allowed = routing.notification_for(
        make_event(), make_alert("a"), provider, object_level_workload_identity=True
    )
    assert allowed.outcome == "send"


def test_drops_for_missing_keys_are_logged_once_per_event_with_the_alerts() -> None:
    event = make_event()
    pairs = [
        (alert, routing.notification_for(event, alert, make_provider(kind)))
        for alert, kind in [
            (make_alert("gh"), "github"),
            (make_alert("gl"), "gitlab"),
            (make_alert("pr"), "githubpullrequestcomment"),
            (make_alert("chat"), "slack"),
        ]
    ]
    assert routing.dropped_logs(pairs) == (
        f"{routing.DROPPED_COMMIT_STATUS_LOG} alerts=['flux-system/gh', 'flux-system/gl']",
        f"{routing.DROPPED_CHANGE_REQUEST_LOG} alerts=['flux-system/pr']",
    )
