"""The live progress line of `gitops-sim run` on a terminal: a spinner, the scenario and its
virtual time, redrawn in place while it runs and gone when it ends.

`Progress(console, name)` is a context manager whose `update(virtual_ms)` the runner calls
(often: before every step and between the events of an `advance`); it only stores the time, and
rich's refresh thread draws the line a dozen times a second. When the console is not a terminal
(a pipe, a file, CI) it prints nothing, so logs hold only the timelines.

Callers: the CLI. Output only: it never changes a run.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.status import Status
from rich.text import Text

from gitops_sim.model import duration
from gitops_sim.scenario import report


class Progress:
    def __init__(self, console: Console, name: str) -> None:
        self._name = report.printable(name, multiline=False)
        self._virtual_ms = 0
        self._status: Status | None = None
        if console.is_terminal and not console.is_dumb_terminal:
            self._status = Status(self, console=console, spinner="dots")

    def __rich__(self) -> Text:
        return Text.assemble(
            ("running ", "dim"),
            (self._name, "bold"),
            ("  virtual time ", "dim"),
            duration.clock(self._virtual_ms),
        )

    def __enter__(self) -> Progress:
        if self._status is not None:
            self._status.start()
        return self

    def update(self, virtual_ms: int) -> None:
        self._virtual_ms = virtual_ms

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._status is not None:
            # rich's stop() only signals its refresh thread; wait for it, so no thread outlives us
            refresher = getattr(self._status._live, "_refresh_thread", None)
            self._status.stop()
            if refresher is not None:
                refresher.join()
