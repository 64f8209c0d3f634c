"""GitRepository (source.toolkit.fluxcd.io/v1): fetch a branch and publish it as an artifact.

Provenance: behaviour of source-controller `internal/controller/gitrepository_controller.go`
(reconcileSource, reconcileArtifact, summarize) and fluxcd/pkg `runtime/reconcile` (the kstatus
pattern); our own code.

Steps: Flux's preamble; mark a new generation as progressing; resolve the branch head on the
remote; when it is a revision not yet in storage, archive the tree (default ignore rules
applied) as ``<sha>.tar.gz``, set `status.artifact` and `ArtifactInStorage`, emit `NewArtifact`,
and garbage-collect older artifacts; finally summarise Ready from the other conditions and requeue
after `spec.interval`. A failing fetch sets `FetchFailed` and `Ready=False` (reason
`GitOperationFailed`), keeps `Reconciling` with reason `ProgressingWithRetry`, emits a Warning
event, and returns an error, so the work queue retries with backoff.

Not yet modelled (issue 5): refs other than `branch` (tag, semver, name, commit give
Ready=False saying so), `ignore` and `.sourceignore`, `include`, `secretRef`, `timeout`, verify.
Reconciles take no virtual time.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from gitops_sim.controllers import base
from gitops_sim.model import artifacts as artifacts_model
from gitops_sim.model import conditions, flux, objects, refs
from gitops_sim.sources import git
from gitops_sim.storage import Storage
from gitops_sim.timing import workqueue

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
ARTIFACT_OUTDATED = "ArtifactOutdated"
FETCH_FAILED = "FetchFailed"
GIT_OPERATION_FAILED = "GitOperationFailed"
NEW_ARTIFACT = "NewArtifact"

# source-controller `pkg/artifact/storage` default excludes, in .gitignore syntax.
DEFAULT_EXCLUDES = (
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
)


def excluded(path: str, patterns: tuple[str, ...] = DEFAULT_EXCLUDES) -> bool:
    parts = path.split("/")
    for pattern in patterns:
        pat = pattern.removeprefix("**/")
        if pat.endswith("/"):
            if pat[:-1] in parts[:-1]:
                return True
        elif any(fnmatch.fnmatchcase(part, pat) for part in parts):
            return True
    return False


class FetchError(workqueue.RequeueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class GitRepositoryReconciler:
    rt: base.Runtime
    upstream: git.GitUpstream
    storage: Storage
    name: str = flux.SOURCE_CONTROLLER
    gvk: refs.GVK = flux.GITREPOSITORY

    def watches(self) -> list[base.Watch]:
        return []

    def reconcile(self, ref: refs.ObjectRef) -> base.Result:
        try:
            obj = base.begin(self.rt, ref, self.name, self._finalize)
        except base.Done as done:
            return done.result
        was_ready = conditions.get(obj, conditions.READY)
        now = self.rt.now()
        generation = int(obj["metadata"].get("generation", 0))
        observed = int(base.status(obj).get("observedGeneration", -1))
        if generation != observed:
            self._progressing(obj, f"processing object: new generation {observed} -> {generation}", now)
        try:
            new_artifact = self._reconcile_source(obj, now)
        except FetchError as exc:
            conditions.mark_true(obj, FETCH_FAILED, exc.reason, exc.message, now=now)
            conditions.mark_false(obj, conditions.READY, exc.reason, exc.message, now=now)
            conditions.mark_retrying(obj, now=now)
            base.patch_status(self.rt, obj, self.name)
            self.rt.recorder.event(
                obj, type=base.EventType.WARNING, reason=exc.reason, message=exc.message, controller=self.name
            )
            raise
        message = conditions.get(obj, ARTIFACT_IN_STORAGE)
        assert message is not None
        conditions.mark_true(obj, conditions.READY, conditions.Reason.SUCCEEDED, message["message"], now=now)
        conditions.delete(obj, conditions.RECONCILING)
        base.status(obj)["observedGeneration"] = generation
        base.patch_status(self.rt, obj, self.name)
        artifact = base.status(obj)["artifact"]
        meta = {
            f"{flux.SOURCE_GROUP}/revision": artifact["revision"],
            f"{flux.SOURCE_GROUP}/digest": artifact["digest"],
        }
        if new_artifact is not None:
            self.rt.recorder.event(
                obj,
                type=base.EventType.NORMAL,
                reason=NEW_ARTIFACT,
                message=new_artifact,
                controller=self.name,
                metadata=meta,
            )
        elif was_ready is not None and was_ready.get("status") == conditions.Status.FALSE:
            self.rt.recorder.event(
                obj,
                type=base.EventType.NORMAL,
                reason=conditions.Reason.SUCCEEDED,
                message=message["message"],
                controller=self.name,
                metadata=meta,
            )
        return base.Result(requeue_after=base.interval_ms(obj))

    def _progressing(self, obj: objects.RawObject, message: str, now: str) -> None:
        """fluxcd/pkg ProgressiveStatus: Reconciling=True; Ready=Unknown unless Ready is already decided."""
        conditions.mark_true(obj, conditions.RECONCILING, conditions.Reason.PROGRESSING, message, now=now)
        ready = conditions.get(obj, conditions.READY)
        if ready is None or ready.get("status") == conditions.Status.UNKNOWN:
            conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, message, now=now)

    def _reconcile_source(self, obj: objects.RawObject, now: str) -> str | None:
        """Fetch and store; returns the NewArtifact event message when a new artifact was stored."""
        spec = base.spec(obj)
        ref: dict[str, Any] = spec.get("ref") or {}
        unsupported = [k for k in ("commit", "name", "semver", "tag") if ref.get(k)]
        if unsupported:
            raise FetchError(
                GIT_OPERATION_FAILED,
                f"gitops-sim does not simulate spec.ref.{unsupported[0]} yet: use spec.ref.branch",
            )
        branch = str(ref.get("branch") or flux.DEFAULT_GIT_BRANCH)
        url = str(spec.get("url", ""))
        try:
            commit = self.upstream.resolve_branch(url, branch)
        except git.GitError as exc:
            raise FetchError(GIT_OPERATION_FAILED, str(exc)) from exc
        conditions.delete(obj, FETCH_FAILED)
        revision = f"{branch}@sha1:{commit.sha}"
        status = base.status(obj)
        current = status.get("artifact")
        if (
            current
            and current.get("revision") == revision
            and self.storage.exists(artifacts_model.Artifact.from_status(current))
        ):
            conditions.delete(obj, ARTIFACT_OUTDATED)
            return None
        progress = f"building artifact: new upstream revision '{revision}'"
        if current:
            conditions.mark_true(
                obj, ARTIFACT_OUTDATED, "NewRevision", f"new upstream revision '{revision}'", now=now
            )
            self._progressing(obj, progress, now)
            conditions.mark_unknown(obj, conditions.READY, conditions.Reason.PROGRESSING, progress, now=now)
        else:
            self._progressing(obj, "building artifact", now)
        files = {p: c for p, c in self.upstream.tree(url, commit.sha).items() if not excluded(p)}
        meta = obj["metadata"]
        artifact = self.storage.store(
            self.gvk.kind,
            meta["namespace"],
            meta["name"],
            f"{commit.sha}.tar.gz",
            files,
            revision=revision,
            now=now,
        )
        self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep=artifact.path)
        status["artifact"] = artifact.to_status()
        conditions.delete(obj, ARTIFACT_OUTDATED)
        conditions.mark_true(
            obj,
            ARTIFACT_IN_STORAGE,
            conditions.Reason.SUCCEEDED,
            f"stored artifact for revision '{revision}'",
            now=now,
        )
        subject = commit.subject if len(commit.subject) <= 50 else commit.subject[:50] + "..."
        return f"stored artifact for commit '{subject}'"

    def _finalize(self, obj: objects.RawObject) -> None:
        meta = obj["metadata"]
        self.storage.garbage_collect(self.gvk.kind, meta["namespace"], meta["name"], keep="")
