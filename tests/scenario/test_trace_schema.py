"""The published schema of trace files: shipped, current, and true of real traces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from gitops_sim import cli
from gitops_sim.engine import trace_schema

ROOT = Path(__file__).parents[2]
# Between them these shipped scenarios write every kind of record a trace has.
_COVERING = (
    "helm/install-image-unpullable.yaml",
    "tutorial/04-drift-correction.yaml",
    "images/crash-loop-reverted.yaml",
    "images/policy-follows-scans.yaml",
    "kustomize/deleted-object-restored.yaml",
    "notification/alert-on-failure.yaml",
    "notification/bad-signature.yaml",
    "sources/bucket-outage.yaml",
    "sources/oci-registry-unreachable.yaml",
    "sources/semver-tags.yaml",
    "tutorial/07-install-with-helm.yaml",
    "kustomize/why-not-ready.yaml",
    "basics/stateful-workloads.yaml",
)


def test_the_shipped_trace_schema_is_the_one_gitops_sim_prints() -> None:
    shipped = (ROOT / trace_schema.SHIPPED_PATH).read_text()
    assert shipped == trace_schema.render(), (
        "schemas/trace.schema.json is stale: "
        "run `gitops-sim schema --trace --output schemas/trace.schema.json`"
    )


def test_the_traces_of_shipped_scenarios_validate_against_it(tmp_path: Path) -> None:
    out = tmp_path / "trace.json"
    assert (
        cli.main(["run", "-q", "--trace", str(out), *(str(ROOT / "scenarios" / f) for f in _COVERING)]) == 0
    )
    runs = json.loads(out.read_text())
    jsonschema.validate(runs, trace_schema.generate())
    kinds = {rec["kind"] for run in runs for rec in run["records"]}
    assert kinds >= set(trace_schema.RECORDS) - {
        "failure",
        "hint",
        "suspend",
        "resume",
        "reconcile-error",
        "watch-error",
        "stub",  # `up --stub-unknown-kinds` only
    }


def test_a_record_with_a_field_the_schema_does_not_name_is_refused() -> None:
    run = {"scenario": "s.yaml", "name": "s", "seed": 0, "passed": True, "objects": []}
    ok = {"t": 0, "kind": "heal", "target": "fleet"}
    jsonschema.validate([{**run, "records": [ok]}], trace_schema.generate())
    with pytest.raises(jsonschema.ValidationError, match="extra"):
        jsonschema.validate([{**run, "records": [{**ok, "extra": 1}]}], trace_schema.generate())


def test_every_record_kind_the_code_writes_is_in_the_schema() -> None:
    written = set()
    for source in (ROOT / "gitops_sim").rglob("*.py"):
        text = source.read_text()
        written |= set(re.findall(r'\.record\(\s*"([a-z-]+)"', text))
    assert written, "no record kinds found: the pattern no longer matches how records are written"
    assert written <= set(trace_schema.RECORDS), written - set(trace_schema.RECORDS)
