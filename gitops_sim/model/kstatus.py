"""kstatus: is an object Current, InProgress, Failed, Terminating, NotFound or Unknown?

Provenance: behaviour of fluxcd/cli-utils `pkg/kstatus/status` (core.go, generic.go), Flux's
custom Job status reader (a Job is Current only once Complete) and fluxcd/pkg `runtime/cel`
status evaluation for `healthCheckExprs`; our own code. Messages are kstatus's.

Rules, in order: `deletionTimestamp` → Terminating; `status.observedGeneration` ≠
`metadata.generation` → InProgress; Reconciling=True → InProgress; Stalled=True → Failed; then
the kind's rule (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, PVC, Service, Job, CRD,
PodDisruptionBudget; ConfigMap, Secret and CronJob are always Current); otherwise the Ready
condition (True → Current, else InProgress), and Current when there is none. Where kstatus reads
a field the apiserver defaults (a Deployment's progressDeadlineSeconds, a StatefulSet's
partition, a Service's clusterIP), the default is assumed, since our store does not default
built-in kinds. Flux objects fall under the Ready rule (with the generation rule, that is
"Ready=True for the current generation"); Flux's CRDs default `status.observedGeneration` to -1
(`fluxapi.declare.Version.status_default`), so a Flux object no controller has reported on is InProgress.
A kind with a custom CEL check (`Custom`) is judged by it alone after the generation rule:
`inProgress`, then `failed`, then `current`, the first true wins, none true is InProgress; an
evaluation error is Unknown.

Callers: the Kustomization controller's health checks. Pure: never touches the cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gitops_sim.model import cel, objects


class Status(StrEnum):
    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class Result:
    status: Status
    message: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Custom:
    """A `healthCheckExprs` entry, parsed."""

    current: cel.Expression | None
    in_progress: cel.Expression | None
    failed: cel.Expression | None

    @classmethod
    def parse(cls, entry: dict[str, Any]) -> Custom:
        def parse(key: str) -> cel.Expression | None:
            text = entry.get(key)
            return cel.Expression.parse(str(text)) if text else None

        return cls(parse("current"), parse("inProgress"), parse("failed"))

    def evaluate(self, obj: objects.RawObject) -> Result:
        variables = {k: v for k, v in obj.items()}
        try:
            for expr, status in (
                (self.in_progress, Status.IN_PROGRESS),
                (self.failed, Status.FAILED),
                (self.current, Status.CURRENT),
            ):
                if expr is not None and expr.evaluate(variables):
                    return Result(status)
        except cel.CelError as exc:
            return Result(Status.UNKNOWN, error=str(exc))
        return Result(Status.IN_PROGRESS)


def compute(obj: objects.RawObject, custom: Custom | None = None) -> Result:
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Result(Status.TERMINATING, "Resource scheduled for deletion")
    status = obj.get("status") or {}
    observed = status.get("observedGeneration")
    generation = meta.get("generation")
    if observed is not None and generation is not None and int(observed) != int(generation):
        kind = obj.get("kind", "")
        return Result(
            Status.IN_PROGRESS,
            f"{kind} generation is {generation}, but latest observed generation is {observed}",
        )
    if custom is not None:
        return custom.evaluate(obj)
    conds = _conditions(obj)
    reconciling = conds.get("Reconciling") or {}
    if reconciling.get("status") == "True":
        return Result(Status.IN_PROGRESS, str(reconciling.get("message", "")))
    stalled = conds.get("Stalled") or {}
    if stalled.get("status") == "True":
        return Result(Status.FAILED, str(stalled.get("message", "")))
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    rule = _RULES.get((group, str(obj.get("kind", ""))))
    if rule is not None:
        return rule(obj)
    ready = conds.get("Ready")
    if ready is None:
        return Result(Status.CURRENT, "Resource is current")
    if ready.get("status") == "True":
        return Result(Status.CURRENT, "Resource is Ready")
    return Result(Status.IN_PROGRESS, str(ready.get("message", "")))


def _conditions(obj: objects.RawObject) -> dict[str, dict[str, Any]]:
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions") or []}


def _int(status: dict[str, Any], key: str) -> int:
    return int(status.get(key) or 0)


def _spec_replicas(obj: objects.RawObject) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _deployment(obj: objects.RawObject) -> Result:
    """`progressDeadlineSeconds` is taken as the apiserver defaults it (600), so a Deployment
    is Current only after the controller reports NewReplicaSetAvailable."""
    status = obj.get("status") or {}
    conds = _conditions(obj)
    progressing = conds.get("Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return Result(Status.FAILED, "Progress deadline exceeded")
    complete = progressing.get("status") == "True" and progressing.get("reason") == "NewReplicaSetAvailable"
    want = _spec_replicas(obj)
    replicas, updated = _int(status, "replicas"), _int(status, "updatedReplicas")
    available, ready = _int(status, "availableReplicas"), _int(status, "readyReplicas")
    if want > replicas:
        return Result(Status.IN_PROGRESS, f"Replicas: {replicas}/{want}")
    if want > updated:
        return Result(Status.IN_PROGRESS, f"Updated: {updated}/{want}")
    if replicas > want:
        return Result(Status.IN_PROGRESS, f"Pending termination: {replicas - want}")
    if updated > available:
        return Result(Status.IN_PROGRESS, f"Available: {available}/{updated}")
    if want > ready:
        return Result(Status.IN_PROGRESS, f"Ready: {ready}/{want}")
    if not complete:
        return Result(Status.IN_PROGRESS, "ReplicaSet not Available")
    if (conds.get("Available") or {}).get("status") != "True":
        return Result(Status.IN_PROGRESS, "Deployment not Available")
    return Result(Status.CURRENT, f"Deployment is available. Replicas: {replicas}")


def _replica_set(obj: objects.RawObject) -> Result:
    status = obj.get("status") or {}
    want = _spec_replicas(obj)
    for key, label in (
        ("fullyLabeledReplicas", "Labelled"),
        ("availableReplicas", "Available"),
        ("readyReplicas", "Ready"),
    ):
        if _int(status, key) < want:
            return Result(Status.IN_PROGRESS, f"{label}: {_int(status, key)}/{want}")
    if _int(status, "replicas") > want:
        return Result(Status.IN_PROGRESS, f"Pending termination: {_int(status, 'replicas') - want}")
    return Result(Status.CURRENT, f"ReplicaSet is available. Replicas: {_int(status, 'replicas')}")


def _stateful_set(obj: objects.RawObject) -> Result:
    """The apiserver defaults `rollingUpdate.partition` to 0, so kstatus's partition branch
    applies: Current once every replica is updated and ready."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete":
        return Result(Status.CURRENT, "StatefulSet is using the ondelete update strategy")
    want = _spec_replicas(obj)
    replicas, ready = _int(status, "replicas"), _int(status, "readyReplicas")
    if want > replicas:
        return Result(Status.IN_PROGRESS, f"Replicas: {replicas}/{want}")
    if want > ready:
        return Result(Status.IN_PROGRESS, f"Ready: {ready}/{want}")
    if replicas > want:
        return Result(Status.IN_PROGRESS, f"Pending termination: {replicas - want}")
    partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
    updated = _int(status, "updatedReplicas")
    if updated < want - partition:
        return Result(Status.IN_PROGRESS, f"updated: {updated}/{want - partition}")
    return Result(Status.CURRENT, f"Partition rollout complete. updated: {updated}")


def _daemon_set(obj: objects.RawObject) -> Result:
    status = obj.get("status") or {}
    desired = _int(status, "desiredNumberScheduled")
    if "observedGeneration" not in status:
        return Result(Status.IN_PROGRESS, f"{obj.get('kind')} status.observedGeneration not found")
    if "desiredNumberScheduled" not in status:
        return Result(Status.IN_PROGRESS, "Missing .status.desiredNumberScheduled")
    for key, label in (
        ("currentNumberScheduled", "Current"),
        ("updatedNumberScheduled", "Updating"),
        ("numberAvailable", "Available"),
        ("numberReady", "Ready"),
    ):
        if _int(status, key) < desired:
            return Result(Status.IN_PROGRESS, f"{label}: {_int(status, key)}/{desired}")
    return Result(Status.CURRENT, f"All replicas scheduled as expected. Replicas: {desired}")


def _pod(obj: objects.RawObject) -> Result:
    status = obj.get("status") or {}
    phase = status.get("phase", "")
    if phase == "Succeeded":
        return Result(Status.CURRENT, "Pod has completed successfully")
    if phase == "Failed":
        return Result(Status.CURRENT, "Pod has completed, but not successfully")
    if phase == "Running":
        if (_conditions(obj).get("Ready") or {}).get("status") == "True":
            return Result(Status.CURRENT, "Pod is Ready")
        crashing = [
            str(c.get("name"))
            for c in status.get("containerStatuses") or []
            if ((c.get("state") or {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
        ]
        if crashing:
            return Result(Status.FAILED, f"Containers in CrashLoop state: {','.join(crashing)}")
        return Result(Status.IN_PROGRESS, "Pod is running but is not Ready")
    if phase == "Pending":
        return Result(Status.IN_PROGRESS, "Pod is in the Pending phase")
    return Result(Status.IN_PROGRESS, "Pod phase not available")


def _pvc(obj: objects.RawObject) -> Result:
    phase = (obj.get("status") or {}).get("phase", "")
    if phase == "Bound":
        return Result(Status.CURRENT, "PVC is Bound")
    return Result(Status.IN_PROGRESS, f"PVC is not Bound. phase: {phase}")


def _job(obj: objects.RawObject) -> Result:
    conds = _conditions(obj)
    status = obj.get("status") or {}
    if (conds.get("Failed") or {}).get("status") == "True":
        return Result(
            Status.FAILED, "Job Failed. failed: {}/{}".format(_int(status, "failed"), _completions(obj))
        )
    if (conds.get("Complete") or {}).get("status") == "True":
        return Result(
            Status.CURRENT, f"Job Completed. succeeded: {_int(status, 'succeeded')}/{_completions(obj)}"
        )
    if not status.get("startTime"):
        return Result(Status.IN_PROGRESS, "Job not started")
    return Result(
        Status.IN_PROGRESS,
        f"Job in progress. success:{_int(status, 'succeeded')}, active: {_int(status, 'active')}, "
        f"failed: {_int(status, 'failed')}",
    )


def _completions(obj: objects.RawObject) -> int:
    value = (obj.get("spec") or {}).get("completions")
    return 1 if value is None else int(value)


def _crd(obj: objects.RawObject) -> Result:
    conds = _conditions(obj)
    accepted, established = conds.get("NamesAccepted") or {}, conds.get("Established") or {}
    if accepted.get("status") == "False":
        return Result(Status.FAILED, str(accepted.get("message", "")))
    if established.get("status") == "False" and established.get("reason") != "Installing":
        return Result(Status.FAILED, str(established.get("message", "")))
    if established.get("status") == "True":
        return Result(Status.CURRENT, "CRD is established")
    return Result(Status.IN_PROGRESS, "Install in progress")


def _always(obj: objects.RawObject) -> Result:
    return Result(Status.CURRENT, "Resource is always ready")


def _current(message: str) -> Callable[[objects.RawObject], Result]:
    return lambda _obj: Result(Status.CURRENT, message)


_RULES = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replica_set,
    ("apps", "StatefulSet"): _stateful_set,
    ("apps", "DaemonSet"): _daemon_set,
    ("", "Pod"): _pod,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _current("Service is ready"),
    ("", "ConfigMap"): _always,
    ("", "Secret"): _always,
    ("batch", "CronJob"): _always,
    ("batch", "Job"): _job,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    ("policy", "PodDisruptionBudget"): _current("AllowedDisruptions has been computed."),
}
