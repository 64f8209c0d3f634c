"""`flux create source git`, `flux create kustomization` and `flux delete`, as Flux's getting
started guide runs them: `--export` prints the object, otherwise it is applied and waited for."""

from __future__ import annotations

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import oci
from tests.builders import repo_with
from tests.fluxcli.conftest import Flux

URL = "https://github.com/acme/fleet"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"


def test_create_source_git_export_prints_the_guide_s_object(flux_cmd: Flux) -> None:
    assert flux_cmd(
        "create", "source", "git", "podinfo", f"--url={URL}", "--branch=master", "--interval=1m", "--export"
    ) == (
        0,
        "---\n"
        "apiVersion: source.toolkit.fluxcd.io/v1\n"
        "kind: GitRepository\n"
        "metadata:\n"
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  interval: 1m0s\n"
        "  ref:\n"
        "    branch: master\n"
        f"  url: {URL}\n",
        "",
    )


def test_create_kustomization_export_prints_the_guide_s_object(flux_cmd: Flux) -> None:
    ran = flux_cmd(
        "create", "kustomization", "podinfo", "--target-namespace=default", "--source=podinfo",
        "--path=./kustomize", "--prune=true", "--wait=true", "--interval=30m", "--retry-interval=2m",
        "--health-check-timeout=3m", "--export",
    )  # fmt: skip
    assert ran.out == (
        "---\n"
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata:\n"
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  interval: 30m0s\n"
        "  path: ./kustomize\n"
        "  prune: true\n"
        "  retryInterval: 2m0s\n"
        "  sourceRef:\n"
        "    kind: GitRepository\n"
        "    name: podinfo\n"
        "  targetNamespace: default\n"
        "  timeout: 3m0s\n"
        "  wait: true\n"
    )


def test_create_applies_and_waits_for_the_reconcile(sim: simulation.Simulation, flux_cmd: Flux) -> None:
    repo = repo_with(sim, {"apps/cm.yaml": CONFIGMAP})
    revision = f"main@sha1:{repo.head('main')}"
    assert flux_cmd("create", "source", "git", "fleet", f"--url={URL}", "--branch=main") == (
        0,
        "",
        "✚ generating GitRepository source\n"
        "► applying GitRepository source\n"
        "✔ GitRepository source created\n"
        "◎ waiting for GitRepository source reconciliation\n"
        "✔ GitRepository source reconciliation completed\n"
        f"✔ fetched revision: {revision}\n",
    )
    assert flux_cmd(
        "create", "ks", "apps", "--source=GitRepository/fleet", "--path=./apps", "--prune=true"
    ) == (
        0,
        "",
        "✚ generating Kustomization\n"
        "► applying Kustomization\n"
        "✔ Kustomization created\n"
        "◎ waiting for Kustomization reconciliation\n"
        "✔ Kustomization apps is ready\n"
        f"✔ applied revision {revision}\n",
    )
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "a"))["metadata"]["name"] == "a"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("create", "source", "git", "xy", "--branch=main"), "url is required"),
        (
            ("create", "source", "git", "xy", "--url=ftp://h/r", "--branch=main"),
            "git URL scheme 'ftp' not supported, can be: ssh, http and https",
        ),
        (("create", "ks", "xy", "--source=fleet", "--path=apps"), "path must begin with ./"),
        (("create", "ks", "xy", "--path=./apps"), "source is required"),
    ],
)
def test_bad_create_input_fails_with_the_cli_s_words(
    flux_cmd: Flux, argv: tuple[str, ...], message: str
) -> None:
    assert flux_cmd(*argv) == (1, "", f"✗ {message}\n")


def test_delete_asks_for_silent_then_deletes(sim: simulation.Simulation, flux_cmd: Flux) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP})
    flux_cmd("create", "source", "git", "fleet", f"--url={URL}", "--branch=main")
    assert flux_cmd("delete", "source", "git", "fleet") == (1, "", "✗ aborting\n")
    assert flux_cmd("delete", "source", "git", "fleet", "--silent") == (
        0,
        "",
        "► deleting source git fleet in flux-system namespace\n✔ source git deleted\n",
    )
    assert (
        flux_cmd("delete", "ks", "nope", "-s").err
        == '✗ kustomizations.kustomize.toolkit.fluxcd.io "nope" not found\n'
    )


def test_create_image_objects_export_the_image_guide_s_objects(flux_cmd: Flux) -> None:
    repository = flux_cmd(
        "create",
        "image",
        "repository",
        "podinfo",
        "--image=ghcr.io/stefanprodan/podinfo",
        "--interval=5m",
        "--export",
    )
    assert repository.out.endswith("spec:\n  image: ghcr.io/stefanprodan/podinfo\n  interval: 5m0s\n")
    policy = flux_cmd(
        "create", "image", "policy", "podinfo", "--image-ref=podinfo", "--select-semver=5.0.x", "--export"
    )
    assert policy.out.endswith(
        "spec:\n  imageRepositoryRef:\n    name: podinfo\n  policy:\n    semver:\n      range: 5.0.x\n"
    )
    update = flux_cmd(
        "create", "image", "update", "flux-system", "--interval=30m", "--git-repo-ref=flux-system",
        "--git-repo-path=./clusters/my-cluster", "--checkout-branch=main", "--push-branch=main",
        "--author-name=fluxcdbot", "--author-email=fluxcdbot@users.noreply.github.com", "--export",
    )  # fmt: skip
    assert update.out.endswith(
        "  interval: 30m0s\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        "  update:\n    path: ./clusters/my-cluster\n    strategy: Setters\n"
    )
    assert flux_cmd("create", "image", "policy", "pp", "--image-ref=r").err == (
        "✗ a policy must be provided with either --select-semver or --select-alpha\n"
    )


def test_create_image_repository_waits_for_its_first_scan(sim: simulation.Simulation, flux_cmd: Flux) -> None:
    client = oci.RegistryClient(sim.registries.route)
    host, name = sim.registries.host("ghcr.io/stefanprodan/podinfo")
    client.push_image(host, name, "5.0.0")
    assert flux_cmd("create", "image", "repository", "podinfo", "--image=ghcr.io/stefanprodan/podinfo") == (
        0,
        "",
        "✚ generating ImageRepository\n"
        "► applying ImageRepository\n"
        "✔ ImageRepository created\n"
        "◎ waiting for ImageRepository reconciliation\n"
        "✔ ImageRepository reconciliation completed\n",
    )
