"""Constants of the Flux API: groups, versions, kinds, finalizer, annotations and labels.

Every spelling that a user sees and Flux defines lives here once (fluxcd/pkg `apis/meta`, the
controllers' `api/v1` packages). Callers: controllers, engine, scenario. Pure data, no I/O.
"""

from __future__ import annotations

from gitops_sim.model import refs

SOURCE_GROUP = "source.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"

GITREPOSITORY = refs.GVK(SOURCE_GROUP, "v1", "GitRepository")
OCIREPOSITORY = refs.GVK(SOURCE_GROUP, "v1", "OCIRepository")
HELMREPOSITORY = refs.GVK(SOURCE_GROUP, "v1", "HelmRepository")
BUCKET = refs.GVK(SOURCE_GROUP, "v1", "Bucket")
HELMCHART = refs.GVK(SOURCE_GROUP, "v1", "HelmChart")
KUSTOMIZATION = refs.GVK(KUSTOMIZE_GROUP, "v1", "Kustomization")

FINALIZER = "finalizers.fluxcd.io"
REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt"

SOURCE_CONTROLLER = "source-controller"
KUSTOMIZE_CONTROLLER = "kustomize-controller"

# The field owner under which a controller's patch helper (fluxcd/pkg `runtime/patch`,
# `WithFieldOwner`) writes its finalizer and status. kustomize-controller (and helm-controller)
# set `statusManager = "gotk-" + controllerName` in SetupWithManager; source-controller passes its
# controller name (`getPatchOptions`). The `gotk-` prefix matters: kustomize-controller's apply
# takes over the fields of `kustomize-controller` Updates (pre-SSA writes), never `gotk-*` ones.
_FIELD_OWNERS = {KUSTOMIZE_CONTROLLER: f"gotk-{KUSTOMIZE_CONTROLLER}"}


def field_owner(controller: str) -> str:
    """The field manager `controller` writes its own objects' finalizers and status with."""
    return _FIELD_OWNERS.get(controller, controller)


# Interval jitter (±percent) of kustomize-controller and helm-controller (`--interval-jitter-percentage`).
INTERVAL_JITTER_PERCENT = 5
# `--requeue-dependency`: how long a reconciler waits for a source artifact or a dependency.
REQUEUE_DEPENDENCY_MS = 30_000

# The Flux release simulated, and the labels `flux install` (and bootstrap) puts on everything it
# installs, CRDs included: `app.kubernetes.io/part-of: flux`, `instance: flux-system` and
# `version`, and on each CRD its controller in `app.kubernetes.io/component` (as `flux install
# --export` writes them; see tests/realworld/bootstrap's gotk-components.yaml), so
# `kubectl get crd -l app.kubernetes.io/part-of=flux` lists Flux's CRDs. Versions from the
# ControlPlane distribution's release-v2.10 page (flux-2.10.md §1): its Flux v2.10.0 entry lists
# source-controller v1.10.1, kustomize-controller v1.10.1 and helm-controller v1.7.1.
FLUX_VERSION = "v2.10.0"
CONTROLLER_VERSIONS = {
    SOURCE_CONTROLLER: "v1.10.1",
    KUSTOMIZE_CONTROLLER: "v1.10.1",
    "helm-controller": "v1.7.1",
}
INSTALL_LABELS = {
    "app.kubernetes.io/instance": "flux-system",
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": FLUX_VERSION,
}

STORAGE_HOST = "source-controller.flux-system.svc.cluster.local."
DEFAULT_GIT_BRANCH = "master"  # fluxcd/pkg/git DefaultBranch: used when spec.ref is absent


# (group, version, kind, plural, short names, has status subresource), from each controller's
# `config/crd/bases` (flux.md §0): the served, storage version of every Flux kind.
KINDS: tuple[tuple[str, str, str, str, tuple[str, ...], bool], ...] = (
    (SOURCE_GROUP, "v1", "GitRepository", "gitrepositories", ("gitrepo",), True),
    (SOURCE_GROUP, "v1", "OCIRepository", "ocirepositories", ("ocirepo",), True),
    (SOURCE_GROUP, "v1", "Bucket", "buckets", (), True),
    (SOURCE_GROUP, "v1", "HelmRepository", "helmrepositories", ("helmrepo",), True),
    (SOURCE_GROUP, "v1", "HelmChart", "helmcharts", ("hc",), True),
    (KUSTOMIZE_GROUP, "v1", "Kustomization", "kustomizations", ("ks",), True),
    ("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases", ("hr",), True),
    ("notification.toolkit.fluxcd.io", "v1beta3", "Alert", "alerts", (), False),
    ("notification.toolkit.fluxcd.io", "v1beta3", "Provider", "providers", (), False),
    ("notification.toolkit.fluxcd.io", "v1", "Receiver", "receivers", (), True),
    ("image.toolkit.fluxcd.io", "v1", "ImageRepository", "imagerepositories", ("imgrepo", "imagerepo"), True),
    ("image.toolkit.fluxcd.io", "v1", "ImagePolicy", "imagepolicies", ("imgpol", "imagepol"), True),
    (
        "image.toolkit.fluxcd.io",
        "v1",
        "ImageUpdateAutomation",
        "imageupdateautomations",
        ("iua", "imgupd", "imgauto"),
        True,
    ),
)


# `kubectl get fluxcd` and friends (flux.md §0): the categories of each API group's kinds.
CATEGORIES: dict[str, tuple[str, ...]] = {
    SOURCE_GROUP: ("all", "fluxcd", "fluxcd-sources"),
    KUSTOMIZE_GROUP: ("all", "fluxcd", "fluxcd-appliers"),
    "helm.toolkit.fluxcd.io": ("all", "fluxcd", "fluxcd-appliers"),
    "image.toolkit.fluxcd.io": ("all", "fluxcd", "fluxcd-images"),
}


# Every Flux kind with a status declares `+kubebuilder:default:={"observedGeneration":-1}` on its
# Status field (e.g. kustomize-controller `api/v1/kustomization_types.go`, helm-controller
# `api/v2/helmrelease_types.go`), so the API server reads a new object with
# `status: {observedGeneration: -1}` and kstatus sees it InProgress until its controller reports.
STATUS_SCHEMA: dict[str, object] = {
    "type": "object",
    "default": {"observedGeneration": -1},
    "x-kubernetes-preserve-unknown-fields": True,
}


def crd_manifests() -> list[dict[str, object]]:
    """Minimal CustomResourceDefinitions for the Flux kinds: names, scope, version, status, columns.

    The schemas are open (`x-kubernetes-preserve-unknown-fields`) in this first cut, but for the
    status default Flux's CRDs carry (`STATUS_SCHEMA`); the real openAPIV3Schema of each kind
    comes with schema validation (issue 3).
    """
    out: list[dict[str, object]] = []
    for group, version, kind, plural, short, has_status in KINDS:
        columns = (
            [
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                {
                    "name": "Ready",
                    "type": "string",
                    "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                },
                {
                    "name": "Status",
                    "type": "string",
                    "jsonPath": '.status.conditions[?(@.type=="Ready")].message',
                },
            ]
            if has_status
            else []
        )
        schema: dict[str, object] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        if has_status:
            schema["properties"] = {"status": STATUS_SCHEMA}
        served: dict[str, object] = {
            "name": version,
            "served": True,
            "storage": True,
            "schema": {"openAPIV3Schema": schema},
            "additionalPrinterColumns": columns,
        }
        if has_status:
            served["subresources"] = {"status": {}}
        out.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": f"{plural}.{group}",
                    "labels": {
                        "app.kubernetes.io/component": controller_of(refs.GroupKind(group, kind)),
                        **INSTALL_LABELS,
                    },
                },
                "spec": {
                    "group": group,
                    "names": {
                        "kind": kind,
                        "listKind": f"{kind}List",
                        "plural": plural,
                        "singular": kind.lower(),
                        "shortNames": list(short),
                        "categories": list(CATEGORIES.get(group, ())),
                    },
                    "scope": "Namespaced",
                    "versions": [served],
                },
            }
        )
    return out


# The Flux kinds some Flux controller reconciles (those with a status), and which controller.
# Alert and Provider (v1beta3) have no status: notification-controller leaves them static.
RECONCILED_KINDS: frozenset[refs.GroupKind] = frozenset(
    refs.GroupKind(group, kind) for group, _, kind, _, _, has_status in KINDS if has_status
)
_CONTROLLER_OF_GROUP = {
    SOURCE_GROUP: SOURCE_CONTROLLER,
    KUSTOMIZE_GROUP: KUSTOMIZE_CONTROLLER,
    "helm.toolkit.fluxcd.io": "helm-controller",
    "notification.toolkit.fluxcd.io": "notification-controller",
    "image.toolkit.fluxcd.io": "image-reflector-controller",
}


def controller_of(kind: refs.GroupKind) -> str:
    """The Flux controller that reconciles `kind` (ImageUpdateAutomation: image-automation-controller)."""
    if kind == refs.GroupKind("image.toolkit.fluxcd.io", "ImageUpdateAutomation"):
        return "image-automation-controller"
    return _CONTROLLER_OF_GROUP.get(kind.group, "")


# Flux API versions removed from Flux's CRDs before 2.10, and the release that removed them: the
# "Upgrade Procedure" sections of Flux's release announcements (fluxcd/website, content/en/blog/
# 2025-09-29-announcing-flux-v2.7.0, 2026-02-23-announcing-flux-v2.8.0 and
# 2026-06-30-announcing-flux-v2.9.0), each telling users to run `flux migrate` first.
REMOVED_APIS: dict[str, str] = {
    "source.toolkit.fluxcd.io/v1beta1": "v2.7.0",
    "kustomize.toolkit.fluxcd.io/v1beta1": "v2.7.0",
    "helm.toolkit.fluxcd.io/v2beta1": "v2.7.0",
    "image.toolkit.fluxcd.io/v1beta1": "v2.7.0",
    "notification.toolkit.fluxcd.io/v1beta1": "v2.7.0",
    "source.toolkit.fluxcd.io/v1beta2": "v2.8.0",
    "kustomize.toolkit.fluxcd.io/v1beta2": "v2.8.0",
    "helm.toolkit.fluxcd.io/v2beta2": "v2.8.0",
    "image.toolkit.fluxcd.io/v1beta2": "v2.9.0",
    "notification.toolkit.fluxcd.io/v1beta2": "v2.9.0",
}
# The version of each Flux kind served now, by (group, kind).
_SERVED_FLUX_VERSION = {(group, kind): version for group, version, kind, *_ in KINDS}


def removed_api_hint(kind: str, api_version: str) -> str | None:
    """What to do about `kind` in `api_version` if that is a Flux API version removed before the
    simulated release (and `kind` one of that group's kinds), else None."""
    removed_in = REMOVED_APIS.get(api_version)
    group = api_version.partition("/")[0]
    served = _SERVED_FLUX_VERSION.get((group, kind))
    if removed_in is None or served is None:
        return None
    return (
        f"{api_version} was removed in Flux {removed_in}; Flux {FLUX_VERSION} serves {kind} "
        f"as {group}/{served}: `flux migrate -f <dir>` rewrites the manifests under <dir> "
        "to the served API versions"
    )
