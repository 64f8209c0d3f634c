"""A helm command line against a cluster: `install`, `upgrade [--install]` and `uninstall`, as
Helm v4's CLI runs them, for installing Flux with its Helm chart (`flux2`) the way a user would.

    helm install flux flux2 -n flux-system --create-namespace --set sourceWatcher.create=true
    helm upgrade flux flux2 -n flux-system -f values.yaml
    helm uninstall flux -n flux-system

The chart `flux2` is gitops-sim's own (`model.fluxchart`); any other chart is a folder (a
scenario's, or on this machine from the command line). It renders with the Helm engine
(helm-python-sdk) and the release actions are `helm.actions`' (Helm's install, upgrade and
uninstall, release storage in Secrets as Helm writes it), on the `Cluster` protocol, with no
hooks and no waiting. `--set` and `--set-string` parse as Helm's strvals do (helm-python-sdk),
`-f` files merge under them. Output is Helm's: `NAME:`, `LAST DEPLOYED:`, `NAMESPACE:`,
`STATUS:`, `REVISION:`, `TEST SUITE: None` (and the chart's NOTES), `release "<name>"
uninstalled`; a failure prints `Error: INSTALLATION FAILED: …` (or `UPGRADE FAILED`, `uninstall:
…`) and exits 1.

Differences, on purpose: hooks are not run (the flux2 chart has none), `--wait` and `--atomic`
are not offered; `--create-namespace` creates the namespace as Helm does, without labels.

Callers: `gitops-sim helm …` (`cli`) and the scenario step `helm:`. Sees only the `Cluster`
protocol; writes only the scratch folder it is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import yaml

from gitops_sim.cluster import backend, errors
from gitops_sim.helm import actions, render
from gitops_sim.helm import storage as records
from gitops_sim.helm import values as values_
from gitops_sim.model import duration, fluxchart, refs

ReadFolder = Callable[[str], dict[str, bytes]]
"""A local folder's files (a file's content under ""), or HelmError."""


class HelmError(Exception):
    """A command failed: what Helm prints after `Error: `."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise HelmError(message.replace("unrecognized arguments:", "unknown flag:"))


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="helm", add_help=False)
    verbs = root.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for name in ("install", "upgrade"):
        q = verbs.add_parser(name, add_help=False)
        q.add_argument("name")
        q.add_argument("chart")
        q.add_argument("-n", "--namespace", default="default")
        q.add_argument("--set", action="append", default=[])
        q.add_argument("--set-string", action="append", default=[])
        q.add_argument("-f", "--values", action="append", default=[])
        q.add_argument("--create-namespace", action="store_true")
        if name == "upgrade":
            q.add_argument("-i", "--install", action="store_true")
    q = verbs.add_parser("uninstall", aliases=["delete"], add_help=False)
    q.add_argument("name")
    q.add_argument("-n", "--namespace", default="default")
    q.add_argument("--keep-history", action="store_true")
    return root


def run(
    argv: Sequence[str],
    cluster: backend.Cluster,
    out: TextIO,
    err: TextIO,
    *,
    calendar_ms: Callable[[], int],
    scratch: Path,
    read_folder: ReadFolder | None,
) -> int:
    """Run one helm command line; its exit code (0, or 1 after `Error: …` on `err`)."""
    try:
        args = parser().parse_args(list(argv))
        now = duration.rfc3339(calendar_ms())
        if args.verb in ("uninstall", "delete"):
            try:
                actions.uninstall(
                    cluster,
                    storage_namespace=args.namespace,
                    name=args.name,
                    keep_history=args.keep_history,
                    now=now,
                )
            except actions.ReleaseNotFound as exc:
                raise HelmError(f"uninstall: Release not loaded: {args.name}: release: not found") from exc
            except (actions.ActionError, errors.ApiError) as exc:
                raise HelmError(f"uninstallation completed with 1 error(s): {_message(exc)}") from exc
            out.write(f'release "{args.name}" uninstalled\n')
            return 0
        _release(args, cluster, out, now, scratch, read_folder)
    except HelmError as exc:
        err.write(f"Error: {exc}\n")
        return 1
    return 0


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, (actions.ActionError, errors.ApiError)) else str(exc)


def _release(
    args: argparse.Namespace,
    cluster: backend.Cluster,
    out: TextIO,
    now: str,
    scratch: Path,
    read_folder: ReadFolder | None,
) -> None:
    """`install` or `upgrade [--install]`: render, then Helm's release actions."""
    history = records.releases(cluster, args.namespace, args.name)
    upgrading = args.verb == "upgrade" and any(r.info.status != "uninstalled" for r in history)
    if args.verb == "upgrade" and not upgrading and not args.install:
        raise HelmError(f'UPGRADE FAILED: "{args.name}" has no deployed releases')
    failed = "UPGRADE FAILED" if upgrading else "INSTALLATION FAILED"
    chart_dir = _chart(args.chart, scratch, read_folder)
    values = _values(args, read_folder)
    renderer = render.Renderer(scratch / "helm-render")
    try:
        loaded = renderer.load(chart_dir)
        revision = history[-1].version + 1 if upgrading else 1
        info = render.ReleaseInfo(args.name, args.namespace, revision, upgrading)
        rendered = renderer.render(chart_dir, values, info, None)
    except render.RenderError as exc:
        raise HelmError(f"{failed}: {exc}") from exc
    if args.create_namespace and not upgrading:
        _create_namespace(cluster, args.namespace)
    common: dict[str, Any] = {
        "storage_namespace": args.namespace,
        "name": args.name,
        "chart": loaded,
        "config": values,
        "rendered": rendered,
        "now": now,
        "owner_name": args.name,
        "owner_namespace": args.namespace,
    }
    try:
        if upgrading:
            pending = actions.begin_upgrade(cluster, max_history=10, **common)
        else:
            pending = actions.begin_install(cluster, namespace=args.namespace, **common)
    except (actions.ActionError, errors.ApiError) as exc:
        raise HelmError(f"{failed}: {_message(exc)}") from exc
    try:
        actions.apply_manifest(cluster, pending)
    except actions.ApplyFailed as exc:
        actions.finish(cluster, pending, succeeded=False, now=now, description=exc.description)
        raise HelmError(f"{failed}: {exc.message}") from exc
    done = actions.finish(cluster, pending, succeeded=True, now=now)
    out.write(
        f"NAME: {done.name}\n"
        f"LAST DEPLOYED: {_ansic(now)}\n"
        f"NAMESPACE: {done.namespace}\n"
        f"STATUS: {done.info.status}\n"
        f"REVISION: {done.version}\n"
        "TEST SUITE: None\n"
    )
    if rendered.notes:
        out.write(f"NOTES:\n{rendered.notes.strip()}\n")


def _chart(reference: str, scratch: Path, read_folder: ReadFolder | None) -> Path:
    """The chart folder: `flux2` (gitops-sim's own, written to `scratch`), or a local folder."""
    files: dict[str, bytes]
    if reference == fluxchart.NAME:
        files = {path: text.encode() for path, text in fluxchart.files().items()}
    else:
        if read_folder is None:
            raise HelmError(f"INSTALLATION FAILED: repo {reference} not found")
        files = read_folder(reference)
        if "" in files:
            raise HelmError(f"INSTALLATION FAILED: {reference}: a chart folder is needed, not a file")
    root = scratch / "helm-charts" / Path(reference).name
    shutil.rmtree(root, ignore_errors=True)
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def _values(args: argparse.Namespace, read_folder: ReadFolder | None) -> dict[str, Any]:
    """`-f` files merged in order, then `--set` and `--set-string` (Helm's strvals)."""
    import helm_python as helm

    values: dict[str, Any] = {}
    for path in args.values:
        if read_folder is None:
            raise HelmError(f"open {path}: no such file or directory")
        data = read_folder(path).get("")
        if data is None:
            raise HelmError(f"read {path}: is a directory")
        try:
            loaded = yaml.safe_load(data) or {}
        except yaml.YAMLError as exc:
            raise HelmError(f"failed to parse {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise HelmError(f"failed to parse {path}: not a map of values")
        values = values_.merge_maps(values, loaded)
    try:
        for item in args.set:
            values = values_.merge_maps(values, helm.parse_set_string(item))
        for item in args.set_string:
            values = values_.merge_maps(values, helm.parse_set_string_values(item))
    except helm.HelmError as exc:
        raise HelmError(f"failed parsing --set data: {exc}") from exc
    return values


def _create_namespace(cluster: backend.Cluster, name: str) -> None:
    """`--create-namespace`: the namespace, unless it exists."""
    try:
        cluster.get(refs.ObjectRef("", "Namespace", "", name))
    except errors.NotFound:
        cluster.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, field_manager="helm"
        )


def _ansic(rfc3339: str) -> str:
    """Go's time.ANSIC layout (`Mon Jan _2 15:04:05 2006`), what Helm prints as LAST DEPLOYED."""
    moment = dt.datetime.fromtimestamp(duration.parse_rfc3339(rfc3339) / 1000, tz=dt.UTC)
    return f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"
