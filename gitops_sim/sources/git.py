"""Real git repositories for a simulation, addressed by the URLs that manifests use.

A scenario declares repositories by URL (``https://github.com/acme/fleet``); `GitServer` keeps a
real git repository for each, on local disk (a bare repository in the folder's `.git`: there is
no work tree), and answers the questions source-controller asks of a remote: which commit a
branch or tag points at, and the tree at a commit. Scenario steps commit to them with author and
committer dates taken from the clock, so the same scenario always produces the same commit SHAs.

They are served over git's smart HTTP protocol by `sources.githttp` (started on first use, on
127.0.0.1), and source-controller reaches them only that way: `endpoint(url)` says where a URL
that a manifest names is really fetched from, as git's `url.<base>.insteadOf` would. A repository
may require credentials, and may be made unreachable (a fault) and reachable again, `protected`
(fetches work, every push is refused) or `read-only` (pushes answered 403). A scenario may also
arrange a race: a commit (a human's) that lands just as the next push begins (`race_next_push`),
so the push finds its branch moved on. What landed is read back with `commit_info` and `log`.

IMPLEMENTATION DETAIL: git in this process
    Problem: commits, tags and the reads behind `commit` expectations ran git (`add`, `commit`,
    `rev-parse`, `show`, `cat-file`, `diff-tree`, `rev-list`, `init`: 400 processes of the
    shipped scenarios' 1,100, each 1-3 ms and a timer thread).
    Solution: `sources.gitobjects` reads and writes the repository's objects and refs here. A
    commit is its parent's files (`flatten`) with the scenario's changes applied as they were
    written into a work tree before (`_changed`), the trees git's index would write (`build`),
    and the commit object `git commit --cleanup=verbatim` writes (the ident cleaned up as git
    cleans it, the message ending in a newline as `-m` ended it); the same ids as before, byte
    for byte (tests/sources/test_gitobjects.py compares them with git's). A commit to a branch
    that does not exist yet starts from HEAD's branch, and moves HEAD, as `git checkout -b` did.
    Differences from the work tree it replaced: a `.gitattributes` or `.gitignore` the scenario
    committed changes nothing (the files are committed as written, as go-git and a forge's API
    commit them; `git add` would have normalised line endings, collapsed `$Id$` and skipped
    ignored files), and a commit that fails leaves nothing behind.
    What git still does, each for a reason: `git diff-tree -p` for `CommitInfo.diff` (git's own
    hunks, which a `diff:` expectation matches; computed only when read); `git rev-parse` for a
    name that is not a full id or a ref (`main~1`, an abbreviated id); `git rev-list` for the
    log of a history with merges and `git show` for a merge's files (git's orders and combined
    diff); `git bundle unbundle` for an offline mirror's bundles (index-pack's checks on a pack
    from elsewhere). The server's upload-pack and receive-pack stay git's (`sources.githttp`).

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
- branch and tag names pass `ref_problem` before use (git reads a leading '-' as an option)
  and before they name a ref file; commit targets git resolves are passed after
  `--end-of-options`, and no message or file content is ever on a command line;
- `Repository.commit` refuses paths `path_problem` refuses (nothing reaches `.git`), and paths
  git's index refuses (`gitpack.index_accepts`: `.git` as NTFS or HFS+ reads it); a symbolic
  link a developer's push put on the way of a path is refused, a link at the path itself is
  replaced by the file (as when the commit was written into a work tree);
- refs are written through a lock file (O_EXCL|O_NOFOLLOW) renamed over the ref, objects through
  a temporary file renamed into place, only inside the repository's own folders;
- every git process runs with `githttp`'s sandbox (no hooks, fsmonitor, drivers, helpers or
  transports other than http/https; see its module docstring) within `process.run`'s limits,
  and a commit, a tag or a git process happens only after checking that the repository's
  config and `info/attributes` are still the bytes this module wrote (a config changed behind
  its back could name any program).
Where Flux is not involved (scenario-side validation) the messages are ours.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

from gitops_sim import process
from gitops_sim.model import archives
from gitops_sim.sources import githttp, gitnames, gitobjects, gitpack
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
    diff_of: Callable[[str, tuple[str, ...]], str] = field(repr=False, compare=False)
    """Computes `diff` (git's, when first read: only a `diff` expectation reads it)."""

    @property
    def diff(self) -> str:
        """The unified diff of those changes, every file diffed as text."""
        return self.diff_of(self.sha, self.parents)


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
    """One real git repository (bare: no work tree), created and written by the simulation."""

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
        self._diffs: dict[str, str] = {}
        self._logs: dict[tuple[str, str | None], list[str]] = {}
        """`log` by (head, since): a commit's history never changes."""
        path.mkdir(parents=True, exist_ok=True)
        gitobjects.init(self.git_dir, branch)
        githttp.seal(self.git_dir)
        self._sealed = self._seal_state()
        self._objects = gitobjects.Store(self.git_dir)
        head = (self.git_dir / "HEAD").read_text().strip()
        self._checked_out = head.removeprefix("ref: refs/heads/")
        """The branch HEAD names, which only `commit` changes (as `git checkout` did when the
        repository had a work tree): a new branch starts from its head."""

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

    def _check_intact(self) -> None:
        if not self.intact():
            raise GitError(
                f"the git config of {self.path} was changed outside gitops-sim; refusing to run git there"
            )

    def _seconds(self) -> int:
        return (self._clock.epoch_ms + self._clock.now()) // 1000

    def _git_run(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: bytes | None = None
    ) -> tuple[int, bytes, bytes]:
        self._check_intact()
        seconds = self._seconds()
        dates = {"GIT_AUTHOR_DATE": f"@{seconds} +0000", "GIT_COMMITTER_DATE": f"@{seconds} +0000"}
        try:
            proc = process.run(
                githttp.sandboxed(self._git, f"--git-dir={self.git_dir}", *args),
                env=githttp.git_env(**dates, **(env or {})),
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
        at every instant they wait through. Solution: the refs change only through this class and
        pushes, all of which bump `version`; what was resolved is kept until it changes, and a
        commit's details and history (which never change) for good. A full id or a ref name is
        resolved here as `git rev-parse` would (`gitobjects.resolve`); anything else git reads
        (`main~1`, an abbreviated id, `v1^{}`) is left to `git rev-parse --verify`.
        """
        if self._known_at != self.version:
            self._known, self._known_at = {}, self.version
        if rev not in self._known:
            self._known[rev] = self._resolve(rev)
        return self._known[rev]

    def _resolve(self, rev: str) -> str | None:
        if githttp.is_hash(rev) and len(rev) == 40:
            return gitobjects.peel(self._objects, rev)
        if ref_problem(rev) is None:
            found = gitobjects.resolve(self.git_dir, rev)
            if found is not None:
                return gitobjects.peel(self._objects, found)
            if not _OTHER_NAMES.search(rev):
                return None  # no ref, and nothing else git would read it as
        code, out, _ = self._git_run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}"
        )
        return out.decode().strip() or None if code == 0 else None

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
        """Write `files` (None deletes a file, or a folder with everything under it) on `branch`
        and commit; returns the new SHA. A branch that does not exist yet starts from the head
        of the branch committed to last (HEAD's)."""
        branch = branch or self.default_branch
        if problem := ref_problem(branch):
            raise GitError(f"cannot commit to branch {branch!r}: {problem}")
        for rel in sorted(files):
            if problem := path_problem(rel):
                raise GitError(f"cannot commit {rel!r}: {problem}")
        self._check_intact()
        parent = self.head(branch) if self.head(branch) is not None else self.head(self._checked_out)
        # `-m` ended the message with a newline; so does this, keeping the SHAs `-m` gave.
        text = (message if not message or message.endswith("\n") else message + "\n").encode()
        if not text:
            raise GitError("git commit failed: Aborting commit due to empty commit message.")
        if b"\0" in text:
            raise GitError("git commit failed: error: a NUL byte in commit log message not allowed.")
        try:
            stamp = gitobjects.ident(*author, self._seconds())
        except ValueError as exc:  # git's words for an ident it refuses
            raise GitError(f"git commit failed: fatal: {exc}") from exc
        try:
            tree = gitobjects.tree_of(self._objects, parent) if parent else None
            listing = self._changed(gitobjects.flatten(self._objects, tree) if tree else {}, files)
            tree = gitobjects.build(listing, self._objects.put)
        except gitobjects.ObjectError as exc:
            raise GitError(f"cannot commit: {exc}") from exc
        content = gitobjects.commit_object(tree, [parent] if parent else [], stamp, stamp, text)
        sha = self._objects.put(gitobjects.COMMIT, content)
        self._write_ref(f"refs/heads/{branch}", sha, f"cannot commit to branch {branch!r}")
        if self._checked_out != branch:
            self._write_ref("HEAD", f"ref: refs/heads/{branch}", f"cannot commit to branch {branch!r}")
            self._checked_out = branch
        self.version += 1
        return sha

    def _changed(
        self, listing: gitobjects.Listing, files: Mapping[str, str | bytes | None]
    ) -> gitobjects.Listing:
        """`listing` with `files` written and deleted, in path order, as they were written into
        a work tree: a folder on the way that is a symbolic link or a file is refused before
        anything is written, a file where a folder is too; a link at the path itself is replaced
        by the file, and a file keeps its executable bit."""
        entries = dict(listing)
        for rel in sorted(files):
            parts = rel.encode().split(b"/")
            for depth in range(1, len(parts)):
                entry = entries.get(b"/".join(parts[:depth]))
                if entry is None:
                    continue
                on_the_way = "/".join(rel.split("/")[:depth])
                if entry[0] == gitobjects.LINK:
                    raise GitError(
                        f"cannot commit {rel!r}: {on_the_way!r} is a symbolic link; "
                        "files are written only inside the work tree"
                    )
                raise GitError(f"cannot commit {rel!r}: {on_the_way!r} is a file")
        for rel, content in sorted(files.items()):
            path = rel.encode()
            under = [p for p in entries if p.startswith(path + b"/")]
            if content is None:
                for gone in [path, *under]:
                    entries.pop(gone, None)
                continue
            entry = entries.get(path)
            if under or (entry is not None and entry[0] == gitobjects.SUBMODULE):
                raise GitError(f"cannot commit {rel!r}: it is a folder in the work tree")
            parts = path.split(b"/")
            for depth in range(1, len(parts)):
                if b"/".join(parts[:depth]) in entries:  # a file this commit wrote just before
                    raise GitError(f"cannot commit {rel!r}: {'/'.join(rel.split('/')[:depth])!r} is a file")
            if not gitpack.index_accepts(path, gitobjects.FILE):
                raise GitError(f"cannot commit {rel!r}: git refuses the path (error: invalid path '{rel}')")
            mode = (
                entry[0]
                if entry is not None and entry[0] in (gitobjects.FILE, gitobjects.EXECUTABLE)
                else gitobjects.FILE
            )
            data = content.encode() if isinstance(content, str) else content
            entries[path] = (mode, self._objects.put(gitobjects.BLOB, data))
        return entries

    def _write_ref(self, name: str, value: str, what: str) -> None:
        try:
            gitobjects.write_ref(self.git_dir, name, value)
        except (gitobjects.ObjectError, OSError) as exc:
            raise GitError(f"{what}: {exc}") from exc

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
            try:
                self._infos[commit] = self._read_commit(commit)
            except gitobjects.ObjectError as exc:
                raise GitError(f"cannot read commit {commit}: {exc}") from exc
        return self._infos[commit]

    def _read_commit(self, commit: str) -> CommitInfo:
        raw = gitobjects.read(self._objects, commit, gitobjects.COMMIT)
        head, _, message = raw.partition(b"\n\n")
        fields: dict[str, list[str]] = {}
        for line in head.decode(errors="replace").split("\n"):
            key, _, value = line.partition(" ")
            fields.setdefault(key, []).append(value)
        parents = tuple(fields.get("parent", []))
        author = _ident(fields.get("author", [""])[0])
        committer = _ident(fields.get("committer", [""])[0])
        before = gitobjects.tree_of(self._objects, parents[0]) if parents else None
        changed = gitobjects.changes(self._objects, before, gitobjects.tree_of(self._objects, commit))
        statuses: dict[str, Literal["A", "M", "D"]] = {"A": "A", "D": "D"}
        files = sorted(
            ChangedFile(path.decode(errors="replace"), statuses.get(status, "M")) for status, path in changed
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
            diff_of=self._diff,
        )

    def _diff(self, commit: str, parents: tuple[str, ...]) -> str:
        """The unified diff of `commit` against its first parent, as `git diff-tree -p` prints
        it (git's own diff: its hunks are what users read), computed once, when first asked."""
        if commit not in self._diffs:
            plain = ("--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", "-r", "--no-commit-id")
            flags, revs = (plain, (parents[0], commit)) if parents else ((*plain, "--root"), (commit,))
            # every file as text: the sandbox's attributes (`-diff`) would call every file binary
            diff = self._run("diff-tree", *flags, "-p", "--text", "--end-of-options", *revs)
            self._diffs[commit] = diff.decode(errors="replace")
        return self._diffs[commit]

    def log(self, branch: str, since: str | None = None) -> list[str]:
        """The commits of `branch`, newest first, down to `since` (not included: the commits
        reachable from it are left out too); empty for a branch with no commits. A history
        without merges is walked here; one with merges by `git rev-list --topo-order` (git's
        order between branches)."""
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
            shallow = gitobjects.shallow_commits(self.git_dir)
            walked = gitobjects.linear_history(self._objects, head, base, shallow)
            if walked is None:
                out = self._run("rev-list", "--topo-order", "--end-of-options", head, *stop, "--")
                walked = out.decode().split()
            self._logs[head, base] = walked
        return list(self._logs[head, base])

    def tag(self, name: str, *, sha: str | None = None, message: str | None = None) -> str:
        """Tag `sha` (a commit, tag or branch; default: the default branch's head); with a message
        the tag is annotated (the message cleaned up as `git tag -a` does, the tagger gitops-sim
        at the clock's time). Moving an existing tag is allowed (as `git tag -f`). Returns the
        tagged commit."""
        if problem := ref_problem(name):
            raise GitError(f"cannot tag {name!r}: {problem}")
        target = sha or self.head()
        if target is None:
            raise GitError(f"cannot tag {name!r}: the repository has no commits")
        commit = self._commit_of(target)
        if commit is None:
            raise GitError(f"cannot tag {name!r}: {target!r} is not a commit of this repository")
        self._check_intact()
        value = commit
        if message:
            tagger = gitobjects.ident(*DEFAULT_AUTHOR, self._seconds())
            text = gitobjects.stripspace(message.encode())
            content = gitobjects.tag_object(commit, gitobjects.COMMIT, name, tagger, text)
            value = self._objects.put(gitobjects.TAG, content)
        self._write_ref(f"refs/tags/{name}", value, f"cannot tag {name!r}")
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
            if not self._objects.has(sha):
                raise GitError(f"cannot load a bundle: it does not hold {sha}, which {name} names")
            self._write_ref(name, sha, "cannot load a bundle")
        self.version += 1
        return loaded

    def subject(self, rev: str) -> str:
        """The subject of commit `rev`, as `git log --format=%s` prints it."""
        commit = self._commit_of(rev)
        if commit is None:
            raise GitError(f"{rev!r} is not a commit of this repository")
        return gitpack.subject(gitobjects.read(self._objects, commit, gitobjects.COMMIT))

    def files_at(self, rev: str) -> dict[str, bytes]:
        """The regular files of commit `rev` by path, as `git archive` writes them."""
        commit = self._commit_of(rev)
        if commit is None:
            raise GitError(f"{rev!r} is not a commit of this repository")
        try:
            return gitpack.tree_files(self._objects, gitobjects.tree_of(self._objects, commit))
        except (gitpack.PackError, gitobjects.ObjectError, archives.ArchiveError) as exc:
            raise GitError(f"cannot read {rev!r}: {exc}") from exc

    def changed_files(self, rev: str) -> list[str]:
        """The paths commit `rev` changed against its parent (everything for a root or shallow
        commit), sorted, as `git show --name-only` lists them (quoted as git quotes them); a
        merge's by git itself (its combined diff)."""
        commit = self._commit_of(rev)
        if commit is None:
            raise GitError(f"{rev!r} is not a commit of this repository")
        shallow = gitobjects.shallow_commits(self.git_dir)
        try:
            content = gitobjects.read(self._objects, commit, gitobjects.COMMIT)
            parents = () if commit in shallow else gitobjects.parents(content)
            if len(parents) <= 1:
                before = gitobjects.tree_of(self._objects, parents[0]) if parents else None
                changed = gitobjects.changes(self._objects, before, gitobjects.tree_of(self._objects, commit))
                return sorted(gitobjects.quote_path(path) for _, path in changed)
        except gitobjects.ObjectError as exc:
            raise GitError(f"cannot read commit {commit}: {exc}") from exc
        out = self._run(
            *("show", "--pretty=format:", "--name-only", "--no-renames", "--no-ext-diff", "--no-textconv"),
            *("--end-of-options", commit, "--"),
        ).decode()
        return sorted(line for line in out.splitlines() if line)


_OTHER_NAMES = re.compile(r"^[0-9a-fA-F]{4,40}$|-g[0-9a-fA-F]{4,}$")
"""Names git reads as something other than a ref when no ref has them: an abbreviated (or an
upper-case) object id, `git describe`'s output."""


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

    def client(self) -> githttp.GitHttpClient:
        """A client that reaches these repositories (and any other git HTTP server)."""
        return githttp.GitHttpClient(self.endpoint)

    def close(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
