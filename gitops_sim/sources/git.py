"""Real git repositories for a simulation, addressed by the URLs that manifests use.

A scenario declares repositories by URL (``https://github.com/acme/fleet``); `GitServer` keeps a
real git repository for each, on local disk, and answers the questions source-controller asks of
a remote: which commit a branch or tag points at, and the tree at a commit. Scenario steps commit
to them with the git CLI, with author and committer dates taken from the clock, so the same
scenario always produces the same commit SHAs.

They are served over git's smart HTTP protocol by `sources.githttp` (started on first use, on
127.0.0.1), and source-controller reaches them only that way: `endpoint(url)` says where a URL
that a manifest names is really fetched from, as git's `url.<base>.insteadOf` would. A repository
may require credentials, and may be made unreachable (a fault) and reachable again.

Callers: the engine (to create repositories and commit), the scenario runner, and the
GitRepository controller (through the `GitUpstream` protocol, which `githttp.GitHttpClient`
implements). The git processes get an explicit, minimal environment: no user or system git config
is ever read, and nothing leaves the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from gitops_sim.model import archives
from gitops_sim.sources import githttp
from gitops_sim.timing import clock as clocks

Fault = Literal["unreachable", "auth", "hang"]
FAULTS: tuple[Fault, ...] = ("unreachable", "auth", "hang")

DEFAULT_AUTHOR = ("gitops-sim", "gitops-sim@users.noreply.example.com")


class GitError(Exception):
    """A git operation failed; the message is the one Flux users would recognise."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    subject: str


class GitUpstream(Protocol):
    """What a GitRepository reconciler may ask of a remote (errors: `githttp.RemoteError`)."""

    def list_refs(
        self, url: str, credentials: githttp.Credentials | None = None, timeout_s: float = ...
    ) -> dict[str, str]: ...

    def checkout(
        self, url: str, sha: str, credentials: githttp.Credentials | None = None, timeout_s: float = ...
    ) -> githttp.Checkout: ...


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")
_REPO_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def repo_name_problem(name: str) -> str | None:
    """Why `name` cannot name a repository of a scenario (it becomes a folder of the scratch
    space, so it is one plain path component), or None."""
    if not _REPO_NAME.fullmatch(name) or name in (".", ".."):
        return "a repository name is letters, digits, '.', '_' and '-', not starting with '.' or '-'"
    return None


def path_problem(rel: str) -> str | None:
    """Why `rel` cannot be the path of a file in a repository, or None: it must be relative,
    stay inside the work tree, and never reach into git's own folder (`.git` in any case, in any
    component: git refuses such paths in trees for the same reason)."""
    if not rel or "\0" in rel:
        return "a file path must be a non-empty relative path"
    if rel.startswith("/") or "\\" in rel or (len(rel) > 1 and rel[1] == ":"):
        return "file paths must be relative to the repository root (no leading '/', no drive, no '\\')"
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a file path may not contain '..', '.' or empty components"
    if any(part.lower() == ".git" for part in parts):
        return "a file path may not reach into '.git' (git's own folder)"
    if any(part.startswith("-") for part in parts):
        return "a file path component may not start with '-'"
    return None


def ref_problem(name: str) -> str | None:
    """Why `name` cannot be a branch or tag name (git check-ref-format's rules, and no leading
    '-', which a git command would read as an option), or None."""
    if not name or name.startswith("-"):
        return "a branch or tag name may not be empty or start with '-'"
    if (
        _REF_FORBIDDEN.search(name)
        or name == "@"
        or name.endswith(("/", ".", ".lock"))
        or any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
    ):
        return (
            f"{name!r} is not a valid git ref name (no spaces, control characters, '~^:?*[\\', "
            "'..', '@{', '//', and no component starting with '.' or ending with '.lock')"
        )
    return None


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def host_path(url: str) -> str:
    """`https://github.com/acme/fleet.git` → `github.com/acme/fleet`: what names a hosted repository
    whatever the scheme or user (https, http, ssh://git@…)."""
    parts = urlsplit(normalize_url(url))
    return f"{parts.hostname or ''}{parts.path}"


class Repository:
    """One real git repository with a work tree, created and written by the simulation."""

    def __init__(self, path: Path, url: str, branch: str, clock: clocks.Clock, git: str) -> None:
        self.path = path
        self.url = url
        self.default_branch = branch
        self._clock = clock
        self._git = git
        self.version = 0
        """Bumped by every change to the repository's refs (the server caches by it)."""
        self.credentials: githttp.Credentials | None = None
        """When set, the HTTP server requires them."""
        self.fault: Fault | None = None
        """A fault the scenario injected: `unreachable` (connections refused), `auth` (every
        request answered 401, whatever the credentials) or `hang` (requests never answered, so
        clients run into their timeout)."""
        path.mkdir(parents=True, exist_ok=True)
        self._run("init", "--quiet", f"--initial-branch={branch}")

    @property
    def git_dir(self) -> Path:
        return self.path / ".git"

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
        self.version += 1
        return sha

    def tag(self, name: str, *, sha: str | None = None, message: str | None = None) -> str:
        """Tag `sha` (default: the default branch's head); with a message the tag is annotated.
        Moving an existing tag is allowed (as `git tag -f`). Returns the tagged commit."""
        target = sha or self.head()
        if target is None:
            raise GitError(f"cannot tag {name!r}: the repository has no commits")
        args = ["tag", "--force"] + (["--annotate", "-m", message] if message else []) + [name, target]
        self._run(
            *args, env={"GIT_COMMITTER_NAME": DEFAULT_AUTHOR[0], "GIT_COMMITTER_EMAIL": DEFAULT_AUTHOR[1]}
        )
        self.version += 1
        return self._run("rev-parse", f"{target}^{{commit}}").decode().strip()

    def subject(self, sha: str) -> str:
        return self._run("log", "-1", "--format=%s", sha).decode().rstrip("\n")

    def files_at(self, sha: str) -> dict[str, bytes]:
        return archives.unpack(self._run("archive", "--format=tar", sha))

    def changed_files(self, sha: str) -> list[str]:
        out = self._run("show", "--pretty=format:", "--name-only", "--no-renames", sha).decode()
        return sorted(line for line in out.splitlines() if line)


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class GitServer:
    """The git remotes of one simulation, keyed by the host and path of their URL."""

    def __init__(self, root: Path, clock: clocks.Clock) -> None:
        git = shutil.which("git")
        if git is None:
            raise GitError("git was not found on PATH: gitops-sim needs git ≥ 2.28 to keep real repositories")
        self.git = git
        self._root = root
        self._clock = clock
        self._repos: dict[str, Repository] = {}
        self._http: githttp.GitHttpServer | None = None

    def create(self, name: str, url: str, branch: str = "main") -> Repository:
        key = host_path(url)
        if key in self._repos:
            raise GitError(f"a repository with URL {url} already exists")
        repo = Repository(self._root / name, url, branch, self._clock, self.git)
        self._repos[key] = repo
        return repo

    def get(self, url: str) -> Repository | None:
        return self._repos.get(host_path(url))

    def lookup(self, url: str) -> Repository:
        repo = self.get(url)
        if repo is None:
            raise GitError(f"this simulation hosts no repository at {url}")
        return repo

    def endpoint(self, url: str) -> str | None:
        """Where `url` is fetched from: this simulation's HTTP server for the repositories it
        hosts (a closed port while one is unreachable), the URL itself on this machine (a git
        server a test started), and None elsewhere: a simulation never leaves the machine, so
        such a repository is not found."""
        repo = self.get(url)
        if repo is None:
            return url if _is_loopback(url) else None
        if self._http is None:
            self._http = githttp.GitHttpServer(self.git, self._repos.get)
        base = self._http.unreachable_url if repo.fault == "unreachable" else self._http.base_url
        return f"{base}/{host_path(url)}.git"

    def client(self, cache: Path) -> githttp.GitHttpClient:
        """A client that reaches these repositories (and any other git HTTP server)."""
        return githttp.GitHttpClient(self.git, cache, self.endpoint)

    def close(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
