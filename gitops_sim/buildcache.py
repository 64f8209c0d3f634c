"""A content-addressed cache on disk for what real tools compute: kustomize builds and Helm renders.

A kustomize build (`apply.build`) or a Helm render (`helm.render`) costs a subprocess or a call
into Helm's engine, and a run repeats the same ones: every scenario builds the same few trees,
every `gitops-sim up` of a repository builds the same Kustomizations as the last one. Their
callers name each result by a digest of everything that determines it (`key`): the input exactly
as the tool receives it, the tool's own version, and whatever of the environment changes its
output. So an entry is never stale and never needs invalidating: a change to any input is a
different name. What goes into each key, and why that is all of it, is written where the key is
made (`apply.build.Builder`, `helm.render.Renderer`).

The folder (`Settings.cache_dir`; the CLI's default is `default_dir`, `$GITOPS_SIM_CACHE`, else
`$XDG_CACHE_HOME/gitops-sim`, else `~/.cache/gitops-sim`) holds `<namespace>/<k[:2]>/<k>`, each
file a header line with the sha256 of its payload, then the payload. Deleting the folder, or any
entry in it, is safe at any time, even while runs use it. Only the owner may read it (0700/0600):
entries hold rendered manifests. Callers never write a result that came from a Secret's data
(decrypted SOPS sources, Helm values from a Secret).

IMPLEMENTATION DETAIL:
    Problem: several processes (parallel test workers, two `gitops-sim run`s) share the folder,
    and a process may die half way through a write.
    Solution: an entry is written to a temporary file in its own folder, then renamed over its
    name (`os.replace`, atomic on POSIX): a reader sees a whole entry or none, and two writers of
    one name write the same bytes. A reader checks the payload against the header's digest and
    treats a damaged entry as absent (and removes it), so a disk fault costs a rebuild, never a
    wrong result.

    Problem: the folder must not grow without bound.
    Solution: every hit touches its entry's mtime; the first write to a folder in a process, and
    then every `max_bytes / 4` written there, measures the folder and, above `max_bytes`, removes
    the least recently used entries until it is under three quarters of it (measuring walks the
    folder, so a process with a warm cache, which writes nothing, never pays for it).

Callers: `apply.build` and `helm.render` (given a `Cache` by the engine from `Settings`). The
cache never fails a run: an unreadable or unwritable folder is a miss. It reads no environment
(`default_dir` is handed the CLI's), and never decides what a key covers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES = 1 << 30
"""The folder's bound: 1 GiB (a kustomize build's output is a few KiB to a few MiB)."""

_WRITTEN: dict[Path, int] = {}
"""The bytes this process wrote into each folder since it last measured it."""
_MAGIC = b"gitops-sim-cache 1 "
_TEMP_PREFIX = ".tmp-"


def default_dir(environ: Mapping[str, str], home: Path) -> Path:
    """Where the CLI keeps the cache: `$GITOPS_SIM_CACHE`, else `$XDG_CACHE_HOME/gitops-sim`,
    else `~/.cache/gitops-sim` (the XDG base directory rules; an empty or relative
    `XDG_CACHE_HOME` is ignored, as the specification says)."""
    given = environ.get("GITOPS_SIM_CACHE", "")
    if given:
        return Path(given).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "gitops-sim"
    return home / ".cache" / "gitops-sim"


def key(*parts: str | bytes) -> str:
    """The sha256 (hex) naming an entry: every part, length-prefixed, so that no two different
    sequences of parts give the same bytes."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


@dataclass(slots=True)
class Counts:
    """What a `Cache` did in this process (benchmarks read it)."""

    hits: int = 0
    misses: int = 0
    writes: int = 0


class Cache:
    """One cache folder. Entries are bytes under a namespace (`kustomize`, `helm`, ...) and a key."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.counts = Counts()

    def _path(self, namespace: str, name: str) -> Path:
        if not name.isalnum() or not namespace.isidentifier():
            raise ValueError(f"not a cache entry name: {namespace}/{name}")
        return self.root / namespace / name[:2] / name

    def get(self, namespace: str, name: str) -> bytes | None:
        """The payload stored under `name`, or None (absent, unreadable, or damaged)."""
        path = self._path(namespace, name)
        try:
            data = path.read_bytes()
        except OSError:
            self.counts.misses += 1
            return None
        header, newline, payload = data.partition(b"\n")
        if (
            not newline
            or not header.startswith(_MAGIC)
            or header[len(_MAGIC) :] != hashlib.sha256(payload).hexdigest().encode()
        ):
            with contextlib.suppress(OSError):
                path.unlink()
            self.counts.misses += 1
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: the last to go when the folder is trimmed
        self.counts.hits += 1
        return payload

    def put(self, namespace: str, name: str, payload: bytes) -> None:
        """Store `payload` under `name` (atomically; an I/O failure is ignored)."""
        path = self._path(namespace, name)
        header = _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.parent.parent.mkdir(mode=0o700, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)  # mode 0600
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(header)
                    out.write(payload)
                os.replace(temp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError:
            return
        self.counts.writes += 1
        since = _WRITTEN.get(self.root)
        if since is None or since > self.max_bytes // 4:
            _WRITTEN[self.root] = 0
            self.trim()
        _WRITTEN[self.root] = _WRITTEN[self.root] + len(payload)

    def size(self) -> int:
        """The bytes the folder's entries take."""
        return sum(size for _, size, _ in self._entries())

    def trim(self) -> None:
        """Remove the least recently used entries while the folder is above `max_bytes`, down to
        three quarters of it."""
        entries = self._entries()
        total = sum(size for _, size, _ in entries)
        if total <= self.max_bytes:
            return
        for path, size, _ in sorted(entries, key=lambda e: e[2]):
            if total <= self.max_bytes * 3 // 4:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size

    def clear(self) -> None:
        """Remove every entry (the folder stays)."""
        for path, _, _ in self._entries():
            with contextlib.suppress(OSError):
                path.unlink()

    def _entries(self) -> list[tuple[Path, int, int]]:
        """(path, size, mtime in ns) of every file under the folder."""
        found: list[tuple[Path, int, int]] = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = Path(folder) / name
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    found.append((path, stat.st_size, stat.st_mtime_ns))
        return found
