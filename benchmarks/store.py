"""The in-memory API store under load: creates, server-side applies and watch fan-out.

    python benchmarks/store.py [--objects 100000] [--applies 10000] [--watchers 10]

Creates N ConfigMaps across 10 namespaces, then server-side applies a change to M of them under
a second field manager, with W watchers attached, and prints objects/s for each phase, watch
events/s delivered, and the process's peak RSS. Targets (issue 3): ≥ 20,000 creates/s,
≥ 5,000 SSA applies/s, 100k objects in ≤ 1 GiB RSS.

`--gc paused` runs the timed loops with Python's cyclic collector paused, as every scenario run
does (CLI, pytest, `testing.run_scenario`; see `gitops_sim.scenario.runner.collector_paused`);
`--gc default` leaves it as Python starts it.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import resource
import time
from typing import Any

from gitops_sim.cluster import backend
from gitops_sim.cluster.memory import store
from gitops_sim.scenario import runner
from gitops_sim.timing import clock as clocks


def configmap(i: int, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cm-{i}", "namespace": f"ns-{i % 10}", "labels": {"app": f"a{i % 100}"}},
        "data": {"index": str(i), **data},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--applies", type=int, default=10_000)
    parser.add_argument("--watchers", type=int, default=10)
    parser.add_argument("--gc", choices=["default", "paused"], default="paused")
    args = parser.parse_args()
    pause = runner.collector_paused() if args.gc == "paused" else contextlib.nullcontext()

    cluster = store.MemoryCluster(clocks.VirtualClock(), random.Random(0))
    for n in range(10):
        cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{n}"}}, field_manager="b"
        )
    delivered = [0]

    def watcher(_: backend.WatchEvent) -> None:
        delivered[0] += 1

    for _ in range(args.watchers):
        cluster.watch(watcher)

    with pause:
        started = time.perf_counter()
        for i in range(args.objects):
            cluster.create(configmap(i), field_manager="bench")
        create_s = time.perf_counter() - started

        started = time.perf_counter()
        for i in range(args.applies):
            cluster.apply(configmap(i, owner="bench-apply"), field_manager="applier", force=True)
        apply_s = time.perf_counter() - started

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"creates      {args.objects:>8} in {create_s:6.2f}s  {args.objects / create_s:>9,.0f}/s")
    print(f"SSA applies  {args.applies:>8} in {apply_s:6.2f}s  {args.applies / apply_s:>9,.0f}/s")
    print(
        f"watch events {delivered[0]:>8} to {args.watchers} watchers  "
        f"{delivered[0] / (create_s + apply_s):>9,.0f}/s"
    )
    print(f"peak RSS     {rss_mib:,.0f} MiB   (garbage collector: {args.gc})")


if __name__ == "__main__":
    main()
