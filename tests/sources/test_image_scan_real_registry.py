"""The image controllers against Debian's docker-registry (the CNCF distribution registry): the
scan lists tags over the real OCI Distribution API, with its pagination."""

from __future__ import annotations

from pathlib import Path

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import oci
from gitops_sim.testing import ready

POLICY = refs.ObjectRef("image.toolkit.fluxcd.io", "ImagePolicy", "flux-system", "app")
REPO = refs.ObjectRef("image.toolkit.fluxcd.io", "ImageRepository", "flux-system", "app")


def test_an_image_repository_scans_a_real_registry_and_its_policy_picks_the_latest(
    docker_registry: str, tmp_path: Path
) -> None:
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim"))
    try:
        client = oci.RegistryClient(sim.registries.route)
        tags = ["1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "latest"]
        digests = {tag: client.push_image(docker_registry, "acme/app", tag, insecure=True) for tag in tags}
        image = f"{docker_registry}/acme/app"
        sim.cluster.apply(
            {
                "apiVersion": "image.toolkit.fluxcd.io/v1",
                "kind": "ImageRepository",
                "metadata": {"name": "app", "namespace": "flux-system"},
                "spec": {"image": image, "interval": "1m", "insecure": True},
            },
            field_manager="kubectl",
        )
        sim.cluster.apply(
            {
                "apiVersion": "image.toolkit.fluxcd.io/v1",
                "kind": "ImagePolicy",
                "metadata": {"name": "app", "namespace": "flux-system"},
                "spec": {
                    "imageRepositoryRef": {"name": "app"},
                    "policy": {"semver": {"range": ">=1.0.0"}},
                    "digestReflectionPolicy": "IfNotPresent",
                },
            },
            field_manager="kubectl",
        )
        sim.advance(2_000)
        scan = sim.cluster.get(REPO)["status"]["lastScanResult"]
        assert scan["tagCount"] == 5
        assert sorted(sim.image_tags.tags(image)) == sorted(tags)
        assert sim.cluster.get(POLICY)["status"]["latestRef"] == {
            "name": image,
            "tag": "1.10.0",
            "digest": digests["1.10.0"],
        }
        assert ready(sim.cluster.get(POLICY))["message"] == (
            f"Latest image tag for {image} resolved to 1.10.0 with digest {digests['1.10.0']}"
        )
    finally:
        sim.close()


def test_the_tag_list_of_a_real_registry_is_read_page_after_page(
    docker_registry: str, tmp_path: Path
) -> None:
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim"))
    try:
        client = oci.RegistryClient(sim.registries.route)
        tags = [f"1.0.{i}" for i in range(7)]
        for tag in tags:
            client.push_image(docker_registry, "acme/app", tag, insecure=True)
        assert sorted(client.tags(docker_registry, "acme/app", insecure=True, page_size=2)) == sorted(tags)
    finally:
        sim.close()
