"""Git objects read from a packfile, and a commit read from them as a checkout reads it, in memory.

What it does: `read(pack)` unpacks a packfile (versions 2 and 3: whole objects, offset and
reference deltas, the trailing checksum checked) into the objects it holds, by id; `tree_files`
lays out a commit's tree as `git archive` writes it and `archives.unpack` reads it back (regular
files by path, symbolic links and submodules left out, the same path checks and size limit);
`subject` is the commit's subject as `git log --format=%s` prints it. Together they are what the
git client (`sources.githttp.GitHttpClient.checkout`) does with the pack a shallow fetch brings,
without a git process. `object_at` reads one object of a pack at an offset (what a repository's
pack index points at: `sources.gitobjects` reads hosted repositories with it), and `write` makes
the pack a push sends: every object whole (no deltas), which receive-pack's index-pack and
unpack-objects accept. Like `git archive`, which loads the tree into an index first, a tree with a
path git's index refuses (an empty, `.` or `..` component, `.git` in any spelling NTFS or HFS+
reads as it, a link NTFS or HFS+ reads as `.gitmodules`; read-cache.c `verify_path` with the
sandbox's core.protectNTFS and core.protectHFS) fails with git's `error: invalid path '<path>'`.

Provenance: the pack and tree formats as git's Documentation/gitformat-pack.txt and tree-walk.c
define them; the archive's order and entries from git's archive.c (directories queued and written
only before the first entry under them, submodules as folders), the subject from git's pretty.c
(`format_subject`: the first paragraph, each line without trailing whitespace, joined by a space,
re-encoded to UTF-8 from the commit's `encoding`). Our own code.

Differences from `git archive`: no `.gitattributes` conversion is applied (`text`, `eol`,
`ident`, `working-tree-encoding`): the files are the blobs as committed, which is what go-git's
checkout, and so source-controller's artifact, holds. (`git archive` in the sandbox already
applied no filter, export-subst or export-ignore.)

Input is untrusted (any git server on this machine may answer a fetch): every size is checked
before it is allocated (`max_bytes` for the objects inflated, deltas included), a malformed pack
or tree raises `PackError`, never another exception. Callers: `sources.githttp`,
`sources.gitobjects`. Pure over bytes (a pack may be a memory map the caller made); never touches
the filesystem or the network.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from gitops_sim.model import archives

COMMIT, TREE, BLOB, TAG, OFS_DELTA, REF_DELTA = 1, 2, 3, 4, 6, 7
KINDS = {COMMIT: b"commit", TREE: b"tree", BLOB: b"blob", TAG: b"tag"}

S_IFMT, S_IFREG, S_IFLNK, S_IFDIR, S_IFGITLINK = 0o170000, 0o100000, 0o120000, 0o040000, 0o160000

Objects = dict[str, tuple[int, bytes]]
"""Objects by hex id: (kind, content)."""


class Lookup(Protocol):
    """Where objects are read from by hex id: an `Objects` dict, or a repository's object store
    (`sources.gitobjects.Store`)."""

    def get(self, oid: str, /) -> tuple[int, bytes] | None: ...


MAX_DELTA_CHAIN = 10_000
"""The longest delta chain `object_at` follows (git's own packs stop at 4095)."""

_GIT_SPACE = b" \t\n\r"
"""What git's own `isspace` calls space (no vertical tab or form feed)."""


class PackError(ValueError):
    """The pack, or an object in it, is not what git would read."""


def read(pack: bytes, *, hash_name: str = "sha1", max_bytes: int = 1 << 30) -> Objects:
    """Every object of `pack`, deltas resolved, by its id (`hash_name`: the repository's object
    format). Raises `PackError` for a malformed pack, a wrong checksum, a delta whose base is
    not in it (a thin pack), or objects inflating to more than `max_bytes` in all."""
    view = memoryview(pack)
    width = hashlib.new(hash_name).digest_size
    if len(pack) < 12 + width or pack[:4] != b"PACK":
        raise PackError("bad pack header: not a pack")
    version = int.from_bytes(pack[4:8], "big")
    if version not in (2, 3):
        raise PackError(f"unsupported pack version {version}")
    if hashlib.new(hash_name, view[:-width]).digest() != pack[-width:]:
        raise PackError("pack checksum mismatch")
    count = int.from_bytes(pack[8:12], "big")
    end = len(pack) - width
    objects: Objects = {}
    at_offset: dict[int, tuple[int, bytes]] = {}
    waiting: list[tuple[int, str, bytes]] = []  # reference deltas whose base comes later
    budget = [max_bytes]
    pos = 12
    for _ in range(count):
        start = pos
        kind, size, pos = _object_header(pack, pos, end)
        if kind == OFS_DELTA:
            distance, pos = _offset(pack, pos, end)
            base = at_offset.get(start - distance)
            data, pos = _inflate(view, pos, end, size, budget)
            if base is None:
                raise PackError(f"delta at offset {start} refers to no object before it")
            content = _patch(base[1], data, budget)
            entry = (base[0], content)
        elif kind == REF_DELTA:
            base_id = pack[pos : pos + width].hex()
            pos += width
            data, pos = _inflate(view, pos, end, size, budget)
            if base_id not in objects:
                waiting.append((start, base_id, data))
                continue
            base_kind, base_content = objects[base_id]
            entry = (base_kind, _patch(base_content, data, budget))
        elif kind in KINDS:
            content, pos = _inflate(view, pos, end, size, budget)
            entry = (kind, content)
        else:
            raise PackError(f"unknown object type {kind} at offset {start}")
        at_offset[start] = entry
        objects[object_id(*entry, hash_name=hash_name)] = entry
    if pos != end:
        raise PackError("pack has junk at the end")
    while waiting:
        ready = [w for w in waiting if w[1] in objects]
        if not ready:
            raise PackError(f"pack has {len(waiting)} unresolved deltas (a thin pack)")
        waiting = [w for w in waiting if w[1] not in objects]
        for start, base_id, data in ready:
            base_kind, base_content = objects[base_id]
            entry = (base_kind, _patch(base_content, data, budget))
            at_offset[start] = entry
            objects[object_id(*entry, hash_name=hash_name)] = entry
    return objects


def object_id(kind: int, content: bytes, *, hash_name: str = "sha1") -> str:
    """The id git gives an object: the hash of `<type> <size>\\0` and its content."""
    digest = hashlib.new(hash_name, KINDS[kind] + b" %d\0" % len(content))
    digest.update(content)
    return digest.hexdigest()


def object_at(
    pack: bytes | memoryview,
    offset: int,
    external: Callable[[str], tuple[int, bytes] | None],
    *,
    width: int = 20,
    max_bytes: int = 1 << 30,
) -> tuple[int, bytes]:
    """The object (kind, content) at `offset` of `pack`, deltas resolved: an offset delta's base
    in the same pack, a reference delta's through `external` (by id: the caller knows where an
    object is). Raises `PackError` for a malformed entry, a base that cannot be found, or more
    than `max_bytes` inflated."""
    view = memoryview(pack)
    end = len(view) - width
    budget = [max_bytes]
    deltas: list[bytes] = []
    pos = offset
    for _ in range(MAX_DELTA_CHAIN):
        start = pos
        kind, size, pos = _object_header(view, pos, end)
        if kind == OFS_DELTA:
            distance, pos = _offset(view, pos, end)
            data, _ = _inflate(view, pos, end, size, budget)
            deltas.append(data)
            pos = start - distance
            if not 12 <= pos < start:
                raise PackError(f"delta at offset {start} refers to no object before it")
            continue
        if kind == REF_DELTA:
            base_id = bytes(view[pos : pos + width]).hex()
            data, _ = _inflate(view, pos + width, end, size, budget)
            deltas.append(data)
            base = external(base_id)
            if base is None:
                raise PackError(f"object {base_id} not found (the base of a delta)")
            kind, content = base
        elif kind in KINDS:
            content, _ = _inflate(view, pos, end, size, budget)
        else:
            raise PackError(f"unknown object type {kind} at offset {start}")
        for delta in reversed(deltas):
            content = _patch(content, delta, budget)
        return kind, content
    raise PackError(f"the delta chain at offset {offset} is too long")


def write(objects: Iterable[tuple[int, bytes]]) -> bytes:
    """A version 2 pack of `objects` (kind, content), each stored whole (no deltas), with its
    SHA-1 trailer: what `git pack-objects --no-reuse-delta --depth=0` would send."""
    listed = list(objects)
    parts = [b"PACK", (2).to_bytes(4, "big"), len(listed).to_bytes(4, "big")]
    for kind, content in listed:
        size = len(content)
        header = bytearray([(kind << 4) | (size & 15)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        parts += [bytes(header), zlib.compress(content, 1)]
    body = b"".join(parts)
    return body + hashlib.sha1(body).digest()


def _object_header(pack: bytes | memoryview, pos: int, end: int) -> tuple[int, int, int]:
    """(type, inflated size, offset after the header) of the object at `pos`."""
    if pos >= end:
        raise PackError("pack is truncated")
    byte = pack[pos]
    kind, size, shift = (byte >> 4) & 7, byte & 15, 4
    pos += 1
    while byte & 0x80:
        if pos >= end or shift > 60:
            raise PackError("bad object header in pack")
        byte = pack[pos]
        size |= (byte & 0x7F) << shift
        shift += 7
        pos += 1
    return kind, size, pos


def _offset(pack: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """An offset delta's distance back to its base (git's modified base-128 encoding)."""
    if pos >= end:
        raise PackError("pack is truncated")
    byte = pack[pos]
    distance = byte & 0x7F
    pos += 1
    while byte & 0x80:
        if pos >= end or distance > 1 << 56:
            raise PackError("bad delta offset in pack")
        byte = pack[pos]
        distance = ((distance + 1) << 7) | (byte & 0x7F)
        pos += 1
    return distance, pos


def _inflate(view: memoryview, pos: int, end: int, size: int, budget: list[int]) -> tuple[bytes, int]:
    """The zlib stream at `pos`, which must inflate to exactly `size` bytes, and the offset after
    it. Fed in growing chunks (never the rest of the pack at once) and never inflated past `size`."""
    _spend(budget, size)
    inflater = zlib.decompressobj()
    parts: list[bytes] = []
    produced = 0
    step = size + 64
    while True:
        chunk = view[pos : min(pos + step, end)]
        if not chunk:
            raise PackError("pack is truncated")
        try:
            out = inflater.decompress(chunk, size + 1 - produced)
        except zlib.error as exc:
            raise PackError(f"corrupt object in pack: {exc}") from exc
        produced += len(out)
        parts.append(out)
        if produced > size:
            raise PackError("an object in the pack inflates to more than its stated size")
        if inflater.eof:
            pos += len(chunk) - len(inflater.unused_data)
            break
        pos += len(chunk)
        step *= 2
    if produced != size:
        raise PackError("an object in the pack inflates to less than its stated size")
    return b"".join(parts), pos


def _spend(budget: list[int], size: int) -> None:
    budget[0] -= size
    if budget[0] < 0:
        raise PackError("the fetched objects are too large to read")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise PackError("corrupt delta in pack")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        shift += 7
        pos += 1
        if not byte & 0x80:
            return value, pos


def _patch(base: bytes, delta: bytes, budget: list[int]) -> bytes:
    """`base` with git's delta applied: copies from the base and inserted bytes."""
    source_size, pos = _varint(delta, 0)
    target_size, pos = _varint(delta, pos)
    if source_size != len(base):
        raise PackError("corrupt delta in pack: its base has another size")
    _spend(budget, target_size)
    try:
        out = _copy_and_insert(memoryview(base), delta, pos, target_size)
    except IndexError as exc:
        raise PackError("corrupt delta in pack: truncated") from exc
    if len(out) != target_size:
        raise PackError("corrupt delta in pack: it makes an object of another size")
    return bytes(out)


def _copy_and_insert(source: memoryview, delta: bytes, pos: int, limit: int) -> bytearray:
    """The delta's instructions from `pos` run over `source`; stops once past `limit` bytes (a
    one-byte copy instruction makes 64 KiB: a small delta could otherwise make gigabytes)."""
    out = bytearray()
    length = len(delta)
    while pos < length and len(out) <= limit:
        op = delta[pos]
        pos += 1
        if op & 0x80:
            offset = count = 0
            for bit in range(4):
                if op & (1 << bit):
                    offset |= delta[pos] << (8 * bit)
                    pos += 1
            for bit in range(3):
                if op & (0x10 << bit):
                    count |= delta[pos] << (8 * bit)
                    pos += 1
            count = count or 0x10000
            if offset + count > len(source):
                raise PackError("corrupt delta in pack: a copy beyond its base")
            out += source[offset : offset + count]
        elif op:
            if pos + op > length:
                raise PackError("corrupt delta in pack: truncated")
            out += delta[pos : pos + op]
            pos += op
        else:
            raise PackError("corrupt delta in pack: unexpected opcode 0")
    return out


def commit_tree(objects: Lookup, commit: str) -> str:
    """The id of commit `commit`'s tree."""
    kind, content = objects.get(commit) or (0, b"")
    if kind != COMMIT:
        raise PackError(f"object {commit} not found")
    first = content.split(b"\n", 1)[0]
    if not first.startswith(b"tree "):
        raise PackError(f"bad commit {commit}: no tree")
    return first[5:].decode("ascii", "replace")


def subject(content: bytes) -> str:
    """What `git log --format=%s` prints for a commit (without the newline after it)."""
    header_end = 0
    encoding = b""
    for line in content.split(b"\n"):
        if not line:
            break
        if line.startswith(b"encoding "):
            encoding = line[9:]
        header_end += len(line) + 1
    message = _reencoded(content[header_end:], encoding).split(b"\0", 1)[0]
    title: list[bytes] = []  # blank lines skipped, then the lines up to the next blank one
    for line in message.split(b"\n"):
        trimmed = line.rstrip(_GIT_SPACE)
        if trimmed:
            title.append(trimmed)
        elif title:
            break
    return b" ".join(title).decode(errors="replace")


def _reencoded(message: bytes, encoding: bytes) -> bytes:
    """`message` in UTF-8 from the commit's `encoding` header (git keeps it as it is when the
    encoding is unknown or the bytes are not in it)."""
    name = encoding.decode("ascii", "replace").strip()
    if not name or name.lower().replace("-", "") == "utf8":
        return message
    try:
        return message.decode(name).encode()  # text encodings only (no base64 or zlib "codecs")
    except (LookupError, UnicodeError, ValueError):
        return message


def entries(tree: bytes, width: int = 20) -> Iterator[tuple[int, bytes, str]]:
    """(mode as git canonicalises it, name, id) of each entry of a tree object, in its order
    (`width`: the bytes of an object id)."""
    pos, end = 0, len(tree)
    while pos < end:
        space = tree.find(b" ", pos)
        nul = tree.find(b"\0", space + 1) if space >= 0 else -1
        if space < 0 or nul < 0 or nul + 1 + width > end:
            raise PackError("too-short tree file")
        mode_text = tree[pos:space]
        if not mode_text or mode_text.strip(b"01234567"):
            raise PackError("malformed mode in tree entry")
        name = tree[space + 1 : nul]
        if not name:
            raise PackError("empty filename in tree entry")
        yield canonical_mode(int(mode_text, 8)), name, tree[nul + 1 : nul + 1 + width].hex()
        pos = nul + 1 + width


def canonical_mode(mode: int) -> int:
    """The mode git's index gives a tree entry's (tree-walk.c `canon_mode`): 100644 or 100755
    for a file, 120000, 40000, and 160000 for anything else."""
    kind = mode & S_IFMT
    if kind == S_IFREG:
        return S_IFREG | (0o755 if mode & 0o100 else 0o644)
    if kind in (S_IFLNK, S_IFDIR):
        return kind
    return S_IFGITLINK


def tree_files(
    objects: Lookup, tree: str, *, width: int = 20, max_bytes: int = archives.MAX_UNTAR_BYTES
) -> dict[str, bytes]:
    """The regular files of tree `tree` by path, as `archives.unpack` reads `git archive`'s tar
    of it: entries in the archive's order, each checked (`archives.path_problem`, Flux's
    `MAX_UNTAR_BYTES`) as unpack checks it, raising `archives.ArchiveError` with its words;
    symbolic links and submodules left out. `width`: the bytes of an object id."""
    files: dict[str, bytes] = {}
    total = 0
    for path, folder, content in _archived(objects, tree, width):
        name = path.rstrip("/") if folder else path  # tarfile's name for the entry
        total += 0 if content is None else len(content)
        if total > max_bytes:
            raise archives.ArchiveError(archives.too_big(name, max_bytes))
        name = name.removeprefix("./") if name != "./" else "."
        if folder and name in (".", ""):
            continue
        problem = archives.path_problem(name.rstrip("/") if folder else name)
        if problem is not None:
            raise archives.ArchiveError(problem)
        if content is not None and not folder:
            files[name] = content
    return files


def _archived(objects: Lookup, tree: str, width: int) -> list[tuple[str, bool, bytes | None]]:
    """The entries of `git archive`'s tar of `tree`, in its order: (path, a folder, the content
    of a regular file). Like git, every path of a file, link or submodule is checked first (git
    loads the tree into an index before writing anything) and the first one its index refuses
    raises `PackError` with git's words."""
    written: list[tuple[str, bool, bytes | None]] = []
    queued: list[str] = []  # folders not written yet (archive.c writes one only before an entry under it)
    stack: list[tuple[bytes, Iterator[tuple[int, bytes, str]]]] = [
        (b"", entries(_tree(objects, tree), width))
    ]
    while stack:
        base, listed = stack[-1]
        entry = next(listed, None)
        if entry is None:
            stack.pop()
            continue
        mode, name, oid = entry
        text_base = base.decode("utf-8", "surrogateescape")
        while queued and not text_base.startswith(queued[-1]):
            queued.pop()
        raw = base + name
        path = raw.decode("utf-8", "surrogateescape")
        if mode == S_IFDIR:
            queued.append(path + "/")
            stack.append((raw + b"/", entries(_tree(objects, oid), width)))
            continue
        if not index_accepts(raw, mode):
            raise PackError(f"error: invalid path '{raw.decode(errors='replace')}'")
        written += [(folder, True, None) for folder in queued]
        queued.clear()
        if mode == S_IFGITLINK:
            written.append((path + "/", True, None))
        elif mode == S_IFLNK:
            written.append((path, False, None))
        else:
            content = objects.get(oid)
            if content is None:
                raise PackError(f"object {oid} not found")
            written.append((path, False, content[1]))
    return written


_HFS_IGNORED = frozenset([*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])
"""Code points HFS+ ignores in names (git's utf8.c `next_hfs_char`)."""


def index_accepts(path: bytes, mode: int) -> bool:
    """Whether git's index takes `path` (read-cache.c `verify_path` with core.protectNTFS and
    core.protectHFS, which the sandbox sets): no empty, `.` or `..` component, nothing that
    NTFS or HFS+ would read as `.git`, and no link that they would read as `.gitmodules`."""
    link = mode == S_IFLNK
    i, end = 0, len(path)
    while True:  # at the start of a component
        rest = path[i:]
        if _hfs_dot(rest, b"git") or _ntfs_dot(rest, b"git", b""):
            return False
        if link and (_hfs_dot(rest, b"gitmodules") or _ntfs_dot(rest, b"gitmodules", b"gi7eba")):
            return False
        if i == end:
            return False  # an empty path, or one ending in '/'
        first = path[i : i + 1]
        i += 1
        if first == b"/" or (first == b"." and not _dotfile_accepted(path[i:], link)):
            return False
        while True:
            if i == end:
                return True
            char = path[i : i + 1]
            i += 1
            if char == b"/":
                break
            if char == b"\\" and (
                _ntfs_dot(path[i:], b"git", b"") or (link and _ntfs_dot(path[i:], b"gitmodules", b"gi7eba"))
            ):
                return False


def _dotfile_accepted(rest: bytes, link: bool) -> bool:
    """git's `verify_dotfile`: what follows a component's leading '.'."""
    if rest[:1] in (b"", b"/"):
        return False  # "."
    if rest[:1] == b"." and rest[1:2] in (b"", b"/"):
        return False  # ".."
    if rest[:3].lower() == b"git":
        after = rest[3:]
        if after[:1] in (b"", b"/"):
            return False
        if link and after[:7].lower() == b"modules" and after[7:8] in (b"", b"/"):
            return False
    return True


def _hfs_dot(rest: bytes, needle: bytes) -> bool:
    """Whether the component at the start of `rest` is `.<needle>` to HFS+ (case and the
    ignored code points aside); git's utf8.c `is_hfs_dot_generic`."""
    chars = _hfs_chars(rest)
    if next(chars) != ord("."):
        return False
    for wanted in needle:
        char = next(chars)
        if char > 127 or chr(char).lower() != chr(wanted):
            return False
    return next(chars) in (0, ord("/"))


def _hfs_chars(data: bytes) -> Iterator[int]:
    """The code points of `data` HFS+ does not ignore, then 0 forever (at the end, or at the
    first byte that is not UTF-8)."""
    i = 0
    while i < len(data):
        lead = data[i]
        size = (
            1
            if lead < 0x80
            else 2
            if lead >> 5 == 6
            else 3
            if lead >> 4 == 14
            else 4
            if lead >> 3 == 30
            else 0
        )
        try:
            char = ord(data[i : i + size].decode("utf-8")) if size else -1
        except UnicodeDecodeError:
            char = -1
        if char < 0:
            break
        i += size
        if char not in _HFS_IGNORED:
            yield char
    while True:
        yield 0


def _ntfs_dot(rest: bytes, needle: bytes, short_prefix: bytes) -> bool:
    """Whether the component at the start of `rest` names `.<needle>` on NTFS: trailing spaces
    and dots or an alternate stream (`:`) aside, or as an 8.3 short name (git's path.c
    `is_ntfs_dotgit`, and `is_ntfs_dot_generic` when `short_prefix` is given)."""
    ends = (b"", b":", b"/", b"\\") if not short_prefix else (b"", b":")

    def only_spaces_and_dots(at: int) -> bool:
        while True:
            char = rest[at : at + 1]
            at += 1
            if char in ends:
                return True
            if char not in (b" ", b"."):
                return False

    if not short_prefix:  # ".git" or "git~1"
        if rest[:4].lower() == b".git":
            return only_spaces_and_dots(4)
        if rest[:5].lower() == b"git~1":
            return only_spaces_and_dots(5)
        return False
    size = len(needle)
    if rest[:1] == b"." and rest[1 : 1 + size].lower() == needle:
        return only_spaces_and_dots(1 + size)
    if rest[:6].lower() == needle[:6] and rest[6:7] == b"~" and rest[7:8] in (b"1", b"2", b"3", b"4"):
        return only_spaces_and_dots(8)
    i, saw_tilde = 0, False
    while i < 8:
        char = rest[i : i + 1]
        if not char:
            return False
        if saw_tilde:
            if not char.isdigit():
                return False
        elif char == b"~":
            i += 1
            if rest[i : i + 1] not in tuple(b"%d" % d for d in range(1, 10)):
                return False
            saw_tilde = True
        elif i >= 6 or char[0] & 0x80 or char.lower() != short_prefix[i : i + 1]:
            return False
        i += 1
    return only_spaces_and_dots(8)


def _tree(objects: Lookup, oid: str) -> bytes:
    kind, content = objects.get(oid) or (0, b"")
    if kind != TREE:
        raise PackError(f"object {oid} not found")
    return content
