"""helm-controller's status bookkeeping: release snapshots, their digests, history, and Ready.

What it does, as pure functions over the HelmRelease status JSON (dicts, as stored) and
`storage.Release` records:
- `observation_json`/`release_digest`: Flux's `Observation` of a release and its digest, the
  `digest` of a `status.history` snapshot (what `state.StoredRelease.digest` is compared with);
- `snapshot`: the `v2.Snapshot` of a release, as stored in `status.history`; `observed_test_hooks`: its
  `testHooks` map;
- `record_release` (install, upgrade), `record_test`, `record_rollback`, `record_uninstall`,
  `record_unlock`: how each action's observer writes what Helm stored into `status.history`, new
  snapshot first; `truncate_history`: the history kept after a successful release;
- `post_renderers_digest`, `common_metadata_digest`: the observed digests of the spec;
- `record_last_attempt`, `summarize` (Ready from Remediated > TestSuccess > Released, Stalled
  removed when Ready, the observed digests) and `finish` (observedGeneration and
  lastHandledReconcileAt as the patch helper writes them at the end of a reconciliation).

IMPLEMENTATION DETAIL: the release digest.
Problem: Flux's digest is `sha256` over `json.NewEncoder(h).Encode(observation)`, Go's JSON of
its own struct holding Helm's `Info`, chart `Metadata` and `Hook` types. Any byte of difference
gives a digest that never matches a real controller's, and `state` reads a mismatch as
"release not observed to be made for object".
Solution: `observation_json` writes Go's output itself: struct fields in declaration order with
their `omitempty`/`omitzero` rules, map keys sorted, `<`, `>`, `&`, U+2028/2029 escaped,
floats as `encoding/json` formats them, times as Go's RFC 3339 with nanoseconds, and the
encoder's trailing newline. helm-controller's own test vector
(`Observation{Name: "foo"}` → `sha256:f1498f27…ce4d`, internal/release/digest_test.go) pins it.

Provenance: fluxcd/helm-controller v1.6 (Helm v4.2) internal/release/observation.go
(`ObserveRelease`, `IgnoreHookTestEvents`, `ObservedToSnapshot`, `TestHooksFromRelease`),
digest.go, util.go (`GetTestHooks`), internal/reconcile/release.go (`recordOnObject`,
`summarize`), install.go, upgrade.go, test.go, rollback_remediation.go, uninstall.go, unlock.go
(the `observe*` functions), api/v2/snapshot_types.go, internal/controller/
helmrelease_controller.go (last-attempt fields, the deferred patch); fluxcd/pkg chartutil
(`DigestValues`, via `values.digest`); helm/helm v4.2.1 pkg/release/v1 (`Info`, `Hook`,
`HookExecution` JSON), pkg/chart/v2 (`Metadata`, `Maintainer`, `Dependency` JSON). Behaviour
learned there; the code is ours.

Callers: the HelmRelease controller (after each Helm action and at the end of a
reconciliation). Never reads the cluster or the clock (times come in as RFC 3339 strings),
never runs Helm, never imports a controller, the kernel or the engine.

Differences, on purpose:
- Status dicts are returned as new values; the caller's dict is never changed.
- Condition order follows `gitops_sim.model.conditions` (the project's ordering), not
  fluxcd/pkg's; only the condition `summarize` picks for Ready is taken from Flux's sort.
- Integers of 1e21 or more in values are written as Python writes integers; Go holds YAML
  numbers as float64 and would write them in exponent form.
- Condition messages are not trimmed to fluxcd/pkg's maximum length.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from gitops_sim.helm import storage, values
from gitops_sim.model import conditions, objects
from gitops_sim.model.fluxapi import declare, helm

SNAPSHOT_API_VERSION = "v2"
"""`v2.CurrentSnapshotAPIVersion` (snapshots of releases made with Helm v4)."""

DEFAULT_MAX_HISTORY = 5
"""api/v2 `defaultMaxHistory`: snapshots kept when none before the latest is deployed."""

RELEASED = "Released"
REMEDIATED = "Remediated"
TEST_SUCCESS = "TestSuccess"
RECONCILE_REQUEST_ANNOTATION = "reconcile.fluxcd.io/requestedAt"

ReleaseAction = Literal["install", "upgrade", "test", "rollback", "uninstall", "unlock", ""]

_MAINTAINER_FIELDS = ("name", "email", "url")
_DEPENDENCY_FIELDS = (  # (json name, omitempty)
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("alias", True),
)
_IMAGE_FIELDS = (("name", False), ("newName", True), ("newTag", True), ("digest", True))
_SELECTOR_FIELDS = tuple(
    (key, True)
    for key in ("group", "version", "kind", "namespace", "name", "annotationSelector", "labelSelector")
)
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", re.IGNORECASE)


# --- Go's encoding/json ---------------------------------------------------------------------


def _go_string(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        quoted = quoted.replace(raw, escaped)
    return quoted.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _go_float(value: float) -> str:
    """`encoding/json`'s float64: shortest digits, `%f` form for 1e-6 ≤ |v| < 1e21, else `%e`
    with a two-digit exponent shortened to one digit when negative (`1e-07` → `1e-7`)."""
    if not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent
    text = "-" if sign else ""
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        exp = point - 1
        rest = mantissa[1:]
        exp_text = str(abs(exp)) if -10 < exp < 0 else f"{abs(exp):02d}"
        return f"{text}{mantissa[0]}{'.' + rest if rest else ''}e{'-' if exp < 0 else '+'}{exp_text}"
    if point <= 0:
        return f"{text}0.{'0' * -point}{mantissa}"
    if point >= len(mantissa):
        return text + mantissa + "0" * (point - len(mantissa))
    return f"{text}{mantissa[:point]}.{mantissa[point:]}"


def _go_json(value: Any) -> str:
    """A value (maps, lists, scalars) as Go's `encoding/json` writes it; dict order is kept
    (struct fields), so callers sort map keys themselves (see `_go_map`)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_go_string(str(k))}:{_go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_go_json(v) for v in value) + "]"
    raise TypeError(f"json: unsupported type: {type(value).__name__}")


def _go_map(value: Any) -> Any:
    """A `map[string]any` value with its keys sorted at every level, as Go writes maps."""
    if isinstance(value, Mapping):
        return {str(k): _go_map(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_go_map(v) for v in value]
    return value


def go_time(text: str) -> str:
    """An RFC 3339 time as Go's `time.Time` marshals it (RFC 3339 with nanoseconds, trailing
    zeros of the fraction dropped, `Z` for a zero offset)."""
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    base, fraction, zone = match.groups()
    fraction = (fraction or "")[:9].rstrip("0")
    zone = "Z" if zone.upper() == "Z" or zone in ("+00:00", "-00:00") else zone
    return f"{base.upper()}{'.' + fraction if fraction else ''}{zone}"


def meta_time(text: str) -> str | None:
    """An RFC 3339 time as a `metav1.Time` in the status: UTC, whole seconds (truncated).
    None for Go's zero time (marshalled as null, which the API server drops)."""
    if not text:
        return None
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    base, _, zone = match.groups()
    parsed = datetime.datetime.fromisoformat(base + ("+00:00" if zone.upper() == "Z" else zone))
    utc = parsed.astimezone(datetime.UTC)
    if utc.year == 1 and utc.month == 1 and utc.day == 1 and utc.time() == datetime.time():
        return None
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the Observation and its digest ----------------------------------------------------------


def _omitempty(out: dict[str, Any], key: str, value: Any) -> None:
    """Go's `omitempty`: leave out "", 0, false, nil and empty maps/slices."""
    if value is None or value is False or value == "" or value == 0 or value == [] or value == {}:
        return
    out[key] = value


def _metadata_json(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in storage.METADATA_FIELDS:
        value = meta.get(key)
        if key == "maintainers" and value:
            value = [_struct(m, ((k, True) for k in _MAINTAINER_FIELDS)) for m in value]
        elif key == "dependencies" and value:
            value = [_struct(d, _DEPENDENCY_FIELDS) for d in value]
        elif key == "annotations" and value:
            value = _go_map(value)
        _omitempty(out, key, value)
    return out


def _struct(data: Mapping[str, Any], fields: Any) -> dict[str, Any] | None:
    """A pointer to a struct (nil stays null) with these (json name, omitempty) fields."""
    if data is None:
        return None
    out: dict[str, Any] = {}
    for key, omit in fields:
        value = data.get(key)
        if key == "import-values" and value:
            value = _go_map(value)
        if omit:
            _omitempty(out, key, value)
        else:
            out[key] = "" if value is None else value
    return out


def _info_json(info: storage.Info) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (
        ("first_deployed", info.first_deployed),
        ("last_deployed", info.last_deployed),
        ("deleted", info.deleted),
    ):
        if value and meta_time(value) is not None:
            out[key] = go_time(value)
    _omitempty(out, "description", info.description)
    _omitempty(out, "status", info.status)
    _omitempty(out, "notes", info.notes)
    return out


def _hook_json(hook: storage.Hook) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _omitempty(out, "name", hook.name)
    _omitempty(out, "kind", hook.kind)
    _omitempty(out, "path", hook.path)
    _omitempty(out, "manifest", hook.manifest)
    _omitempty(out, "events", list(hook.events))
    run: dict[str, Any] = {}
    for key, value in (
        ("started_at", hook.last_run.started_at),
        ("completed_at", hook.last_run.completed_at),
    ):
        if value and meta_time(value) is not None:
            run[key] = go_time(value)
    run["phase"] = hook.last_run.phase
    out["last_run"] = run
    _omitempty(out, "weight", hook.weight)
    _omitempty(out, "delete_policies", list(hook.delete_policies))
    _omitempty(out, "output_log_policies", list(hook.output_log_policies))
    return out


def is_test_hook(hook: storage.Hook) -> bool:
    """Whether the hook runs on the `test` event (`IsHookForEvent(hook, HookTest)`)."""
    return "test" in hook.events


def observation_json(release: storage.Release, *, oci_digest: str = "") -> str:
    """Flux's `Observation` of the release as `json.Encoder` writes it (with its newline):
    chart metadata only, test hooks left out (`DefaultDataFilters`)."""
    hooks = [_hook_json(h) for h in release.hooks if not is_test_hook(h)]
    body: dict[str, Any] = {
        "name": release.name,
        "version": release.version,
        "info": _info_json(release.info),
        "chartMetadata": _metadata_json(release.chart.metadata),
        "config": _go_map(release.config) if release.config else None,
        "manifest": release.manifest,
        "hooks": hooks or None,
        "namespace": release.namespace,
    }
    _omitempty(body, "ociDigest", oci_digest)
    return _go_json(body) + "\n"


def release_digest(release: storage.Release, *, oci_digest: str = "") -> str:
    """`release.Digest(digest.Canonical, ObserveRelease(rls))`: `sha256:<hex>` of the Observation."""
    return _sha256(observation_json(release, oci_digest=oci_digest))


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def post_renderers_digest(spec: helm.HelmReleaseSpec) -> str:
    """`postrender.Digest(digest.Canonical, spec.postRenderers)`: sha256 of Go's JSON of the
    `[]v2.PostRenderer` (kustomize patches, then images); "" when the spec has none."""
    if spec.post_renderers is None:
        return ""
    items: list[dict[str, Any]] = []
    for renderer in declare.dump(spec.post_renderers):
        out: dict[str, Any] = {}
        kustomize = renderer.get("kustomize")
        if kustomize is not None:
            body: dict[str, Any] = {}
            patches = []
            for patch in kustomize.get("patches") or ():
                entry: dict[str, Any] = {"patch": patch.get("patch") or ""}
                if patch.get("target") is not None:
                    entry["target"] = _struct(patch["target"], _SELECTOR_FIELDS)
                patches.append(entry)
            _omitempty(body, "patches", patches)
            _omitempty(body, "images", [_struct(i, _IMAGE_FIELDS) for i in kustomize.get("images") or ()])
            out["kustomize"] = body
        items.append(out)
    return _sha256(_go_json(items) + "\n")


def common_metadata_digest(spec: helm.HelmReleaseSpec) -> str:
    """`postrender.CommonMetadataDigest`: sha256 of Go's JSON of `v2.CommonMetadata`
    (annotations, then labels); "" when the spec has none."""
    common = spec.common_metadata
    if common is None:
        return ""
    body: dict[str, Any] = {}
    _omitempty(body, "annotations", _go_map(common.annotations or {}))
    _omitempty(body, "labels", _go_map(common.labels or {}))
    return _sha256(_go_json(body) + "\n")


# --- snapshots ---------------------------------------------------------------------------------


def snapshot(
    release: storage.Release,
    *,
    action: ReleaseAction = "",
    oci_digest: str = "",
    test_hooks: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The `status.history` entry for the release (`ObservedToSnapshot`), as stored: fields in
    the Go struct's order, null times and empty optional fields left out."""
    info = release.info
    meta = release.chart.metadata
    out: dict[str, Any] = {
        "apiVersion": SNAPSHOT_API_VERSION,
        "digest": release_digest(release, oci_digest=oci_digest),
        "name": release.name,
        "namespace": release.namespace,
        "version": release.version,
        "status": info.status,
    }
    _omitempty(out, "action", action)
    out["chartName"] = str(meta.get("name") or "")
    out["chartVersion"] = str(meta.get("version") or "")
    _omitempty(out, "appVersion", str(meta.get("appVersion") or ""))
    out["configDigest"] = values.digest(release.config)
    for key, value in (
        ("firstDeployed", info.first_deployed),
        ("lastDeployed", info.last_deployed),
        ("deleted", info.deleted),
    ):
        stamped = meta_time(value)
        if stamped is not None:
            out[key] = stamped
    if test_hooks is not None:
        out["testHooks"] = {k: dict(v) for k, v in test_hooks.items()}
    _omitempty(out, "ociDigest", oci_digest)
    return out


def _selected(name: str, filters: Sequence[helm.Filter]) -> bool:
    """`isTestHookSelected`: an exclude filter wins; with include filters, only those."""
    includes = [f.name for f in filters if not f.exclude]
    if any(f.exclude and f.name == name for f in filters):
        return False
    return not includes or name in includes


def observed_test_hooks(
    release: storage.Release, filters: Sequence[helm.Filter] = ()
) -> dict[str, dict[str, Any]]:
    """`TestHooksFromRelease`: the release's selected test hooks by name, each with the
    `lastStarted`/`lastCompleted`/`phase` of its last run (`{}` when it never ran)."""
    out: dict[str, dict[str, Any]] = {}
    for hook in release.hooks:
        if not is_test_hook(hook) or not _selected(hook.name, filters):
            continue
        entry: dict[str, Any] = {}
        for key, value in (
            ("lastStarted", hook.last_run.started_at),
            ("lastCompleted", hook.last_run.completed_at),
        ):
            stamped = meta_time(value)
            if stamped is not None:
                entry[key] = stamped
        _omitempty(entry, "phase", hook.last_run.phase)
        out[hook.name] = entry
    return out


def targets(snap: Mapping[str, Any], release: storage.Release) -> bool:
    """`Snapshot.Targets`: same release name, namespace and version."""
    return (snap.get("name"), snap.get("namespace"), snap.get("version")) == (
        release.name,
        release.namespace,
        release.version,
    )


def _history(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(s) for s in status.get("history") or ()]


def _with_history(status: Mapping[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    out = objects.deep_copy(dict(status))
    if history:
        out["history"] = history
    else:
        out.pop("history", None)
    return out


def _resnapshot(
    release: storage.Release, old: Mapping[str, Any], action: ReleaseAction, keep_tests: bool
) -> dict[str, Any]:
    hooks = old.get("testHooks") if keep_tests else None
    return snapshot(release, action=action, oci_digest=str(old.get("ociDigest") or ""), test_hooks=hooks)


def record_release(
    status: Mapping[str, Any], observed: Sequence[storage.Release], action: Literal["install", "upgrade"]
) -> dict[str, Any]:
    """What an install or upgrade records (`recordOnObject` with the OCI-digest and action
    mutators): the newest version Helm wrote becomes the first snapshot, with the action and
    `lastAttemptedRevisionDigest`; of the older versions it wrote (an upgrade supersedes the
    previous one), the first that a snapshot targets is re-observed, keeping that snapshot's OCI
    digest and test hooks (and, as in Flux, without an action). `observed`: the last write of
    each version, any order; empty when Helm stored nothing."""
    if not observed:
        return objects.deep_copy(dict(status))
    by_version = sorted({r.version: r for r in observed}.values(), key=lambda r: -r.version)
    newest = by_version[0]
    oci = str(status.get("lastAttemptedRevisionDigest") or "")
    history = [snapshot(newest, action=action, oci_digest=oci), *_history(status)]
    for rel in by_version[1:]:
        for i, snap in enumerate(history):
            if targets(snap, rel):
                history[i] = _resnapshot(rel, snap, "", keep_tests=True)
                return _with_history(status, history)
    return _with_history(status, history)


def record_test(
    status: Mapping[str, Any], release: storage.Release, filters: Sequence[helm.Filter] = ()
) -> dict[str, Any]:
    """What a test run records (`observeTest`): when the release is the latest snapshot's, that
    snapshot is re-observed with the test hooks' results; other releases are ignored."""
    history = _history(status)
    if not history:
        return objects.deep_copy(dict(status))
    latest = max(range(len(history)), key=lambda i: int(history[i].get("version") or 0))
    snap = history[latest]
    if not targets(snap, release):
        return objects.deep_copy(dict(status))
    history = sorted(history, key=lambda s: -int(s.get("version") or 0))
    history[0] = snapshot(
        release,
        action=snap.get("action") or "",
        oci_digest=str(snap.get("ociDigest") or ""),
        test_hooks=observed_test_hooks(release, filters),
    )
    return _with_history(status, history)


def record_rollback(status: Mapping[str, Any], writes: Sequence[storage.Release]) -> dict[str, Any]:
    """What a rollback records (`observeRollback`), write by write in Helm's order: a version a
    snapshot targets is re-observed with action `rollback` (keeping OCI digest and test hooks);
    a new version (the rollback's own release) is prepended without an action."""
    history = _history(status)
    for rel in writes:
        for i, snap in enumerate(history):
            if targets(snap, rel):
                history[i] = _resnapshot(rel, snap, "rollback", keep_tests=True)
                break
        else:
            history = [snapshot(rel), *history]
    return _with_history(status, history)


def record_uninstall(
    status: Mapping[str, Any], writes: Sequence[storage.Release], action: ReleaseAction = "uninstall"
) -> dict[str, Any]:
    """What an uninstall records (`observeUninstall`): each written version that a snapshot
    targets is re-observed with `action`, keeping OCI digest and test hooks; others are ignored."""
    history = _history(status)
    for rel in writes:
        for i, snap in enumerate(history):
            if targets(snap, rel):
                history[i] = _resnapshot(rel, snap, action, keep_tests=True)
                break
    return _with_history(status, history)


def record_unlock(status: Mapping[str, Any], writes: Sequence[storage.Release]) -> dict[str, Any]:
    """What an unlock records (`observeUnlock`): the targeted snapshot is re-observed keeping
    its action and OCI digest; as in Flux, its test hooks are not carried over."""
    history = _history(status)
    for rel in writes:
        for i, snap in enumerate(history):
            if targets(snap, rel):
                history[i] = _resnapshot(rel, snap, snap.get("action") or "", keep_tests=False)
                break
    return _with_history(status, history)


def _has_failed_test(snap: Mapping[str, Any]) -> bool:
    return any((h or {}).get("phase") == "Failed" for h in (snap.get("testHooks") or {}).values())


def truncate_history(status: Mapping[str, Any], ignore_tests: bool) -> dict[str, Any]:
    """`Snapshots.Truncate`: newest first, kept down to the previous deployed or superseded
    snapshot (one without a failed test, unless `ignore_tests`); with none, the newest 5."""
    history = sorted(_history(status), key=lambda s: -int(s.get("version") or 0))
    if len(history) < 2:
        return _with_history(status, history)
    for i, snap in enumerate(history[1:], start=1):
        if snap.get("status") in ("deployed", "superseded") and (ignore_tests or not _has_failed_test(snap)):
            return _with_history(status, history[: i + 1])
    return _with_history(status, history[:DEFAULT_MAX_HISTORY])


# --- last attempt, summarize, finish -----------------------------------------------------------


def record_last_attempt(
    status: Mapping[str, Any], *, generation: int, chart_version: str, oci_digest: str, config_digest: str
) -> dict[str, Any]:
    """The fields set before the atomic release runs: lastAttemptedGeneration, -Revision,
    -RevisionDigest, -ConfigDigest; the legacy values checksum and lastReleaseRevision cleared."""
    out = objects.deep_copy(dict(status))
    out["lastAttemptedGeneration"] = generation
    _set_or_drop(out, "lastAttemptedRevision", chart_version)
    _set_or_drop(out, "lastAttemptedRevisionDigest", oci_digest)
    _set_or_drop(out, "lastAttemptedConfigDigest", config_digest)
    out.pop("lastAttemptedValuesChecksum", None)
    out.pop("lastReleaseRevision", None)
    return out


def _set_or_drop(out: dict[str, Any], key: str, value: str) -> None:
    if value:
        out[key] = value
    else:
        out.pop(key, None)


def _summary_order(conds: list[dict[str, Any]], summary: tuple[str, ...]) -> list[dict[str, Any]]:
    """Flux's `sort.SliceStable` of the conditions with summarize's comparator, which is not a
    strict order: emulated as Go runs it (insertion sort, for up to 20 conditions)."""

    def less(a: dict[str, Any], b: dict[str, Any]) -> bool:
        if a.get("type") not in summary:
            return False
        if b.get("type") not in summary:
            return True
        a_gen, b_gen = int(a.get("observedGeneration") or 0), int(b.get("observedGeneration") or 0)
        return a_gen >= b_gen and summary.index(str(a["type"])) < summary.index(str(b["type"]))

    out = list(conds)
    for i in range(1, len(out)):
        j = i
        while j > 0 and less(out[j], out[j - 1]):
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out


def summarize(
    obj: objects.RawObject,
    spec: helm.HelmReleaseSpec,
    *,
    now: str,
) -> objects.RawObject:
    """helm-controller's `summarize`: a copy of the HelmRelease whose Ready is the first of
    Remediated > TestSuccess > Released (TestSuccess only counts when tests are enabled and
    their failures not ignored; it is deleted when tests are disabled), newest observed
    generation first. Remediated makes Ready False; a True Ready removes Stalled. The observed
    post-renderers and common-metadata digests are set from the current spec. With no
    conditions at all, nothing changes.

    The conditions are taken in their stored order (fluxcd/pkg's, which `conditions` keeps):
    Flux's comparator is not a strict order, so the order can decide between a Released and a
    Remediated of different generations."""
    out = objects.deep_copy(obj)
    test = spec.test
    summary: tuple[str, ...] = (REMEDIATED, RELEASED)
    if test is not None and test.enable and not test.ignore_failures:
        summary = (REMEDIATED, TEST_SUCCESS, RELEASED)
    if test is None or not test.enable:
        conditions.delete(out, TEST_SUCCESS)
    conds = conditions.all_of(out)
    if not conds:
        return out
    first = _summary_order(conds, summary)[0]
    ready_status = str(first.get("status"))
    if first.get("type") == REMEDIATED:
        ready_status = conditions.Status.FALSE
    if ready_status == conditions.Status.TRUE:
        conditions.delete(out, conditions.STALLED)
    conditions.set_condition(
        out,
        conditions.READY,
        conditions.Status(ready_status),
        str(first.get("reason") or ""),
        str(first.get("message") or ""),
        now=now,
    )
    status = out.setdefault("status", {})
    _set_or_drop(status, "observedPostRenderersDigest", post_renderers_digest(spec))
    _set_or_drop(status, "observedCommonMetadataDigest", common_metadata_digest(spec))
    return out


def observes_generation(*, error: Literal["none", "terminal", "other"], requeue: bool) -> bool:
    """Whether the end-of-reconcile patch records observedGeneration: after a terminal error,
    or after success that asks for no immediate requeue (`patch.WithStatusObservedGeneration`).
    Waiting for a dependency or a chart is an "other" error here, as in Flux."""
    return error == "terminal" or (error == "none" and not requeue)


def finish(obj: objects.RawObject, *, observe_generation: bool) -> objects.RawObject:
    """The deferred patch's status: lastHandledReconcileAt from the requestedAt annotation, and
    observedGeneration when `observe_generation` (see `observes_generation`)."""
    out = objects.deep_copy(obj)
    status = out.setdefault("status", {})
    requested = objects.annotations_of(out).get(RECONCILE_REQUEST_ANNOTATION)
    if requested:
        status["lastHandledReconcileAt"] = requested
    if observe_generation:
        status["observedGeneration"] = int(objects.metadata(out).get("generation") or 0)
    return out
