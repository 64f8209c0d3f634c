"""helm-controller's next-action rules: the release state, the next Helm action, the remediation counters.

What it does: from what the controller knows about a HelmRelease (its typed spec and status, the
release versions Helm keeps in storage, the chart and values it would release now, what drift
detection found) it works out the release's state (`determine_release_state`: InSync, Locked,
Absent, Unmanaged, OutOfSync, Drifted, Untested, Failed, or Unknown with an error) and the next
action (`action_for_state`: install, upgrade, test, rollback, uninstall, unlock, correct cluster
drift, nothing, or a stall: `RetriesExceeded`, `MissingRollbackTarget`), with the history
truncation, condition updates and events helm-controller makes while deciding. Around that: the
`AtomicRelease` loop's stop rules (`must_continue`, `must_stop`, `when_stopped_before`,
`when_remediated`, `when_action_failed`), the failure counters (`record_release_failure`,
`record_test_failure`, `must_reset_failures`, `clear_failures`), the forceAt/resetAt annotation
handshake (`handle_annotation_request`), the action timeouts and Flux's message formats.

Provenance: fluxcd/helm-controller internal/reconcile/state.go (`DetermineReleaseState`),
atomic_release.go (`Reconcile`'s continue/stop rules, `actionForState`, `timeoutForAction`), the
`fmt*` constants of install.go, upgrade.go, test.go, rollback_remediation.go, uninstall.go,
uninstall_remediation.go and unlock.go, internal/action/verify.go (`VerifyReleaseObject`,
`VerifyRelease`, `VerifySnapshot` and their error texts), internal/action/reset.go
(`MustResetFailures`), api/v2/helmrelease_types.go (the remediation and retry getters),
api/v2/snapshot_types.go (`Latest`, `Previous`, `Truncate`, `HasBeenTested`), api/v2/annotations.go
and fluxcd/pkg apis/meta (`HandleAnnotationRequest`). Behaviour learned there, code our own.

Callers: the HelmRelease controller (it gathers the facts into a `Request`, calls `next_action`
in a loop, runs the action with the Helm engine and applies the `Decision`'s history, conditions
and events), and the local `build`/`diff helmrelease` commands. Pure functions over frozen values.

Never: read the cluster, release storage or the clock; run Helm; compute release or values
digests (the storage and values modules do; this module compares them); import a controller,
the kernel or the engine.

Differences, on purpose:
- Digests come in as strings. `StoredRelease.digest` is the digest of Flux's `Observation` of
  that version (computed by the storage module, with the OCI digest of the snapshot that
  claims the version); `Request.config_digest` is the canonical digest of the values to
  release. A snapshot's config digest in another algorithm (Flux recomputes with the
  snapshot's algorithm) therefore reads as changed values and leads to one upgrade.
- Reading storage never fails transiently here, so `VerifySnapshot`'s "may be a temporary
  error" path and the `failed to verify release object` path do not exist.
- The force request is decided once per reconciliation (`handle_annotation_request`) and passed
  in as `Request.force_requested`; Flux calls it inside `actionForState` and the first call
  records the request as handled, which has the same effect.
- The legacy `lastAttemptedValuesChecksum` (SHA-1 of YAML) cannot be recomputed from a digest:
  when it is the only record of the last values, the values count as changed.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from gitops_sim.model import duration
from gitops_sim.model.fluxapi import helm, meta

# ---------------------------------------------------------------------------------------------
# Flux's words

SNAPSHOT_API_VERSION = "v2"
"""`v2.CurrentSnapshotAPIVersion`: snapshots of another (or no) version skip digest checks."""

DEFAULT_MAX_HISTORY = 5
"""api/v2 `defaultMaxHistory`: also how many snapshots the status history keeps at most."""

DEFAULT_TIMEOUT_MS = 300_000
"""`HelmRelease.GetTimeout` when spec.timeout is omitted (printed `5m0s`)."""

DEFAULT_RETRY_INTERVAL_MS = 300_000
"""`InstallStrategy/UpgradeStrategy.GetRetryInterval` when retryInterval is omitted."""

FORCE_REQUEST_ANNOTATION = "reconcile.fluxcd.io/forceAt"
RESET_REQUEST_ANNOTATION = "reconcile.fluxcd.io/resetAt"
RECONCILE_REQUEST_ANNOTATION = "reconcile.fluxcd.io/requestedAt"

# internal/action/verify.go error texts, as they surface in reasons and messages.
ERR_RELEASE_DISAPPEARED = "release disappeared from storage"
ERR_RELEASE_NOT_FOUND = "no release found"
ERR_RELEASE_NOT_OBSERVED = "release not observed to be made for object"
ERR_RELEASE_DIGEST = "release digest verification error"
ERR_CHART_CHANGED = "release chart changed"
ERR_CONFIG_DIGEST = "release config values changed"

# internal/reconcile/atomic_release.go error texts.
ERR_EXCEEDED_MAX_RETRIES = "exceeded maximum retries"
ERR_RETRY_AFTER_INTERVAL = "retry after interval"
ERR_MUST_REQUEUE = "must requeue"
ERR_MISSING_ROLLBACK_TARGET = "missing target release for rollback"
ERR_UNKNOWN_RELEASE_STATUS = "unknown release status"
ERR_UNKNOWN_REMEDIATION_STRATEGY = "unknown remediation strategy"

# The fmt* message formats (printf verbs kept, fill with `%`).
FMT_INSTALL_FAILURE = "Helm install failed for release %s/%s with chart %s@%s: %s"
FMT_INSTALL_SUCCESS = "Helm install succeeded for release %s with chart %s"
FMT_UPGRADE_FAILURE = "Helm upgrade failed for release %s/%s with chart %s@%s: %s"
FMT_UPGRADE_SUCCESS = "Helm upgrade succeeded for release %s with chart %s"
FMT_TEST_PENDING = "Helm release %s with chart %s is awaiting tests"
FMT_TEST_FAILURE = "Helm test failed for release %s with chart %s: %s"
FMT_TEST_SUCCESS = "Helm test succeeded for release %s with chart %s: %s"
FMT_ROLLBACK_REMEDIATION_FAILURE = "Helm rollback to previous release %s with chart %s failed: %s"
FMT_ROLLBACK_REMEDIATION_SUCCESS = "Helm rollback to previous release %s with chart %s succeeded"
FMT_UNINSTALL_FAILURE = "Helm uninstall failed for release %s with chart %s: %s"
FMT_UNINSTALL_SUCCESS = "Helm uninstall succeeded for release %s with chart %s"
FMT_UNINSTALL_REMEDIATION_FAILURE = "Helm uninstall remediation for release %s with chart %s failed: %s"
FMT_UNINSTALL_REMEDIATION_SUCCESS = "Helm uninstall remediation for release %s with chart %s succeeded"
FMT_UNLOCK_FAILURE = "Unlock of Helm release %s with chart %s in %s state failed: %s"
FMT_UNLOCK_SUCCESS = "Unlocked Helm release %s with chart %s in %s state"
FMT_RUNNING_ACTION = "Running '%s' action with timeout of %s"
FMT_RETRIES_EXCEEDED = "Failed to %s after %d attempt(s)"
FMT_MISSING_ROLLBACK_TARGET = "Failed to perform remediation: %s"
FMT_DRIFT_DETECTED = "Cluster state of release %s has drifted from the desired state:\n%s"
FMT_STATE_ERROR = "Could not determine release state: %s"
FMT_RETRYING_AFTER = "retrying after %s"
NO_DRIFT_DETECTED_MESSAGE = "No drift detected against the cluster state"

# Condition types and reasons (api/v2 condition_types.go, fluxcd/pkg apis/meta).
READY = "Ready"
RELEASED = "Released"
REMEDIATED = "Remediated"
TEST_SUCCESS = "TestSuccess"
DRIFTED = "Drifted"
RECONCILING = "Reconciling"
INSTALL_SUCCEEDED = "InstallSucceeded"
INSTALL_FAILED = "InstallFailed"
UPGRADE_SUCCEEDED = "UpgradeSucceeded"
UPGRADE_FAILED = "UpgradeFailed"
DRIFT_DETECTED = "DriftDetected"
NO_DRIFT_DETECTED = "NoDriftDetected"
RETRIES_EXCEEDED = "RetriesExceeded"
MISSING_ROLLBACK_TARGET = "MissingRollbackTarget"
PROGRESSING_WITH_RETRY = "ProgressingWithRetry"
RECONCILE_ERROR = "ReconcileError"
STATE_ERROR = "StateError"

_PENDING = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})
_ROLLBACK_TARGET_STATUSES = frozenset({"deployed", "superseded"})
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST = re.compile(r"^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")


class ReleaseStatus(enum.StrEnum):
    """The release as the controller sees it, comparing storage with the HelmRelease."""

    UNKNOWN = "Unknown"
    ABSENT = "Absent"
    UNMANAGED = "Unmanaged"
    OUT_OF_SYNC = "OutOfSync"
    DRIFTED = "Drifted"
    LOCKED = "Locked"
    UNTESTED = "Untested"
    IN_SYNC = "InSync"
    FAILED = "Failed"


class Action(enum.StrEnum):
    """The next action; the value is the action reconciler's name, as in "Running 'upgrade' action"."""

    NONE = ""
    INSTALL = "install"
    UPGRADE = "upgrade"
    TEST = "test"
    ROLLBACK = "rollback"
    UNINSTALL = "uninstall"
    UNLOCK = "unlock"
    CORRECT_DRIFT = "correct cluster drift"


class ReconcilerType(enum.StrEnum):
    """What kind of step an action is, for the loop's continue/stop rules."""

    RELEASE = "release"
    REMEDIATE = "remediate"
    TEST = "test"
    UNLOCK = "unlock"
    DRIFT_CORRECTION = "drift correction"


_TYPE_OF = {
    Action.INSTALL: ReconcilerType.RELEASE,
    Action.UPGRADE: ReconcilerType.RELEASE,
    Action.TEST: ReconcilerType.TEST,
    Action.ROLLBACK: ReconcilerType.REMEDIATE,
    Action.UNINSTALL: ReconcilerType.REMEDIATE,  # the atomic loop only uninstalls to remediate
    Action.UNLOCK: ReconcilerType.UNLOCK,
    Action.CORRECT_DRIFT: ReconcilerType.DRIFT_CORRECTION,
}


def reconciler_type(action: Action) -> ReconcilerType:
    """The reconciler type of an action (not defined for Action.NONE)."""
    return _TYPE_OF[action]


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRelease:
    """One release version in Helm storage, as far as the next-action rules need it."""

    name: str
    namespace: str
    version: int
    status: str
    """Helm's status: deployed, superseded, failed, uninstalled, uninstalling, pending-install, ..."""
    chart_name: str
    chart_version: str
    digest: str
    """`<algo>:<hex>` digest of Flux's Observation of this version (see the module docstring)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftReport:
    """What drift detection found: the `diff.SummarizeDiffSet` text of the changes."""

    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """What the controller knows when it decides: the object, storage, and what it would release."""

    spec: helm.HelmReleaseSpec
    status: helm.HelmReleaseStatus
    generation: int
    releases: tuple[StoredRelease, ...]
    """The versions of this release in its storage namespace (any order); empty when none."""
    chart_name: str
    chart_version: str
    config_digest: str
    """Digest of the values that would be released now (`chartutil.DigestValues`, sha256)."""
    post_renderers_digest: str = ""
    """Digest of spec.postRenderers; empty when there are none."""
    common_metadata_digest: str = ""
    """Digest of spec.commonMetadata; empty when there is none."""
    drift: DriftReport | None = None
    """Changes drift detection found (only looked at when driftDetection.mode is enabled or warn)."""
    force_requested: bool = False
    """Whether a forceAt request is handled in this reconciliation (`handle_annotation_request`)."""
    default_to_retry_on_failure: bool = False
    """The DefaultToRetryOnFailure feature gate."""


# ---------------------------------------------------------------------------------------------
# Outputs


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseState:
    """The release's status, why, and (for Unknown) the error that stopped the decision."""

    status: ReleaseStatus
    reason: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stall:
    """Stalled=True with this reason and message: no action until the spec or a request changes."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionUpdate:
    """A condition to set; `replaces` names a condition to remove, keeping its lastTransitionTime."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    replaces: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A Kubernetes event the controller records while deciding."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The next action and everything the controller does to the object while choosing it."""

    state: ReleaseState
    action: Action
    history: tuple[helm.Snapshot, ...] | None
    """status.history as it stands after the decision (truncated or cleared), newest first."""
    stall: Stall | None = None
    error: str = ""
    """The error the atomic release returns (with or without a stall); empty when none."""
    conditions: tuple[ConditionUpdate, ...] = ()
    summarize: bool = False
    """Whether Ready must be summarised again right away (after Released was set)."""
    events: tuple[Event, ...] = ()
    log: str = ""


# ---------------------------------------------------------------------------------------------
# Snapshots (api/v2 snapshot_types.go)


def full_release_name(snapshot: helm.Snapshot) -> str:
    """`<namespace>/<name>.v<version>`."""
    return f"{snapshot.namespace}/{snapshot.name}.v{snapshot.version}"


def versioned_chart_name(snapshot: helm.Snapshot) -> str:
    """`<chart>@<version>`."""
    return f"{snapshot.chart_name}@{snapshot.chart_version}"


def sorted_history(history: tuple[helm.Snapshot, ...] | None) -> tuple[helm.Snapshot, ...]:
    """The snapshots newest (highest version) first."""
    return tuple(sorted(history or (), key=lambda s: s.version, reverse=True))


def latest(history: tuple[helm.Snapshot, ...] | None) -> helm.Snapshot | None:
    """The snapshot of the highest version, or None."""
    ordered = sorted_history(history)
    return ordered[0] if ordered else None


def has_test_in_phase(snapshot: helm.Snapshot | None, phase: str) -> bool:
    """Whether one of the snapshot's test hooks was last seen in `phase`."""
    if snapshot is None or not snapshot.test_hooks:
        return False
    return any(hook.phase == phase for hook in snapshot.test_hooks.values())


def has_been_tested(snapshot: helm.Snapshot | None) -> bool:
    """Whether tests ran: an empty hook map counts (no tests), any failure counts, else all succeeded."""
    if snapshot is None or snapshot.test_hooks is None:
        return False
    hooks = snapshot.test_hooks.values()
    if not hooks or any(h.phase == "Failed" for h in hooks):
        return True
    return all(h.phase == "Succeeded" for h in hooks)


def _rollback_target(snapshot: helm.Snapshot, ignore_tests: bool) -> bool:
    return snapshot.status in _ROLLBACK_TARGET_STATUSES and (
        ignore_tests or not has_test_in_phase(snapshot, "Failed")
    )


def previous(history: tuple[helm.Snapshot, ...] | None, ignore_tests: bool) -> helm.Snapshot | None:
    """The newest older snapshot that is deployed or superseded (without failed tests unless ignored)."""
    ordered = sorted_history(history)
    return next((s for s in ordered[1:] if _rollback_target(s, ignore_tests)), None)


def truncate(history: tuple[helm.Snapshot, ...] | None, ignore_tests: bool) -> tuple[helm.Snapshot, ...]:
    """The history up to and including the previous good snapshot; at most 5 when there is none."""
    ordered = sorted_history(history)
    if len(ordered) < 2:
        return ordered
    for i, snapshot in enumerate(ordered[1:], start=1):
        if _rollback_target(snapshot, ignore_tests):
            return ordered[: i + 1]
    return ordered[:DEFAULT_MAX_HISTORY]


def truncate_ignoring_previous(history: tuple[helm.Snapshot, ...] | None) -> tuple[helm.Snapshot, ...]:
    """The newest 5 snapshots (a retry strategy keeps no rollback target)."""
    return sorted_history(history)[:DEFAULT_MAX_HISTORY]


# ---------------------------------------------------------------------------------------------
# Remediation and retry (api/v2 helmrelease_types.go)


@dataclass(frozen=True, slots=True, kw_only=True)
class Remediation:
    """The install or upgrade remediation settings with Flux's defaults applied."""

    action: Literal["install", "upgrade"]
    retries: int
    ignore_test_failures: bool | None
    remediate_last_failure: bool | None
    strategy: str

    def must_ignore_test_failures(self, default: bool) -> bool:
        return default if self.ignore_test_failures is None else self.ignore_test_failures

    def must_remediate_last_failure(self) -> bool:
        """Explicit setting, else: never for install, retries > 0 for upgrade."""
        if self.remediate_last_failure is not None:
            return self.remediate_last_failure
        return self.action == "upgrade" and self.retries > 0

    def failure_count(self, status: helm.HelmReleaseStatus) -> int:
        count = status.install_failures if self.action == "install" else status.upgrade_failures
        return count or 0

    def retries_exhausted(self, status: helm.HelmReleaseStatus) -> bool:
        """Failures beyond the retries (never with negative, unlimited, retries)."""
        return self.retries >= 0 and self.failure_count(status) > self.retries

    def is_uninstall_after_upgrade(self) -> bool:
        return self.action == "upgrade" and self.strategy == "uninstall"


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """A RetryOnFailure strategy: retry the failed action after `interval_ms`, no remediation."""

    interval_ms: int


def install_remediation(spec: helm.HelmReleaseSpec) -> Remediation:
    """spec.install.remediation with defaults; its strategy is always uninstall."""
    r = spec.install.remediation if spec.install else None
    return Remediation(
        action="install",
        retries=(r.retries if r and r.retries is not None else 0),
        ignore_test_failures=r.ignore_test_failures if r else None,
        remediate_last_failure=r.remediate_last_failure if r else None,
        strategy="uninstall",
    )


def upgrade_remediation(spec: helm.HelmReleaseSpec) -> Remediation:
    """spec.upgrade.remediation with defaults; rollback unless it says uninstall."""
    r = spec.upgrade.remediation if spec.upgrade else None
    return Remediation(
        action="upgrade",
        retries=(r.retries if r and r.retries is not None else 0),
        ignore_test_failures=r.ignore_test_failures if r else None,
        remediate_last_failure=r.remediate_last_failure if r else None,
        strategy=(r.strategy if r and r.strategy else "rollback"),
    )


def active_remediation(spec: helm.HelmReleaseSpec, status: helm.HelmReleaseStatus) -> Remediation | None:
    """The remediation of the last attempted release action; None before any."""
    if status.last_attempted_release_action == "install":
        return install_remediation(spec)
    if status.last_attempted_release_action == "upgrade":
        return upgrade_remediation(spec)
    return None


def _retry(
    strategy: helm.InstallStrategy | helm.UpgradeStrategy | None, default_to_retry_on_failure: bool
) -> Retry | None:
    if strategy is None:
        return Retry(interval_ms=DEFAULT_RETRY_INTERVAL_MS) if default_to_retry_on_failure else None
    if strategy.name != "RetryOnFailure":
        return None
    interval = duration.parse(strategy.retry_interval) if strategy.retry_interval else None
    return Retry(interval_ms=DEFAULT_RETRY_INTERVAL_MS if interval is None else interval)


def active_retry(
    spec: helm.HelmReleaseSpec, status: helm.HelmReleaseStatus, default_to_retry_on_failure: bool = False
) -> Retry | None:
    """The RetryOnFailure strategy of the last attempted release action, if that is its strategy."""
    if status.last_attempted_release_action == "install":
        return _retry(spec.install.strategy if spec.install else None, default_to_retry_on_failure)
    if status.last_attempted_release_action == "upgrade":
        return _retry(spec.upgrade.strategy if spec.upgrade else None, default_to_retry_on_failure)
    return None


def _test_enabled(spec: helm.HelmReleaseSpec) -> bool:
    return spec.test is not None and spec.test.enable


def _test_ignore_failures(spec: helm.HelmReleaseSpec) -> bool:
    return spec.test is not None and spec.test.ignore_failures


def drift_mode(spec: helm.HelmReleaseSpec) -> str:
    """driftDetection.mode, `disabled` when omitted."""
    return (spec.drift_detection.mode if spec.drift_detection else None) or "disabled"


def _detects_drift(spec: helm.HelmReleaseSpec) -> bool:
    return drift_mode(spec) in ("enabled", "warn")


# ---------------------------------------------------------------------------------------------
# Verification (internal/action/verify.go)


def _valid_digest(text: str) -> bool:
    match = _DIGEST.match(text)
    if match is None:
        return False
    length = _DIGEST_HEX_LENGTH.get(match.group(1))
    return length is not None and re.fullmatch(f"[a-f0-9]{{{length}}}", match.group(2)) is not None


def verify_release_object(snapshot: helm.Snapshot, release: StoredRelease) -> str:
    """ "" when the stored release is the one the snapshot observed, else Flux's error text."""
    if snapshot.api_version != SNAPSHOT_API_VERSION:
        return ""  # a legacy snapshot: Flux skips the check to migrate gracefully
    if not _valid_digest(snapshot.digest):
        return ERR_RELEASE_DIGEST
    return "" if snapshot.digest == release.digest else ERR_RELEASE_NOT_OBSERVED


def verify_snapshot(snapshot: helm.Snapshot | None, releases: tuple[StoredRelease, ...]) -> str:
    """ "" when the snapshot's version is in storage unmodified, else Flux's error text."""
    if snapshot is None:
        return ERR_RELEASE_NOT_FOUND
    stored = next((r for r in releases if r.name == snapshot.name and r.version == snapshot.version), None)
    if stored is None:
        return ERR_RELEASE_DISAPPEARED
    return verify_release_object(snapshot, stored)


def verify_release(release: StoredRelease, snapshot: helm.Snapshot, request: Request) -> str:
    """ "" when the stored release has the desired chart and the snapshot the desired values."""
    if release.chart_name != request.chart_name or release.chart_version != request.chart_version:
        return ERR_CHART_CHANGED
    if not _valid_digest(snapshot.config_digest) or snapshot.config_digest != request.config_digest:
        return ERR_CONFIG_DIGEST
    return ""


# ---------------------------------------------------------------------------------------------
# The state (internal/reconcile/state.go)


def last_release(releases: tuple[StoredRelease, ...]) -> StoredRelease | None:
    """The highest version in storage (Helm's `Releases.Last`)."""
    return max(releases, key=lambda r: r.version, default=None)


def determine_release_state(request: Request) -> ReleaseState:
    """The release's state, as `DetermineReleaseState` works it out."""
    rls = last_release(request.releases)
    if rls is None:
        return ReleaseState(status=ReleaseStatus.ABSENT, reason="no release in storage for object")
    if rls.status in _PENDING:
        return ReleaseState(status=ReleaseStatus.LOCKED, reason=f"release with status '{rls.status}'")
    cur = latest(request.status.history)
    if cur is None:
        if rls.status == "uninstalled":
            return ReleaseState(status=ReleaseStatus.ABSENT, reason="found uninstalled release in storage")
        return ReleaseState(status=ReleaseStatus.UNMANAGED, reason="found existing release in storage")
    if err := verify_release_object(cur, rls):
        return ReleaseState(status=ReleaseStatus.UNMANAGED, reason=err)
    if rls.status == "failed":
        return ReleaseState(status=ReleaseStatus.FAILED)
    if rls.status == "uninstalled":
        return ReleaseState(status=ReleaseStatus.ABSENT, reason="found uninstalled release in storage")
    if rls.status != "deployed":
        return ReleaseState(
            status=ReleaseStatus.UNKNOWN,
            error=f"unable to determine state for release with status '{rls.status}'",
        )
    return _deployed_state(request, rls, cur)


def _deployed_state(request: Request, rls: StoredRelease, cur: helm.Snapshot) -> ReleaseState:
    if err := verify_release(rls, cur, request):
        return ReleaseState(status=ReleaseStatus.OUT_OF_SYNC, reason=err)
    status = request.status
    if (status.observed_generation or 0) != request.generation:
        if request.post_renderers_digest != (status.observed_post_renderers_digest or ""):
            return ReleaseState(status=ReleaseStatus.OUT_OF_SYNC, reason="postrenderers digest has changed")
        if request.common_metadata_digest != (status.observed_common_metadata_digest or ""):
            return ReleaseState(status=ReleaseStatus.OUT_OF_SYNC, reason="common metadata digest has changed")
    if _test_enabled(request.spec):
        if not has_been_tested(cur):
            return ReleaseState(status=ReleaseStatus.UNTESTED)
        remediation = active_remediation(request.spec, status)
        if (
            remediation is not None
            and not remediation.must_ignore_test_failures(_test_ignore_failures(request.spec))
            and has_test_in_phase(cur, "Failed")
        ):
            return ReleaseState(status=ReleaseStatus.FAILED, reason="release has test in failed phase")
    if _detects_drift(request.spec) and request.drift is not None:
        return ReleaseState(status=ReleaseStatus.DRIFTED)
    return ReleaseState(status=ReleaseStatus.IN_SYNC)


# ---------------------------------------------------------------------------------------------
# The next action (internal/reconcile/atomic_release.go actionForState)


def _msg_with_reason(msg: str, reason: str) -> str:
    return f"{msg}: {reason}" if reason else msg


def _condition(status: helm.HelmReleaseStatus, type_: str) -> meta.Condition | None:
    return next((c for c in status.conditions or () if c.type == type_), None)


def _is_true(status: helm.HelmReleaseStatus, type_: str) -> bool:
    c = _condition(status, type_)
    return c is not None and c.status == "True"


def retries_exceeded(request: Request) -> Stall:
    """Stalled RetriesExceeded: "Failed to <last action> after <failure count> attempt(s)"."""
    remediation = active_remediation(request.spec, request.status)
    count = remediation.failure_count(request.status) if remediation else 0
    action = request.status.last_attempted_release_action or ""
    return Stall(reason=RETRIES_EXCEEDED, message=FMT_RETRIES_EXCEEDED % (action, count))


def next_action(request: Request) -> Decision:
    """The release state, then the next action for it; Unknown ends in an error (Ready StateError)."""
    state = determine_release_state(request)
    if state.status == ReleaseStatus.UNKNOWN:
        return Decision(
            state=state,
            action=Action.NONE,
            history=request.status.history,
            error=f"cannot determine release state: {state.error}",
            conditions=(
                ConditionUpdate(
                    type=READY, status="False", reason=STATE_ERROR, message=FMT_STATE_ERROR % state.error
                ),
            ),
        )
    return action_for_state(request, state)


def action_for_state(request: Request, state: ReleaseState) -> Decision:
    """The next action for a determined state, as `actionForState` chooses it."""
    match state.status:
        case ReleaseStatus.IN_SYNC:
            return _in_sync(request, state)
        case ReleaseStatus.LOCKED:
            return _decided(request, state, Action.UNLOCK, _msg_with_reason("release locked", state.reason))
        case ReleaseStatus.ABSENT:
            return _absent(request, state)
        case ReleaseStatus.UNMANAGED:
            log = _msg_with_reason("release not managed by controller", state.reason)
            return Decision(state=state, action=Action.UPGRADE, history=None, log=log)
        case ReleaseStatus.OUT_OF_SYNC:
            return _out_of_sync(request, state)
        case ReleaseStatus.DRIFTED:
            return _drifted(request, state)
        case ReleaseStatus.UNTESTED:
            return _untested(request, state)
        case ReleaseStatus.FAILED:
            return _failed(request, state)
    return Decision(
        state=state,
        action=Action.NONE,
        history=request.status.history,
        error=f"{ERR_UNKNOWN_RELEASE_STATUS}: {state.status}",
    )


def _decided(request: Request, state: ReleaseState, action: Action, log: str) -> Decision:
    return Decision(state=state, action=action, history=request.status.history, log=log)


def _exceeded(request: Request, state: ReleaseState, what: str, log: str) -> Decision:
    return Decision(
        state=state,
        action=Action.NONE,
        history=request.status.history,
        stall=retries_exceeded(request),
        error=f"{ERR_EXCEEDED_MAX_RETRIES}: {what}",
        log=log,
    )


def _remediated_to_released(
    request: Request, history: tuple[helm.Snapshot, ...]
) -> tuple[ConditionUpdate, ...]:
    """Remediated=True becomes Released=True UpgradeSucceeded (a rollback now matches the spec)."""
    cur = latest(history)
    if cur is None or not _is_true(request.status, REMEDIATED):
        return ()
    message = FMT_UPGRADE_SUCCESS % (full_release_name(cur), versioned_chart_name(cur))
    return (
        ConditionUpdate(
            type=RELEASED, status="True", reason=UPGRADE_SUCCEEDED, message=message, replaces=REMEDIATED
        ),
    )


def _in_sync(request: Request, state: ReleaseState) -> Decision:
    spec, status = request.spec, request.status
    if active_retry(spec, status, request.default_to_retry_on_failure) is not None:
        history = truncate_ignoring_previous(status.history)
    else:
        ignore = _test_ignore_failures(spec)
        remediation = active_remediation(spec, status)
        if remediation is not None:
            ignore = remediation.must_ignore_test_failures(ignore)
        history = truncate(status.history, ignore)
    log = "release in-sync with desired state"
    if request.force_requested:
        log = _msg_with_reason("forcing upgrade for in-sync release", "force requested through annotation")
        return Decision(state=state, action=Action.UPGRADE, history=history, log=log)
    updates = list(_remediated_to_released(request, history))
    released_true = _is_true(status, RELEASED) or bool(updates)
    summarize = False
    if not _is_true(status, READY) or not released_true:
        released = _condition(status, RELEASED)
        fmt = {
            INSTALL_FAILED: (INSTALL_SUCCEEDED, FMT_INSTALL_SUCCESS),
            UPGRADE_FAILED: (UPGRADE_SUCCEEDED, FMT_UPGRADE_SUCCESS),
        }.get(released.reason if released else "")
        cur = latest(history)
        if fmt is not None and cur is not None and not updates:
            message = fmt[1] % (full_release_name(cur), versioned_chart_name(cur))
            updates.append(ConditionUpdate(type=RELEASED, status="True", reason=fmt[0], message=message))
            summarize = True
    if _detects_drift(spec):
        updates.append(
            ConditionUpdate(
                type=DRIFTED, status="False", reason=NO_DRIFT_DETECTED, message=NO_DRIFT_DETECTED_MESSAGE
            )
        )
    return Decision(
        state=state,
        action=Action.NONE,
        history=history,
        conditions=tuple(updates),
        summarize=summarize,
        log=log,
    )


def _absent(request: Request, state: ReleaseState) -> Decision:
    log = _msg_with_reason("release not installed", state.reason)
    if install_remediation(request.spec).retries_exhausted(request.status):
        if not request.force_requested:
            return _exceeded(request, state, "cannot install release", log)
        log = _msg_with_reason("forcing install while out of retries", "force requested through annotation")
    return _decided(request, state, Action.INSTALL, log)


def _out_of_sync(request: Request, state: ReleaseState) -> Decision:
    log = _msg_with_reason("release out-of-sync with desired state", state.reason)
    if upgrade_remediation(request.spec).retries_exhausted(request.status):
        if not request.force_requested:
            return _exceeded(request, state, "cannot upgrade release", log)
        log = _msg_with_reason("forcing upgrade while out of retries", "force requested through annotation")
    return _decided(request, state, Action.UPGRADE, log)


def _drifted(request: Request, state: ReleaseState) -> Decision:
    cur = latest(request.status.history)
    summary = request.drift.summary if request.drift else ""
    message = FMT_DRIFT_DETECTED % (full_release_name(cur) if cur else "", summary)
    action = Action.CORRECT_DRIFT if drift_mode(request.spec) == "enabled" else Action.NONE
    return Decision(
        state=state,
        action=action,
        history=request.status.history,
        conditions=(ConditionUpdate(type=DRIFTED, status="True", reason=DRIFT_DETECTED, message=message),),
        events=(Event(type="Warning", reason=DRIFT_DETECTED, message=message),),
        log="detected changes in cluster state",
    )


def _untested(request: Request, state: ReleaseState) -> Decision:
    history = request.status.history
    return Decision(
        state=state,
        action=Action.TEST,
        history=history,
        conditions=_remediated_to_released(request, sorted_history(history)),
        log=_msg_with_reason("release has not been tested", state.reason),
    )


def _failed(request: Request, state: ReleaseState) -> Decision:
    spec, status = request.spec, request.status
    log = _msg_with_reason("release is in a failed state", state.reason)
    if active_retry(spec, status, request.default_to_retry_on_failure) is not None:
        return Decision(
            state=state, action=Action.UPGRADE, history=truncate_ignoring_previous(status.history), log=log
        )
    remediation = active_remediation(spec, status)
    if remediation is None or remediation.failure_count(status) <= 0 or request.force_requested:
        return _decided(request, state, Action.UPGRADE, log)
    if remediation.retries_exhausted(status) and not remediation.must_remediate_last_failure():
        return _exceeded(request, state, "cannot remediate failed release", log)
    ignore = remediation.must_ignore_test_failures(_test_ignore_failures(spec))
    history = truncate(status.history, ignore)
    if remediation.strategy == "uninstall":
        return Decision(state=state, action=Action.UNINSTALL, history=history, log=log)
    if remediation.strategy != "rollback":
        error = f"{ERR_UNKNOWN_REMEDIATION_STRATEGY}: {remediation.strategy}"
        return Decision(state=state, action=Action.NONE, history=history, error=error, log=log)
    err = verify_snapshot(previous(history, ignore), request.releases)
    if err == ERR_RELEASE_NOT_FOUND:
        error = f"{ERR_MISSING_ROLLBACK_TARGET}: cannot remediate failed release"
        stall = Stall(reason=MISSING_ROLLBACK_TARGET, message=FMT_MISSING_ROLLBACK_TARGET % error)
        return Decision(state=state, action=Action.NONE, history=history, stall=stall, error=error, log=log)
    if err:
        return Decision(state=state, action=Action.UPGRADE, history=history, log=log)
    return Decision(state=state, action=Action.ROLLBACK, history=history, log=log)


# ---------------------------------------------------------------------------------------------
# The loop's stop rules (AtomicRelease.Reconcile)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopOutcome:
    """How a stopped atomic release ends: its Reconciling message, stall, and the error returned."""

    reconciling: str | None
    """Reconciling=True ProgressingWithRetry with this message; None to delete Reconciling."""
    stall: Stall | None = None
    error: str = ""


def must_continue(action: Action, previous: frozenset[ReconcilerType]) -> bool:
    """An action of a type already run in this reconciliation waits for the next one."""
    return reconciler_type(action) not in previous


def must_stop(action: Action) -> bool:
    """A remediation ends the reconciliation."""
    return reconciler_type(action) == ReconcilerType.REMEDIATE


def _retrying(request: Request) -> LoopOutcome | None:
    retry = active_retry(request.spec, request.status, request.default_to_retry_on_failure)
    if retry is None:
        return None
    return LoopOutcome(
        reconciling=FMT_RETRYING_AFTER % duration.format(retry.interval_ms), error=ERR_RETRY_AFTER_INTERVAL
    )


def when_stopped_before(request: Request, ready_message: str) -> LoopOutcome:
    """The next action's type already ran: retry later, requeue, or (retries exhausted) end quietly."""
    if (outcome := _retrying(request)) is not None:
        return outcome
    remediation = active_remediation(request.spec, request.status)
    if remediation is None or not remediation.retries_exhausted(request.status):
        return LoopOutcome(reconciling=ready_message, error=ERR_MUST_REQUEUE)
    return LoopOutcome(reconciling=None)


def when_remediated(request: Request, ready_message: str) -> LoopOutcome:
    """After a remediation: retry later, requeue for the next attempt, or stall RetriesExceeded."""
    if (outcome := _retrying(request)) is not None:
        return outcome
    remediation = active_remediation(request.spec, request.status)
    if (
        remediation is None
        or not remediation.retries_exhausted(request.status)
        or remediation.is_uninstall_after_upgrade()
    ):
        return LoopOutcome(reconciling=ready_message, error=ERR_MUST_REQUEUE)
    return LoopOutcome(reconciling=None, stall=retries_exceeded(request), error=ERR_EXCEEDED_MAX_RETRIES)


def when_action_failed(
    request: Request, error: str, ready_is_true: bool
) -> tuple[LoopOutcome, ConditionUpdate | None]:
    """An action returned an error: retry after the interval, or return it (Ready=False if it was True)."""
    if (outcome := _retrying(request)) is not None:
        return outcome, None
    update = (
        ConditionUpdate(type=READY, status="False", reason=RECONCILE_ERROR, message=error)
        if ready_is_true
        else None
    )
    return LoopOutcome(reconciling=None, error=error), update


# ---------------------------------------------------------------------------------------------
# Timeouts and messages


def timeout_ms(spec: helm.HelmReleaseSpec) -> int:
    """spec.timeout, 5m when omitted."""
    return duration.parse(spec.timeout) if spec.timeout else DEFAULT_TIMEOUT_MS


def timeout_for_action(action: Action, spec: helm.HelmReleaseSpec) -> int:
    """The action's own timeout, else spec.timeout (unlock and drift correction use spec.timeout)."""
    own: str | None = None
    if action == Action.INSTALL and spec.install:
        own = spec.install.timeout
    elif action == Action.UPGRADE and spec.upgrade:
        own = spec.upgrade.timeout
    elif action == Action.TEST and spec.test:
        own = spec.test.timeout
    elif action == Action.ROLLBACK and spec.rollback:
        own = spec.rollback.timeout
    elif action == Action.UNINSTALL and spec.uninstall:
        own = spec.uninstall.timeout
    return duration.parse(own) if own else timeout_ms(spec)


def running_message(action: Action, spec: helm.HelmReleaseSpec) -> str:
    """ "Running 'upgrade' action with timeout of 5m0s" (Reconciling, and Ready for release actions)."""
    return FMT_RUNNING_ACTION % (action.value, duration.format(timeout_for_action(action, spec)))


# ---------------------------------------------------------------------------------------------
# Failure counters and annotation requests


def clear_failures(status: helm.HelmReleaseStatus) -> helm.HelmReleaseStatus:
    """All three failure counters back to zero."""
    return dataclasses.replace(status, failures=0, install_failures=0, upgrade_failures=0)


def record_release_failure(
    status: helm.HelmReleaseStatus, action: Literal["install", "upgrade"], stored: bool
) -> helm.HelmReleaseStatus:
    """A failed install/upgrade: `failures` counts; the action's counter only if a release was stored."""
    status = dataclasses.replace(status, failures=(status.failures or 0) + 1)
    if not stored:
        return status
    if action == "install":
        return dataclasses.replace(status, install_failures=(status.install_failures or 0) + 1)
    return dataclasses.replace(status, upgrade_failures=(status.upgrade_failures or 0) + 1)


def record_test_failure(
    spec: helm.HelmReleaseSpec, status: helm.HelmReleaseStatus, tested: bool
) -> helm.HelmReleaseStatus:
    """A failed test: `failures` counts; the remediation's counter too unless it ignores test failures."""
    status = dataclasses.replace(status, failures=(status.failures or 0) + 1)
    remediation = active_remediation(spec, status)
    if (
        not tested
        or remediation is None
        or remediation.must_ignore_test_failures(_test_ignore_failures(spec))
    ):
        return status
    if remediation.action == "install":
        return dataclasses.replace(status, install_failures=(status.install_failures or 0) + 1)
    return dataclasses.replace(status, upgrade_failures=(status.upgrade_failures or 0) + 1)


def must_reset_failures(
    status: helm.HelmReleaseStatus,
    generation: int,
    chart_version: str,
    config_digest: str,
    reset_requested: bool,
) -> str:
    """Why the failure counters restart from zero ("" when they do not), as `MustResetFailures` says."""
    if (status.last_attempted_generation or 0) != generation:
        return "generation differs from last attempt"
    if (status.last_attempted_revision or "") != chart_version:
        return "chart version differs from last attempt"
    if status.last_attempted_config_digest or status.last_attempted_values_checksum:
        last = status.last_attempted_config_digest or ""
        if not _valid_digest(last) or last != config_digest:
            return "values differ from last attempt"
    return "reset requested through annotation" if reset_requested else ""


def handle_annotation_request(
    annotations: Mapping[str, str],
    annotation: str,
    last_handled: str | None,
    last_handled_reconcile: str | None,
) -> tuple[bool, str | None]:
    """Whether a forceAt/resetAt request is handled now, and the new lastHandled value.

    Handled when the request annotation equals requestedAt and neither the reconcile request
    nor this request was handled before; lastHandled records the request even when it is not.
    """
    request_at = annotations.get(annotation)
    if request_at is None:
        return False, last_handled
    reconcile_at = annotations.get(RECONCILE_REQUEST_ANNOTATION)
    handled = (
        reconcile_at is not None
        and request_at == reconcile_at
        and (last_handled_reconcile or "") != reconcile_at
        and (last_handled or "") != request_at
    )
    return handled, request_at
