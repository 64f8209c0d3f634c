"""What `gitops-sim mirror` finds in a repository folder, and what it says about what it cannot keep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.engine import simulation
from gitops_sim.mirror import discover, serve
from tests.mirror.conftest import Mirrored, chart_files


def test_every_remote_reference_is_found_with_its_file_and_line(mirrored: Mirrored) -> None:
    found = [(ref.key, ref.at, ref.problem) for ref in discover.discover(mirrored.folder)]
    assert found == [
        ("chart https://charts.example.com/stable podinfo 6.5.x", ("apps/helm.yaml:6",), ""),
        ("chart https://charts.jetstack.io cert-manager 1.14.x", ("apps/helm.yaml:38",), ""),
        ("chart oci://ghcr.io/acme/charts podinfo >=6.0.0", ("apps/helm.yaml:22",), ""),
        (f"git https://github.com/acme/bases {mirrored.base_commit}", ("base/kustomization.yaml:4",), ""),
        ("git https://github.com/acme/bases v1", ("base/kustomization.yaml:3",), ""),
        ("oci oci://ghcr.io/acme/manifests semver 1.x", ("apps/oci.yaml:1",), ""),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            "https://github.com/org/repo//deploy/base?ref=v1",
            ("https://github.com/org/repo", "v1"),
            id="slashes",
        ),
        pytest.param(
            "github.com/org/repo/deploy?ref=v1", ("https://github.com/org/repo", "v1"), id="github-short"
        ),
        pytest.param(
            "https://github.com/org/repo.git/deploy?ref=v1",
            ("https://github.com/org/repo.git", "v1"),
            id="dot-git",
        ),
        pytest.param(
            "https://example.com/org/repo?version=v2", ("https://example.com/org/repo", "v2"), id="version"
        ),
        pytest.param(
            "https://example.com/org/repo/deploy", ("https://example.com/org/repo", "HEAD"), id="no-ref"
        ),
        pytest.param(
            "git::https://example.com/org/repo//p?ref=main",
            ("https://example.com/org/repo", "main"),
            id="git-prefix",
        ),
        pytest.param(
            "https://dev.azure.com/org/proj/_git/repo//x?ref=v2",
            ("https://dev.azure.com/org/proj/_git/repo", "v2"),
            id="azure",
        ),
        pytest.param("../base", None, id="local"),
    ],
)
def test_a_remote_base_is_read_as_kustomize_clones_it(entry: str, expected: tuple[str, str] | None) -> None:
    assert discover.remote_base(entry) == expected


def test_what_cannot_be_mirrored_says_why(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "resources:\n"
        "- git@github.com:org/private//deploy?ref=v1\n"
        "- https://raw.githubusercontent.com/org/repo/main/deploy.yaml\n"
    )
    (tmp_path / "release.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: app, namespace: apps}\n"
        "spec:\n  chart:\n    spec: {chart: app, version: '${VERSION}',\n"
        "      sourceRef: {kind: HelmRepository, name: nowhere}}\n"
    )
    assert [(ref.at, ref.problem) for ref in discover.discover(tmp_path)] == [
        (("release.yaml:1",), "the folder defines no HelmRepository apps/nowhere"),
        (
            ("kustomization.yaml:2",),
            "'git@github.com:org/private//deploy?ref=v1' is reached over SSH; gitops-sim mirrors https:// "
            "remote bases",
        ),
        (
            ("kustomization.yaml:3",),
            "'https://raw.githubusercontent.com/org/repo/main/deploy.yaml' is a remote file kustomize "
            "fetches over HTTP; gitops-sim mirrors git repositories (use '<repo>//<path>?ref=<ref>')",
        ),
    ]


def test_the_mirror_command_exits_1_naming_what_it_could_not_keep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fleet"
    folder.mkdir()
    (folder / "kustomization.yaml").write_text("resources:\n- git@github.com:org/private//deploy?ref=v1\n")
    assert cli.main(["mirror", str(folder), "--cache", str(tmp_path / "cache")]) == 1
    out = capsys.readouterr().out
    assert "failed remote base git@github.com:org/private//deploy?ref=v1 at  (kustomization.yaml:2): " in out
    assert "0 mirrored, 1 failed" in out
    index = json.loads((tmp_path / "cache" / "index.json").read_text())
    assert [r["error"] for r in index["requests"].values()] == [
        "'git@github.com:org/private//deploy?ref=v1' is reached over SSH; "
        "gitops-sim mirrors https:// remote bases"
    ]


@pytest.mark.parametrize(
    ("asked", "stand_in"),
    [
        pytest.param("6.5.0", "6.5.0", id="exact"),
        pytest.param("6.5.x", "6.5.0", id="wildcard"),
        pytest.param(">=1.2.0 <2.0.0", "1.2.0", id="range"),
        pytest.param("<1.0.0", "0.0.0", id="below"),
        pytest.param("*", "0.0.0", id="any"),
        pytest.param("not a range", None, id="invalid"),
    ],
)
def test_a_stand_in_chart_gets_the_lowest_simple_version_asked_for(asked: str, stand_in: str | None) -> None:
    assert serve.stand_in_version(asked) == stand_in


def test_the_mirror_command_fetches_each_url_from_its_own_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = simulation.Simulation(simulation.Settings(workdir=tmp_path / "upstream", with_flux=False))
    try:
        url = f"http://{upstream.charts.serving()}/charts"  # a chart server on this machine
        upstream.charts.publish(url, "podinfo", "1.0.0", chart_files("1.0.0"))
        folder = tmp_path / "fleet"
        folder.mkdir()
        (folder / "helm.yaml").write_text(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
            f"metadata: {{name: local, namespace: flux-system}}\nspec: {{url: {url}}}\n---\n"
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
            "metadata: {name: app, namespace: flux-system}\n"
            "spec: {chart: {spec: {chart: podinfo, sourceRef: {kind: HelmRepository, name: local}}}}\n"
        )
        assert cli.main(["mirror", str(folder), "--cache", str(tmp_path / "cache")]) == 0
    finally:
        upstream.close()
    assert f"mirrored chart podinfo * from {url}: 1.0.0\n1 mirrored, 0 failed" in capsys.readouterr().out
