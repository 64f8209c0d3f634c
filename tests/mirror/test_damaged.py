"""A mirror folder comes from elsewhere (a CI cache): what is not as `gitops-sim mirror` wrote it
is refused with what is wrong, before anything is served."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_sim.engine import simulation
from gitops_sim.mirror import cache, serve
from tests.mirror.conftest import Mirrored


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[simulation.Simulation]:
    one = simulation.Simulation(simulation.Settings(workdir=tmp_path / "sim", with_flux=False))
    try:
        yield one
    finally:
        one.close()


@pytest.fixture
def copy(mirrored: Mirrored, tmp_path: Path) -> Path:
    return Path(shutil.copytree(mirrored.cache, tmp_path / "copy"))


def test_a_blob_that_does_not_match_its_digest_is_refused(copy: Path, sim: simulation.Simulation) -> None:
    index = json.loads((copy / "index.json").read_text())
    digest = index["charts"]["https://charts.example.com/stable"]["files"]["index.yaml"]
    (copy / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_text("apiVersion: v1\nentries: {}\n")
    with pytest.raises(cache.MirrorError, match=f"blob {digest} does not match its digest"):
        serve.serve(copy, sim)


def test_an_index_naming_a_file_outside_its_repository_is_refused(
    copy: Path, sim: simulation.Simulation
) -> None:
    index = json.loads((copy / "index.json").read_text())
    files = index["charts"]["https://charts.example.com/stable"]["files"]
    files["../../escape.tgz"] = files["index.yaml"]
    (copy / "index.json").write_text(json.dumps(index))
    with pytest.raises(cache.MirrorError, match=r"file name is not valid: '\.\./\.\./escape"):
        serve.serve(copy, sim)
