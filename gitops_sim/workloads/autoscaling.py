"""The HorizontalPodAutoscaler controller of kube-controller-manager, simulated, and the metrics it
reads (kubernetes `pkg/controller/podautoscaler` horizontal.go and replica_calculator.go;
behaviour learned there, our own code).

Each HPA is synced 15s after it is first seen and every 15s after (the controller's resync
period, `--horizontal-pod-autoscaler-sync-period`). A sync reads the target's scale
(`spec.replicas` of its `scaleTargetRef`; a target that cannot be found is `AbleToScale=False`,
reason FailedGetScale, and a `FailedGetScale` event), then:
- a target at zero replicas is left alone (`ScalingActive=False`, ScalingDisabled);
- a target above `maxReplicas` or below `minReplicas` (default 1) is set to the bound ("Current
  number of replicas above Spec.MaxReplicas" / "below Spec.MinReplicas");
- otherwise each metric proposes a replica count, the highest wins (`ScalingActive=True`,
  ValidMetricFound), and the proposal is normalised: without `behavior`, the highest
  recommendation of the last 5 minutes (downscale stabilisation) and at most max(2x, 4) on the
  way up; with `behavior`, its stabilisation windows and rate policies (Pods/Percent per period,
  selectPolicy Max/Min/Disabled); then clamped to [min, max]. `AbleToScale` and `ScalingLimited`
  say which rule decided (ReadyForNewScale, ScaleUp/DownStabilized; DesiredWithinRange,
  TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit).
A change is written to the target's `spec.replicas` with a `SuccessfulRescale` event ("New size:
3; reason: cpu resource utilization (percentage of request) above target") and `lastScaleTime`.
Status: currentReplicas, desiredReplicas, lastScaleTime, currentMetrics, conditions (an HPA
written through autoscaling/v1 gets the v1 view of it).

Metrics are a scenario input (`Metrics`, set by the `metrics` step): a workload's Pods' average
utilization of a resource, as a percentage of their requests, at the replica count it had when
reported; the load stays, so more replicas each read less (90% at 2 replicas is 60% at 3). A
Resource metric with an
Utilization target proposes `ceil(current replicas x utilization / target)`, or the current count
within the controller's 10% tolerance. With no input, and for every other metric type (Pods,
Object, External, an AverageValue target), a metric reads exactly its target: the proposal is the
current count, so an HPA only enforces its bounds.

Differences, on purpose: the scale subresource is read and written as `spec.replicas` of the
target (Deployment, StatefulSet, ReplicaSet, ReplicationController, or any object with an integer
`spec.replicas`); the replica calculation does not look at individual Pods (readiness, missing
metrics); currentMetrics carry averageUtilization but no averageValue.

Callers: the engine (one work queue), the `metrics` step (through `Metrics`). Never reads the
real time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from gitops_sim.cluster import errors, kinds
from gitops_sim.model import objects, refs
from gitops_sim.reconcile import base, registry

HPA = refs.GVK("autoscaling", "v2", "HorizontalPodAutoscaler")
SYNC_PERIOD_MS = 15_000
DOWNSCALE_WINDOW_MS = 300_000
TOLERANCE = 0.1
CONTROLLER = "horizontal-pod-autoscaler"
_HIGHER = "recent recommendations were higher than current one, applying the highest recent recommendation"
_LOWER = "recent recommendations were lower than current one, applying the lowest recent recommendation"
_DEFAULT_METRICS = [
    {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
    }
]


@dataclass(slots=True)
class Metrics:
    """What the metrics APIs report: by workload, the average utilization (percent of requests)
    of a resource across its Pods. The load behind it stays: reported at some replica count, it
    is spread over however many replicas the workload has when read (90% at 2 replicas reads 60%
    at 3). Absent: the metric reads its target."""

    _load: dict[tuple[refs.ObjectRef, str], tuple[int, int | None]] = field(default_factory=dict)

    def set(
        self, workload: refs.ObjectRef, resource: str, utilization: int | None, replicas: int | None
    ) -> None:
        """Report `utilization` percent of `resource` for `workload`'s Pods while it has
        `replicas` (None: not known, the average stays as given); `utilization` None: back to
        reading the target."""
        if utilization is None:
            self._load.pop((workload, resource), None)
        else:
            self._load[(workload, resource)] = (utilization, replicas)

    def utilization(self, workload: refs.ObjectRef, resource: str, replicas: int) -> int | None:
        """The average utilization with `replicas` Pods sharing the reported load."""
        given = self._load.get((workload, resource))
        if given is None:
            return None
        utilization, reported_at = given
        if not reported_at or replicas <= 0:
            return utilization
        return round(utilization * reported_at / replicas)


@dataclass(slots=True)
class _Autoscaler:
    """What the controller remembers of one HPA (its work queue entry and its recommendations)."""

    due: int
    recommendations: list[tuple[int, int]] = field(default_factory=list)  # (replicas, at ms)
    scale_up: list[tuple[int, int]] = field(default_factory=list)  # (replicas added, at ms)
    scale_down: list[tuple[int, int]] = field(default_factory=list)  # (replicas removed, at ms)


class _Failed(Exception):
    """The target's scale could not be read."""


@dataclass(slots=True)
class HorizontalController:
    rt: base.Runtime
    metrics: Metrics
    name: str = CONTROLLER
    gvk: refs.GVK = HPA
    _state: dict[refs.ObjectRef, _Autoscaler] = field(default_factory=dict)

    def watches(self) -> list[base.Watch]:
        return []

    def save_state(self) -> object:
        """The HPAs' queue entries and recommendations (`base.Stateful`)."""
        return {
            ref: _Autoscaler(s.due, list(s.recommendations), list(s.scale_up), list(s.scale_down))
            for ref, s in self._state.items()
        }

    def load_state(self, state: object) -> None:
        saved = cast(dict[refs.ObjectRef, _Autoscaler], state)
        self._state = {
            ref: _Autoscaler(s.due, list(s.recommendations), list(s.scale_up), list(s.scale_down))
            for ref, s in saved.items()
        }

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        try:
            obj = self.rt.cluster.get(ref)
        except errors.NotFound:
            self._state.pop(ref, None)
            return base.Result()
        if obj["metadata"].get("deletionTimestamp"):
            return base.Result()
        now = self.rt.clock.now()
        state = self._state.get(ref)
        if state is None:  # the HPA rate limiter: a new key waits a full period
            self._state[ref] = _Autoscaler(now + SYNC_PERIOD_MS)
            return base.Result(requeue_after=SYNC_PERIOD_MS)
        if now < state.due:
            return base.Result(requeue_after=state.due - now)
        state.due = now + SYNC_PERIOD_MS
        self._sync(obj, state, now)
        return base.Result(requeue_after=SYNC_PERIOD_MS)

    # -- one sync ------------------------------------------------------------------------------

    def _sync(self, obj: objects.RawObject, state: _Autoscaler, now: int) -> None:
        stored = str(obj.get("apiVersion"))
        hpa = kinds.convert_hpa(obj, HPA.api_version) if stored != HPA.api_version else obj
        spec = hpa.get("spec") or {}
        status = dict(hpa.get("status") or {})
        conds: dict[str, dict[str, Any]] = {
            str(c.get("type")): dict(c) for c in status.get("conditions") or []
        }
        try:
            target, target_ref = self._target(spec, str(obj["metadata"].get("namespace", "")))
        except _Failed as exc:
            self._event(obj, base.EventType.WARNING, "FailedGetScale", str(exc))
            self._set(
                conds,
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {exc}",
            )
            kept = {"desiredReplicas": 0, **status}  # desiredReplicas is required (Go's zero)
            self._write(obj, stored, {**kept, "conditions": list(conds.values())})
            return
        self._set(
            conds,
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
        current = _replicas(target)
        low = 1 if spec.get("minReplicas") is None else int(spec["minReplicas"])
        high = int(spec.get("maxReplicas") or 0)
        if not state.recommendations:
            state.recommendations.append((current, now))
        rescale, reason, desired = True, "", 0
        metric_statuses: list[dict[str, Any]] = []
        if current == 0 and low != 0:
            rescale = False
            self._set(
                conds,
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > high:
            reason, desired = "Current number of replicas above Spec.MaxReplicas", high
        elif current < low:
            reason, desired = "Current number of replicas below Spec.MinReplicas", low
        else:
            proposal, metric, metric_statuses = self._propose(spec, target_ref, current)
            self._set(
                conds,
                "ScalingActive",
                "True",
                "ValidMetricFound",
                f"the HPA was able to successfully calculate a replica count from {metric}",
            )
            if proposal > current:
                reason = f"{metric} above target"
            elif proposal < current:
                reason = "All metrics below target"
            if spec.get("behavior"):
                desired = self._normalize_with_behavior(spec, state, conds, current, proposal, low, high, now)
            else:
                desired = self._normalize(state, conds, current, proposal, low, high, now)
            rescale = desired != current
        if rescale:
            if not self._rescale(obj, target, desired, reason, conds):
                kept = {"desiredReplicas": 0, **status, "currentReplicas": current}
                self._write(obj, stored, {**kept, "conditions": list(conds.values())})
                return
            if spec.get("behavior"):
                self._store_scale_event(spec, state, current, desired, now)
            status["lastScaleTime"] = self.rt.now()
        else:
            desired = current
        out: dict[str, Any] = {}
        if status.get("lastScaleTime"):
            out["lastScaleTime"] = status["lastScaleTime"]
        if current:
            out["currentReplicas"] = current
        out["desiredReplicas"] = desired
        if metric_statuses:
            out["currentMetrics"] = metric_statuses
        out["conditions"] = list(conds.values())
        self._write(obj, stored, out)

    def _target(self, spec: dict[str, Any], namespace: str) -> tuple[objects.RawObject, refs.ObjectRef]:
        ref = spec.get("scaleTargetRef") or {}
        api_version = str(ref.get("apiVersion") or "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        info = self.rt.cluster.find_kind(refs.GroupKind(group, kind))
        if info is None:
            raise _Failed(f'no matches for kind "{kind}" in group "{group}"')
        target_ref = refs.ObjectRef(group, kind, namespace, name)
        try:
            target = self.rt.cluster.get(target_ref)
        except errors.ApiError as exc:
            raise _Failed(exc.message) from exc
        replicas = (target.get("spec") or {}).get("replicas", 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise _Failed("the server could not find the requested resource")
        return target, target_ref

    def _propose(
        self, spec: dict[str, Any], target: refs.ObjectRef, current: int
    ) -> tuple[int, str, list[dict[str, Any]]]:
        """`computeReplicasForMetrics`: the highest proposal, the metric that made it, the statuses."""
        replicas, chosen = 0, ""
        statuses = []
        for metric in spec.get("metrics") or _DEFAULT_METRICS:
            proposal, name, status = self._metric(metric if isinstance(metric, dict) else {}, target, current)
            statuses.append(status)
            if replicas == 0 or proposal > replicas:
                replicas, chosen = proposal, name
        return replicas, chosen, statuses

    def _metric(
        self, metric: dict[str, Any], target: refs.ObjectRef, current: int
    ) -> tuple[int, str, dict[str, Any]]:
        kind = str(metric.get("type") or "")
        if kind in ("Resource", "ContainerResource"):
            key = "resource" if kind == "Resource" else "containerResource"
            source = metric.get(key) or {}
            resource = str(source.get("name") or "")
            goal = source.get("target") or {}
            prefix = f"{resource} resource" if kind == "Resource" else f"{resource} container resource"
            if goal.get("type") == "Utilization" and goal.get("averageUtilization"):
                wanted = int(goal["averageUtilization"])
                used = self.metrics.utilization(target, resource, current)
                used = wanted if used is None else used
                ratio = used / wanted
                proposal = current if abs(ratio - 1.0) <= TOLERANCE else math.ceil(ratio * current)
                current_value = {"averageUtilization": used}
                status: dict[str, Any] = {"type": kind, key: {"name": resource, "current": current_value}}
                if kind == "ContainerResource":
                    status[key]["container"] = source.get("container", "")
                return proposal, f"{prefix} utilization (percentage of request)", status
            status = {"type": kind, key: {"name": resource, "current": _flat(goal)}}
            return current, prefix, status
        if kind == "Pods":
            source = metric.get("pods") or {}
            name = str((source.get("metric") or {}).get("name") or "")
            status = {
                "type": kind,
                "pods": {"metric": source.get("metric") or {}, "current": _flat(source.get("target") or {})},
            }
            return current, f"pods metric {name}", status
        if kind == "Object":
            source = metric.get("object") or {}
            name = str((source.get("metric") or {}).get("name") or "")
            described = source.get("describedObject") or {}
            status = {
                "type": kind,
                "object": {
                    "describedObject": described,
                    "metric": source.get("metric") or {},
                    "current": _flat(source.get("target") or {}),
                },
            }
            return current, f"{described.get('kind', '')} metric {name}", status
        source = metric.get("external") or {}
        name = str((source.get("metric") or {}).get("name") or "")
        status = {
            "type": kind,
            "external": {"metric": source.get("metric") or {}, "current": _flat(source.get("target") or {})},
        }
        return current, f"external metric {name}", status

    # -- normalisation -------------------------------------------------------------------------

    def _normalize(
        self,
        state: _Autoscaler,
        conds: dict[str, dict[str, Any]],
        current: int,
        proposal: int,
        low: int,
        high: int,
        now: int,
    ) -> int:
        """`normalizeDesiredReplicas`: downscale stabilisation, then the basic limits."""
        stabilized = proposal
        old = None
        for i, (replicas, at) in enumerate(state.recommendations):
            if at < now - DOWNSCALE_WINDOW_MS:
                old = i
            elif replicas > stabilized:
                stabilized = replicas
        if old is not None:
            state.recommendations[old] = (proposal, now)
        else:
            state.recommendations.append((proposal, now))
        if stabilized != proposal:
            self._set(
                conds,
                "AbleToScale",
                "True",
                "ScaleDownStabilized",
                _HIGHER,
            )
        else:
            self._set(
                conds, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"
            )
        up_limit = max(2 * current, 4)
        if high > up_limit:
            ceiling, reason, message = (
                up_limit,
                "ScaleUpLimit",
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        else:
            ceiling, reason, message = (
                high,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            )
        desired = stabilized
        if stabilized < low:
            desired, reason, message = (
                low,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            )
        elif stabilized > ceiling:
            desired = ceiling
        else:
            reason, message = "DesiredWithinRange", "the desired count is within the acceptable range"
        self._set(conds, "ScalingLimited", "False" if desired == stabilized else "True", reason, message)
        return desired

    def _normalize_with_behavior(
        self,
        spec: dict[str, Any],
        state: _Autoscaler,
        conds: dict[str, dict[str, Any]],
        current: int,
        proposal: int,
        low: int,
        high: int,
        now: int,
    ) -> int:
        """`normalizeDesiredReplicasWithBehaviors`: stabilisation windows, then rate policies."""
        up_rules, down_rules = _rules(spec, "scaleUp", 0), _rules(spec, "scaleDown", 300)
        up_cutoff = now - int(up_rules.get("stabilizationWindowSeconds", 0)) * 1000
        down_cutoff = now - int(down_rules.get("stabilizationWindowSeconds", 300)) * 1000
        up, down, old = proposal, proposal, None
        for i, (replicas, at) in enumerate(state.recommendations):
            if at > up_cutoff:
                up = min(up, replicas)
            if at > down_cutoff:
                down = max(down, replicas)
            if at < up_cutoff and at < down_cutoff:
                old = i
        stabilized = min(max(current, up), down)
        if old is not None:
            state.recommendations[old] = (proposal, now)
        else:
            state.recommendations.append((proposal, now))
        if stabilized != proposal:
            if proposal >= current:
                self._set(
                    conds,
                    "AbleToScale",
                    "True",
                    "ScaleUpStabilized",
                    _LOWER,
                )
            else:
                self._set(
                    conds,
                    "AbleToScale",
                    "True",
                    "ScaleDownStabilized",
                    _HIGHER,
                )
        else:
            self._set(
                conds, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"
            )
        desired, reason, message = (
            stabilized,
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        )
        if stabilized > current:
            limit = max(_scale_up_limit(current, state.scale_up, up_rules, now), current)
            if high > limit:
                ceiling, why, text = (
                    limit,
                    "ScaleUpLimit",
                    "the desired replica count is increasing faster than the maximum scale rate",
                )
            else:
                ceiling, why, text = (
                    high,
                    "TooManyReplicas",
                    "the desired replica count is more than the maximum replica count",
                )
            if stabilized > ceiling:
                desired, reason, message = ceiling, why, text
        elif stabilized < current:
            limit = min(_scale_down_limit(current, state.scale_down, down_rules, now), current)
            if low < limit:
                floor, why, text = (
                    limit,
                    "ScaleDownLimit",
                    "the desired replica count is decreasing faster than the maximum scale rate",
                )
            else:
                floor, why, text = (
                    low,
                    "TooFewReplicas",
                    "the desired replica count is less than the minimum replica count",
                )
            if stabilized < floor:
                desired, reason, message = floor, why, text
        self._set(conds, "ScalingLimited", "False" if desired == stabilized else "True", reason, message)
        return desired

    def _store_scale_event(
        self, spec: dict[str, Any], state: _Autoscaler, before: int, after: int, now: int
    ) -> None:
        """`storeScaleEvent`: remember the change for the rate policies' periods."""
        up = after > before
        rules = _rules(spec, "scaleUp" if up else "scaleDown", 0 if up else 300)
        longest = max((int(p.get("periodSeconds") or 0) for p in rules.get("policies") or []), default=0)
        events = state.scale_up if up else state.scale_down
        change = after - before if up else before - after
        outdated = [i for i, (_, at) in enumerate(events) if at < now - longest * 1000]
        if outdated:
            events[outdated[-1]] = (change, now)
        else:
            events.append((change, now))

    # -- writes --------------------------------------------------------------------------------

    def _rescale(
        self,
        hpa: objects.RawObject,
        target: objects.RawObject,
        desired: int,
        reason: str,
        conds: dict[str, dict[str, Any]],
    ) -> bool:
        out = objects.deep_copy(target)
        out.setdefault("spec", {})["replicas"] = desired
        out["metadata"].pop("resourceVersion", None)
        try:
            self.rt.cluster.update(out, field_manager=CONTROLLER)
        except errors.ApiError as exc:
            self._event(
                hpa,
                base.EventType.WARNING,
                "FailedRescale",
                f"New size: {desired}; reason: {reason}; error: {exc.message}",
            )
            self._set(
                conds,
                "AbleToScale",
                "False",
                "FailedUpdateScale",
                f"the HPA controller was unable to update the target scale: {exc.message}",
            )
            return False
        self._set(
            conds,
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
        )
        self._event(hpa, base.EventType.NORMAL, "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
        return True

    def _write(self, obj: objects.RawObject, stored: str, status: dict[str, Any]) -> None:
        """The status through the status subresource, in the version the HPA is stored in."""
        if stored != HPA.api_version:
            status = kinds.convert_hpa({**obj, "apiVersion": HPA.api_version, "status": status}, stored)[
                "status"
            ]
        if status == (obj.get("status") or {}):
            return
        out = objects.deep_copy(obj)
        out["status"] = status
        out["metadata"].pop("resourceVersion", None)
        try:
            self.rt.cluster.update(out, field_manager=CONTROLLER, subresource="status")
        except errors.NotFound:
            return
        except errors.ApiError as exc:
            self._event(obj, base.EventType.WARNING, "FailedUpdateStatus", exc.message)

    def _set(
        self, conds: dict[str, dict[str, Any]], ctype: str, status: str, reason: str, message: str
    ) -> None:
        """`setCondition`: a new type goes last; the transition time moves with the status."""
        old = conds.get(ctype)
        since = (
            old["lastTransitionTime"] if old is not None and old.get("status") == status else self.rt.now()
        )
        conds[ctype] = {
            "type": ctype,
            "status": status,
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }

    def _event(self, obj: objects.RawObject, etype: base.EventType, reason: str, message: str) -> None:
        self.rt.recorder.event(obj, type=etype, reason=reason, message=message, controller=CONTROLLER)


def _replicas(target: objects.RawObject) -> int:
    value = (target.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _flat(goal: dict[str, Any]) -> dict[str, Any]:
    """A metric's current value when it reads its target (no input)."""
    return {k: goal[k] for k in ("value", "averageValue", "averageUtilization") if k in goal}


def _rules(spec: dict[str, Any], direction: str, window: int) -> dict[str, Any]:
    """A behavior's rules for one direction, with the API's defaults for what they leave out."""
    rules = dict(((spec.get("behavior") or {}).get(direction)) or {})
    rules.setdefault("stabilizationWindowSeconds", window)
    rules.setdefault("selectPolicy", "Max")
    if rules.get("policies") is None:
        rules["policies"] = (
            [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ]
            if direction == "scaleUp"
            else [{"type": "Percent", "value": 100, "periodSeconds": 15}]
        )
    return rules


def _changed_within(period_s: int, events: list[tuple[int, int]], now: int) -> int:
    return sum(change for change, at in events if at > now - period_s * 1000)


def _scale_up_limit(current: int, events: list[tuple[int, int]], rules: dict[str, Any], now: int) -> int:
    """`calculateScaleUpLimitWithScalingRules`."""
    if rules.get("selectPolicy") == "Disabled":
        return current
    pick = min if rules.get("selectPolicy") == "Min" else max
    result: int | None = None
    for policy in rules.get("policies") or []:
        start = current - _changed_within(int(policy.get("periodSeconds") or 0), events, now)
        value = int(policy.get("value") or 0)
        proposed = start + value if policy.get("type") == "Pods" else math.ceil(start * (1 + value / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result


def _scale_down_limit(current: int, events: list[tuple[int, int]], rules: dict[str, Any], now: int) -> int:
    """`calculateScaleDownLimitWithBehaviors`."""
    if rules.get("selectPolicy") == "Disabled":
        return current
    pick = max if rules.get("selectPolicy") == "Min" else min
    result: int | None = None
    for policy in rules.get("policies") or []:
        start = current + _changed_within(int(policy.get("periodSeconds") or 0), events, now)
        value = int(policy.get("value") or 0)
        proposed = start - value if policy.get("type") == "Pods" else int(start * (1 - value / 100))
        result = proposed if result is None else pick(result, proposed)
    return current if result is None else result


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def metrics(self) -> Metrics: ...


def _build(services: _Services) -> base.Reconciler:
    return HorizontalController(services.runtime, services.metrics)


registry.register(registry.Entry("horizontalpodautoscaler", HPA.group_kind, _build, order=105, workload=True))
