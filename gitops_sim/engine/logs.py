"""What Flux's controllers write on stderr: their JSON log lines, per component, read back as the
log of the component's Pod (`pods/{name}/log`, `kubectl logs`, `flux logs`).

Provenance: fluxcd/pkg `runtime/logger` (zap's production JSON: `level`, `ts` as ISO 8601 with
milliseconds, `logger` when named, `msg`, then the context keys, then the call's keys, `error`
last), controller-runtime's reconcile context (`controller`, `controllerGroup`,
`controllerKind`, `<Kind>: {name, namespace}`, `namespace`, `name`, `reconcileID`) and its
start-up lines, and the controllers' own info lines. Our own code.

What each reconcile writes (`Logs.reconciled`, from the reconcile's outcome and the events it
recorded):
- source-controller and the image controllers log each Normal event they record (their
  `eventLogf`: `stored artifact for commit '…'`, `Latest image tag for … resolved to …`); a
  source that stored nothing new logs `no changes since last reconciliation: observed revision
  '…'` (GitRepository) or `artifact up-to-date with remote revision: '…'`;
- kustomize-controller logs `server-side apply completed` (`output`: every object of the
  inventory and what the apply did to it, `revision`) and `Reconciliation finished in …, next
  run in …`, or at level error `Reconciliation failed after …, next try in …` with the error;
- helm-controller logs `release in-sync with desired state`; notification-controller's Receiver
  `Reconciliation finished, next run in …`;
- a suspended object logs that it is suspended; a failure the controller returns is
  controller-runtime's `Reconciler error`, at level error, with the Ready message as the error.
A component that starts writes manager's start-up lines (`starting manager`, the leader lease,
`Starting EventSource|Controller|workers` per controller); a Pod that starts again begins a new
log, as a new container does.

Differences, on purpose: durations are virtual (a reconcile takes no virtual time, so `finished
in 0s`); event lines at trace level, the metrics and health servers' lines and the event
server's lines are not written; each component keeps its last `LIMIT` reconciles (the kubelet
rotates container logs too). `reconcileID`s come from the run's seeded RNG.

Callers: `engine.simulation` (it wraps each controller's reconcile and hands the store
`pod_logs`). Never changes the cluster.
"""

from __future__ import annotations

import collections
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops_sim.apply import inventory
from gitops_sim.model import conditions, duration, objects, refs

LIMIT = 5_000
"""Reconciles (and start-up lines) kept per component."""

NAMESPACE = "flux-system"
"""Where Flux's Pods run (the namespace `flux install` makes)."""

_SOURCE_KINDS = {"GitRepository", "OCIRepository", "HelmRepository", "Bucket", "HelmChart"}

_WORKERS = {"source-controller": 2}
"""`--concurrent` where it is not 4."""

_SUSPENDED_CAPITALISED = {"HelmChart", "Kustomization", "Receiver"}
"""The kinds whose suspend line starts with a capital R."""

_EVENT_LOGGERS = {"source-controller", "image-reflector-controller", "image-automation-controller"}
"""The controllers that log the events they record (`eventLogf`)."""

Line = tuple[int, str, str, dict[str, Any]]
"""(Unix ms, level, msg, keys after msg), rendered on read."""


@dataclass(frozen=True, slots=True)
class Controller:
    name: str
    """controller-runtime's controller name (`gitrepository`)."""
    gvk: refs.GVK
    component: str


@dataclass(frozen=True, slots=True)
class _Reconciled:
    """One reconcile, kept as it ended and turned into lines when the log is read."""

    at: int
    controller: Controller
    ref: refs.ObjectRef
    obj: objects.RawObject
    events: tuple[tuple[str, str, str], ...]
    error: str | None
    rid: int
    """The reconcile ID's 128 bits, drawn from the run's RNG when it happened."""


class Logs:
    def __init__(
        self, controllers: list[Controller], calendar: Callable[[], int], rng: random.Random
    ) -> None:
        """`calendar()`: the time now (Unix ms); `rng`: where reconcile IDs come from."""
        self._controllers = controllers
        self._by_kind = {c.gvk.group_kind: c for c in controllers}
        self._calendar = calendar
        self._rng = rng
        self._lines: dict[str, collections.deque[Line | _Reconciled]] = {}

    # -- writing -----------------------------------------------------------------------------

    def started(self, component: str) -> None:
        """`component`'s manager started: a new log with its start-up lines."""
        lines = self._lines[component] = collections.deque(maxlen=LIMIT)
        now = self._calendar()
        lock = f"{NAMESPACE}/{component}-leader-election"
        lines.append((now, "info", "starting manager", {"logger": "setup"}))
        lines.append(
            (now, "info", "Attempting to acquire leader lease...", {"logger": "runtime", "lock": lock})
        )
        lines.append((now, "info", "Successfully acquired lease", {"logger": "runtime", "lock": lock}))
        for controller in self._controllers:
            if controller.component != component:
                continue
            keys = {
                "controller": controller.name,
                "controllerGroup": controller.gvk.group,
                "controllerKind": controller.gvk.kind,
            }
            source = f"kind source: *{controller.gvk.version}.{controller.gvk.kind}"
            lines.append((now, "info", "Starting EventSource", {**keys, "source": source}))
            lines.append((now, "info", "Starting Controller", dict(keys)))
            workers = _WORKERS.get(component, 4)
            lines.append((now, "info", "Starting workers", {**keys, "worker count": workers}))

    def reconciled(
        self,
        ref: refs.ObjectRef,
        obj: objects.RawObject | None,
        events: list[tuple[str, str, str]],
        error: str | None = None,
    ) -> None:
        """A reconcile of `ref` ended: `obj` as it is now (None: gone; a snapshot the caller never
        changes), the events it recorded (type, reason, message), and `error` when it raised
        something unexpected. Kept as it is and turned into lines when read."""
        controller = self._by_kind.get(ref.group_kind)
        if controller is None or obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        entries = self._lines.setdefault(controller.component, collections.deque(maxlen=LIMIT))
        entries.append(
            _Reconciled(
                self._calendar(), controller, ref, obj, tuple(events), error, self._rng.getrandbits(128)
            )
        )

    @staticmethod
    def _lines_of(done: _Reconciled) -> list[Line]:
        """What the controller logs of one reconcile (see the module docstring)."""
        ref, obj, events = done.ref, done.obj, done.events
        context: dict[str, Any] = {
            "controller": done.controller.name,
            "controllerGroup": done.controller.gvk.group,
            "controllerKind": ref.kind,
            ref.kind: {"name": ref.name, "namespace": ref.namespace},
            "namespace": ref.namespace,
            "name": ref.name,
            "reconcileID": str(uuid.UUID(int=done.rid, version=4)),
        }
        lines: list[Line] = []

        def write(level: str, msg: str, **keys: Any) -> None:
            lines.append((done.at, level, msg, {**context, **keys}))

        if done.error is not None:
            write("error", "Reconciler error", error=done.error)
            return lines
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        if spec.get("suspend") is True:
            first = "R" if ref.kind in _SUSPENDED_CAPITALISED else "r"
            write("info", f"{first}econciliation is suspended for this object")
            return lines
        ready = conditions.get(obj, "Ready") or {}
        failed = ready.get("status") == "False"
        waiting = ready.get("reason") == "DependencyNotReady"
        message = str(ready.get("message", ""))
        if done.controller.component in _EVENT_LOGGERS:
            logged = [text for kind, _, text in events if kind == "Normal"]
            for text in logged:
                write("info", text)
            revision = (status.get("artifact") or {}).get("revision")
            if not logged and not failed and revision and ref.kind in _SOURCE_KINDS:
                if ref.kind == "GitRepository":
                    write("info", f"no changes since last reconciliation: observed revision '{revision}'")
                else:
                    write("info", f"artifact up-to-date with remote revision: '{revision}'")
            if failed and not waiting:
                write("error", "Reconciler error", error=message)
        elif ref.kind == "Kustomization":
            _kustomization(write, obj, events, failed and not waiting, ready.get("status") == "True", message)
        elif ref.kind == "HelmRelease":
            if failed and not waiting:
                write("error", "Reconciler error", error=message)
            elif ready.get("status") == "True":
                write("info", "release in-sync with desired state")
        elif ref.kind == "Receiver" and ready.get("status") == "True":
            write("info", f"Reconciliation finished, next run in {_interval(spec.get('interval'))}")
        return lines

    # -- reading -----------------------------------------------------------------------------

    def of_pod(self, pod: objects.RawObject, container: str) -> list[tuple[int, str]] | None:
        """The `manager` container's log of a Flux component's Pod (`MemoryCluster.pod_logs`):
        what the component wrote since it last started, or None for any other container."""
        meta = pod.get("metadata") or {}
        component = (meta.get("labels") or {}).get("app")
        if container != "manager" or meta.get("namespace") != NAMESPACE or component not in self._lines:
            return None
        out = []
        for entry in self._lines[component]:
            lines = self._lines_of(entry) if isinstance(entry, _Reconciled) else [entry]
            out += [(at, render(at, level, msg, keys)) for at, level, msg, keys in lines]
        return out


def _interval(value: Any, default: str = "10m") -> str:
    return duration.format(duration.parse(str(value or default)))


def _kustomization(
    write: Callable[..., None],
    obj: objects.RawObject,
    events: tuple[tuple[str, str, str], ...],
    failed: bool,
    ready: bool,
    message: str,
) -> None:
    """kustomize-controller's lines: the notes it also records as events (dependencies, a source
    not found or without an artifact); on success, the apply (every inventory object and what
    was done to it) and the end of the reconcile; on a failure, the error and the retry."""
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    revision = status.get("lastAttemptedRevision", "")
    for kind, reason, text in events:
        if kind == "Normal" and reason not in ("Progressing", "ReconciliationSucceeded"):
            write("info", text)
    if failed:
        retry = _interval(spec.get("retryInterval") or spec.get("interval"))
        write(
            "error", f"Reconciliation failed after 0s, next try in {retry}", revision=revision, error=message
        )
        return
    if not ready:
        return
    actions = {}
    for entry in (status.get("inventory") or {}).get("entries") or []:
        try:
            ref, _ = inventory.parse_id(entry)
        except ValueError:
            continue
        actions[f"{ref.kind}/{ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind}/{ref.name}"] = (
            "unchanged"
        )
    for _, reason, text in events:
        if reason == "Progressing":
            for line in text.splitlines():
                subject, _, action = line.rpartition(" ")
                if subject in actions:
                    actions[subject] = action
    if actions:
        write("info", "server-side apply completed", output=dict(sorted(actions.items())), revision=revision)
    finished = [text for _, reason, text in events if reason == "ReconciliationSucceeded"]
    ended = (
        finished[-1]
        if finished
        else f"Reconciliation finished in 0s, next run in {_interval(spec.get('interval'))}"
    )
    write("info", ended, revision=revision)


def render(at_ms: int, level: str, msg: str, keys: dict[str, Any]) -> str:
    """One JSON line as zap writes it: level, ts, logger, msg, then the other keys in order."""
    head: dict[str, Any] = {"level": level, "ts": _timestamp(at_ms)}
    if "logger" in keys:
        head["logger"] = keys["logger"]
    head["msg"] = msg
    head.update((k, v) for k, v in keys.items() if k not in ("logger", "error"))
    if "error" in keys:
        head["error"] = keys["error"]
    return json.dumps(head, separators=(",", ":"), ensure_ascii=False)


def _timestamp(at_ms: int) -> str:
    """zap's ISO 8601 layout `2006-01-02T15:04:05.000Z0700` in UTC."""
    stamp = duration.rfc3339(at_ms - at_ms % 1000)
    return f"{stamp[:-1]}.{at_ms % 1000:03d}Z"
