"""YAML loading that remembers where every value came from (file, line, column).

Scenario errors must name the file, line and column of the offending field. PyYAML's composer
knows the positions; this loader keeps them on the containers it builds: every mapping becomes a
`LDict` that knows its own position and the position of each key's value, every sequence an
`LList` that knows each item's position.

Scenario files are untrusted text, so parsing goes through `model.yamlsafe`: a document nested
deeper than `yamlsafe.MAX_DEPTH`, expanding (aliases counted in full) to more than
`yamlsafe.MAX_NODES` values, or with an alias inside its own anchor is refused before any node is
built. Every other problem (a syntax error, `!!int abc`, an unknown or Python tag, a lone surrogate
in a string, a binary value) is a `LoadError` with file:line:column; nothing else escapes.

Values are what Kubernetes' YAML-to-JSON conversion would make of them (sigs.k8s.io/yaml, which
kubectl uses, decodes with go-yaml into untyped values, where a timestamp stays the string it was
written as): strings, integers, finite floats, booleans, null, lists and mappings. Plain scalars
resolve as `model.yamlsafe` resolves them for every reader (go-yaml v2's rules: `1:20` and `=`
are strings, `y` and `on` booleans); a timestamp (`2025-01-01T00:00:00Z` unquoted) is kept as
its text, and an anchor may be defined again (later aliases mean the later node).
Unlike `yamlsafe.load`, a key given twice in one mapping is refused (a scenario is ours to
define, and a silently dropped step is worse than an error).
Where we knowingly differ: merge keys (`<<`), `!!set`, `!!omap`, `!!binary`, `.nan` and `.inf`
are refused rather than interpreted (a JSON object cannot hold a NaN or bytes).

Callers: `scenario.schema` and `scenario.loader`. Nothing else in gitops_sim needs positions.
This module must never construct a Python object from a tag (no `yaml.load` with a full loader).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops_sim.model import yamlsafe


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class LDict(dict[str, Any]):
    loc: Location
    value_locs: dict[str, Location]


class LList(list[Any]):
    loc: Location
    item_locs: list[Location]


class LoadError(Exception):
    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message


MAX_FILE_BYTES = 16 << 20
"""A scenario file (or a file it includes) larger than this is refused unread."""


def read_bytes(path: Path, loc: Location | None = None, where: str = "") -> bytes:
    """The bytes of `path` (a repository file under `dir:` is carried as it is). `LoadError`
    when it cannot be read or is larger than `MAX_FILE_BYTES`: for a scenario file (no `loc`),
    at its first line; for a file it includes, at `loc`, the field `where` that names it."""
    prefix = f"{where}: {path}" if loc is not None else "the file"
    here = loc or Location(str(path), 1, 1)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LoadError(here, f"{prefix} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise LoadError(here, f"{prefix} is larger than {MAX_FILE_BYTES >> 20} MiB")
    return data


def read_text(path: Path, loc: Location | None = None, where: str = "") -> str:
    """The UTF-8 text of `path`. `LoadError` as `read_bytes`, or when it is not UTF-8: for a
    scenario file (no `loc`), at the first bad byte; for a file it includes, at `loc`."""
    prefix = f"{where}: {path}" if loc is not None else "the file"
    here = loc or Location(str(path), 1, 1)
    data = read_bytes(path, loc, where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if loc is None:
            before = data[: exc.start]
            line = before.count(b"\n") + 1
            column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
            here = Location(str(path), line, column)
        raise LoadError(here, f"{prefix} is not UTF-8 text (byte 0x{data[exc.start]:02x})") from exc


_SURROGATE = re.compile("[\ud800-\udfff]")
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _loc(file: str, node: Any, line_offset: int = 0) -> Location:
    """Where a node (or a mark: PyYAML's, or libyaml's, another class) starts."""
    mark = getattr(node, "start_mark", node)
    return Location(file, mark.line + 1 + line_offset, mark.column + 1)


def _yaml_error(exc: yaml.YAMLError, file: str, line_offset: int, what: str, text: str = "") -> LoadError:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        before = text[: exc.position]
        loc = Location(file, before.count("\n") + 1 + line_offset, len(before) - before.rfind("\n"))
        return LoadError(loc, f"{what}: character {exc.character!r} is not allowed in YAML text")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        loc = _loc(file, mark, line_offset) if mark else Location(file, 1 + line_offset, 1)
        return LoadError(loc, f"{what}: {exc.problem or exc.context}")
    return LoadError(Location(file, 1 + line_offset, 1), f"{what}: {exc}")


def load(text: str, file: str) -> Any:
    """Parse one YAML document into plain values with locations on its containers."""
    try:
        node = yamlsafe.compose(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, 0, "invalid YAML", text) from exc
    if node is None:
        return None
    return _build(node, file, 0)


def load_all(text: str, file: str, line_offset: int = 0, what: str = "invalid YAML") -> list[Any]:
    """Every non-empty document of `text` (a manifest stream), located as `load` does; lines
    are counted from `line_offset` (the text of a block scalar starts below its key)."""
    try:
        nodes = yamlsafe.compose_all(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, line_offset, what, text) from exc
    built = [_build(node, file, line_offset) for node in nodes if node is not None]
    return [doc for doc in built if doc is not None]


def _build(node: yaml.Node, file: str, line_offset: int) -> Any:
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP_TAG:
            raise LoadError(
                _loc(file, node, line_offset), f"invalid YAML: unsupported tag {node.tag!r} on a mapping"
            )
        out = LDict()
        out.loc = _loc(file, node, line_offset)
        out.value_locs = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise LoadError(_loc(file, key_node, line_offset), "mapping keys must be scalars")
            key = _scalar(key_node, file, line_offset)
            if key is None or not isinstance(key, str | int | float | bool):
                raise LoadError(_loc(file, key_node, line_offset), "mapping keys must be strings or numbers")
            skey = str(key)
            if skey in out:
                raise LoadError(_loc(file, key_node, line_offset), f"duplicate key {skey!r}")
            out[skey] = _build(value_node, file, line_offset)
            out.value_locs[skey] = _loc(file, value_node, line_offset)
        return out
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ_TAG:
            raise LoadError(
                _loc(file, node, line_offset), f"invalid YAML: unsupported tag {node.tag!r} on a list"
            )
        items = LList()
        items.loc = _loc(file, node, line_offset)
        items.item_locs = []
        for item in node.value:
            items.append(_build(item, file, line_offset))
            items.item_locs.append(_loc(file, item, line_offset))
        return items
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, file, line_offset)


def _scalar(node: yaml.ScalarNode, file: str, line_offset: int) -> Any:
    loc = _loc(file, node, line_offset)
    if node.tag == _TIMESTAMP_TAG:
        value: Any = node.value  # as sigs.k8s.io/yaml leaves it: the text
    else:
        try:
            value = yamlsafe.construct_scalar(node)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, file, line_offset, "invalid YAML") from exc
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise LoadError(loc, "invalid YAML: a string may not contain a lone surrogate (such as \\ud800)")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise LoadError(
            loc, f"invalid YAML: {node.value!r} is not a finite number (JSON has no NaN or Infinity)"
        )
    if value is None or isinstance(value, bool | int | float):
        return value
    raise LoadError(
        loc,
        f"invalid YAML: unsupported value of tag {node.tag!r} (expected a string, number, boolean or null)",
    )


def plain(value: Any) -> Any:
    """Strip locations: plain dicts and lists, for objects handed to the cluster."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
