"""Real git repositories for a simulation, addressed by the URLs that manifests use.

A scenario declares repositories by URL (``https://github.com/acme/fleet``); `GitServer` keeps a
real git repository for each, on local disk, and answers the questions source-controller asks of
a remote: which commit a branch or tag points at, and the tree at a commit. Scenario steps commit
to them with the git CLI, with author and committer dates taken from the clock, so the same
scenario always produces the same commit SHAs.

They are served over git's smart HTTP protocol by `sources.githttp` (started on first use, on
127.0.0.1), and source-controller reaches them only that way: `endpoint(url)` says where a URL
that a manifest names is really fetched from, as git's `url.<base>.insteadOf` would. A repository
may require credentials, and may be made unreachable (a fault) and reachable again, `protected`
(fetches work, every push is refused) or `read-only` (pushes answered 403). A scenario may also
arrange a race: a commit (a human's) that lands just as the next push begins (`race_next_push`),
so the push finds its branch moved on. What landed is read back with `commit_info` and `log`,
from git plumbing.

An offline mirror (`gitops_sim.mirror`) hosts the repositories of remote bases here, loaded from
git bundles with their upstream commit ids (`Repository.import_bundle`: only branches, tags and
`refs/gitops-sim/*` refs, ids checked, the bundle read by `git bundle unbundle`).

Callers: the engine (to create repositories and commit), the scenario runner, `gitops_sim.mirror`,
and the GitRepository controller (through the `GitUpstream` protocol, which `githttp.GitHttpClient`
implements). The git processes get an explicit, minimal environment: no user or system git config
is ever read, and nothing leaves the machine.

What scenarios give this module (repository names, branch and tag names, file paths, file
contents, messages) is untrusted, and it must never let them escape the repositories' root or
steer git:
- `GitServer.create` refuses a name `repo_name_problem` refuses, and a folder that resolves
  outside the root (a symlink planted there);
- branch and tag names pass `ref_problem` before use (git reads a leading '-' as an option),
  commit targets are resolved with `rev-parse --end-of-options`, messages go on stdin;
- `Repository.commit` refuses paths `path_problem` refuses (nothing reaches `.git`) and never
  writes or deletes through a symbolic link in the work tree (a developer's push may have put
  one there): a link on the way is refused, a link at the file itself is replaced;
- every git process runs with `githttp`'s sandbox (no hooks, fsmonitor, drivers, helpers or
  transports other than http/https; see its module docstring) within `process.run`'s limits,
  and only after checking that the repository's config and `info/attributes` are still the
  bytes this module wrote (a config changed behind its back could name any program).
Where Flux is not involved (scenario-side validation) the messages are ours.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from gitops_sim import process
from gitops_sim.model import archives
from gitops_sim.sources import githttp, gitnames
from gitops_sim.timing import clock as clocks

Fault = gitnames.Fault
FAULTS = gitnames.FAULTS

DEFAULT_AUTHOR = ("gitops-sim", "gitops-sim@users.noreply.example.com")


class GitError(Exception):
    """A git operation failed; the message is the one Flux users would recognise."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    subject: str


@dataclass(frozen=True, slots=True, order=True)
class ChangedFile:
    path: str
    status: Literal["A", "M", "D"]


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """One commit as git stores it (`Repository.commit_info`)."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    author_time: int
    """Seconds since the epoch."""
    message: str
    """The whole message, exactly as stored (no newline added or removed)."""
    files: tuple[ChangedFile, ...]
    """What changed against the first parent (everything added for a root commit), by path."""
    diff: str
    """The unified diff of those changes, every file diffed as text."""


@dataclass(frozen=True, slots=True)
class _Race:
    files: Mapping[str, str | bytes | None]
    message: str
    branch: str | None
    author: tuple[str, str]


class GitUpstream(Protocol):
    """What a GitRepository reconciler may ask of a remote (errors: `githttp.RemoteError`)."""

    def list_refs(
        self, url: str, credentials: githttp.Credentials | None = None, timeout_s: float = ...
    ) -> dict[str, str]: ...

    def checkout(
        self, url: str, sha: str, credentials: githttp.Credentials | None = None, timeout_s: float = ...
    ) -> githttp.Checkout: ...


repo_name_problem = gitnames.repo_name_problem
"""Why a name cannot name a repository of a scenario (`gitnames`, as the two below)."""

path_problem = gitnames.path_problem
"""Why a path cannot be a file of a repository (the client checks the paths of a push with it too)."""

ref_problem = gitnames.ref_problem
"""Why a name cannot be a branch or tag name (the client checks pushed branches and refspecs with
it too)."""


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
        if problem := ref_problem(branch):
            raise GitError(f"cannot create repository {path.name!r}: {problem}")
        self.path = path
        self.url = url
        self.default_branch = branch
        self._clock = clock
        self._git = git
        self.version = 0
        """Bumped by every change to the repository's refs, pushes included (the server caches
        its ref advertisement by it)."""
        self.pushed_options: tuple[str, ...] = ()
        """The push options (`key=value`) of the last push received."""
        self._races: list[_Race] = []
        self.raced: list[str] = []
        """The commits `race_next_push` arranged that have landed, oldest first."""
        self.on_race: Callable[[str, str | None], None] | None = None
        """Called with each raced commit and its branch as it lands (the scenario's trace)."""
        self.credentials: githttp.Credentials | None = None
        """When set, the HTTP server requires them."""
        self.fault: Fault | None = None
        """A fault the scenario injected: `unreachable` (connections refused), `auth` (every
        request answered 401, whatever the credentials), `hang` (requests never answered, so
        clients run into their timeout), `protected` (fetches served, every ref of every push
        refused with `protected branch hook declined`) or `read-only` (fetches served, pushes
        answered 403, as to a token that may only read)."""
        self._sealed: tuple[bytes, bytes] | None = None
        self._known: dict[str, str | None] = {}
        """What `_commit_of` found while `version` was `_known_at`."""
        self._known_at = -1
        self._infos: dict[str, CommitInfo] = {}
        self._logs: dict[tuple[str, str | None], list[str]] = {}
        """`log` by (head, since): a commit's history never changes."""
        path.mkdir(parents=True, exist_ok=True)
        self._run("init", "--quiet", f"--initial-branch={branch}")
        githttp.seal(self.git_dir)
        self._sealed = self._seal_state()
        head = (self.git_dir / "HEAD").read_text().strip()
        self._checked_out = head.removeprefix("ref: refs/heads/")
        """The branch of the work tree (HEAD), which only `commit` changes."""

    @property
    def git_dir(self) -> Path:
        return self.path / ".git"

    def _seal_state(self) -> tuple[bytes, bytes]:
        try:
            return (self.git_dir / "config").read_bytes(), (self.git_dir / "info" / "attributes").read_bytes()
        except OSError:
            return b"", b""

    def intact(self) -> bool:
        """Whether the repository's config and `info/attributes` are still what `__init__`
        wrote: a config changed behind the simulation's back could name any program."""
        return self._sealed is None or self._seal_state() == self._sealed

    def _env(self) -> dict[str, str]:
        seconds = (self._clock.epoch_ms + self._clock.now()) // 1000
        return githttp.git_env(
            GIT_AUTHOR_DATE=f"@{seconds} +0000",
            GIT_COMMITTER_DATE=f"@{seconds} +0000",
        )

    def _git_run(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
    ) -> tuple[int, bytes, bytes]:
        if not self.intact():
            raise GitError(
                f"the git config of {self.path} was changed outside gitops-sim; refusing to run git there"
            )
        try:
            proc = process.run(
                githttp.sandboxed(self._git, "-C", str(self.path), *args),
                env={**self._env(), **(env or {})},
                stdin=stdin,
            )
        except process.LimitExceeded as exc:
            raise GitError(f"git {args[0]} was stopped: {exc}") from exc
        except ValueError as exc:  # a NUL byte in an argument or the environment
            raise GitError(f"git {args[0]} cannot be run: {exc}") from exc
        return proc.returncode, proc.stdout, proc.stderr

    def _run(self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> bytes:
        code, out, err = self._git_run(*args, env=env, stdin=stdin)
        if code != 0:
            raise GitError(f"git {args[0]} failed: {err.decode(errors='replace').strip()}")
        return out

    def _commit_of(self, rev: str) -> str | None:
        """The commit `rev` (an id, a tag, a branch) names, or None.

        IMPLEMENTATION DETAIL: Problem: a scenario's `commit` expectations read the repository again
        at every instant they wait through (a `rev-parse`, a `rev-list` and four processes per
        commit each time: 1,600 of the shipped scenarios' 2,700 git processes). Solution: the refs
        change only through this class and pushes, all of which bump `version`; what was resolved
        is kept until it changes, and a commit's details and history (which never change) for good.
        """
        if self._known_at != self.version:
            self._known, self._known_at = {}, self.version
        if rev not in self._known:
            code, out, _ = self._git_run(
                "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"
            )
            self._known[rev] = out.decode().strip() or None if code == 0 else None
        return self._known[rev]

    def head(self, branch: str | None = None) -> str | None:
        """The commit a branch points at, or None for a branch with no commits (or a name that
        cannot be a branch)."""
        branch = branch or self.default_branch
        if ref_problem(branch):
            return None
        return self._commit_of(f"refs/heads/{branch}")

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
        if problem := ref_problem(branch):
            raise GitError(f"cannot commit to branch {branch!r}: {problem}")
        for rel in sorted(files):
            if problem := path_problem(rel):
                raise GitError(f"cannot commit {rel!r}: {problem}")
        if self._checked_out != branch:
            if self.head(branch) is not None:
                self._run("checkout", "--quiet", branch, "--")
            else:
                self._run("checkout", "--quiet", "-b", branch, "--")
                self.version += 1
            self._checked_out = branch
        targets = {rel: self._inside(rel) for rel in sorted(files)}
        for rel, content in sorted(files.items()):
            target = targets[rel]
            if content is None:
                if target.is_symlink() or target.is_file():
                    target.unlink()
                elif target.is_dir():
                    shutil.rmtree(target)
                continue
            if target.is_symlink():
                target.unlink()  # replaced by the file, never written through
            elif target.is_dir():
                raise GitError(f"cannot commit {rel!r}: it is a folder in the work tree")
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as out:
                out.write(content.encode() if isinstance(content, str) else content)
        self._run("add", "--all")
        name, email = author
        # `-m` ends the message with a newline; so does this, keeping the SHAs `-m` gave.
        text = message if not message or message.endswith("\n") else message + "\n"
        self._run(
            "commit",
            "--quiet",
            "--allow-empty",
            "--no-verify",
            "--cleanup=verbatim",
            "--file=-",
            stdin=text.encode(),
            env={
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email,
            },
        )
        self.version += 1
        sha = self.head(branch)
        assert sha is not None
        return sha

    def race_next_push(
        self,
        files: Mapping[str, str | bytes | None],
        message: str,
        *,
        branch: str | None = None,
        author: tuple[str, str] = DEFAULT_AUTHOR,
    ) -> None:
        """Arrange a commit (as `commit` makes it) that lands on `branch` as the next push to this
        repository begins, before the server answers its ref advertisement: someone else's commit
        between a client's checkout and its push. Checked now, so a mistake fails here."""
        if problem := ref_problem(branch or self.default_branch):
            raise GitError(f"cannot commit to branch {branch!r}: {problem}")
        for rel in sorted(files):
            if problem := path_problem(rel):
                raise GitError(f"cannot commit {rel!r}: {problem}")
        self._races.append(_Race(dict(files), message, branch, author))

    def before_push(self) -> None:
        """The server's hook as a push begins: the commits `race_next_push` arranged land."""
        races, self._races = self._races, []
        for race in races:
            sha = self.commit(race.files, race.message, branch=race.branch, author=race.author)
            self.raced.append(sha)
            if self.on_race is not None:
                self.on_race(sha, race.branch)

    def after_push(self, options: tuple[str, ...]) -> None:
        """The server's hook after receive-pack ran: the refs may have changed."""
        self.version += 1
        self.pushed_options = options

    def commit_info(self, sha: str) -> CommitInfo:
        """The commit `sha` (any name of a commit) as stored, with its changes against its first
        parent (a root commit: against nothing)."""
        commit = self._commit_of(sha)
        if commit is None:
            raise GitError(f"{sha!r} is not a commit of this repository")
        if commit not in self._infos:
            self._infos[commit] = self._read_commit(commit)
        return self._infos[commit]

    def _read_commit(self, commit: str) -> CommitInfo:
        raw = self._run("cat-file", "commit", commit)
        head, _, message = raw.partition(b"\n\n")
        fields: dict[str, list[str]] = {}
        for line in head.decode(errors="replace").split("\n"):
            key, _, value = line.partition(" ")
            fields.setdefault(key, []).append(value)
        parents = tuple(fields.get("parent", []))
        author = _ident(fields.get("author", [""])[0])
        committer = _ident(fields.get("committer", [""])[0])
        plain = ("--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", "-r", "--no-commit-id")
        flags, revs = (plain, (parents[0], commit)) if parents else ((*plain, "--root"), (commit,))
        listing = self._run("diff-tree", *flags, "-z", "--name-status", "--end-of-options", *revs)
        # every file as text: the sandbox's attributes (`-diff`) would call every file binary
        diff = self._run("diff-tree", *flags, "-p", "--text", "--end-of-options", *revs)
        items = listing.split(b"\0")
        statuses: dict[str, Literal["A", "M", "D"]] = {"A": "A", "D": "D"}
        files = sorted(
            ChangedFile(items[i + 1].decode(errors="replace"), statuses.get(items[i].decode(), "M"))
            for i in range(0, len(items) - 1, 2)
        )
        return CommitInfo(
            sha=commit,
            parents=parents,
            author_name=author[0],
            author_email=author[1],
            committer_name=committer[0],
            committer_email=committer[1],
            author_time=author[2],
            message=message.decode(errors="replace"),
            files=tuple(files),
            diff=diff.decode(errors="replace"),
        )

    def log(self, branch: str, since: str | None = None) -> list[str]:
        """The commits of `branch`, newest first, down to `since` (not included: the commits
        reachable from it are left out too); empty for a branch with no commits."""
        head = self.head(branch)
        if head is None:
            return []
        stop: list[str] = []
        base = None
        if since is not None:
            base = self._commit_of(since)
            if base is None:
                raise GitError(f"{since!r} is not a commit of this repository")
            stop = [f"^{base}"]
        if (head, base) not in self._logs:
            out = self._run("rev-list", "--topo-order", "--end-of-options", head, *stop, "--")
            self._logs[head, base] = out.decode().split()
        return list(self._logs[head, base])

    def _inside(self, rel: str) -> Path:
        """Where `rel` is in the work tree, refused when a folder on the way is a symbolic link
        or a file (the write would land elsewhere, or fail)."""
        parts = rel.split("/")
        folder = self.path
        for depth, part in enumerate(parts[:-1], start=1):
            folder = folder / part
            if folder.is_symlink():
                raise GitError(
                    f"cannot commit {rel!r}: {'/'.join(parts[:depth])!r} is a symbolic link; "
                    "files are written only inside the work tree"
                )
            if folder.exists() and not folder.is_dir():
                raise GitError(f"cannot commit {rel!r}: {'/'.join(parts[:depth])!r} is a file")
        return folder / parts[-1]

    def tag(self, name: str, *, sha: str | None = None, message: str | None = None) -> str:
        """Tag `sha` (a commit, tag or branch; default: the default branch's head); with a message
        the tag is annotated. Moving an existing tag is allowed (as `git tag -f`). Returns the
        tagged commit."""
        if problem := ref_problem(name):
            raise GitError(f"cannot tag {name!r}: {problem}")
        target = sha or self.head()
        if target is None:
            raise GitError(f"cannot tag {name!r}: the repository has no commits")
        commit = self._commit_of(target)
        if commit is None:
            raise GitError(f"cannot tag {name!r}: {target!r} is not a commit of this repository")
        annotate = ["--annotate", "--file=-"] if message else []
        self._run(
            "tag",
            "--force",
            *annotate,
            "--end-of-options",
            name,
            commit,
            stdin=message.encode() if message else None,
            env={"GIT_COMMITTER_NAME": DEFAULT_AUTHOR[0], "GIT_COMMITTER_EMAIL": DEFAULT_AUTHOR[1]},
        )
        self.version += 1
        return commit

    def import_bundle(self, bundle: Path, shallow: Sequence[str] = ()) -> dict[str, str]:
        """Load a git bundle (an offline mirror's) into this repository: its objects, and its
        refs as they are (branches, tags and `refs/gitops-sim/*`, nothing else); `shallow` lists
        the commits whose parents the bundle leaves out (a `--depth=1` fetch's). The commit ids
        are the upstream's. Returns the refs loaded, by name."""
        if not all(githttp.is_hash(sha) for sha in shallow):
            raise GitError("cannot load a bundle: its shallow commits are not object ids")
        if shallow:
            (self.git_dir / "shallow").write_text("".join(f"{sha}\n" for sha in sorted(set(shallow))))
        listed = self._run("bundle", "unbundle", str(bundle.resolve())).decode(errors="replace")
        loaded: dict[str, str] = {}
        for line in listed.splitlines():
            sha, _, name = line.partition(" ")
            kind, _, short = name.removeprefix("refs/").partition("/")
            if not githttp.is_hash(sha) or kind not in ("heads", "tags", "gitops-sim") or ref_problem(short):
                raise GitError(f"cannot load a bundle: it holds {line!r}, not a branch or tag")
            loaded[name] = sha
        for name, sha in loaded.items():
            self._run("update-ref", "--no-deref", name, sha)
        self.version += 1
        return loaded

    def subject(self, rev: str) -> str:
        out = self._run("log", "-1", "--format=%s", "--no-show-signature", "--end-of-options", rev, "--")
        return out.decode().rstrip("\n")

    def files_at(self, rev: str) -> dict[str, bytes]:
        return archives.unpack(self._run("archive", "--format=tar", "--end-of-options", rev))

    def changed_files(self, rev: str) -> list[str]:
        out = self._run(
            *("show", "--pretty=format:", "--name-only", "--no-renames", "--no-ext-diff", "--no-textconv"),
            *("--end-of-options", rev, "--"),
        ).decode()
        return sorted(line for line in out.splitlines() if line)


def _ident(value: str) -> tuple[str, str, int]:
    """`Name <email> 1700000000 +0000` → (name, email, seconds)."""
    name, _, rest = value.partition("<")
    email, _, when = rest.partition(">")
    seconds = when.split()
    return name.removesuffix(" "), email, int(seconds[0]) if seconds and seconds[0].isdigit() else 0


def _is_loopback(url: str) -> bool:
    """An http(s) URL on this machine (file://localhost and ssh://127.0.0.1 are not fetched)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")


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
        """A new repository in folder `name` of the root, hosted at `url`. Refuses a name that is
        not one plain folder name, a branch name git would misread, and a folder that resolves
        outside the root (a symbolic link planted in it)."""
        if problem := repo_name_problem(name) or ref_problem(branch):
            raise GitError(f"cannot create repository {name!r}: {problem}")
        key = host_path(url)
        if key in self._repos:
            raise GitError(f"a repository with URL {url} already exists")
        root = self._root.resolve()
        folder = (self._root / name).resolve()
        if folder.parent != root:
            raise GitError(
                f"cannot create repository {name!r}: its folder resolves to {folder}, "
                f"outside the repositories' root {root}"
            )
        repo = Repository(folder, url, branch, self._clock, self.git)
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
        base = self._server().unreachable_url if repo.fault == "unreachable" else self.base_url()
        return f"{base}/{host_path(url)}.git"

    def base_url(self) -> str:
        """The git HTTP server's base URL on 127.0.0.1: repository `URL` answers at
        `<base>/<host>/<path>.git` (what another process, the flux CLI, is told)."""
        return self._server().base_url

    def _server(self) -> githttp.GitHttpServer:
        if self._http is None:
            self._http = githttp.GitHttpServer(self.git, self._repos.get)
        return self._http

    def client(self, cache: Path) -> githttp.GitHttpClient:
        """A client that reaches these repositories (and any other git HTTP server)."""
        return githttp.GitHttpClient(self.git, cache, self.endpoint)

    def close(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
