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

# Interval jitter (±percent) of kustomize-controller and helm-controller (`--interval-jitter-percentage`).
INTERVAL_JITTER_PERCENT = 5
# `--requeue-dependency`: how long a reconciler waits for a source artifact or a dependency.
REQUEUE_DEPENDENCY_MS = 30_000

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


def crd_manifests() -> list[dict[str, object]]:
    """Minimal CustomResourceDefinitions for the Flux kinds: names, scope, version, status, columns.

    The schemas are open (`x-kubernetes-preserve-unknown-fields`) in this first cut; the real
    openAPIV3Schema of each kind comes with schema validation (issue 3).
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
        served: dict[str, object] = {
            "name": version,
            "served": True,
            "storage": True,
            "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            "additionalPrinterColumns": columns,
        }
        if has_status:
            served["subresources"] = {"status": {}}
        out.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{plural}.{group}", "labels": {"app.kubernetes.io/part-of": "flux"}},
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
