"""Why an object is not Ready: the causal chain `gitops-sim explain` prints, and failed
expectations carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import cli
from gitops_sim.engine import why
from gitops_sim.scenario import loader, runner

SHIPPED = Path(__file__).parents[2] / "scenarios" / "kustomize" / "why-not-ready.yaml"
_STUCK_STEPS = """steps:
  - fault: {image: "docker.io/library/redis:7.9", type: unpullable}
  - advance: 3m
"""


def _stuck(tmp_path: Path, steps: str = _STUCK_STEPS) -> Path:
    """The shipped scenario, stopped while the image cannot be pulled."""
    text = SHIPPED.read_text().split("steps:\n")[0] + steps
    path = tmp_path / "stuck.yaml"
    path.write_text(text)
    return path


def test_the_chain_follows_a_dependency_down_to_its_pods_image_pull_back_off(tmp_path: Path) -> None:
    outcome = runner.run(loader.load(_stuck(tmp_path)), tmp_path / "work")
    text = why.render(why.chain(outcome.final, "Kustomization/flux-system/apps"))
    lines = text.splitlines()
    assert lines[0] == (
        "Kustomization/flux-system/apps: Ready=False DependencyNotReady: "
        "dependency 'flux-system/infra' is not ready"
    )
    assert lines[1].startswith(
        "├─ depends on Kustomization/flux-system/infra: Ready=False HealthCheckFailed: "
    )
    assert "│  └─ health check Deployment/shop/redis: InProgress: Available: 0/1" in lines
    pod = next(line for line in lines if "Pod/shop/redis-" in line)
    assert pod.endswith('waiting: ImagePullBackOff: Back-off pulling image "docker.io/library/redis:7.9"')
    assert lines[-1].startswith("└─ source GitRepository/flux-system/fleet: Ready=True Succeeded: ")


def test_a_ready_object_has_a_chain_of_one_line() -> None:
    ready = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system", "generation": 2},
        "spec": {"dependsOn": [{"name": "infra"}], "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
        "status": {
            "observedGeneration": 2,
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "Applied"}],
        },
    }
    assert why.render(why.chain([ready], "Kustomization/flux-system/apps")) == (
        "Kustomization/flux-system/apps: Ready=True Succeeded: Applied"
    )


def test_a_helmrelease_chain_goes_through_the_helmchart_its_chart_spec_makes() -> None:
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "apps", "generation": 1},
        "spec": {
            "suspend": True,
            "chart": {
                "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}
            },
        },
    }
    text = why.render(why.chain([release], "HelmRelease/apps/podinfo"))
    assert text.splitlines() == [
        "HelmRelease/apps/podinfo: suspended; no Ready condition yet (not reconciled)",
        "└─ source HelmChart/apps/apps-podinfo: not found",
    ]


def test_an_object_that_is_not_there_is_said_to_be_not_found() -> None:
    assert (
        why.render(why.chain([], "Kustomization/flux-system/nope"))
        == "Kustomization/flux-system/nope: not found"
    )


def test_a_failed_condition_expectation_says_why_the_object_is_not_ready(tmp_path: Path) -> None:
    path = _stuck(
        tmp_path,
        _STUCK_STEPS
        + "  - expect: {condition: {object: Kustomization/flux-system/apps, type: Ready, status: 'True'}}\n",
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.failure is not None
    message = outcome.failure.message
    assert "why, as `gitops-sim explain` tells it:\nKustomization/flux-system/apps: Ready=False" in message
    assert "ImagePullBackOff" in message


def test_explain_runs_a_scenario_then_prints_the_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["explain", "Kustomization/flux-system/apps", str(_stuck(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PASS an app waits on infrastructure whose image cannot be pulled")
    assert "Kustomization/flux-system/apps: Ready=False DependencyNotReady" in out
    assert "ImagePullBackOff" in out


def test_explain_reads_the_final_state_a_trace_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.json"
    assert cli.main(["run", "-q", "--trace", str(trace), str(_stuck(tmp_path))]) == 0
    capsys.readouterr()
    assert cli.main(["explain", "kustomization/flux-system/infra", str(trace)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Kustomization/flux-system/infra: Ready=False HealthCheckFailed")
    assert "health check Deployment/shop/redis" in out
    assert json.loads(trace.read_text())[0]["objects"]


def test_explain_of_an_object_a_trace_does_not_hold_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.json"
    assert cli.main(["run", "-q", "--trace", str(trace), str(_stuck(tmp_path))]) == 0
    assert cli.main(["explain", "Kustomization/flux-system/nope", str(trace)]) == 2
    assert "Kustomization/flux-system/nope: not found" in capsys.readouterr().out


def test_explain_of_a_trace_of_several_scenarios_asks_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.json"
    trace.write_text(json.dumps([{"name": "one", "objects": []}, {"name": "two", "objects": []}]))
    assert cli.main(["explain", "Kustomization/flux-system/apps", str(trace)]) == 2
    assert "pick one of 'one', 'two' with --scenario" in capsys.readouterr().out


def test_the_chain_follows_an_external_artifact_to_the_generator_that_makes_it() -> None:
    def flux_object(api: str, kind: str, name: str, ready: dict[str, str], **fields: Any) -> dict[str, Any]:
        condition = {"type": "Ready", "observedGeneration": 1, **ready}
        return {
            "apiVersion": api,
            "kind": kind,
            "metadata": {"name": name, "namespace": "apps", "generation": 1},
            **fields,
            "status": {"conditions": [condition]},
        }

    failing = {"status": "False", "reason": "SourceFetchFailed", "message": "get sources failed: x"}
    found = [
        flux_object(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "web",
            {"status": "False", "reason": "ArtifactFailed", "message": "Source artifact not found"},
            spec={"sourceRef": {"kind": "ExternalArtifact", "name": "web"}},
        ),
        flux_object(
            "source.toolkit.fluxcd.io/v1",
            "ExternalArtifact",
            "web",
            {"status": "False", "reason": "Failed", "message": "no artifact"},
            spec={"sourceRef": {"kind": "ArtifactGenerator", "name": "gen", "namespace": "apps"}},
        ),
        flux_object("source.extensions.fluxcd.io/v1beta1", "ArtifactGenerator", "gen", failing),
    ]
    lines = why.render(why.chain(found, "Kustomization/apps/web")).splitlines()
    assert (
        lines[-1]
        == "   └─ source ArtifactGenerator/apps/gen: Ready=False SourceFetchFailed: get sources failed: x"
    )
