"""Drift detection and correction of a Helm release, as helm-controller does it.

What it does: `detect` compares the objects of a release's manifest with the cluster. For each
object it reads the live object and runs a server-side apply dry-run of the manifest object
(field manager `helm-controller`, force), then diffs the live object against the dry-run result
as JSON patch operations; the result is a `DriftReport` with one `ObjectDrift` per object and
Flux's message strings (`Cluster state of release <ns>/<name>.v<N> has drifted from the desired
state:` with one line per object, the brief log summary, and `NoDriftDetected`'s message).
`correct` re-applies what drifted, as helm-controller's correct-cluster-drift step does: it
creates the missing objects and JSON-patches the changed ones with the diff's own operations,
and returns the change set and the event (`DriftCorrected` or `DriftCorrectionFailed`) to send.

Which changes count (fluxcd/pkg `ssa/jsondiff`):
- an object the dry-run would create (no resourceVersion) is `create` (it was deleted; the summary
  says "removed"); one with a non-empty patch is `update`; one equal is `none`;
- an object labelled or annotated `helm.toolkit.fluxcd.io/driftDetection: disabled` (in the
  manifest or on the live object), or whose ignore rules hold the root pointer "", is `exclude`;
- labels, annotations and the name are compared only for what the dry-run adds or replaces
  (labels others added to the live object are not drift); everything outside metadata and status
  is compared in full; status is never compared;
- `driftDetection.ignore` rules (JSON pointers, an optional target selector matched against the
  manifest object) remove their paths from both the live object and the dry-run result first.
The patch is wI2L/jsondiff's `Compare` with `Rationalize`: object keys in sorted order, arrays
index by index (removals at the first surplus index, additions at `/-`), scalars replaced, and a
container's operations replaced by one `replace` of the container when that is shorter as JSON.
Only `create` and `update` are changes (`DiffSet.HasChanges`).

Before the diff each manifest object gets the metadata Helm sets on what it installs
(`app.kubernetes.io/managed-by: Helm`, `meta.helm.sh/release-name`/`-namespace`) and, when it
has no namespace and its kind is namespaced, the release namespace (helm-controller
`action.Diff`). An object whose read or dry-run fails is left out of the report and its error
kept (Flux's `Graceful`): `DriftReport.error()` is the aggregate message; helm-controller treats
the release as Unknown when there are errors and no changes, and as Drifted otherwise.

Provenance: behaviour of helm-controller `internal/action/diff.go` (Diff, ApplyDiff, setHelmMetadata,
sortableDiffs, maskSensitiveErrData), `internal/diff/summarize.go`, `internal/reconcile/
correct_cluster_drift.go` and `atomic_release.go` (the Drifted branch and its messages),
`state.go` (DetermineReleaseState's use of the diff); fluxcd/pkg `ssa/jsondiff` (unstructured.go,
selector.go, patch.go) and wI2L/jsondiff v0.7 (differ.go, operation.go jsonLength); our own code.

Callers: the HelmRelease controller (the Drifted state and the correct-cluster-drift step) and a
local `diff helmrelease`. Works through the `cluster.backend.Cluster` protocol only.

Never: writes in `detect` (dry-runs only); sets conditions or sends events itself (it returns
their reason and message); decides the mode (the caller detects in `enabled` and `warn` and
corrects only in `enabled`).

Differences, on purpose:
- fluxcd/pkg compiles the ignore rules into a map keyed by the selector, so of several rules
  without a target only the last one counts; here every rule counts.
- helm-controller's `--override-manager` (disallowedFieldManagers, empty by default) is not
  modelled, nor ssa's scheme normalisation of the manifest objects (a typed round trip) and its
  HorizontalPodAutoscaler dry-run fix-up; Secret data in patches is not masked (nothing is logged).
- A JSON value's length for `Rationalize` is Python's compact JSON with Go's HTML escapes; Go
  writes an integral float as `1` where Python would write `1.0`, which only a float can show.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from gitops_sim.apply import changeset, drift, manager
from gitops_sim.cluster import backend, errors
from gitops_sim.helm import render
from gitops_sim.model import gojson, objects, refs
from gitops_sim.model.fluxapi import helm as helmapi

FIELD_MANAGER = "helm-controller"
"""Helm's `kube.ManagedFieldsManager` as helm-controller sets it (its controller name)."""

EXCLUSION_KEY = "helm.toolkit.fluxcd.io/driftDetection"
EXCLUSION_VALUE = "disabled"

DRIFTED_CONDITION = "Drifted"
DRIFT_DETECTED = "DriftDetected"
NO_DRIFT_DETECTED = "NoDriftDetected"
NO_DRIFT_MESSAGE = "No drift detected against the cluster state"
DRIFT_CORRECTED = "DriftCorrected"
DRIFT_CORRECTION_FAILED = "DriftCorrectionFailed"
CORRECTING_MESSAGE = "correcting cluster drift"
"""Ready=Unknown `Progressing` while the correction runs."""

_LAST_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


class DiffType(StrEnum):
    """fluxcd/pkg jsondiff.DiffType."""

    CREATE = "create"
    """The object is missing from the cluster: correcting it creates it."""
    UPDATE = "update"
    """The live object differs from the dry-run result."""
    EXCLUDE = "exclude"
    """Left out by the driftDetection label/annotation or a root ignore path."""
    NONE = "none"
    """In sync."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One RFC 6902 operation of an object's patch (live → desired)."""

    op: Literal["add", "replace", "remove"]
    path: str
    value: Any = None
    value_len: int = 0  # wI2L jsondiff's own length of the value, for Rationalize

    def as_json(self) -> dict[str, Any]:
        if self.op == "remove":
            return {"op": "remove", "path": self.path}
        return {"op": self.op, "path": self.path, "value": objects.clone(self.value)}

    def json_length(self) -> int:
        length = len('{"op":"","path":""}') + len(self.op) + len(self.path)
        if self.op != "remove":
            length += len(',"value":') + self.value_len
        return length


@dataclass(frozen=True, slots=True)
class ObjectDrift:
    """jsondiff.Diff: one manifest object against the cluster."""

    type: DiffType
    desired: objects.RawObject
    patch: tuple[Operation, ...] = ()

    @property
    def ref(self) -> refs.ObjectRef:
        return objects.ref_of(self.desired)

    @property
    def resource_name(self) -> str:
        """helm-controller diff.ResourceName: `Kind/namespace/name` (`Kind/name` unnamespaced)."""
        return str(self.ref)

    @property
    def paths(self) -> tuple[str, ...]:
        """The JSON pointers the patch touches, in patch order."""
        return tuple(op.path for op in self.patch)

    def counts(self) -> tuple[int, int, int]:
        """(additions, changes, removals) of the patch."""
        ops = [op.op for op in self.patch]
        return ops.count("add"), ops.count("replace"), ops.count("remove")


_SUMMARY_TYPES = (DiffType.CREATE, DiffType.UPDATE, DiffType.EXCLUDE)


@dataclass(frozen=True, slots=True)
class DriftReport:
    """jsondiff.DiffSet, in manifest order, and the errors of the objects left out."""

    diffs: tuple[ObjectDrift, ...]
    errors: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(d.type in (DiffType.CREATE, DiffType.UPDATE) for d in self.diffs)

    def error(self) -> str | None:
        """The aggregate error (k8s `utilerrors`: one message, or `[a, b]`), None when clean."""
        if not self.errors:
            return None
        return self.errors[0] if len(self.errors) == 1 else "[" + ", ".join(self.errors) + "]"

    def summary(self, include: Sequence[DiffType] = _SUMMARY_TYPES) -> str:
        """helm-controller SummarizeDiffSet: one `<Kind/ns/name> <what>` line per object."""
        lines = []
        for diff in self.diffs:
            if diff.type not in include:
                continue
            if diff.type is DiffType.UPDATE:
                added, changed, removed = diff.counts()
                what = f"changed ({added} additions, {changed} changes, {removed} removals)"
            else:
                what = {DiffType.NONE: "unchanged", DiffType.CREATE: "removed", DiffType.EXCLUDE: "excluded"}[
                    diff.type
                ]
            lines.append(f"{diff.resource_name} {what}")
        return "\n".join(lines)

    def brief(self, include: Sequence[DiffType] = _SUMMARY_TYPES) -> str:
        """helm-controller SummarizeDiffSetBrief: `removed: 1, changed: 3, excluded: 0`."""
        label = {
            DiffType.CREATE: "removed",
            DiffType.UPDATE: "changed",
            DiffType.EXCLUDE: "excluded",
            DiffType.NONE: "unchanged",
        }
        return ", ".join(f"{label[t]}: {sum(d.type is t for d in self.diffs)}" for t in include)

    def message(self, release: str) -> str:
        """The Drifted=True `DriftDetected` message and Warning event; `release` is the full
        release name `<namespace>/<name>.v<version>`."""
        return f"Cluster state of release {release} has drifted from the desired state:\n{self.summary()}"

    def log_message(self) -> str:
        """helm-controller's log line for the Drifted state."""
        return f"detected changes in cluster state: {self.brief()}"


@dataclass(frozen=True, slots=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Correction:
    """What `correct` did: the change set (created/configured) and the errors."""

    changes: tuple[changeset.Entry, ...]
    errors: tuple[str, ...]

    def event(self, release: str) -> Event | None:
        """The event correct-cluster-drift sends (None when nothing was done and nothing failed)."""
        done = "\n".join(str(e) for e in self.changes)
        if self.errors:
            partially = "partially " if self.changes else ""
            text = f"Failed to {partially}correct cluster state of release {release}:\n" + "\n".join(
                self.errors
            )
            if self.changes:
                text += "\n\nSuccessful corrections:\n" + done
            return Event("Warning", DRIFT_CORRECTION_FAILED, text)
        if self.changes:
            return Event(
                "Normal", DRIFT_CORRECTED, f"Cluster state of release {release} has been corrected:\n{done}"
            )
        return None


# ---------------------------------------------------------------------------------------------
# Detection


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: drift.Rule
    excludes: bool  # the rule holds the root pointer ""


def _rules(ignore: Sequence[helmapi.IgnoreRule]) -> list[_Rule]:
    out = []
    for raw in ignore:
        target: dict[str, str] = {}
        if raw.target is not None:
            t = raw.target
            target = {
                "group": t.group or "",
                "version": t.version or "",
                "kind": t.kind or "",
                "name": t.name or "",
                "namespace": t.namespace or "",
                "labelSelector": t.label_selector or "",
                "annotationSelector": t.annotation_selector or "",
            }
        paths = [p for p in raw.paths if p != ""]
        out.append(_Rule(drift.Rule.parse({"paths": paths, "target": target}), "" in raw.paths))
    return out


def detect(
    cluster: backend.Cluster,
    manifest: Sequence[objects.RawObject],
    *,
    release_name: str,
    release_namespace: str,
    ignore: Sequence[helmapi.IgnoreRule] = (),
    field_manager: str = FIELD_MANAGER,
) -> DriftReport:
    """Diff the release's manifest objects against the cluster (server-side apply dry-runs)."""
    rules = _rules(ignore)
    diffs: list[ObjectDrift] = []
    errs: list[str] = []
    prepared: list[objects.RawObject] = []
    namespaced: dict[refs.GVK, bool] = {}
    for raw in manifest:
        obj = _with_helm_metadata(raw, release_name, release_namespace)
        if not objects.metadata(obj).get("namespace"):
            gvk = objects.gvk_of(obj)
            if gvk not in namespaced:
                try:
                    namespaced[gvk] = cluster.kind_info(gvk).namespaced
                except errors.ApiError as exc:
                    errs.append(f"failed to determine if {gvk.kind} is namespace scoped: {exc.message}")
                    continue
            if namespaced[gvk]:
                obj["metadata"]["namespace"] = release_namespace
        prepared.append(obj)
    for obj in prepared:
        matching = [r for r in rules if r.rule.matches(obj)]
        try:
            diffs.append(_diff_object(cluster, obj, matching, field_manager))
        except _DiffError as exc:
            errs.append(str(exc))
    return DriftReport(tuple(diffs), tuple(errs))


class _DiffError(Exception):
    pass


def _diff_object(
    cluster: backend.Cluster, obj: objects.RawObject, rules: list[_Rule], field_manager: str
) -> ObjectDrift:
    if _excluded(obj) or any(r.excludes for r in rules):
        return ObjectDrift(DiffType.EXCLUDE, obj)
    ref = objects.ref_of(obj)
    try:
        live: objects.RawObject | None = objects.deep_copy(cluster.read(ref))
    except errors.NotFound:
        live = None
    except errors.ApiError as exc:
        raise _DiffError(exc.message) from exc
    if live is not None and _excluded(live):
        return ObjectDrift(DiffType.EXCLUDE, obj)
    try:
        dry = cluster.apply(obj, field_manager=field_manager, force=True, dry_run=True)
    except errors.ApiError as exc:
        raise _DiffError(_dry_run_error(ref, exc)) from exc
    if live is None or not objects.metadata(dry).get("resourceVersion"):
        return ObjectDrift(DiffType.CREATE, obj)
    paths = [p for r in rules for p in r.rule.paths]
    if paths:
        dry, live = drift.without(dry, paths), drift.without(live, paths)
    meta_ops = [op for op in compare(_meta_view(live), _meta_view(dry)) if op.op in ("add", "replace")]
    ops = meta_ops + compare(_body(live), _body(dry))
    if not ops:
        return ObjectDrift(DiffType.NONE, obj)
    return ObjectDrift(DiffType.UPDATE, obj, tuple(ops))


def _excluded(obj: objects.RawObject) -> bool:
    """fluxcd/pkg utils.AnyInMetadata with the driftDetection exclusion selector."""
    return EXCLUSION_VALUE in (
        objects.labels_of(obj).get(EXCLUSION_KEY),
        objects.annotations_of(obj).get(EXCLUSION_KEY),
    )


def _with_helm_metadata(raw: objects.RawObject, name: str, namespace: str) -> objects.RawObject:
    obj = objects.deep_copy(raw)
    render.set_ownership(obj.setdefault("metadata", {}), name, namespace)
    return obj


def _meta_view(obj: objects.RawObject) -> dict[str, Any]:
    meta = objects.metadata(obj)
    return {"metadata": {k: meta[k] for k in ("name", "annotations", "labels") if k in meta}}


def _body(obj: objects.RawObject) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _dry_run_error(ref: refs.ObjectRef, exc: errors.ApiError) -> str:
    """fluxcd/pkg ssa DryRunErr.Error()."""
    if isinstance(exc, errors.NotFound):
        if not ref.namespace:
            return f"{ref} namespace not specified: {exc.message}"
        return f"{ref} not found: {exc.message}"
    return f"{ref} dry-run failed ({exc.reason}): {exc.message}"


# ---------------------------------------------------------------------------------------------
# The JSON diff (wI2L/jsondiff Compare with Rationalize)


def compare(src: Any, tgt: Any) -> list[Operation]:
    """The JSON patch turning `src` into `tgt`, as wI2L/jsondiff v0.7 `Compare(src, tgt,
    Rationalize())` writes it."""
    out: list[Operation] = []
    _diff(out, "", src, tgt)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def _equal(a: Any, b: Any) -> bool:
    """Go's JSON deep equality: a bool is never a number."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _json_len(value: Any) -> int:
    """Length in bytes of Go's compact `json.Marshal` of `value` (sorted keys, HTML escapes)."""
    return len(gojson.marshal(value, sort_keys=True))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _diff(out: list[Operation], ptr: str, src: Any, tgt: Any) -> None:
    if _kind(src) != _kind(tgt):
        if ptr == "":
            out.append(Operation("add", "", tgt, 0))
        else:
            out.append(Operation("replace", ptr, tgt, _json_len(tgt)))
        return
    if _equal(src, tgt):
        return
    size = len(out)
    if isinstance(src, dict):
        for key in sorted(src.keys() | tgt.keys()):
            path = f"{ptr}/{_escape(key)}"
            if key in src and key in tgt:
                _diff(out, path, src[key], tgt[key])
            elif key in src:
                out.append(Operation("remove", path))
            else:
                out.append(Operation("add", path, tgt[key], 0))
    elif isinstance(src, list):
        common = min(len(src), len(tgt))
        out.extend(Operation("remove", f"{ptr}/{common}") for _ in range(common, len(src)))
        for i in range(common):
            _diff(out, f"{ptr}/{i}", src[i], tgt[i])
        out.extend(Operation("add", f"{ptr}/-", tgt[i], 0) for i in range(common, len(tgt)))
    else:
        out.append(Operation("replace", ptr, tgt, _json_len(tgt)))
        return
    new = out[size:]
    replace = Operation("replace", ptr, tgt, _json_len(tgt))
    if new and sum(op.json_length() for op in new) + len(new) - 1 > replace.json_length():
        del out[size:]
        out.append(replace)


# ---------------------------------------------------------------------------------------------
# Correction


def correct(
    cluster: backend.Cluster, report: DriftReport, *, field_manager: str = FIELD_MANAGER
) -> Correction:
    """helm-controller ApplyDiff: create each missing object, then JSON-patch each changed one
    with its diff, each group sorted by kind order, group, kind, namespace and name. Failures are
    collected (`<Kind/ns/name> creation failure: …`, `… patch failure: …`), never raised."""
    entries: list[changeset.Entry] = []
    errs: list[str] = []
    for diff in _sorted(d for d in report.diffs if d.type is DiffType.CREATE):
        try:
            cluster.create(objects.deep_copy(diff.desired), field_manager=field_manager)
        except errors.ApiError as exc:
            errs.append(f"{diff.resource_name} creation failure: {exc.message}")
            continue
        entries.append(_entry(diff, changeset.Action.CREATED))
    for diff in _sorted(d for d in report.diffs if d.type is DiffType.UPDATE):
        try:
            cluster.json_patch(diff.ref, [op.as_json() for op in diff.patch], field_manager=field_manager)
        except errors.ApiError as exc:
            message = exc.message
            if diff.ref.kind == "Secret" and isinstance(exc, errors.Invalid) and ":" in message:
                message = message.rsplit(":", 1)[1].strip()  # maskSensitiveErrData
            errs.append(f"{diff.resource_name} patch failure: {message}")
            continue
        entries.append(_entry(diff, changeset.Action.CONFIGURED))
    return Correction(tuple(entries), tuple(errs))


def _entry(diff: ObjectDrift, action: changeset.Action) -> changeset.Entry:
    return changeset.Entry(diff.ref, objects.gvk_of(diff.desired).version, action)


def _kind_index(kind: str) -> int:
    """fluxcd/pkg ssa getIndexByKind: the first kinds below zero, the last above, others zero."""
    if kind in manager.RECONCILE_ORDER:
        return manager.RECONCILE_ORDER.index(kind) - len(manager.RECONCILE_ORDER)
    if kind in _LAST_KINDS:
        return 1 + _LAST_KINDS.index(kind)
    return 0


def _sorted(diffs: Iterable[ObjectDrift]) -> list[ObjectDrift]:
    def key(d: ObjectDrift) -> tuple[int, str, str, str, str]:
        ref = d.ref
        return (_kind_index(ref.kind), ref.group, ref.kind, ref.namespace, ref.name)

    return sorted(diffs, key=key)
