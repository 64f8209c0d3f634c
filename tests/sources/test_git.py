from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_sim.sources import git, githttp
from gitops_sim.timing import clock as clocks


def make_server(root: Path, at_ms: int = 0) -> git.GitServer:
    clock = clocks.VirtualClock()
    clock.advance_to(clocks.Millis(at_ms))
    return git.GitServer(root, clock)


def test_the_same_commits_at_the_same_virtual_time_give_the_same_shas(tmp_path: Path) -> None:
    shas = []
    for run in ("one", "two"):
        repo = make_server(tmp_path / run).create("fleet", "https://github.com/acme/fleet")
        shas.append((repo.commit({"a.yaml": "x: 1\n"}, "first"), repo.commit({"a.yaml": "x: 2\n"}, "second")))
    assert shas[0] == shas[1]


def test_commit_dates_come_from_the_virtual_clock(tmp_path: Path) -> None:
    early = make_server(tmp_path / "early").create("r", "https://example.com/r")
    late = make_server(tmp_path / "late", at_ms=60_000).create("r", "https://example.com/r")
    assert early.commit({"f": "same"}, "m") != late.commit({"f": "same"}, "m")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[git.GitServer]:
    hosted = make_server(tmp_path / "hosted")
    try:
        yield hosted
    finally:
        hosted.close()


@pytest.fixture
def client(server: git.GitServer, tmp_path: Path) -> Iterator[githttp.GitHttpClient]:
    reaching = server.client(tmp_path / "cache")
    try:
        yield reaching
    finally:
        reaching.close()


def test_listing_a_remote_over_http_gives_branches_and_tags_peeled_to_commits(
    server: git.GitServer, client: githttp.GitHttpClient
) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet.git")
    first = repo.commit({"apps/a.yaml": "a"}, "add a")
    repo.tag("v1.0.0")
    second = repo.commit({"apps/a.yaml": "b"}, "change a")
    repo.tag("v1.1.0", message="release 1.1")  # annotated
    refs = client.list_refs("https://github.com/acme/fleet/")
    assert {k: v for k, v in refs.items() if k != "HEAD"} == {
        "refs/heads/main": second,
        "refs/tags/v1.0.0": first,
        "refs/tags/v1.1.0": second,
    }


def test_a_checkout_over_http_gives_the_tree_and_subject_at_that_commit(
    server: git.GitServer, client: githttp.GitHttpClient
) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet")
    first = repo.commit({"a.yaml": "1", "b.yaml": "1"}, "one\n\nbody")
    repo.commit({"a.yaml": "2", "b.yaml": None}, "two")
    assert client.checkout(repo.url, first) == githttp.Checkout({"a.yaml": b"1", "b.yaml": b"1"}, "one")
    assert repo.changed_files(repo.head() or "") == ["a.yaml", "b.yaml"]


def test_a_repository_with_credentials_refuses_requests_without_them(
    server: git.GitServer, client: githttp.GitHttpClient
) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet")
    sha = repo.commit({"a": "a"}, "m")
    repo.credentials = githttp.Credentials(username="flux", password="s3cret")
    with pytest.raises(githttp.RemoteError, match="^authentication required$"):
        client.list_refs(repo.url)
    with pytest.raises(githttp.RemoteError, match="^authentication required$"):
        client.list_refs(repo.url, githttp.Credentials(username="flux", password="wrong"))
    assert client.list_refs(repo.url, repo.credentials)["refs/heads/main"] == sha
    assert client.checkout(repo.url, sha, repo.credentials).files == {"a": b"a"}


def test_a_bearer_token_is_sent_as_an_authorization_header(
    server: git.GitServer, client: githttp.GitHttpClient
) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet")
    sha = repo.commit({"a": "a"}, "m")
    repo.credentials = githttp.Credentials(bearer_token="t0ken")
    assert client.list_refs(repo.url, githttp.Credentials(bearer_token="t0ken"))["refs/heads/main"] == sha
    with pytest.raises(githttp.RemoteError, match="authentication required"):
        client.list_refs(repo.url, githttp.Credentials(username="t0ken"))


def test_an_unreachable_repository_is_a_refused_connection_named_by_its_url(
    server: git.GitServer, client: githttp.GitHttpClient
) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet")
    repo.commit({"a": "a"}, "m")
    repo.fault = "unreachable"
    with pytest.raises(githttp.RemoteError) as caught:
        client.list_refs(repo.url)
    assert caught.value.message == (
        'Get "https://github.com/acme/fleet/info/refs?service=git-upload-pack": '
        "dial tcp github.com:443: connect: connection refused"
    )
    repo.fault = None
    assert "refs/heads/main" in client.list_refs(repo.url)


def test_an_unknown_repository_on_the_server_is_not_found(
    server: git.GitServer, client: githttp.GitHttpClient
) -> None:
    server.create("fleet", "https://github.com/acme/fleet").commit({"a": "a"}, "m")
    endpoint = server.endpoint("https://github.com/acme/fleet")
    assert endpoint is not None
    with pytest.raises(githttp.RemoteError, match="repository not found") as caught:
        client.list_refs(endpoint.replace("fleet.git", "other.git"))
    assert caught.value.not_found


def test_a_repository_elsewhere_on_the_internet_is_not_found_without_a_request(
    client: githttp.GitHttpClient,
) -> None:
    with pytest.raises(githttp.RemoteError, match="repository not found"):
        client.list_refs("https://github.com/acme/not-hosted-here")


def test_commits_to_a_new_branch_start_from_the_current_one(tmp_path: Path) -> None:
    repo = make_server(tmp_path).create("fleet", "https://github.com/acme/fleet")
    repo.commit({"a": "main"}, "m")
    repo.commit({"b": "dev"}, "d", branch="dev")
    assert repo.files_at(repo.head("dev") or "") == {"a": b"main", "b": b"dev"}
    assert repo.files_at(repo.head("main") or "") == {"a": b"main"}
