"""Flux installed with its Helm chart: `helm install|upgrade|uninstall` (`helmcli`) of gitops-sim's
`flux2` chart on a cluster without Flux, in virtual time; the controllers start once the kubelet
has rolled their Deployments out."""

from __future__ import annotations

import pytest

from gitops_sim.engine import simulation
from gitops_sim.helm import storage
from gitops_sim.model import flux, fluxchart, refs
from gitops_sim.scenario.steps.actions.flux import run_helm
from tests.fluxcli.conftest import Ran, runner

DEPLOYMENT = refs.GroupKind("apps", "Deployment")
CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")


def helm(sim: simulation.Simulation, *argv: str) -> Ran:
    return Ran(*run_helm(sim, argv))


def deployments(sim: simulation.Simulation) -> list[str]:
    return sorted(d["metadata"]["name"] for d in sim.cluster.list(DEPLOYMENT, namespace="flux-system"))


def test_helm_install_of_flux2_prints_helm_s_summary_and_stores_the_release(
    bare: simulation.Simulation,
) -> None:
    assert helm(bare, "install", "flux", "flux2", "-n", "flux-system", "--create-namespace") == (
        0,
        "NAME: flux\n"
        "LAST DEPLOYED: Wed Jan  1 00:00:00 2025\n"
        "NAMESPACE: flux-system\n"
        "STATUS: deployed\n"
        "REVISION: 1\n"
        "TEST SUITE: None\n",
        "",
    )
    release = storage.latest(bare.cluster, "flux-system", "flux")
    assert release is not None
    assert (release.version, release.info.status) == (1, "deployed")
    assert release.chart.metadata["name"] == "flux2"


def test_the_chart_s_default_components_start_and_flux_check_passes(bare: simulation.Simulation) -> None:
    helm(bare, "install", "flux", "flux2", "-n", "flux-system", "--create-namespace")
    assert deployments(bare) == sorted(c for c in flux.ALL_COMPONENTS if c != "source-watcher")
    bare.advance(10_000)
    checked = runner(bare)("check")
    assert checked.code == 0, checked.err
    assert checked.err.endswith("✔ all checks passed\n")
    deployment = bare.cluster.get(refs.ObjectRef("apps", "Deployment", "flux-system", "source-controller"))
    assert deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert deployment["metadata"]["annotations"]["meta.helm.sh/release-name"] == "flux"


def test_values_choose_the_components_and_their_crds(bare: simulation.Simulation) -> None:
    ran = helm(
        bare, "install", "flux", "flux2", "-n", "flux-system", "--create-namespace",
        "--set", "helmController.create=false,sourceWatcher.create=true", "--set", "logLevel=debug",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assert "helm-controller" not in deployments(bare)
    assert "source-watcher" in deployments(bare)
    crds = {c["metadata"]["name"] for c in bare.cluster.list(CRD)}
    assert "helmreleases.helm.toolkit.fluxcd.io" not in crds
    assert "artifactgenerators.source.extensions.fluxcd.io" in crds
    source = bare.cluster.get(refs.ObjectRef("apps", "Deployment", "flux-system", "source-controller"))
    assert "--log-level=debug" in source["spec"]["template"]["spec"]["containers"][0]["args"]


def test_helm_upgrade_with_other_values_adds_and_removes_components(bare: simulation.Simulation) -> None:
    helm(bare, "install", "flux", "flux2", "-n", "flux-system", "--create-namespace")
    ran = helm(
        bare,
        "upgrade",
        "flux",
        "flux2",
        "-n",
        "flux-system",
        "--set",
        "imageAutomationController.create=false",
    )
    assert "REVISION: 2\n" in ran.out
    assert "image-automation-controller" not in deployments(bare)
    release = storage.releases(bare.cluster, "flux-system", "flux")
    assert [(r.version, r.info.status) for r in release] == [(1, "superseded"), (2, "deployed")]


def test_helm_uninstall_removes_flux_and_its_controllers_stop(bare: simulation.Simulation) -> None:
    helm(bare, "install", "flux", "flux2", "-n", "flux-system", "--create-namespace")
    bare.advance(10_000)
    assert helm(bare, "uninstall", "flux", "-n", "flux-system") == (0, 'release "flux" uninstalled\n', "")
    assert deployments(bare) == []
    assert storage.latest(bare.cluster, "flux-system", "flux") is None
    bare.advance(10_000)
    stopped = [r["component"] for r in bare.trace.records if r["kind"] == "controller" and not r["up"]]
    assert "kustomize-controller" in stopped


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("install", "flux", "flux2", "-n", "flux-system"),
         'Error: INSTALLATION FAILED: create: failed to create: namespaces "flux-system" not found'),
        (("upgrade", "flux", "flux2", "-n", "flux-system"),
         'Error: UPGRADE FAILED: "flux" has no deployed releases'),
        (("uninstall", "flux", "-n", "flux-system"),
         "Error: uninstall: Release not loaded: flux: release: not found"),
        (("install", "flux", "./nowhere", "-n", "default"),
         "Error: open ./nowhere: no such file or directory"),
    ],
)  # fmt: skip
def test_helm_failures_print_helm_s_error(
    bare: simulation.Simulation, argv: tuple[str, ...], error: str
) -> None:
    ran = helm(bare, *argv)
    assert ran.code == 1
    assert ran.err.splitlines()[0].startswith(error)


def test_installing_a_name_in_use_fails(bare: simulation.Simulation) -> None:
    helm(bare, "install", "flux", "flux2", "-n", "flux-system", "--create-namespace")
    again = helm(bare, "install", "flux", "flux2", "-n", "flux-system")
    assert again.code == 1
    assert again.err.startswith("Error: INSTALLATION FAILED: ")
    assert "cannot reuse a name that is still in use" in again.err


def test_the_chart_values_have_the_community_chart_s_keys() -> None:
    values = fluxchart.values()
    assert [k for k in values if k.endswith(("Controller", "Watcher"))] == [
        "sourceController", "kustomizeController", "helmController", "notificationController",
        "imageReflectionController", "imageAutomationController", "sourceWatcher",
    ]  # fmt: skip
    assert values["sourceWatcher"]["create"] is False
    assert values["sourceController"]["tag"] == flux.CONTROLLER_VERSIONS["source-controller"]
