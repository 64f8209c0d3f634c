"""The Flux CRDs are generated from the typed API, shipped as YAML, and served as kubectl expects."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.model import fluxapi, fluxcrds, yamlsafe
from gitops_sim.model.fluxapi import crds
from tests.http.conftest import kubectl_for

REWRITE = (
    "python -c 'from gitops_sim.model.fluxapi import crds; print(crds.render(), end=\"\")' "
    "> gitops_sim/model/fluxapi/crds.yaml"
)


def test_the_shipped_crds_are_the_ones_the_typed_api_generates() -> None:
    shipped = importlib.resources.files("gitops_sim.model.fluxapi").joinpath("crds.yaml").read_text()
    assert shipped == crds.render(), f"crds.yaml is stale: rewrite it with\n  {REWRITE}"


def test_the_shipped_json_crds_are_current_so_commands_need_not_generate_them() -> None:
    rewrite = (
        "python -c 'from gitops_sim.model import fluxcrds; print(fluxcrds.render(), end=\"\")' "
        "> gitops_sim/model/fluxapi/crds.json"
    )
    assert fluxcrds.SHIPPED.read_text() == fluxcrds.render(), (
        f"crds.json is stale: rewrite it with\n  {rewrite}"
    )


def test_the_shipped_crds_read_back_as_the_generated_manifests() -> None:
    shipped = importlib.resources.files("gitops_sim.model.fluxapi").joinpath("crds.yaml").read_text()
    assert list(yamlsafe.load_all(shipped)) == crds.manifests()


def test_every_flux_kind_of_flux_2_10_has_a_crd_with_its_served_versions() -> None:
    served = {
        f"{crd['spec']['names']['kind']}": [v["name"] for v in crd["spec"]["versions"]]
        for crd in crds.manifests()
    }
    assert served == {
        "GitRepository": ["v1"],
        "OCIRepository": ["v1"],
        "HelmRepository": ["v1"],
        "HelmChart": ["v1"],
        "Bucket": ["v1"],
        "ExternalArtifact": ["v1"],
        "Kustomization": ["v1"],
        "HelmRelease": ["v2"],
        "Receiver": ["v1"],
        "Alert": ["v1", "v1beta3"],
        "Provider": ["v1", "v1beta3"],
        "ImageRepository": ["v1"],
        "ImagePolicy": ["v1"],
        "ImageUpdateAutomation": ["v1"],
        "ArtifactGenerator": ["v1beta1"],
    }


def test_kubectl_explain_describes_a_nested_flux_field(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    explained = kubectl("explain", "kustomization.spec.sourceRef.kind")
    assert explained.returncode == 0, explained.stderr
    text = " ".join(explained.stdout.split())
    assert "GROUP: kustomize.toolkit.fluxcd.io KIND: Kustomization VERSION: v1" in text
    assert "FIELD: kind <string>" in text
    assert "ENUM: OCIRepository GitRepository Bucket ExternalArtifact" in text


def test_kubectl_explain_names_a_required_field(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    explained = kubectl("explain", "kustomization.spec")
    assert explained.returncode == 0, explained.stderr
    assert "prune\t<boolean> -required-" in explained.stdout


def test_kubectl_get_shows_a_flux_kinds_printer_columns(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    applied = kubectl(
        "apply",
        "-f",
        "-",
        stdin=yamlsafe.dump(
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "podinfo", "namespace": "default"},
                "spec": {"interval": "1m", "url": "https://github.com/stefanprodan/podinfo"},
            }
        ),
    )
    assert applied.returncode == 0, applied.stderr
    listed = kubectl("get", "gitrepo", "-n", "default")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\n")[0].split() == ["NAME", "URL", "AGE", "READY", "STATUS"]
    assert listed.stdout.split("\n")[1].split()[:2] == ["podinfo", "https://github.com/stefanprodan/podinfo"]


def test_kubectl_is_warned_when_it_uses_a_deprecated_flux_version(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    listed = kubectl("get", "alerts.v1beta3.notification.toolkit.fluxcd.io", "-A")
    assert listed.returncode == 0, listed.stderr
    assert "Warning: v1beta3 Alert is deprecated, upgrade to v1" in listed.stderr


def test_kubectl_apply_is_refused_a_kustomization_without_prune(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    applied = kubectl(
        "apply",
        "-f",
        "-",
        stdin=yamlsafe.dump(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": "apps", "namespace": "flux-system"},
                "spec": {"interval": "10m", "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
            }
        ),
    )
    assert applied.returncode == 1
    assert 'The Kustomization "apps" is invalid:' in applied.stderr
    assert "spec.prune: Required value" in applied.stderr


def test_the_registry_knows_which_controller_serves_each_kind() -> None:
    assert {k.kind: k.component for k in fluxapi.KINDS if k.kind.startswith("Image")} == {
        "ImageRepository": "image-reflector-controller",
        "ImagePolicy": "image-reflector-controller",
        "ImageUpdateAutomation": "image-automation-controller",
    }
