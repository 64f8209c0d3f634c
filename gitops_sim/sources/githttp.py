"""Git over smart HTTP, both ends: the server that hosts a simulation's repositories, and the
client that source-controller's reconciler uses to reach any git HTTP server.

Server (`GitHttpServer`): a threaded HTTP server on 127.0.0.1 speaking git's smart HTTP protocol
(version 0) for fetches: `GET <repo>.git/info/refs?service=git-upload-pack` answers the ref
advertisement, produced by `git upload-pack --advertise-refs` and kept until the repository
changes; `POST <repo>.git/git-upload-pack` runs `git upload-pack --stateless-rpc` on the request.
Each repository may require HTTP basic auth or a bearer token (401 otherwise). A repository
addressed by `https://github.com/acme/fleet` is served at `/github.com/acme/fleet.git`.

Client (`GitHttpClient`): lists a remote's refs in Python over a kept-alive connection (one
request: what a no-change reconcile costs), and fetches a commit with the git CLI into a local
cache repository, only when the revision is new, then reads its tree and subject there. URLs the
simulation hosts are sent to the local server, as git's `url.<base>.insteadOf` would; a URL on
127.0.0.1 or localhost is used as written (a git HTTP server a test or a user started); any other
is `repository not found`, without a network request.

Errors carry the words go-git and fluxcd/pkg use (`authentication required`, `repository not
found`, `couldn't find remote ref "refs/heads/x"`, `dial tcp …: connect: connection refused`).
Simulated on purpose: an unreachable host is a closed port on 127.0.0.1, reported with the URL's
own host and port.

Callers: `sources.git.GitServer` (hosting), the GitRepository controller (through
`sources.git.GitUpstream`). Never reads the clock; never runs git outside `sandboxed` argv and
`git_env()`, never puts a credential on a command line or in an environment, and never passes a
value that came from a user or a remote where git could read it as an option.

IMPLEMENTATION DETAIL: the git sandbox
    Problem: git runs programs named by its configuration (hooks, `core.fsmonitor`, filter,
    diff and merge drivers, `core.sshCommand`, `core.askPass`, credential helpers, pagers,
    editors, `ext::` transports, `uploadpack.packObjectsHook`...), and the repositories it
    works in hold content that scenarios, developers' pushes and remote servers chose.
    Solution, for every git process (repository side, upload/receive-pack, the fetching client):
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
    Credentials for a fetch go in a 0600 config file in the client's cache folder, named by
    `GIT_CONFIG_GLOBAL` and deleted after the call: its path is visible, its content is not.
    Every run-to-completion git goes through `process.run` (wall-time and memory limits).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import os
import re
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from gitops_sim import process
from gitops_sim.model import archives
from gitops_sim.sources import loopback

DEFAULT_TIMEOUT_S = 60.0
DEADLINE = "context deadline exceeded"
UPLOAD_PACK = "git-upload-pack"
RECEIVE_PACK = "git-receive-pack"
MAX_BODY = 64 * 1024 * 1024

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
    """A remote operation failed; `message` is the error text go-git would give."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_found = not_found


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


def _pkt(line: bytes) -> bytes:
    return f"{len(line) + 4:04x}".encode() + line


class GitHttpServer:
    def __init__(self, git: str, lookup: Callable[[str], Hosted | None]) -> None:
        """`lookup` maps a request path's repository part (`github.com/acme/fleet`) to a repository."""
        self._git = git
        self._lookup = lookup
        self._adverts: dict[Path, tuple[int, bytes]] = {}
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
        """The ref advertisement of `service`; upload-pack's is kept until the repository changes."""
        if service == UPLOAD_PACK:
            with self._lock:
                cached = self._adverts.get(repo.git_dir)
                if cached is not None and cached[0] == repo.version:
                    return cached[1]
        refs = self._service(repo, service, b"", "--advertise-refs")
        body = _pkt(f"# service={service}\n".encode()) + b"0000" + refs
        if service == UPLOAD_PACK:
            with self._lock:
                self._adverts[repo.git_dir] = (repo.version, body)
        return body

    def serve(self, repo: Hosted, service: str, request: bytes) -> bytes:
        """Run one stateless-rpc exchange. A push (receive-pack) updates the checked-out branch's
        work tree too (`receive.denyCurrentBranch=updateInstead`) and drops the cached refs."""
        result = self._service(repo, service, request)
        if service == RECEIVE_PACK:
            with self._lock:
                self._adverts.pop(repo.git_dir, None)
        return result

    def _service(self, repo: Hosted, service: str, stdin: bytes, *flags: str) -> bytes:
        if not repo.intact():
            raise RemoteError("the repository's git config was changed outside gitops-sim")
        argv = sandboxed(
            self._git,
            "-c",
            "uploadpack.allowAnySHA1InWant=true",
            "-c",
            "receive.denyCurrentBranch=updateInstead",
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
            self.server_ref.stopping.wait(600)
            return None
        wanted = repo.credentials.header() if repo.credentials else None
        refused = repo.fault == "auth" or (wanted is not None and self.headers.get("Authorization") != wanted)
        if refused:
            self.send(401, b"authentication required\n", WWW_Authenticate='Basic realm="gitops-sim"')
            return None
        return repo

    def do_GET(self) -> None:
        query = urlsplit(self.path).query or ""
        service = next((s for s in (UPLOAD_PACK, RECEIVE_PACK) if f"service={s}" in query), None)
        if service is None:
            self.send(403, b"only the smart HTTP protocol (git-upload-pack, git-receive-pack) is served\n")
            return
        repo = self._repo("/info/refs")
        if repo is not None:
            self.send(200, self.git.advertisement(repo, service), f"application/x-{service}-advertisement")

    def do_POST(self) -> None:
        body = self._body()
        service = RECEIVE_PACK if self.path.endswith(f"/{RECEIVE_PACK}") else UPLOAD_PACK
        repo = self._repo(f"/{service}")
        if repo is None or body is None:
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
    def __init__(self, git: str, cache: Path, endpoint: Callable[[str], str | None]) -> None:
        """`endpoint` maps a manifest's URL to the URL actually fetched (None: not found);
        `git` is the git program run for fetches (any git ≥ 2.28)."""
        self._git = git
        self._cache = cache
        self._endpoint = endpoint
        self._connections: dict[tuple[str, str, int], _Connection] = {}

    def list_refs(
        self, url: str, credentials: Credentials | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> dict[str, str]:
        """Every ref of the remote and its commit (ls-remote), within `timeout_s` of wall time
        (`context deadline exceeded` after it, as go-git says)."""
        target = self._endpoint(url)
        if target is None:
            raise RemoteError("repository not found", not_found=True)
        parts = urlsplit(target)
        path = parts.path.rstrip("/") + "/info/refs?service=git-upload-pack"
        headers = {"User-Agent": "git/2.39-gitops-sim", "Accept": "*/*"}
        if credentials is not None and (auth := credentials.header()):
            headers["Authorization"] = auth
        if parts.scheme not in ("http", "https"):
            raise RemoteError("repository not found", not_found=True)
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        for attempt in (0, 1):  # a kept-alive connection the server closed is opened again once
            try:
                conn = self._connections.get(key)
                if conn is None:
                    conn = self._connections[key] = _Connection(*key, timeout_s)
                status, body = conn.get(path, headers, timeout_s)
                break
            except (OSError, ValueError) as exc:
                stale = self._connections.pop(key, None)
                if stale is not None:
                    stale.close()
                if isinstance(exc, TimeoutError):
                    raise RemoteError(DEADLINE) from exc
                if attempt == 1 or isinstance(exc, ConnectionRefusedError):
                    raise RemoteError(_dial_error(url, exc)) from exc
        if status == 401:
            raise RemoteError("authentication required")
        if status == 403:
            raise RemoteError("authorization failed")
        if status == 404:
            raise RemoteError("repository not found", not_found=True)
        if status != 200 or not body.startswith(b"001e# service=git-upload-pack"):
            raise RemoteError(f"unexpected client error: unexpected requesting {url!r} status code: {status}")
        return parse_advertisement(body)

    def checkout(
        self, url: str, sha: str, credentials: Credentials | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> Checkout:
        """The tree and subject of commit `sha`, fetched into the local cache if not there yet
        (the fetch within `timeout_s` of wall time). `sha` must be a full object id."""
        if not is_hash(sha):
            raise RemoteError(f"{sha!r} is not a commit hash")
        auth = credentials.header() if credentials is not None else None
        repo = self._cache / hashlib.sha256(url.encode()).hexdigest()[:16]
        if not (repo / "HEAD").exists():
            repo.mkdir(parents=True, exist_ok=True)
            self._run(repo, "init", "--quiet", "--bare")
            seal(repo)
        if self._run(repo, "cat-file", "-t", "--end-of-options", sha, check=False) != b"commit\n":
            target = self._endpoint(url)
            if target is None or urlsplit(target).scheme not in ("http", "https"):
                raise RemoteError("repository not found", not_found=True)
            with self._auth_config(auth) as env:
                self._run(
                    repo,
                    *("fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--depth=1"),
                    *("--", target, sha),
                    timeout_s=timeout_s,
                    env=env,
                )
        try:
            files = archives.unpack(self._run(repo, "archive", "--format=tar", "--end-of-options", sha))
        except archives.ArchiveError as exc:
            raise RemoteError(str(exc)) from exc
        subject = self._run(repo, "log", "-1", "--format=%s", "--end-of-options", sha, "--")
        return Checkout(files, subject.decode(errors="replace").rstrip("\n"))

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    @contextlib.contextmanager
    def _auth_config(self, header: str | None) -> Iterator[dict[str, str]]:
        """The environment that gives git `header` for its HTTP requests: a config file only
        this user can read (mkstemp makes it 0600), named by `GIT_CONFIG_GLOBAL` and deleted
        afterwards, so the secret is on no command line and in no environment."""
        if header is None:
            yield {}
            return
        self._cache.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".auth-", suffix=".gitconfig", dir=self._cache)
        try:
            quoted = header.replace("\\", "\\\\").replace('"', '\\"')
            with os.fdopen(fd, "w", encoding="utf-8") as config:
                config.write(f'[http]\n\textraHeader = "Authorization: {quoted}"\n')
            yield {"GIT_CONFIG_GLOBAL": name}
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    def _run(
        self,
        repo: Path,
        *args: str,
        check: bool = True,
        timeout_s: float | None = None,
        env: dict[str, str] | None = None,
    ) -> bytes:
        limits = process.Limits(wall_s=timeout_s or DEFAULT_TIMEOUT_S)
        try:
            proc = process.run(
                sandboxed(self._git, "-C", str(repo), *args), env=git_env(**(env or {})), limits=limits
            )
        except process.LimitExceeded as exc:
            timed_out = exc.limit == "wall"
            raise RemoteError(DEADLINE if timed_out else str(exc)) from exc
        if check and proc.returncode != 0:
            raise RemoteError(proc.stderr.decode(errors="replace").strip().removeprefix("fatal: "))
        return proc.stdout


class _Connection:
    """One kept-alive HTTP/1.1 connection for GET requests: a status, a body (Content-Length,
    chunked, or until close). Leaner than http.client, whose header parsing dominated a
    no-change reconcile (benchmarks/gitrepositories.py)."""

    def __init__(self, scheme: str, host: str, port: int, timeout_s: float) -> None:
        sock = socket.create_connection((host, port), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self._sock = sock
        self._file = sock.makefile("rb")
        self._host = host if port in (80, 443) else f"{host}:{port}"

    def get(self, path: str, headers: dict[str, str], timeout_s: float) -> tuple[int, bytes]:
        self._sock.settimeout(timeout_s)
        lines = [f"GET {path} HTTP/1.1", f"Host: {self._host}", *(f"{k}: {v}" for k, v in headers.items())]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status_line = self._file.readline(65537)
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        fields: dict[str, str] = {}
        while (line := self._file.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = self._file.read(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self._file.readline(1024).split(b";")[0].strip() or b"0", 16):
                chunks.append(self._file.read(size))
                self._file.readline()
            while self._file.readline(1024) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            body = b"".join(chunks)
        else:
            body = self._file.read()
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        self._file.close()
        self._sock.close()


def _dial_error(url: str, exc: BaseException) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    what = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
    return (
        f'Get "{url.rstrip("/")}/info/refs?service=git-upload-pack": '
        f"dial tcp {parts.hostname}:{port}: connect: {what}"
    )
