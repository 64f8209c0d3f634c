"""What the simulation's upstream servers share: a threaded HTTP server on 127.0.0.1 that stops
cleanly, a quiet request handler, and a port that refuses connections (an unreachable host).

The git, registry, chart and S3 servers (`sources.githttp`, `sources.registry`, `sources.charts`,
`sources.s3`) each subclass `Handler` with their protocol and run it in a `Server`. A `Server`
remembers its open connections so that `stop` can end kept-alive ones and join every request
thread (tests check that nothing is left running).

Callers: the `sources` modules. Never reads the clock.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


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
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        """Set by `stop`: a handler that holds a request back (a hanging upstream) lets go."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name=name, daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def track(self, conn: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(conn)

    def stop(self) -> None:
        """Stop serving, end kept-alive connections, and wait for their threads."""
        self.stopping.set()
        self._httpd.shutdown()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(timeout=5)


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
