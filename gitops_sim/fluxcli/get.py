"""`flux get …`: the status tables of Flux objects, as flux2 cmd/flux/get*.go print them.

`KINDS` holds each table: its kind, its headers and how a row is read off an object (revision,
suspended, the Ready condition or "waiting to be reconciled"); `table` lays rows out as the
CLI's printer does (pkg/printers over tablewriter v0.0.5: left-aligned columns as wide as their
widest cell, each cell followed by a tab, a header line ending in one space instead, headers in
upper case, multi-line cells over several lines). `get` lists one kind (`-n`/`-A`, a NAME,
`--label-selector`, `--status-selector`, `--no-header`, `--show-source`); `get_all` prints the
`all` tables (each kind its own table with `kind/name`, a blank line after each, empty kinds left
out); `watch` prints a one-row table per change until the timeout.

Differences, on purpose: widths are counted in code points (the CLI counts East-Asian wide
characters as two columns); times print in UTC (the CLI prints the local zone).

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import backend, errors
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import conditions, flux, objects, refs

Row = list[str]
_HEX = re.compile(r"\b[a-f0-9]{40,128}\b", re.ASCII)


def truncate_hex(text: str) -> str:
    """internal/utils TruncateHex: every 40-128 hex digit word shortened to its first 8."""
    for match in _HEX.findall(text):
        text = text.replace(match, match[:8])
    return text


def table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    """The CLI's table printer (see the module docstring)."""
    cells = [[c.split("\n") for c in row] for row in rows]
    columns = max([len(headers), *(len(r) for r in rows)]) if headers or rows else 0
    widths = [0] * columns
    for i, head in enumerate(headers):
        widths[i] = max(widths[i], *(len(line) for line in head.split("\n")))
    for row in cells:
        for i, lines in enumerate(row):
            widths[i] = max(widths[i], *(len(line) for line in lines))
    out: list[str] = []
    if headers:
        heads = [h.replace("_", " ").strip().upper().split("\n") for h in headers]
        for n in range(max(len(h) for h in heads)):
            parts = [(h[n] if n < len(h) else "").ljust(widths[i]) for i, h in enumerate(heads)]
            out.append("\t".join(parts) + " \n")
    for row in cells:
        for n in range(max(len(lines) for lines in row)):
            parts = [(lines[n] if n < len(lines) else "  ").ljust(widths[i]) for i, lines in enumerate(row)]
            out.append("\t".join(parts) + "\t\n")
    return "".join(out)


def ready_and_message(obj: objects.RawObject) -> tuple[str, str]:
    ready = conditions.get(obj, conditions.READY)
    if ready is None:
        return "False", "waiting to be reconciled"
    return str(ready.get("status", "")), str(ready.get("message", ""))


def suspended(obj: objects.RawObject) -> str:
    return "True" if (obj.get("spec") or {}).get("suspend") is True else "False"


def _revision(obj: objects.RawObject) -> str:
    return str(((obj.get("status") or {}).get("artifact") or {}).get("revision", ""))


def _time(value: object) -> str:
    return "" if not value else str(value)


def _source(obj: objects.RawObject, ref: dict[str, Any] | None) -> str:
    if not ref:
        return ""
    namespace = ref.get("namespace") or obj["metadata"].get("namespace", "")
    return f"{ref.get('kind', '')}/{namespace}/{ref.get('name', '')}"


def _hr_source(obj: objects.RawObject) -> str:
    spec = obj.get("spec") or {}
    if spec.get("chartRef"):
        return _source(obj, spec["chartRef"])
    return _source(obj, ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef"))


def _hr_revision(obj: objects.RawObject) -> str:
    status = obj.get("status") or {}
    history = status.get("history") or []
    if history:
        return str(history[0].get("chartVersion", ""))
    return str(status.get("lastAttemptedRevision", ""))


def _status_matches(obj: objects.RawObject, ctype: str, cstatus: str) -> bool:
    found = None
    for condition in conditions.all_of(obj):
        if str(condition.get("type", "")).lower() == ctype.lower():
            found = condition
    return found is not None and str(found.get("status", "")).lower() == cstatus.lower()


def _always_ready(_obj: objects.RawObject, ctype: str, cstatus: str) -> bool:
    return ctype.lower() == "ready" and cstatus.lower() == "true"


@dataclass(frozen=True, slots=True)
class Kind:
    gvk: refs.GVK
    headers: tuple[str, ...]
    cells: Callable[[objects.RawObject], Row]
    """The cells after the name column(s)."""
    matches: Callable[[objects.RawObject, str, str], bool] = _status_matches
    source: Callable[[objects.RawObject], str] | None = None
    """The `--show-source` cell (Kustomization and HelmRelease only)."""


def _standard(revision: Callable[[objects.RawObject], str]) -> Callable[[objects.RawObject], Row]:
    def cells(obj: objects.RawObject) -> Row:
        ready, message = ready_and_message(obj)
        return [revision(obj), suspended(obj), ready, truncate_hex(message)]

    return cells


def _helm_repository(obj: objects.RawObject) -> Row:
    row = _standard(lambda o: truncate_hex(_revision(o)))(obj)
    if (obj.get("spec") or {}).get("type") == "oci":
        row[2:] = ["True", "Helm repository is Ready"]
    return row


def _helmrelease(obj: objects.RawObject) -> Row:
    ready, message = ready_and_message(obj)
    return [_hr_revision(obj), suspended(obj), ready, message]


def _image_repository(obj: objects.RawObject) -> Row:
    ready, message = ready_and_message(obj)
    scan = ((obj.get("status") or {}).get("lastScanResult") or {}).get("scanTime")
    return [_time(scan), suspended(obj), ready, message]


def _image_policy(obj: objects.RawObject) -> Row:
    ready, message = ready_and_message(obj)
    latest = (obj.get("status") or {}).get("latestRef") or {}
    return [str(latest.get("name", "")), str(latest.get("tag", "")), ready, message]


def _image_update(obj: objects.RawObject) -> Row:
    ready, message = ready_and_message(obj)
    return [_time((obj.get("status") or {}).get("lastAutomationRunTime")), suspended(obj), ready, message]


def _receiver(obj: objects.RawObject) -> Row:
    ready, message = ready_and_message(obj)
    return [suspended(obj), ready, message]


_SOURCE_HEADERS = ("Name", "Revision", "Suspended", "Ready", "Message")
_SHORT = _standard(lambda o: truncate_hex(_revision(o)))

KINDS: dict[str, Kind] = {
    "git": Kind(flux.GITREPOSITORY, _SOURCE_HEADERS, _SHORT),
    "oci": Kind(flux.OCIREPOSITORY, _SOURCE_HEADERS, _SHORT),
    "bucket": Kind(flux.BUCKET, _SOURCE_HEADERS, _SHORT),
    "helm": Kind(flux.HELMREPOSITORY, _SOURCE_HEADERS, _helm_repository),
    "chart": Kind(flux.HELMCHART, _SOURCE_HEADERS, _standard(_revision)),
    "kustomization": Kind(
        flux.KUSTOMIZATION,
        _SOURCE_HEADERS,
        _standard(lambda o: truncate_hex(str((o.get("status") or {}).get("lastAppliedRevision", "")))),
        source=lambda o: _source(o, (o.get("spec") or {}).get("sourceRef")),
    ),
    "helmrelease": Kind(flux.HELMRELEASE, _SOURCE_HEADERS, _helmrelease, source=_hr_source),
    "image-repository": Kind(
        flux.IMAGEREPOSITORY, ("Name", "Last scan", "Suspended", "Ready", "Message"), _image_repository
    ),
    "image-policy": Kind(flux.IMAGEPOLICY, ("Name", "Image", "Tag", "Ready", "Message"), _image_policy),
    "image-update": Kind(
        flux.IMAGEUPDATEAUTOMATION, ("Name", "Last run", "Suspended", "Ready", "Message"), _image_update
    ),
    "receiver": Kind(flux.RECEIVER, ("Name", "Suspended", "Ready", "Message"), _receiver),
    "alert-provider": Kind(
        flux.PROVIDER, ("Name", "Ready", "Message"), lambda o: ["True", "Provider is Ready"], _always_ready
    ),
    "alert": Kind(
        flux.ALERT,
        ("Name", "Suspended", "Ready", "Message"),
        lambda o: [suspended(o), "True", "Alert is Ready"],
        _always_ready,
    ),
}

SOURCES_ALL = ("oci", "bucket", "git", "helm", "chart")
IMAGES_ALL = ("image-repository", "image-policy", "image-update")
ALL = (*SOURCES_ALL, *IMAGES_ALL, "helmrelease", "kustomization", "receiver", "alert-provider", "alert")
"""The tables of `get sources all`, `get images all` and `get all`, in the CLI's order."""


@dataclass(frozen=True, slots=True)
class Query:
    name: str | None = None
    all_namespaces: bool = False
    labels: str = ""
    status_selector: str = ""
    no_header: bool = False
    show_source: bool = False


def _where(session: Session, query: Query) -> str:
    return "any" if query.all_namespaces else f'"{session.namespace}"'


def _not_found(session: Session, kind: Kind, query: Query) -> str:
    return f"{kind.gvk.kind} object '{query.name}' not found in {_where(session, query)} namespace"


def _list(session: Session, kind: Kind, query: Query) -> list[objects.RawObject]:
    fields = f"metadata.name={query.name}" if query.name else None
    namespace = None if query.all_namespaces else session.namespace
    try:
        return session.cluster.list(
            kind.gvk.group_kind, namespace=namespace, labels=query.labels or None, fields=fields
        )
    except errors.BadRequest as exc:
        if query.labels:
            raise FluxError(f"unable to parse label selector: {exc.message}") from exc
        raise FluxError(exc.message) from exc


def _selector(text: str) -> tuple[str, str, bool]:
    """(type, status, negated) of `--status-selector`."""
    separator = "!=" if "!=" in text else "="
    ctype, found, cstatus = text.partition(separator)
    if not found:
        raise FluxError(f"expected status selector in type=status or type!=status format, but found: {text}")
    return ctype, cstatus, separator == "!="


def _rows(kind: Kind, items: list[objects.RawObject], query: Query, all_mode: bool) -> list[Row]:
    keep: Callable[[objects.RawObject], bool] = lambda _o: True  # noqa: E731
    if query.status_selector:
        ctype, cstatus, negated = _selector(query.status_selector)
        keep = lambda o: kind.matches(o, ctype, cstatus) != negated  # noqa: E731
    return [_row(kind, obj, query, all_mode) for obj in items if keep(obj)]


def _row(kind: Kind, obj: objects.RawObject, query: Query, all_mode: bool) -> Row:
    name = obj["metadata"]["name"]
    if all_mode:
        name = f"{kind.gvk.kind.lower()}/{name}"
    row = [obj["metadata"].get("namespace", ""), name] if query.all_namespaces else [name]
    if query.show_source and kind.source is not None:
        row.append(kind.source(obj))
    return row + kind.cells(obj)


def _headers(kind: Kind, query: Query) -> list[str]:
    if query.no_header:
        return []
    headers = list(kind.headers)
    if query.show_source and kind.source is not None:
        headers.insert(1, "Source")
    return ["Namespace", *headers] if query.all_namespaces else headers


def get(session: Session, key: str, query: Query) -> None:
    """`flux get <kind> [NAME]`: its table on stdout, or FluxError."""
    kind = KINDS[key]
    items = _list(session, kind, query)
    if not items:
        if query.name:
            raise FluxError(
                f"{kind.gvk.kind} object '{query.name}' not found in {_where(session, query)} namespace"
            )
        raise FluxError(f"no {kind.gvk.kind} objects found in {_where(session, query)} namespace")
    session.out.write(table(_headers(kind, query), _rows(kind, items, query, all_mode=False)))


def get_all(session: Session, keys: Sequence[str], query: Query) -> None:
    """`flux get all`, `get sources all`, `get images all`: a table per kind that has rows,
    each followed by a blank line; a kind's error is printed and the others go on (exit 0)."""
    for key in keys:
        kind = KINDS[key]
        try:
            if session.cluster.find_kind(kind.gvk.group_kind) is None:
                continue  # its CRD is not installed
            items = _list(session, kind, query)
            if not items:
                if query.name:
                    raise FluxError(_not_found(session, kind, query))
                continue
            rows = _rows(kind, items, query, all_mode=True)
        except FluxError as exc:
            session.log.failure(exc.message)
            continue
        if rows:
            session.out.write(table(_headers(kind, query), rows) + "\n")


def watch(session: Session, key: str, query: Query) -> None:
    """`flux get <kind> --watch`: a one-row table per change (the header with the first), until
    the timeout: then `timed out waiting for the condition` (exit 1)."""
    kind = KINDS[key]
    first = [True]

    def on_event(event: backend.WatchEvent) -> None:
        obj = event.object
        rows = _rows(kind, [obj], query, all_mode=False)
        headers = _headers(kind, query) if first[0] else []
        first[0] = False
        session.out.write(table(headers, rows))

    stop = session.cluster.watch(
        on_event,
        kind=kind.gvk.group_kind,
        namespace=None if query.all_namespaces else session.namespace,
        labels=query.labels or None,
        fields=f"metadata.name={query.name}" if query.name else None,
        send_initial_events=True,
    )
    try:
        session.sleep(session.timeout_ms)
    finally:
        stop()
    raise FluxError("timed out waiting for the condition")
