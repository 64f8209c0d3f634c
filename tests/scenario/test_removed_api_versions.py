"""A Flux API version removed before Flux 2.10 gets the real server's error, then one hint naming
the Flux release that removed it and `flux migrate` (`model.flux.REMOVED_APIS`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gitops_sim.scenario import loader, report, runner

SOURCE = """\
- |
  apiVersion: source.toolkit.fluxcd.io/v1
  kind: GitRepository
  metadata: {name: fleet, namespace: flux-system}
  spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}
"""


def scenario(tmp_path: Path, files: str, apply: str, steps: str = "- advance: 1m\n") -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: removed API versions\n"
        "repos:\n  fleet:\n    url: https://github.com/acme/fleet\n    files:\n"
        + textwrap.indent(textwrap.dedent(files), "      ")
        + "apply:\n"
        + textwrap.indent(SOURCE + textwrap.dedent(apply), "  ")
        + "steps:\n"
        + textwrap.indent(steps, "  ")
    )
    return path


def run(path: Path, tmp_path: Path) -> runner.Outcome:
    return runner.run(loader.load(path), tmp_path / "work")


CONFIGMAP = """\
apps/cm.yaml: |
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: default}
  data: {mode: a}
"""

KUSTOMIZATION = """\
- |
  apiVersion: kustomize.toolkit.fluxcd.io/%s
  kind: %s
  metadata: {name: apps, namespace: flux-system}
  spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
"""


def test_applying_a_kustomization_v1beta1_fails_with_the_servers_error_then_one_hint(tmp_path: Path) -> None:
    path = scenario(tmp_path, CONFIGMAP, KUSTOMIZATION % ("v1beta1", "Kustomization"))
    outcome = run(path, tmp_path)
    assert str(outcome.failure) == (
        f"{path}:17:5: applying Kustomization/flux-system/apps: "
        'no matches for kind "Kustomization" in version "kustomize.toolkit.fluxcd.io/v1beta1"'
    )
    failure, hint = outcome.trace.records[-2:]
    assert failure["kind"] == "failure"
    assert hint == {
        "t": 0,
        "kind": "hint",
        "object": f"{path}:17:5",
        "message": "kustomize.toolkit.fluxcd.io/v1beta1 was removed in Flux v2.7.0; Flux v2.10.0 serves "
        "Kustomization as kustomize.toolkit.fluxcd.io/v1: `flux migrate -f <dir>` rewrites the "
        "manifests under <dir> to the served API versions",
    }


def test_the_hint_is_a_timeline_line_after_the_failure(tmp_path: Path) -> None:
    path = scenario(tmp_path, CONFIGMAP, KUSTOMIZATION % ("v1beta1", "Kustomization"))
    lines = report.timeline_lines(run(path, tmp_path).trace.records[-1:])
    assert lines[0].startswith("00:00:00.000  gitops-sim ")
    assert lines[0].endswith(
        " hint                           "
        "kustomize.toolkit.fluxcd.io/v1beta1 was removed in Flux v2.7.0; Flux v2.10.0 serves "
        "Kustomization as kustomize.toolkit.fluxcd.io/v1: `flux migrate -f <dir>` rewrites the "
        "manifests under <dir> to the served API versions"
    )
    assert "".join(line[42:77].rstrip() for line in lines) == f"{path}:17:5"  # the location, wrapped


def test_a_kustomization_v1beta2_in_git_fails_its_parents_apply_and_is_hinted_once(tmp_path: Path) -> None:
    child = """\
    apps/ks.yaml: |
      apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
      kind: Kustomization
      metadata: {name: child, namespace: flux-system}
      spec: {interval: 10m, path: ./other, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
    """
    path = scenario(tmp_path, child, KUSTOMIZATION % ("v1", "Kustomization"), "- advance: 1h\n")
    records = run(path, tmp_path).trace.records
    failed = [
        i for i, r in enumerate(records) if r["kind"] == "event" and r["reason"] == "ReconciliationFailed"
    ]
    hints = [i for i, r in enumerate(records) if r["kind"] == "hint"]
    assert len(failed) > 1
    assert records[failed[0]]["message"].startswith(
        "Kustomization/flux-system/child dry-run failed: "
        'no matches for kind "Kustomization" in version "kustomize.toolkit.fluxcd.io/v1beta2"'
    )
    assert hints == [failed[0] + 1]
    assert records[hints[0]] == {
        "t": 750,
        "kind": "hint",
        "object": "Kustomization/flux-system/apps",
        "message": "kustomize.toolkit.fluxcd.io/v1beta2 was removed in Flux v2.8.0; Flux v2.10.0 serves "
        "Kustomization as kustomize.toolkit.fluxcd.io/v1: `flux migrate -f <dir>` rewrites the "
        "manifests under <dir> to the served API versions",
    }


def test_a_helmrelease_v2beta1_names_flux_2_7_and_the_served_v2(tmp_path: Path) -> None:
    release = """\
      - |
        apiVersion: helm.toolkit.fluxcd.io/v2beta1
        kind: HelmRelease
        metadata: {name: podinfo, namespace: flux-system}
        spec:
          interval: 10m
          chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: podinfo}}}
    """
    outcome = run(scenario(tmp_path, CONFIGMAP, release), tmp_path)
    assert outcome.trace.records[-1]["message"] == (
        "helm.toolkit.fluxcd.io/v2beta1 was removed in Flux v2.7.0; Flux v2.10.0 serves HelmRelease as "
        "helm.toolkit.fluxcd.io/v2: `flux migrate -f <dir>` rewrites the manifests under <dir> to the "
        "served API versions"
    )


def test_a_kind_flux_never_served_in_a_removed_version_gets_the_error_and_no_hint(tmp_path: Path) -> None:
    outcome = run(scenario(tmp_path, CONFIGMAP, KUSTOMIZATION % ("v1beta1", "Kustomisation")), tmp_path)
    assert str(outcome.failure).endswith(
        'no matches for kind "Kustomisation" in version "kustomize.toolkit.fluxcd.io/v1beta1"'
    )
    assert [r for r in outcome.trace.records if r["kind"] == "hint"] == []
