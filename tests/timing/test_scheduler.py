from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops_sim.timing import clock as clocks
from gitops_sim.timing import scheduler as sched


@pytest.fixture
def scheduler() -> sched.Scheduler:
    return sched.Scheduler(clocks.VirtualClock())


def test_runs_entries_in_time_order_and_moves_the_clock_to_each(scheduler: sched.Scheduler) -> None:
    seen: list[tuple[str, int]] = []
    scheduler.call_at(clocks.Millis(300), lambda: seen.append(("c", scheduler.clock.now())))
    scheduler.call_at(clocks.Millis(100), lambda: seen.append(("a", scheduler.clock.now())))
    scheduler.call_at(clocks.Millis(200), lambda: seen.append(("b", scheduler.clock.now())))
    scheduler.run_until(clocks.Millis(1_000))
    assert seen == [("a", 100), ("b", 200), ("c", 300)]
    assert scheduler.clock.now() == clocks.Millis(1_000)


def test_breaks_ties_by_priority_then_by_scheduling_order(scheduler: sched.Scheduler) -> None:
    seen: list[str] = []
    scheduler.call_at(clocks.Millis(50), lambda: seen.append("late-p1"), priority=1)
    scheduler.call_at(clocks.Millis(50), lambda: seen.append("first-p0"), priority=0)
    scheduler.call_at(clocks.Millis(50), lambda: seen.append("second-p0"), priority=0)
    scheduler.run_until(clocks.Millis(50))
    assert seen == ["first-p0", "second-p0", "late-p1"]


def test_run_until_leaves_later_entries_for_later(scheduler: sched.Scheduler) -> None:
    seen: list[int] = []
    scheduler.call_at(clocks.Millis(10), lambda: seen.append(10))
    scheduler.call_at(clocks.Millis(20), lambda: seen.append(20))
    scheduler.run_until(clocks.Millis(15))
    assert seen == [10]
    assert scheduler.peek() == clocks.Millis(20)


def test_a_cancelled_entry_never_runs(scheduler: sched.Scheduler) -> None:
    seen: list[int] = []
    entry = scheduler.call_at(clocks.Millis(10), lambda: seen.append(10))
    entry.cancel()
    scheduler.run_until(clocks.Millis(100))
    assert seen == []
    assert scheduler.peek() is None


def test_callbacks_scheduled_for_now_run_in_the_same_pending_pass(scheduler: sched.Scheduler) -> None:
    seen: list[str] = []

    def outer() -> None:
        seen.append("outer")
        scheduler.call_later(0, lambda: seen.append("inner"))

    scheduler.call_later(0, outer)
    scheduler.run_pending()
    assert seen == ["outer", "inner"]
    assert scheduler.clock.now() == 0


def test_an_entry_in_the_past_runs_now_not_earlier(scheduler: sched.Scheduler) -> None:
    scheduler.run_until(clocks.Millis(500))
    seen: list[int] = []
    scheduler.call_at(clocks.Millis(100), lambda: seen.append(scheduler.clock.now()))
    scheduler.run_pending()
    assert seen == [500]


def test_the_virtual_clock_refuses_to_go_backwards() -> None:
    clock = clocks.VirtualClock()
    clock.advance_to(clocks.Millis(10))
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(clocks.Millis(5))


_plans = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3)), max_size=60)


@given(plan=_plans, horizon=st.integers(0, 12_000))
def test_time_never_goes_backwards_and_ties_keep_a_stable_order(
    plan: list[tuple[int, int]], horizon: int
) -> None:
    scheduler = sched.Scheduler(clocks.VirtualClock())
    ran: list[tuple[int, int, int]] = []
    for seq, (when, priority) in enumerate(plan):

        def record(s: int = seq, p: int = priority) -> None:
            ran.append((scheduler.clock.now(), p, s))

        scheduler.call_at(clocks.Millis(when), record, priority=priority)
    scheduler.run_until(clocks.Millis(horizon))
    assert ran == sorted(ran)
    assert [s for _, _, s in ran] == [
        s for s, (w, p) in sorted(enumerate(plan), key=lambda e: (e[1][0], e[1][1], e[0])) if w <= horizon
    ]
    assert scheduler.clock.now() == horizon


def test_work_handed_over_between_two_entries_of_one_instant_runs_before_the_clock_moves(
    scheduler: sched.Scheduler,
) -> None:
    ran: list[tuple[str, int]] = []
    arrived: list[str] = []  # what a remote watch delivers after the first entry ran

    def first() -> None:
        ran.append(("first", scheduler.clock.now()))
        arrived.append("late event")

    def hand_over() -> None:
        if arrived:
            arrived.clear()
            scheduler.call_later(0, lambda: ran.append(("late event", scheduler.clock.now())), priority=-1)

    scheduler.before_each = hand_over
    scheduler.before_step = lambda _when: hand_over()
    scheduler.call_at(clocks.Millis(10), first)
    scheduler.call_at(clocks.Millis(10), lambda: ran.append(("second", scheduler.clock.now())))
    scheduler.call_at(clocks.Millis(20), lambda: ran.append(("later", scheduler.clock.now())))
    scheduler.run_until(clocks.Millis(10))
    assert ran == [("first", 10), ("late event", 10), ("second", 10)]


def test_before_step_is_asked_once_more_before_run_until_returns(scheduler: sched.Scheduler) -> None:
    asked: list[int] = []
    scheduler.before_step = asked.append
    scheduler.run_until(clocks.Millis(5))
    assert asked == [5]
    assert scheduler.clock.now() == 5
