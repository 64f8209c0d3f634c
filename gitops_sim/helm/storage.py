"""Helm release storage as Helm v4 keeps it: one `helm.sh/release.v1` Secret per revision.

A release revision is a `Release` value (Helm's `pkg/release/v1.Release`); `secret_for` turns it
into the Secret Helm's Secret driver would write, `release_from_secret` reads one back, and
`releases`/`latest`/`deployed` read a release's history through the `Cluster` protocol (a LIST
with Helm's own label selector). `prune_history` says which revisions `maxHistory` removes before
a new one is written. Unmodified Helm (`helm list/history/status/get values`) reads what this
module writes: tests/helm/test_storage.py proves it against the served simulation.

The format, learned from Helm v4.2.3 (the SDK compiled into helm-python-sdk):
- the Secret is `sh.helm.release.v1.<name>.v<revision>` (`pkg/storage/storage.go` `makeKey`),
  of type `helm.sh/release.v1`, in the storage namespace, with the release's custom labels and
  then Helm's system labels `name`, `owner=helm`, `status`, `version`; `createdAt` (unix seconds)
  when the driver creates it, `modifiedAt` when it updates it (an update rewrites every label, so
  `createdAt` is gone after the first update) (`pkg/storage/driver/secrets.go`);
- `data.release` holds base64(gzip(json(release))) at gzip's best compression, and the Secret's
  `data` base64-encodes those bytes once more, as for every Secret (`driver/util.go`
  `encodeRelease`/`decodeRelease`; decoding accepts the old uncompressed form too);
- the JSON is Go's `encoding/json` of `Release`, `Info`, `Hook`, `HookExecution`, chart `v2.Chart`,
  `Metadata` and `common.File` (`pkg/release/v1/*.go`, `pkg/chart/v2/*.go`,
  `pkg/chart/common/file.go`): struct fields in declaration order, map keys sorted, `omitempty`
  and `omitzero` honoured, an empty file list as `null` (a nil slice), `[]byte` (file data,
  schema) as base64, `<`, `>`, `&` escaped, compact. Decoding a Secret Helm wrote and encoding it
  again gives Helm's JSON byte for byte (the gzip stream itself differs: another deflater).
  Times are RFC 3339 strings, passed through as given (Helm writes RFC 3339 with nanoseconds).
- history pruning is `Storage.removeLeastRecent(name, maxHistory-1)`, run by `Storage.Create`
  before each new revision: oldest first, never the newest deployed revision.

Callers: the HelmRelease controller (writes and reads releases), `flux build/diff helmrelease`.
Never imports a controller, the kernel or the engine; never reads the time (callers pass it).

Differences, on purpose:
- A release's chart comes from `helm_python.Chart`, which does not expose `Chart.lock` nor file
  modification times, and gives the schema parsed: such a record stores `lock: null`, no
  `modtime`s, and the schema re-serialised as compact JSON. Records decoded from Helm's own
  Secrets keep all three as Helm wrote them. Subcharts are not stored, as in Helm (its
  `dependencies` field is not serialised).
- `info.resources` (filled only for `helm status --show-resources`, never stored) is not modelled.
- A float in values that is a whole number is written as an integer, as Go does for a float64
  such as `3.0`; other floats use Python's shortest form, which can differ from Go's for very
  small or very large numbers (`1.5e-05` vs `0.000015`). Helm reads both the same.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from gitops_sim.cluster import backend
from gitops_sim.model import gojson, objects, refs

STORAGE_TYPE = "sh.helm.release.v1"
"""The prefix of every storage object's name (Helm's `storage.HelmStorageType`)."""

SECRET_TYPE = "helm.sh/release.v1"
"""The `type` of a release Secret."""

OWNER = "helm"
SYSTEM_LABELS = ("name", "owner", "status", "version", "createdAt", "modifiedAt")
"""Labels Helm sets itself; the rest of a Secret's labels are the release's own `labels`."""

SECRET_KIND = refs.GroupKind("", "Secret")

Status = Literal[
    "unknown",
    "deployed",
    "uninstalled",
    "superseded",
    "failed",
    "uninstalling",
    "pending-install",
    "pending-upgrade",
    "pending-rollback",
]
HookEvent = Literal[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
]
HookDeletePolicy = Literal["hook-succeeded", "hook-failed", "before-hook-creation"]
HookPhase = Literal["", "Unknown", "Running", "Succeeded", "Failed"]
ApplyMethod = Literal["", "ssa", "csa"]

_GZIP_MAGIC = b"\x1f\x8b\x08"
# A chart's metadata fields, in the order Go writes Helm's `chart.Metadata` as JSON.
METADATA_FIELDS = (
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
)
_ZERO_TIME = "0001-01-01T00:00:00Z"


class DecodeError(ValueError):
    """A storage object whose `release` data is not a Helm release."""


class LoadedChart(Protocol):
    """What a release record needs of a loaded chart (`helm_python.Chart` is one)."""

    @property
    def metadata(self) -> dict[str, Any]: ...

    @property
    def values(self) -> dict[str, Any]: ...

    @property
    def templates(self) -> list[dict[str, str]]: ...

    @property
    def files(self) -> list[dict[str, str]]: ...

    @property
    def schema(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class File:
    """A chart file (`common.File`): a chart-relative name, its bytes, its modification time."""

    name: str
    data: bytes
    modtime: str = ""


@dataclass(frozen=True, slots=True)
class ChartRecord:
    """The chart as stored in a release (`chart/v2.Chart`, without its subcharts)."""

    metadata: Mapping[str, Any]
    templates: tuple[File, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    files: tuple[File, ...] = ()
    schema: bytes | None = None
    lock: Mapping[str, Any] | None = None
    schema_modtime: str = _ZERO_TIME
    modtime: str = ""

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def version(self) -> str:
        return str(self.metadata.get("version") or "")

    @property
    def app_version(self) -> str:
        return str(self.metadata.get("appVersion") or "")


@dataclass(frozen=True, slots=True)
class Info:
    """`release/v1.Info`; times are RFC 3339 strings, "" for Go's zero time (omitted)."""

    first_deployed: str = ""
    last_deployed: str = ""
    deleted: str = ""
    description: str = ""
    status: Status = "unknown"
    notes: str = ""


@dataclass(frozen=True, slots=True)
class HookExecution:
    """`release/v1.HookExecution`: the last run of a hook."""

    started_at: str = ""
    completed_at: str = ""
    phase: HookPhase = ""


@dataclass(frozen=True, slots=True)
class Hook:
    """`release/v1.Hook`: a hook object of the release, with its events and last run."""

    name: str
    kind: str
    path: str
    manifest: str
    events: tuple[HookEvent, ...]
    last_run: HookExecution = HookExecution()
    weight: int = 0
    delete_policies: tuple[HookDeletePolicy, ...] = ()
    output_log_policies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Release:
    """One revision of a release (`release/v1.Release`).

    `namespace` is the release's (target) namespace, not where its Secret is stored; `labels`
    are the release's custom labels, kept on the Secret and never in the JSON.
    """

    name: str
    namespace: str
    version: int
    info: Info
    chart: ChartRecord
    config: Mapping[str, Any] = field(default_factory=dict)
    manifest: str = ""
    hooks: tuple[Hook, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    apply_method: ApplyMethod = "ssa"

    @property
    def key(self) -> str:
        return storage_key(self.name, self.version)


def storage_key(name: str, version: int) -> str:
    """The storage object's name: `sh.helm.release.v1.<name>.v<version>`."""
    return f"{STORAGE_TYPE}.{name}.v{version}"


def chart_record(chart: LoadedChart) -> ChartRecord:
    """The stored form of a chart loaded with the Helm SDK."""
    schema = chart.schema
    return ChartRecord(
        metadata=chart.metadata,
        templates=tuple(File(f["name"], f["data"].encode()) for f in chart.templates),
        values=chart.values,
        files=tuple(File(f["name"], f["data"].encode()) for f in chart.files),
        schema=None if schema is None else json.dumps(schema, separators=(",", ":")).encode(),
    )


def new_release(
    chart: LoadedChart | ChartRecord,
    *,
    name: str,
    namespace: str,
    version: int,
    config: Mapping[str, Any],
    manifest: str,
    status: Status,
    description: str,
    first_deployed: str,
    last_deployed: str,
    hooks: Sequence[Hook] = (),
    notes: str = "",
    labels: Mapping[str, str] | None = None,
    apply_method: ApplyMethod = "ssa",
) -> Release:
    """A release record from what the controller knows: the chart, the user-supplied values
    (`config`), the rendered manifest and hooks, the outcome and its times (RFC 3339)."""
    record = chart if isinstance(chart, ChartRecord) else chart_record(chart)
    return Release(
        name=name,
        namespace=namespace,
        version=version,
        info=Info(
            first_deployed=first_deployed,
            last_deployed=last_deployed,
            description=description,
            status=status,
            notes=notes,
        ),
        chart=record,
        config=dict(config),
        manifest=manifest,
        hooks=tuple(hooks),
        labels=dict(labels or {}),
        apply_method=apply_method,
    )


def with_status(release: Release, status: Status, description: str) -> Release:
    """The release with a new status and description (Helm's `Release.SetStatus`)."""
    return replace(release, info=replace(release.info, status=status, description=description))


# --- JSON, as Go's encoding/json writes it ------------------------------------------------


def to_json(release: Release) -> dict[str, Any]:
    """The release as Helm's JSON object (field order and omissions as Go writes them)."""
    out: dict[str, Any] = {"name": release.name} if release.name else {}
    out["info"] = _info_json(release.info)
    out["chart"] = _chart_json(release.chart)
    _put(out, "config", _go_values(release.config))
    _put(out, "manifest", release.manifest)
    _put(out, "hooks", [_hook_json(h) for h in release.hooks])
    _put(out, "version", release.version)
    _put(out, "namespace", release.namespace)
    _put(out, "apply_method", release.apply_method)
    return out


def from_json(data: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> Release:
    """A release from Helm's JSON object."""
    info = data.get("info") or {}
    return Release(
        name=str(data.get("name") or ""),
        namespace=str(data.get("namespace") or ""),
        version=int(data.get("version") or 0),
        info=Info(
            first_deployed=_time(info.get("first_deployed")),
            last_deployed=_time(info.get("last_deployed")),
            deleted=_time(info.get("deleted")),
            description=str(info.get("description") or ""),
            status=info.get("status") or "unknown",
            notes=str(info.get("notes") or ""),
        ),
        chart=_chart_from(data.get("chart") or {}),
        config=dict(data.get("config") or {}),
        manifest=str(data.get("manifest") or ""),
        hooks=tuple(_hook_from(h) for h in data.get("hooks") or ()),
        labels=dict(labels or {}),
        apply_method=data.get("apply_method") or "",
    )


def encode(release: Release) -> str:
    """Helm's `encodeRelease`: base64(gzip(json)), gzip at its best compression."""
    packed = bytearray(gzip.compress(gojson.marshal(to_json(release)), compresslevel=9, mtime=0))
    packed[9] = 0xFF  # the header's OS byte: "unknown", as Go's gzip writer leaves it
    return base64.b64encode(packed).decode()


def decode(data: str, labels: Mapping[str, str] | None = None) -> Release:
    """Helm's `decodeRelease`: base64, then gunzip when the gzip magic is there, then JSON."""
    try:
        raw = base64.b64decode(data, validate=True)
        if raw[:3] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
        parsed = json.loads(raw)
    except (binascii.Error, OSError, EOFError, ValueError) as err:
        raise DecodeError(f"not a Helm release: {err}") from err
    if not isinstance(parsed, dict):
        raise DecodeError("not a Helm release: the JSON is not an object")
    return from_json(parsed, labels)


# --- Secrets ------------------------------------------------------------------------------


def secret_for(
    release: Release,
    storage_namespace: str,
    *,
    created_at: int | None = None,
    modified_at: int | None = None,
) -> objects.RawObject:
    """The Secret Helm's driver writes for `release` in `storage_namespace`.

    Pass `created_at` (unix seconds) for a Secret being created, `modified_at` for one being
    updated (Helm's `Secrets.Create` and `Secrets.Update`)."""
    labels = {k: v for k, v in release.labels.items() if k not in SYSTEM_LABELS}
    if created_at is not None:
        labels["createdAt"] = str(created_at)
    if modified_at is not None:
        labels["modifiedAt"] = str(modified_at)
    labels |= {
        "name": release.name,
        "owner": OWNER,
        "status": release.info.status,
        "version": str(release.version),
    }
    stored = base64.b64encode(encode(release).encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": release.key, "namespace": storage_namespace, "labels": labels},
        "type": SECRET_TYPE,
        "data": {"release": stored},
    }


def secret_ref(storage_namespace: str, name: str, version: int) -> refs.ObjectRef:
    return refs.ObjectRef("", "Secret", storage_namespace, storage_key(name, version))


def release_from_secret(secret: objects.RawObject) -> Release:
    """The release a storage Secret holds, with its custom labels (Helm's `Secrets.Get`)."""
    data = (secret.get("data") or {}).get("release")
    if not isinstance(data, str):
        raise DecodeError(f"Secret {objects.ref_of(secret).name} has no release data")
    try:
        inner = base64.b64decode(data, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as err:
        raise DecodeError(f"not a Helm release: {err}") from err
    labels = {k: v for k, v in objects.labels_of(secret).items() if k not in SYSTEM_LABELS}
    return decode(inner, labels)


_DECODED: dict[tuple[str, tuple[tuple[str, str], ...]], Release] = {}
_DECODED_KEPT = 2048

StoredKey = tuple[str, tuple[tuple[str, str], ...]]
"""What a stored release is decoded from: its `release` data and its labels."""


def stored(cluster: backend.Cluster, namespace: str, name: str) -> list[tuple[Release, StoredKey]]:
    """`releases`, each with what it was decoded from (equal keys, equal releases), for callers
    that remember what they derived from a release.

    IMPLEMENTATION DETAIL: a release is read at every reconcile and rarely changes; the decode
    (base64, gzip, JSON) of the last Secrets read is kept under that key (a Release is never
    changed once made, and the key is the content, so it holds across clusters)."""
    found: list[tuple[Release, StoredKey]] = []
    for secret in cluster.list(SECRET_KIND, namespace=namespace, labels={"name": name, "owner": OWNER}):
        data = (secret.get("data") or {}).get("release")
        key: StoredKey = (str(data), tuple(sorted(objects.labels_of(secret).items())))
        release = _DECODED.get(key)
        if release is None:
            try:
                release = release_from_secret(secret)
            except DecodeError:
                continue
            _DECODED[key] = release
            while len(_DECODED) > _DECODED_KEPT:
                del _DECODED[next(iter(_DECODED))]
        found.append((release, key))
    return sorted(found, key=lambda pair: pair[0].version)


def releases(cluster: backend.Cluster, namespace: str, name: str) -> list[Release]:
    """Every stored revision of release `name` in storage namespace `namespace`, oldest first
    (Helm's `Storage.History`); Secrets that do not decode are skipped, as Helm skips them."""
    return [release for release, _ in stored(cluster, namespace, name)]


def latest(cluster: backend.Cluster, namespace: str, name: str) -> Release | None:
    """The newest revision (Helm's `Storage.Last`), or None when there is none."""
    history = releases(cluster, namespace, name)
    return history[-1] if history else None


def deployed(history: Iterable[Release]) -> Release | None:
    """The newest revision whose status is `deployed` (Helm's `Storage.Deployed`)."""
    candidates = [r for r in history if r.info.status == "deployed"]
    return max(candidates, key=lambda r: r.version) if candidates else None


def prune_history(history: Sequence[Release], max_history: int) -> list[Release]:
    """The revisions Helm deletes before writing a new one when `maxHistory` is `max_history`
    (Helm's `Storage.Create` → `removeLeastRecent(name, max_history-1)`): oldest first, until
    `max_history-1` remain, never the newest deployed revision. None when `max_history` ≤ 0."""
    keep = max_history - 1
    if max_history <= 0 or len(history) <= keep:
        return []
    ordered = sorted(history, key=lambda r: r.version)
    last_deployed = deployed(ordered)
    doomed: list[Release] = []
    for rel in ordered:
        if len(ordered) - len(doomed) == keep:
            break
        if last_deployed is None or rel.version != last_deployed.version:
            doomed.append(rel)
    return doomed


# --- helpers ------------------------------------------------------------------------------


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` unless `value` is empty (Go's `omitempty`)."""
    if value:
        out[key] = value


def _time(value: Any) -> str:
    return str(value) if value else ""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _go_values(value: Any) -> Any:
    """Values as Go marshals a `map[string]any`: keys sorted, whole floats as integers."""
    if isinstance(value, Mapping):
        return {str(k): _go_values(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_go_values(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _info_json(info: Info) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "first_deployed", info.first_deployed)
    _put(out, "last_deployed", info.last_deployed)
    _put(out, "deleted", info.deleted)
    _put(out, "description", info.description)
    _put(out, "status", info.status)
    _put(out, "notes", info.notes)
    return out


def _file_json(f: File) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "data": _b64(f.data)}
    _put(out, "modtime", f.modtime)
    return out


def _chart_json(chart: ChartRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metadata": _metadata_json(chart.metadata),
        "lock": None if chart.lock is None else dict(chart.lock),
        "templates": [_file_json(f) for f in chart.templates] or None,
        "values": _go_values(chart.values),
        "schema": None if chart.schema is None else _b64(chart.schema),
        "schemamodtime": chart.schema_modtime or _ZERO_TIME,
        "files": [_file_json(f) for f in chart.files] or None,
    }
    _put(out, "modtime", chart.modtime)
    return out


def _metadata_json(meta: Mapping[str, Any]) -> dict[str, Any]:
    """`Chart.yaml` as Go writes `chart/v2.Metadata`: its fields in order, empty ones and
    unknown keys left out."""
    out: dict[str, Any] = {}
    for key in METADATA_FIELDS:
        _put(out, key, _go_values(meta.get(key)) if key == "annotations" else meta.get(key))
    return out


def _file_from(data: Mapping[str, Any]) -> File:
    return File(
        name=str(data.get("name") or ""),
        data=base64.b64decode(data.get("data") or ""),
        modtime=_time(data.get("modtime")),
    )


def _chart_from(data: Mapping[str, Any]) -> ChartRecord:
    schema = data.get("schema")
    return ChartRecord(
        metadata=dict(data.get("metadata") or {}),
        templates=tuple(_file_from(f) for f in data.get("templates") or ()),
        values=dict(data.get("values") or {}),
        files=tuple(_file_from(f) for f in data.get("files") or ()),
        schema=None if schema is None else base64.b64decode(schema),
        lock=data.get("lock"),
        schema_modtime=_time(data.get("schemamodtime")) or _ZERO_TIME,
        modtime=_time(data.get("modtime")),
    )


def _hook_json(hook: Hook) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "name", hook.name)
    _put(out, "kind", hook.kind)
    _put(out, "path", hook.path)
    _put(out, "manifest", hook.manifest)
    _put(out, "events", list(hook.events))
    run: dict[str, Any] = {}
    _put(run, "started_at", hook.last_run.started_at)
    _put(run, "completed_at", hook.last_run.completed_at)
    run["phase"] = hook.last_run.phase
    out["last_run"] = run
    _put(out, "weight", hook.weight)
    _put(out, "delete_policies", list(hook.delete_policies))
    _put(out, "output_log_policies", list(hook.output_log_policies))
    return out


def _hook_from(data: Mapping[str, Any]) -> Hook:
    run = data.get("last_run") or {}
    return Hook(
        name=str(data.get("name") or ""),
        kind=str(data.get("kind") or ""),
        path=str(data.get("path") or ""),
        manifest=str(data.get("manifest") or ""),
        events=tuple(data.get("events") or ()),
        last_run=HookExecution(
            started_at=_time(run.get("started_at")),
            completed_at=_time(run.get("completed_at")),
            phase=run.get("phase") or "",
        ),
        weight=int(data.get("weight") or 0),
        delete_policies=tuple(data.get("delete_policies") or ()),
        output_log_policies=tuple(data.get("output_log_policies") or ()),
    )
