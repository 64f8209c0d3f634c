"""The JUnit XML report of a run (`gitops-sim run --junit FILE`), as CI servers read it.

One `testcase` per scenario, named by the scenario's `name`, with `classname` its file's path
(dots for slashes, no suffix, as JUnit readers group by it), `file` and `line` (the line of its
`name`), `time` (wall seconds), a `failure` (the failure's message; its text is the whole
failure, with the `file:line:col` of the step that failed) and the timeline in `system-out`. A
file that could not be loaded is a testcase with an `error`. With `steps`, each scenario's steps
are testcases too (`classname` the scenario's name, `name` `steps[3] expect`, the step's
`line`): passed, failed (the step that failed), or skipped (after it).

Callers: the CLI. Writes the one file it is given; the text of names, messages and timelines is
escaped by the XML writer and stripped of characters XML 1.0 cannot carry.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_sim.scenario import report

if TYPE_CHECKING:  # the runner (and the engine behind it) only for annotations: `validate` never runs
    from gitops_sim.scenario import runner

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Ran:
    outcome: runner.Outcome
    wall_s: float


@dataclass(frozen=True, slots=True)
class Unloadable:
    path: Path
    message: str


def _text(value: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", value)


def _classname(path: Path) -> str:
    return ".".join(path.with_suffix("").parts).lstrip(".")


def _scenario_case(ran: Ran) -> ET.Element:
    sc = ran.outcome.scenario
    case = ET.Element(
        "testcase",
        classname=_text(_classname(sc.path)),
        name=_text(sc.name),
        file=_text(str(sc.path)),
        line=str(sc.line),
        time=f"{ran.wall_s:.3f}",
    )
    failure = ran.outcome.failure
    if failure is not None:
        element = ET.SubElement(
            case, "failure", message=_text(failure.message.split("\n", 1)[0]), type="failed"
        )
        element.text = _text(str(failure))
    out = ET.SubElement(case, "system-out")
    timeline = report.timeline_lines(ran.outcome.trace.records)
    out.text = _text("\n".join([*timeline, f"virtual time {report.clock(ran.outcome.virtual_ms)}"]) + "\n")
    return case


def _step_cases(ran: Ran) -> list[ET.Element]:
    sc, failure = ran.outcome.scenario, ran.outcome.failure
    failed_at = None
    if failure is not None:
        failed_at = next((s.index for s in sc.steps if s.loc == failure.loc), None)
        if failed_at is None:  # an expectation inside a step: the step that holds its line
            before = [
                s for s in sc.steps if s.loc.file == failure.loc.file and s.loc.line <= failure.loc.line
            ]
            failed_at = before[-1].index if before else None
    cases = []
    for step in sc.steps:
        case = ET.Element(
            "testcase",
            classname=_text(sc.name),
            name=f"steps[{step.index}] {step.keyword}",
            file=_text(str(sc.path)),
            line=str(step.loc.line),
            time="0",
        )
        if failure is not None and failed_at is not None and step.index == failed_at:
            element = ET.SubElement(case, "failure", message=_text(failure.message.split("\n", 1)[0]))
            element.text = _text(str(failure))
        elif failure is not None and (failed_at is None or step.index > failed_at):
            ET.SubElement(case, "skipped", message="an earlier step failed")
        cases.append(case)
    return cases


def write(path: Path, ran: Sequence[Ran], unloadable: Sequence[Unloadable], *, steps: bool = False) -> None:
    suite = ET.Element("testsuite", name="gitops-sim")
    cases: list[ET.Element] = []
    for one in ran:
        cases.append(_scenario_case(one))
        if steps:
            cases.extend(_step_cases(one))
    for bad in unloadable:
        case = ET.Element(
            "testcase", classname=_text(_classname(bad.path)), name=_text(str(bad.path)), time="0"
        )
        element = ET.SubElement(case, "error", message=_text(bad.message.split("\n", 1)[0]), type="LoadError")
        element.text = _text(bad.message)
        cases.append(case)
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
    suite.set("errors", str(len(unloadable)))
    suite.set("skipped", str(sum(c.find("skipped") is not None for c in cases)))
    suite.set("time", f"{sum(one.wall_s for one in ran):.3f}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n")
