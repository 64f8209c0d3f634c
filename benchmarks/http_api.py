"""The HTTP front under load: requests/s and p99 latency, against a trivial HTTP server's floor.

    python benchmarks/http_api.py [--seconds 3] [--clients 16]

Starts, in their own processes, (a) the floor: a stdlib HTTP server answering a fixed JSON body,
and (b) gitops-sim's API server over an in-memory store holding 1,000 ConfigMaps. Then, from
16 client threads with keep-alive connections, it measures GET of one object, LIST of the 1,000,
and SSA apply, and prints requests/s, p99 latency and the ratio to the floor. Targets (issue 4):
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


def load(
    address: str, request: Callable[[http.client.HTTPConnection, int], None], clients: int, seconds: float
) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) for `clients` threads over `seconds`."""
    host, port = address.split(":")
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = threading.Event()

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.connect()
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            request(conn, slot * 1_000_000 + n)
            latencies[slot].append(time.perf_counter() - started)
            n += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    everything = sorted(x for slot in latencies for x in slot)
    p99 = everything[int(len(everything) * 0.99)] * 1000 if everything else float("nan")
    return len(everything) / seconds, p99


def get(conn: http.client.HTTPConnection, n: int) -> None:
    conn.request("GET", f"/api/v1/namespaces/bench/configmaps/cm-{n % 1000}")
    conn.getresponse().read()


def list_all(conn: http.client.HTTPConnection, n: int) -> None:
    conn.request("GET", "/api/v1/namespaces/bench/configmaps")
    conn.getresponse().read()


def apply(conn: http.client.HTTPConnection, n: int) -> None:
    body = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"cm-{n % 1000}"},
            "data": {"i": str(n)},
        }
    )
    conn.request(
        "PATCH",
        f"/api/v1/namespaces/bench/configmaps/cm-{n % 1000}?fieldManager=bench&force=true",
        body,
        {"Content-Type": "application/apply-patch+yaml"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    floor, floor_address = start(FLOOR)
    api, api_address = start(SERVE)
    try:
        floor_rps, floor_p99 = load(floor_address, get, args.clients, args.seconds)
        print(f"{'floor (fixed JSON)':<22} {floor_rps:>8,.0f} req/s  p99 {floor_p99:6.1f} ms")
        for name, fn in (("GET one object", get), ("LIST 1,000 objects", list_all), ("SSA apply", apply)):
            rps, p99 = load(api_address, fn, args.clients, args.seconds)
            print(f"{name:<22} {rps:>8,.0f} req/s  p99 {p99:6.1f} ms  ({rps / floor_rps:.0%} of the floor)")
    finally:
        for proc in (floor, api):
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
