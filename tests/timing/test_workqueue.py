from __future__ import annotations

import random

import pytest

from gitops_sim.timing import clock as clocks
from gitops_sim.timing import scheduler as sched
from gitops_sim.timing import workqueue


class Script:
    """A reconcile function that answers from a list and records when it was called."""

    def __init__(self, scheduler: sched.Scheduler, answers: list[workqueue.Result | Exception]) -> None:
        self.scheduler = scheduler
        self.answers = answers
        self.calls: list[tuple[int, str]] = []

    def __call__(self, key: str) -> workqueue.Result:
        self.calls.append((self.scheduler.clock.now(), key))
        answer = self.answers.pop(0) if self.answers else workqueue.Result()
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(
    answers: list[workqueue.Result | Exception],
) -> tuple[sched.Scheduler, Script, workqueue.WorkQueue[str]]:
    scheduler = sched.Scheduler(clocks.VirtualClock())
    script = Script(scheduler, answers)
    return scheduler, script, workqueue.WorkQueue("test", scheduler, script)


def test_success_forgets_the_key_until_the_next_event() -> None:
    scheduler, script, queue = make([workqueue.Result()])
    queue.add("a")
    scheduler.run_until(clocks.Millis(3_600_000))
    assert script.calls == [(0, "a")]
    assert queue.pending_at("a") is None


def test_requeue_after_adds_the_key_again_after_the_delay() -> None:
    scheduler, script, queue = make([workqueue.Result(requeue_after=60_000), workqueue.Result()])
    queue.add("a")
    scheduler.run_until(clocks.Millis(120_000))
    assert script.calls == [(0, "a"), (60_000, "a")]


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        pytest.param(1, [0, 750], id="first-retry-after-750ms"),
        pytest.param(3, [0, 750, 2_250, 5_250], id="doubling-750-1500-3000"),
    ],
)
def test_errors_requeue_with_exponential_backoff(failures: int, expected: list[int]) -> None:
    answers: list[workqueue.Result | Exception] = [workqueue.RequeueError("boom") for _ in range(failures)]
    scheduler, script, queue = make(answers)
    queue.add("a")
    scheduler.run_until(clocks.Millis(60_000))
    assert [t for t, _ in script.calls] == expected


def test_backoff_is_capped_at_the_max_retry_delay() -> None:
    _, _, queue = make([])
    assert queue.backoff_ms(0) == 750
    assert queue.backoff_ms(30) == 15 * 60_000


def test_success_after_errors_resets_the_backoff() -> None:
    scheduler, _, queue = make([workqueue.RequeueError("x"), workqueue.RequeueError("y"), workqueue.Result()])
    queue.add("a")
    scheduler.run_until(clocks.Millis(10_000))
    assert queue.num_requeues("a") == 0


def test_a_terminal_error_is_not_retried() -> None:
    scheduler, script, queue = make([workqueue.TerminalError("config")])
    queue.add("a")
    scheduler.run_until(clocks.Millis(3_600_000))
    assert script.calls == [(0, "a")]


def test_requeue_true_is_rate_limited() -> None:
    scheduler, script, queue = make([workqueue.Result(requeue=True)])
    queue.add("a")
    scheduler.run_until(clocks.Millis(10_000))
    assert script.calls == [(0, "a"), (750, "a")]


def test_adding_a_queued_key_again_reconciles_it_once() -> None:
    scheduler, script, queue = make([])
    queue.add("a")
    queue.add("a")
    queue.add("b")
    scheduler.run_pending()
    assert script.calls == [(0, "a"), (0, "b")]


def test_the_earliest_of_two_timers_for_a_key_wins() -> None:
    scheduler, script, queue = make([])
    queue.add_after("a", 5_000)
    queue.add_after("a", 2_000)
    queue.add_after("a", 9_000)
    scheduler.run_until(clocks.Millis(20_000))
    assert script.calls == [(2_000, "a")]


def test_an_immediate_add_replaces_a_pending_timer() -> None:
    scheduler, script, queue = make([])
    queue.add_after("a", 5_000)
    queue.add("a")
    scheduler.run_until(clocks.Millis(20_000))
    assert script.calls == [(0, "a")]


def test_unexpected_exceptions_are_bugs_and_propagate() -> None:
    scheduler, _, queue = make([KeyError("bug")])
    queue.add("a")
    with pytest.raises(KeyError):
        scheduler.run_pending()


def test_jitter_stays_within_five_percent() -> None:
    rng = random.Random(1)
    values = [workqueue.jitter(600_000, rng, 5) for _ in range(1_000)]
    assert min(values) >= 570_000
    assert max(values) <= 630_000
    assert len(set(values)) > 900


def test_jitter_repeats_exactly_for_the_same_seed() -> None:
    first = [workqueue.jitter(600_000, random.Random("7/jitter"), 5) for _ in range(3)]
    again = [workqueue.jitter(600_000, random.Random("7/jitter"), 5) for _ in range(3)]
    assert first == again


def test_an_unexpected_exception_is_handed_to_on_error_and_requeued_with_backoff() -> None:
    scheduler = sched.Scheduler(clocks.VirtualClock())
    script = Script(scheduler, [KeyError("x"), ZeroDivisionError("division by zero"), workqueue.Result()])
    told: list[tuple[int, str, str]] = []
    queue = workqueue.WorkQueue(
        "test", scheduler, script, on_error=lambda k, e: told.append((scheduler.clock.now(), k, repr(e)))
    )
    queue.add("a")
    scheduler.run_until(clocks.Millis(60_000))
    assert [t for t, _ in script.calls] == [0, 750, 2_250]
    assert told == [(0, "a", "KeyError('x')"), (750, "a", "ZeroDivisionError('division by zero')")]
    assert (queue.errors, queue.num_requeues("a")) == (2, 0)


def test_an_unexpected_exception_in_one_key_does_not_stop_the_others() -> None:
    scheduler = sched.Scheduler(clocks.VirtualClock())
    calls: list[str] = []

    def reconcile(key: str) -> workqueue.Result:
        calls.append(key)
        if key == "bad":
            raise RuntimeError("bug")
        return workqueue.Result()

    queue = workqueue.WorkQueue("test", scheduler, reconcile, on_error=lambda k, e: None)
    queue.add("bad")
    queue.add("good")
    scheduler.run_until(clocks.Millis(1_000))
    assert calls == ["bad", "good", "bad"]


def test_without_on_error_an_unexpected_exception_propagates() -> None:
    scheduler, _, queue = make([RuntimeError("bug")])
    queue.add("a")
    with pytest.raises(RuntimeError, match="bug"):
        scheduler.run_until(clocks.Millis(1_000))


def test_a_request_at_the_instant_a_parked_reconcile_resumes_is_run_after_it() -> None:
    parked = workqueue.Result(requeue_after=5_000, parked=True)
    scheduler, script, queue = make([parked, workqueue.Result(), workqueue.Result()])
    queue.add("a")
    scheduler.run_until(clocks.Millis(1))
    # Something asks for the key at the very instant its parked reconcile's timer is due, and
    # before the timer fires: the timer resumes the reconcile, then the request runs it again.
    scheduler.call_at(clocks.Millis(5_000), lambda: queue.add("a"), priority=-1)
    scheduler.run_until(clocks.Millis(60_000))
    assert script.calls == [(0, "a"), (5_000, "a"), (5_000, "a")]


def test_the_timer_of_a_parked_reconcile_resumes_it_once() -> None:
    parked = workqueue.Result(requeue_after=5_000, parked=True)
    scheduler, script, queue = make([parked, workqueue.Result()])
    queue.add("a")
    scheduler.run_until(clocks.Millis(60_000))
    assert script.calls == [(0, "a"), (5_000, "a")]
