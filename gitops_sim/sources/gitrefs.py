"""Which commit a Git reference names on a remote, as fluxcd/pkg's go-git client resolves it.

What it does: `resolve(upstream, url, ref, credentials, ...)` lists the remote's refs once and
turns a `GitRepositoryRef` into a Flux revision (`main@sha1:<id>`, `v1.0.0@sha1:<id>`,
`sha1:<id>`) and the commit to fetch. Precedence: commit > name > semver > tag > branch (default
`master`). Failures raise `CheckoutError` with fluxcd/pkg's words (`unable to clone '<url>':
couldn't find remote ref "refs/heads/x"`, `no match found for semver: <range>`, ...); each caller
puts its own prefix before them (source-controller: `failed to checkout and determine revision: `,
image-automation-controller: `failed to checkout source: `).

Provenance: behaviour of fluxcd/pkg git/gogit (clone.go: `cloneBranch`, `cloneTag`,
`cloneCommit`, `cloneSemVer`, `cloneRefName`) and source-controller's use of it; our own code.

`ref` values never reach a command line as written: branch, tag, name and semver are looked up in
the listed refs (a dict); a commit must be a full hex object id (upper-case hex is accepted and
lower-cased, as go-git's hash prints it).

Callers: the GitRepository and ImageUpdateAutomation controllers. Pure over the upstream's answers;
never reads the clock.
"""

from __future__ import annotations

from typing import Protocol

from gitops_sim.model import flux, semver
from gitops_sim.sources import githttp


class Lister(Protocol):
    """What resolving needs of a remote: its refs (`GitUpstream.list_refs`)."""

    def list_refs(
        self, url: str, credentials: githttp.Credentials | None = None, timeout_s: float = ...
    ) -> dict[str, str]: ...


class Ref(Protocol):
    """A Git reference as Flux's APIs spell it (source's `GitRepositoryRef`, and image
    automation's copy of it): any of the fields may be empty."""

    @property
    def branch(self) -> str | None: ...
    @property
    def tag(self) -> str | None: ...
    @property
    def semver(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def commit(self) -> str | None: ...


class CheckoutError(Exception):
    """A reference that cannot be resolved or a remote that cannot be listed, in fluxcd/pkg's
    words (without the caller's prefix)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def resolve(
    upstream: Lister,
    url: str,
    ref: Ref | None,
    credentials: githttp.Credentials | None,
    *,
    observed: bool,
    timeout_s: float,
) -> tuple[str, str]:
    """The revision and commit `ref` names on the remote at `url`. `observed`: the caller has
    seen a revision before, so a branch or tag is listed first (the optimized clone), which
    changes how a remote that cannot be listed is reported."""
    commit = (ref.commit if ref else "") or ""
    name = (ref.name if ref else "") or ""
    range_ = (ref.semver if ref else "") or ""
    tag = (ref.tag if ref else "") or ""
    branch = (ref.branch if ref else "") or ""
    listed_first = observed and not (commit or name or range_)
    try:
        remote = upstream.list_refs(url, credentials, timeout_s)
    except githttp.RemoteError as exc:
        if listed_first:
            raise CheckoutError(f"unable to list remote for '{url}': {exc.message}") from exc
        if exc.not_found:
            raise CheckoutError(f"unable to clone: repository not found: git repository: '{url}'") from exc
        raise CheckoutError(f"unable to clone '{url}': {exc.message}") from exc

    def lookup(refname: str) -> str:
        sha = remote.get(refname)
        if sha is None:
            raise CheckoutError(f"unable to clone '{url}': couldn't find remote ref \"{refname}\"")
        return sha

    if commit:
        if branch:
            lookup(f"refs/heads/{branch}")
        if not githttp.is_hash(commit.lower()):
            raise CheckoutError(f"unable to resolve commit object for '{commit}': object not found")
        commit = commit.lower()
        return (f"{branch}@sha1:{commit}" if branch else f"sha1:{commit}"), commit
    if name:
        if name not in remote:
            raise CheckoutError(f"unable to resolve ref '{name}' to a specific commit")
        return f"{name}@sha1:{remote[name]}", remote[name]
    if range_:
        tags = sorted(r.removeprefix("refs/tags/") for r in remote if r.startswith("refs/tags/"))
        try:
            picked = semver.highest(tags, range_)
        except semver.SemverError as exc:
            raise CheckoutError(f"semver parse error: {exc}") from exc
        if picked is None:
            raise CheckoutError(f"no match found for semver: {range_}")
        return f"{picked}@sha1:{remote['refs/tags/' + picked]}", remote["refs/tags/" + picked]
    if tag:
        return f"{tag}@sha1:{lookup('refs/tags/' + tag)}", remote["refs/tags/" + tag]
    branch = branch or flux.DEFAULT_GIT_BRANCH
    return f"{branch}@sha1:{lookup('refs/heads/' + branch)}", remote["refs/heads/" + branch]
