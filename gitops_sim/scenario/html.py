"""The HTML report of a run (`gitops-sim run --report FILE.html`): one self-contained file.

For each scenario: its verdict and failure; a timeline over virtual time with one swimlane per
controller (and for git, registries, kubectl, the scenario…), a marker per record, step markers
as vertical lines, expectations (a failed one in red) and faults on the scenario's lane; under it,
per Flux object, each of its conditions over virtual time as coloured bands (True green, False
red, Unknown grey); then every record in a table. Clicking a marker, a band or a row shows the
record and, when its object changed at that instant, the object's diff (as it was just before
the instant, and at its end; `engine.history`). Filters hide lanes (controllers) and objects.

The file holds its data as JSON in a `<script type="application/json">` element and draws it with
the short script of the page `report.html` beside this module: no network resource, no library,
so it works offline in any browser.
All text from scenarios and repositories is inserted with `textContent` (never as HTML), and `<`
is escaped in the JSON, so nothing a scenario writes can run in the page. Secrets never reach it:
records hold none, and the history keeps Secrets redacted (`history.shown`).

Callers: the CLI. Writes the one file it is given.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gitops_sim.engine import history as histories
from gitops_sim.engine import trace as traces
from gitops_sim.scenario import report, runner

_MARKS = {
    "bold red": "failed",
    "yellow": "warning",
    "green": "passed",
    "magenta": "fault",
    "cyan": "action",
}


def _yaml(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=1000).splitlines()


def _diff(kept: histories.History, key: str, t: int) -> str:
    before, after = kept.state(key, t, before=True), kept.state(key, t)
    lines = difflib.unified_diff(
        _yaml(before),
        _yaml(after),
        "before" if before else "(absent)",
        "after" if after else "(absent)",
        n=4,
        lineterm="",
    )
    return "\n".join(lines)


_ABNORMAL_TRUE = frozenset({"Reconciling", "Stalled"})
"""kstatus's abnormal-true conditions: True is the state to get out of."""


def _colour(ctype: str, status: str) -> str:
    if status not in ("True", "False"):
        return "unknown"
    if ctype in _ABNORMAL_TRUE:
        return ("stalled" if ctype == "Stalled" else "progressing") if status == "True" else "good"
    return "good" if status == "True" else "bad"


def _bands(records: Sequence[traces.Record], end: int) -> list[dict[str, Any]]:
    """Each Flux object's conditions over the run, as segments from one transition to the next."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in records:
        if rec["kind"] != "condition":
            continue
        segments = rows.setdefault((rec["object"], rec["type"]), [])
        if segments:
            segments[-1]["to"] = rec["t"]
        if rec["status"] is not None:
            segments.append(
                {
                    "from": rec["t"],
                    "to": end,
                    "status": rec["status"],
                    "reason": rec["reason"],
                    "message": rec["message"],
                    "colour": _colour(rec["type"], rec["status"]),
                }
            )
    order = {"Ready": 0, "Reconciling": 1, "Stalled": 2}
    keys = sorted(rows, key=lambda k: (k[0], order.get(k[1], 9), k[1]))
    return [{"object": obj, "type": ctype, "segments": rows[(obj, ctype)]} for obj, ctype in keys]


def scenario_data(outcome: runner.Outcome) -> dict[str, Any]:
    """What the page draws for one scenario."""
    records, diffs = [], {}
    lanes: list[str] = []
    kept = outcome.history
    for i, rec in enumerate(outcome.trace.records):
        if rec["kind"] in ("step", "condition"):
            continue
        who, obj, head, details = (str(p) for p in report.parts(rec))
        lane = who or "scenario"
        if lane not in lanes:
            lanes.append(lane)
        key = str(rec.get("object") or "")
        diff = None
        if kept is not None and key and kept.changed_at(key, rec["t"]):
            diff = f"{key}@{rec['t']}"
            if diff not in diffs:
                diffs[diff] = _diff(kept, key, rec["t"])
        records.append(
            {
                "i": i,
                "t": rec["t"],
                "clock": report.clock(rec["t"]),
                "lane": lane,
                "object": obj,
                "head": head,
                "details": str(details).rstrip("\n"),
                "mark": _MARKS.get(report.style(rec), "other"),
                "record": {k: v for k, v in rec.items() if k != "t"},
                "diff": diff,
            }
        )
    steps = [
        {
            "t": r["t"],
            "clock": report.clock(r["t"]),
            "label": f"steps[{r['index']}] {r['step']} (line {r['line']})",
        }
        for r in outcome.trace.records
        if r["kind"] == "step"
    ]
    failure = outcome.failure
    return {
        "name": outcome.scenario.name,
        "path": str(outcome.scenario.path),
        "passed": outcome.passed,
        "failure": str(failure) if failure is not None else None,
        "end": max(outcome.virtual_ms, 1),
        "clock": report.clock(outcome.virtual_ms),
        "lanes": lanes,
        "records": records,
        "steps": steps,
        "bands": _bands(outcome.trace.records, outcome.virtual_ms),
        "diffs": diffs,
    }


def render(outcomes: Sequence[runner.Outcome]) -> str:
    data = json.dumps([scenario_data(o) for o in outcomes], ensure_ascii=True, sort_keys=True)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    passed = sum(o.passed for o in outcomes)
    title = f"gitops-sim: {passed} passed, {len(outcomes) - passed} failed"
    page = resources.files("gitops_sim.scenario").joinpath("report.html").read_text(encoding="utf-8")
    return page.replace("@TITLE@", title).replace("@DATA@", data)


def write(path: Path, outcomes: Sequence[runner.Outcome]) -> None:
    path.write_text(render(outcomes), encoding="utf-8")
