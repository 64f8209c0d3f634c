from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import artifacts, refs
from gitops_sim.sources import git, githttp
from gitops_sim.timing import clock as clocks
from tests.sources.conftest import developer_git


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


def test_reading_a_repository_again_runs_no_git_until_its_refs_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_sim import process

    repo = make_server(tmp_path).create("fleet", "https://github.com/acme/fleet")
    first = repo.commit({"a": "1"}, "first")
    runs: list[str] = []
    real = process.run

    def recorded(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        runs.append(argv[-1])
        return real(argv, **kw)

    monkeypatch.setattr(process, "run", recorded)
    assert repo.log("main") == [first] and repo.commit_info(first).message == "first\n"
    read_once = len(runs)
    assert repo.log("main") == [first] and repo.commit_info(first).message == "first\n"
    assert len(runs) == read_once
    second = repo.commit({"a": "2"}, "second")
    assert repo.head() == second and repo.log("main") == [second, first]


def git_cli(*args: str, cwd: Path) -> str:
    return developer_git(*args, cwd=cwd).stdout


def test_the_git_cli_clones_and_pushes_over_smart_http(server: git.GitServer, tmp_path: Path) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet")
    repo.commit({"a.yaml": "1"}, "first")
    endpoint = server.endpoint(repo.url)
    assert endpoint is not None
    git_cli("clone", "-q", endpoint, "work", cwd=tmp_path)
    work = tmp_path / "work"
    (work / "b.yaml").write_text("2")
    git_cli("add", "b.yaml", cwd=work)
    git_cli("commit", "-q", "-m", "pushed by a developer", cwd=work)
    git_cli("push", "-q", "origin", "main", cwd=work)
    pushed = git_cli("rev-parse", "HEAD", cwd=work).strip()
    assert repo.head() == pushed
    assert repo.subject(pushed) == "pushed by a developer"
    assert repo.files_at("main") == {"a.yaml": b"1", "b.yaml": b"2"}
    assert repo.commit({"c.yaml": "3"}, "on top of the push") and repo.changed_files("main") == ["c.yaml"]


def test_a_private_repository_refuses_the_git_cli_without_credentials(
    server: git.GitServer, tmp_path: Path
) -> None:
    repo = server.create("fleet", "https://github.com/acme/fleet")
    repo.commit({"a.yaml": "1"}, "first")
    repo.credentials = githttp.Credentials(bearer_token="t0ken")
    endpoint = server.endpoint(repo.url)
    assert endpoint is not None
    proc = subprocess.run(
        ["git", "ls-remote", endpoint],
        capture_output=True,
        text=True,
        check=False,
        env={**githttp.GIT_ENV, "GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin"},
    )
    assert (
        proc.returncode != 0 and "Authentication failed" in proc.stderr
    ) or "could not read Username" in proc.stderr


def test_a_gitrepository_on_a_real_git_http_backend_is_cloned_over_the_real_protocol(
    git_http_backend: tuple[str, Path], tmp_path: Path
) -> None:
    base_url, root = git_http_backend
    git_cli("init", "-q", "--bare", "--initial-branch=main", str(root / "fleet.git"), cwd=tmp_path)
    git_cli("clone", "-q", str(root / "fleet.git"), "work", cwd=tmp_path)
    work = tmp_path / "work"
    (work / "apps").mkdir()
    (work / "apps" / "cm.yaml").write_text("kind: ConfigMap\n")
    git_cli("add", "-A", cwd=work)
    git_cli("commit", "-q", "-m", "on a real server", cwd=work)
    git_cli("push", "-q", "origin", "main", cwd=work)
    head = git_cli("rev-parse", "HEAD", cwd=work).strip()
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim"))
    try:
        sim.cluster.apply(
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "real", "namespace": "flux-system"},
                "spec": {"url": f"{base_url}/fleet.git", "interval": "1m", "ref": {"branch": "main"}},
            },
            field_manager="kubectl",
        )
        sim.advance(1_000)
        obj = sim.cluster.get(
            refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "real")
        )
        assert obj["status"]["artifact"]["revision"] == f"main@sha1:{head}"
        stored = sim.storage.fetch(artifacts.Artifact.from_status(obj["status"]["artifact"]))
        assert stored == {"apps/cm.yaml": b"kind: ConfigMap\n"}
    finally:
        sim.close()
