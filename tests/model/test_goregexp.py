"""Go regular expressions on Python's re: Go's errors, Go's meanings, Go's Expand."""

from __future__ import annotations

import pytest

from gitops_sim.model import goregexp


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        pytest.param("a)", "unexpected ): `a)`", id="unexpected-paren"),
        pytest.param("[a-", "missing closing ]: `[a-`", id="missing-bracket"),
        pytest.param("[z-a]", "invalid character class range: `z-a`", id="reversed-range"),
        pytest.param("[[:foo:]]", "invalid character class range: `[:foo:]`", id="unknown-posix-class"),
        pytest.param("(?=a)", "invalid or unsupported Perl syntax: `(?=`", id="lookahead"),
        pytest.param("(?<=a)b", "invalid named capture: `(?<=a)b`", id="lookbehind"),
        pytest.param("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`", id="bad-group-name"),
        pytest.param(r"(a)\1", r"invalid escape sequence: `\1`", id="back-reference"),
        pytest.param(r"a\Z", r"invalid escape sequence: `\Z`", id="python-end-of-text"),
        pytest.param("a**", "invalid nested repetition operator: `**`", id="nested-repeat"),
        pytest.param("*a", "missing argument to repetition operator: `*`", id="missing-argument"),
        pytest.param("a|+", "missing argument to repetition operator: `+`", id="missing-argument-after-bar"),
        pytest.param("a{1001}", "invalid repeat count: `{1001}`", id="repeat-too-large"),
        pytest.param("a{3,2}", "invalid repeat count: `{3,2}`", id="repeat-reversed"),
        pytest.param("a\\", "trailing backslash at end of expression: ``", id="trailing-backslash"),
    ],
)
def test_an_invalid_go_regexp_fails_with_go_words(pattern: str, message: str) -> None:
    with pytest.raises(goregexp.GoRegexpError) as caught:
        goregexp.compile_go(pattern)
    assert str(caught.value) == f"error parsing regexp: {message}"


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        pytest.param("a{,3}", "a{,3}", True, id="brace-without-minimum-is-literal"),
        pytest.param("^v$", "v\n", False, id="dollar-is-end-of-text"),
        pytest.param(r"^v\z", "v", True, id="backslash-z"),
        pytest.param("[[:alpha:]]+-[[:digit:]]", "abc-1", True, id="posix-classes"),
        pytest.param(r"^\pL+$", "abc", True, id="unicode-category"),
        pytest.param(r"^\d+$", "١٢", False, id="digits-are-ascii"),
        pytest.param("a(?i)b|c", "C", True, id="mid-pattern-flag-reaches-later-branches"),
        pytest.param("a(?i)b|c", "Ab", False, id="mid-pattern-flag-not-backwards"),
        pytest.param(r"\Qa.b\E", "axb", False, id="quoted-literal"),
        pytest.param("(?<n>x)", "x", True, id="short-named-group"),
    ],
)
def test_go_regexps_mean_what_they_mean_in_go(pattern: str, text: str, matches: bool) -> None:
    assert (goregexp.compile_go(pattern).search(text) is not None) == matches


@pytest.mark.parametrize(
    ("template", "expanded"),
    [
        pytest.param("$1", "1.2.0", id="number"),
        pytest.param("$rc", "10", id="name"),
        pytest.param("${base}-${rc}", "1.2.0-10", id="braced"),
        pytest.param("$base-$rc", "1.2.0-10", id="name-stops-at-dash"),
        pytest.param("$1x", "", id="name-runs-on"),
        pytest.param("$$rc", "$rc", id="dollar-dollar"),
        pytest.param("$9$missing", "", id="absent-groups-are-empty"),
        pytest.param("${rc", "${rc", id="unclosed-brace-is-literal"),
        pytest.param("$-", "$-", id="bare-dollar-is-literal"),
    ],
)
def test_extract_expands_as_go_expand_does(template: str, expanded: str) -> None:
    compiled = goregexp.compile_go(r"^(?P<base>[0-9.]+)-rc(?P<rc>[0-9]+)$")
    match = compiled.search("1.2.0-rc10")
    assert match is not None
    assert compiled.expand(template, match) == expanded


def test_a_repeated_group_name_expands_to_the_first_that_took_part() -> None:
    compiled = goregexp.compile_go("(?P<v>a)|(?P<v>b)")
    match = compiled.search("b")
    assert match is not None
    assert compiled.expand("[$v]", match) == "[b]"
