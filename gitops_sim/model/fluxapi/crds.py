"""The CustomResourceDefinitions of Flux 2.10, generated from the typed Flux API.

`manifest(kind)` is the CRD `flux install` applies for one kind: its names, scope, served
versions with their `openAPIV3Schema`, printer columns, status subresource and deprecation
warnings, and the labels `flux install` puts on everything it installs. `manifests()` is all of
them. The package ships the same CRDs as YAML (`crds.yaml` beside this module), for users who
want to apply them to a cluster of their own; `render()` is that file's text, and a test keeps the
shipped copy identical (and says how to rewrite it).

Callers: `engine.simulation` (installs them), `model.flux` (names), the CLI (`flux install
--export`, a later issue). Pure functions, no I/O.
"""

from __future__ import annotations

import functools
from typing import Any

from gitops_sim.model import flux, objects, yamlsafe
from gitops_sim.model.fluxapi import KINDS, declare


def manifest(kind: declare.Kind) -> dict[str, Any]:
    """The CRD of `kind`."""
    versions = []
    for version in kind.versions:
        served: dict[str, Any] = {
            "additionalPrinterColumns": [c.openapi() for c in version.columns],
            "name": version.name,
            "schema": {"openAPIV3Schema": kind.schema(version)},
            "served": True,
            "storage": version.storage,
        }
        if version.deprecation is not None:
            served = {"deprecated": True, "deprecationWarning": version.deprecation, **served}
        if version.status is not None:
            served["subresources"] = {"status": {}}
        versions.append(served)
    metadata: dict[str, Any] = {
        "labels": {"app.kubernetes.io/component": kind.component, **flux.INSTALL_LABELS},
        "name": f"{kind.plural}.{kind.group}",
    }
    if kind.annotations:
        metadata = {"annotations": dict(kind.annotations), **metadata}
    names: dict[str, Any] = {
        "categories": list(kind.categories),
        "kind": kind.kind,
        "listKind": f"{kind.kind}List",
        "plural": kind.plural,
    }
    if kind.short_names:
        names["shortNames"] = list(kind.short_names)
    names["singular"] = kind.kind.lower()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {"group": kind.group, "names": names, "scope": "Namespaced", "versions": versions},
    }


def manifests() -> list[dict[str, Any]]:
    """Every Flux CRD, in the order `flux install` lists them (by controller); the caller's own
    copies (every simulation installs them, and generating them costs more than copying)."""
    return [objects.deep_copy(crd) for crd in _generated()]


@functools.cache
def _generated() -> tuple[dict[str, Any], ...]:
    return tuple(manifest(kind) for kind in KINDS)


def render() -> str:
    """The shipped `crds.yaml`: every Flux CRD, one YAML document each."""
    return "".join("---\n" + yamlsafe.dump(crd) for crd in manifests())
