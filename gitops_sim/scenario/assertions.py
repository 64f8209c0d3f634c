"""Expectations and invariants: what a scenario checks, and the message when it does not hold.

`check` evaluates one expectation against the live cluster and the trace and returns None when it
holds, or a message that shows what was expected and what was found. `invariants` runs the kstatus
checks of fluxcd/pkg `runtime/conditions/check` on every Flux object after each step ("Ready
condition must be present once conditions are", "only one of Reconciling or Stalled may be True",
"observedGeneration must not exceed generation").

Callers: `scenario.runner`. Read-only: nothing here writes to the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gitops_sim.cluster import backend, errors
from gitops_sim.engine import trace as traces
from gitops_sim.model import conditions, fluxapi, matching, objects, refs
from gitops_sim.notification import providers
from gitops_sim.scenario import schema
from gitops_sim.sources import git

_VAR = re.compile(r"\$\$\{|\$\{([^}]+)\}")  # `$${...}` is a literal `${...}`


class RefError(Exception):
    pass


def resolve_ref(cluster: backend.Cluster, text: str) -> refs.ObjectRef:
    """`Kind/namespace/name` or `Kind/name` (a kind may be written `Kind.group`) to an ObjectRef."""
    parts = text.split("/")
    kind, _, group = parts[0].partition(".")
    candidates = [k for k in cluster.kinds_named(kind) if not group or k.gvk.group == group]
    if not candidates:
        raise RefError(f"{text}: the cluster serves no kind {parts[0]!r} (is its CRD installed?)")
    core = [c for c in candidates if not c.gvk.group]
    if len(candidates) > 1 and not group and core:
        candidates = core  # the core group first, as kubectl resolves `Event` (not events.k8s.io)
    if len(candidates) > 1:
        options = ", ".join(f"{kind}.{c.gvk.group}" for c in candidates)
        raise RefError(f"{text}: {kind!r} is ambiguous; write one of {options}")
    info = candidates[0]
    if info.namespaced and len(parts) != 3:
        raise RefError(f"{text}: {kind} is namespaced; write {kind}/<namespace>/<name>")
    if not info.namespaced and len(parts) != 2:
        raise RefError(f"{text}: {kind} is cluster-scoped; write {kind}/<name>")
    namespace = parts[1] if info.namespaced else ""
    return refs.ObjectRef(info.gvk.group, info.gvk.kind, namespace, parts[-1])


def expand(value: Any, lookup: Callable[[str], str]) -> Any:
    if isinstance(value, matching.Match):
        return matching.Match(value.how, expand(value.pattern, lookup))
    if isinstance(value, str):
        return _VAR.sub(lambda m: "${" if m.group(0) == "$${" else lookup(m.group(1)), value)
    if isinstance(value, dict):
        return {k: expand(v, lookup) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, lookup) for v in value]
    return value


_show = matching.show


REDACTED = "<secret>"


def secret_field(kind: str, path: str) -> bool:
    """Whether `path` of an object of `kind` holds secret values: a Secret's `data` and
    `stringData`. Timelines, traces and failures show `REDACTED` in their place."""
    return kind == "Secret" and path.split(".", 1)[0].split("[", 1)[0] in ("data", "stringData")


def check(
    item: schema.Expectation,
    cluster: backend.Cluster,
    events: list[traces.Record],
    lookup: Callable[[str], str],
) -> str | None:
    if item.kind == "order":
        return _check_order(expand(item.want, lookup)["events"], cluster, events)
    ref = resolve_ref(cluster, item.object)
    want = expand(item.want, lookup)
    if item.kind == "event":
        return _check_event(ref, want, events)
    try:
        live = cluster.get(ref)
    except errors.NotFound:
        return None if item.kind == "absent" else f"{ref} does not exist"
    if item.kind == "absent":
        return f"{ref} still exists"
    if item.kind == "object":
        problems = []
        for path, expected in want.items():
            actual = objects.get_path(live, objects.parse_path(path))
            if expected is None:  # `null` expects the field to be absent, as the API treats them alike
                absent = actual is objects.MISSING or actual is None
                found = [] if absent else [f"{path}: expected it absent, got {_show(actual)}"]
            else:
                found = matching.problems(expected, actual, path)
            if found and secret_field(ref.kind, path):
                found = [f"{path}: not the expected value (a Secret's data is not shown)"]
            problems += found
        return f"{ref}: " + "; ".join(problems) if problems else None
    cond = conditions.get(live, want["type"])
    if cond is None:
        have = [c.get("type") for c in conditions.all_of(live)]
        return f"{ref} has no {want['type']} condition (conditions: {', '.join(map(str, have)) or 'none'})"
    diffs = [
        f"{k}: expected {_show(v)}, got {_show(cond.get(k, objects.MISSING))}"
        for k, v in want.items()
        if k != "type" and not matching.holds(v, cond.get(k, objects.MISSING))
    ]
    if not diffs:
        return None
    actual = f"{cond.get('status')} {cond.get('reason')} {cond.get('message')!r}"
    return f"{ref} condition {want['type']}: " + "; ".join(diffs) + f"\n  actual: {actual}"


def check_commits(
    item: schema.Expectation, commits: list[git.CommitInfo], branch: str, lookup: Callable[[str], str]
) -> str | None:
    """A `commit` expectation against the commits made on `branch` since the last action step
    began (newest first), or a `no-commit` one."""
    want = expand(item.want, lookup)
    where = f"{item.object}@{branch}"
    if item.kind == "no-commit":
        if not commits:
            return None
        listed = "\n".join(
            f"  - {c.sha[:7]} {c.author_name} <{c.author_email}>: {_subject(c)!r}" for c in commits
        )
        return f"{where}: expected no commit, found {len(commits)}:\n{listed}"
    if not commits:
        return f"{where}: no commit since the last action step"
    misses = []
    for commit in commits:
        problems = _commit_problems(commit, want)
        if not problems:
            return None
        misses.append(f"  - {commit.sha[:7]} {_subject(commit)!r}: " + "; ".join(problems))
    return f"{where}: no commit matches; the commits since the last action step:\n" + "\n".join(misses)


def check_notifications(
    item: schema.Expectation, notices: list[providers.Notice], lookup: Callable[[str], str]
) -> str | None:
    """A `notification` expectation against what its sink received since the last action step
    (`count`: exactly that many match, default at least one), or a `no-notification` one."""
    want = expand(item.want, lookup)
    matching = [n for n in notices if _notice_matches(n, want)]
    wanted = ", ".join(f"{k}={_show(v)}" for k, v in sorted(want.items()) if k != "count") or "anything"
    seen = "\n".join(f"  - {n.severity} {n.object}: {n.message!r}" for n in notices[-5:]) or "  (none)"
    if item.kind == "no-notification":
        if not matching:
            return None
        return f"{item.object}: expected no notification with {wanted}, received {len(matching)}:\n{seen}"
    count = want.get("count")
    if (count is None and matching) or (count is not None and len(matching) == count):
        return None
    expected = f"{count}" if count is not None else "at least one"
    return (
        f"{item.object}: expected {expected} notification(s) with {wanted}, received {len(matching)} "
        f"since the last action step; what it received:\n{seen}"
    )


def _notice_matches(notice: providers.Notice, want: dict[str, Any]) -> bool:
    if "severity" in want and notice.severity != want["severity"]:
        return False
    if "message" in want and not matching.holds(want["message"], notice.message):
        return False
    if "reason" in want and not matching.holds(want["reason"], notice.reason):
        return False
    if "object" in want:
        kind, _, rest = str(want["object"]).partition("/")
        got_kind, _, got_rest = notice.object.partition("/")
        if kind.lower() != got_kind.lower() or rest != got_rest:
            return False
    return True


def _subject(commit: git.CommitInfo) -> str:
    return commit.message.split("\n", 1)[0]


def _commit_problems(commit: git.CommitInfo, want: dict[str, Any]) -> list[str]:
    problems = []
    if "message" in want and not matching.holds(want["message"], commit.message):
        problems.append(f"message: expected {_show(want['message'])}, got {_show(commit.message)}")
    author = f"{commit.author_name} <{commit.author_email}>"
    if "author" in want and not matching.holds(want["author"], author):
        problems.append(f"author: expected {_show(want['author'])}, got {_show(author)}")
    files = sorted(f.path for f in commit.files)
    if "files" in want and files != want["files"]:
        problems.append(f"files: expected {_show(want['files'])}, got {_show(files)}")
    if "diff" in want and str(want["diff"]) not in commit.diff:
        problems.append(f"diff: does not contain {_show(want['diff'])}")
    return problems


def _check_order(
    wanted: list[dict[str, Any]], cluster: backend.Cluster, events: list[traces.Record]
) -> str | None:
    """One event matching each of `wanted`, each later in the trace than the one before."""
    at = 0
    for i, want in enumerate(wanted):
        ref = str(resolve_ref(cluster, want["object"]))
        rest = {k: v for k, v in want.items() if k != "object"}
        found = next(
            (
                j
                for j in range(at, len(events))
                if events[j].get("object") == ref
                and all(matching.holds(v, events[j].get(k, objects.MISSING)) for k, v in rest.items())
            ),
            None,
        )
        if found is None:
            shown = ", ".join(f"{k}={_show(v)}" for k, v in sorted(rest.items()))
            after = "" if i == 0 else " after the one before it"
            return f"order: no event of {ref} with {shown or 'anything'}{after} (item {i})"
        at = found + 1
    return None


def _check_event(ref: refs.ObjectRef, want: dict[str, Any], events: list[traces.Record]) -> str | None:
    mine = [e for e in events if e.get("object") == str(ref)]
    for event in mine:
        if all(matching.holds(v, event.get(k, objects.MISSING)) for k, v in want.items()):
            return None
    wanted = ", ".join(f"{k}={_show(v)}" for k, v in sorted(want.items()))
    seen = "\n".join(f"  - {e['type']} {e['reason']}: {e['message']!r}" for e in mine[-5:]) or "  (none)"
    return f"no event for {ref} with {wanted} since the last action step; its events:\n{seen}"


def invariants(cluster: backend.Cluster) -> list[str]:
    problems = []
    for kind in fluxapi.KINDS:
        info = cluster.find_kind(refs.GroupKind(kind.group, kind.kind))
        if info is None or info.gvk.version != kind.storage.name:
            continue
        for obj in cluster.read_list(info.gvk.group_kind):  # only looked at
            ref = objects.ref_of(obj)
            conds = conditions.all_of(obj)
            if conds and conditions.get(obj, conditions.READY) is None:
                problems.append(f"{ref}: Ready condition must always be present once conditions are set")
            if conditions.is_true(obj, conditions.RECONCILING) and conditions.is_true(
                obj, conditions.STALLED
            ):
                problems.append(f"{ref}: only one of Reconciling or Stalled may be True")
            observed = (obj.get("status") or {}).get("observedGeneration")
            generation = obj["metadata"].get("generation", 0)
            if isinstance(observed, int) and observed > generation:
                problems.append(f"{ref}: observedGeneration {observed} exceeds generation {generation}")
    return problems
