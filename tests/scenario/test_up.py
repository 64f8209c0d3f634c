"""`gitops-sim up`: a Flux repository folder, unchanged, run as Flux would after bootstrap."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gitops_sim import cli, testing
from gitops_sim.model import fluxinstall
from gitops_sim.scenario import up

_SYNC = """\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/acme/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/{cluster}
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

_APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  wait: true
  sourceRef: {kind: GitRepository, name: flux-system}
"""

_DEPLOYMENT = """\
apiVersion: v1
kind: Namespace
metadata: {name: podinfo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: podinfo, namespace: podinfo}
spec:
  replicas: 2
  selector: {matchLabels: {app: podinfo}}
  template:
    metadata: {labels: {app: podinfo}}
    spec:
      containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.5.0"}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: podinfo, namespace: podinfo}
spec:
  rules: [{host: podinfo.example.com}]
"""

_CERTIFICATE = """\
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: podinfo, namespace: podinfo}
spec: {secretName: podinfo-tls, issuerRef: {name: letsencrypt}}
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _bootstrapped(root: Path, cluster: str = "staging", *, extra: dict[str, str] | None = None) -> Path:
    """A repository as `flux bootstrap` leaves it, with one app Kustomization."""
    return _write(
        root,
        {
            f"clusters/{cluster}/flux-system/gotk-components.yaml": fluxinstall.render(fluxinstall.Options()),
            f"clusters/{cluster}/flux-system/gotk-sync.yaml": _SYNC.format(cluster=cluster),
            f"clusters/{cluster}/flux-system/kustomization.yaml": textwrap.dedent("""\
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources: [gotk-components.yaml, gotk-sync.yaml]
                """),
            f"clusters/{cluster}/apps.yaml": _APPS,
            "apps/podinfo.yaml": _DEPLOYMENT,
            **(extra or {}),
        },
    )


def test_a_bootstrapped_repository_runs_to_a_ready_tree(tmp_path: Path) -> None:
    result = testing.run_repo(_bootstrapped(tmp_path / "fleet"), tmp_path / "work", virtual_time="5m")
    assert result.ready, result.text
    assert {o.ref for o in result.summary.flux} == {
        "GitRepository/flux-system/flux-system",
        "Kustomization/flux-system/flux-system",
        "Kustomization/flux-system/apps",
    }
    assert result.summary.applied["Deployment"] == 5  # four of Flux's and podinfo
    assert result.text.startswith(
        "fleet (clusters/staging/flux-system/gotk-sync.yaml): 3 of 3 Flux objects Ready"
    )


def test_the_repository_is_served_at_the_ssh_url_its_gitrepository_names(tmp_path: Path) -> None:
    result = testing.run_repo(_bootstrapped(tmp_path / "fleet"), tmp_path / "work", virtual_time="1m")
    source = next(o for o in result.summary.flux if o.ref == "GitRepository/flux-system/flux-system")
    assert source.ready == "True" and source.message.startswith("stored artifact for revision 'main@sha1:")
    assert any(
        note.startswith("Secret flux-system/flux-system (the GitRepository's key")
        for note in result.summary.stood_in
    )


def test_what_the_simulation_only_stores_is_listed(tmp_path: Path) -> None:
    result = testing.run_repo(_bootstrapped(tmp_path / "fleet"), tmp_path / "work", virtual_time="2m")
    assert result.summary.stored_only["Ingress (1)"] == "nothing routes traffic"
    assert "Kept but not simulated:\n  Ingress (1): nothing routes traffic\n" in result.text


def test_a_path_without_a_flux_system_gets_the_sync_bootstrap_would_write(tmp_path: Path) -> None:
    repo = _write(tmp_path / "fleet", {"deploy/podinfo.yaml": _DEPLOYMENT})
    result = testing.run_repo(repo, tmp_path / "work", path="deploy", virtual_time="2m")
    assert result.ready, result.text
    assert "Kustomization/flux-system/flux-system" in {o.ref for o in result.summary.flux}
    assert result.summary.applied == {"Namespace": 1, "Deployment": 1, "Ingress": 1}


def test_a_flux_instance_sync_is_made_as_the_operator_makes_it(tmp_path: Path) -> None:
    instance = textwrap.dedent("""\
        apiVersion: fluxcd.controlplane.io/v1
        kind: FluxInstance
        metadata: {name: flux, namespace: flux-system}
        spec:
          distribution: {version: "2.x", registry: ghcr.io/fluxcd}
          sync:
            kind: GitRepository
            url: "https://github.com/acme/fleet.git"
            ref: refs/heads/main
            path: apps
        """)
    repo = _write(
        tmp_path / "fleet", {"clusters/prod/flux-instance.yaml": instance, "apps/podinfo.yaml": _DEPLOYMENT}
    )
    result = testing.run_repo(repo, tmp_path / "work", virtual_time="2m")
    assert result.ready, result.text
    assert {o.ref for o in result.summary.flux} == {
        "GitRepository/flux-system/flux-system",
        "Kustomization/flux-system/flux-system",
    }


def test_a_repository_with_two_clusters_asks_which(tmp_path: Path) -> None:
    repo = _bootstrapped(tmp_path / "fleet", "staging")
    _bootstrapped(repo, "production")
    with pytest.raises(
        up.RepositoryError, match="2 clusters in fleet: clusters/production, clusters/staging; pick one"
    ):
        up.plan(repo, for_ms=60_000)
    assert testing.run_repo(repo, tmp_path / "work", path="clusters/production", virtual_time="1m").ready


def test_a_kind_no_crd_defines_fails_its_kustomization_and_the_summary_says_why(tmp_path: Path) -> None:
    repo = _bootstrapped(tmp_path / "fleet", extra={"apps/certificate.yaml": _CERTIFICATE})
    result = testing.run_repo(repo, tmp_path / "work", virtual_time="5m")
    assert not result.ready
    apps = next(o for o in result.summary.flux if o.ref == "Kustomization/flux-system/apps")
    assert (apps.ready, apps.reason) == ("False", "ReconciliationFailed")
    assert 'no matches for kind "Certificate" in version "cert-manager.io/v1"' in apps.message
    assert (
        "Not Ready, and why:\n  Kustomization/flux-system/apps: Ready=False ReconciliationFailed"
        in result.text
    )


def test_stub_unknown_kinds_gives_the_kind_an_open_crd_and_the_tree_gets_ready(tmp_path: Path) -> None:
    repo = _bootstrapped(tmp_path / "fleet", extra={"apps/certificate.yaml": _CERTIFICATE})
    result = testing.run_repo(repo, tmp_path / "work", virtual_time="15m", stub_unknown_kinds=True)
    assert result.ready, result.text
    assert (
        "CustomResourceDefinition certificates.cert-manager.io: an open schema for "
        "Certificate.cert-manager.io/v1, which nothing defined"
    ) in result.summary.stood_in
    assert result.summary.stored_only["Certificate (1)"] == "a custom resource: its operator is not simulated"


def test_up_exits_one_when_something_is_not_ready_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _bootstrapped(tmp_path / "fleet", extra={"apps/certificate.yaml": _CERTIFICATE})
    assert cli.main(["up", str(repo), "--for", "3m"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "fleet (clusters/staging/flux-system/gotk-sync.yaml): 2 of 3 Flux objects Ready after 3m0s"
    )
    assert "✗ Kustomization/flux-system/apps" in out


def test_up_of_a_folder_without_flux_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _write(tmp_path / "fleet", {"apps/podinfo.yaml": _DEPLOYMENT})
    assert cli.main(["up", str(repo)]) == 2
    assert (
        "no flux-system/gotk-sync.yaml or FluxInstance in fleet: name the cluster's folder with --path"
        in (capsys.readouterr().out)
    )


def test_up_applies_what_the_cluster_holds_before_the_sync(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: flux-system, namespace: flux-system}\n"
        "stringData: {identity: mine, known_hosts: mine}\n"
    )
    plan = up.plan(_bootstrapped(tmp_path / "fleet"), for_ms=60_000, apply=[key])
    assert plan.scenario.apply[0].obj["stringData"] == {"identity": "mine", "known_hosts": "mine"}
    assert plan.notes == ()  # the given Secret, not a stand-in


def test_up_with_an_apply_file_that_is_not_there_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _bootstrapped(tmp_path / "fleet")
    assert cli.main(["up", str(repo), "--apply", str(tmp_path / "nope.yaml")]) == 2
    assert f"--apply {tmp_path / 'nope.yaml'}: cannot be read" in capsys.readouterr().out
