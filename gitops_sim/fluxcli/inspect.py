"""`flux events`, `flux tree kustomization`, `flux stats` and `flux export`: reading Flux's
objects back as flux2 cmd/flux/events.go, tree_kustomization.go, stats.go and export*.go print
them.

- events: the Events of Flux's kinds (`--for Kind[/name]`, `--types`, `-A`), oldest first, in a
  table `LAST SEEN TYPE REASON OBJECT MESSAGE`; LAST SEEN as kubectl's human durations (`2m5s`,
  `(x3 over 10m)` for repeated ones); none: `✗ No events found in <ns> namespace.`, exit 0.
- tree: the Kustomization's inventory as a tree (`├── `, `└── `, `│   `), each nested
  Kustomization expanded with its own inventory; `--compact` keeps Flux's kinds only.
- stats: per kind, how many run, fail (Ready=False), are suspended, and their artifacts' size.
- export: each object as `---` and YAML of apiVersion, kind, metadata (name, namespace, labels,
  annotations) and spec, keys sorted; `--all` for every object of the kind in the namespace.

Differences, on purpose: a HelmRelease in a tree is not expanded into its release's objects;
export prints the spec as stored (the real CLI also prints Go's zero values the API left out);
`--watch` of events is not offered.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.fluxcli import build
from gitops_sim.fluxcli.get import table
from gitops_sim.fluxcli.session import FluxError, Session
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


def events(session: Session, *, for_: str, types: Sequence[str], all_namespaces: bool) -> None:
    """`flux events` (see the module docstring)."""
    for wanted in types:
        if wanted.lower() not in ("normal", "warning"):
            raise FluxError(f"type '{wanted}' not supported. Supported types are Normal, Warning")
    kind, name = "", ""
    if for_:
        kind, _, name = for_.partition("/")
        if not kind:
            raise FluxError("--for selector must be of format <kind>[/<name>]")
        if kind.lower() not in FLUX_KINDS:
            raise FluxError(f"'{kind}' is not a recognized Flux kind")
        kind = FLUX_KINDS[kind.lower()].kind
    namespace = None if all_namespaces else session.namespace
    found = []
    for event in session.cluster.list(EVENT, namespace=namespace):
        involved = event.get("involvedObject") or {}
        if str(involved.get("kind", "")).lower() not in FLUX_KINDS:
            continue
        if kind and (involved.get("kind") != kind or (name and involved.get("name") != name)):
            continue
        if types and str(event.get("type", "")).lower() not in {t.lower() for t in types}:
            continue
        found.append(event)
    if not found:
        where = "" if all_namespaces else f" in {session.namespace} namespace"
        session.log.failure(f"No events found{where}.")
        return
    found.sort(key=lambda e: _time(e) or 0)
    now = session.calendar_ms()
    headers = ["Last seen", "Type", "Reason", "Object", "Message"]
    rows = []
    for event in found:
        involved = event.get("involvedObject") or {}
        row = [
            _last_seen(event, now),
            str(event.get("type", "")),
            str(event.get("reason", "")),
            f"{involved.get('kind', '')}/{involved.get('name', '')}",
            str(event.get("message", "")),
        ]
        rows.append([str(event["metadata"].get("namespace", "")), *row] if all_namespaces else row)
    session.out.write(table(["Namespace", *headers] if all_namespaces else headers, rows))


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
