"""`flux bootstrap git` in virtual time: Flux's files committed to the repository with Flux's
messages, the components installed, the sync applied and waited for; a re-run with more
components updates gotk-components.yaml and Flux upgrades itself through its Kustomization."""

from __future__ import annotations

import pytest
import yaml

from gitops_sim.engine import simulation
from gitops_sim.fluxcli import bootstrap
from gitops_sim.model import refs
from gitops_sim.scenario.steps.actions import flux
from gitops_sim.sources import git
from tests.fluxcli.conftest import Flux, runner

URL = "https://github.com/acme/fleet"
TOKEN = ("--token-auth", "--password=s3cret")
DEPLOYMENT = refs.GroupKind("apps", "Deployment")


@pytest.fixture
def fleet(bare: simulation.Simulation) -> git.Repository:
    repo = bare.git.create("fleet", URL)
    repo.commit(
        {
            "clusters/dev/apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\n"
            "metadata: {name: a, namespace: default}\n"
        },
        "init",
    )
    return repo


@pytest.fixture
def cli(bare: simulation.Simulation) -> Flux:
    return runner(bare)


def test_bootstrap_commits_flux_s_files_with_flux_s_messages(fleet: git.Repository, cli: Flux) -> None:
    ran = cli("bootstrap", "git", f"--url={URL}", "--path=clusters/dev", *TOKEN)
    assert ran.code == 0, ran.err
    files = fleet.files_at("main")
    assert sorted(p for p in files if p.startswith("clusters/dev/flux-system/")) == [
        "clusters/dev/flux-system/gotk-components.yaml",
        "clusters/dev/flux-system/gotk-sync.yaml",
        "clusters/dev/flux-system/kustomization.yaml",
    ]
    assert [fleet.subject(sha) for sha in fleet.log("main")][:2] == [
        "Add Flux sync manifests",
        "Add Flux v2.10.0 component manifests",
    ]
    sync = list(yaml.safe_load_all(files["clusters/dev/flux-system/gotk-sync.yaml"]))
    assert sync[0]["spec"] == {
        "interval": "1m0s",
        "ref": {"branch": "main"},
        "secretRef": {"name": "flux-system"},
        "url": f"{URL}",
    }
    assert sync[1]["spec"]["path"] == "./clusters/dev"
    assert files["clusters/dev/flux-system/kustomization.yaml"] == (
        b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        b"resources:\n- gotk-components.yaml\n- gotk-sync.yaml\n"
    )


def test_bootstrap_prints_flux_s_lines_and_waits_for_the_sync(fleet: git.Repository, cli: Flux) -> None:
    lines = cli("bootstrap", "git", f"--url={URL}", "--path=clusters/dev", *TOKEN).err.splitlines()
    components, sync = fleet.log("main")[1], fleet.head("main")
    assert lines[:9] == [
        f'► cloning branch "main" from Git repository "{URL}"',
        "✔ cloned repository",
        "► generating component manifests",
        "✔ generated component manifests",
        f'✔ committed component manifests to "main" ("{components}")',
        f'► pushing component manifests to "{URL}"',
        '► installing components in "flux-system" namespace',
        "✔ installed components",
        "✔ reconciled components",
    ]
    assert lines[9:] == [
        '► determining if source secret "flux-system/flux-system" exists',
        "► generating source secret",
        '► applying source secret "flux-system/flux-system"',
        "✔ reconciled source secret",
        "► generating sync manifests",
        "✔ generated sync manifests",
        f'✔ committed sync manifests to "main" ("{sync}")',
        f'► pushing sync manifests to "{URL}"',
        "► applying sync manifests",
        "✔ reconciled sync configuration",
        '◎ waiting for GitRepository "flux-system/flux-system" to be reconciled',
        "✔ GitRepository reconciled successfully",
        '◎ waiting for Kustomization "flux-system/flux-system" to be reconciled',
        "✔ Kustomization reconciled successfully",
        "► confirming components are healthy",
        "✔ helm-controller: deployment ready",
        "✔ kustomize-controller: deployment ready",
        "✔ notification-controller: deployment ready",
        "✔ source-controller: deployment ready",
        "✔ all components are healthy",
    ]


def test_the_source_secret_holds_the_token_and_never_reaches_git(
    bare: simulation.Simulation, fleet: git.Repository, cli: Flux
) -> None:
    cli("bootstrap", "git", f"--url={URL}", "--path=clusters/dev", *TOKEN)
    secret = bare.cluster.get(refs.ObjectRef("", "Secret", "flux-system", "flux-system"))
    assert secret["data"] == {"password": "czNjcmV0", "username": "Z2l0"}  # s3cret, git
    assert not any(b"s3cret" in content for content in fleet.files_at("main").values())


def test_a_rerun_with_more_components_upgrades_flux_through_its_own_kustomization(
    bare: simulation.Simulation, fleet: git.Repository, cli: Flux
) -> None:
    cli("bootstrap", "git", f"--url={URL}", "--path=clusters/dev", *TOKEN)
    extras = "--components-extra=image-reflector-controller,image-automation-controller"
    ran = cli("bootstrap", "git", f"--url={URL}", "--path=clusters/dev", *TOKEN, extras)
    assert ran.code == 0, ran.err
    assert "✔ sync manifests are up to date" in ran.err.splitlines()
    assert '► installing components in "flux-system" namespace' not in ran.err
    names = [d["metadata"]["name"] for d in bare.cluster.list(DEPLOYMENT, namespace="flux-system")]
    assert "image-automation-controller" in names
    labels = bare.cluster.get(
        refs.ObjectRef("apps", "Deployment", "flux-system", "image-automation-controller")
    )["metadata"]["labels"]
    assert labels["kustomize.toolkit.fluxcd.io/name"] == "flux-system"  # applied by Flux itself
    assert "✔ bootstrapped: true" in cli("check").err.splitlines()


def test_ssh_bootstrap_prints_the_deploy_key_and_needs_silent(fleet: git.Repository, cli: Flux) -> None:
    ssh = "ssh://git@github.com/acme/fleet"
    assert cli("bootstrap", "git", f"--url={ssh}").err.splitlines()[-1] == "✗ aborting"
    ran = cli("bootstrap", "git", f"--url={ssh}", "--silent")
    assert ran.code == 0, ran.err
    [key] = [line for line in ran.err.splitlines() if line.startswith("✔ public key: ")]
    assert key.startswith("✔ public key: ecdsa-sha2-nistp384 AAAA")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--url=http://github.com/acme/fleet",),
            "failed to create authentication options for http://github.com/acme/fleet: "
            "scheme http is insecure, pass --allow-insecure-http=true to allow it",
        ),
        (("--url=",), 'failed to create authentication options for : scheme "" is not supported'),
        ((f"--url={URL}", "--components=source-controller"), "component kustomize-controller is required"),
        (
            (f"--url={URL}", "--components-extra=image-reflector-controller, image-automation-controller"),
            "component  image-automation-controller is not available",
        ),
        ((f"--url={URL}", "--token-auth"), "could not read token: could not read from stdin: EOF"),
        (
            ("--url=https://github.com/acme/missing", *TOKEN),
            "failed to clone repository: repository not found",
        ),
    ],
)
def test_bad_bootstrap_input_fails_as_the_real_cli_does(
    fleet: git.Repository, cli: Flux, args: tuple[str, ...], message: str
) -> None:
    ran = cli("bootstrap", "git", *args)
    assert (ran.code, ran.err.splitlines()[-1]) == (1, f"✗ {message}")


def test_the_password_is_masked_on_the_timeline() -> None:
    assert flux.shown(["bootstrap", "git", "--password=s3cret", "-p", "x", "--url=u"]) == (
        "bootstrap git --password=***** -p ***** --url=u"
    )


@pytest.mark.parametrize(
    ("given", "read"),
    [("clusters/my-cluster", "./clusters/my-cluster"), (" /a/../../b/./c/ ", "./b/c"), ("", "./")],
)
def test_path_is_read_as_flux2_reads_it(given: str, read: str) -> None:
    assert bootstrap.safe_relative_path(given) == read
