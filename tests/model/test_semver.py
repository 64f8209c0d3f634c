"""Versions and constraints as Flux reads them (Masterminds/semver v3 via fluxcd/pkg/version)."""

from __future__ import annotations

import pytest

from gitops_sim.model import semver

TAGS = ["v0.9.0", "v1.0.0", "v1.2.0", "v1.2.3", "v1.3.0-rc.1", "v2.0.0", "latest", "1.2", "v1.0.0.1"]


@pytest.mark.parametrize(
    ("constraint", "picked"),
    [
        (">=1.0.0", "v2.0.0"),
        (">=1.0.0 <2.0.0", "v1.2.3"),
        (">= 1.0.0, < 2.0.0", "v1.2.3"),
        ("~1.2", "v1.2.3"),
        ("~1.2.0", "v1.2.3"),
        ("^1.0", "v1.2.3"),
        ("^0.9", "v0.9.0"),
        ("1.x", "v1.2.3"),
        ("1.2.x", "v1.2.3"),
        ("*", "v2.0.0"),
        ("1.0.0 - 1.2.0", "v1.2.0"),
        ("<1.0.0 || >=2.0.0", "v2.0.0"),
        ("=1.0.0", "v1.0.0"),
        ("!=2.0.0", "v1.2.3"),
        (">=1.3.0-0 <1.4.0", "v1.3.0-rc.1"),
        (">3.0.0", None),
    ],
)
def test_the_highest_matching_tag_is_picked(constraint: str, picked: str | None) -> None:
    assert semver.highest(TAGS, constraint) == picked


def test_a_pre_release_is_not_picked_unless_the_constraint_asks_for_one() -> None:
    assert semver.highest(["v1.3.0-rc.1", "v1.2.0"], ">=1.0.0") == "v1.2.0"


def test_versions_need_exactly_three_parts() -> None:
    for bad in ("1.2", "1.0.0.1", "latest", "v1"):
        with pytest.raises(semver.SemverError):
            semver.parse_version(bad)
    assert semver.parse_version("v01.2.3").core() == (1, 2, 3)


def test_a_release_sorts_after_its_pre_releases() -> None:
    keys = [semver.parse_version(v).key() for v in ("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0")]
    assert keys == sorted(keys)


def test_a_malformed_constraint_is_an_error() -> None:
    with pytest.raises(semver.SemverError, match="improper constraint"):
        semver.Constraint(">= one")


@pytest.mark.parametrize(
    ("constraint", "message"),
    [
        pytest.param("1.0.0p", 'improper constraint: "1.0.0p"', id="not-a-version"),
        pytest.param("", 'improper constraint: ""', id="empty"),
        pytest.param(">=1.0 <2.0 || foo", 'improper constraint: " foo"', id="names-the-bad-alternative"),
        pytest.param("1x", "constraint parser error", id="digits-then-x"),
        pytest.param(">=1.0.0-01", "constraint parser error", id="leading-zero-pre-release"),
    ],
)
def test_an_invalid_constraint_fails_with_masterminds_words(constraint: str, message: str) -> None:
    with pytest.raises(semver.SemverError) as caught:
        semver.Constraint(constraint)
    assert str(caught.value) == message


def test_a_numeric_pre_release_identifier_with_a_leading_zero_is_not_a_version() -> None:
    with pytest.raises(semver.SemverError):
        semver.parse_version("1.0.0-rc.01")
    assert semver.parse_version("1.0.0-rc.0").pre == ("rc", "0")


def test_a_version_followed_by_a_newline_is_not_a_version() -> None:
    with pytest.raises(semver.SemverError):
        semver.parse_version("1.0.0\n")
