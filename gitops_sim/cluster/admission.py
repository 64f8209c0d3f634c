"""The admission plugins of kube-apiserver that the store runs: today, DefaultStorageClass.

DefaultStorageClass (kubernetes `plugin/pkg/admission/storage/storageclass/setdefault`, with
`pkg/volume/util/storageclass.GetDefaultClass`; behaviour learned there, our own code): a
PersistentVolumeClaim created without `spec.storageClassName` (absent, not `""`) and without the
legacy `volume.beta.kubernetes.io/storage-class` annotation gets the name of the default
StorageClass, the one annotated `storageclass.kubernetes.io/is-default-class: "true"` (or the beta
annotation); with several, the newest (then the first by name); with none, the claim is left as
it is. As on the real server, the plugin runs after the request's managed fields were computed,
so no manager owns the field it sets.

Callers: the memory store's write path (`_commit`, on create). Pure: never reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitops_sim.model import refs

PVC = refs.GroupKind("", "PersistentVolumeClaim")
STORAGE_CLASS = refs.GroupKind("storage.k8s.io", "StorageClass")
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def is_default_class(storage_class: dict[str, Any]) -> bool:
    """Whether a StorageClass is marked as the cluster's default."""
    annotations = (storage_class.get("metadata") or {}).get("annotations") or {}
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def default_class(classes: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The default StorageClass among `classes`: the newest marked one, ties broken by name."""
    marked = [c for c in classes if is_default_class(c)]
    if not marked:
        return None
    marked.sort(key=lambda c: str(c["metadata"].get("name", "")))
    marked.sort(key=lambda c: str(c["metadata"].get("creationTimestamp", "")), reverse=True)
    return marked[0]


def default_storage_class(claim: dict[str, Any], classes: Iterable[dict[str, Any]]) -> None:
    """Set a new claim's `spec.storageClassName` to the default class, as the plugin does."""
    spec = claim.get("spec")
    if not isinstance(spec, dict) or spec.get("storageClassName") is not None:
        return
    if BETA_CLASS_ANNOTATION in ((claim.get("metadata") or {}).get("annotations") or {}):
        return
    chosen = default_class(classes)
    if chosen is not None:
        spec["storageClassName"] = chosen["metadata"]["name"]
