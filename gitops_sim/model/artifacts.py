"""The artifact a source publishes (fluxcd/pkg `apis/meta` Artifact), as a frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Artifact:
    path: str
    url: str
    revision: str
    digest: str
    last_update_time: str
    size: int
    metadata: tuple[tuple[str, str], ...] = field(default=())
    """Annotations of the upstream (OCI manifest annotations), as sorted pairs."""

    def with_metadata(self, metadata: dict[str, str]) -> Artifact:
        return replace(self, metadata=tuple(sorted(metadata.items())))

    def to_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "url": self.url,
            "revision": self.revision,
            "digest": self.digest,
            "lastUpdateTime": self.last_update_time,
            "size": self.size,
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_status(cls, raw: dict[str, Any]) -> Artifact:
        return cls(
            path=str(raw.get("path", "")),
            url=str(raw.get("url", "")),
            revision=str(raw.get("revision", "")),
            digest=str(raw.get("digest", "")),
            last_update_time=str(raw.get("lastUpdateTime", "")),
            size=int(raw.get("size", 0)),
            metadata=tuple(sorted((raw.get("metadata") or {}).items())),
        )
