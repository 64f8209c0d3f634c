"""The JSON Schema of `gitops-sim run --trace FILE`: what a trace file holds, for the programs
that read one (`gitops-sim schema --trace` prints it; `schemas/trace.schema.json` is the copy
the repository ships, and a test keeps the two the same).

A trace file is a list with one entry per scenario run: its `scenario` file, `name`, `seed`,
whether it `passed`, its `records` in order and the final state of its `objects`. `RECORDS` lists
every record kind with its fields (besides `t`, the virtual time in milliseconds, and `kind`):
what writes it says so where it calls `Trace.record`. The schema refuses fields it does not
name, so a record kind or field added without its line here fails the test that validates the
traces of every shipped scenario.

Callers: the CLI and tests. Pure data: it never reads a trace.
"""

from __future__ import annotations

import json
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SHIPPED_PATH = "schemas/trace.schema.json"

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_STRS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}
_OBJECT = {"type": "string", "description": "Kind/namespace/name (Kind/name when cluster-scoped)"}

RECORDS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "event": (
        "A Kubernetes Event a controller recorded.",
        {
            "controller": _STR,
            "object": _OBJECT,
            "type": {"enum": ["Normal", "Warning"]},
            "reason": _STR,
            "message": _STR,
        },
    ),
    "condition": (
        "A condition of a Flux object appeared, changed or went away (status, reason, message null).",
        {
            "object": _OBJECT,
            "type": _STR,
            "status": {"enum": ["True", "False", "Unknown", None]},
            "reason": _NULLABLE_STR,
            "message": _NULLABLE_STR,
        },
    ),
    "step": (
        "A scenario step begins.",
        {"index": _INT, "step": _STR, "line": _INT},
    ),
    "commit": (
        "A commit to a scenario repository (sha empty: it lands at the next push).",
        {"repo": _STR, "branch": _STR, "sha": _STR, "message": _STR, "files": _STRS},
    ),
    "tag": ("A git tag.", {"repo": _STR, "tag": _STR, "sha": _STR, "annotated": _BOOL}),
    "push-artifact": ("An OCI artifact pushed.", {"url": _STR, "tag": _STR, "digest": _STR, "files": _STRS}),
    "push-image": ("A container image pushed.", {"image": _STR, "digest": _STR}),
    "delete-tag": ("An image tag deleted from its registry.", {"image": _STR}),
    "put-object": ("Objects put in an S3 bucket.", {"endpoint": _STR, "bucket": _STR, "keys": _STRS}),
    "publish-chart": (
        "A chart version published to a chart repository.",
        {"url": _STR, "chart": _STR, "version": _STR, "digest": _STR},
    ),
    "fault": ("A fault injected.", {"target": _STR, "type": _STR}),
    "heal": ("A fault healed.", {"target": _STR}),
    "metrics": (
        "What the metrics API reports of a workload's Pods (percent of requests; null: the target).",
        {"workload": _OBJECT, "utilization": {"type": "object"}},
    ),
    "webhook": (
        "A webhook sent to a Receiver, and its answer.",
        {"object": _OBJECT, "status": _INT, "signature": _STR, "answer": _STR},
    ),
    "notification": (
        "A notification an alert sink received.",
        {
            "sink": _STR,
            "provider": _STR,
            "object": _OBJECT,
            "severity": _STR,
            "reason": _STR,
            "message": _STR,
        },
    ),
    "apply": (
        "An object applied by the scenario (server-side apply).",
        {"object": _OBJECT, "action": _STR, "manager": _STR},
    ),
    "drift": (
        "Fields of an object changed by hand; a null value removes the field.",
        {"object": _OBJECT, "manager": _STR, "changes": {"type": "object"}},
    ),
    "delete": ("An object deleted by the scenario.", {"object": _OBJECT}),
    "reconcile": (
        "`flux reconcile`: the requestedAt annotation set.",
        {"object": _OBJECT, "requestedAt": _STR},
    ),
    "suspend": ("`flux suspend`: spec.suspend set.", {"object": _OBJECT}),
    "resume": ("`flux resume`: spec.suspend removed.", {"object": _OBJECT}),
    "flux": ("A flux CLI command and its output.", {"command": _STR, "exit": _INT, "output": _STR}),
    "helm": ("A helm CLI command and its output.", {"command": _STR, "exit": _INT, "output": _STR}),
    "controller": ("A Flux component started or stopped.", {"component": _STR, "up": _BOOL}),
    "advance": ("Virtual time let run.", {"by": _STR}),
    "expect": ("An expectation checked.", {"ok": _BOOL, "at": _STR, "what": _STR}),
    "reconcile-error": (
        "A reconcile raised something unexpected (a gitops-sim bug).",
        {"controller": _STR, "object": _OBJECT, "message": _STR},
    ),
    "watch-error": (
        "A watch mapper raised something unexpected (a gitops-sim bug).",
        {"controller": _STR, "object": _OBJECT, "message": _STR},
    ),
    "failure": ("Why the scenario failed, and where.", {"at": _STR, "message": _STR}),
    "stub": (
        "gitops-sim created an open-schema CRD for a kind nothing defined (`up --stub-unknown-kinds`).",
        {"crd": _STR, "object_kind": _STR},
    ),
    "hint": (
        "gitops-sim's own advice (not Flux's), e.g. on a removed API version.",
        {"object": _STR, "message": _STR},
    ),
}


def _record(kind: str, description: str, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "properties": {
            "t": {"type": "integer", "minimum": 0, "description": "virtual time, in milliseconds"},
            "kind": {"const": kind},
            **fields,
        },
        "required": ["t", "kind", *fields],
        "additionalProperties": False,
    }


def generate() -> dict[str, Any]:
    records = {kind: _record(kind, *spec) for kind, spec in RECORDS.items()}
    return {
        "$schema": DIALECT,
        "title": "gitops-sim trace",
        "description": "What `gitops-sim run --trace FILE` writes: one entry per scenario run.",
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "scenario": {"type": "string", "description": "the scenario file"},
                "name": {"type": "string"},
                "seed": {"type": "integer"},
                "passed": {"type": "boolean"},
                "records": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {"kind": {"enum": sorted(records)}},
                        "allOf": [
                            {
                                "if": {"properties": {"kind": {"const": kind}}},
                                "then": {"$ref": f"#/$defs/{kind}"},
                            }
                            for kind in sorted(records)
                        ],
                    },
                },
                "objects": {
                    "type": "array",
                    "description": "every object the run left (no managedFields; Secret values redacted)",
                    "items": {"type": "object", "required": ["apiVersion", "kind", "metadata"]},
                },
            },
            "required": ["scenario", "name", "seed", "passed", "records", "objects"],
            "additionalProperties": False,
        },
        "$defs": records,
    }


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
