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
