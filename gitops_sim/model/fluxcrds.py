"""Flux's CRDs without generating them: the copy the package ships, while it is current.

`manifests()` is `fluxapi.crds.manifests()`, every Flux CRD. Generating them takes the typed Flux
API, a hundred and twenty dataclasses whose import and walk cost over a tenth of a second: more
than a third of what `gitops-sim validate` needs to start. So the package ships them as JSON
(`fluxapi/crds.json`, beside `crds.yaml`) with a fingerprint of what they are generated from: the
`fluxapi` modules' text and the values of `model.flux` those modules put in a CRD.
`manifests()` reads the shipped copy when its fingerprint is the sources' as they are now, and
generates the CRDs otherwise, so an API being edited is never served stale; what the fingerprint
cannot see (a new `model.flux` value used in a CRD) the freshness test in `tests/fluxapi` catches,
and it says how to rewrite the file (`render()` is its text).

Callers: `model.fluxinstall` (every simulation, `flux install`, `validate`). Reads package files,
never writes one; imports the typed API only to generate.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from gitops_sim.model import flux

SHIPPED = Path(__file__).parent / "fluxapi" / "crds.json"
"""The shipped copy: `{"fingerprint": …, "crds": [every CRD, in `fluxapi.crds` order]}`."""


def fingerprint() -> str:
    """What the CRDs are generated from, hashed: each `fluxapi` module's name and text, and the
    `model.flux` values they use in a CRD (its labels, source-watcher's group)."""
    digest = hashlib.sha256()
    for path in sorted(SHIPPED.parent.glob("*.py")):
        digest.update(f"{path.name}\0".encode())
        digest.update(path.read_bytes())
        digest.update(b"\0")
    used = {"INSTALL_LABELS": flux.INSTALL_LABELS, "SOURCE_EXTENSIONS_GROUP": flux.SOURCE_EXTENSIONS_GROUP}
    digest.update(json.dumps(used, sort_keys=True).encode())
    return f"sha256:{digest.hexdigest()}"


def manifests() -> list[dict[str, Any]]:
    """Every Flux CRD, the caller's own copies: the shipped ones when current, else generated."""
    shipped = _shipped()
    if shipped is None:
        from gitops_sim.model.fluxapi import crds

        return crds.manifests()
    found: list[dict[str, Any]] = json.loads(shipped)["crds"]
    return found


@functools.cache
def _shipped() -> str | None:
    """The shipped copy's text when its fingerprint is current (read once a process), else None."""
    try:
        text = SHIPPED.read_text(encoding="utf-8")
        current = json.loads(text).get("fingerprint") == fingerprint()
    except (OSError, ValueError, AttributeError):
        return None
    return text if current else None


def render() -> str:
    """The text of `fluxapi/crds.json`, generated from the typed API as it is now."""
    from gitops_sim.model.fluxapi import crds

    shipped = {"fingerprint": fingerprint(), "crds": crds.manifests()}
    return json.dumps(shipped, indent=1, ensure_ascii=False) + "\n"
