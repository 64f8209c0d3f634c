"""Git repositories read and written in this process: objects, trees, commits, tags and refs.

What it does: `Store` is one repository's object database on disk (loose objects, and packs
through their version 2 index), read by id and written as loose objects (zlib over
`<type> <size>\\0<content>`, named by the SHA-1 of those bytes, written to a temporary file and
renamed, read-only, as git does); `Memory` is the same in memory (a client's shallow clone). Over
either: `flatten` lists a commit's files by path and `build` writes the trees of such a listing
(git's order, canonical modes: what `git write-tree` makes of an index), `commit_object` and
`tag_object` encode what `git commit` and `git tag -a` write, `ident` is git's cleaned-up
`Name <email> <seconds> +0000`, `stripspace` git's message clean-up, `changes` the files two
trees differ in (`git diff-tree -r --name-status`), `quote_path` git's quoting of such a path,
`linear_history` and `is_ancestor` walk commits, and `to_send` picks the objects a push sends
(what `git pack-objects --revs` picks for `wanted ^haves`). Refs: `read_ref` (loose ref files,
symbolic refs, `packed-refs`), `resolve` (a name as `git rev-parse` reads a plain ref name:
refs.c's `ref_rev_parse_rules`), `write_ref` (a lock file renamed over the ref, refusing a name
another ref's folder or file is in the way of), and `init` (a new bare repository's files).

Provenance: git's Documentation (gitformat-pack, gitformat-index, git-check-ref-format), and
object-file.c (ids, loose objects), tree.c `base_name_compare` (tree order), tree-walk.c
`canon_mode`, ident.c `fmt_ident` and `strbuf_addstr_without_crud`, strbuf.c
`strbuf_stripspace`, builtin/tag.c (a tag object's header), quote.c `quote_c_style` with
core.quotePath, refs.c and refs/files-backend.c (loose and packed refs, lock files),
list-objects.c (`mark_edges_uninteresting`). Our own code.

Callers: `sources.git` (the hosted repositories: commits, tags and what the runner reads back)
and `sources.githttp` (the client's in-memory clones: what an image automation or `flux
bootstrap` commits and pushes). Never runs a process, never reads a clock (times are given),
never follows a symbolic link where it writes (lock files are created with O_EXCL|O_NOFOLLOW, in
folders only gitops-sim writes). Names reach a path only after the caller checked them
(`gitnames.ref_problem`) or as `read_ref`'s own check lets them.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from gitops_sim.sources import gitpack

COMMIT, TREE, BLOB, TAG = gitpack.COMMIT, gitpack.TREE, gitpack.BLOB, gitpack.TAG
FILE, EXECUTABLE, LINK, FOLDER, SUBMODULE = 0o100644, 0o100755, 0o120000, 0o040000, 0o160000

MAX_DEPTH = 256
"""The deepest folder nesting written, compared or pushed (each level is a Python frame here)."""

Listing = dict[bytes, tuple[int, str]]
"""The files of a tree (blobs, links and submodules, never folders) by path: (mode, id)."""

CONFIG = b"[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"
"""What `git init --bare` writes as a new repository's config (git 2.39)."""

_KIND = {name: kind for kind, name in gitpack.KINDS.items()}
_HEX40 = re.compile(rb"[0-9a-f]{40}")
_OID = re.compile(r"[0-9a-f]{40}")


class ObjectError(Exception):
    """An object is missing or malformed, or a ref cannot be written; the message says which."""


# -- object stores ----------------------------------------------------------------------------


class Memory:
    """Objects in memory, over an optional read-only base (a checkout's fetched objects), and
    the commits whose parents were left out (a shallow fetch's)."""

    def __init__(
        self, base: Mapping[str, tuple[int, bytes]] | None = None, shallow: Iterable[str] = ()
    ) -> None:
        self._base = base or {}
        self._own: dict[str, tuple[int, bytes]] = {}
        self.shallow = frozenset(shallow)

    def get(self, oid: str, /) -> tuple[int, bytes] | None:
        return self._own.get(oid) or self._base.get(oid)

    def has(self, oid: str) -> bool:
        return oid in self._own or oid in self._base

    def put(self, kind: int, content: bytes) -> str:
        oid = gitpack.object_id(kind, content)
        if not self.has(oid):
            self._own[oid] = (kind, content)
        return oid


class _Pack:
    """One pack and its version 2 index (the pack mapped into memory on first use)."""

    def __init__(self, idx: Path, width: int) -> None:
        data = idx.read_bytes()
        self.path = idx.with_suffix(".pack")
        self._width = width
        if data[:4] != b"\xfftOc" or int.from_bytes(data[4:8], "big") != 2 or len(data) < 8 + 1024:
            raise ObjectError(f"{idx.name}: not a version 2 pack index")
        self._fanout = [int.from_bytes(data[8 + 4 * i : 12 + 4 * i], "big") for i in range(256)]
        count = self._fanout[255]
        self._names = 8 + 1024
        self._offsets = self._names + count * width + 4 * count
        self._large = self._offsets + 4 * count
        if len(data) < self._large + 2 * width:
            raise ObjectError(f"{idx.name}: the pack index is truncated")
        self._data = data
        self._pack: memoryview | None = None

    def find(self, oid: str) -> int | None:
        """The offset of `oid` in the pack, or None."""
        key = bytes.fromhex(oid)
        lo = self._fanout[key[0] - 1] if key[0] else 0
        hi = self._fanout[key[0]]
        data, width, names = self._data, self._width, self._names
        while lo < hi:
            mid = (lo + hi) // 2
            name = data[names + mid * width : names + (mid + 1) * width]
            if name == key:
                value = int.from_bytes(data[self._offsets + 4 * mid : self._offsets + 4 * mid + 4], "big")
                if value & 0x80000000:
                    at = self._large + 8 * (value & 0x7FFFFFFF)
                    value = int.from_bytes(data[at : at + 8], "big")
                return value
            if name < key:
                lo = mid + 1
            else:
                hi = mid
        return None

    def view(self) -> memoryview:
        if self._pack is None:
            with open(self.path, "rb") as handle:
                try:
                    self._pack = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
                except ValueError as exc:  # an empty file
                    raise ObjectError(f"{self.path.name}: {exc}") from exc
        return self._pack


class Store:
    """The object database of the repository at `git_dir`: loose objects and packs, read by id
    (commits, trees and tags kept in memory once read: an object never changes), written as
    loose objects."""

    def __init__(self, git_dir: Path) -> None:
        self._objects = git_dir / "objects"
        self._packs: dict[str, _Pack] = {}
        self._cache: dict[str, tuple[int, bytes]] = {}

    def get(self, oid: str, /) -> tuple[int, bytes] | None:
        cached = self._cache.get(oid)
        if cached is not None:
            return cached
        if not _OID.fullmatch(oid):
            return None  # never a path: ids come from objects and refs a push may have written
        found = self._loose(oid)
        if found is None:
            found = self._packed(oid)
        if found is not None and found[0] != BLOB:
            self._cache[oid] = found
        return found

    def has(self, oid: str) -> bool:
        if oid in self._cache:
            return True
        if not _OID.fullmatch(oid):
            return False
        return (self._objects / oid[:2] / oid[2:]).is_file() or self._pack_of(oid) is not None

    def put(self, kind: int, content: bytes) -> str:
        """Write an object (unless the repository holds it) and return its id."""
        oid = gitpack.object_id(kind, content)
        if self.has(oid):
            return oid
        folder = self._objects / oid[:2]
        folder.mkdir(exist_ok=True)
        data = zlib.compress(gitpack.KINDS[kind] + b" %d\0" % len(content) + content, 1)
        fd, scratch = tempfile.mkstemp(prefix="tmp_obj_", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(scratch, 0o444)
            os.replace(scratch, folder / oid[2:])
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise
        if kind != BLOB:
            self._cache[oid] = (kind, content)
        return oid

    def _loose(self, oid: str) -> tuple[int, bytes] | None:
        try:
            data = zlib.decompress((self._objects / oid[:2] / oid[2:]).read_bytes())
        except (OSError, ValueError):
            return None
        except zlib.error as exc:
            raise ObjectError(f"object {oid} is corrupt: {exc}") from exc
        header, nul, content = data.partition(b"\0")
        kind_name, _, size = header.partition(b" ")
        kind = _KIND.get(kind_name)
        if not nul or kind is None or not size.isdigit() or int(size) != len(content):
            raise ObjectError(f"object {oid} is corrupt: a bad header")
        return kind, content

    def _packed(self, oid: str) -> tuple[int, bytes] | None:
        found = self._pack_of(oid)
        if found is None:
            return None
        pack, offset = found
        try:
            return gitpack.object_at(pack.view(), offset, self._base_of)
        except gitpack.PackError as exc:
            raise ObjectError(f"object {oid} in {pack.path.name}: {exc}") from exc

    def _base_of(self, oid: str) -> tuple[int, bytes] | None:
        return self.get(oid)

    def _pack_of(self, oid: str) -> tuple[_Pack, int] | None:
        if not _OID.fullmatch(oid):
            return None
        for rescan in (False, True):
            if rescan and not self._rescan():
                break
            for pack in self._packs.values():
                offset = pack.find(oid)
                if offset is not None:
                    return pack, offset
        return None

    def _rescan(self) -> bool:
        """Pick up packs written since (receive-pack, a bundle); whether there were any."""
        try:
            names = sorted(p.name for p in (self._objects / "pack").glob("pack-*.idx"))
        except OSError:
            return False
        new = [n for n in names if n not in self._packs]
        for name in new:
            if (self._objects / "pack" / name).with_suffix(".pack").is_file():
                self._packs[name] = _Pack(self._objects / "pack" / name, 20)
        return bool(new)


Lookup = gitpack.Lookup


def read(objects: Lookup, oid: str, kind: int) -> bytes:
    """The content of object `oid`, which must be of `kind`."""
    found = objects.get(oid)
    if found is None:
        raise ObjectError(f"object {oid} not found")
    if found[0] != kind:
        raise ObjectError(
            f"object {oid} is a {gitpack.KINDS[found[0]].decode()}, not a {gitpack.KINDS[kind].decode()}"
        )
    return found[1]


# -- trees ------------------------------------------------------------------------------------


def flatten(objects: Lookup, tree: str) -> Listing:
    """Every file, link and submodule of `tree` by path, in git's order, modes canonical (as
    git's index holds them after reading the tree)."""
    listing: Listing = {}
    stack: list[tuple[bytes, Iterator[tuple[int, bytes, str]]]] = [(b"", _entries(objects, tree))]
    while stack:
        base, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        mode, name, oid = entry
        if mode == FOLDER:
            stack.append((base + name + b"/", _entries(objects, oid)))
        else:
            listing[base + name] = (mode, oid)
    return listing


def _entries(objects: Lookup, tree: str) -> Iterator[tuple[int, bytes, str]]:
    try:
        yield from gitpack.entries(read(objects, tree, TREE))
    except gitpack.PackError as exc:
        raise ObjectError(f"tree {tree}: {exc}") from exc


def encode_tree(entries: Iterable[tuple[int, bytes, str]]) -> bytes:
    """A tree object of (mode, name, id) entries, in git's order: a folder's name compares as
    the name followed by '/'."""
    ordered = sorted(entries, key=lambda e: e[1] + b"/" if e[0] == FOLDER else e[1])
    return b"".join(b"%o %s\0" % (mode, name) + bytes.fromhex(oid) for mode, name, oid in ordered)


def build(listing: Mapping[bytes, tuple[int, str]], put: Callable[[int, bytes], str]) -> str:
    """Write the trees of `listing` (each through `put`) and return the root's id: what
    `git write-tree` writes for an index holding these entries (no empty folders)."""
    root = _Folder()
    for path, entry in listing.items():
        *folders, name = path.split(b"/")
        node = root
        for folder in folders:
            if folder in node.files:
                raise ObjectError(f"{path.decode(errors='replace')!r}: a file is in the way")
            node = node.folders.setdefault(folder, _Folder())
        if name in node.folders:
            raise ObjectError(f"{path.decode(errors='replace')!r}: a folder is in the way")
        node.files[name] = entry
    return root.write(put)


class _Folder:
    __slots__ = ("files", "folders")

    def __init__(self) -> None:
        self.files: dict[bytes, tuple[int, str]] = {}
        self.folders: dict[bytes, _Folder] = {}

    def write(self, put: Callable[[int, bytes], str], depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            raise ObjectError(f"the tree nests deeper than {MAX_DEPTH} folders")
        entries = [(mode, name, oid) for name, (mode, oid) in self.files.items()]
        for name, folder in self.folders.items():
            entries.append((FOLDER, name, folder.write(put, depth + 1)))
        return put(TREE, encode_tree(entries))


def changes(objects: Lookup, old: str | None, new: str | None) -> list[tuple[str, bytes]]:
    """(status, path) of every file, link or submodule that differs between trees `old` and
    `new` (None: no tree), as `git diff-tree -r --no-renames --name-status` finds them: `A`,
    `D`, `M` (content or mode) or `T` (a file became a link or a submodule, or back); a file
    that became a folder is `D` and everything under it `A`. In git's order."""
    found: list[tuple[str, bytes]] = []
    _compare(objects, old, new, b"", found)
    return found


def _compare(
    objects: Lookup, old: str | None, new: str | None, prefix: bytes, found: list[tuple[str, bytes]]
) -> None:
    if prefix.count(b"/") > MAX_DEPTH:
        raise ObjectError(f"the tree nests deeper than {MAX_DEPTH} folders")
    before = {name: (mode, oid) for mode, name, oid in _entries(objects, old)} if old else {}
    after = {name: (mode, oid) for mode, name, oid in _entries(objects, new)} if new else {}

    def order(name: bytes) -> bytes:
        folder = FOLDER in (before.get(name, (0, ""))[0], after.get(name, (0, ""))[0])
        return name + b"/" if folder else name

    for name in sorted(set(before) | set(after), key=order):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        path = prefix + name
        a_folder = a is not None and a[0] == FOLDER
        b_folder = b is not None and b[0] == FOLDER
        if a_folder or b_folder:
            if a is not None and not a_folder:
                found.append(("D", path))
            if b is not None and not b_folder:
                found.append(("A", path))
            _compare(
                objects,
                a[1] if a_folder and a else None,
                b[1] if b_folder and b else None,
                path + b"/",
                found,
            )
        elif a is None:
            found.append(("A", path))
        elif b is None:
            found.append(("D", path))
        else:
            same_kind = (a[0] & gitpack.S_IFMT) == (b[0] & gitpack.S_IFMT)
            found.append(("M" if same_kind else "T", path))


_QUOTED = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}


def quote_path(path: bytes) -> str:
    """`path` as git prints it in a listing (quote.c `quote_c_style`, core.quotePath on): in
    double quotes with C escapes when it holds a control character, '"', '\\' or any byte
    outside ASCII (as octal), else as it is."""
    if not any(b < 32 or b >= 127 or b in (34, 92) for b in path):
        return path.decode("ascii")
    shown = "".join(_QUOTED.get(b) or (f"\\{b:03o}" if b < 32 or b >= 127 else chr(b)) for b in path)
    return f'"{shown}"'


# -- commits and tags -------------------------------------------------------------------------


def _crud(c: int) -> bool:
    return c <= 32 or c in b".,:;<>\"\\'"


def without_crud(value: str) -> str:
    """`value` as git writes a name or email into an ident (ident.c `strbuf_addstr_without_crud`):
    leading and trailing spaces, control characters and `.,:;<>"\\'` dropped, then every '<', '>'
    and newline."""
    raw = value.encode()
    start, end = 0, len(raw)
    while start < end and _crud(raw[start]):
        start += 1
    while end > start and _crud(raw[end - 1]):
        end -= 1
    kept = bytes(c for c in raw[start:end] if c not in b"<>\n")
    return kept.decode(errors="surrogateescape")


def ident(name: str, email: str, seconds: int) -> str:
    """The author or committer line's value `git commit` writes for GIT_AUTHOR_NAME=`name`,
    GIT_AUTHOR_EMAIL=`email` and a date of `@<seconds> +0000`. Raises ValueError with git's
    words for a name git refuses (empty, or nothing but characters it drops)."""
    if not name:
        raise ValueError(f"empty ident name (for <{email}>) not allowed")
    if not any(not _crud(c) for c in name.encode()):
        raise ValueError(f"name consists only of disallowed characters: {name}")
    return f"{without_crud(name)} <{without_crud(email)}> {seconds} +0000"


def commit_object(tree: str, parents: Sequence[str], author: str, committer: str, message: bytes) -> bytes:
    """A commit object's content, as `git commit` and go-git write it (no encoding header, no
    signature); `author` and `committer` as `ident` makes them."""
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents), f"author {author}", f"committer {committer}"]
    return ("\n".join(lines) + "\n\n").encode() + message


def tag_object(target: str, kind: int, name: str, tagger: str, message: bytes) -> bytes:
    """An annotated tag's content, as `git tag -a` writes it (builtin/tag.c)."""
    header = f"object {target}\ntype {gitpack.KINDS[kind].decode()}\ntag {name}\ntagger {tagger}\n\n"
    return header.encode() + message


def stripspace(text: bytes, *, comments: bool = True) -> bytes:
    """git's message clean-up (strbuf.c `strbuf_stripspace`): trailing whitespace off every line,
    lines starting with '#' dropped (`comments`), blank lines at the start and end dropped and
    runs of them made one, every line ending in a newline."""
    out: list[bytes] = []
    blanks = 0
    for line in text.split(b"\n") if text else []:
        if comments and line.startswith(b"#"):
            continue
        line = line.rstrip(b" \t\n\r")
        if not line:
            blanks += 1
            continue
        if blanks and out:
            out.append(b"")
        blanks = 0
        out.append(line)
    return b"".join(line + b"\n" for line in out)


def parents(content: bytes) -> tuple[str, ...]:
    """The parents a commit object's header names."""
    found = []
    for line in content.split(b"\n"):
        if not line:
            break
        if line.startswith(b"parent "):
            found.append(line[7:].decode("ascii", "replace"))
    return tuple(found)


def tree_of(objects: Lookup, commit: str) -> str:
    try:
        return gitpack.commit_tree(objects, commit)
    except gitpack.PackError as exc:
        raise ObjectError(str(exc)) from exc


def peel(objects: Lookup, oid: str) -> str | None:
    """The commit `oid` is, or that the tag `oid` (through any tags) points at; None for a
    missing object, a tree or a blob."""
    for _ in range(100):
        found = objects.get(oid)
        if found is None:
            return None
        kind, content = found
        if kind == COMMIT:
            return oid
        if kind != TAG or not content.startswith(b"object "):
            return None
        oid = content[7 : content.find(b"\n")].decode("ascii", "replace")
    return None


def _parents_of(objects: Lookup, commit: str, shallow: frozenset[str]) -> tuple[str, ...] | None:
    if commit in shallow:
        return ()
    found = objects.get(commit)
    if found is None or found[0] != COMMIT:
        return None
    return parents(found[1])


def linear_history(
    objects: Lookup, head: str, stop: str | None, shallow: frozenset[str] = frozenset()
) -> list[str] | None:
    """`git rev-list --topo-order head ^stop` for a history without merges: the commits from
    `head` back, newest first, leaving out those reachable from `stop` (shallow commits have no
    parents). None when a merge or a missing commit is met: git's own walk then decides."""
    left_out: set[str] = set()
    commit = stop
    while commit is not None and commit not in left_out:
        left_out.add(commit)
        up = _parents_of(objects, commit, shallow)
        if up is None or len(up) > 1:
            return None
        commit = up[0] if up else None
    walked: list[str] = []
    commit = head
    while commit is not None and commit not in left_out:
        walked.append(commit)
        up = _parents_of(objects, commit, shallow)
        if up is None or len(up) > 1:
            return None
        commit = up[0] if up else None
    return walked


def is_ancestor(objects: Lookup, old: str, new: str, shallow: frozenset[str] = frozenset()) -> bool:
    """Whether commit `old` is in `new`'s history as far as `objects` hold it (`git merge-base
    --is-ancestor` in a shallow clone)."""
    seen: set[str] = set()
    todo = [new]
    while todo:
        commit = todo.pop()
        if commit == old:
            return True
        if commit in seen:
            continue
        seen.add(commit)
        todo.extend(_parents_of(objects, commit, shallow) or ())
    return False


def to_send(
    objects: Lookup, wanted: Sequence[str], haves: Sequence[str], shallow: frozenset[str] = frozenset()
) -> list[tuple[int, bytes]]:
    """The objects `git pack-objects --revs` packs for `wanted` and `^haves` (all held here):
    the commits reachable from `wanted` but not from `haves` (down to shallow or missing
    parents), then their trees and blobs but those of the haves' trees (list-objects.c marks the
    trees of uninteresting commits uninteresting). Commits first, then trees and blobs in the
    order the walk meets them."""
    excluded: set[str] = set()
    todo = list(haves)
    while todo:
        commit = todo.pop()
        if commit in excluded or (objects.get(commit) or (0, b""))[0] != COMMIT:
            continue
        excluded.add(commit)
        todo.extend(_parents_of(objects, commit, shallow) or ())
    have_trees = {tree_of(objects, c) for c in haves if c in excluded}
    for tree in sorted(have_trees):
        _mark(objects, tree, excluded)
    commits: list[str] = []
    seen: set[str] = set()
    todo = list(reversed(wanted))
    while todo:
        commit = todo.pop()
        if commit in excluded or commit in seen:
            continue
        seen.add(commit)
        if objects.get(commit) is None:
            raise ObjectError(f"bad object {commit}")
        commits.append(commit)
        todo.extend(reversed(_parents_of(objects, commit, shallow) or ()))
    sent: list[tuple[int, bytes]] = [(COMMIT, read(objects, c, COMMIT)) for c in commits]
    for commit in commits:
        _collect(objects, tree_of(objects, commit), excluded, seen, sent)
    return sent


def _mark(objects: Lookup, tree: str, marked: set[str], depth: int = 0) -> None:
    if tree in marked or objects.get(tree) is None:
        return
    if depth > MAX_DEPTH:
        raise ObjectError(f"the tree nests deeper than {MAX_DEPTH} folders")
    marked.add(tree)
    for mode, _, oid in _entries(objects, tree):
        if mode == FOLDER:
            _mark(objects, oid, marked, depth + 1)
        elif mode != SUBMODULE:
            marked.add(oid)


def _collect(
    objects: Lookup,
    tree: str,
    excluded: set[str],
    seen: set[str],
    sent: list[tuple[int, bytes]],
    depth: int = 0,
) -> None:
    if tree in excluded or tree in seen:
        return
    if depth > MAX_DEPTH:
        raise ObjectError(f"the tree nests deeper than {MAX_DEPTH} folders")
    seen.add(tree)
    content = read(objects, tree, TREE)
    sent.append((TREE, content))
    for mode, _, oid in _entries(objects, tree):
        if mode == FOLDER:
            _collect(objects, oid, excluded, seen, sent, depth + 1)
        elif mode != SUBMODULE and oid not in excluded and oid not in seen:
            seen.add(oid)
            found = objects.get(oid)
            if found is None:
                raise ObjectError(f"bad object {oid}")
            sent.append(found)


# -- refs -------------------------------------------------------------------------------------

REV_PARSE_RULES = (
    "{}",
    "refs/{}",
    "refs/tags/{}",
    "refs/heads/{}",
    "refs/remotes/{}",
    "refs/remotes/{}/HEAD",
)
"""How `git rev-parse` expands a short name, first match wins (refs.c `ref_rev_parse_rules`)."""


def init(git_dir: Path, branch: str) -> None:
    """A new bare repository at `git_dir` whose HEAD is `branch` (what `git init --bare
    --initial-branch=<branch>` writes that git needs; a repository already there is kept)."""
    for folder in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info", "hooks"):
        (git_dir / folder).mkdir(parents=True, exist_ok=True)
    if not (git_dir / "config").exists():
        (git_dir / "config").write_bytes(CONFIG)
    if not (git_dir / "HEAD").exists():
        (git_dir / "HEAD").write_bytes(f"ref: refs/heads/{branch}\n".encode())


def _ref_contents(data: bytes) -> str | None:
    """What a loose ref file says: an id, `ref: <name>`, or None when it is neither (git's
    `parse_loose_ref_contents`: an id followed by the end or whitespace)."""
    if data.startswith(b"ref:"):
        return "ref: " + data[4:].strip().decode("utf-8", "replace")
    if _HEX40.match(data) and (len(data) == 40 or data[40:41] in (b" ", b"\t", b"\n", b"\r", b"\v", b"\f")):
        return data[:40].decode()
    return None


def _packed(git_dir: Path) -> dict[str, str]:
    try:
        text = (git_dir / "packed-refs").read_bytes()
    except OSError:
        return {}
    refs: dict[str, str] = {}
    for line in text.split(b"\n"):
        if len(line) > 41 and _HEX40.match(line) and line[40:41] == b" ":
            refs[line[41:].decode("utf-8", "replace")] = line[:40].decode()
    return refs


def read_ref(git_dir: Path, name: str) -> str | None:
    """The id ref `name` (a loose ref file, or a line of `packed-refs`) points at, symbolic refs
    followed (five at most); None when there is no such ref or it points nowhere. `name` must
    be one git's check-ref-format accepts (the caller checked it)."""
    for _ in range(6):
        path = git_dir / name
        value: str | None = None
        if not path.is_symlink() and path.is_file():
            try:
                value = _ref_contents(path.read_bytes())
            except OSError:
                value = None
            if value is None:
                return None  # a broken ref
        elif path.is_dir() or not path.exists():  # a folder of refs may hide a packed one
            value = _packed(git_dir).get(name)
        if value is None:
            return None
        if not value.startswith("ref: "):
            return value
        name = value[5:]
        if not name.startswith("refs/") or ".." in name or "//" in name or "\0" in name:
            return None
    return None


def resolve(git_dir: Path, name: str) -> str | None:
    """What `name` (a ref name, full or short) resolves to as `git rev-parse` expands it (the
    first of `REV_PARSE_RULES` that names a ref), or None."""
    for rule in REV_PARSE_RULES:
        found = read_ref(git_dir, rule.format(name))
        if found is not None:
            return found
    return None


def write_ref(git_dir: Path, name: str, value: str) -> None:
    """Point ref `name` at `value` (an id, or `ref: <name>` for a symbolic ref): written to
    `<name>.lock` and renamed over the ref, as git's lock files are. Refused (`ObjectError`, git's
    words) when another ref is in the way (`refs/heads/a` for `refs/heads/a/b`, or the reverse)
    or the lock is held."""
    parts = name.split("/")
    packed = _packed(git_dir)
    for depth in range(1, len(parts)):
        prefix = "/".join(parts[:depth])
        folder = git_dir / prefix
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()) or prefix in packed:
            raise ObjectError(f"cannot lock ref '{name}': '{prefix}' exists; cannot create '{name}'")
    path = git_dir / name
    below = [p for p in packed if p.startswith(name + "/")]
    if path.is_dir() and not path.is_symlink():
        below += [str(p.relative_to(git_dir)) for p in sorted(path.rglob("*")) if not p.is_dir()]
        if not below:
            shutil.rmtree(path)  # empty folders a deleted ref left: git removes them too
    if below:
        raise ObjectError(f"cannot lock ref '{name}': '{below[0]}' exists; cannot create '{name}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError as exc:
        raise ObjectError(f"Unable to create '{lock}': File exists.") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(value.encode() + b"\n")
        os.replace(lock, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        raise


def shallow_commits(git_dir: Path) -> frozenset[str]:
    """The commits the repository's `shallow` file lists (their parents are not held)."""
    try:
        text = (git_dir / "shallow").read_text()
    except OSError:
        return frozenset()
    return frozenset(line for line in text.split() if _HEX40.fullmatch(line.encode()))
