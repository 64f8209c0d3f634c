"""Kustomization (kustomize.toolkit.fluxcd.io/v1): build a source path and apply it with SSA.

Provenance: behaviour of kustomize-controller `internal/controller/kustomization_controller.go`
(Reconcile, reconcile, apply, prune, checkHealth, finalize) and fluxcd/pkg `ssa`; our own code.

Steps: Flux's preamble; parse `healthCheckExprs` (invalid: Stalled, InvalidCELExpression); find
the source (GitRepository, OCIRepository, Bucket or ExternalArtifact, the last only with the
`ExternalArtifact` feature gate, which `flux install` sets when it installs source-watcher: else
Stalled `AccessDenied`; missing: `ArtifactFailed`, retry at `retryInterval`; no artifact yet:
retry in 30s); check `dependsOn` (readyExpr in CEL, or exists,
Ready for its generation and, on the same source, the same revision: `DependencyNotReady`, retry
in 30s); mark the reconcile in progress; fetch the artifact from storage (never from the upstream)
and check its digest; build `spec.path` with the real kustomize and the overlay fields
(`BuildFailed`); substitute postBuild variables; add the owner labels and `commonMetadata` (this
render is `apply.render`, a library a CLI can call too); apply everything in stages with
server-side apply under `kustomize-controller`, with the `spec.ignore` drift rules, recreating on
immutable-field errors with `force` (`ReconciliationFailed`); emit the change set; prune what left
the inventory (`PruneFailed`, survivors kept); with `wait` or `healthChecks`, poll kstatus every
5s until all are Current, one is Failed (fail-fast) or the timeout passes (`HealthCheckFailed`);
then Ready=True "Applied revision: <rev>" (and `lastAppliedOriginRevision` from an OCI artifact's
`org.opencontainers.image.revision`), "Reconciliation finished in <d>, next run in <interval>",
and a requeue after `interval` with ±5% jitter. On deletion, `deletionPolicy` decides what is
pruned.

Repository content is untrusted (see `apply.build`: bounded parsing, a wall-time and memory limit
on kustomize, no path outside the artifact); each such failure is this Kustomization's
`BuildFailed` or `ArtifactFailed`. Post-build substitution (in `apply.render`) re-parses each
object with `model.yamlsafe`, so a variable cannot smuggle in an alias bomb.

The spec is read once per reconcile as the typed Flux API (`fluxapi.kustomize.KustomizationSpec`,
`base.typed_spec`); only other objects' specs (a dependency's, a watched Kustomization's
sourceRef) are read raw.

The kind runs on the reconcile kernel (`reconcile.kernel`): its steps are below, in order, and
`reconcile.applier.AppliedSummary` ends every reconcile (Ready, the history, one status patch,
the "Reconciliation finished" event). Per-object state (the last apply, the origin revision, a
health check in progress) lives in the kernel's state for the object.

Differences, on purpose: Flux blocks inside one reconcile while health checks run; here the
reconcile parks and is resumed at each 5s poll (`applier.Health`, `kernel.Park`), and whatever
asks for another reconcile meanwhile waits for it to finish, as in Flux. Reconciles otherwise take
no virtual time, so durations read `0s` unless a health check waited. The
`CancelHealthCheckOnNewRevision` and `DisableFailFastBehavior` feature gates are at Flux's
defaults (off); `kubeConfig` (remote clusters), `serviceAccountName` impersonation and
`buildMetadata` are not honoured.

Field managers as Flux's: the apply is `kustomize-controller`; the finalizer and status are
written as `gotk-kustomize-controller` (the patch helper's field owner), which the apply's
take-over of `kustomize-controller` Updates leaves alone, so a parent never strips a child
Kustomization's finalizer.

SOPS: a `v1` Secret with a top-level `sops` key (not annotated
`kustomize.toolkit.fluxcd.io/decrypt: disabled`) fails the whole apply when `spec.decryption` is
unset, with kustomize-controller's message (ReconciliationFailed, nothing applied). With
`spec.decryption` the render decrypts as kustomize-controller does (`apply.decrypt`: age keys
from the Secret's `.agekey` entries; a missing Secret, a wrong key or a tampered value is
BuildFailed with Flux's words; PGP, cloud KMS and Vault keys are not simulated and say so).

Health checks: a Flux kind that no simulated controller reconciles (`reconciled`;
ImageUpdateAutomation and the notification kinds with a status) is never Current, and the timeout
names it (our wording, in the place of kstatus's error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from gitops_sim.apply import build, changeset, drift, inventory, manager, render
from gitops_sim.cluster import errors
from gitops_sim.model import artifacts, cel, conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import kustomize as api
from gitops_sim.reconcile import applier, base, flags, kernel, registry
from gitops_sim.storage import ArtifactError, ArtifactNotFound, Storage
from gitops_sim.timing import workqueue

CLEANUP_MANAGERS = (
    ("kubectl", "Apply"),
    ("kubectl", "Update"),
    ("before-first-apply", "Update"),
    (flux.KUSTOMIZE_CONTROLLER, "Update"),
)
SOURCE_KINDS = {
    "GitRepository": flux.GITREPOSITORY,
    "OCIRepository": flux.OCIREPOSITORY,
    "Bucket": flux.BUCKET,
    "ExternalArtifact": flux.EXTERNALARTIFACT,
}
EXTERNAL_ARTIFACT_GATE = "ExternalArtifact"
"""kustomize-controller's feature gate (off by default) for `sourceRef.kind: ExternalArtifact`;
`flux install` turns it on when it installs source-watcher (read with `reconcile.flags`)."""
SIMULATED_KINDS = frozenset(
    gvk.group_kind
    for gvk in (
        *SOURCE_KINDS.values(),
        flux.HELMREPOSITORY,
        flux.HELMCHART,
        flux.KUSTOMIZATION,
        flux.HELMRELEASE,
    )
)


@dataclass(frozen=True, slots=True)
class _AppliedSet:
    """What a Kustomization's last successful apply left behind.

    IMPLEMENTATION DETAIL: Problem: at every interval Flux rebuilds and dry-runs every object,
    and most intervals change nothing; rebuilding and comparing is most of a no-change
    reconcile's cost. Solution: remember the inputs of the last successful apply (artifact
    digest, generation, substitution sources' resourceVersions) and the resourceVersion each
    object had after it. When all are unchanged, the build and the dry-runs would give the same
    result, all unchanged, so that result is used. Any write to any of the objects (a drift), or
    its deletion, changes its resourceVersion, and the full build and dry-run run again.
    """

    inputs: tuple[object, ...]
    objects: tuple[tuple[refs.ObjectRef, str | None], ...]
    digest: str
    applied: changeset.ChangeSet


@dataclass(slots=True)
class _State:
    """What the controller keeps about a Kustomization between reconciles."""

    origin: str | None = None
    """The origin revision of the artifact the current reconcile works on (`applier.State`)."""
    applied: _AppliedSet | None = None
    """The last successful apply, while its inputs and objects are unchanged."""


@dataclass(slots=True)
class _Work(applier.Work):
    """One reconcile of a Kustomization, step to step."""

    artifact: artifacts.Artifact | None = None
    was_healthy: bool = False
    new_revision: bool = False
    inputs: tuple[object, ...] = ()
    rendered: render.Rendered | None = None
    """What was built this time (None when the last apply is repeated as it was)."""
    applied: changeset.ChangeSet = field(default_factory=lambda: changeset.ChangeSet([]))


def _work(ctx: kernel.Context[api.KustomizationSpec, _State]) -> _Work:
    work = ctx.work
    assert isinstance(work, _Work)
    return work


@dataclass(slots=True)
class _Kustomizations:
    """kustomize-controller's reconcile as kernel steps, and the services they use."""

    rt: base.Runtime
    storage: Storage
    builder: build.Builder
    checks: applier.Health
    resources: manager.ResourceManager = field(init=False)

    def __post_init__(self) -> None:
        self.resources = manager.ResourceManager(self.rt.cluster, flux.KUSTOMIZE_CONTROLLER, CLEANUP_MANAGERS)
        if self.builder.siblings is None:
            self.builder.siblings = self.siblings

    def siblings(self, digest: str) -> list[tuple[str, build.Overlay]]:
        """The builds (path, overlay) of every Kustomization whose source's artifact has content
        `digest`, but those that decrypt (never built ahead) or are suspended: what the builder
        may build ahead (`apply.build`). Reads only; a spec that does not parse is left out."""
        found = []
        for obj in self.rt.cluster.read_list(flux.KUSTOMIZATION.group_kind):
            try:
                spec = declare.parse(api.KustomizationSpec, obj.get("spec") or {})
            except declare.ParseError:
                continue
            if spec.suspend or spec.decryption is not None:
                continue
            src = spec.source_ref
            ref = applier.source_ref(obj, src.kind, src.name, src.namespace, SOURCE_KINDS)
            if ref is None:
                continue
            try:
                source = self.rt.cluster.read(ref)
            except errors.NotFound:
                continue
            artifact = (source.get("status") or {}).get("artifact") or {}
            if artifact.get("digest") == digest:
                found.append((spec.path or "./", render.overlay(spec)))
        return found

    def kind(self) -> kernel.Kind[api.KustomizationSpec, _State]:
        return kernel.Kind(
            flux.KUSTOMIZATION,
            api.KustomizationSpec,
            flux.KUSTOMIZE_CONTROLLER,
            steps=(
                self.start,
                self.source,
                self.dependencies,
                self.fetch_and_build,
                self.apply,
                self.prune,
                self.health,
            ),
            interval_ms=lambda spec: duration.parse(spec.interval),
            finalize=self.finalize,
            summary=applier.AppliedSummary(),
            new_state=_State,
        )

    def watches(self) -> tuple[base.Watch, ...]:
        mapper = base.on_new_revision(self.rt.cluster, flux.KUSTOMIZATION.group_kind, _uses)
        cluster = self.rt.cluster

        def gated(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            """ExternalArtifacts are watched only with the feature gate on, as in Flux."""
            found = mapper(old, new)
            if found and flags.feature_gate(
                cluster, flux.KUSTOMIZE_CONTROLLER, EXTERNAL_ARTIFACT_GATE, default=False, absent=True
            ):
                return found
            return []

        return tuple(
            base.Watch(gvk.group_kind, gated if gvk == flux.EXTERNALARTIFACT else mapper)
            for gvk in SOURCE_KINDS.values()
        )

    def start(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """The intervals, and `healthCheckExprs` parsed (invalid: Stalled, InvalidCELExpression)."""
        spec, obj = ctx.spec, ctx.obj
        interval = _duration_ms(obj, "interval", spec.interval)
        retry = _duration_ms(obj, "retryInterval", spec.retry_interval) if spec.retry_interval else interval
        ctx.work = work = _Work(interval, retry, ctx.rt.clock.now())
        try:
            work.custom = applier.health_check_exprs(spec.health_check_exprs)
        except cel.CelError as exc:
            raise kernel.Stalling(conditions.Reason.INVALID_CEL_EXPRESSION, str(exc)) from exc

    def source(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """The source's artifact (`ArtifactFailed` when missing or of a kind not simulated)."""
        src, work = ctx.spec.source_ref, _work(ctx)
        ref = applier.source_ref(ctx.obj, src.kind, src.name, src.namespace, SOURCE_KINDS)
        if ref is None:
            raise kernel.StepError(
                conditions.Reason.ARTIFACT_FAILED, f"gitops-sim does not simulate {src.kind} sources yet"
            )
        if ref.kind == flux.EXTERNALARTIFACT.kind and not flags.feature_gate(
            ctx.rt.cluster, flux.KUSTOMIZE_CONTROLLER, EXTERNAL_ARTIFACT_GATE, default=False, absent=True
        ):
            raise applier.AccessDenied(
                f"can't access '{ref.kind}/{ref.namespace}/{ref.name}', "
                f"{EXTERNAL_ARTIFACT_GATE} feature gate is disabled"
            )
        work.artifact = applier.source_artifact(ctx, ref)
        work.revision = work.artifact.revision

    def dependencies(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """`dependsOn`: each dependency Ready for its generation (or its `readyExpr` true) and, on
        the same source, at the same revision."""
        src, revision = ctx.spec.source_ref, _work(ctx).revision
        assert revision is not None
        source = (src.kind, src.name, src.namespace or ctx.obj["metadata"]["namespace"])
        applier.check_dependencies(ctx, ctx.spec.depends_on, source, revision)

    def fetch_and_build(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """Fetch the artifact from storage and build it, unless the last apply's inputs and
        objects are unchanged (`_AppliedSet`), in which case it is repeated as it was."""
        obj, spec, work = ctx.obj, ctx.spec, _work(ctx)
        artifact = work.artifact
        assert artifact is not None
        work.was_healthy = conditions.is_true(obj, conditions.HEALTHY)
        work.new_revision = ctx.status.get("lastAppliedRevision") != artifact.revision
        message = "Reconciliation in progress"
        conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, message, now=ctx.now)
        _stage(ctx, "Fetching manifests")
        meta = obj["metadata"]
        try:
            files = render.fetch(self._files, artifact)
            _stage(ctx, "Building manifests")
            ctx.status["lastAttemptedRevision"] = artifact.revision
            work.inputs = self._inputs(obj, spec, artifact)
            last, ctx.state.applied = ctx.state.applied, None
            if (
                last is not None
                and last.inputs == work.inputs
                and all(self._rv(r) == rv for r, rv in last.objects)
            ):
                _stage(ctx, "Detecting drift")
                ctx.state.applied = last
                work.digest, work.applied = last.digest, last.applied
                return
            work.rendered = render.from_files(
                spec,
                meta["name"],
                meta["namespace"],
                artifact,
                files,
                variables=render.ClusterVariables(self.rt.cluster),
                builder=self.builder,
            )
        except render.RenderError as exc:
            raise kernel.StepError(
                exc.reason, exc.message, warn=exc.emit, retry_after_ms=exc.requeue_after
            ) from exc
        work.digest = work.rendered.digest

    def apply(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """Apply the build in stages with server-side apply; the change set as an event."""
        spec, work = ctx.spec, _work(ctx)
        rendered = work.rendered
        if rendered is None:
            return
        _stage(ctx, "Detecting drift")
        if rendered.encrypted:
            # kustomize-controller's apply refuses the whole set before writing anything.
            raise kernel.StepError(
                conditions.Reason.RECONCILIATION_FAILED,
                f"{rendered.encrypted} is SOPS encrypted, configuring decryption is required "
                "for this secret to be reconciled",
            )
        try:
            work.applied = self.resources.apply_all_staged(
                rendered.manifests,
                force=spec.force,
                ignore=tuple(drift.Rule.parse(declare.dump(rule)) for rule in spec.ignore),
                fingerprint=rendered.fingerprint,
            )
        except manager.ApplyError as exc:
            # Flux appends the change log of a partial apply, each line ending in a newline.
            done = "".join(f"{e}\n" for e in exc.changeset.changes())
            raise kernel.StepError(conditions.Reason.RECONCILIATION_FAILED, f"{exc}\n{done}") from exc
        if work.applied.changes():
            applier.event(ctx, base.EventType.NORMAL, _lines(work.applied.changes()))

    def prune(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """Record the inventory, delete what left it (with `prune`), and remember the apply."""
        work, status = _work(ctx), ctx.status
        rendered = work.rendered
        if rendered is None:
            return
        old_entries = (status.get("inventory") or {}).get("entries") or []
        new_entries = inventory.from_changeset(work.applied)
        status["inventory"] = {"entries": new_entries}
        if ctx.spec.prune:
            try:
                stale = inventory.stale(old_entries, new_entries)
                pruned = self.resources.delete_all(stale, rendered.owner)
            except manager.PruneError as exc:
                # What could not be deleted stays in the inventory, so the next reconcile retries.
                survivors = {ref.inventory_id: {"id": ref.inventory_id, "v": v} for ref, v in exc.survivors}
                merged = {e["id"]: e for e in new_entries} | survivors
                status["inventory"] = {"entries": [merged[k] for k in sorted(merged)]}
                raise kernel.StepError(conditions.Reason.PRUNE_FAILED, str(exc)) from exc
            if pruned.changes():
                applier.event(ctx, base.EventType.NORMAL, _lines(pruned.changes()))
        settled = changeset.ChangeSet(
            [
                e
                if e.action == changeset.Action.SKIPPED
                else changeset.Entry(e.ref, e.version, changeset.Action.UNCHANGED)
                for e in work.applied.entries
            ]
        )
        seen = tuple((e.ref, self._rv(e.ref)) for e in work.applied.entries)
        ctx.state.applied = _AppliedSet(work.inputs, seen, rendered.digest, settled)

    def health(self, ctx: kernel.Context[api.KustomizationSpec, _State]) -> None:
        """With `wait` or `healthChecks`: the targets' kstatus, polled every 5s (`applier.Health`)."""
        obj, spec, work = ctx.obj, ctx.spec, _work(ctx)
        targets = self._health_targets(obj, spec, work.applied)
        if not targets:
            conditions.delete(obj, conditions.HEALTHY)
            return
        announce = not work.was_healthy or (work.new_revision and bool(work.applied.changes()))
        self.checks.start(ctx, targets, _timeout_ms(spec, work.interval), announce=announce)

    def _health_targets(
        self, obj: objects.RawObject, spec: api.KustomizationSpec, applied: changeset.ChangeSet
    ) -> list[refs.ObjectRef]:
        """`wait: true`: everything applied but what was skipped; otherwise `healthChecks`
        (apiVersion defaults to apps/v1; the namespace is not defaulted, as in Flux). Never the
        Kustomization itself."""
        if spec.wait:
            targets = [e.ref for e in applied.entries if e.action != changeset.Action.SKIPPED]
        else:
            targets = []
            for check in spec.health_checks:
                gvk = refs.GVK.of(check.api_version or "apps/v1", check.kind)
                targets.append(refs.ObjectRef(gvk.group, gvk.kind, check.namespace or "", check.name))
        itself = objects.ref_of(obj)
        return [t for t in targets if t != itself]

    def _inputs(
        self, obj: objects.RawObject, spec: api.KustomizationSpec, artifact: artifacts.Artifact
    ) -> tuple[object, ...]:
        """Everything a build and apply depend on besides the objects themselves: the artifact,
        the spec (its generation) and the resourceVersions of the substitution sources and of
        the decryption Secret."""
        namespace = obj["metadata"]["namespace"]
        sources = tuple(
            (s.kind, s.name, self._rv(refs.ObjectRef("", s.kind, namespace, s.name)))
            for s in (spec.post_build.substitute_from if spec.post_build else ())
        )
        keys = spec.decryption.secret_ref if spec.decryption else None
        if keys is not None:
            sources += (("Secret", keys.name, self._rv(refs.ObjectRef("", "Secret", namespace, keys.name))),)
        return (artifact.digest, obj["metadata"].get("generation"), sources)

    def _files(self, artifact: artifacts.Artifact) -> Mapping[str, bytes]:
        """`render.ArtifactFiles` over storage."""
        try:
            return self.storage.fetch(artifact)
        except ArtifactNotFound as exc:
            raise render.FetchError(str(exc), missing=True) from exc
        except ArtifactError as exc:
            raise render.FetchError(str(exc), missing=False) from exc

    def _rv(self, ref: refs.ObjectRef) -> str | None:
        try:
            return str(self.rt.cluster.read(ref)["metadata"].get("resourceVersion"))
        except (errors.NotFound, errors.NoKindMatch):
            return None

    def finalize(self, rt: base.Runtime, obj: objects.RawObject, state: _State) -> None:
        """On deletion, `spec.deletionPolicy` decides: MirrorPrune (the default) deletes what was
        applied when `prune` is on, Delete and WaitForTermination always, Orphan never.
        (WaitForTermination does not wait here: deletion in memory finishes at once, and on a
        real cluster objects with finalizers may outlive the Kustomization.)"""
        spec = base.typed_spec(obj, api.KustomizationSpec)
        policy = spec.deletion_policy or "MirrorPrune"
        prune = {"Delete": True, "WaitForTermination": True, "Orphan": False}.get(policy, spec.prune)
        if not prune:
            return
        entries = ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []
        meta = obj["metadata"]
        owner = render.owner_labels(meta["name"], meta["namespace"])
        ctx = kernel.Context(rt, obj, spec, {}, rt.now(), state, flux.KUSTOMIZE_CONTROLLER)
        try:
            pruned = self.resources.delete_all([inventory.parse_id(e) for e in entries], owner)
        except manager.PruneError as exc:
            # Flux keeps the finalizer and retries the garbage collection.
            applier.event(ctx, base.EventType.WARNING, "pruning for deleted resource failed")
            raise workqueue.RequeueError(str(exc)) from exc
        if pruned.changes():
            applier.event(ctx, base.EventType.NORMAL, _lines(pruned.changes()))


def _uses(ks: objects.RawObject, source: refs.ObjectRef) -> bool:
    """Whether Kustomization `ks` reads `source` (read raw: a neighbour's odd spec is not this
    reconcile's failure)."""
    src = (ks.get("spec") or {}).get("sourceRef") or {}
    ns = src.get("namespace") or ks["metadata"]["namespace"]
    return bool(src.get("kind") == source.kind and src.get("name") == source.name and ns == source.namespace)


def _stage(ctx: kernel.Context[api.KustomizationSpec, _State], doing: str) -> None:
    """Reconciling=True naming the stage ("Fetching manifests", "Building manifests", ...)."""
    work = _work(ctx)
    timeout = duration.format(_timeout_ms(ctx.spec, work.interval))
    message = f"{doing} for revision {work.revision} with a timeout of {timeout}"
    conditions.mark_true(ctx.obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=ctx.now)


def _lines(entries: list[changeset.Entry]) -> str:
    return "\n".join(str(e) for e in entries)


def _duration_ms(obj: objects.RawObject, name: str, raw: str) -> int:
    try:
        return duration.parse(raw)
    except duration.DurationError as exc:
        raise base.InvalidSpec(f"{objects.ref_of(obj)}: spec.{name}: {exc}") from exc


def _timeout_ms(spec: api.KustomizationSpec, interval: int) -> int:
    """Flux's GetTimeout: `spec.timeout`, else the interval less 30s; never under 30s."""
    timeout = duration.parse(spec.timeout) if spec.timeout else interval - 30_000
    return max(timeout, 30_000)


def reconciler(
    rt: base.Runtime,
    storage: Storage,
    builder: build.Builder,
    reconciled: frozenset[refs.GroupKind] = SIMULATED_KINDS,
    *,
    fail_fast: bool = True,
) -> kernel.Reconciler[api.KustomizationSpec, _State]:
    """The Kustomization controller on the kernel."""
    steps = _Kustomizations(rt, storage, builder, applier.Health(reconciled, fail_fast))
    return kernel.Reconciler(rt, steps.kind(), steps.watches())


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def builder(self) -> build.Builder: ...
    @property
    def reconciled(self) -> frozenset[refs.GroupKind]: ...


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.storage, services.builder, services.reconciled)


registry.register(
    registry.Entry(
        "kustomization", flux.KUSTOMIZATION.group_kind, _build, order=60, component=flux.KUSTOMIZE_CONTROLLER
    )
)
