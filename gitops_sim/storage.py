"""Artifact storage, the analogue of source-controller's `storage` package.

Sources write the content they fetched as a reproducible tar.gz under
``<kind>/<namespace>/<name>/<file>``, addressed by the URL Flux would advertise
(``http://source-controller.flux-system.svc.cluster.local./gitrepository/…``), with a sha256
digest. Consumers (the kustomize controller) fetch artifacts only through this module, never from
an upstream, and the digest is verified on every fetch.

Tarballs are byte-reproducible (`model.archives.pack`), so the same tree always yields the same
digest. `fetch` unpacks as kustomize-controller's fetcher does (fluxcd/pkg `tar.Untar`): an entry
with a `..` step, an absolute name or a link, or more than 100 MiB in all, is an `ArtifactError`;
the map it returns holds only regular files under clean relative names, so whoever writes it out
stays inside its folder.

Garbage collection follows source-controller's retention rules (`--artifact-retention-ttl`
60s, `--artifact-retention-records` 2): an object's artifacts other than the current one are
removed once older than the TTL, and the oldest are removed until at most the retained number
are left. Ages come from the simulation's clock (Flux reads file modification times).

This module must never reach a network and never know which controller calls it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from gitops_sim.model import archives, artifacts
from gitops_sim.timing import clock as clocks

RETENTION_TTL_MS = 60_000
RETENTION_RECORDS = 2


UNPACKED_CACHE = 8


class ArtifactError(Exception):
    """An artifact cannot be used: its content does not match its digest, or cannot be unpacked."""


class ArtifactNotFound(ArtifactError):
    """The artifact's file is not in storage (any more)."""


class Storage:
    def __init__(
        self,
        root: Path,
        host: str,
        clock: clocks.Clock,
        *,
        retention_ttl_ms: int = RETENTION_TTL_MS,
        retention_records: int = RETENTION_RECORDS,
    ) -> None:
        self.root = root
        self.host = host
        self._clock = clock
        self._unpacked: dict[tuple[str, str, int, int], Mapping[str, bytes]] = {}
        self._ttl_ms = retention_ttl_ms
        self._records = retention_records
        self._created: dict[str, dict[str, int]] = {}  # object folder -> {path: created at (ms)}
        root.mkdir(parents=True, exist_ok=True)

    def url_for(self, path: str) -> str:
        return f"http://{self.host}/{path}"

    def latest_url(self, kind: str, namespace: str, name: str) -> str:
        """The URL of an object's latest artifact (`status.url` of a Bucket, HelmChart or
        OCIRepository): `<kind>/<namespace>/<name>/latest.tar.gz`, kind in lower case."""
        return self.url_for(f"{kind.lower()}/{namespace}/{name}/latest.tar.gz")

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
        return self.store_blob(
            kind, namespace, name, filename, archives.pack(files), revision=revision, now=now
        )

    def store_blob(
        self, kind: str, namespace: str, name: str, filename: str, data: bytes, *, revision: str, now: str
    ) -> artifacts.Artifact:
        """Store `data` as it is (an OCI layer copied unchanged) and describe it."""
        path = f"{kind.lower()}/{namespace}/{name}/{filename}"
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        folder = self._created.setdefault(path.rsplit("/", 1)[0], {})
        folder.pop(path, None)
        folder[path] = int(self._clock.now())  # re-stored: counts as new (a fresh modification time)
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

    def verify(self, artifact: artifacts.Artifact) -> str | None:
        """None when the stored file matches the artifact's digest, else what is wrong (as
        fluxcd/pkg's VerifyArtifact words it)."""
        data = (self.root / artifact.path).read_bytes()
        if "sha256:" + hashlib.sha256(data).hexdigest() != artifact.digest:
            return f"computed digest doesn't match '{artifact.digest}'"
        return None

    def remove(self, artifact: artifacts.Artifact) -> None:
        (self.root / artifact.path).unlink(missing_ok=True)

    def fetch(self, artifact: artifacts.Artifact) -> Mapping[str, bytes]:
        """The files in `artifact`, after checking its digest (read-only: shared between callers).

        The unpacked files of the last few artifacts are kept, keyed by the file's path, size
        and modification time as well as the digest: a file changed on disk (a `corrupted`
        fault) is read and verified again."""
        target = self.root / artifact.path
        try:
            stat = target.stat()
        except FileNotFoundError:
            stat = None
        key = (artifact.path, artifact.digest, stat.st_size, stat.st_mtime_ns) if stat else None
        if key is not None and key in self._unpacked:
            return self._unpacked[key]
        try:
            files = MappingProxyType(archives.unpack(self.fetch_blob(artifact), links="refuse"))
        except archives.ArchiveError as exc:
            raise ArtifactError(f"failed to extract archive: {exc}") from exc
        if key is not None:
            self._unpacked[key] = files
            while len(self._unpacked) > UNPACKED_CACHE:
                del self._unpacked[next(iter(self._unpacked))]
        return files

    def fetch_blob(self, artifact: artifacts.Artifact) -> bytes:
        """The bytes of `artifact` (an index, a chart), after checking its digest."""
        target = self.root / artifact.path
        if not target.is_file():
            raise ArtifactNotFound(f"artifact not found: {artifact.url}")
        data = target.read_bytes()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != artifact.digest:
            raise ArtifactError(
                f"failed to verify artifact: computed digest doesn't match '{artifact.digest}'"
            )
        return data

    def garbage_collect(self, kind: str, namespace: str, name: str, keep: str | None) -> list[str]:
        """Apply the retention rules to one object's artifacts, never removing `keep` (the current
        artifact's path); with `keep=None` (the object is gone) remove them all. Returns what
        was removed, oldest first."""
        key = f"{kind.lower()}/{namespace}/{name}"
        created = self._created.get(key, {})
        now = int(self._clock.now())
        by_age = sorted(created, key=lambda p: (created[p], p))
        if keep is None:
            garbage = by_age
        else:
            garbage = [p for p in by_age if p != keep and now - created[p] > self._ttl_ms]
            left = len(by_age) - len(garbage)
            for path in by_age:
                if left <= self._records:
                    break
                if path != keep and path not in garbage:
                    garbage.append(path)
                    left -= 1
        for path in garbage:
            (self.root / path).unlink(missing_ok=True)
            del created[path]
        return garbage

    def damage(self, path: str, fault: str) -> None:
        """Damage the stored file at `path` (an artifact's `status.artifact.path`), as a scenario's
        `artifact` fault does: `missing` removes it, `corrupted` appends bytes so that its digest
        no longer matches."""
        target = self.root / path
        if fault == "missing":
            target.unlink(missing_ok=True)
        else:
            target.write_bytes(target.read_bytes() + b"corrupted")
