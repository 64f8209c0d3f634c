"""Tarballs in memory: the one format in which trees travel between git, storage and builds.

`pack` writes a byte-reproducible tar.gz (entries sorted, mtime 0, uid/gid 0, mode 0644, no time
in the gzip header), so the same tree always has the same digest; `unpack` reads a tar (plain or
compressed) back into a map of paths to bytes. Pure functions on bytes: no filesystem access.

Archives come from outside (an OCI layer someone pushed, a bucket's keys, a repository), and the
map they become is written to disk by whoever builds it, so the names in it must stay inside
the folder they are written to. As fluxcd/pkg `tar.Untar` (which source- and kustomize-controller
extract artifacts with), `unpack` refuses an entry whose name is empty, absolute, holds a
backslash or a `..` step (`tar contained invalid name error "../x"`), and stops once the
regular files add up to more than `MAX_UNTAR_BYTES` (Flux's default, 100 MiB). A symlink, device
or FIFO entry is refused as Flux's Untar refuses it (`unsupported file type`) with
`links="refuse"` (what OCI layers get); with `links="skip"` (the default: `git archive` output,
where source-controller's own archiver ignores anything that is not a regular file or folder) it
is left out. Either way no link ever reaches a map, so nothing built from one can point outside.
A hard link is a regular file of size 0 to Go's archive/tar, and so it is here. `pack` refuses
names `unpack` would refuse, so a bad name fails where it enters, not in a later consumer.

`secure_join` is the securejoin of a path inside such a tree (the SOPS decryptor, the image
automation and its explanation resolve paths with it).

Callers: storage, the git clients, the OCI and HelmChart controllers, the scenario runner. It
must never touch the filesystem.

Differences: Flux's check is on the string (`../` anywhere); ours is per path step, so `a/..`
and a bare `..` are refused too.
"""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
from typing import Literal

MAX_UNTAR_BYTES = 100 << 20
"""fluxcd/pkg tar's DefaultMaxUntarSize: an archive whose files add up to more is refused."""


class ArchiveError(ValueError):
    """The data is not a tar archive this module can read, or holds an entry it refuses."""


def path_problem(name: str) -> str | None:
    """None when `name` is a clean relative path that stays inside its root, else Flux's error."""
    steps = name.split("/")
    if not name or "\\" in name or name.startswith("/") or ".." in steps or "\0" in name:
        return f"tar contained invalid name error {_go_quote(name)}"
    return None


def pack(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            problem = path_problem(name)
            if problem is not None:
                raise ArchiveError(problem)
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def unpack(
    data: bytes, *, links: Literal["skip", "refuse"] = "skip", max_bytes: int = MAX_UNTAR_BYTES
) -> dict[str, bytes]:
    """The regular files in a tar (any compression tarfile knows), by path."""
    out: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                total += max(member.size, 0)
                if total > max_bytes:
                    raise ArchiveError(too_big(member.name, max_bytes))
                name = member.name.removeprefix("./") if member.name != "./" else "."
                if member.isdir() and name in (".", ""):
                    continue
                problem = path_problem(name.rstrip("/") if member.isdir() else name)
                if problem is not None:
                    raise ArchiveError(problem)
                if member.isdir():
                    continue
                if member.islnk():
                    out[name] = b""
                elif member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    out[name] = handle.read()
                elif links == "refuse":
                    raise ArchiveError(
                        f"tar file entry {member.name} contained unsupported file type {_go_mode(member)}"
                    )
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(str(exc)) from exc
    return out


def too_big(name: str, max_bytes: int) -> str:
    """Flux's error for the entry `name` that takes an archive past `max_bytes`."""
    return f"tar {_go_quote(name)} is bigger than max archive size of {max_bytes} bytes"


def _go_quote(text: str) -> str:
    """Go's %q for the plain names tar entries have."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_mode(member: tarfile.TarInfo) -> str:
    """Go's FileMode.String() for a tar entry that is not a regular file or folder."""
    kind = "L" if member.issym() else "D" if member.isblk() else "Dc" if member.ischr() else "p"
    return kind + stat.filemode(member.mode & 0o777)[1:]


def secure_join(path: str) -> str:
    """`path` joined to a tree's root as filepath-securejoin joins it, relative to the root (""
    for the root itself): empty and `.` steps dropped, `..` never climbing above the root. The
    trees here hold no symbolic links, so there is nothing else to follow."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)
