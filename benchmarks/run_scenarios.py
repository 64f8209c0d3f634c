"""How fast the shipped scenarios run: wall time per scenario and virtual-to-wall speed-up.

    python benchmarks/run_scenarios.py [PATH ...] [--repeat N]

Prints one line per scenario (median of N runs) and a total. Figures, not assertions: compare
them across changes on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gitops_sim.scenario import loader, runner


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(__file__).parents[1] / "scenarios"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    total = 0.0
    for path in loader.discover(args.paths):
        scenario = loader.load(path)
        walls, virtual = [], 0
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as workdir:
                started = time.perf_counter()
                outcome = runner.run(scenario, Path(workdir))
                walls.append(time.perf_counter() - started)
            virtual = outcome.virtual_ms
            assert outcome.passed, outcome.failure
        wall = statistics.median(walls)
        total += wall
        print(
            f"{path.name:<28} wall {wall * 1000:7.1f} ms   virtual {virtual / 1000:8.1f} s   "
            f"speed-up {virtual / 1000 / wall:8.0f}x   records {len(outcome.trace.records)}"
        )
    print(f"{'total':<28} wall {total * 1000:7.1f} ms (median of {args.repeat} runs each)")


if __name__ == "__main__":
    main()
