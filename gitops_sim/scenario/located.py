"""YAML loading that remembers where every value came from (file, line, column).

Scenario errors must name the file, line and column of the offending field. PyYAML's composer
knows the positions; this loader keeps them on the containers it builds: every mapping becomes a
`LDict` that knows its own position and the position of each key's value, every sequence an
`LList` that knows each item's position.

Callers: `scenario.schema`. Nothing else in gitops_sim needs positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


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


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def load(text: str, file: str) -> Any:
    """Parse one YAML document into plain values with locations on its containers."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        raise LoadError(loc, f"invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise LoadError(Location(file, 1, 1), f"invalid YAML: {exc}") from exc
    if node is None:
        return None
    return _build(node, file, yaml.SafeLoader(""))


def _build(node: yaml.Node, file: str, ctor: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.loc = _loc(file, node)
        out.value_locs = {}
        for key_node, value_node in node.value:
            key = _build(key_node, file, ctor)
            if not isinstance(key, str | int | float | bool) or isinstance(key, LDict | LList):
                raise LoadError(_loc(file, key_node), "mapping keys must be scalars")
            skey = str(key)
            if skey in out:
                raise LoadError(_loc(file, key_node), f"duplicate key {skey!r}")
            out[skey] = _build(value_node, file, ctor)
            out.value_locs[skey] = _loc(file, value_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LList()
        items.loc = _loc(file, node)
        items.item_locs = []
        for item in node.value:
            items.append(_build(item, file, ctor))
            items.item_locs.append(_loc(file, item))
        return items
    assert isinstance(node, yaml.ScalarNode)
    return ctor.construct_object(node, deep=True)


def plain(value: Any) -> Any:
    """Strip locations: plain dicts and lists, for objects handed to the cluster."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
