"""A throwaway k3s cluster in Docker, started with testcontainers, for `run --cluster k3s` and tests.

`started(folder)` starts `rancher/k3s` (the version k3d/cluster.yaml pins), writes its kubeconfig
into `folder`, yields the kubeconfig's path, and removes the container on the way out, whatever
happened. `docker_answers()` says whether a Docker engine is there to ask at all.

Callers: the CLI and the real-cluster tests. It must never be imported by the engine: a cluster
is reached only through the `Cluster` protocol. Needs the `k3d` extra (testcontainers) and Docker;
without them it raises `Unavailable` with what to install or start, and nothing else happens.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IMAGE = "rancher/k3s:v1.33.4-k3s1"


class Unavailable(Exception):
    """k3s cannot be started here; the message says what is missing."""


def docker_answers() -> bool:
    docker = shutil.which("docker")
    return (
        docker is not None
        and subprocess.run([docker, "info"], capture_output=True, check=False, timeout=30).returncode == 0
    )


@contextmanager
def started(folder: Path, image: str = IMAGE) -> Iterator[Path]:
    try:
        from testcontainers.community.k3s import K3SContainer  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise Unavailable("--cluster k3s needs testcontainers: pip install 'gitops-sim[k3d]'") from exc
    if not docker_answers():
        raise Unavailable("--cluster k3s needs a Docker engine, and none answers here (docker info failed)")
    with K3SContainer(image) as container:
        kubeconfig = folder / "k3s-kubeconfig"
        kubeconfig.write_text(container.config_yaml())
        yield kubeconfig
