"""YAML as Kubernetes reads it (sigs.k8s.io/yaml over go-yaml v2), and a writer whose output
every such reader reads back with the same types. Every test runs with libyaml's parser and with
PyYAML's own (what runs where libyaml is missing): the rules are the same with either."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_sim.model import fluxinstall, yamlsafe

# Bounded by default, more when GITOPS_SIM_FUZZ_EXAMPLES asks (tests may read it).
EXAMPLES = int(os.environ.get("GITOPS_SIM_FUZZ_EXAMPLES", "50"))  # noqa: TID251


@pytest.fixture(autouse=True, scope="module", params=[True, False], ids=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Each test with libyaml's parser, then with PyYAML's (module-scoped, for hypothesis)."""
    if request.param and not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlsafe, "WITH_LIBYAML", request.param)
        yield request.param


def test_a_plain_equals_sign_is_the_string_equals() -> None:
    assert yamlsafe.load("matchType: =\n") == {"matchType": "="}


def test_a_sexagesimal_looking_value_stays_a_string() -> None:
    assert yamlsafe.load("window: 1:20\nangle: -2:30.5\n") == {"window": "1:20", "angle": "-2:30.5"}


def test_a_document_redefining_an_anchor_loads_with_the_later_definition() -> None:
    text = "a: &x 1\nb: *x\nc: &x two\nd: *x\n"
    assert yamlsafe.load(text) == {"a": 1, "b": 1, "c": "two", "d": "two"}


def test_a_stream_redefining_an_anchor_loads_every_document() -> None:
    text = "a: &x 1\nb: &x 2\nc: *x\n---\nd: &y [1]\ne: &y [2]\nf: *y\n"
    assert yamlsafe.load_all(text) == [{"a": 1, "b": 2, "c": 2}, {"d": [1], "e": [2], "f": [2]}]


def test_an_anchor_redefined_inside_its_own_collection_is_not_a_cycle() -> None:
    assert yamlsafe.load("a: &x [&x 1, *x]\n") == {"a": [1, 1]}


def test_a_redefined_anchor_composes_with_marks() -> None:
    node = yamlsafe.compose("a: &x 1\nb: &x 2\nc: *x\n")
    assert node is not None
    key, value = node.value[2]
    assert (key.value, value.value, value.start_mark.line) == ("c", "2", 1)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[pytest.param(t, True, id=t) for t in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE")],
        *[pytest.param(t, True, id=t) for t in ("on", "On", "ON")],
        *[pytest.param(t, False, id=t) for t in ("n", "N", "no", "No", "NO", "false", "False", "FALSE")],
        *[pytest.param(t, False, id=t) for t in ("off", "Off", "OFF")],
        *[pytest.param(t, None, id=t or "empty") for t in ("", "~", "null", "Null", "NULL")],
        *[pytest.param(t, t, id=t) for t in ("yEs", "oN", "nO", "tRUE", "nULL", "=", "y_", "'yes'")],
    ],
)
def test_booleans_and_nulls_are_the_ones_go_yaml_v2_resolves(text: str, value: Any) -> None:
    expected = "yes" if text == "'yes'" else value
    assert yamlsafe.load(f"v: {text}\n") == {"v": expected}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("017", 15, id="leading-zero-octal"),
        pytest.param("0o17", 15, id="0o-octal"),
        pytest.param("0x1F", 31, id="hex"),
        pytest.param("-0x1F", -31, id="negative-hex"),
        pytest.param("0b101", 5, id="binary"),
        pytest.param("1_000", 1000, id="underscores"),
        pytest.param("+12", 12, id="plus-sign"),
        pytest.param("18446744073709551615", 18446744073709551615, id="uint64"),
        pytest.param("09", 9.0, id="bad-octal-is-a-float"),
        pytest.param("1e3", 1000.0, id="exponent-without-dot"),
        pytest.param(".5", 0.5, id="leading-dot"),
        pytest.param("1.", 1.0, id="trailing-dot"),
        pytest.param("99999999999999999999", 1e20, id="beyond-uint64-is-a-float"),
        pytest.param("0x", "0x", id="bare-prefix"),
        pytest.param("1e400", "1e400", id="float-out-of-range"),
        pytest.param("1_0.5", 10.5, id="float-underscores"),
        pytest.param("._5", "._5", id="dot-underscore"),
        pytest.param("2024-01-01", "2024-01-01", id="date"),
        pytest.param("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z", id="timestamp"),
        pytest.param("2024-13-45", "2024-13-45", id="impossible-date"),
        pytest.param("12:30:45", "12:30:45", id="base-60-int"),
    ],
)
def test_numbers_and_timestamps_resolve_as_go_yaml_v2_resolves_them(text: str, value: Any) -> None:
    loaded = yamlsafe.load(f"v: {text}\n")["v"]
    assert (type(loaded), loaded) == (type(value), value)


def test_infinity_and_nan_are_floats_as_go_yaml_reads_them() -> None:
    loaded = yamlsafe.load("a: .inf\nb: -.Inf\nc: .NaN\n")
    assert loaded["a"] == math.inf and loaded["b"] == -math.inf and math.isnan(loaded["c"])


def test_an_explicit_tag_that_does_not_fit_its_value_is_an_error_with_its_position() -> None:
    with pytest.raises(yaml.constructor.ConstructorError) as caught:
        yamlsafe.load("a: 1\nb: !!int 1.5\n")
    assert caught.value.problem_mark is not None
    assert (caught.value.problem_mark.line, caught.value.problem_mark.column) == (1, 3)
    assert caught.value.problem == "cannot decode !!float `1.5` as a !!int"


def test_explicit_tags_convert_as_go_yaml_converts_them() -> None:
    assert yamlsafe.load("a: !!str 1\nb: !!float 2\nc: !!bool y\nd: !!str yes\n") == {
        "a": "1",
        "b": 2.0,
        "c": True,
        "d": "yes",
    }


def test_duplicate_keys_keep_the_last_value_as_sigs_k8s_io_yaml_does() -> None:
    assert yamlsafe.load("a: 1\na: 2\n") == {"a": 2}


def test_the_bounds_still_refuse_an_alias_bomb() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)
    )
    with pytest.raises(yamlsafe.BoundsError) as caught:
        yamlsafe.load(bomb)
    assert caught.value.problem == "the document expands to more than 1,000,000 values (aliases)"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("1:20", "v: '1:20'\n", id="base-60"),
        pytest.param("yes", "v: 'yes'\n", id="yes"),
        pytest.param("y", "v: 'y'\n", id="y"),
        pytest.param("0o17", "v: '0o17'\n", id="0o-octal"),
        pytest.param("1e3", "v: '1e3'\n", id="exponent"),
        pytest.param("2024-01-01", "v: '2024-01-01'\n", id="date"),
        pytest.param("", "v: ''\n", id="empty"),
        pytest.param("=", "v: =\n", id="equals"),
        pytest.param("plain text", "v: plain text\n", id="text"),
        pytest.param(80, "v: 80\n", id="int"),
        pytest.param(True, "v: true\n", id="bool"),
        pytest.param(None, "v: null\n", id="null"),
    ],
)
def test_dump_quotes_exactly_the_strings_go_yaml_would_read_as_another_type(value: Any, text: str) -> None:
    assert yamlsafe.dump({"v": value}) == text


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(["1:20", "yes", "y", "N", "=", "0o17", "0x1F", "1e3", ".5", "2024-01-01", "~", "<<"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(_VALUES)
def test_whatever_dump_writes_load_reads_back_with_the_same_types(value: Any) -> None:
    loaded = yamlsafe.load(yamlsafe.dump(value))
    assert loaded == value
    assert repr(loaded) == repr(value)  # 1 and 1.0, True and 1 are told apart


_ASCII_TEXT = st.text(alphabet=st.sampled_from(list(" \n-:#'\"|>0.1~\\{}[],&*!%@`?ab")), max_size=160)
_ASCII_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _ASCII_TEXT),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ASCII_TEXT, inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.skipif(yamlsafe._CDumper is None, reason="PyYAML was built without libyaml")
@settings(max_examples=EXAMPLES * 20, deadline=None)
@given(_ASCII_VALUES)
def test_libyaml_writes_what_the_python_emitter_writes_wherever_dump_lets_it(value: Any) -> None:
    if yamlsafe._same_in_c(value):
        python = yaml.dump(value, Dumper=yamlsafe._Dumper, sort_keys=False, allow_unicode=True, width=1 << 30)
        assert yamlsafe.dump(value) == python


@pytest.mark.skipif(yamlsafe._CDumper is None, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize(
    "value",
    [{"": 1}, {"a" * 123: 1}, {"k": "\U0001f600"}, None],
    ids=["empty key", "long key", "astral character", "a document of one scalar"],
)
def test_values_the_two_emitters_write_differently_go_through_the_python_one(value: Any) -> None:
    options: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "width": 1 << 30}
    python = yaml.dump(value, Dumper=yamlsafe._Dumper, **options)
    assert yaml.dump(value, Dumper=yamlsafe._CDumper, **options) != python
    assert not yamlsafe._same_in_c(value)
    assert yamlsafe.dump(value) == python


@pytest.mark.parametrize("text", ["\x85", "x\u2028y", "a\u2029b", "a\rb"], ids=["nel", "ls", "ps", "cr"])
def test_a_string_holding_a_line_break_other_than_newline_reads_back_unchanged(text: str) -> None:
    assert yamlsafe.load(yamlsafe.dump({text: text})) == {text: text}


# -- one result whichever way the text is read ----------------------------------------------------


def composed_then_constructed(text: str) -> list[Any]:
    """What the composer and constructor make of `text`, after the bounds pass (the only way
    before values were built straight from the parser's events)."""
    return list(yaml.load_all(text, Loader=yamlsafe._composer(yamlsafe._scan(text))))


def shape(value: Any, seen: dict[int, int] | None = None) -> Any:
    """`value` with every list and dict numbered at its first sight, and a repeat (an alias)
    shown as the number: equal shapes share the same objects in the same places."""
    seen = {} if seen is None else seen
    if isinstance(value, list | dict):
        if id(value) in seen:
            return ("alias", seen[id(value)])
        seen[id(value)] = len(seen)
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        return [(repr(k), shape(v, seen)) for k, v in items]
    return repr(value)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    _VALUES,
    st.sampled_from([False, None, True]),
    st.sampled_from([2, 4]),
    st.booleans(),
)
def test_values_built_from_the_events_are_what_the_constructor_builds(
    value: Any, flow: bool | None, indent: int, shared: bool
) -> None:
    if shared:  # the same objects twice: anchors and aliases
        value = {"first": value, "again": value, "list": [value, value]}
    text = yaml.dump(value, default_flow_style=flow, indent=indent, allow_unicode=True)
    assert shape(yamlsafe.load_all(text)) == shape(composed_then_constructed(text))
    assert shape(yamlsafe.load(text)) == shape(composed_then_constructed(text)[0])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("<<: {a: 1}\nb: 2\n", id="merge-key"),
        pytest.param("a: !!binary aGk=\n", id="binary"),
        pytest.param("a: !!set {b: null}\n", id="set"),
        pytest.param("a: &x {b: 1}\nc: *x\n&k d: 1\n*k : 2\n", id="aliases"),
        pytest.param("1: a\n1.0: b\ntrue: c\n.nan: 1\n.nan: 2\n", id="keys-python-holds-equal"),
        pytest.param(
            "a: !!map {b: !!seq [!!str 1, !!float 2, ! 3, !!timestamp 2024-01-01]}\n", id="core-tags"
        ),
        pytest.param("--- 1\n---\n--- [a]\n...\n", id="documents"),
        pytest.param("", id="empty"),
    ],
)
def test_what_the_events_builder_takes_or_leaves_loads_as_the_constructor_loads_it(text: str) -> None:
    assert shape(yamlsafe.load_all(text)) == shape(composed_then_constructed(text))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param("a: !!int 1.5\n", "cannot decode !!float `1.5` as a !!int", id="tag-mismatch"),
        pytest.param("? {a: 1}\n: b\n", "found unhashable key", id="mapping-key"),
        pytest.param("? [a]\n: b\n", "found unhashable key", id="sequence-key"),
        pytest.param("a: !foo x\n", "could not determine a constructor for the tag '!foo'", id="unknown-tag"),
        pytest.param("a: *nope\n", "found undefined alias", id="undefined-alias"),
        pytest.param("--- 1\n--- 2\n", "but found another document", id="two-documents"),
    ],
)
def test_what_the_events_builder_cannot_build_fails_as_the_constructor_fails(text: str, error: str) -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yamlsafe.load(text)
    assert error in str(caught.value)


def node_facts(node: yaml.Node, seen: dict[int, int] | None = None) -> Any:
    """Everything a composed node tree tells: kinds, tags, values, styles and marks (with what
    PyYAML prints of them), aliases as references."""
    seen = {} if seen is None else seen
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    facts: list[Any] = [
        type(node).__name__,
        node.tag,
        getattr(node, "style", "-"),
        getattr(node, "flow_style", "-"),
    ]
    facts += [str(node.start_mark), str(node.end_mark), node.start_mark.index, node.end_mark.index]
    if isinstance(node, yaml.ScalarNode):
        return [*facts, node.value]
    if isinstance(node, yaml.SequenceNode):
        return [*facts, [node_facts(item, seen) for item in node.value]]
    return [*facts, [(node_facts(k, seen), node_facts(v, seen)) for k, v in node.value]]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a:\n- 1\n- 2\nb:\n  - 3\n", id="indentless-and-indented"),
        pytest.param("a: &x\n- 1\nb: *x\nc: &y !!seq\n  - 2\n", id="anchored-sequences"),
        pytest.param("x: &c\n  k:\n  - 1\n  j:\n    - 2\n", id="anchored-mapping"),
        pytest.param("?\n- a\n: - b\n", id="explicit-keys"),
        pytest.param("a: &z # c\n  # d\n  - 1\n", id="comments-between"),
        pytest.param("- - - a\n  - b\n- {c: [d, e]}\n", id="nested"),
        pytest.param("a: |\n  - text\nb: 'q'\nc: \"d\"\nd: >-\n  f\n", id="scalar-styles"),
        pytest.param("\ufeffa:\n- 1\n", id="byte-order-mark"),
        pytest.param("a:\r\n- 1\r\nb: c\x85d: e\u2028f: [g]\n", id="line-breaks"),
        pytest.param("a: &x 1\nb: &x 2\nc: *x\n", id="redefined-anchor"),
        pytest.param("---\n---\na: 1\n...\n", id="documents"),
    ],
)
def test_composed_nodes_are_what_pyyaml_composes(text: str) -> None:
    expected = [node_facts(n) for n in yaml.compose_all(text, Loader=yamlsafe._PyLoader)]
    assert [node_facts(n) for n in yamlsafe.compose_all(text)] == expected


def test_a_composed_gotk_components_is_what_pyyaml_composes() -> None:
    text = fluxinstall.render(fluxinstall.Options())
    expected = [node_facts(n) for n in yaml.compose_all(text, Loader=yamlsafe._PyLoader)]
    assert [node_facts(n) for n in yamlsafe.compose_all(text)] == expected
    assert shape(yamlsafe.load_all(text)) == shape(composed_then_constructed(text))


def test_a_construct_scalar_error_names_the_node_as_the_constructor_does() -> None:
    node = yamlsafe.compose("a: !!bool 2\n")
    assert isinstance(node, yaml.MappingNode)
    with pytest.raises(yaml.constructor.ConstructorError) as caught:
        yamlsafe.construct_scalar(node.value[0][1])
    assert str(caught.value) == (
        "cannot decode !!int `2` as a !!bool\n"
        '  in "<unicode string>", line 1, column 4:\n'
        "    a: !!bool 2\n"
        "       ^"
    )


def test_a_plain_number_too_long_for_an_int_is_read_as_text_not_a_crash() -> None:
    digits = "7" * 5000  # past Python's 4,300-digit int conversion limit
    assert yamlsafe.load(f"replicas: {digits}\n") == {"replicas": digits}
    assert yamlsafe.resolve(digits) == (yamlsafe.STR, digits)
