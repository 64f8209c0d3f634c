"""ImagePolicy selection: tags x policy -> the chosen tag, or Flux's error (image-reflector-controller
internal/policy and the ImagePolicy reconciler's messages)."""

from __future__ import annotations

import pytest

from gitops_sim.images import policy
from gitops_sim.model.fluxapi import image, meta

Order = str | None


def _spec(
    *,
    semver: str | None = None,
    alphabetical: Order = None,
    numerical: Order = None,
    pattern: str | None = None,
    extract: str | None = None,
) -> image.ImagePolicySpec:
    choice = image.ImagePolicyChoice(
        semver=image.SemVerPolicy(range=semver) if semver is not None else None,
        alphabetical=image.AlphabeticalPolicy(order=alphabetical) if alphabetical else None,  # type: ignore[arg-type]
        numerical=image.NumericalPolicy(order=numerical) if numerical else None,  # type: ignore[arg-type]
    )
    has_filter = pattern is not None or extract is not None
    return image.ImagePolicySpec(
        image_repository_ref=meta.NamespacedObjectReference(name="podinfo"),
        policy=choice,
        filter_tags=image.TagFilter(pattern=pattern, extract=extract) if has_filter else None,
    )


RC = r"^(?P<base>[0-9.]+)-rc(?P<rc>[0-9]+)$"
TIMESTAMPED = r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$"


CHOICES = pytest.mark.parametrize(
    ("tags", "spec", "chosen"),
    [
        # semver
        pytest.param(
            ["1.0.0", "1.0.1", "1.2.0", "0.1.0"], _spec(semver="1.0.x"), "1.0.1", id="semver-patch-range"
        ),
        pytest.param(
            ["v1.2.3", "v1.0.0", "v0.1.0"], _spec(semver="1.0.x"), "v1.0.0", id="semver-keeps-the-v-prefix"
        ),
        pytest.param(
            ["v2.0.0", "1.9.0", "latest", "1.2", "1.0.0.1"],
            _spec(semver=">=1.0.0"),
            "v2.0.0",
            id="semver-skips-non-versions",
        ),
        pytest.param(
            ["1.3.0-rc.1", "1.2.0"],
            _spec(semver=">=1.0.0"),
            "1.2.0",
            id="semver-plain-range-skips-pre-releases",
        ),
        pytest.param(
            ["1.3.0-rc.1", "1.3.0-rc.2", "1.2.0"],
            _spec(semver=">=1.0.0-0"),
            "1.3.0-rc.2",
            id="semver-pre-release-range",
        ),
        pytest.param(
            ["1.3.0-rc.1", "1.3.0", "1.2.0"],
            _spec(semver=">=1.0.0-0"),
            "1.3.0",
            id="semver-release-beats-its-rcs",
        ),
        pytest.param(
            ["1.0.0-rc.10", "1.0.0-rc.9"],
            _spec(semver=">=1.0.0-0"),
            "1.0.0-rc.10",
            id="semver-numeric-pre-release-ids",
        ),
        pytest.param(
            ["1.0.0-rc10", "1.0.0-rc9"],
            _spec(semver=">=1.0.0-0"),
            "1.0.0-rc9",
            id="semver-alphanumeric-pre-release-ids",
        ),
        pytest.param(
            ["1.0.0+build.2", "1.0.0+build.1"],
            _spec(semver="*"),
            "1.0.0+build.2",
            id="semver-build-metadata-tie-first-wins",
        ),
        pytest.param(
            ["1.0.0+build.1", "1.0.0+build.2"],
            _spec(semver="*"),
            "1.0.0+build.1",
            id="semver-build-metadata-tie-in-order",
        ),
        pytest.param(
            ["v1.0.0", "1.0.0"], _spec(semver="1.x"), "v1.0.0", id="semver-v-and-bare-tie-first-wins"
        ),
        pytest.param(
            ["1.0.0-rc.01", "1.0.0-rc.1"],
            _spec(semver=">=1.0.0-0"),
            "1.0.0-rc.1",
            id="semver-leading-zero-pre-release-ignored",
        ),
        pytest.param(
            ["2024.01.05", "2023.12.31"],
            _spec(semver=">=2023.0.0"),
            "2024.01.05",
            id="semver-calver-leading-zeros",
        ),
        # filterTags with extract
        pytest.param(
            ["1.2.0-rc9", "1.2.0-rc10", "1.2.0-rc8", "1.1.0"],
            _spec(numerical="asc", pattern=RC, extract="$rc"),
            "1.2.0-rc10",
            id="numerical-rc-number",
        ),
        pytest.param(
            ["1.2.0-rc9", "1.2.0-rc10"],
            _spec(alphabetical="asc", pattern=RC, extract="${rc}"),
            "1.2.0-rc9",
            id="alphabetical-rc-number-is-byte-order",
        ),
        pytest.param(
            ["1.2.0-rc9", "1.3.0-rc1", "2.0.0"],
            _spec(semver=">=1.0.0", pattern=RC, extract="$base"),
            "1.3.0-rc1",
            id="semver-on-an-extracted-base",
        ),
        pytest.param(
            ["main-abc123-1700000000", "main-def456-1700000100", "feature-x-1800000000", "latest"],
            _spec(numerical="asc", pattern=TIMESTAMPED, extract="$ts"),
            "main-def456-1700000100",
            id="numerical-timestamps",
        ),
        pytest.param(
            ["main-abc123-1700000000", "main-def456-1700000100"],
            _spec(numerical="desc", pattern=TIMESTAMPED, extract="$ts"),
            "main-abc123-1700000000",
            id="numerical-timestamps-desc",
        ),
        pytest.param(
            ["v1-a", "v2-b"],
            _spec(alphabetical="asc", pattern=r"^v(\d)-", extract="$1"),
            "v2-b",
            id="numbered-group",
        ),
        pytest.param(
            ["a-release", "z-beta"],
            _spec(alphabetical="asc", pattern="release"),
            "a-release",
            id="unanchored-pattern",
        ),
        pytest.param(
            ["a-1", "b-1", "c-0"],
            _spec(numerical="asc", pattern=r"-(\d)$", extract="$1"),
            "b-1",
            id="same-value-last-tag-stands",
        ),
        # alphabetical
        pytest.param(
            ["2024-01-05T10-00-00Z", "2024-01-05T09-59-59Z", "2023-12-31T23-59-59Z"],
            _spec(alphabetical="asc"),
            "2024-01-05T10-00-00Z",
            id="alphabetical-rfc3339ish",
        ),
        pytest.param(
            ["2024-01-05T10-00-00Z", "2023-12-31T23-59-59Z"],
            _spec(alphabetical="desc"),
            "2023-12-31T23-59-59Z",
            id="alphabetical-desc",
        ),
        pytest.param(["a", "B", "b"], _spec(alphabetical="asc"), "b", id="alphabetical-is-byte-order"),
        pytest.param(["10", "9"], _spec(alphabetical="asc"), "9", id="alphabetical-numbers-as-strings"),
        # numerical
        pytest.param(["10", "9", "100", "-1"], _spec(numerical="asc"), "100", id="numerical-asc"),
        pytest.param(["10", "9", "100", "-1"], _spec(numerical="desc"), "-1", id="numerical-desc"),
        pytest.param(
            ["1.5", "1.25", "1e1", "0x1p3"],
            _spec(numerical="asc"),
            "1e1",
            id="numerical-floats-as-go-reads-them",
        ),
        pytest.param(["1", "1.0", "01"], _spec(numerical="asc"), "01", id="numerical-tie-last-wins"),
    ],
)


@CHOICES
def test_the_policy_chooses_the_expected_tag(
    tags: list[str], spec: image.ImagePolicySpec, chosen: str
) -> None:
    assert policy.select(tags, spec).tag == chosen


@CHOICES
def test_the_quick_choice_is_the_head_of_the_full_ranking(
    tags: list[str], spec: image.ImagePolicySpec, chosen: str
) -> None:
    assert policy.select(tags, spec).ranked[0].tag == chosen


@pytest.mark.parametrize(
    ("tags", "spec", "reason", "message"),
    [
        pytest.param([], _spec(semver="*"), "DependencyNotReady", "no tags in database", id="no-tags"),
        pytest.param(
            ["1.0.0"],
            _spec(semver="1.0.0p"),
            "InvalidPolicy",
            'invalid policy: improper constraint: "1.0.0p"',
            id="bad-range",
        ),
        pytest.param(
            ["1.0.0"],
            _spec(semver="1x"),
            "InvalidPolicy",
            "invalid policy: constraint parser error",
            id="bad-range-version",
        ),
        pytest.param(
            [],
            _spec(semver=""),
            "InvalidPolicy",
            'invalid policy: improper constraint: ""',
            id="bad-range-before-no-tags",
        ),
        pytest.param(
            ["1.0.0"],
            _spec(),
            "InvalidPolicy",
            "invalid policy: given ImagePolicyChoice object is invalid",
            id="no-policy",
        ),
        pytest.param(
            ["1.0.0"],
            _spec(semver="*", pattern="(abc"),
            "InvalidPolicy",
            "failed to filter tags: invalid regular expression pattern '(abc': "
            "error parsing regexp: missing closing ): `(abc`",
            id="bad-regexp",
        ),
        pytest.param(
            [],
            _spec(semver="*", pattern="(abc"),
            "DependencyNotReady",
            "no tags in database",
            id="no-tags-before-bad-regexp",
        ),
        pytest.param(
            ["1.2.0"],
            _spec(semver="1.0.x"),
            "Failure",
            "unable to determine latest version from provided list",
            id="no-match",
        ),
        pytest.param(
            ["latest"],
            _spec(semver="*"),
            "Failure",
            "unable to determine latest version from provided list",
            id="no-version",
        ),
        pytest.param(
            ["1.0.0", "2.0.0"],
            _spec(semver="*", pattern="^v"),
            "Failure",
            "version list argument cannot be empty",
            id="all-filtered",
        ),
        pytest.param(
            ["a"],
            _spec(alphabetical="asc", pattern="^v"),
            "Failure",
            "version list argument cannot be empty",
            id="all-filtered-alpha",
        ),
        pytest.param(
            ["10", "latest", "nope"],
            _spec(numerical="asc"),
            "Failure",
            "failed to parse invalid numeric value 'latest'",
            id="not-a-number",
        ),
        pytest.param(
            ["1e400"],
            _spec(numerical="asc"),
            "Failure",
            "failed to parse invalid numeric value '1e400'",
            id="out-of-range",
        ),
        pytest.param(
            ["1 "],
            _spec(numerical="asc"),
            "Failure",
            "failed to parse invalid numeric value '1 '",
            id="no-spaces",
        ),
    ],
)
def test_a_policy_that_cannot_choose_fails_with_flux_words(
    tags: list[str], spec: image.ImagePolicySpec, reason: str, message: str
) -> None:
    with pytest.raises(policy.PolicyError) as caught:
        policy.select(tags, spec)
    assert (caught.value.reason, caught.value.message) == (reason, message)
    assert caught.value.stalled == (reason == "InvalidPolicy")


def test_the_selection_explains_what_happened_to_each_tag() -> None:
    tags = ["1.2.0-rc1", "1.2.0-rc2", "latest", "1.3.0-rc1", "1.3.0-rc01"]
    selection = policy.select(tags, _spec(semver="<1.3.0", pattern=RC, extract="$base"))
    assert selection.latest == policy.Candidate("1.2.0-rc2", "1.2.0")
    assert selection.passed_over == (
        ("1.2.0-rc1", policy.Fate.SHADOWED),
        ("latest", policy.Fate.FILTERED_OUT),
        ("1.3.0-rc1", policy.Fate.SHADOWED),
        ("1.3.0-rc01", policy.Fate.IGNORED),
    )
    assert selection.ranked == (policy.Candidate("1.2.0-rc2", "1.2.0"),)
    assert selection.seen == tuple(tags)


def test_the_ranking_puts_the_latest_first() -> None:
    selection = policy.select(["3", "10", "2"], _spec(numerical="desc"))
    assert [c.tag for c in selection.ranked] == ["2", "3", "10"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        pytest.param("42", 42.0, id="integer"),
        pytest.param("-1.5e3", -1500.0, id="exponent"),
        pytest.param("1_000", 1000.0, id="underscores-between-digits"),
        pytest.param("0x1p4", 16.0, id="hex-float"),
        pytest.param("Inf", float("inf"), id="infinity"),
        pytest.param("1_", None, id="trailing-underscore"),
        pytest.param("0x10", None, id="hex-needs-p-exponent"),
        pytest.param("+nan", None, id="signed-nan"),
        pytest.param("1e400", None, id="out-of-range"),
    ],
)
def test_numbers_are_read_as_go_parse_float_reads_them(text: str, number: float | None) -> None:
    assert policy.parse_go_float(text) == number


@pytest.mark.parametrize(
    ("latest", "previous", "message"),
    [
        pytest.param(
            image.ImageRef(name="ghcr.io/p/app", tag="1.1.0"),
            None,
            "Latest image tag for ghcr.io/p/app resolved to 1.1.0",
            id="first",
        ),
        pytest.param(
            image.ImageRef(name="ghcr.io/p/app", tag="1.1.0", digest="sha256:aa"),
            image.ImageRef(name="ghcr.io/p/app", tag="1.0.0", digest="sha256:bb"),
            "Latest image tag for ghcr.io/p/app resolved to 1.1.0 with digest sha256:aa "
            "(previously ghcr.io/p/app:1.0.0@sha256:bb)",
            id="changed",
        ),
        pytest.param(
            image.ImageRef(name="ghcr.io/p/app", tag="1.1.0"),
            image.ImageRef(name="ghcr.io/p/app", tag="1.1.0"),
            "Latest image tag for ghcr.io/p/app resolved to 1.1.0",
            id="unchanged",
        ),
    ],
)
def test_the_ready_message_names_the_previous_image_when_it_changed(
    latest: image.ImageRef, previous: image.ImageRef | None, message: str
) -> None:
    assert policy.ready_message(latest, previous) == message


def test_the_no_tags_message_rounds_the_requeue_to_seconds() -> None:
    assert policy.no_tags_message(30_400) == "retrying in 30s error: no tags in database"
