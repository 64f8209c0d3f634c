"""What a flux command runs against, and how it speaks: the cluster, time, and Flux's logger.

`Session` carries the cluster (the `Cluster` protocol), `sleep` (let time pass: the wall clock
against a served simulation, virtual time inside a scenario), the calendar for the timestamps
the CLI writes, and the two streams. `Log` writes the CLI's logger lines on stderr with its
symbols (flux2 cmd/flux/log.go): `►` action, `✚` generate, `◎` waiting, `✔` success, `⚠️`
warning, `✗` failure. A command fails by raising `FluxError`; `command.run` prints it as the
CLI's main does (`✗ <message>`, exit 1).

Callers: every `fluxcli` module. Reads no environment and no real time itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from gitops_sim.cluster import backend
from gitops_sim.sources import githttp

DEFAULT_TIMEOUT_MS = 5 * 60_000
"""The root `--timeout` (flux2 cmd/flux/main.go)."""
POLL_INTERVAL_MS = 2_000
"""The root flags' poll interval (`rootArgs.pollInterval`), what reconcile and bootstrap wait with."""


class FluxError(Exception):
    """A command failed: the message the CLI prints after `✗`, and its exit code."""

    def __init__(self, message: str, code: int = 1, *, warning: bool = False) -> None:
        """`warning`: printed after `⚠️` rather than `✗` (the CLI's RequestError with code 1)."""
        super().__init__(message)
        self.message = message
        self.code = code
        self.warning = warning


@dataclass(slots=True)
class Log:
    stream: TextIO

    def _line(self, symbol: str, text: str) -> None:
        self.stream.write(f"{symbol} {text}\n")

    def action(self, text: str) -> None:
        self._line("►", text)

    def generate(self, text: str) -> None:
        self._line("✚", text)

    def waiting(self, text: str) -> None:
        self._line("◎", text)

    def success(self, text: str) -> None:
        self._line("✔", text)

    def warning(self, text: str) -> None:
        self._line("⚠️", text)

    def failure(self, text: str) -> None:
        self._line("✗", text)


@dataclass(slots=True)
class Session:
    cluster: backend.Cluster
    server_version: Callable[[], str]
    """The API server's gitVersion (`v1.37.0`)."""
    sleep: Callable[[int], None]
    """Let this many milliseconds pass (the cluster goes on meanwhile)."""
    calendar_ms: Callable[[], int]
    """The time now (Unix ms), for the timestamps the CLI writes (`requestedAt`)."""
    out: TextIO
    err: TextIO
    namespace: str = "flux-system"
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    git: githttp.GitHttpClient | None = None
    """How bootstrap reaches Git (None: commands that need it fail)."""
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    """Where generated keys come from (seeded: the same run makes the same keys)."""
    scratch: Path | None = None
    """Where `build` writes the trees kustomize reads (None: commands that build fail)."""
    env: dict[str, str] = field(default_factory=dict)
    """The environment variables a command reads (`GITHUB_TOKEN`), given by the CLI layer."""
    github_api: str | None = None
    """The base URL of the (simulated) GitHub API `bootstrap github` calls."""
    read_folder: Callable[[str], dict[str, bytes]] | None = None
    """A local folder's files by relative path (`--path`, `--kustomization-file`'s content under
    the key ""), or FluxError; None: commands that read local files fail."""

    @property
    def log(self) -> Log:
        return Log(self.err)

    def poll(self, done: Callable[[], bool], interval_ms: int = POLL_INTERVAL_MS) -> bool:
        """Check `done` now and every `interval_ms` until it holds (True) or the session's
        timeout has passed (False), as the CLI's wait loops do."""
        waited = 0
        while not done():
            if waited >= self.timeout_ms:
                return False
            self.sleep(interval_ms)
            waited += interval_ms
        return True
