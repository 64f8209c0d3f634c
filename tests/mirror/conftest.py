"""A Flux repository folder whose remote references are hosted by a throwaway simulation (the
stand-in for the internet), and the offline mirror built from it once that simulation's servers
are gone: what the tests of this folder run scenarios against."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitops_sim.engine import simulation
from gitops_sim.mirror import cache as mirror_cache
from gitops_sim.mirror import discover, serve
from gitops_sim.model import archives
from gitops_sim.scenario import loader, runner
from gitops_sim.sources import oci

CHART_REPO = "https://charts.example.com/stable"
BASES = "https://github.com/acme/bases"


def chart_files(version: str) -> dict[str, str]:
    return {
        "Chart.yaml": f"apiVersion: v2\nname: podinfo\nversion: {version}\n",
        "templates/cm.yaml": textwrap.dedent(
            """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: '{{ .Release.Name }}'}
            data: {chart: '{{ .Chart.Version }}'}
            """
        ),
    }


FLEET_HELM = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: flux-system}
spec: {url: https://charts.example.com/stable, interval: 10m}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: default}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.5.x
      sourceRef: {kind: HelmRepository, name: podinfo, namespace: flux-system}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: oci-charts, namespace: flux-system}
spec: {url: oci://ghcr.io/acme/charts, type: oci, interval: 10m}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: oci-podinfo, namespace: default}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: ">=6.0.0"
      sourceRef: {kind: HelmRepository, name: oci-charts, namespace: flux-system}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: jetstack, namespace: flux-system}
spec: {url: https://charts.jetstack.io, interval: 10m}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cert-manager, namespace: default}
spec:
  interval: 10m
  chart:
    spec:
      chart: cert-manager
      version: 1.14.x
      sourceRef: {kind: HelmRepository, name: jetstack, namespace: flux-system}
"""

FLEET_OCI = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: manifests, namespace: flux-system}
spec:
  url: oci://ghcr.io/acme/manifests
  ref: {semver: 1.x}
  interval: 10m
"""


@dataclass(frozen=True, slots=True)
class Mirrored:
    folder: Path
    """The repository folder (`apps/`, `base/`)."""
    cache: Path
    again: Path
    """A second mirror built from the same folder and upstreams (determinism)."""
    report: mirror_cache.Report
    artifact_digest: str
    """The digest the upstream registry gave the OCI artifact the folder asks for."""
    base_commit: str
    """The upstream commit the remote base's `?ref=<sha>` names."""


def _upstream(sim: simulation.Simulation) -> tuple[str, str]:
    """Publish what the folder refers to; (the artifact's manifest digest, a commit of the bases)."""
    for version in ("6.5.0", "6.5.1", "6.6.0"):
        sim.charts.publish(CHART_REPO, "podinfo", version, chart_files(version))
    client = oci.RegistryClient(sim.registries.route)
    data, metadata = sim.charts.package("podinfo", "6.5.0", chart_files("6.5.0"))
    host, path = sim.registries.host("oci://ghcr.io/acme/charts")
    client.push_chart(host, f"{path}/podinfo", data, metadata)
    host, name = sim.registries.host("oci://ghcr.io/acme/manifests")
    layer = archives.pack({"cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-oci}\n"})
    client.push_artifact(host, name, "0.9.0", layer)
    digest = client.push_artifact(host, name, "1.2.0", layer)
    client.push_artifact(host, name, "2.0.0", layer)
    bases = sim.git.create("bases", BASES)
    pinned = bases.commit(
        {
            "other/kustomization.yaml": b"resources: [cm.yaml]\n",
            "other/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pinned-base}\n",
        },
        "other",
    )
    bases.commit(
        {
            "deploy/base/kustomization.yaml": b"resources: [cm.yaml]\n",
            "deploy/base/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-base}\n",
        },
        "base",
    )
    bases.tag("v1")
    return digest, pinned


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory: pytest.TempPathFactory) -> Mirrored:
    root = tmp_path_factory.mktemp("mirror")
    upstream = simulation.Simulation(simulation.Settings(workdir=root / "upstream", with_flux=False))
    try:
        digest, pinned = _upstream(upstream)
        folder = root / "fleet"
        (folder / "apps").mkdir(parents=True)
        (folder / "base").mkdir()
        (folder / "apps" / "helm.yaml").write_text(FLEET_HELM)
        (folder / "apps" / "oci.yaml").write_text(FLEET_OCI)
        (folder / "base" / "kustomization.yaml").write_text(
            "namespace: default\n"
            f"resources:\n- {BASES}//deploy/base?ref=v1\n- github.com/acme/bases/other?ref={pinned}\n"
        )
        fetch = mirror_cache.Upstreams.of_simulation(upstream)
        report = mirror_cache.build(discover.discover(folder), root / "cache", fetch, source="fleet")
        mirror_cache.build(discover.discover(folder), root / "again", fetch, source="fleet")
    finally:
        upstream.close()
    return Mirrored(folder, root / "cache", root / "again", report, digest, pinned)


SCENARIO = """\
apiVersion: gitops-sim/v1alpha1
kind: Scenario
name: {name}
repos:
  fleet: {{url: https://github.com/acme/fleet, dir: {folder}}}
apply:
  - |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: fleet, namespace: flux-system}}
    spec: {{url: https://github.com/acme/fleet, ref: {{branch: main}}, interval: 10m}}
  - |
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: apps, namespace: flux-system}}
    spec: {{path: ./apps, prune: true, interval: 10m, sourceRef: {{kind: GitRepository, name: fleet}}}}
  - |
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: base, namespace: flux-system}}
    spec: {{path: ./base, prune: true, interval: 10m, sourceRef: {{kind: GitRepository, name: fleet}}}}
steps:
  - advance: 1m
"""


def write_scenario(folder: Path, name: str) -> Path:
    """A scenario beside `folder` that syncs it (`apps/` and `base/`) and runs a minute."""
    path = folder.parent / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, folder=f"./{folder.name}"))
    return path


@dataclass(frozen=True, slots=True)
class OfflineRun:
    outcome: runner.Outcome
    notes: list[str]

    def obj(self, kind: str, namespace: str, name: str) -> dict[str, object]:
        found = [
            o
            for o in self.outcome.final
            if o["kind"] == kind
            and o["metadata"]["name"] == name
            and o["metadata"].get("namespace") == namespace
        ]
        assert found, f"{kind}/{namespace}/{name} is not in the final state"
        return dict(found[0])

    def ready(self, kind: str, namespace: str, name: str) -> tuple[str, str, str]:
        status = self.obj(kind, namespace, name).get("status")
        assert isinstance(status, dict)
        cond = next(c for c in status.get("conditions") or [] if c["type"] == "Ready")
        return str(cond["status"]), str(cond["reason"]), str(cond["message"])


def run_offline(
    where: Path, folder: Path, cache_dir: Path | None, *, stand_in_charts: bool = False
) -> OfflineRun:
    """The folder run as a scenario, its upstreams gone, with the mirror loaded first."""
    scenario = loader.load(write_scenario(folder, where.name))
    one = runner.Runner(scenario, where / "work")
    try:
        notes = serve.serve(cache_dir, one.sim, stand_in_charts=stand_in_charts)
        with runner.collector_paused():
            outcome = one.run()
    finally:
        one.sim.close()
    return OfflineRun(outcome, notes)


@pytest.fixture(scope="module")
def offline(mirrored: Mirrored, tmp_path_factory: pytest.TempPathFactory) -> OfflineRun:
    """The folder run from its mirror, with stand-ins for the charts the mirror lacks."""
    return run_offline(
        tmp_path_factory.mktemp("offline"), mirrored.folder, mirrored.cache, stand_in_charts=True
    )
