"""Flux's own benchmark (fluxcd/flux-benchmark, "MTTP"), kustomize-controller half, simulated.

    python benchmarks/flux_benchmark.py [--count 100 500 1000] [--profile]

The shape is the benchmark repository's `flux-ks-bench` module:
- One namespace, `kustomize-benchmark`, with a ServiceAccount `flux` bound to `admin` there.
- N OCIRepositories, all on the same podinfo manifests artifact (`:latest`, `insecure`, interval
  60m): a ServiceAccount, a Service, a Deployment scaled to zero and an Ingress, with
  `${INDEX}`, `${PODS}` and `${MCPU}` to substitute.
- N Kustomizations, `podinfo-<i>`: interval 60m, retryInterval 2m, prune, wait, timeout 1m,
  `serviceAccountName: flux`, `targetNamespace`, and `postBuild.substitute` of INDEX/PODS/MCPU.

Timing starts when everything is applied at once, as the benchmark's `timoni bundle apply` does,
and stops when every Kustomization is Ready. We report both the virtual time Flux would take
here and the wall time the simulation took. Anchor: Flux v2.9.0 on a 3-node kind cluster on a
16-core GitHub runner (RESULTS.md): 26 s for 100, 2m0s for 500, 4m13s for 1,000. Target (issue
21): 1,000 in ≤ 30 s wall on this 2-core machine.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import archives, conditions, flux
from gitops_sim.sources import oci

NAMESPACE = "kustomize-benchmark"
ARTIFACT = "oci://flux-registry:5000/manifests/podinfo"
ANCHORS_S = {100: 26.0, 500: 120.0, 1000: 253.0}
TARGET_1000_S = 30.0
MANIFESTS = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: "podinfo-${INDEX}"
  labels: {app.kubernetes.io/name: "podinfo-${INDEX}", app.kubernetes.io/managed-by: Flux}
---
apiVersion: v1
kind: Service
metadata:
  name: "podinfo-${INDEX}"
  labels: {app.kubernetes.io/name: "podinfo-${INDEX}", app.kubernetes.io/managed-by: Flux}
spec:
  type: ClusterIP
  ports:
    - {port: 9898, targetPort: http, protocol: TCP, name: http}
    - {port: 9999, targetPort: grpc, protocol: TCP, name: grpc}
  selector: {app.kubernetes.io/name: "podinfo-${INDEX}"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: "podinfo-${INDEX}"
  labels: {app.kubernetes.io/name: "podinfo-${INDEX}", app.kubernetes.io/managed-by: Flux}
spec:
  replicas: ${PODS:=0}
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  selector: {matchLabels: {app.kubernetes.io/name: "podinfo-${INDEX}"}}
  template:
    metadata: {labels: {app.kubernetes.io/name: "podinfo-${INDEX}"}}
    spec:
      serviceAccountName: "podinfo-${INDEX}"
      containers:
        - name: podinfo
          image: "ghcr.io/stefanprodan/podinfo:6.5.3"
          ports:
            - {name: http, containerPort: 9898, protocol: TCP}
            - {name: grpc, containerPort: 9999, protocol: TCP}
          resources: {requests: {cpu: "${MCPU}", memory: 16Mi}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: "podinfo-${INDEX}"
  labels: {app.kubernetes.io/name: "podinfo-${INDEX}", app.kubernetes.io/managed-by: Flux}
spec:
  ingressClassName: nginx
  rules:
    - host: "podinfo-${INDEX}.local"
      http:
        paths:
          - path: /
            pathType: ImplementationSpecific
            backend: {service: {name: "podinfo-${INDEX}", port: {number: 9898}}}
"""


def _objects(count: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "flux", "namespace": NAMESPACE}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "flux", "namespace": NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "flux", "namespace": NAMESPACE}],
        },
    ]
    for i in range(count):
        name = f"podinfo-{i}"
        out.append(
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "OCIRepository",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {"interval": "60m", "insecure": True, "url": ARTIFACT, "ref": {"tag": "latest"}},
            }
        )
        out.append(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {
                    "sourceRef": {"kind": "OCIRepository", "name": name},
                    "interval": "60m",
                    "retryInterval": "2m",
                    "path": "./",
                    "prune": True,
                    "wait": True,
                    "timeout": "1m",
                    "serviceAccountName": "flux",
                    "targetNamespace": NAMESPACE,
                    "postBuild": {"substitute": {"INDEX": f"{i}app", "PODS": "0", "MCPU": "1m"}},
                },
            }
        )
    return out


def run(count: int, profile: bool = False) -> tuple[float, float, int]:
    """(wall seconds, virtual seconds, Kustomizations Ready) for `count` apps; `profile` prints
    cProfile's top entries (by own time, then cumulative) for the run."""
    with tempfile.TemporaryDirectory(prefix="gitops-sim-bench-") as workdir:
        sim = simulation.Simulation(simulation.Settings(Path(workdir)))
        try:
            client = oci.RegistryClient(sim.registries.route)
            host, name = sim.registries.host(ARTIFACT)
            client.push_artifact(host, name, "latest", archives.pack({"podinfo.yaml": MANIFESTS.encode()}))
            kustomizations = flux.KUSTOMIZATION.group_kind
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            started, t0 = time.perf_counter(), sim.now()
            for obj in _objects(count):
                sim.cluster.apply(obj, field_manager="timoni")
            ready = 0
            while ready < count and sim.now() - t0 < 30 * 60_000:
                sim.advance(1_000)
                ready = sum(conditions.is_true(o, conditions.READY) for o in sim.cluster.list(kustomizations))
            wall = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                stats = pstats.Stats(profiler)
                stats.sort_stats("tottime").print_stats(30)
                stats.sort_stats("cumulative").print_stats(40)
            return wall, (sim.now() - t0) / 1000, ready
        finally:
            sim.close()


def figures(quick: bool) -> list[dict[str, Any]]:
    out = []
    for count in (100,) if quick else (100, 500, 1000):
        wall, virtual, ready = run(count)
        anchor = f"Flux v2.9: {ANCHORS_S[count]:.0f}s on a 16-core runner"
        target = TARGET_1000_S * count / 1000
        out.append(
            {
                "name": f"flux-benchmark {count} Kustomizations Ready, wall",
                "value": wall,
                "unit": "s",
                "target": target,
                "better": "lower",
                "anchor": anchor,
            }
        )
        out.append(
            {
                "name": f"flux-benchmark {count} Kustomizations Ready, virtual",
                "value": virtual,
                "unit": "s",
                "target": None,
                "better": "lower",
                "anchor": f"{ANCHORS_S[count]:.0f}s",
                "note": f"{ready}/{count} Ready",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--profile", action="store_true", help="print cProfile's top entries for each run")
    args = parser.parse_args()
    for count in args.count:
        wall, virtual, ready = run(count, args.profile)
        print(
            f"{count:5d} Kustomizations: {ready} Ready in {virtual:6.1f}s virtual, {wall:6.2f}s wall "
            f"(Flux v2.9 on 16 cores: {ANCHORS_S.get(count, float('nan')):.0f}s)"
        )


if __name__ == "__main__":
    main()
