"""What the simulation's upstream servers share: a threaded HTTP server on 127.0.0.1 that stops
cleanly, a quiet request handler, and a port that refuses connections (an unreachable host);
and what the clients of those servers share: `connect`, `HTTPConnection`.

The git, registry, chart and S3 servers (`sources.githttp`, `sources.registry`, `sources.charts`,
`sources.s3`) each subclass `Handler` with their protocol and run it in a `Server`. A `Server`
remembers its open connections so that `stop` can end kept-alive ones and join every request
thread (tests check that nothing is left running).

A hang fault (a server that takes a request and never answers) is real: the handler holds the
request (`Handler.hold`) and the client's read runs into its timeout. Only the wall time that
costs is not: the virtual clock never moved while a client waited, so a read on a connection
made by `connect` (or `HTTPConnection`) gives up as soon as a server of this process holds its
request, with the `TimeoutError` it would have raised at the deadline. Differs from a real hang
only in wall time; a TLS connection (`serve --tls`) still waits its timeout out.

Callers: the `sources` modules, and `notification` for webhooks. Reads only a `WallClock` (a
client's timeout is wall time).
"""

from __future__ import annotations

import contextlib
import http.client
import select
import selectors
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from gitops_sim.timing import clock as clocks

_held: set[tuple[str, int]] = set()
"""The client ends (address, port) of the connections whose request a server holds back."""
_held_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle delay, no access log; `send` writes a whole answer."""

    server_ref: ClassVar[Server]
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the simulation's trace is the log."""

    def setup(self) -> None:
        super().setup()
        self.server_ref.track(self.connection, True)

    def finish(self) -> None:
        self.server_ref.track(self.connection, False)
        super().finish()

    def hold(self) -> None:
        """Answer nothing until the server stops (a hang fault); the client times out."""
        end = (str(self.client_address[0]), int(self.client_address[1]))
        with _held_lock:
            _held.add(end)
        try:
            self.server_ref.stopping.wait(600)
        finally:
            with _held_lock:
                _held.discard(end)

    def send(self, status: int, body: bytes = b"", content_type: str = "text/plain", **headers: str) -> None:
        """Answer with `body` (not written for HEAD); `headers` as keyword names with `_` for `-`."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server:
    def __init__(self, handler: type[Handler], name: str, *, port: int = 0, **attributes: Any) -> None:
        """Serve `handler` (a subclass made for this server, with `attributes` set on it) on
        127.0.0.1:`port` (0: a free one)."""
        bound = type(handler.__name__, (handler,), {"server_ref": self, **attributes})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), bound)
        self._httpd.daemon_threads = False  # server_close joins them
        self._httpd.timeout = 1.0  # `handle_request` never blocks for long, should a connection vanish
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        """Set by `stop`: a handler that holds a request back (a hanging upstream) lets go."""
        self._wake, self._woken = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """Accept until `stop`. IMPLEMENTATION DETAIL: `serve_forever` notices a shutdown only at
        its next poll (20 ms, each of the 80 servers the shipped scenarios start waited about half
        of it on stopping); this loop wakes as `stop` writes to a socket pair."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._httpd, selectors.EVENT_READ)
            selector.register(self._woken, selectors.EVENT_READ)
            while not self.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._httpd and not self.stopping.is_set():
                        self._httpd.handle_request()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    def stop(self) -> None:
        """Stop serving, end kept-alive connections, and wait for their threads."""
        self.stopping.set()
        self._wake.send(b"\0")
        self._thread.join(timeout=5)
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._wake.close()
        self._woken.close()


class ClosedPort:
    """A bound socket that never listens: connecting to its address is refused."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._sock.getsockname()[1]}"

    def close(self) -> None:
        self._sock.close()


class _Watched(socket.socket):
    """A socket whose reads under a timeout give up as soon as a server of this process holds
    its request (see the module docstring)."""

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._wait_readable()
        return super().recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._wait_readable()
        return super().recv(bufsize, flags)

    def _wait_readable(self) -> None:
        timeout = self.gettimeout()
        if not timeout:
            return
        ready, _, _ = select.select([self], [], [], 0)
        if ready:
            return
        end = self.getsockname()[:2]
        wall = clocks.WallClock()
        pause = 0.001
        while True:
            left = timeout - wall.now() / 1000
            if left <= 0:
                raise TimeoutError("timed out")
            ready, _, _ = select.select([self], [], [], min(pause, left))
            if ready:
                return
            with _held_lock:
                held = end in _held
            if held:
                raise TimeoutError("timed out")
            pause = min(pause * 2, 0.05)


def connect(address: tuple[str, int], timeout: float | None = None) -> socket.socket:
    """`socket.create_connection`, on a socket whose reads give up when its request is held."""
    host, port = address
    failure: OSError | None = None
    for family, kind, proto, _, where in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = _Watched(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(where)
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        return sock
    raise failure or OSError(f"cannot resolve {host}")


class HTTPConnection(http.client.HTTPConnection):
    """`http.client.HTTPConnection` over `connect`."""

    def connect(self) -> None:
        self.sock = connect((self.host, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def is_loopback(host: str) -> bool:
    """Whether a host (with or without a port) is this machine: reached for real, not simulated."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.strip("[]") in ("127.0.0.1", "localhost", "::1")


class Hosting:
    """Base of what a simulation hosts (registries, chart repositories, S3 endpoints): a server
    started on first use, a refusing port for hosts made unreachable, and `close` for both."""

    def __init__(self) -> None:
        self._running: Any = None  # a Server, or anything with `address` and `stop()`
        self._closed: ClosedPort | None = None
        self.offline: Callable[[str], str | None] | None = None
        """Set by an offline mirror (`gitops_sim.mirror.serve`): what to add to the error for a
        URL nothing here serves (None: nothing), so that the message says how to mirror it."""

    def offline_note(self, url: str) -> str:
        """`: <what the offline mirror says>` about `url`, or "" (no mirror, or nothing to say)."""
        note = self.offline(url) if self.offline is not None else None
        return f": {note}" if note else ""

    def _start(self) -> Any:
        """Start the server (called once, on first use)."""
        raise NotImplementedError

    def serving(self) -> str:
        """The address of the server, started if it was not."""
        if self._running is None:
            self._running = self._start()
        return str(self._running.address)

    def refusing(self) -> str:
        """An address where connections are refused (an unreachable host)."""
        self._closed = self._closed or ClosedPort()
        return self._closed.address

    def close(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None
        if self._closed is not None:
            self._closed.close()
            self._closed = None
