"""`run` and `up` keep builds in the cache folder `$GITOPS_SIM_CACHE` names, unless `--no-cache`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli

SCENARIO = Path(__file__).parents[1] / "scenarios" / "kustomize" / "prune-on-off.yaml"


def test_run_keeps_its_builds_in_the_cache_folder_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITOPS_SIM_CACHE", str(tmp_path / "cache"))
    assert cli.main(["run", "-q", str(SCENARIO)]) == 0
    assert any((tmp_path / "cache" / "kustomize").iterdir())


def test_run_with_no_cache_writes_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITOPS_SIM_CACHE", str(tmp_path / "cache"))
    assert cli.main(["run", "-q", "--no-cache", str(SCENARIO)]) == 0
    assert not (tmp_path / "cache").exists()


def test_up_keeps_its_builds_in_the_cache_folder_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "clusters" / "home").mkdir(parents=True)
    (repo / "clusters" / "home" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {a: b}\n"
    )
    monkeypatch.setenv("GITOPS_SIM_CACHE", str(tmp_path / "off"))
    assert cli.main(["up", str(repo), "--path", "clusters/home", "--for", "2m", "--no-cache"]) == 0
    assert not (tmp_path / "off").exists()
    monkeypatch.setenv("GITOPS_SIM_CACHE", str(tmp_path / "on"))
    assert cli.main(["up", str(repo), "--path", "clusters/home", "--for", "2m"]) == 0
    assert any((tmp_path / "on" / "kustomize").iterdir())
