"""The HTTP API as raw requests see it: discovery, errors, watch streams, auth."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.cluster.http import server
from gitops_sim.cluster.kube import KubeCluster
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from tests.builders import widget_crd
from tests.http.conftest import kubectl_for


def request(
    api: server.ApiServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    host, port = api.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data) if data else None
    finally:
        conn.close()


CM = json.dumps(
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}
).encode()


def test_legacy_and_aggregated_discovery(api: server.ApiServer) -> None:
    status, _, groups = request(api, "GET", "/apis")
    assert status == 200
    names = [g["name"] for g in groups["groups"]]
    assert "kustomize.toolkit.fluxcd.io" in names and "apps" in names
    status, headers, aggregated = request(
        api,
        "GET",
        "/apis",
        headers={
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        },
    )
    assert headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    ks = next(g for g in aggregated["items"] if g["metadata"]["name"] == "kustomize.toolkit.fluxcd.io")
    resource = ks["versions"][0]["resources"][0]
    assert (resource["resource"], resource["shortNames"]) == ("kustomizations", ["ks"])
    assert resource["subresources"][0]["subresource"] == "status"


def test_a_created_crd_appears_in_discovery(api: server.ApiServer) -> None:
    crd = widget_crd()
    status, _, _ = request(
        api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json.dumps(crd).encode()
    )
    assert status == 201
    status, _, resources = request(api, "GET", "/apis/example.com/v1")
    assert status == 200
    assert [r["name"] for r in resources["resources"]] == ["widgets"]


def test_objects_are_created_listed_and_paged(api: server.ApiServer) -> None:
    for name in ("a", "b", "c"):
        body = json.dumps({"metadata": {"name": name}, "data": {}}).encode()
        assert request(api, "POST", "/api/v1/namespaces/default/configmaps", body)[0] == 201
    status, _, page = request(api, "GET", "/api/v1/namespaces/default/configmaps?limit=2")
    assert status == 200
    assert [i["metadata"]["name"] for i in page["items"]] == ["a", "b"]
    assert page["kind"] == "ConfigMapList" and page["metadata"]["remainingItemCount"] == 1
    _, _, rest = request(
        api, "GET", f"/api/v1/namespaces/default/configmaps?limit=2&continue={page['metadata']['continue']}"
    )
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c"]


def test_errors_are_status_objects_and_the_server_keeps_serving(api: server.ApiServer) -> None:
    assert request(api, "GET", "/api/v1/nonsense")[:1] == (404,)
    status, _, body = request(api, "POST", "/api/v1/namespaces/default/configmaps", b"{not json")
    assert status == 400 and body["kind"] == "Status" and body["reason"] == "BadRequest"
    status, _, body = request(
        api, "PATCH", "/api/v1/namespaces/default/configmaps/a", b"{}", {"Content-Type": "text/plain"}
    )
    assert status in (404, 415)
    request(api, "POST", "/api/v1/namespaces/default/configmaps", CM)
    status, _, body = request(
        api, "PATCH", "/api/v1/namespaces/default/configmaps/a", b"{}", {"Content-Type": "text/plain"}
    )
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    status, _, body = request(
        api, "POST", "/api/v1/namespaces/default/configmaps", b"x" * (3 * 1024 * 1024 + 1)
    )
    assert status == 413
    status, _, body = request(api, "GET", "/api/v1/namespaces/default/configmaps/a")
    assert status == 200 and body["data"] == {"k": "v"}


def test_a_namespace_in_the_body_must_match_the_url(api: server.ApiServer) -> None:
    body = json.dumps({"metadata": {"name": "a", "namespace": "kube-system"}}).encode()
    status, _, error = request(api, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert status == 400
    assert (
        error["message"]
        == "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_an_apply_patch_may_be_yaml_or_json(api: server.ApiServer) -> None:
    target = "/api/v1/namespaces/default/configmaps/a?fieldManager=me"
    apply = {"Content-Type": "application/apply-patch+yaml"}
    yaml_body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: 'yes'\n"
    status, _, body = request(api, "PATCH", target, yaml_body, apply)
    assert (status, body["data"]) == (201, {"k": "yes"})
    status, _, body = request(api, "PATCH", target, CM, apply)
    assert (status, body["data"]) == (200, {"k": "v"})


def test_reads_after_a_change_serve_the_new_version(api: server.ApiServer) -> None:
    """The server keeps each object's JSON: a change must not serve the old bytes."""
    collection = "/api/v1/namespaces/default/configmaps"
    request(api, "POST", collection, CM)
    assert request(api, "GET", collection)[2]["items"][0]["data"] == {"k": "v"}
    assert request(api, "GET", f"{collection}/a")[2]["data"] == {"k": "v"}
    merge = {"Content-Type": "application/merge-patch+json"}
    request(api, "PATCH", f"{collection}/a", b'{"data": {"k": "w"}}', merge)
    assert request(api, "GET", collection)[2]["items"][0]["data"] == {"k": "w"}
    assert request(api, "GET", f"{collection}/a")[2]["data"] == {"k": "w"}


def test_force_is_refused_on_a_patch_that_is_not_an_apply(api: server.ApiServer) -> None:
    request(api, "POST", "/api/v1/namespaces/default/configmaps", CM)
    merge = {"Content-Type": "application/merge-patch+json"}
    target = "/api/v1/namespaces/default/configmaps/a?force=true"
    status, _, error = request(api, "PATCH", target, b'{"data": {"k": "w"}}', merge)
    assert (status, error["reason"]) == (422, "Invalid")
    assert error["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'
    )
    assert request(api, "GET", "/api/v1/namespaces/default/configmaps/a")[2]["data"] == {"k": "v"}


def test_delete_collection_removes_the_selected_objects_and_lists_them(api: server.ApiServer) -> None:
    collection = "/api/v1/namespaces/default/configmaps"
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        body = {"metadata": {"name": name, "labels": {"team": team}}}
        request(api, "POST", collection, json.dumps(body).encode())
    status, _, deleted = request(api, "DELETE", f"{collection}?labelSelector=team%3Dx")
    assert (status, deleted["kind"]) == (200, "ConfigMapList")
    assert [o["metadata"]["name"] for o in deleted["items"]] == ["a", "b"]
    assert [o["metadata"]["name"] for o in request(api, "GET", collection)[2]["items"]] == ["c"]


def test_a_verb_a_resource_does_not_serve_is_405_and_changes_nothing(api: server.ApiServer) -> None:
    collection = "/api/v1/namespaces/default/configmaps"
    request(api, "POST", collection, CM)
    status, _, error = request(api, "PUT", collection, CM)
    assert (status, error["reason"]) == (405, "MethodNotAllowed")
    assert error["message"] == 'PUT is not supported on resources of kind "configmaps"'
    status, _, error = request(api, "DELETE", f"{collection}/a", b"{not json")
    assert (status, error["reason"]) == (400, "BadRequest")
    assert request(api, "GET", f"{collection}/a")[0] == 200


def test_a_query_parameter_that_is_not_a_number_is_a_bad_request(api: server.ApiServer) -> None:
    for query in ("limit=ten", "watch=true&timeoutSeconds=soon"):
        status, _, error = request(api, "GET", f"/api/v1/namespaces/default/configmaps?{query}")
        assert (status, error["reason"]) == (400, "BadRequest"), query
    assert request(api, "GET", "/api/v1/namespaces/default/configmaps?limit=1")[0] == 200


def test_a_bug_in_a_request_is_a_500_status_and_the_server_goes_on(
    api: server.ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> server.Response:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(api, "_route", broken)
        status, _, error = request(api, "GET", "/version")
    assert (status, error["reason"], error["message"]) == (
        500,
        "InternalError",
        "Internal error occurred: boom",
    )
    assert request(api, "GET", "/version")[0] == 200


def test_a_malformed_json_patch_is_a_bad_request(api: server.ApiServer) -> None:
    request(api, "POST", "/api/v1/namespaces/default/configmaps", CM)
    patch = {"Content-Type": "application/json-patch+json"}
    status, _, error = request(api, "PATCH", "/api/v1/namespaces/default/configmaps/a", b"[{", patch)
    assert (status, error["reason"]) == (400, "BadRequest")


def test_json_bodies_may_not_hold_nan_or_infinity(api: server.ApiServer) -> None:
    body = b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}, "data": NaN}'
    status, _, error = request(api, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert status == 400 and error["reason"] == "BadRequest"


def test_unknown_fields_come_back_as_warnings(api: server.ApiServer) -> None:
    body = json.dumps({"metadata": {"name": "w"}, "data": {}, "colour": "red"}).encode()
    status, headers, _ = request(api, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert status == 201
    assert headers["Warning"] == '299 - "unknown field \\"colour\\""'


def test_a_watch_streams_changes_as_json_lines(
    served: tuple[simulation.Simulation, server.ApiServer],
) -> None:
    sim, api = served
    host, port = api.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    rv = sim.memory.resource_version
    conn.request(
        "GET", f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=5"
    )
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"

    def write() -> None:
        request(api, "POST", "/api/v1/namespaces/default/configmaps", CM)
        request(api, "DELETE", "/api/v1/namespaces/default/configmaps/a")

    writer = threading.Thread(target=write)
    writer.start()
    lines = [json.loads(response.readline()), json.loads(response.readline())]
    writer.join()
    conn.close()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "a"), ("DELETED", "a")]


def test_a_token_is_required_when_set(served: tuple[simulation.Simulation, server.ApiServer]) -> None:
    sim, _ = served
    guarded = server.ApiServer(sim.memory, sim.clock, token="s3cret")
    guarded.start()
    try:
        assert request(guarded, "GET", "/version")[0] == 401
        assert request(guarded, "GET", "/version", headers={"Authorization": "Bearer s3cret"})[0] == 200
    finally:
        guarded.stop()


def test_the_server_binds_to_loopback_by_default(api: server.ApiServer) -> None:
    assert api.address.startswith("127.0.0.1:")


@pytest.fixture
def secure(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> Iterator[server.ApiServer]:
    """A second front on the same store, over HTTPS with its certificate in tmp_path/tls."""
    sim, _ = served
    api = server.ApiServer(sim.memory, sim.clock, tls_dir=tmp_path / "tls")
    api.start()
    try:
        yield api
    finally:
        api.stop()


def test_https_with_a_self_signed_certificate_verified_by_kubectl_and_the_client(
    secure: server.ApiServer, tmp_path: Path
) -> None:
    assert secure.url.startswith("https://127.0.0.1:")
    got = kubectl_for(secure, tmp_path)("get", "ns", "default", "-o", "name")
    assert got.stdout.strip() == "namespace/default", got.stderr
    client = KubeCluster.from_kubeconfig(str(tmp_path / "kubeconfig"))
    assert client.get(refs.ObjectRef("", "Namespace", "", "default"))["metadata"]["name"] == "default"


def test_a_silent_client_does_not_stall_an_https_server(secure: server.ApiServer, tmp_path: Path) -> None:
    host, port = secure.address.split(":")
    with socket.create_connection((host, int(port))):  # connects, never says hello
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "tls.crt"))
        conn = http.client.HTTPSConnection(host, int(port), timeout=5, context=context)
        conn.request("GET", "/version")
        assert conn.getresponse().status == 200
        conn.close()
