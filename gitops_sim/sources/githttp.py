"""Git over smart HTTP, both ends: the server that hosts a simulation's repositories, and the
client that source-controller's reconciler uses to reach any git HTTP server.

Server (`GitHttpServer`): a threaded HTTP server on 127.0.0.1 speaking git's smart HTTP protocol
(version 0) for fetches: `GET <repo>.git/info/refs?service=git-upload-pack` answers the ref
advertisement, produced by `git upload-pack --advertise-refs` and kept until the repository
changes; `POST <repo>.git/git-upload-pack` runs `git upload-pack --stateless-rpc` on the request.
Pushes are served the same way by `git receive-pack` (push options accepted:
`receive.advertisePushOptions`). Around a push the server calls the repository's hooks: before
answering the receive-pack advertisement, the start of every push (`Hosted.before_push`: a commit
a scenario arranged lands there, see `sources.git.Repository.race_next_push`), and after
receive-pack ran (`Hosted.after_push`, with the push options the client sent). A repository with
the `protected` fault refuses every ref of every push with report-status `ng <ref> protected
branch hook declined`, built here without running receive-pack (in side-band when the client
asked for it, as the git CLI does), and still serves fetches.
Each repository may require HTTP basic auth or a bearer token (401 otherwise). A repository
addressed by `https://github.com/acme/fleet` is served at `/github.com/acme/fleet.git`.

Client (`GitHttpClient`): lists a remote's refs in Python over a kept-alive connection (one
request: what a no-change reconcile costs). A checkout (what source-controller clones) is in
Python too, and starts no process: go-git's shallow clone of one commit on the wire (the
upload-pack advertisement, then one POST: `want <commit>` with go-git's capabilities,
`deepen 1`, `done`), the pack read and the tree laid out as `git archive` would in memory
(`sources.gitpack`); the last checkout of each URL is kept, so asking for it again costs
nothing. What an image automation reads and writes (`files_containing`, `commit`, `push_commit`)
is a shallow clone of the commit fetched the same way (the last checkout's objects when it was
that commit), kept in memory (`sources.gitobjects.Memory`): the client runs no git process and
writes nothing to disk. URLs the simulation hosts are sent to
the local server, as git's `url.<base>.insteadOf` would; a URL on 127.0.0.1 or localhost is used
as written (a git HTTP server a test or a user started); any other is `repository not found`,
without a network request.

The client also commits and pushes, for image-automation-controller (`push_commit`): it writes a
commit on a fetched parent in its clone (the parent's files with the changes applied, the trees
git's index would write for them, and the commit object as go-git encodes it: `sources.gitobjects`;
the same ids `hash-object`, `update-index` and `write-tree` gave before), then pushes it the way
go-git's `Remote.PushContext` does: the receive-pack ref advertisement, go-git's client-side
checks (fast-forward, nothing to update), one POST with the commands, the push options and a pack
of the objects the remote lacks (those `git pack-objects --revs` picks, each whole: no deltas),
and the report-status read back.
Behaviour learned from fluxcd/pkg `git/gogit/client.go` (Commit, Push), image-automation-controller
`internal/source/source.go` (CommitAndPush) and go-git's `remote.go` and
`plumbing/protocol/packp/report_status.go`; our own code. Deliberate differences from go-git:
- a refspec with a wildcard is refused (go-git would match the local branches of its clone; ours
  has none but the pushed branch);
- a refspec source matches the pushed branch's full name (`refs/heads/<branch>`) or the new
  commit's id, as in go-git's clone after SwitchBranch; any other source (`HEAD`, a short name,
  the checkout branch) matches nothing, as go-git skips HEAD (a symbolic ref) and short names,
  and a push that updates nothing fails with go-git's `already up-to-date`;
- a remote ref whose old commit is missing from the shallow clone is a non-fast-forward update
  (go-git v5 walks the shallow history and fails with `object not found` there);
- side-band is never requested (go-git asks for it only when given a progress writer, which
  fluxcd/pkg never passes).

Errors carry the words go-git and fluxcd/pkg use (`authentication required`, `repository not
found`, `couldn't find remote ref "refs/heads/x"`, `dial tcp …: connect: connection refused`,
`unexpected error: <message>` for an error the server sends in band 3 of a fetch;
for a push, fluxcd/pkg's `failed to push to remote: ` before go-git's `non-fast-forward update:
refs/heads/x`, `command error on refs/heads/x: <reason>`, `already up-to-date`).
Simulated on purpose: an unreachable host is a closed port on 127.0.0.1, reported with the URL's
own host and port.

Callers: `sources.git.GitServer` (hosting), the GitRepository controller (through
`sources.git.GitUpstream`), the ImageUpdateAutomation controller (`push_commit`), `flux
bootstrap` (`commit`, `push`). Never reads the simulation's clock (a checkout's timeout is wall
time, on a `WallClock` of its own, as a git process's is); the server never runs git outside
`sandboxed` argv and `git_env()`, and never passes a value that came from a user or a remote
where git could read it as an option; the client runs no git at all, so a credential is never
on a command line, in an environment or in a file (it goes in the Authorization header only).

IMPLEMENTATION DETAIL: the git sandbox
    Problem: git runs programs named by its configuration (hooks, `core.fsmonitor`, filter,
    diff and merge drivers, `core.sshCommand`, `core.askPass`, credential helpers, pagers,
    editors, `ext::` transports, `uploadpack.packObjectsHook`...), and the repositories it
    works in hold content that scenarios, developers' pushes and remote servers chose.
    Solution, for every git process (`sources.git`'s and the server's upload/receive-pack; the
    client runs none):
    - no system, global or XDG config and no system attributes (`git_env`); the only config
      files git reads are the repositories' own, which gitops-sim wrote and `sources.git`
      checks before every call (scenario commits cannot reach `.git`);
    - `SANDBOX_CONFIG` as `-c` (command-line config wins over every file): hooks from
      /dev/null, no fsmonitor, no askpass or credential helpers, `cat` as pager and `:` as
      editor (both are git's own "do nothing"), no signing, no submodule recursion, no proxy
      or redirects, fsck of every object pushed to us (`.git` in a tree is refused; fetched
      objects are not checked, as go-git does not check them), and only the http and https
      transports (`GIT_ALLOW_PROTOCOL` too), so ssh, file and `ext::` URLs and their commands
      are never reached;
    - `SANDBOX_ATTRIBUTES` in each repository's `info/attributes`, which outranks every
      `.gitattributes`: no filter, diff or merge driver ever runs, and `git archive` applies
      no export-subst or export-ignore (go-git, which Flux clones with, knows neither);
    - `GIT_NO_REPLACE_OBJECTS`: a pushed `refs/replace/*` cannot change what a commit holds.
    Not overridden, because git honours them only where we control the source:
    `uploadpack.packObjectsHook` (protected configuration only: system, global, command line;
    git-config(1) SCOPES) and `core.alternateRefsCommand` (run only for alternates, which our
    repositories never have); `diff.external` is defeated by `--no-ext-diff`; the tools of
    commands we never run (difftool, mergetool, sendemail, browsers) are not listed.
    Every run-to-completion git goes through `process.run` (wall-time and memory limits).
"""

from __future__ import annotations

import base64
import gzip
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from gitops_sim import process
from gitops_sim.model import archives
from gitops_sim.sources import gitnames, gitobjects, gitpack, loopback
from gitops_sim.timing import clock as clocks

DEFAULT_TIMEOUT_S = 60.0
DEADLINE = "context deadline exceeded"
UPLOAD_PACK = "git-upload-pack"
RECEIVE_PACK = "git-receive-pack"
MAX_BODY = 64 * 1024 * 1024
MAX_FETCH = 512 * 1024 * 1024
"""The largest answer to a checkout's fetch read (a pack); its objects may inflate to twice that."""
AGENT = "git/2.39-gitops-sim"

GIT_ENV: dict[str, str] = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_ATTR_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ALLOW_PROTOCOL": "http:https",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_PAGER": "cat",
    "GIT_EDITOR": ":",
    "HOME": "/nonexistent",
    "XDG_CONFIG_HOME": "/nonexistent",
    "LC_ALL": "C",
}
"""The whole environment of a git process (plus a few GIT_* values of the caller's own)."""

SANDBOX_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.askPass", ""),
    ("core.pager", "cat"),
    ("core.editor", ":"),
    ("sequence.editor", ":"),
    ("core.attributesFile", "/dev/null"),
    ("core.excludesFile", "/dev/null"),
    ("core.protectNTFS", "true"),
    ("core.protectHFS", "true"),
    ("credential.helper", ""),
    ("protocol.allow", "never"),
    ("protocol.http.allow", "always"),
    ("protocol.https.allow", "always"),
    ("http.proxy", ""),
    ("http.followRedirects", "false"),
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("receive.fsckObjects", "true"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("tag.forceSignAnnotated", "false"),
    ("log.showSignature", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
"""Configuration that would run programs, overridden for every git process (see above)."""

SANDBOX_ATTRIBUTES = b"* -filter -diff -merge -export-subst -export-ignore\n"
"""Each repository's `info/attributes`: no driver from a `.gitattributes` ever runs."""

_HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
ZERO_ID = "0" * 40


def is_hash(value: str) -> bool:
    """Whether `value` is a full SHA-1 or SHA-256 object id in git's lower-case hex."""
    return _HASH.fullmatch(value) is not None


def sandboxed(git: str, *args: str) -> list[str]:
    """The argv of `git args...` with every setting of `SANDBOX_CONFIG` overridden."""
    argv = [git]
    for key, value in SANDBOX_CONFIG:
        argv += ["-c", f"{key}={value}"]
    return [*argv, *args]


def git_env(**extra: str) -> dict[str, str]:
    return {**GIT_ENV, **extra}


def seal(git_dir: Path) -> None:
    """Write `SANDBOX_ATTRIBUTES` into a repository's `info/attributes`."""
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_bytes(SANDBOX_ATTRIBUTES)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a GitRepository's secretRef holds for HTTPS: basic auth, or a bearer token."""

    username: str = ""
    password: str = ""
    bearer_token: str = ""

    @classmethod
    def from_secret(cls, data: Mapping[str, str]) -> Credentials:
        """The credentials a Secret's data holds under Flux's keys: `username`, `password`
        and `bearerToken` (absent keys are empty)."""
        return cls(data.get("username", ""), data.get("password", ""), data.get("bearerToken", ""))

    def header(self) -> str | None:
        """The Authorization header's value. Raises `RemoteError` when it holds a control
        character, as Go's net/http refuses it (a line break would smuggle in a header)."""
        value = self._value()
        if value is not None and any((c < " " and c != "\t") or c == "\x7f" for c in value):
            raise RemoteError('net/http: invalid header field value for "Authorization"')
        return value

    def _value(self) -> str | None:
        if self.bearer_token:
            return f"Bearer {self.bearer_token}"
        if self.username or self.password:
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode()
        return None


class RemoteError(Exception):
    """A remote operation failed; `message` is the error text go-git would give.
    `non_fast_forward`: a push was refused because the remote branch moved on (the automation
    retries those)."""

    def __init__(self, message: str, *, not_found: bool = False, non_fast_forward: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_found = not_found
        self.non_fast_forward = non_fast_forward


path_problem = gitnames.path_problem
"""Why a path cannot be a file of a repository (`gitnames`: the scenario language checks with it too)."""

ref_problem = gitnames.ref_problem
"""Why a name cannot be a branch or tag name (`gitnames`)."""


class Hosted(Protocol):
    """A repository the server hosts (sources.git.Repository)."""

    @property
    def git_dir(self) -> Path: ...

    @property
    def version(self) -> int: ...

    @property
    def credentials(self) -> Credentials | None: ...

    @property
    def fault(self) -> str | None: ...

    def intact(self) -> bool:
        """Whether its git config is still the one gitops-sim wrote."""
        ...

    def before_push(self) -> None:
        """Called before the receive-pack advertisement is answered: a push begins."""
        ...

    def after_push(self, options: tuple[str, ...]) -> None:
        """Called after receive-pack ran on a push's commands, with the push options sent."""
        ...


def _pkt(line: bytes) -> bytes:
    return f"{len(line) + 4:04x}".encode() + line


def _pkt_lines(body: bytes, pos: int = 0) -> Iterator[tuple[bytes | None, int]]:
    """The pkt-lines of `body` from `pos`: (payload, or None for a flush; the offset after it).
    Stops at the end or at a malformed length (what follows is the caller's: a pack)."""
    while pos + 4 <= len(body):
        try:
            size = int(body[pos : pos + 4], 16)
        except ValueError:
            return
        if size == 0:
            pos += 4
            yield None, pos
            continue
        if size < 4 or pos + size > len(body):
            return
        yield body[pos + 4 : pos + size], pos + size
        pos += size


@dataclass(frozen=True, slots=True)
class PushCommand:
    old: str
    new: str
    ref: str


@dataclass(frozen=True, slots=True)
class PushRequest:
    """What a receive-pack request asks: ref updates, capabilities, push options (the pack after
    them is receive-pack's to read)."""

    commands: tuple[PushCommand, ...]
    capabilities: frozenset[str]
    options: tuple[str, ...]


def parse_push_request(body: bytes) -> PushRequest:
    """The commands (`shallow` lines skipped), the capabilities after the first command's NUL,
    and, when `push-options` was asked for, the options up to the next flush."""
    commands: list[PushCommand] = []
    capabilities: set[str] = set()
    options: list[str] = []
    pos = 0
    for payload, after in _pkt_lines(body):
        pos = after
        if payload is None:
            break
        line, nul, caps = payload.rstrip(b"\n").partition(b"\0")
        if nul:
            capabilities |= set(caps.decode(errors="replace").split())
        fields = line.decode(errors="replace").split(" ")
        if len(fields) == 3 and is_hash(fields[0]) and is_hash(fields[1]):
            commands.append(PushCommand(*fields))
    if commands and "push-options" in capabilities:
        for payload, _ in _pkt_lines(body, pos):
            if payload is None:
                break
            options.append(payload.removesuffix(b"\n").decode(errors="replace"))
    return PushRequest(tuple(commands), frozenset(capabilities), tuple(options))


def _report(request: PushRequest, reason: str) -> bytes:
    """receive-pack's answer refusing every command with `reason`: report-status (v1 and v2 read
    `ng` lines alike) in band 1 when side-band was asked for, as receive-pack sends it."""
    if not request.capabilities & {"report-status", "report-status-v2"}:
        report = b""
    else:
        lines = [b"unpack ok\n", *(f"ng {c.ref} {reason}\n".encode() for c in request.commands)]
        report = b"".join(_pkt(line) for line in lines) + b"0000"
    band = (
        65515
        if "side-band-64k" in request.capabilities
        else 995
        if "side-band" in request.capabilities
        else 0
    )
    if not band:
        return report
    chunks = (report[i : i + band] for i in range(0, len(report), band))
    return b"".join(_pkt(b"\x01" + chunk) for chunk in chunks) + b"0000"


class GitHttpServer:
    def __init__(self, git: str, lookup: Callable[[str], Hosted | None]) -> None:
        """`lookup` maps a request path's repository part (`github.com/acme/fleet`) to a repository."""
        self._git = git
        self._lookup = lookup
        self._adverts: dict[tuple[Path, str], tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        self._server = loopback.Server(_Handler, "gitops-sim-git", git=self)
        self._closed = loopback.ClosedPort()

    @property
    def base_url(self) -> str:
        return f"http://{self._server.address}"

    @property
    def unreachable_url(self) -> str:
        return f"http://{self._closed.address}"

    def stop(self) -> None:
        self._server.stop()
        self._closed.close()

    def lookup(self, name: str) -> Hosted | None:
        return self._lookup(name)

    def advertisement(self, repo: Hosted, service: str = UPLOAD_PACK) -> bytes:
        """The ref advertisement of `service` (git's), kept until the repository changes."""
        with self._lock:
            cached = self._adverts.get((repo.git_dir, service))
            if cached is not None and cached[0] == repo.version:
                return cached[1]
        refs = self._service(repo, service, b"", "--advertise-refs")
        body = _pkt(f"# service={service}\n".encode()) + b"0000" + refs
        with self._lock:
            self._adverts[repo.git_dir, service] = (repo.version, body)
        return body

    def serve(self, repo: Hosted, service: str, request: bytes) -> bytes:
        """Run one stateless-rpc exchange. A push (receive-pack) drops the cached refs and is
        reported to the repository (`after_push`); a `protected` repository refuses it."""
        if service != RECEIVE_PACK:
            return self._service(repo, service, request)
        push = parse_push_request(request)
        if repo.fault == "protected" and push.commands:
            return _report(push, "protected branch hook declined")
        try:
            return self._service(repo, service, request)
        finally:
            with self._lock:
                for name in (UPLOAD_PACK, RECEIVE_PACK):
                    self._adverts.pop((repo.git_dir, name), None)
            if push.commands:
                repo.after_push(push.options)

    def _service(self, repo: Hosted, service: str, stdin: bytes, *flags: str) -> bytes:
        if not repo.intact():
            raise RemoteError("the repository's git config was changed outside gitops-sim")
        argv = sandboxed(
            self._git,
            "-c",
            "uploadpack.allowAnySHA1InWant=true",
            "-c",
            "receive.advertisePushOptions=true",
            service.removeprefix("git-"),
            "--stateless-rpc",
            *flags,
            "--",
            str(repo.git_dir),
        )
        try:
            proc = process.run(
                argv,
                env=git_env(GIT_DIR=str(repo.git_dir)),
                stdin=stdin,
                limits=process.Limits(wall_s=DEFAULT_TIMEOUT_S),
            )
        except process.LimitExceeded as exc:
            raise RemoteError(f"{service} was stopped: {exc}") from exc
        if proc.returncode != 0:
            raise RemoteError(proc.stderr.decode(errors="replace").strip() or f"{service} failed")
        return proc.stdout


class _Headers(dict[str, str]):
    """Request headers by lower-case name."""

    def get(self, name: str, default: str = "") -> str:  # type: ignore[override]
        return super().get(name.lower(), default)


class _Handler(loopback.Handler):
    git: GitHttpServer
    raw_requestline: bytes

    def parse_request(self) -> bool:
        """The request line and headers, read without the email parser (a no-change reconcile is
        one request here, so this is the hot path); what is not HTTP/1.x is refused."""
        parts = self.raw_requestline.decode("iso-8859-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self.send_error(400, "bad request line")
            return False
        self.command, self.path, self.request_version = parts
        self.requestline = " ".join(parts)
        headers = _Headers()
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("iso-8859-1").partition(":")
            headers[name.strip().lower()] = value.strip()
            if len(headers) > 100:
                self.send_error(431, "too many headers")
                return False
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if headers.get("expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        return True

    def _repo(self, suffix: str) -> Hosted | None:
        path = urlsplit(self.path).path
        if not path.endswith(suffix):
            self.send(404, b"not found\n")
            return None
        repo = self.git.lookup(path[1 : -len(suffix)].removesuffix(".git"))
        if repo is None:
            self.send(404, b"repository not found\n")
            return None
        if repo.fault == "hang":  # answers nothing until the server stops (clients time out)
            self.hold()
            return None
        wanted = repo.credentials.header() if repo.credentials else None
        refused = repo.fault == "auth" or (wanted is not None and self.headers.get("Authorization") != wanted)
        if refused:
            self.send(401, b"authentication required\n", WWW_Authenticate='Basic realm="gitops-sim"')
            return None
        return repo

    def _read_only(self, repo: Hosted, service: str) -> bool:
        """A `read-only` repository (credentials that may fetch, not push) answers a push 403."""
        if repo.fault == "read-only" and service == RECEIVE_PACK:
            self.send(403, b"authorization failed\n")
            return True
        return False

    def do_GET(self) -> None:
        query = urlsplit(self.path).query or ""
        service = next((s for s in (UPLOAD_PACK, RECEIVE_PACK) if f"service={s}" in query), None)
        if service is None:
            self.send(403, b"only the smart HTTP protocol (git-upload-pack, git-receive-pack) is served\n")
            return
        repo = self._repo("/info/refs")
        if repo is None or self._read_only(repo, service):
            return
        if service == RECEIVE_PACK:
            try:
                repo.before_push()  # every push starts here, the git CLI's and go-git's alike
            except Exception as exc:  # a scenario's commit that failed: the push fails, the server stays
                self.send(500, f"{exc}\n".encode())
                return
        try:
            advert = self.git.advertisement(repo, service)
        except RemoteError as exc:
            self.send(500, exc.message.encode() + b"\n")
            return
        self.send(200, advert, f"application/x-{service}-advertisement")

    def do_POST(self) -> None:
        body = self._body()
        service = RECEIVE_PACK if self.path.endswith(f"/{RECEIVE_PACK}") else UPLOAD_PACK
        repo = self._repo(f"/{service}")
        if repo is None or body is None or self._read_only(repo, service):
            return
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        try:
            result = self.git.serve(repo, service, body)
        except RemoteError as exc:
            self.send(500, exc.message.encode() + b"\n")
            return
        self.send(200, result, f"application/x-{service}-result")

    def _body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.send(413, b"request too large\n")
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send(413, b"request too large\n")
            return None
        return self.rfile.read(length)


# -- client ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkout:
    files: dict[str, bytes]
    subject: str


def parse_advertisement(body: bytes) -> dict[str, str]:
    """Refs from a v0 smart-HTTP advertisement; an annotated tag maps to the commit it peels to."""
    refs: dict[str, str] = {}
    pos = 0
    while pos + 4 <= len(body):
        size = int(body[pos : pos + 4], 16)
        if size == 0:
            pos += 4
            continue
        line = body[pos + 4 : pos + size].rstrip(b"\n")
        pos += size
        if line.startswith(b"#"):
            continue
        line = line.split(b"\0", 1)[0]
        sha, _, name = line.decode(errors="replace").partition(" ")
        if not is_hash(sha):
            continue  # not an object id: never let it reach a git command line
        if name.endswith("^{}"):
            refs[name[:-3]] = sha
        elif name != "capabilities^{}":
            refs.setdefault(name, sha)
    return refs


class GitHttpClient:
    def __init__(self, endpoint: Callable[[str], str | None]) -> None:
        """`endpoint` maps a manifest's URL to the URL actually fetched (None: not found). The
        client runs no git and writes nothing to disk."""
        self._endpoint = endpoint
        self._connections: dict[tuple[str, str, int], _Connection] = {}
        self._checkouts: dict[str, tuple[str, Checkout, gitpack.Objects, str]] = {}
        """The last checkout of each URL: its commit, files and subject, the objects fetched and
        their format (`sha1`, `sha256`)."""
        self._clones: dict[str, gitobjects.Memory] = {}
        """The shallow clone of each URL an automation reads and writes: the commit last fetched
        with its objects, and the commits written on it."""

    def list_refs(
        self, url: str, credentials: Credentials | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> dict[str, str]:
        """Every ref of the remote and its commit (ls-remote), within `timeout_s` of wall time
        (`context deadline exceeded` after it, as go-git says)."""
        return parse_advertisement(self._advertised(url, UPLOAD_PACK, credentials, timeout_s))

    def _advertised(self, url: str, service: str, credentials: Credentials | None, timeout_s: float) -> bytes:
        """The remote's ref advertisement for `service`, over a kept-alive connection."""
        target = self._endpoint(url)
        if target is None:
            raise RemoteError("repository not found", not_found=True)
        parts = urlsplit(target)
        path = parts.path.rstrip("/") + f"/info/refs?service={service}"
        headers = {"User-Agent": AGENT, "Accept": "*/*"}
        if credentials is not None and (auth := credentials.header()):
            headers["Authorization"] = auth
        if parts.scheme not in ("http", "https"):
            raise RemoteError("repository not found", not_found=True)
        status, body = self._kept_alive(url, service, "GET", path, headers, None, timeout_s)
        _check_status(url, status)
        if not body.startswith(_pkt(f"# service={service}\n".encode())):
            raise RemoteError(f"unexpected client error: unexpected requesting {url!r} status code: {status}")
        return body

    def _kept_alive(
        self,
        url: str,
        service: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout_s: float,
        limit: int | None = None,
    ) -> tuple[int, bytes]:
        """One request to `url`'s endpoint over the kept-alive connection to its host."""
        parts = urlsplit(self._endpoint(url) or "")
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        for attempt in (0, 1):  # a kept-alive connection the server closed is opened again once
            try:
                conn = self._connections.get(key)
                if conn is None:
                    conn = self._connections[key] = _Connection(*key, timeout_s)
                return conn.request(method, path, headers, body, timeout_s, limit)
            except (OSError, ValueError) as exc:
                stale = self._connections.pop(key, None)
                if stale is not None:
                    stale.close()
                if isinstance(exc, TimeoutError):
                    raise RemoteError(DEADLINE) from exc
                if isinstance(exc, _TooLarge):
                    raise RemoteError(str(exc)) from exc
                if attempt == 1 or isinstance(exc, ConnectionRefusedError):
                    raise RemoteError(_dial_error(url, exc, service)) from exc
        raise AssertionError("unreachable")

    def checkout(
        self, url: str, sha: str, credentials: Credentials | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> Checkout:
        """The tree and subject of commit `sha` (a full object id), fetched as go-git's shallow
        clone fetches it, within `timeout_s` of wall time, in this process (no git runs). The
        files are the regular files of its tree, as `git archive` gives them (see
        `sources.gitpack`); the last checkout of each URL is answered again without a fetch."""
        if not is_hash(sha):
            raise RemoteError(f"{sha!r} is not a commit hash")
        if credentials is not None:
            credentials.header()  # a header Go would refuse fails before anything is sent
        cached = self._checkouts.get(url)
        if cached is not None and cached[0] == sha:
            return Checkout(dict(cached[1].files), cached[1].subject)
        objects, object_format = self._fetch(url, sha, credentials, timeout_s)
        try:
            width = 32 if object_format == "sha256" else 20
            files = gitpack.tree_files(objects, gitpack.commit_tree(objects, sha), width=width)
        except (gitpack.PackError, archives.ArchiveError) as exc:
            raise RemoteError(str(exc)) from exc
        checkout = Checkout(files, gitpack.subject(objects[sha][1]))
        self._checkouts[url] = (sha, checkout, objects, object_format)
        return Checkout(dict(files), checkout.subject)

    def _fetch(
        self, url: str, sha: str, credentials: Credentials | None, timeout_s: float
    ) -> tuple[gitpack.Objects, str]:
        """The objects of commit `sha` and its tree, fetched as go-git's shallow clone of one
        commit fetches them, within `timeout_s` of wall time, and their object format."""
        started = clocks.WallClock(epoch_ms=0)
        advert = self._advertised(url, UPLOAD_PACK, credentials, timeout_s)
        capabilities = _capabilities(advert)
        object_format = "sha256" if "object-format=sha256" in capabilities else "sha1"
        headers = {
            "User-Agent": AGENT,
            "Content-Type": f"application/x-{UPLOAD_PACK}-request",
            "Accept": f"application/x-{UPLOAD_PACK}-result",
        }
        if credentials is not None and (auth := credentials.header()):
            headers["Authorization"] = auth
        left = timeout_s - started.now() / 1000
        if left <= 0:
            raise RemoteError(DEADLINE)
        path = urlsplit(self._endpoint(url) or "").path.rstrip("/") + f"/{UPLOAD_PACK}"
        request = _upload_request(sha, capabilities)
        status, reply = self._kept_alive(url, UPLOAD_PACK, "POST", path, headers, request, left, MAX_FETCH)
        if started.now() / 1000 > timeout_s:
            raise RemoteError(DEADLINE)
        if status != 200 and b"not our ref" in reply:
            raise RemoteError(reply.decode(errors="replace").strip().removeprefix("fatal: "))
        _check_status(url, status)
        try:
            objects = gitpack.read(_pack_of(reply), hash_name=object_format, max_bytes=2 * MAX_FETCH)
        except gitpack.PackError as exc:
            raise RemoteError(str(exc)) from exc
        commit = objects.get(sha)
        if commit is None or commit[0] != gitpack.COMMIT:
            raise RemoteError("object not found")
        return objects, object_format

    def files_containing(
        self,
        url: str,
        sha: str,
        needle: str,
        credentials: Credentials | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> dict[str, bytes]:
        """The files of commit `sha` whose content contains `needle` (a fixed string), by path
        in the tree's order: what an image automation reads (`git grep -l --fixed-strings` of
        the commit: regular files only, binary ones included), from its shallow clone."""
        clone = self._fetched(url, sha, credentials, timeout_s)
        wanted = needle.encode()
        found: dict[str, bytes] = {}
        try:
            for path, (mode, oid) in gitobjects.flatten(clone, gitobjects.tree_of(clone, sha)).items():
                if mode in (gitobjects.FILE, gitobjects.EXECUTABLE):
                    content = gitobjects.read(clone, oid, gitobjects.BLOB)
                    if wanted in content:
                        found[path.decode("utf-8", "surrogateescape")] = content
        except gitobjects.ObjectError as exc:
            raise RemoteError(str(exc)) from exc
        return found

    def _fetched(
        self, url: str, sha: str, credentials: Credentials | None, timeout_s: float
    ) -> gitobjects.Memory:
        """The clone of `url`, holding commit `sha`: fetched (a new shallow clone of it, as the
        automation clones afresh) when it did not, from the last checkout when that was `sha`."""
        if not is_hash(sha):
            raise RemoteError(f"{sha!r} is not a commit hash")
        if credentials is not None:
            credentials.header()  # a header Go would refuse fails before anything is sent
        clone = self._clones.get(url)
        held = clone.get(sha) if clone is not None else None
        if clone is not None and held is not None and held[0] == gitpack.COMMIT:
            return clone
        kept = self._checkouts.get(url)
        if kept is not None and kept[0] == sha:  # checked out already: what a fetch would bring
            objects, object_format = kept[2], kept[3]
        else:
            objects, object_format = self._fetch(url, sha, credentials, timeout_s)
        if object_format != "sha1":
            raise RemoteError(f"{url}: the {object_format} object format is not supported for image updates")
        clone = self._clones[url] = gitobjects.Memory(objects, shallow=[sha])
        return clone

    def push_commit(
        self,
        url: str,
        parent: str | None,
        changes: Mapping[str, bytes | None],
        *,
        message: str,
        author: tuple[str, str],
        when_s: int,
        branch: str,
        force: bool = False,
        refspecs: Sequence[str] = (),
        options: Mapping[str, str] | None = None,
        credentials: Credentials | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> str:
        """Commit `changes` (None deletes a path) on `parent`, a full commit id of `url` (None: a
        first commit, for an empty repository or a new branch with no history), and push
        the commit to `branch`, then with `refspecs` (a second push, as CommitAndPush makes it);
        returns the new commit's id. Author and committer are `author` (name, email) at `when_s`
        seconds UTC; the message is kept exactly (go-git adds no newline). The same inputs always
        give the same commit. Errors: `RemoteError`, push errors after fluxcd/pkg's `failed to
        push to remote: ` (`non_fast_forward` set when the branch moved on)."""
        specs = _push_plan(branch, refspecs, options, author)
        sha = self.commit(
            url, parent, changes, message=message, author=author, when_s=when_s, credentials=credentials
        )
        clone = self._clones[url]
        ordered = tuple(f"{k}={v}" for k, v in sorted((options or {}).items()))
        head = f"refs/heads/{branch}"
        self._push(url, clone, [(force, sha, head)], ordered, credentials, timeout_s)
        if specs:
            updates = [
                (force or plus, sha if src in (head, sha) else None if src else "", dst)
                for plus, src, dst in specs
            ]
            self._push(url, clone, updates, ordered, credentials, timeout_s)
        return sha

    def commit(
        self,
        url: str,
        parent: str | None,
        changes: Mapping[str, bytes | None],
        *,
        message: str,
        author: tuple[str, str],
        when_s: int,
        credentials: Credentials | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> str:
        """The commit of `changes` on `parent` (see `push_commit`), made in the clone of `url`
        and not pushed: `push` sends it."""
        if parent is None:
            clone = self._clones.setdefault(url, gitobjects.Memory())
        else:
            clone = self._fetched(url, parent, credentials, timeout_s)
        try:
            return _write_commit(clone, parent, changes, message, author, when_s)
        except gitobjects.ObjectError as exc:
            raise RemoteError(f"cannot commit: {exc}") from exc

    def push(
        self,
        url: str,
        sha: str,
        branch: str,
        credentials: Credentials | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """Push commit `sha` (made by `commit`) to `branch` of `url`, fast-forward only."""
        clone = self._clones.get(url) or gitobjects.Memory()
        self._push(url, clone, [(False, sha, f"refs/heads/{branch}")], (), credentials, timeout_s)

    def _push(
        self,
        url: str,
        clone: gitobjects.Memory,
        updates: list[tuple[bool, str | None, str]],
        options: tuple[str, ...],
        credentials: Credentials | None,
        timeout_s: float,
    ) -> None:
        """One push, as go-git's PushContext makes it: each update is (force, the commit, "" to
        delete or None when the refspec's source matched nothing, the remote ref)."""
        try:
            self._send_pack(url, clone, updates, options, credentials, timeout_s)
        except RemoteError as exc:
            raise RemoteError(
                f"failed to push to remote: {exc.message}",
                not_found=exc.not_found,
                non_fast_forward=exc.non_fast_forward,
            ) from exc

    def _send_pack(
        self,
        url: str,
        clone: gitobjects.Memory,
        updates: list[tuple[bool, str | None, str]],
        options: tuple[str, ...],
        credentials: Credentials | None,
        timeout_s: float,
    ) -> None:
        advert = self._advertised(url, RECEIVE_PACK, credentials, timeout_s)
        remote = parse_advertisement(advert)
        capabilities = _capabilities(advert)
        if any(new == "" for _, new, _ in updates) and "delete-refs" not in capabilities:
            raise RemoteError("server does not support delete-refs")
        commands: list[PushCommand] = []
        for force, new, ref in updates:
            old = remote.get(ref)
            if new is None or (new == "" and old is None) or old == new:
                continue  # go-git: nothing matched, nothing to delete, or already there
            if not force and old is not None and new and not _is_ancestor(clone, old, new):
                raise RemoteError(f"non-fast-forward update: {ref}", non_fast_forward=True)
            commands.append(PushCommand(old or ZERO_ID, new or ZERO_ID, ref))
        if not commands:
            raise RemoteError("already up-to-date")
        if options and "push-options" not in capabilities:
            raise RemoteError("the remote does not accept push options")
        asked = [c for c in ("report-status", "delete-refs", "push-options") if c in capabilities]
        if not options:
            asked = [c for c in asked if c != "push-options"]
        lines = [f"{c.old} {c.new} {c.ref}".encode() for c in commands]
        lines[0] += b"\0" + " ".join(asked).encode()
        body = b"".join(_pkt(line + b"\n") for line in lines) + b"0000"
        if "push-options" in asked:
            body += b"".join(_pkt(option.encode() + b"\n") for option in options) + b"0000"
        wanted = [c.new for c in commands if c.new != ZERO_ID]
        if wanted:
            haves = [sha for sha in sorted(set(remote.values())) if clone.has(sha)]
            try:
                body += gitpack.write(gitobjects.to_send(clone, wanted, haves, clone.shallow))
            except gitobjects.ObjectError as exc:
                raise RemoteError(str(exc)) from exc
        status, reply = self._post(url, RECEIVE_PACK, body, credentials, timeout_s)
        _check_status(url, status)
        if "report-status" in asked:
            _check_report(reply)

    def _post(
        self, url: str, service: str, body: bytes, credentials: Credentials | None, timeout_s: float
    ) -> tuple[int, bytes]:
        target = self._endpoint(url)
        if target is None:
            raise RemoteError("repository not found", not_found=True)
        parts = urlsplit(target)
        headers = {
            "User-Agent": "git/2.39-gitops-sim",
            "Content-Type": f"application/x-{service}-request",
            "Accept": f"application/x-{service}-result",
        }
        if credentials is not None and (auth := credentials.header()):
            headers["Authorization"] = auth
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            conn = _Connection(parts.scheme, parts.hostname or "", port, timeout_s)
        except TimeoutError as exc:
            raise RemoteError(DEADLINE) from exc
        except OSError as exc:
            raise RemoteError(_dial_error(url, exc, service)) from exc
        try:
            return conn.request("POST", parts.path.rstrip("/") + f"/{service}", headers, body, timeout_s)
        except TimeoutError as exc:
            raise RemoteError(DEADLINE) from exc
        except (OSError, ValueError) as exc:
            raise RemoteError(f"{service}: {exc}") from exc
        finally:
            conn.close()

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        self._checkouts.clear()
        self._clones.clear()


class _Connection:
    """One kept-alive HTTP/1.1 connection for GET requests: a status, a body (Content-Length,
    chunked, or until close). Leaner than http.client, whose header parsing dominated a
    no-change reconcile (benchmarks/gitrepositories.py)."""

    def __init__(self, scheme: str, host: str, port: int, timeout_s: float) -> None:
        sock = loopback.connect((host, port), timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self._sock = sock
        self._file = sock.makefile("rb")
        self._host = host if port in (80, 443) else f"{host}:{port}"

    def get(self, path: str, headers: dict[str, str], timeout_s: float) -> tuple[int, bytes]:
        return self.request("GET", path, headers, None, timeout_s)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
        timeout_s: float,
        limit: int | None = None,
    ) -> tuple[int, bytes]:
        """The status and body of one request; a body longer than `limit` bytes is refused
        (`_TooLarge`) before it is read."""
        self._sock.settimeout(timeout_s)
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self._host}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        status_line = self._file.readline(65537)
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        fields: dict[str, str] = {}
        while (line := self._file.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        ceiling = limit if limit is not None else -1
        if "content-length" in fields:
            length = int(fields["content-length"])
            if 0 <= ceiling < length:
                raise _TooLarge(f"the answer is larger than {ceiling >> 20} MiB")
            body = self._file.read(length)
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while size := int(self._file.readline(1024).split(b";")[0].strip() or b"0", 16):
                total += size
                if 0 <= ceiling < total:
                    raise _TooLarge(f"the answer is larger than {ceiling >> 20} MiB")
                chunks.append(self._file.read(size))
                self._file.readline()
            while self._file.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            body = b"".join(chunks)
        else:
            body = self._file.read(ceiling + 1 if ceiling >= 0 else -1)
            if 0 <= ceiling < len(body):
                raise _TooLarge(f"the answer is larger than {ceiling >> 20} MiB")
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        self._file.close()
        self._sock.close()


class _TooLarge(ValueError):
    """An HTTP answer longer than the caller would read."""


def _upload_request(sha: str, capabilities: frozenset[str]) -> bytes:
    """go-git's upload-pack request for a shallow clone of one commit (depth 1, nothing held):
    the capabilities it picks from those advertised, `deepen 1` when the server can, `done`."""
    picks = (
        ("multi_ack_detailed", "multi_ack"),
        ("side-band-64k", "side-band"),
        ("ofs-delta",),
        ("no-progress",),
        ("shallow",),
    )
    asked = [next((c for c in choice if c in capabilities), "") for choice in picks]
    if "object-format=sha256" in capabilities:
        asked.append("object-format=sha256")
    asked = [c for c in asked if c] + [f"agent={AGENT}"]
    body = _pkt(f"want {sha} {' '.join(asked)}\n".encode())
    if "shallow" in capabilities:
        body += _pkt(b"deepen 1\n")
    return body + b"0000" + _pkt(b"done\n")


def _pack_of(reply: bytes) -> bytes:
    """The pack in an upload-pack answer: after the shallow list and its flush and the NAK, in
    side-band 1 (band 2 is progress, band 3 an error) or, without side-band, as it is."""
    stage = "shallow"
    chunks: list[bytes] = []
    for payload, after in _pkt_lines(reply):
        if payload is not None and payload.startswith(b"ERR "):
            raise RemoteError(f"remote error: {payload[4:].decode(errors='replace').strip()}")
        if stage == "shallow":
            if payload is None:
                stage = "ack"
                continue
            if payload.startswith((b"shallow ", b"unshallow ")):
                continue
            stage = "ack"
        if stage == "ack":
            if payload is None or not payload.startswith((b"NAK", b"ACK ")):
                raise RemoteError("protocol error: the server sent no acknowledgement before the pack")
            if payload.startswith(b"NAK") or len(payload.split()) == 2:  # not `ACK <id> common|ready`
                stage = "pack"
                if reply[after : after + 4] == b"PACK":
                    return reply[after:]  # no side-band: the pack follows as it is
            continue
        if payload is None:
            return b"".join(chunks)
        band = payload[:1]
        if band == b"\x01":
            chunks.append(payload[1:])
        elif band == b"\x03":
            raise RemoteError(f"unexpected error: {payload[1:].decode(errors='replace').strip()}")
        elif band != b"\x02":
            raise RemoteError(f"unknown channel {payload[:16]!r}")
    if stage == "pack" and chunks:
        return b"".join(chunks)
    raise RemoteError("protocol error: the server's answer holds no pack")


def _dial_error(url: str, exc: BaseException, service: str = UPLOAD_PACK) -> str:
    """Go's net/http error for a connection that failed, naming the URL's own host and port; a
    push begins with the receive-pack advertisement, so its GET names that service."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    what = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
    return (
        f'Get "{url.rstrip("/")}/info/refs?service={service}": '
        f"dial tcp {parts.hostname}:{port}: connect: {what}"
    )


def _check_status(url: str, status: int) -> None:
    """go-git's errors for an HTTP status that is not 200."""
    if status == 401:
        raise RemoteError("authentication required")
    if status == 403:
        raise RemoteError("authorization failed")
    if status == 404:
        raise RemoteError("repository not found", not_found=True)
    if status != 200:
        raise RemoteError(f"unexpected client error: unexpected requesting {url!r} status code: {status}")


def _capabilities(advert: bytes) -> frozenset[str]:
    """The capabilities after the first ref of an advertisement."""
    for payload, _ in _pkt_lines(advert):
        if payload is not None and b"\0" in payload:
            return frozenset(payload.rstrip(b"\n").partition(b"\0")[2].decode(errors="replace").split())
    return frozenset()


def _check_report(reply: bytes) -> None:
    """go-git's ReportStatus.Error: the unpack status first, then the first refused ref."""
    lines = [p.rstrip(b"\n").decode(errors="replace") for p, _ in _pkt_lines(reply) if p is not None]
    if not lines or not lines[0].startswith("unpack "):
        raise RemoteError("malformed report-status: the remote sent no unpack status")
    if lines[0] != "unpack ok":
        raise RemoteError(f"unpack error: {lines[0].removeprefix('unpack ')}")
    for line in lines[1:]:
        if line.startswith("ng "):
            ref, _, reason = line[3:].partition(" ")
            behind = reason in ("non-fast-forward", "fetch first")
            raise RemoteError(f"command error on {ref}: {reason}", non_fast_forward=behind)


def _push_plan(
    branch: str, refspecs: Sequence[str], options: Mapping[str, str] | None, author: tuple[str, str]
) -> list[tuple[bool, str, str]]:
    """Checks what a push is given before anything is written, and parses `refspecs` into (force,
    source, destination): go-git's RefSpec.Validate, then our own rules (no wildcards, every part
    a ref name git cannot read as an option, destinations under `refs/`)."""
    if problem := ref_problem(branch):
        raise RemoteError(f"failed to push to remote: cannot push to branch {branch!r}: {problem}")
    name, email = author
    if any(c in value for value in (name, email) for c in "<>\n\0"):
        raise RemoteError("cannot commit: the author's name and email may not hold '<', '>', newlines or NUL")
    for key, value in (options or {}).items():
        # go-git sends `key=value` as one pkt-line, so a value may span lines (a merge request's
        # description); a name may not, nor hold '=', and NUL or an over-long line cannot be sent
        if not key or "=" in key or "\n" in key or "\0" in key + value or len(key) + len(value) > 65000:
            raise RemoteError(
                f"failed to push to remote: push option {key!r} cannot be sent (a non-empty name "
                "without '=' or newlines, no NUL anywhere, under 65000 bytes)"
            )
    specs = []
    for spec in refspecs:
        force = spec.startswith("+")
        body = spec.removeprefix("+")
        src, _, dst = body.partition(":")
        if body.count(":") != 1 or not dst:
            raise RemoteError("failed to push to remote: malformed refspec, separators are wrong")
        if src.count("*") != dst.count("*") or src.count("*") > 1:
            raise RemoteError("failed to push to remote: malformed refspec, mismatched number of wildcards")
        if "*" in body:
            raise RemoteError(
                f"failed to push to remote: refspec {spec!r}: gitops-sim does not push wildcard refspecs"
            )
        for part in (src, dst) if src else (dst,):
            if problem := ref_problem(part):
                raise RemoteError(f"failed to push to remote: refspec {spec!r}: {problem}")
        if not dst.startswith("refs/"):
            raise RemoteError(
                f"failed to push to remote: refspec {spec!r}: the destination must be a full ref name "
                "(refs/heads/..., refs/for/...)"
            )
        specs.append((force, src, dst))
    return specs


def _write_commit(
    clone: gitobjects.Memory,
    parent: str | None,
    changes: Mapping[str, bytes | None],
    message: str,
    author: tuple[str, str],
    when_s: int,
) -> str:
    """The commit of `parent`'s tree (none: an empty one) with `changes`, written into `clone`:
    the tree git's index would write for the parent's files with the changes applied in path
    order (a deleted folder takes everything under it; a file keeps its executable bit, and
    replaces a link), and the commit object as go-git encodes it."""
    entries = gitobjects.flatten(clone, gitobjects.tree_of(clone, parent)) if parent is not None else {}
    for rel, content in sorted(changes.items()):
        if problem := path_problem(rel):
            raise RemoteError(f"cannot commit {rel!r}: {problem}")
        path = rel.encode()
        under = [p for p in entries if p.startswith(path + b"/")]
        if content is None:
            for gone in [path, *under]:
                entries.pop(gone, None)
            continue
        parts = path.split(b"/")
        blocking = next(
            (b"/".join(parts[:i]) for i in range(1, len(parts)) if b"/".join(parts[:i]) in entries), None
        )
        if blocking is not None:
            raise RemoteError(f"cannot commit {rel!r}: {blocking.decode(errors='replace')!r} is a file")
        if under:
            raise RemoteError(f"cannot commit {rel!r}: it is a folder")
        mode = entries.get(path, (gitobjects.FILE, ""))[0]
        keep = mode in (gitobjects.FILE, gitobjects.EXECUTABLE)
        entries[path] = (mode if keep else gitobjects.FILE, clone.put(gitobjects.BLOB, content))
    for path, (mode, _) in entries.items():  # git's index refuses these (update-index failed)
        if not gitpack.index_accepts(path, mode):
            raise RemoteError(f"cannot commit {path.decode(errors='replace')!r}: error: invalid path")
    tree = gitobjects.build(entries, clone.put)
    name, email = author
    stamp = f"{name} <{email}> {when_s} +0000"
    parents = [] if parent is None else [parent]
    return clone.put(
        gitobjects.COMMIT, gitobjects.commit_object(tree, parents, stamp, stamp, message.encode())
    )


def _is_ancestor(clone: gitobjects.Memory, old: str, new: str) -> bool:
    """Whether `old` is in `new`'s history in the clone (a commit it lacks is not)."""
    return is_hash(old) and clone.has(old) and gitobjects.is_ancestor(clone, old, new, clone.shallow)
