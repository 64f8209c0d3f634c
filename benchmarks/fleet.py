"""A fleet of Kustomizations over 24 virtual hours: wall time and simulated/wall ratio.

    python benchmarks/fleet.py [--count 1000] [--hours 24] [--cache warm|cold|off] [--profile {1,2}]

One repository holds `--count` folders of 10 objects each (8 ConfigMaps, a Service and a
Deployment, in the folder's own namespace); one GitRepository (interval 24h, so the source is
quiet) and `--count` Kustomizations (interval 10m, prune on) apply them. Phase 1 is the first
apply of everything (one kustomize build per folder, the rollouts of the simulated workloads);
phase 2 lets `--hours` pass: every Kustomization re-fetches its artifact, re-builds (cached by
content), dry-runs its 10 objects for drift, and finds nothing to write, as Flux does each
interval. Target (issue 6): 1,000 × 24h (144,000 reconciles) in at most 60s wall on 2 cores;
(issue 21) the first apply of 1,000 in at most 30s.

`--cache` is the kustomize build cache (`buildcache`) the first apply reads: `warm` (the
default: a throwaway simulation applies the same fleet first, unmeasured, into a fresh cache
folder, as a second `gitops-sim run` of a repository finds it), `cold` (an empty folder) or
`off` (no cache: one kustomize process per folder). `--profile 1` or `2` prints cProfile's top
entries for that phase.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from gitops_sim.engine import simulation
from gitops_sim.model import flux

OBJECTS = """apiVersion: v1
kind: Namespace
metadata: {{name: team-{i}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: team-{i}}}
spec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: team-{i}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: "nginx:1.27"}}]}}
"""
CONFIGMAP = """---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings-{n}, namespace: team-{i}}}
data: {{n: "{n}"}}
"""


def measure(count: int, hours: float, profile: int = 0, cache: str = "warm") -> dict[str, float]:
    """Set up `count` Kustomizations, apply them (phase 1), let `hours` pass (phase 2); `cache`
    and `profile` as the module says."""
    with tempfile.TemporaryDirectory() as folder:
        cache_dir = None if cache == "off" else Path(folder) / "cache"
        if cache == "warm":
            with tempfile.TemporaryDirectory() as workdir:
                _apply(simulation.Simulation(simulation.Settings(Path(workdir), cache_dir=cache_dir)), count)
        with tempfile.TemporaryDirectory() as workdir:
            return _measure(
                simulation.Simulation(simulation.Settings(Path(workdir), cache_dir=cache_dir)),
                count,
                hours,
                profile,
            )


def _apply(sim: simulation.Simulation, count: int) -> None:
    """The fleet's first apply only (warming the build cache)."""
    _setup(sim, count)
    sim.advance(60_000)
    sim.close()


def _setup(sim: simulation.Simulation, count: int) -> None:
    """The repository, its GitRepository and the `count` Kustomizations."""
    files = {
        f"teams/{i}/all.yaml": OBJECTS.format(i=i) + "".join(CONFIGMAP.format(i=i, n=n) for n in range(8))
        for i in range(count)
    }
    sim.git.create("fleet", "https://github.com/acme/fleet").commit(files, "fleet")
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {
                "url": "https://github.com/acme/fleet",
                "interval": "24h",
                "ref": {"branch": "main"},
            },
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


def _measure(sim: simulation.Simulation, count: int, hours: float, profile: int) -> dict[str, float]:
    queue = sim.queues[flux.KUSTOMIZATION.group_kind]
    started = time.perf_counter()
    _setup(sim, count)
    setup = time.perf_counter() - started
    cpu: list[float] = []

    def phase(number: int, ms: int) -> tuple[int, float]:
        profiler = cProfile.Profile() if profile == number else None
        before, t0, c0 = queue.processed, time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        sim.advance(ms)
        if profiler is not None:
            profiler.disable()
        cpu.append(time.process_time() - c0)
        done = queue.processed - before, time.perf_counter() - t0
        if profiler is not None:
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
        return done

    first, first_s = phase(1, 60_000)
    ms = int(hours * 3_600_000)
    steady, steady_s = phase(2, ms)
    hits = sim.build_cache.counts.hits if sim.build_cache is not None else 0
    sim.close()
    return {
        "setup_s": setup,
        "first": first,
        "first_s": first_s,
        "steady": steady,
        "steady_s": steady_s,
        "ratio": ms / 1000 / steady_s,
        "cpu_s": cpu[-1],
        "cache_hits": hits,
    }


def figures(quick: bool) -> list[dict[str, object]]:
    count, hours = (100, 2.0) if quick else (1000, 24.0)
    m = measure(count, hours)
    return [
        {
            "name": f"fleet: first apply of {count} Kustomizations (warm build cache), wall",
            "value": m["first_s"],
            "unit": "s",
            "target": 30.0 * count / 1000,
            "better": "lower",
            "anchor": None,
        },
        {
            "name": f"fleet: {hours:g}h of {count} Kustomizations, no change, simulated/wall",
            "value": m["ratio"],
            "unit": "x",
            "target": 1440.0,
            "better": "higher",
            "anchor": None,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--cache", choices=("warm", "cold", "off"), default="warm")
    parser.add_argument("--profile", type=int, choices=(1, 2), default=0, help="profile phase 1 or 2")
    args = parser.parse_args()
    m = measure(args.count, args.hours, args.profile, args.cache)
    print(
        f"{args.count} Kustomizations x 10 objects (setup: repository and objects in {m['setup_s']:.1f}s; "
        f"build cache {args.cache}, {m['cache_hits']:.0f} hits)"
    )
    print(
        f"first apply      {m['first']:7.0f} reconciles in {m['first_s']:6.2f}s  "
        f"{m['first'] / m['first_s']:8.0f}/s"
    )
    print(
        f"{args.hours:g}h, no change  {m['steady']:7.0f} reconciles in {m['steady_s']:6.2f}s  "
        f"{m['steady'] / m['steady_s']:8.0f}/s  simulated/wall = {m['ratio']:,.0f}x  (cpu {m['cpu_s']:.2f}s)"
    )
    print(f"total wall {m['setup_s'] + m['first_s'] + m['steady_s']:.1f}s for {args.count} Kustomizations")


if __name__ == "__main__":
    main()
