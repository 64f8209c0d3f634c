"""Tarballs in memory: the one format in which trees travel between git, storage and builds.

`pack` writes a byte-reproducible tar.gz (entries sorted, mtime 0, uid/gid 0, mode 0644, no time
in the gzip header), so the same tree always has the same digest; `unpack` reads a tar (plain or
compressed) back into a map of paths to bytes. Pure functions on bytes: no filesystem access.
"""

from __future__ import annotations

import gzip
import io
import tarfile


def pack(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


class ArchiveError(ValueError):
    """The data is not a tar archive this module can read."""


def unpack(data: bytes) -> dict[str, bytes]:
    """The regular files in a tar (any compression tarfile knows), by path."""
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar.getmembers():
                if member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    out[member.name] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(str(exc)) from exc
    return out
