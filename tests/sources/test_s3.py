"""One S3 client, two servers: the simulation's own and moto's (a real S3 implementation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitops_sim.sources import s3
from tests.sources.conftest import free_port


@pytest.fixture
def endpoints() -> Iterator[s3.Endpoints]:
    hosted = s3.Endpoints()
    try:
        yield hosted
    finally:
        hosted.close()


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["hosted", "moto"])
def client(request: pytest.FixtureRequest, endpoints: s3.Endpoints) -> s3.S3Client:
    keys = s3.Keys("AKIAFLUX", "s3cret-key")
    if request.param == "hosted":
        endpoints.bucket("minio.example.com:9000", "fleet").keys = keys
        return s3.S3Client(endpoints.route, "minio.example.com:9000", secure=False, keys=keys)
    return s3.S3Client(endpoints.route, request.getfixturevalue("moto_endpoint"), secure=False, keys=keys)


def test_objects_put_are_listed_with_etags_and_read_back(client: s3.S3Client) -> None:
    client.create_bucket("fleet")
    etag = client.put_object("fleet", "apps/cm.yaml", b"kind: ConfigMap\n")
    client.put_object("fleet", "other/x.yaml", b"x")
    assert client.bucket_exists("fleet")
    assert not client.bucket_exists("missing")
    assert client.list_objects("fleet", "apps/") == {"apps/cm.yaml": etag}
    assert client.get_object("fleet", "apps/cm.yaml") == b"kind: ConfigMap\n"


def test_a_wrong_secret_key_is_refused_by_the_hosted_server(endpoints: s3.Endpoints) -> None:
    endpoints.bucket("minio.example.com:9000", "fleet").keys = s3.Keys("AKIAFLUX", "right")
    wrong = s3.S3Client(
        endpoints.route, "minio.example.com:9000", secure=False, keys=s3.Keys("AKIAFLUX", "wrong")
    )
    with pytest.raises(s3.S3Error) as caught:
        wrong.list_objects("fleet")
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.status == 403


def test_an_unreachable_endpoint_is_a_refused_connection(endpoints: s3.Endpoints) -> None:
    endpoints.bucket("minio.example.com:9000", "fleet")
    endpoints.unreachable.add("minio.example.com:9000")
    with pytest.raises(
        s3.S3Error,
        match=r'^Head "http://minio.example.com:9000/fleet": '
        r"dial tcp minio.example.com:9000: connect: connection refused$",
    ):
        s3.S3Client(endpoints.route, "minio.example.com:9000", secure=False).bucket_exists("fleet")
