"""The in-process checkout (`GitHttpClient.checkout` over `sources.gitpack`) against git's own
answers: for every tree and message here, the files are what `git archive` gives (read by
`archives.unpack`) and the subject what `git log --format=%s` prints, as the git CLI checkout
that it replaced produced them; and hostile packs fail with `PackError`, never anything else."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_sim import process
from gitops_sim.engine import simulation
from gitops_sim.model import archives
from gitops_sim.sources import git, githttp, gitpack
from gitops_sim.testing import ready
from tests.builders import GITREPO, gitrepository, repo_with
from tests.sources.conftest import developer_git

URL = "https://github.com/acme/fleet"
GIT = shutil.which("git") or "git"
IDENT = "A U Thor <author@example.com> 1700000000 +0000"

Entry = tuple[str, bytes]  # mode, content (a blob) or an object id (a submodule)


def plain_git(repo: git.Repository, *args: str, stdin: bytes = b"") -> bytes:
    """git in the hosted repository, with no user or system configuration."""
    return subprocess.run(
        ["git", *args],
        cwd=repo.path,
        input=stdin,
        capture_output=True,
        check=True,
        env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"},
    ).stdout


def hash_object(repo: git.Repository, kind: str, data: bytes) -> str:
    return (
        plain_git(repo, "hash-object", "--literally", "-w", "-t", kind, "--stdin", stdin=data)
        .decode()
        .strip()
    )


def tree(repo: git.Repository, entries: dict[bytes, Entry | dict[bytes, object]]) -> str:
    """A tree written as given (names and modes git would refuse included), in git's order."""

    def order(name: bytes) -> bytes:
        return name + b"/" if isinstance(entries[name], dict) else name

    body = b""
    for name in sorted(entries, key=order):
        value = entries[name]
        if isinstance(value, dict):
            mode, oid = "40000", tree(repo, value)  # type: ignore[arg-type]
        else:
            mode, content = value
            oid = content.decode() if mode == "160000" else hash_object(repo, "blob", content)
        body += mode.encode() + b" " + name + b"\0" + bytes.fromhex(oid)
    return hash_object(repo, "tree", body)


def commit(repo: git.Repository, tree_id: str, message: bytes, headers: bytes = b"") -> str:
    text = f"tree {tree_id}\nauthor {IDENT}\ncommitter {IDENT}\n".encode() + headers
    return hash_object(repo, "commit", text + message)


def sandboxed_git(repo: git.Repository, *args: str) -> subprocess.CompletedProcess[bytes]:
    return process.run(githttp.sandboxed(GIT, "-C", str(repo.path), *args), env=githttp.git_env())


def checked_out_by_git(repo: git.Repository, sha: str) -> githttp.Checkout | str:
    """What the git CLI checkout gave (its error's message when it failed): `git archive` read
    by `archives.unpack`, and `git log --format=%s`, in the sandbox, decoded as it did."""
    archived = sandboxed_git(repo, "archive", "--format=tar", "--end-of-options", sha)
    if archived.returncode != 0:
        return archived.stderr.decode(errors="replace").strip().removeprefix("fatal: ")
    try:
        files = archives.unpack(archived.stdout)
    except archives.ArchiveError as exc:
        return str(exc)
    subject = sandboxed_git(repo, "log", "-1", "--format=%s", "--end-of-options", sha, "--").stdout
    return githttp.Checkout(files, subject.decode(errors="replace").rstrip("\n"))


def checked_out_in_process(
    client: githttp.GitHttpClient, repo: git.Repository, sha: str
) -> githttp.Checkout | str:
    try:
        return client.checkout(repo.url, sha)
    except githttp.RemoteError as exc:
        return exc.message


@pytest.fixture
def repo(server: git.GitServer) -> git.Repository:
    created = server.create("fleet", URL)
    created.commit({"a.yaml": "a: 1\n"}, "init")
    return created


PLAIN = ("100644", b"kind: ConfigMap\n")


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param({b"a.yaml": PLAIN}, id="one-file"),
        pytest.param({b"run.sh": ("100755", b"#!/bin/sh\n"), b"odd": ("100664", b"x")}, id="modes"),
        pytest.param(
            {
                b"apps": {b"b": {b"x.yaml": PLAIN}, b"a.yaml": PLAIN},
                b"apps-x.yaml": PLAIN,
                b"apps.yaml": PLAIN,
                b"z": PLAIN,
            },
            id="nested-in-git-order",
        ),
        pytest.param({b"empty": ("100644", b""), b"bin": ("100644", bytes(range(256)) * 40)}, id="binary"),
        pytest.param({b"d" * 90: {b"f" * 90 + b".yaml": PLAIN}, b"n" * 200: PLAIN}, id="long-paths"),
        pytest.param(
            {"ünïcødé".encode(): {"日本.yaml".encode(): PLAIN}, b"caf\xe9.txt": PLAIN}, id="non-ascii-names"
        ),
        pytest.param({b"link": ("120000", b"../../etc/passwd"), b"a.yaml": PLAIN}, id="symlink-left-out"),
        pytest.param({b"sub": ("160000", b"1" * 40), b"a.yaml": PLAIN}, id="submodule-left-out"),
        pytest.param(
            {b"e": {b"f": {}}, b"a\\b": {b"g": {}}, b"a.yaml": PLAIN},
            id="folders-with-no-file-are-never-written",
        ),
        pytest.param(
            {b"big": ("100644", b"0123456789abcdef" * 8192), b"big2": ("100644", b"0123456789abcdef" * 8193)},
            id="deltas",
        ),
    ],
)
def test_a_checkout_is_the_tree_git_archive_gives(
    repo: git.Repository, client: githttp.GitHttpClient, entries: dict[bytes, object]
) -> None:
    sha = commit(repo, tree(repo, entries), b"\nsubject\n")  # type: ignore[arg-type]
    assert client.checkout(repo.url, sha) == checked_out_by_git(repo, sha)
    assert list(client.checkout(repo.url, sha).files) == list(repo.files_at(sha))  # in the same order


LINK = ("120000", b"target")


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param({b"a\\b": PLAIN}, id="backslash-file"),
        pytest.param({b"x\\y": {b"a": PLAIN}, b"z\\w": PLAIN}, id="backslash-folder-first"),
        pytest.param({b"..": PLAIN}, id="dot-dot-file"),
        pytest.param({b".": PLAIN}, id="dot-file"),
        pytest.param({b"-": {b"..": ("160000", b"2" * 40)}}, id="dot-dot-submodule"),
        pytest.param({b"a": {b".GiT": {b"config": PLAIN}}}, id="dot-git-any-case"),
        pytest.param({b".git. . ": PLAIN}, id="ntfs-dot-git-trailing-dots"),
        pytest.param({b"GIT~1": {b"x": PLAIN}}, id="ntfs-short-name"),
        pytest.param({b".git::$INDEX_ALLOCATION": PLAIN}, id="ntfs-stream"),
        pytest.param({b"a\\.git": PLAIN}, id="ntfs-backslash-dot-git"),
        pytest.param({".g\u200cit".encode(): {b"x": PLAIN}}, id="hfs-ignorable"),
        pytest.param({b".gitmodules": LINK}, id="gitmodules-link"),
        pytest.param({b".GITMODULES": PLAIN, b"ok": PLAIN}, id="gitmodules-file-is-fine"),
        pytest.param({b"GITMOD~2": LINK}, id="gitmodules-link-short"),
        pytest.param({b"gi7eba~9": LINK}, id="gitmodules-link-fallback-short"),
        pytest.param({".gitmodules\ufeff".encode(): LINK}, id="gitmodules-link-hfs"),
        pytest.param({b".gitx": PLAIN, b"git~12": PLAIN, b"..a": PLAIN}, id="near-misses-are-fine"),
        pytest.param({b"\xc0\xae.git": PLAIN, b".\xff": PLAIN}, id="not-utf-8"),
    ],
)
def test_a_tree_git_archive_refuses_is_refused_with_the_same_words(
    repo: git.Repository, client: githttp.GitHttpClient, entries: dict[bytes, object]
) -> None:
    sha = commit(repo, tree(repo, entries), b"bad\n")  # type: ignore[arg-type]
    assert checked_out_in_process(client, repo, sha) == checked_out_by_git(repo, sha)


@pytest.mark.parametrize("limit", [0, 5, 16, 17, 40])
def test_the_size_limit_trips_on_the_same_entry(repo: git.Repository, limit: int) -> None:
    sha = commit(
        repo,
        tree(
            repo, {b"a": {b"one": ("100644", b"x" * 16)}, b"b": ("120000", b"t"), b"c": ("100644", b"y" * 16)}
        ),
        b"sizes\n",
    )
    objects = gitpack.read(
        plain_git(repo, "pack-objects", "--revs", "--stdout", "-q", stdin=f"{sha}\n".encode())
    )
    tar = plain_git(repo, "archive", "--format=tar", sha)

    def outcome(read: object) -> object:
        try:
            return read()  # type: ignore[operator]
        except archives.ArchiveError as exc:
            return str(exc)

    expected = outcome(lambda: archives.unpack(tar, max_bytes=limit))
    assert outcome(
        lambda: gitpack.tree_files(objects, gitpack.commit_tree(objects, sha), max_bytes=limit)
    ) == (expected)


@pytest.mark.parametrize(
    ("message", "headers"),
    [
        pytest.param(b"\nsubject only", b"", id="no-newline"),
        pytest.param(b"\nsubject\n\nbody\n", b"", id="subject-and-body"),
        pytest.param(b"\n\n\n  \n\t\nafter blank lines\n", b"", id="leading-blank-lines"),
        pytest.param(b"\nfirst line\nsecond line\n  third  \n\nbody\n", b"", id="paragraph-joined"),
        pytest.param(b"\nwindows\r\nline\r\n\r\nbody\r\n", b"", id="crlf"),
        pytest.param(b"\ntrailing \t \nmore\n", b"", id="trailing-whitespace"),
        pytest.param(b"\nvertical\x0b\nform\x0c\n", b"", id="vertical-tab-and-form-feed"),
        pytest.param(b"\nlone\rcarriage return\n", b"", id="lone-carriage-return"),
        pytest.param(b"\n", b"", id="empty-message"),
        pytest.param(b"", b"", id="no-message-at-all"),
        pytest.param(b"\ncaf\xe9 cr\xe8me\n", b"encoding ISO-8859-1\n", id="latin-1"),
        pytest.param(b"\ncaf\xe9\n", b"encoding x-nonsense\n", id="unknown-encoding"),
        pytest.param(b"\naGk=\n", b"encoding base64\n", id="a-codec-that-is-no-text-encoding"),
        pytest.param(b"\ncaf\xc3\xa9\n", b"encoding UTF8\n", id="utf8-spelled-otherwise"),
        pytest.param(b"\nbad \xff utf-8\n", b"", id="invalid-utf-8"),
        pytest.param(b"\nbefore\0after\n", b"", id="nul"),
        pytest.param(b"\n \t\n  \n", b"", id="only-whitespace"),
        pytest.param(b"\n" + b"long " * 5000 + b"\n", b"", id="long"),
    ],
)
def test_the_subject_is_what_git_log_prints(
    repo: git.Repository, client: githttp.GitHttpClient, message: bytes, headers: bytes
) -> None:
    sha = commit(repo, tree(repo, {b"a.yaml": PLAIN}), message, headers)
    assert client.checkout(repo.url, sha) == checked_out_by_git(repo, sha)


def test_no_gitattributes_conversion_is_applied_as_go_git_applies_none(
    repo: git.Repository, client: githttp.GitHttpClient
) -> None:
    attributes = ("100644", b"*.txt eol=crlf\n*.id ident\n")
    sha = commit(
        repo,
        tree(repo, {b".gitattributes": attributes, b"a.txt": PLAIN, b"x.id": ("100644", b"$Id$\n")}),
        b"m\n",
    )
    assert client.checkout(repo.url, sha).files == {
        ".gitattributes": b"*.txt eol=crlf\n*.id ident\n",
        "a.txt": PLAIN[1],
        "x.id": b"$Id$\n",
    }


def test_the_same_commit_again_is_answered_without_the_server(
    repo: git.Repository, client: githttp.GitHttpClient
) -> None:
    sha = repo.head() or ""
    first = client.checkout(repo.url, sha)
    repo.fault = "unreachable"
    assert client.checkout(repo.url, sha) == first


def test_a_checked_out_commit_is_committed_on_without_another_fetch(
    repo: git.Repository, client: githttp.GitHttpClient
) -> None:
    parent = repo.head() or ""
    client.checkout(repo.url, parent)
    repo.fault = "unreachable"
    sha = client.commit(repo.url, parent, {"b.yaml": b"b\n"}, message="m", author=("a", "a@b"), when_s=0)
    repo.fault = None
    client.push(repo.url, sha, "main")
    assert repo.files_at(sha) == {"a.yaml": b"a: 1\n", "b.yaml": b"b\n"}


def test_a_commit_the_server_does_not_have_is_not_our_ref(
    repo: git.Repository, client: githttp.GitHttpClient
) -> None:
    with pytest.raises(githttp.RemoteError) as caught:
        client.checkout(repo.url, "1" * 40)
    assert caught.value.message == f"git upload-pack: not our ref {'1' * 40}"


def test_an_id_that_names_a_tree_is_no_commit(repo: git.Repository, client: githttp.GitHttpClient) -> None:
    with pytest.raises(githttp.RemoteError) as caught:
        client.checkout(repo.url, tree(repo, {b"a.yaml": PLAIN}))
    assert caught.value.message == "object not found"


def test_a_gitrepository_pinned_to_a_commit_the_remote_lacks_fails_as_flux_says(tmp_path: Path) -> None:
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim"))
    try:
        repo_with(sim, {"a.yaml": "a: 1\n"})
        sim.cluster.apply(gitrepository(ref={"commit": "1" * 40}), field_manager="kubectl")
        sim.advance(1_000)
        assert ready(sim.cluster.get(GITREPO)) == {
            "status": "False",
            "reason": "GitOperationFailed",
            "message": "failed to checkout and determine revision: "
            f"unable to resolve commit object for '{'1' * 40}': object not found",
        }
    finally:
        sim.close()


def test_a_checkout_from_git_http_backend_is_the_same(
    git_http_backend: tuple[str, Path], tmp_path: Path, server: git.GitServer
) -> None:
    base_url, root = git_http_backend
    developer_git("init", "-q", "--bare", "--initial-branch=main", str(root / "r.git"), cwd=tmp_path)
    developer_git("clone", "-q", str(root / "r.git"), "work", cwd=tmp_path)
    work = tmp_path / "work"
    for i in range(30):
        (work / f"f{i}.yaml").write_text("line\n" * (100 + i))
    developer_git("add", "-A", cwd=work)
    developer_git("commit", "-q", "-m", "many similar files", cwd=work)
    developer_git("push", "-q", "origin", "main", cwd=work)
    head = developer_git("rev-parse", "HEAD", cwd=work).stdout.strip()
    client = server.client()
    try:
        checkout = client.checkout(f"{base_url}/r.git", head)
    finally:
        client.close()
    assert checkout.subject == "many similar files"
    assert checkout.files == {f"f{i}.yaml": b"line\n" * (100 + i) for i in range(30)}


# -- hostile packs ------------------------------------------------------------------------------


def entry(kind: int, data: bytes, *, size: int | None = None, extra: bytes = b"") -> bytes:
    """One pack entry: the type and size header, `extra` (a delta's base), the deflated data."""
    size = len(data) if size is None else size
    head = [(kind << 4) | (size & 15)]
    size >>= 4
    while size:
        head[-1] |= 0x80
        head.append(size & 0x7F)
        size >>= 7
    return bytes(head) + extra + zlib.compress(data)


def pack(*entries: bytes) -> bytes:
    body = b"PACK" + (2).to_bytes(4, "big") + len(entries).to_bytes(4, "big") + b"".join(entries)
    return body + hashlib.sha1(body).digest()


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


BLOB = b"hello world\n" * 10
BLOB_ID = hashlib.sha1(b"blob %d\0" % len(BLOB) + BLOB).hexdigest()
FIRST = entry(gitpack.BLOB, BLOB)
BIG = entry(gitpack.BLOB, b"x" * (1 << 16))


def distance(value: int) -> bytes:
    """An offset delta's distance back to its base, as git encodes it."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        value -= 1
        out.insert(0, 0x80 | (value & 0x7F))
        value >>= 7
    return bytes(out)


def test_a_pack_reads_whole_objects_and_both_kinds_of_delta() -> None:
    delta = varint(len(BLOB)) + varint(len(BLOB) + 3) + bytes([0x90, len(BLOB)]) + b"\x03abc"
    first = entry(gitpack.BLOB, BLOB)
    objects = gitpack.read(
        pack(
            first,
            entry(gitpack.OFS_DELTA, delta, extra=bytes([len(first)])),
            entry(gitpack.REF_DELTA, delta[:-4] + b"\x03xyz", extra=bytes.fromhex(BLOB_ID)),
        )
    )
    assert sorted(content for _, content in objects.values()) == [BLOB, BLOB + b"abc", BLOB + b"xyz"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(pack(FIRST)[:-1] + b"\0", "pack checksum mismatch", id="checksum"),
        pytest.param(
            pack(entry(gitpack.BLOB, b"x" * 10_000_000, size=10)),
            "an object in the pack inflates to more than its stated size",
            id="zlib-bomb",
        ),
        pytest.param(
            pack(
                BIG,
                entry(
                    gitpack.OFS_DELTA,
                    varint(1 << 16) + varint(10) + b"\x80" * 100_000,
                    extra=distance(len(BIG)),
                ),
            ),
            "corrupt delta in pack: it makes an object of another size",
            id="delta-bomb",
        ),
        pytest.param(
            pack(
                FIRST,
                entry(gitpack.OFS_DELTA, varint(len(BLOB)) + varint(1 << 40), extra=bytes([len(FIRST)])),
            ),
            "the fetched objects are too large to read",
            id="delta-claims-a-terabyte",
        ),
        pytest.param(
            pack(entry(gitpack.REF_DELTA, varint(1) + varint(1) + b"\x01a", extra=b"\x01" * 20)),
            "pack has 1 unresolved deltas (a thin pack)",
            id="thin-pack",
        ),
        pytest.param(pack(entry(5, b"")), "unknown object type 5 at offset 12", id="unknown-type"),
        pytest.param(b"PACK" + b"\0" * 40, "unsupported pack version 0", id="version"),
    ],
)
def test_a_hostile_pack_is_refused_with_a_pack_error(data: bytes, problem: str) -> None:
    with pytest.raises(gitpack.PackError) as caught:
        gitpack.read(data)
    assert str(caught.value) == problem


@given(st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_damaged_pack_with_a_right_checksum_fails_only_with_a_pack_error(data: st.DataObject) -> None:
    tree_body = b"100644 a\0" + bytes.fromhex(BLOB_ID)
    delta = varint(len(BLOB)) + varint(len(BLOB) + 3) + bytes([0x90, len(BLOB)]) + b"\x03abc"
    good = pack(
        FIRST,
        entry(gitpack.OFS_DELTA, delta, extra=bytes([len(FIRST)])),
        entry(gitpack.TREE, tree_body),
    )
    body = bytearray(good[:-20])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.integers(0, 255))
    damaged = bytes(body) + hashlib.sha1(bytes(body)).digest()
    try:
        objects = gitpack.read(damaged, max_bytes=1 << 20)
    except gitpack.PackError:
        return
    for oid, (kind, _) in objects.items():
        if kind == gitpack.TREE:
            with contextlib.suppress(gitpack.PackError, archives.ArchiveError):
                gitpack.tree_files(objects, oid)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(b"100644 a\0" + b"\1" * 5, "too-short tree file", id="short"),
        pytest.param(b"10x644 a\0" + b"\1" * 20, "malformed mode in tree entry", id="mode"),
        pytest.param(b"100644 \0" + b"\1" * 20, "empty filename in tree entry", id="empty-name"),
        pytest.param(b"100644 a\0" + b"\1" * 20, f"object {'01' * 20} not found", id="missing-blob"),
    ],
)
def test_a_malformed_tree_is_a_pack_error(body: bytes, problem: str) -> None:
    tree_id = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
    with pytest.raises(gitpack.PackError) as caught:
        gitpack.tree_files({tree_id: (gitpack.TREE, body)}, tree_id)
    assert str(caught.value) == problem
