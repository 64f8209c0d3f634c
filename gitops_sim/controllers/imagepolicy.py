"""ImagePolicy (image.toolkit.fluxcd.io/v1): the latest tag of an ImageRepository's scan, by policy.

Provenance: behaviour of image-reflector-controller internal/controller/imagepolicy_controller.go
(`reconcile`, `getImageRepository`, `applyPolicy`, `updateImageRefs`,
`composeImagePolicyReadyMessage`, the watch on ImageRepository scans), api/v1
imagepolicy_types.go, and fluxcd/pkg runtime/acl (`HasAccessToRef`); our own code.

Steps, on the reconcile kernel:
1. Flux's preamble; `digestReflectionPolicy: Always` without `interval` stalls
   (`IntervalNotConfigured`); "reconciliation in progress" (and "processing object: new
   generation <a> -> <b>") as `ProgressiveStatus`;
2. the ImageRepository (`imageRepositoryRef`, its namespace defaulting to the policy's): missing,
   Ready=False `DependencyNotReady` "failed to get the referred ImageRepository: referenced
   ImageRepository does not exist: ..."; in another namespace, allowed only by its `accessFrom`
   (else `AccessDenied`, fluxcd/pkg's words); its image must parse (else Stalled `ImageURLInvalid`);
3. the policy over the tags in the controller's tag database (`images.policy.select`): an invalid
   policy or pattern stalls (`InvalidPolicy`); no tags in the database is `DependencyNotReady`
   "retrying in 30s error: no tags in database", requeued after 30s; no tag chosen is Ready=False
   `Failure` with Flux's message;
4. `status.latestRef` (the repository's image, the tag, the digest when `digestReflectionPolicy`
   asks for it: `IfNotPresent` keeps a digest it has for the same tag, `Always` resolves it every
   time), and `observedPreviousRef` when the ref changed.

The summary is fluxcd/pkg's result finalizer (`reconcile.result.FinalizedSummary`): Ready=True
`Succeeded` "Latest image tag for <image> resolved to <tag>[ with digest <d>][ (previously
<ref>)]"; an unchanged success sends that message again as Flux's trace event (a Normal
event); a success requeues after `interval` (none when unset: the policy then follows its
repository's scans and its own changes only).

Differences, on purpose: Flux retries an empty tag database inside the reconcile (four tries
over about five seconds) before reporting it; here it is reported at once. The digest is resolved
with the repository's `secretRef` only (no cloud provider credentials).

Callers: the engine (the registry entry at the bottom). Never imports another controller; reads
tags only from the tag database, digests only through `sources.oci`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops_sim.cluster import errors
from gitops_sim.images import policy as policies
from gitops_sim.images import tags as tagdb
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import image as api
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.reconcile import result as finalizer
from gitops_sim.sources import oci

CONTROLLER = "image-reflector-controller"
ACCESS_DENIED = "AccessDenied"
IMAGE_URL_INVALID = "ImageURLInvalid"
DEPENDENCY_REQUEUE_MS = flux.REQUEUE_DEPENDENCY_MS


@dataclass(slots=True)
class _State:
    """Nothing survives between reconciles but the status."""


@dataclass(slots=True)
class _Work:
    next_ms: int
    result: finalizer.Result = field(default_factory=finalizer.Result)
    ready_message: str = ""
    repository: objects.RawObject | None = None

    @property
    def trace_message(self) -> str:
        """image-reflector-controller's trace event of an unchanged policy: its Ready message."""
        return self.ready_message


def _work(ctx: kernel.Context[api.ImagePolicySpec, _State]) -> _Work:
    work = ctx.work
    assert isinstance(work, _Work)
    return work


def _interval_ms(spec: api.ImagePolicySpec) -> int:
    return duration.parse(spec.interval) if spec.interval else 0


@dataclass(slots=True)
class _ImagePolicies:
    rt: base.Runtime
    client: oci.RegistryClient
    database: tagdb.TagDatabase

    def kind(self) -> kernel.Kind[api.ImagePolicySpec, _State]:
        return kernel.Kind(
            flux.IMAGEPOLICY,
            api.ImagePolicySpec,
            CONTROLLER,
            steps=(self.start, self.repository, self.select),
            interval_ms=_interval_ms,
            finalize=lambda rt, obj, state: None,
            summary=finalizer.FinalizedSummary(),
            new_state=_State,
        )

    def watches(self) -> tuple[base.Watch, ...]:
        """A new scan (`lastScanResult.revision`) of an ImageRepository enqueues its policies."""

        def mapper(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            if new is None:
                return []
            before = ((old or {}).get("status") or {}).get("lastScanResult") or {}
            after = (new.get("status") or {}).get("lastScanResult") or {}
            if before.get("revision") == after.get("revision"):
                return []
            repo = objects.ref_of(new)
            return [
                objects.ref_of(p)
                for p in self.rt.cluster.list(flux.IMAGEPOLICY.group_kind)
                if _repository_ref(p) == repo
            ]

        return (base.Watch(flux.IMAGEREPOSITORY.group_kind, mapper),)

    def start(self, ctx: kernel.Context[api.ImagePolicySpec, _State]) -> None:
        spec = ctx.spec
        ctx.work = _Work(_interval_ms(spec))
        if spec.digest_reflection_policy == "Always" and not spec.interval:
            message = policies.INTERVAL_NOT_CONFIGURED_MESSAGE
            reason = policies.INTERVAL_NOT_CONFIGURED_REASON
            conditions.mark_stalled(ctx.obj, reason, message, now=ctx.now)
            raise kernel.Stalling(reason, message)
        finalizer.begin(ctx.obj, ctx.before, ctx.generation, now=ctx.now)

    def repository(self, ctx: kernel.Context[api.ImagePolicySpec, _State]) -> None:
        """`getImageRepository`, with fluxcd/pkg's cross-namespace rule, and its image."""
        ref = _repository_ref(ctx.obj)
        prefix = "failed to get the referred ImageRepository: "
        try:
            repo = self.rt.cluster.read(ref)
        except errors.NotFound as exc:
            message = f"{prefix}referenced ImageRepository does not exist: {exc.message}"
            reason = policies.DEPENDENCY_NOT_READY_REASON
            conditions.mark_false(ctx.obj, conditions.READY, reason, message, now=ctx.now)
            raise kernel.StepError(reason, message) from exc
        denied = self._access_denied(ctx.obj, ref, repo)
        if denied is not None:
            message = f"{prefix}access denied: {denied}"
            conditions.mark_false(ctx.obj, conditions.READY, ACCESS_DENIED, message, now=ctx.now)
            raise kernel.StepError(ACCESS_DENIED, message)
        try:
            tagdb.parse_image(str((repo.get("spec") or {}).get("image", "")))
        except tagdb.ImageError as exc:
            conditions.mark_stalled(ctx.obj, IMAGE_URL_INVALID, str(exc), now=ctx.now)
            raise kernel.Stalling(IMAGE_URL_INVALID, str(exc)) from exc
        _work(ctx).repository = repo

    def _access_denied(
        self, obj: objects.RawObject, ref: refs.ObjectRef, repo: objects.RawObject
    ) -> str | None:
        """fluxcd/pkg `HasAccessToRef`: why the policy may not read a repository in another
        namespace, or None."""
        namespace = obj["metadata"]["namespace"]
        if ref.namespace == namespace:
            return None
        access = (repo.get("spec") or {}).get("accessFrom")
        if not access:
            return f"'{ref.namespace}/{ref.name}' can't be accessed due to missing ACL labels on 'accessFrom'"
        try:
            labels = objects.labels_of(self.rt.cluster.read(refs.ObjectRef("", "Namespace", "", namespace)))
        except errors.NotFound as exc:
            return exc.message
        for selector in access.get("namespaceSelectors") or ():
            wanted = (selector or {}).get("matchLabels") or {}
            if all(labels.get(k) == v for k, v in wanted.items()):
                return None
        return (
            f"'{ref.namespace}/{ref.name}' can't be accessed due to ACL labels mismatch on namespace "
            f"'{namespace}'"
        )

    def select(self, ctx: kernel.Context[api.ImagePolicySpec, _State]) -> None:
        """`applyPolicy` and `updateImageRefs`."""
        work, spec, status = _work(ctx), ctx.spec, ctx.status
        repo = work.repository
        assert repo is not None
        canonical = str((repo.get("status") or {}).get("canonicalImageName") or "")
        try:
            chosen = policies.select(self.database.tags(canonical), spec)
        except policies.PolicyError as exc:
            if exc.stalled:
                conditions.mark_stalled(ctx.obj, exc.reason, exc.message, now=ctx.now)
                raise kernel.Stalling(exc.reason, exc.message) from exc
            if exc.reason == policies.DEPENDENCY_NOT_READY_REASON:
                message = policies.no_tags_message(DEPENDENCY_REQUEUE_MS)
                conditions.mark_false(ctx.obj, conditions.READY, exc.reason, message, now=ctx.now)
                raise kernel.Waiting(exc.reason, message, retry_after_ms=DEPENDENCY_REQUEUE_MS) from exc
            conditions.mark_false(ctx.obj, conditions.READY, exc.reason, exc.message, now=ctx.now)
            raise kernel.StepError(exc.reason, exc.message) from exc
        image = str(repo["spec"]["image"])
        old = status.get("latestRef")
        digest = ""
        policy = spec.digest_reflection_policy
        if policy == "IfNotPresent" and old and (old.get("name"), old.get("tag")) == (image, chosen.tag):
            digest = str(old.get("digest") or "")
        if policy == "Always" or (policy == "IfNotPresent" and not digest):
            digest = self._digest(ctx, repo, image, chosen.tag)
        latest: dict[str, Any] = {"name": image, "tag": chosen.tag, **({"digest": digest} if digest else {})}
        if old != latest:
            if old:
                status["observedPreviousRef"] = old
            status["latestRef"] = latest
        previous = status.get("observedPreviousRef")
        work.ready_message = policies.ready_message(
            declare.parse(api.ImageRef, status["latestRef"]),
            declare.parse(api.ImageRef, previous) if previous else None,
        )
        conditions.delete(ctx.obj, conditions.READY)
        work.result = finalizer.Result(requeue_after_ms=work.next_ms)

    def _digest(
        self, ctx: kernel.Context[api.ImagePolicySpec, _State], repo: objects.RawObject, image: str, tag: str
    ) -> str:
        """The digest of `image:tag` from its registry, with the repository's credentials."""
        parsed = tagdb.parse_image(image)
        spec = repo.get("spec") or {}
        auth = None
        secret_name = (spec.get("secretRef") or {}).get("name")
        try:
            if secret_name:
                secret = self.rt.cluster.read(
                    refs.ObjectRef("", "Secret", repo["metadata"]["namespace"], secret_name)
                )
                auth = oci.docker_config_auth(objects.secret_data(secret), parsed.registry)
            return self.client.resolve(
                parsed.registry, parsed.repository, tag, insecure=bool(spec.get("insecure")), auth=auth
            )
        except (errors.ApiError, oci.RegistryError, ValueError) as exc:
            message = f"failed fetching digest of {image}:{tag}: {exc}"
            conditions.mark_false(ctx.obj, conditions.READY, policies.FAILURE_REASON, message, now=ctx.now)
            raise kernel.StepError(policies.FAILURE_REASON, message) from exc


def _repository_ref(policy: objects.RawObject) -> refs.ObjectRef:
    ref = (policy.get("spec") or {}).get("imageRepositoryRef") or {}
    namespace = ref.get("namespace") or policy["metadata"]["namespace"]
    return refs.ObjectRef(flux.IMAGE_GROUP, flux.IMAGEREPOSITORY.kind, namespace, str(ref.get("name", "")))


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def image_tags(self) -> tagdb.TagDatabase: ...
    def oci_client(self) -> oci.RegistryClient: ...


def reconciler(
    rt: base.Runtime, client: oci.RegistryClient, database: tagdb.TagDatabase
) -> kernel.Reconciler[api.ImagePolicySpec, _State]:
    """The ImagePolicy controller on the kernel."""
    steps = _ImagePolicies(rt, client, database)
    return kernel.Reconciler(rt, steps.kind(), steps.watches())


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.oci_client(), services.image_tags)


registry.register(
    registry.Entry(
        "imagepolicy", flux.IMAGEPOLICY.group_kind, _build, order=81, component="image-reflector-controller"
    )
)
