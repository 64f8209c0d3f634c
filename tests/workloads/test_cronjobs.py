"""The CronJob controller: Jobs created on the virtual clock as the cronjob controller v2 creates
them (names, status, concurrency, suspension, history, time zones), run by the Job controller."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs

CRONJOB = refs.ObjectRef("batch", "CronJob", "default", "backup")
JOBS = refs.GroupKind("batch", "Job")
MINUTE_0 = 1_735_689_600 // 60  # 2025-01-01T00:00:00Z, t=0, in minutes since the epoch


def cronjob(schedule: str = "*/5 * * * *", image: str = "busybox:1.36", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": "default"},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"app": "backup"}},
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "Never", "containers": [{"name": "b", "image": image}]}
                    }
                },
            },
            **spec,
        },
    }


def jobs(sim: simulation.Simulation) -> list[str]:
    return [j["metadata"]["name"] for j in sim.cluster.list(JOBS, namespace="default")]


def events(sim: simulation.Simulation) -> list[tuple[int, str, str, str]]:
    return [
        (r["t"], r["type"], r["reason"], r["message"])
        for r in sim.trace.records
        if r["kind"] == "event" and r["object"] == str(CRONJOB)
    ]


def test_a_job_is_created_at_each_scheduled_time_named_after_its_minute(sim: simulation.Simulation) -> None:
    sim.cluster.apply(cronjob(), field_manager="kubectl")
    sim.advance(300_000)
    assert jobs(sim) == []
    sim.advance(100)
    assert jobs(sim) == [f"backup-{MINUTE_0 + 5}"]
    job = sim.cluster.get(refs.ObjectRef("batch", "Job", "default", f"backup-{MINUTE_0 + 5}"))
    assert job["metadata"]["labels"]["app"] == "backup"
    assert job["metadata"]["annotations"] == {
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2025-01-01T00:05:00Z"
    }
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "backup", True)
    status = sim.cluster.get(CRONJOB)["status"]
    assert status["lastScheduleTime"] == "2025-01-01T00:05:00Z"
    assert [a["name"] for a in status["active"]] == [f"backup-{MINUTE_0 + 5}"]
    assert events(sim) == [(300_100, "Normal", "SuccessfulCreate", f"Created job backup-{MINUTE_0 + 5}")]


def test_a_finished_job_leaves_the_active_list_and_sets_the_last_successful_time(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(cronjob(), field_manager="kubectl")
    sim.advance(300_100 + 7_000)  # pulled in 2s, ran 5s
    status = sim.cluster.get(CRONJOB)["status"]
    assert "active" not in status
    assert status["lastSuccessfulTime"] == "2025-01-01T00:05:07Z"
    assert events(sim)[-1] == (
        307_100,
        "Normal",
        "SawCompletedJob",
        f"Saw completed job: backup-{MINUTE_0 + 5}, condition: Complete",
    )


def test_finished_jobs_beyond_the_history_limit_are_deleted_oldest_first(sim: simulation.Simulation) -> None:
    sim.cluster.apply(cronjob("@every 1m", successfulJobsHistoryLimit=2), field_manager="kubectl")
    sim.advance(4 * 60_000 + 10_000)
    assert jobs(sim) == [f"backup-{MINUTE_0 + 3}", f"backup-{MINUTE_0 + 4}"]
    deleted = [e[3] for e in events(sim) if e[2] == "SuccessfulDelete"]
    assert deleted == [f"Deleted job backup-{MINUTE_0 + 1}", f"Deleted job backup-{MINUTE_0 + 2}"]


def test_forbid_skips_a_run_while_the_previous_job_is_active(sim: simulation.Simulation) -> None:
    sim.images.set_fault("busybox:1.36", "never-ready")  # the Pod never finishes
    sim.cluster.apply(cronjob(concurrencyPolicy="Forbid"), field_manager="kubectl")
    sim.advance(600_100)
    assert jobs(sim) == [f"backup-{MINUTE_0 + 5}"]
    assert events(sim)[-1] == (
        600_100,
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
    )


def test_replace_deletes_the_active_job_for_the_new_one(sim: simulation.Simulation) -> None:
    sim.images.set_fault("busybox:1.36", "never-ready")
    sim.cluster.apply(cronjob(concurrencyPolicy="Replace"), field_manager="kubectl")
    sim.advance(600_100)
    assert jobs(sim) == [f"backup-{MINUTE_0 + 10}"]
    assert [e[2:] for e in events(sim)][-2:] == [
        ("SuccessfulDelete", f"Deleted job backup-{MINUTE_0 + 5}"),
        ("SuccessfulCreate", f"Created job backup-{MINUTE_0 + 10}"),
    ]


def test_a_suspended_cronjob_starts_nothing_until_resumed(sim: simulation.Simulation) -> None:
    sim.cluster.apply(cronjob(suspend=True), field_manager="kubectl")
    sim.advance(20 * 60_000)
    assert jobs(sim) == []
    sim.cluster.apply(cronjob(suspend=False), field_manager="kubectl")
    sim.settle()
    assert jobs(sim) == [f"backup-{MINUTE_0 + 20}"]  # the most recent missed time only


def test_a_time_zone_moves_the_schedule_and_the_annotation(sim: simulation.Simulation) -> None:
    sim.cluster.apply(cronjob("0 2 * * *", timeZone="Europe/Paris"), field_manager="kubectl")
    sim.advance(3_600_000 + 100)  # 02:00 in Paris is 01:00 UTC in winter
    [name] = jobs(sim)
    assert name == f"backup-{MINUTE_0 + 60}"
    job = sim.cluster.get(refs.ObjectRef("batch", "Job", "default", name))
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == (
        "2025-01-01T02:00:00+01:00"
    )


def test_an_unknown_time_zone_and_a_bad_schedule_are_reported(sim: simulation.Simulation) -> None:
    sim.cluster.apply(cronjob(timeZone="Mars/Olympus"), field_manager="kubectl")
    sim.settle()
    assert events(sim) == [
        (0, "Warning", "UnknownTimeZone", 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus')
    ]
    sim.cluster.apply(cronjob("61 * * * *"), field_manager="kubectl")
    sim.settle()
    assert events(sim)[-1] == (
        0,
        "Warning",
        "UnparseableSchedule",
        'unparseable schedule: "61 * * * *" : end of range (61) above maximum (59): 61',
    )


def test_a_run_missed_by_more_than_the_starting_deadline_is_skipped(sim: simulation.Simulation) -> None:
    sim.cluster.apply(cronjob("@hourly", suspend=True, startingDeadlineSeconds=10), field_manager="kubectl")
    sim.advance(3_600_000 + 30_000)  # suspended at 01:00
    sim.cluster.apply(cronjob("@hourly", suspend=False, startingDeadlineSeconds=10), field_manager="kubectl")
    sim.settle()
    assert jobs(sim) == []  # 01:00 is more than 10s ago
    sim.advance(3_600_000)
    assert jobs(sim) == [f"backup-{MINUTE_0 + 120}"]
