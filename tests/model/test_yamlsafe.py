"""YAML as Kubernetes reads it (sigs.k8s.io/yaml over go-yaml v2), and a writer whose output
every such reader reads back with the same types."""

from __future__ import annotations

import math
import os
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_sim.model import yamlsafe

# Bounded by default, more when GITOPS_SIM_FUZZ_EXAMPLES asks (tests may read it).
EXAMPLES = int(os.environ.get("GITOPS_SIM_FUZZ_EXAMPLES", "50"))  # noqa: TID251


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


@pytest.mark.parametrize("text", ["\x85", "x\u2028y", "a\u2029b", "a\rb"], ids=["nel", "ls", "ps", "cr"])
def test_a_string_holding_a_line_break_other_than_newline_reads_back_unchanged(text: str) -> None:
    assert yamlsafe.load(yamlsafe.dump({text: text})) == {text: text}
