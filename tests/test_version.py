"""The simulated Flux release is stated: `gitops-sim --version`, the README, and the labels of the
Flux CRDs the simulation installs, as `kubectl get crd -l app.kubernetes.io/part-of=flux` shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.model import fluxapi
from gitops_sim.model.fluxapi import crds
from tests.http.conftest import kubectl_for

README = Path(__file__).parent.parent / "README.md"


def test_version_prints_gitops_sims_version_and_the_flux_release_it_simulates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == (
        "gitops-sim 0.1.0\n"
        "simulates Flux v2.10.0 (source-controller v1.10.1, kustomize-controller v1.10.1, "
        "helm-controller v1.7.1, notification-controller v1.10.0, image-reflector-controller v1.3.0, "
        "image-automation-controller v1.3.0, source-watcher v2.3.1)\n"
    )


def test_the_readme_states_the_simulated_flux_release_near_the_top() -> None:
    top = README.read_text().split("## Quickstart")[0]
    assert (
        "simulates Flux 2.10.x (source-controller v1.10.1, kustomize-controller v1.10.1, "
        "helm-controller v1.7.1)" in " ".join(top.split())
    )


def test_every_flux_crd_carries_the_labels_flux_install_gives_it() -> None:
    by_name = {crd["metadata"]["name"]: crd["metadata"]["labels"] for crd in crds.manifests()}
    assert by_name["kustomizations.kustomize.toolkit.fluxcd.io"] == {
        "app.kubernetes.io/component": "kustomize-controller",
        "app.kubernetes.io/instance": "flux-system",
        "app.kubernetes.io/part-of": "flux",
        "app.kubernetes.io/version": "v2.10.0",
    }
    assert by_name["imageupdateautomations.image.toolkit.fluxcd.io"]["app.kubernetes.io/component"] == (
        "image-automation-controller"
    )
    assert {labels["app.kubernetes.io/version"] for labels in by_name.values()} == {"v2.10.0"}


def test_kubectl_lists_the_flux_crds_by_their_part_of_label_with_their_version(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    listed = kubectl(
        "get",
        "crd",
        "-l",
        "app.kubernetes.io/part-of=flux",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} "
        "{.metadata.labels.app\\.kubernetes\\.io/version}{'\\n'}{end}",
    )
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.splitlines()) == sorted(
        f"{kind.plural}.{kind.group} v2.10.0" for kind in fluxapi.KINDS
    )
