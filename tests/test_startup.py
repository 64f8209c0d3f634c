"""`gitops-sim` starts with what the command runs: `--version` and `validate` load neither the
`kubernetes` client nor the engine, and CEL comes without its command-line front end. Each test
runs the command in a fresh interpreter and reads what it imported (`sys.modules`), since this
one has loaded everything already. No timings here: `benchmarks/startup.py` measures them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gitops_sim.scenario.steps import faults
from gitops_sim.sources import git, webhooks
from gitops_sim.workloads import images

ROOT = Path(__file__).parent.parent
SCENARIO = ROOT / "scenarios" / "basics" / "first-sync.yaml"
ENGINE = ("gitops_sim.engine.simulation", "gitops_sim.controllers", "gitops_sim.scenario.runner")


def _modules_after(code: str) -> tuple[set[str], str]:
    """The modules a fresh interpreter holds after running `code` (its `gitops-sim` output too)."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.splitlines()[-1])), done.stdout


def _run_command(*argv: str) -> str:
    return (
        "import runpy, sys\n"
        f"sys.argv = ['gitops-sim', *{list(argv)!r}]\n"
        "try:\n"
        "    runpy.run_module('gitops_sim', run_name='__main__')\n"
        "except SystemExit as exited:\n"
        "    assert exited.code in (0, None), exited.code\n"
    )


def test_python_m_gitops_sim_version_loads_neither_the_kubernetes_client_nor_the_engine() -> None:
    loaded, out = _modules_after(_run_command("--version"))
    assert out.startswith("gitops-sim ")
    assert "kubernetes" not in loaded
    assert not loaded & set(ENGINE)


def test_importing_the_cli_loads_no_command_of_it() -> None:
    loaded, _ = _modules_after("import gitops_sim.cli")
    assert {"kubernetes", "rich", "yaml", "gitops_sim.scenario.schema", *ENGINE}.isdisjoint(loaded)


def test_validate_checks_a_scenario_without_the_kubernetes_client_the_engine_or_the_typed_api() -> None:
    loaded, out = _modules_after(_run_command("validate", str(SCENARIO)))
    assert out.strip().endswith("1 valid, 0 invalid")
    assert "kubernetes" not in loaded
    assert not loaded & set(ENGINE)
    # the Flux CRDs come from the shipped copy (`model.fluxcrds`); a stale copy regenerates them
    assert "gitops_sim.model.fluxapi" not in loaded, "fluxapi/crds.json is stale? see tests/fluxapi"
    assert "jsonschema" not in loaded  # kubernetes-validate's schemas are read, its validator unused


def test_cel_evaluates_without_its_command_line_front_end() -> None:
    loaded, out = _modules_after(
        "from gitops_sim.model import cel\nprint(cel.Expression.parse('a.b == 1').evaluate({'a': {'b': 1}}))"
    )
    assert out.strip() == "True"
    assert {"cel.cli", "prompt_toolkit", "typer"}.isdisjoint(loaded)
    assert "cel.cel" in loaded


def test_the_fault_types_a_scenario_may_name_are_the_upstreams_own() -> None:
    assert faults.FAULT_TYPES["repo"] == git.FAULTS
    assert faults.FAULT_TYPES["image"] == images.FAULTS
    assert faults.FAULT_TYPES["sink"] == webhooks.FAULTS
