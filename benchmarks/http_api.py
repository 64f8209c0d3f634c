"""The HTTP front under load: requests/s and p99 latency, against a trivial HTTP server's floor.

    python benchmarks/http_api.py [--seconds 3] [--clients 16] [--watchers 10]

Starts, in their own processes, (a) the floor: a stdlib HTTP server answering a fixed JSON body,
and (b) gitops-sim's API server over an in-memory store holding 1,000 ConfigMaps. Then, from
16 client threads, it measures GET of one object, LIST of the 1,000 and SSA apply, twice: with
raw keep-alive HTTP connections, and through `KubeCluster` (the official Python client, which
the engine uses on a real cluster). Last, watch fan-out: 10 watchers on the ConfigMaps while 4
writers apply; it counts the events delivered and the delay from write to delivery. Each line
gives requests (or events) per second, p99 latency and the ratio to the floor. Targets (issue 4):
GET ≥ 50% of the floor; SSA apply ≥ 1,000/s; p99 ≤ 20 ms at 16 clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import kubernetes.client

from gitops_sim.cluster import kube
from gitops_sim.model import refs

SERVE = """
import random, sys, time
from gitops_sim.cluster.http import server
from gitops_sim.cluster.memory import store
from gitops_sim.timing import clock as clocks
c = store.MemoryCluster(clocks.VirtualClock(), random.Random(0))
c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}, field_manager="b")
for i in range(1000):
    c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "bench"},
              "data": {"i": str(i)}}, field_manager="b")
api = server.ApiServer(c, clocks.VirtualClock())
api.start()
print(api.address, flush=True)
sys.stdin.read()
"""

FLOOR = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
BODY = b'{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"cm-1"},"data":{"i":"1"}}'
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY))); self.end_headers(); self.wfile.write(BODY)
    do_GET = do_PATCH = _answer
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
threading.Thread(target=s.serve_forever, daemon=True).start()
print(f"127.0.0.1:{s.server_address[1]}", flush=True)
sys.stdin.read()
"""


def start(code: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def connect(address: str) -> http.client.HTTPConnection:
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def client(address: str) -> kube.KubeCluster:
    configuration = kubernetes.client.Configuration()
    configuration.host = f"http://{address}"
    return kube.KubeCluster(kubernetes.client.ApiClient(configuration))


def p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[int(len(ordered) * 0.99)] * 1000 if ordered else float("nan")


def load(
    address: str,
    request: Callable[[Any, int], None],
    clients: int,
    seconds: float,
    session: Callable[[str], Any] = connect,
) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) for `clients` threads over `seconds`.

    Each thread opens its session (a connection, or a client) before the clock starts.
    """
    latencies: list[list[float]] = [[] for _ in range(clients)]
    ready = threading.Barrier(clients + 1)
    stop = threading.Event()

    def worker(slot: int) -> None:
        conn = session(address)
        ready.wait()
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            request(conn, slot * 1_000_000 + n)
            latencies[slot].append(time.perf_counter() - started)
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(map(len, latencies)) / seconds, p99_ms([x for slot in latencies for x in slot])


def get(conn: http.client.HTTPConnection, n: int) -> None:
    conn.request("GET", f"/api/v1/namespaces/bench/configmaps/cm-{n % 1000}")
    conn.getresponse().read()


def list_all(conn: http.client.HTTPConnection, n: int) -> None:
    conn.request("GET", "/api/v1/namespaces/bench/configmaps")
    conn.getresponse().read()


def configmap(n: int, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cm-{n % 1000}", "namespace": "bench"},
        "data": {"i": str(n), **data},
    }


def apply(conn: http.client.HTTPConnection, n: int, **data: str) -> None:
    body = json.dumps(configmap(n, **data))
    conn.request(
        "PATCH",
        f"/api/v1/namespaces/bench/configmaps/cm-{n % 1000}?fieldManager=bench&force=true",
        body,
        {"Content-Type": "application/apply-patch+yaml"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status


CONFIGMAPS = refs.GroupKind("", "ConfigMap")


def client_get(cluster: kube.KubeCluster, n: int) -> None:
    cluster.get(refs.ObjectRef("", "ConfigMap", "bench", f"cm-{n % 1000}"))


def client_list(cluster: kube.KubeCluster, n: int) -> None:
    cluster.list(CONFIGMAPS, namespace="bench")


def client_apply(cluster: kube.KubeCluster, n: int) -> None:
    cluster.apply(configmap(n), field_manager="bench", force=True)


def fan_out(address: str, watchers: int, writers: int, seconds: float) -> tuple[float, float, float]:
    """(writes/s, events delivered/s, p99 write-to-delivery ms): `watchers` raw watches on the
    ConfigMaps while `writers` threads apply, each write stamped with the time it was sent."""
    conn = connect(address)
    conn.request("GET", "/api/v1/namespaces/bench/configmaps?limit=1")
    since = json.loads(conn.getresponse().read())["metadata"]["resourceVersion"]
    delays: list[list[float]] = [[] for _ in range(watchers)]
    sockets: list[socket.socket] = []
    streams: list[http.client.HTTPResponse] = []
    for _ in range(watchers):
        watch = connect(address)
        watch.request("GET", f"/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion={since}")
        streams.append(watch.getresponse())
        assert watch.sock is not None
        sockets.append(watch.sock)

    def watcher(slot: int) -> None:
        try:
            for line in iter(streams[slot].readline, b""):
                sent = json.loads(line)["object"]["data"].get("sent")
                if sent is not None:
                    delays[slot].append(time.perf_counter() - float(sent))
        except (OSError, http.client.HTTPException):
            return  # the socket was shut down: the run is over

    readers = [threading.Thread(target=watcher, args=(i,)) for i in range(watchers)]
    for reader in readers:
        reader.start()
    writes, _ = load(address, lambda c, n: apply(c, n, sent=repr(time.perf_counter())), writers, seconds)
    time.sleep(0.5)  # let the last events arrive
    for sock in sockets:
        sock.shutdown(socket.SHUT_RDWR)  # wakes the reader; closing under it would block
    for reader in readers:
        reader.join()
    everything = [x for slot in delays for x in slot]
    return writes, len(everything) / seconds, p99_ms(everything)


def figures(quick: bool) -> list[dict[str, Any]]:
    """For `benchmarks/run`: GET and SSA apply throughput and GET's p99 at 16 clients, with the
    trivial server's GET throughput as the anchor (1 s per measurement when `quick`, else 3 s)."""
    seconds = 1.0 if quick else 3.0
    floor, floor_address = start(FLOOR)
    api, api_address = start(SERVE)
    try:
        floor_rps, _ = load(floor_address, get, 16, seconds)
        get_rps, get_p99 = load(api_address, get, 16, seconds)
        apply_rps, apply_p99 = load(api_address, apply, 16, seconds)
    finally:
        for proc in (floor, api):
            proc.terminate()
            proc.wait()
    anchor = f"a trivial HTTP server (fixed JSON): {floor_rps:,.0f} req/s"
    return [
        {
            "name": "API GET one object, 16 clients (target: half the floor)",
            "value": round(get_rps),
            "unit": "req/s",
            "target": round(floor_rps / 2),
            "better": "higher",
            "anchor": anchor,
            "note": f"{get_rps / floor_rps:.0%} of the floor",
        },
        {
            "name": "API GET one object, p99 latency at 16 clients",
            "value": round(get_p99 / 1000, 4),
            "unit": "s",
            "target": 0.02,
            "better": "lower",
            "anchor": None,
        },
        {
            "name": "API server-side apply, 16 clients",
            "value": round(apply_rps),
            "unit": "req/s",
            "target": 1000,
            "better": "higher",
            "anchor": None,
            "note": f"p99 {apply_p99:.1f} ms",
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=10)
    args = parser.parse_args()
    floor, floor_address = start(FLOOR)
    api, api_address = start(SERVE)
    try:
        floor_rps, floor_p99 = load(floor_address, get, args.clients, args.seconds)
        print(f"{'floor (fixed JSON)':<22} {floor_rps:>8,.0f} req/s  p99 {floor_p99:6.1f} ms")
        rows: list[tuple[str, Callable[[Any, int], None], Callable[[str], Any]]] = [
            ("GET one object", get, connect),
            ("LIST 1,000 objects", list_all, connect),
            ("SSA apply", apply, connect),
            ("client GET", client_get, client),
            ("client LIST 1,000", client_list, client),
            ("client SSA apply", client_apply, client),
        ]
        for name, fn, session in rows:
            rps, p99 = load(api_address, fn, args.clients, args.seconds, session)
            print(f"{name:<22} {rps:>8,.0f} req/s  p99 {p99:6.1f} ms  ({rps / floor_rps:.0%} of the floor)")
        writes, events, p99 = fan_out(api_address, args.watchers, 4, args.seconds)
        print(
            f"{f'watch fan-out ({args.watchers})':<22} {events:>8,.0f} events/s  p99 {p99:6.1f} ms"
            f"  ({events / floor_rps:.0%} of the floor; {writes:,.0f} writes/s)"
        )
    finally:
        for proc in (floor, api):
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
