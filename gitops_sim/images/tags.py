"""What image-reflector-controller keeps of a scan: the tag database, and the scan's arithmetic.

What it does:
- `TagDatabase` is the controller's own store of scanned tags, keyed by canonical image name: a
  peer of artifact storage, never the Kubernetes API (image-reflector-controller keeps its tags in
  BadgerDB; `MemoryTags` is ours, one per simulation). `set_tags` returns the scan's revision:
  the decimal adler32 of the JSON array of the tags as stored, as the Badger database computes it.
- `parse_image` checks `spec.image` as `registry.ParseImageReference` does (no URL scheme, no tag,
  a valid reference), with Flux's messages, and `canonical_name` gives go-containerregistry's
  repository name (`alpine` → `index.docker.io/library/alpine`).
- `exclude` removes the tags any `exclusionList` pattern matches (Go regular expressions,
  `model.goregexp`; Flux's default `^.*\\.sig$`);
  `sort_descending` orders tags as they are stored (byte order, descending) and `latest_tags`
  takes the first 10 for `status.lastScanResult.latestTags`.

Provenance: behaviour of image-reflector-controller internal/controller/
imagerepository_controller.go (`scan`, `filterOutTags`, `sortTagsAndGetLatestTags`),
internal/database/badger.go (`SetTags`, the checksum), internal/storage/repository.go (the
database interface), internal/registry/helper.go (`ParseImageReference`), and
go-containerregistry pkg/name (repository names, Docker Hub defaults); our own code.

Callers: the ImageRepository and ImagePolicy controllers. Pure except `MemoryTags`, which holds
its tags in memory; never reads the cluster, the clock or a registry.

Differences, on purpose:
- Reference validation covers the common shapes (registry host and port, lower-case path
  components, Docker Hub's defaults); go-containerregistry's full grammar is larger.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from gitops_sim.model import goregexp

DEFAULT_EXCLUSION_LIST = ("^.*\\.sig$",)
LATEST_TAGS_COUNT = 10
DOCKER_HUB = "index.docker.io"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")


class ImageError(ValueError):
    """`spec.image` is not an image repository; the message is Flux's."""


class ExclusionError(ValueError):
    """An `exclusionList` pattern does not compile; the message is Flux's."""


@dataclass(frozen=True, slots=True)
class Image:
    """A repository reference: its registry and path, as go-containerregistry names them."""

    registry: str
    repository: str

    @property
    def canonical_name(self) -> str:
        """`ref.Context().String()`: `<registry>/<repository>`."""
        return f"{self.registry}/{self.repository}"


def _split_registry(text: str) -> tuple[str, str]:
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "", text


def parse_image(image: str) -> Image:
    """`registry.ParseImageReference`: the repository `image` names, or `ImageError`."""
    parts = image.split("://")
    if len(parts) > 1:
        raise ImageError(f"image '{image}' should not include URL scheme; remove '{parts[0]}://'")
    registry, path = _split_registry(image)
    name = path.split("@", 1)[0]
    pieces = name.split(":")
    if len(pieces) > 1:
        if (
            len(pieces) == 2
            and _TAG.fullmatch(pieces[1])
            and all(_COMPONENT.fullmatch(c) for c in pieces[0].split("/"))
        ):
            raise ImageError(f"image '{image}' should not include a tag; remove ':{pieces[1]}'")
        raise ImageError(f"could not parse reference: {image}")
    if (
        (registry and not _HOST.fullmatch(registry))
        or not name
        or not all(_COMPONENT.fullmatch(c) for c in name.split("/"))
    ):
        raise ImageError(f"could not parse reference: {image}")
    if registry in ("", "docker.io", "index.docker.io"):
        registry = DOCKER_HUB
        if "/" not in name:
            name = f"library/{name}"
    return Image(registry, name)


def canonical_name(image: str) -> str:
    """The canonical repository name of `spec.image` (`status.canonicalImageName`)."""
    return parse_image(image).canonical_name


def exclude(tags: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """`filterOutTags`: the tags no pattern matches (anywhere in the tag, as Go's MatchString),
    in their order; `ExclusionError` naming the first pattern that does not compile."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(goregexp.compile_go(pattern))
        except goregexp.GoRegexpError as exc:
            raise ExclusionError(f"failed to compile regex {pattern}: {exc}") from exc
    return [t for t in tags if not any(r.search(t) for r in compiled)]


def sort_descending(tags: Iterable[str]) -> list[str]:
    """The tags in descending byte order (Go's `strings.Compare`, reversed, stable)."""
    return sorted(tags, key=lambda t: t.encode(), reverse=True)


def latest_tags(sorted_tags: Sequence[str]) -> list[str]:
    """`status.lastScanResult.latestTags`: the first 10 of the stored order."""
    return list(sorted_tags[:LATEST_TAGS_COUNT])


def checksum(tags: Sequence[str]) -> str:
    """The Badger database's revision of a stored tag list: decimal adler32 of its JSON."""
    data = json.dumps(list(tags), separators=(",", ":"), ensure_ascii=False).encode()
    return str(zlib.adler32(data))


class TagDatabase(Protocol):
    """The controller's tag store (`storage.Database`)."""

    def tags(self, canonical_name: str) -> list[str]:
        """The tags stored for a repository, in stored order; empty when none."""

    def set_tags(self, canonical_name: str, tags: Sequence[str]) -> str:
        """Store the tags (already filtered and sorted) and return the revision."""


class MemoryTags:
    """A `TagDatabase` in memory: one per simulation, as each controller has its own."""

    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, ...]] = {}

    def tags(self, canonical_name: str) -> list[str]:
        return list(self._tags.get(canonical_name, ()))

    def set_tags(self, canonical_name: str, tags: Sequence[str]) -> str:
        self._tags[canonical_name] = tuple(tags)
        return checksum(tags)
