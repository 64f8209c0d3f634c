"""The Flux API of Flux 2.10, declared once in typed Python.

Every Flux kind and served version (`source`, `kustomize`, `helm`, `image`, `notification`,
`sourcewatcher`) is a set of frozen dataclasses written from Flux's Go API types: fields, types,
required fields, enums, patterns, defaults, CEL rules with their messages, printer columns,
short names and categories (`declare` says how). From them come the CRDs the simulation installs
(`crds`, also shipped as `crds.yaml`), the schemas the API server enforces and `kubectl explain`
reads, and the typed values controllers read specs as (`declare.parse`).

This module is the registry: `KINDS`, lookups by group and kind, and what the rest of the
simulation asks of the set as a whole (which kinds a Flux controller reconciles, which API
versions Flux has removed). Callers: `engine.simulation` (installs the CRDs), the controllers,
`scenario`. Pure data, no I/O; never imports anything above `model`.
"""

from __future__ import annotations

from gitops_sim.model import flux, refs
from gitops_sim.model.fluxapi import declare, helm, image, kustomize, notification, source, sourcewatcher

KINDS: tuple[declare.Kind, ...] = (
    *source.KINDS,
    *kustomize.KINDS,
    *helm.KINDS,
    *notification.KINDS,
    *image.KINDS,
    *sourcewatcher.KINDS,
)
_BY_GROUP_KIND = {refs.GroupKind(k.group, k.kind): k for k in KINDS}


def kind_of(group_kind: refs.GroupKind) -> declare.Kind | None:
    """The Flux kind `group_kind` names, or None when it is not a Flux kind."""
    return _BY_GROUP_KIND.get(group_kind)


# The Flux kinds some Flux controller reconciles: those with a status (Alert and Provider have
# none; notification-controller leaves them static), but ExternalArtifact, whose status its
# producer writes (source-watcher's ArtifactGenerator, or any third-party controller).
RECONCILED_KINDS: frozenset[refs.GroupKind] = frozenset(
    refs.GroupKind(k.group, k.kind)
    for k in KINDS
    if k.storage.status is not None and k is not source.EXTERNALARTIFACT
)


def controller_of(group_kind: refs.GroupKind) -> str:
    """The Flux controller that serves `group_kind` (its CRD's component label), or ""."""
    kind = _BY_GROUP_KIND.get(group_kind)
    return kind.component if kind else ""


def removed_api_hint(kind: str, api_version: str) -> str | None:
    """What to do about `kind` in `api_version` if that is a Flux API version removed before the
    simulated release (and `kind` one of that group's kinds), else None."""
    removed_in = flux.REMOVED_APIS.get(api_version)
    group = api_version.partition("/")[0]
    served = _BY_GROUP_KIND.get(refs.GroupKind(group, kind))
    if removed_in is None or served is None:
        return None
    return (
        f"{api_version} was removed in Flux {removed_in}; Flux {flux.FLUX_VERSION} serves {kind} "
        f"as {group}/{served.storage.name}: `flux migrate -f <dir>` rewrites the manifests under <dir> "
        "to the served API versions"
    )
