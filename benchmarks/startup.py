"""How long `gitops-sim --version` and `gitops-sim validate <one scenario>` take, start to exit.

    python benchmarks/startup.py [--runs 15]

Each command runs as its own process (the `gitops-sim` script beside this Python, else
`python -m gitops_sim`), a few times unmeasured and then `--runs` times; the figures are the
median wall time, against a target of 300 ms each, and the median CPU time (user + system) the
process used, which other work on a shared machine stretches less than the wall time. The
scenario validated is `scenarios/basics/first-sync.yaml`. Bytecode is cached as an installed
package has it: the processes write and read `.pyc` files in a scratch folder
(`PYTHONPYCACHEPREFIX`), whatever `PYTHONDONTWRITEBYTECODE` says, and the unmeasured runs fill
it. To see where the time goes:
`python -X importtime -m gitops_sim validate FILE 2>&1 | sort -t'|' -k2 -n | tail -30`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "basics" / "first-sync.yaml"
TARGET_S = 0.3
WARMUP = 2


def _command() -> list[str]:
    script = Path(sys.executable).parent / "gitops-sim"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gitops_sim"]


def _commands() -> dict[str, list[str]]:
    base = _command()
    return {
        "gitops-sim --version": [*base, "--version"],
        "gitops-sim validate one scenario": [*base, "validate", str(SCENARIO)],
    }


def _env(pycache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # noqa: TID251
    return {**env, "PYTHONPYCACHEPREFIX": pycache}


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure(argv: list[str], runs: int, pycache: str) -> tuple[float, float]:
    """The median wall time and median CPU time, in seconds, of `runs` runs of `argv` (after
    `WARMUP` unmeasured ones)."""
    env = _env(pycache)
    walls, cpus = [], []
    for i in range(WARMUP + runs):
        cpu, started = _children_cpu(), time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stdout}{done.stderr}")
        if i >= WARMUP:
            walls.append(wall)
            cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def figures(quick: bool) -> list[dict[str, Any]]:
    runs = 5 if quick else 15
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gitops-sim-pycache-") as pycache:
        for label, argv in _commands().items():
            wall, cpu = measure(argv, runs, pycache)
            common = {"unit": "s", "better": "lower", "anchor": None, "note": f"median of {runs} runs"}
            out.append({"name": f"{label}, wall", "value": wall, "target": TARGET_S, **common})
            out.append({"name": f"{label}, cpu", "value": cpu, "target": None, **common})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="measured runs of each command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitops-sim-pycache-") as pycache:
        for label, argv in _commands().items():
            wall, cpu = measure(argv, args.runs, pycache)
            verdict = "meets" if wall <= TARGET_S else "misses"
            print(
                f"{label}: {wall * 1000:.0f} ms wall ({verdict} the {TARGET_S * 1000:.0f} ms target), "
                f"{cpu * 1000:.0f} ms cpu; medians of {args.runs} runs"
            )


if __name__ == "__main__":
    main()
