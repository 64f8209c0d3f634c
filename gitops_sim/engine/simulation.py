"""Simulation: one clock, one scheduler, one cluster, and the Flux controllers wired to it.

This is the manager of the simulated Flux installation. It creates the in-memory cluster (or
takes a remote one: our HTTP front, k3s, any kubeconfig) and installs the Flux CRDs and the
`flux-system` namespace, the real git remotes, artifact storage, the event recorder and the trace;
gives each controller a work queue; and turns watch events into queue items the way
controller-runtime's informers and predicates do:
- a controller's own objects are enqueued when created, when `metadata.generation` changes, and
  when `reconcile.fluxcd.io/requestedAt` changes (GenerationChanged or ReconcileRequested);
- changes to other kinds reach a controller only through its declared `watches()`.

A reconcile that raises something unexpected (not a `RequeueError`) costs that object a failed
reconcile and the queue's backoff, never the run: the queue hands the exception to
`reconcile.base.record_unexpected` (Ready=False, a Warning event) and a `reconcile-error`
record goes on the trace. A watch mapper that raises (an object of another kind it could not
read) is recorded as `watch-error` and enqueues nothing; the write that caused it succeeds.

Randomness comes from streams seeded by `Settings.seed` (one per subsystem, so adding a draw in
one place does not move the others); time only from the `VirtualClock`.

In memory, watch events are handled inside the write that caused them. On a remote cluster they
arrive on reader threads (`engine.informers`); before virtual time moves, and when the simulation
settles, the engine catches up with them (drain, then LIST each watched kind until its cache
agrees), so that a scenario reaches the same end state on both. Event order within one instant
may differ between two remote runs; final objects and conditions do not (tested).

Callers: the scenario runner, `testing`, the CLI. It must never sleep or read the real time
(waiting for a remote cluster's watches is `engine.informers`' business).
"""

from __future__ import annotations

import functools
import random
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import gitops_sim.controllers
import gitops_sim.workloads  # noqa: F401  (registers the simulated workload controllers)
from gitops_sim import buildcache, process
from gitops_sim.apply import build
from gitops_sim.cluster import backend, errors, kinds
from gitops_sim.cluster.memory import store
from gitops_sim.engine import components, events, history, informers, logs, trace
from gitops_sim.helm import render
from gitops_sim.images import tags
from gitops_sim.model import flux, fluxinstall, objects, refs
from gitops_sim.notification import event as notification
from gitops_sim.reconcile import base
from gitops_sim.reconcile import registry as controller_registry
from gitops_sim.sources import charts, forge, git, oci, registry, s3, webhooks
from gitops_sim.storage import Storage
from gitops_sim.timing import clock as clocks
from gitops_sim.timing import scheduler as sched
from gitops_sim.timing import workqueue
from gitops_sim.workloads import autoscaling, images, pods, volumes

FLUX_NAMESPACE = "flux-system"
NOTIFICATION_CONTROLLER = "notification-controller"
PREROLL_MS = 60_000
"""How long before t=0 a simulation with Flux installs it (its Pods are ready well before t=0)."""
DEPLOYMENT = refs.GroupKind("apps", "Deployment")
SYSTEM_NAMESPACES = kinds.SYSTEM_NAMESPACES


@dataclass(frozen=True, slots=True)
class Settings:
    workdir: Path
    """Where the simulation keeps its git repositories, artifacts and build scratch space."""

    seed: int = 0
    """Seeds every random choice (uids, interval jitter): same seed, same run."""

    epoch_ms: int = clocks.DEFAULT_EPOCH_MS
    """The calendar time of virtual t=0, in Unix milliseconds."""

    kubelet: pods.Timings = field(default_factory=pods.Timings)
    """How long Pods take to pull, get ready and (Jobs) finish on the simulated node."""

    workloads: bool | None = None
    """Run the simulated workload controllers and kubelet (`gitops_sim.workloads`). None: only
    on MemoryCluster, since a real cluster has its own."""

    build_wall_s: float = 60.0
    """Real seconds one `kubectl kustomize` run may take before it is killed (BuildFailed).
    Repository content is untrusted: a remote base or a huge tree must not stall the run."""

    build_memory_bytes: int = 2 << 30
    """The address-space limit of one `kubectl kustomize` run (BuildFailed when hit); kubectl
    reserves a few hundred MiB at start, an alias bomb asks for gigabytes."""

    receiver_port: int = 0
    """The port of notification-controller's receiver server on 127.0.0.1 (0: a free one)."""

    with_flux: bool = True
    """Flux is installed before t=0 (`components`, as `flux install` applies them, rolled out by
    the simulated kubelet during the minute before). False: a cluster without Flux
    (`serve --no-flux`); its controllers start when something installs their Deployments."""

    components: tuple[str, ...] = flux.ALL_COMPONENTS
    """The Flux components installed before t=0 (every controller the engine has, by default)."""

    cache_dir: Path | None = None
    """The content-addressed cache of kustomize builds and Helm renders on disk (`buildcache`),
    shared by runs and processes. None (the default): no cache; the CLI gives the user's cache
    folder unless told `--no-cache`."""


@dataclass(frozen=True, slots=True)
class Services:
    """What the engine offers the controllers it builds (`reconcile.registry.Entry.build`); each
    controller module types what it uses of it as a Protocol of its own."""

    runtime: base.Runtime
    storage: Storage
    git_client: git.GitUpstream
    registries: registry.Registries
    charts: charts.ChartRepositories
    buckets: s3.Endpoints
    builder: build.Builder
    renderer: render.Renderer
    """Renders Helm charts (the HelmRelease controller's)."""
    image_tags: tags.TagDatabase
    """The image-reflector-controller's own tag database."""
    images: images.Images
    kubelet: pods.Timings
    pod_names: random.Random
    """One RNG for the generated Pod names of every workload controller."""
    slice_names: random.Random
    """The EndpointSlice controller's RNG for its slices' generated names (their own, so that a
    Service's slices never change the names Pods get)."""
    metrics: autoscaling.Metrics
    """What the metrics API reports of workloads' Pods (a scenario's `metrics` step sets it)."""
    reconciled: frozenset[refs.GroupKind]
    """The Flux kinds some simulated controller reconciles."""
    sinks: webhooks.Sinks
    """Where notifications are sent (alert sinks, and any HTTP server on 127.0.0.1)."""
    inbound: webhooks.Inbound
    """The receiver server: notification-controller installs its webhook handler there."""
    forward_events: Callable[[Callable[[notification.Event], None]], None]
    """Hand every controller's events (not traces) to a sink: notification-controller's event
    server takes them this way, as Flux's recorders post them."""

    def oci_client(self) -> oci.RegistryClient:
        """A client of the simulation's OCI registries (one per controller, as each has its own)."""
        return oci.RegistryClient(self.registries.route, note=self.registries.note)


class Simulation:
    def __init__(
        self,
        settings: Settings,
        cluster: backend.Cluster | None = None,
        clock: clocks.VirtualClock | None = None,
    ) -> None:
        """With no `cluster`, a fresh in-memory one on this simulation's clock, where Flux runs as
        the Deployments `flux install` makes (`Settings.with_flux`, `engine.components`). A given
        cluster gets Flux's CRDs and namespace, and the engine runs Flux's controllers outside
        it, as over a real cluster. Any cluster but a MemoryCluster is remote: its watch events
        arrive on other threads, at any time, and the engine catches up with them through
        `engine.informers`."""
        self.settings = settings
        with_workloads = settings.workloads
        if with_workloads is None:
            with_workloads = cluster is None or cluster.in_process
        gated = with_workloads and cluster is None
        self._with_workloads = with_workloads
        """Flux's controllers run as Deployments of the simulated cluster (`engine.components`)."""
        preinstalled = gated and settings.with_flux
        self.clock = clock or clocks.VirtualClock(settings.epoch_ms)
        self.scheduler = sched.Scheduler(self.clock)
        self.trace = trace.Trace(self.clock)
        self.history: history.History | None = None
        """Each object's states over the run, kept once a caller sets it (an HTML report)."""
        self.cluster: backend.Cluster = cluster or store.MemoryCluster(
            self.clock, random.Random(f"{settings.seed}/cluster")
        )
        self.git = git.GitServer(settings.workdir / "git", self.clock)
        self.git_client = self.git.client()
        """source-controller's and image-automation-controller's git client."""
        self.registries = registry.Registries()
        self.charts = charts.ChartRepositories(settings.workdir / "charts", self.clock)
        self.buckets = s3.Endpoints()
        self.storage = Storage(settings.workdir / "storage", flux.STORAGE_HOST, self.clock)
        self.recorder = events.Recorder(self.cluster, self.clock, self.trace)
        self.images = images.Images(self.registries)
        self._slice_names = random.Random(f"{settings.seed}/endpointslice-names")
        self.metrics = autoscaling.Metrics()
        """The resource metrics the HorizontalPodAutoscaler controller reads (flat until set)."""
        self.sinks = webhooks.Sinks(self.clock.now)
        """The alert sinks a scenario declares (notification-controller posts there)."""
        self.inbound = webhooks.Inbound(settings.receiver_port)
        """notification-controller's receiver server (started when first asked for its address)."""
        self.forge = forge.Forge(self.git)
        """A simulated GitHub API (`flux bootstrap github`), started when first asked for."""
        self.image_tags = tags.MemoryTags()
        """image-reflector-controller's tag database (what `explain` reads)."""
        self._runtime = runtime = base.Runtime(
            self.cluster, self.clock, self.recorder, random.Random(f"{settings.seed}/jitter")
        )
        entries = [e for e in controller_registry.entries() if with_workloads or not e.workload]
        self.build_cache = None if settings.cache_dir is None else buildcache.Cache(settings.cache_dir)
        """The disk cache of kustomize builds and Helm renders (`Settings.cache_dir`), if any."""
        self.builder = build.Builder(
            settings.workdir / "build",
            limits=process.Limits(settings.build_wall_s, settings.build_memory_bytes),
            cache=self.build_cache,
        )
        """kustomize-controller's kustomize builds (an offline mirror gives it remote bases)."""
        services = Services(
            runtime=runtime,
            storage=self.storage,
            git_client=self.git_client,
            registries=self.registries,
            charts=self.charts,
            buckets=self.buckets,
            builder=self.builder,
            renderer=render.Renderer(
                settings.workdir / "helm",
                limits=process.Limits(settings.build_wall_s, settings.build_memory_bytes),
                cache=self.build_cache,
            ),
            image_tags=self.image_tags,
            images=self.images,
            kubelet=settings.kubelet,
            pod_names=random.Random(f"{settings.seed}/pod-names"),
            slice_names=self._slice_names,
            metrics=self.metrics,
            reconciled=frozenset(e.kind for e in entries if not e.workload),
            sinks=self.sinks,
            inbound=self.inbound,
            forward_events=self._forward_events,
        )
        self.controllers: list[base.Reconciler] = [entry.build(services) for entry in entries]
        self.queues: dict[refs.GroupKind, workqueue.WorkQueue[refs.ObjectRef]] = {}
        self._watchers: dict[
            refs.GroupKind, list[tuple[base.Watch, workqueue.WorkQueue[refs.ObjectRef]]]
        ] = {}
        self.logs: logs.Logs | None = None
        """What Flux's controllers write, served as their Pods' logs (the gated cluster only)."""
        if gated:
            self.logs = logs.Logs(
                [
                    logs.Controller(entry.name, controller.gvk, entry.component)
                    for entry, controller in zip(entries, self.controllers, strict=True)
                    if entry.component
                ],
                self.recorder.calendar_ms,
                random.Random(f"{settings.seed}/reconcile-ids"),
            )
            self.memory.pod_logs = self.logs.of_pod
        for priority, controller in enumerate(self.controllers):
            queue = workqueue.WorkQueue[refs.ObjectRef](
                controller.name,
                self.scheduler,
                controller.reconcile if self.logs is None else functools.partial(self._logged, controller),
                priority=priority,
                on_error=functools.partial(self._reconcile_error, controller.name),
            )
            self.queues[controller.gvk.group_kind] = queue
            for watch in controller.watches():
                self._watchers.setdefault(watch.kind, []).append((watch, queue))
        self.gate: components.Gate | None = None
        if gated:
            kind_of = {queue: gk for gk, queue in self.queues.items()}
            by_component: dict[str, list[workqueue.WorkQueue[refs.ObjectRef]]] = {
                c: [] for c in flux.ALL_COMPONENTS
            }
            for entry, controller in zip(entries, self.controllers, strict=True):
                if entry.component:
                    by_component.setdefault(entry.component, []).append(
                        self.queues[controller.gvk.group_kind]
                    )
            self.gate = components.Gate(
                by_component,
                lambda queue: [ref for ref in self._cache if ref.group_kind == kind_of[queue]],
                self._component_changed,
            )
        self.remote: informers.RemoteInformers | None = None
        if self.cluster.in_process:
            self._cache: dict[refs.ObjectRef, objects.RawObject] = {}
            memory = self.memory
            memory.watch(self._on_event, resource_version=str(memory.resource_version))
            if preinstalled:
                self._restore(_preinstalled(settings, self.clock.epoch_ms, tuple(e.name for e in entries)))
            else:
                self._install_flux()
        else:
            informers.refuse_if_flux_runs(self.cluster, FLUX_NAMESPACE)
            self._install_flux()
            informers.wait_established(self.cluster, [c.gvk for c in self.controllers])
            kinds = sorted(self.queues.keys() | self._watchers.keys())
            self.remote = informers.RemoteInformers(self.cluster, kinds, self._dispatch)
            self.remote.start()
            self.scheduler.before_step = lambda _when: self.sync()
            self.scheduler.before_each = self.sync

    def _component_changed(self, component: str, up: bool) -> None:
        self.trace.record("controller", component=component, up=up)
        if up and self.logs is not None:
            self.logs.started(component)

    def _logged(self, controller: base.Reconciler, ref: refs.ObjectRef) -> base.Result:
        """`controller.reconcile(ref)`, then what the controller logs of it (`engine.logs`)."""
        assert self.logs is not None
        mark = len(self.trace.records)
        error: str | None = None
        try:
            return controller.reconcile(ref)
        except (workqueue.RequeueError, workqueue.TerminalError):
            raise
        except Exception as exc:
            error = base.unexpected_message(exc)
            raise
        finally:
            recorded = [
                (str(r["type"]), str(r["reason"]), str(r["message"]))
                for r in self.trace.records[mark:]
                if r["kind"] == "event" and r.get("object") == str(ref)
            ]
            self.logs.reconciled(ref, self._cache.get(ref), recorded, error)

    def _forward_events(self, sink: Callable[[notification.Event], None]) -> None:
        """Hand events to `sink` (notification-controller's event server) while its process runs."""

        def while_up(event: notification.Event) -> None:
            if self.gate is None or self.gate.is_up(NOTIFICATION_CONTROLLER):
                sink(event)

        self.recorder.forward_to(while_up)

    def _install_flux(self) -> None:
        """What every cluster starts with (its system namespaces; where this engine simulates the
        node, kind's default StorageClass, `workloads.volumes`), plus Flux. With the simulated
        workloads, Flux is `flux install`'s objects (`settings.components`), applied as the CLI
        applies them; otherwise (a remote cluster, which runs no Flux Deployments of ours) only
        the CRDs and flux-system. On a remote cluster, what is already there is kept."""

        def namespace(name: str) -> objects.RawObject:
            return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

        wanted: list[tuple[objects.RawObject, str]] = [
            (namespace(n), "kube-apiserver") for n in SYSTEM_NAMESPACES
        ]
        if self._with_workloads:  # the simulated node's storage, as kind installs it
            wanted.append((volumes.default_storage_class(), "kubectl-client-side-apply"))
        if self.gate is None:  # the CRDs and the namespace of `flux install`, no Deployments
            docs = fluxinstall.manifests(fluxinstall.Options(components=self.settings.components))
            wanted += [(d, "flux") for d in docs if d["kind"] in ("CustomResourceDefinition", "Namespace")]
        for obj, manager in wanted:
            try:
                self.cluster.create(obj, field_manager=manager)
            except errors.AlreadyExists:
                if self.cluster.in_process:
                    raise

    def _save(self) -> _Saved:
        """Everything a run depends on besides its servers: the store, what controllers remember,
        the event names and every RNG (`_preinstalled`)."""
        return _Saved(
            self.memory.save(),
            tuple(c.save_state() if isinstance(c, base.Stateful) else None for c in self.controllers),
            self.recorder.save_state(),
            tuple(rng.getstate() for rng in self._rngs()),
        )

    def _restore(self, saved: _Saved) -> None:
        """Continue from `saved` at t=0, as if this simulation had made it; the engine then reads
        the store as its informers' first list would (the gate starts what is available)."""
        self.memory.load(saved.store)
        for controller, state in zip(self.controllers, saved.controllers, strict=True):
            if state is not None:
                cast(base.Stateful, controller).load_state(state)
        self.recorder.load_state(saved.recorder)
        for rng, state in zip(self._rngs(), saved.rngs, strict=True):
            rng.setstate(state)
        for gk in self.queues.keys() | self._watchers.keys():
            for obj in self.memory.snapshot_page(gk).items:
                self._cache[objects.ref_of(obj)] = obj
        if self.gate is not None:
            for ref, obj in list(self._cache.items()):
                if ref.group_kind == DEPLOYMENT:
                    self.gate.observe(ref, obj)
        self.trace.records.clear()  # the installation happened before the run

    def _rngs(self) -> tuple[random.Random, ...]:
        """The RNGs saved with the installation. The generated Pod and EndpointSlice names' are
        not: a run's Pods and slices are named as they would be on a cluster without Flux's (as
        over HTTP)."""
        return (self._runtime.rng,)

    @property
    def memory(self) -> store.MemoryCluster:
        """The in-memory cluster (for serving it over HTTP); a TypeError on a remote cluster."""
        if not isinstance(self.cluster, store.MemoryCluster):
            raise TypeError("this simulation runs against a remote cluster, not in memory")
        return self.cluster

    def _on_event(self, event: backend.WatchEvent) -> None:
        """In memory: every change to every kind, inside the write that made it."""
        ref = objects.ref_of(event.object)
        if self.gate is not None and ref.group_kind == DEPLOYMENT:
            self.gate.observe(ref, None if event.type == "DELETED" else event.object)
        if ref.group_kind not in self.queues and ref.group_kind not in self._watchers:
            if self.history is not None:
                self.history.observe(
                    int(self.clock.now()), ref, None if event.type == "DELETED" else event.object
                )
            return
        old = self._cache.get(ref)
        new = None if event.type == "DELETED" else event.object
        if new is None:
            self._cache.pop(ref, None)
        else:
            self._cache[ref] = new
        self._dispatch(ref, old, new)

    def _dispatch(
        self, ref: refs.ObjectRef, old: objects.RawObject | None, new: objects.RawObject | None
    ) -> None:
        if self.history is not None:
            self.history.observe(int(self.clock.now()), ref, new)
        history.record_conditions(self.trace, ref, old, new)
        queue = self.queues.get(ref.group_kind)
        if queue is not None and new is not None and _should_enqueue(old, new):
            queue.add(ref)
        for watch, target in self._watchers.get(ref.group_kind, []):
            try:
                dependents = watch.mapper(old, new)
            except Exception as exc:
                self.trace.record(
                    "watch-error",
                    controller=target.name,
                    object=str(ref),
                    message=base.unexpected_message(exc),
                )
                continue
            for dependent in dependents:
                target.add(dependent)

    def _reconcile_error(self, controller: str, ref: refs.ObjectRef, exc: Exception) -> None:
        """A reconcile raised something unexpected: on the trace and on the object; the queue
        backs the key off."""
        self.trace.record(
            "reconcile-error", controller=controller, object=str(ref), message=base.unexpected_message(exc)
        )
        base.record_unexpected(self._runtime, controller, ref, exc)

    # -- time --------------------------------------------------------------------------------

    def final_state(self) -> list[objects.RawObject]:
        """Every object the run leaves (on a remote cluster: every object of the kinds the engine
        reconciles), as reports show them (`history.final_state`)."""
        if self.cluster.in_process:
            kinds = sorted({info.gvk.group_kind for info in self.memory.served_kinds()})
        else:
            kinds = sorted(self.queues)
        return history.final_state(self.cluster, kinds)

    def now(self) -> clocks.Millis:
        return self.clock.now()

    def settle(self) -> None:
        """Run everything due at the current instant (on a remote cluster: until the watches
        have nothing more to tell at this instant)."""
        while True:
            self.scheduler.run_pending()
            if self.remote is None:
                return
            self.sync()
            nxt = self.scheduler.peek()
            if nxt is None or nxt > self.clock.now():
                return

    def sync(self) -> None:
        """Remote clusters: hand every change the server has made so far to the controllers."""
        if self.remote is not None:
            self.remote.sync()

    def drain(self) -> None:
        """Remote clusters: hand the watch events that have arrived to the controllers."""
        if self.remote is not None:
            self.remote.drain()

    def close(self) -> None:
        """Stop the git server, and the watches of a remote cluster."""
        if self.remote is not None:
            self.remote.stop()
        self.git_client.close()
        self.git.close()
        self.registries.close()
        self.charts.close()
        self.buckets.close()
        self.sinks.close()
        self.inbound.stop()
        self.forge.close()

    def advance(self, ms: int) -> None:
        self.scheduler.run_until(clocks.Millis(self.clock.now() + ms))

    def run_until(self, when: clocks.Millis) -> None:
        self.scheduler.run_until(when)


@dataclass(frozen=True, slots=True)
class _Saved:
    store: store.SavedState
    controllers: tuple[object | None, ...]
    recorder: tuple[int, dict[tuple[str, str, str, str, str], tuple[str, int]]]
    rngs: tuple[tuple[Any, ...], ...]


def _preinstalled(settings: Settings, epoch_ms: int, controllers: tuple[str, ...]) -> _Saved:
    """A cluster with Flux installed a minute before t=0 and rolled out, for `settings`.

    IMPLEMENTATION DETAIL: Problem: installing Flux and rolling its Deployments out is some
    hundred reconciles; every simulation paying for them would multiply the cost of a short run.
    Solution: a throwaway simulation does it once per process and distinct settings (seed,
    epoch, kubelet timings, components, registered controllers): it starts its clock 60 s early,
    applies `flux install`'s objects as the CLI does and runs to t=0, when nothing is left to
    do; every simulation (the first too) then loads the saved result, so a run never depends on
    whether the cache was warm."""
    key = (settings.seed, epoch_ms, settings.kubelet, settings.components, settings.workloads, controllers)
    saved = _PREINSTALLED.get(key)
    if saved is None:
        workdir = settings.workdir / "preinstall"
        template = Simulation(
            replace(settings, workdir=workdir, with_flux=False),
            clock=clocks.VirtualClock(epoch_ms, start=-PREROLL_MS),
        )
        try:
            for obj in fluxinstall.manifests(fluxinstall.Options(components=settings.components)):
                template.cluster.apply(obj, field_manager="flux", force=True)  # as `flux install` does
            template.scheduler.run_until(clocks.Millis(0))
            if template.scheduler.peek() is not None:
                raise AssertionError("the installation of Flux left work for after t=0")
            saved = template._save()
        finally:
            template.close()
            shutil.rmtree(workdir, ignore_errors=True)
        _PREINSTALLED[key] = saved
    return saved


_PREINSTALLED: dict[tuple[object, ...], _Saved] = {}


def _should_enqueue(old: objects.RawObject | None, new: objects.RawObject) -> bool:
    if old is None:
        return True
    old_meta, new_meta = old.get("metadata", {}), new.get("metadata", {})
    if old_meta.get("generation") != new_meta.get("generation"):
        return True
    key = flux.REQUESTED_AT_ANNOTATION
    return (old_meta.get("annotations") or {}).get(key) != (new_meta.get("annotations") or {}).get(key)


class Pacer:
    """Runs a simulation's virtual time no faster than a wall clock (times `pace`).

    IMPLEMENTATION DETAIL: Problem: a served simulation must let people watch it with kubectl, so
    virtual time has to follow real time, and the HTTP threads must reach the store in between.
    Solution: the scheduler calls `wait` before moving the clock forward; `wait` gives up the
    store lock while it waits for the wall clock to catch up, in short slices so that `stop` is
    honoured promptly. On a remote cluster it first syncs with the watches, as a virtual run does
    before its clock moves, so that no consequence of this instant is handled at a later one.
    Only the CLI builds a Pacer (with a WallClock); virtual runs never wait.
    """

    def __init__(
        self, sim: Simulation, wall: clocks.Clock, lock: threading.RLock, stop: threading.Event
    ) -> None:
        self._sim = sim
        self._wall = wall
        self._lock = lock
        self._stop = stop
        self._offset = sim.clock.now() - wall.now()
        sim.scheduler.before_step = self.wait

    def wait(self, when: clocks.Millis) -> None:
        # On a remote cluster, what the last entries changed is handed over before the clock
        # leaves this instant (a LIST barrier); while waiting, whatever else arrives is drained.
        self._sim.sync()
        while not self._stop.is_set():
            self._sim.drain()
            behind = when - (self._wall.now() + self._offset)
            nxt = self._sim.scheduler.peek()
            if behind <= 0 or (nxt is not None and nxt < when):
                return  # time has come, or work arrived (from an HTTP request) that is due sooner
            self._lock.release()
            try:
                self._stop.wait(min(behind / 1000, 0.05))
            finally:
                self._lock.acquire()

    def run_forever(self) -> None:
        """Follow the wall clock until `stop` is set (what `gitops-sim serve` does)."""
        with self._lock:
            while not self._stop.is_set():
                self._sim.run_until(clocks.Millis(self._sim.clock.now() + 100))
