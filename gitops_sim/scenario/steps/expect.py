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
from gitops_sim.scenario.steps import fields, registry, shapes

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
PLAIN = tuple(k for k in EXPECT_KEYS if k not in WINDOWED)
"""The expectations `always` and `never` take."""
TIMING = ("within", "for")
_NOT_PLAIN = (*TIMING, *WINDOWED, "always", "never", "order")
_NOT_EVENT = (*(k for k in EXPECT_KEYS if k != "event"), "fields", *_NOT_PLAIN)


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


def expectations(
    value: Any,
    loc: Location,
    where: str,
    kinds: tuple[str, ...] = EXPECT_KEYS,
    timing: tuple[str, ...] = TIMING,
) -> tuple[Expectation, ...]:
    """One expectation or a list of them; an item names one of `kinds` and may add the keys of
    `timing`. With every kind (the step's own items), an item may also be a window (`always`,
    `never`) or an `order`; the expectations inside those take fewer keys."""
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    out = []
    for i, item in items:
        iloc = value.item_locs[i] if isinstance(value, LList) and i is not None else loc
        iwhere = f"{where}[{i}]" if i is not None else where
        if kinds == EXPECT_KEYS and isinstance(item, LDict) and ("always" in item or "never" in item):
            out.append(_windowed(item, iloc, iwhere))
            continue
        if kinds == EXPECT_KEYS and isinstance(item, LDict) and "order" in item:
            out.append(_order(item, iloc, iwhere))
            continue
        allowed = tuple(key for kind in kinds for key in ((kind, "fields") if kind == "object" else (kind,)))
        spec = fields.mapping(item, iloc, iwhere, (*allowed, *timing))
        present = [k for k in kinds if k in spec]
        if len(present) != 1 or ("fields" in spec and present != ["object"]):
            raise fields.fail(
                iloc,
                iwhere,
                "an expectation has exactly one of: "
                + ", ".join("object (with fields)" if kind == "object" else kind for kind in kinds),
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
        if not isinstance(entry, LDict) or "event" not in entry or any(k in entry for k in _NOT_EVENT):
            raise fields.fail(
                listed.item_locs[i], f"{where}[{i}]", "order takes events: {event: {object, …}}"
            )
        (inner,) = expectations(entry, listed.item_locs[i], f"{where}[{i}]", ("event",), ())
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
    if isinstance(spec[mode], LDict) and any(k in spec[mode] for k in _NOT_PLAIN):
        raise fields.fail(
            spec.value_locs[mode], inner_where, f"{mode} takes a plain expectation (no within, for, or no-…)"
        )
    (inner,) = expectations(spec[mode], spec.value_locs[mode], inner_where, PLAIN, ())
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


# -- the JSON Schema of the step's value (`scenario.language_schema`) ----------------------------


def _subject(kind: str) -> shapes.Fragment:
    """The value under an expectation's key, as `_condition_or_event`, `_commit` and
    `_notification` read it."""
    obj = shapes.ref("the object, Kind/namespace/name")
    compared = shapes.text_or_match
    if kind in ("object", "absent"):
        return shapes.ref(
            "the object, Kind/namespace/name" + (" (that must not exist)" if kind == "absent" else "")
        )
    if kind == "condition":
        return shapes.mapping(
            "a condition in the object's status.conditions",
            {
                "object": obj,
                "type": shapes.string(
                    "the condition's type (Ready, Healthy, Released, …)", examples=["Ready"]
                ),
                "status": shapes.choice(
                    'its status: "True", "False" or "Unknown" (an unquoted true/false counts)',
                    ["True", "False", "Unknown", True, False],
                ),
                "reason": compared("its reason"),
                "message": compared("its message"),
            },
            required=("object", "type"),
        )
    if kind == "event":
        return shapes.mapping(
            "an event about the object, recorded since the last action step began",
            {
                "object": obj,
                "type": shapes.choice("the event's type", ["Normal", "Warning"]),
                "reason": compared("its reason"),
                "message": compared("its message"),
            },
            required=("object",),
        )
    if kind in ("commit", "no-commit"):
        described = {
            "repo": shapes.string("the repository (a name under `repos`)"),
            "branch": shapes.git_ref("the branch (default: the repository's default branch)"),
            "message": compared("the whole commit message"),
            "author": compared(
                "the author, 'Name <email>'",
                shapes.text("the author, 'Name <email>'", pattern=r"<[\s\S]*>\s*$"),
            ),
            "files": shapes.list_of("exactly the paths it changed", shapes.string("a file path")),
            "diff": shapes.text("text its unified diff contains"),
        }
        commit_keys = COMMIT_KEYS if kind == "commit" else COMMIT_KEYS[:2]
        return shapes.mapping(
            "a commit on the branch since the last action step began, by anyone but the scenario"
            if kind == "commit"
            else "the branch that must get no such commit",
            {key: described[key] for key in commit_keys},
            required=("repo",),
        )
    described = {
        "sink": shapes.string("the sink (a name under `sinks`)"),
        "severity": shapes.choice("the severity", ["info", "error"]),
        "object": shapes.ref("the object the notification is about, Kind/namespace/name"),
        "reason": compared("its reason"),
        "message": compared("its message"),
        "count": shapes.integer("exactly that many match (default: at least one)", minimum=0),
    }
    notification_keys = NOTIFICATION_KEYS if kind == "notification" else NOTIFICATION_KEYS[:-1]
    return shapes.mapping(
        "notifications the sink received since the last action step began, read as its provider "
        "type writes them",
        {key: described[key] for key in notification_keys},
        required=("sink",),
    )


_WITHIN = shapes.duration("let virtual time run until it holds, or fail at the end")
_FOR = shapes.duration("the window it must hold throughout")


def _plain(kind: str, *, timed: bool) -> shapes.Fragment:
    """The expectation `{<kind>: …}`, with its `within` or `for` when `timed`."""
    subject = _subject(kind) if kind in ("object", "absent") else shapes.use(f"expect-{kind}")
    properties = {kind: subject}
    required = [kind]
    if kind == "object":
        properties["fields"] = shapes.map_of(
            "field paths to expected values: maps match partially, lists item by item, null expects "
            "the field absent; strings may be {contains|regex|glob: …}",
            shapes.anything("the expected value"),
            examples=[{"spec.replicas": 1}],
        )
        required.append("fields")
    if timed and kind in WINDOWED:
        properties["for"] = _FOR
        required.append("for")
    elif timed:
        properties["within"] = _WITHIN
    return shapes.mapping(f"expect {kind}", properties, required)


def _schema() -> shapes.Fragment:
    """The step's value: one expectation or a list (`expectations` with every kind); what
    several places share is defined once, under `$defs`."""
    order = shapes.mapping(
        "events since the last action step, one matching each, in this order",
        {
            "order": shapes.list_of(
                "two events or more",
                shapes.mapping("an event", {"event": shapes.use("expect-event")}, ("event",)),
                minItems=2,
            ),
            "within": _WITHIN,
        },
        ("order",),
    )
    windows = [
        shapes.mapping(
            f"it holds at {'every' if mode == 'always' else 'no'} instant of the window",
            {mode: shapes.use("expect-plain"), "for": _FOR},
            (mode, "for"),
        )
        for mode in ("always", "never")
    ]
    definitions = {
        "expect-one": shapes.any_of(
            "an expectation", *(_plain(kind, timed=True) for kind in EXPECT_KEYS), *windows, order
        ),
        "expect-plain": shapes.any_of(
            "a plain expectation (no within, for, or no-…)", *(_plain(kind, timed=False) for kind in PLAIN)
        ),
        **{f"expect-{kind}": _subject(kind) for kind in EXPECT_KEYS if kind not in ("object", "absent")},
    }
    return shapes.defining(
        shapes.any_of(
            "One expectation or a list, each checked against the live simulation; `within: <duration>` "
            "lets virtual time run until it holds. Strings may use ${repos.<name>.head}.",
            shapes.use("expect-one"),
            shapes.list_of("a list of expectations", shapes.use("expect-one")),
        ),
        definitions,
    )


registry.declare(
    registry.Declaration(
        "expect",
        _parse,
        "expect: {object, fields} | {absent} | {condition: {...}} | {event: {...}} | {commit: {...}} | "
        "{no-commit: {...}, for} | {notification: {...}} | {no-notification: {...}, for} | "
        "{always|never: <expectation>, for} | {order: [{event}, …]}, or a list; within",
        marks_events=False,
        spans=_spans,
        value_schema=_schema(),
    )
)
