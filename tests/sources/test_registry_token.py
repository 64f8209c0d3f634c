"""A registry that asks for a bearer token (as ghcr.io and Docker Hub do, even for anonymous pulls)
gets one from its token realm, and the request again with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from gitops_sim.sources import loopback, oci


class _TokenRegistry(loopback.Handler):
    """Tags of `acme/app` for a request bearing the token its realm hands out for that scope."""

    asked: list[str]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        port = self.server_ref.address.rsplit(":", 1)[1]
        if parts.path == "/token":
            query = parse_qs(parts.query)
            self.asked.append(f"{query['service'][0]} {query['scope'][0]}")
            self.send(200, json.dumps({"token": f"t-{query['scope'][0]}"}).encode(), "application/json")
        elif parts.path == "/v2/":
            self.send(200, b"{}", "application/json")
        elif self.headers.get("Authorization") == "Bearer t-repository:acme/app:pull":
            self.send(200, json.dumps({"name": "acme/app", "tags": ["v1"]}).encode(), "application/json")
        else:
            challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="registry.test"'
            body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
            self.send(401, body.encode(), "application/json", WWW_Authenticate=challenge)


@pytest.fixture
def registry() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []
    server = loopback.Server(_TokenRegistry, "token-registry", asked=asked)
    try:
        yield server.address, asked
    finally:
        server.stop()


def test_a_bearer_challenge_is_answered_with_a_token_for_the_repository(
    registry: tuple[str, list[str]],
) -> None:
    address, asked = registry
    client = oci.RegistryClient(lambda host: (host, host, False))
    assert client.tags(address, "acme/app", insecure=True) == ["v1"]
    assert asked == ["registry.test repository:acme/app:pull"]
