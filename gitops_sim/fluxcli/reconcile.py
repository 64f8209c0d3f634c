"""`flux reconcile`, `flux suspend` and `flux resume`, as flux2 cmd/flux/reconcile*.go,
suspend*.go and resume*.go run them.

reconcile: refuse a suspended object (`resource is suspended`); `► annotating <Kind> <name> in
<ns> namespace`; write `reconcile.fluxcd.io/requestedAt` (a HelmRelease's `--force`/`--reset`
also write `forceAt`/`resetAt`) with a merge patch; `✔ <Kind> annotated`; `◎ waiting for <Kind>
reconciliation`; poll every 2 s until `status.lastHandledReconcileAt` moved and the object is
Current (kstatus), failing at once on Stalled=True with its message and at the timeout with
`context deadline exceeded`; then `✔ <what it did>` (`fetched revision …`, `applied revision …`,
`scan fetched N tags`, …). `--with-source` first reconciles the Kustomization's or HelmRelease's
source (a HelmRelease's HelmChart and, before it, the chart's source).

suspend/resume: one merge patch of `spec.suspend` per name (`► suspending kustomization podinfo
in flux-system namespace`, `✔ kustomization suspended`), a missing name reported and skipped;
resume of one name (or `--wait`) then waits until the object is Ready for its generation and
prints `✔ <Kind> <name> reconciliation completed` and what it did.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import conditions, duration, flux, kstatus, objects, refs

FORCE_AT = "reconcile.fluxcd.io/forceAt"
RESET_AT = "reconcile.fluxcd.io/resetAt"


def _revision(obj: objects.RawObject) -> str:
    return str(((obj.get("status") or {}).get("artifact") or {}).get("revision", ""))


def _fetched(obj: objects.RawObject) -> str:
    return f"fetched revision {_revision(obj)}"


def _applied(obj: objects.RawObject) -> str:
    return f"applied revision {(obj.get('status') or {}).get('lastAppliedRevision', '')}"


def _released(obj: objects.RawObject) -> str:
    status = obj.get("status") or {}
    history = status.get("history") or []
    revision = history[0].get("chartVersion", "") if history else status.get("lastAttemptedRevision", "")
    return f"applied revision {revision}"


def _scanned(obj: objects.RawObject) -> str:
    count = ((obj.get("status") or {}).get("lastScanResult") or {}).get("tagCount", 0)
    return f"scan fetched {count} tags"


def _selected(obj: objects.RawObject) -> str:
    latest = (obj.get("status") or {}).get("latestRef") or {}
    digest = f"@{latest['digest']}" if latest.get("digest") else ""
    return f"selected ref {latest.get('name', '')}:{latest.get('tag', '')}{digest}"


def _automated(obj: objects.RawObject) -> str:
    ready = conditions.get(obj, conditions.READY)
    if ready is not None:
        return str(ready.get("message", ""))
    last = (obj.get("status") or {}).get("lastAutomationRunTime")
    return f"last run {last}" if last else "automation not yet run"


@dataclass(frozen=True, slots=True)
class Kind:
    gvk: refs.GVK
    human: str
    """How suspend/resume name the kind (`source git`, `image update automation`)."""
    done: Callable[[objects.RawObject], str]
    """The success line of reconcile and resume."""
    static: bool = False
    """Alerts and Providers: no status of their own to wait for."""


KINDS: dict[str, Kind] = {
    "source git": Kind(flux.GITREPOSITORY, "source git", _fetched),
    "source oci": Kind(flux.OCIREPOSITORY, "source oci", _fetched),
    "source helm": Kind(flux.HELMREPOSITORY, "source helm", _fetched),
    "source chart": Kind(flux.HELMCHART, "source chart", _fetched),
    "source bucket": Kind(flux.BUCKET, "source bucket", _fetched),
    "kustomization": Kind(flux.KUSTOMIZATION, "kustomization", _applied),
    "helmrelease": Kind(flux.HELMRELEASE, "helmrelease", _released),
    "image repository": Kind(flux.IMAGEREPOSITORY, "image repository", _scanned),
    "image policy": Kind(flux.IMAGEPOLICY, "image policy", _selected),
    "image update": Kind(flux.IMAGEUPDATEAUTOMATION, "image update automation", _automated),
    "receiver": Kind(flux.RECEIVER, "receiver", lambda o: "Receiver reconciliation completed"),
    "alert": Kind(flux.ALERT, "alert", lambda o: "Alert reconciliation completed", static=True),
    "alert-provider": Kind(
        flux.PROVIDER, "alert provider", lambda o: "Provider reconciliation completed", static=True
    ),
}
_BY_KIND = {k.gvk.kind: key for key, k in KINDS.items()}


def _get(session: Session, kind: Kind, name: str, namespace: str) -> objects.RawObject:
    ref = refs.ObjectRef(kind.gvk.group, kind.gvk.kind, namespace, name)
    try:
        return session.cluster.get(ref)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc


def _timestamp(session: Session) -> str:
    """`time.Now().Format(time.RFC3339Nano)` (in UTC)."""
    return duration.rfc3339_nano(session.calendar_ms())


def _annotate(session: Session, kind: Kind, obj: objects.RawObject, force: bool, reset: bool) -> None:
    stamp = _timestamp(session)
    annotations = {flux.REQUESTED_AT_ANNOTATION: stamp}
    if kind.gvk == flux.HELMRELEASE:
        if force:
            annotations[FORCE_AT] = stamp
        if reset:
            annotations[RESET_AT] = stamp
    try:
        session.cluster.merge_patch(
            objects.ref_of(obj), {"metadata": {"annotations": annotations}}, field_manager="flux"
        )
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc


def reconcile(
    session: Session,
    key: str,
    name: str,
    namespace: str | None = None,
    *,
    with_source: bool = False,
    force: bool = False,
    reset: bool = False,
) -> None:
    """`flux reconcile <kind> NAME` (see the module docstring); FluxError on failure."""
    kind = KINDS[key]
    ns = namespace or session.namespace
    obj = _get(session, kind, name, ns)
    if kind.gvk == flux.HELMREPOSITORY and (obj.get("spec") or {}).get("type") == "oci":
        session.log.success("reconciliation not supported by the object")
        return
    if (obj.get("spec") or {}).get("suspend") is True:
        raise FluxError("resource is suspended")
    if with_source:
        _reconcile_source(session, kind, obj)
    log = session.log
    log.action(f"annotating {kind.gvk.kind} {name} in {ns} namespace")
    _annotate(session, kind, obj, force, reset)
    log.success(f"{kind.gvk.kind} annotated")
    last = (obj.get("status") or {}).get("lastHandledReconcileAt")
    log.waiting(f"waiting for {kind.gvk.kind} reconciliation")
    stalled: list[str] = []
    current: list[objects.RawObject] = []

    def handled() -> bool:
        now = _get(session, kind, name, ns)
        if (now.get("status") or {}).get("lastHandledReconcileAt") == last:
            return False
        result = kstatus.compute(now)
        if result.status == kstatus.Status.TERMINATING:
            stalled.append("Resource scheduled for deletion")
            return True
        if result.status == kstatus.Status.FAILED:
            stalled.append(_condition(now, "Stalled").get("message", result.message))
            return True
        current[:] = [now]
        return result.status == kstatus.Status.CURRENT

    if not session.poll(handled):
        raise FluxError("context deadline exceeded")
    if stalled:
        raise FluxError(str(stalled[0]))
    ready = _condition(current[0], "Ready")
    if not ready:
        raise FluxError("status can't be determined")
    if ready.get("status") != "True":
        raise FluxError(f"{kind.gvk.kind} reconciliation failed: {ready.get('message', '')}")
    log.success(kind.done(current[0]))


def _condition(obj: objects.RawObject, ctype: str) -> dict[str, Any]:
    """The condition `ctype` of `obj`, or an empty mapping when it has none."""
    return conditions.get(obj, ctype) or {}


def _reconcile_source(session: Session, kind: Kind, obj: objects.RawObject) -> None:
    """`--with-source`: the object's source first (reconcile_with_source.go)."""
    spec = obj.get("spec") or {}
    ns = obj["metadata"]["namespace"]
    if kind.gvk == flux.KUSTOMIZATION:
        source = spec.get("sourceRef") or {}
        allowed = ("GitRepository", "OCIRepository", "Bucket")
        _source(session, source, allowed, source.get("namespace") or session.namespace)
    elif kind.gvk == flux.HELMCHART:
        source = spec.get("sourceRef") or {}
        _source(session, source, ("HelmRepository", "GitRepository", "Bucket"), ns)
    elif kind.gvk == flux.HELMRELEASE:
        chart_ref = spec.get("chartRef")
        if chart_ref:
            target = chart_ref.get("namespace") or ns
            if chart_ref.get("kind") == "HelmChart":
                reconcile(session, "source chart", str(chart_ref.get("name")), target, with_source=True)
            else:
                _source(session, chart_ref, ("OCIRepository",), target)
        else:
            source = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or {}
            reconcile(
                session,
                "source chart",
                f"{ns}-{obj['metadata']['name']}",
                source.get("namespace") or ns,
                with_source=True,
            )


def _source(session: Session, source: dict[str, Any], allowed: tuple[str, ...], namespace: str) -> None:
    kind = str(source.get("kind", ""))
    if kind not in allowed:
        raise FluxError(f"cannot reconcile source of kind {kind}")
    reconcile(session, _BY_KIND[kind], str(source.get("name", "")), namespace)


def _matching(session: Session, kind: Kind, name: str) -> list[objects.RawObject]:
    return session.cluster.list(
        kind.gvk.group_kind, namespace=session.namespace, fields=f"metadata.name={name}"
    )


def suspend(session: Session, key: str, names: list[str], *, all_objects: bool) -> None:
    """`flux suspend <kind> NAME… [--all]`."""
    kind = KINDS[key]
    log = session.log
    targets = _targets(session, kind, names, all_objects)
    for name, found in targets:
        if not found:
            log.failure(f"{kind.gvk.kind} {name} not found in {session.namespace} namespace")
        for obj in found:
            log.action(f"suspending {kind.human} {obj['metadata']['name']} in {session.namespace} namespace")
            _set_suspend(session, obj, True)
            log.success(f"{kind.human} suspended")


def _targets(
    session: Session, kind: Kind, names: list[str], all_objects: bool
) -> list[tuple[str, list[objects.RawObject]]]:
    if not names and not all_objects:
        raise FluxError(f"{kind.human} name is required")
    if not names:
        every = session.cluster.list(kind.gvk.group_kind, namespace=session.namespace)
        return [(o["metadata"]["name"], [o]) for o in every]
    return [(name, _matching(session, kind, name)) for name in dict.fromkeys(names)]


def _set_suspend(session: Session, obj: objects.RawObject, value: bool) -> None:
    try:
        session.cluster.merge_patch(
            objects.ref_of(obj), {"spec": {"suspend": True if value else None}}, field_manager="flux"
        )
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc


def resume(session: Session, key: str, names: list[str], *, all_objects: bool, wait: bool | None) -> None:
    """`flux resume <kind> NAME… [--all] [--wait]`."""
    kind = KINDS[key]
    log = session.log
    targets = _targets(session, kind, names, all_objects)
    if all_objects and not names and not targets:
        log.failure(f"no {kind.gvk.kind} objects found in {session.namespace} namespace")
        return
    resumed: list[objects.RawObject] = []
    for _name, found in targets:
        if not found:
            log.failure(f"{kind.gvk.kind} object '{names[0]}' not found in {session.namespace} namespace")
        for obj in found:
            log.action(f"resuming {kind.human} {obj['metadata']['name']} in {session.namespace} namespace")
            _set_suspend(session, obj, False)
            log.success(f"{kind.human} resumed")
            resumed.append(obj)
    if not (wait is True or (wait is None and len(names) == 1)):
        return
    for _ in resumed:
        log.waiting(f"waiting for {kind.gvk.kind} reconciliation")
    failed = 0
    for obj in sorted(resumed, key=lambda o: str(o["metadata"]["name"])):
        name = str(obj["metadata"]["name"])
        outcome: list[str | objects.RawObject] = []

        def ready(name: str = name, outcome: list[str | objects.RawObject] = outcome) -> bool:
            now = _get(session, kind, name, session.namespace)
            verdict = _resumed(now, kind.static)
            if verdict is None:
                return False
            outcome[:] = [verdict]
            return True

        if not session.poll(ready):
            outcome[:] = ["context deadline exceeded"]
        if isinstance(outcome[0], str):
            failed += 1
            log.failure(f"{kind.gvk.kind} {name} reconciliation failed: {outcome[0]}")
        else:
            log.success(f"{kind.gvk.kind} {name} reconciliation completed")
            log.success(kind.done(outcome[0]))
    if failed:
        raise FluxError(f"reconciliation failed for {failed} {kind.gvk.kind}(s)")


def _resumed(obj: objects.RawObject, static: bool) -> objects.RawObject | str | None:
    """readiness.go: the object when it is ready for its generation, an error message when it
    failed, None while it is in progress."""
    if not static:
        status = obj.get("status") or {}
        generation = obj["metadata"].get("generation")
        if int(status.get("observedGeneration") or 0) < 1:
            return None
        ready = _condition(obj, "Ready")
        if not ready:
            return None
        observed = ready.get("observedGeneration") or 0
        if observed != 0 and observed != generation:
            return None
        if observed == 0 and status.get("observedGeneration") != generation:
            return None
    result = kstatus.compute(obj)
    if result.status == kstatus.Status.CURRENT:
        return obj
    if result.status == kstatus.Status.IN_PROGRESS:
        return None
    return result.message or str(result.status)
