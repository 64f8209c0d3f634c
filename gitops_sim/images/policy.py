"""How an ImagePolicy chooses the latest tag among the tags its ImageRepository scanned.

`select(tags, spec)` does what image-reflector-controller's ImagePolicy reconciler does between
reading the tag database and writing `status.latestRef`:

1. The policer is built from `spec.policy` (factory.go): `semver` first, then `alphabetical`, then
   `numerical`; none of them is an `InvalidPolicy` (`invalid policy: given ImagePolicyChoice
   object is invalid`): the API has no default. An invalid semver range is `invalid policy:
   improper constraint: "<range>"` (Masterminds v3.5.0, see `model.semver`).
2. No tags at all is `no tags in database` (the controller retries it and reports
   `DependencyNotReady`), and it is checked before the filter is compiled.
3. `filterTags.pattern` is compiled as a Go RE2 regexp (below); an invalid one is an
   `InvalidPolicy`: `failed to filter tags: invalid regular expression pattern '<p>': error
   parsing regexp: <what>: `<where>``. A tag is kept when the pattern matches anywhere in it.
   With `extract`, the value compared is Go's `Regexp.ExpandString` of the template (`$1`,
   `$name`, `${name}`, `$$`); two tags giving the same value are one candidate, standing for the
   later tag (filter.go keeps a map value -> tag, so the last write wins).
4. The policer picks among the values; the tag it stands for is selected:
   - semver: tags that are not versions (`version.ParseVersion`: exactly three dot-separated parts,
     a `v` prefix allowed) or are outside the range are ignored; a pre-release only matches an
     alternative that names one; the highest wins, the first of equal versions (build metadata
     does not count) when several tie; none left is `unable to determine latest version from
     provided list`;
   - alphabetical: byte order; `asc` (the default) picks the greatest, `desc` the least;
   - numerical: every value must be a Go `strconv.ParseFloat` number, or the whole evaluation
     fails with `failed to parse invalid numeric value '<v>'`; `asc` picks the greatest, `desc`
     the least, the last of equal numbers;
   - any of them given an empty list (every tag filtered out): `version list argument cannot be
     empty`.

The result (`Selection`) also says what happened to every tag (filtered out, shadowed by a later
tag with the same extracted value, ignored by the semver range) and ranks the candidates, latest
first, for an `explain` view. `PolicyError` carries the condition reason and message the
controller reports; the message formats of imagepolicy_controller.go are here as functions
(`no_tags_message`, `ready_message`).

Provenance: image-reflector-controller `internal/policy/{factory,filter,semver,alphabetical,
numerical}.go` and `internal/controller/imagepolicy_controller.go` (`applyPolicy`, the reasons and
messages); Go's `regexp/syntax` parser and `regexp.Expand`; Go's `strconv.ParseFloat`. Our own
code.

Callers: the ImagePolicy controller and the CLI. Pure functions over values: no cluster, no clock,
no controller imports; it must never read the tag database itself.

Deliberate differences from Flux:
- filter.go hands the filtered values to the policer in Go map order, which is random; here they
  keep the order of the tags given (first appearance of each value). Flux's choice among
  candidates that tie (semver versions equal but for `v` or build metadata, numbers such as `1`
  and `1.0`) is therefore random after a filter; ours is the one the input order gives.

Go regular expressions are `model.goregexp`'s.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, cast

from gitops_sim.model import duration, semver
from gitops_sim.model.fluxapi import image
from gitops_sim.model.goregexp import GoRegexpError, compile_go

# ---------------------------------------------------------------------------------------------
# Reasons and messages, as imagepolicy_controller.go reports them

INVALID_POLICY_REASON = "InvalidPolicy"
"""Stalled (and Ready=False): the spec cannot be evaluated; no retry until it changes."""
DEPENDENCY_NOT_READY_REASON = "DependencyNotReady"
"""Ready=False: the repository has no tags yet; retried after `--requeue-dependency`."""
FAILURE_REASON = "Failure"
"""Ready=False (`metav1.StatusFailure`): the evaluation failed; returned as an error (backoff)."""
INTERVAL_NOT_CONFIGURED_REASON = "IntervalNotConfigured"
INTERVAL_NOT_CONFIGURED_MESSAGE = (
    "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
)

NO_TAGS = "no tags in database"
EMPTY_LIST = "version list argument cannot be empty"
NO_SEMVER_MATCH = "unable to determine latest version from provided list"
NO_POLICY = "given ImagePolicyChoice object is invalid"


def invalid_policy_message(error: str) -> str:
    return f"invalid policy: {error}"


def invalid_pattern_message(pattern: str, error: str) -> str:
    return f"failed to filter tags: invalid regular expression pattern '{pattern}': {error}"


def invalid_number_message(value: str) -> str:
    return f"failed to parse invalid numeric value '{value}'"


def invalid_order_message(order: str) -> str:
    return f"invalid order argument provided: '{order}', must be one of: ASC, DESC"


def no_tags_message(requeue_ms: int) -> str:
    """The DependencyNotReady message: the requeue interval rounded to whole seconds, as Go's
    `Duration.Round(time.Second)` prints it."""
    rounded = (abs(requeue_ms) + 500) // 1000 * 1000
    return f"retrying in {duration.format(rounded if requeue_ms >= 0 else -rounded)} error: {NO_TAGS}"


def ready_message(latest: image.ImageRef, previous: image.ImageRef | None) -> str:
    """Ready=True's message (`composeImagePolicyReadyMessage`)."""
    text = f"Latest image tag for {latest.name} resolved to {latest.tag}"
    if latest.digest:
        text += f" with digest {latest.digest}"
    if previous is not None and _ref_key(previous) != _ref_key(latest):
        text += f" (previously {previous.name}:{previous.tag}"
        if previous.digest:
            text += f"@{previous.digest}"
        text += ")"
    return text


def _ref_key(ref: image.ImageRef) -> tuple[str, str, str]:
    return (ref.name, ref.tag, ref.digest or "")


class PolicyError(Exception):
    """The policy could not choose a tag: `reason` is the Ready (and, when `stalled`, Stalled)
    condition reason, `message` Flux's error text. For `DEPENDENCY_NOT_READY_REASON` the
    controller reports `no_tags_message(its requeue interval)`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def stalled(self) -> bool:
        return self.reason == INVALID_POLICY_REASON


# ---------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True, slots=True)
class Candidate:
    """A tag that passed the filter, and the value the policy compares for it."""

    tag: str
    value: str


class Fate(enum.StrEnum):
    """Why a tag was not selected."""

    FILTERED_OUT = "FilteredOut"  # filterTags.pattern does not match it
    SHADOWED = "Shadowed"  # a later tag extracted the same value and stands for it
    IGNORED = "Ignored"  # semver: not a version, or outside the range


class Selection:
    """The chosen tag and how it was chosen. `latest` is found at once; the full account
    (`passed_over`, `ranked`), which only an explanation needs, is worked out when first asked."""

    __slots__ = ("_account", "_candidates", "_passed", "_rule", "latest", "seen")

    def __init__(
        self,
        latest: Candidate,
        seen: tuple[str, ...],
        rule: Policer,
        candidates: tuple[Candidate, ...],
        passed: tuple[tuple[str, Fate], ...],
    ) -> None:
        self.latest = latest
        self.seen = seen
        self._rule = rule
        self._candidates = candidates
        self._passed = passed
        self._account: tuple[tuple[tuple[str, Fate], ...], tuple[Candidate, ...]] | None = None

    @property
    def tag(self) -> str:
        return self.latest.tag

    @property
    def passed_over(self) -> tuple[tuple[str, Fate], ...]:
        """Each tag that took no part in the ordering, in the order seen, with why."""
        return self._full()[0]

    @property
    def ranked(self) -> tuple[Candidate, ...]:
        """The candidates the policy ordered, latest first (`latest` is `ranked[0]`)."""
        return self._full()[1]

    def _full(self) -> tuple[tuple[tuple[str, Fate], ...], tuple[Candidate, ...]]:
        if self._account is None:
            ranked, ignored = rank(self._candidates, self._rule)
            passed = [*self._passed, *((c.tag, Fate.IGNORED) for c in ignored)]
            order = {tag: i for i, tag in reversed(list(enumerate(self.seen)))}
            passed.sort(key=lambda item: order[item[0]])
            self._account = (tuple(passed), ranked)
        return self._account


# ---------------------------------------------------------------------------------------------
# Selection


@dataclass(frozen=True, slots=True)
class SemVerPolicer:
    """semver.go: the highest version within the range."""

    constraint: semver.Constraint


@dataclass(frozen=True, slots=True)
class OrderedPolicer:
    """alphabetical.go or numerical.go, with the order upper-cased as the factory does."""

    kind: Literal["alphabetical", "numerical"]
    order: Literal["ASC", "DESC"]


Policer: TypeAlias = SemVerPolicer | OrderedPolicer


def policer(choice: image.ImagePolicyChoice) -> Policer:
    """factory.go's `PolicerFromSpec`; raises the InvalidPolicy PolicyError."""
    try:
        if choice.semver is not None:
            return SemVerPolicer(semver.Constraint(choice.semver.range))
        if choice.alphabetical is not None:
            return OrderedPolicer("alphabetical", _order(choice.alphabetical.order))
        if choice.numerical is not None:
            return OrderedPolicer("numerical", _order(choice.numerical.order))
    except (semver.SemverError, ValueError) as exc:
        raise PolicyError(INVALID_POLICY_REASON, invalid_policy_message(str(exc))) from exc
    raise PolicyError(INVALID_POLICY_REASON, invalid_policy_message(NO_POLICY))


def _order(raw: str) -> Literal["ASC", "DESC"]:
    upper = raw.upper()
    if upper in ("", "ASC"):
        return "ASC"
    if upper == "DESC":
        return "DESC"
    raise ValueError(invalid_order_message(upper))


def select(tags: Sequence[str], spec: image.ImagePolicySpec) -> Selection:
    """The latest of `tags` (in the tag database's order) by `spec`; raises PolicyError."""
    rule = policer(spec.policy)
    if not tags:
        raise PolicyError(DEPENDENCY_NOT_READY_REASON, NO_TAGS)
    seen = tuple(tags)
    candidates, passed = _index(seen).candidates(spec.filter_tags)
    return Selection(candidates.latest(rule), seen, rule, candidates.items, passed)


class _Candidates:
    """A list of candidates and what the policers derive from it, each worked out once: the
    parsed versions in precedence order, the parsed numbers, the latest per semver range and per
    numerical order."""

    __slots__ = ("_numbers", "_numerical", "_semver", "_versions", "items")

    def __init__(self, items: tuple[Candidate, ...]) -> None:
        self.items = items
        self._versions: list[tuple[semver.Version, Candidate]] | None = None
        self._numbers: list[float] | PolicyError | None = None
        self._numerical: dict[str, Candidate] = {}
        self._semver: dict[str, Candidate | PolicyError] = {}

    def latest(self, rule: Policer) -> Candidate:
        """`rank(self.items, rule)[0][0]`, without ranking them all."""
        if not self.items:
            raise PolicyError(FAILURE_REASON, EMPTY_LIST)
        if isinstance(rule, SemVerPolicer):
            key = rule.constraint.text
            if key not in self._semver:
                found = next((c for v, c in self._by_version() if rule.constraint.check(v)), None)
                self._semver[key] = found or PolicyError(FAILURE_REASON, NO_SEMVER_MATCH)
            answer = self._semver[key]
            if isinstance(answer, PolicyError):
                raise PolicyError(answer.reason, answer.message)  # a fresh one: no traceback kept
            return answer
        if rule.kind == "alphabetical":
            pick = max if rule.order == "ASC" else min
            return pick(self.items, key=lambda c: c.value)
        if rule.order not in self._numerical:
            self._numerical[rule.order] = self.items[_numerical_best(self._parsed_numbers(), rule.order)]
        return self._numerical[rule.order]

    def _by_version(self) -> list[tuple[semver.Version, Candidate]]:
        """The candidates that are versions, highest first (the first of equal ones first)."""
        if self._versions is None:
            versions = []
            for candidate in self.items:
                version = _version(candidate.value)
                if version is not None:
                    versions.append((version, candidate))
            versions.sort(key=lambda item: item[0].key(), reverse=True)
            self._versions = versions
        return self._versions

    def _parsed_numbers(self) -> list[float]:
        if self._numbers is None:
            try:
                self._numbers = _numbers(self.items)
            except PolicyError as exc:
                self._numbers = exc
        if isinstance(self._numbers, PolicyError):
            raise PolicyError(self._numbers.reason, self._numbers.message)
        return self._numbers


class _Index:
    """One tag list's candidates, unfiltered and per filter, kept while the list is in use."""

    __slots__ = ("_filtered", "tags")

    def __init__(self, tags: tuple[str, ...]) -> None:
        self.tags = tags
        self._filtered: dict[tuple[str, str], tuple[_Candidates, tuple[tuple[str, Fate], ...]]] = {}

    def candidates(
        self, tag_filter: image.TagFilter | None
    ) -> tuple[_Candidates, tuple[tuple[str, Fate], ...]]:
        key = ("", "") if tag_filter is None else (tag_filter.pattern or "", tag_filter.extract or "")
        found = self._filtered.get(key)
        if found is None:
            if tag_filter is None:
                found = (_Candidates(tuple(map(Candidate, self.tags, self.tags))), ())
            else:
                kept, passed = filter_tags(self.tags, tag_filter)
                found = (_Candidates(tuple(kept)), tuple(passed))
            self._filtered[key] = found
        return found


_INDEXES: dict[tuple[str, ...], _Index] = {}
_INDEXES_KEPT = 64
_VERSIONS: dict[str, semver.Version | None] = {}
_VERSIONS_KEPT = 200_000
_UNKNOWN: Any = object()


def _index(tags: tuple[str, ...]) -> _Index:
    """The index of a tag list, by content (the most recently used few are kept)."""
    index = _INDEXES.pop(tags, None)
    if index is None:
        index = _Index(tags)
        if len(_INDEXES) >= _INDEXES_KEPT:
            del _INDEXES[next(iter(_INDEXES))]
    _INDEXES[tags] = index
    return index


def _version(text: str) -> semver.Version | None:
    """`semver.parse_version`, remembered by text (None: not a version)."""
    known = _VERSIONS.get(text, _UNKNOWN)
    if known is not _UNKNOWN:
        return cast("semver.Version | None", known)
    version = semver.try_parse_version(text)
    if len(_VERSIONS) >= _VERSIONS_KEPT:
        _VERSIONS.clear()
    _VERSIONS[text] = version
    return version


def filter_tags(
    tags: Sequence[str], tag_filter: image.TagFilter
) -> tuple[list[Candidate], list[tuple[str, Fate]]]:
    """filter.go: the candidates (one per value, in order of first appearance, each standing for
    the last tag that gave it) and the tags passed over; raises the InvalidPolicy PolicyError."""
    pattern = tag_filter.pattern or ""
    try:
        compiled = compile_go(pattern)
    except GoRegexpError as exc:
        raise PolicyError(INVALID_POLICY_REASON, invalid_pattern_message(pattern, str(exc))) from exc
    kept: dict[str, str] = {}
    passed_over: list[tuple[str, Fate]] = []
    for tag in tags:
        match = compiled.search(tag)
        if match is None:
            passed_over.append((tag, Fate.FILTERED_OUT))
            continue
        value = compiled.expand(tag_filter.extract, match) if tag_filter.extract else tag
        if value in kept:
            passed_over.append((kept[value], Fate.SHADOWED))
        kept[value] = tag
    return [Candidate(tag, value) for value, tag in kept.items()], passed_over


def rank(candidates: Sequence[Candidate], rule: Policer) -> tuple[tuple[Candidate, ...], list[Candidate]]:
    """The candidates the policer orders, latest first, and those semver ignores; raises the
    Failure PolicyError when it cannot choose."""
    if not candidates:
        raise PolicyError(FAILURE_REASON, EMPTY_LIST)
    if isinstance(rule, SemVerPolicer):
        return _rank_semver(candidates, rule.constraint)
    if rule.kind == "alphabetical":
        ordered = sorted(candidates, key=lambda c: c.value, reverse=rule.order == "ASC")
        return tuple(ordered), []
    return _rank_numerical(candidates, rule.order), []


def _rank_semver(
    candidates: Sequence[Candidate], constraint: semver.Constraint
) -> tuple[tuple[Candidate, ...], list[Candidate]]:
    ignored: list[Candidate] = []
    matching: list[tuple[semver.Version, Candidate]] = []
    for candidate in candidates:
        version = _version(candidate.value)
        if version is None:
            ignored.append(candidate)
            continue
        if constraint.check(version):
            matching.append((version, candidate))
        else:
            ignored.append(candidate)
    if not matching:
        raise PolicyError(FAILURE_REASON, NO_SEMVER_MATCH)
    # Stable: of equal versions the first stays first, as semver.go's strict GreaterThan keeps it.
    matching.sort(key=lambda item: item[0].key(), reverse=True)
    return tuple(c for _, c in matching), ignored


def _numbers(candidates: Sequence[Candidate]) -> list[float]:
    numbers: list[float] = []
    for candidate in candidates:
        number = parse_go_float(candidate.value)
        if number is None:
            raise PolicyError(FAILURE_REASON, invalid_number_message(candidate.value))
        numbers.append(number)
    return numbers


def _numerical_best(numbers: Sequence[float], order: str) -> int:
    """numerical.go's loop, comparisons and NaN included: a value replaces the latest unless it
    is strictly worse, so the last of equal numbers wins."""
    best = 0
    for i in range(1, len(numbers)):
        worse = numbers[i] < numbers[best] if order == "ASC" else numbers[i] > numbers[best]
        if not worse:
            best = i
    return best


def _rank_numerical(candidates: Sequence[Candidate], order: Literal["ASC", "DESC"]) -> tuple[Candidate, ...]:
    numbers = _numbers(candidates)
    best = _numerical_best(numbers, order)
    sign = -1.0 if order == "ASC" else 1.0

    def key(i: int) -> tuple[bool, float, int]:
        return (math.isnan(numbers[i]), 0.0 if math.isnan(numbers[i]) else sign * numbers[i], -i)

    rest = sorted((i for i in range(len(numbers)) if i != best), key=key)
    return tuple(candidates[i] for i in [best, *rest])


_D = r"[0-9](?:_?[0-9])*"
_H = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_DECIMAL = re.compile(rf"[+-]?(?:{_D}(?:\.(?:{_D})?)?|\.{_D})(?:[eE][+-]?{_D})?")
_HEX = re.compile(rf"[+-]?0[xX](?:_?{_H}(?:\.(?:{_H})?)?|\.{_H})[pP][+-]?{_D}")
_SPECIAL = re.compile(r"(?i)([+-]?)(inf|infinity)|nan")


def parse_go_float(text: str) -> float | None:
    """Go's `strconv.ParseFloat(text, 64)`, or None where it returns an error (not a number,
    or out of float64's range). Underscores may separate digits (`underscoreOK`)."""
    if _DECIMAL.fullmatch(text):
        number = float(text.replace("_", ""))
    elif _HEX.fullmatch(text):
        try:
            number = float.fromhex(text.replace("_", ""))
        except OverflowError:
            return None
    elif special := _SPECIAL.fullmatch(text):
        if special[2] is None:
            return math.nan
        return -math.inf if special[1] == "-" else math.inf
    else:
        return None
    return None if math.isinf(number) else number
