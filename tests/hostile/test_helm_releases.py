"""Hostile input on the HelmRelease path: a broken chart, storage or release never stops the others."""

from __future__ import annotations

import base64

from gitops_sim.engine import simulation
from gitops_sim.helm import storage
from gitops_sim.model import refs
from gitops_sim.testing import events_of, ready
from tests.builders import HELM_URL, helmrepository

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}
GOOD = {
    "Chart.yaml": "apiVersion: v2\nname: good\nversion: 1.0.0\n",
    "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
}


def release(name: str, chart: str) -> dict[str, object]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": "apps"},
        "spec": {
            "interval": "10m",
            "chart": {
                "spec": {
                    "chart": chart,
                    "sourceRef": {"kind": "HelmRepository", "name": "stable", "namespace": "flux-system"},
                }
            },
        },
    }


def hr(name: str) -> refs.ObjectRef:
    return refs.ObjectRef("helm.toolkit.fluxcd.io", "HelmRelease", "apps", name)


def setup(sim: simulation.Simulation, bad_files: dict[str, str]) -> None:
    sim.cluster.apply(NS, field_manager="kubectl")
    sim.charts.publish(HELM_URL, "good", "1.0.0", GOOD)
    sim.charts.publish(
        HELM_URL, "bad", "1.0.0", {"Chart.yaml": "apiVersion: v2\nname: bad\nversion: 1.0.0\n", **bad_files}
    )
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(release("bad", "bad"), field_manager="kubectl")
    sim.cluster.apply(release("good", "good"), field_manager="kubectl")


def test_a_template_that_renders_a_list_fails_its_release_alone(sim: simulation.Simulation) -> None:
    setup(sim, {"templates/list.yaml": "- not\n- a mapping\n"})
    sim.advance(60_000)
    assert ready(sim.cluster.get(hr("good")))["reason"] == "InstallSucceeded"
    failed = ready(sim.cluster.get(hr("bad")))
    assert (failed["status"], failed["reason"]) == ("False", "InstallFailed")
    assert not [r for r in sim.trace.records if r["kind"] == "reconcile-error"]


def test_a_template_rendering_invalid_yaml_fails_its_release_alone(sim: simulation.Simulation) -> None:
    setup(sim, {"templates/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n"})
    sim.advance(60_000)
    assert ready(sim.cluster.get(hr("good")))["reason"] == "InstallSucceeded"
    assert ready(sim.cluster.get(hr("bad")))["reason"] == "InstallFailed"
    assert not [r for r in sim.trace.records if r["kind"] == "reconcile-error"]


def test_a_storage_secret_that_is_not_a_release_is_skipped_as_helm_skips_it(
    sim: simulation.Simulation,
) -> None:
    setup(sim, dict(GOOD, **{"Chart.yaml": "apiVersion: v2\nname: bad\nversion: 1.0.0\n"}))
    garbage = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": "sh.helm.release.v1.bad.v7",
            "namespace": "apps",
            "labels": {"owner": "helm", "name": "bad", "version": "7", "status": "deployed"},
        },
        "data": {"release": base64.b64encode(b"not gzip, not json").decode()},
    }
    sim.cluster.apply(garbage, field_manager="kubectl")
    sim.advance(60_000)
    assert ready(sim.cluster.get(hr("bad")))["reason"] == "InstallSucceeded"
    assert [r.version for r in storage.releases(sim.cluster, "apps", "bad")] == [1]
    assert not [r for r in sim.trace.records if r["kind"] == "reconcile-error"]


def test_a_corrupted_chart_artifact_is_an_artifact_failure_of_its_release_alone(
    sim: simulation.Simulation,
) -> None:
    setup(sim, dict(GOOD, **{"Chart.yaml": "apiVersion: v2\nname: bad\nversion: 1.0.0\n"}))
    sim.advance(60_000)
    chart = sim.cluster.get(
        refs.ObjectRef("source.toolkit.fluxcd.io", "HelmChart", "flux-system", "apps-bad")
    )
    sim.storage.damage(chart["status"]["artifact"]["path"], "corrupted")
    request = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}
    sim.cluster.merge_patch(hr("bad"), request, field_manager="flux")
    sim.advance(1_000)
    failed = ready(sim.cluster.get(hr("bad")))
    assert (failed["status"], failed["reason"]) == ("False", "ArtifactFailed")
    assert failed["message"].startswith("Could not load chart: ")
    assert ("Warning", "ArtifactFailed") in [(e.type, e.reason) for e in events_of(sim, hr("bad"))]
    assert ready(sim.cluster.get(hr("good")))["reason"] == "InstallSucceeded"
