"""`gitops-sim up` on a repository shaped like a large home-lab one: wall time to the summary.

    python benchmarks/up_homelab.py [--kustomizations 80] [--helmreleases 60] [--for 30m] [--keep DIR]

The generated repository is a classic `flux bootstrap` one: `clusters/home/flux-system`
(gotk-components, gotk-sync), an `infrastructure` Kustomization (namespaces, a HelmRepository)
and `--kustomizations` app Kustomizations that depend on it, one folder each under `apps/` with a
Namespace, a ConfigMap, a Secret, a Service, a Deployment and a ServiceAccount (six objects); the
first `--helmreleases` of them also hold a HelmRelease of a small chart (a ConfigMap and a
Deployment) from the HelmRepository, which the run serves as a chart repository on 127.0.0.1.
About 500 objects in Git, 80 Kustomizations, 60 HelmReleases (issue 20's shape). Phase: plan,
run `--for` of virtual time, summarize; printed: the wall time of each and the count of Ready
Flux objects. Target (issue 20): at most 10 s wall on this machine, every Flux object Ready.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from gitops_sim.engine import simulation
from gitops_sim.model import duration, fluxinstall
from gitops_sim.scenario import summary, up

CHART_URL = "https://charts.example.com/home"
TARGET_S = 10.0
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "values.yaml": "replicas: 1\nimage: nginx:1.27\n",
    "templates/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-chart\ndata:\n  a: b\n"
    ),
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-chart\n"
        "spec:\n  replicas: {{ .Values.replicas }}\n"
        "  selector: {matchLabels: {app: {{ .Release.Name }}-chart}}\n"
        "  template:\n    metadata: {labels: {app: {{ .Release.Name }}-chart}}\n"
        "    spec:\n      containers:\n      - name: app\n        image: {{ .Values.image }}\n"
    ),
}
SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m0s
  ref: {branch: main}
  secretRef: {name: flux-system}
  url: ssh://git@github.com/homelab/cluster
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m0s
  path: ./clusters/home
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
"""


def _app(i: int, helm: bool) -> str:
    name = f"app-{i:02d}"
    meta = f"metadata: {{name: {name}, namespace: {name}}}\n"
    docs = [
        f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n",
        f"apiVersion: v1\nkind: ConfigMap\n{meta}data: {{index: '{i}'}}\n",
        f"apiVersion: v1\nkind: Secret\n{meta}stringData: {{k: v}}\n",
        f"apiVersion: v1\nkind: ServiceAccount\n{meta}",
        f"apiVersion: v1\nkind: Service\n{meta}spec: {{selector: {{app: {name}}}, ports: [{{port: 80}}]}}\n",
        f"apiVersion: apps/v1\nkind: Deployment\n{meta}"
        f"spec:\n  replicas: 1\n  selector: {{matchLabels: {{app: {name}}}}}\n"
        f"  template:\n    metadata: {{labels: {{app: {name}}}}}\n"
        f"    spec: {{serviceAccountName: {name}, containers: [{{name: app, image: 'nginx:1.27'}}]}}\n",
    ]
    if helm:
        docs.append(
            f"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n{meta}"
            "spec:\n  interval: 30m\n  chart:\n    spec:\n      chart: app\n      version: 1.x\n"
            "      sourceRef: {kind: HelmRepository, name: home, namespace: flux-system}\n"
        )
    return "---\n".join(docs)


def generate(root: Path, kustomizations: int, helmreleases: int) -> int:
    """Write the repository; returns how many objects its app folders hold."""
    files = {
        "clusters/home/flux-system/gotk-components.yaml": fluxinstall.render(fluxinstall.Options()),
        "clusters/home/flux-system/gotk-sync.yaml": SYNC,
        "clusters/home/flux-system/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "resources: [gotk-components.yaml, gotk-sync.yaml]\n"
        ),
        "clusters/home/infrastructure.yaml": (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            "metadata: {name: infrastructure, namespace: flux-system}\n"
            "spec: {interval: 1h, path: ./infrastructure, prune: true, "
            "sourceRef: {kind: GitRepository, name: flux-system}}\n"
        ),
        "infrastructure/helmrepository.yaml": (
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
            f"metadata: {{name: home, namespace: flux-system}}\nspec: {{interval: 1h, url: {CHART_URL}}}\n"
        ),
    }
    objects = 1
    for i in range(kustomizations):
        name = f"app-{i:02d}"
        files[f"clusters/home/apps/{name}.yaml"] = (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
            f"metadata: {{name: {name}, namespace: flux-system}}\n"
            f"spec: {{interval: 1h, path: ./apps/{name}, prune: true, dependsOn: [{{name: infrastructure}}], "
            "sourceRef: {kind: GitRepository, name: flux-system}}\n"
        )
        files[f"apps/{name}/resources.yaml"] = _app(i, i < helmreleases)
        objects += 6 + (i < helmreleases)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return objects


def _serve_chart(sim: simulation.Simulation) -> list[str]:
    sim.charts.publish(CHART_URL, "app", "1.0.0", CHART)
    return [f"chart app 1.0.0 served at {CHART_URL} (the benchmark's own)"]


def figures(quick: bool) -> list[dict[str, object]]:
    kustomizations, helmreleases = (20, 15) if quick else (80, 60)
    with tempfile.TemporaryDirectory(prefix="gitops-sim-bench-") as scratch:
        repo = Path(scratch) / "homelab"
        generate(repo, kustomizations, helmreleases)
        started = time.perf_counter()
        result = up.run(repo, Path(scratch) / "work", for_ms=30 * 60_000, prepare=_serve_chart)
        summary.render(result.summary)
        wall = time.perf_counter() - started
    ready = sum(o.ready == "True" for o in result.summary.flux)
    return [
        {
            "name": f"up: home-lab repository ({kustomizations} Kustomizations, {helmreleases} HelmReleases)",
            "value": wall,
            "unit": "s",
            "target": TARGET_S * kustomizations / 80,
            "better": "lower",
            "anchor": None,
            "note": f"{ready}/{len(result.summary.flux)} Ready",
        }
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kustomizations", type=int, default=80)
    parser.add_argument("--helmreleases", type=int, default=60)
    parser.add_argument("--for", dest="for_", default="30m")
    parser.add_argument("--keep", type=Path, help="write the generated repository here too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitops-sim-bench-") as scratch:
        repo = Path(scratch) / "homelab"
        count = generate(repo, args.kustomizations, args.helmreleases)
        if args.keep:
            shutil.copytree(repo, args.keep, dirs_exist_ok=True)
        started = time.perf_counter()
        result = up.run(repo, Path(scratch) / "work", for_ms=duration.parse(args.for_), prepare=_serve_chart)
        ran = time.perf_counter() - started
        text = summary.render(result.summary)
        total = time.perf_counter() - started
    flux_objects = result.summary.flux
    ready = sum(o.ready == "True" for o in flux_objects)
    print(text.splitlines()[0])
    print(
        f"{args.kustomizations} app Kustomizations, {args.helmreleases} HelmReleases, "
        f"{count} objects in Git; {args.for_} of virtual time"
    )
    print(f"run {ran:.2f}s, summary {total - ran:.2f}s, total {total:.2f}s wall (target ≤ {TARGET_S:.0f}s)")
    print(f"Flux objects Ready: {ready}/{len(flux_objects)}")
    return 0 if ready == len(flux_objects) else 1


if __name__ == "__main__":
    raise SystemExit(main())
