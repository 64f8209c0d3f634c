"""The JSON Schema of scenario files (`gitops-sim schema`) says what the loader accepts: the shipped
scenarios validate, a mistyped step key does not, every closed mapping in it names exactly the keys
its parser takes, and the repository's copy is what the generator prints.

How the keys are checked without a list in this file: the schema is walked from its root, and for
every mapping it closes (`additionalProperties: false`) a whole scenario is made around that
mapping at its smallest (its required keys, from the schema's own examples), which the loader must
accept, and again with an unknown key added, which the loader must refuse. When it refuses it as
`fields.mapping` does ("unknown field; expected one of: …"), the keys it names at that place are
the keys the parser takes there, and the schema's mappings reached at that place must name exactly
those, all together (an expectation's forms are several mappings of one parser)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gitops_sim import cli
from gitops_sim.scenario import language_schema, loader, located, schema
from gitops_sim.scenario.located import LoadError, Location
from gitops_sim.scenario.steps import faults, fields, registry

ROOT = Path(__file__).parents[2]
SCENARIOS = ROOT / "scenarios"
SHIPPED = ROOT / language_schema.SHIPPED_PATH
UNKNOWN = "zz-not-a-field"
_UNKNOWN_FIELD = re.compile(
    rf"^(?P<site>.+)\.{re.escape(UNKNOWN)}: unknown field;(?: did you mean '.*?'\?)? "
    r"expected one of: (?P<keys>.*)$"
)
SYNC = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sync, namespace: default}\n"
"""What `{file: flux/sync.yaml}` (the schema's example of a file) reads in the probes' folder."""

Schema = dict[str, Any]


def _validator(document: Schema) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(document)


def _errors(document: Schema, instance: Any) -> list[str]:
    return [error.message for error in _validator(document).iter_errors(instance)]


# -- walking the schema ----------------------------------------------------------------------


def _resolve(root: Schema, node: Schema) -> Schema:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def _types(node: Schema) -> list[str]:
    kind = node.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def _branches(root: Schema, node: Schema) -> list[Schema]:
    """The alternatives a value may take here (an `anyOf` without a type lists alternatives; with
    one, as `drift`'s, it constrains the object)."""
    node = _resolve(root, node)
    if "anyOf" in node and "type" not in node:
        return [branch for sub in node["anyOf"] for branch in _branches(root, sub)]
    return [node]


def _keys(root: Schema, node: Schema, *, fill: bool) -> list[str]:
    """The keys of an object at its smallest: required ones, those of its first constraint, and
    (`fill`) enough others for `minProperties`."""
    keys = list(node.get("required", []))
    for constraint in node.get("anyOf", [])[:1]:
        keys += [key for key in constraint.get("required", []) if key not in keys]
    for key in node.get("properties", {}) if fill else ():
        if len(keys) >= node.get("minProperties", 0):
            break
        if key not in keys:
            keys.append(key)
    return keys


def _smallest(root: Schema, node: Schema) -> Any:
    """The smallest value the schema takes here, from its examples where it gives them."""
    node = _resolve(root, node)
    if "examples" in node:
        return node["examples"][0]
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    if "anyOf" in node and "type" not in node:
        return _smallest(root, node["anyOf"][0])
    kinds = _types(node)
    if "object" in kinds:
        properties = node.get("properties", {})
        return {key: _smallest(root, properties[key]) for key in _keys(root, node, fill=True)}
    if "array" in kinds:
        return [_smallest(root, node["items"])] * node.get("minItems", 0)
    if "integer" in kinds or "number" in kinds:
        return node.get("minimum", 0)
    if "boolean" in kinds:
        return False
    return "x"


@dataclass(frozen=True)
class Probe:
    path: str
    """Where in the schema (`scenario.steps[].commit`)."""
    base: Any
    """A whole scenario with the closed mapping at its smallest."""
    probe: Any
    """The same, with an unknown key in that mapping."""
    keys: frozenset[str]
    """The mapping's keys, as the schema names them."""


Build = Callable[[Any], Any]


def _under(build: Build, parent: dict[str, Any], key: str) -> Build:
    """Build the scenario with a value at `key` of a mapping holding `parent` besides."""
    return lambda value: build({**parent, key: value})


def _first(build: Build, rest: list[Any]) -> Build:
    """Build the scenario with a value as the first item of a list that goes on with `rest`."""
    return lambda value: build([value, *rest])


def _walk(root: Schema, node: Schema, build: Build, path: str) -> Iterator[Probe]:
    for branch in _branches(root, node):
        kinds = _types(branch)
        if "object" in kinds:
            smallest = _smallest(root, branch)
            properties = branch.get("properties", {})
            if branch.get("additionalProperties") is False and properties:
                yield Probe(path, build(smallest), build({**smallest, UNKNOWN: 1}), frozenset(properties))
            parent = {key: _smallest(root, properties[key]) for key in _keys(root, branch, fill=False)}
            for key, sub in properties.items():
                yield from _walk(root, sub, _under(build, parent, key), f"{path}.{key}")
            free = branch.get("additionalProperties")
            if isinstance(free, dict):
                yield from _walk(root, free, _under(build, {}, "a"), f"{path}.<name>")
        elif "array" in kinds:
            items = branch["items"]
            rest = [_smallest(root, items)] * (branch.get("minItems", 1) - 1)
            yield from _walk(root, items, _first(build, rest), f"{path}[]")


def probes(document: Schema) -> list[Probe]:
    return list(_walk(document, document, lambda v: v, "scenario"))


def _load(doc: Any, folder: Path) -> schema.Scenario:
    """The scenario `doc` describes, loaded from a file in `folder` (JSON is YAML)."""
    path = folder / "probe.yaml"
    return schema.parse(located.load(json.dumps(doc), str(path)), path)


def _refusal(doc: Any, folder: Path) -> str:
    with pytest.raises(LoadError) as caught:
        _load(doc, folder)
    return caught.value.message


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux" / "sync.yaml").write_text(SYNC)
    return tmp_path


def key_mismatches(document: Schema, step: str | None, folder: Path) -> list[str]:
    """Where the keys a parser takes differ from those of the schema's mappings at that place:
    under `steps[].<step>`, or (None) outside the steps."""
    prefix = "scenario.steps[]."
    mine = [
        p
        for p in probes(document)
        if (p.path == f"{prefix}{step}" or p.path.startswith((f"{prefix}{step}.", f"{prefix}{step}[")))
        if step is not None or not p.path.startswith(prefix)
    ]
    groups: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for probe in mine:
        found = _UNKNOWN_FIELD.match(_refusal(probe.probe, folder))
        if found:
            site = (found["site"], tuple(sorted(found["keys"].split(", "))))
            groups.setdefault(site, set()).update(probe.keys)
    if step is not None:  # the step's value given as a mapping of an unknown key only
        with pytest.raises(LoadError) as caught:
            _load({"name": "x", "steps": [{step: {UNKNOWN: 1}}]}, folder)
        found = _UNKNOWN_FIELD.match(caught.value.message)
        if found:
            groups.setdefault((found["site"], tuple(sorted(found["keys"].split(", ")))), set())
    return [
        f"{site}: the parser takes {sorted(keys)}, the schema names {sorted(named)}"
        for (site, keys), named in sorted(groups.items())
        if set(keys) != named
    ]


SCHEMA = language_schema.generate()
PROBES = probes(SCHEMA)


# -- the shipped copy and the CLI ------------------------------------------------------------


def test_the_shipped_schema_is_what_the_generator_prints() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == language_schema.render(), (
        f"{language_schema.SHIPPED_PATH} is stale: run `gitops-sim schema --output "
        f"{language_schema.SHIPPED_PATH}` and commit it"
    )


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_prints_the_schema_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == 0
    assert capsys.readouterr().out == language_schema.render()


def test_schema_output_writes_the_schema_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "scenario.schema.json"
    assert cli.main(["schema", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == language_schema.render()
    assert capsys.readouterr().out == ""


def test_schema_output_to_a_missing_folder_is_an_error_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "scenario.schema.json"
    assert cli.main(["schema", "--output", str(out)]) == 2
    assert f"--output {out}: cannot be written" in capsys.readouterr().out


# -- what validates ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", loader.discover([SCENARIOS]), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_a_shipped_scenario_validates_against_the_schema(path: Path) -> None:
    data = located.plain(located.load(path.read_text(encoding="utf-8"), str(path)))
    assert _errors(SCHEMA, data) == []


def test_a_misspelled_step_key_fails_validation() -> None:
    data = {"name": "x", "steps": [{"advance": "1m"}, {"advanse": "1m"}]}
    assert _errors(SCHEMA, data) == ["Additional properties are not allowed ('advanse' was unexpected)"]


def test_a_scenario_with_an_editor_modeline_and_a_schema_key_loads(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        "# yaml-language-server: $schema=../../schemas/scenario.schema.json\n"
        "$schema: ../../schemas/scenario.schema.json\n"
        "apiVersion: gitops-sim/v1alpha1\nkind: Scenario\nname: with a modeline\n"
        "steps:\n  - advance: 1m\n"
    )
    assert loader.load(path).name == "with a modeline"
    assert loader.is_scenario(path)


def test_the_schema_accepts_a_schema_key() -> None:
    assert _errors(SCHEMA, {"$schema": "./scenario.schema.json", "name": "x"}) == []


# -- the schema is made from the registries --------------------------------------------------


def test_every_built_in_step_declares_the_schema_of_its_value() -> None:
    assert [key for key, declaration in registry.declared().items() if not declaration.schema()] == []


def test_the_steps_are_the_declared_steps_in_their_order() -> None:
    item = SCHEMA["properties"]["steps"]["items"]
    assert list(item["properties"]) == list(registry.declared())
    assert item["maxProperties"] == 1 and item["additionalProperties"] is False


def test_each_fault_target_takes_its_own_fault_types() -> None:
    branches = _branches(SCHEMA, SCHEMA["properties"]["steps"]["items"]["properties"]["fault"])
    assert {
        next(key for key in branch["properties"] if key != "type"): branch["properties"]["type"]["enum"]
        for branch in branches
    } == {target: list(types) for target, types in faults.FAULT_TYPES.items()}


def parse_label(value: Any, loc: Location, where: str, ctx: fields.Context) -> registry.Action:
    fields.mapping(value, loc, where, ("object", "key", "value"), required=("object",))
    return registry.Action()


@pytest.fixture
def label_step() -> Iterator[None]:
    """A step `label` whose parser takes `value` and whose schema forgets it."""
    registry.declare(
        registry.Declaration(
            "label",
            parse_label,
            "label: {object, key, value}",
            value_schema={
                "type": "object",
                "properties": {"object": {"type": "string"}, "key": {"type": "string"}},
                "required": ["object"],
                "additionalProperties": False,
            },
        )
    )
    try:
        yield
    finally:
        registry.withdraw("label")


@pytest.mark.usefixtures("label_step")
def test_a_step_declared_later_is_in_the_schema_with_its_usage() -> None:
    step = language_schema.generate()["properties"]["steps"]["items"]["properties"]["label"]
    assert step["description"] == "label: {object, key, value}"
    assert step["required"] == ["object"]


@pytest.mark.usefixtures("label_step")
def test_the_key_check_finds_a_key_the_parser_takes_and_the_schema_does_not_name(folder: Path) -> None:
    assert key_mismatches(language_schema.generate(), "label", folder) == [
        "steps[0].label: the parser takes ['key', 'object', 'value'], the schema names ['key', 'object']"
    ]


def test_two_steps_defining_one_name_differently_are_refused() -> None:
    registry.declare(
        registry.Declaration(
            "label",
            parse_label,
            "label: {object, key, value}",
            value_schema={"$ref": "#/$defs/expect-one", "$defs": {"expect-one": {"type": "string"}}},
        )
    )
    try:
        with pytest.raises(ValueError, match="two step schemas define 'expect-one' differently"):
            language_schema.generate()
    finally:
        registry.withdraw("label")


# -- the schema and the parsers agree --------------------------------------------------------


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.path)
def test_a_closed_mapping_at_its_smallest_loads_and_with_an_unknown_key_does_not(
    probe: Probe, folder: Path
) -> None:
    assert _errors(SCHEMA, probe.base) == []
    _load(probe.base, folder)
    assert _errors(SCHEMA, probe.probe) != []
    _refusal(probe.probe, folder)


@pytest.mark.parametrize("step", [None, *registry.declared()], ids=lambda s: s or "top-level")
def test_the_schema_names_exactly_the_keys_each_parser_takes(step: str | None, folder: Path) -> None:
    assert key_mismatches(SCHEMA, step, folder) == []
