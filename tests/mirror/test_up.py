"""`gitops-sim up --mirror`: a repository's remote charts and artifacts served from the offline
mirror, and stand-ins for the charts it lacks, listed in the summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim import cli
from tests.mirror.conftest import Mirrored


def test_up_serves_the_repositorys_charts_and_artifacts_from_the_mirror(
    mirrored: Mirrored, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["up", str(mirrored.folder), "--path", "apps", "--for", "5m", "--mirror", str(mirrored.cache)]
    status = cli.main([*argv, "--stand-in-charts"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "✔ HelmRelease/default/podinfo" in out and "✔ OCIRepository/flux-system/manifests" in out
    assert "Stood in by gitops-sim:\n" in out
    assert "offline mirror: " in out and "stand-in" in out


def test_up_without_a_stand_in_names_the_mirror_command_for_what_is_missing(
    mirrored: Mirrored, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = cli.main(
        ["up", str(mirrored.folder), "--path", "apps", "--for", "3m", "--mirror", str(mirrored.cache)]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "is not in the offline mirror: run gitops-sim mirror" in out
