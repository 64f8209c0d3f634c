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
    The check stays a pass of its own before libyaml's composer, which cannot do it: the composer
    recurses in C, with no limit, so a deep document must be refused before it gets there.

IMPLEMENTATION DETAIL: two loaders, one result
    Problem: PyYAML's pure-Python parser and composer take ten times libyaml's time (a 4,750-line
    gotk-components.yaml: 460 ms to compose), and libyaml may be missing (`yaml.__with_libyaml__`).
    Solution: `WITH_LIBYAML` says which parser runs; every rule here (the resolver, the bounds,
    the tags, anchors redefined) is the same with either.
    - `load` and `load_all` first try one pass over the parser's events that builds the values
      directly (`_Building`), keeping the bounds' count as it goes. It takes what manifests hold
      (scalars, sequences and mappings, implicit or the core tags) and gives up, to the two passes
      above, on anything else: an anchor or alias, a `<<` merge key, another tag, a key that is a
      collection, a bound reached, a second document for `load`, a syntax error. So a document it
      builds is the one the composer and constructor would build, and every refusal or error
      comes from the two passes, exactly as before.
    - `compose` and `compose_all` compose with libyaml after the bounds pass and then make the
      nodes what PyYAML's composer makes (`_as_pyyaml`: a plain scalar's style None, not '', an
      indentless sequence's flow style None, not False, marks that hold the text, for error
      snippets). On any error, or a node it cannot tell about (a block sequence with an anchor or
      tag in a mapping), they compose again with PyYAML, whose errors and marks are the ones
      reported.
    What stays the parser's own: syntax errors are libyaml's words with it and PyYAML's without
    (libyaml also stops at 1,000 levels of nesting with `exceeded maximum nesting depth`, before
    our bound's 100 is even counted).

YAML AS KUBERNETES READS IT:
    PyYAML resolves plain scalars by YAML 1.1; Kubernetes does not. The API server and kubectl
    read YAML with sigs.k8s.io/yaml (`YAMLToJSON`), which decodes with its fork of go-yaml v2
    (`goyaml.v2/resolve.go`); kustomize-controller decodes kustomize's output the same way
    (apimachinery's YAMLOrJSONDecoder). One resolver here (`resolve`) does what that one does,
    for every reader (`load`, `load_all`, `compose`, `compose_all`, `construct_scalar`, so the
    scenario loader too):
    - booleans: y Y yes Yes YES true True TRUE on On ON, and n N no No NO false False FALSE
      off Off OFF (`y` and `n` too: go-yaml v2 lists them, PyYAML does not);
    - nulls: empty, ~, null Null NULL; `.inf`, `-.inf`, `.nan` (and case variants) are floats;
    - integers as Go's `strconv.ParseInt(s, 0, 64)` reads them once underscores are removed:
      decimal, `0x`, `0o`, `0b`, and a leading `0` for octal (`017` is 15); up to 2^64-1;
      a digit string that is not one (`09`) but looks like a float is a float;
    - floats as go-yaml's pattern `[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?`:
      `1e3` is the float 1000 (a string in YAML 1.1), `1e400` (out of range) a string;
    - no sexagesimal numbers (`1:20` is the string "1:20", not 80) and no `=` value type
      (`matchType: =` is the string "=");
    - a timestamp stays the text it was written as: go-yaml resolves it, but decoding into an
      untyped value keeps the string (`2024-13-45` is simply a string);
    - `<<` is a merge key.
    An explicit tag must fit its value (`!!int 1.5` is an error with its mark; `!!float 2` is
    2.0). An anchor defined again replaces the earlier one from there on, as in go-yaml (PyYAML
    refuses "found duplicate anchor"). A key given twice keeps its last value, as
    sigs.k8s.io/yaml's non-strict `YAMLToJSON` does (kustomize, which runs go-yaml v3, refuses
    duplicate keys in a repository's manifests itself, with its own message; the scenario loader
    refuses them too).
    Where we knowingly differ: keys stay the type they resolve to (sigs.k8s.io/yaml turns
    `1:`, `true:` into the strings "1", "true"); an integral float stays a float (the API
    server's JSON round trip makes `1.0` the integer 1); `!!binary` is bytes; an explicit
    `!!timestamp` keeps its text (sigs.k8s.io/yaml re-formats it as RFC 3339).
    Speed: plain scalars are resolved by one dict lookup on their first character (most are
    names and stay strings), with libyaml's C parser and composer; a document that redefines an
    anchor, which libyaml's composer refuses, is composed by PyYAML's Python composer.

`dump` is the writer for text a Go reader will read again (a user's kustomization.yaml with the
Kustomization's overlay merged in, objects around postBuild substitution): a string is quoted
exactly when go-yaml v2's encoder would quote it (when `resolve` reads its plain form as
another type, or it looks like a base-60 number), so every value reads back with its type.

Errors are `yaml.MarkedYAMLError`s (`BoundsError` for the limits, `ValueError`s of scalar
constructors such as `!!int abc` re-raised as one with the scalar's mark), so a caller that
already reports `yaml.YAMLError` with its mark needs nothing new.

Callers: the scenario loader, the kustomize build (repository files and kustomize's output), the
kustomize controller (postBuild), the API server (request bodies). Pure functions: no I/O,
nothing from the rest of gitops_sim. Nothing here may resolve YAML 1.1's way (no
`yaml.safe_load`, no `yaml.safe_dump` for text a Go reader reads back).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from typing import Any, cast

import yaml

MAX_DEPTH = 100
"""Nesting deeper than this is refused. The deepest Flux or Kubernetes schema (a CRD's
openAPIV3Schema) nests a few dozen levels; our own walks (copies, diffs, validation) recurse, so
the bound also keeps them far from Python's recursion limit."""

MAX_NODES = 1_000_000
"""A document that expands (aliases counted in full) to more values than this is refused. A
3 MiB API body, the largest the API server takes, cannot hold more than about 1.5 million
values without aliases; anything near that is a bomb, not a manifest."""

WITH_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False)) and hasattr(yaml, "CSafeLoader")
"""Whether libyaml's C parser (and composer) read the text; read at every call. False when PyYAML
was built without libyaml, or to run the pure-Python loader (the tests run both)."""

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
TIMESTAMP, MERGE, SEQ, MAP = (_TAG + t for t in ("timestamp", "merge", "seq", "map"))

# go-yaml v2 resolve.go: the first character says what a plain scalar may be.
_HINT = {c: "D" for c in "0123456789"} | {"+": "S", "-": "S", ".": "."} | {c: "M" for c in "yYnNtTfFoO~"}
_WORDS: dict[str, tuple[str, Any]] = {
    **{w: (BOOL, True) for w in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{
        w: (BOOL, False) for w in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
    },
    **{w: (NULL, None) for w in ("", "~", "null", "Null", "NULL")},
    **{w: (FLOAT, math.nan) for w in (".nan", ".NaN", ".NAN")},
    **{w: (FLOAT, math.inf) for w in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{w: (FLOAT, -math.inf) for w in ("-.inf", "-.Inf", "-.INF")},
    "<<": (MERGE, "<<"),
}
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")  # Go's ParseFloat, for the '.' hint
_TIMESTAMP = re.compile(  # go-yaml v2 parseTimestamp's layouts (loosely: only `dump` asks)
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?(?:Z|[-+][0-9]{2}:[0-9]{2})"
    r"| [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?)?\Z"
)
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")  # go-yaml v2 encode.go


def resolve(text: str) -> tuple[str, Any]:
    """The tag and value go-yaml v2 gives the plain scalar `text` (see the module docstring)."""
    hint = _HINT.get(text[:1]) if text else "M"
    if hint is None:
        return STR, text
    word = _WORDS.get(text)
    if word is not None:
        return word
    if hint == ".":
        if _DOT_FLOAT.match(text):
            return FLOAT, float(text)
    elif hint != "M":
        if hint == "D" and _TIMESTAMP.match(text):
            return TIMESTAMP, text
        plain = text.replace("_", "")
        found = _GO_INT.match(plain)
        number = _go_int(found) if found else None
        if number is not None and (-(2**63) <= number < 2**64 and (number < 2**63 or not found[1])):  # type: ignore[index]
            return INT, number
        if _GO_FLOAT.match(plain):
            value = float(plain)
            if math.isfinite(value):
                return FLOAT, value
        if number is not None and not found[1] and number >= 2**64:  # type: ignore[index]
            return INT, number  # go-yaml's big.Int, for what ParseUint finds out of range
    return STR, text


_MAX_DIGITS = sys.get_int_max_str_digits() or 1 << 62
"""The longest digit string Python converts to an int (0 means no limit)."""


def _go_int(found: re.Match[str]) -> int | None:
    """The integer Go reads; None past what Python converts (`sys.get_int_max_str_digits`, 4,300
    digits): go-yaml's big.Int has no such limit, but no manifest means one, and text is what
    the caller then gets (a schema asking for an integer refuses it) rather than a crash."""
    sign, digits = found[1], found[2]
    if len(digits) > _MAX_DIGITS:
        return None
    octal = len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()  # Go's base 0: 017 is octal
    value = int(digits, 8) if octal else int(digits, 0)
    return -value if sign == "-" else value


class BoundsError(yaml.MarkedYAMLError):
    """A document refused before it was built: too deep, too large once expanded, or cyclic."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _GoYAML:
    """What both loaders share: go-yaml's resolver and constructors, and scalar constructor
    errors as YAML errors with their position."""

    def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return resolve(value)[0] if implicit[0] else STR
        return SEQ if kind is yaml.SequenceNode else MAP

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, OverflowError, TypeError) as exc:
            problem = (
                str(exc)
                if isinstance(exc, _Mismatch)
                else f"invalid {node.tag.rsplit(':', 1)[-1]} value {_short(node)}: {exc}"
            )
            raise yaml.constructor.ConstructorError(problem=problem, problem_mark=node.start_mark) from exc


class _Mismatch(ValueError):
    """An explicit tag that does not fit its value, in go-yaml's words."""


class _PyLoader(_GoYAML, yaml.SafeLoader):
    """PyYAML's composer (nodes keep full marks), letting a later anchor replace an earlier one."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
            if anchor is not None:
                self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


_CLoader: type[yaml.SafeLoader] | None = None
if hasattr(yaml, "CSafeLoader"):

    class _LibyamlLoader(_GoYAML, yaml.CSafeLoader):
        """libyaml's parser and composer, with go-yaml's resolver and constructors."""

    _CLoader = cast("type[yaml.SafeLoader]", _LibyamlLoader)  # the stubs make CSafeLoader no SafeLoader
_LOADERS = tuple(loader for loader in (_CLoader, _PyLoader) if loader is not None)


def _scalar_value(wanted: str, text: str) -> Any:
    """The value of a scalar `text` explicitly tagged `wanted` (one of `_SCALAR_TAGS`), as go-yaml
    decodes it; `_Mismatch` when the tag does not fit."""
    tag, value = resolve(text)
    if tag == wanted:
        return text if tag == TIMESTAMP else value
    if wanted == FLOAT and tag == INT:
        return float(value)
    short = repr(text[:40] + "…") if len(text) > 40 else text
    raise _Mismatch(f"cannot decode !!{tag[len(_TAG) :]} `{short}` as a !!{wanted[len(_TAG) :]}")


_SCALAR_TAGS = frozenset((INT, FLOAT, BOOL, NULL, TIMESTAMP))


def _constructor(wanted: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        return _scalar_value(wanted, loader.construct_scalar(node))  # type: ignore[arg-type]

    return construct


for _cls in _LOADERS:
    for _tag in _SCALAR_TAGS:
        _cls.add_constructor(_tag, _constructor(_tag))


def _short(node: yaml.Node) -> str:
    value = node.value if isinstance(node, yaml.ScalarNode) else "…"
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _parser() -> type[yaml.SafeLoader]:
    """The loader whose parser reads the text: libyaml's, or PyYAML's without it."""
    return _CLoader if WITH_LIBYAML and _CLoader is not None else yaml.SafeLoader


def check(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Raise `BoundsError` (or PyYAML's error for a syntax error) unless every document in `text`
    stays within the bounds once its aliases are expanded."""
    _scan(text, max_depth, max_nodes)


def _scan(text: str | bytes, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> bool:
    """`check`; True when some document defines an anchor twice (libyaml's composer refuses it)."""
    # Per open collection: [nodes so far, height of its deepest child, anchor or None, its id].
    stack: list[list[Any]] = []
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height), for closed anchors
    open_anchors: dict[str, int] = {}  # anchor -> id of the open collection it names now
    defined: set[str] = set()
    redefined = False
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

    def define(anchor: str | None) -> None:
        nonlocal redefined
        if anchor is not None:
            redefined = redefined or anchor in defined
            defined.add(anchor)
            open_anchors.pop(anchor, None)  # the name now means this node, not an enclosing one

    for index, event in enumerate(yaml.parse(text, Loader=_parser())):
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()
            defined.clear()
        elif isinstance(event, yaml.ScalarEvent):
            define(event.anchor)
            if event.anchor is not None:
                sizes[event.anchor] = (1, 1)
            add(1, 1, event.start_mark)
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(stack) + 1 > max_depth:
                raise BoundsError(f"the document nests deeper than {max_depth} levels", event.start_mark)
            define(event.anchor)
            if event.anchor is not None:
                open_anchors[event.anchor] = index
            stack.append([0, 0, event.anchor, index])
        elif isinstance(event, yaml.CollectionEndEvent):
            nodes, height, anchor, opened = stack.pop()
            if anchor is not None and open_anchors.get(anchor) == opened:
                del open_anchors[anchor]
                sizes[anchor] = (nodes + 1, height + 1)
            add(nodes + 1, height + 1, event.start_mark)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise BoundsError(
                    f"alias *{event.anchor} refers to its own anchor (a cycle)", event.start_mark
                )
            nodes, height = sizes.get(event.anchor or "", (1, 1))  # an unknown anchor: the composer says so
            add(nodes, height, event.start_mark)
    return redefined


def load_all(text: str | bytes) -> list[Any]:
    """Every document of `text`, within the bounds (`check`); errors are `yaml.YAMLError`s."""
    built = _Building(MAX_DEPTH, MAX_NODES).run(text, single=False)
    if built is not None:
        return built
    return list(yaml.load_all(text, Loader=_composer(_scan(text))))


def load(text: str | bytes) -> Any:
    """The single document of `text` (None when empty), within the bounds."""
    built = _Building(MAX_DEPTH, MAX_NODES).run(text, single=True)
    if built is not None:
        return built[0] if built else None
    return yaml.load(text, Loader=_composer(_scan(text)))


def _composer(redefines: bool) -> type[yaml.SafeLoader]:
    """libyaml's composer, or PyYAML's without it or for a text that redefines an anchor (which
    libyaml's refuses)."""
    return _CLoader if WITH_LIBYAML and _CLoader is not None and not redefines else _PyLoader


def compose(text: str) -> yaml.Node | None:
    """The node tree of the single document of `text`, within the bounds, as PyYAML's composer
    makes it (its marks hold the text); scalars carry the tags go-yaml resolves."""
    nodes = _composed(text, single=True)
    return nodes[0] if nodes else None


def compose_all(text: str) -> list[yaml.Node]:
    """The node trees of every document of `text`, as `compose` makes them."""
    return _composed(text, single=False)


def _composed(text: str, single: bool) -> list[yaml.Node]:
    redefines = _scan(text)
    libyaml = _composer(redefines)
    if libyaml is _CLoader and not text.startswith("\ufeff"):  # libyaml's marks skip a BOM
        try:
            loader = libyaml(text)
            try:
                found: list[yaml.Node | None] = [loader.get_single_node()] if single else list(_nodes(loader))
            finally:
                loader.dispose()
            nodes = [node for node in found if node is not None]
            if _as_pyyaml(nodes, text):
                return nodes
        except yaml.YAMLError:
            pass  # PyYAML says it in its own words, below
    if single:
        node = yaml.compose(text, Loader=_PyLoader)
        return [] if node is None else [node]
    return list(yaml.compose_all(text, Loader=_PyLoader))


def _nodes(loader: yaml.SafeLoader) -> Iterator[yaml.Node]:
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node


def _as_pyyaml(roots: list[yaml.Node], text: str) -> bool:
    """Make libyaml's nodes what PyYAML's composer makes of `text`: a plain scalar's style None
    (libyaml: ''), an indentless block sequence's flow style None (libyaml: False, as for any
    block collection), marks of PyYAML's class that hold the text (shown in error snippets).
    False when a node cannot be told about (a sequence whose first entry is not found)."""
    buffer = text + "\0"
    mark = yaml.error.Mark
    pending: list[yaml.Node] = list(roots)
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue  # an alias: the node is done already
        seen.add(id(node))
        start, end = node.start_mark, node.end_mark
        node.start_mark = mark(start.name, start.index, start.line, start.column, buffer, start.index)
        node.end_mark = mark(end.name, end.index, end.line, end.column, buffer, end.index)
        if isinstance(node, yaml.ScalarNode):
            if node.style == "":
                node.style = None
            continue
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
            continue
        assert isinstance(node, yaml.MappingNode)
        indent = None
        for pair in node.value:
            for item in pair:
                if (
                    isinstance(item, yaml.SequenceNode)
                    and item.flow_style is False
                    and node.flow_style is False
                ):
                    # PyYAML's indentless sequence: its entries at the mapping's own indentation
                    indent = _first_token(text, node.start_mark.index)[1] if indent is None else indent
                    char, column = _first_token(text, item.start_mark.index)
                    if char != "-":
                        return False
                    if column == indent:
                        item.flow_style = None
                pending.append(item)
    return True


_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


def _first_token(text: str, index: int) -> tuple[str, int]:
    """The first character from `index` that is not a node property (an anchor or a tag), a
    space, a line break or a comment, and its column."""
    at, size = index, len(text)
    while at < size:
        char = text[at]
        if char in "&!":
            while at < size and text[at] not in " \t\n\r\x85\u2028\u2029":
                at += 1
        elif char in " \t\ufeff" or char in _BREAKS:
            at += 1
        elif char == "#":
            while at < size and text[at] not in _BREAKS:
                at += 1
        else:
            return char, at - max(text.rfind(b, 0, at) for b in _BREAKS) - 1
    return "", -1


def construct_scalar(node: yaml.ScalarNode) -> Any:
    """The value of one scalar node as go-yaml reads it; a bad value (`!!int abc`, `!!bool 2`)
    is a `ConstructorError` with the node's mark."""
    if node.tag == STR:
        return node.value
    if node.tag in _SCALAR_TAGS:
        try:
            return _scalar_value(node.tag, node.value)
        except _Mismatch as exc:
            raise yaml.constructor.ConstructorError(problem=str(exc), problem_mark=node.start_mark) from exc
    return _PyLoader("").construct_object(node, deep=True)


class _GiveUp(Exception):
    """What `_Building` does not take: the composer and constructor read the text instead."""


class _Building:
    """Values built straight from the parser's events, for what manifests hold (see the module
    docstring); `run` gives None for anything else. Counts the bounds as `_scan` does."""

    def __init__(self, max_depth: int, max_nodes: int) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes

    def run(self, text: str | bytes, *, single: bool) -> list[Any] | None:
        try:
            return self._build(text, single)
        except (_GiveUp, yaml.YAMLError):
            return None

    def _build(self, text: str | bytes, single: bool) -> list[Any]:
        scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
        seq_start, map_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
        ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
        documents: list[Any] = []
        # Per open collection: [the list or dict, its key while its value is awaited (or _NO_KEY),
        # nodes so far, height of its deepest child, its anchor]; at the bottom, the document.
        stack: list[list[Any]] = []
        anchors: dict[str, tuple[Any, int, int] | None] = {}  # value, nodes, height; None while open
        total, limit, deepest = 0, self.max_nodes, self.max_depth
        events: Iterator[Any] = yaml.parse(text, Loader=_parser())
        for event in events:
            kind = type(event)
            if kind is scalar:
                tag, raw = event.tag, event.value
                if tag is None or tag == "!":
                    if event.implicit[0]:
                        tag, value = resolve(raw)
                        if tag == MERGE:
                            raise _GiveUp
                    else:
                        value = raw
                elif tag == STR:
                    value = raw
                elif tag in _SCALAR_TAGS:
                    try:
                        value = _scalar_value(tag, raw)
                    except _Mismatch:
                        raise _GiveUp from None
                else:
                    raise _GiveUp
                if event.anchor is not None:
                    if event.anchor in anchors:
                        raise _GiveUp  # redefined: libyaml's composer refuses it
                    anchors[event.anchor] = (value, 1, 1)
                nodes, height = 1, 1
            elif kind is map_start or kind is seq_start:
                if event.tag not in (None, "!", MAP if kind is map_start else SEQ) or len(stack) > deepest:
                    raise _GiveUp
                container: Any = {} if kind is map_start else []
                if event.anchor is not None:
                    if event.anchor in anchors:
                        raise _GiveUp
                    anchors[event.anchor] = None
                stack.append([container, _NO_KEY, 0, 0, event.anchor])
                continue
            elif kind in ends:
                done = stack.pop()
                if done[1] is not _NO_KEY:
                    raise _GiveUp
                value, nodes, height = done[0], done[2] + 1, done[3] + 1
                if done[4] is not None:
                    anchors[done[4]] = (value, nodes, height)
            elif kind is alias:
                known = anchors.get(event.anchor or "")
                if known is None:
                    raise _GiveUp  # undefined, or inside its own anchor: the composer or scan says so
                value, nodes, height = known
            elif kind is yaml.DocumentStartEvent:
                if single and documents:
                    raise _GiveUp  # the composer says "expected a single document"
                stack = [[[], _NO_KEY, 0, 0, None]]
                anchors = {}
                continue
            elif kind is yaml.DocumentEndEvent:
                documents.append(stack[0][0][0])
                continue
            else:
                continue
            total += nodes
            if total > limit or len(stack) - 1 + height > deepest:
                raise _GiveUp
            top = stack[-1]
            top[2] += nodes
            if height > top[3]:
                top[3] = height
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[1] is _NO_KEY:
                if kind is not scalar and not (kind is alias and not isinstance(value, list | dict)):
                    raise _GiveUp  # a collection as a key
                top[1] = value
            else:
                container[top[1]] = value
                top[1] = _NO_KEY
        return documents


_NO_KEY: Any = object()


class _GoResolving:
    """A dumper mixin asking `resolve` whether a string may be written plain."""

    def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = resolve(value)[0]
            return FLOAT if tag == STR and _BASE60.match(value) else tag
        return super().resolve(kind, value, implicit)  # type: ignore[misc,no-any-return]


class _Dumper(_GoResolving, yaml.SafeDumper):
    """PyYAML's safe dumper, its emitter in Python."""


_C_BASE: type[yaml.SafeDumper] | None = getattr(yaml, "CSafeDumper", None)
_CDumper: type[yaml.SafeDumper] | None = (
    None if _C_BASE is None else type("_CDumper", (_GoResolving, _C_BASE), {"__doc__": "libyaml's emitter."})
)


_LINE_BREAKS = frozenset("\r\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """A string, double-quoted when it holds a line break other than `\n`: PyYAML would write it
    single-quoted or plain, where a reader folds it into a space."""
    text = str(value)
    if _LINE_BREAKS.isdisjoint(text):
        return dumper.represent_str(text)
    return dumper.represent_scalar(STR, text, style='"')


for _dumper in (_Dumper, _CDumper):
    if _dumper is not None:
        _dumper.add_representer(str, _represent_str)
        _dumper.add_multi_representer(str, _represent_str)
        _dumper.add_multi_representer(dict, lambda d, v: d.represent_dict(v))
        _dumper.add_multi_representer(list, lambda d, v: d.represent_list(v))

_PLAIN_TEXT = re.compile(r"[\x20-\x7e\n]*\Z")


def _same_in_c(value: Any) -> bool:
    """Whether libyaml's emitter writes `value` byte for byte as PyYAML's Python one does: every
    string printable ASCII or a line break, every key non-empty and under 100 characters, every
    integer within 64 bits (the two differ on escaping other characters, on when a key is too
    long to be written without `? `, on quoting a tagged scalar, and on the `...` after a
    document that is one plain scalar)."""
    if not isinstance(value, dict | list):
        return False
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not _PLAIN_TEXT.match(item):
                return False
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or not 0 < len(key) < 100:
                    return False
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int) and not -(2**63) <= item < 2**64:
            return False  # written with an explicit tag, which the two quote differently
    return True


def dump(value: Any) -> str:
    """`value` (strings, numbers, booleans, null, lists and mappings) as one YAML document that
    go-yaml reads back with every value's type: strings quoted when go-yaml v2's encoder would
    quote them, keys in their order, no line folding.

    IMPLEMENTATION DETAIL: Problem: PyYAML's emitter in Python took 5.6 s of the shipped
    scenarios' 44 (a bootstrap writes the whole of gotk-components.yaml). Solution: libyaml's
    emitter (which PyYAML's was ported from) writes what the two write alike (`_same_in_c`,
    checked by a differential test); anything else goes through the Python one."""
    dumper = _CDumper if _CDumper is not None and _same_in_c(value) else _Dumper
    return yaml.dump(value, Dumper=dumper, sort_keys=False, allow_unicode=True, width=1 << 30)


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
