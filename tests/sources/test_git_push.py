"""Pushing commits over our smart-HTTP git, both ends: `GitHttpClient.push_commit` (what the
ImageUpdateAutomation controller does, after fluxcd/pkg's gogit client) against `GitHttpServer`,
and the git CLI against the server's push faults."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops_sim.sources import git, githttp
from gitops_sim.timing import clock as clocks
from tests.sources.conftest import developer_git

URL = "https://github.com/acme/fleet"
BOT = ("fluxcdbot", "fluxcdbot@users.noreply.github.com")
WHEN = 1_700_000_000


@pytest.fixture
def repo(server: git.GitServer) -> git.Repository:
    created = server.create("fleet", URL)
    created.commit({"apps/app.yaml": "image: podinfo:1.0.0\n", "README.md": "fleet\n"}, "first")
    return created


def push(
    client: githttp.GitHttpClient,
    repo: git.Repository,
    changes: dict[str, bytes | None] | None = None,
    *,
    parent: str | None = None,
    branch: str = "main",
    message: str = "update podinfo",
    **extra: object,
) -> str:
    """A push as the automation makes it: on the default branch's head unless told."""
    return client.push_commit(
        repo.url,
        parent or repo.head() or "",
        {"apps/app.yaml": b"image: podinfo:1.1.0\n"} if changes is None else changes,
        message=message,
        author=BOT,
        when_s=WHEN,
        branch=branch,
        **extra,  # type: ignore[arg-type]
    )


def test_a_pushed_commit_has_the_exact_author_time_message_and_files(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    sha = push(client, repo, message="Update podinfo\n\n- podinfo:1.1.0")  # no newline at the end
    info = repo.commit_info(sha)
    assert (info.author_name, info.author_email, info.committer_name, info.committer_email) == (*BOT, *BOT)
    assert info.author_time == WHEN
    assert info.message == "Update podinfo\n\n- podinfo:1.1.0"
    assert info.parents == (parent,)
    assert info.files == (git.ChangedFile("apps/app.yaml", "M"),)
    assert "-image: podinfo:1.0.0\n+image: podinfo:1.1.0\n" in info.diff
    assert repo.head() == sha


def test_the_commit_header_is_what_go_git_writes(client: githttp.GitHttpClient, repo: git.Repository) -> None:
    sha = push(client, repo)
    raw = subprocess.run(
        ["git", "-C", str(repo.path), "cat-file", "commit", sha], capture_output=True, check=True
    ).stdout
    stamp = f"{BOT[0]} <{BOT[1]}> {WHEN} +0000".encode()
    assert raw.split(b"\n")[2:5] == [b"author " + stamp, b"committer " + stamp, b""]
    assert raw.endswith(b"\n\nupdate podinfo")


def test_the_same_inputs_give_the_same_sha(tmp_path: Path) -> None:
    shas = []
    for run in ("one", "two"):
        hosted = git.GitServer(tmp_path / run / "hosted", clocks.VirtualClock())
        try:
            repo = hosted.create("fleet", URL)
            repo.commit({"apps/app.yaml": "image: podinfo:1.0.0\n"}, "first")
            reaching = hosted.client()
            shas.append(push(reaching, repo))
            reaching.close()
        finally:
            hosted.close()
    assert shas[0] == shas[1]


def test_only_the_changed_paths_differ_from_the_parent(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head() or ""
    sha = push(client, repo, {"apps/app.yaml": b"image: podinfo:2.0.0\n", "README.md": None, "new/x": b"x"})
    before, after = repo.files_at(parent), repo.files_at(sha)
    assert after == {"apps/app.yaml": b"image: podinfo:2.0.0\n", "new/x": b"x"}
    assert repo.changed_files(sha) == ["README.md", "apps/app.yaml", "new/x"]
    assert set(before) - set(after) == {"README.md"}


def test_deleting_a_folder_deletes_everything_under_it(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    sha = push(client, repo, {"apps": None})
    assert repo.files_at(sha) == {"README.md": b"fleet\n"}


def test_a_push_to_a_new_branch_creates_it(client: githttp.GitHttpClient, repo: git.Repository) -> None:
    main = repo.head()
    sha = push(client, repo, branch="flux/image-updates")
    assert repo.head("flux/image-updates") == sha
    assert repo.head() == main
    assert repo.log("flux/image-updates", since=main) == [sha]


def test_a_push_that_changes_nothing_on_the_remote_is_already_up_to_date(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    push(client, repo, parent=parent)
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, parent=parent)  # the same commit again: the branch is already there
    assert caught.value.message == "failed to push to remote: already up-to-date"


def test_a_non_fast_forward_push_is_rejected_with_go_gits_words(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    old = repo.head()
    newer = repo.commit({"README.md": "moved on\n"}, "a human's commit")
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, parent=old)
    assert caught.value.message == "failed to push to remote: non-fast-forward update: refs/heads/main"
    assert caught.value.non_fast_forward
    assert repo.head() == newer


def test_a_forced_push_replaces_a_branch_that_moved_on(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    old = repo.head()
    repo.commit({"README.md": "moved on\n"}, "a human's commit")
    sha = push(client, repo, parent=old, force=True)
    assert repo.head() == sha
    assert repo.commit_info(sha).parents == (old,)


def test_the_race_hook_makes_the_next_push_non_fast_forward_and_keeps_the_human_commit(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    checked_out = repo.head()
    client.checkout(repo.url, checked_out or "")
    repo.race_next_push(
        {"README.md": "edited by hand\n"}, "a human's commit", author=("ann", "ann@example.com")
    )
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, parent=checked_out)
    assert caught.value.non_fast_forward
    human = repo.head() or ""
    assert repo.log("main", since=checked_out) == [human]
    assert repo.commit_info(human).author_name == "ann"
    assert repo.raced == [human]
    retried = push(client, repo, parent=human)  # the automation's retry, on the new head
    assert repo.log("main", since=checked_out) == [retried, human]


def test_a_push_bumps_the_repository_version(client: githttp.GitHttpClient, repo: git.Repository) -> None:
    before = repo.version
    push(client, repo)
    assert repo.version > before
    assert client.list_refs(repo.url)["refs/heads/main"] == repo.head()  # the server's cache follows


def test_a_protected_repository_refuses_our_push_with_its_reason(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    head = repo.head()
    repo.fault = "protected"
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo)
    assert caught.value.message == (
        "failed to push to remote: command error on refs/heads/main: protected branch hook declined"
    )
    assert not caught.value.non_fast_forward
    assert repo.head() == head


def test_a_protected_repository_refuses_the_git_cli_push_with_its_reason(
    server: git.GitServer, repo: git.Repository, tmp_path: Path
) -> None:
    endpoint = server.endpoint(repo.url) or ""
    developer_git("clone", "-q", endpoint, "work", cwd=tmp_path)
    work = tmp_path / "work"
    (work / "b.yaml").write_text("b\n")
    developer_git("add", "b.yaml", cwd=work)
    developer_git("commit", "-q", "-m", "by hand", cwd=work)
    repo.fault = "protected"
    proc = developer_git("push", "origin", "main", cwd=work, check=False)
    assert proc.returncode != 0
    assert "[remote rejected] main -> main (protected branch hook declined)" in proc.stderr


def test_a_protected_repository_still_serves_fetches(
    server: git.GitServer, client: githttp.GitHttpClient, repo: git.Repository, tmp_path: Path
) -> None:
    repo.fault = "protected"
    head = repo.head() or ""
    assert client.list_refs(repo.url)["refs/heads/main"] == head
    assert client.checkout(repo.url, head).files["README.md"] == b"fleet\n"
    developer_git("clone", "-q", server.endpoint(repo.url) or "", "work", cwd=tmp_path)
    assert (tmp_path / "work" / "README.md").read_text() == "fleet\n"


def test_a_push_without_credentials_is_told_authentication_required(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    client.checkout(repo.url, parent or "")
    repo.credentials = githttp.Credentials(username="flux", password="s3cret")
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, parent=parent)
    assert caught.value.message == "failed to push to remote: authentication required"


def test_a_push_with_credentials_is_accepted(client: githttp.GitHttpClient, repo: git.Repository) -> None:
    repo.credentials = githttp.Credentials(bearer_token="t0ken")
    sha = push(client, repo, credentials=githttp.Credentials(bearer_token="t0ken"))
    assert repo.head() == sha


def test_a_push_to_a_repository_refusing_everyone_is_told_authentication_required(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    client.checkout(repo.url, parent or "")
    repo.fault = "auth"
    with pytest.raises(githttp.RemoteError, match="^failed to push to remote: authentication required$"):
        push(client, repo, parent=parent, credentials=githttp.Credentials(username="a", password="b"))


def test_a_push_to_an_unreachable_repository_is_a_refused_connection(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    client.checkout(repo.url, parent or "")
    repo.fault = "unreachable"
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, parent=parent)
    assert caught.value.message == (
        'failed to push to remote: Get "https://github.com/acme/fleet/info/refs?service=git-receive-pack": '
        "dial tcp github.com:443: connect: connection refused"
    )


def test_a_push_to_a_server_that_never_answers_runs_into_the_deadline(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    client.checkout(repo.url, parent or "")
    repo.fault = "hang"
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, parent=parent, timeout_s=0.3)
    assert caught.value.message == "failed to push to remote: context deadline exceeded"


def test_push_options_reach_the_server(client: githttp.GitHttpClient, repo: git.Repository) -> None:
    sha = push(client, repo, options={"title": "Flux image update", "topic": "flux-updates"})
    assert repo.head() == sha
    assert repo.pushed_options == ("title=Flux image update", "topic=flux-updates")


def test_the_git_cli_may_send_push_options_too(
    server: git.GitServer, repo: git.Repository, tmp_path: Path
) -> None:
    developer_git("clone", "-q", server.endpoint(repo.url) or "", "work", cwd=tmp_path)
    work = tmp_path / "work"
    developer_git("commit", "-q", "--allow-empty", "-m", "empty", cwd=work)
    developer_git("push", "-q", "--push-option=ci.skip", "origin", "main", cwd=work)
    assert repo.pushed_options == ("ci.skip",)


def test_a_push_option_value_may_span_lines_as_go_git_sends_it(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    push(client, repo, options={"description": "Automated update\n\n- podinfo"})
    assert repo.pushed_options == ("description=Automated update\n\n- podinfo",)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"a=b": "c"}, id="equals-in-name"),
        pytest.param({"a\nb": "c"}, id="newline-in-name"),
        pytest.param({"a": "b\0"}, id="nul-in-value"),
        pytest.param({"": "b"}, id="empty-name"),
    ],
)
def test_a_push_option_that_cannot_be_sent_is_refused_before_anything_is_sent(
    client: githttp.GitHttpClient, repo: git.Repository, options: dict[str, str]
) -> None:
    head = repo.head()
    with pytest.raises(githttp.RemoteError, match="^failed to push to remote: push option .* cannot be sent"):
        push(client, repo, options=options)
    assert repo.head() == head


def test_a_refspec_push_lands_on_the_refspecs_destination_after_the_branch(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    sha = push(client, repo, branch="auto", refspecs=("refs/heads/auto:refs/heads/review",))
    assert repo.head("auto") == sha
    assert repo.head("review") == sha


def test_a_refspec_naming_the_new_commit_by_id_lands_too(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head() or ""
    expected = push(client, repo, branch="probe")
    sha = push(client, repo, parent=parent, branch="auto", refspecs=(f"{expected}:refs/heads/review",))
    assert sha == expected
    assert repo.head("review") == sha


def test_a_refspec_that_matches_nothing_fails_as_already_up_to_date(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, branch="auto", refspecs=("HEAD:refs/heads/review",))
    assert caught.value.message == "failed to push to remote: already up-to-date"
    assert repo.head("auto") is not None  # the branch push went first
    assert repo.head("review") is None


def test_a_refspec_equal_to_the_branch_push_fails_as_already_up_to_date(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    with pytest.raises(githttp.RemoteError, match="^failed to push to remote: already up-to-date$"):
        push(client, repo, refspecs=("refs/heads/main:refs/heads/main",))


def test_a_forced_refspec_replaces_a_destination_that_moved_on(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    repo.commit({"x": "other"}, "elsewhere", branch="review")
    sha = push(client, repo, branch="auto", refspecs=("+refs/heads/auto:refs/heads/review",))
    assert repo.head("review") == sha


@pytest.mark.parametrize(
    ("refspec", "message"),
    [
        pytest.param("refs/heads/a", "malformed refspec, separators are wrong", id="no-separator"),
        pytest.param("a:b:c", "malformed refspec, separators are wrong", id="two-separators"),
        pytest.param("refs/heads/a:", "malformed refspec, separators are wrong", id="no-destination"),
        pytest.param(
            "refs/*:refs/heads/x", "malformed refspec, mismatched number of wildcards", id="one-wildcard"
        ),
        pytest.param(
            "refs/heads/*:refs/heads/*", "gitops-sim does not push wildcard refspecs", id="wildcards"
        ),
        pytest.param("--delete:refs/heads/x", "may not be empty or start with '-'", id="option-source"),
        pytest.param("refs/heads/a:refs/heads/..x", "is not a valid git ref name", id="bad-destination"),
        pytest.param(
            "refs/heads/auto:review", "the destination must be a full ref name", id="short-destination"
        ),
    ],
)
def test_a_malformed_refspec_is_refused_before_anything_is_pushed(
    client: githttp.GitHttpClient, repo: git.Repository, refspec: str, message: str
) -> None:
    with pytest.raises(githttp.RemoteError) as caught:
        push(client, repo, branch="auto", refspecs=(refspec,))
    assert caught.value.message.startswith("failed to push to remote: ")
    assert message in caught.value.message
    assert repo.head("auto") is None


@pytest.mark.parametrize(
    "branch",
    [pytest.param("--force", id="option"), pytest.param("a..b", id="dots"), pytest.param("", id="empty")],
)
def test_a_branch_git_would_misread_is_refused(
    client: githttp.GitHttpClient, repo: git.Repository, branch: str
) -> None:
    with pytest.raises(githttp.RemoteError, match="cannot push to branch"):
        push(client, repo, branch=branch)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("../escape", id="dot-dot"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param(".git/config", id="git-folder"),
        pytest.param("apps/.GIT/hooks/x", id="git-folder-any-case"),
    ],
)
def test_a_path_outside_the_tree_is_refused(
    client: githttp.GitHttpClient, repo: git.Repository, path: str
) -> None:
    head = repo.head()
    with pytest.raises(githttp.RemoteError, match=f"^cannot commit {path!r}: "):
        push(client, repo, {path: b"x"})
    assert repo.head() == head


def test_a_file_where_the_parent_has_a_folder_is_refused(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    with pytest.raises(githttp.RemoteError, match="^cannot commit 'apps': it is a folder$"):
        push(client, repo, {"apps": b"x"})


def test_a_parent_not_fetched_yet_is_fetched_first(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    parent = repo.head()
    sha = push(client, repo, parent=parent)  # the client never checked anything out
    assert repo.commit_info(sha).parents == (parent,)


def test_an_author_that_would_break_the_commit_header_is_refused(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    with pytest.raises(githttp.RemoteError, match="the author's name and email may not hold"):
        client.push_commit(
            repo.url, repo.head() or "", {}, message="m", author=("x\nparent 0", "e"), when_s=0, branch="main"
        )


def test_an_empty_author_name_is_written_as_go_git_writes_it(
    client: githttp.GitHttpClient, repo: git.Repository
) -> None:
    sha = client.push_commit(
        repo.url,
        repo.head() or "",
        {"a": b"a"},
        message="m",
        author=("", "bot@example.com"),
        when_s=5,
        branch="main",
    )
    info = repo.commit_info(sha)
    assert (info.author_name, info.author_email, info.author_time) == ("", "bot@example.com", 5)


def test_the_log_stops_before_since(repo: git.Repository) -> None:
    first = repo.head()
    second = repo.commit({"a": "2"}, "two")
    third = repo.commit({"a": "3"}, "three")
    assert repo.log("main", since=first) == [third, second]
    assert repo.log("main") == [third, second, first]
    assert repo.log("nothing-here") == []


def test_commit_info_of_a_root_commit_lists_every_file_as_added(repo: git.Repository) -> None:
    root = repo.log("main")[-1]
    info = repo.commit_info(root)
    assert info.parents == ()
    assert info.files == (git.ChangedFile("README.md", "A"), git.ChangedFile("apps/app.yaml", "A"))
    assert info.message == "first\n"  # `Repository.commit` ends messages with a newline, as `git commit -m`
