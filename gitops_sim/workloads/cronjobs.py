"""The CronJob controller (v2) of kube-controller-manager, simulated (kubernetes
`pkg/controller/cronjob` cronjob_controllerv2.go and utils.go; behaviour learned there, our own
code). Schedules are read by `model.cron` (robfig/cron's standard parser).

Each sync of a CronJob:
- reads the Jobs it controls: a finished one still listed in `status.active` is dropped from it
  (`SawCompletedJob`, "Saw completed job: <job>, condition: Complete"), a successful one moves
  `status.lastSuccessfulTime` to its completion time, an active one that is gone is dropped
  (`MissingJob`), an unfinished one it does not list is reported (`UnexpectedJob`);
- stops there when the CronJob is being deleted, its `timeZone` is unknown (`UnknownTimeZone`), it
  is suspended, or its schedule does not parse (`UnparseableSchedule`; a schedule naming `TZ` or
  `CRON_TZ` also gets `UnsupportedSchedule`);
- finds the most recent scheduled time that has passed since `status.lastScheduleTime` (or the
  creation time), as `mostRecentScheduleTime` does (more than 100 missed: `TooManyMissedTimes`);
  past `startingDeadlineSeconds` it is missed (`MissSchedule`); already run, it is skipped; with
  `concurrencyPolicy: Forbid` and a Job active it waits (`JobAlreadyActive`); with `Replace` the
  active Jobs are deleted (`SuccessfulDelete`);
- creates the Job `<cronjob>-<scheduled time in minutes since the epoch>` from `jobTemplate`
  (labels and annotations, plus `batch.kubernetes.io/cronjob-scheduled-timestamp` in the
  CronJob's time zone), controlled by the CronJob (`SuccessfulCreate`, "Created job <job>"), lists
  it in `status.active` and sets `status.lastScheduleTime`;
- deletes the oldest finished Jobs beyond `successfulJobsHistoryLimit` (3) and
  `failedJobsHistoryLimit` (1) (`SuccessfulDelete`, "Deleted job <job>");
- comes back 100ms after the next scheduled time.
The Job controller (`workloads.batch`) runs the Jobs.

Differences, on purpose: a Job that finished is dropped from `active` and counted in
`lastSuccessfulTime` in the same sync (the real controller may take two); a Job that already
exists under the name the controller would give is left alone, and the time counts as missed.

Callers: the engine (one work queue), on MemoryCluster only. Never reads the real time.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Protocol

from gitops_sim.cluster import errors
from gitops_sim.model import cron, duration, objects, refs
from gitops_sim.reconcile import base, registry
from gitops_sim.workloads import batch, pods

CRONJOB = refs.GVK("batch", "v1", "CronJob")
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
NEXT_SCHEDULE_DELTA_MS = 100
MISSED_LIMIT = 100


class _Invalid(Exception):
    """A schedule that parses but cannot be followed (`mostRecentScheduleTime`'s error)."""


@dataclass(slots=True)
class CronJobController:
    rt: base.Runtime
    name: str = "cronjob-controller"
    gvk: refs.GVK = CRONJOB

    def watches(self) -> list[base.Watch]:
        return [base.Watch(batch.JOB.group_kind, pods.on_owned_change("CronJob"))]

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        try:
            cj = self.rt.cluster.get(ref)
        except errors.NotFound:
            return base.Result()
        before = objects.deep_copy(cj.get("status") or {})
        status = objects.deep_copy(before)
        jobs = [
            j
            for j in self.rt.cluster.list(batch.JOB.group_kind, namespace=ref.namespace)
            if (pods.controller_of(j) or {}).get("name") == ref.name
            and (pods.controller_of(j) or {}).get("kind") == "CronJob"
        ]
        self._observe(cj, status, jobs)
        requeue = self._schedule(cj, status)
        self._clean_up(cj, status, jobs)
        if not status.get("active"):
            status.pop("active", None)
        if status != before:
            pods.write_status(self.rt, cj, status, self.name)
        return base.Result(requeue_after=requeue)

    def _observe(self, cj: objects.RawObject, status: dict[str, Any], jobs: list[objects.RawObject]) -> None:
        active = list(status.get("active") or [])
        for job in sorted(jobs, key=lambda j: str(j["metadata"]["name"])):
            uid = job["metadata"]["uid"]
            listed = any(a.get("uid") == uid for a in active)
            condition = _finished(job)
            if condition is None:
                if not listed:
                    self._event(
                        cj,
                        base.EventType.WARNING,
                        "UnexpectedJob",
                        f"Saw a job that the controller did not create or forgot: {job['metadata']['name']}",
                    )
                continue
            if listed:
                active = [a for a in active if a.get("uid") != uid]
                self._event(
                    cj,
                    base.EventType.NORMAL,
                    "SawCompletedJob",
                    f"Saw completed job: {job['metadata']['name']}, condition: {condition}",
                )
            ended = (job.get("status") or {}).get("completionTime")
            if condition == "Complete" and ended:
                last = status.get("lastSuccessfulTime")
                if not last or duration.parse_rfc3339(str(ended)) > duration.parse_rfc3339(str(last)):
                    status["lastSuccessfulTime"] = ended
        uids = {j["metadata"]["uid"] for j in jobs}
        for gone in [a for a in active if a.get("uid") not in uids]:
            active.remove(gone)
            self._event(
                cj, base.EventType.NORMAL, "MissingJob", f"Active job went missing: {gone.get('name')}"
            )
        status["active"] = active

    def _schedule(self, cj: objects.RawObject, status: dict[str, Any]) -> int | None:
        """Start the Job that is due, if any; how long until the next sync (None: none planned)."""
        spec = cj.get("spec") or {}
        if cj["metadata"].get("deletionTimestamp"):
            return None
        zone_name = spec.get("timeZone")
        zone: _dt.tzinfo = _dt.UTC
        if zone_name is not None:
            try:
                zone = cron.zone(str(zone_name))
            except cron.CronError as exc:
                self._event(
                    cj, base.EventType.WARNING, "UnknownTimeZone", f'invalid timeZone: "{zone_name}": {exc}'
                )
                return None
        if spec.get("suspend"):
            return None
        text = str(spec.get("schedule") or "")
        if "TZ" in text:
            self._event(
                cj,
                base.EventType.WARNING,
                "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{text}" is not officially supported, see '
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
            )
        elif zone_name is not None:
            text = f"TZ={zone_name} {text}"
        try:
            schedule = cron.parse(text)
        except cron.CronError as exc:
            self._event(
                cj,
                base.EventType.WARNING,
                "UnparseableSchedule",
                f'unparseable schedule: "{spec.get("schedule", "")}" : {exc}',
            )
            return None
        now = self.rt.clock.epoch_ms + self.rt.clock.now()
        try:
            _, scheduled, missed = _most_recent(cj, status, now, schedule, deadline=True)
        except _Invalid as exc:
            self._event(
                cj,
                base.EventType.WARNING,
                "InvalidSchedule",
                f"invalid schedule: {spec.get('schedule', '')} : {exc}",
            )
            return None
        if scheduled is None or scheduled > now:
            return _until_next(cj, status, now, schedule)
        if missed > MISSED_LIMIT:
            self._event(
                cj,
                base.EventType.WARNING,
                "TooManyMissedTimes",
                f"too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew",
            )
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + int(deadline) * 1000 < now:
            moment = _dt.datetime.fromtimestamp(scheduled // 1000, tz=_dt.UTC)
            self._event(
                cj,
                base.EventType.WARNING,
                "MissSchedule",
                f"Missed scheduled time to start a job: {moment.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
            )
            return _until_next(cj, status, now, schedule)
        name = f"{cj['metadata']['name']}-{scheduled // 60_000}"
        last = status.get("lastScheduleTime")
        active = status.get("active") or []
        if any(a.get("name") == name for a in active) or (
            last and duration.parse_rfc3339(str(last)) == scheduled // 1000 * 1000
        ):
            return _until_next(cj, status, now, schedule)
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            self._event(
                cj,
                base.EventType.NORMAL,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )
            return _until_next(cj, status, now, schedule)
        if policy == "Replace":
            for ref in list(active):
                self._delete(cj, status, str(ref.get("name")))
        job = self._create(cj, name, scheduled, zone)
        if job is None:
            return _until_next(cj, status, now, schedule)
        status["active"] = [
            *(status.get("active") or []),
            {
                "apiVersion": batch.JOB.api_version,
                "kind": "Job",
                "name": name,
                "namespace": cj["metadata"]["namespace"],
                "resourceVersion": job["metadata"].get("resourceVersion", ""),
                "uid": job["metadata"]["uid"],
            },
        ]
        status["lastScheduleTime"] = duration.rfc3339(scheduled)
        return _until_next(cj, status, now, schedule)

    def _create(
        self, cj: objects.RawObject, name: str, scheduled: int, zone: _dt.tzinfo
    ) -> objects.RawObject | None:
        """`getJobFromTemplate2`, then create it."""
        template = (cj.get("spec") or {}).get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        moment = _dt.datetime.fromtimestamp(scheduled // 1000, tz=zone)
        stamp = moment.isoformat()
        if stamp.endswith("+00:00"):  # Go's RFC 3339 writes a zero offset as Z
            stamp = stamp[: -len("+00:00")] + "Z"
        meta: dict[str, Any] = {
            "name": name,
            "namespace": cj["metadata"]["namespace"],
            "annotations": {**(tmeta.get("annotations") or {}), SCHEDULED_ANNOTATION: stamp},
            "ownerReferences": [pods.owner_ref(cj)],
        }
        if tmeta.get("labels"):
            meta["labels"] = dict(tmeta["labels"])
        job = {
            "apiVersion": batch.JOB.api_version,
            "kind": "Job",
            "metadata": meta,
            "spec": objects.clone(template.get("spec") or {}),
        }
        try:
            created = self.rt.cluster.create(job, field_manager=self.name)
        except errors.AlreadyExists:
            return None
        except errors.ApiError as exc:
            self._event(cj, base.EventType.WARNING, "FailedCreate", f"Error creating job: {exc.message}")
            return None
        self._event(cj, base.EventType.NORMAL, "SuccessfulCreate", f"Created job {name}")
        return created

    def _clean_up(self, cj: objects.RawObject, status: dict[str, Any], jobs: list[objects.RawObject]) -> None:
        """`cleanupFinishedJobs`: the oldest finished Jobs beyond the history limits."""
        spec = cj.get("spec") or {}
        for condition, key in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = spec.get(key)
            if limit is None:
                continue
            done = [j for j in jobs if _finished(j) == condition]
            done.sort(key=lambda j: (_started(j) is None, _started(j) or 0, str(j["metadata"]["name"])))
            for job in done[: max(0, len(done) - int(limit))]:
                self._delete(cj, status, str(job["metadata"]["name"]))

    def _delete(self, cj: objects.RawObject, status: dict[str, Any], name: str) -> None:
        ref = refs.ObjectRef(batch.JOB.group, "Job", cj["metadata"]["namespace"], name)
        try:
            self.rt.cluster.delete(ref, propagation="Background")
        except errors.NotFound:
            pass
        except errors.ApiError as exc:
            self._event(cj, base.EventType.WARNING, "FailedDelete", f"Deleted job: {exc.message}")
            return
        status["active"] = [a for a in status.get("active") or [] if a.get("name") != name]
        self._event(cj, base.EventType.NORMAL, "SuccessfulDelete", f"Deleted job {name}")

    def _event(self, obj: objects.RawObject, etype: base.EventType, reason: str, message: str) -> None:
        self.rt.recorder.event(obj, type=etype, reason=reason, message=message, controller=self.name)


def _finished(job: objects.RawObject) -> str | None:
    """ "Complete" or "Failed" once the Job has that condition True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


def _started(job: objects.RawObject) -> int | None:
    value = (job.get("status") or {}).get("startTime")
    return duration.parse_rfc3339(str(value)) if value else None


def _most_recent(
    cj: objects.RawObject, status: dict[str, Any], now: int, schedule: cron.Schedule, *, deadline: bool
) -> tuple[int, int | None, int]:
    """`mostRecentScheduleTime`: (earliest time considered, the most recent scheduled time that
    has passed or None, how many passed), in Unix ms."""
    last = status.get("lastScheduleTime")
    earliest = duration.parse_rfc3339(str(last or cj["metadata"]["creationTimestamp"]))
    starting = (cj.get("spec") or {}).get("startingDeadlineSeconds")
    if deadline and starting is not None:
        earliest = max(earliest, now - int(starting) * 1000)
    first = schedule.next(earliest)
    if first is None or now < first:
        return earliest, None, 0
    second = schedule.next(first)
    if second is None or now < second:
        return earliest, first, 1
    between = round((second - first) / 1000)
    if between < 1:
        raise _Invalid("time difference between two schedules is less than 1 second")
    elapsed = (now - first) // 1000
    missed = elapsed // between + 1
    return earliest, first // 1000 * 1000 + (missed - 1) * between * 1000, missed


def _until_next(
    cj: objects.RawObject, status: dict[str, Any], now: int, schedule: cron.Schedule
) -> int | None:
    """`nextScheduleTimeDuration`: 100ms after the schedule's next time."""
    try:
        earliest, recent, _ = _most_recent(cj, status, now, schedule, deadline=False)
    except _Invalid:
        earliest, recent = now, now
    following = schedule.next(recent if recent is not None else earliest)
    if following is None:
        return None
    return max(following + NEXT_SCHEDULE_DELTA_MS - now, 1)


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...


def _build(services: _Services) -> base.Reconciler:
    return CronJobController(services.runtime)


registry.register(registry.Entry("cronjob", CRONJOB.group_kind, _build, order=138, workload=True))
