"""Helm's hook execution plan: order, deletion policies, waiting, phases and Helm's errors.

Expected behaviour and texts come from Helm v4.2.1 pkg/action/hooks.go
(`execHookWithDelayedShutdown`), the actions that call it, pkg/kube/statuswait.go and
internal/statusreaders (Job and Pod readers).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gitops_sim.helm import hooks, storage

T0 = 1_714_557_600_000  # 2024-05-01T10:00:00Z
SECOND = 1_000
TIMEOUT = 300_000


def hook(
    name: str,
    *,
    kind: str = "Job",
    events: tuple[storage.HookEvent, ...] = ("pre-install",),
    weight: int = 0,
    policies: tuple[storage.HookDeletePolicy, ...] = (),
    namespace: str | None = None,
) -> storage.Hook:
    api = {
        "Job": "batch/v1",
        "Pod": "v1",
        "ConfigMap": "v1",
        "CustomResourceDefinition": "apiextensions.k8s.io/v1",
    }
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return storage.Hook(
        name=name,
        kind=kind,
        path=f"podinfo/templates/{name}.yaml",
        manifest=f"apiVersion: {api[kind]}\nkind: {kind}\nmetadata:\n  name: {name}{ns}\n",
        events=events,
        weight=weight,
        delete_policies=policies,
    )


def job(name: str, condition: str | None = None, **status: int) -> dict[str, Any]:
    conds = [{"type": condition, "status": "True"}] if condition else []
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "apps"},
        "status": {"conditions": conds, **status},
    }


def pod(name: str, phase: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "apps"},
        "status": {"phase": phase},
    }


def start(
    *release_hooks: storage.Hook, event: storage.HookEvent = "pre-install", timeout_ms: int = TIMEOUT
) -> hooks.Run:
    return hooks.start(event, release_hooks, release_namespace="apps", timeout_ms=timeout_ms, now_ms=T0)


GONE = hooks.Observed(object=None)
CREATED = hooks.Observed()


def steps(
    run: hooks.Run, *observations: hooks.Observed, now_ms: int = T0
) -> tuple[hooks.Run, list[tuple[str, str]]]:
    """Advance through the observations; the (op, hook name) of each step done."""
    done: list[tuple[str, str]] = []
    for observed in observations:
        step = run.step
        assert step is not None
        done.append((step.op, run.hooks[step.hook].name))
        run = hooks.advance(run, observed, now_ms)
    return run, done


# --- order and the plan --------------------------------------------------------------------------


def test_hooks_run_by_weight_then_name_and_only_for_their_event() -> None:
    release_hooks = [
        hook("b", weight=1),
        hook("z", weight=-1),
        hook("a", weight=1),
        hook("other", events=("post-install",)),
        hook("both", events=("post-install", "pre-install"), weight=1),
    ]
    assert [release_hooks[i].name for i in hooks.ordered(release_hooks, "pre-install")] == [
        "z",
        "a",
        "b",
        "both",
    ]


def test_an_event_without_hooks_is_finished_at_once_without_error() -> None:
    run = start(hook("later", events=("post-install",)))
    assert (run.finished, run.step, run.error) == (True, None, "")


def test_a_hook_without_a_deletion_policy_gets_before_hook_creation() -> None:
    run = start(hook("migrate"))
    assert run.hooks[0].delete_policies == ("before-hook-creation",)


def test_the_first_step_deletes_the_previous_hook_object() -> None:
    step = start(hook("migrate")).step
    assert step is not None
    assert (step.op, step.target.identifier, step.deadline_ms) == ("delete", "Job/apps/migrate", T0 + TIMEOUT)


def test_creating_records_the_release_with_the_hook_running() -> None:
    run = hooks.advance(start(hook("migrate")), GONE, T0 + SECOND)
    step = run.step
    assert step is not None
    assert (step.op, step.record_release, step.deadline_ms) == ("create", True, None)
    assert run.hooks[0].last_run == storage.HookExecution(started_at="2024-05-01T10:00:01Z", phase="Running")


def test_the_hook_object_is_created_in_the_release_namespace_unless_it_names_one() -> None:
    run = start(hook("a"), hook("b", namespace="jobs", weight=1))
    assert [(t.namespace, t.object["metadata"]) for t in run.targets] == [
        ("apps", {"name": "a", "namespace": "apps"}),
        ("jobs", {"name": "b", "namespace": "jobs"}),
    ]


def test_a_job_hook_succeeds_when_complete() -> None:
    run, done = steps(
        start(hook("migrate")), GONE, CREATED, hooks.Observed(job("migrate", "Complete", succeeded=1))
    )
    assert done == [("delete", "migrate"), ("create", "migrate"), ("await", "migrate")]
    assert (run.finished, run.failed, run.error) == (True, False, "")
    assert run.hooks[0].last_run == storage.HookExecution(
        started_at="2024-05-01T10:00:00Z", completed_at="2024-05-01T10:00:00Z", phase="Succeeded"
    )


def test_a_running_job_is_awaited_until_its_deadline() -> None:
    run, _ = steps(start(hook("migrate")), GONE, CREATED)
    waiting = hooks.advance(run, hooks.Observed(job("migrate")), T0 + TIMEOUT - 1)
    assert waiting is run


def test_a_job_still_running_at_the_deadline_fails_with_helms_timeout_error() -> None:
    run, _ = steps(start(hook("migrate")), GONE, CREATED)
    run = hooks.advance(run, hooks.Observed(job("migrate")), T0 + TIMEOUT)
    assert (run.finished, run.error) == (
        True,
        "resource Job/apps/migrate not ready. status: InProgress, message: Job in progress"
        "\ncontext deadline exceeded",
    )
    assert run.hooks[0].last_run.phase == "Failed"


def test_a_timeout_of_zero_waits_helms_default_thirty_seconds() -> None:
    step = start(hook("migrate"), timeout_ms=0).step
    assert step is not None and step.deadline_ms == T0 + 30_000


@pytest.mark.parametrize(
    ("kind", "observed", "error"),
    [
        pytest.param(
            "Job",
            job("check", "Failed", failed=1),
            "resource Job/apps/check not ready. status: Failed, message: Job Failed. failed: 1/1",
            id="job",
        ),
        pytest.param(
            "Pod",
            pod("check", "Failed"),
            "resource Pod/apps/check not ready. status: Failed, message: pod check failed",
            id="pod",
        ),
    ],
)
def test_a_failed_hook_fails_at_once_with_helms_error(
    kind: str, observed: dict[str, Any], error: str
) -> None:
    run, _ = steps(start(hook("check", kind=kind)), GONE, CREATED, hooks.Observed(observed))
    assert (run.finished, run.failed, run.error, run.hooks[0].last_run.phase) == (True, True, error, "Failed")


def test_a_pod_hook_succeeds_when_its_phase_is_succeeded() -> None:
    run, _ = steps(start(hook("check", kind="Pod")), GONE, CREATED, hooks.Observed(pod("check", "Succeeded")))
    assert (run.finished, run.error, run.hooks[0].last_run.phase) == (True, "", "Succeeded")


def test_a_hook_of_another_kind_is_not_awaited() -> None:
    run, done = steps(start(hook("settings", kind="ConfigMap")), GONE, CREATED)
    assert done == [("delete", "settings"), ("create", "settings")]
    assert (run.finished, run.error, run.hooks[0].last_run.phase) == (True, "", "Succeeded")


def test_a_hook_that_cannot_be_created_fails_without_deleting_anything() -> None:
    run = start(hook("a", policies=("hook-failed",)))
    run, done = steps(run, hooks.Observed(error='jobs.batch "a" is forbidden'))
    assert done == [("create", "a")]
    assert (run.finished, run.error) == (
        True,
        'warning: Hook pre-install podinfo/templates/a.yaml failed: jobs.batch "a" is forbidden',
    )
    assert run.hooks[0].last_run.phase == "Failed"


# --- deletion policies ---------------------------------------------------------------------------


def test_hook_succeeded_hooks_are_deleted_last_first_after_all_succeed() -> None:
    run = start(hook("a", policies=("hook-succeeded",)), hook("b", weight=1, policies=("hook-succeeded",)))
    complete = hooks.Observed(job("x", "Complete"))
    run, done = steps(run, CREATED, complete, CREATED, complete, GONE, GONE)
    assert done == [
        ("create", "a"),
        ("await", "a"),
        ("create", "b"),
        ("await", "b"),
        ("delete", "b"),
        ("delete", "a"),
    ]
    assert (run.finished, run.error) == (True, "")


def test_after_a_failure_the_failed_hook_then_the_earlier_succeeded_hooks_are_deleted() -> None:
    run = start(
        hook("a", policies=("hook-succeeded",)),
        hook("b", weight=1, policies=("hook-succeeded",)),
        hook("c", weight=2, policies=("hook-failed",)),
    )
    complete, failed = hooks.Observed(job("x", "Complete")), hooks.Observed(job("c", "Failed", failed=1))
    run, done = steps(run, CREATED, complete, CREATED, complete, CREATED, failed, GONE, GONE, GONE)
    assert done[-3:] == [("delete", "c"), ("delete", "a"), ("delete", "b")]
    assert run.error == "resource Job/apps/c not ready. status: Failed, message: Job Failed. failed: 1/1"


def test_an_error_deleting_the_failed_hook_is_only_logged() -> None:
    run = start(hook("c", policies=("hook-failed",)))
    run, _ = steps(run, CREATED, hooks.Observed(job("c", "Failed", failed=1)), hooks.Observed(error="boom"))
    assert (run.finished, run.error) == (
        True,
        "resource Job/apps/c not ready. status: Failed, message: Job Failed. failed: 1/1",
    )


def test_an_error_deleting_a_succeeded_hook_is_the_events_error() -> None:
    run = start(hook("a", policies=("hook-succeeded",)))
    run, _ = steps(run, CREATED, hooks.Observed(job("a", "Complete")), hooks.Observed(error="boom"))
    assert (run.finished, run.failed, run.error) == (True, True, "boom")


def test_a_hook_object_that_outlives_the_deletion_deadline_fails_the_event() -> None:
    terminating = job("migrate") | {
        "metadata": {"name": "migrate", "deletionTimestamp": "2024-05-01T10:00:00Z"}
    }
    run = hooks.advance(start(hook("migrate")), hooks.Observed(terminating), T0 + TIMEOUT)
    assert run.error == (
        "resource Job/apps/migrate still exists. status: Terminating, "
        "message: Resource scheduled for deletion\ncontext deadline exceeded"
    )
    assert run.hooks[0].last_run == storage.HookExecution()


def test_a_hook_object_still_being_deleted_is_awaited() -> None:
    run = start(hook("migrate"))
    assert hooks.advance(run, hooks.Observed(job("migrate")), T0 + SECOND) is run


def test_custom_resource_definitions_are_never_deleted() -> None:
    crd = hook("crd", kind="CustomResourceDefinition", policies=("before-hook-creation", "hook-succeeded"))
    run, done = steps(start(crd), CREATED)
    assert done == [("create", "crd")]
    assert (run.finished, run.error) == (True, "")


# --- errors and the release -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        pytest.param("pre-install", "failed pre-install: oops", id="pre-install"),
        pytest.param("post-install", "failed post-install: oops", id="post-install"),
        pytest.param("pre-upgrade", "pre-upgrade hooks failed: oops", id="pre-upgrade"),
        pytest.param("post-upgrade", "post-upgrade hooks failed: oops", id="post-upgrade"),
        pytest.param("pre-rollback", "oops", id="pre-rollback"),
        pytest.param("post-delete", "oops", id="post-delete"),
        pytest.param("test", "oops", id="test"),
    ],
)
def test_actions_wrap_hook_errors_as_helm_does(event: storage.HookEvent, message: str) -> None:
    assert hooks.action_error(event, "oops") == message


def test_merged_hooks_carry_the_last_run_and_default_policy_back_into_the_release() -> None:
    release_hooks = (hook("test", events=("test",)), hook("migrate"))
    run, _ = steps(start(*release_hooks), GONE, CREATED, hooks.Observed(job("migrate", "Complete")))
    merged = hooks.merge_hooks(release_hooks, run)
    assert merged[0] == release_hooks[0]
    assert merged[1] == dataclasses.replace(
        release_hooks[1],
        delete_policies=("before-hook-creation",),
        last_run=storage.HookExecution("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "Succeeded"),
    )
