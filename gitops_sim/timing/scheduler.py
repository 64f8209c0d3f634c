"""A discrete-event scheduler over the virtual clock.

Everything that happens in a simulation is a callback on this heap: a work-queue item becoming
ready, a requeue timer, a scenario step. Entries are ordered by (time, priority, sequence), so two
things due at the same millisecond always run in the same order: lower priority number first, then
the order they were scheduled in. Nothing is ever ordered by a dict or set.

Callers: work queues (timing.workqueue), the engine and the scenario runner. The scheduler never
sleeps and never reads the real time; it moves the `VirtualClock` forward to each entry's time.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from gitops_sim.timing import clock as clocks


@dataclass(order=True, slots=True)
class Entry:
    when: clocks.Millis
    priority: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, clock: clocks.VirtualClock) -> None:
        self.clock = clock
        self._heap: list[Entry] = []
        self._seq = 0
        self.before_step: Callable[[clocks.Millis], None] | None = None
        """Called with a time before the clock moves to it, and before `run_until` returns: paced
        runs wait there, runs against a remote cluster catch up with its watches. It may
        schedule entries (work that arrived meanwhile); they run before the clock moves on."""
        self.before_each: Callable[[], None] | None = None
        """Called before an entry due at the current instant runs (where `before_step` is not);
        it may schedule entries: runs against a remote cluster hand over the watch events the
        previous entry caused."""

    def call_at(self, when: clocks.Millis, callback: Callable[[], None], *, priority: int = 0) -> Entry:
        """Run `callback` at virtual time `when` (never earlier than now)."""
        self._seq += 1
        entry = Entry(clocks.Millis(max(when, self.clock.now())), priority, self._seq, callback)
        heapq.heappush(self._heap, entry)
        return entry

    def call_later(self, delay: int, callback: Callable[[], None], *, priority: int = 0) -> Entry:
        return self.call_at(clocks.Millis(self.clock.now() + max(delay, 0)), callback, priority=priority)

    def peek(self) -> clocks.Millis | None:
        """The time of the next live entry, or None when nothing is scheduled."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    def step(self) -> bool:
        """Run the next live entry, moving the clock to its time. False when the heap is empty."""
        nxt = self.peek()
        if nxt is None:
            return False
        if self.before_step is not None and nxt > self.clock.now():
            self.before_step(nxt)
        elif self.before_each is not None:
            self.before_each()
        if self.peek() is None:
            return False
        entry = heapq.heappop(self._heap)
        self.clock.advance_to(entry.when)
        entry.callback()
        return True

    def run_until(self, when: clocks.Millis) -> None:
        """Run every entry due at or before `when`, then leave the clock at `when`."""
        while True:
            while (nxt := self.peek()) is not None and nxt <= when:
                self.step()
            if self.before_step is None:
                break
            self.before_step(clocks.Millis(max(when, self.clock.now())))
            if (nxt := self.peek()) is None or nxt > when:
                break  # nothing arrived while it waited
        self.clock.advance_to(max(when, self.clock.now()))

    def run_pending(self) -> None:
        """Run everything due now, including what those callbacks schedule for now."""
        self.run_until(self.clock.now())
