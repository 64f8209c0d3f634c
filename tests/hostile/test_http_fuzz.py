"""Random requests against a running API server: whatever the method, path, content type and body,
the answer is never a 500, every error is a JSON `Status` whose `code` is the HTTP status, and the
store holds only well-formed objects afterwards.

Examples are bounded (50); set GITOPS_SIM_FUZZ_EXAMPLES to run more.
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any
from urllib.parse import quote

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation

# Bounded by default, more when GITOPS_SIM_FUZZ_EXAMPLES asks (tests may read it).
EXAMPLES = int(os.environ.get("GITOPS_SIM_FUZZ_EXAMPLES", "50"))  # noqa: TID251

RESOURCES = [
    "/api/v1/namespaces/default/configmaps",
    "/api/v1/namespaces/default/secrets",
    "/api/v1/namespaces",
    "/api/v1/namespaces/default/services",
    "/apis/apps/v1/namespaces/default/deployments",
    "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories",
    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations",
]
CONTENT_TYPES = [
    "application/json",
    "application/yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/vnd.kubernetes.protobuf",
    "text/plain",
    "",
]

names = st.one_of(
    st.sampled_from(["a", "fleet", "default", "flux-system", "x.y"]),
    st.text(min_size=1, max_size=12),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
objects = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.one_of(
            st.sampled_from(["v1", "apps/v1", "source.toolkit.fluxcd.io/v1"]), json_values
        ),
        "kind": st.one_of(
            st.sampled_from(["ConfigMap", "Secret", "Deployment", "GitRepository"]), json_values
        ),
        "metadata": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": st.one_of(names, json_values),
                    "namespace": st.one_of(names, json_values),
                    "labels": json_values,
                    "finalizers": json_values,
                },
            ),
            json_values,
        ),
        "data": json_values,
        "spec": json_values,
    },
)
ops = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "op": st.sampled_from(["add", "remove", "replace", "test", "move", "copy"]),
                "path": st.text(max_size=12),
            },
            optional={"value": json_values, "from": st.text(max_size=12)},
        ),
        json_values,
    ),
    max_size=3,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    objects.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    ops.map(lambda v: json.dumps(v).encode()),
    objects.map(lambda v: yaml.safe_dump(v).encode()),
    st.text(max_size=64).map(str.encode),
)
methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8),
)
queries = st.lists(
    st.tuples(
        st.sampled_from(["dryRun", "fieldManager", "force", "labelSelector", "fieldSelector", "limit",
                         "propagationPolicy", "fieldValidation", "continue"]),
        st.text(max_size=8),
    ),
    max_size=3,
)  # fmt: skip


@st.composite
def paths(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(RESOURCES))
    tail = draw(st.one_of(st.just(""), names.map(lambda n: "/" + quote(n, safe="")), st.text(max_size=10)))
    if tail.startswith("/") and draw(st.booleans()):
        tail += "/status"
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in draw(queries))
    return quote(base + tail, safe="/%") + ("?" + query if query else "")


def assert_store_valid(sim: simulation.Simulation, api: server.ApiServer) -> None:
    """Every stored object has a string name and the kind and version of its resource."""
    with api.lock:
        for info in sim.memory.served_kinds():
            for obj in sim.memory.snapshot_page(info.gvk.group_kind).items:
                assert isinstance(obj["metadata"]["name"], str), obj
                assert (obj["apiVersion"], obj["kind"]) == (info.gvk.api_version, info.gvk.kind), obj
                json.dumps(obj)  # and it encodes


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=methods, path=paths(), content_type=st.sampled_from(CONTENT_TYPES), body=bodies)
def test_random_requests_never_get_a_500_and_leave_the_store_valid(
    served: tuple[simulation.Simulation, server.ApiServer],
    method: str,
    path: str,
    content_type: str,
    body: bytes,
) -> None:
    sim, api = served
    host, port = api.address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    assert response.status != 500, data
    if response.status >= 400 and method != "HEAD":
        status: Any = json.loads(data)
        assert status["kind"] == "Status" and status["code"] == response.status, status
    assert_store_valid(sim, api)
