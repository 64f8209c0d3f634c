"""The shipped example repository (examples/): it runs to a Ready tree on both clusters, offline,
and its generated files (mirror, gotk-components, the encrypted Secret) are current."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from gitops_sim import cli
from gitops_sim.engine import simulation
from gitops_sim.mirror import serve
from gitops_sim.scenario import summary, up

EXAMPLES = Path(__file__).parents[1] / "examples"


def _build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_build", EXAMPLES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _mirror_serve(sim: simulation.Simulation) -> list[str]:
    return serve.serve(EXAMPLES / "mirror", sim)


def _run(cluster: str, tmp_path: Path) -> up.Result:
    return up.run(
        EXAMPLES / "fleet",
        tmp_path,
        path=f"clusters/{cluster}",
        for_ms=30 * 60_000,
        apply=[EXAMPLES / "cluster" / "sops-age.yaml"],
        prepare=_mirror_serve,
    )


def _object(result: up.Result, kind: str, namespace: str, name: str) -> dict[str, object]:
    return next(
        o
        for o in result.outcome.final
        if o["kind"] == kind and o["metadata"].get("namespace") == namespace and o["metadata"]["name"] == name
    )


@pytest.mark.parametrize(("cluster", "replicas"), [("staging", 1), ("production", 3)])
def test_the_example_gets_ready_offline_with_its_chart_its_secret_and_its_generated_artifact(
    cluster: str, replicas: int, tmp_path: Path
) -> None:
    result = _run(cluster, tmp_path)
    assert result.ready, summary.render(result.summary)
    refs = {o.ref for o in result.summary.flux}
    assert {
        "HelmRelease/hello/hello",
        "ArtifactGenerator/flux-system/configs",
        f"ExternalArtifact/flux-system/configs-{cluster}",
    } <= refs
    assert _object(result, "Deployment", "hello", "hello")["spec"]["replicas"] == replicas  # type: ignore[index]
    assert _object(result, "ConfigMap", "hello", "settings")["data"] == {"environment": cluster}
    assert (
        "offline mirror: chart hello 1.x from https://charts.example.com/stable served as 1.2.0"
        in result.summary.stood_in
    )


def test_the_example_secret_is_applied_decrypted_and_never_shown(tmp_path: Path) -> None:
    secret = _build().SECRET
    assert "correct-horse-battery-staple" in secret
    result = _run("staging", tmp_path)
    applied = result.outcome.final
    shown = _object(result, "Secret", "hello", "db-credentials")
    assert shown["data"] == {
        "password": "<redacted>",
        "username": "<redacted>",
    }  # the final state hides values
    assert "correct-horse-battery-staple" not in str(applied)
    assert base64.b64encode(b"correct-horse-battery-staple").decode() not in str(result.outcome.trace.records)


def test_up_on_the_example_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["up", str(EXAMPLES / "fleet"), "--path", "clusters/staging", "--mirror", str(EXAMPLES / "mirror")]
    assert cli.main([*argv, "--apply", str(EXAMPLES / "cluster" / "sops-age.yaml")]) == 0
    assert capsys.readouterr().out.startswith(
        "fleet (clusters/staging/flux-system/gotk-sync.yaml): 10 of 10 Flux objects Ready"
    )


def test_the_examples_generated_files_are_current() -> None:
    for rel, data in _build().generated().items():
        assert (EXAMPLES / rel).read_bytes() == data, f"examples/{rel} is stale: run python examples/build.py"


def test_the_examples_mirror_is_current(tmp_path: Path) -> None:
    _build().build_mirror(tmp_path / "mirror")
    built = {
        p.relative_to(tmp_path / "mirror").as_posix(): p.read_bytes()
        for p in (tmp_path / "mirror").rglob("*")
        if p.is_file()
    }
    shipped = {
        p.relative_to(EXAMPLES / "mirror").as_posix(): p.read_bytes()
        for p in (EXAMPLES / "mirror").rglob("*")
        if p.is_file()
    }
    assert built == shipped, "examples/mirror is stale: run python examples/build.py"
