"""`kubectl get` tables: the server-side printing of the Table API (meta.k8s.io/v1 Table).

Custom resources print `Name` then their CRD's additionalPrinterColumns (an implicit `Age` when
there are none). Built-ins print the columns and cells of kube-apiserver's printers
(kubernetes `pkg/printers/internalversion/printers.go`, `AddHandlers` and the `print<Kind>`
functions): Pod (READY STATUS RESTARTS AGE; wide: IP NODE NOMINATED NODE READINESS GATES),
Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, Service, ConfigMap, Secret, Namespace and
Event (LAST SEEN TYPE REASON OBJECT MESSAGE; wide: SUBOBJECT SOURCE FIRST SEEN COUNT NAME), with
the workloads' wide CONTAINERS IMAGES SELECTOR. Other built-ins print `Name` and `Age`; CRDs print
`Created At`, as the apiserver's default table convertor does. Dates become human durations as
apimachinery's `duration.HumanDuration` renders them (`<invalid>` for a time more than a second
in the future, `<unknown>` for none).

Each row carries the object as `includeObject` asks (kubectl sends `Object` for `--sort-by`,
which sorts client-side on the rows' objects): `Metadata` (the default, PartialObjectMetadata),
`Object` (the whole object) or `None`.

Known differences: the Pod STATUS covers the reasons the simulation produces (the phase, a
container's waiting or terminated reason, `Terminating`, `Completed`, `Init:`), not every branch
of `printPod` (no restartable init containers' sidecar counting, no node-unreachable reason).

Callers: `cluster.http.server`. Pure functions; `now_ms` comes from the server's clock; they must
never read the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gitops_sim.cluster import kinds
from gitops_sim.model import duration, objects

Column = tuple[str, str, str, int]  # name, type, jsonPath, priority
Row = Callable[[objects.RawObject, int], list[Any]]
"""The cells of one built-in object after its name and before its age (`now_ms` given)."""

INCLUDE_OBJECT = ("Metadata", "Object", "None")

_NAME: Column = ("Name", "name", ".metadata.name", 0)
_AGE: Column = ("Age", "date", ".metadata.creationTimestamp", 0)
# Kinds printed by the apiserver's default table convertor: Name and an absolute creation time.
_CREATED_AT: Column = ("Created At", "created", ".metadata.creationTimestamp", 0)
_WIDE_WORKLOAD: list[Column] = [
    ("Containers", "string", "", 1),
    ("Images", "string", "", 1),
    ("Selector", "string", "", 1),
]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _spec(obj: objects.RawObject) -> dict[str, Any]:
    return _dict(obj.get("spec"))


def _status(obj: objects.RawObject) -> dict[str, Any]:
    return _dict(obj.get("status"))


def since(stamp: Any, now_ms: int) -> str:
    """`translateTimestampSince`: the age of an RFC 3339 time, `<unknown>` when there is none."""
    if not isinstance(stamp, str) or not stamp:
        return "<unknown>"
    try:
        return human_duration(now_ms - duration.parse_rfc3339(stamp))
    except ValueError:
        return "<unknown>"


def _labels(labels: Any) -> str:
    """`labels.FormatLabels`: `k=v,k2=v2` sorted by key, `<none>` when empty."""
    pairs = _dict(labels)
    return ",".join(f"{k}={pairs[k]}" for k in sorted(pairs)) or "<none>"


def selector_text(selector: Any) -> str:
    """`metav1.FormatLabelSelector`: matchLabels then matchExpressions, `<none>` when empty."""
    sel = _dict(selector)
    parts = [f"{k}={v}" for k, v in sorted(_dict(sel.get("matchLabels")).items())]
    for expr in _list(sel.get("matchExpressions")):
        expr = _dict(expr)
        op = str(expr.get("operator", ""))
        values = ",".join(str(v) for v in _list(expr.get("values")))
        key = str(expr.get("key", ""))
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or "<none>"


def _containers(obj: objects.RawObject) -> list[str]:
    """The wide CONTAINERS and IMAGES cells of a workload's pod template."""
    template = _spec(_dict(_spec(obj).get("template")))
    containers = [_dict(c) for c in _list(template.get("containers"))]
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    ]


def _pod(obj: objects.RawObject, now_ms: int) -> list[Any]:
    """`printPod`: READY, STATUS, RESTARTS (with the last restart's age), then the wide cells."""
    spec, status = _spec(obj), _status(obj)
    reason = str(status.get("reason") or status.get("phase") or "")
    statuses = [_dict(s) for s in _list(status.get("containerStatuses"))]
    init_statuses = [_dict(s) for s in _list(status.get("initContainerStatuses"))]
    restarts = 0
    last_restart = ""
    ready = 0
    initializing = False
    for i, cs in enumerate(init_statuses):
        restarts += _int(cs.get("restartCount"))
        state = _dict(cs.get("state"))
        terminated, waiting = _dict(state.get("terminated")), _dict(state.get("waiting"))
        if terminated and _int(terminated.get("exitCode")) == 0:
            continue
        if terminated:
            reason = f"Init:{terminated.get('reason') or 'Error'}"
        elif waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{len(_list(spec.get('initContainers')))}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(statuses):
            restarts += _int(cs.get("restartCount"))
            finished = _dict(_dict(cs.get("lastState")).get("terminated")).get("finishedAt")
            if isinstance(finished, str) and finished > last_restart:
                last_restart = finished
            state = _dict(cs.get("state"))
            waiting, terminated = _dict(state.get("waiting")), _dict(state.get("terminated"))
            if waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated.get("reason"):
                reason = str(terminated["reason"])
            elif terminated:
                signal = _int(terminated.get("signal"))
                code = _int(terminated.get("exitCode"))
                reason = f"Signal:{signal}" if signal else f"ExitCode:{code}"
            elif state.get("running") is not None and cs.get("ready"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running"
    else:
        restarts += sum(_int(cs.get("restartCount")) for cs in statuses)
    if _dict(obj.get("metadata")).get("deletionTimestamp"):
        reason = "Terminating"
    restart_cell = str(restarts)
    if restarts and last_restart:
        restart_cell = f"{restarts} ({since(last_restart, now_ms)} ago)"
    gates = _list(spec.get("readinessGates"))
    gates_cell = "<none>"
    if gates:
        conditions = {_dict(c).get("type"): _dict(c).get("status") for c in _list(status.get("conditions"))}
        passed = sum(1 for g in gates if conditions.get(_dict(g).get("conditionType")) == "True")
        gates_cell = f"{passed}/{len(gates)}"
    return [
        f"{ready}/{len(_list(spec.get('containers')))}",
        reason,
        restart_cell,
        "@age",
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_cell,
    ]


def _deployment(obj: objects.RawObject, now_ms: int) -> list[Any]:
    status = _status(obj)
    return [
        f"{_int(status.get('readyReplicas'))}/{_replicas(obj)}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        "@age",
        *_containers(obj),
        selector_text(_spec(obj).get("selector")),
    ]


def _replicas(obj: objects.RawObject) -> int:
    """spec.replicas, which the apiserver defaults to 1."""
    value = _spec(obj).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _replica_set(obj: objects.RawObject, now_ms: int) -> list[Any]:
    status = _status(obj)
    return [
        _replicas(obj),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        "@age",
        *_containers(obj),
        selector_text(_spec(obj).get("selector")),
    ]


def _stateful_set(obj: objects.RawObject, now_ms: int) -> list[Any]:
    return [f"{_int(_status(obj).get('readyReplicas'))}/{_replicas(obj)}", "@age", *_containers(obj)]


def _daemon_set(obj: objects.RawObject, now_ms: int) -> list[Any]:
    status = _status(obj)
    template = _spec(_dict(_spec(obj).get("template")))
    return [
        _int(status.get("desiredNumberScheduled")),
        _int(status.get("currentNumberScheduled")),
        _int(status.get("numberReady")),
        _int(status.get("updatedNumberScheduled")),
        _int(status.get("numberAvailable")),
        _labels(template.get("nodeSelector")),
        "@age",
        *_containers(obj),
        selector_text(_spec(obj).get("selector")),
    ]


def _job(obj: objects.RawObject, now_ms: int) -> list[Any]:
    """`printJob`: STATUS from the conditions, COMPLETIONS, DURATION (running: since start)."""
    spec, status = _spec(obj), _status(obj)
    succeeded = _int(status.get("succeeded"))
    completions = spec.get("completions")
    if isinstance(completions, int):
        completions_cell = f"{succeeded}/{completions}"
    elif _int(spec.get("parallelism")) > 1:
        completions_cell = f"{succeeded}/1 of {_int(spec.get('parallelism'))}"
    else:
        completions_cell = f"{succeeded}/1"
    start, end = status.get("startTime"), status.get("completionTime")
    took = ""
    if isinstance(start, str) and start:
        until = duration.parse_rfc3339(end) if isinstance(end, str) and end else now_ms
        took = human_duration(until - duration.parse_rfc3339(start))
    true = {_dict(c).get("type") for c in _list(status.get("conditions")) if _dict(c).get("status") == "True"}
    if "Complete" in true:
        state = "Complete"
    elif "Failed" in true:
        state = "Failed"
    elif _dict(obj.get("metadata")).get("deletionTimestamp"):
        state = "Terminating"
    elif "FailureTarget" in true:
        state = "FailureTarget"
    elif "Suspended" in true:
        state = "Suspended"
    elif "SuccessCriteriaMet" in true:
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    return [state, completions_cell, took, "@age", *_containers(obj), selector_text(spec.get("selector"))]


def _service(obj: objects.RawObject, now_ms: int) -> list[Any]:
    """`printService`: TYPE, CLUSTER-IP, EXTERNAL-IP (per type), PORT(S) as `80:30080/TCP`."""
    spec = _spec(obj)
    kind = str(spec.get("type") or "ClusterIP")
    external = [str(ip) for ip in _list(spec.get("externalIPs"))]
    if kind == "LoadBalancer":
        ingress = _list(_dict(_status(obj).get("loadBalancer")).get("ingress"))
        found = [str(_dict(i).get("ip") or _dict(i).get("hostname") or "") for i in ingress]
        external_cell = ",".join([*found, *external]) or "<pending>"
    elif kind == "ExternalName":
        external_cell = str(spec.get("externalName") or "")
    else:
        external_cell = ",".join(external) or "<none>"
    ports = []
    for port in _list(spec.get("ports")):
        port = _dict(port)
        protocol = port.get("protocol") or "TCP"
        node = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node}/{protocol}")
    selector = _labels(spec.get("selector"))
    return [
        kind,
        spec.get("clusterIP") or "<none>",
        external_cell,
        ",".join(ports) or "<none>",
        "@age",
        selector,
    ]


def _data(obj: objects.RawObject, now_ms: int) -> list[Any]:
    return [len(_dict(obj.get("data"))) + len(_dict(obj.get("binaryData"))), "@age"]


def _secret(obj: objects.RawObject, now_ms: int) -> list[Any]:
    return [obj.get("type") or "Opaque", len(_dict(obj.get("data"))), "@age"]


def _namespace(obj: objects.RawObject, now_ms: int) -> list[Any]:
    return [_status(obj).get("phase") or "", "@age"]


def _event(obj: objects.RawObject, now_ms: int) -> list[Any]:
    """`printEvent`: LAST SEEN (`5m (x3 over 10m)` for a repeated event; `eventTime` when there is
    no lastTimestamp, as events.k8s.io/v1 writers leave it), OBJECT as `kind/name` in lower case."""
    last = obj.get("lastTimestamp") or obj.get("eventTime")
    first = obj.get("firstTimestamp") or obj.get("eventTime")
    count = _int(obj.get("count"))
    last_seen = since(last, now_ms)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {since(first, now_ms)})"
    involved = _dict(obj.get("involvedObject"))
    source = _dict(obj.get("source"))
    component = str(source.get("component") or obj.get("reportingComponent") or "")
    host = str(source.get("host") or obj.get("reportingInstance") or "")
    return [
        last_seen,
        obj.get("type") or "",
        obj.get("reason") or "",
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath") or "",
        f"{component}, {host}" if host else component,
        obj.get("message") or "",
        since(first, now_ms),
        count,
        _dict(obj.get("metadata")).get("name", ""),
    ]


# kind -> (columns after Name, with "@age" cells where Age goes; the row's cells after the name)
_BUILTIN: dict[str, tuple[list[Column], Row]] = {
    "Pod": (
        [
            ("Ready", "string", "", 0),
            ("Status", "string", "", 0),
            ("Restarts", "string", "", 0),
            _AGE,
            ("IP", "string", "", 1),
            ("Node", "string", "", 1),
            ("Nominated Node", "string", "", 1),
            ("Readiness Gates", "string", "", 1),
        ],
        _pod,
    ),
    "Deployment": (
        [
            ("Ready", "string", "", 0),
            ("Up-to-date", "integer", "", 0),
            ("Available", "integer", "", 0),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _deployment,
    ),
    "ReplicaSet": (
        [
            ("Desired", "integer", "", 0),
            ("Current", "integer", "", 0),
            ("Ready", "integer", "", 0),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _replica_set,
    ),
    "StatefulSet": ([("Ready", "string", "", 0), _AGE, *_WIDE_WORKLOAD[:2]], _stateful_set),
    "DaemonSet": (
        [
            ("Desired", "integer", "", 0),
            ("Current", "integer", "", 0),
            ("Ready", "integer", "", 0),
            ("Up-to-date", "integer", "", 0),
            ("Available", "integer", "", 0),
            ("Node Selector", "string", "", 0),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _daemon_set,
    ),
    "Job": (
        [
            ("Status", "string", "", 0),
            ("Completions", "string", "", 0),
            ("Duration", "string", "", 0),
            _AGE,
            *_WIDE_WORKLOAD,
        ],
        _job,
    ),
    "Service": (
        [
            ("Type", "string", "", 0),
            ("Cluster-IP", "string", "", 0),
            ("External-IP", "string", "", 0),
            ("Port(s)", "string", "", 0),
            _AGE,
            ("Selector", "string", "", 1),
        ],
        _service,
    ),
    "ConfigMap": ([("Data", "integer", "", 0), _AGE], _data),
    "Secret": ([("Type", "string", "", 0), ("Data", "integer", "", 0), _AGE], _secret),
    "Namespace": ([("Status", "string", "", 0), _AGE], _namespace),
}
_CORE = {"Pod", "Service", "ConfigMap", "Secret", "Namespace", "Event"}
_APPS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
_EVENT: list[Column] = [
    ("Last Seen", "string", "", 0),
    ("Type", "string", "", 0),
    ("Reason", "string", "", 0),
    ("Object", "string", "", 0),
    ("Subobject", "string", "", 1),
    ("Source", "string", "", 1),
    ("Message", "string", "", 0),
    ("First Seen", "string", "", 1),
    ("Count", "string", "", 1),
    ("Name", "name", "", 1),
]


def _printer(info: kinds.KindInfo) -> tuple[list[Column], Row] | None:
    """The built-in printer of a kind, when the apiserver has one for it."""
    if info.custom:
        return None
    kind, group = info.gvk.kind, info.gvk.group
    if kind == "Event" and not group:
        return _EVENT, _event
    if (
        (kind in _CORE and not group)
        or (kind in _APPS and group == "apps")
        or (kind == "Job" and group == "batch")
    ):
        columns, row = _BUILTIN[kind]
        return [_NAME, *columns], row
    return None


def columns(info: kinds.KindInfo) -> list[Column]:
    """Every column of the kind's table, Name first (Events have none: they print LAST SEEN first)."""
    printer = _printer(info)
    if printer is not None:
        return printer[0]
    if info.custom:
        return [_NAME, *(info.printer_columns or [_AGE])]
    if info.gvk.kind == "CustomResourceDefinition":
        return [_NAME, _CREATED_AT]
    return [_NAME, _AGE]


def table(
    info: kinds.KindInfo,
    items: list[objects.RawObject],
    resource_version: str,
    now_ms: int,
    *,
    include_columns: bool = True,
    include_object: str = "Metadata",
) -> dict[str, Any]:
    """A Table of `items`; `include_object` is the request's `includeObject` (`INCLUDE_OBJECT`)."""
    cols = columns(info)
    printer = _printer(info)
    out: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
    }
    if include_columns:
        out["columnDefinitions"] = [
            {
                "name": name,
                "type": kind if kind in ("integer", "number", "boolean") else "string",
                "format": "name" if kind == "name" else "",
                "description": name,
                "priority": priority,
            }
            for name, kind, _, priority in cols
        ]
    rows = []
    for obj in items:
        if printer is None:
            cells = [_cell(obj, c, now_ms) for c in cols]
        else:
            cells = printer[1](obj, now_ms)
            if info.gvk.kind != "Event":
                cells = [obj["metadata"].get("name", ""), *cells]
            cells = [
                since(obj["metadata"].get("creationTimestamp"), now_ms) if c == "@age" else c for c in cells
            ]
        row: dict[str, Any] = {"cells": cells}
        if include_object == "Object":
            row["object"] = info.present(obj)
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {k: v for k, v in obj["metadata"].items() if k != "managedFields"},
            }
        rows.append(row)
    out["rows"] = rows
    return out


def _cell(obj: objects.RawObject, column: Column, now_ms: int) -> Any:
    """A cell of a printer column (a CRD's, or Name and Age)."""
    _, kind, path, _ = column
    value = jsonpath(obj, path)
    if kind == "created":
        return value if isinstance(value, str) else "<unknown>"
    if kind == "date":
        return since(value, now_ms)
    if value is None:
        return "" if kind == "string" else None
    return value


_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_-]+)==[\"']([^\"']*)[\"']\)\]")


def jsonpath(obj: Any, path: str) -> Any:
    """The value at a printer-column JSONPath, or None."""
    cur = obj
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None:
            return None
        field, index, key, want = match.groups()
        if field is not None:
            cur = cur.get(field) if isinstance(cur, dict) else None
        elif index is not None:
            cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
        else:
            cur = (
                next((i for i in cur if isinstance(i, dict) and str(i.get(key)) == want), None)
                if isinstance(cur, list)
                else None
            )
        if cur is None:
            return None
        pos = match.end()
    return cur


def human_duration(ms: int) -> str:
    """apimachinery `duration.HumanDuration`: 5s, 3m2s, 10m, 2h30m, 5h, 3d4h, 40d, 2y; a time more
    than a second ahead is `<invalid>` (the two-second tolerance for clock skew), less is `0s`."""
    seconds = int(ms / 1000)
    if seconds < -1:
        return "<invalid>"
    seconds = max(seconds, 0)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"
