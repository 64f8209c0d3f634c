"""`flux install`, `flux check` and `flux version`: Flux's components on a cluster.

`install` generates gotk-components (`model.fluxinstall`) and, unless `--export`, applies them as
flux2's internal/utils/apply.go does: server-side apply with field manager `flux`, the CRDs and
Namespaces first (waited for), then the rest, printing the change set; then it waits for each
component's Deployment to be Current (kstatus, polled every 5 s as the CLI's status checker
does) and prints one line per component. Lines, in order (cmd/flux/install.go):

    ✚ generating manifests
    ✔ manifests build completed
    ► installing components in flux-system namespace
    CustomResourceDefinition/alerts.notification.toolkit.fluxcd.io created
    …
    ◎ verifying installation
    ✔ helm-controller: deployment ready
    …
    ✔ install finished

`check` runs cmd/flux/check.go's checks: the Kubernetes version against Flux's constraint; with
`--pre` nothing else; otherwise the distribution and whether Flux was bootstrapped (the labels
on the GitRepository CRD), each Deployment labelled `app.kubernetes.io/part-of=flux` in the
namespace (ready or not, then its images), and each Flux CRD with its last stored version.

Differences, on purpose: the real `check` first asks GitHub for the latest release (a network
call gitops-sim never makes); `install` never prompts (an installation managed by another tool
is refused unless `--force`, as answering "no" would); `--version`, `--manifests`,
`--registry-creds`, `--image-pull-secret` and `--toleration-keys` are not offered.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gitops_sim.apply import manager as ssa
from gitops_sim.cluster import errors
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import flux, fluxinstall, kstatus, objects, refs, semver

KUBERNETES_CONSTRAINT = ">=1.33.0-0"
"""The Kubernetes versions Flux 2.10's CLI accepts (cmd/flux/check.go)."""
STATUS_POLL_MS = 5_000
"""How often `install` and `check` poll the controllers' Deployments (pkg/status)."""
FIELD_MANAGER = "flux"
"""The field manager of everything `flux install` applies (internal/utils/apply.go)."""

CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
DEPLOYMENT = refs.GroupKind("apps", "Deployment")
PART_OF = "app.kubernetes.io/part-of"
GITREPOSITORY_CRD = refs.ObjectRef(
    "apiextensions.k8s.io", "CustomResourceDefinition", "", "gitrepositories.source.toolkit.fluxcd.io"
)
BOOTSTRAP_LABELS = ("kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace")
"""kustomize-controller's labels on what a Kustomization applied: on the GitRepository CRD, they
say Flux manages itself from Git (cmd/flux/cluster_info.go)."""


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """What cmd/flux/cluster_info.go reads off the GitRepository CRD."""

    version: str
    bootstrapped: bool
    managed_by: str
    part_of: str

    @property
    def distribution(self) -> str:
        return f"{self.part_of}-{self.version}" if self.part_of else self.version


def cluster_info(session: Session) -> ClusterInfo | None:
    """The installed Flux, or None when the GitRepository CRD is absent."""
    try:
        crd = session.cluster.get(GITREPOSITORY_CRD)
    except errors.NotFound:
        return None
    labels = crd["metadata"].get("labels") or {}
    return ClusterInfo(
        version=str(labels.get("app.kubernetes.io/version", "")),
        bootstrapped=BOOTSTRAP_LABELS[-1] in labels,  # the CLI's loop keeps the last label's answer
        managed_by=str(labels.get("app.kubernetes.io/managed-by", "")),
        part_of=str(labels.get(PART_OF, "")),
    )


def install(session: Session, opts: fluxinstall.Options, *, force: bool) -> None:
    """`flux install` (`--export` needs no session: `fluxinstall.render`)."""
    log = session.log
    log.generate("generating manifests")
    docs = fluxinstall.manifests(opts)
    log.success("manifests build completed")
    log.action(f"installing components in {session.namespace} namespace")
    info = cluster_info(session)
    if info is not None and info.bootstrapped:
        raise FluxError(
            f"this cluster has already been bootstrapped with Flux {info.version}! "
            "Please use 'flux bootstrap' to upgrade"
        )
    if info is not None and not force and info.managed_by not in ("", "flux"):
        session.err.write(f"Flux {info.version} has been installed on this cluster with {info.managed_by}!\n")
        raise FluxError("installation cancelled")
    try:
        changes = apply(session, docs)
    except FluxError as exc:
        raise FluxError(f"install failed: {exc.message}") from exc
    session.err.write(changes + "\n")
    log.waiting("verifying installation")
    if not assess(session, [component_ref(session.namespace, c) for c in opts.all_components()]):
        raise FluxError("install failed")
    log.success("install finished")


def apply(session: Session, docs: list[objects.RawObject]) -> str:
    """Apply `docs` as the CLI does: CRDs and Namespaces, wait for them, then the rest; the
    change set's text ("Kind/ns/name created", one per line)."""
    manager = ssa.ResourceManager(session.cluster, FIELD_MANAGER, ())
    first = [d for d in docs if d["kind"] in ("CustomResourceDefinition", "Namespace")]
    rest = [d for d in docs if d["kind"] not in ("CustomResourceDefinition", "Namespace")]
    try:
        done = manager.apply_all_staged(first)
        if first and not session.poll(lambda: _all_current(session, [objects.ref_of(d) for d in first])):
            raise FluxError("timeout waiting for the CRDs and namespaces to be ready")
        done.extend(manager.apply_all_staged(rest))
    except ssa.ApplyError as exc:
        raise FluxError(exc.args[0]) from exc
    return str(done)


def _all_current(session: Session, wanted: list[refs.ObjectRef]) -> bool:
    return all(_status(session, ref) == kstatus.Status.CURRENT for ref in wanted)


def _status(session: Session, ref: refs.ObjectRef) -> kstatus.Status:
    try:
        return kstatus.compute(session.cluster.get(ref)).status
    except errors.NotFound:
        return kstatus.Status.NOT_FOUND


def component_ref(namespace: str, component: str) -> refs.ObjectRef:
    return refs.ObjectRef("apps", "Deployment", namespace, component)


def assess(session: Session, wanted: list[refs.ObjectRef]) -> bool:
    """pkg/status `Assess`: wait (polling every 5 s, up to the timeout) until every object is
    Current, then print one line per object by name: `✔ <name>: deployment ready`, `✗ <name>:
    deployment not found` or `✗ <name>: deployment not ready`. False when any is not Current."""
    session.poll(lambda: _all_current(session, wanted), STATUS_POLL_MS)
    ok = True
    for ref in sorted(wanted, key=lambda r: r.name):
        status = _status(session, ref)
        kind = ref.kind.lower()
        if status == kstatus.Status.CURRENT:
            session.log.success(f"{ref.name}: {kind} ready")
        else:
            ok = False
            word = "not found" if status == kstatus.Status.NOT_FOUND else "not ready"
            session.log.failure(f"{ref.name}: {kind} {word}")
    return ok


def check_kubernetes(session: Session) -> bool:
    """`✔ Kubernetes 1.37.0 >=1.33.0-0`, or `✗ Kubernetes version … does not match …`."""
    git_version = session.server_version()
    core, plus, build = git_version.removeprefix("v").partition("+")
    version = semver.try_parse_version(core)
    if version is None:
        session.log.failure("Kubernetes version can't be determined")
        return False
    shown = core + plus + build  # as Masterminds prints it: pre-release and build metadata kept
    if not semver.Constraint(KUBERNETES_CONSTRAINT).check(version):
        session.log.failure(f"Kubernetes version {git_version} does not match {KUBERNETES_CONSTRAINT}")
        return False
    session.log.success(f"Kubernetes {shown} {KUBERNETES_CONSTRAINT}")
    return True


def check(session: Session, *, pre: bool) -> None:
    """`flux check [--pre]`; raises FluxError (exit 1, nothing more printed) when a check failed."""
    log = session.log
    log.action("checking prerequisites")
    failed = not check_kubernetes(session)
    if pre:
        if failed:
            raise FluxError("", code=1)
        log.success("prerequisites checks passed")
        return
    log.action("checking version in cluster")
    info = cluster_info(session)
    if info is None:
        log.failure(
            f"checking failed: customresourcedefinitions.apiextensions.k8s.io "
            f'"{GITREPOSITORY_CRD.name}" not found'
        )
        failed = True
    else:
        if info.distribution:
            log.success(f"distribution: {info.distribution}")
        log.success(f"bootstrapped: {str(info.bootstrapped).lower()}")
    log.action("checking controllers")
    deployments = session.cluster.list(DEPLOYMENT, namespace=session.namespace, labels={PART_OF: "flux"})
    if not deployments:
        log.failure(
            f"no controllers found in the '{session.namespace}' namespace "
            f"with the label selector '{PART_OF}=flux'"
        )
        failed = True
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        if name in flux.ALL_COMPONENTS and not assess(session, [component_ref(session.namespace, name)]):
            failed = True
        for container in deployment["spec"]["template"]["spec"].get("containers") or []:
            log.action(str(container.get("image", "")))
    log.action("checking crds")
    crds = session.cluster.list(CRD, labels={PART_OF: "flux"})
    if not crds:
        log.failure(f"no crds found with the label selector '{PART_OF}=flux'")
        failed = True
    for crd in crds:
        stored = (crd.get("status") or {}).get("storedVersions") or []
        if stored:
            log.success(f"{crd['metadata']['name']}/{stored[-1]}")
        else:
            failed = True
            log.failure(f"no stored versions for {crd['metadata']['name']}")
    if failed:
        log.failure("check failed")
        raise FluxError("", code=1)
    log.success("all checks passed")


def version(session: Session, output: str = "yaml") -> None:
    """`flux version`: the CLI's version, the distribution, and each controller's image tag."""
    if output not in ("yaml", "json"):
        raise FluxError(f"--output must be json or yaml, not {output}")
    info = cluster_info(session)
    found: dict[str, str] = {"flux": flux.FLUX_VERSION}
    if info is not None and info.distribution:
        found["distribution"] = info.distribution
    deployments = session.cluster.list(DEPLOYMENT, namespace=session.namespace, labels={PART_OF: "flux"})
    if not deployments:
        raise FluxError(f"no deployments found in {session.namespace} namespace")
    tags: dict[str, str] = {}
    for deployment in deployments:
        for container in deployment["spec"]["template"]["spec"].get("containers") or []:
            image = str(container.get("image", ""))
            last = image.rsplit("/", 1)[-1]
            if ":" not in last:
                raise FluxError(f"missing image tag in image {image}")
            name, tag = last.split(":", 1)
            tags[name] = tag
    found.update(sorted(tags.items()))
    if output == "json":
        session.out.write(json.dumps(dict(sorted(found.items())), indent=2) + "\n")
    else:
        session.out.write("".join(f"{k}: {v}\n" for k, v in found.items()))


_UNINSTALL_KINDS = (
    (DEPLOYMENT, True),
    (refs.GroupKind("", "Service"), True),
    (refs.GroupKind("networking.k8s.io", "NetworkPolicy"), True),
    (refs.GroupKind("", "ServiceAccount"), True),
    (refs.GroupKind("rbac.authorization.k8s.io", "ClusterRole"), False),
    (refs.GroupKind("rbac.authorization.k8s.io", "ClusterRoleBinding"), False),
)
_FINALIZED_KINDS = (
    flux.GITREPOSITORY,
    flux.OCIREPOSITORY,
    flux.HELMREPOSITORY,
    flux.HELMCHART,
    flux.BUCKET,
    flux.KUSTOMIZATION,
    flux.HELMRELEASE,
    flux.ALERT,
    flux.PROVIDER,
    flux.RECEIVER,
    flux.IMAGEPOLICY,
    flux.IMAGEREPOSITORY,
    flux.IMAGEUPDATEAUTOMATION,
)


def uninstall(session: Session, *, keep_namespace: bool, dry_run: bool) -> None:
    """`flux uninstall --silent` (pkg/uninstall): the components, the Flux objects' finalizers,
    the CRDs and (unless `keep_namespace`) the namespace. Each line ends with a space (the
    CLI's format leaves room for `(dry run)`); failures are printed and do not stop it."""
    log = session.log
    suffix = "(dry run)" if dry_run else ""
    cluster = session.cluster

    def delete(ref: refs.ObjectRef) -> None:
        try:
            cluster.delete(ref, dry_run=dry_run)
            log.success(f"{ref} deleted {suffix}")
        except errors.ApiError as exc:
            log.failure(f"{ref} deletion failed: {exc.message}")

    log.action(f"deleting components in {session.namespace} namespace")
    for gk, namespaced in _UNINSTALL_KINDS:
        try:
            found = cluster.list(
                gk, namespace=session.namespace if namespaced else None, labels={PART_OF: "flux"}
            )
        except errors.ApiError:
            continue
        for obj in found:
            delete(objects.ref_of(obj))
    log.action("deleting toolkit.fluxcd.io finalizers in all namespaces")
    for gvk in _FINALIZED_KINDS:
        try:
            found = cluster.list(gvk.group_kind)
        except errors.ApiError:
            continue
        for obj in found:
            ref = objects.ref_of(obj)
            obj["metadata"]["finalizers"] = []
            try:
                cluster.update(obj, field_manager=FIELD_MANAGER, dry_run=dry_run)
                log.success(f"{ref} finalizers deleted {suffix}")
            except errors.ApiError as exc:
                log.failure(f"{ref} removing finalizers failed: {exc.message}")
    log.action("deleting toolkit.fluxcd.io custom resource definitions")
    for crd in cluster.list(CRD, labels={PART_OF: "flux"}):
        delete(objects.ref_of(crd))
    if not keep_namespace:
        delete(refs.ObjectRef("", "Namespace", "", session.namespace))
    log.success("uninstall finished")
