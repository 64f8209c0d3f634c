"""`flux events`, `flux tree kustomization`, `flux stats` and `flux export`: reading Flux's
objects back as flux2 cmd/flux/events.go, tree_kustomization.go, stats.go and export*.go print
them.

- events: the Events of Flux's kinds (`--for Kind[/name]`, `--types`, `-A`), oldest first, in a
  table `LAST SEEN TYPE REASON OBJECT MESSAGE`; LAST SEEN as kubectl's human durations (`2m5s`,
  `(x3 over 10m)` for repeated ones); none: `✗ No events found in <ns> namespace.`, exit 0.
  `--for Kind/name` adds the events of what the object refers to (a Kustomization's source, a
  HelmRelease's source and HelmChart, an Alert's Provider, an ImagePolicy's ImageRepository),
  with a NAMESPACE column when one lives elsewhere. `--watch` prints each event as it comes, as
  a one-row table, until the timeout.
- tree: the Kustomization's inventory as a tree (`├── `, `└── `, `│   `), each nested
  Kustomization expanded with its own inventory; `--compact` keeps Flux's kinds only.
- stats: per kind, how many run, fail (Ready=False), are suspended, and their artifacts' size.
- export: each object as `---` and YAML of apiVersion, kind, metadata (name, namespace, labels,
  annotations) and spec, keys sorted; `--all` for every object of the kind in the namespace.

A HelmRelease in a tree is expanded into the objects of its latest release (from Helm's storage).

Differences, on purpose: export prints the spec as stored (the real CLI also prints Go's zero
values the API left out).

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from gitops_sim.cluster import backend, errors
from gitops_sim.fluxcli import build
from gitops_sim.fluxcli.get import table
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.helm import actions as helmactions
from gitops_sim.helm import storage as helmstorage
from gitops_sim.model import conditions, duration, flux, objects, refs

FLUX_KINDS = {
    gvk.kind.lower(): gvk
    for gvk in (
        flux.KUSTOMIZATION,
        flux.HELMRELEASE,
        flux.ALERT,
        flux.RECEIVER,
        flux.PROVIDER,
        flux.IMAGEPOLICY,
        flux.HELMCHART,
        flux.GITREPOSITORY,
        flux.OCIREPOSITORY,
        flux.BUCKET,
        flux.HELMREPOSITORY,
        flux.IMAGEUPDATEAUTOMATION,
        flux.IMAGEREPOSITORY,
    )
}
EVENT = refs.GroupKind("", "Event")
CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")


def human_duration(seconds: int) -> str:
    """apimachinery util/duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // 24 // 365, hours // 24 % 365
    if years < 8:
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"


def _time(event: objects.RawObject) -> int | None:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        value = event.get(key)
        if value:
            return duration.parse_rfc3339(str(value))
    return None


def _last_seen(event: objects.RawObject, now_ms: int) -> str:
    last = _time(event)
    if last is None:
        return "<unknown>"
    ago = human_duration((now_ms - last) // 1000)
    count = int(event.get("count") or 1)
    first = event.get("firstTimestamp")
    if count > 1 and first:
        over = human_duration((now_ms - duration.parse_rfc3339(str(first))) // 1000)
        return f"{ago} (x{count} over {over})"
    return ago


@dataclass(frozen=True, slots=True)
class _Refers:
    """What `flux events --for Kind/name` also shows: the events of the object this kind refers
    to (flux2 events.go's fluxKindMap): the reference's field path, its kind when the field has
    none, whether it may name another namespace, and whether the HelmRelease's HelmChart counts."""

    field: tuple[str, ...]
    kind: str = ""
    cross_namespace: bool = True
    chart: bool = False


_REFERS = {
    "Kustomization": _Refers(("spec", "sourceRef")),
    "HelmRelease": _Refers(("spec", "chart", "spec", "sourceRef"), chart=True),
    "Alert": _Refers(("spec", "providerRef"), kind="Provider", cross_namespace=False),
    "ImagePolicy": _Refers(("spec", "imageRepositoryRef"), kind="ImageRepository"),
    "HelmChart": _Refers(("spec", "sourceRef")),
}


def _referred(session: Session, kind: str, name: str) -> list[tuple[str, str, str]]:
    """(kind, name, namespace) of what `kind/name` refers to (flux2 events.go getObjectRef)."""
    how = _REFERS.get(kind)
    if how is None:
        return []
    where = f"{session.namespace}/{name}"
    obj: Any = _get(session, refs.ObjectRef(FLUX_KINDS[kind.lower()].group, kind, session.namespace, name))
    ref: Any = obj
    for key in how.field:
        ref = ref.get(key) if isinstance(ref, dict) else None
    ref = ref if isinstance(ref, dict) else {}
    field = ".".join(how.field)
    ref_kind = how.kind or ref.get("kind")
    if not isinstance(ref_kind, str):
        raise FluxError(f"field '{field}.kind' for '{where}' not found")
    ref_name = ref.get("name")
    if not isinstance(ref_name, str):
        raise FluxError(f"field '{field}.name' for '{where}' not found")
    ref_namespace = session.namespace
    if how.cross_namespace and isinstance(ref.get("namespace"), str):
        ref_namespace = ref["namespace"]
    found = [(ref_kind, ref_name, ref_namespace)]
    if how.chart:
        found.append(("HelmChart", f"{session.namespace}-{name}", ref_namespace))
    return found


def events(
    session: Session, *, for_: str, types: Sequence[str], all_namespaces: bool, watch: bool = False
) -> None:
    """`flux events [--for Kind[/name]] [--types …] [-A] [--watch]` (see the module docstring)."""
    for wanted in types:
        if wanted.lower() not in ("normal", "warning"):
            raise FluxError(f"type '{wanted}' not supported. Supported types are Normal, Warning")
    wanted_types = {t.lower() for t in types}
    kind, name = "", ""
    if for_:
        kind, _, name = for_.partition("/")
        if not kind:
            raise FluxError("--for selector must be of format <kind>[/<name>]")
        if kind.lower() not in FLUX_KINDS:
            raise FluxError(f"'{kind}' is not a recognized Flux kind")
        kind = FLUX_KINDS[kind.lower()].kind
    namespace = None if all_namespaces else session.namespace
    # (kind, name, namespace) selections: the asked-for kind[/name] in the namespace, then what it refers to
    selections: list[tuple[str, str, str | None]] = [(kind, name, namespace)]
    if kind and name:
        selections += _referred(session, kind, name)
    show_namespace = all_namespaces or any(ns != namespace for _, _, ns in selections[1:])

    def shown(event: objects.RawObject, selection: tuple[str, str, str | None]) -> bool:
        involved = event.get("involvedObject") or {}
        sel_kind, sel_name, sel_ns = selection
        if sel_ns is not None and event["metadata"].get("namespace") != sel_ns:
            return False
        if sel_kind and (involved.get("kind") != sel_kind or (sel_name and involved.get("name") != sel_name)):
            return False
        if str(involved.get("kind", "")).lower() not in FLUX_KINDS:
            return False
        return not wanted_types or str(event.get("type", "")).lower() in wanted_types

    headers = ["Last seen", "Type", "Reason", "Object", "Message"]
    if show_namespace:
        headers = ["Namespace", *headers]
    if watch:
        _watch_events(session, [partial(shown, selection=s) for s in selections], headers, show_namespace)
        return
    found = [e for s in selections for e in session.cluster.list(EVENT, namespace=s[2]) if shown(e, s)]
    if not found:
        where = "" if all_namespaces else f" in {session.namespace} namespace"
        session.log.failure(f"No events found{where}.")
        return
    found.sort(key=_order)
    now = session.calendar_ms()
    session.out.write(table(headers, [_event_row(e, now, show_namespace) for e in found]))


def _order(event: objects.RawObject) -> tuple[int, int]:
    """Oldest first; events of the same instant in the order the API stored them (the CLI's sort
    leaves that order to chance)."""
    version = str(event["metadata"].get("resourceVersion", ""))
    return _time(event) or 0, int(version) if version.isdigit() else 0


def _event_row(event: objects.RawObject, now_ms: int, show_namespace: bool) -> list[str]:
    involved = event.get("involvedObject") or {}
    row = [
        _last_seen(event, now_ms),
        str(event.get("type", "")),
        str(event.get("reason", "")),
        f"{involved.get('kind', '')}/{involved.get('name', '')}",
        str(event.get("message", "")),
    ]
    return [str(event["metadata"].get("namespace", "")), *row] if show_namespace else row


def _watch_events(
    session: Session,
    filters: list[Callable[[objects.RawObject], bool]],
    headers: list[str],
    show_namespace: bool,
) -> None:
    """`flux events --watch`: every event one of the watches sees (the ones there are first, then
    each added or changed one) as a one-row table, the header with the first; ends at the
    timeout, exit 0 (the CLI's watch loop returns when its context is done)."""
    first = [True]

    def on_event(change: backend.WatchEvent, keep: Callable[[objects.RawObject], bool]) -> None:
        if change.type == "DELETED" or not keep(change.object):
            return
        shown_headers = headers if first[0] else []
        first[0] = False
        row = _event_row(change.object, session.calendar_ms(), show_namespace)
        session.out.write(table(shown_headers, [row]))

    stops = [
        session.cluster.watch(partial(on_event, keep=keep), kind=EVENT, send_initial_events=True)
        for keep in filters
    ]
    try:
        session.sleep(session.timeout_ms)
    finally:
        for stop in stops:
            stop()


def tree(session: Session, name: str, *, compact: bool) -> None:
    """`flux tree kustomization NAME [--compact]`."""
    root = refs.ObjectRef(flux.KUSTOMIZE_GROUP, "Kustomization", session.namespace, name)
    obj = _get(session, root)
    lines = [str(root)]
    _children(session, obj, root, "", compact, lines)
    session.out.write("\n".join(lines) + "\n\n")


def _get(session: Session, ref: refs.ObjectRef) -> objects.RawObject:
    try:
        return session.cluster.get(ref)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc


def _children(
    session: Session, obj: objects.RawObject, me: refs.ObjectRef, prefix: str, compact: bool, lines: list[str]
) -> None:
    entries = ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []
    children = []
    for entry in entries:
        ref = build.inventory_ref(entry)
        if ref is None or ref == me:
            continue
        if compact and "toolkit.fluxcd.io" not in ref.group:
            continue
        children.append(ref)
    for i, ref in enumerate(children):
        last = i == len(children) - 1
        lines.append(f"{prefix}{'└── ' if last else '├── '}{ref!s}")
        if ref.group == "helm.toolkit.fluxcd.io" and ref.kind == "HelmRelease":
            released = [r for r in _released(session, ref) if not compact or "toolkit.fluxcd.io" in r.group]
            inner = prefix + ("    " if last else "│   ")
            for j, child_ref in enumerate(released):
                lines.append(f"{inner}{'└── ' if j == len(released) - 1 else '├── '}{child_ref!s}")
        if (
            ref.group == flux.KUSTOMIZE_GROUP
            and ref.kind == "Kustomization"
            and not (obj.get("spec") or {}).get("kubeConfig")
        ):
            try:
                child = session.cluster.get(ref)
            except errors.ApiError as exc:
                raise FluxError(f"failed to find object: {exc.message}") from exc
            _children(session, child, ref, prefix + ("    " if last else "│   "), compact, lines)


def _released(session: Session, ref: refs.ObjectRef) -> list[refs.ObjectRef]:
    """What a HelmRelease's latest release holds (tree_kustomization.go getHelmReleaseInventory):
    the objects of its manifest in Helm's storage, namespaced ones in the release namespace, and
    the CRDs labelled as installed by it when its install or upgrade manages CRDs. Nothing for a
    release on another cluster or not stored yet."""
    hr = _get(session, ref)
    spec, status = hr.get("spec") or {}, hr.get("status") or {}
    history = status.get("history") or []
    storage_namespace = status.get("storageNamespace")
    if spec.get("kubeConfig") or not history or not storage_namespace:
        return []
    latest = history[0]
    found = [
        r
        for r in helmstorage.releases(session.cluster, storage_namespace, str(latest.get("name")))
        if r.version == latest.get("version")
    ]
    if not found:
        return []
    try:
        built = helmactions.build_objects(
            session.cluster, found[0].manifest, str(latest.get("namespace", ""))
        )
    except helmactions.ActionError as exc:
        where = f"{ref.namespace}/{ref.name}"
        raise FluxError(
            f"failed to read the Helm storage object for HelmRelease '{where}': {exc.message}"
        ) from exc
    out = [objects.ref_of(o) for o in built]
    managed = any(
        (spec.get(phase) or {}).get("crds") not in (None, "", "Skip") for phase in ("install", "upgrade")
    )
    if managed:
        labels = {"helm.toolkit.fluxcd.io/name": ref.name, "helm.toolkit.fluxcd.io/namespace": ref.namespace}
        for crd in session.cluster.list(
            refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"), labels=labels
        ):
            crd_ref = objects.ref_of(crd)
            if crd_ref not in out:
                out.append(crd_ref)
    return out


_STATS_KINDS = (
    flux.GITREPOSITORY,
    flux.OCIREPOSITORY,
    flux.HELMREPOSITORY,
    flux.HELMCHART,
    flux.BUCKET,
    flux.KUSTOMIZATION,
    flux.HELMRELEASE,
    flux.ALERT,
    flux.PROVIDER,
    flux.RECEIVER,
    flux.IMAGEUPDATEAUTOMATION,
    flux.IMAGEPOLICY,
    flux.IMAGEREPOSITORY,
)


def _size(total: int) -> str:
    if total == 0:
        return "-"
    if total < 1024:
        return f"{total} B"
    value, exponent = float(total), 0
    while value >= 1024 and exponent < len("KMGTPE"):
        value /= 1024
        exponent += 1
    return f"{value:.1f} {'KMGTPE'[exponent - 1]}iB"


def stats(session: Session, *, all_namespaces: bool) -> None:
    """`flux stats`."""
    rows = []
    for gvk in _STATS_KINDS:
        try:
            items = session.cluster.list(
                gvk.group_kind, namespace=None if all_namespaces else session.namespace
            )
        except errors.ApiError:
            items = []
        suspended = sum(1 for o in items if (o.get("spec") or {}).get("suspend") is True)
        failing = sum(
            1 for o in items if (conditions.get(o, conditions.READY) or {}).get("status") == "False"
        )
        size = sum(int(((o.get("status") or {}).get("artifact") or {}).get("size") or 0) for o in items)
        rows.append([gvk.kind, str(len(items) - suspended), str(failing), str(suspended), _size(size)])
    session.out.write(table(["Reconcilers", "Running", "Failing", "Suspended", "Storage"], rows))


def export(session: Session, gvk: refs.GVK, names: Sequence[str], *, all_objects: bool) -> None:
    """`flux export <kind> NAME|--all`."""
    if not names and not all_objects:
        raise FluxError("name is required")
    if all_objects:
        found = session.cluster.list(gvk.group_kind, namespace=session.namespace)
        if not found:
            raise FluxError(f"no objects found in {session.namespace} namespace")
    else:
        found = [_get(session, refs.ObjectRef(gvk.group, gvk.kind, session.namespace, names[0]))]
    for obj in found:
        session.out.write(build.to_yaml([_exported(obj, gvk)]))


def _exported(obj: objects.RawObject, gvk: refs.GVK) -> dict[str, Any]:
    meta = obj["metadata"]
    kept: dict[str, Any] = {"name": meta["name"], "namespace": meta.get("namespace", "")}
    for key in ("labels", "annotations"):
        if meta.get(key):
            kept[key] = meta[key]
    return {"apiVersion": gvk.api_version, "kind": gvk.kind, "metadata": kept, "spec": obj.get("spec") or {}}
