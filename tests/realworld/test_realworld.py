"""Small repositories shaped like real Flux repositories, each run as a scenario to its end.

Each folder here holds `repo/` (the repository, our own text written in the shapes public Flux
repositories have: a `flux bootstrap` flux-system folder whose gotk-components.yaml carries
Flux's CRDs with real schemas, a parent Kustomization applying children, YAML that Kubernetes
reads differently from YAML 1.1, a PNG, a SOPS file, an HPA, a PVC), `scenario.yaml` (the run)
and `expected.yaml`: every Flux object's final Ready condition as Flux gives it, and values of
the objects they apply. The test checks all of it and lists every difference at once, so a
failure says which expectations still fail and why.

Nothing here reaches the network; every run stays inside `tmp_path`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_sim.cluster import errors
from gitops_sim.model import conditions, objects
from gitops_sim.scenario import assertions, loader, located, runner

HERE = Path(__file__).parent
REPOSITORIES = sorted(p.parent.name for p in HERE.glob("*/scenario.yaml"))


def _problems(folder: Path, workdir: Path) -> list[str]:
    expected: dict[str, Any] = yaml.safe_load((folder / "expected.yaml").read_text())
    try:
        scenario = loader.load(folder / "scenario.yaml")
    except located.LoadError as exc:
        return [f"the scenario could not be loaded: {exc}"]
    run = runner.Runner(scenario, workdir)
    try:
        outcome = run.run()
        problems = [] if outcome.passed else [f"the run failed: {outcome.failure}"]
        cluster = run.sim.cluster
        heads = {repo.name: run.sim.git.lookup(repo.url).head(repo.branch) or "" for repo in scenario.repos}

        def lookup(name: str) -> str:
            return heads[name.split(".")[1]]

        found = {
            str(objects.ref_of(obj)): obj
            for gk in dict.fromkeys(c.gvk.group_kind for c in run.sim.controllers)
            if gk.group.endswith(".toolkit.fluxcd.io")
            for obj in cluster.list(gk)
        }
        wanted: dict[str, dict[str, str]] = expected.get("ready") or {}
        for name in sorted(found.keys() - wanted.keys()):
            problems.append(f"{name}: a Flux object expected.yaml does not name")
        for name, want in wanted.items():
            if name not in found:
                problems.append(f"{name}: does not exist")
                continue
            ready = conditions.get(found[name], "Ready") or {}
            for key, value in assertions.expand(want, lookup).items():
                if ready.get(key) != value:
                    problems.append(f"{name}: Ready {key}: expected {value!r}, got {ready.get(key)!r}")
        for name, fields in (expected.get("fields") or {}).items():
            try:
                live = cluster.get(assertions.resolve_ref(cluster, name))
            except (errors.NotFound, assertions.RefError) as exc:
                problems.append(f"{name}: {exc}")
                continue
            for path, value in fields.items():
                actual = objects.get_path(live, objects.parse_path(path))
                if not objects.is_subset(value, actual):
                    shown = "<absent>" if actual is objects.MISSING else repr(actual)
                    problems.append(f"{name} {path}: expected {value!r}, got {shown}")
        for name in expected.get("absent") or []:
            with contextlib.suppress(errors.NotFound):
                cluster.get(assertions.resolve_ref(cluster, name))
                problems.append(f"{name}: exists; Flux would not have applied it")
        return problems
    finally:
        run.sim.close()


@pytest.mark.parametrize("name", REPOSITORIES)
def test_a_real_world_repository_reconciles_as_flux_would(name: str, tmp_path: Path) -> None:
    problems = _problems(HERE / name, tmp_path)
    assert not problems, f"{name}:\n" + "\n".join(f"- {p}" for p in problems)
