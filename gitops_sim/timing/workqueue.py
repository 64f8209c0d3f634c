"""Controller work queues with controller-runtime's result table and Flux's rate limits.

One queue per controller. A key is queued at most once at a time (adding a queued key is a
no-op); a key waiting on a timer keeps only its earliest due time, as client-go's delaying queue
does. When a key comes up, the queue calls the controller's reconcile function and reads the
outcome through one table, written down here once
(controller-runtime `pkg/internal/controller/controller.go`, reconcileHandler):

| reconcile returned                 | queue does                                           |
|------------------------------------|------------------------------------------------------|
| raised `TerminalError`             | forget the key's failures; do not requeue            |
| raised `RequeueError` (any other)  | requeue rate-limited: per-key exponential backoff    |
| raised any other `Exception`       | hand it to `on_error`, then requeue rate-limited     |
| `Result(requeue_after=d)`, d > 0   | forget the failures; add the key again after d       |
| `Result(requeue=True)`             | requeue rate-limited                                 |
| `Result(again=True)`               | forget the failures; process the key again at once   |
| `Result(requeue_after=d, parked=True)` | as requeue_after; a request for the key at the   |
|                                    | instant the timer is due runs it again after it      |
| `Result()`                         | forget the failures; wait for the next event         |

The backoff is Flux's (fluxcd/pkg `runtime/controller` rate limiter): `--min-retry-delay` 750ms
doubling per consecutive failure up to `--max-retry-delay` 15m.

Flux's controllers add ±5% interval jitter to their requeue-after (`jitter` below), drawn from
the simulation's seeded RNG so that runs repeat exactly.

Any other exception is a bug in the reconcile (or an input it did not expect). controller-runtime
recovers a panic in Reconcile (`RecoverPanic`, on by default since v0.15), logs it and treats it
as an error: requeue rate-limited. So does this queue when it was given `on_error`, which is told
first (the engine turns it into a failed reconcile users can see); one object's bug then costs
that object a backoff, never the run. Without `on_error` the exception propagates (unit tests of
a reconciler want to see it). `BaseException`s that are not `Exception`s (KeyboardInterrupt,
SystemExit) always propagate.

This module must never import Kubernetes knowledge, never sleep and never read the real time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gitops_sim.timing import clock as clocks
from gitops_sim.timing import scheduler as sched

K = TypeVar("K", bound=Hashable)

DEFAULT_MIN_RETRY_MS = 750
DEFAULT_MAX_RETRY_MS = 15 * 60_000


@dataclass(frozen=True, slots=True)
class Result:
    """What a reconcile asks of its queue when it returns normally."""

    requeue_after: int | None = None
    requeue: bool = False
    again: bool = False
    """Something asked for this key while its reconcile was in progress: process it again at
    once (client-go's dirty set), cancelling the requeue timer."""
    parked: bool = False
    """The reconcile is still in progress, waiting inside itself (a health check between two
    polls) until `requeue_after`: a request for the key meanwhile is one Flux gets during it."""


class RequeueError(Exception):
    """A reconcile failed and should be retried with backoff."""


class TerminalError(RequeueError):
    """A reconcile failed in a way retrying cannot fix; wait for the next change."""


def jitter(interval_ms: int, rng: random.Random, percent: int) -> int:
    """`interval_ms` moved by a uniform random amount within ±`percent`%."""
    spread = interval_ms * percent / 100
    return max(0, round(interval_ms + rng.uniform(-spread, spread)))


class WorkQueue(Generic[K]):
    def __init__(
        self,
        name: str,
        scheduler: sched.Scheduler,
        reconcile: Callable[[K], Result],
        *,
        priority: int = 0,
        min_retry_ms: int = DEFAULT_MIN_RETRY_MS,
        max_retry_ms: int = DEFAULT_MAX_RETRY_MS,
        on_error: Callable[[K, Exception], None] | None = None,
    ) -> None:
        """`on_error(key, exc)` is told of every exception from `reconcile` that is not a
        `RequeueError`; the key is then requeued with backoff. It must not raise."""
        self.name = name
        self._scheduler = scheduler
        self._reconcile = reconcile
        self._priority = priority
        self._min_retry_ms = min_retry_ms
        self._max_retry_ms = max_retry_ms
        self._on_error = on_error
        self._queued: set[K] = set()
        self._waiting: dict[K, sched.Entry] = {}
        self._failures: dict[K, int] = {}
        self._parked: set[K] = set()
        """Keys whose last reconcile parked (is still in progress, waiting on its timer)."""
        self._asked: set[K] = set()
        """Keys asked for at the instant their parked reconcile resumes (see `add`)."""
        self.processed = 0
        """How many reconciles this queue has run (for benchmarks and reports)."""
        self.errors = 0
        """How many reconciles raised an unexpected exception (handed to `on_error`)."""
        self.running = True
        """False while the controller's process is down (`stop`): requests are lost, as a dead
        process's informer hears nothing."""

    def stop(self) -> None:
        """The controller's process is gone: forget every queued key, timer, backoff and parked
        reconcile; ignore requests until `start`."""
        self.running = False
        for timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        self._queued.clear()
        self._failures.clear()
        self._parked.clear()
        self._asked.clear()

    def start(self, keys: Iterable[K]) -> None:
        """The controller's process (re)started: its informers list every object, so each of
        `keys` is queued."""
        self.running = True
        for key in keys:
            self.add(key)

    def add(self, key: K) -> None:
        """Queue `key` to be reconciled now, unless it already is. A parked reconcile whose
        timer is due at this very instant is resumed by its timer, and this request is handed to
        it afterwards (`_asked`), as Flux's blocked reconcile would find the key dirty."""
        if not self.running:
            return
        timer = self._waiting.get(key)
        if timer is not None and key in self._parked and timer.when <= self._scheduler.clock.now():
            self._asked.add(key)
            return
        timer = self._waiting.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._queued:
            return
        self._queued.add(key)
        self._scheduler.call_later(0, lambda: self._process(key), priority=self._priority)

    def add_after(self, key: K, delay_ms: int) -> None:
        """Queue `key` after `delay_ms`; an earlier pending timer for the same key wins."""
        if delay_ms <= 0 or not self.running:
            self.add(key)
            return
        due = clocks.Millis(self._scheduler.clock.now() + delay_ms)
        timer = self._waiting.get(key)
        if timer is not None:
            if timer.when <= due:
                return
            timer.cancel()
        self._waiting[key] = self._scheduler.call_at(due, lambda: self._fire(key), priority=self._priority)

    def _fire(self, key: K) -> None:
        """A key's timer is due: queue it (the timer is spent first, so `add` sees no request)."""
        self._waiting.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.add_after(key, self.backoff_ms(failures))

    def backoff_ms(self, failures: int) -> int:
        """The delay before retry number `failures + 1`."""
        return int(min(self._min_retry_ms * 2 ** min(failures, 40), self._max_retry_ms))

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: K) -> int:
        return self._failures.get(key, 0)

    def pending_at(self, key: K) -> clocks.Millis | None:
        """When `key` is next due: now if queued, its timer if waiting, else None."""
        if key in self._queued:
            return self._scheduler.clock.now()
        timer = self._waiting.get(key)
        return timer.when if timer is not None else None

    def _process(self, key: K) -> None:
        if key not in self._queued:
            return
        self._queued.discard(key)
        self._parked.discard(key)
        self.processed += 1
        try:
            self._handle(key, self._reconcile(key))
        except TerminalError:
            self.forget(key)
        except RequeueError:
            self.add_rate_limited(key)
        except Exception as exc:
            if self._on_error is None:
                raise
            self.errors += 1
            self._on_error(key, exc)
            self.add_rate_limited(key)
        if key in self._asked:  # asked for while this reconcile was in progress: run it again
            self._asked.discard(key)
            self.add(key)

    def _handle(self, key: K, result: Result) -> None:
        if result.again:
            self.forget(key)
            self.add(key)
        elif result.requeue_after is not None and result.requeue_after > 0:
            self.forget(key)
            self.add_after(key, result.requeue_after)
            if result.parked:
                self._parked.add(key)
        elif result.requeue:
            self.add_rate_limited(key)
        else:
            self.forget(key)
