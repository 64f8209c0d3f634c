"""How fast the shipped scenarios run: wall time per scenario and virtual-to-wall speed-up.

    python benchmarks/run_scenarios.py [PATH ...] [--repeat N] [--cache warm|cold|off]

Prints one line per scenario (median of N runs) and a total, with the build cache (`buildcache`,
kustomize builds and Helm renders) in a folder of the benchmark's own:
- `warm` (the default, as the CLI runs the second time): every scenario is run once first;
- `cold`: an empty cache for every run (what the first run of a scenario costs, writes included);
- `off`: no cache (as before the cache existed).
`figures(quick)` (for `benchmarks/run`) gives the median, the slowest and the total of the
scenarios' walls with a warm cache. Figures, not assertions: compare them across changes on the
same machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from gitops_sim.scenario import loader, runner

SCENARIOS = Path(__file__).parents[1] / "scenarios"
Cache = Literal["warm", "cold", "off"]


def _once(scenario: Any, cache_dir: Path | None) -> tuple[float, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        outcome = runner.run(scenario, Path(workdir), cache_dir=cache_dir)
        wall = time.perf_counter() - started
    assert outcome.passed, outcome.failure
    return wall, outcome


def measure(
    paths: Sequence[Path], repeat: int, cache: Cache, shown: bool = False
) -> list[tuple[str, float, Any]]:
    """(file name, median wall in seconds, last outcome) of each scenario under `paths`."""
    scenarios = [(path, loader.load(path)) for path in loader.discover(list(paths))]
    results: list[tuple[str, float, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gitops-sim-bench-cache-") as folder:
        if cache == "warm":
            for _, scenario in scenarios:
                _once(scenario, Path(folder))
        for i, (path, scenario) in enumerate(scenarios):
            walls, outcome = [], None
            for j in range(repeat):
                cache_dir = {"warm": Path(folder), "cold": Path(folder) / f"{i}-{j}", "off": None}[cache]
                wall, outcome = _once(scenario, cache_dir)
                walls.append(wall)
            wall = statistics.median(walls)
            results.append((path.name, wall, outcome))
            if shown:
                assert outcome is not None
                virtual = outcome.virtual_ms
                print(
                    f"{path.name:<28} wall {wall * 1000:7.1f} ms   virtual {virtual / 1000:8.1f} s   "
                    f"speed-up {virtual / 1000 / wall:8.0f}x   records {len(outcome.trace.records)}"
                )
    return results


def figures(quick: bool) -> list[dict[str, Any]]:
    """The shipped scenarios with a warm build cache: median, slowest and total wall (one run each
    when `quick`, else the median of three)."""
    walls = [wall for _, wall, _ in measure([SCENARIOS], 1 if quick else 3, "warm")]

    def figure(name: str, value: float, target: float) -> dict[str, Any]:
        return {
            "name": name,
            "value": round(value, 4),
            "unit": "s",
            "target": target,
            "better": "lower",
            "anchor": None,
        }

    chainsaw = "chainsaw's quick-start test: 5.25 s"
    return [
        figure("scenario wall, median (warm build cache)", statistics.median(walls), 0.05)
        | {"anchor": chainsaw},
        figure("scenario wall, slowest (warm build cache)", max(walls), 0.1) | {"anchor": chainsaw},
        figure("shipped scenarios, total wall (warm build cache)", sum(walls), 3.0)
        | {"note": f"{len(walls)} scenarios"},
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", type=Path, default=[SCENARIOS])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache", choices=["warm", "cold", "off"], default="warm")
    args = parser.parse_args()
    results = measure(args.paths, args.repeat, args.cache, shown=True)
    total = sum(wall for _, wall, _ in results)
    print(
        f"{'total':<28} wall {total * 1000:7.1f} ms (median of {args.repeat} runs each, {args.cache} cache)"
    )


if __name__ == "__main__":
    main()
