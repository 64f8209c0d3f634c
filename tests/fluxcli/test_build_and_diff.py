"""`flux build kustomization` and `flux diff kustomization`: a local folder rendered as the
Kustomization would apply it (the real kustomize, substitution, Flux's labels), and compared with
the cluster; diff exits 1 on a difference, as the real CLI does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitops_sim.engine import simulation
from gitops_sim.scenario.steps.actions import flux
from tests.builders import gitrepository, kustomization, repo_with

LIVE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {mode: a}\n---\n"
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: default}\n"
)
LOCAL = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
    "data:\n  mode: ${MODE:=b}\n---\n"
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\nstringData: {token: hunter2}\n"
)
KS_FILE = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
    "metadata: {name: apps, namespace: flux-system}\n"
    "spec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef: {kind: GitRepository, name: fleet}\n"
    "  postBuild: {substitute: {MODE: c}}\n"
)


@pytest.fixture
def folder(tmp_path: Path, sim: simulation.Simulation) -> Path:
    """A local checkout with a changed apps/ folder; the cluster synced from the old one."""
    (tmp_path / "local" / "apps").mkdir(parents=True)
    (tmp_path / "local" / "apps" / "cm.yaml").write_text(LOCAL)
    (tmp_path / "local" / "ks.yaml").write_text(KS_FILE)
    repo_with(sim, {"apps/cm.yaml": LIVE})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(2_000)
    return tmp_path / "local"


def test_build_prints_what_the_kustomization_would_apply_with_flux_s_labels(
    sim: simulation.Simulation, folder: Path
) -> None:
    code, out, err = flux.run(sim, ["build", "ks", "apps", "--path", "apps"], folder)
    assert (code, err) == (0, "")
    assert out.startswith(
        "---\napiVersion: v1\ndata:\n  mode: ${MODE:=b}\nkind: ConfigMap\nmetadata:\n  labels:\n"
    )
    docs = list(yaml.safe_load_all(out))
    assert docs[0]["metadata"]["labels"] == {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    assert docs[1]["stringData"] == {"token": "*****"}  # a Secret's values never printed


def test_a_dry_run_builds_from_the_kustomization_file_with_its_substitutions(
    sim: simulation.Simulation, folder: Path
) -> None:
    argv = ["build", "ks", "apps", "--path", "apps", "--kustomization-file", "ks.yaml", "--dry-run"]
    code, out, _ = flux.run(sim, argv, folder)
    assert code == 0
    assert next(yaml.safe_load_all(out))["data"] == {"mode": "c"}


def test_diff_lists_what_changes_and_exits_one(sim: simulation.Simulation, folder: Path) -> None:
    assert flux.run(sim, ["diff", "ks", "apps", "--path", "apps"], folder) == (
        1,
        '► ConfigMap/default/a drifted\n  data.mode: "a" -> "${MODE:=b}"\n'
        "► Secret/default/s created\n"
        "► ConfigMap/default/old deleted\n",
        "⚠️ identified at least one change, exiting with non-zero exit code\n",
    )


def test_diff_of_what_is_applied_already_is_silent(sim: simulation.Simulation, folder: Path) -> None:
    (folder / "apps" / "cm.yaml").write_text(LIVE)
    assert flux.run(sim, ["diff", "ks", "apps", "--path", "apps"], folder) == (0, "", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "ks", "--path", "apps"], "kustomization name is required"),
        (["build", "ks", "apps"], 'invalid resource path ""'),
        (
            ["build", "ks", "apps", "--path", "apps", "--dry-run"],
            "dry-run mode requires a kustomization file",
        ),
        (["build", "ks", "apps", "--path", "../.."], "../.. is outside the scenario's folder"),
        (
            ["build", "ks", "nope", "--path", "apps"],
            'failed to get kustomization object: kustomizations.kustomize.toolkit.fluxcd.io "nope" not found',
        ),
    ],
)
def test_bad_build_input_fails_with_the_cli_s_words(
    sim: simulation.Simulation, folder: Path, argv: list[str], message: str
) -> None:
    assert flux.run(sim, argv, folder) == (1, "", f"✗ {message}\n")
