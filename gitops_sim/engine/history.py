"""What the objects of a run went through: condition transitions on the trace, states for reports.

`record_conditions(trace, ref, old, new)` writes one `condition` record per condition of a Flux
object that appeared, changed (status, reason or message) or went away in one write. The engine
calls it for every change it sees, so the trace holds each Flux object's conditions over virtual
time (what the HTML report draws as bands, and what `trace` readers diff).

`History` keeps each object's state at the end of every instant it changed (a write at the same
virtual time replaces the instant's state), so a report can show what an object was before and
after any moment. The simulation feeds it only when asked to (`Simulation.history`): a run without
a report keeps nothing.

`shown(obj)` is an object as reports and traces show it: without `managedFields`, and a Secret
without its values (its keys stay, each value replaced by `<redacted>`). `final_state(cluster)`
is every object of the given kinds a run leaves, so shown, in a stable order (CRDs, Events and
Leases left out: the installation's schemas, events already on the trace, and leader election).

Callers: `engine.simulation` (feeding), the scenario runner and the reports (reading). It never
writes to the cluster, and never keeps or returns a Secret's values.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from gitops_sim.cluster import backend
from gitops_sim.engine import trace as traces
from gitops_sim.model import flux, objects, refs

REDACTED = "<redacted>"
_LEFT_OUT = frozenset(
    {
        refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"),
        refs.GroupKind("", "Event"),
        refs.GroupKind("events.k8s.io", "Event"),
        refs.GroupKind("coordination.k8s.io", "Lease"),
    }
)


def _conditions(obj: objects.RawObject | None) -> dict[str, tuple[Any, Any, Any]]:
    if obj is None:
        return {}
    found = ((obj.get("status") or {}).get("conditions")) or []
    return {
        str(c.get("type")): (c.get("status"), c.get("reason"), c.get("message"))
        for c in found
        if isinstance(c, dict)
    }


def record_conditions(
    trace: traces.Trace, ref: refs.ObjectRef, old: objects.RawObject | None, new: objects.RawObject | None
) -> None:
    """A `condition` record for every condition of a Flux object that this write changed; one
    that went away is recorded with status, reason and message null."""
    if not flux.is_flux_group(ref.group):
        return
    before, after = _conditions(old), _conditions(new)
    for type_ in sorted(before.keys() | after.keys()):
        now = after.get(type_, (None, None, None))
        if before.get(type_) != now:
            status, reason, message = now
            trace.record(
                "condition", object=str(ref), type=type_, status=status, reason=reason, message=message
            )


def shown(obj: objects.RawObject) -> objects.RawObject:
    """`obj` as reports show it: no managedFields, and a Secret's values redacted."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta.pop("managedFields", None)
    out["metadata"] = meta
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1":
        for key in ("data", "stringData"):
            if isinstance(out.get(key), dict):
                out[key] = dict.fromkeys(out[key], REDACTED)
        annotations = meta.get("annotations")
        if (
            isinstance(annotations, dict)
            and "kubectl.kubernetes.io/last-applied-configuration" in annotations
        ):
            meta["annotations"] = {
                **annotations,
                "kubectl.kubernetes.io/last-applied-configuration": REDACTED,
            }
    return out


class History:
    """Each object's state at the end of every virtual instant it changed (None: deleted)."""

    def __init__(self) -> None:
        self._times: dict[str, list[int]] = {}
        self._states: dict[str, list[objects.RawObject | None]] = {}

    def observe(self, t: int, ref: refs.ObjectRef, obj: objects.RawObject | None) -> None:
        key = str(ref)
        times = self._times.setdefault(key, [])
        states = self._states.setdefault(key, [])
        state = None if obj is None else shown(obj)
        if times and times[-1] == t:
            states[-1] = state
        else:
            times.append(t)
            states.append(state)

    def state(self, key: str, t: int, *, before: bool = False) -> objects.RawObject | None:
        """Object `key` (`Kind/namespace/name`) as it was at the end of instant `t` or, with
        `before`, just before `t`; None when it did not exist then."""
        times = self._times.get(key, [])
        i = (bisect.bisect_left if before else bisect.bisect_right)(times, t)
        return self._states[key][i - 1] if i else None

    def changed_at(self, key: str, t: int) -> bool:
        """Whether object `key` changed during instant `t`."""
        times = self._times.get(key, [])
        i = bisect.bisect_left(times, t)
        return i < len(times) and times[i] == t


def final_state(cluster: backend.Cluster, kinds: Iterable[refs.GroupKind]) -> list[objects.RawObject]:
    """Every object of `kinds` on `cluster`, as `shown`, sorted by kind, namespace and name."""
    found: list[objects.RawObject] = []
    for gk in kinds:
        if gk not in _LEFT_OUT:
            found.extend(shown(obj) for obj in cluster.list(gk))
    return sorted(found, key=lambda o: str(objects.ref_of(o)))
