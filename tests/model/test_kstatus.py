"""kstatus rules, one row per fact of fluxcd/cli-utils `pkg/kstatus/status` (and Flux's Job reader)."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.model import cel, kstatus

S = kstatus.Status


def obj(
    api: str, kind: str, *, spec: Any = None, status: Any = None, generation: int = 1, **meta: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "default", "generation": generation, **meta},
    }
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    return out


def cond(ctype: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": ctype, "status": status, "reason": reason, "message": message}


DEPLOY_DONE = {
    "observedGeneration": 1,
    "replicas": 2,
    "updatedReplicas": 2,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "conditions": [cond("Available", "True"), cond("Progressing", "True", "NewReplicaSetAvailable")],
}

CASES = [
    (
        "being deleted is Terminating",
        obj("v1", "ConfigMap", deletionTimestamp="2025-01-01T00:00:00Z"),
        S.TERMINATING,
        "Resource scheduled for deletion",
    ),
    (
        "an unobserved generation is InProgress",
        obj("apps/v1", "Deployment", generation=2, spec={"replicas": 2}, status=DEPLOY_DONE),
        S.IN_PROGRESS,
        "Deployment generation is 2, but latest observed generation is 1",
    ),
    (
        "a rolled-out Deployment is Current",
        obj("apps/v1", "Deployment", spec={"replicas": 2}, status=DEPLOY_DONE),
        S.CURRENT,
        "Deployment is available. Replicas: 2",
    ),
    (
        "a Deployment short of updated replicas is InProgress",
        obj("apps/v1", "Deployment", spec={"replicas": 3}, status={**DEPLOY_DONE, "replicas": 3}),
        S.IN_PROGRESS,
        "Updated: 2/3",
    ),
    (
        "a Deployment with old Pods left is InProgress",
        obj("apps/v1", "Deployment", spec={"replicas": 1}, status={**DEPLOY_DONE, "updatedReplicas": 1}),
        S.IN_PROGRESS,
        "Pending termination: 1",
    ),
    (
        "a Deployment past its progress deadline is Failed",
        obj(
            "apps/v1",
            "Deployment",
            spec={"replicas": 2},
            status={**DEPLOY_DONE, "conditions": [cond("Progressing", "False", "ProgressDeadlineExceeded")]},
        ),
        S.FAILED,
        "Progress deadline exceeded",
    ),
    (
        "a Deployment not yet reported complete is InProgress",
        obj(
            "apps/v1",
            "Deployment",
            spec={"replicas": 2},
            status={
                **DEPLOY_DONE,
                "conditions": [cond("Available", "True"), cond("Progressing", "True", "ReplicaSetUpdated")],
            },
        ),
        S.IN_PROGRESS,
        "ReplicaSet not Available",
    ),
    (
        "a ReplicaSet short of ready Pods is InProgress",
        obj(
            "apps/v1",
            "ReplicaSet",
            spec={"replicas": 2},
            status={"replicas": 2, "fullyLabeledReplicas": 2, "availableReplicas": 2, "readyReplicas": 1},
        ),
        S.IN_PROGRESS,
        "Ready: 1/2",
    ),
    (
        "a StatefulSet with every replica updated and ready is Current",
        obj(
            "apps/v1",
            "StatefulSet",
            spec={"replicas": 2},
            status={"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2},
        ),
        S.CURRENT,
        "Partition rollout complete. updated: 2",
    ),
    (
        "a StatefulSet mid-rollout is InProgress",
        obj(
            "apps/v1",
            "StatefulSet",
            spec={"replicas": 2},
            status={"replicas": 2, "readyReplicas": 2, "updatedReplicas": 1},
        ),
        S.IN_PROGRESS,
        "updated: 1/2",
    ),
    (
        "a DaemonSet without an observed generation is InProgress",
        obj("apps/v1", "DaemonSet", status={"desiredNumberScheduled": 1}),
        S.IN_PROGRESS,
        "DaemonSet status.observedGeneration not found",
    ),
    (
        "a DaemonSet with its Pod not ready is InProgress",
        obj(
            "apps/v1",
            "DaemonSet",
            status={
                "observedGeneration": 1,
                "desiredNumberScheduled": 1,
                "currentNumberScheduled": 1,
                "updatedNumberScheduled": 1,
                "numberAvailable": 1,
                "numberReady": 0,
            },
        ),
        S.IN_PROGRESS,
        "Ready: 0/1",
    ),
    (
        "a running, ready Pod is Current",
        obj("v1", "Pod", status={"phase": "Running", "conditions": [cond("Ready", "True")]}),
        S.CURRENT,
        "Pod is Ready",
    ),
    (
        "a crash-looping Pod is Failed",
        obj(
            "v1",
            "Pod",
            status={
                "phase": "Running",
                "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
            },
        ),
        S.FAILED,
        "Containers in CrashLoop state: app",
    ),
    (
        "a Pod waiting for its image is only InProgress",
        obj(
            "v1",
            "Pod",
            status={
                "phase": "Pending",
                "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
            },
        ),
        S.IN_PROGRESS,
        "Pod is in the Pending phase",
    ),
    (
        "a failed Pod is Current (it has completed)",
        obj("v1", "Pod", status={"phase": "Failed"}),
        S.CURRENT,
        "Pod has completed, but not successfully",
    ),
    (
        "an unbound PVC is InProgress",
        obj("v1", "PersistentVolumeClaim", status={"phase": "Pending"}),
        S.IN_PROGRESS,
        "PVC is not Bound. phase: Pending",
    ),
    (
        "a Service is Current",
        obj("v1", "Service", spec={"type": "LoadBalancer"}),
        S.CURRENT,
        "Service is ready",
    ),
    (
        "a running Job is InProgress (Flux waits for completion)",
        obj("batch/v1", "Job", status={"startTime": "t", "active": 1}),
        S.IN_PROGRESS,
        "Job in progress. success:0, active: 1, failed: 0",
    ),
    (
        "a complete Job is Current",
        obj("batch/v1", "Job", status={"succeeded": 1, "conditions": [cond("Complete", "True")]}),
        S.CURRENT,
        "Job Completed. succeeded: 1/1",
    ),
    (
        "a failed Job is Failed",
        obj("batch/v1", "Job", status={"failed": 7, "conditions": [cond("Failed", "True")]}),
        S.FAILED,
        "Job Failed. failed: 7/1",
    ),
    (
        "an established CRD is Current",
        obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            status={"conditions": [cond("Established", "True")]},
        ),
        S.CURRENT,
        "CRD is established",
    ),
    ("a ConfigMap is always Current", obj("v1", "ConfigMap"), S.CURRENT, "Resource is always ready"),
    (
        "a Flux object Ready for its generation is Current",
        obj(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            status={"observedGeneration": 1, "conditions": [cond("Ready", "True")]},
        ),
        S.CURRENT,
        "Resource is Ready",
    ),
    (
        "a Flux object still reconciling is InProgress",
        obj(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            status={
                "conditions": [
                    cond("Reconciling", "True", message="Fetching manifests"),
                    cond("Ready", "Unknown"),
                ]
            },
        ),
        S.IN_PROGRESS,
        "Fetching manifests",
    ),
    (
        "a stalled object is Failed",
        obj(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            status={"conditions": [cond("Stalled", "True", message="invalid URL")]},
        ),
        S.FAILED,
        "invalid URL",
    ),
    (
        "an object with no conditions is Current",
        obj("example.com/v1", "Widget", status={}),
        S.CURRENT,
        "Resource is current",
    ),
]


@pytest.mark.parametrize(("case", "subject", "status", "message"), CASES, ids=[c[0] for c in CASES])
def test_kstatus_rules(case: str, subject: dict[str, Any], status: kstatus.Status, message: str) -> None:
    result = kstatus.compute(subject)
    assert (result.status, result.message) == (status, message)


def test_a_custom_check_takes_inprogress_then_failed_then_current() -> None:
    custom = kstatus.Custom.parse(
        {
            "current": "status.phase == 'Ready'",
            "inProgress": "status.phase == 'Ready' && has(status.pending)",
            "failed": "status.phase == 'Broken'",
        }
    )
    widget = obj("example.com/v1", "Widget", status={"phase": "Ready", "pending": True})
    assert kstatus.compute(widget, custom).status == S.IN_PROGRESS
    widget["status"] = {"phase": "Ready"}
    assert kstatus.compute(widget, custom).status == S.CURRENT
    widget["status"] = {"phase": "Broken"}
    assert kstatus.compute(widget, custom).status == S.FAILED
    widget["status"] = {"phase": "Other"}
    assert kstatus.compute(widget, custom).status == S.IN_PROGRESS


def test_a_custom_check_on_a_missing_key_is_unknown_with_cel_go_s_words() -> None:
    custom = kstatus.Custom.parse({"current": "data.foo == 'bar'"})
    result = kstatus.compute({**obj("v1", "ConfigMap"), "data": {}}, custom)
    assert result.error == "failed to evaluate the CEL expression 'data.foo == 'bar'': no such key: foo"


def test_a_custom_check_that_cannot_evaluate_is_unknown_with_the_error() -> None:
    custom = kstatus.Custom.parse({"current": "data.foo == 'bar'"})
    result = kstatus.compute(obj("v1", "ConfigMap"), custom)
    assert result.status == S.UNKNOWN
    assert (
        result.error
        == "failed to evaluate the CEL expression 'data.foo == 'bar'': no such attribute(s): data"
    )


def test_an_expression_that_does_not_parse_is_refused_with_flux_s_words() -> None:
    with pytest.raises(cel.CelError, match=r"^failed to parse the CEL expression 'status\.\(': "):
        kstatus.Custom.parse({"current": "status.("})
