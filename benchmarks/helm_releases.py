"""HelmReleases over 24 virtual hours with hourly values changes: renders, revisions, wall time.

    python benchmarks/helm_releases.py [--count 300] [--hours 24] [--values-from] [--quick]
        [--profile [--profile-out FILE]]

One HTTP Helm repository serves one small chart (a ConfigMap and a Deployment templated from
values, no hooks, no tests); one HelmRepository (interval 10m) and `--count` HelmReleases
(interval 10m, each with its own HelmChart, as helm-controller creates one per release) install
it, each as its own release in a namespace of its own (`team-<i>`; in one shared namespace the
simulated ReplicaSets, which list their namespace's Pods, would make the install quadratic).
Phase 1 is the first install: wall time until every HelmRelease is Ready (the install waits for
the simulated Deployment to be available).
Phase 2 lets `--hours` pass with one values change per release per virtual hour, staggered so
the changes spread evenly over the hour: by default a change of `spec.values` (a new generation,
reconciled at once), with `--values-from` a change of the release's own ConfigMap read through
`valuesFrom` (picked up at the next interval, as Flux does when the ConfigMap is not watched; phase 2 then
runs 15 minutes longer, so that the last changes are picked up before phase 3).
Every change is one Helm render (the Helm v4 engine, then helm-controller's post-renderers: the
origin labels, set in process as kustomize would set them) and one upgrade revision. Phase 3 is
one more hour with no change: it must render nothing and write no revision, and the benchmark
fails if it does.

Renders are counted by wrapping `gitops_sim.helm.render.Renderer.render` (also timed, so the
share of wall time spent rendering is printed); revisions by the highest `version` label of each
release's `helm.sh/release.v1` Secrets (older ones are pruned by `maxHistory`). `--quick` is 30
releases x 2h. Target (issue 15): 300 releases x 24h in at most 60s wall on 2 cores.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.helm import render
from gitops_sim.model import conditions, flux, refs
from gitops_sim.timing import clock as clocks

HELM_URL = "https://charts.example.com/stable"
HOUR_MS = 3_600_000
PICKUP_MS = 15 * 60_000
"""With `--values-from`, how long phase 2 runs past its last change (one interval and its jitter)."""
TARGET_S = 60.0
TARGET_RELEASES, TARGET_HOURS = 300, 24
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: '1.27'\n",
    "values.yaml": "message: hello\nreplicas: 1\nimage: {repository: nginx, tag: '1.27'}\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    ),
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  replicas: {{ .Values.replicas }}\n"
        "  selector: {matchLabels: {app: {{ .Release.Name }}}}\n"
        "  template:\n    metadata: {labels: {app: {{ .Release.Name }}}}\n"
        "    spec:\n      containers:\n      - name: web\n"
        '        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n'
        "        envFrom: [{configMapRef: {name: {{ .Release.Name }}}}]\n"
    ),
}


class RenderMeter:
    """Counts and times `Renderer.render` (every Helm render of every HelmRelease)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def install(self) -> None:
        original: Callable[..., Any] = render.Renderer.render

        @functools.wraps(original)
        def counted(renderer: render.Renderer, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(renderer, *args, **kwargs)
            finally:
                self.count += 1
                self.seconds += time.perf_counter() - started

        render.Renderer.render = counted  # type: ignore[method-assign,assignment]


def helmrelease(i: int, message: str | None, values_from: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "interval": "10m",
        "targetNamespace": f"team-{i}",
        "chart": {
            "spec": {
                "chart": "web",
                "version": "1.x",
                "sourceRef": {"kind": "HelmRepository", "name": "stable"},
            }
        },
    }
    if values_from:
        spec["valuesFrom"] = [{"kind": "ConfigMap", "name": f"values-{i}"}]
    else:
        spec["values"] = {"message": message}
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": f"web-{i}", "namespace": "flux-system"},
        "spec": spec,
    }


def values_configmap(i: int, message: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"values-{i}", "namespace": "flux-system"},
        "data": {"values.yaml": f"message: {message}\n"},
    }


def change(sim: simulation.Simulation, i: int, message: str, values_from: bool) -> None:
    obj = values_configmap(i, message) if values_from else helmrelease(i, message, values_from)
    sim.cluster.apply(obj, field_manager="bench")


def ready_count(sim: simulation.Simulation) -> int:
    return sum(
        1
        for hr in sim.cluster.list(flux.HELMRELEASE.group_kind)
        if (c := conditions.get(hr, conditions.READY)) is not None and c.get("status") == "True"
    )


def revisions(sim: simulation.Simulation) -> tuple[int, int]:
    """(release revisions written so far, release Secrets kept): the sum of each release's
    highest revision, and how many `helm.sh/release.v1` Secrets exist."""
    secrets = [
        s
        for s in sim.cluster.list(
            refs.GroupKind("", "Secret"), namespace="flux-system", labels={"owner": "helm"}
        )
        if s.get("type") == "helm.sh/release.v1"
    ]
    highest: dict[str, int] = {}
    for s in secrets:
        labels = s["metadata"]["labels"]
        highest[labels["name"]] = max(highest.get(labels["name"], 0), int(labels["version"]))
    return sum(highest.values()), len(secrets)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=TARGET_RELEASES)
    parser.add_argument("--hours", type=int, default=TARGET_HOURS)
    parser.add_argument("--values-from", action="store_true", help="change valuesFrom ConfigMaps")
    parser.add_argument("--quick", action="store_true", help="30 releases x 2h")
    parser.add_argument("--profile", action="store_true", help="cProfile the 24h phase (top 25 cumulative)")
    parser.add_argument("--profile-out", type=Path, help="with --profile, also dump the stats to this file")
    args = parser.parse_args()
    if args.quick:
        args.count, args.hours = 30, 2
    meter = RenderMeter()
    meter.install()
    with tempfile.TemporaryDirectory() as workdir:
        sim = simulation.Simulation(simulation.Settings(Path(workdir)))
        queue = sim.queues[flux.HELMRELEASE.group_kind]
        charts_queue = sim.queues[flux.HELMCHART.group_kind]
        started = time.perf_counter()
        sim.charts.publish(HELM_URL, "web", "1.0.0", CHART)
        sim.cluster.apply(
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "HelmRepository",
                "metadata": {"name": "stable", "namespace": "flux-system"},
                "spec": {"url": HELM_URL, "interval": "10m"},
            },
            field_manager="bench",
        )
        for i in range(args.count):
            sim.cluster.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"team-{i}"}},
                field_manager="bench",
            )
            if args.values_from:
                sim.cluster.apply(values_configmap(i, "initial"), field_manager="bench")
            sim.cluster.apply(helmrelease(i, "initial", args.values_from), field_manager="bench")
        setup = time.perf_counter() - started

        # Phase 1: the first install, until every HelmRelease is Ready.
        t0, c0, v0, r0, q0 = time.perf_counter(), time.process_time(), sim.now(), meter.count, queue.processed
        while ready_count(sim) < args.count:
            if sim.now() - v0 > 30 * 60_000:
                raise SystemExit(f"{ready_count(sim)}/{args.count} HelmReleases Ready after 30 virtual min")
            sim.advance(5_000)
        install_s, install_cpu = time.perf_counter() - t0, time.process_time() - c0
        install_virtual = sim.now() - v0
        install_renders, install_reconciles = meter.count - r0, queue.processed - q0
        install_revisions, _ = revisions(sim)

        # Phase 2: `--hours` with one values change per release per hour, spread over the hour.
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        base = sim.now()
        t0, c0, r0, rs0, q0, h0 = (
            time.perf_counter(),
            time.process_time(),
            meter.count,
            meter.seconds,
            queue.processed,
            charts_queue.processed,
        )
        for hour in range(args.hours):
            for i in range(args.count):
                sim.run_until(clocks.Millis(base + hour * HOUR_MS + i * HOUR_MS // args.count))
                change(sim, i, f"hour-{hour}", args.values_from)
        # A valuesFrom change is seen at the next interval: let the last ones be picked up.
        ms = args.hours * HOUR_MS + (PICKUP_MS if args.values_from else 0)
        sim.run_until(clocks.Millis(base + ms))
        steady_s, steady_cpu = time.perf_counter() - t0, time.process_time() - c0
        if profiler is not None:
            profiler.disable()
        steady_renders, render_s = meter.count - r0, meter.seconds - rs0
        steady_reconciles, chart_reconciles = queue.processed - q0, charts_queue.processed - h0
        steady_revisions, kept = revisions(sim)
        steady_revisions -= install_revisions
        not_ready = args.count - ready_count(sim)

        # Phase 3: one more hour, nothing changes: no render, no revision.
        t0, r0, q0 = time.perf_counter(), meter.count, queue.processed
        before, _ = revisions(sim)
        sim.advance(HOUR_MS)
        quiet_s = time.perf_counter() - t0
        quiet_renders, quiet_reconciles = meter.count - r0, queue.processed - q0
        quiet_revisions = revisions(sim)[0] - before
        sim.close()

    changes = args.count * args.hours
    print(
        f"{args.count} HelmReleases x {args.hours}h, {changes} values changes "
        f"({'valuesFrom ConfigMap' if args.values_from else 'spec.values'}); setup {setup:.1f}s"
    )
    print(
        f"install          {install_renders:6d} renders, {install_reconciles:6d} reconciles, all Ready after "
        f"{install_virtual / 1000:.0f}s virtual, in {install_s:6.2f}s wall (cpu {install_cpu:.2f}s)"
    )
    print(
        f"{args.hours}h, hourly change {steady_s:7.2f}s wall (cpu {steady_cpu:.2f}s)  "
        f"target {TARGET_S:.0f}s for {TARGET_RELEASES} x {TARGET_HOURS}h"
        + (
            f"  (this size scaled to target: {steady_s * TARGET_RELEASES * TARGET_HOURS / changes:.0f}s)"
            if changes != TARGET_RELEASES * TARGET_HOURS
            else ""
        )
    )
    print(
        f"  renders        {steady_renders:7d} ({steady_renders / steady_s:6.1f}/s; "
        f"{render_s:.2f}s in render = {100 * render_s / steady_s:.0f}% of wall, "
        f"{1000 * render_s / max(steady_renders, 1):.1f} ms each)"
    )
    print(f"  revisions      {steady_revisions:7d} written ({kept} release Secrets kept)")
    print(
        f"  reconciles     {steady_reconciles:7d} HelmRelease ({steady_reconciles / steady_s:6.0f}/s), "
        f"{chart_reconciles} HelmChart"
    )
    print(f"  simulated/wall {ms / 1000 / steady_s:7,.0f}x   not Ready at the end: {not_ready}")
    print(
        f"1h, no change    {quiet_renders} renders, {quiet_revisions} revisions, "
        f"{quiet_reconciles} reconciles in {quiet_s:.2f}s wall"
    )
    assert quiet_renders == 0, f"{quiet_renders} renders in the hour without change"
    assert quiet_revisions == 0, f"{quiet_revisions} revisions written in the hour without change"
    assert steady_revisions == changes, f"{steady_revisions} revisions for {changes} values changes"
    if profiler is not None:
        stats = pstats.Stats(profiler)
        if args.profile_out is not None:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
