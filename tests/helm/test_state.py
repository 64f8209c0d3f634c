"""helm-controller's next-action rules: state × retries × remediation → action, and the counters.

The table rows are situations taken from helm-controller's internal/reconcile/state.go,
atomic_release.go and their tests, and from the HelmRelease documentation (remediation retries,
remediateLastFailure defaults, RetryOnFailure, forceAt/resetAt).
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.helm import state
from gitops_sim.model.fluxapi import declare, helm

CFG = "sha256:" + "c" * 64
OTHER_CFG = "sha256:" + "d" * 64


def rel_digest(version: int) -> str:
    return "sha256:" + f"{version:x}" * 64


def snap(version: int, status: str = "deployed", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v2",
        "digest": rel_digest(version),
        "name": "podinfo",
        "namespace": "apps",
        "version": version,
        "status": status,
        "chartName": "podinfo",
        "chartVersion": "6.5.0",
        "configDigest": CFG,
        "firstDeployed": "2026-01-01T00:00:00Z",
        "lastDeployed": "2026-01-01T00:00:00Z",
        **extra,
    }


def stored(version: int, status: str = "deployed", chart_version: str = "6.5.0") -> state.StoredRelease:
    return state.StoredRelease(
        name="podinfo",
        namespace="apps",
        version=version,
        status=status,
        chart_name="podinfo",
        chart_version=chart_version,
        digest=rel_digest(version),
    )


def request(
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    releases: tuple[state.StoredRelease, ...] = (),
    **extra: Any,
) -> state.Request:
    raw_spec = {"interval": "10m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}, **(spec or {})}
    raw_status = {"observedGeneration": 1, **(status or {})}
    return state.Request(
        spec=declare.parse(helm.HelmReleaseSpec, raw_spec),
        status=declare.parse(helm.HelmReleaseStatus, raw_status, path="status"),
        generation=1,
        releases=releases,
        chart_name="podinfo",
        chart_version=extra.pop("chart_version", "6.5.0"),
        config_digest=extra.pop("config_digest", CFG),
        **extra,
    )


DEPLOYED = {"history": [snap(1)]}
UPGRADE_FAILED = {
    "history": [snap(2, "failed"), snap(1, "superseded")],
    "lastAttemptedReleaseAction": "upgrade",
}
BOTH_STORED = (stored(1, "superseded"), stored(2, "failed"))
RETRY = {"upgrade": {"strategy": {"name": "RetryOnFailure"}}}
TESTS = {"test": {"enable": True}}
FAILED_TEST = {"history": [snap(2, testHooks={"t": {"phase": "Failed"}}), snap(1, "superseded")]}


@pytest.mark.parametrize(
    ("req", "status", "action", "stall"),
    [
        pytest.param(request(), "Absent", "install", None, id="no release in storage installs"),
        pytest.param(
            request(status={"lastAttemptedReleaseAction": "install", "installFailures": 1}),
            "Absent",
            "",
            "RetriesExceeded",
            id="absent with install retries used up stalls",
        ),
        pytest.param(
            request(
                status={"lastAttemptedReleaseAction": "install", "installFailures": 1}, force_requested=True
            ),
            "Absent",
            "install",
            None,
            id="absent out of retries installs when forced",
        ),
        pytest.param(
            request(
                {"install": {"remediation": {"retries": 3}}},
                {"lastAttemptedReleaseAction": "install", "installFailures": 2},
            ),
            "Absent",
            "install",
            None,
            id="absent with install retries left installs again",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1, "pending-upgrade"),)),
            "Locked",
            "unlock",
            None,
            id="pending release is unlocked",
        ),
        pytest.param(
            request(releases=(stored(1),)),
            "Unmanaged",
            "upgrade",
            None,
            id="release without history is adopted",
        ),
        pytest.param(
            request(releases=(stored(1, "uninstalled"),)),
            "Absent",
            "install",
            None,
            id="uninstalled release without history is installed",
        ),
        pytest.param(
            request(status={"history": [snap(1, digest=rel_digest(9))]}, releases=(stored(1),)),
            "Unmanaged",
            "upgrade",
            None,
            id="release changed behind the controller's back is upgraded",
        ),
        pytest.param(
            request(status={"history": [snap(1, apiVersion=None, digest="x")]}, releases=(stored(1),)),
            "InSync",
            "",
            None,
            id="legacy snapshot skips the digest check",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1),), chart_version="6.6.0"),
            "OutOfSync",
            "upgrade",
            None,
            id="new chart version upgrades",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1),), config_digest=OTHER_CFG),
            "OutOfSync",
            "upgrade",
            None,
            id="new values upgrade",
        ),
        pytest.param(
            request(
                status={**DEPLOYED, "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
                releases=(stored(1),),
                config_digest=OTHER_CFG,
            ),
            "OutOfSync",
            "",
            "RetriesExceeded",
            id="out of sync with upgrade retries used up stalls",
        ),
        pytest.param(
            request(
                status={**DEPLOYED, "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
                releases=(stored(1),),
                config_digest=OTHER_CFG,
                force_requested=True,
            ),
            "OutOfSync",
            "upgrade",
            None,
            id="out of sync out of retries upgrades when forced",
        ),
        pytest.param(
            request(
                status={**DEPLOYED, "observedGeneration": 0}, releases=(stored(1),), post_renderers_digest=CFG
            ),
            "OutOfSync",
            "upgrade",
            None,
            id="new post-renderers in a new generation upgrade",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1),), post_renderers_digest=CFG),
            "InSync",
            "",
            None,
            id="post-renderers digest is only compared for a new generation",
        ),
        pytest.param(
            request(TESTS, DEPLOYED, (stored(1),)), "Untested", "test", None, id="untested release is tested"
        ),
        pytest.param(
            request(TESTS, {"history": [snap(1, testHooks={})]}, (stored(1),)),
            "InSync",
            "",
            None,
            id="tests that ran without test hooks count as tested",
        ),
        pytest.param(
            request(TESTS, {"history": [snap(1, testHooks={"t": {"phase": "Running"}})]}, (stored(1),)),
            "Untested",
            "test",
            None,
            id="tests still running are run again",
        ),
        pytest.param(
            request(
                {**TESTS, "upgrade": {"remediation": {"retries": 1}}},
                {**FAILED_TEST, "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
                (stored(1, "superseded"), stored(2)),
            ),
            "Failed",
            "rollback",
            None,
            id="failed test with retries left rolls back",
        ),
        pytest.param(
            request(
                {
                    "test": {"enable": True, "ignoreFailures": True},
                    "upgrade": {"remediation": {"retries": 1}},
                },
                {**FAILED_TEST, "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
                (stored(1, "superseded"), stored(2)),
            ),
            "InSync",
            "",
            None,
            id="failed test is ignored with test ignoreFailures",
        ),
        pytest.param(
            request(
                {**TESTS, "upgrade": {"remediation": {"retries": 1, "ignoreTestFailures": True}}},
                {**FAILED_TEST, "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
                (stored(1, "superseded"), stored(2)),
            ),
            "InSync",
            "",
            None,
            id="failed test is ignored with remediation ignoreTestFailures",
        ),
        pytest.param(
            request(
                {"driftDetection": {"mode": "enabled"}},
                DEPLOYED,
                (stored(1),),
                drift=state.DriftReport(summary="x"),
            ),
            "Drifted",
            "correct cluster drift",
            None,
            id="drift is corrected in enabled mode",
        ),
        pytest.param(
            request(
                {"driftDetection": {"mode": "warn"}},
                DEPLOYED,
                (stored(1),),
                drift=state.DriftReport(summary="x"),
            ),
            "Drifted",
            "",
            None,
            id="drift is only reported in warn mode",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1),), drift=state.DriftReport(summary="x")),
            "InSync",
            "",
            None,
            id="drift is not looked at when detection is disabled",
        ),
        pytest.param(
            request(status={"history": [snap(1, "failed")]}, releases=(stored(1, "failed"),)),
            "Failed",
            "upgrade",
            None,
            id="failed release without a last attempt is upgraded",
        ),
        pytest.param(
            request(status={**UPGRADE_FAILED, "upgradeFailures": 0}, releases=BOTH_STORED),
            "Failed",
            "upgrade",
            None,
            id="failed release after a config change is upgraded",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 3}}},
                {**UPGRADE_FAILED, "upgradeFailures": 1},
                BOTH_STORED,
            ),
            "Failed",
            "rollback",
            None,
            id="failed upgrade with retries left rolls back",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": -1}}},
                {**UPGRADE_FAILED, "upgradeFailures": 40},
                BOTH_STORED,
            ),
            "Failed",
            "rollback",
            None,
            id="negative retries never run out",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 1}}},
                {**UPGRADE_FAILED, "upgradeFailures": 2},
                BOTH_STORED,
            ),
            "Failed",
            "rollback",
            None,
            id="last upgrade failure is remediated by default when retries are set",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 1, "remediateLastFailure": False}}},
                {**UPGRADE_FAILED, "upgradeFailures": 2},
                BOTH_STORED,
            ),
            "Failed",
            "",
            "RetriesExceeded",
            id="last upgrade failure is left alone when remediateLastFailure is false",
        ),
        pytest.param(
            request(status={**UPGRADE_FAILED, "upgradeFailures": 1}, releases=BOTH_STORED),
            "Failed",
            "",
            "RetriesExceeded",
            id="failed upgrade with zero retries stalls",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 0, "remediateLastFailure": True}}},
                {**UPGRADE_FAILED, "upgradeFailures": 1},
                BOTH_STORED,
            ),
            "Failed",
            "rollback",
            None,
            id="zero retries with remediateLastFailure rolls back once",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 3}}},
                {
                    "history": [snap(1, "failed")],
                    "lastAttemptedReleaseAction": "upgrade",
                    "upgradeFailures": 1,
                },
                (stored(1, "failed"),),
            ),
            "Failed",
            "",
            "MissingRollbackTarget",
            id="failed upgrade without a previous release stalls",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 3}}},
                {**UPGRADE_FAILED, "upgradeFailures": 1},
                (stored(2, "failed"),),
            ),
            "Failed",
            "upgrade",
            None,
            id="rollback target gone from storage upgrades instead",
        ),
        pytest.param(
            request(
                {"upgrade": {"remediation": {"retries": 3, "strategy": "uninstall"}}},
                {**UPGRADE_FAILED, "upgradeFailures": 1},
                BOTH_STORED,
            ),
            "Failed",
            "uninstall",
            None,
            id="uninstall strategy uninstalls the failed upgrade",
        ),
        pytest.param(
            request(
                {"install": {"remediation": {"retries": 2}}},
                {
                    "history": [snap(1, "failed")],
                    "lastAttemptedReleaseAction": "install",
                    "installFailures": 1,
                },
                (stored(1, "failed"),),
            ),
            "Failed",
            "uninstall",
            None,
            id="failed install is uninstalled",
        ),
        pytest.param(
            request(
                {"install": {"remediation": {"retries": 1}}},
                {
                    "history": [snap(1, "failed")],
                    "lastAttemptedReleaseAction": "install",
                    "installFailures": 2,
                },
                (stored(1, "failed"),),
            ),
            "Failed",
            "",
            "RetriesExceeded",
            id="last install failure is not remediated by default",
        ),
        pytest.param(
            request(RETRY, {**UPGRADE_FAILED, "upgradeFailures": 5}, BOTH_STORED),
            "Failed",
            "upgrade",
            None,
            id="retry on failure upgrades again",
        ),
        pytest.param(
            request(
                status={**UPGRADE_FAILED, "upgradeFailures": 1}, releases=BOTH_STORED, force_requested=True
            ),
            "Failed",
            "upgrade",
            None,
            id="failed release out of retries upgrades when forced",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1),), default_to_retry_on_failure=True),
            "InSync",
            "",
            None,
            id="in sync release needs nothing",
        ),
        pytest.param(
            request(status=DEPLOYED, releases=(stored(1),), force_requested=True),
            "InSync",
            "upgrade",
            None,
            id="in sync release upgrades when forced",
        ),
    ],
)
def test_next_action_follows_helm_controllers_rules(
    req: state.Request, status: str, action: str, stall: str | None
) -> None:
    decision = state.next_action(req)
    assert (decision.state.status, decision.action.value) == (status, action)
    assert (decision.stall.reason if decision.stall else None) == stall


def test_stall_message_names_the_action_and_the_attempts() -> None:
    req = request(
        {"upgrade": {"remediation": {"retries": 2, "remediateLastFailure": False}}},
        {**UPGRADE_FAILED, "upgradeFailures": 3},
        BOTH_STORED,
    )
    decision = state.next_action(req)
    assert decision.stall == state.Stall(
        reason="RetriesExceeded", message="Failed to upgrade after 3 attempt(s)"
    )
    assert decision.error == "exceeded maximum retries: cannot remediate failed release"


def test_missing_rollback_target_message_is_fluxs() -> None:
    req = request(
        {"upgrade": {"remediation": {"retries": 3}}},
        {"history": [snap(1, "failed")], "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
        (stored(1, "failed"),),
    )
    assert state.next_action(req).stall == state.Stall(
        reason="MissingRollbackTarget",
        message="Failed to perform remediation: missing target release for rollback: "
        "cannot remediate failed release",
    )


def test_state_reasons_are_fluxs() -> None:
    assert state.determine_release_state(request()).reason == "no release in storage for object"
    locked = request(status=DEPLOYED, releases=(stored(1, "pending-install"),))
    assert state.determine_release_state(locked).reason == "release with status 'pending-install'"
    changed = request(status=DEPLOYED, releases=(stored(1),), config_digest=OTHER_CFG)
    assert state.determine_release_state(changed).reason == "release config values changed"
    chart = request(status=DEPLOYED, releases=(stored(1),), chart_version="7.0.0")
    assert state.determine_release_state(chart).reason == "release chart changed"


def test_superseded_latest_release_cannot_be_decided() -> None:
    decision = state.next_action(request(status=DEPLOYED, releases=(stored(1, "superseded"),)))
    assert (
        decision.error
        == "cannot determine release state: unable to determine state for release with status 'superseded'"
    )
    assert decision.conditions == (
        state.ConditionUpdate(
            type="Ready",
            status="False",
            reason="StateError",
            message="Could not determine release state: "
            "unable to determine state for release with status 'superseded'",
        ),
    )


def test_unmanaged_release_clears_the_history() -> None:
    assert state.next_action(request(releases=(stored(1),))).history is None


def test_in_sync_keeps_history_back_to_the_previous_good_release() -> None:
    history = [snap(4), snap(3, "failed"), snap(2, "superseded"), snap(1, "superseded")]
    decision = state.next_action(request(status={"history": history}, releases=(stored(4),)))
    assert [s.version for s in decision.history or ()] == [4, 3, 2]


def test_failed_remediation_truncates_history_to_the_rollback_target() -> None:
    history = [snap(3, "failed"), snap(2, "superseded"), snap(1, "superseded")]
    req = request(
        {"upgrade": {"remediation": {"retries": 3}}},
        {"history": history, "lastAttemptedReleaseAction": "upgrade", "upgradeFailures": 1},
        (stored(1, "superseded"), stored(2, "superseded"), stored(3, "failed")),
    )
    assert [s.version for s in state.next_action(req).history or ()] == [3, 2]


def test_in_sync_after_a_rollback_turns_remediated_into_released() -> None:
    remediated = {
        "type": "Remediated",
        "status": "True",
        "reason": "RollbackSucceeded",
        "message": "m",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    decision = state.next_action(
        request(status={**DEPLOYED, "conditions": [remediated]}, releases=(stored(1),))
    )
    assert decision.conditions == (
        state.ConditionUpdate(
            type="Released",
            status="True",
            reason="UpgradeSucceeded",
            message="Helm upgrade succeeded for release apps/podinfo.v1 with chart podinfo@6.5.0",
            replaces="Remediated",
        ),
    )


def test_in_sync_after_a_failed_install_marks_install_succeeded() -> None:
    released = {
        "type": "Released",
        "status": "False",
        "reason": "InstallFailed",
        "message": "m",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    decision = state.next_action(
        request(status={**DEPLOYED, "conditions": [released]}, releases=(stored(1),))
    )
    assert decision.conditions == (
        state.ConditionUpdate(
            type="Released",
            status="True",
            reason="InstallSucceeded",
            message="Helm install succeeded for release apps/podinfo.v1 with chart podinfo@6.5.0",
        ),
    )
    assert decision.summarize is True


def test_in_sync_with_drift_detection_reports_no_drift() -> None:
    decision = state.next_action(request({"driftDetection": {"mode": "warn"}}, DEPLOYED, (stored(1),)))
    assert decision.conditions == (
        state.ConditionUpdate(
            type="Drifted",
            status="False",
            reason="NoDriftDetected",
            message="No drift detected against the cluster state",
        ),
    )


def test_drift_message_lists_the_changes_on_condition_and_event() -> None:
    summary = "Deployment/apps/podinfo changed (0 additions, 1 changes, 0 removals)"
    req = request(
        {"driftDetection": {"mode": "enabled"}},
        DEPLOYED,
        (stored(1),),
        drift=state.DriftReport(summary=summary),
    )
    decision = state.next_action(req)
    message = f"Cluster state of release apps/podinfo.v1 has drifted from the desired state:\n{summary}"
    assert decision.conditions == (
        state.ConditionUpdate(type="Drifted", status="True", reason="DriftDetected", message=message),
    )
    assert decision.events == (state.Event(type="Warning", reason="DriftDetected", message=message),)


@pytest.mark.parametrize(
    ("action", "spec", "message"),
    [
        pytest.param(
            state.Action.INSTALL, {}, "Running 'install' action with timeout of 5m0s", id="default timeout"
        ),
        pytest.param(
            state.Action.UPGRADE,
            {"timeout": "2m", "upgrade": {"timeout": "10m"}},
            "Running 'upgrade' action with timeout of 10m0s",
            id="the action's own timeout wins",
        ),
        pytest.param(
            state.Action.ROLLBACK,
            {"timeout": "90s"},
            "Running 'rollback' action with timeout of 1m30s",
            id="spec timeout",
        ),
    ],
)
def test_running_message_shows_the_actions_timeout(
    action: state.Action, spec: dict[str, Any], message: str
) -> None:
    assert state.running_message(action, request(spec).spec) == message


def test_loop_stops_before_an_action_type_already_run() -> None:
    previous = frozenset({state.ReconcilerType.RELEASE})
    assert state.must_continue(state.Action.UPGRADE, previous) is False
    assert state.must_continue(state.Action.TEST, previous) is True
    assert state.must_stop(state.Action.ROLLBACK) is True
    assert state.must_stop(state.Action.UPGRADE) is False


def test_remediation_with_retries_left_requeues_with_readys_message() -> None:
    req = request({"upgrade": {"remediation": {"retries": 3}}}, {**UPGRADE_FAILED, "upgradeFailures": 1})
    assert state.when_remediated(req, "upgrade failed") == state.LoopOutcome(
        reconciling="upgrade failed", error="must requeue"
    )


def test_remediation_of_the_last_failure_stalls() -> None:
    req = request({"upgrade": {"remediation": {"retries": 1}}}, {**UPGRADE_FAILED, "upgradeFailures": 2})
    assert state.when_remediated(req, "x") == state.LoopOutcome(
        reconciling=None,
        stall=state.Stall(reason="RetriesExceeded", message="Failed to upgrade after 2 attempt(s)"),
        error="exceeded maximum retries",
    )


def test_uninstall_remediation_of_an_upgrade_always_requeues_to_reinstall() -> None:
    spec = {"upgrade": {"remediation": {"retries": 1, "strategy": "uninstall"}}}
    req = request(spec, {**UPGRADE_FAILED, "upgradeFailures": 2})
    assert state.when_remediated(req, "x") == state.LoopOutcome(reconciling="x", error="must requeue")


def test_retry_on_failure_waits_for_the_retry_interval() -> None:
    spec = {"upgrade": {"strategy": {"name": "RetryOnFailure", "retryInterval": "2m"}}}
    req = request(spec, {**UPGRADE_FAILED, "upgradeFailures": 1})
    assert state.when_stopped_before(req, "x") == state.LoopOutcome(
        reconciling="retrying after 2m0s", error="retry after interval"
    )


def test_failed_action_turns_ready_false_with_the_error() -> None:
    outcome, update = state.when_action_failed(request(status=UPGRADE_FAILED), "boom", ready_is_true=True)
    assert outcome == state.LoopOutcome(reconciling=None, error="boom")
    assert update == state.ConditionUpdate(
        type="Ready", status="False", reason="ReconcileError", message="boom"
    )


# ---------------------------------------------------------------------------------------------
# Remediation counters


def test_failed_upgrade_that_stored_a_release_counts_against_retries() -> None:
    status = state.record_release_failure(request().status, "upgrade", stored=True)
    assert (status.failures, status.install_failures, status.upgrade_failures) == (1, None, 1)


def test_failed_install_that_stored_nothing_only_counts_as_a_failure() -> None:
    status = state.record_release_failure(request().status, "install", stored=False)
    assert (status.failures, status.install_failures) == (1, None)


def test_failed_test_counts_against_the_active_remediation() -> None:
    req = request(TESTS, {"lastAttemptedReleaseAction": "install"})
    status = state.record_test_failure(req.spec, req.status, tested=True)
    assert (status.failures, status.install_failures) == (1, 1)


def test_ignored_test_failure_does_not_count_against_retries() -> None:
    req = request(
        {"test": {"enable": True, "ignoreFailures": True}}, {"lastAttemptedReleaseAction": "upgrade"}
    )
    status = state.record_test_failure(req.spec, req.status, tested=True)
    assert (status.failures, status.upgrade_failures) == (1, None)


def test_counters_exhaust_retries_after_one_failure_too_many() -> None:
    spec = request({"upgrade": {"remediation": {"retries": 2}}}).spec
    status = request(status={"lastAttemptedReleaseAction": "upgrade"}).status
    exhausted = []
    for _ in range(3):
        status = state.record_release_failure(status, "upgrade", stored=True)
        exhausted.append(state.upgrade_remediation(spec).retries_exhausted(status))
    assert exhausted == [False, False, True]
    assert state.upgrade_remediation(spec).retries_exhausted(state.clear_failures(status)) is False


@pytest.mark.parametrize(
    ("status", "chart_version", "digest", "reset", "reason"),
    [
        pytest.param(
            {"lastAttemptedGeneration": 0},
            "6.5.0",
            CFG,
            False,
            "generation differs from last attempt",
            id="generation",
        ),
        pytest.param({}, "6.6.0", CFG, False, "chart version differs from last attempt", id="chart version"),
        pytest.param({}, "6.5.0", OTHER_CFG, False, "values differ from last attempt", id="values"),
        pytest.param({}, "6.5.0", CFG, True, "reset requested through annotation", id="resetAt"),
        pytest.param({}, "6.5.0", CFG, False, "", id="nothing changed"),
    ],
)
def test_failure_counters_reset_when_the_attempt_changes(
    status: dict[str, Any], chart_version: str, digest: str, reset: bool, reason: str
) -> None:
    raw = {
        "lastAttemptedGeneration": 1,
        "lastAttemptedRevision": "6.5.0",
        "lastAttemptedConfigDigest": CFG,
        **status,
    }
    parsed = declare.parse(helm.HelmReleaseStatus, raw, path="status")
    assert state.must_reset_failures(parsed, 1, chart_version, digest, reset) == reason


def test_force_request_is_handled_once_and_only_with_a_matching_requested_at() -> None:
    ann = {"reconcile.fluxcd.io/forceAt": "t1", "reconcile.fluxcd.io/requestedAt": "t1"}
    assert state.handle_annotation_request(ann, state.FORCE_REQUEST_ANNOTATION, None, None) == (True, "t1")
    assert state.handle_annotation_request(ann, state.FORCE_REQUEST_ANNOTATION, "t1", None) == (False, "t1")
    mismatched = {"reconcile.fluxcd.io/forceAt": "t2", "reconcile.fluxcd.io/requestedAt": "t1"}
    assert state.handle_annotation_request(mismatched, state.FORCE_REQUEST_ANNOTATION, None, None) == (
        False,
        "t2",
    )
    assert state.handle_annotation_request({}, state.RESET_REQUEST_ANNOTATION, "old", None) == (False, "old")
