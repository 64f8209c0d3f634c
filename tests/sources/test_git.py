from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.sources import git
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


def test_resolving_a_branch_gives_the_head_commit_and_its_subject(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    repo = server.create("fleet", "https://github.com/acme/fleet.git")
    sha = repo.commit({"apps/a.yaml": "a"}, "add a\n\nbody")
    assert server.resolve_branch("https://github.com/acme/fleet/", "main") == git.Commit(sha, "add a")


def test_a_missing_branch_is_reported_as_flux_reports_it(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.create("fleet", "https://github.com/acme/fleet").commit({"a": "a"}, "m")
    with pytest.raises(git.GitError, match='couldn\'t find remote ref "refs/heads/dev"'):
        server.resolve_branch("https://github.com/acme/fleet", "dev")


def test_the_tree_at_a_commit_excludes_later_changes(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    repo = server.create("fleet", "https://github.com/acme/fleet")
    first = repo.commit({"a.yaml": "1", "b.yaml": "1"}, "one")
    repo.commit({"a.yaml": "2", "b.yaml": None}, "two")
    assert server.tree(repo.url, first) == {"a.yaml": b"1", "b.yaml": b"1"}
    assert repo.changed_files(repo.head() or "") == ["a.yaml", "b.yaml"]


def test_commits_to_a_new_branch_start_from_the_current_one(tmp_path: Path) -> None:
    repo = make_server(tmp_path).create("fleet", "https://github.com/acme/fleet")
    repo.commit({"a": "main"}, "m")
    repo.commit({"b": "dev"}, "d", branch="dev")
    assert repo.files_at(repo.head("dev") or "") == {"a": b"main", "b": b"dev"}
    assert repo.files_at(repo.head("main") or "") == {"a": b"main"}
