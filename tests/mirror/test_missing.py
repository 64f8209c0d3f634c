"""What the mirror lacks fails as the controller would fail to reach it, with Flux's reason, and
says how to mirror it; `gitops-sim run --mirror` loads the mirror into each scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import cli
from tests.mirror.conftest import Mirrored, write_scenario

ELSEWHERE_APPS = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: other, namespace: flux-system}
spec: {url: https://charts.other.example, interval: 10m}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: unknown-repository, namespace: flux-system}
spec: {url: oci://ghcr.io/acme/unknown, ref: {tag: v1}, interval: 10m}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: unknown-host, namespace: flux-system}
spec: {url: oci://quay.io/acme/app, ref: {tag: v1}, interval: 10m}
"""


@pytest.fixture(scope="module")
def missing(mirrored: Mirrored, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A folder whose references the mirror lacks, run by `gitops-sim run --mirror`: the final
    objects of its trace, by `Kind/namespace/name`."""
    root = tmp_path_factory.mktemp("missing")
    folder = root / "elsewhere"
    (folder / "apps").mkdir(parents=True)
    (folder / "base").mkdir()
    (folder / "apps" / "sources.yaml").write_text(ELSEWHERE_APPS)
    (folder / "base" / "kustomization.yaml").write_text(
        "namespace: default\nresources:\n- https://github.com/acme/other//deploy?ref=v3\n"
    )
    trace = root / "trace.json"
    scenario = write_scenario(folder, "missing")
    code = cli.main(["run", str(scenario), "--mirror", str(mirrored.cache), "--trace", str(trace), "-q"])
    assert code == 0
    [run] = json.loads(trace.read_text())
    return {
        f"{o['kind']}/{o['metadata'].get('namespace')}/{o['metadata']['name']}": o for o in run["objects"]
    }


def ready(objects: dict[str, Any], key: str) -> tuple[str, str, str]:
    cond = next(c for c in objects[key]["status"]["conditions"] if c["type"] == "Ready")
    return cond["status"], cond["reason"], cond["message"]


def how_to(mirrored: Mirrored) -> str:
    return f"run gitops-sim mirror fleet --cache {mirrored.cache}"


def test_a_helm_repository_the_mirror_lacks_cannot_be_reached(
    missing: dict[str, Any], mirrored: Mirrored
) -> None:
    assert ready(missing, "HelmRepository/flux-system/other") == (
        "False",
        "Failed",
        "failed to fetch Helm repository index: failed to cache index to temporary file: "
        'Get "https://charts.other.example/index.yaml": dial tcp: lookup charts.other.example: no such host: '
        f"https://charts.other.example is not in the offline mirror: {how_to(mirrored)}",
    )


def test_an_oci_repository_on_a_mirrored_host_the_mirror_lacks_says_so(
    missing: dict[str, Any], mirrored: Mirrored
) -> None:
    assert ready(missing, "OCIRepository/flux-system/unknown-repository") == (
        "False",
        "OCIArtifactPullFailed",
        "failed to determine artifact digest: GET https://ghcr.io/v2/acme/unknown/manifests/v1: "
        "MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]: "
        f"oci://ghcr.io/acme/unknown is not in the offline mirror: {how_to(mirrored)}",
    )


def test_an_oci_repository_on_a_host_the_mirror_lacks_cannot_be_reached(
    missing: dict[str, Any], mirrored: Mirrored
) -> None:
    assert ready(missing, "OCIRepository/flux-system/unknown-host") == (
        "False",
        "OCIArtifactPullFailed",
        'failed to determine artifact digest: Get "https://quay.io/v2/": '
        "dial tcp: lookup quay.io: no such host: "
        f"quay.io is not in the offline mirror: {how_to(mirrored)}",
    )


def test_a_remote_base_the_mirror_lacks_cannot_be_fetched(
    missing: dict[str, Any], mirrored: Mirrored
) -> None:
    status, reason, message = ready(missing, "Kustomization/flux-system/base")
    assert (status, reason) == ("False", "BuildFailed")
    assert message.endswith(
        "failed to run '/usr/bin/git fetch --depth=1 https://github.com/acme/other v3': fatal: unable to "
        "access 'https://github.com/acme/other/': Could not resolve host: github.com: exit status 128: "
        f"https://github.com/acme/other at v3 is not in the offline mirror: {how_to(mirrored)}"
    )


def test_run_with_a_folder_that_is_no_mirror_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("apiVersion: gitops-sim/v1alpha1\nkind: Scenario\nname: s\nsteps: [{advance: 1m}]\n")
    assert cli.main(["run", str(scenario), "--mirror", str(tmp_path / "nothing")]) == 2
    assert (
        "index.json: No such file or directory: build it with `gitops-sim mirror PATH"
        in capsys.readouterr().out
    )
