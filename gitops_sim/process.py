"""Running the programs gitops-sim drives (git, the kustomize in kubectl) within bounds.

What those programs read comes from scenarios and repositories, which are untrusted: a
kustomization that expands to gigabytes, or a fetch that never ends, must cost one failed
reconcile, never the machine. `run` gives every child an explicit environment, a wall-time
limit (the child and everything it started are killed when it passes) and an address-space
limit, and says which one was hit.

IMPLEMENTATION DETAIL:
    Problem: `preexec_fn` (setrlimit between fork and exec) is unsafe in a process with threads,
    and gitops-sim has several (HTTP servers, watch readers). Setting the limit from here once
    the child runs (`resource.prlimit`) is too late for Go programs: Go's runtime sizes its
    address-space reservations at start by the limit it finds, and a limit lowered under it
    afterwards makes its next reservation fail at random (kubectl's kustomize failed one run in
    five so at 1 GiB).
    Solution: util-linux's `prlimit` sets the limit and then execs the program, so the limit is
    in force from the program's first instruction, at the cost of one exec more (0.8 ms). Where
    `prlimit` is missing, the limit is set from here as the child starts. Go programs reserve a
    few hundred MiB of address space at start, so the limit is generous for them and still far
    below what a bomb reaches.

    Problem: `communicate(timeout=…)` waits for the child's exit by polling with sleeps, which
    doubled the cost of a short git call (2.1 ms against 1.1 ms).
    Solution: a timer kills the child's process group at the deadline, and the wait itself
    blocks in the kernel.

Callers: `sources.git`, `sources.githttp`, `apply.build`. Nothing else starts processes.
This module must never pass a value through a shell, and never inherit the caller's environment.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, slots=True)
class Limits:
    wall_s: float = 120.0
    """Seconds of real time before the child (and its process group) is killed."""
    memory_bytes: int = 2 << 30
    """The child's address-space limit (RLIMIT_AS)."""


DEFAULT = Limits()


class LimitExceeded(Exception):
    """The child ran past its wall-time limit (`limit == "wall"`), or was killed for want of
    memory (`limit == "memory"`)."""

    def __init__(self, limit: Literal["wall", "memory"], message: str) -> None:
        super().__init__(message)
        self.limit = limit


_PRLIMIT = shutil.which("prlimit")


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdin: bytes | None = None,
    limits: Limits = DEFAULT,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` to completion within `limits`; its output is captured. Raises
    `LimitExceeded` naming the limit that was hit; a non-zero exit is the caller's to judge."""
    name = Path(argv[0]).name
    command = list(argv)
    if _PRLIMIT is not None:
        command = [_PRLIMIT, f"--as={limits.memory_bytes}", "--", *command]
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,  # its own process group, so that a timeout kills its children too
    )
    if _PRLIMIT is None:
        with contextlib.suppress(OSError):  # it has already exited
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(proc.pid)

    timer = threading.Timer(limits.wall_s, expire)
    timer.start()
    try:
        out, err = proc.communicate(stdin)
    except BaseException:
        _kill_group(proc.pid)
        proc.communicate()
        raise
    finally:
        timer.cancel()
        timer.join()
    if expired.is_set():
        raise LimitExceeded("wall", f"{name} did not finish within {limits.wall_s:g}s and was stopped")
    if proc.returncode == -signal.SIGKILL or _out_of_memory(err):
        raise LimitExceeded(
            "memory", f"{name} ran out of its {limits.memory_bytes >> 20} MiB memory limit and was stopped"
        )
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _out_of_memory(stderr: bytes) -> bool:
    """Go's runtime and git's xmalloc say so on stderr when an allocation fails (Go before a
    goroutine dump that can run to megabytes, so the whole of it is searched)."""
    text = stderr.lower()
    return any(
        sign in text
        for sign in (b"fatal error: out of memory", b"fatal: out of memory", b"cannot allocate memory")
    )
