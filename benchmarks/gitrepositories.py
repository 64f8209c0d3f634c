"""Many GitRepositories on the virtual clock: reconciles per wall second, with and without change.

    python benchmarks/gitrepositories.py [--count 500] [--minutes 10]

Each GitRepository has its own hosted repository (served over smart HTTP on 127.0.0.1) and a 1m
interval. Phase 1 stores every first artifact (a fetch, an archive, a pack each). Phase 2 lets
`--minutes` pass with no upstream change: each reconcile lists the remote's refs (one HTTP request)
and finds its artifact current, so nothing is cloned or packed again. Phase 3 commits to every
repository, then lets one interval pass: each reconcile fetches and archives the new commit.
Target (issue 5): at least 2,000 no-change reconciles per wall second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from gitops_sim.engine import simulation
from gitops_sim.model import flux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--minutes", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        sim = simulation.Simulation(simulation.Settings(Path(workdir)))
        queue = sim.queues[flux.GITREPOSITORY.group_kind]
        started = time.perf_counter()
        repos = []
        for i in range(args.count):
            repo = sim.git.create(f"app-{i}", f"https://git.example.com/team/app-{i}")
            repo.commit({"deploy/cm.yaml": f"kind: ConfigMap\nmetadata: {{name: app-{i}}}\n"}, "init")
            repos.append(repo)
            sim.cluster.apply(
                {
                    "apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "GitRepository",
                    "metadata": {"name": f"app-{i}", "namespace": "flux-system"},
                    "spec": {"url": repo.url, "interval": "1m", "ref": {"branch": "main"}},
                },
                field_manager="bench",
            )
        setup = time.perf_counter() - started

        def phase(ms: int) -> tuple[int, float]:
            before, t0 = queue.processed, time.perf_counter()
            sim.advance(ms)
            return queue.processed - before, time.perf_counter() - t0

        first, first_s = phase(5_000)
        steady, steady_s = phase(args.minutes * 60_000)
        for repo in repos:
            repo.commit({"deploy/cm.yaml": "kind: ConfigMap\nmetadata: {name: changed}\n"}, "change")
        changed, changed_s = phase(70_000)
        sim.close()
    print(f"{args.count} GitRepositories (setup: repositories and objects in {setup:.1f}s)")
    print(f"first artifacts   {first:6d} reconciles in {first_s:6.2f}s  {first / first_s:8.0f}/s")
    print(f"no change         {steady:6d} reconciles in {steady_s:6.2f}s  {steady / steady_s:8.0f}/s")
    print(f"one commit each   {changed:6d} reconciles in {changed_s:6.2f}s  {changed / changed_s:8.0f}/s")


if __name__ == "__main__":
    main()
