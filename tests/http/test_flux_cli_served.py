"""The flux CLI against `gitops-sim serve --no-flux`, over HTTP as the real CLI talks to a
cluster: `flux install` and plain manifests (`flux install --export | kubectl apply`) both
install Flux, whose controllers start once their Deployments are available."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gitops_sim import cli
from tests.http.test_serve import kubectl, wait_for

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"


def flux(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops_sim", "flux", *args, "--kubeconfig", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def no_flux(tmp_path: Path) -> Iterator[Path]:
    """A served cluster without Flux (pace 20), hosting the folder `fleet` as a repository; its
    kubeconfig."""
    config = tmp_path / "kubeconfig"
    folder = tmp_path / "fleet"
    (folder / "clusters" / "dev").mkdir(parents=True)
    (folder / "clusters" / "dev" / "cm.yaml").write_text(CONFIGMAP)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "gitops_sim", "serve", "--no-flux", "--kubeconfig-out", str(config)),
            *("--pace", "20", "--repo", f"fleet={folder}"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(config)
        yield config
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def test_flux_install_over_http_installs_a_healthy_flux(no_flux: Path) -> None:
    assert flux(no_flux, "check").returncode == 1
    installed = flux(
        no_flux, "install", "--components-extra=image-reflector-controller,image-automation-controller"
    )
    assert installed.returncode == 0, installed.stderr
    assert installed.stderr.endswith("✔ source-controller: deployment ready\n✔ install finished\n")
    checked = flux(no_flux, "check")
    assert checked.returncode == 0, checked.stderr
    assert "✔ image-automation-controller: deployment ready" in checked.stderr.splitlines()
    assert checked.stderr.endswith("✔ all checks passed\n")

    logged = flux(no_flux, "logs", "-A", "--kind", "Kustomization")  # the Pods' logs, read over HTTP
    assert logged.returncode == 0, logged.stderr
    assert " info Kustomization - Starting Controller \n" in logged.stdout


def test_kubectl_logs_reads_a_flux_controller_s_json_log(no_flux: Path, tmp_path: Path) -> None:
    assert flux(no_flux, "install").returncode == 0
    read = kubectl(no_flux, tmp_path, "logs", "-n", "flux-system", "-l", "app=helm-controller", "--tail=-1")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout.splitlines()[0])["msg"] == "starting manager"


def test_plain_manifests_applied_with_kubectl_install_flux_too(no_flux: Path, tmp_path: Path) -> None:
    exported = flux(no_flux, "install", "--export")
    assert exported.returncode == 0, exported.stderr
    applied = kubectl(no_flux, tmp_path, "apply", "--server-side", "-f", "-", stdin=exported.stdout)
    assert applied.returncode == 0, applied.stderr
    waited = kubectl(
        no_flux,
        tmp_path,
        "wait",
        "-n",
        "flux-system",
        "--for=condition=Available",
        "deployment",
        "--all",
        "--timeout=30s",
    )
    assert waited.returncode == 0, waited.stderr
    checked = flux(no_flux, "check")
    assert checked.returncode == 0, checked.stderr
    versions = flux(no_flux, "version")
    assert versions.stdout.splitlines()[:3] == [
        "flux: v2.10.0",
        "distribution: flux-v2.10.0",
        "helm-controller: v1.7.1",
    ]


def test_bootstrap_git_over_http_commits_what_git_clones(no_flux: Path, tmp_path: Path) -> None:
    url = "https://git.gitops-sim.local/fleet"
    ran = flux(
        no_flux, "bootstrap", "git", f"--url={url}", "--path=clusters/dev", "--token-auth", "--password=x"
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.endswith("✔ all components are healthy\n")
    config = yaml.safe_load(no_flux.read_text())
    base = config["clusters"][0]["cluster"]["extensions"][0]["extension"]["git"]
    clone = tmp_path / "clone"
    cloned = subprocess.run(
        ["git", "clone", "--quiet", f"{base}/git.gitops-sim.local/fleet.git", str(clone)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cloned.returncode == 0, cloned.stderr
    assert sorted(p.name for p in (clone / "clusters" / "dev" / "flux-system").iterdir()) == [
        "gotk-components.yaml",
        "gotk-sync.yaml",
        "kustomization.yaml",
    ]
    listed = kubectl(no_flux, tmp_path, "get", "configmap", "a", "-n", "default", "-o", "name")
    assert listed.stdout.strip() == "configmap/a"  # Flux synced the repository it was bootstrapped from


def test_bootstrap_github_over_http_creates_the_repository_on_the_simulated_github(
    no_flux: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["flux", "bootstrap", "github", "--owner=acme", "--repository=tutorial", "--personal"]
    args += ["--path=clusters/dev", "--kubeconfig", str(no_flux)]
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert cli.main(args) == 1
    assert capsys.readouterr().err == "✗ could not read token: could not read from stdin: EOF\n"
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_anything")  # read by the CLI layer only
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[:2] == [
        "► connecting to github.com",
        '✔ repository "https://github.com/acme/tutorial" created',
    ]
    assert err.endswith("✔ all components are healthy\n")


def test_the_flux2_chart_installed_by_the_real_helm_sdk_brings_flux_up(no_flux: Path, tmp_path: Path) -> None:
    import helm_python as helm

    pulled = subprocess.run(
        [sys.executable, "-m", "gitops_sim", "helm", "pull", "flux2", "--untardir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert pulled.returncode == 0, pulled.stderr
    config = helm.Config(kubeconfig_path=str(no_flux), namespace="flux-system")
    try:
        release = config.install(
            str(tmp_path / "flux2"), "flux", {"sourceWatcher": {"create": True}}, create_namespace=True
        )
    finally:
        config.close()
    assert release["name"] == "flux"
    stored = kubectl(
        no_flux, tmp_path, "get", "secrets", "-n", "flux-system", "-l", "owner=helm,name=flux",
        "-o", "jsonpath={.items[*].metadata.labels.status}",
    )  # fmt: skip
    assert stored.stdout == "deployed"  # Helm's own release storage, written through our API
    waited = kubectl(
        no_flux, tmp_path, "wait", "-n", "flux-system", "deployment/source-watcher",
        "--for=condition=Available", "--timeout=60s",
    )  # fmt: skip
    assert waited.returncode == 0, waited.stderr
    checked = flux(no_flux, "check")
    assert checked.returncode == 0, checked.stderr
    assert "✔ source-watcher: deployment ready" in checked.stderr.splitlines()
