"""Notifications at fleet scale: what routing events to Alerts adds to a fleet run, and how fast
notifications are delivered to a local sink.

    python benchmarks/notifications.py [--count 1000] [--alerts 200] [--hours 24] [--quick]

1. Routing overhead: the fleet of `benchmarks/fleet.py` (`--count` Kustomizations of 10 objects,
   one quiet GitRepository) runs `--hours` of virtual time twice: once with no Alert, once with
   `--alerts` Alerts (each names `count / alerts` Kustomizations, severity `error`, as an on-call
   alert would) and their generic Provider to a local sink. Every event of every Kustomization is
   routed (rate limit, metadata, the Alerts' sources and severity) and, the fleet being healthy,
   none is delivered. Printed: both wall times, the overhead, events routed per second. Target
   (issue 17): routing adds at most 20% to the fleet run.
2. Deliveries: 1,000 info events of a GitRepository go through one Alert to a generic sink over
   real HTTP; printed: deliveries per second.

`--quick` runs 200 Kustomizations and 20 Alerts for 6 hours.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.notification import event as ev

SINK = "https://hooks.example.com"


def _fleet(sim: simulation.Simulation, count: int) -> None:
    files = {
        f"teams/{i}/cm.yaml": "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings-{n}, namespace: default}}\n"
            for n in range(i * 10, i * 10 + 10)
        )
        for i in range(count)
    }
    sim.git.create("fleet", "https://github.com/acme/fleet").commit(files, "fleet")
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {"url": "https://github.com/acme/fleet", "interval": "24h", "ref": {"branch": "main"}},
        },
        field_manager="bench",
    )
    for i in range(count):
        sim.cluster.apply(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": f"team-{i}", "namespace": "flux-system"},
                "spec": {
                    "interval": "10m",
                    "path": f"./teams/{i}",
                    "prune": True,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                },
            },
            field_manager="bench",
        )


def _alerts(sim: simulation.Simulation, count: int, alerts: int, severity: str) -> None:
    sim.sinks.declare("hook", SINK)
    sim.cluster.apply(
        {
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Provider",
            "metadata": {"name": "hook", "namespace": "flux-system"},
            "spec": {"type": "generic", "address": f"{SINK}/flux"},
        },
        field_manager="bench",
    )
    per = max(count // alerts, 1)
    for a in range(alerts):
        sources: list[dict[str, Any]] = [
            {"kind": "Kustomization", "name": f"team-{i}"} for i in range(a * per, min((a + 1) * per, count))
        ]
        sim.cluster.apply(
            {
                "apiVersion": "notification.toolkit.fluxcd.io/v1",
                "kind": "Alert",
                "metadata": {"name": f"on-call-{a}", "namespace": "flux-system"},
                "spec": {"providerRef": {"name": "hook"}, "eventSeverity": severity, "eventSources": sources},
            },
            field_manager="bench",
        )


def _run(count: int, alerts: int, hours: float) -> tuple[float, int, int]:
    """(wall seconds of the steady phase, events posted to the event server, deliveries)."""
    with tempfile.TemporaryDirectory() as workdir:
        sim = simulation.Simulation(simulation.Settings(Path(workdir)))
        posted = [0]
        sim.recorder.forward_to(lambda event: posted.__setitem__(0, posted[0] + 1))
        try:
            if alerts:
                _alerts(sim, count, alerts, "error")
            _fleet(sim, count)
            sim.advance(120_000)
            before = posted[0]
            started = time.perf_counter()
            sim.advance(int(hours * 3_600_000))
            wall = time.perf_counter() - started
            return wall, posted[0] - before, len(sim.sinks.received())
        finally:
            sim.close()


def _deliveries(n: int) -> float:
    with tempfile.TemporaryDirectory() as workdir:
        sim = simulation.Simulation(simulation.Settings(Path(workdir)))
        try:
            _alerts(sim, 1, 1, "info")
            sim.cluster.apply(
                {
                    "apiVersion": "notification.toolkit.fluxcd.io/v1",
                    "kind": "Alert",
                    "metadata": {"name": "sources", "namespace": "flux-system"},
                    "spec": {
                        "providerRef": {"name": "hook"},
                        "eventSources": [{"kind": "GitRepository", "name": "*"}],
                    },
                },
                field_manager="bench",
            )
            obj = ev.ObjectReference("GitRepository", "flux-system", "fleet", "source.toolkit.fluxcd.io/v1")
            events = [
                ev.Event(
                    obj,
                    "info",
                    "2025-01-01T00:00:00Z",
                    f"stored artifact {i}",
                    "NewArtifact",
                    "source-controller",
                )
                for i in range(n)
            ]
            started = time.perf_counter()
            for event in events:
                sim.recorder._sinks[0](event)  # the event server, as the recorder hands it events
            wall = time.perf_counter() - started
            assert len(sim.sinks.received("hook")) == n
            return n / wall
        finally:
            sim.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=200)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.count, args.alerts, args.hours = 200, 20, 6
    bare, events, _ = _run(args.count, 0, args.hours)
    routed, events_routed, delivered = _run(args.count, args.alerts, args.hours)
    overhead = 100 * (routed - bare) / bare
    print(f"{args.count} Kustomizations, {args.hours:g}h of virtual time")
    print(f"  without Alerts: {bare:.1f}s wall ({events} events posted, none routed)")
    print(
        f"  with {args.alerts} Alerts: {routed:.1f}s wall, {events_routed} events routed "
        f"({events_routed / routed:,.0f}/s), {delivered} delivered"
    )
    print(f"  routing adds {overhead:.1f}% (target ≤ 20%: {'met' if overhead <= 20 else 'MISSED'})")
    print(f"deliveries to a local generic sink over HTTP: {_deliveries(1000):,.0f}/s")


if __name__ == "__main__":
    main()
