"""Why an object is not Ready: the causal chain, from a set of objects.

`chain(objects, "Kind/namespace/name")` follows what a person debugging Flux would follow, and
returns it as a tree of `Link`s; `render` writes it as indented text:

- the object's own Ready condition (and that it is suspended, when it is);
- its `dependsOn` (Kustomization, HelmRelease): each dependency, followed when it is not Ready;
- its source: a Kustomization's `sourceRef`; a HelmRelease's `chartRef`, or the HelmChart
  `<namespace>-<name>` its `spec.chart` makes, then that chart's own source; an
  ExternalArtifact's producer (`spec.sourceRef`, source-watcher's ArtifactGenerator); followed
  when not Ready;
- the health-check targets that are not healthy: a Kustomization's `healthChecks`, or with
  `wait: true` every object of its inventory; for any Flux object, the objects its Ready message
  names (`Deployment/apps/podinfo status: 'InProgress'`, as Flux's health checks word it). Each
  is judged by kstatus (`model.kstatus`) as Flux judges it;
- for a workload that is not healthy: its Pods that are not Ready, with what their containers
  wait on or died of (`ImagePullBackOff: Back-off pulling image "…"`, `CrashLoopBackOff`).

The input is any set of objects: the live cluster of a run (`Simulation.final_state`) or the
final state a trace keeps, so the same chain is printed by `gitops-sim explain`, after a failed
expectation, and from a trace file. The chain is ours: Flux prints no such thing; each line
quotes Flux's and Kubernetes' own words (conditions, reasons, messages).

Callers: the scenario runner (failed expectations) and the CLI. Pure: it reads the objects it is
given and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitops_sim.apply import inventory
from gitops_sim.model import conditions, flux, kstatus, objects

_NAMED = re.compile(r"\b([A-Z][A-Za-z0-9]*)/([a-z0-9][-a-z0-9.]*)/([a-z0-9][-a-z0-9.:]*[a-z0-9])")
_DEPENDS = frozenset({"Kustomization", "HelmRelease"})
_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})
_MAX_DEPTH = 8
_MAX_PODS = 3


@dataclass(slots=True)
class Link:
    """One object in the chain: how it relates to its parent, and its state in a line."""

    relation: str
    subject: str
    state: str
    children: list[Link] = field(default_factory=list)


class Objects:
    """The objects to explain from, by `Kind/namespace/name`."""

    def __init__(self, found: Iterable[objects.RawObject]) -> None:
        self._by_key: dict[str, objects.RawObject] = {}
        self._pods: list[objects.RawObject] = []
        for obj in found:
            self._by_key[_key(obj)] = obj
            if obj.get("kind") == "Pod" and obj.get("apiVersion") == "v1":
                self._pods.append(obj)

    def get(self, key: str) -> objects.RawObject | None:
        return self._by_key.get(key)

    def owned_pods(self, owner: objects.RawObject) -> list[objects.RawObject]:
        """The Pods `owner` runs: owned by it, or by a ReplicaSet it owns."""
        uids = {owner["metadata"].get("uid")}
        uids |= {
            obj["metadata"].get("uid")
            for obj in self._by_key.values()
            if obj.get("kind") == "ReplicaSet" and _owned_by(obj, uids)
        }
        return [pod for pod in self._pods if _owned_by(pod, uids)]


def _key(obj: objects.RawObject) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return "/".join(str(part) for part in (obj.get("kind"), namespace, meta.get("name")) if part)


def _owned_by(obj: objects.RawObject, uids: set[Any]) -> bool:
    return any(ref.get("uid") in uids for ref in obj["metadata"].get("ownerReferences") or [])


def chain(found: Objects | Iterable[objects.RawObject], key: str) -> Link:
    """The causal chain of object `key` (`Kind/namespace/name`)."""
    index = found if isinstance(found, Objects) else Objects(found)
    return _link(index, "", key, 0, set())


def _link(index: Objects, relation: str, key: str, depth: int, seen: set[str]) -> Link:
    obj = index.get(key)
    if obj is None:
        return Link(relation, key, "not found")
    if key in seen:
        return Link(relation, key, "(already shown above)")
    seen = seen | {key}
    group = str(obj.get("apiVersion", "")).partition("/")[0]
    if flux.is_flux_group(group):
        return _flux(index, relation, key, obj, depth, seen)
    return _kubernetes(index, relation, key, obj)


def _ready_text(obj: objects.RawObject) -> tuple[bool, str]:
    cond = conditions.get(obj, conditions.READY)
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    if cond is None:
        return False, "no Ready condition yet (not reconciled)"
    text = f"Ready={cond.get('status')} {cond.get('reason', '')}: {str(cond.get('message', '')).rstrip()}"
    if cond.get("status") != "True":
        return False, text
    # A change not reconciled yet (kinds without status.observedGeneration, such as
    # source-watcher's, record it on their Ready condition).
    observed = status.get("observedGeneration", cond.get("observedGeneration"))
    generation = meta.get("generation")
    if observed != generation:
        return False, f"{text} (of generation {observed}; the object is at generation {generation})"
    return True, text


def _flux(
    index: Objects, relation: str, key: str, obj: objects.RawObject, depth: int, seen: set[str]
) -> Link:
    ready, text = _ready_text(obj)
    spec = obj.get("spec") or {}
    if spec.get("suspend") is True:
        text = f"suspended; {text}"
    link = Link(relation, key, text)
    if ready or depth >= _MAX_DEPTH:
        return link
    kind, namespace = str(obj.get("kind")), str(obj["metadata"].get("namespace", ""))
    follow: list[tuple[str, str]] = []
    if kind in _DEPENDS:
        for dep in spec.get("dependsOn") or []:
            if isinstance(dep, dict) and dep.get("name"):
                follow.append(("depends on", f"{kind}/{dep.get('namespace') or namespace}/{dep['name']}"))
    source = _source(kind, namespace, obj)
    if source is not None:
        follow.append(("source", source))
    for rel, target in follow:
        link.children.append(_link(index, rel, target, depth + 1, seen))
    for target in _health_targets(kind, namespace, obj):
        if target in seen or any(c.subject == target for c in link.children):
            continue
        checked = _link(index, "health check", target, depth + 1, seen)
        if checked.state != "healthy":
            link.children.append(checked)
    return link


def _source(kind: str, namespace: str, obj: objects.RawObject) -> str | None:
    spec = obj.get("spec") or {}
    ref: Mapping[str, Any] | None = None
    if kind in ("Kustomization", "HelmChart", "ImageUpdateAutomation", "ExternalArtifact"):
        ref = spec.get("sourceRef")  # an ExternalArtifact's: its producer (an ArtifactGenerator)
    elif kind == "HelmRelease":
        ref = spec.get("chartRef")
        if not ref and isinstance(spec.get("chart"), dict):
            chart_source = (spec["chart"].get("spec") or {}).get("sourceRef") or {}
            chart_namespace = chart_source.get("namespace") or namespace
            return f"HelmChart/{chart_namespace}/{namespace}-{obj['metadata']['name']}"
    elif kind == "ImagePolicy":
        ref = spec.get("imageRepositoryRef")
        if isinstance(ref, dict):
            ref = {**ref, "kind": "ImageRepository"}
    if not isinstance(ref, Mapping) or not ref.get("name") or not ref.get("kind"):
        return None
    return f"{ref['kind']}/{ref.get('namespace') or namespace}/{ref['name']}"


def _health_targets(kind: str, namespace: str, obj: objects.RawObject) -> list[str]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    targets: list[str] = []
    if kind == "Kustomization":
        for check in spec.get("healthChecks") or []:
            if isinstance(check, dict) and check.get("kind") and check.get("name"):
                targets.append(f"{check['kind']}/{check.get('namespace') or namespace}/{check['name']}")
        if spec.get("wait") is True:
            for entry in (status.get("inventory") or {}).get("entries") or []:
                ref, _version = inventory.parse_id(entry)
                targets.append(str(ref))
    message = str((conditions.get(obj, conditions.READY) or {}).get("message", ""))
    targets.extend("/".join(m.groups()) for m in _NAMED.finditer(message))
    return list(dict.fromkeys(targets))


def _kubernetes(index: Objects, relation: str, key: str, obj: objects.RawObject) -> Link:
    result = kstatus.compute(obj)
    if result.status == kstatus.Status.CURRENT:
        return Link(relation, key, "healthy")
    link = Link(relation, key, f"{result.status}: {result.message}")
    if obj.get("kind") in _WORKLOADS:
        pods = [pod for pod in index.owned_pods(obj) if kstatus.compute(pod).status != kstatus.Status.CURRENT]
        for pod in sorted(pods, key=_key)[:_MAX_PODS]:
            link.children.append(Link("", _key(pod), _pod_trouble(pod)))
        if len(pods) > _MAX_PODS:
            link.children.append(Link("", f"and {len(pods) - _MAX_PODS} more Pods", ""))
    return link


def _pod_trouble(pod: objects.RawObject) -> str:
    status = pod.get("status") or {}
    troubles = []
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        for what in ("waiting", "terminated"):
            detail = state.get(what)
            if isinstance(detail, dict) and detail.get("reason"):
                message = f": {detail['message']}" if detail.get("message") else ""
                troubles.append(f"container {container.get('name')} {what}: {detail['reason']}{message}")
        restarts = container.get("restartCount") or 0
        if restarts:
            troubles.append(f"container {container.get('name')} restarted {restarts} times")
    phase = status.get("phase", "Unknown")
    return f"{phase}; " + "; ".join(troubles) if troubles else f"{phase}, not Ready"


def render(link: Link) -> str:
    """The chain as indented text, the object first."""
    lines = [f"{link.subject}: {link.state}"]
    _render_children(link, lines, "")
    return "\n".join(lines)


def _render_children(link: Link, lines: list[str], indent: str) -> None:
    for i, child in enumerate(link.children):
        last = i == len(link.children) - 1
        head = f"{child.relation} {child.subject}".strip()
        state = f": {child.state}" if child.state else ""
        lines.append(f"{indent}{'└─' if last else '├─'} {head}{state}")
        _render_children(child, lines, indent + ("   " if last else "│  "))
