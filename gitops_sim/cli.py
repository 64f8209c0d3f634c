"""The `gitops-sim` command: run, serve, validate and list. A thin layer; no logic of its own.

    gitops-sim run PATH... [--trace FILE] [--report FILE.html] [--junit FILE [--junit-steps]] [--quiet]
                           [-k EXPR] [--seed N] [--horizon DURATION] [--max-wall SECONDS]
                           [--serve [--pace X] [--port N] [--tls] [--kubeconfig-out PATH]]
                           [--kubeconfig PATH [--context NAME] | --cluster k3s] [--pace X] [--no-cache]
    gitops-sim serve [--port N] [--kubeconfig-out PATH] [--pace X] [--tls] [--token T | --token-file F]
                     [--no-flux] [--receiver-port N] [--repo NAME=DIR[,url=URL]]...
    gitops-sim validate PATH... [--horizon DURATION]
    gitops-sim list PATH...
    gitops-sim up FOLDER [--path DIR] [--for DURATION] [--report FILE.html] [--trace FILE]
                  [--stub-unknown-kinds] [--no-cache]
    gitops-sim schema [--trace] [--output FILE]
    gitops-sim explain Kind/NAMESPACE/NAME SCENARIO_OR_TRACE [--scenario NAME]
    gitops-sim explain imageupdateautomation NAME SCENARIO [--namespace NS]
    gitops-sim flux check|install|uninstall|version|get|reconcile|suspend|resume|bootstrap|events|tree
                    |stats|export|create|delete|migrate|build ks|diff ks …  (`fluxcli`: Flux 2.10's flags)
                    [--kubeconfig FILE] [--context NAME] [-n NAMESPACE] [--timeout DURATION]
    gitops-sim flux build helmrelease NAME --path DIR [--namespace NS] [--chart DIR_OR_TGZ] [--hooks]
    gitops-sim flux diff helmrelease NAME --path DIR [--namespace NS] [--chart DIR_OR_TGZ]
                                    --kubeconfig FILE [--context NAME]
    gitops-sim --version

Exit codes of `run`: 0 every scenario found loaded and passed; 1 at least one scenario ran and
something went wrong: a scenario failed (or was stopped by `--max-wall`), or another file could
not be loaded; 2 nothing ran: no scenario was found, none could be loaded, or the cluster given
cannot be used. A file that cannot be loaded is reported (file:line:column: field: what is wrong)
and the others still run. `validate` and `list` exit 2 when any file cannot be loaded or none
was found, else 0; `validate` also sends every object a scenario applies to a throwaway API
server as a dry run (`scenario.validate`), and a file with an object it refuses is invalid.
Each run gets a fresh scratch folder for its repositories and artifacts. `run` and `up` keep
kustomize builds and Helm renders in a content-addressed cache (`buildcache`) shared by runs:
`$GITOPS_SIM_CACHE`, else `$XDG_CACHE_HOME/gitops-sim`, else `~/.cache/gitops-sim` (bounded to
1 GiB, least recently used first out; deleting the folder is always safe); `--no-cache` builds
without it.

`--horizon` (default 8760h, one year) is the virtual time a scenario may ask for: its
`advance`s and `within`s added up; a scenario asking for more is refused when it is loaded.
`--max-wall` stops a scenario that has run that many wall-clock seconds, at the step it is on:
it counts as failed, and the next scenario runs. Everything printed from scenario files (names,
keys, messages, paths) is shown literally (`report.printable`; never rich markup).

`serve` is a cluster with Flux installed (`--no-flux`: without, until `flux install` or its
manifests put it there): the in-memory API on 127.0.0.1, served over HTTP, with
the engine reconciling whatever is applied to it, in wall-clock time times `--pace`. `run --serve`
serves each scenario while it runs, its virtual time paced the same way, so that kubectl can watch.
`run --kubeconfig` (an existing cluster) and `run --cluster k3s` (k3s in Docker, removed after)
run the scenarios on a real API server in wall-clock time (times `--pace`, default 1), and delete
what each scenario created before the next one starts.
`explain imageupdateautomation` runs one scenario to its end, prints its verdict, then the
automation's chain from the state it left (`engine.explain`): tags seen, excluded and filtered,
each policy's choice, the markers per file, and the changes made or why none; exit 0 when it
could explain, 2 when the scenario did not load or the automation does not exist.
`flux build helmrelease` prints, as YAML documents, what a HelmRelease in a repository folder
would apply (no cluster; `helm.build`), and exits 2 on an error (printed on stderr, naming the file).
`flux diff helmrelease` compares that with a kubeconfig's cluster and prints the changes as
`flux diff kustomization` does: exit 1 when there are changes, 0 when none, 2 on error.
This module is the one place below which nothing reads the real time or the environment.

IMPLEMENTATION DETAIL: Problem: importing every command's modules up front (the engine and all
its controllers, the Helm engine, the `kubernetes` client, the HTTP server) cost over a second
before `--version` could print. Solution: each command imports what it runs inside the function
that runs it; at the top stand only the standard library and `model.duration`/`model.flux`, which
the parser needs. `tests/test_startup.py` keeps `--version` and `validate` free of the
`kubernetes` client and the engine.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gitops_sim.model import duration, flux

if TYPE_CHECKING:
    from rich.console import Console

    from gitops_sim.cluster import backend
    from gitops_sim.engine import simulation
    from gitops_sim.fluxcli import command as fluxcommand
    from gitops_sim.fluxcli import session
    from gitops_sim.scenario import junit, runner, schema
    from gitops_sim.sources import githttp


def _horizon(text: str) -> int:
    try:
        ms = duration.parse(text)
    except duration.DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if ms <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive duration; got {text!r}")
    return ms


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds; got {text!r}")
    return value


def _version() -> str:
    """`gitops-sim --version`: our version, then the Flux release and controllers we simulate."""
    import importlib.metadata

    controllers = ", ".join(f"{name} {version}" for name, version in flux.CONTROLLER_VERSIONS.items())
    ours = importlib.metadata.version("gitops-sim")
    return f"gitops-sim {ours}\nsimulates Flux {flux.FLUX_VERSION} ({controllers})"


class _PrintVersion(argparse.Action):
    """Print `_version()` as it is (argparse's own `version` action rewraps it) and exit 0."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        print(_version())
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gitops-sim", description="Flux, simulated: run GitOps scenarios.")
    parser.add_argument(
        "--version",
        action=_PrintVersion,
        nargs=0,
        help="print gitops-sim's version and the Flux it simulates",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios (files or folders) and print their timelines")
    run.add_argument("paths", nargs="+", type=Path)
    run.add_argument(
        "--trace",
        type=Path,
        help="write the JSON trace of every scenario to this file (records, conditions, final objects)",
    )
    run.add_argument(
        "--report", type=Path, metavar="FILE.html", help="write an HTML report (one file, works offline)"
    )
    run.add_argument(
        "--junit", type=Path, metavar="FILE", help="write a JUnit XML report, a testcase per scenario"
    )
    run.add_argument("--junit-steps", action="store_true", help="with --junit: a testcase per step too")
    run.add_argument("--quiet", "-q", action="store_true", help="print only the verdicts and the summary")
    run.add_argument(
        "--max-wall",
        type=_seconds,
        metavar="SECONDS",
        help="stop a scenario (failed) after this many wall-clock seconds; the next one runs",
    )
    run.add_argument(
        "--serve", action="store_true", help="serve each scenario over HTTP while it runs (paced)"
    )
    real = run.add_mutually_exclusive_group()
    real.add_argument("--kubeconfig", type=Path, help="run on this kubeconfig's cluster, in wall-clock time")
    real.add_argument("--cluster", choices=["k3s"], help="start k3s in Docker (testcontainers) and run there")
    run.add_argument("--context", help="the kubeconfig context to use (default: its current one)")
    run.add_argument(
        "--mirror",
        type=Path,
        metavar="DIR",
        help="serve remote charts, OCI artifacts and remote bases from this offline mirror (`mirror`)",
    )
    run.add_argument(
        "--stand-in-charts",
        action="store_true",
        help="with --mirror: a chart the mirror lacks is an empty stand-in of its name and version",
    )
    mirror_cmd = sub.add_parser(
        "mirror",
        help="fetch the charts, OCI artifacts and remote bases a Flux repository names, for offline runs",
    )
    mirror_cmd.add_argument("folder", type=Path, help="the repository's folder")
    mirror_cmd.add_argument(
        "--cache", type=Path, required=True, metavar="DIR", help="the mirror's folder (content-addressed)"
    )
    serve = sub.add_parser("serve", help="serve a cluster with Flux installed until interrupted")
    for command in (run, serve):
        command.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
        command.add_argument("--kubeconfig-out", type=Path, help="write a kubeconfig for the server here")
        command.add_argument(
            "--pace",
            type=float,
            default=None,
            help="virtual seconds per wall second (serve: 1; run --serve: 60; a real cluster: 1)",
        )
        command.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed certificate")
    secret = serve.add_mutually_exclusive_group()
    secret.add_argument("--token", help="require this bearer token (implies --tls)")
    secret.add_argument(
        "--token-file",
        type=Path,
        help="require the bearer token on this file's first line (implies --tls); unlike --token, "
        "it stays off the command line, where every local user can read it",
    )
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument(
        "--no-flux",
        action="store_true",
        help="a cluster without Flux: its controllers start once `flux install` (or manifests) add them",
    )
    serve.add_argument(
        "--repo",
        action="append",
        default=[],
        metavar="NAME=DIR[,url=URL]",
        help="serve folder DIR as git repository NAME (at URL, default https://git.gitops-sim.local/NAME); "
        "repeatable",
    )
    serve.add_argument(
        "--receiver-port",
        type=int,
        default=0,
        help="port of notification-controller's receiver server on 127.0.0.1 (default: a free one)",
    )
    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("paths", nargs="+", type=Path)
    for command in (run, validate):
        command.add_argument(
            "--horizon",
            type=_horizon,
            default=None,  # schema.DEFAULT_HORIZON_MS, filled in by `main` (imports only when used)
            metavar="DURATION",
            help="the virtual time a scenario may ask for, e.g. 8760h (the default: one year)",
        )
    repo_up = sub.add_parser(
        "up",
        help="run a Flux repository folder as Flux would after bootstrap, then summarize what it made",
    )
    repo_up.add_argument("folder", type=Path, help="the repository's folder")
    repo_up.add_argument("--path", help="the cluster's folder in it (clusters/staging), where flux-system is")
    repo_up.add_argument(
        "--for",
        dest="for_ms",
        type=_horizon,
        default=30 * 60_000,
        metavar="DURATION",
        help="virtual time (30m)",
    )
    repo_up.add_argument("--seed", type=int, default=0)
    repo_up.add_argument("--timeline", action="store_true", help="print the timeline before the summary")
    repo_up.add_argument("--report", type=Path, metavar="FILE.html", help="write the HTML report")
    repo_up.add_argument("--trace", type=Path, help="write the JSON trace")
    repo_up.add_argument(
        "--stub-unknown-kinds",
        action="store_true",
        help="give a kind no CRD defines an open-schema CRD (listed in the summary)",
    )
    repo_up.add_argument(
        "--mirror", type=Path, metavar="DIR", help="serve remote charts, artifacts and bases from this mirror"
    )
    repo_up.add_argument(
        "--apply",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="apply these manifests first: what the cluster holds and Git does not (a SOPS key)",
    )
    repo_up.add_argument(
        "--stand-in-charts",
        action="store_true",
        help="a chart no mirror holds is an empty stand-in of its name and version (listed in the summary)",
    )
    for command in (run, repo_up):
        command.add_argument(
            "--no-cache",
            action="store_true",
            help="build and render without the cache of kustomize builds and Helm renders "
            "($GITOPS_SIM_CACHE, else $XDG_CACHE_HOME/gitops-sim or ~/.cache/gitops-sim)",
        )
    listing = sub.add_parser("list", help="list the scenarios found under the given paths")
    schema_cmd = sub.add_parser(
        "schema", help="print the JSON Schema of scenario files (editor completion and validation)"
    )
    schema_cmd.add_argument("--output", "-o", type=Path, metavar="FILE", help="write it to FILE instead")
    schema_cmd.add_argument("--trace", action="store_true", help="the schema of `run --trace` files instead")
    listing.add_argument("paths", nargs="+", type=Path)
    for command in (run, listing):
        command.add_argument(
            "-k",
            dest="select",
            metavar="EXPR",
            help="only the scenarios whose name or path has these words (and, or, not, parentheses)",
        )
    run.add_argument("--seed", type=int, help="run every scenario with this seed instead of its own")
    explain_cmd = sub.add_parser(
        "explain",
        help="why an object is not Ready: its condition, dependencies, source, failing health checks, Pods",
        description="Run a scenario (or read the final state a --trace file kept), then follow the chain "
        "of what keeps OBJECT from being Ready. `explain imageupdateautomation NAME SCENARIO` also "
        "tells which tags, policies and markers an automation saw.",
    )
    explain_cmd.add_argument(
        "words", nargs="+", metavar="OBJECT FILE", help="Kind/namespace/name, then a scenario or a trace file"
    )
    explain_cmd.add_argument(
        "--namespace", "-n", default="flux-system", help="for `imageupdateautomation NAME`"
    )
    explain_cmd.add_argument("--scenario", help="in a trace of several scenarios, the one with this name")
    _flux_parser(sub)
    sub.add_parser(
        "helm",
        help="helm install|upgrade|uninstall NAME … against --kubeconfig's cluster; "
        "`helm pull flux2 [--untardir DIR]` writes gitops-sim's Flux chart",
    )
    return parser


def _flux_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`gitops-sim flux …`: Flux CLI commands against a repository folder (more come later)."""
    flux_cmd = sub.add_parser("flux", help="Flux CLI commands over a repository folder")
    verbs = flux_cmd.add_subparsers(dest="flux_command", required=True)
    for name in FLUX_VERBS:
        verbs.add_parser(name, help=f"flux {name}, with the flags of Flux 2.10's CLI")
    build_cmd = verbs.add_parser("build", help="print what a Flux object would apply")
    diff_cmd = verbs.add_parser("diff", help="compare what a Flux object would apply with a cluster")
    for verb, kinds_ in ((build_cmd, "build_kind"), (diff_cmd, "diff_kind")):
        kinds = verb.add_subparsers(dest=kinds_, required=True)
        hr = kinds.add_parser(
            "helmrelease",
            aliases=["hr"],
            help="render a HelmRelease (values, chart, post-renderers) from a repository folder",
        )
        hr.add_argument("name", help="the HelmRelease's name")
        hr.add_argument("--path", type=Path, required=True, help="the repository folder to read")
        hr.add_argument(
            "--namespace", "-n", help="the HelmRelease's namespace (default: the only one of that name)"
        )
        hr.add_argument("--chart", type=Path, help="render this chart folder or .tgz instead of the source's")
        hr.add_argument(
            "--hooks", action="store_true", help="also print the chart's hooks, after the objects"
        )
        if verb is diff_cmd:
            hr.add_argument("--kubeconfig", type=Path, required=True, help="the cluster to compare with")
            hr.add_argument("--context", help="the kubeconfig context to use (default: its current one)")


def _error(console: Console, message: str) -> None:
    from rich.text import Text

    from gitops_sim.scenario import report

    console.print(Text.assemble(("error", "red"), " ", report.printable(message)), soft_wrap=True)


def _load_all(
    paths: Sequence[Path], console: Console, horizon_ms: int | None = None
) -> tuple[list[schema.Scenario], list[junit.Unloadable]]:
    """The scenarios under `paths`, and the files that could not be loaded (each reported)."""
    from rich.text import Text

    from gitops_sim.scenario import loader, report, schema
    from gitops_sim.scenario.located import LoadError

    if horizon_ms is None:
        horizon_ms = schema.DEFAULT_HORIZON_MS
    files = loader.discover(paths)
    scenarios, errors = [], []
    for file in files:
        try:
            scenarios.append(loader.load(file, horizon_ms=horizon_ms))
        except LoadError as exc:
            from gitops_sim.scenario import junit  # XML: only when there is something to report

            errors.append(junit.Unloadable(file, str(exc)))
            _error(console, str(exc))
    if not files:
        console.print(
            Text(f"no scenarios found under {report.printable(', '.join(map(str, paths)))}"), soft_wrap=True
        )
    return scenarios, errors


def _schema(output: Path | None, console: Console, text: str) -> int:
    """`schema`: the JSON Schema of scenario files (`scenario.language_schema`) or, with
    `--trace`, of trace files (`engine.trace_schema`), on stdout or in `--output`; exit 2 when
    the file cannot be written."""
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _error(console, f"--output {output}: cannot be written: {exc.strerror or exc}")
        return 2
    return 0


class _Served:
    """An API server and a pacer around one simulation, for `serve` and `run --serve`."""

    def __init__(
        self,
        sim: simulation.Simulation,
        args: argparse.Namespace,
        console: Console,
        default_pace: float,
        token: str | None = None,
    ) -> None:
        from gitops_sim.cluster.http import server
        from gitops_sim.engine import simulation
        from gitops_sim.timing import clock as clocks

        self.sim = sim
        self.stop = threading.Event()
        # --token implies --tls: kubectl sends a kubeconfig's token only over HTTPS (client-go's
        # clientcmd merges user credentials only into a TLS transport).
        tls_dir = sim.settings.workdir / "tls" if args.tls or token else None
        self.api = server.ApiServer(sim.memory, sim.clock, port=args.port, token=token, tls_dir=tls_dir)
        pace = args.pace or default_pace
        wall = clocks.WallClock(pace=pace)
        self.pacer = simulation.Pacer(sim, wall, self.api.lock, self.stop)
        if pace > 1:
            # Simulated time runs ahead of the real one: Events carry the real time they were
            # recorded at, so that clients counting ages against their own clock see them past.
            sim.recorder.stamp_with(wall.calendar_ms)
            self.api.event_calendar = wall.calendar_ms
        self.api.start()
        config = self.api.kubeconfig({"git": sim.git.base_url(), "github": f"http://{sim.forge.serving()}"})
        if args.kubeconfig_out:
            _write_private(args.kubeconfig_out, config)
        console.print(
            f"serving on {self.api.url}"
            + (f"; kubeconfig written to {args.kubeconfig_out}" if args.kubeconfig_out else ""),
            markup=False,
        )

    def close(self) -> None:
        self.stop.set()
        self.api.stop()
        self.sim.close()


def _write_private(path: Path, text: str) -> None:
    """Write a kubeconfig readable by its owner only (it may carry a token), as kubectl does."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as out:
        out.write(text)


def _token(args: argparse.Namespace) -> str | None:
    """The bearer token `serve` requires: `--token`, or the first line of `--token-file`."""
    path: Path | None = args.token_file
    if path is None:
        given: str | None = args.token
        return given
    try:
        token = path.read_text().partition("\n")[0].strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--token-file {args.token_file}: cannot be read: {exc}") from exc
    if not token:
        raise ValueError(f"--token-file {args.token_file}: its first line is empty")
    return token


def _serve(args: argparse.Namespace, console: Console) -> int:
    from gitops_sim.engine import simulation
    from gitops_sim.scenario.located import LoadError
    from gitops_sim.sources import git

    try:
        token = _token(args)
    except ValueError as exc:
        _error(console, str(exc))
        return 2
    with tempfile.TemporaryDirectory(prefix="gitops-sim-") as workdir:
        settings = simulation.Settings(
            workdir=Path(workdir),
            seed=args.seed,
            epoch_ms=round(time.time() * 1000),
            receiver_port=args.receiver_port,
            with_flux=not args.no_flux,
        )
        sim = simulation.Simulation(settings)
        # Everything is ready before the kubeconfig is written: its appearance says "serving".
        try:
            for spec in args.repo:
                _host_repo(sim, spec, console)
            receiver = sim.inbound.address
        except (ValueError, LoadError, git.GitError, OSError) as exc:
            sim.close()
            _error(console, f"--repo or --receiver-port: {exc}")
            return 2
        console.print(
            f"receiver server on http://{receiver} (Receivers answer at their status.webhookPath)",
            markup=False,
        )
        served = _Served(sim, args, console, 1.0, token=token)
        sim.inbound.use_lock(served.api.lock)  # a webhook's annotations never race the engine
        # SIGTERM ends the server as Ctrl-C does. (Setting an Event from a signal handler can
        # deadlock against the main thread's own Event.wait, so the signal raises instead.)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            served.pacer.run_forever()
        except KeyboardInterrupt:
            pass
        finally:
            served.close()
    console.print("stopped", markup=False)
    return 0


def _host_repo(sim: simulation.Simulation, spec: str, console: Console) -> None:
    """`--repo NAME=DIR[,url=URL]`: the folder's files (a `.git` in it left out) committed to a
    repository the simulation hosts, its URLs printed."""
    from gitops_sim.scenario import schema
    from gitops_sim.scenario.located import Location

    name, sep, rest = spec.partition("=")
    folder, _, option = rest.partition(",url=")
    if not sep or not name or not folder:
        raise ValueError(f"expected NAME=DIR[,url=URL]; got {spec!r}")
    url = option or f"https://git.gitops-sim.local/{name}"
    files = schema.read_folder(Path(folder), Location(folder, 1, 1), f"--repo {name}", skip_git=True)
    repo = sim.git.create(name, url)
    repo.commit(dict(files), f"Import {folder}")
    console.print(
        f"repository {name}: {url} (git clone or push: {sim.git.endpoint(url)})", markup=False, soft_wrap=True
    )


def _run_one(
    sc: schema.Scenario,
    workdir: Path,
    args: argparse.Namespace,
    console: Console,
    cluster: backend.Cluster | None,
    shown: Callable[[int], None],
    notes: list[str],
) -> runner.Outcome:
    """One scenario, as `args` ask; `shown` is told the virtual time as it runs (the progress line);
    with `--mirror`, what the mirror served goes to `notes`."""
    from gitops_sim.mirror import serve as mirror_serve
    from gitops_sim.scenario import runner

    if cluster is not None:
        return _run_on_cluster(sc, workdir, args, console, cluster, notes)
    stop = _wall_limit(args.max_wall)
    keep = args.report is not None
    cache = _cache_dir(args)
    if not args.serve and args.mirror is None:
        return runner.run(
            sc,
            workdir,
            horizon_ms=args.horizon,
            stop=stop,
            keep_history=keep,
            progress=shown,
            cache_dir=cache,
        )
    one = runner.Runner(
        sc, workdir, horizon_ms=args.horizon, stop=stop, keep_history=keep, progress=shown, cache_dir=cache
    )
    if args.mirror is not None:
        try:
            notes += mirror_serve.serve(args.mirror, one.sim, stand_in_charts=args.stand_in_charts)
        except BaseException:
            one.sim.close()
            raise
    if not args.serve:
        try:
            with runner.collector_paused():
                return one.run()
        finally:
            one.sim.close()
    served = _Served(one.sim, args, console, 60.0)
    try:
        with served.api.lock:
            return one.run()
    finally:
        served.close()


def _wall_limit(seconds: float | None) -> Callable[[], str | None] | None:
    """The `stop` check for one scenario under `--max-wall`: the runner never reads the time."""
    if seconds is None:
        return None
    deadline = time.monotonic() + seconds

    def over() -> str | None:
        return f"over --max-wall {seconds:g}s of wall time" if time.monotonic() >= deadline else None

    return over


def _run_on_cluster(
    sc: schema.Scenario,
    workdir: Path,
    args: argparse.Namespace,
    console: Console,
    cluster: backend.Cluster,
    notes: list[str],
) -> runner.Outcome:
    """A scenario on a real API server: today's date, paced by the wall clock, cleaned up after."""
    from gitops_sim.engine import simulation
    from gitops_sim.mirror import serve as mirror_serve
    from gitops_sim.scenario import runner
    from gitops_sim.timing import clock as clocks

    one = runner.Runner(
        sc,
        workdir,
        cluster,
        clocks.VirtualClock(round(time.time() * 1000)),
        horizon_ms=args.horizon,
        stop=_wall_limit(args.max_wall),
        cache_dir=_cache_dir(args),
    )
    lock, stop = threading.RLock(), threading.Event()
    simulation.Pacer(one.sim, clocks.WallClock(pace=args.pace or 1.0), lock, stop)
    try:
        if args.mirror is not None:
            notes += mirror_serve.serve(args.mirror, one.sim, stand_in_charts=args.stand_in_charts)
        with lock:
            outcome = one.run()
            left = one.clean_up()
    finally:
        one.sim.close()
    if left:
        console.print(f"warning: still being deleted after the run: {', '.join(left)}", markup=False)
    return outcome


@contextlib.contextmanager
def _target_cluster(args: argparse.Namespace, console: Console) -> Iterator[backend.Cluster | None]:
    """The real cluster `run` was pointed at, if any (k3s: started here and removed after)."""
    if args.command != "run" or not (args.kubeconfig or args.cluster):
        yield None
        return
    from gitops_sim.cluster import k3s, kube  # the `kubernetes` client: only for a real cluster

    if args.serve:
        raise _Unusable("--serve serves the in-memory cluster; on a real cluster, use its own kubectl")
    with contextlib.ExitStack() as stack:
        kubeconfig = args.kubeconfig
        if args.cluster == "k3s":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gitops-sim-k3s-")))
            console.print("starting k3s in Docker…", markup=False)
            try:
                kubeconfig = stack.enter_context(k3s.started(folder))
            except k3s.Unavailable as exc:
                raise _Unusable(str(exc)) from exc
        try:
            cluster = kube.KubeCluster.from_kubeconfig(str(kubeconfig), args.context)
        except kube.Unreachable as exc:
            raise _Unusable(f"cannot reach the cluster of {kubeconfig}: {exc}") from exc
        console.print(f"running on {cluster.server}", markup=False)
        yield cluster


class _Unusable(Exception):
    """The cluster `run` was pointed at cannot be used; the message says why."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["flux"] and argv[1:2] and argv[1] in FLUX_VERBS:
        return _flux_cli(argv[1:])
    if argv[:1] == ["helm"] and argv[1:2] and argv[1] != "--help":
        return _helm_cli(argv[1:])
    if (
        argv[:1] == ["flux"]
        and argv[1:2] in (["build"], ["diff"])
        and argv[2:3] in (["kustomization"], ["ks"])
    ):
        return _flux_cli(argv[1:])
    args = _parser().parse_args(argv)
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if args.command == "schema":
        if args.trace:
            from gitops_sim.engine import trace_schema

            return _schema(args.output, console, trace_schema.render())
        from gitops_sim.scenario import language_schema

        return _schema(args.output, console, language_schema.render())
    if args.command == "explain":
        return _explain(args, console)
    if args.command == "up":
        return _up(args, console)
    if args.command == "serve":
        return _serve(args, console)
    if args.command == "mirror":
        return _mirror(args, console)
    if args.command == "flux":
        return _flux(args, Console(stderr=True, highlight=False, soft_wrap=True))
    from rich.text import Text

    from gitops_sim.scenario import report, schema, select

    if getattr(args, "horizon", 0) is None:
        args.horizon = schema.DEFAULT_HORIZON_MS
    scenarios, load_errors = _load_all(args.paths, console, getattr(args, "horizon", None))
    if getattr(args, "select", None):
        try:
            scenarios = [sc for sc in scenarios if select.matches(args.select, f"{sc.name} {sc.path}")]
        except select.SelectError as exc:
            _error(console, str(exc))
            return 2
    if getattr(args, "seed", None) is not None:
        scenarios = [dataclasses.replace(sc, seed=args.seed) for sc in scenarios]
    if args.command == "list":
        for sc in scenarios:
            line = f"{report.printable(str(sc.path))}  {report.printable(sc.name, multiline=False)}"
            console.print(Text(line), soft_wrap=True)
        return 2 if load_errors or not scenarios else 0
    if args.command == "validate":
        from gitops_sim.scenario import validate

        invalid = len(load_errors)
        for sc in scenarios:
            problems = validate.check(sc)  # the objects it applies, as the API server sees them
            for problem in problems:
                label = ("warning", "yellow") if problem.warning else ("error", "red")
                console.print(Text.assemble(label, " ", report.printable(str(problem))), soft_wrap=True)
            invalid += any(not problem.warning for problem in problems)
        console.print(f"{len(scenarios) + len(load_errors) - invalid} valid, {invalid} invalid", markup=False)
        return 2 if invalid or not scenarios else 0

    from gitops_sim.engine import informers
    from gitops_sim.mirror import cache as mirror_cache

    try:
        if args.mirror is not None:
            mirror_cache.load(args.mirror)  # a folder that is no mirror: said once, before any run
        with _target_cluster(args, console) as cluster:
            return _run_all(scenarios, load_errors, args, console, cluster)
    except (_Unusable, informers.RemoteClusterError, mirror_cache.MirrorError) as exc:
        _error(console, str(exc))
        return 2


def _mirror(args: argparse.Namespace, console: Console) -> int:
    """`mirror FOLDER --cache DIR`: fetch what the repository names (`gitops_sim.mirror`) from the
    internet; exit 1 when something could not be mirrored (the reason printed), 2 on a bad folder."""
    from rich.text import Text

    from gitops_sim.mirror import cache as mirror_cache
    from gitops_sim.mirror import discover as mirror_discover
    from gitops_sim.scenario import report

    if not args.folder.is_dir():
        _error(console, f"{args.folder}: no such folder")
        return 2
    refs = mirror_discover.discover(args.folder)
    if not refs:
        console.print(f"{args.folder}: no remote charts, OCI artifacts or remote bases", markup=False)
    result = mirror_cache.build(refs, args.cache, mirror_cache.Upstreams.internet(), source=str(args.folder))
    for line in result.mirrored:
        console.print(Text(report.printable(f"mirrored {line}")), soft_wrap=True)
    for line in result.failed:
        console.print(Text.assemble(("failed", "red"), " ", report.printable(line)), soft_wrap=True)
    console.print(
        f"{len(result.mirrored)} mirrored, {len(result.failed)} failed, in {args.cache}", markup=False
    )
    return 0 if result.ok else 1


def _up(args: argparse.Namespace, console: Console) -> int:
    """`up FOLDER`: the repository run as Flux would (`scenario.up`), then its summary; exit 0
    when every Flux object is Ready, 1 when one is not, 2 when the folder cannot be run."""
    from rich.text import Text

    from gitops_sim.mirror import cache as mirror_cache
    from gitops_sim.scenario import html, progress, report, summary, up

    with tempfile.TemporaryDirectory(prefix="gitops-sim-") as workdir:
        try:
            with progress.Progress(console, str(args.folder)) as shown:
                result = up.run(
                    args.folder,
                    Path(workdir),
                    path=args.path,
                    for_ms=args.for_ms,
                    seed=args.seed,
                    stub_unknown_kinds=args.stub_unknown_kinds,
                    keep_history=args.report is not None,
                    progress=shown.update,
                    prepare=functools.partial(_offline, args),
                    apply=args.apply,
                    cache_dir=_cache_dir(args),
                )
        except (up.RepositoryError, mirror_cache.MirrorError) as exc:
            _error(console, str(exc))
            return 2
    if args.timeline:
        report.print_outcome(console, result.outcome)
        console.print()
    if args.trace:
        _write_traces(args.trace, [result.outcome])
    if args.report:
        html.write(args.report, [result.outcome])
    console.print(Text(report.printable(summary.render(result.summary))), soft_wrap=True, end="")
    return 0 if result.ready else 1


def _cache_dir(args: argparse.Namespace) -> Path | None:
    """The folder of the build cache (`buildcache`) for `run` and `up`: None with `--no-cache`,
    else `$GITOPS_SIM_CACHE`, `$XDG_CACHE_HOME/gitops-sim` or `~/.cache/gitops-sim`. The one place
    that reads the cache's environment."""
    from gitops_sim import buildcache

    if args.no_cache:
        return None
    try:
        return buildcache.default_dir(os.environ, Path.home())
    except RuntimeError:  # no home folder: no cache, unless $GITOPS_SIM_CACHE names one
        given = os.environ.get("GITOPS_SIM_CACHE")
        return Path(given) if given else None


def _offline(args: argparse.Namespace, sim: simulation.Simulation) -> list[str]:
    """`up`'s remote charts, artifacts and bases: from `--mirror`, with stand-ins when asked."""
    if args.mirror is None and not args.stand_in_charts:
        return []
    from gitops_sim.mirror import discover as mirror_discover
    from gitops_sim.mirror import serve as mirror_serve

    wanted = mirror_discover.discover(args.folder) if args.stand_in_charts else []
    return mirror_serve.serve(args.mirror, sim, stand_in_charts=args.stand_in_charts, wanted=wanted)


_IUA_NAMES = ("imageupdateautomation", "imageupdateautomations", "iua", "imgupd", "imgauto")


def _explain(args: argparse.Namespace, console: Console) -> int:
    """`explain OBJECT FILE`: the causal chain (`engine.why`) of OBJECT, from the final state of
    a trace file (`.json`) or of a scenario run here (its verdict printed first). An
    ImageUpdateAutomation run from a scenario also gets `engine.explain`'s account of its tags,
    policies and markers (`explain imageupdateautomation NAME SCENARIO` is that form)."""
    from rich.text import Text

    from gitops_sim.cluster import errors
    from gitops_sim.engine import explain
    from gitops_sim.scenario import report, runner

    words = args.words
    if len(words) == 3 and words[0].lower() in _IUA_NAMES:
        words = [f"ImageUpdateAutomation/{args.namespace}/{words[1]}", words[2]]
    if len(words) != 2 or words[0].count("/") not in (1, 2):
        _error(console, "usage: gitops-sim explain Kind/namespace/name SCENARIO_OR_TRACE")
        return 2
    target, path = words[0], Path(words[1])
    if path.suffix == ".json":
        found = _traced_objects(path, args.scenario, console)
        if found is None:
            return 2
        return _print_chain(console, found, target, "")
    scenarios, load_errors = _load_all([path], console)
    if load_errors or len(scenarios) != 1:
        if len(scenarios) > 1:
            _error(console, "explain runs one scenario file; name a file, not a folder")
        return 2
    automation: list[str] = []

    def inspect(sim: simulation.Simulation) -> None:
        kind, _, rest = target.partition("/")
        if kind.lower() in _IUA_NAMES and rest.count("/") == 1:
            namespace, name = rest.split("/")
            with contextlib.suppress(errors.NotFound):
                automation.append(explain.imageupdateautomation(sim, namespace, name))

    with tempfile.TemporaryDirectory(prefix="gitops-sim-") as workdir:
        outcome = runner.run(scenarios[0], Path(workdir), inspect=inspect)
    report.print_outcome(console, outcome, show_timeline=False)
    console.print()
    status = _print_chain(console, outcome.final, target, str(outcome.failure or ""))
    for text in automation:
        console.print()
        console.print(Text(text), soft_wrap=True)
    return status


def _traced_objects(path: Path, name: str | None, console: Console) -> list[dict[str, Any]] | None:
    """The final state a `run --trace` file kept for its one scenario (or the one named)."""
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
        picked = [r for r in runs if name is None or r["name"] == name]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        _error(console, f"{path}: not a gitops-sim trace ({exc})")
        return None
    if len(picked) != 1:
        names = ", ".join(repr(r["name"]) for r in runs)
        which = "no scenario" if not picked else "several scenarios"
        _error(console, f"{path}: {which} named so; pick one of {names} with --scenario")
        return None
    return list(picked[0].get("objects") or [])


def _print_chain(console: Console, found: Sequence[dict[str, Any]], target: str, printed: str) -> int:
    """Print OBJECT's chain unless `printed` (the failure shown above it) already holds it."""
    from rich.text import Text

    from gitops_sim.engine import why
    from gitops_sim.scenario import report

    kind, _, rest = target.partition("/")
    for obj in found:  # the kind as the user wrote it (any case, a short name) to the object's own
        if str(obj.get("kind", "")).lower() == kind.lower() or (
            kind.lower() in _IUA_NAMES and obj.get("kind") == "ImageUpdateAutomation"
        ):
            kind = str(obj["kind"])
            break
    link = why.chain(found, f"{kind}/{rest}")
    text = why.render(link)
    if text not in printed:
        console.print(Text(report.printable(text)), soft_wrap=True)
    return 2 if link.state == "not found" else 0


def _run_all(
    scenarios: list[schema.Scenario],
    load_errors: list[junit.Unloadable],
    args: argparse.Namespace,
    console: Console,
    cluster: backend.Cluster | None,
) -> int:
    from rich.text import Text

    from gitops_sim.scenario import html, junit, progress, report

    started = time.perf_counter()
    passed = failed = 0
    ran, outcomes = [], []
    mirror_notes: list[str] = []
    for sc in scenarios:
        began = time.perf_counter()
        with (
            tempfile.TemporaryDirectory(prefix="gitops-sim-") as workdir,
            progress.Progress(console, sc.name) as shown,
        ):
            outcome = _run_one(sc, Path(workdir), args, console, cluster, shown.update, mirror_notes)
        ran.append(junit.Ran(outcome, time.perf_counter() - began))
        if args.report:
            outcomes.append(outcome)
        report.print_outcome(console, outcome, show_timeline=not args.quiet)
        console.print()
        passed += outcome.passed
        failed += not outcome.passed
    if args.trace:
        _write_traces(args.trace, [one.outcome for one in ran])
    if args.junit:
        junit.write(args.junit, ran, load_errors, steps=args.junit_steps)
    if args.report:
        html.write(args.report, outcomes)
    for note in dict.fromkeys(mirror_notes):
        console.print(Text(report.printable(note)), soft_wrap=True)
    count = f"{len(scenarios)} scenario{'' if len(scenarios) == 1 else 's'}"
    console.print(f"[dim]{count} in {time.perf_counter() - started:.2f}s wall time[/dim]")
    console.print(report.summary(passed, failed + len(load_errors)), markup=False)
    if not scenarios:
        return 2
    return 1 if failed or load_errors else 0


def _write_traces(path: Path, outcomes: Sequence[runner.Outcome]) -> None:
    """The `--trace` file (its schema: `engine.trace_schema`)."""
    runs = [
        {
            "scenario": str(o.scenario.path),
            "name": o.scenario.name,
            "seed": o.scenario.seed,
            "passed": o.passed,
            "records": o.trace.records,
            "objects": list(o.final),
        }
        for o in outcomes
    ]
    text = json.dumps(runs, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8", errors="backslashreplace")  # undecodable file names


if __name__ == "__main__":
    sys.exit(main())


FLUX_VERBS = (
    "check",
    "install",
    "uninstall",
    "version",
    "get",
    "reconcile",
    "suspend",
    "resume",
    "bootstrap",
    "events",
    "logs",
    "tree",
    "stats",
    "export",
    "create",
    "delete",
    "migrate",
)
"""The flux commands `fluxcli` runs against a kubeconfig's cluster."""


def _flux_cli(argv: list[str]) -> int:
    """`gitops-sim flux <verb> …` (`fluxcli.command`) against the cluster of `--kubeconfig`
    (else `$KUBECONFIG`, else ~/.kube/config), in wall-clock time; `-n` defaults to
    `$FLUX_SYSTEM_NAMESPACE` when that is a valid namespace name, as with the real CLI."""
    from gitops_sim.cluster import kube
    from gitops_sim.fluxcli import build as fluxbuild
    from gitops_sim.fluxcli import command as fluxcommand
    from gitops_sim.fluxcli import session

    scratch = tempfile.TemporaryDirectory(prefix="gitops-sim-flux-")
    clients: list[githttp.GitHttpClient] = []

    def connect(flags: fluxcommand.Flags) -> session.Session:
        path = flags.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        path = path or str(Path.home() / ".kube" / "config")
        try:
            cluster = kube.KubeCluster.from_kubeconfig(path, flags.context)
        except kube.Unreachable as exc:
            raise session.FluxError(f"Kubernetes client initialization failed: {exc}") from exc
        clients.append(_git_client(path, flags.context))
        return session.Session(
            cluster,
            cluster.server_version,
            lambda ms: time.sleep(ms / 1000),
            lambda: round(time.time() * 1000),
            sys.stdout,
            sys.stderr,
            namespace=flags.namespace,
            timeout_ms=flags.timeout_ms,
            git=clients[-1],
            rng=random.SystemRandom(),
            scratch=Path(scratch.name),
            env={k: v for k, v in os.environ.items() if k == "GITHUB_TOKEN"},
            github_api=_upstreams(path, flags.context).get("github"),
            read_folder=lambda where: fluxbuild.read_local(Path(where)),
        )

    namespace = os.environ.get("FLUX_SYSTEM_NAMESPACE", "")
    if namespace and not fluxcommand.DNS_LABEL.fullmatch(namespace):
        print(f'⚠️  ignoring invalid FLUX_SYSTEM_NAMESPACE: "{namespace}"', file=sys.stderr)
        namespace = ""
    try:
        return fluxcommand.run(
            argv, connect, sys.stdout, sys.stderr, namespace=namespace or "flux-system", local_files=True
        )
    finally:
        for client in clients:
            client.close()
        scratch.cleanup()


def _helm_cli(argv: list[str]) -> int:
    """`gitops-sim helm …` (`helmcli`) against the cluster of `--kubeconfig` (else `$KUBECONFIG`,
    else ~/.kube/config) and `--kube-context`; `helm pull flux2 [--untardir DIR]` writes the
    flux2 chart's folder here (`DIR/flux2`, default the current folder)."""
    from gitops_sim import helmcli
    from gitops_sim.cluster import kube
    from gitops_sim.fluxcli import build as fluxbuild
    from gitops_sim.fluxcli import session
    from gitops_sim.model import fluxchart

    options = argparse.ArgumentParser(prog="helm", add_help=False)
    options.add_argument("--kubeconfig", default=None)
    options.add_argument("--kube-context", default=None)
    options.add_argument("--untardir", default=".")
    known, rest = options.parse_known_args(argv)
    if rest[:1] == ["pull"]:
        if rest[1:] != [fluxchart.NAME]:
            print(f"Error: only the {fluxchart.NAME} chart is built in", file=sys.stderr)
            return 1
        root = Path(known.untardir) / fluxchart.NAME
        for path, text in fluxchart.files().items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        return 0
    path = known.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    path = path or str(Path.home() / ".kube" / "config")
    try:
        cluster = kube.KubeCluster.from_kubeconfig(path, known.kube_context)
    except kube.Unreachable as exc:
        print(f"Error: Kubernetes cluster unreachable: {exc}", file=sys.stderr)
        return 1

    def read(where: str) -> dict[str, bytes]:
        try:
            return fluxbuild.read_local(Path(where))
        except session.FluxError as exc:
            raise helmcli.HelmError(exc.message) from exc

    with tempfile.TemporaryDirectory(prefix="gitops-sim-helm-") as scratch:
        return helmcli.run(
            rest,
            cluster,
            sys.stdout,
            sys.stderr,
            calendar_ms=lambda: round(time.time() * 1000),
            scratch=Path(scratch),
            read_folder=read,
        )


def _git_client(kubeconfig: str, context: str | None) -> githttp.GitHttpClient:
    """The flux CLI's git client: a served simulation's kubeconfig names its git server
    (`server.UPSTREAMS_EXTENSION`), where its repositories answer under their own URLs; any
    other URL is reached only on this machine (loopback), as everywhere in gitops-sim."""
    from gitops_sim.sources import git, githttp

    base = _upstreams(kubeconfig, context).get("git")

    def endpoint(url: str) -> str | None:
        if base:
            return f"{base}/{git.host_path(url)}.git"
        host = urlsplit(url).hostname or ""
        return url if host in ("127.0.0.1", "localhost", "::1") else None

    return githttp.GitHttpClient(endpoint)


def _upstreams(kubeconfig: str, context: str | None) -> dict[str, str]:
    """The `gitops-sim.io/upstreams` extension of the kubeconfig's cluster (empty when absent)."""
    import yaml

    from gitops_sim.cluster.http import server

    try:
        config = yaml.safe_load(Path(kubeconfig).read_text())
        name = context or config["current-context"]
        cluster_name = next(c["context"]["cluster"] for c in config["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == cluster_name)
        found = next(
            e["extension"] for e in cluster.get("extensions") or [] if e["name"] == server.UPSTREAMS_EXTENSION
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, StopIteration):
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _flux(args: argparse.Namespace, console: Console) -> int:
    """`flux build helmrelease` (exit 0, or 2 on error) and `flux diff helmrelease` (exit 1 when
    applying would change something, 0 when not, 2 on error), as the flux CLI's build and diff."""
    from gitops_sim.helm import build as helmbuild

    with tempfile.TemporaryDirectory(prefix="gitops-sim-build-") as scratch:
        try:
            if args.flux_command == "build":
                built = helmbuild.build(
                    args.path, args.name, scratch=Path(scratch), namespace=args.namespace, chart=args.chart
                )
                sys.stdout.write(helmbuild.to_yaml(built, hooks=args.hooks))
                return 0
            return _flux_diff(args, Path(scratch), console)
        except helmbuild.BuildError as exc:
            _error(console, exc.message)
            return 2


def _flux_diff(args: argparse.Namespace, scratch: Path, console: Console) -> int:
    from gitops_sim.cluster import errors, kube
    from gitops_sim.helm import build as helmbuild

    try:
        cluster = kube.KubeCluster.from_kubeconfig(str(args.kubeconfig), args.context)
    except kube.Unreachable as exc:
        _error(console, f"cannot reach the cluster of {args.kubeconfig}: {exc}")
        return 2
    found = helmbuild.find_helmrelease(helmbuild.read_documents(args.path), args.name, args.namespace)
    try:
        live = helmbuild.live_release(cluster, found.name, found.namespace)
        revision, upgrade = helmbuild.next_revision(live)
        built = helmbuild.build(
            args.path,
            args.name,
            scratch=scratch,
            namespace=args.namespace,
            chart=args.chart,
            revision=revision,
            is_upgrade=upgrade,
        )
        result = helmbuild.diff(cluster, built, live)
    except errors.ApiError as exc:
        _error(console, f"{args.kubeconfig}: {exc.message}")
        return 2
    sys.stdout.write(result.text())
    for message in result.errors:
        _error(console, message)
    if result.errors:
        return 2
    if result.changes:
        print("⚠️ identified at least one change, exiting with non-zero exit code", file=sys.stderr)
        return 1
    return 0
