"""Runs `fault` and `heal` (declared in `steps.faults`): one function per fault target, registered
with `@injects(target)`, each reaching its upstream, storage or workload only through the public
methods its owner offers (`Repository.fault`, `storage.Storage.damage`, `Images.set_fault`,
`pods.evict`, `s3.Endpoints.set_fault`, the chart repository's `fault`,
`registry.Registries.set_fault`). A function returns what the trace names as the target.
Never reads the real time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from gitops_sim.cluster import errors
from gitops_sim.scenario import assertions, schema
from gitops_sim.scenario.steps import faults, registry
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import git, webhooks
from gitops_sim.workloads import pods

Injector = Callable[[str, str | None, schema.Step, base.Context], str]
"""(target, fault type or None to heal, the step, the run) -> the target as the trace names it."""

_INJECTORS: dict[str, Injector] = {}


def injects(target: str) -> Callable[[Injector], Injector]:
    """Register what a fault (or heal) does to a target declared with `steps.faults.target`."""

    def register(fn: Injector) -> Injector:
        if target in _INJECTORS:
            raise ValueError(f"fault target {target!r} already has an injector")
        _INJECTORS[target] = fn
        return fn

    return register


@registry.performs(faults.Fault)
@registry.performs(faults.Heal)
def run(action: faults.Fault | faults.Heal, step: schema.Step, ctx: base.Context) -> None:
    kind = action.type if isinstance(action, faults.Fault) else None
    injector = _INJECTORS.get(action.upstream)
    if injector is None:
        raise base.StepFailed(step.loc, f"{step.keyword}: nothing can fault a {action.upstream!r} target")
    where = injector(action.target, kind, step, ctx)
    if kind is None:
        ctx.trace.record("heal", target=where)
    else:
        ctx.trace.record("fault", target=where, type=kind)


@injects("repo")
def _repo(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    repo = ctx.repo(target, step)
    repo.fault = cast(git.Fault | None, kind)
    return repo.url


@injects("registry")
def _registry(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    if kind in ("unavailable", "hang") and not target.partition("/")[2]:
        raise base.StepFailed(step.loc, f"fault: `{kind}` names a repository: registry: <host>/<name>")
    ctx.sim.registries.set_fault(target, kind)
    return target


@injects("charts")
def _charts(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    chart_repo = ctx.sim.charts.get(target)
    if chart_repo is None:
        raise base.StepFailed(
            step.loc, f"{step.keyword}: no chart repository at {target} (publish one first)"
        )
    chart_repo.fault = kind
    return target


@injects("bucket")
def _bucket(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    ctx.sim.buckets.set_fault(target, kind)
    return target


@injects("artifact")
def _artifact(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    ref = assertions.resolve_ref(ctx.sim.cluster, target)
    raw = (ctx.sim.cluster.get(ref).get("status") or {}).get("artifact")
    if not raw or kind is None:
        raise base.StepFailed(step.loc, f"{step.keyword}: {ref} has no artifact to damage")
    ctx.sim.storage.damage(raw["path"], kind)
    return str(ref)


@injects("image")
def _image(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    ctx.sim.images.set_fault(target, kind)
    return target


@injects("pods")
def _pods(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    ref = assertions.resolve_ref(ctx.sim.cluster, target)
    try:
        owner = ctx.sim.cluster.get(ref)
    except errors.NotFound as exc:
        raise base.StepFailed(step.loc, f"{step.keyword}: {ref} not found") from exc
    evicted = pods.evict(ctx.sim.cluster, owner)
    if not evicted:
        raise base.StepFailed(step.loc, f"{step.keyword}: {ref} has no running Pods to evict")
    return f"{ref} ({', '.join(evicted)})"


@injects("sink")
def _sink(target: str, kind: str | None, step: schema.Step, ctx: base.Context) -> str:
    try:
        ctx.sim.sinks.set_fault(target, cast(webhooks.Fault | None, kind))
    except KeyError as exc:
        known = ", ".join(sorted(set(ctx.sim.sinks.by_host.values()))) or "none declared"
        raise base.StepFailed(step.loc, f"{step.keyword}: no sink named {target!r} ({known})") from exc
    return target
