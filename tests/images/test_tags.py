"""The tag database and a scan's arithmetic: exclusions, order, latest tags, checksum, image names."""

from __future__ import annotations

import pytest

from gitops_sim.images import tags


@pytest.mark.parametrize(
    ("image", "canonical"),
    [
        ("alpine", "index.docker.io/library/alpine"),
        ("fluxcd/flux", "index.docker.io/fluxcd/flux"),
        ("docker.io/fluxcd/flux", "index.docker.io/fluxcd/flux"),
        ("ghcr.io/stefanprodan/podinfo", "ghcr.io/stefanprodan/podinfo"),
        ("localhost:5000/team/app", "localhost:5000/team/app"),
        ("registry.example.com:8443/a/b/c", "registry.example.com:8443/a/b/c"),
    ],
)
def test_an_image_gets_go_containerregistrys_canonical_name(image: str, canonical: str) -> None:
    assert tags.canonical_name(image) == canonical


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            "https://ghcr.io/a/b",
            "image 'https://ghcr.io/a/b' should not include URL scheme; remove 'https://'",
        ),
        ("ghcr.io/a/b:1.0", "image 'ghcr.io/a/b:1.0' should not include a tag; remove ':1.0'"),
        ("alpine:latest", "image 'alpine:latest' should not include a tag; remove ':latest'"),
        ("ghcr.io/A/b", "could not parse reference: ghcr.io/A/b"),
        ("", "could not parse reference: "),
    ],
)
def test_an_image_that_is_not_a_repository_is_refused_with_fluxs_words(image: str, message: str) -> None:
    with pytest.raises(tags.ImageError) as caught:
        tags.parse_image(image)
    assert str(caught.value) == message


def test_signatures_are_excluded_by_default() -> None:
    scanned = ["1.0.0", "sha256-abc.sig", "1.0.1", "latest"]
    assert tags.exclude(scanned, tags.DEFAULT_EXCLUSION_LIST) == ["1.0.0", "1.0.1", "latest"]


def test_an_exclusion_is_a_go_regexp() -> None:
    assert tags.exclude(["v1\n", "v1"], ["^v1$"]) == ["v1\n"], "Go's $ is the end of the text"


def test_an_exclusion_matches_anywhere_in_the_tag_unless_anchored() -> None:
    assert tags.exclude(["main-abc", "v1-main", "v2"], ["main"]) == ["v2"]
    assert tags.exclude(["main-abc", "v1-main", "v2"], ["^main"]) == ["v1-main", "v2"]


def test_a_pattern_that_does_not_compile_is_reported_with_fluxs_words() -> None:
    with pytest.raises(tags.ExclusionError) as caught:
        tags.exclude(["a"], ["(unclosed"])
    assert (
        str(caught.value)
        == "failed to compile regex (unclosed: error parsing regexp: missing closing ): `(unclosed`"
    )


def test_tags_are_stored_in_descending_byte_order_and_the_first_ten_are_the_latest() -> None:
    scanned = ["100", "29", "-91", "73", "101", "72", "9", "a", "B", "10", "1", "0"]
    stored = tags.sort_descending(scanned)
    assert stored == ["a", "B", "9", "73", "72", "29", "101", "100", "10", "1", "0", "-91"]
    assert tags.latest_tags(stored) == stored[:10]


def test_the_revision_is_the_adler32_of_the_stored_json_as_badger_computes_it() -> None:
    # Values as image-reflector-controller's Badger database returns them for these lists.
    assert tags.checksum(["latest", "v0.0.1", "v0.0.2"]) == "1943865137"
    assert tags.checksum(["latest", "v0.0.1", "v0.0.2", "v0.0.3"]) == "3168012550"
    assert tags.checksum(["v0.0.3", "v0.0.4"]) == "728958008"


def test_the_database_keeps_each_repositorys_tags_apart_and_returns_the_revision() -> None:
    db = tags.MemoryTags()
    assert db.tags("ghcr.io/a/b") == []
    assert db.set_tags("ghcr.io/a/b", ["v0.0.3", "v0.0.4"]) == "728958008"
    db.set_tags("ghcr.io/a/c", ["latest"])
    assert db.tags("ghcr.io/a/b") == ["v0.0.3", "v0.0.4"]
    assert db.tags("ghcr.io/a/c") == ["latest"]
