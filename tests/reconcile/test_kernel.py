"""The reconcile kernel runs a kind declared as data: preamble, steps in order, one summary.

The kind here is test-only (example.com/v1 Widget), declared in this file alone: two steps, a
conditions table, a finalizer, and nothing edited elsewhere."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import testing
from gitops_sim.cluster.memory import store
from gitops_sim.engine import events, simulation, trace
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi.declare import f
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.timing import clock as clocks
from gitops_sim.timing import workqueue
from tests.builders import memory_cluster, widget_crd

WIDGET = refs.GVK("example.com", "v1", "Widget")
REF = refs.ObjectRef("example.com", "Widget", "default", "w")
BUILT = "Built"


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetSpec:
    """A widget: built every interval; `outcome` scripts how its build step ends."""

    interval: str = f("How often the widget is built.")
    outcome: str | None = f("ok, fail, wait or stall.", empty=None)
    suspend: bool = f("Whether the widget is left alone.", empty=False)


@dataclass(slots=True)
class WidgetState:
    """What the widget controller keeps between reconciles."""

    checks: int = 0


def check(ctx: kernel.Context[WidgetSpec, WidgetState]) -> None:
    ctx.state.checks += 1


def build(ctx: kernel.Context[WidgetSpec, WidgetState]) -> None:
    outcome = ctx.spec.outcome or "ok"
    if outcome == "fail":
        raise kernel.StepError("BuildFailed", "the widget broke")
    if outcome == "wait":
        raise kernel.Waiting("DependencyNotReady", "waiting for parts", retry_after_ms=30_000)
    if outcome == "stall":
        raise kernel.Stalling("InvalidWidget", "a widget cannot be built from nothing")
    conditions.mark_true(ctx.obj, BUILT, "Succeeded", "widget built", now=ctx.now)
    ctx.announcement = kernel.Announcement("NewWidget", "built a new widget", new=True)


WIDGET_KIND = kernel.Kind(
    WIDGET,
    WidgetSpec,
    "widget-controller",
    steps=(check, build),
    interval_ms=lambda spec: duration.parse(spec.interval),
    finalize=lambda rt, obj, state: None,
    new_state=WidgetState,
    summary=kernel.ArtifactSummary(
        kernel.ConditionsTable(ready_from=BUILT, negative=("BuildFailed",), failure="BuildFailed")
    ),
)


@pytest.fixture
def world() -> tuple[kernel.Reconciler[WidgetSpec, WidgetState], trace.Trace]:
    clock = clocks.VirtualClock()
    cluster = memory_cluster(clock=clock)
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    cluster.create(widget_crd(schema=schema, subresources={"status": {}}), field_manager="setup")
    records = trace.Trace(clock)
    rt = base.Runtime(cluster, clock, events.Recorder(cluster, clock, records), random.Random(0))
    return kernel.Reconciler(rt, WIDGET_KIND), records


def widget(reconciler: kernel.Reconciler[WidgetSpec, WidgetState], **spec: Any) -> None:
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
    }
    reconciler.rt.cluster.apply({**body, "spec": {"interval": "5m", **spec}}, field_manager="kubectl")


def live(reconciler: kernel.Reconciler[WidgetSpec, WidgetState]) -> objects.RawObject:
    return reconciler.rt.cluster.get(REF)


def told(records: trace.Trace) -> list[tuple[str, str, str]]:
    return [(r["type"], r["reason"], r["message"]) for r in records.records if r["kind"] == "event"]


def test_registry_a_kind_declared_in_one_file_is_reconciled_by_the_kernel(world: Any) -> None:
    reconciler, records = world
    widget(reconciler)
    assert reconciler.reconcile(REF) == base.Result(requeue=True)  # the finalizer first
    assert reconciler.reconcile(REF) == base.Result(requeue_after=300_000)
    obj = live(reconciler)
    assert obj["metadata"]["finalizers"] == [flux.FINALIZER]
    ready = conditions.get(obj, conditions.READY)
    assert ready is not None
    assert (ready["status"], ready["reason"], ready["message"]) == ("True", "Succeeded", "widget built")
    assert obj["status"]["observedGeneration"] == 1
    assert told(records) == [("Normal", "NewWidget", "built a new widget")]


def test_a_failed_step_sets_its_condition_and_ready_false_and_sends_a_warning(world: Any) -> None:
    reconciler, records = world
    widget(reconciler, outcome="fail")
    reconciler.reconcile(REF)
    with pytest.raises(kernel.StepError):
        reconciler.reconcile(REF)
    obj = live(reconciler)
    assert sorted((c["type"], c["status"], c["reason"]) for c in obj["status"]["conditions"]) == [
        ("BuildFailed", "True", "BuildFailed"),
        ("Ready", "False", "BuildFailed"),
    ]
    assert told(records) == [("Warning", "BuildFailed", "the widget broke")]


def test_waiting_retries_after_its_delay_without_a_warning(world: Any) -> None:
    reconciler, records = world
    widget(reconciler, outcome="wait")
    reconciler.reconcile(REF)
    assert reconciler.reconcile(REF) == base.Result(requeue_after=30_000)
    assert (conditions.get(live(reconciler), conditions.READY) or {}).get("reason") == "DependencyNotReady"
    assert told(records) == []


def test_stalling_marks_stalled_and_is_never_retried(world: Any) -> None:
    reconciler, records = world
    widget(reconciler, outcome="stall")
    reconciler.reconcile(REF)
    with pytest.raises(kernel.Stalled):
        reconciler.reconcile(REF)
    obj = live(reconciler)
    assert (conditions.get(obj, conditions.STALLED) or {}).get("reason") == "InvalidWidget"
    assert told(records) == [("Warning", "InvalidWidget", "a widget cannot be built from nothing")]
    assert conditions.get(obj, conditions.RECONCILING) is None
    assert isinstance(kernel.Stalled("x"), workqueue.TerminalError)


def test_a_success_after_a_failure_is_announced_as_a_recovery_and_clears_the_failure(world: Any) -> None:
    reconciler, records = world
    widget(reconciler, outcome="fail")
    reconciler.reconcile(REF)
    with pytest.raises(kernel.StepError):
        reconciler.reconcile(REF)
    widget(reconciler, outcome="ok")
    reconciler.reconcile(REF)
    obj = live(reconciler)
    assert conditions.get(obj, "BuildFailed") is None
    assert (conditions.get(obj, conditions.READY) or {}).get("status") == "True"
    assert told(records)[-1] == ("Normal", "NewWidget", "built a new widget")


def test_state_kept_for_an_object_survives_between_reconciles(world: Any) -> None:
    reconciler, _ = world
    widget(reconciler)
    reconciler.reconcile(REF)
    reconciler.reconcile(REF)
    reconciler.reconcile(REF)
    assert reconciler.states[REF] == WidgetState(checks=2)


def test_steps_read_the_spec_once_parsed_into_its_type(world: Any) -> None:
    reconciler, _ = world
    seen: list[WidgetSpec] = []
    spying = kernel.Reconciler(
        reconciler.rt,
        kernel.Kind(
            WIDGET,
            WidgetSpec,
            "widget-controller",
            steps=(lambda ctx: seen.append(ctx.spec), build),
            interval_ms=WIDGET_KIND.interval_ms,
            finalize=WIDGET_KIND.finalize,
            summary=WIDGET_KIND.summary,
            new_state=WidgetState,
        ),
    )
    widget(reconciler, outcome="ok")
    spying.reconcile(REF)
    spying.reconcile(REF)
    assert seen == [declare.parse(WidgetSpec, {"interval": "5m", "outcome": "ok"})]


@pytest.fixture
def registered() -> Iterator[None]:
    """The Widget kind registered with the engine for one test (and withdrawn after it)."""

    def build(services: Any) -> base.Reconciler:
        return kernel.Reconciler(services.runtime, WIDGET_KIND)

    registry.register(registry.Entry("widget", WIDGET.group_kind, build, order=1000))
    try:
        yield
    finally:
        registry.unregister("widget")


def test_registry_a_kind_registered_by_a_test_runs_in_the_engine(registered: None, tmp_path: Path) -> None:
    clock = clocks.VirtualClock()
    cluster = store.MemoryCluster(clock, random.Random(0))
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    cluster.create(widget_crd(schema=schema, subresources={"status": {}}), field_manager="setup")
    sim = simulation.Simulation(simulation.Settings(workdir=tmp_path), cluster=cluster, clock=clock)
    try:
        body = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"},
        }
        sim.cluster.apply({**body, "spec": {"interval": "5m"}}, field_manager="kubectl")
        sim.advance(1_000)
        assert (conditions.get(sim.cluster.get(REF), conditions.READY) or {}).get("reason") == "Succeeded"
        assert [(e.type, e.reason) for e in testing.events_of(sim, REF)] == [("Normal", "NewWidget")]
        assert [c.name for c in sim.controllers if c.name.endswith("-controller")][-1] == "widget-controller"
        assert [c.name for c in sim.controllers][:8] == [
            "source-controller",
            "source-controller",
            "source-controller",
            "source-controller",
            "source-controller",
            "source-watcher",
            "kustomize-controller",
            "helm-controller",
        ]
    finally:
        sim.close()
