"""Which container images pull, and how their containers behave once started.

An image pulls unless: its registry host is one the scenario hosts (something was pushed there)
and the repository has no such tag or digest (Flux's own `ghcr.io/fluxcd/<component>` images
always pull); that host was made unreachable; or a fault says
`unpullable`. Hosts a scenario does not script are pullable (no image is ever downloaded), so
manifests written for real clusters run unchanged. Scenario faults per image: `crash-loop` (the
container exits with code 1 a moment after it starts), `never-ready` (it runs, its readiness
probe never passes), `unpullable`.

Error texts are containerd's and the kubelet's as they appear in pod status and events.

Callers: `workloads.pods` (the kubelet), the scenario runner (faults). Never touches the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitops_sim.model import flux
from gitops_sim.sources import registry

FAULTS = ("crash-loop", "never-ready", "unpullable")
DOCKER_HUB = "docker.io"
FLUX_IMAGES = frozenset(f"ghcr.io/fluxcd/{component}" for component in flux.ALL_COMPONENTS)
"""Flux's own images: they pull even when a scenario hosts ghcr.io for images of its own."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    host: str
    repository: str
    reference: str  # a tag, or a digest (sha256:…)

    @classmethod
    def parse(cls, image: str) -> ImageRef:
        """Docker's normalisation: `nginx` is `docker.io/library/nginx:latest`."""
        name, digest = image.split("@", 1) if "@" in image else (image, "")
        slash = name.rfind("/")
        colon = name.rfind(":")
        tag = ""
        if colon > slash:
            name, tag = name[:colon], name[colon + 1 :]
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            host, repository = first, rest
        else:
            host, repository = DOCKER_HUB, name if rest else f"library/{name}"
        return cls(host, repository, digest or tag or "latest")

    def __str__(self) -> str:
        sep = "@" if self.reference.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{sep}{self.reference}"


@dataclass(slots=True)
class Images:
    registries: registry.Registries | None = None
    faults: dict[ImageRef, str] = field(default_factory=dict)

    def set_fault(self, image: str, fault: str | None) -> None:
        ref = ImageRef.parse(image)
        if fault is None:
            self.faults.pop(ref, None)
        else:
            self.faults[ref] = fault

    def fault(self, image: str) -> str | None:
        return self.faults.get(ImageRef.parse(image))

    def pull_error(self, image: str) -> str | None:
        """Why pulling `image` fails (containerd's message), or None when it pulls."""
        ref = ImageRef.parse(image)
        if self.faults.get(ref) == "unpullable":
            return _not_found(ref)
        regs = self.registries
        if regs is None or ref.host not in regs.hosts or f"{ref.host}/{ref.repository}" in FLUX_IMAGES:
            return None
        if ref.host in regs.unreachable:
            return (
                f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to '
                f'resolve reference "{ref}": failed to do request: Head "https://{ref.host}/v2/'
                f'{ref.repository}/manifests/{ref.reference}": dial tcp: connect: connection refused'
            )
        repo = regs.server.repos.get(f"{ref.host}/{ref.repository}")
        if repo is not None and (ref.reference in repo.tags or ref.reference in repo.manifests):
            return None
        return _not_found(ref)


def _not_found(ref: ImageRef) -> str:
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )
