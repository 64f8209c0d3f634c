"""Real git repositories for a simulation, addressed by the URLs that manifests use.

A scenario declares repositories by URL (``https://github.com/acme/fleet``); `GitServer` keeps a
real git repository for each, on local disk, and answers the questions source-controller asks of
a remote: which commit a branch or tag points at, and the tree at a commit. Scenario steps commit
to them with the git CLI, with author and committer dates taken from the clock, so the same
scenario always produces the same commit SHAs.

Callers: the engine (to create repositories and commit), the GitRepository controller (through
the `GitUpstream` protocol). The git processes get an explicit, minimal environment: no user or
system git config is ever read, and nothing leaves the machine.

Simulated on purpose: the transport. Repositories are read on disk rather than cloned over smart
HTTP (a later issue serves them over the real protocol).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gitops_sim.model import archives
from gitops_sim.timing import clock as clocks

DEFAULT_AUTHOR = ("gitops-sim", "gitops-sim@users.noreply.example.com")


class GitError(Exception):
    """A git operation failed; the message is the one Flux users would recognise."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    subject: str


class GitUpstream(Protocol):
    """What a GitRepository reconciler may ask of a remote."""

    def resolve_branch(self, url: str, branch: str) -> Commit: ...

    def tree(self, url: str, sha: str) -> dict[str, bytes]: ...


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    return url[:-4] if url.endswith(".git") else url


class Repository:
    """One real git repository with a work tree, created and written by the simulation."""

    def __init__(self, path: Path, url: str, branch: str, clock: clocks.Clock, git: str) -> None:
        self.path = path
        self.url = url
        self.default_branch = branch
        self._clock = clock
        self._git = git
        path.mkdir(parents=True, exist_ok=True)
        self._run("init", "--quiet", f"--initial-branch={branch}")

    def _env(self) -> dict[str, str]:
        seconds = (self._clock.epoch_ms + self._clock.now()) // 1000
        return {
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_DATE": f"@{seconds} +0000",
            "GIT_COMMITTER_DATE": f"@{seconds} +0000",
            "LC_ALL": "C",
        }

    def _run(self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> bytes:
        proc = subprocess.run(
            [self._git, "-C", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env={**self._env(), **(env or {})},
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout

    def head(self, branch: str | None = None) -> str | None:
        """The commit a branch points at, or None for a branch with no commits."""
        ref = f"refs/heads/{branch or self.default_branch}"
        proc = subprocess.run(
            [self._git, "-C", str(self.path), "rev-parse", "--verify", "--quiet", ref + "^{commit}"],
            capture_output=True,
            env=self._env(),
            check=False,
        )
        return proc.stdout.decode().strip() or None

    def commit(
        self,
        files: Mapping[str, str | bytes | None],
        message: str,
        *,
        branch: str | None = None,
        author: tuple[str, str] = DEFAULT_AUTHOR,
    ) -> str:
        """Write `files` (None deletes a file) on `branch` and commit; returns the new SHA."""
        branch = branch or self.default_branch
        current = self._run("symbolic-ref", "--short", "HEAD").decode().strip()
        if current != branch:
            if self.head(branch) is not None:
                self._run("checkout", "--quiet", branch)
            else:
                self._run("checkout", "--quiet", "-b", branch)
        for rel, content in sorted(files.items()):
            target = self.path / rel
            if content is None:
                if target.is_file():
                    target.unlink()
                elif target.is_dir():
                    shutil.rmtree(target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode() if isinstance(content, str) else content)
        self._run("add", "--all")
        name, email = author
        self._run(
            "commit",
            "--quiet",
            "--allow-empty",
            "--no-verify",
            "--cleanup=verbatim",
            "-m",
            message,
            env={
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email,
            },
        )
        sha = self.head(branch)
        assert sha is not None
        return sha

    def subject(self, sha: str) -> str:
        return self._run("log", "-1", "--format=%s", sha).decode().rstrip("\n")

    def files_at(self, sha: str) -> dict[str, bytes]:
        return archives.unpack(self._run("archive", "--format=tar", sha))

    def changed_files(self, sha: str) -> list[str]:
        out = self._run("show", "--pretty=format:", "--name-only", "--no-renames", sha).decode()
        return sorted(line for line in out.splitlines() if line)


class GitServer:
    """The git remotes of one simulation, keyed by normalized URL."""

    def __init__(self, root: Path, clock: clocks.Clock) -> None:
        git = shutil.which("git")
        if git is None:
            raise GitError("git was not found on PATH: gitops-sim needs git ≥ 2.28 to keep real repositories")
        self._git = git
        self._root = root
        self._clock = clock
        self._repos: dict[str, Repository] = {}

    def create(self, name: str, url: str, branch: str = "main") -> Repository:
        key = normalize_url(url)
        if key in self._repos:
            raise GitError(f"a repository with URL {url} already exists")
        repo = Repository(self._root / name, url, branch, self._clock, self._git)
        self._repos[key] = repo
        return repo

    def lookup(self, url: str) -> Repository:
        repo = self._repos.get(normalize_url(url))
        if repo is None:
            raise GitError(
                f"failed to checkout and determine revision: unable to clone '{url}': repository not found"
            )
        return repo

    def resolve_branch(self, url: str, branch: str) -> Commit:
        repo = self.lookup(url)
        sha = repo.head(branch)
        if sha is None:
            raise GitError(
                f"failed to checkout and determine revision: unable to clone '{url}': "
                f'couldn\'t find remote ref "refs/heads/{branch}"'
            )
        return Commit(sha, repo.subject(sha))

    def tree(self, url: str, sha: str) -> dict[str, bytes]:
        return self.lookup(url).files_at(sha)


_: type[GitUpstream] = GitServer
