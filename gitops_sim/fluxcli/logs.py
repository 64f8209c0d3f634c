"""`flux logs`, as flux2 cmd/flux/logs.go reads and prints Flux's controller logs.

The Deployments of `--flux-namespace` labelled `app.kubernetes.io/part-of=flux`, by name; of
each, one Pod (selected by its template's labels; running and ready first, then the oldest), its
`manager` container when it has several; each Pod's log read in turn (with `--follow`, read again
every second until the timeout, printing what is new). Each JSON line (others are skipped) that
passes the filters is printed as

    <ts> <level> <Kind>[/<name>.<namespace>] - <msg> <error>

(a trailing space when there is no error): `--level` an exact level, `--kind` the line's
`reconciler kind` or `controllerKind`, `--name` its `name`, and its `namespace` the `-n` one
unless `-A` (start-up lines have none, so only `-A` shows them); case is ignored. `--tail N` is
each Pod's last N lines before filtering; `--since`/`--since-time` the newer ones.

Errors in the CLI's words: `no argument required`, `no Flux pods found in namespace "<ns>"`, `at
most one of `sinceTime` or `sinceDuration` may be specified`, `<t> is not a valid (RFC3339) time`;
a line that is not valid JSON prints `✗ parse error: …` and ends that Pod's log.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gitops_sim.cluster import errors
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import duration, objects, refs

DEPLOYMENT = refs.GroupKind("apps", "Deployment")
POD = refs.GroupKind("", "Pod")
PART_OF_FLUX = "app.kubernetes.io/part-of=flux"
FOLLOW_POLL_MS = 1_000


@dataclass(frozen=True, slots=True)
class Filters:
    level: str = ""
    kind: str = ""
    name: str = ""
    namespace: str | None = "flux-system"
    """None: every namespace (`-A`)."""


def logs(
    session: Session,
    filters: Filters,
    *,
    flux_namespace: str,
    tail: int,
    follow: bool,
    since_ms: int,
    since_time: str,
) -> None:
    """`flux logs` (see the module docstring)."""
    pods = _pods(session, flux_namespace)
    if since_ms and since_time:
        raise FluxError("at most one of `sinceTime` or `sinceDuration` may be specified")
    since_seconds: int | None = round(since_ms / 1000) if since_ms else None
    if since_time:
        try:
            oldest = duration.parse_rfc3339(since_time)
        except ValueError as exc:
            raise FluxError(f"{since_time} is not a valid (RFC3339) time") from exc
        since_seconds = max(0, (session.calendar_ms() - oldest + 999) // 1000)
    printed = [0] * len(pods)
    failed = False

    def read(index: int, first: bool) -> None:
        nonlocal failed
        pod, container = pods[index]
        try:
            text = session.cluster.pod_log(
                objects.ref_of(pod),
                container=container,
                tail_lines=tail if tail > -1 and first else None,
                since_seconds=since_seconds,
            )
        except errors.ApiError as exc:
            session.err.write(f"failed getting logs: {exc.message}\n")
            failed = True
            return
        lines = text.splitlines()
        new, printed[index] = lines[printed[index] :] if not first else lines, len(lines)
        for line in new:
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict):
                    raise ValueError("json: cannot unmarshal into Go value of type main.ControllerLogEntry")
                shown = _format(entry, filters)
            except ValueError as exc:
                session.log.failure(f"parse error: {exc}")
                return
            if shown is not None:
                session.out.write(shown)

    for index in range(len(pods)):
        read(index, first=True)
    if follow:
        waited = 0
        while waited < session.timeout_ms:
            session.sleep(FOLLOW_POLL_MS)
            waited += FOLLOW_POLL_MS
            for index in range(len(pods)):
                read(index, first=False)
    elif failed:
        raise FluxError("failed to collect logs from all Flux pods")


def _pods(session: Session, namespace: str) -> list[tuple[objects.RawObject, str | None]]:
    """One Pod of each Flux Deployment, with the container to read (`manager` when several)."""
    found: list[tuple[objects.RawObject, str | None]] = []
    deployments = session.cluster.list(
        DEPLOYMENT, namespace=namespace, labels="app.kubernetes.io/part-of=flux"
    )
    for deployment in sorted(deployments, key=lambda d: str(d["metadata"]["name"])):
        template = ((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}
        labels = {str(k): str(v) for k, v in (template.get("labels") or {}).items()}
        if not labels:
            continue
        pods = session.cluster.list(POD, namespace=namespace, labels=labels)
        if not pods:
            continue
        pod = min(pods, key=_logging_order)
        containers = ((pod.get("spec") or {}).get("containers")) or []
        found.append((pod, "manager" if len(containers) > 1 else None))
    if not found:
        raise FluxError(f'no Flux pods found in namespace "{namespace}"')
    return found


def _logging_order(pod: objects.RawObject) -> tuple[int, int, int, str]:
    """kubectl's ByLogging: on a node, Running before Unknown before Pending, ready, oldest."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    phase = {"Running": 0, "Unknown": 1, "Pending": 2}.get(str(status.get("phase")), 3)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )
    created = str(pod["metadata"].get("creationTimestamp", ""))
    return (0 if spec.get("nodeName") else 1, phase, 0 if ready else 1, created)


def _format(entry: dict[str, Any], filters: Filters) -> str | None:
    """The line `flux logs` prints for one JSON log entry, or None when a filter drops it."""
    ts = entry.get("ts", "")
    if not isinstance(ts, str):
        raise ValueError(
            f"json: cannot unmarshal {_json_type(ts)} into Go struct field ControllerLogEntry.ts "
            "of type string"
        )

    def text(key: str) -> str:
        value = entry.get(key)
        return value if isinstance(value, str) else ""

    level, kind, controller_kind = text("level"), text("reconciler kind"), text("controllerKind")
    name, namespace = text("name"), text("namespace")
    if filters.level and filters.level != level:
        return None
    if filters.kind and filters.kind.lower() not in (kind.lower(), controller_kind.lower()):
        return None
    if filters.name and filters.name.lower() != name.lower():
        return None
    if filters.namespace is not None and filters.namespace.lower() != namespace.lower():
        return None
    subject = (kind or controller_kind) + (f"/{name}.{namespace}" if name else "")
    return f"{ts} {level} {subject} - {text('msg')} {text('error')}\n"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"
