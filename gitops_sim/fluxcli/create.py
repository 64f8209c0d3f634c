"""`flux create source git`, `flux create kustomization` and `flux delete`, as flux2
cmd/flux/create_source_git.go, create_kustomization.go and delete.go run them.

create builds the object from the flags (Flux's defaults: `--interval 1m0s`, the Kustomization's
`--health-check-timeout 2m0s` written as `timeout` with `--wait`), and with `--export` prints it
(`---`, then YAML with sorted keys and Go's duration strings) without touching the cluster;
otherwise it applies it (`✚ generating …`, `► applying …`, `✔ … created|updated`), waits for the
reconcile (`◎ waiting for … reconciliation`) and prints what it fetched or applied.

delete refuses without `--silent` (the CLI asks "Are you sure you want to delete this …";
nobody answers here, so it aborts), else `► deleting <kind> NAME in <ns> namespace`,
`✔ <kind> deleted`.

The image kinds (`create image repository|policy|update`) follow create.go's generic
`upsertAndWait`: `✔ <Kind> reconciliation completed`.

Differences, on purpose: `create source git` makes no credentials (`--secret-ref` names an
existing Secret; `--username`/`--password` and deploy keys are not offered); `create` of
HelmRelease, Helm/OCI/Bucket sources, Alert, Provider and Receiver is not offered yet.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from gitops_sim.cluster import errors
from gitops_sim.fluxcli import build
from gitops_sim.fluxcli import reconcile as reconciles
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import duration, flux, kstatus, objects, refs

FIELD_MANAGER = "flux-client-side-apply"


def _object(
    gvk: refs.GVK, name: str, namespace: str, labels: dict[str, str], spec: dict[str, Any]
) -> objects.RawObject:
    """The object a `create` command makes: apiVersion, kind, name, namespace, labels, spec."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": gvk.api_version, "kind": gvk.kind, "metadata": meta, "spec": spec}


def labels(pairs: list[str]) -> dict[str, str]:
    """`--label key=value` (repeatable)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise FluxError(f"invalid label format '{pair}', must be key=value")
        out[key] = value
    return out


def git_repository(
    name: str,
    namespace: str,
    *,
    url: str,
    branch: str,
    tag: str,
    semver: str,
    commit: str,
    ref_name: str,
    interval_ms: int,
    secret_ref: str,
    labels_: dict[str, str],
) -> objects.RawObject:
    if not url:
        raise FluxError("url is required")
    scheme = urlsplit(url).scheme
    if scheme not in ("ssh", "http", "https"):
        raise FluxError(f"git URL scheme '{scheme}' not supported, can be: ssh, http and https")
    if not (branch or tag or semver or commit or ref_name):
        raise FluxError(
            "a Git ref is required, use one of the following: "
            "--branch, --tag, --commit, --ref-name or --tag-semver"
        )
    ref: dict[str, str] = {}
    if commit:
        ref = {"commit": commit, **({"branch": branch} if branch else {})}
    elif ref_name:
        ref = {"name": ref_name}
    elif semver:
        ref = {"semver": semver}
    elif tag:
        ref = {"tag": tag}
    else:
        ref = {"branch": branch}
    spec: dict[str, Any] = {"interval": duration.format(interval_ms), "ref": ref, "url": url}
    if secret_ref:
        spec["secretRef"] = {"name": secret_ref}
    return _object(flux.GITREPOSITORY, name, namespace, labels_, spec)


def source_ref(text: str, namespace: str) -> dict[str, str]:
    """`--source [<kind>/]<name>[.<namespace>]` (GitRepository when no kind is given)."""
    kind, sep, rest = text.partition("/")
    if not sep:
        kind, rest = "GitRepository", text
    if kind not in ("GitRepository", "OCIRepository", "Bucket"):
        raise FluxError(
            f"source kind '{kind}' is not supported, must be one of: GitRepository, OCIRepository, Bucket"
        )
    name, _, ns = rest.partition(".")
    ref = {"kind": kind, "name": name}
    if ns and ns != namespace:
        ref["namespace"] = ns
    return ref


def kustomization(
    name: str,
    namespace: str,
    *,
    source: str,
    path: str,
    prune: bool,
    wait: bool,
    interval_ms: int,
    retry_interval_ms: int,
    health_timeout_ms: int,
    target_namespace: str,
    depends_on: list[str],
    labels_: dict[str, str],
) -> objects.RawObject:
    if not path:
        raise FluxError("path is required")
    if not path.startswith("./"):
        raise FluxError("path must begin with ./")
    if not source:
        raise FluxError("source is required")
    spec: dict[str, Any] = {
        "interval": duration.format(interval_ms),
        "path": path,
        "prune": prune,
        "sourceRef": source_ref(source, namespace),
    }
    if target_namespace:
        spec["targetNamespace"] = target_namespace
    if depends_on:
        spec["dependsOn"] = [
            {"name": d.split("/", 1)[1], "namespace": d.split("/", 1)[0]} if "/" in d else {"name": d}
            for d in depends_on
        ]
    if wait:
        spec["wait"] = True
        spec["timeout"] = duration.format(health_timeout_ms)
    if retry_interval_ms > 0:
        spec["retryInterval"] = duration.format(retry_interval_ms)
    return _object(flux.KUSTOMIZATION, name, namespace, labels_, spec)


def image_repository(
    name: str, namespace: str, *, image: str, interval_ms: int, secret_ref: str, labels_: dict[str, str]
) -> objects.RawObject:
    if not image:
        raise FluxError("an image repository (--image) is required")
    if ":" in image.rsplit("/", 1)[-1] or "@" in image or " " in image:
        raise FluxError(
            "unable to parse image value: repository can only contain the characters "
            f"`abcdefghijklmnopqrstuvwxyz0123456789_-./`: {image}"
        )
    spec: dict[str, Any] = {"image": image, "interval": duration.format(interval_ms)}
    if secret_ref:
        spec["secretRef"] = {"name": secret_ref}
    return _object(flux.IMAGEREPOSITORY, name, namespace, labels_, spec)


def image_policy(
    name: str,
    namespace: str,
    *,
    image_ref: str,
    semver: str,
    alpha: str,
    numeric: str,
    filter_regex: str,
    filter_extract: str,
    labels_: dict[str, str],
) -> objects.RawObject:
    if not image_ref:
        raise FluxError("the name of an ImageRepository in the namespace is required (--image-ref)")
    if sum(bool(x) for x in (semver, alpha, numeric)) > 1:
        raise FluxError("only one of --select-semver, --select-alpha or --select-numeric can be specified")
    if semver:
        policy: dict[str, Any] = {"semver": {"range": semver}}
    elif alpha:
        if alpha not in ("asc", "desc"):
            raise FluxError('--select-alpha must be one of ["asc", "desc"]')
        policy = {"alphabetical": {"order": alpha}}
    elif numeric:
        if numeric not in ("asc", "desc"):
            raise FluxError('--select-numeric must be one of ["asc", "desc"]')
        policy = {"numerical": {"order": numeric}}
    else:
        raise FluxError("a policy must be provided with either --select-semver or --select-alpha")
    spec: dict[str, Any] = {"imageRepositoryRef": {"name": image_ref}, "policy": policy}
    if filter_regex:
        spec["filterTags"] = {
            "pattern": filter_regex,
            **({"extract": filter_extract} if filter_extract else {}),
        }
    elif filter_extract:
        raise FluxError("cannot specify --filter-extract without specifying --filter-regex")
    return _object(flux.IMAGEPOLICY, name, namespace, labels_, spec)


def image_update(
    name: str,
    namespace: str,
    *,
    git_repo_ref: str,
    git_repo_namespace: str,
    git_repo_path: str,
    checkout_branch: str,
    push_branch: str,
    commit_template: str,
    author_name: str,
    author_email: str,
    interval_ms: int,
    labels_: dict[str, str],
) -> objects.RawObject:
    if not git_repo_ref:
        raise FluxError("a reference to a GitRepository is required (--git-repo-ref)")
    if not checkout_branch:
        raise FluxError("the Git repository branch is required (--checkout-branch)")
    if not author_name:
        raise FluxError("the author name is required (--author-name)")
    if not author_email:
        raise FluxError("the author email is required (--author-email)")
    commit: dict[str, Any] = {"author": {"email": author_email, "name": author_name}}
    if commit_template:
        commit["messageTemplate"] = commit_template
    git: dict[str, Any] = {"checkout": {"ref": {"branch": checkout_branch}}, "commit": commit}
    if push_branch:
        git["push"] = {"branch": push_branch}
    source: dict[str, str] = {"kind": "GitRepository", "name": git_repo_ref}
    if git_repo_namespace:
        source["namespace"] = git_repo_namespace
    spec: dict[str, Any] = {"git": git, "interval": duration.format(interval_ms), "sourceRef": source}
    if git_repo_path:
        spec["update"] = {"path": git_repo_path, "strategy": "Setters"}
    return _object(flux.IMAGEUPDATEAUTOMATION, name, namespace, labels_, spec)


def export(session: Session, obj: objects.RawObject) -> None:
    session.out.write(build.to_yaml([obj]))


def create(session: Session, obj: objects.RawObject, what: str) -> None:
    """Apply `obj` and wait for its reconcile (`what`: "GitRepository source", "Kustomization")."""
    log = session.log
    ref = objects.ref_of(obj)
    log.generate(f"generating {what}")
    log.action(f"applying {what}")
    try:
        existing = session.cluster.get(ref)
    except errors.NotFound:
        existing = None
    try:
        if existing is None:
            session.cluster.create(obj, field_manager=FIELD_MANAGER)
        else:
            updated = objects.deep_copy(existing)
            updated["metadata"].setdefault("labels", {}).update(obj["metadata"].get("labels") or {})
            updated["spec"] = obj["spec"]
            session.cluster.update(updated, field_manager=FIELD_MANAGER)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc
    log.success(f"{what} {'created' if existing is None else 'updated'}")
    log.waiting(f"waiting for {what} reconciliation")
    done: list[objects.RawObject] = []

    def ready() -> bool:
        now = session.cluster.get(ref)
        status = now.get("status") or {}
        if status.get("observedGeneration") != now["metadata"].get("generation"):
            return False
        if kstatus.compute(now).status != kstatus.Status.CURRENT:
            return False
        done.append(now)
        return True

    if not session.poll(ready):
        raise FluxError("context deadline exceeded")
    status = done[0].get("status") or {}
    if ref.kind == "GitRepository":
        log.success("GitRepository source reconciliation completed")
        revision = (status.get("artifact") or {}).get("revision")
        if not revision:
            raise FluxError("GitRepository source reconciliation completed but no artifact was found")
        log.success(f"fetched revision: {revision}")
    elif ref.kind == "Kustomization":
        log.success(f"Kustomization {ref.name} is ready")
        log.success(f"applied revision {status.get('lastAppliedRevision', '')}")
    else:
        log.success(f"{ref.kind} reconciliation completed")


def delete(session: Session, key: str, names: list[str], *, silent: bool) -> None:
    """`flux delete <kind> NAME [--silent]`."""
    kind = reconciles.KINDS[key]
    gvk, human = kind.gvk, kind.human
    if not names:
        raise FluxError(f"{human} name is required")
    ref = refs.ObjectRef(gvk.group, gvk.kind, session.namespace, names[0])
    try:
        session.cluster.get(ref)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc
    if not silent:
        raise FluxError("aborting")  # the CLI asks "Are you sure you want to delete this …"; nobody answers
    session.log.action(f"deleting {human} {names[0]} in {session.namespace} namespace")
    try:
        session.cluster.delete(ref)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc
    session.log.success(f"{human} deleted")
