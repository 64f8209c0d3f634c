"""Why an ImageUpdateAutomation commits, or why it does not: the chain from the tags an
ImageRepository scanned to the fields the Setters strategy would set.

What it does: `explain(automation, policies, checkout)` takes plain values the caller gathered
(the automation's spec and status in brief, the ImagePolicies of its namespace with their
ImageRepositories' tags, and the files of the checkout) and returns an `Explanation`:

- per policy, the tag funnel: tags scanned, excluded by the repository's `exclusionList`, in the
  tag database, filtered out by `filterTags.pattern`, shadowed by a later tag extracting the same
  value, the candidates, and for semver the tags that are no versions, outside the range or
  pre-releases the range skips; the tag chosen and the runners-up in order; and the policy's
  `latestRef` (or why it has none);
- per file under `update.path`, every marker and its outcome (`setters.markers`), with the
  markers that name no usable policy said in words: another namespace, not selected, no latest
  image, or no such policy (with the closest existing name);
- a verdict: `would commit: N change(s) in M file(s)`, or the causes of no commit, most likely
  first: suspended; the files could not be read; no policy selected; no selected policy has a
  latest image; the update failed; no marker under `update.path` (and whether files elsewhere
  carry some: the path is wrong); markers naming policies not selected or missing; every value
  already current.

`render(explanation)` writes it for a terminal: headed sections, one line per item, no colour, and
long lists cut to their first five with `… and N more`. The same explanation renders the same
text.

How Flux decides (learned from image-automation-controller `internal/controller/
imageupdateautomation_controller.go`: `getPolicies`, the reconcile's suspend check and
`failed to apply policies`; `internal/update` through `setters`; image-reflector-controller's
tag selection through `policy`): the automation reads the ImagePolicies of its own namespace that
its `policySelector` matches and that have a `status.latestRef`; nothing else names a setter.
`update.path` is joined to the checkout as `securejoin` does (`..` stops at the root). Our own
code.

Callers: the `explain imageupdateautomation` command, which gathers the values from the cluster,
the tag database and the source's checkout; tests. Pure functions over values: no cluster, no
clock, no controller imports; it must never fetch anything itself.

Deliberate differences from Flux: Flux explains nothing; it logs `no changes made in the source;
no commit` and reports `repository up-to-date` whether or not it pushed. The funnel re-runs the
policy's selection on the tags given, so it can differ from `latestRef` when the policy has not
reconciled since the last scan: the explanation says so. Markers are listed in full; only tag
lists and the verdict's lists are cut.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from gitops_sim.images import policy as imagepolicy
from gitops_sim.images import setters
from gitops_sim.images import tags as imagetags
from gitops_sim.model import archives, semver
from gitops_sim.model.fluxapi import image

SHOWN = 5
"""How many items of a list the text shows before `… and N more`."""

# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class Ready:
    """An object's Ready condition, in brief."""

    status: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Automation:
    """The ImageUpdateAutomation, in brief."""

    namespace: str
    name: str
    path: str = ""
    """`spec.update.path` as written; "" when omitted (the repository's root)."""
    selector: str = ""
    """The `policySelector` as text (`app=web`); "" when omitted (every policy)."""
    suspend: bool = False
    ready: Ready | None = None
    last_push_commit: str | None = None
    last_push_time: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Repository:
    """The ImageRepository a policy reads, and what its scans left in the tag database."""

    name: str
    image: str
    tags: tuple[str, ...] | None
    """The tags in the database, in its order; None when there was no scan yet."""
    exclusion_list: tuple[str, ...] = imagetags.DEFAULT_EXCLUSION_LIST
    excluded: tuple[str, ...] | None = None
    """The tags the last scan left out by the exclusion list, when known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """One ImagePolicy of the automation's namespace."""

    name: str
    selected: bool
    """Whether the automation's policySelector matches it."""
    spec: image.ImagePolicySpec
    repository: Repository | None
    """None when the ImageRepository it names does not exist (or may not be read)."""
    latest: image.ImageRef | None = None
    """`status.latestRef`."""
    ready: Ready | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkout:
    """The source's files at the revision the automation would check out, or why there are none."""

    revision: str = ""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Every file of the checkout, by path from the repository's root with `/` separators."""
    error: str | None = None
    """Why the files could not be read (`source not ready: …`, `checkout failed: …`)."""


# ---------------------------------------------------------------------------------------------
# The explanation


@dataclass(frozen=True, slots=True)
class Funnel:
    """What became of a repository's tags under one policy."""

    scanned: int | None
    """Tags the scan found: those stored plus those excluded; None when the exclusions are unknown."""
    excluded: tuple[str, ...] | None
    in_database: int
    filtered_out: tuple[str, ...] = ()
    shadowed: tuple[str, ...] = ()
    """Tags whose extracted value a later tag also gave (the later one stands for both)."""
    candidates: int = 0
    not_versions: tuple[str, ...] = ()
    outside_range: tuple[str, ...] = ()
    prereleases: tuple[str, ...] = ()
    """Versions whose release would be in the range, skipped because the range names no pre-release."""
    ranked: tuple[imagepolicy.Candidate, ...] = ()
    """The candidates the policy ordered, the chosen one first."""
    error: str | None = None
    """Why the policy cannot choose, in Flux's words."""

    @property
    def chosen(self) -> imagepolicy.Candidate | None:
        return self.ranked[0] if self.ranked else None


@dataclass(frozen=True, slots=True)
class PolicyExplanation:
    """One policy: how it chooses, what it chose, and whether the automation uses it."""

    name: str
    setter: str
    selected: bool
    rule: str
    pattern: str | None
    extract: str | None
    repository: str
    exclusion_list: tuple[str, ...]
    funnel: Funnel | None
    """None when there are no tags to funnel (`no_funnel` says why)."""
    no_funnel: str
    latest: image.ImageRef | None
    note: str
    """Why there is no latest image, or that the tags now give another one."""

    @property
    def used(self) -> bool:
        """Whether the automation reads it: selected, with a latest image."""
        return self.selected and self.latest is not None


class Reason(enum.StrEnum):
    """Why no commit, most likely first."""

    SUSPENDED = "Suspended"
    SOURCE_UNREADABLE = "SourceUnreadable"
    NO_POLICY_SELECTED = "NoPolicySelected"
    NO_LATEST_IMAGE = "NoLatestImage"
    UPDATE_FAILED = "UpdateFailed"
    NO_MARKER_UNDER_PATH = "NoMarkerUnderPath"
    UNKNOWN_POLICIES = "UnknownPolicies"
    ALL_CURRENT = "AllCurrent"
    NOTHING_TO_CHANGE = "NothingToChange"


@dataclass(frozen=True, slots=True)
class Cause:
    reason: Reason
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the next run would do with these inputs."""

    changes: int
    files: int
    causes: tuple[Cause, ...]
    """Why there would be no commit, most likely first; empty when it would commit."""
    notes: tuple[str, ...]

    @property
    def commits(self) -> bool:
        return not self.causes

    @property
    def line(self) -> str:
        if self.commits:
            return f"would commit: {self.changes} change(s) in {self.files} file(s)"
        return f"no commit: {self.causes[0].message}"


@dataclass(frozen=True, slots=True)
class Explanation:
    automation: Automation
    path: str
    """`update.path` joined to the repository's root as Flux joins it; "" for the root."""
    revision: str
    source_error: str | None
    policies: tuple[PolicyExplanation, ...]
    markers: tuple[setters.Marker, ...]
    """The markers under `path`, in file and line order."""
    elsewhere: tuple[setters.Marker, ...]
    """Markers in files outside `path` (none when `path` is the root)."""
    verdict: Verdict


REAL = (setters.Outcome.CHANGED, setters.Outcome.CURRENT, setters.Outcome.UNKNOWN_POLICY)
"""The outcomes of a well-formed marker on a field Flux sets."""


# ---------------------------------------------------------------------------------------------
# Building it


def explain(automation: Automation, policies: Sequence[Policy], checkout: Checkout) -> Explanation:
    """The explanation of one automation (see the module docstring)."""
    ordered = sorted(policies, key=lambda p: p.name)
    views = tuple(_policy(automation.namespace, p) for p in ordered)
    path = join_path(automation.path)
    given = {
        setters.PolicyName(automation.namespace, p.name): p.latest
        for p in ordered
        if p.selected and p.latest is not None
    }
    found: tuple[setters.Marker, ...] = ()
    elsewhere: tuple[setters.Marker, ...] = ()
    update_error: str | None = None
    if checkout.error is None:
        inside = {f: data for f, data in checkout.files.items() if _under(f, path)}
        outside = {f: data for f, data in checkout.files.items() if not _under(f, path)}
        try:
            found = setters.markers(inside, given)
            elsewhere = tuple(m for m in setters.markers(outside, given) if m.outcome in REAL)
        except setters.UpdateError as exc:
            update_error = f"failed to apply policies: {exc}"
        by_name = {p.name: p for p in ordered}
        found = tuple(_reword(m, automation.namespace, by_name) for m in found)
    verdict = _verdict(automation, path, ordered, views, checkout, found, elsewhere, update_error)
    return Explanation(automation, path, checkout.revision, checkout.error, views, found, elsewhere, verdict)


join_path = archives.secure_join
"""`update.path` relative to the checkout's root, as `securejoin` resolves it."""


def _under(file: str, path: str) -> bool:
    return not path or file == path or file.startswith(path + "/")


def _rule(choice: image.ImagePolicyChoice) -> str:
    if choice.semver is not None:
        return f'semver range "{choice.semver.range}"'
    if choice.alphabetical is not None:
        return f"alphabetical {choice.alphabetical.order}"
    if choice.numerical is not None:
        return f"numerical {choice.numerical.order}"
    return "no ordering"


def _policy(namespace: str, p: Policy) -> PolicyExplanation:
    ref = p.spec.image_repository_ref
    repo = p.repository
    if repo is None:
        repository, no_funnel = f"{ref.name} (not found)", f"ImageRepository {ref.name} not found"
    else:
        repository = f"{repo.name} ({repo.image})"
        no_funnel = "no scan yet" if repo.tags is None else ""
    funnel = _funnel(repo.tags, repo, p.spec) if repo is not None and repo.tags is not None else None
    note = ""
    if p.latest is None:
        if p.ready is not None and p.ready.status != "True":
            note = f"{p.ready.reason}: {p.ready.message}"
        elif funnel is not None and funnel.error:
            note = funnel.error
        else:
            note = no_funnel or "the policy has not chosen yet"
    elif funnel is not None and funnel.chosen is not None and funnel.chosen.tag != p.latest.tag:
        note = f"the tags now give {funnel.chosen.tag}; the policy has not caught up yet"
    filters = p.spec.filter_tags
    return PolicyExplanation(
        name=p.name,
        setter=setters.PolicyName(namespace, p.name).setter,
        selected=p.selected,
        rule=_rule(p.spec.policy),
        pattern=filters.pattern if filters is not None else None,
        extract=filters.extract if filters is not None else None,
        repository=repository,
        exclusion_list=repo.exclusion_list if repo is not None else (),
        funnel=funnel,
        no_funnel=no_funnel,
        latest=p.latest,
        note=note,
    )


def _funnel(tags: tuple[str, ...], repo: Repository, spec: image.ImagePolicySpec) -> Funnel:
    """The funnel, stage by stage in the order `policy.select` runs them, kept as far as it got."""
    scanned = len(tags) + len(repo.excluded) if repo.excluded is not None else None
    start = Funnel(scanned, repo.excluded, len(tags))
    try:
        rule = imagepolicy.policer(spec.policy)
        if not tags:
            raise imagepolicy.PolicyError(imagepolicy.DEPENDENCY_NOT_READY_REASON, imagepolicy.NO_TAGS)
        passed: list[tuple[str, imagepolicy.Fate]] = []
        if spec.filter_tags is None:
            candidates = [imagepolicy.Candidate(tag, tag) for tag in tags]
        else:
            candidates, passed = imagepolicy.filter_tags(tags, spec.filter_tags)
    except imagepolicy.PolicyError as exc:
        return replace(start, error=exc.message)
    funnel = replace(
        start,
        filtered_out=tuple(t for t, fate in passed if fate is imagepolicy.Fate.FILTERED_OUT),
        shadowed=tuple(t for t, fate in passed if fate is imagepolicy.Fate.SHADOWED),
        candidates=len(candidates),
    )
    if isinstance(rule, imagepolicy.SemVerPolicer):
        funnel = _semver_fates(funnel, candidates, rule.constraint)
    try:
        ranked, _ = imagepolicy.rank(candidates, rule)
    except imagepolicy.PolicyError as exc:
        return replace(funnel, error=exc.message)
    return replace(funnel, ranked=ranked)


def _semver_fates(
    funnel: Funnel, candidates: Iterable[imagepolicy.Candidate], constraint: semver.Constraint
) -> Funnel:
    not_versions: list[str] = []
    outside: list[str] = []
    prereleases: list[str] = []
    for candidate in candidates:
        try:
            version = semver.parse_version(candidate.value)
        except semver.SemverError:
            not_versions.append(candidate.tag)
            continue
        if constraint.check(version):
            continue
        release = semver.Version(version.major, version.minor, version.patch)
        (prereleases if version.pre and constraint.check(release) else outside).append(candidate.tag)
    return replace(
        funnel, not_versions=tuple(not_versions), outside_range=tuple(outside), prereleases=tuple(prereleases)
    )


def _reword(marker: setters.Marker, namespace: str, policies: Mapping[str, Policy]) -> setters.Marker:
    """An unknown-policy marker's detail, told against every policy of the namespace."""
    if marker.outcome is not setters.Outcome.UNKNOWN_POLICY:
        return marker
    split = setters.split_setter(marker.setter)
    if split is None or split[1] not in setters.SETTER_PARTS:
        return marker
    named = split[0]
    if named.namespace != namespace:
        fix = f"{namespace}:{named.name}" if named.name in policies else f"{namespace}:<name>"
        why = (
            f'namespace "{named.namespace}" is not the automation\'s: a marker must name a policy '
            f"in {namespace} ({fix})"
        )
    elif named.name in policies:
        found = policies[named.name]
        if not found.selected:
            why = f"ImagePolicy {named.name} is not selected by the policySelector"
        else:
            why = f"ImagePolicy {named.name} has no latest image"
    else:
        close = difflib.get_close_matches(named.name, sorted(policies), n=1)
        why = f"no ImagePolicy {named.name} in {namespace}"
        if close:
            why += f" (closest: {namespace}:{close[0]})"
    return replace(marker, detail=why)


def _verdict(
    automation: Automation,
    path: str,
    policies: Sequence[Policy],
    views: Sequence[PolicyExplanation],
    checkout: Checkout,
    found: Sequence[setters.Marker],
    elsewhere: Sequence[setters.Marker],
    update_error: str | None,
) -> Verdict:
    changed = [m for m in found if m.outcome is setters.Outcome.CHANGED]
    causes: list[Cause] = []
    if automation.suspend:
        causes.append(
            Cause(
                Reason.SUSPENDED,
                "suspended: spec.suspend is true, so the controller does not run "
                f"(flux resume image update {automation.name} -n {automation.namespace})",
            )
        )
    if checkout.error is not None:
        causes.append(Cause(Reason.SOURCE_UNREADABLE, f"the files could not be read: {checkout.error}"))
    if not changed:
        causes += _no_change_causes(
            automation, path, policies, views, checkout, found, elsewhere, update_error
        )
    if not changed and not causes:
        causes.append(Cause(Reason.NOTHING_TO_CHANGE, "no marked value would change"))
    return Verdict(
        len(changed), len({m.path for m in changed}), tuple(causes), _notes(automation, views, found)
    )


def _no_change_causes(
    automation: Automation,
    path: str,
    policies: Sequence[Policy],
    views: Sequence[PolicyExplanation],
    checkout: Checkout,
    found: Sequence[setters.Marker],
    elsewhere: Sequence[setters.Marker],
    update_error: str | None,
) -> list[Cause]:
    causes: list[Cause] = []
    ns = automation.namespace
    selected = [v for v in views if v.selected]
    if not policies:
        causes.append(
            Cause(Reason.NO_POLICY_SELECTED, f"no policy selected: there is no ImagePolicy in {ns}")
        )
    elif not selected:
        selector = automation.selector or "(none)"
        causes.append(
            Cause(
                Reason.NO_POLICY_SELECTED,
                f"no policy selected: the policySelector {selector} matches none of the "
                f"{len(policies)} ImagePolicies in {ns}",
            )
        )
    elif not any(v.latest is not None for v in selected):
        why = [f"{v.name} ({v.note})" for v in selected]
        causes.append(Cause(Reason.NO_LATEST_IMAGE, "no selected policy has a latest image: " + _few(why)))
    if update_error is not None:
        causes.append(Cause(Reason.UPDATE_FAILED, update_error))
    if checkout.error is not None or update_error is not None:
        return causes
    real = [m for m in found if m.outcome in REAL]
    if not real:
        where = f'under update.path "{automation.path}"' if path else "in the repository"
        text = f"no file {where} carries a marker"
        if elsewhere:
            text += f"; files elsewhere do: {_few(_paths(elsewhere))}: the path is wrong"
        broken = [m for m in found if m.outcome not in REAL]
        if broken:
            text += f"; {len(broken)} comment(s) mention $imagepolicy but are not markers Flux reads"
        causes.append(Cause(Reason.NO_MARKER_UNDER_PATH, text))
    unknown = [m for m in real if m.outcome is setters.Outcome.UNKNOWN_POLICY]
    if unknown:
        named: dict[str, str] = {}
        for m in unknown:
            named.setdefault(m.setter, f"{m.setter} ({m.detail})")
        causes.append(
            Cause(
                Reason.UNKNOWN_POLICIES,
                "markers name policies that are not selected or do not exist: " + _few(named.values()),
            )
        )
    current = [m for m in real if m.outcome is setters.Outcome.CURRENT]
    if current and not unknown:
        causes.append(
            Cause(Reason.ALL_CURRENT, f"all {len(current)} marked value(s) already hold the policies' images")
        )
    elif current:
        causes.append(
            Cause(
                Reason.ALL_CURRENT,
                f"the other {len(current)} marked value(s) already hold the policies' images",
            )
        )
    return causes


def _notes(
    automation: Automation, views: Sequence[PolicyExplanation], found: Sequence[setters.Marker]
) -> tuple[str, ...]:
    notes: list[str] = []
    ready = automation.ready
    if ready is not None and ready.status == "False":
        notes.append(f"the last run failed: {ready.reason}: {ready.message}")
    for v in views:
        if v.used and v.note:
            notes.append(f"{v.name}: {v.note}")
    counts: dict[setters.Outcome, int] = {}
    for m in found:
        counts[m.outcome] = counts.get(m.outcome, 0) + 1
    for outcome, what in (
        (setters.Outcome.UNKNOWN_POLICY, "marker(s) name no usable policy and are left alone"),
        (setters.Outcome.NOT_A_MARKER, "comment(s) mention $imagepolicy but are not markers"),
        (setters.Outcome.LEFT_ALONE, "marker(s) are not on a field Flux sets"),
        (setters.Outcome.PROBLEM_FILE, "marker(s) are in files Flux skips as problem files"),
    ):
        if counts.get(outcome):
            notes.append(f"{counts[outcome]} {what} (see Markers)")
    return tuple(notes)


def _paths(found: Iterable[setters.Marker]) -> list[str]:
    return list(dict.fromkeys(m.path for m in found))


def _few(items: Iterable[str]) -> str:
    """The first `SHOWN` items, comma-separated, and how many more."""
    listed = list(items)
    text = ", ".join(listed[:SHOWN])
    if len(listed) > SHOWN:
        text += f", … and {len(listed) - SHOWN} more"
    return text


# ---------------------------------------------------------------------------------------------
# Rendering


def render(explanation: Explanation) -> str:
    """The explanation as text for a terminal (see the module docstring)."""
    lines: list[str] = []
    _render_automation(explanation, lines)
    lines.append("")
    _render_policies(explanation, lines)
    lines.append("")
    _render_markers(explanation, lines)
    lines.append("")
    _render_verdict(explanation.verdict, lines)
    return "\n".join(lines) + "\n"


def _render_automation(e: Explanation, lines: list[str]) -> None:
    a = e.automation
    lines.append(f"ImageUpdateAutomation {a.namespace}/{a.name}")
    lines.append(f"  suspend: {'true' if a.suspend else 'false'}")
    lines.append(f'  update.path: "{a.path}"' if a.path else "  update.path: (the repository's root)")
    selector = a.selector or "(none: every ImagePolicy in the namespace)"
    lines.append(f"  policySelector: {selector}")
    if a.ready is not None:
        lines.append(f"  Ready: {a.ready.status} {a.ready.reason}: {a.ready.message}")
    else:
        lines.append("  Ready: (no condition yet)")
    if a.last_push_commit:
        lines.append(f"  last push: {a.last_push_commit[:7]} at {a.last_push_time or '(unknown)'}")
    else:
        lines.append("  last push: none")
    if e.source_error is not None:
        lines.append(f"  checkout: {e.source_error}")
    else:
        lines.append(f"  checkout: {e.revision or '(revision unknown)'}")


def _render_policies(e: Explanation, lines: list[str]) -> None:
    selected = sum(1 for p in e.policies if p.selected)
    used = sum(1 for p in e.policies if p.used)
    lines.append(
        f"Policies ({len(e.policies)} in {e.automation.namespace}, {selected} selected, "
        f"{used} with a latest image)"
    )
    if not e.policies:
        lines.append("  (none)")
    for p in e.policies:
        state = "selected" if p.selected else "not selected"
        lines.append(f"  {p.name}: {state}, {p.rule}, ImageRepository {p.repository}")
        if p.funnel is None:
            lines.append(f"    tags: {p.no_funnel}")
        else:
            _render_funnel(p, p.funnel, lines)
        if p.latest is not None:
            digest = f"@{p.latest.digest}" if p.latest.digest else ""
            lines.append(f"    latestRef: {p.latest.name}:{p.latest.tag}{digest}")
        else:
            lines.append(f"    latestRef: none ({p.note})")
        if p.latest is not None and p.note:
            lines.append(f"    note: {p.note}")


def _counted(label: str, tags: Sequence[str]) -> str:
    return f"    {label}: {len(tags)}" + (f" ({_few(tags)})" if tags else "")


def _render_funnel(p: PolicyExplanation, f: Funnel, lines: list[str]) -> None:
    if f.scanned is not None and f.excluded is not None:
        lines.append(f"    scanned: {f.scanned}")
        lines.append(_counted("excluded by exclusionList", f.excluded))
    else:
        lines.append(
            f"    exclusionList: {', '.join(p.exclusion_list) or '(empty)'} (what it excluded is unknown)"
        )
    lines.append(f"    in database: {f.in_database}")
    if p.pattern is not None:
        lines.append(_counted(f'filtered out by pattern "{p.pattern}"', f.filtered_out))
    if f.shadowed:
        lines.append(_counted(f'shadowed (a later tag extracts the same "{p.extract}")', f.shadowed))
    lines.append(f"    candidates: {f.candidates}")
    for label, tags in (
        ("not versions", f.not_versions),
        ("outside the range", f.outside_range),
        ("pre-releases skipped", f.prereleases),
    ):
        if tags:
            lines.append(_counted(label, tags))
    if f.chosen is not None:
        lines.append(f"    chosen: {_candidate(f.chosen)}")
        rest = [_candidate(c) for c in f.ranked[1:]]
        lines.append(f"    runners-up: {_few(rest) if rest else '(none)'}")
    if f.error is not None:
        lines.append(f"    error: {f.error}")


def _candidate(c: imagepolicy.Candidate) -> str:
    return c.tag if c.value == c.tag else f"{c.tag} ({c.value})"


def _render_markers(e: Explanation, lines: list[str]) -> None:
    where = f'under update.path "{e.automation.path}"' if e.path else "in the repository"
    files = _paths(e.markers)
    lines.append(f"Markers {where} ({len(e.markers)} in {len(files)} file(s))")
    if e.source_error is not None:
        lines.append(f"  (not read: {e.source_error})")
    elif not e.markers:
        lines.append("  (none)")
    for path in files:
        lines.append(f"  {path}")
        for m in e.markers:
            if m.path == path:
                lines.append(f"    line {m.line}: {_marker(m)}")
    if e.elsewhere:
        others = _paths(e.elsewhere)
        lines.append(f"  elsewhere in the repository: {len(e.elsewhere)} in {_few(others)}")


def _marker(m: setters.Marker) -> str:
    setter = m.setter or "(no setter)"
    if m.outcome is setters.Outcome.CHANGED:
        return f"{setter} changed: {_one_line(m.value)} -> {_one_line(m.new_value or '')}"
    if m.outcome is setters.Outcome.CURRENT:
        return f"{setter} current: {_one_line(m.value)}"
    return f"{setter} {m.outcome}: {m.detail}"


def _one_line(value: str) -> str:
    """A value on one line: `""` for the empty string, line breaks escaped."""
    if not value:
        return '""'
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _render_verdict(v: Verdict, lines: list[str]) -> None:
    lines.append("Verdict")
    if v.commits:
        lines.append(f"  {v.line}")
    else:
        lines.append("  no commit, because (most likely first):")
        lines.extend(f"  - {c.message}" for c in v.causes)
    if v.notes:
        lines.append("Notes")
        lines.extend(f"  - {n}" for n in v.notes)
