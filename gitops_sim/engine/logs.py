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
server's lines are not written; each component keeps its last `LIMIT` lines (the kubelet rotates
container logs too). `reconcileID`s come from the run's seeded RNG.

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

LIMIT = 10_000
"""Lines kept per component."""

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


class Logs:
    def __init__(
        self, controllers: list[Controller], calendar: Callable[[], int], rng: random.Random
    ) -> None:
        """`calendar()`: the time now (Unix ms); `rng`: where reconcile IDs come from."""
        self._controllers = controllers
        self._by_kind = {c.gvk.group_kind: c for c in controllers}
        self._calendar = calendar
        self._rng = rng
        self._lines: dict[str, collections.deque[Line]] = {}

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
        """A reconcile of `ref` ended: `obj` as it is now (None: gone), the events it recorded
        (type, reason, message), and `error` when it raised something unexpected."""
        controller = self._by_kind.get(ref.group_kind)
        if controller is None or obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        lines = self._lines.setdefault(controller.component, collections.deque(maxlen=LIMIT))
        now = self._calendar()
        context: dict[str, Any] = {
            "controller": controller.name,
            "controllerGroup": controller.gvk.group,
            "controllerKind": ref.kind,
            ref.kind: {"name": ref.name, "namespace": ref.namespace},
            "namespace": ref.namespace,
            "name": ref.name,
            "reconcileID": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
        }

        def write(level: str, msg: str, **keys: Any) -> None:
            lines.append((now, level, msg, {**context, **keys}))

        if error is not None:
            write("error", "Reconciler error", error=error)
            return
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        if spec.get("suspend") is True:
            first = "R" if ref.kind in _SUSPENDED_CAPITALISED else "r"
            write("info", f"{first}econciliation is suspended for this object")
            return
        ready = conditions.get(obj, "Ready") or {}
        failed = ready.get("status") == "False"
        if controller.component in _EVENT_LOGGERS:
            logged = [(reason, message) for kind, reason, message in events if kind == "Normal"]
            for _, message in logged:
                write("info", message)
            revision = (status.get("artifact") or {}).get("revision")
            if not logged and not failed and revision and ref.kind in _SOURCE_KINDS:
                if ref.kind == "GitRepository":
                    write("info", f"no changes since last reconciliation: observed revision '{revision}'")
                else:
                    write("info", f"artifact up-to-date with remote revision: '{revision}'")
            if failed and ready.get("reason") != "DependencyNotReady":
                write("error", "Reconciler error", error=str(ready.get("message", "")))
        elif ref.kind == "Kustomization":
            self._kustomization(write, obj, events, failed, str(ready.get("message", "")))
        elif ref.kind == "HelmRelease":
            if failed:
                write("error", "Reconciler error", error=str(ready.get("message", "")))
            elif ready.get("status") == "True":
                write("info", "release in-sync with desired state")
        elif ref.kind == "Receiver" and ready.get("status") == "True":
            interval = duration.format(duration.parse(str(spec.get("interval") or "10m")))
            write("info", f"Reconciliation finished, next run in {interval}")

    @staticmethod
    def _kustomization(
        write: Callable[..., None],
        obj: objects.RawObject,
        events: list[tuple[str, str, str]],
        failed: bool,
        message: str,
    ) -> None:
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        revision = status.get("lastAttemptedRevision", "")
        for kind, reason, text in events:
            if kind == "Normal" and reason not in ("Progressing", "ReconciliationSucceeded"):
                write("info", text)  # dependencies, a source not found or without an artifact
        finished = [text for kind, reason, text in events if reason == "ReconciliationSucceeded"]
        if failed:
            if any(kind == "Warning" for kind, _, _ in events):
                interval = spec.get("retryInterval") or spec.get("interval") or "10m"
                retry = duration.format(duration.parse(str(interval)))
                write(
                    "error",
                    f"Reconciliation failed after 0s, next try in {retry}",
                    revision=revision,
                    error=message,
                )
            return
        if not finished:
            return
        actions = {}
        for entry in (status.get("inventory") or {}).get("entries") or []:
            try:
                ref, _ = inventory.parse_id(entry)
            except ValueError:
                continue
            shown = f"{ref.kind}/{ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind}/{ref.name}"
            actions[shown] = "unchanged"
        for _, reason, text in events:
            if reason == "Progressing":
                for line in text.splitlines():
                    subject, _, action = line.rpartition(" ")
                    if subject in actions:
                        actions[subject] = action
        if actions:
            write(
                "info", "server-side apply completed", output=dict(sorted(actions.items())), revision=revision
            )
        write("info", finished[-1], revision=revision)

    # -- reading -----------------------------------------------------------------------------

    def of_pod(self, pod: objects.RawObject, container: str) -> list[tuple[int, str]] | None:
        """The `manager` container's log of a Flux component's Pod (`MemoryCluster.pod_logs`):
        what the component wrote since it last started, or None for any other container."""
        meta = pod.get("metadata") or {}
        component = (meta.get("labels") or {}).get("app")
        if container != "manager" or meta.get("namespace") != NAMESPACE or component not in self._lines:
            return None
        return [(at, render(at, level, msg, keys)) for at, level, msg, keys in self._lines[component]]


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
