"""HTTP endpoints that receive what notification-controller sends (alert sinks), and the client
that sends it.

What it does:
- `Sinks` hosts the endpoints a scenario declares, each under the URL its Provider names
  (`https://hooks.slack.com/services/T0/B0/X`, `https://github.example.com`): one recorder server
  on 127.0.0.1 answers for every declared host (virtual hosting by the `Host` header, as the
  registries do), records each request (method, path, headers, body, the virtual time), and
  answers 200 unless a fault says otherwise: `down` (connections refused), `unavailable` (503),
  `hang` (no answer, so the sender's timeout runs out, in wall time).
- `post(url, headers, body, timeout_s)` sends one request to a URL: a declared sink's host goes to
  the recorder, a URL on this machine (127.0.0.1, localhost) is reached as written (a server a test
  or a user started), and any other host is `no such host`, without a network request: a
  simulation never leaves the machine. Errors read as Go's net/http client words them
  (`Post "<url>": dial tcp …: connect: connection refused`, `… context deadline exceeded`); the
  caller masks tokens in them as Flux does.

Callers: the notification controller (deliveries), the scenario runner (declares sinks, reads what
they received, injects faults). Never reads the real time: received requests are stamped with the
simulation clock given to `Sinks`; never sends a request off this machine.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from gitops_sim.sources import loopback

Fault = Literal["down", "unavailable", "hang"]
FAULTS: tuple[Fault, ...] = ("down", "unavailable", "hang")
MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    """One request a sink received."""

    sink: str
    t_ms: int
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


class DeliveryError(Exception):
    """A request that got no HTTP answer, in Go's net/http words."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


class _Handler(loopback.Handler):
    sinks: Sinks

    def do_POST(self) -> None:
        self._record()

    def do_PUT(self) -> None:
        self._record()

    def do_GET(self) -> None:
        self._record()

    def _record(self) -> None:
        host = self.headers.get("Host", "")
        name = self.sinks.by_host.get(host)
        length = int(self.headers.get("Content-Length") or 0)
        if name is None:
            self.send(404, b"no such sink\n")
            return
        if length > MAX_BODY:
            self.send(413, b"request too large\n")
            return
        body = self.rfile.read(length)
        fault = self.sinks.faults.get(name)
        if fault == "hang":
            self.hold()
            return
        self.sinks.record(
            Received(name, self.sinks.now(), self.command, self.path, tuple(self.headers.items()), body)
        )
        if fault == "unavailable":
            self.send(503, b"service unavailable\n")
            return
        self.send(200, b"ok\n")


class Sinks(loopback.Hosting):
    """The alert sinks of a simulation (see the module docstring)."""

    def __init__(self, now: Callable[[], int]) -> None:
        super().__init__()
        self.now = now
        """The simulation's time in ms, stamped on each request received."""
        self.by_host: dict[str, str] = {}
        """Host (with port when the URL has one) -> sink name."""
        self.faults: dict[str, Fault] = {}
        self._received: list[Received] = []
        self._lock = threading.Lock()

    def _start(self) -> loopback.Server:
        return loopback.Server(_Handler, "gitops-sim-sinks", sinks=self)

    def declare(self, name: str, url: str) -> None:
        """Host the sink `name` at `url`'s host (its scheme's default port when none is given)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a sink's url must be http(s)://host[:port][/path]; got {url!r}")
        if parts.netloc in self.by_host:
            raise ValueError(f"sinks {self.by_host[parts.netloc]!r} and {name!r} have the same host")
        self.by_host[parts.netloc] = name

    def record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    def received(self, name: str | None = None) -> list[Received]:
        """What `name` (or every sink) received, oldest first."""
        with self._lock:
            return [r for r in self._received if name is None or r.sink == name]

    def set_fault(self, name: str, fault: Fault | None) -> None:
        if name not in self.by_host.values():
            raise KeyError(name)
        if fault is None:
            self.faults.pop(name, None)
        else:
            self.faults[name] = fault

    def route(self, url: str) -> tuple[str, str, str] | None:
        """(address to connect to, Host header, scheme to speak) for `url`; None: no such host."""
        parts = urlsplit(url)
        name = self.by_host.get(parts.netloc)
        if name is not None:
            if self.faults.get(name) == "down":
                return self.refusing(), parts.netloc, "http"
            return self.serving(), parts.netloc, "http"  # TLS to a sink is not simulated
        if loopback.is_loopback(parts.netloc):
            port = parts.port or (443 if parts.scheme == "https" else 80)
            return f"{parts.hostname}:{port}", parts.netloc, parts.scheme
        return None

    def post(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout_s: float,
        *,
        method: str = "POST",
    ) -> Answer:
        """Send one request (see the module docstring); raises DeliveryError without an answer."""
        verb = method.capitalize()
        routed = self.route(url)
        parts = urlsplit(url)
        if routed is None:
            raise DeliveryError(f'{verb} "{url}": dial tcp: lookup {parts.hostname}: no such host')
        address, host, scheme = routed
        hostname, _, port = address.rpartition(":")
        conn: http.client.HTTPConnection = (
            http.client.HTTPSConnection(hostname, int(port), timeout=timeout_s)
            if scheme == "https"
            else loopback.HTTPConnection(hostname, int(port), timeout=timeout_s)
        )
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            conn.request(method, target, body=body, headers={**headers, "Host": host})
            response = conn.getresponse()
            return Answer(response.status, response.read())
        except ConnectionRefusedError as exc:
            shown = parts.netloc if ":" in parts.netloc else f"{parts.hostname}:{parts.port or 443}"
            raise DeliveryError(f'{verb} "{url}": dial tcp {shown}: connect: connection refused') from exc
        except TimeoutError as exc:
            raise DeliveryError(
                f'{verb} "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(f'{verb} "{url}": {exc}') from exc
        finally:
            conn.close()


@dataclass(frozen=True, slots=True)
class Request:
    """One request to the inbound server, read whole (body within `MAX_BODY`)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    too_large: bool = False

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


Handle = Callable[[Request], Answer]


class _InboundHandler(loopback.Handler):
    inbound: Inbound

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        too_large = length > MAX_BODY
        body = b"" if too_large else self.rfile.read(length)
        request = Request(self.command, self.path, tuple(self.headers.items()), body, too_large)
        answer = self.inbound.dispatch(request)
        self.send(answer.status, answer.body)
        if too_large:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class Inbound:
    """An HTTP server on 127.0.0.1 for what outside systems send in (notification-controller's
    receiver server): every request goes to the handler a controller installs, under `lock` when
    one is given (the served API's lock, so a call never races the engine); 404 until then."""

    def __init__(self, port: int = 0, lock: AbstractContextManager[Any] | None = None) -> None:
        self._port = port
        self._lock = lock
        self._handle: Handle | None = None
        self._server: loopback.Server | None = None

    def install(self, handle: Handle) -> None:
        self._handle = handle

    def use_lock(self, lock: AbstractContextManager[Any]) -> None:
        self._lock = lock

    @property
    def address(self) -> str:
        """`127.0.0.1:<port>`, the server started if it was not."""
        if self._server is None:
            self._server = loopback.Server(
                _InboundHandler, "gitops-sim-receiver", port=self._port, inbound=self
            )
        return self._server.address

    def dispatch(self, request: Request) -> Answer:
        if self._handle is None:
            return Answer(404, b"404 page not found\n")
        if self._lock is None:
            return self._handle(request)
        with self._lock:
            return self._handle(request)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
