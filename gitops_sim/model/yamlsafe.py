"""Bounded YAML and JSON parsing for everything gitops-sim reads from outside.

Scenario files, manifests in Git, kustomize's output and API request bodies are untrusted text.
PyYAML shares an anchored node between its aliases, so a 550-byte document of nested aliases
(a "billion laughs") parses quickly but becomes billions of values as soon as anything walks it:
a deep copy, a JSON encoding, our own location-keeping loader. Deep nesting exhausts the stack
(PyYAML's composer and `json` recurse; the C composer may not even check), and an alias inside its
own anchor (`&a [*a]`) builds a cycle.

IMPLEMENTATION DETAIL:
    Problem: the cost appears only after parsing, in whoever walks the result.
    Solution: before composing, one pass over the parser's event stream (libyaml's parser is a
    state machine, it does not recurse) computes what the document would be once aliases are
    expanded: its depth and its node count, each alias counted as the size of its anchor. A
    document over `MAX_DEPTH` or `MAX_NODES`, or with an alias inside its own anchor, is refused
    there with the position of the offending event, before any node is built. go-yaml, which
    the Kubernetes API server and kustomize use, refuses "excessive aliasing" for the same reason.

Errors are `yaml.MarkedYAMLError`s (`BoundsError` for the limits, `ValueError`s of scalar
constructors such as `!!int abc` or `2024-13-45` re-raised as one with the scalar's mark), so a
caller that already reports `yaml.YAMLError` with its mark needs nothing new.

Callers: the scenario loader, the kustomize build (repository files and kustomize's output), the
API server (request bodies). Pure functions: no I/O, nothing from the rest of gitops_sim.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_DEPTH = 100
"""Nesting deeper than this is refused. The deepest Flux or Kubernetes schema (a CRD's
openAPIV3Schema) nests a few dozen levels; our own walks (copies, diffs, validation) recurse, so
the bound also keeps them far from Python's recursion limit."""

MAX_NODES = 1_000_000
"""A document that expands (aliases counted in full) to more values than this is refused. A
3 MiB API body, the largest the API server takes, cannot hold more than about 1.5 million
values without aliases; anything near that is a bomb, not a manifest."""

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundsError(yaml.MarkedYAMLError):
    """A document refused before it was built: too deep, too large once expanded, or cyclic."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _Loader(_BASE_LOADER):  # type: ignore[valid-type,misc]  # CSafeLoader has no stubs
    """The safe loader whose scalar constructors fail as YAML errors with their position."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise yaml.constructor.ConstructorError(
                problem=f"invalid {node.tag.rsplit(':', 1)[-1]} value {_short(node)}: {exc}",
                problem_mark=node.start_mark,
            ) from exc


def _short(node: yaml.Node) -> str:
    value = node.value if isinstance(node, yaml.ScalarNode) else "…"
    return repr(value if len(value) <= 40 else value[:40] + "…")


def check(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Raise `BoundsError` (or PyYAML's error for a syntax error) unless every document in `text`
    stays within the bounds once its aliases are expanded."""
    # Per open collection: [nodes so far, height of its deepest child, anchor or None].
    stack: list[list[Any]] = []
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height), for closed anchors
    open_anchors: set[str] = set()
    total = 0

    def add(nodes: int, height: int, mark: Any) -> None:
        nonlocal total
        total += nodes
        if total > max_nodes:
            raise BoundsError(f"the document expands to more than {max_nodes:,} values (aliases)", mark)
        if len(stack) + height > max_depth:
            raise BoundsError(f"the document nests deeper than {max_depth} levels", mark)
        if stack:
            stack[-1][0] += nodes
            stack[-1][1] = max(stack[-1][1], height)

    for event in yaml.parse(text, Loader=_BASE_LOADER):
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = (1, 1)
            add(1, 1, event.start_mark)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) + 1 > max_depth:
                raise BoundsError(f"the document nests deeper than {max_depth} levels", event.start_mark)
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append([0, 0, event.anchor])
        elif isinstance(event, yaml.CollectionEndEvent):
            nodes, height, anchor = stack.pop()
            if anchor is not None:
                open_anchors.discard(anchor)
                sizes[anchor] = (nodes + 1, height + 1)
            add(nodes + 1, height + 1, event.start_mark)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise BoundsError(
                    f"alias *{event.anchor} refers to its own anchor (a cycle)", event.start_mark
                )
            nodes, height = sizes.get(event.anchor or "", (1, 1))  # an unknown anchor: the composer says so
            add(nodes, height, event.start_mark)


def load_all(text: str | bytes) -> list[Any]:
    """Every document of `text`, within the bounds (`check`); errors are `yaml.YAMLError`s."""
    check(text)
    return list(yaml.load_all(text, Loader=_Loader))


def load(text: str | bytes) -> Any:
    """The single document of `text` (None when empty), within the bounds."""
    check(text)
    return yaml.load(text, Loader=_Loader)


def compose(text: str) -> yaml.Node | None:
    """The node tree of the single document of `text` (pure-Python composer, so nodes carry
    marks), within the bounds."""
    check(text)
    return yaml.compose(text, Loader=yaml.SafeLoader)


def construct_scalar(node: yaml.ScalarNode) -> Any:
    """The value of one scalar node as the safe loader constructs it; a bad value (`!!int abc`,
    an impossible date) is a `ConstructorError` with the node's mark."""
    return _Loader("").construct_object(node, deep=True)


class JSONBoundsError(ValueError):
    """A JSON document nested deeper than the bound."""


def loads_json(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` without NaN/Infinity, refusing documents nested deeper than `max_depth`.
    Errors are `ValueError`s (`json.JSONDecodeError` or `JSONBoundsError`)."""
    try:
        value = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise JSONBoundsError(f"the document nests deeper than {max_depth} levels") from None
    if depth(value, max_depth) > max_depth:
        raise JSONBoundsError(f"the document nests deeper than {max_depth} levels")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep `value` nests (a scalar is 1), counted without recursion and stopping once past
    `limit`."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            pending.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, level + 1) for v in item)
    return deepest


def go_json_type(value: Any) -> str:
    """How Go's encoding/json names a decoded JSON value in its unmarshal errors
    (`json: cannot unmarshal <type> into Go value of type …`)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"
