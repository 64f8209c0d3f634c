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
`sources.git.GitUpstream`). Never reads the clock; git processes get an explicit environment.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from gitops_sim.model import archives
from gitops_sim.sources import loopback

DEFAULT_TIMEOUT_S = 60.0
DEADLINE = "context deadline exceeded"
UPLOAD_PACK = "git-upload-pack"
RECEIVE_PACK = "git-receive-pack"
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "LC_ALL": "C", "HOME": "/"}
MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a GitRepository's secretRef holds for HTTPS: basic auth, or a bearer token."""

    username: str = ""
    password: str = ""
    bearer_token: str = ""

    def header(self) -> str | None:
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
        proc = subprocess.run(
            [
                self._git,
                "-c",
                "uploadpack.allowAnySHA1InWant=true",
                "-c",
                "receive.denyCurrentBranch=updateInstead",
                service.removeprefix("git-"),
                "--stateless-rpc",
                *flags,
                str(repo.git_dir),
            ],
            input=stdin,
            capture_output=True,
            env={**GIT_ENV, "GIT_DIR": str(repo.git_dir)},
            check=False,
        )
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
        sha, _, name = line.decode().partition(" ")
        if name.endswith("^{}"):
            refs[name[:-3]] = sha
        elif name != "capabilities^{}":
            refs.setdefault(name, sha)
    return refs


class GitHttpClient:
    def __init__(self, git: str, cache: Path, endpoint: Callable[[str], str | None]) -> None:
        """`endpoint` maps a manifest's URL to the URL actually fetched (None: not found)."""
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
        (the fetch within `timeout_s` of wall time)."""
        repo = self._cache / hashlib.sha256(url.encode()).hexdigest()[:16]
        if not (repo / "HEAD").exists():
            repo.mkdir(parents=True, exist_ok=True)
            self._run(repo, "init", "--quiet", "--bare")
        if self._run(repo, "cat-file", "-t", sha, check=False) != b"commit\n":
            target = self._endpoint(url)
            if target is None:
                raise RemoteError("repository not found", not_found=True)
            extra = []
            if credentials is not None and (auth := credentials.header()):
                extra = ["-c", f"http.extraHeader=Authorization: {auth}"]
            self._run(
                repo, *extra, "fetch", "--quiet", "--no-tags", "--depth=1", target, sha, timeout_s=timeout_s
            )
        files = archives.unpack(self._run(repo, "archive", "--format=tar", sha))
        subject = self._run(repo, "log", "-1", "--format=%s", sha).decode().rstrip("\n")
        return Checkout(files, subject)

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def _run(self, repo: Path, *args: str, check: bool = True, timeout_s: float | None = None) -> bytes:
        try:
            proc = subprocess.run(
                [self._git, "-C", str(repo), *args],
                capture_output=True,
                env=dict(GIT_ENV),
                check=False,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as exc:
            raise RemoteError(DEADLINE) from exc
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
