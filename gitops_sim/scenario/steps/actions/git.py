"""Runs the git steps, `commit` and `tag` (declared in `steps.git`). Never reads the real time."""

from __future__ import annotations

from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import git as steps
from gitops_sim.scenario.steps import registry
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import git


@registry.performs(steps.Commit)
def commit(action: steps.Commit, step: schema.Step, ctx: base.Context) -> None:
    repo = ctx.repo(action.repo, step)
    if action.before_next_push:
        kwargs = {"author": action.author} if action.author else {}
        try:
            repo.race_next_push(action.files, action.message, branch=action.branch, **kwargs)
        except git.GitError as exc:
            raise base.StepFailed(step.loc, f"commit: {exc}") from exc
        branch = action.branch or repo.default_branch

        def landed(sha: str, _branch: str | None) -> None:
            files = repo.changed_files(sha)
            ctx.trace.record(
                "commit", repo=repo.url, branch=branch, sha=sha, message=action.message, files=files
            )

        repo.on_race = landed
        ctx.trace.record("commit", repo=repo.url, branch=branch, sha="", message=action.message)
        return
    sha = ctx.commit(repo, action.files, action.message, action.branch, action.author)
    if action.tag:
        _tag(repo, steps.Tag(action.repo, action.tag, sha, None), step, ctx)


@registry.performs(steps.Tag)
def tag(action: steps.Tag, step: schema.Step, ctx: base.Context) -> None:
    _tag(ctx.repo(action.repo, step), action, step, ctx)


def _tag(repo: git.Repository, action: steps.Tag, step: schema.Step, ctx: base.Context) -> None:
    target = action.target
    if target is not None and repo.head(target) is not None:
        target = repo.head(target)  # a branch name: its head
    try:
        sha = repo.tag(action.name, sha=target, message=action.message)
    except git.GitError as exc:
        raise base.StepFailed(step.loc, f"tag: {exc}") from exc
    ctx.trace.record("tag", repo=repo.url, tag=action.name, sha=sha, annotated=action.message is not None)
