"""Rendering a run for people: the timeline, the failure, the summary line.

`timeline_lines` turns trace records into aligned text lines (virtual time, who, what, details);
`print_outcome` writes them with rich, colouring warnings and failed expectations; `summary` is
the final `N passed, N failed` line. The JSON trace (for machines) is `engine.trace.Trace.to_json`.

Names, keys, messages and paths come from scenario files and repositories, so they are shown
literally: everything is printed as rich `Text` (never parsed as markup, so `[/red]` in a name is
just text), and `printable` writes control characters (ESC, CR, DEL, the C1 controls, bidi
overrides) and lone surrogates as escapes (`\x1b`, `\u202e`), keeping newlines and tabs only
where text has several lines. Callers print anything else they show from users through
`printable` and `Text` too.

Callers: the CLI and the pytest plugin. Output only; nothing here changes a run.
It must never hand user text to rich as markup, nor write a control character from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from gitops_sim.engine import trace as traces
from gitops_sim.model import duration

if TYPE_CHECKING:  # the runner (and the engine behind it) only for annotations: `validate` never runs
    from gitops_sim.scenario import runner

_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNPRINTABLE_LINE = re.compile(_UNPRINTABLE.pattern[:-1] + "\\t\\n]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, multiline: bool = True) -> str:
    """`text` with control characters and lone surrogates written as escapes; newlines and tabs
    are kept when `multiline`, escaped otherwise."""
    return (_UNPRINTABLE if multiline else _UNPRINTABLE_LINE).sub(_escape, text)


clock = duration.clock


def parts(rec: traces.Record) -> tuple[str, str, str, str]:
    """(who, object, headline, details) for one record."""
    kind = rec["kind"]
    if kind == "event":
        return (rec["controller"], rec["object"], f"{rec['type']} {rec['reason']}", rec["message"])
    if kind == "commit":
        files = ", ".join(rec.get("files") or ())
        headline = f"commit {rec['sha'][:7]}" if rec["sha"] else "commit at the next push"
        return (
            "git",
            f"{rec['repo']}@{rec['branch']}",
            headline,
            f"{rec['message']} ({files})" if files else rec["message"],
        )
    if kind == "tag":
        annotated = " (annotated)" if rec["annotated"] else ""
        return ("git", rec["repo"], f"tag {rec['tag']}", f"{rec['sha'][:7]}{annotated}")
    if kind == "push-artifact":
        files = ", ".join(rec["files"])
        return ("oci", f"{rec['url']}:{rec['tag']}", "push", f"{rec['digest'][:19]} ({files})")
    if kind == "push-image":
        return ("oci", rec["image"], "push", rec["digest"][:19])
    if kind == "delete-tag":
        return ("oci", rec["image"], "delete tag", "")
    if kind == "put-object":
        return ("s3", f"{rec['endpoint']}/{rec['bucket']}", "put", ", ".join(rec["keys"]))
    if kind == "publish-chart":
        return ("helm", rec["url"], f"publish {rec['chart']} {rec['version']}", rec["digest"][:12])
    if kind == "fault":
        return ("scenario", rec["target"], f"fault {rec['type']}", "")
    if kind == "heal":
        return ("scenario", rec["target"], "heal", "")
    if kind == "metrics":
        shown = ", ".join(
            f"{name} {value}%" if value is not None else f"{name} at target"
            for name, value in rec["utilization"].items()
        )
        return ("scenario", rec["workload"], "metrics", shown)
    if kind == "webhook":
        signed = "" if rec["signature"] == "valid" else f" ({rec['signature']} signature)"
        return ("webhook", rec["object"], f"POST → {rec['status']}{signed}", rec["answer"])
    if kind == "notification":
        return (rec["sink"], rec["object"], f"{rec['severity']} notification", rec["message"])
    if kind == "apply":
        return (rec["manager"], rec["object"], "apply", rec["action"])
    if kind == "drift":
        changes = ", ".join(
            f"{k}={json.dumps(v)}" if v is not None else f"-{k}" for k, v in rec["changes"].items()
        )
        return (rec["manager"], rec["object"], "drift", changes)
    if kind == "delete":
        return ("kubectl", rec["object"], "delete", "")
    if kind == "reconcile":
        return ("flux", rec["object"], "reconcile", f"requestedAt {rec['requestedAt']}")
    if kind in ("suspend", "resume"):
        return (
            "flux",
            rec["object"],
            kind,
            "spec.suspend: true" if kind == "suspend" else "spec.suspend removed",
        )
    if kind in ("flux", "helm"):
        return (kind, "", f"{kind} {rec['command']}"[:29], f"exit {rec['exit']}\n{rec['output']}")
    if kind == "controller":
        return (rec["component"], "", "started" if rec["up"] else "stopped", "")
    if kind == "advance":
        return ("scenario", "", f"advance {rec['by']}", "")
    if kind == "expect":
        return ("scenario", "", "expect ✓" if rec["ok"] else "expect ✗", rec["what"])
    if kind in ("reconcile-error", "watch-error"):
        return (rec["controller"], rec["object"], kind, rec["message"])
    if kind == "failure":
        return ("scenario", "", "FAILED", f"{rec['at']}: {rec['message']}")
    if kind == "hint":
        return ("gitops-sim", rec["object"], "hint", rec["message"])
    return ("", "", kind, json.dumps(rec, sort_keys=True))


_WHO, _OBJECT, _HEAD = 27, 35, 30
_NOT_SHOWN = frozenset({"step", "condition"})
"""Records for machines and the HTML report: the timeline shows the events they lead to."""


def timeline_lines(records: Iterable[traces.Record]) -> list[str]:
    """One line per record (but `step` and `condition` ones), in columns; a record takes more
    lines when its message has several or its object or action is longer than its column (it
    wraps there, after a `/` or a space when it can), so the columns stay aligned."""
    out = []
    for rec in records:
        if rec["kind"] in _NOT_SHOWN:
            continue
        *heads, details = parts(rec)
        who, obj, head = (printable(str(part), multiline=False) for part in heads)
        columns = ([who], _wrap(obj, _OBJECT), _wrap(head, _HEAD))  # the longest component name fits
        message = printable(str(details or "").rstrip("\n")).split("\n")  # a final newline adds no line
        for i in range(max(len(message), *(len(c) for c in columns))):
            cells = [c[i] if i < len(c) else "" for c in columns]
            stamp = clock(rec["t"]) if i == 0 else " " * len(clock(rec["t"]))
            text = message[i] if i < len(message) else ""
            who_, obj_, head_ = cells
            out.append(f"{stamp}  {who_:<{_WHO}} {obj_:<{_OBJECT}} {head_:<{_HEAD}} {text}".rstrip())
    return out


def _wrap(text: str, width: int) -> list[str]:
    """`text` in pieces of at most `width` characters, cut after a `/` or a space where it can."""
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for token in re.split(r"(?<=[/ ])", text):
        while len(token) > width:  # longer than a line: cut it
            if line:
                lines.append(line)
                line = ""
            lines.append(token[:width])
            token = token[width:]
        if len(line) + len(token) > width:
            lines.append(line)
            line = ""
        line += token
    return [*lines, line] if line else lines


def style(rec: traces.Record) -> str:
    if rec["kind"] == "failure" or (rec["kind"] == "expect" and not rec["ok"]):
        return "bold red"
    if rec["kind"] == "event" and rec["type"] == "Warning":
        return "yellow"
    if rec["kind"] == "expect":
        return "green"
    if rec["kind"] == "fault":
        return "magenta"
    if rec["kind"] == "hint":
        return "yellow"
    if rec["kind"] in (
        "commit",
        "tag",
        "push-artifact",
        "push-image",
        "delete-tag",
        "publish-chart",
        "put-object",
        "heal",
        "metrics",
        "drift",
        "apply",
        "delete",
        "reconcile",
        "suspend",
        "resume",
        "advance",
    ):
        return "cyan"
    return ""


def print_outcome(console: Console, outcome: runner.Outcome, *, show_timeline: bool = True) -> None:
    verdict = Text("PASS", style="bold green") if outcome.passed else Text("FAIL", style="bold red")
    name, path = printable(outcome.scenario.name, multiline=False), printable(str(outcome.scenario.path))
    console.print(Text.assemble(verdict, " ", (name, "bold"), f"  ({path})"))
    if show_timeline:
        for rec in outcome.trace.records:
            for i, line in enumerate(timeline_lines([rec])):
                console.print(Text(line, style=style(rec) if i == 0 else ""), soft_wrap=True)
    if outcome.failure is not None:
        console.print(Text(printable(str(outcome.failure)), style="red"), soft_wrap=True)
    console.print(Text(f"  virtual time {clock(outcome.virtual_ms)}", style="dim"))


def summary(passed: int, failed: int) -> str:
    return f"{passed} passed, {failed} failed"
