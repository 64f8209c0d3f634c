"""Git written in this process (`sources.gitobjects`: the hosted repositories' commits and tags,
the client's commits and pushes) against git's own: the same ids for the same trees, idents,
dates and messages, refs and packs git reads back, objects `git fsck` finds nothing wrong in,
and no git process where none is needed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import process
from gitops_sim.sources import git, githttp
from tests.sources.conftest import developer_git

URL = "https://github.com/acme/fleet"
BOT = ("fluxcdbot", "fluxcdbot@users.noreply.github.com")
WHEN = 1_700_000_000


def plain_git(*args: str, cwd: Path, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> str:
    """git outside gitops-sim, with no user or system configuration."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        check=True,
        env={
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "HOME": str(cwd),
            "LC_ALL": "C",
            "PATH": "/usr/bin:/bin",
            **(env or {}),
        },
    ).stdout.decode()


def clone(server: git.GitServer, repo: git.Repository, folder: Path) -> Path:
    developer_git("clone", "-q", server.endpoint(repo.url) or "", str(folder), cwd=folder.parent)
    return folder


def commit_with_git(
    work: Path, files: Mapping[str, str | None], message: str, seconds: int, author: tuple[str, str]
) -> str:
    """What the simulation did before: the files written into a work tree, `git add --all` and
    `git commit --cleanup=verbatim` at `seconds`, the message ending in a newline."""
    for rel, content in sorted(files.items()):
        target = work / rel
        if content is None:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            continue
        if target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w") as out:
            out.write(content)
    plain_git("add", "--all", cwd=work)
    name, email = author
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_AUTHOR_DATE": f"@{seconds} +0000",
        "GIT_COMMITTER_DATE": f"@{seconds} +0000",
    }
    text = message if message.endswith("\n") else message + "\n"
    args = ("commit", "-q", "--allow-empty", "--no-verify", "--cleanup=verbatim", "--file=-")
    plain_git(*args, cwd=work, env=env, stdin=text.encode())
    return plain_git("rev-parse", "HEAD", cwd=work).strip()


STEPS: list[dict[str, str | None]] = [
    {"apps.yaml": "a\n", "apps/base/deploy.yaml": "d\n", "apps/base/kustomization.yaml": "k\n", "a-b": "x"},
    {
        "apps/base/deploy.yaml": "d2\n",
        "a-b": None,
        "apps/overlays/prod/patch.yaml": "p\n",
        "run.sh": "echo 2\n",
    },
    {"apps/base": None, "README.md": "# fleet\n"},
    {"apps/base": "now a file\n", "apps/overlays/prod/patch.yaml": None},
    {"link": "a file where the link was\n", "zz/deep/er/file": ""},
]


def test_commits_written_in_process_have_the_ids_git_gave_them(server: git.GitServer, tmp_path: Path) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"run.sh": "echo 1\n"}, "first")
    work = clone(server, repo, tmp_path / "work")
    (work / "run.sh").chmod(0o755)  # a developer makes it executable, and adds a link
    os.symlink("run.sh", work / "link")
    developer_git("add", "--all", cwd=work)
    developer_git("commit", "-q", "-m", "executable", cwd=work)
    developer_git("push", "-q", "origin", "main", cwd=work)
    for i, files in enumerate(STEPS):
        ours = repo.commit(files, f"step {i}")
        seconds = repo.commit_info(ours).author_time
        assert ours == commit_with_git(work, files, f"step {i}", seconds, git.DEFAULT_AUTHOR), f"step {i}"
    assert repo.files_at("main")["run.sh"] == b"echo 2\n"
    assert "100755 blob" in plain_git("ls-tree", "main", "run.sh", cwd=repo.path)


@pytest.mark.parametrize(
    ("author", "message"),
    [
        pytest.param((" .Ada <the> Lovelace; ", "<ada@example.com>."), "m", id="crud-around-and-inside"),
        pytest.param(("Ada", ""), "m", id="empty-email"),
        pytest.param(("Ada", "a@b"), "no newline at the end", id="message-without-newline"),
        pytest.param(("Ada", "a@b"), "\n\n  body only  \n\n", id="message-kept-verbatim"),
        pytest.param(("Zoë", "zoë@example.com"), "ünïcode ✓", id="unicode"),
    ],
)
def test_an_author_and_message_are_written_as_git_commit_writes_them(
    server: git.GitServer, tmp_path: Path, author: tuple[str, str], message: str
) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"a": "1"}, "first")
    work = clone(server, repo, tmp_path / "work")
    ours = repo.commit({"a": "2"}, message, author=author)
    seconds = repo.commit_info(ours).author_time
    assert ours == commit_with_git(work, {"a": "2"}, message, seconds, author)


@pytest.mark.parametrize(
    ("author", "message", "error"),
    [
        pytest.param(("", "a@b"), "m", "fatal: empty ident name (for <a@b>) not allowed", id="empty-name"),
        pytest.param(
            ("...", "a@b"), "m", "fatal: name consists only of disallowed characters: ...", id="only-crud"
        ),
        pytest.param(("Ada", "a@b"), "", "Aborting commit due to empty commit message.", id="empty-message"),
        pytest.param(
            ("Ada", "a@b"), "a\0b", "error: a NUL byte in commit log message not allowed.", id="nul-message"
        ),
    ],
)
def test_an_author_or_message_git_refuses_fails_the_commit_with_git_s_words(
    server: git.GitServer, author: tuple[str, str], message: str, error: str
) -> None:
    repo = server.create("fleet", URL)
    first = repo.commit({"a": "1"}, "first")
    with pytest.raises(git.GitError) as caught:
        repo.commit({"a": "2"}, message, author=author)
    assert str(caught.value) == f"git commit failed: {error}"
    assert repo.head() == first


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("release 1.1", id="one-line"),
        pytest.param("\n\n# a comment\ntitle   \n\n\n\nbody\t\n\n", id="cleaned-up"),
        pytest.param("# only a comment", id="empty-once-cleaned"),
    ],
)
def test_an_annotated_tag_is_the_object_git_tag_writes(
    server: git.GitServer, tmp_path: Path, message: str
) -> None:
    repo = server.create("fleet", URL)
    sha = repo.commit({"a": "1"}, "first")
    repo.tag("v1", message=message)
    ours = (repo.git_dir / "refs" / "tags" / "v1").read_text().strip()
    work = clone(server, repo, tmp_path / "work")
    name, email = git.DEFAULT_AUTHOR
    seconds = repo.commit_info(sha).author_time
    env = {
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": f"@{seconds} +0000",
    }
    plain_git("tag", "--annotate", "--file=-", "v2", sha, cwd=work, env=env, stdin=message.encode())
    theirs = plain_git("rev-parse", "v2", cwd=work).strip()
    assert plain_git("cat-file", "tag", ours, cwd=repo.path) == plain_git(
        "cat-file", "tag", theirs, cwd=work
    ).replace("tag v2\n", "tag v1\n")


def test_a_repository_written_in_process_passes_git_fsck(server: git.GitServer) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"apps/a.yaml": "a\n", "apps.yaml": "x", "b/c/d.txt": "d"}, "first")
    repo.commit({"apps/a.yaml": None, "b/c/e.txt": "e"}, "second", author=("Ada", "ada@example.com"))
    repo.commit({"dev.txt": "dev"}, "on dev", branch="dev")
    repo.tag("v1", message="release")
    repo.tag("v1-light", sha="dev")
    checked = subprocess.run(
        ["git", "--git-dir", str(repo.git_dir), "fsck", "--strict", "--no-dangling"],
        capture_output=True,
        text=True,
        check=False,
        env={"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "PATH": "/usr/bin:/bin"},
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    assert plain_git("symbolic-ref", "HEAD", cwd=repo.path) == "refs/heads/dev\n"  # as `git checkout` left it
    assert plain_git("rev-parse", "v1^{commit}", "dev", cwd=repo.path).split() == [
        repo.head(),
        repo.head("dev"),
    ]


def test_a_commit_on_top_of_a_pushed_pack_reads_the_pack_s_objects(
    server: git.GitServer, tmp_path: Path
) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"seed": "0"}, "first")
    work = clone(server, repo, tmp_path / "work")
    for i in range(150):  # receive-pack keeps a pack of 100 objects or more (unpackLimit)
        (work / "many" / f"{i // 10}").mkdir(parents=True, exist_ok=True)
        (work / "many" / f"{i // 10}" / f"{i}.yaml").write_text(f"value: {i}\n" + "line\n" * 50)
    developer_git("add", "--all", cwd=work)
    developer_git("commit", "-q", "-m", "many", cwd=work)
    developer_git("push", "-q", "origin", "main", cwd=work)
    assert list((repo.git_dir / "objects" / "pack").glob("*.idx"))
    ours = repo.commit({"many/3/30.yaml": None, "many/9/new.yaml": "n\n"}, "edit")
    seconds = repo.commit_info(ours).author_time
    files = {"many/3/30.yaml": None, "many/9/new.yaml": "n\n"}
    assert ours == commit_with_git(work, files, "edit", seconds, git.DEFAULT_AUTHOR)
    assert len(repo.files_at(ours)) == 151


def test_refs_packed_by_git_are_read_and_a_new_commit_moves_the_branch(server: git.GitServer) -> None:
    repo = server.create("fleet", URL)
    first = repo.commit({"a": "1"}, "first")
    repo.tag("v1")
    plain_git("pack-refs", "--all", cwd=repo.path)
    assert not (repo.git_dir / "refs" / "heads" / "main").exists()
    repo.version += 1  # the refs changed behind the repository's back
    assert (repo.head(), repo.commit_info("v1").sha) == (first, first)
    second = repo.commit({"a": "2"}, "second")
    assert plain_git("rev-parse", "main", "v1", cwd=repo.path).split() == [second, first]


def test_names_git_reads_as_more_than_a_ref_are_resolved_by_git(server: git.GitServer) -> None:
    repo = server.create("fleet", URL)
    first = repo.commit({"a": "1"}, "first")
    second = repo.commit({"a": "2"}, "second")
    assert repo.commit_info(first[:7]).sha == first  # an abbreviated id
    assert repo.commit_info("main~1").sha == first
    assert repo.commit_info("HEAD").sha == second
    assert repo.tag("v1", sha="main^") == first
    assert repo.head("no-such-branch") is None


def test_the_log_of_a_history_with_a_merge_is_git_s_topological_order(
    server: git.GitServer, tmp_path: Path
) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"a": "1"}, "first")
    work = clone(server, repo, tmp_path / "work")
    developer_git("checkout", "-q", "-b", "side", cwd=work)
    (work / "b").write_text("side")
    developer_git("add", "--all", cwd=work)
    developer_git("commit", "-q", "-m", "side", cwd=work)
    developer_git("checkout", "-q", "main", cwd=work)
    (work / "c").write_text("main")
    developer_git("add", "--all", cwd=work)
    developer_git("commit", "-q", "-m", "main", cwd=work)
    developer_git("merge", "-q", "--no-edit", "side", cwd=work)
    developer_git("push", "-q", "origin", "main", cwd=work)
    assert repo.log("main") == plain_git("rev-list", "--topo-order", "main", cwd=work).split()
    assert repo.changed_files("main") == []  # git's combined diff of a clean merge lists nothing


def test_changed_paths_are_listed_and_quoted_as_git_show_lists_them(server: git.GitServer) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"plain.yaml": "p"}, "first")
    names = ["café.yaml", 'quo"te', "tab\there", "new\nline", "bell\a", "del\x7f", "sp ace"]
    sha = repo.commit({name: "x" for name in names} | {"plain.yaml": None}, "odd names")
    shown = plain_git("show", "--pretty=format:", "--name-only", sha, cwd=repo.path)
    assert repo.changed_files(sha) == sorted(line for line in shown.splitlines() if line)


def test_scenario_commits_and_reads_run_no_git_process(
    server: git.GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    real = process.run

    def recorded(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        ran.append(list(argv))
        return real(argv, **kw)

    monkeypatch.setattr(process, "run", recorded)
    repo = server.create("fleet", URL)
    first = repo.commit({"apps/a.yaml": "a"}, "first")
    second = repo.commit({"apps/a.yaml": "b", "dev.yaml": "d"}, "second", branch="dev")
    repo.tag("v1", message="release")
    info = repo.commit_info("v1")
    assert (info.sha, info.files) == (first, (git.ChangedFile("apps/a.yaml", "A"),))
    assert repo.changed_files(second) == ["apps/a.yaml", "dev.yaml"]
    assert repo.log("dev", since=first) == [second]
    assert repo.subject("dev") == "second" and repo.files_at("v1") == {"apps/a.yaml": b"a"}
    assert ran == []


def test_an_image_update_commits_and_pushes_without_a_git_process_on_the_client_side(
    server: git.GitServer, client: githttp.GitHttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = server.create("fleet", URL)
    parent = repo.commit({"apps/app.yaml": "image: podinfo:1.0.0 # {$imagepolicy}\n", "x": "y"}, "first")
    ran: list[str] = []
    real = process.run

    def recorded(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        services = [arg for arg in argv if arg in ("upload-pack", "receive-pack")]
        ran.append(services[0] if services else " ".join(argv))
        return real(argv, **kw)

    monkeypatch.setattr(process, "run", recorded)
    found = client.files_containing(repo.url, parent, "$imagepolicy")
    assert found == {"apps/app.yaml": b"image: podinfo:1.0.0 # {$imagepolicy}\n"}
    changes: dict[str, bytes | None] = {"apps/app.yaml": b"image: podinfo:1.1.0 # {$imagepolicy}\n"}
    sha = client.push_commit(
        repo.url, parent, changes, message="bump", author=BOT, when_s=WHEN, branch="main"
    )
    assert repo.head() == sha
    assert sorted(set(ran)) == ["receive-pack", "upload-pack"]  # the server's, nothing else


def test_a_push_written_in_process_is_accepted_by_a_real_git_server_and_cloned_by_the_git_cli(
    git_http_backend: tuple[str, Path], server: git.GitServer, tmp_path: Path
) -> None:
    base_url, root = git_http_backend
    bare = root / "fleet.git"
    plain_git("init", "-q", "--bare", "--initial-branch=main", str(bare), cwd=tmp_path)
    plain_git("config", "http.receivepack", "true", cwd=bare)
    plain_git("config", "receive.fsckObjects", "true", cwd=bare)
    reaching = server.client()
    url = f"{base_url}/fleet.git"
    try:
        files: dict[str, bytes | None] = {"apps/a.yaml": b"a\n", "apps/b/c.yaml": b"c\n", "README.md": b"r\n"}
        first = reaching.push_commit(
            url, None, files, message="first", author=BOT, when_s=WHEN, branch="main"
        )
        changes: dict[str, bytes | None] = {"apps/b": None, "apps/a.yaml": b"a2\n"}
        second = reaching.push_commit(
            url, first, changes, message="second", author=BOT, when_s=WHEN, branch="main"
        )
    finally:
        reaching.close()
    work = tmp_path / "work"
    plain_git("clone", "-q", url, str(work), cwd=tmp_path)
    assert plain_git("rev-list", "HEAD", cwd=work).split() == [second, first]
    assert sorted(p.name for p in work.rglob("*") if p.is_file() and ".git" not in p.parts) == [
        "README.md",
        "a.yaml",
    ]
    assert plain_git("fsck", "--strict", "--no-dangling", cwd=bare) == ""


@pytest.mark.parametrize(
    ("files", "error"),
    [
        pytest.param(
            {"git~1/config": "x"},
            "cannot commit 'git~1/config': git refuses the path (error: invalid path 'git~1/config')",
            id="ntfs-short-name-of-dot-git",
        ),
        pytest.param(
            {"a": "file", "a/b": "under the file"},
            "cannot commit 'a/b': 'a' is a file",
            id="file-then-below-it",
        ),
        pytest.param(
            {"apps": "x"}, "cannot commit 'apps': it is a folder in the work tree", id="file-on-folder"
        ),
        pytest.param(
            {"/".join(["d"] * 300): "deep"},
            "cannot commit: the tree nests deeper than 256 folders",
            id="deep",
        ),
    ],
)
def test_a_commit_git_would_refuse_fails_and_leaves_the_branch_as_it_was(
    server: git.GitServer, files: dict[str, str], error: str
) -> None:
    repo = server.create("fleet", URL)
    first = repo.commit({"apps/a.yaml": "a"}, "first")
    with pytest.raises(git.GitError) as caught:
        repo.commit(files, "m")
    assert str(caught.value) == error
    assert (repo.head(), repo.log("main")) == (first, [first])


def test_a_branch_where_another_branch_s_name_is_a_folder_is_refused_as_git_refuses_it(
    server: git.GitServer,
) -> None:
    repo = server.create("fleet", URL)
    repo.commit({"a": "1"}, "first", branch="team")
    with pytest.raises(git.GitError) as caught:
        repo.commit({"a": "2"}, "m", branch="team/dev")
    assert str(caught.value) == (
        "cannot commit to branch 'team/dev': cannot lock ref 'refs/heads/team/dev': "
        "'refs/heads/team' exists; cannot create 'refs/heads/team/dev'"
    )
    assert repo.head("team/dev") is None
