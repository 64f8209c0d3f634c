"""Artifact storage, the analogue of source-controller's `storage` package.

Sources write the content they fetched as a reproducible tar.gz under
``<kind>/<namespace>/<name>/<file>``, addressed by the URL Flux would advertise
(``http://source-controller.flux-system.svc.cluster.local./gitrepository/…``), with a sha256
digest. Consumers (the kustomize controller) fetch artifacts only through this module, never from
an upstream, and the digest is verified on every fetch.

Tarballs are byte-reproducible (`model.archives.pack`), so the same tree always yields the same
digest.

This module must never reach a network and never know which controller calls it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gitops_sim.model import archives, artifacts


class ArtifactError(Exception):
    """An artifact cannot be used: its content does not match its digest."""


class ArtifactNotFound(ArtifactError):
    """The artifact's file is not in storage (any more)."""


class Storage:
    def __init__(self, root: Path, host: str) -> None:
        self.root = root
        self.host = host
        root.mkdir(parents=True, exist_ok=True)

    def url_for(self, path: str) -> str:
        return f"http://{self.host}/{path}"

    def store(
        self,
        kind: str,
        namespace: str,
        name: str,
        filename: str,
        files: dict[str, bytes],
        *,
        revision: str,
        now: str,
    ) -> artifacts.Artifact:
        """Archive `files` and return the artifact that describes them."""
        data = archives.pack(files)
        path = f"{kind.lower()}/{namespace}/{name}/{filename}"
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return artifacts.Artifact(
            path=path,
            url=self.url_for(path),
            revision=revision,
            digest="sha256:" + hashlib.sha256(data).hexdigest(),
            last_update_time=now,
            size=len(data),
        )

    def exists(self, artifact: artifacts.Artifact) -> bool:
        return (self.root / artifact.path).is_file()

    def fetch(self, artifact: artifacts.Artifact) -> dict[str, bytes]:
        """The files in `artifact`, after checking its digest."""
        target = self.root / artifact.path
        if not target.is_file():
            raise ArtifactNotFound(f"artifact not found: {artifact.url}")
        data = target.read_bytes()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != artifact.digest:
            raise ArtifactError(
                f"failed to verify artifact: computed digest doesn't match '{artifact.digest}'"
            )
        return archives.unpack(data)

    def garbage_collect(self, kind: str, namespace: str, name: str, keep: str) -> list[str]:
        """Remove every artifact of one object but `keep` (a path); returns what was removed."""
        folder = self.root / kind.lower() / namespace / name
        removed = []
        if folder.is_dir():
            for file in sorted(folder.iterdir()):
                rel = file.relative_to(self.root).as_posix()
                if rel != keep:
                    file.unlink()
                    removed.append(rel)
        return removed
