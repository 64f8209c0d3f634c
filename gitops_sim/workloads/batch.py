"""The Job controller of kube-controller-manager, simulated (kubernetes `pkg/controller/job`).

A Job runs `parallelism` Pods at a time (default 1) until `completions` (default 1) have
succeeded: then `SuccessCriteriaMet` and `Complete` (reason CompletionsReached, "Reached expected
number of succeeded pods"), `completionTime`. Each failed Pod counts in `status.failed`; past
`backoffLimit` (default 6) the Job gets `FailureTarget` and `Failed` (reason BackoffLimitExceeded,
"Job has reached the specified backoff limit") and its running Pods are deleted. A new Pod after a
failure waits the controller's back-off (10s doubling, up to 6m).

Differences, on purpose: indexed completions, pod failure policies, `activeDeadlineSeconds`,
suspend and TTL-after-finished are not simulated.

Callers: the engine, on MemoryCluster only. Never reads the real time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.model import duration, objects, refs
from gitops_sim.reconcile import base, registry
from gitops_sim.workloads import pods

JOB = refs.GVK("batch", "v1", "Job")
DEFAULT_BACKOFF_LIMIT = 6
MAX_BACKOFF_MS = 360_000


@dataclass(slots=True)
class JobController:
    rt: base.Runtime
    rng: random.Random
    name: str = "job-controller"
    gvk: refs.GVK = JOB

    def watches(self) -> list[base.Watch]:
        return [base.Watch(pods.POD.group_kind, pods.on_owned_change("Job"))]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        job = pods.fetch(self.rt, ref)
        if job is None or _finished(job.get("status") or {}):
            return base.Result()
        previous = dict(job.get("status") or {})
        spec = job.get("spec") or {}
        completions = _int(spec, "completions", 1)
        parallelism = _int(spec, "parallelism", 1)
        limit = _int(spec, "backoffLimit", DEFAULT_BACKOFF_LIMIT)
        owned = pods.owned_by(self.rt.cluster, pods.POD.group_kind, job)
        succeeded = sum(1 for p in owned if pods.phase(p) == "Succeeded")
        failed = sum(1 for p in owned if pods.phase(p) == "Failed")
        live = [p for p in owned if pods.active(p)]
        now = self.rt.now()
        status: dict[str, Any] = {"startTime": previous.get("startTime") or now}
        conditions: list[dict[str, Any]] = list(previous.get("conditions") or [])
        requeue: int | None = None
        if failed > limit:
            for pod in live:
                self.rt.cluster.delete(objects.ref_of(pod))
            live = []
            message = "Job has reached the specified backoff limit"
            for ctype in ("FailureTarget", "Failed"):
                conditions.append(_condition(ctype, "BackoffLimitExceeded", message, now))
            self._event(job, base.EventType.WARNING, "BackoffLimitExceeded", message)
        elif succeeded >= completions:
            message = "Reached expected number of succeeded pods"
            for ctype in ("SuccessCriteriaMet", "Complete"):
                conditions.append(_condition(ctype, "CompletionsReached", message, now))
            status["completionTime"] = now
            self._event(job, base.EventType.NORMAL, "Completed", "Job completed")
        else:
            missing = min(parallelism, completions - succeeded) - len(live)
            wait = self._backoff_left(owned, failed)
            if missing > 0 and wait > 0:
                requeue = wait
            elif missing > 0:
                labels = {
                    "batch.kubernetes.io/controller-uid": job["metadata"]["uid"],
                    "batch.kubernetes.io/job-name": ref.name,
                    "controller-uid": job["metadata"]["uid"],
                    "job-name": ref.name,
                }
                for _ in range(missing):
                    pod_name = f"{ref.name}-{pods.random_suffix(self.rng)}"
                    self.rt.cluster.create(pods.new_pod(job, pod_name, labels), field_manager=self.name)
                    self._event(job, base.EventType.NORMAL, "SuccessfulCreate", f"Created pod: {pod_name}")
                live = [p for p in pods.owned_by(self.rt.cluster, pods.POD.group_kind, job) if pods.active(p)]
        status |= {
            "active": len(live),
            "ready": sum(1 for p in live if pods.ready(p)),
            "succeeded": succeeded,
            "failed": failed,
            "terminating": 0,
        }
        status = {k: v for k, v in status.items() if v or k in ("ready", "terminating")}
        if conditions:
            status["conditions"] = conditions
        pods.write_status(self.rt, job, status, self.name)
        return base.Result(requeue_after=requeue)

    def _backoff_left(self, owned: list[objects.RawObject], failed: int) -> int:
        """How long until a Pod may be created after the last failure (0: now)."""
        if not failed:
            return 0
        finished = [
            duration.parse_rfc3339(str(s["state"]["terminated"]["finishedAt"]))
            for p in owned
            if pods.phase(p) == "Failed"
            for s in (p.get("status") or {}).get("containerStatuses") or []
            if "terminated" in (s.get("state") or {})
        ]
        if not finished:
            return 0
        delay = min(pods.BACKOFF_START_MS * 2 ** (failed - 1), MAX_BACKOFF_MS)
        return int(max(0, max(finished) + delay - (self.rt.clock.epoch_ms + self.rt.clock.now())))

    def _event(self, job: objects.RawObject, etype: base.EventType, reason: str, message: str) -> None:
        self.rt.recorder.event(job, type=etype, reason=reason, message=message, controller=self.name)


def _int(spec: dict[str, Any], key: str, default: int) -> int:
    value = spec.get(key)
    return default if value is None else int(value)


def _finished(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def _condition(ctype: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": "True",
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def pod_names(self) -> random.Random: ...


def _build(services: _Services) -> base.Reconciler:
    return JobController(services.runtime, services.pod_names)


registry.register(registry.Entry("job", JOB.group_kind, _build, order=140, workload=True))
