"""What `explain` reads from a running simulation: the inputs of `images.explain` for one
ImageUpdateAutomation, gathered from the API, the image-reflector-controller's tag database and
the automation's Git source.

What it does: `imageupdateautomation(sim, namespace, name)` reads the automation, the ImagePolicies
of its namespace (which its `policySelector` picks), each policy's ImageRepository and the tags
its scans left in the database, and the files at the revision the automation would check out
(through the simulation's git client, as the controller does); then hands them to
`images.explain` and returns the rendered text. `for_repository(sim, url)` does it for every
automation whose GitRepository points at `url` (a failed `expect: commit` prints those).

Callers: the CLI (`gitops-sim explain`) and the scenario runner. Reads only: it never writes to
the cluster, the tag database or a repository, and never reconciles.
"""

from __future__ import annotations

from typing import Any

from gitops_sim.cluster import errors, selectors
from gitops_sim.engine import simulation
from gitops_sim.images import explain, tags
from gitops_sim.model import conditions, duration, flux, objects, refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import image as api
from gitops_sim.model.fluxapi import source as sourceapi
from gitops_sim.sources import git, githttp, gitrefs


def _ready(obj: objects.RawObject) -> explain.Ready | None:
    cond = conditions.get(obj, conditions.READY)
    if cond is None:
        return None
    return explain.Ready(
        status=str(cond.get("status", "")),
        reason=str(cond.get("reason", "")),
        message=str(cond.get("message", "")),
    )


def _selector_text(selector: dict[str, Any] | None) -> str:
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        values = ",".join(map(str, expr.get("values") or []))
        parts.append(f"{expr.get('key')} {str(expr.get('operator', '')).lower()} ({values})")
    return ",".join(parts)


def _repository(sim: simulation.Simulation, policy: objects.RawObject) -> explain.Repository | None:
    ref = (policy.get("spec") or {}).get("imageRepositoryRef") or {}
    namespace = ref.get("namespace") or policy["metadata"]["namespace"]
    try:
        repo = sim.cluster.get(
            refs.ObjectRef(flux.IMAGE_GROUP, flux.IMAGEREPOSITORY.kind, namespace, ref.get("name", ""))
        )
    except errors.NotFound:
        return None
    spec = repo.get("spec") or {}
    status = repo.get("status") or {}
    canonical = str(status.get("canonicalImageName") or "")
    scanned = bool(status.get("lastScanResult"))
    return explain.Repository(
        name=repo["metadata"]["name"],
        image=str(spec.get("image", "")),
        tags=tuple(sim.image_tags.tags(canonical)) if scanned and canonical else None,
        exclusion_list=tuple(spec.get("exclusionList") or tags.DEFAULT_EXCLUSION_LIST),
    )


def _checkout(sim: simulation.Simulation, automation: objects.RawObject) -> explain.Checkout:
    spec = declare.parse(api.ImageUpdateAutomationSpec, automation.get("spec") or {})
    ref = spec.source_ref
    namespace = ref.namespace or automation["metadata"]["namespace"]
    try:
        repo = sim.cluster.get(
            refs.ObjectRef(flux.GITREPOSITORY.group, flux.GITREPOSITORY.kind, namespace, ref.name)
        )
    except errors.NotFound as exc:
        return explain.Checkout(error=f"source not found: {exc.message}")
    repo_spec = declare.parse(sourceapi.GitRepositorySpec, repo.get("spec") or {})
    checkout = (
        spec.git.checkout.ref if spec.git is not None and spec.git.checkout is not None else repo_spec.ref
    )
    credentials = None
    if repo_spec.secret_ref is not None:
        try:
            secret = sim.cluster.get(refs.ObjectRef("", "Secret", namespace, repo_spec.secret_ref.name))
        except errors.NotFound as exc:
            return explain.Checkout(error=f"checkout failed: {exc.message}")
        data = objects.secret_data(secret)
        credentials = githttp.Credentials.from_secret(data)
    timeout_s = (duration.parse(repo_spec.timeout) if repo_spec.timeout else 60_000) / 1000
    try:
        revision, sha = gitrefs.resolve(
            sim.git_client, repo_spec.url, checkout, credentials, observed=False, timeout_s=timeout_s
        )
        files = sim.git_client.checkout(repo_spec.url, sha, credentials, timeout_s).files
    except gitrefs.CheckoutError as exc:
        return explain.Checkout(error=f"checkout failed: {exc.message}")
    except githttp.RemoteError as exc:
        return explain.Checkout(error=f"checkout failed: {exc.message}")
    return explain.Checkout(revision=revision, files=files)


def imageupdateautomation(sim: simulation.Simulation, namespace: str, name: str) -> str:
    """The explanation of one automation, as text; raises `errors.NotFound` when it does not exist."""
    automation = sim.cluster.get(
        refs.ObjectRef(flux.IMAGE_GROUP, flux.IMAGEUPDATEAUTOMATION.kind, namespace, name)
    )
    raw_spec = automation.get("spec") or {}
    status = automation.get("status") or {}
    try:
        selector: selectors.LabelSelector | None = selectors.from_label_selector(
            raw_spec.get("policySelector")
        )
    except errors.ApiError:
        selector = None  # the automation stalls on it; its Ready condition says why
    policies = []
    for policy in sim.cluster.list(flux.IMAGEPOLICY.group_kind, namespace=namespace):
        latest = (policy.get("status") or {}).get("latestRef")
        policies.append(
            explain.Policy(
                name=policy["metadata"]["name"],
                selected=selector is not None and selectors.labels_match(selector, policy),
                spec=declare.parse(api.ImagePolicySpec, policy.get("spec") or {}),
                repository=_repository(sim, policy),
                latest=declare.parse(api.ImageRef, latest) if latest else None,
                ready=_ready(policy),
            )
        )
    subject = explain.Automation(
        namespace=namespace,
        name=name,
        path=str((raw_spec.get("update") or {}).get("path") or ""),
        selector=_selector_text(raw_spec.get("policySelector")),
        suspend=bool(raw_spec.get("suspend")),
        ready=_ready(automation),
        last_push_commit=status.get("lastPushCommit"),
        last_push_time=status.get("lastPushTime"),
    )
    return explain.render(explain.explain(subject, policies, _checkout(sim, automation)))


def for_repository(sim: simulation.Simulation, url: str) -> list[str]:
    """The explanations of the automations whose GitRepository's URL is `url`."""
    key = git.host_path(url)
    out = []
    for automation in sim.cluster.list(flux.IMAGEUPDATEAUTOMATION.group_kind):
        ref = (automation.get("spec") or {}).get("sourceRef") or {}
        meta = automation["metadata"]
        namespace = ref.get("namespace") or meta["namespace"]
        try:
            repo = sim.cluster.get(
                refs.ObjectRef(
                    flux.GITREPOSITORY.group, flux.GITREPOSITORY.kind, namespace, str(ref.get("name", ""))
                )
            )
        except errors.NotFound:
            continue
        if git.host_path(str((repo.get("spec") or {}).get("url", ""))) == key:
            out.append(imageupdateautomation(sim, meta["namespace"], meta["name"]))
    return out
