"""Helm's hook execution, as a resumable plan the controller runs across reconciles.

What it does: `start(event, release_hooks, ...)` picks the hooks a Helm event runs (pre-install,
post-install, pre-upgrade, post-upgrade, pre-rollback, post-rollback, pre-delete, post-delete,
test) in Helm's order and returns a `Run`. `Run.step` says what to do now: `delete` a hook
object and wait until it is gone, `create` it, or `await` it (a Job until complete or failed, a
Pod until succeeded or failed). The controller does that against the cluster and calls
`advance(run, observed, now_ms)` with what it saw; a wait that is not over returns the run
unchanged (the controller requeues, in virtual time), until the step's deadline. `Run.hooks`
carries each hook's `last_run` (Running, then Succeeded or Failed, with times) and the default
deletion policy Helm writes onto a hook without one; `merge_hooks` puts them back into the
release's hooks. When the run is `finished`, `Run.error` is Helm's error for the event ("" when
all hooks succeeded) and `action_error` wraps it as the Helm action returns it
(`failed pre-install: …`, `pre-upgrade hooks failed: …`; rollback, delete and test hooks
unwrapped).

Helm's behaviour modelled (v4 `execHookWithDelayedShutdown`):
- hooks for the event, stable-sorted by weight then name (the release keeps them in install
  order by kind); a hook without a deletion policy gets `before-hook-creation`;
- per hook: delete it first when `before-hook-creation` (and wait for it to be gone), record
  `last_run` {startedAt: now, phase: Running} and store the release (`Step.record_release`),
  create it (a failure ends the run: `warning: Hook <event> <path> failed: <error>`, phase
  Failed, nothing deleted), wait until ready with the hook readers of `WatchUntilReady` (Job:
  `Complete` → ready, `Failed` → failed; Pod: phase Succeeded / Failed; any other kind is ready
  once created), each hook with the whole timeout (0 means Helm's 30s default);
- a failed wait: phase Failed, the error `resource Job/<ns>/<name> not ready. status: Failed,
  message: Job Failed. failed: 1/1` (on timeout: `status: InProgress, message: Job in
  progress` and a second line `context deadline exceeded`); then the failed hook is deleted if
  `hook-failed` (a deletion error only logged), then the hooks that succeeded before it, if
  `hook-succeeded` (a deletion error replaces the hook's error);
- all succeeded: each `hook-succeeded` hook deleted, last first (a deletion error is the
  event's error). CustomResourceDefinitions are never deleted.

Provenance: helm/helm v4.2.1 pkg/action/hooks.go (`execHookWithDelayedShutdown`,
`hookByWeight`, `deleteHookByPolicy`, `hookSetDeletePolicy`), install.go, upgrade.go,
rollback.go, uninstall.go, release_testing.go (how each wraps the error), pkg/kube/
statuswait.go (`WatchUntilReady`, `wait`, `waitForDelete`, their error texts),
internal/statusreaders/job_status_reader.go and pod_status_reader.go. Behaviour learned there;
the code is ours.

Callers: the HelmRelease controller's install, upgrade, test, rollback and uninstall steps.
Pure: never reads the cluster or the clock, never imports a controller, the kernel or the
engine.

Differences, on purpose:
- Helm deletes with background propagation and watches; here the controller deletes and
  reports whether the object is still there on each `advance`.
- A hook's namespace is its manifest's, else the release's, except for a fixed list of
  cluster-scoped kinds (Helm asks the API's REST mapping).
- Hook log output (`helm.sh/hook-output-log-policy`) is not modelled: there are no logs.
- A hook of another kind that disappears right after creation counts as ready (Helm would wait
  for it until the timeout).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from gitops_sim.helm import storage
from gitops_sim.model import duration, kstatus

DEFAULT_TIMEOUT_MS = 30_000
"""`kube.DefaultStatusWatcherTimeout`: the wait when the action's timeout is 0."""

BEFORE_HOOK_CREATION: storage.HookDeletePolicy = "before-hook-creation"
HOOK_SUCCEEDED: storage.HookDeletePolicy = "hook-succeeded"
HOOK_FAILED: storage.HookDeletePolicy = "hook-failed"
DEADLINE_EXCEEDED = "context deadline exceeded"

_CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "APIService",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    }
)
_WRAP = {
    "pre-install": "failed pre-install: %s",
    "post-install": "failed post-install: %s",
    "pre-upgrade": "pre-upgrade hooks failed: %s",
    "post-upgrade": "post-upgrade hooks failed: %s",
}

Op = Literal["delete", "create", "await"]
Stage = Literal["before", "create", "await", "cleanup", "done"]


@dataclass(frozen=True, slots=True)
class Target:
    """The object a hook makes: what the controller deletes, creates and watches."""

    api_version: str
    kind: str
    namespace: str
    name: str
    object: Mapping[str, Any]
    """The hook's manifest, parsed, with the namespace filled in."""

    @property
    def identifier(self) -> str:
        """`Kind/namespace/name`, as Helm's wait errors name a resource."""
        return f"{self.kind}/{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Step:
    """What to do now: `delete` (then report until gone), `create`, or `await` readiness."""

    op: Op
    hook: int
    """Index into `Run.hooks`."""
    target: Target
    deadline_ms: int | None
    """When a `delete` or `await` step times out; None for `create`."""
    record_release: bool = False
    """Store the release (with `Run.hooks` merged) before creating, as Helm does."""


@dataclass(frozen=True, slots=True)
class Observed:
    """What the controller saw after doing a step.

    For `delete` and `await`: the object as it is now (None when not found), or the error of
    the delete call (a NotFound is no error: Helm ignores it). For `create`: the error of the
    create call ("" when it was created)."""

    object: Mapping[str, Any] | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    """The state of one event's hook execution; a value, advanced with `advance`."""

    event: storage.HookEvent
    hooks: tuple[storage.Hook, ...]
    """The hooks the event runs, in run order, with their last run and deletion policies."""
    positions: tuple[int, ...]
    """Where each of `hooks` sits in the release's hooks (for `merge_hooks`)."""
    targets: tuple[Target, ...]
    timeout_ms: int
    stage: Stage
    index: int = 0
    """The hook being run (stages before, create, await)."""
    cleanup: tuple[tuple[int, bool], ...] = ()
    """Deletions left after the run: (hook index, whether a deletion error is only logged)."""
    deadline_ms: int | None = None
    error: str = ""
    failed: bool = False

    @property
    def finished(self) -> bool:
        return self.stage == "done"

    @property
    def step(self) -> Step | None:
        """The step to do now; None when the run is finished."""
        if self.stage == "done":
            return None
        if self.stage == "cleanup":
            i = self.cleanup[0][0]
            return Step("delete", i, self.targets[i], self.deadline_ms)
        op: Op = "delete" if self.stage == "before" else "create" if self.stage == "create" else "await"
        deadline = None if op == "create" else self.deadline_ms
        return Step(op, self.index, self.targets[self.index], deadline, record_release=op == "create")


def ordered(hooks: Sequence[storage.Hook], event: storage.HookEvent) -> list[int]:
    """Indices of the hooks that run on `event`, in run order (`sort.Stable(hookByWeight)`:
    by weight, then name; equal ones keep the release's order)."""
    chosen = [i for i, h in enumerate(hooks) if event in h.events]
    return sorted(chosen, key=lambda i: (hooks[i].weight, hooks[i].name))


def target_of(hook: storage.Hook, release_namespace: str) -> Target:
    """The hook's object, namespaced as Helm's resource builder would."""
    loaded = yaml.safe_load(hook.manifest) or {}
    obj: dict[str, Any] = dict(loaded) if isinstance(loaded, dict) else {}
    meta = dict(obj.get("metadata") or {})
    kind = str(obj.get("kind") or hook.kind)
    namespace = "" if kind in _CLUSTER_SCOPED else str(meta.get("namespace") or release_namespace)
    if namespace:
        meta["namespace"] = namespace
    obj["metadata"] = meta
    name = str(meta.get("name") or hook.name)
    return Target(str(obj.get("apiVersion") or ""), kind, namespace, name, obj)


def start(
    event: storage.HookEvent,
    release_hooks: Sequence[storage.Hook],
    *,
    release_namespace: str,
    timeout_ms: int,
    now_ms: int,
) -> Run:
    """The run of `event`'s hooks; finished at once (no error) when the event has none."""
    positions = tuple(ordered(release_hooks, event))
    hooks = tuple(_with_default_policy(release_hooks[i]) for i in positions)
    run = Run(
        event=event,
        hooks=hooks,
        positions=positions,
        targets=tuple(target_of(h, release_namespace) for h in hooks),
        timeout_ms=timeout_ms or DEFAULT_TIMEOUT_MS,
        stage="done",
    )
    return _enter_hook(run, 0, now_ms) if hooks else run


def advance(run: Run, observed: Observed, now_ms: int) -> Run:
    """The run after the current step, given what the controller observed at `now_ms`.
    A wait that is neither over nor past its deadline returns `run` itself."""
    step = run.step
    if step is None:
        return run
    if step.op == "delete":
        return _after_delete(run, step, observed, now_ms)
    if step.op == "create":
        return _after_create(run, step, observed, now_ms)
    return _after_await(run, step, observed, now_ms)


def action_error(event: storage.HookEvent, error: str) -> str:
    """The hook error as the Helm action returns it: install and upgrade wrap it (`failed
    pre-install: …`, `post-upgrade hooks failed: …`), rollback, uninstall and test do not."""
    return _WRAP[event] % error if event in _WRAP else error


def merge_hooks(release_hooks: Sequence[storage.Hook], run: Run) -> tuple[storage.Hook, ...]:
    """The release's hooks with the run's changes (last run, default deletion policy)."""
    merged = list(release_hooks)
    for position, hook in zip(run.positions, run.hooks, strict=True):
        merged[position] = hook
    return tuple(merged)


def readiness(target: Target, obj: Mapping[str, Any] | None) -> tuple[str, str]:
    """(kstatus status, message) of a hook object as `WatchUntilReady` reads it."""
    if obj is None:
        return "NotFound", "Resource not found"
    if target.kind == "Job" and target.api_version.startswith("batch/"):
        return _job(obj)
    if target.kind == "Pod" and target.api_version == "v1":
        phase = (obj.get("status") or {}).get("phase")
        if phase == "Succeeded":
            return "Current", f"pod {target.name} succeeded"
        if phase == "Failed":
            return "Failed", f"pod {target.name} failed"
        return "InProgress", "Pod in progress"
    return "Current", "Resource is current"


# --- the state machine -----------------------------------------------------------------------


def _with_default_policy(hook: storage.Hook) -> storage.Hook:
    if hook.delete_policies:
        return hook
    return dataclasses.replace(hook, delete_policies=(BEFORE_HOOK_CREATION,))


def _deletes(hook: storage.Hook, policy: storage.HookDeletePolicy) -> bool:
    return hook.kind != "CustomResourceDefinition" and policy in hook.delete_policies


def _enter_hook(run: Run, index: int, now_ms: int) -> Run:
    if _deletes(run.hooks[index], BEFORE_HOOK_CREATION):
        return dataclasses.replace(run, stage="before", index=index, deadline_ms=now_ms + run.timeout_ms)
    return _enter_create(dataclasses.replace(run, index=index), now_ms)


def _enter_create(run: Run, now_ms: int) -> Run:
    started = storage.HookExecution(started_at=duration.rfc3339(now_ms), phase="Running")
    return dataclasses.replace(
        run, stage="create", hooks=_set_run(run.hooks, run.index, started), deadline_ms=None
    )


def _set_run(
    hooks: tuple[storage.Hook, ...], index: int, last_run: storage.HookExecution
) -> tuple[storage.Hook, ...]:
    return tuple(dataclasses.replace(h, last_run=last_run) if i == index else h for i, h in enumerate(hooks))


def _complete(run: Run, phase: storage.HookPhase, now_ms: int) -> tuple[storage.Hook, ...]:
    last = run.hooks[run.index].last_run
    done = dataclasses.replace(last, completed_at=duration.rfc3339(now_ms), phase=phase)
    return _set_run(run.hooks, run.index, done)


def _finish(run: Run, error: str, failed: bool) -> Run:
    return dataclasses.replace(run, stage="done", error=error, failed=failed, deadline_ms=None, cleanup=())


def _enter_cleanup(run: Run, cleanup: tuple[tuple[int, bool], ...], now_ms: int) -> Run:
    if not cleanup:
        return _finish(run, run.error, run.failed)
    return dataclasses.replace(run, stage="cleanup", cleanup=cleanup, deadline_ms=now_ms + run.timeout_ms)


def _after_delete(run: Run, step: Step, observed: Observed, now_ms: int) -> Run:
    error = observed.error
    if not error and observed.object is not None:
        if step.deadline_ms is not None and now_ms < step.deadline_ms:
            return run
        status, message = kstatus_of(observed.object)
        error = f"resource {step.target.identifier} still exists. status: {status}, message: {message}"
        error += "\n" + DEADLINE_EXCEEDED
    if run.stage == "before":
        return _finish(run, error, True) if error else _enter_create(run, now_ms)
    (_, only_logged), rest = run.cleanup[0], run.cleanup[1:]
    if error and not only_logged:
        return _finish(run, error, True)
    return _enter_cleanup(run, rest, now_ms)


def _after_create(run: Run, step: Step, observed: Observed, now_ms: int) -> Run:
    hook = run.hooks[run.index]
    if observed.error:
        hooks = _complete(run, "Failed", now_ms)
        error = f"warning: Hook {run.event} {hook.path} failed: {observed.error}"
        return _finish(dataclasses.replace(run, hooks=hooks), error, True)
    if step.target.kind in ("Job", "Pod"):
        unknown = dataclasses.replace(hook.last_run, phase="Unknown")
        hooks = _set_run(run.hooks, run.index, unknown)
        return dataclasses.replace(run, stage="await", hooks=hooks, deadline_ms=now_ms + run.timeout_ms)
    return _succeeded(run, now_ms)


def _after_await(run: Run, step: Step, observed: Observed, now_ms: int) -> Run:
    status, message = readiness(step.target, observed.object)
    if status == "Current":
        return _succeeded(run, now_ms)
    error = f"resource {step.target.identifier} not ready. status: {status}, message: {message}"
    if status != "Failed":
        if step.deadline_ms is not None and now_ms < step.deadline_ms:
            return run
        error += "\n" + DEADLINE_EXCEEDED
    failed = dataclasses.replace(run, hooks=_complete(run, "Failed", now_ms), error=error, failed=True)
    cleanup: list[tuple[int, bool]] = []
    if _deletes(run.hooks[run.index], HOOK_FAILED):
        cleanup.append((run.index, True))
    cleanup += [(i, False) for i in range(run.index) if _deletes(run.hooks[i], HOOK_SUCCEEDED)]
    return _enter_cleanup(failed, tuple(cleanup), now_ms)


def _succeeded(run: Run, now_ms: int) -> Run:
    run = dataclasses.replace(run, hooks=_complete(run, "Succeeded", now_ms))
    if run.index + 1 < len(run.hooks):
        return _enter_hook(run, run.index + 1, now_ms)
    last_first = range(len(run.hooks) - 1, -1, -1)
    cleanup = tuple((i, False) for i in last_first if _deletes(run.hooks[i], HOOK_SUCCEEDED))
    return _enter_cleanup(run, cleanup, now_ms)


def kstatus_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(status, message) of an object still there after a delete, as kstatus reads it."""
    result = kstatus.compute(dict(obj))
    return str(result.status), result.message


def _int(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _job(obj: Mapping[str, Any]) -> tuple[str, str]:
    """Helm's Job reader: ready only when complete (`jobConditions`)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    completions = _int(spec, "completions", _int(spec, "parallelism", 1))
    for cond in status.get("conditions") or ():
        if cond.get("type") == "Complete" and cond.get("status") == "True":
            return "Current", f"Job Completed. succeeded: {_int(status, 'succeeded', 0)}/{completions}"
        if cond.get("type") == "Failed" and cond.get("status") == "True":
            return "Failed", f"Job Failed. failed: {_int(status, 'failed', 0)}/{completions}"
    return "InProgress", "Job in progress"
