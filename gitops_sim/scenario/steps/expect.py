"""The `expect` step: one expectation or a list, each checked against the live simulation.

    expect: one expectation or a list; each is one of
        {object: ref, fields: {path: value}}   partial match of the live object (null: absent)
        {absent: ref}                           the object does not exist
        {condition: {object, type, status, reason, message}}
        {event: {object, type, reason, message}}   an event since the last action step began
      and may add `within: <duration>`: virtual time runs until it holds, or fails at the end.

Strings in expectations may use `${repos.<name>.head}` and `${repos.<name>.branches.<branch>}`,
resolved when the expectation is checked. `expect` is not an action step: it does not move the
start of "since the last action step".

Declares the step (schema side); `steps.actions.time` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops_sim.scenario import located
from gitops_sim.scenario.located import LDict, LList, Location
from gitops_sim.scenario.steps import fields, registry

EXPECT_KEYS = ("object", "absent", "condition", "event")


@dataclass(frozen=True, slots=True)
class Expectation:
    kind: str  # "object" | "absent" | "condition" | "event"
    object: str
    want: dict[str, Any]
    within_ms: int
    loc: Location
    within_loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Expect(registry.Action):
    items: tuple[Expectation, ...]


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Expect:
    return Expect(expectations(value, vloc, vwhere))


def expectations(value: Any, loc: Location, where: str) -> tuple[Expectation, ...]:
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    out = []
    for i, item in items:
        iloc = value.item_locs[i] if isinstance(value, LList) and i is not None else loc
        iwhere = f"{where}[{i}]" if i is not None else where
        spec = fields.mapping(
            item, iloc, iwhere, ("object", "fields", "absent", "condition", "event", "within")
        )
        present = [k for k in EXPECT_KEYS if k in spec]
        if len(present) != 1 or ("fields" in spec and present != ["object"]):
            raise fields.fail(
                iloc,
                iwhere,
                "an expectation has exactly one of: object (with fields), absent, condition, event",
            )
        within = (
            fields.duration(spec["within"], spec.value_locs["within"], f"{iwhere}.within")
            if "within" in spec
            else 0
        )
        kind = present[0]
        if kind == "object":
            ref, want = _object(spec, iwhere)
        elif kind == "absent":
            ref, want = fields.ref(spec["absent"], spec.value_locs["absent"], f"{iwhere}.absent"), {}
        else:
            ref, want = _condition_or_event(spec, kind, iwhere)
        within_loc = spec.value_locs["within"] if "within" in spec else None
        out.append(Expectation(kind, ref, want, within, iloc, within_loc))
    return tuple(out)


def _object(spec: LDict, iwhere: str) -> tuple[str, dict[str, Any]]:
    if "fields" not in spec or not isinstance(spec["fields"], LDict):
        raise fields.fail(
            fields.child_loc(spec, "fields"),
            f"{iwhere}.fields",
            "expected `fields`: a mapping of field paths to expected values",
        )
    for key in spec["fields"]:
        fields.field_path(key, spec["fields"].value_locs[key], f"{iwhere}.fields")
    want = located.plain(spec["fields"])
    return fields.ref(spec["object"], spec.value_locs["object"], f"{iwhere}.object"), want


def _condition_or_event(spec: LDict, kind: str, iwhere: str) -> tuple[str, dict[str, Any]]:
    allowed = (
        ("object", "type", "status", "reason", "message")
        if kind == "condition"
        else ("object", "type", "reason", "message")
    )
    sub = fields.mapping(
        spec[kind],
        spec.value_locs[kind],
        f"{iwhere}.{kind}",
        allowed,
        required=("object", "type") if kind == "condition" else ("object",),
    )
    ref = fields.ref(sub["object"], sub.value_locs["object"], f"{iwhere}.{kind}.object")
    want = {
        k: fields.string(
            fields.yaml_bool(v) if k == "status" else v, sub.value_locs[k], f"{iwhere}.{kind}.{k}"
        )
        for k, v in sub.items()
        if k != "object"
    }
    if kind == "condition" and "status" in want and want["status"] not in ("True", "False", "Unknown"):
        raise fields.fail(
            sub.value_locs["status"],
            f"{iwhere}.condition.status",
            f'expected "True", "False" or "Unknown" (quoted); got {want["status"]!r}',
        )
    if kind == "event" and "type" in want and want["type"] not in ("Normal", "Warning"):
        raise fields.fail(sub.value_locs["type"], f"{iwhere}.event.type", 'expected "Normal" or "Warning"')
    return ref, want


def _spans(action: registry.Action, index: int, loc: Location) -> Iterable[registry.Span]:
    assert isinstance(action, Expect)
    return [
        (item.within_ms, item.within_loc or item.loc, f"steps[{index}].expect.within")
        for item in action.items
        if item.within_ms
    ]


registry.declare(
    registry.Declaration(
        "expect",
        _parse,
        "expect: {object, fields} | {absent} | {condition: {...}} | {event: {...}}, or a list; within",
        marks_events=False,
        spans=_spans,
    )
)
