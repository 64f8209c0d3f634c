"""Checking the objects a scenario applies, against the simulated API server, without running it.

`check(scenario)` is what `gitops-sim validate` asks beyond the language: every object the
scenario would apply (its top-level `apply:`, then every `apply` step's manifests, inline or read
from a `file:` beside it), in the run's order, is sent to a throwaway `MemoryCluster` as the
runner sends it (server-side apply, field manager `kubectl`, `fieldValidation=Warn`) with
`dryRun=All`. The verdict is the store's own: the RESTMapper's `no matches for kind`, the CRDs'
OpenAPI schemas and CEL rules, the built-ins' schemas, metadata rules, missing namespaces on
namespaced kinds, conflicts with the fields Flux's installation owns. Each refusal is a
`Problem` at the manifest's file:line:column and field (`steps[3].apply[0]`), with the message
the run would fail with, and for a removed Flux API version the hint the runner prints
(`fluxapi.removed_api_hint`). What the server only warns about (unknown fields it prunes, a
deprecated version) comes back as a `Problem` with `warning` set: the run would not fail on it.

How the throwaway cluster stands in for the run's:
- It starts as the run's does: the system namespaces, and with `cluster: {flux: installed}` (the
  default) every object of `flux install` applied by the `flux` manager; with `absent`, Flux's
  CRDs alone, standing in for whichever step installs Flux (so that Flux objects are checked
  against their schemas; a CRD of the same name the scenario applies replaces its stand-in, as
  it would be created in the run). Both starts are built once per process; each scenario gets a
  fresh store loaded with its start.
- CustomResourceDefinitions and Namespaces the scenario applies are applied for real, so that
  later objects of a CRD's kind are served and checked by its schema, as in the run.
- Every other object is a dry run, checked as if it were created (each on its own, never as an
  update of what an earlier step applied).
- A namespaced object's namespace is created first when it does not exist: the run may get it
  from a repository a Kustomization applies, or from a step.

Limits (where the verdict may differ from the run's):
- An object of a kind the cluster does not serve is skipped, unless its group is one served from
  the start (a built-in group, or one of Flux's: no step or repository adds a kind or a version
  to those, so `no matches for kind` there is final). Any other group's kinds may come from a
  step (`flux`, `helm`) or from CRDs in a repository, after the object's turn.
- What only an update refuses (immutable fields, conflicts with what controllers or earlier steps
  wrote) and what steps other than `apply` do (deletes, drift, `flux`, `helm`) show in the run
  only; so does a namespace that is terminating when the object comes.
- With `flux: absent`, Flux's kinds are served from the start: a Flux object applied before the
  step that installs Flux passes here and fails the run.

Callers: the CLI (`gitops-sim validate`). It must never run a step, reach an upstream or read the
real time, and never keep anything of one scenario for the next (each gets a fresh store).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from gitops_sim.cluster import errors, kinds
from gitops_sim.cluster.memory import store
from gitops_sim.model import flux, fluxinstall, objects, refs
from gitops_sim.scenario import schema
from gitops_sim.scenario.located import Location
from gitops_sim.timing import clock as clocks

_APPLIED_FOR_REAL = frozenset({kinds.CRD, refs.GroupKind("", "Namespace")})


@dataclass(frozen=True, slots=True)
class Problem:
    loc: Location
    where: str
    """The scenario's field holding the manifest (`steps[3].apply[0]`)."""
    message: str
    hint: str | None = None
    warning: bool = False
    """The server warned and went on: the run does not fail on this."""

    def __str__(self) -> str:
        text = f"{self.loc}: {self.where}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


@dataclass(frozen=True, slots=True)
class _Start:
    state: store.SavedState
    final_groups: frozenset[str]
    """The groups no step adds kinds to: the built-in ones and those Flux's CRDs serve."""
    crds: frozenset[str]
    """The names of Flux's CRDs."""


_STARTS: dict[bool, _Start] = {}


def _start(flux_installed: bool) -> _Start:
    """The cluster a run starts from (see the module), built once per process."""
    start = _STARTS.get(flux_installed)
    if start is None:
        cluster = _store(clocks.DEFAULT_EPOCH_MS)
        for name in kinds.SYSTEM_NAMESPACES:
            cluster.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                field_manager="kube-apiserver",
            )
        for obj in fluxinstall.manifests(fluxinstall.Options(components=flux.ALL_COMPONENTS)):
            if flux_installed or obj["kind"] == "CustomResourceDefinition":
                cluster.apply(obj, field_manager="flux", force=True)  # as `flux install` does
        groups = frozenset(info.gvk.group for info in cluster.served_kinds())
        crds = frozenset(objects.ref_of(crd).name for crd in cluster.list(kinds.CRD))
        start = _STARTS[flux_installed] = _Start(cluster.save(), groups, crds)
    return start


def _store(epoch_ms: int) -> store.MemoryCluster:
    return store.MemoryCluster(clocks.VirtualClock(epoch_ms), random.Random("validate"))


def manifests(scenario: schema.Scenario) -> list[schema.Manifest]:
    """What the scenario applies with `apply`, in the order the run applies it."""
    out = list(scenario.apply)
    for step in scenario.steps:
        if isinstance(step.action, schema.Apply):
            out.extend(step.action.manifests)
    return out


def check(scenario: schema.Scenario) -> list[Problem]:
    """The refusals (and warnings) of the simulated API server for every object `scenario`
    applies, in order (see the module for what stands in for the run)."""
    start = _start(scenario.flux_installed)
    cluster = _store(scenario.start_ms if scenario.start_ms is not None else clocks.DEFAULT_EPOCH_MS)
    cluster.load(start.state)
    checker = _Checker(cluster, start.final_groups, set() if scenario.flux_installed else set(start.crds))
    return [problem for manifest in manifests(scenario) for problem in checker.check(manifest)]


class _Checker:
    """Sends one scenario's manifests, in order, to its throwaway cluster."""

    def __init__(
        self, cluster: store.MemoryCluster, final_groups: frozenset[str], stand_ins: set[str]
    ) -> None:
        self.cluster = cluster
        self.final_groups = final_groups
        self.stand_ins = stand_ins
        """The names of Flux's CRDs that stand in for a later step installing Flux (`absent`)."""

    def check(self, manifest: schema.Manifest) -> list[Problem]:
        obj = manifest.obj
        api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
        gvk = refs.GVK.of(api_version, kind)
        ref = objects.ref_of(obj)

        def problem(message: str, *, hint: str | None = None, warning: bool = False) -> Problem:
            return Problem(manifest.loc, manifest.where, f"applying {ref}: {message}", hint, warning)

        try:
            info = self.cluster.kind_info(gvk)
        except errors.NoKindMatch as exc:
            if gvk.group not in self.final_groups:
                return []  # a later step, or a repository's CRDs, may serve it
            from gitops_sim.model import fluxapi  # the typed API: only for this hint (see `model.fluxcrds`)

            return [problem(exc.message, hint=fluxapi.removed_api_hint(kind, api_version))]
        if info.namespaced and ref.namespace:
            _ensure_namespace(self.cluster, ref.namespace)
        warnings = [info.deprecation] if info.deprecation else []
        try:
            with self._replacing_stand_in(ref):
                self.cluster.apply(
                    obj,
                    field_manager=schema.USER_MANAGER,
                    dry_run=gvk.group_kind not in _APPLIED_FOR_REAL,
                    warnings=warnings,
                )
        except errors.ApiError as exc:
            return [problem(exc.message)]
        return [problem(text, warning=True) for text in dict.fromkeys(warnings)]

    @contextlib.contextmanager
    def _replacing_stand_in(self, ref: refs.ObjectRef) -> Iterator[None]:
        """A CRD the scenario applies in place of a stand-in is created, as in the run: the
        stand-in goes first, and comes back if the CRD is refused."""
        if ref.group_kind != kinds.CRD or ref.name not in self.stand_ins:
            yield
            return
        before = self.cluster.save()
        self.cluster.delete(ref)
        try:
            yield
        except errors.ApiError:
            self.cluster.load(before)
            raise
        self.stand_ins.discard(ref.name)


def _ensure_namespace(cluster: store.MemoryCluster, name: str) -> None:
    """Create namespace `name` unless it exists; a name no namespace can have is left for the
    object's own apply to refuse (`namespaces "…" not found`, as in the run)."""
    try:
        cluster.get(refs.ObjectRef("", "Namespace", "", name))
    except errors.NotFound:
        with contextlib.suppress(errors.ApiError):
            cluster.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                field_manager="gitops-sim-validate",
            )
