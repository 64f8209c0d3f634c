"""Runs the git steps, `commit` and `tag` (declared in `steps.git`). Never reads the real time.

A commit's `sops:` files are encrypted here (`model.sops`), just before the commit: the data key
and IVs from a generator seeded by the run's seed, the step and the path, `lastmodified` from the
virtual clock, so the same scenario makes the same commits."""

from __future__ import annotations

import random

from gitops_sim.model import age, duration, sops
from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import git as steps
from gitops_sim.scenario.steps import registry
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import git


@registry.performs(steps.Commit)
def commit(action: steps.Commit, step: schema.Step, ctx: base.Context) -> None:
    repo = ctx.repo(action.repo, step)
    files = _encrypted(action, step, ctx) if action.sops else action.files
    if action.before_next_push:
        kwargs = {"author": action.author} if action.author else {}
        try:
            repo.race_next_push(files, action.message, branch=action.branch, **kwargs)
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
    sha = ctx.commit(repo, files, action.message, action.branch, action.author)
    if action.tag:
        _tag(repo, steps.Tag(action.repo, action.tag, sha, None), step, ctx)


def _encrypted(action: steps.Commit, step: schema.Step, ctx: base.Context) -> dict[str, str | bytes | None]:
    """The commit's files with its `sops:` files encrypted."""
    spec = action.sops
    assert spec is not None
    sim = ctx.sim
    stamp = duration.rfc3339(sim.clock.epoch_ms + sim.now())
    recipients = [age.parse_recipient(r) for r in spec.recipients]
    files = dict(action.files)
    for path in spec.files:
        content = files[path]
        data = content.encode() if isinstance(content, str) else content
        assert data is not None  # the parser refuses a deleted file
        rng = random.Random(f"{sim.settings.seed}/sops/{step.index}/{path}")
        try:
            files[path] = sops.encrypt(
                data, sops.format_for_path(path), recipients, rules=spec.rules, rng=rng, lastmodified=stamp
            )
        except sops.SopsError as exc:
            raise base.StepFailed(step.loc, f"commit: sops: cannot encrypt {path}: {exc.shown}") from exc
    return files


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
