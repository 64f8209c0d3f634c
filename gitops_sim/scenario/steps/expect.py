"""The `expect` step: one expectation or a list, each checked against the live simulation.

    expect: one expectation or a list; each is one of
        {object: ref, fields: {path: value}}   partial match of the live object (null: absent)
        {absent: ref}                           the object does not exist
        {condition: {object, type, status, reason, message}}
        {event: {object, type, reason, message}}   an event since the last action step began
        {commit: {repo, branch, message, author, files, diff}}
                                                a commit on the branch (default: the repository's
                                                default branch) since the last action step began,
                                                by anyone but the scenario itself: `message` the
                                                whole message, `author` 'Name <email>', `files`
                                                exactly the paths it changed, `diff` text its
                                                unified diff contains
        {no-commit: {repo, branch}, for: <duration>}   no such commit for the whole window
        {notification: {sink, severity, object, reason, message, count}}
                                                notifications a sink received since the last action
                                                step began, read as its provider type writes them
                                                (`count`: exactly that many match; default: at least
                                                one)
        {no-notification: {sink, severity, object, reason, message}, for: <duration>}
        {order: [{event: …}, {event: …}, …]}    events since the last action step, one matching
                                                each, in this order
        {always: <expectation>, for: <duration>}   it holds at every instant of the window
        {never: <expectation>, for: <duration>}    it holds at no instant of the window (the
                                                reverted value never comes back, no such event)
      and may add `within: <duration>`: virtual time runs until it holds, or fails at the end.

Every string an expectation compares (a field's value at any depth, a condition's or event's
reason and message, a commit's message and author, a notification's reason and message) is a
literal (a trailing newline ignored) or `{contains: …}`, `{regex: …}` (Go's syntax, searched
anywhere) or `{glob: …}`; `null` in `fields` expects the key absent at any depth; a failure
names the exact path, what was expected and what was there (`model.matching`).

Strings in expectations may use `${repos.<name>.head}` and `${repos.<name>.branches.<branch>}`,
resolved when the expectation is checked. `expect` is not an action step: it does not move the
start of "since the last action step".

Declares the step (schema side); `steps.actions.time` runs it. Never imports a runtime module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitops_sim.model import matching
from gitops_sim.scenario import located
from gitops_sim.scenario.located import LDict, LList, Location
from gitops_sim.scenario.steps import fields, registry

EXPECT_KEYS = (
    "object",
    "absent",
    "condition",
    "event",
    "commit",
    "no-commit",
    "notification",
    "no-notification",
)
COMMIT_KEYS = ("repo", "branch", "message", "author", "files", "diff")
NOTIFICATION_KEYS = ("sink", "severity", "object", "reason", "message", "count")
WINDOWED = ("no-commit", "no-notification")
"""The expectations that must hold throughout a window (`for`), not come true (`within`)."""


@dataclass(frozen=True, slots=True)
class Expectation:
    kind: str  # "object" | "absent" | "condition" | "event" | "commit" | "no-commit"
    object: str  # a `Kind/namespace/name`; a repository's name for commit and no-commit
    want: dict[str, Any]
    within_ms: int
    loc: Location
    within_loc: Location | None = None
    holds_ms: int = 0
    """`for`: the expectation must hold throughout this much virtual time (no-commit)."""
    mode: str = ""
    """"always": the inner expectation holds at every instant of the `for` window; "never": it
    holds at none; "": neither (a plain expectation)."""


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
        if isinstance(item, LDict) and ("always" in item or "never" in item):
            out.append(_windowed(item, iloc, iwhere))
            continue
        if isinstance(item, LDict) and "order" in item:
            out.append(_order(item, iloc, iwhere))
            continue
        spec = fields.mapping(
            item, iloc, iwhere, (*EXPECT_KEYS[:1], "fields", *EXPECT_KEYS[1:], "within", "for")
        )
        present = [k for k in EXPECT_KEYS if k in spec]
        if len(present) != 1 or ("fields" in spec and present != ["object"]):
            raise fields.fail(
                iloc,
                iwhere,
                "an expectation has exactly one of: object (with fields), absent, condition, event, "
                "commit, no-commit, notification, no-notification",
            )
        kind = present[0]
        if ("for" in spec) != (kind in WINDOWED):
            where_for = fields.child_loc(spec, "for") if "for" in spec else iloc
            raise fields.fail(
                where_for,
                f"{iwhere}.for",
                "`for: <duration>` goes with no-commit and no-notification, and only there",
            )
        if kind in WINDOWED and "within" in spec:
            raise fields.fail(
                spec.value_locs["within"], f"{iwhere}.within", f"{kind} takes `for`, not `within`"
            )
        within = (
            fields.duration(spec["within"], spec.value_locs["within"], f"{iwhere}.within")
            if "within" in spec
            else 0
        )
        holds = fields.duration(spec["for"], spec.value_locs["for"], f"{iwhere}.for") if "for" in spec else 0
        if kind == "object":
            ref, want = _object(spec, iwhere)
        elif kind == "absent":
            ref, want = fields.ref(spec["absent"], spec.value_locs["absent"], f"{iwhere}.absent"), {}
        elif kind in ("commit", "no-commit"):
            ref, want = _commit(spec, kind, iwhere)
        elif kind in ("notification", "no-notification"):
            ref, want = _notification(spec, kind, iwhere)
        else:
            ref, want = _condition_or_event(spec, kind, iwhere)
        within_loc = spec.value_locs["within"] if "within" in spec else None
        if "for" in spec:
            within_loc = spec.value_locs["for"]
        out.append(Expectation(kind, ref, want, within, iloc, within_loc, holds))
    return tuple(out)


def _order(item: LDict, iloc: Location, iwhere: str) -> Expectation:
    """`{order: [{event: …}, {event: …}, …], within: <duration>}`: events since the last action
    step, one matching each item, each later than the one before."""
    spec = fields.mapping(item, iloc, iwhere, ("order", "within"), required=("order",))
    where = f"{iwhere}.order"
    listed = fields.sequence(spec["order"], spec.value_locs["order"], where)
    if len(listed) < 2:
        raise fields.fail(spec.value_locs["order"], where, "expected a list of two events or more")
    steps = []
    for i, entry in enumerate(listed):
        (inner,) = expectations(entry, listed.item_locs[i], f"{where}[{i}]")
        if inner.kind != "event" or inner.within_ms or inner.mode:
            raise fields.fail(
                listed.item_locs[i], f"{where}[{i}]", "order takes events: {event: {object, …}}"
            )
        steps.append({"object": inner.object, **inner.want})
    within = (
        fields.duration(spec["within"], spec.value_locs["within"], f"{iwhere}.within")
        if "within" in spec
        else 0
    )
    within_loc = spec.value_locs["within"] if "within" in spec else None
    return Expectation("order", "", {"events": steps}, within, iloc, within_loc)


def _windowed(item: LDict, iloc: Location, iwhere: str) -> Expectation:
    """`{always: <expectation>, for: <duration>}` or `{never: …, for: …}`."""
    mode = "always" if "always" in item else "never"
    spec = fields.mapping(item, iloc, iwhere, (mode, "for"), required=(mode, "for"))
    inner_where = f"{iwhere}.{mode}"
    if isinstance(spec[mode], LList):
        raise fields.fail(spec.value_locs[mode], inner_where, "expected one expectation, not a list")
    (inner,) = expectations(spec[mode], spec.value_locs[mode], inner_where)
    if inner.holds_ms or inner.within_ms or inner.mode or inner.kind in WINDOWED:
        raise fields.fail(
            spec.value_locs[mode], inner_where, f"{mode} takes a plain expectation (no within, for, or no-…)"
        )
    holds = fields.duration(spec["for"], spec.value_locs["for"], f"{iwhere}.for")
    return Expectation(inner.kind, inner.object, inner.want, 0, iloc, spec.value_locs["for"], holds, mode)


def _object(spec: LDict, iwhere: str) -> tuple[str, dict[str, Any]]:
    if "fields" not in spec or not isinstance(spec["fields"], LDict):
        raise fields.fail(
            fields.child_loc(spec, "fields"),
            f"{iwhere}.fields",
            "expected `fields`: a mapping of field paths to expected values",
        )
    want: dict[str, Any] = {}
    for key in spec["fields"]:
        loc = spec["fields"].value_locs[key]
        fields.field_path(key, loc, f"{iwhere}.fields")
        try:
            want[key] = matching.forms(located.plain(spec["fields"][key]))
        except matching.MatchError as exc:
            raise fields.fail(loc, f"{iwhere}.fields.{key}", str(exc)) from exc
    return fields.ref(spec["object"], spec.value_locs["object"], f"{iwhere}.object"), want


def _commit(spec: LDict, kind: str, iwhere: str) -> tuple[str, dict[str, Any]]:
    allowed = COMMIT_KEYS if kind == "commit" else COMMIT_KEYS[:2]
    where = f"{iwhere}.{kind}"
    sub = fields.mapping(spec[kind], spec.value_locs[kind], where, allowed, required=("repo",))
    want: dict[str, Any] = {}
    for key in allowed[1:]:
        if key not in sub:
            continue
        loc, kwhere = sub.value_locs[key], f"{where}.{key}"
        if key == "files":
            paths = fields.sequence(sub[key], loc, kwhere)
            want[key] = sorted(
                fields.string(p, paths.item_locs[i], f"{kwhere}[{i}]") for i, p in enumerate(paths)
            )
        elif key == "branch":
            want[key] = fields.git_ref(sub[key], loc, kwhere)
        elif key == "author":
            who = fields.text_or_match(sub[key], loc, kwhere)
            if isinstance(who, str) and not (who.rstrip().endswith(">") and "<" in who):
                raise fields.fail(loc, kwhere, "expected 'Name <email>'")
            want[key] = who
        elif key == "message":
            want[key] = fields.text_or_match(sub[key], loc, kwhere)
        else:
            want[key] = fields.text(sub[key], loc, kwhere)
    return fields.string(sub["repo"], sub.value_locs["repo"], f"{where}.repo"), want


def _notification(spec: LDict, kind: str, iwhere: str) -> tuple[str, dict[str, Any]]:
    allowed = NOTIFICATION_KEYS if kind == "notification" else NOTIFICATION_KEYS[:-1]
    where = f"{iwhere}.{kind}"
    sub = fields.mapping(spec[kind], spec.value_locs[kind], where, allowed, required=("sink",))
    want: dict[str, Any] = {}
    for key in allowed[1:]:
        if key not in sub:
            continue
        loc, kwhere = sub.value_locs[key], f"{where}.{key}"
        if key == "count":
            count = sub[key]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise fields.fail(loc, kwhere, "expected a whole number, 0 or more")
            want[key] = count
        elif key == "severity":
            want[key] = fields.string(sub[key], loc, kwhere)
            if want[key] not in ("info", "error"):
                raise fields.fail(loc, kwhere, 'expected "info" or "error"')
        elif key == "object":
            want[key] = fields.ref(sub[key], loc, kwhere)
        else:
            want[key] = fields.text_or_match(sub[key], loc, kwhere)
    return fields.string(sub["sink"], sub.value_locs["sink"], f"{where}.sink"), want


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
    want: dict[str, Any] = {
        k: (
            fields.text_or_match(v, sub.value_locs[k], f"{iwhere}.{kind}.{k}")
            if k in ("reason", "message")
            else fields.string(
                fields.yaml_bool(v) if k == "status" else v, sub.value_locs[k], f"{iwhere}.{kind}.{k}"
            )
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
        (
            item.within_ms or item.holds_ms,
            item.within_loc or item.loc,
            f"steps[{index}].expect.{'for' if item.holds_ms else 'within'}",
        )
        for item in action.items
        if item.within_ms or item.holds_ms
    ]


registry.declare(
    registry.Declaration(
        "expect",
        _parse,
        "expect: {object, fields} | {absent} | {condition: {...}} | {event: {...}} | {commit: {...}} | "
        "{no-commit: {...}, for} | {notification: {...}} | {no-notification: {...}, for} | "
        "{always|never: <expectation>, for} | {order: [{event}, …]}, or a list; within",
        marks_events=False,
        spans=_spans,
    )
)
