"""One OCI client, two registries: the simulation's own (in memory) and a real docker-registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitops_sim.model import archives
from gitops_sim.sources import oci, registry


@pytest.fixture
def registries() -> Iterator[registry.Registries]:
    hosted = registry.Registries()
    try:
        yield hosted
    finally:
        hosted.close()


@pytest.fixture(params=["hosted", "docker-registry"])
def target(request: pytest.FixtureRequest, registries: registry.Registries) -> tuple[str, bool]:
    """(registry host, insecure) for each kind of registry."""
    if request.param == "hosted":
        registries.hosts.add("ghcr.io")
        return "ghcr.io", False
    return request.getfixturevalue("docker_registry"), True


def test_a_pushed_artifact_can_be_listed_resolved_and_pulled(
    registries: registry.Registries, target: tuple[str, bool]
) -> None:
    host, insecure = target
    client = oci.RegistryClient(registries.route)
    layer = archives.pack({"deploy/cm.yaml": b"kind: ConfigMap\n"})
    digest = client.push_artifact(
        host,
        "acme/manifests",
        "v1.0.0",
        layer,
        annotations={"org.opencontainers.image.revision": "main@sha1:abc"},
        insecure=insecure,
    )
    client.push_artifact(host, "acme/manifests", "v1.1.0", layer, insecure=insecure)
    assert sorted(client.tags(host, "acme/manifests", insecure=insecure)) == ["v1.0.0", "v1.1.0"]
    assert client.resolve(host, "acme/manifests", "v1.0.0", insecure=insecure) == digest
    manifest = client.manifest(host, "acme/manifests", digest, insecure=insecure)
    assert manifest.body["annotations"] == {"org.opencontainers.image.revision": "main@sha1:abc"}
    [layer_desc] = manifest.body["layers"]
    assert layer_desc["mediaType"] == oci.FLUX_CONTENT_TYPE
    pulled = client.blob(host, "acme/manifests", layer_desc["digest"], insecure=insecure)
    assert archives.unpack(pulled) == {"deploy/cm.yaml": b"kind: ConfigMap\n"}


def test_a_missing_tag_is_manifest_unknown_in_go_containerregistry_words(
    registries: registry.Registries, target: tuple[str, bool]
) -> None:
    host, insecure = target
    client = oci.RegistryClient(registries.route)
    client.push_artifact(host, "acme/app", "v1", archives.pack({"a": b"1"}), insecure=insecure)
    scheme = "http" if insecure else "https"
    with pytest.raises(oci.RegistryError) as caught:
        client.resolve(host, "acme/app", "v9", insecure=insecure)
    assert caught.value.message.startswith(f"HEAD {scheme}://{host}/v2/acme/app/manifests/v9: ")
    assert caught.value.status == 404


def test_an_unreachable_registry_is_a_refused_connection(registries: registry.Registries) -> None:
    registries.hosts.add("ghcr.io")
    registries.unreachable.add("ghcr.io")
    with pytest.raises(oci.RegistryError) as caught:
        oci.RegistryClient(registries.route).tags("ghcr.io", "acme/app")
    assert (
        caught.value.message == 'Get "https://ghcr.io/v2/": dial tcp ghcr.io:443: connect: connection refused'
    )


def test_an_unavailable_repository_answers_503(registries: registry.Registries) -> None:
    registries.hosts.add("ghcr.io")
    client = oci.RegistryClient(registries.route)
    client.push_artifact("ghcr.io", "acme/app", "v1", archives.pack({"a": b"1"}))
    registries.server.repository("ghcr.io", "acme/app").fault = "unavailable"
    with pytest.raises(oci.RegistryError, match="unexpected status code 503 Service Unavailable"):
        client.tags("ghcr.io", "acme/app")


def test_a_host_elsewhere_does_not_resolve(registries: registry.Registries) -> None:
    with pytest.raises(oci.RegistryError, match=r"lookup quay.io: no such host"):
        oci.RegistryClient(registries.route).tags("quay.io", "acme/app")


def test_a_deleted_tag_leaves_the_tag_list(registries: registry.Registries) -> None:
    import threading

    client = oci.RegistryClient(registries.route)
    host, name = registries.host("registry.example.com/acme/app")
    for tag in ("1.0.0", "1.1.0"):
        client.push_image(host, name, tag)
    deleting = threading.Thread(target=registries.server.delete_tag, args=(host, name, "1.1.0"), daemon=True)
    deleting.start()
    deleting.join(timeout=5)
    assert not deleting.is_alive(), "delete_tag must not wait on its own lock"
    assert client.tags(host, name) == ["1.0.0"]


def test_a_dockerconfigjson_auth_entry_is_the_basic_authorization_for_its_host() -> None:
    data = {".dockerconfigjson": '{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}'}
    assert oci.docker_config_auth(data, "ghcr.io") == "Basic dXNlcjpwYXNz"
    assert oci.docker_config_auth(data, "docker.io") is None


def test_a_dockerconfigjson_username_and_password_become_basic_auth() -> None:
    data = {".dockerconfigjson": '{"auths": {"ghcr.io": {"username": "user", "password": "pass"}}}'}
    assert oci.docker_config_auth(data, "ghcr.io") == "Basic dXNlcjpwYXNz"


def test_a_secret_without_dockerconfigjson_gives_no_auth() -> None:
    assert oci.docker_config_auth({}, "ghcr.io") is None


def test_a_dockerconfigjson_that_is_not_json_raises_value_error() -> None:
    with pytest.raises(ValueError, match="Expecting property name"):
        oci.docker_config_auth({".dockerconfigjson": "{not json"}, "ghcr.io")
