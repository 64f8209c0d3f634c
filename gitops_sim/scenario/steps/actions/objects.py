"""Runs the steps that act on live objects as a user would: `drift` (an edit behind Flux's back),
`delete` (`kubectl delete`), `reconcile` (`flux reconcile`'s annotation) and `suspend`/`resume`
(`flux suspend|resume`'s patch of `spec.suspend`). Declared in `steps.drift`, `steps.delete` and
`steps.reconcile`. Never reads the real time: `requestedAt`
comes from the simulation's clock."""

from __future__ import annotations

from gitops_sim.model import duration, flux, objects
from gitops_sim.scenario import assertions, schema
from gitops_sim.scenario.steps import delete, drift, reconcile, registry
from gitops_sim.scenario.steps.actions import base


@registry.performs(drift.Drift)
def run_drift(action: drift.Drift, step: schema.Step, ctx: base.Context) -> None:
    cluster = ctx.sim.cluster
    ref = assertions.resolve_ref(cluster, action.object)
    live = cluster.get(ref)
    for path, value in action.set.items():
        objects.set_path(live, objects.parse_path(path), value)
    for path in action.unset:
        objects.delete_path(live, objects.parse_path(path))
    cluster.update(live, field_manager=action.manager)
    changes = {
        p: assertions.REDACTED if assertions.secret_field(ref.kind, p) else v for p, v in action.set.items()
    } | {p: None for p in action.unset}
    ctx.trace.record("drift", object=str(ref), manager=action.manager, changes=changes)


@registry.performs(delete.Delete)
def run_delete(action: delete.Delete, step: schema.Step, ctx: base.Context) -> None:
    ref = assertions.resolve_ref(ctx.sim.cluster, action.object)
    ctx.sim.cluster.delete(ref)
    ctx.trace.record("delete", object=str(ref))


@registry.performs(reconcile.Reconcile)
def run_reconcile(action: reconcile.Reconcile, step: schema.Step, ctx: base.Context) -> None:
    sim = ctx.sim
    ref = assertions.resolve_ref(sim.cluster, action.object)
    live = sim.cluster.get(ref)
    stamp = duration.rfc3339_nano(sim.clock.epoch_ms + sim.now())
    objects.metadata(live).setdefault("annotations", {})[flux.REQUESTED_AT_ANNOTATION] = stamp
    live["metadata"].pop("resourceVersion", None)
    sim.cluster.update(live, field_manager="flux")
    ctx.trace.record("reconcile", object=str(ref), requestedAt=stamp)


@registry.performs(reconcile.Suspend)
def run_suspend(action: reconcile.Suspend, step: schema.Step, ctx: base.Context) -> None:
    ref = assertions.resolve_ref(ctx.sim.cluster, action.object)
    patch = {"spec": {"suspend": True if action.suspended else None}}
    ctx.sim.cluster.merge_patch(ref, patch, field_manager="flux")
    ctx.trace.record("suspend" if action.suspended else "resume", object=str(ref))
