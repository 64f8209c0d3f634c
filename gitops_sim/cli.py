"""The `gitops-sim` command: run, validate and list scenarios. A thin layer; no logic of its own.

    gitops-sim run PATH... [--trace FILE] [--quiet]
    gitops-sim validate PATH...
    gitops-sim list PATH...

Exit codes: 0 all passed; 1 a scenario failed; 2 a scenario could not be loaded or no scenario
was found. Each run gets a fresh scratch folder for its repositories and artifacts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from gitops_sim.scenario import loader, report, runner, schema
from gitops_sim.scenario.located import LoadError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gitops-sim", description="Flux, simulated: run GitOps scenarios.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios (files or folders) and print their timelines")
    run.add_argument("paths", nargs="+", type=Path)
    run.add_argument("--trace", type=Path, help="write the JSON trace of every scenario to this file")
    run.add_argument("--quiet", "-q", action="store_true", help="print only the verdicts and the summary")
    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("paths", nargs="+", type=Path)
    listing = sub.add_parser("list", help="list the scenarios found under the given paths")
    listing.add_argument("paths", nargs="+", type=Path)
    return parser


def _load_all(paths: Sequence[Path], console: Console) -> tuple[list[schema.Scenario], int]:
    files = loader.discover(paths)
    scenarios, errors = [], 0
    for file in files:
        try:
            scenarios.append(loader.load(file))
        except LoadError as exc:
            errors += 1
            console.print(f"[red]error[/red] {exc}", highlight=False, markup=True, soft_wrap=True)
    if not files:
        console.print(f"no scenarios found under {', '.join(map(str, paths))}")
    return scenarios, errors


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(highlight=False, soft_wrap=True)
    scenarios, load_errors = _load_all(args.paths, console)
    if args.command == "list":
        for sc in scenarios:
            console.print(f"{sc.path}  {sc.name}", markup=False)
        return 2 if load_errors or not scenarios else 0
    if args.command == "validate":
        console.print(f"{len(scenarios)} valid, {load_errors} invalid", markup=False)
        return 2 if load_errors or not scenarios else 0

    started = time.perf_counter()
    passed = failed = 0
    traces = []
    for sc in scenarios:
        with tempfile.TemporaryDirectory(prefix="gitops-sim-") as workdir:
            outcome = runner.run(sc, Path(workdir))
        report.print_outcome(console, outcome, show_timeline=not args.quiet)
        console.print()
        passed += outcome.passed
        failed += not outcome.passed
        traces.append(
            {
                "scenario": str(sc.path),
                "name": sc.name,
                "seed": sc.seed,
                "passed": outcome.passed,
                "records": outcome.trace.records,
            }
        )
    if args.trace:
        args.trace.write_text(json.dumps(traces, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
    console.print(f"[dim]{len(scenarios)} scenarios in {time.perf_counter() - started:.2f}s wall time[/dim]")
    console.print(report.summary(passed, failed + load_errors), markup=False)
    if load_errors or not scenarios:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
