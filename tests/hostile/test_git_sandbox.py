"""Hostile input against the git layer: names, paths and refs from scenarios, files a scenario
commits, repositories tampered with on disk, remotes that lie, and credentials on command lines.

Every test here failed on the git layer as it was before issue 11; each asserts the exact error
and that nothing happened outside the test's own folder.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import process
from gitops_sim.engine import simulation
from gitops_sim.sources import git, githttp
from gitops_sim.testing import ready
from gitops_sim.timing import clock as clocks
from tests.builders import GITREPO, gitrepository, repo_with

REAL_GIT = shutil.which("git") or "git"
URL = "https://github.com/acme/fleet"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[git.GitServer]:
    hosted = git.GitServer(tmp_path / "hosted", clocks.VirtualClock())
    try:
        yield hosted
    finally:
        hosted.close()


@pytest.fixture
def repo(server: git.GitServer) -> git.Repository:
    created = server.create("fleet", URL)
    created.commit({"a.yaml": "a: 1\n"}, "init")
    return created


def developer_git(*args: str, cwd: Path) -> str:
    """The git CLI of a developer, outside the simulation (a clone, a push)."""
    proc = subprocess.run(
        [REAL_GIT, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "HOME": str(cwd),
            "GIT_AUTHOR_NAME": "dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
            "PATH": "/usr/bin:/bin",
        },
    )
    return proc.stdout


def push_symlink(server: git.GitServer, repo: git.Repository, tmp_path: Path, target: Path) -> None:
    """A developer pushes a commit holding `link -> target`; the hosted work tree follows it."""
    endpoint = server.endpoint(repo.url)
    assert endpoint is not None
    developer_git("clone", "-q", endpoint, "work", cwd=tmp_path)
    work = tmp_path / "work"
    os.symlink(target, work / "link")
    developer_git("add", "-A", cwd=work)
    developer_git("commit", "-q", "-m", "a link", cwd=work)
    developer_git("push", "-q", "origin", "main", cwd=work)
    assert repo.changed_files("main") == ["link"]


# -- names, paths and refs -------------------------------------------------------------------


def test_a_repository_name_that_climbs_out_of_the_root_is_refused_and_creates_nothing(
    tmp_path: Path,
) -> None:
    server = git.GitServer(tmp_path / "a" / "b" / "hosted", clocks.VirtualClock())
    with pytest.raises(git.GitError) as caught:
        server.create("../../../outside", URL)
    assert str(caught.value) == (
        "cannot create repository '../../../outside': a repository name is letters, digits, "
        "'.', '_' and '-', not starting with '.' or '-'"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_absolute_repository_name_is_refused_and_creates_nothing(
    tmp_path: Path, server: git.GitServer
) -> None:
    with pytest.raises(git.GitError, match="^cannot create repository '/"):
        server.create(str(tmp_path / "elsewhere"), URL)
    assert not (tmp_path / "elsewhere").exists()


def test_a_repository_folder_that_is_a_symlink_out_of_the_root_is_refused(
    tmp_path: Path, server: git.GitServer
) -> None:
    (tmp_path / "hosted").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "hosted" / "fleet")
    with pytest.raises(git.GitError) as caught:
        server.create("fleet", URL)
    assert str(caught.value) == (
        f"cannot create repository 'fleet': its folder resolves to {tmp_path / 'outside'}, "
        f"outside the repositories' root {tmp_path / 'hosted'}"
    )
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_default_branch_that_reads_as_an_option_is_refused(server: git.GitServer) -> None:
    with pytest.raises(git.GitError) as caught:
        server.create("fleet", URL, branch="--bare")
    assert str(caught.value) == (
        "cannot create repository 'fleet': a branch or tag name may not be empty or start with '-'"
    )


def test_a_tag_named_like_an_option_is_refused_before_git_sees_it(repo: git.Repository) -> None:
    with pytest.raises(git.GitError) as caught:
        repo.tag("-d")
    assert str(caught.value) == "cannot tag '-d': a branch or tag name may not be empty or start with '-'"
    assert repo.version == 1


def test_a_branch_named_like_an_option_is_refused_before_git_sees_it(repo: git.Repository) -> None:
    with pytest.raises(git.GitError) as caught:
        repo.commit({"b.yaml": "b"}, "m", branch="-D")
    assert str(caught.value) == (
        "cannot commit to branch '-D': a branch or tag name may not be empty or start with '-'"
    )
    assert not (repo.path / "b.yaml").exists()


def test_a_tag_target_that_reads_as_an_option_is_not_a_commit(repo: git.Repository) -> None:
    with pytest.raises(git.GitError) as caught:
        repo.tag("v1", sha="--all")
    assert str(caught.value) == "cannot tag 'v1': '--all' is not a commit of this repository"


def test_a_message_that_reads_as_an_option_is_the_commit_message(repo: git.Repository) -> None:
    sha = repo.commit({"b.yaml": "b"}, "--amend")
    assert repo.subject(sha) == "--amend"
    repo.tag("v1", message="--delete")
    assert repo.subject("v1") == "--amend"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        pytest.param(
            ".git/config", "a file path may not reach into '.git' (git's own folder)", id="git-config"
        ),
        pytest.param(
            "sub/.GIT/hooks/x", "a file path may not reach into '.git' (git's own folder)", id="nested"
        ),
        pytest.param("../outside", "a file path may not contain '..', '.' or empty components", id="dotdot"),
        pytest.param(
            "/etc/x",
            "file paths must be relative to the repository root (no leading '/', no drive, no '\\')",
            id="absolute",
        ),
    ],
)
def test_a_commit_may_not_write_outside_the_work_tree_or_into_git_s_folder(
    repo: git.Repository, path: str, problem: str
) -> None:
    before = (repo.git_dir / "config").read_bytes()
    with pytest.raises(git.GitError) as caught:
        repo.commit({path: "x"}, "m")
    assert str(caught.value) == f"cannot commit {path!r}: {problem}"
    assert (repo.git_dir / "config").read_bytes() == before


def test_a_commit_that_writes_git_config_never_runs_its_fsmonitor(
    tmp_path: Path, repo: git.Repository
) -> None:
    marker = tmp_path / "pwned"
    config = f"[core]\n\tfsmonitor = touch {marker}\n"
    with pytest.raises(git.GitError, match="may not reach into '.git'"):
        repo.commit({".git/config": config}, "m")
    repo.commit({"b.yaml": "b"}, "m")
    assert not marker.exists()


def test_a_commit_does_not_follow_a_pushed_symlink_out_of_the_work_tree(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    push_symlink(server, repo, tmp_path, outside)
    with pytest.raises(git.GitError) as caught:
        repo.commit({"link/x": "escaped"}, "m")
    assert (
        str(caught.value)
        == "cannot commit 'link/x': 'link' is a symbolic link; files are written only inside the work tree"
    )
    assert list(outside.iterdir()) == []


def test_a_commit_replaces_a_symlinked_file_instead_of_writing_through_it(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    push_symlink(server, repo, tmp_path, outside)
    sha = repo.commit({"link": "in the tree"}, "m")
    assert outside.read_text() == "untouched"
    assert repo.files_at(sha)["link"] == b"in the tree"


def test_deleting_through_a_symlinked_folder_is_refused(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    push_symlink(server, repo, tmp_path, outside)
    with pytest.raises(git.GitError, match="'link' is a symbolic link"):
        repo.commit({"link/keep": None}, "m")
    assert (outside / "keep").read_text() == "keep"


# -- configuration that runs programs ------------------------------------------------------


def test_a_repository_config_changed_behind_the_simulation_s_back_is_refused(
    tmp_path: Path, repo: git.Repository
) -> None:
    marker = tmp_path / "pwned"
    with (repo.git_dir / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = touch {marker}\n")
    with pytest.raises(git.GitError) as caught:
        repo.commit({"b.yaml": "b"}, "m")
    assert str(caught.value) == (
        f"the git config of {repo.path} was changed outside gitops-sim; refusing to run git there"
    )
    assert not marker.exists()


def test_hooks_in_a_hosted_repository_never_run(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    marker = tmp_path / "pwned"
    for hook in (
        "post-commit",
        "post-checkout",
        "pre-receive",
        "post-receive",
        "post-update",
        "push-to-checkout",
    ):
        path = repo.git_dir / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        path.chmod(0o755)
    repo.commit({"b.yaml": "b"}, "m", branch="dev")
    repo.commit({"c.yaml": "c"}, "m")
    push_symlink(server, repo, tmp_path, tmp_path)  # a push: receive-pack
    assert not marker.exists()


def test_a_pushed_tree_with_a_git_folder_is_refused_by_the_server(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    endpoint = server.endpoint(repo.url)
    assert endpoint is not None
    developer_git("clone", "-q", endpoint, "work", cwd=tmp_path)
    work = tmp_path / "work"
    # A tree holding `.GIT/config`, built by hand (git refuses to add it from a work tree).
    blob = (
        subprocess.run(
            [REAL_GIT, "hash-object", "-w", "--stdin"],
            cwd=work,
            input=b"[core]\n\tfsmonitor = touch /nonexistent\n",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    inner = (
        subprocess.run(
            [REAL_GIT, "mktree"],
            cwd=work,
            input=f"100644 blob {blob}\tconfig\n".encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    top = (
        subprocess.run(
            [REAL_GIT, "mktree"],
            cwd=work,
            input=f"040000 tree {inner}\t.GIT\n".encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    commit = developer_git("commit-tree", top, "-p", "HEAD", "-m", "hostile", cwd=work).strip()
    with pytest.raises(subprocess.CalledProcessError) as caught:
        developer_git("push", "-q", "origin", f"{commit}:refs/heads/main", cwd=work)
    assert "hasDotgit" in caught.value.stderr
    assert repo.head() != commit


# -- the client that fetches for GitRepository ---------------------------------------------


def recorded_processes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The argv and environment of every process started from now on (the server's included),
    each as one text."""
    ran: list[str] = []
    real = process.run

    def run(argv: Any, **kwargs: Any) -> Any:
        ran.append(" ".join(argv) + " " + " ".join(f"{k}={v}" for k, v in kwargs.get("env", {}).items()))
        return real(argv, **kwargs)

    monkeypatch.setattr(process, "run", run)
    return ran


@pytest.mark.parametrize(
    ("credentials", "secrets"),
    [
        pytest.param(
            githttp.Credentials(username="flux", password="pa55-word-9"),
            ["pa55-word-9", base64.b64encode(b"flux:pa55-word-9").decode()],
            id="basic",
        ),
        pytest.param(githttp.Credentials(bearer_token="t0ken-secret-7"), ["t0ken-secret-7"], id="bearer"),
    ],
)
def test_an_image_update_s_fetch_with_credentials_gives_them_to_no_process(
    monkeypatch: pytest.MonkeyPatch,
    server: git.GitServer,
    repo: git.Repository,
    credentials: githttp.Credentials,
    secrets: list[str],
) -> None:
    repo.credentials = credentials
    ran = recorded_processes(monkeypatch)
    client = githttp.GitHttpClient(server.endpoint)
    sha = repo.head() or ""
    assert client.files_containing(repo.url, sha, "a: 1", credentials) == {"a.yaml": b"a: 1\n"}
    assert ran  # the server's upload-pack ran: the record works
    assert not any(secret in text for text in ran for secret in secrets)


def test_a_checkout_with_credentials_gives_them_to_no_process(
    monkeypatch: pytest.MonkeyPatch, server: git.GitServer, repo: git.Repository
) -> None:
    repo.credentials = githttp.Credentials(username="flux", password="pa55-word-9")
    ran = recorded_processes(monkeypatch)
    client = githttp.GitHttpClient(server.endpoint)
    assert client.checkout(repo.url, repo.head() or "", repo.credentials).files == {"a.yaml": b"a: 1\n"}
    assert ran
    assert not any("pa55-word-9" in text or "Zmx1eDpwYTU1" in text for text in ran)


def test_an_image_update_s_fetch_with_wrong_credentials_fails_as_go_git_says(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    repo.credentials = githttp.Credentials(username="flux", password="right")
    client = server.client()
    wrong = githttp.Credentials(username="flux", password="wrong")
    with pytest.raises(githttp.RemoteError, match="^authentication required$"):
        client.files_containing(repo.url, repo.head() or "", "a", wrong)


def test_a_bearer_token_with_a_line_break_cannot_smuggle_a_header(
    server: git.GitServer, repo: git.Repository
) -> None:
    repo.credentials = githttp.Credentials(bearer_token="t0ken")
    client = server.client()
    smuggled = githttp.Credentials(bearer_token="wrong\r\nAuthorization: Bearer t0ken")
    with pytest.raises(githttp.RemoteError) as caught:
        client.list_refs(repo.url, smuggled)
    assert caught.value.message == 'net/http: invalid header field value for "Authorization"'
    with pytest.raises(githttp.RemoteError) as caught:
        client.checkout(repo.url, repo.head() or "", smuggled)
    assert caught.value.message == 'net/http: invalid header field value for "Authorization"'


def test_a_commit_id_that_reads_as_an_option_never_reaches_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: git.GitServer, repo: git.Repository
) -> None:
    ran = recorded_processes(monkeypatch)
    client = githttp.GitHttpClient(server.endpoint)
    with pytest.raises(githttp.RemoteError) as caught:
        client.checkout(repo.url, f"--upload-pack=touch {tmp_path / 'pwned'}")
    assert caught.value.message == f"'--upload-pack=touch {tmp_path / 'pwned'}' is not a commit hash"
    assert not any("--upload-pack=touch" in text for text in ran)
    assert not (tmp_path / "pwned").exists()


def test_an_advertised_ref_whose_id_is_not_a_hash_is_dropped() -> None:
    good = "a" * 40
    body = (
        b"001e# service=git-upload-pack\n0000"
        + githttp_pkt(f"{good} refs/heads/main\0side-band\n")
        + githttp_pkt("--upload-pack=touch refs/heads/evil\n")
        + githttp_pkt(f"{'g' * 40} refs/tags/v1\n")
        + b"0000"
    )
    assert githttp.parse_advertisement(body) == {"refs/heads/main": good}


def githttp_pkt(line: str) -> bytes:
    data = line.encode()
    return f"{len(data) + 4:04x}".encode() + data


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("file://localhost/etc", id="file-on-localhost"),
        pytest.param("ext::sh -c touch% /tmp/pwned", id="ext-transport"),
        pytest.param("ssh://127.0.0.1/repo", id="ssh-on-loopback"),
    ],
)
def test_a_url_that_is_not_http_on_this_machine_is_not_found(server: git.GitServer, url: str) -> None:
    assert server.endpoint(url) is None


def test_a_fetch_that_hangs_is_stopped_at_its_timeout(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    sha = repo.head() or ""
    repo.fault = "hang"
    client = server.client()
    with pytest.raises(githttp.RemoteError) as caught:
        client.checkout(repo.url, sha, timeout_s=0.5)
    assert caught.value.message == "context deadline exceeded"


# -- the GitRepository controller ------------------------------------------------------------


def test_a_gitrepository_commit_that_reads_as_an_option_fails_as_flux_says(tmp_path: Path) -> None:
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim"))
    try:
        repo_with(sim, {"a.yaml": "a: 1\n"})
        sim.cluster.apply(gitrepository(ref={"commit": "--output=/tmp/x"}), field_manager="kubectl")
        sim.advance(1_000)
        assert ready(sim.cluster.get(GITREPO)) == {
            "status": "False",
            "reason": "GitOperationFailed",
            "message": "failed to checkout and determine revision: "
            "unable to resolve commit object for '--output=/tmp/x': object not found",
        }
    finally:
        sim.close()


# -- the sandbox itself, on a repository someone else configured ------------------------------


def hostile_repository(tmp_path: Path, marker: Path) -> Path:
    """A repository whose own config names programs for fsmonitor, a filter, a diff driver,
    an include and a hook folder, with a `.gitattributes` that uses them."""
    work = tmp_path / "hostile"
    developer_git("init", "-q", "--initial-branch=main", str(work), cwd=tmp_path)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-commit").write_text(f"#!/bin/sh\necho hook >> {marker}\n")
    (hooks / "post-commit").chmod(0o755)
    (tmp_path / "included").write_text(f"[core]\n\tpager = echo include >> {marker}; cat\n")
    with (work / ".git" / "config").open("a") as config:
        config.write(
            f"[core]\n\tfsmonitor = echo fsmonitor >> {marker}\n\thooksPath = {hooks}\n"
            f'[filter "x"]\n\tclean = echo filter >> {marker}; cat\n\trequired = true\n'
            f'[diff "x"]\n\ttextconv = echo textconv >> {marker}; cat\n'
            f"[include]\n\tpath = {tmp_path / 'included'}\n"
        )
    (work / ".gitattributes").write_text("* filter=x diff=x\n")
    (work / "a.txt").write_text("a\n")
    return work


def test_the_sandbox_runs_no_program_a_repository_s_own_config_names(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    work = hostile_repository(tmp_path, marker)
    githttp.seal(work / ".git")
    env = githttp.git_env(
        GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@b", GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@b"
    )
    for args in (("add", "--all"), ("commit", "-q", "-m", "m"), ("log", "-p", "-1"), ("status",)):
        proc = process.run(githttp.sandboxed(REAL_GIT, "-C", str(work), *args), env=env)
        assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_an_archive_is_the_tree_as_go_git_checks_it_out_without_export_attributes(
    tmp_path: Path, server: git.GitServer, repo: git.Repository
) -> None:
    sha = repo.commit(
        {
            ".gitattributes": "subst.txt export-subst\nhidden.txt export-ignore\n",
            "subst.txt": "$Format:%H$",
            "hidden.txt": "h",
        },
        "attributes",
    )
    files = server.client().checkout(repo.url, sha).files
    assert (files["subst.txt"], files["hidden.txt"]) == (b"$Format:%H$", b"h")
    assert repo.files_at(sha)["subst.txt"] == b"$Format:%H$"
