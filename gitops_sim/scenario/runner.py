"""Run a scenario on a fresh simulation and record everything that happens.

`run(scenario, workdir)` creates the simulation (seeded by the scenario), commits each declared
repository's first files at t=0, applies the initial manifests as `kubectl apply --server-side`
would (field manager `kubectl`), then executes the steps in order. After every step the engine
settles (everything due at that instant runs) and the kstatus invariants are checked. The first
failing expectation, invalid action or broken invariant ends the run; the outcome carries the
failure, with the scenario file and line, and the full trace.

Two bounds keep a hostile scenario from running forever: `horizon_ms` (the virtual time the run
may reach; the loader refuses scenarios that ask for more, this is the backstop for scenarios
built in code) and `stop`, a callable the caller passes in (the CLI's `--max-wall`: the runner
never reads the real time itself) that returns why the run must stop, or None. It is asked before
every step and between the events of an `advance` or a `within`; when it answers, the run fails
at the step it was on, naming the scenario and the step.

Action steps (everything but `expect`) mark where "since the last action step" starts for event
expectations. `expect … within` lets virtual time run, event by event, until the expectation holds
or the span ends.

A Flux API version removed before the simulated release (`model.flux.REMOVED_APIS`) is refused as the
real server refuses it (`no matches for kind "Kustomization" in version
"kustomize.toolkit.fluxcd.io/v1beta2"`, by the store's RESTMapper), whether a scenario applies it
(the step fails) or a Kustomization finds it in Git (its apply fails, as kustomize-controller's
dry-run does). The first time each such kind and version shows in the run's failure or events,
a `hint` record follows it naming the Flux release that removed the version, the version served
now, and `flux migrate`. The hint is ours: neither kubectl nor Flux prints one. Runs without a
runner (`gitops-sim serve`) give the error alone.

What each step does is not written here: the runner looks up the step's declaration and its
performer in `scenario.steps.registry` (`steps.actions` registers the built-in ones) and passes
itself as the performer's `steps.actions.base.Context`. It holds the machinery steps share: the
scenario's repositories, applying manifests, pushing images, letting time run, checking an
expectation, and settling with the invariants after every step.

Callers: the CLI, the pytest plugin and `testing`. It must never read the real time, and never
name a step kind.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gitops_sim.cluster import backend, errors
from gitops_sim.engine import explain, history, simulation, stubs, trace, why
from gitops_sim.model import duration, fluxapi, matching, objects, refs
from gitops_sim.notification import providers
from gitops_sim.scenario import assertions, schema
from gitops_sim.scenario.located import Location
from gitops_sim.scenario.steps import actions, registry
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import git, githttp, oci
from gitops_sim.timing import clock as clocks
from gitops_sim.workloads import pods

USER_MANAGER = schema.USER_MANAGER
_WHY = "why, as `gitops-sim explain` tells it:"
NAMESPACE = refs.GroupKind("", "Namespace")
CLEAN_UP_MS = 30 * 60_000
"""How long (in the run's time) `clean_up` waits for finalizers and namespace termination."""


# The RESTMapper's refusal, as `errors.no_kind_match` words it.
_NO_KIND_MATCH = re.compile(r'no matches for kind "(?P<kind>[^"]+)" in version "(?P<api_version>[^"]+)"')


@dataclass(frozen=True, slots=True)
class Failure:
    loc: Location
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


@dataclass(frozen=True, slots=True)
class Outcome:
    scenario: schema.Scenario
    failure: Failure | None
    trace: trace.Trace
    virtual_ms: int
    final: tuple[objects.RawObject, ...] = ()
    """Every object the run left, as reports show them (`engine.history.final_state`)."""
    history: history.History | None = None
    """Each object's states over the run, when the runner was asked to keep them."""

    @property
    def passed(self) -> bool:
        return self.failure is None


_StepFailed = base.StepFailed
_PERFORMERS = actions  # importing `steps.actions` registers the built-in steps' performers


class Runner:
    def __init__(
        self,
        scenario: schema.Scenario,
        workdir: Path,
        cluster: backend.Cluster | None = None,
        clock: clocks.VirtualClock | None = None,
        workloads: bool | None = None,
        *,
        horizon_ms: int = schema.DEFAULT_HORIZON_MS,
        stop: Callable[[], str | None] | None = None,
        keep_history: bool = False,
        progress: Callable[[int], None] | None = None,
        stub_unknown_kinds: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        """`cluster`, `clock` and `workloads` as for `Simulation` (`workloads=True` simulates the
        cluster's own controllers on a remote cluster that has none, such as our HTTP front over a
        bare MemoryCluster); a given clock's epoch wins over the scenario's `start` (a real
        cluster runs at today's date). `horizon_ms` and `stop` bound the run (see the module).
        `keep_history`: the outcome carries every object's states over the run (for a report).
        `progress` is told the virtual time (ms) whenever `stop` is asked (a progress line).
        `stub_unknown_kinds`: kinds nothing defines get open-schema CRDs (`engine.stubs`).
        `cache_dir`: keep kustomize builds and Helm renders there (`Settings.cache_dir`)."""
        self.scenario = scenario
        self.horizon_ms = horizon_ms
        self.stop = stop
        self.progress = progress
        # What the run may leave is what it found, and the namespaces every cluster has.
        self._namespaces_before = (
            None
            if cluster is None
            else {objects.ref_of(ns).name for ns in cluster.list(NAMESPACE)}
            | set(simulation.SYSTEM_NAMESPACES)
        )
        settings = simulation.Settings(
            workdir=workdir,
            seed=scenario.seed,
            epoch_ms=scenario.start_ms if scenario.start_ms is not None else clocks.DEFAULT_EPOCH_MS,
            kubelet=pods.Timings(
                **{f"{k}_ms": v for k, v in scenario.kubelet.items()}  # pull_ms, ready_ms, run_ms
            ),
            workloads=workloads,
            with_flux=scenario.flux_installed,
            cache_dir=cache_dir,
        )
        self.sim = simulation.Simulation(settings, cluster, clock)
        if keep_history:
            self.sim.history = history.History()
        if stub_unknown_kinds:
            stubs.StubUnknownKinds(self.sim)
        self.trace = self.sim.trace
        self._repos: dict[str, git.Repository] = {}
        self._events_from = 0
        self._digests: dict[str, str] = {}
        """The digest each image reference was last pushed with (`${images.<ref>.digest}`)."""
        self._since_ms = 0
        self._received_from = 0
        """How many requests the sinks had received when the last action step began."""
        """When the last action step began (what `event` and `commit` expectations look after)."""
        self._bug: Failure | None = None
        self._hinted: set[tuple[str, str]] = set()
        self.trace.subscribe(self._hint_removed_apis)

    def run(self) -> Outcome:
        failure = None
        try:
            self._setup()
            self._note_bug(Location(str(self.scenario.path), 1, 1), 0)
            for step in self.scenario.steps:
                seen = len(self.trace.records)
                self.trace.record("step", index=step.index, step=step.keyword, line=step.loc.line)
                self._step(step)
                self._note_bug(step.loc, seen)
            failure = self._bug
        except _StepFailed as exc:
            failure = Failure(exc.loc, exc.message)
        if failure is not None:
            self.trace.record("failure", at=str(failure.loc), message=failure.message)
        return Outcome(
            self.scenario,
            failure,
            self.trace,
            int(self.sim.now()),
            tuple(self.sim.final_state()),
            self.sim.history,
        )

    def _hint_removed_apis(self, rec: trace.Record) -> None:
        """After a failure or an event refusing a removed Flux API version, one `hint` record (per
        kind and version, per run) saying what removed it and how to migrate."""
        if rec["kind"] not in ("failure", "event"):
            return
        for match in _NO_KIND_MATCH.finditer(str(rec.get("message", ""))):
            key = (match["kind"], match["api_version"])
            hint = fluxapi.removed_api_hint(*key)
            if hint is None or key in self._hinted:
                continue
            self._hinted.add(key)
            where = rec["object"] if rec["kind"] == "event" else rec["at"]
            self.trace.record("hint", object=where, message=hint)

    def _note_bug(self, loc: Location, since: int) -> None:
        """Remember the first unexpected exception a reconcile raised (a `reconcile-error` record
        since record `since`): the run goes on, as Flux's other objects would, but the scenario
        fails at its end, since what Flux would have done there is unknown."""
        if self._bug is not None:
            return
        for rec in self.trace.records[since:]:
            if rec["kind"] == "reconcile-error":
                self._bug = Failure(
                    loc,
                    f"gitops-sim failed unexpectedly while {rec['controller']} reconciled {rec['object']} "
                    f"(a bug; the run went on without it): {rec['message']}",
                )
                return

    def clean_up(self) -> list[str]:
        """On a cluster given to the runner (a real one), delete what the run left behind, with
        the engine still running, and return what could not be deleted in time.

        Flux objects go first, consumers before sources (the reverse of the controllers' order),
        so their finalizers run as in Flux: a Kustomization with `prune: true` deletes what it
        applied. Then every namespace that did not exist before the run, with its content. Left
        in place: the Flux CRDs, and cluster-scoped objects applied by Kustomizations without
        `prune`. In memory there is nothing to clean: the cluster goes with the simulation.
        """
        if self._namespaces_before is None:
            return []
        cluster = self.sim.cluster
        flux_kinds = [c.gvk.group_kind for c in reversed(self.sim.controllers)]
        for gk in flux_kinds:
            for obj in cluster.list(gk):
                with contextlib.suppress(errors.NotFound):
                    cluster.delete(objects.ref_of(obj))
        self._wait_until_gone(lambda: [str(objects.ref_of(o)) for gk in flux_kinds for o in cluster.list(gk)])
        for ns in cluster.list(NAMESPACE):
            if objects.ref_of(ns).name not in self._namespaces_before:
                with contextlib.suppress(errors.NotFound):
                    cluster.delete(objects.ref_of(ns))
        return self._wait_until_gone(
            lambda: [
                str(objects.ref_of(ns))
                for ns in cluster.list(NAMESPACE)
                if objects.ref_of(ns).name not in (self._namespaces_before or ())
            ]
        )

    def _wait_until_gone(self, left: Callable[[], list[str]]) -> list[str]:
        waited = 0
        while (remaining := left()) and waited < CLEAN_UP_MS:
            self.sim.advance(1_000)
            waited += 1_000
        return remaining

    # -- set-up ------------------------------------------------------------------------------

    def _setup(self) -> None:
        for repo in self.scenario.repos:
            try:
                created = self.sim.git.create(repo.name, repo.url, repo.branch)
            except git.GitError as exc:
                raise _StepFailed(repo.loc, f"repos.{repo.name}: {exc}") from exc
            self._repos[repo.name] = created
            if repo.auth:
                created.credentials = githttp.Credentials.from_secret(repo.auth)
            if repo.files:
                try:
                    self.commit(created, dict(repo.files), repo.message, None, None)
                except git.GitError as exc:
                    raise _StepFailed(repo.loc, f"repos.{repo.name}: {exc}") from exc
        if self.scenario.images:
            self.push_images(self.scenario.images)
        for sink in self.scenario.sinks:
            try:
                self.sim.sinks.declare(sink.name, sink.url)
            except ValueError as exc:
                raise _StepFailed(sink.loc, f"sinks.{sink.name}: {exc}") from exc
        for manifest in self.scenario.apply:
            self.apply(manifest)
        self._settle(Location(str(self.scenario.path), 1, 1))

    # -- steps -------------------------------------------------------------------------------

    def _check_stop(self, step: schema.Step) -> None:
        if self.progress is not None:
            self.progress(int(self.sim.now()))
        reason = self.stop() if self.stop is not None else None
        if reason is not None:
            raise _StepFailed(
                step.loc,
                f"scenario {self.scenario.name!r} stopped on steps[{step.index}] ({step.keyword}): {reason}",
            )

    def within_horizon(self, ms: int, step: schema.Step) -> None:
        if self.sim.now() + ms > self.horizon_ms:
            raise _StepFailed(
                step.loc,
                f"{step.keyword}: virtual time would reach {duration.format(self.sim.now() + ms)}, "
                f"beyond the horizon of {duration.format(self.horizon_ms)}",
            )

    def advance(self, ms: int, step: schema.Step) -> None:
        """Let `ms` of virtual time pass, asking `stop` between events."""
        if self.stop is None:
            self.sim.advance(ms)
            return
        target = clocks.Millis(self.sim.now() + ms)
        while (nxt := self.sim.scheduler.peek()) is not None and nxt <= target:
            self.sim.run_until(nxt)
            self._check_stop(step)
        self.sim.run_until(target)

    def _step(self, step: schema.Step) -> None:
        self._check_stop(step)
        action = step.action
        if registry.declared()[step.keyword].marks_events:
            self._events_from = len(self.trace.records)
            self._since_ms = self.sim.now()
            self._received_from = len(self.sim.sinks.received())
        perform = registry.performer(action)
        if perform is None:
            raise _StepFailed(step.loc, f"{step.keyword}: nothing runs {type(action).__name__} steps")
        try:
            perform(action, step, self)
        except assertions.RefError as exc:
            raise _StepFailed(step.loc, f"{step.keyword}: {exc}") from exc
        except errors.ApiError as exc:
            raise _StepFailed(step.loc, f"{step.keyword}: the API server refused: {exc.message}") from exc
        except (objects.PathError, git.GitError) as exc:
            raise _StepFailed(step.loc, f"{step.keyword}: {exc}") from exc
        except oci.RegistryError as exc:  # a push to a registry the scenario faulted
            raise _StepFailed(step.loc, f"{step.keyword}: the registry refused the push: {exc}") from exc
        self._settle(step.loc)

    def _settle(self, loc: Location) -> None:
        self.sim.settle()
        problems = assertions.invariants(self.sim.cluster)
        if problems:
            raise _StepFailed(loc, "kstatus invariant violated: " + "; ".join(problems))

    def apply(self, manifest: schema.Manifest) -> None:
        obj = objects.deep_copy(manifest.obj)
        ref = objects.ref_of(obj)
        try:
            existed = True
            try:
                before = self.sim.cluster.get(ref)
            except errors.NotFound:
                existed, before = False, {}
            after = self.sim.cluster.apply(obj, field_manager=USER_MANAGER)
        except errors.ApiError as exc:
            raise _StepFailed(manifest.loc, f"applying {ref}: {exc.message}") from exc
        changed = after.get("metadata", {}).get("resourceVersion") != before.get("metadata", {}).get(
            "resourceVersion"
        )
        action = "created" if not existed else ("configured" if changed else "unchanged")
        self.trace.record("apply", object=str(objects.ref_of(after)), action=action, manager=USER_MANAGER)

    def commit(
        self,
        repo: git.Repository,
        files: dict[str, str | bytes | None],
        message: str,
        branch: str | None,
        author: tuple[str, str] | None,
    ) -> str:
        kwargs = {"author": author} if author else {}
        sha = repo.commit(files, message, branch=branch, **kwargs)
        self.trace.record(
            "commit",
            repo=repo.url,
            branch=branch or repo.default_branch,
            sha=sha,
            message=message,
            files=repo.changed_files(sha),
        )
        return sha

    def repo(self, name: str, step: schema.Step) -> git.Repository:
        repo = self._repos.get(name)
        if repo is None:
            known = ", ".join(sorted(self._repos)) or "none declared"
            raise _StepFailed(step.loc, f"{step.keyword}: no repository named {name!r} ({known})")
        return repo

    def push_images(
        self, images: tuple[str, ...], *, revision: str | None = None, created: str | None = None
    ) -> None:
        client = oci.RegistryClient(self.sim.registries.route)
        for image in images:
            repository, _, tag = image.rpartition(":")
            host, name = self.sim.registries.host(repository)
            digest = client.push_image(host, name, tag, revision=revision, created=created)
            self.trace.record("push-image", image=image, digest=digest)
            self._digests[image] = digest

    def expand(self, text: str, step: schema.Step) -> str:
        return str(assertions.expand(text, self._lookup(step.loc)))

    def _lookup(self, loc: Location) -> Callable[[str], str]:
        def lookup(name: str) -> str:
            if name.startswith("images.") and name.endswith(".digest"):
                image = name.removeprefix("images.").removesuffix(".digest")
                if image not in self._digests:
                    raise _StepFailed(loc, f"${{{name}}}: {image} was not pushed by this scenario")
                return self._digests[image]
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "repos" and parts[1] in self._repos:
                repo = self._repos[parts[1]]
                branch = (
                    parts[3]
                    if parts[2:3] == ["branches"] and len(parts) == 4
                    else (repo.default_branch if parts[2:] == ["head"] else None)
                )
                if branch is not None:
                    sha = repo.head(branch)
                    if sha is None:
                        raise _StepFailed(loc, f"${{{name}}}: branch {branch!r} has no commits")
                    return sha
            raise _StepFailed(
                loc,
                f"unknown variable ${{{name}}}: use ${{repos.<name>.head}} or "
                f"${{repos.<name>.branches.<branch>}} with a repository of this scenario, or "
                f"${{images.<host/name:tag>.digest}} with an image it pushed",
            )

        return lookup

    def _new_commits(self, item: schema.Expectation, step: schema.Step) -> tuple[list[git.CommitInfo], str]:
        """The commits on the expectation's branch since the last action step began, newest first,
        but those the scenario's own `commit` steps made."""
        repo = self.repo(item.object, step)
        branch = str(item.want.get("branch") or repo.default_branch)
        ours = {
            str(r["sha"]) for r in self.trace.records if r["kind"] == "commit" and r.get("repo") == repo.url
        } | set(repo.raced)
        since_s = (self.sim.clock.epoch_ms + self._since_ms) // 1000
        found = []
        for sha in repo.log(branch) if repo.head(branch) is not None else []:
            info = repo.commit_info(sha)
            if info.author_time < since_s:
                break
            if sha not in ours:
                found.append(info)
        return found, branch

    def _notices(self, item: schema.Expectation) -> list[providers.Notice]:
        """What the expectation's sink received since the last action step began, read as its
        provider type writes it."""
        sink = next((s for s in self.scenario.sinks if s.name == item.object), None)
        if sink is None:
            known = ", ".join(s.name for s in self.scenario.sinks) or "none declared"
            raise _StepFailed(item.loc, f"no sink named {item.object!r} ({known})")
        notices = []
        for received in self.sim.sinks.received()[self._received_from :]:
            if received.sink != sink.name:
                continue
            notice = providers.read(sink.type, received.method, received.body)
            if notice is not None:
                notices.append(notice)
        return notices

    def _problem(
        self, item: schema.Expectation, step: schema.Step, lookup: Callable[[str], str]
    ) -> str | None:
        if item.kind in ("notification", "no-notification"):
            return assertions.check_notifications(item, self._notices(item), lookup)
        if item.kind in ("commit", "no-commit"):
            commits, branch = self._new_commits(item, step)
            return assertions.check_commits(item, commits, branch, lookup)
        events = [r for r in self.trace.records[self._events_from :] if r["kind"] == "event"]
        return assertions.check(item, self.sim.cluster, events, lookup)

    def expect(self, item: schema.Expectation, step: schema.Step) -> None:
        lookup = self._lookup(item.loc)
        if item.holds_ms:
            self._expect_throughout(item, step, lookup)
            return
        deadline = clocks.Millis(self.sim.now() + item.within_ms)
        while True:
            problem = self._problem(item, step, lookup)
            if problem is None:
                self.trace.record("expect", ok=True, at=str(item.loc), what=_describe(item))
                return
            nxt = self.sim.scheduler.peek()
            if self.sim.now() >= deadline:
                waited = f" (waited {duration.format(item.within_ms)})" if item.within_ms else ""
                self.trace.record("expect", ok=False, at=str(item.loc), what=_describe(item))
                if item.kind == "commit":
                    texts = explain.for_repository(self.sim, self.repo(item.object, step).url)
                    problem += "".join(f"\n\n{_WHY}\n{text}" for text in texts)
                elif item.kind in ("condition", "object", "event"):
                    problem += self._why(item.object)
                raise _StepFailed(item.loc, f"expectation failed{waited}: {problem}")
            self.sim.run_until(nxt if nxt is not None and nxt <= deadline else deadline)
            self._check_stop(step)

    def _why(self, target: str) -> str:
        """The causal chain of the object an expectation names (`engine.why`), when there is more
        to it than the object's own condition; else nothing."""
        try:
            ref = assertions.resolve_ref(self.sim.cluster, target)
        except assertions.RefError:
            return ""
        link = why.chain(self.sim.final_state(), str(ref))
        return f"\n\n{_WHY}\n{why.render(link)}" if link.children else ""

    def _expect_throughout(
        self, item: schema.Expectation, step: schema.Step, lookup: Callable[[str], str]
    ) -> None:
        """`for`: the expectation holds at every event of the window, or fails at the first that
        breaks it."""
        deadline = clocks.Millis(self.sim.now() + item.holds_ms)
        while True:
            problem = self._problem(item, step, lookup)
            if item.mode == "never":
                problem = (
                    None
                    if problem is not None
                    else f"{_describe(item)}: it held at {duration.clock(self.sim.now())}"
                )
            if problem is not None:
                self.trace.record("expect", ok=False, at=str(item.loc), what=_describe(item))
                raise _StepFailed(item.loc, f"expectation failed: {problem}")
            nxt = self.sim.scheduler.peek()
            if self.sim.now() >= deadline:
                self.trace.record("expect", ok=True, at=str(item.loc), what=_describe(item))
                return
            self.sim.run_until(nxt if nxt is not None and nxt <= deadline else deadline)
            self._check_stop(step)


def _describe(item: schema.Expectation) -> str:
    if item.mode:
        plain = _describe(replace(item, mode=""))
        return f"{item.mode} ({plain}) for {duration.format(item.holds_ms)}"
    show = matching.show

    if item.kind == "object":
        kind = item.object.split("/", 1)[0].split(".", 1)[0]
        return f"{item.object} " + ", ".join(
            f"{k}={assertions.REDACTED if assertions.secret_field(kind, k) else show(v)}"
            for k, v in item.want.items()
        )
    if item.kind == "absent":
        return f"{item.object} is absent"
    if item.kind == "order":
        return "order " + " then ".join(
            f"{e['object']} " + " ".join(f"{k}={show(v)}" for k, v in e.items() if k != "object")
            for e in item.want["events"]
        )
    if item.kind in ("commit", "no-commit", "notification", "no-notification"):
        held = f" for {duration.format(item.holds_ms)}" if item.holds_ms else ""
        return (
            " ".join([f"{item.kind} in {item.object}", *(f"{k}={show(v)}" for k, v in item.want.items())])
            + held
        )
    return f"{item.kind} {item.object} " + " ".join(f"{k}={show(v)}" for k, v in item.want.items())


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a scenario runs, then collect once.

    IMPLEMENTATION DETAIL: Problem: a simulation keeps many small, acyclic JSON trees alive, and the
    cyclic collector keeps re-scanning them (about 30% of the store's create time at 100k objects,
    measured with benchmarks/store.py). Solution: reference counting frees those trees anyway, so a scenario
    run pauses the collector and collects the few cycles after.
    Problem: that one full collection walked every object of the process too (modules, the loaded
    schemas: 33 ms of a 120 ms scenario). Solution: what lived before the run is frozen for its
    length (`gc.freeze`), so the collection walks only what the run made (6 ms).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def run(
    scenario: schema.Scenario,
    workdir: Path,
    cluster: backend.Cluster | None = None,
    clock: clocks.VirtualClock | None = None,
    workloads: bool | None = None,
    *,
    horizon_ms: int = schema.DEFAULT_HORIZON_MS,
    stop: Callable[[], str | None] | None = None,
    inspect: Callable[[simulation.Simulation], None] | None = None,
    keep_history: bool = False,
    progress: Callable[[int], None] | None = None,
    cache_dir: Path | None = None,
) -> Outcome:
    """Run `scenario`; `inspect`, when given, looks at the simulation as the run left it (passed
    or not) before it closes. `cache_dir`: as for `Runner`."""
    with collector_paused():
        runner = Runner(
            scenario,
            workdir,
            cluster,
            clock,
            workloads,
            horizon_ms=horizon_ms,
            stop=stop,
            keep_history=keep_history,
            progress=progress,
            cache_dir=cache_dir,
        )
        try:
            outcome = runner.run()
            if inspect is not None:
                inspect(runner.sim)
            return outcome
        finally:
            runner.sim.close()


def _conforms(runner: Runner) -> base.Context:
    return runner  # a Runner is what performers see as the run
