"""A repository whose charts, OCI artifacts and remote bases were mirrored runs with its upstreams
gone: each remote URL answers from the mirror, under its own name."""

from __future__ import annotations

from pathlib import Path

from tests.mirror.conftest import BASES, CHART_REPO, Mirrored, OfflineRun


def test_a_chart_range_installs_the_version_the_mirror_resolved(offline: OfflineRun) -> None:
    assert offline.ready("HelmRelease", "default", "podinfo") == (
        "True",
        "InstallSucceeded",
        "Helm install succeeded for release default/podinfo.v1 with chart podinfo@6.5.1",
    )


def test_a_chart_of_an_oci_helm_repository_is_pulled_from_the_mirror(offline: OfflineRun) -> None:
    assert offline.ready("HelmRelease", "default", "oci-podinfo") == (
        "True",
        "InstallSucceeded",
        "Helm install succeeded for release default/oci-podinfo.v1 with chart podinfo@6.5.0",
    )


def test_an_oci_artifact_keeps_the_digest_the_upstream_gave_it(
    offline: OfflineRun, mirrored: Mirrored
) -> None:
    assert offline.ready("OCIRepository", "flux-system", "manifests") == (
        "True",
        "Succeeded",
        f"stored artifact for digest '1.2.0@{mirrored.artifact_digest}'",
    )


def test_a_remote_kustomize_base_is_cloned_from_the_mirror(offline: OfflineRun) -> None:
    assert offline.ready("Kustomization", "flux-system", "base")[:2] == ("True", "ReconciliationSucceeded")
    assert offline.obj("ConfigMap", "default", "from-base")["metadata"]


def test_a_remote_base_pinned_to_a_commit_finds_the_upstream_commit(offline: OfflineRun) -> None:
    assert offline.obj("ConfigMap", "default", "pinned-base")["metadata"]


def test_the_notes_say_what_the_mirror_served(offline: OfflineRun, mirrored: Mirrored) -> None:
    assert f"offline mirror: chart podinfo 6.5.x from {CHART_REPO} served as 6.5.1" in offline.notes
    assert f"offline mirror: remote base {BASES} at v1 served as " in "\n".join(offline.notes)


def test_a_chart_the_mirror_lacks_is_an_empty_stand_in(offline: OfflineRun) -> None:
    assert offline.ready("HelmRelease", "default", "cert-manager") == (
        "True",
        "InstallSucceeded",
        "Helm install succeeded for release default/cert-manager.v1 with chart cert-manager@1.14.0",
    )


def test_the_notes_list_every_stand_in(offline: OfflineRun) -> None:
    assert [n for n in offline.notes if n.startswith("stand-in")] == [
        "stand-in chart cert-manager 1.14.0 for chart cert-manager 1.14.x from https://charts.jetstack.io "
        "(apps/helm.yaml:38): not in the offline mirror; it has no templates"
    ]


def test_the_mirror_reports_what_it_could_not_fetch(mirrored: Mirrored) -> None:
    assert mirrored.report.failed == (
        "chart cert-manager 1.14.x from https://charts.jetstack.io (apps/helm.yaml:38): "
        'Get "https://charts.jetstack.io/index.yaml": dial tcp: lookup charts.jetstack.io: no such host',
    )


def test_the_same_folder_and_upstreams_give_a_byte_identical_mirror(mirrored: Mirrored) -> None:
    def blobs(root: Path) -> list[str]:
        return sorted(p.name for p in (root / "blobs" / "sha256").iterdir())

    assert (mirrored.cache / "index.json").read_bytes() == (mirrored.again / "index.json").read_bytes()
    assert blobs(mirrored.cache) == blobs(mirrored.again)
