"""Clocks: where every timestamp in gitops-sim comes from.

`VirtualClock` is the default: integer milliseconds since the start of a simulation, moved only
by the scheduler, so ten minutes of Flux take no wall time and every run is the same.
`WallClock` has the same interface and follows the real monotonic clock, optionally sped up by
`pace` (used with real clusters and `serve`, where things happen in real time).

Both map their `now()` onto a calendar through `epoch_ms`, the Unix time of t=0, so objects get
realistic `creationTimestamp`s and git commits get reproducible dates.

This is the only module below the CLI allowed to read the real time, and only `WallClock` does.
"""

from __future__ import annotations

import time
from typing import NewType, Protocol, runtime_checkable

Millis = NewType("Millis", int)

# 2025-01-01T00:00:00Z: the default calendar time of t=0 in a virtual simulation.
DEFAULT_EPOCH_MS = 1_735_689_600_000


@runtime_checkable
class Clock(Protocol):
    @property
    def epoch_ms(self) -> int:
        """Unix time in milliseconds of `now() == 0`."""

    def now(self) -> Millis:
        """Milliseconds since the start of the simulation; never decreases."""


class VirtualClock:
    """Time that moves only when the scheduler moves it."""

    __slots__ = ("_epoch_ms", "_now")

    def __init__(self, epoch_ms: int = DEFAULT_EPOCH_MS, start: int = 0) -> None:
        """`start` (ms, may be negative) is where time begins: a simulation that installs Flux
        "before t=0" starts its clock early and runs the installation up to 0."""
        self._epoch_ms = epoch_ms
        self._now = Millis(start)

    @property
    def epoch_ms(self) -> int:
        return self._epoch_ms

    def now(self) -> Millis:
        return self._now

    def advance_to(self, when: Millis) -> None:
        if when < self._now:
            raise ValueError(f"virtual time cannot go backwards: {when} < {self._now}")
        self._now = when


class WallClock:
    """Real time since construction, multiplied by `pace` (1 = real time, 60 = a minute per second)."""

    __slots__ = ("_epoch_ms", "_pace", "_start")

    def __init__(self, pace: float = 1.0, epoch_ms: int | None = None) -> None:
        if pace <= 0:
            raise ValueError("pace must be positive")
        self._pace = pace
        self._start = time.monotonic()
        self._epoch_ms = round(time.time() * 1000) if epoch_ms is None else epoch_ms

    @property
    def epoch_ms(self) -> int:
        return self._epoch_ms

    def now(self) -> Millis:
        return Millis(int((time.monotonic() - self._start) * 1000 * self._pace))

    def calendar_ms(self) -> int:
        """The real calendar time now (Unix ms), however fast this clock runs: what a paced
        simulation stamps its Events with, so that clients computing ages against their own clock
        (`kubectl events`) see them in the past."""
        return self._epoch_ms + int((time.monotonic() - self._start) * 1000)


_: type[Clock] = VirtualClock
_ = WallClock
