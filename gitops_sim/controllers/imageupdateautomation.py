"""ImageUpdateAutomation (image.toolkit.fluxcd.io/v1): rewrite the image references marked in a
Git repository to the images ImagePolicies chose, commit and push.

Provenance: behaviour of image-automation-controller internal/controller/
imageupdateautomation_controller.go (`reconcile`, `getPolicies`, `observedPoliciesChanged`,
`notify`, the watches and predicate.go), internal/source (source.go `NewSourceManager`,
`CheckoutSource`, `CommitAndPush`, `templateMsg`, `PushResult.Summary`; git.go
`buildGitConfig`, `configurePush`), internal/policy/applier.go, fluxcd/pkg git/gogit (clone,
`SwitchBranch`, `Push`) and runtime/reconcile; our own code.

Steps, on the reconcile kernel:
1. `lastAutomationRunTime`, then "reconciliation in progress" (and "processing object: new
   generation <a> -> <b>") as `ProgressiveStatus`;
2. the policies: the namespace's ImagePolicies that match `policySelector` and have a
   `latestRef` (a selector that does not parse stalls, `InvalidPolicySelector`); what they chose
   is compared with `status.observedPolicies`: a change asks for a full run;
3. the source manager: `sourceRef` must be a GitRepository and `spec.git` set (else Stalled
   `InvalidSourceConfiguration`); the GitRepository, its `secretRef` (basic auth or bearer
   token), its `timeout` (default 1m), the checkout ref (`git.checkout.ref`, else the
   GitRepository's `ref`, else `master`) and the push branch (`git.push.branch`, else the
   checkout branch; neither is Ready=False `SourceManagerFailed` "failed configuring source
   manager: push spec not provided, ..."); pushing to another branch, or a refspec, always asks
   for a full run;
4. the checkout (`sources.gitrefs`, fluxcd/pkg's words behind "failed to checkout source: ",
   `GitOperationFailed`); when no full run is asked for and a branch or tag still points at
   `observedSourceRevision`, the run ends there (Flux's optimized clone); pushing to another
   branch works on that branch's head when it exists (the `GitAllBranchReferences` gate, on by
   default), else on the checked out commit;
5. the update (`images.setters`) of the files under `update.path` (joined to the root as
   securejoin does: `..` cannot leave it); a failure is `UpdateFailed` "failed to apply policies:
   ..."; no change ends the run with the observations recorded;
6. the commit and push: the message from `git.commit.messageTemplate` (`images.message`, Go's
   text/template with Sprig's hermetic functions; a template using the removed `.Updated` or
   `.Changed.ImageResult` stalls, `RemovedTemplateField`), the author with the clock's time, a
   push to the branch (forced when it is another branch than the checkout's: the
   `GitForcePushBranch` gate) and then to `git.push.refspec`, with `git.push.options`; a push
   refused as non-fast-forward (someone pushed between checkout and push) is retried from the
   checkout on the new head, up to `PUSH_ATTEMPTS` times (Flux 2.10 retries rejected pushes);
   other failures are `GitOperationFailed` "failed to update source: failed to push to remote:
   ...". Then `observedSourceRevision` (`<branch>@sha1:<pushed>`, or the checked out revision
   when pushing elsewhere), `observedPolicies`, `lastPushCommit`, `lastPushTime`.

The summary is fluxcd/pkg's result finalizer (`reconcile.result.FinalizedSummary`), Ready=True
`Succeeded` "repository up-to-date", with the controller's own `notify`: a push is a Normal
event with `PushResult.Summary` ("pushed commit '<short>' to branch '<branch>'\n<message>"); a
failure a Warning; a run that changed nothing the trace event "no change since last
reconciliation" (or the Ready message after a full run).

Watches (as predicate.go): a GitRepository's new generation enqueues the automations that refer
to it; an ImagePolicy's new `latestRef` enqueues every automation of its namespace.

`spec.policyChangeDelay` (Flux 2.10; no source was at hand, so this is our reading of its
release note): a change of the policies' choices first seen by a run waits that long, from the
run that saw it, before the repository is updated, so that several policies moving together make
one commit; the waiting run ends Ready as it was, with the trace event "waiting <d> for image
policy changes to settle" (our words).

Differences, on purpose: commits are not signed (`git.commit.signingKey` is accepted and
ignored: the simulation's git has no keys to sign with); `serviceAccountName`, providers and
`proxySecretRef` of the GitRepository are not honoured; the number of push attempts and the
retry happening within one reconcile are ours (Flux 2.10's are not documented). Reconciles take
no virtual time.

Callers: the engine (the registry entry at the bottom). Never imports another controller; reaches
Git only through the `_Git` protocol (`sources.githttp.GitHttpClient`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops_sim.cluster import errors, selectors
from gitops_sim.images import message as messages
from gitops_sim.images import setters
from gitops_sim.model import archives, conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import image as api
from gitops_sim.model.fluxapi import source as sourceapi
from gitops_sim.reconcile import base, kernel, registry
from gitops_sim.reconcile import result as finalizer
from gitops_sim.sources import githttp, gitrefs

CONTROLLER = "image-automation-controller"
READY_MESSAGE = "repository up-to-date"
NO_CHANGE_MESSAGE = "no change since last reconciliation"
INVALID_POLICY_SELECTOR = "InvalidPolicySelector"
INVALID_SOURCE_CONFIGURATION = "InvalidSourceConfiguration"
SOURCE_MANAGER_FAILED = "SourceManagerFailed"
GIT_OPERATION_FAILED = "GitOperationFailed"
UPDATE_FAILED = "UpdateFailed"
INVALID_UPDATE_STRATEGY = "InvalidUpdateStrategy"
REMOVED_TEMPLATE_FIELD = "RemovedTemplateField"
DEFAULT_TIMEOUT_MS = 60_000
PUSH_ATTEMPTS = 3
"""How many times one run pushes before a non-fast-forward rejection is reported (ours)."""

_STALE = {
    INVALID_POLICY_SELECTOR: (INVALID_POLICY_SELECTOR,),
    "source": ("AccessDenied", INVALID_SOURCE_CONFIGURATION, SOURCE_MANAGER_FAILED, "FeatureGateDisabled"),
    GIT_OPERATION_FAILED: (GIT_OPERATION_FAILED,),
    UPDATE_FAILED: (INVALID_UPDATE_STRATEGY, UPDATE_FAILED),
}
"""The Ready=False reasons each stage clears (to Unknown "reconciliation in progress") once it
has passed, as the Go reconcile does after each stage."""


class _Git(Protocol):
    """What the automation needs of a Git client (`sources.githttp.GitHttpClient`)."""

    def list_refs(
        self, url: str, credentials: githttp.Credentials | None = None, timeout_s: float = ...
    ) -> dict[str, str]: ...

    def files_containing(
        self,
        url: str,
        sha: str,
        needle: str,
        credentials: githttp.Credentials | None = None,
        timeout_s: float = ...,
    ) -> dict[str, bytes]: ...

    def push_commit(
        self,
        url: str,
        parent: str,
        changes: Mapping[str, bytes | None],
        *,
        message: str,
        author: tuple[str, str],
        when_s: int,
        branch: str,
        force: bool = False,
        refspecs: tuple[str, ...] = (),
        options: Mapping[str, str] | None = None,
        credentials: githttp.Credentials | None = None,
        timeout_s: float = ...,
    ) -> str: ...


@dataclass(slots=True)
class _State:
    """What survives between runs: when a change of the policies' choices was first seen (for
    `policyChangeDelay`)."""

    change_seen_ms: int | None = None


@dataclass(frozen=True, slots=True)
class _Push:
    """`PushResult`: what was pushed where."""

    commit: str
    branch: str
    refspecs: tuple[str, ...]
    message: str

    def summary(self) -> str:
        text = f"pushed commit '{self.commit[:7]}' to branch '{self.branch}'"
        if self.refspecs:
            text += " and refspecs '" + "', '".join(self.refspecs) + "'"
        return f"{text}\n{self.message}" if self.message else text


@dataclass(slots=True)
class _Work:
    next_ms: int
    result: finalizer.Result = field(default_factory=finalizer.Result)
    ready_message: str = READY_MESSAGE
    trace_message: str = ""
    sync_needed: bool = False
    policies: dict[setters.PolicyName, api.ImageRef] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    credentials: githttp.Credentials | None = None
    timeout_s: float = DEFAULT_TIMEOUT_MS / 1000
    checkout_ref: gitrefs.Ref | None = None
    push_branch: str = ""
    switch_branch: bool = False
    revision: str = ""
    commit: str = ""
    push: _Push | None = None


def _work(ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> _Work:
    work = ctx.work
    assert isinstance(work, _Work)
    return work


def _interval_ms(spec: api.ImageUpdateAutomationSpec) -> int:
    return duration.parse(spec.interval)


def _progressing_again(ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], stage: str) -> None:
    """A stage passed: a Ready=False left by its failure last time becomes Unknown again."""
    ready = conditions.get(ctx.obj, conditions.READY)
    if ready is not None and ready.get("status") == "False" and ready.get("reason") in _STALE[stage]:
        conditions.mark_unknown(
            ctx.obj, conditions.READY, finalizer.PROGRESSING, finalizer.IN_PROGRESS, now=ctx.now
        )


def _fail(
    ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], reason: str, message: str
) -> kernel.StepError:
    conditions.mark_false(ctx.obj, conditions.READY, reason, message, now=ctx.now)
    return kernel.StepError(reason, message)


def _stall(
    ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], reason: str, message: str
) -> kernel.Stalling:
    conditions.mark_stalled(ctx.obj, reason, message, now=ctx.now)
    return kernel.Stalling(reason, message)


def _image_ref(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An `ImageRef` as the status stores it (digest omitted when empty)."""
    ref = {"name": str(raw.get("name", "")), "tag": str(raw.get("tag", ""))}
    if raw.get("digest"):
        ref["digest"] = str(raw["digest"])
    return ref


@dataclass(slots=True)
class _Automations:
    rt: base.Runtime
    git: _Git

    def kind(self) -> kernel.Kind[api.ImageUpdateAutomationSpec, _State]:
        return kernel.Kind(
            flux.IMAGEUPDATEAUTOMATION,
            api.ImageUpdateAutomationSpec,
            CONTROLLER,
            steps=(self.start, self.policies, self.source, self.checkout, self.update),
            interval_ms=_interval_ms,
            finalize=lambda rt, obj, state: None,
            summary=finalizer.FinalizedSummary(notify=_notify),
            new_state=_State,
        )

    def watches(self) -> tuple[base.Watch, ...]:
        def from_repository(
            old: objects.RawObject | None, new: objects.RawObject | None
        ) -> list[refs.ObjectRef]:
            if old is None or new is None:
                return []
            if old["metadata"].get("generation") == new["metadata"].get("generation"):
                return []
            changed = objects.ref_of(new)
            return [
                objects.ref_of(a)
                for a in self.rt.cluster.list(flux.IMAGEUPDATEAUTOMATION.group_kind, namespace=None)
                if _source_ref(a) == changed
            ]

        def from_policy(old: objects.RawObject | None, new: objects.RawObject | None) -> list[refs.ObjectRef]:
            if old is None or new is None:
                return []
            after = (new.get("status") or {}).get("latestRef")
            if not after or (old.get("status") or {}).get("latestRef") == after:
                return []
            namespace = new["metadata"]["namespace"]
            return [
                objects.ref_of(a)
                for a in self.rt.cluster.list(flux.IMAGEUPDATEAUTOMATION.group_kind, namespace=namespace)
            ]

        return (
            base.Watch(flux.GITREPOSITORY.group_kind, from_repository),
            base.Watch(flux.IMAGEPOLICY.group_kind, from_policy),
        )

    def start(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> None:
        interval = _interval_ms(ctx.spec)
        ctx.work = _Work(interval)
        ctx.status["lastAutomationRunTime"] = ctx.now
        finalizer.begin(ctx.obj, ctx.before, ctx.generation, now=ctx.now)

    def policies(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> None:
        """`getPolicies` and `observedPoliciesChanged`."""
        work, namespace = _work(ctx), ctx.obj["metadata"]["namespace"]
        raw_selector = (ctx.obj.get("spec") or {}).get("policySelector")
        try:
            selector = selectors.from_label_selector(raw_selector)
        except errors.ApiError as exc:
            raise _stall(
                ctx, INVALID_POLICY_SELECTOR, f"failed to parse policy selector: {exc.message}"
            ) from exc
        _progressing_again(ctx, INVALID_POLICY_SELECTOR)
        for policy in self.rt.cluster.list(flux.IMAGEPOLICY.group_kind, namespace=namespace):
            latest = (policy.get("status") or {}).get("latestRef")
            if not latest or not selectors.labels_match(selector, policy):
                continue
            name = policy["metadata"]["name"]
            work.observed[name] = _image_ref(latest)
            work.policies[setters.PolicyName(namespace, name)] = declare.parse(api.ImageRef, latest)
        previous = {k: _image_ref(v) for k, v in (ctx.before.get("observedPolicies") or {}).items()}
        work.sync_needed = previous != work.observed
        self._hold_for_delay(ctx, previous)

    def _hold_for_delay(
        self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], previous: dict[str, Any]
    ) -> None:
        """`policyChangeDelay` (see the module docstring)."""
        work, state = _work(ctx), ctx.state
        delay_text = ctx.spec.policy_change_delay
        if not work.sync_needed or not previous or not delay_text:
            state.change_seen_ms = None
            return
        now_ms = ctx.rt.clock.now()
        if state.change_seen_ms is None:
            state.change_seen_ms = now_ms
        left = duration.parse(delay_text) - (now_ms - state.change_seen_ms)
        if left <= 0:
            state.change_seen_ms = None
            return
        work.next_ms = left
        work.result = finalizer.Result(requeue_after_ms=left)
        work.trace_message = f"waiting {duration.format(left)} for image policy changes to settle"
        raise kernel.Complete

    def source(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> None:
        """`NewSourceManager`: the GitRepository, credentials, checkout ref and push branch."""
        work, spec, obj = _work(ctx), ctx.spec, ctx.obj
        kind = spec.source_ref.kind or flux.GITREPOSITORY.kind
        if kind != flux.GITREPOSITORY.kind:
            message = f"source kind '{kind}' not supported: invalid source configuration"
            raise _stall(ctx, INVALID_SOURCE_CONFIGURATION, message)
        if spec.git is None:
            message = (
                f"source kind '{flux.GITREPOSITORY.kind}' necessitates field .spec.git: "
                "invalid source configuration"
            )
            raise _stall(ctx, INVALID_SOURCE_CONFIGURATION, message)
        prefix = "failed configuring source manager: "
        ref = _source_ref(obj)
        try:
            repo = self.rt.cluster.read(ref)
        except errors.NotFound as exc:
            raise _fail(
                ctx, SOURCE_MANAGER_FAILED, f"{prefix}referenced git repository does not exist: {exc.message}"
            ) from exc
        repo_spec = declare.parse(sourceapi.GitRepositorySpec, repo.get("spec") or {})
        work.url = repo_spec.url
        work.timeout_s = (
            duration.parse(repo_spec.timeout) if repo_spec.timeout else DEFAULT_TIMEOUT_MS
        ) / 1000
        work.checkout_ref = spec.git.checkout.ref if spec.git.checkout is not None else repo_spec.ref
        checkout_branch = work.checkout_ref.branch if work.checkout_ref is not None else None
        pushed = spec.git.push.branch if spec.git.push is not None else None
        if pushed:
            work.push_branch = pushed
            work.switch_branch = pushed != (checkout_branch if work.checkout_ref is not None else "master")
        elif checkout_branch:
            work.push_branch = checkout_branch
        else:
            message = (
                f"{prefix}push spec not provided, and cannot be inferred from .spec.git.checkout.ref "
                "or GitRepository .spec.ref"
            )
            raise _fail(ctx, SOURCE_MANAGER_FAILED, message)
        if repo_spec.secret_ref is not None:
            name, namespace = repo_spec.secret_ref.name, ref.namespace
            try:
                secret = self.rt.cluster.read(refs.ObjectRef("", "Secret", namespace, name))
            except errors.NotFound as exc:
                message = f"{prefix}failed to get auth secret '{namespace}/{name}': {exc.message}"
                raise _fail(ctx, SOURCE_MANAGER_FAILED, message) from exc
            data = objects.secret_data(secret)
            work.credentials = githttp.Credentials.from_secret(data)
        _progressing_again(ctx, "source")
        if work.switch_branch or (spec.git.push is not None and spec.git.push.refspec):
            work.sync_needed = True

    def checkout(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> None:
        """`CheckoutSource`, and Flux's optimized clone when nothing asks for a full run."""
        work = _work(ctx)
        work.revision, work.commit = self._resolve(ctx)
        _progressing_again(ctx, GIT_OPERATION_FAILED)
        ref = work.checkout_ref
        by_name = ref is None or not (ref.commit or ref.name or ref.semver)
        if not work.sync_needed and by_name and ctx.before.get("observedSourceRevision") == work.revision:
            conditions.delete(ctx.obj, conditions.READY)
            work.result = finalizer.Result(requeue_after_ms=work.next_ms)
            raise kernel.Complete
        work.sync_needed = True

    def _resolve(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> tuple[str, str]:
        work = _work(ctx)
        try:
            return gitrefs.resolve(
                self.git,
                work.url,
                work.checkout_ref,
                work.credentials,
                observed=False,
                timeout_s=work.timeout_s,
            )
        except gitrefs.CheckoutError as exc:
            raise _fail(ctx, GIT_OPERATION_FAILED, f"failed to checkout source: {exc.message}") from exc

    def _base(
        self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], sha: str
    ) -> tuple[str, dict[str, bytes]]:
        """The commit the update is made on, and the files of it the Setters strategy reads at
        all (those holding the `"$imagepolicy"` token): the push branch's head when pushing to
        another branch that exists, else the checked out commit."""
        work = _work(ctx)
        try:
            if work.switch_branch:
                remote = self.git.list_refs(work.url, work.credentials, work.timeout_s)
                sha = remote.get(f"refs/heads/{work.push_branch}", sha)
            return sha, self.git.files_containing(
                work.url, sha, setters.TOKEN, work.credentials, work.timeout_s
            )
        except githttp.RemoteError as exc:
            message = f"failed to checkout source: unable to clone '{work.url}': {exc.message}"
            raise _fail(ctx, GIT_OPERATION_FAILED, message) from exc

    def update(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State]) -> None:
        """`ApplyPolicies`, then `CommitAndPush`, retried on a non-fast-forward rejection."""
        work, spec = _work(ctx), ctx.spec
        assert spec.git is not None
        if spec.update.strategy != "Setters":
            raise _stall(ctx, INVALID_UPDATE_STRATEGY, f"unsupported update strategy: {spec.update.strategy}")
        root = archives.secure_join(spec.update.path or "")
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            if attempt > 1:
                work.revision, work.commit = self._resolve(ctx)
            parent, files = self._base(ctx, work.commit)
            try:
                result = setters.update(_under(files, root), work.policies)
            except setters.UpdateError as exc:
                raise _fail(ctx, UPDATE_FAILED, f"failed to apply policies: {exc}") from exc
            _progressing_again(ctx, UPDATE_FAILED)
            if not result.files:
                self._observe(ctx)
                return
            text = self._message(ctx, result)
            changes = {posixpath.join(root, p) if root else p: data for p, data in result.files.items()}
            push = spec.git.push
            refspecs = (push.refspec,) if push is not None and push.refspec else ()
            try:
                pushed = self.git.push_commit(
                    work.url,
                    parent,
                    changes,
                    message=text,
                    author=(spec.git.commit.author.name or "", spec.git.commit.author.email),
                    when_s=(ctx.rt.clock.epoch_ms + ctx.rt.clock.now()) // 1000,
                    branch=work.push_branch,
                    force=work.switch_branch,
                    refspecs=refspecs,
                    options=push.options if push is not None else None,
                    credentials=work.credentials,
                    timeout_s=work.timeout_s,
                )
            except githttp.RemoteError as exc:
                if exc.non_fast_forward and attempt < PUSH_ATTEMPTS:
                    continue
                raise _fail(ctx, GIT_OPERATION_FAILED, f"failed to update source: {exc.message}") from exc
            _progressing_again(ctx, GIT_OPERATION_FAILED)
            work.push = _Push(pushed, work.push_branch, refspecs, text)
            self._observe(ctx, pushed)
            return

    def _message(
        self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], result: setters.Result
    ) -> str:
        spec = ctx.spec
        assert spec.git is not None
        commit = spec.git.commit
        meta = ctx.obj["metadata"]
        try:
            return messages.render(
                commit.message_template or "",
                namespace=meta["namespace"],
                name=meta["name"],
                result=result,
                values=dict(commit.message_template_values or {}),
            )
        except messages.RemovedFieldError as exc:
            raise _stall(ctx, REMOVED_TEMPLATE_FIELD, str(exc)) from exc
        except messages.MessageError as exc:
            raise _fail(ctx, GIT_OPERATION_FAILED, f"failed to update source: {exc}") from exc

    def _observe(self, ctx: kernel.Context[api.ImageUpdateAutomationSpec, _State], pushed: str = "") -> None:
        """The observations of a run that got to its end, and its success."""
        work, status = _work(ctx), ctx.status
        status["observedSourceRevision"] = (
            f"{work.push_branch}@sha1:{pushed}" if pushed and not work.switch_branch else work.revision
        )
        status["observedPolicies"] = work.observed
        if pushed:
            status["lastPushCommit"] = pushed
            status["lastPushTime"] = ctx.now
        conditions.delete(ctx.obj, conditions.READY)
        work.result = finalizer.Result(requeue_after_ms=work.next_ms)


def _under(files: Mapping[str, bytes], root: str) -> dict[str, bytes]:
    """The files under the folder `root` ("": all), by path relative to it."""
    if not root:
        return dict(files)
    prefix = root + "/"
    return {p[len(prefix) :]: data for p, data in files.items() if p.startswith(prefix)}


def _source_ref(automation: objects.RawObject) -> refs.ObjectRef:
    ref = (automation.get("spec") or {}).get("sourceRef") or {}
    namespace = ref.get("namespace") or automation["metadata"]["namespace"]
    return refs.ObjectRef(
        flux.GITREPOSITORY.group, flux.GITREPOSITORY.kind, namespace, str(ref.get("name", ""))
    )


def _notify(reconciler: kernel.Reconciler[Any, Any], ctx: kernel.Context[Any, Any]) -> None:
    """image-automation-controller's `notify`."""
    work = ctx.work
    assert isinstance(work, _Work)
    new = ctx.obj
    ready = conditions.get(new, conditions.READY) or {}
    reason, message = str(ready.get("reason", "")), str(ready.get("message", ""))
    was, now_ready = finalizer.is_ready({"status": ctx.before}), finalizer.is_ready(new)
    if work.push is not None and now_ready:
        reconciler.event(new, base.EventType.NORMAL, reason, work.push.summary())
    elif not was and now_ready:
        reconciler.event(new, base.EventType.NORMAL, reason, message)
    elif not now_ready:
        reconciler.event(new, base.EventType.WARNING, reason, message)
    else:
        trace = work.trace_message or (message if work.sync_needed else NO_CHANGE_MESSAGE)
        reconciler.event(new, base.EventType.TRACE, finalizer.SUCCEEDED, trace)


class _Services(Protocol):
    @property
    def runtime(self) -> base.Runtime: ...
    @property
    def git_client(self) -> _Git: ...


def reconciler(rt: base.Runtime, git: _Git) -> kernel.Reconciler[api.ImageUpdateAutomationSpec, _State]:
    """The ImageUpdateAutomation controller on the kernel."""
    steps = _Automations(rt, git)
    return kernel.Reconciler(rt, steps.kind(), steps.watches())


def _build(services: _Services) -> base.Reconciler:
    return reconciler(services.runtime, services.git_client)


registry.register(
    registry.Entry(
        "imageupdateautomation",
        flux.IMAGEUPDATEAUTOMATION.group_kind,
        _build,
        order=82,
        component="image-automation-controller",
    )
)
