"""Constants of the Flux API: groups, versions, kinds, finalizer, annotations and labels.

Every spelling that a user sees and Flux defines lives here once (fluxcd/pkg `apis/meta`, the
controllers' `api/v1` packages). The kinds themselves, their schemas and CRDs are `fluxapi`'s.
Callers: controllers, engine, scenario, `fluxapi`. Pure data, no I/O; never imports `fluxapi`
(which imports this).
"""

from __future__ import annotations

from gitops_sim.model import refs

SOURCE_GROUP = "source.toolkit.fluxcd.io"
SOURCE_EXTENSIONS_GROUP = "source.extensions.fluxcd.io"
"""source-watcher's API group (ArtifactGenerator)."""
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"

GITREPOSITORY = refs.GVK(SOURCE_GROUP, "v1", "GitRepository")
OCIREPOSITORY = refs.GVK(SOURCE_GROUP, "v1", "OCIRepository")
HELMREPOSITORY = refs.GVK(SOURCE_GROUP, "v1", "HelmRepository")
BUCKET = refs.GVK(SOURCE_GROUP, "v1", "Bucket")
HELMCHART = refs.GVK(SOURCE_GROUP, "v1", "HelmChart")
EXTERNALARTIFACT = refs.GVK(SOURCE_GROUP, "v1", "ExternalArtifact")
KUSTOMIZATION = refs.GVK(KUSTOMIZE_GROUP, "v1", "Kustomization")
HELMRELEASE = refs.GVK("helm.toolkit.fluxcd.io", "v2", "HelmRelease")
IMAGE_GROUP = "image.toolkit.fluxcd.io"
IMAGEREPOSITORY = refs.GVK(IMAGE_GROUP, "v1", "ImageRepository")
IMAGEPOLICY = refs.GVK(IMAGE_GROUP, "v1", "ImagePolicy")
IMAGEUPDATEAUTOMATION = refs.GVK(IMAGE_GROUP, "v1", "ImageUpdateAutomation")
NOTIFICATION_GROUP = "notification.toolkit.fluxcd.io"
ALERT = refs.GVK(NOTIFICATION_GROUP, "v1", "Alert")
PROVIDER = refs.GVK(NOTIFICATION_GROUP, "v1", "Provider")
RECEIVER = refs.GVK(NOTIFICATION_GROUP, "v1", "Receiver")

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
# installs, CRDs included: `app.kubernetes.io/part-of: flux`, `instance: <namespace>` and
# `version`, and on each CRD its controller in `app.kubernetes.io/component`, so
# `kubectl get crd -l app.kubernetes.io/part-of=flux` lists Flux's CRDs. Versions from the
# ControlPlane distribution's release-v2.10 page (flux-2.10.md §1): its Flux v2.10.0 entry lists
# source-controller v1.10.1, kustomize-controller v1.10.1, helm-controller v1.7.1 and
# source-watcher v2.3.1. The page as captured stops before notification-controller and the image
# controllers: their versions here follow each one's minor-per-Flux-minor series (v1.9.x and
# v1.2.x shipped with Flux 2.9), an inference, not a reading.
FLUX_VERSION = "v2.10.0"
CONTROLLER_VERSIONS = {
    SOURCE_CONTROLLER: "v1.10.1",
    KUSTOMIZE_CONTROLLER: "v1.10.1",
    "helm-controller": "v1.7.1",
    "notification-controller": "v1.10.0",
    "image-reflector-controller": "v1.3.0",
    "image-automation-controller": "v1.3.0",
    "source-watcher": "v2.3.1",
}
# `flux install`'s components (pkg/manifestgen/install/options.go `MakeDefaultOptions`).
DEFAULT_COMPONENTS = (
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
)
EXTRA_COMPONENTS = ("image-reflector-controller", "image-automation-controller", "source-watcher")
ALL_COMPONENTS = DEFAULT_COMPONENTS + EXTRA_COMPONENTS
INSTALL_LABELS = {
    "app.kubernetes.io/instance": "flux-system",
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": FLUX_VERSION,
}

STORAGE_HOST = "source-controller.flux-system.svc.cluster.local."
DEFAULT_GIT_BRANCH = "master"  # fluxcd/pkg/git DefaultBranch: used when spec.ref is absent


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


def is_flux_group(group: str) -> bool:
    """An API group of Flux's own kinds: the toolkit's groups and source-watcher's."""
    return group.endswith(".toolkit.fluxcd.io") or group == SOURCE_EXTENSIONS_GROUP
