"""The trace: every event, commit, apply, drift and expectation of a run, in order.

The engine, the event recorder and the scenario runner append records; reports read them. Each
record is a flat JSON-ready dict with the virtual time `t` (ms) and a `kind`. Serialised with
sorted keys, the trace of a scenario run is byte-identical across runs with the same seed: it is
the artifact to diff when a run changes.

Records must never contain secret data: callers pass messages and references, never object
bodies of Secrets.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gitops_sim.timing import clock as clocks

Record = dict[str, Any]


class Trace:
    def __init__(self, clock: clocks.Clock) -> None:
        self._clock = clock
        self.records: list[Record] = []
        self._listeners: list[Callable[[Record], None]] = []

    def record(self, kind: str, **fields: Any) -> Record:
        rec: Record = {"t": int(self._clock.now()), "kind": kind, **fields}
        self.records.append(rec)
        for listener in self._listeners:
            listener(rec)
        return rec

    def subscribe(self, listener: Callable[[Record], None]) -> None:
        self._listeners.append(listener)

    def to_json(self) -> str:
        return json.dumps(self.records, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
