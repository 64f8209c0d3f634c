"""The HTTP front of the in-memory API: kubectl and the Kubernetes Python client talk to it.

`ApiServer` serves a `MemoryCluster` on 127.0.0.1 (unless told otherwise) with the routes,
discovery, verbs and error shapes of the kube-apiserver that clients depend on (kube-api.md §1):
legacy and aggregated discovery, minimal OpenAPI v3, GET/LIST (selectors, pages, Table output),
streaming WATCH (chunked JSON lines, bookmarks, watch-list), POST, PUT (and /status), the four
PATCH types, DELETE with propagation, deletecollection, `dryRun=All`, `fieldValidation` with
`Warning` headers, optional bearer-token auth. Every failure is a `Status` with the real code.
The `scale` subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets and CRDs
declaring `subresources.scale`, listed in discovery as kubectl's scale client looks it up; Table
rows with `includeObject` (kubectl's `--sort-by` sorts on them); `pods/log` answers a 400 Status
saying the simulated node runs no containers (known difference: a real kubelet streams logs).

One lock serialises every store operation: requests run on their own threads, and an engine
driving the same store must take the same lock (`ApiServer.lock`). Watch events are queued by
the store's callback and written by the request's thread; a client that goes away ends its watch.
Stored objects are serialised once per version (`_Encoded`), as the apiserver's watch cache does:
a LIST joins cached bytes, and ten watchers of one change share one encoding.

Optionally HTTPS with a self-signed certificate (`tls_dir`), which the kubeconfig it writes
carries as the CA. `/openapi/v2` is served by `cluster.http.openapi` (names and definitions, no
paths).

Hostile input (what it must never do: answer bad input with a 500, hang, crash a connection's
thread with a traceback, or let a body reach the store unchecked):
- bodies are bounded before parsing (3 MiB, 413, chunked bodies too) and decoded by `decode`
  (bounded depth, media types, Go's typed-field and kind checks, `dryRun` values);
- `Content-Length` must be a decimal number (400), every method answers a JSON Status (405 for
  what a resource does not serve), and http.server's own errors are JSON Statuses too;
- `/healthz`, `/livez`, `/readyz` answer `ok` (with `?verbose`, one line per check), also to
  anonymous requests on a token-guarded server, as the apiserver's public-info-viewer role allows;
- a connection silent for `idle_timeout` is closed; at most `max_connections` are served at once
  (the rest wait in the listen backlog); a watch whose client left is noticed within a poll
  (`WATCH_POLL_S`) and frees its thread;
- an unexpected exception is a 500 Status, logged at debug level, never printed.
Known differences: Go's net/http answers transport errors (bad Content-Length, 414, 431) in plain
text; we answer a JSON Status with the same code. The idle timeout applies to each read, so a
client trickling one byte per interval keeps its connection (Go's ReadTimeout bounds the whole
request).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import queue
import re
import select
import socket
import ssl
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import yaml

from gitops_sim.cluster import backend, errors, kinds
from gitops_sim.cluster.http import decode, discovery, openapi, protobuf, tables, tls
from gitops_sim.cluster.memory import store
from gitops_sim.model import objects, refs, yamlsafe
from gitops_sim.timing import clock as clocks

MAX_BODY = decode.MAX_BODY
JSON = "application/json"
WATCH_POLL_S = 0.5
IDLE_TIMEOUT_S = 60.0
"""How long a connection may stay silent (between requests, or in the middle of one) before it is
closed. Go's net/http server has no default; the apiserver's is its 60 s request timeout."""
MAX_CONNECTIONS = 100
"""Connections served at once, each on its own thread; more wait in the listen backlog."""
HEALTH = ("healthz", "livez", "readyz")
_LOG = logging.getLogger(__name__)


UPSTREAMS_EXTENSION = "gitops-sim.io/upstreams"
"""The kubeconfig extension naming where a served simulation's upstreams answer."""


@dataclass
class Response:
    status: int
    body: Any = None
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Generator[bytes, None, None] | None = None
    raw: bytes | None = None
    """The body already serialised (instead of `body`)."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class _Encoded:
    """The JSON of stored objects, one encoding per object version.

    Keyed by uid and checked by identity: the store never changes a stored object in place, so
    the same object always has the same bytes. The cache is dropped whole when it holds more than
    `limit` objects (deleted objects' entries go with it). Used under `ApiServer.lock`.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self._limit = limit
        self._by_uid: dict[str, tuple[objects.RawObject, bytes]] = {}

    def __call__(self, obj: objects.RawObject) -> bytes:
        uid = obj.get("metadata", {}).get("uid", "")
        hit = self._by_uid.get(uid)
        if hit is not None and hit[0] is obj:
            return hit[1]
        data = _dumps(obj)
        if len(self._by_uid) >= self._limit:
            self._by_uid.clear()
        self._by_uid[uid] = (obj, data)
        return data


def _status(error: errors.ApiError) -> Response:
    return Response(error.code, error.status())


def _not_found_path() -> errors.NotFound:
    return errors.NotFound("the server could not find the requested resource")


class Gone(Exception):
    """The client hung up."""


class _Query(dict[str, str]):
    """Query parameters: the last value of each, and `every(name)` for all of them."""

    def __init__(self, lists: dict[str, list[str]]) -> None:
        super().__init__({k: v[-1] for k, v in lists.items()})
        self._lists = lists

    def every(self, name: str) -> list[str]:
        return self._lists.get(name, [])


class ApiServer:
    def __init__(
        self,
        cluster: store.MemoryCluster,
        clock: clocks.Clock,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        tls_dir: Path | None = None,
        idle_timeout: float = IDLE_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        """`tls_dir`: serve HTTPS with a self-signed certificate written there (`cluster.http.tls`).
        `idle_timeout`: seconds a connection may stay silent before it is closed.
        `max_connections`: connections served at once; more wait in the listen backlog."""
        self.cluster = cluster
        self.clock = clock
        self.event_calendar: Callable[[], int] | None = None
        """The calendar Events are stamped with when it is not the simulation's (a simulation
        served faster than real time: `events.Recorder.stamp_with`); Event tables count ages
        against it."""
        self.token = token
        self.lock = threading.RLock()
        self._stopping = threading.Event()
        self._watch_epoch = 0
        handler = type("Handler", (_Handler,), {"api": self, "timeout": idle_timeout})
        self._httpd = _Server((host, port), handler, max_connections)
        self._thread: threading.Thread | None = None
        self._ca: bytes | None = None
        self._encoded = _Encoded()
        self._groups: tuple[tuple[kinds.KindInfo, ...], dict[str, dict[str, list[kinds.KindInfo]]]] = (
            (),
            {},
        )
        if tls_dir is not None:
            cert, key = tls.self_signed(tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            # The handshake runs on the connection's own thread (`_Handler.setup`), so that a client
            # that connects and says nothing cannot stall the accept loop.
            self._httpd.socket = context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
            self._ca = cert.read_bytes()

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host!s}:{port}" if isinstance(host, str) else f"{host.decode()}:{port}"

    @property
    def url(self) -> str:
        return f"{'https' if self._ca else 'http'}://{self.address}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="gitops-sim-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: end the watches, close every connection, and wait for their threads."""
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()  # joins the request threads
        if self._thread is not None:
            self._thread.join(timeout=5)

    def end_watches(self) -> None:
        """End every open watch stream, as the apiserver does when a watch reaches its request
        timeout; clients are expected to watch again from the last resourceVersion they saw."""
        self._watch_epoch += 1

    def _cluster_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"server": self.url}
        if self._ca is not None:
            entry["certificate-authority-data"] = base64.b64encode(self._ca).decode()
        return entry

    def kubeconfig(self, upstreams: dict[str, str] | None = None) -> str:
        """A kubeconfig for this server. `upstreams` (what the simulation serves where: its git
        server's base URL, for example) goes into the cluster entry's `extensions` as
        `gitops-sim.io/upstreams`, where `gitops-sim flux` finds it and kubectl ignores it."""
        # kubectl asks for a username on an HTTPS server with no credentials; any token will do when
        # the server checks none.
        token = self.token or ("gitops-sim" if self._ca is not None else None)
        user: dict[str, Any] = {"token": token} if token else {}
        cluster = self._cluster_entry()
        if upstreams:
            cluster["extensions"] = [{"name": UPSTREAMS_EXTENSION, "extension": dict(upstreams)}]
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "gitops-sim",
                "clusters": [{"name": "gitops-sim", "cluster": cluster}],
                "users": [{"name": "gitops-sim", "user": user}],
                "contexts": [
                    {"name": "gitops-sim", "context": {"cluster": "gitops-sim", "user": "gitops-sim"}}
                ],
            },
            sort_keys=False,
        )

    # -- request handling ----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        parts = urlsplit(target)
        segments = [s for s in parts.path.split("/") if s]
        anonymous = "authorization" not in headers
        if segments[:1] and segments[0] in HEALTH and (anonymous or not self.token):
            # The health endpoints are open to anonymous requests (system:public-info-viewer).
            return _health(method, segments, parts.query)
        if self.token and headers.get("authorization") != f"Bearer {self.token}":
            return Response(
                401,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": "Unauthorized",
                    "reason": "Unauthorized",
                    "code": 401,
                },
            )
        query = _Query(parse_qs(parts.query, keep_blank_values=True))
        try:
            with self.lock:
                return self._route(method, segments, query, headers, body)
        except errors.ApiError as error:
            return _status(error)
        except Exception as exc:  # a bug of ours: answer as the apiserver answers a panic, and go on
            # Logged (not printed): a hostile client must not be able to fill our stderr.
            _LOG.debug("internal error serving %s %s", method, target, exc_info=True)
            return _status(errors.ApiError(f"Internal error occurred: {exc}"))  # 500 InternalError

    def _route(
        self, method: str, seg: list[str], query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        accept = headers.get("accept", "")
        served = self.cluster.served_kinds()
        if self._groups[0] is not served:  # grouped again only when the served kinds change
            self._groups = (served, discovery.groups(served))
        by_group = self._groups[1]
        if method == "GET":
            if seg == ["version"]:
                return Response(200, discovery.KUBERNETES_VERSION)
            if seg == ["api"]:
                if "as=APIGroupDiscoveryList" in accept:
                    core = self._discovery(discovery.aggregated(by_group, core=True), by_group)
                    return Response(200, core, discovery.AGGREGATED)
                return Response(200, discovery.api_versions(self.address))
            if seg == ["apis"]:
                if "as=APIGroupDiscoveryList" in accept:
                    apis = self._discovery(discovery.aggregated(by_group, core=False), by_group)
                    return Response(200, apis, discovery.AGGREGATED)
                return Response(200, discovery.group_list(by_group))
            if seg == ["api", "v1"]:
                listed = discovery.resource_list("v1", by_group.get("", {}).get("v1", []))
                return Response(200, self._discovery(listed, by_group))
            if len(seg) == 3 and seg[0] == "apis" and seg[2] in by_group.get(seg[1], {}):
                listed = discovery.resource_list(f"{seg[1]}/{seg[2]}", by_group[seg[1]][seg[2]])
                return Response(200, self._discovery(listed, by_group))
            if seg == ["openapi", "v2"]:
                if openapi.wants_protobuf(accept):
                    return Response(200, content_type=openapi.PROTOBUF, raw=openapi.v2_protobuf())
                return Response(200, openapi.v2_document(served))
            if seg == ["openapi", "v3"]:
                return Response(200, discovery.openapi_index(by_group))
            if seg[:2] == ["openapi", "v3"]:
                group, version = (
                    ("", "v1")
                    if seg[2:] == ["api", "v1"]
                    else (seg[3], seg[4])
                    if len(seg) == 5
                    else (None, None)
                )
                if group is not None and version in by_group.get(group, {}):
                    return Response(
                        200, discovery.openapi_group_version(group, version, by_group[group][version])
                    )
        target = self._resource(seg, by_group)
        if target is None:
            raise _not_found_path()
        info, namespace, name, subresource = target
        response = self._verb(method, info, namespace, name, subresource, query, headers, body)
        if info.deprecation:  # every request through a deprecated version is warned, reads too
            response.headers.insert(0, ("Warning", _warning(info.deprecation)))
        return response

    def _resource(
        self, seg: list[str], by_group: dict[str, dict[str, list[kinds.KindInfo]]]
    ) -> tuple[kinds.KindInfo, str | None, str | None, str] | None:
        """(kind, namespace, name, subresource) for a resource URL, or None."""
        if seg[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", seg[2:]
        elif len(seg) >= 3 and seg[0] == "apis":
            group, version, rest = seg[1], seg[2], seg[3:]
        else:
            return None
        served = {i.plural: i for i in by_group.get(group, {}).get(version, [])}
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] in served:
            namespace, rest = rest[1], rest[2:]
        if not rest or rest[0] not in served or len(rest) > 3:
            return None
        info = served[rest[0]]
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else ""
        if subresource not in ("", "status", "scale", "log"):
            return None
        if subresource == "status" and not info.status_subresource:
            return None
        if subresource == "scale" and self._scale_paths(info) is None:
            return None
        if subresource == "log" and (info.custom or info.gvk.group or info.gvk.kind != "Pod"):
            return None
        if namespace is not None and not info.namespaced:
            return None
        return info, namespace, name, subresource

    def _verb(
        self,
        method: str,
        info: kinds.KindInfo,
        namespace: str | None,
        name: str | None,
        subresource: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        verb = {"POST": "Create", "PUT": "Update", "PATCH": "Patch", "DELETE": "Delete"}.get(method)
        every = query.every("dryRun") if isinstance(query, _Query) else []
        dry_run = verb is not None and decode.dry_run(every, f"{verb}Options")
        manager = query.get("fieldManager") or headers.get("user-agent", "unknown").split("/")[0][:128]
        validation: backend.FieldValidation = query.get("fieldValidation", "Warn")  # type: ignore[assignment]
        if validation not in ("Ignore", "Warn", "Strict"):
            raise errors.BadRequest(
                f"fieldValidation must be one of Ignore, Warn, Strict; got {validation!r}"
            )
        warnings: list[str] = []
        write: dict[str, Any] = {
            "field_manager": manager,
            "dry_run": dry_run,
            "field_validation": validation,
            "warnings": warnings,
        }
        sub: backend.Subresource = "status" if subresource == "status" else ""

        def ref() -> refs.ObjectRef:
            assert name is not None
            return refs.ObjectRef(info.gvk.group, info.gvk.kind, namespace or "", name)

        def done(code: int, obj: Any) -> Response:
            return Response(code, obj, headers=[("Warning", _warning(w)) for w in warnings])

        if subresource == "scale" and name is not None:
            return done(200, self._scale(method, info, ref(), body, headers, write))
        if subresource == "log" and name is not None and method == "GET":
            return self._log(ref(), query)
        if subresource in ("scale", "log"):
            resource = f"{info.plural}/{subresource}"
            raise errors.MethodNotAllowed(f'{method} is not supported on resources of kind "{resource}"')
        if method == "GET" and name is None:
            if query.get("watch") in ("true", "1"):
                return self._watch(info, namespace, query, as_table="as=Table" in headers.get("accept", ""))
            return self._list(info, namespace, query, headers.get("accept", ""))
        if method == "GET":
            obj = self.cluster.snapshot(ref())
            if "as=Table" in headers.get("accept", ""):
                return Response(200, self._table(info, [obj], query), _table_type(headers))
            return Response(200, raw=self._encoded(info.present(obj)))
        if method == "POST" and name is None:
            obj = self._body(body, info, namespace, None, headers)
            return done(201, self.cluster.create(obj, **write))
        if method == "PUT" and name is not None:
            obj = self._body(body, info, namespace, name, headers)
            return done(200, self.cluster.update(obj, subresource=sub, **write))
        if method == "PATCH" and name is not None:
            return done(*self._patch(info, ref(), body, headers, query, sub, write))
        if method == "DELETE" and not sub:
            options = self._delete_options(body, headers)
            propagation = query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
            if propagation not in ("Background", "Foreground", "Orphan"):
                raise errors.BadRequest(
                    f"propagationPolicy must be Background, Foreground or Orphan; got {propagation!r}"
                )
            if name is None:
                return self._delete_collection(
                    info, namespace, query, cast(backend.Propagation, propagation), dry_run
                )
            deleted = self.cluster.delete(
                ref(), propagation=cast(backend.Propagation, propagation), dry_run=dry_run
            )
            if deleted is not None:
                return Response(200, info.present(deleted))
            return Response(
                200,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {"name": name, "group": info.gvk.group, "kind": info.plural},
                },
            )
        resource = info.plural + (f".{info.gvk.group}" if info.gvk.group else "")
        raise errors.MethodNotAllowed(f'{method} is not supported on resources of kind "{resource}"')

    def _scale_paths(self, info: kinds.KindInfo) -> tuple[str, str, str] | None:
        """(spec replicas, status replicas, label selector) paths of a kind serving `scale`, or None.

        Built-ins: Deployment, ReplicaSet and StatefulSet (apps/v1), whose selector is the label
        selector at `.spec.selector`; a CRD version's `subresources.scale` (an empty selector path
        when it declares none)."""
        if not info.custom:
            if info.gvk.group == "apps" and info.gvk.kind in ("Deployment", "ReplicaSet", "StatefulSet"):
                return ".spec.replicas", ".status.replicas", ".spec.selector"
            return None
        crd_ref = refs.ObjectRef(
            "apiextensions.k8s.io", "CustomResourceDefinition", "", f"{info.plural}.{info.gvk.group}"
        )
        try:
            crd = self.cluster.snapshot(crd_ref)
        except errors.NotFound:
            return None
        for version in (crd.get("spec") or {}).get("versions") or []:
            if isinstance(version, dict) and version.get("name") == info.gvk.version:
                scale = (version.get("subresources") or {}).get("scale")
                if isinstance(scale, dict) and scale.get("specReplicasPath"):
                    return (
                        str(scale["specReplicasPath"]),
                        str(scale.get("statusReplicasPath") or ""),
                        str(scale.get("labelSelectorPath") or ""),
                    )
        return None

    def _scale(
        self,
        method: str,
        info: kinds.KindInfo,
        ref: refs.ObjectRef,
        body: bytes,
        headers: dict[str, str],
        write: dict[str, Any],
    ) -> dict[str, Any]:
        """The `scale` subresource: an autoscaling/v1 Scale read from the object (GET), or written
        back to its spec replicas path (PUT of a Scale, or a merge, strategic or JSON patch of
        one), as the apiserver's scale storage does (`pkg/registry/apps/deployment/storage` and
        apiextensions' `customresource.ScaleREST`). A PUT naming a resourceVersion is an
        optimistic update of the object (409 when it moved on)."""
        paths = self._scale_paths(info)
        assert paths is not None
        obj = self.cluster.snapshot(ref)
        if method == "GET":
            return _scale_of(obj, paths, info)
        current = _scale_of(obj, paths, info)
        if method == "PUT":
            kind = decode.media_type(headers)
            decode.check_media_type(kind, (decode.JSON, decode.YAML))
            wanted = decode.value(body, yaml_ok=kind == decode.YAML)
        elif method == "PATCH":
            wanted = _patched_scale(current, body, decode.media_type(headers))
        else:
            resource = f"{info.plural}/scale"
            raise errors.MethodNotAllowed(f'{method} is not supported on resources of kind "{resource}"')
        replicas = (wanted.get("spec") or {}).get("replicas") if isinstance(wanted, dict) else None
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise errors.Invalid(
                f'Scale.autoscaling "{ref.name}" is invalid: spec.replicas: Invalid value: '
                f"{json.dumps(replicas)}: must be greater than or equal to 0"
            )
        updated = json.loads(json.dumps(obj))
        rv = ((wanted.get("metadata") or {}) if isinstance(wanted, dict) else {}).get("resourceVersion")
        if method == "PUT" and rv:
            updated["metadata"]["resourceVersion"] = rv
        _set_path(updated, paths[0], replicas)
        write = {k: v for k, v in write.items() if k != "field_validation"}
        stored = self.cluster.update(updated, **write)
        return _scale_of(stored, paths, info)

    def _log(self, ref: refs.ObjectRef, query: dict[str, str]) -> Response:
        """`pods/{name}/log` (`container`, `tailLines`, `sinceSeconds`; `follow` answers what
        there is and ends): the store's `pod_log`, as text."""
        text = self.cluster.pod_log(
            ref,
            container=query.get("container") or None,
            tail_lines=_integer(query, "tailLines") if "tailLines" in query else None,
            since_seconds=_integer(query, "sinceSeconds") if "sinceSeconds" in query else None,
        )
        return Response(200, raw=text.encode(), content_type="text/plain")

    def _discovery(self, doc: dict[str, Any], by_group: dict[str, dict[str, list[kinds.KindInfo]]]) -> Any:
        """A discovery document with the `scale` subresources of the kinds that serve one (the
        legacy `<plural>/scale` entry or the aggregated `subresources` item, kind autoscaling/v1
        Scale), as kubectl's scale client looks them up, and `pods/log`."""
        scale_kind = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        verbs = ["get", "patch", "update"]
        if doc.get("kind") == "APIResourceList":
            group, _, version = str(doc["groupVersion"]).rpartition("/")
            infos = {i.plural: i for i in by_group.get(group, {}).get(version, [])}
            resources: list[dict[str, Any]] = []
            for entry in doc["resources"]:
                resources.append(entry)
                info = infos.get(entry["name"])
                if info is None:
                    continue
                if self._scale_paths(info) is not None:
                    resources.append(
                        {
                            "name": f"{info.plural}/scale",
                            "singularName": "",
                            "namespaced": info.namespaced,
                            **scale_kind,
                            "verbs": verbs,
                        }
                    )
                if not group and info.gvk.kind == "Pod":
                    resources.append(
                        {
                            "name": "pods/log",
                            "singularName": "",
                            "namespaced": True,
                            "kind": "Pod",
                            "verbs": ["get"],
                        }
                    )
            doc["resources"] = resources
            return doc
        for item in doc.get("items", []):
            group = item["metadata"]["name"]
            for listed in item["versions"]:
                infos = {i.plural: i for i in by_group.get(group, {}).get(listed["version"], [])}
                for entry in listed["resources"]:
                    info = infos.get(entry["resource"])
                    if info is None:
                        continue
                    extra = []
                    if self._scale_paths(info) is not None:
                        extra.append({"subresource": "scale", "responseKind": scale_kind, "verbs": verbs})
                    if not group and info.gvk.kind == "Pod":
                        pod = {"group": "", "version": "v1", "kind": "Pod"}
                        extra.append({"subresource": "log", "responseKind": pod, "verbs": ["get"]})
                    if extra:
                        entry["subresources"] = [*entry.get("subresources", []), *extra]
        return doc

    def _delete_collection(
        self,
        info: kinds.KindInfo,
        namespace: str | None,
        query: dict[str, str],
        propagation: backend.Propagation,
        dry_run: bool,
    ) -> Response:
        """deletecollection: delete every selected object; answer the list of them as deleted."""
        page = self._page(info, namespace, query)
        items = []
        for obj in page.items:
            try:
                gone = self.cluster.delete(objects.ref_of(obj), propagation=propagation, dry_run=dry_run)
            except errors.NotFound:
                continue  # collected with an owner deleted before it
            items.append(info.present(gone or obj))
        return Response(
            200,
            {
                "kind": f"{info.gvk.kind}List",
                "apiVersion": info.gvk.api_version,
                "metadata": {"resourceVersion": str(self.cluster.resource_version)},
                "items": items,
            },
        )

    def _patch(
        self,
        info: kinds.KindInfo,
        ref: refs.ObjectRef,
        body: bytes,
        headers: dict[str, str],
        query: dict[str, str],
        sub: backend.Subresource,
        write: dict[str, Any],
    ) -> tuple[int, objects.RawObject]:
        """(status code, object): 201 when an apply patch created the object, as the apiserver answers.

        `write`: the options every write takes (field manager, dry run, field validation, warnings).
        """
        kind = decode.media_type(headers)
        options = {**write, "subresource": sub}
        if "force" in query and kind != decode.APPLY:
            raise errors.Invalid(
                'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
                "non-apply patch"
            )
        if kind == decode.APPLY:
            if not query.get("fieldManager"):
                raise errors.Invalid(
                    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                    "is required for apply patch"
                )
            obj = self._apply_patch(info, ref, body)
            try:
                self.cluster.snapshot(ref)
                code = 200
            except errors.NotFound:
                code = 201
            return code, self.cluster.apply(obj, force=query.get("force") == "true", **write)
        # The store checks a patch's shape itself (with the handler's words, which depend on
        # fieldValidation), for every caller: here the body is only decoded.
        if kind == decode.JSON_PATCH:
            ops = decode.value(body) if body.strip() else []
            return 200, info.present(self.cluster.json_patch(ref, ops, **options))
        if kind == decode.MERGE_PATCH:
            return 200, info.present(self.cluster.merge_patch(ref, decode.value(body), **options))
        if kind == decode.STRATEGIC_PATCH:
            return 200, info.present(self.cluster.strategic_merge_patch(ref, decode.value(body), **options))
        raise errors.UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            + ("" if info.custom else ", application/strategic-merge-patch+json")
        )

    def _apply_patch(self, info: kinds.KindInfo, ref: refs.ObjectRef, body: bytes) -> dict[str, Any]:
        """A server-side apply body, checked as the apiserver's field manager and `checkName` check
        it: an object of the URL's version (`Incorrect version specified in apply patch`), without
        managedFields, with typed metadata, naming the object of the URL.

        Known difference: a patch without apiVersion or kind takes the URL's (the apiserver refuses
        it), and one of another kind in the same version is refused as a create would be."""
        try:
            obj = decode.patch_object(body, yaml_ok=True)
        except errors.BadRequest as error:
            raise errors.BadRequest(f"error decoding YAML: {error.message}") from None
        api_version = obj.setdefault("apiVersion", info.gvk.api_version)
        obj.setdefault("kind", info.gvk.kind)
        if api_version != info.gvk.api_version:
            raise errors.BadRequest(
                "Incorrect version specified in apply patch. "
                f"Specified patch version: {api_version}, expected: {info.gvk.api_version}"
            )
        if obj["kind"] != info.gvk.kind:
            raise decode.cannot_handle(
                obj, info, f"apply patch of kind {obj['kind']!s} sent to {info.plural}"
            )
        problem = decode.metadata_problem(obj, str(obj["kind"]))
        if problem is not None:
            gvk = f"{info.gvk.group}/{info.gvk.version}, Kind={info.gvk.kind}"
            raise errors.BadRequest(f"failed to create typed patch object ({gvk}): {problem}")
        meta = obj["metadata"]
        if meta.get("managedFields") is not None:
            raise errors.BadRequest("metadata.managedFields must be nil")
        name = meta.setdefault("name", ref.name)
        if name != ref.name:
            raise errors.BadRequest(
                f"the name of the object ({name}) does not match the name on the URL ({ref.name})"
            )
        if info.namespaced:
            namespace = meta.setdefault("namespace", ref.namespace)
            if namespace != ref.namespace:
                raise errors.BadRequest(
                    f"the namespace of the object ({namespace}) does not match the namespace on the "
                    f"URL ({ref.namespace})"
                )
        return obj

    def _delete_options(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """The DeleteOptions a DELETE may carry in its body (an empty body: none)."""
        if not body.strip():
            return {}
        kind = decode.media_type(headers)
        decode.check_media_type(kind, (decode.JSON, decode.YAML, decode.PROTOBUF))
        if kind == decode.PROTOBUF:
            raise errors.UnsupportedMediaType("protobuf DeleteOptions are not served; send application/json")
        options = decode.value(body, yaml_ok=kind == decode.YAML)
        if not isinstance(options, dict):
            raise errors.BadRequest(
                f"json: cannot unmarshal {yamlsafe.go_json_type(options)} "
                "into Go value of type v1.DeleteOptions"
            )
        policy = options.get("propagationPolicy")
        if policy is not None and not isinstance(policy, str):
            raise errors.BadRequest(
                f"json: cannot unmarshal {yamlsafe.go_json_type(policy)} into Go struct field "
                "DeleteOptions.propagationPolicy of type v1.DeletionPropagation"
            )
        return options

    def _body(
        self,
        body: bytes,
        info: kinds.KindInfo,
        namespace: str | None,
        name: str | None,
        headers: dict[str, str],
    ) -> objects.RawObject:
        """The object a POST or PUT sends, checked against the URL (`decode.object_for`, then the
        name and namespace as the apiserver's `checkName` and `EnsureObjectNamespaceMatches...`)."""
        kind = decode.media_type(headers)
        decode.check_media_type(kind, decode.object_types(info))
        if kind == decode.PROTOBUF:
            decoded: Any = protobuf.decode(body)
        else:
            decoded = decode.value(body, yaml_ok=kind == decode.YAML)
        obj = decode.object_for(decoded, body, info, self.cluster.served_kinds())
        meta = obj["metadata"]
        if info.namespaced:
            if not meta.get("namespace"):
                meta["namespace"] = namespace
            elif namespace is not None and meta["namespace"] != namespace:
                raise errors.BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
        if name is not None and meta.get("name") != name:
            raise errors.BadRequest(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        return obj

    def _page(self, info: kinds.KindInfo, namespace: str | None, query: dict[str, str]) -> backend.ListPage:
        """The objects a LIST (or deletecollection) selects, with its list options."""
        return self.cluster.snapshot_page(
            info.gvk.group_kind,
            namespace=namespace,
            labels=query.get("labelSelector") or None,
            fields=query.get("fieldSelector") or None,
            limit=_integer(query, "limit"),
            continue_token=query.get("continue", ""),
        )

    def _list(
        self, info: kinds.KindInfo, namespace: str | None, query: dict[str, str], accept: str
    ) -> Response:
        page = self._page(info, namespace, query)
        if "as=Table" in accept:
            body = self._table(info, page.items, query)
            body["metadata"]["resourceVersion"] = page.resource_version
            return Response(200, body, _table_type({"accept": accept}))
        meta: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            meta["continue"] = page.continue_token
        if page.remaining_item_count is not None:
            meta["remainingItemCount"] = page.remaining_item_count
        head = _dumps({"kind": f"{info.gvk.kind}List", "apiVersion": info.gvk.api_version, "metadata": meta})
        items = b",".join(self._encoded(info.present(o)) for o in page.items)
        return Response(200, raw=head[:-1] + b',"items":[' + items + b"]}")

    def _now_for(self, info: kinds.KindInfo) -> int:
        """The calendar time a table of `info` counts ages against."""
        if self.event_calendar is not None and info.gvk.kind == "Event":
            return self.event_calendar()
        return self.clock.epoch_ms + self.clock.now()

    def _table(
        self, info: kinds.KindInfo, items: list[objects.RawObject], query: dict[str, str]
    ) -> dict[str, Any]:
        now = self._now_for(info)
        include = _include_object(query)
        return tables.table(info, items, str(self.cluster.resource_version), now, include_object=include)

    def _watch(
        self, info: kinds.KindInfo, namespace: str | None, query: dict[str, str], *, as_table: bool = False
    ) -> Response:
        """A watch stream; with `as_table` each event carries a one-row Table, and only the first
        one carries the column definitions (as the apiserver sends them to `kubectl get -w`)."""
        timeout = _integer(query, "timeoutSeconds") or None
        events: queue.Queue[backend.WatchEvent | None] = queue.Queue()
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        stop = self.cluster.watch(
            events.put,
            kind=info.gvk.group_kind,
            namespace=namespace,
            labels=query.get("labelSelector") or None,
            fields=query.get("fieldSelector") or None,
            resource_version=query.get("resourceVersion") or None,
            send_initial_events=query.get("sendInitialEvents") == "true",
            bookmarks=bookmarks,
        )

        epoch = self._watch_epoch

        def stream() -> Generator[bytes, None, None]:
            waited = 0.0
            first = True
            try:
                while (
                    not self._stopping.is_set()
                    and epoch == self._watch_epoch
                    and (timeout is None or waited < timeout)
                ):
                    try:
                        event = events.get(timeout=WATCH_POLL_S)
                    except queue.Empty:
                        waited += WATCH_POLL_S
                        yield b""  # a keep-alive probe: writing finds clients that went away
                        continue
                    if event is None:
                        return
                    with self.lock:
                        if as_table and event.type != "BOOKMARK":
                            now = self._now_for(info)
                            row = tables.table(
                                info,
                                [event.object],
                                str(self.cluster.resource_version),
                                now,
                                include_columns=first,
                                include_object=_include_object(query),
                            )
                            first = False
                            line = _dumps({"type": event.type, "object": row})
                        else:
                            encoded = self._encoded(info.present(event.object))
                            line = b'{"type":"' + event.type.encode() + b'","object":' + encoded + b"}"
                    yield line + b"\n"
            finally:
                with self.lock:
                    stop()

        return Response(200, stream=stream())


def _warning(text: str) -> str:
    """An RFC 7234 warning header as the apiserver writes it: code 299, agent "-", quoted text.

    The text comes from the client (unknown field names), so control characters (a CR LF would
    start a header of the client's choosing) become spaces, and it is sent as UTF-8 bytes, as Go
    writes it (http.server encodes header values as Latin-1, hence the round trip)."""
    clean = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)
    escaped = clean.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'.encode("utf-8", errors="replace").decode("latin-1")


def _scale_of(obj: objects.RawObject, paths: tuple[str, str, str], info: kinds.KindInfo) -> dict[str, Any]:
    """The autoscaling/v1 Scale of an object: spec replicas (1 when unset, the built-ins' default),
    status replicas (0 when unset) and the selector as a string (`app=web`)."""
    spec_path, status_path, selector_path = paths
    replicas = tables.jsonpath(obj, spec_path)
    current = tables.jsonpath(obj, status_path) if status_path else None
    selector = tables.jsonpath(obj, selector_path) if selector_path else None
    if isinstance(selector, dict):  # a built-in's label selector object
        selector = "" if tables.selector_text(selector) == "<none>" else tables.selector_text(selector)
    meta = obj["metadata"]
    status: dict[str, Any] = {"replicas": current if isinstance(current, int) else 0}
    if isinstance(selector, str) and selector:
        status["selector"] = selector
    default = 1 if not info.custom else 0
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": replicas if isinstance(replicas, int) else default},
        "status": status,
    }


def _patched_scale(current: dict[str, Any], body: bytes, media: str) -> Any:
    """A Scale with a patch applied: a merge or strategic patch (a Scale has no lists, so they
    agree), or a JSON patch whose operations touch `/spec/replicas`."""
    patch = decode.value(body)
    if media in (decode.MERGE_PATCH, decode.STRATEGIC_PATCH):
        if not isinstance(patch, dict):
            raise errors.BadRequest("the patch of a Scale must be a JSON object")
        spec = patch.get("spec")
        if isinstance(spec, dict) and "replicas" in spec:
            return {**current, "spec": {"replicas": spec["replicas"]}}
        return current
    if media == decode.JSON_PATCH:
        result = {**current, "spec": dict(current["spec"])}
        for op in patch if isinstance(patch, list) else []:
            if (
                isinstance(op, dict)
                and op.get("path") == "/spec/replicas"
                and op.get("op") in ("add", "replace")
            ):
                result["spec"]["replicas"] = op.get("value")
        return result
    raise errors.UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
    )


def _set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    """Set a `.a.b` path, creating the objects on the way (a CRD's specReplicasPath)."""
    keys = [k for k in path.split(".") if k]
    cur = obj
    for key in keys[:-1]:
        nxt = cur.get(key)
        if not isinstance(nxt, dict):
            nxt = cur[key] = {}
        cur = nxt
    cur[keys[-1]] = value


def _include_object(query: dict[str, str]) -> str:
    """The Table rows' `includeObject` (kubectl asks for `Object` to `--sort-by` on the rows);
    another value is the apiserver's 400."""
    include = query.get("includeObject") or "Metadata"
    if include not in tables.INCLUDE_OBJECT:
        raise errors.BadRequest(
            f'includeObject: Unsupported value: "{include}": supported values: "Metadata", "None", "Object"'
        )
    return include


def _table_type(headers: dict[str, str]) -> str:
    return "application/json;as=Table;v=v1;g=meta.k8s.io"


def _integer(query: dict[str, str], name: str) -> int:
    """An integer query parameter (0 when absent); anything else is the apiserver's 400."""
    raw = query.get(name) or "0"
    try:
        return int(raw)
    except ValueError:
        raise errors.BadRequest(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` of them, remembered so that `stop` can
    close idle keep-alive connections.

    IMPLEMENTATION DETAIL:
        Problem: socketserver starts a thread for every connection it accepts, so a flood of
        connections (or of silent ones) is a flood of threads.
        Solution: a connection is accepted only once a slot is free (`get_request`); until then it
        waits in the kernel's listen backlog, as it would in front of a busy server. The slot is
        given back when the connection is closed (`shutdown_request`). Waiting for a slot is
        bounded, so that `shutdown` is still noticed.
    """

    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets clients under load

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], max_connections: int
    ) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._guard = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)

    def get_request(self) -> tuple[socket.socket, Any]:
        if not self._slots.acquire(timeout=WATCH_POLL_S):
            raise OSError("every connection slot is taken")  # socketserver goes back to its loop
        try:
            return super().get_request()
        except BaseException:
            self._slots.release()
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._connections.discard(request)
        try:
            super().shutdown_request(request)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A connection that failed (a bad TLS handshake, a reset): logged, never printed, so that a
        # hostile client cannot fill our stderr.
        _LOG.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> None:
        with self._guard:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


def _error_body(code: int, message: str) -> dict[str, Any]:
    """A Status for a failure of the HTTP layer itself (a malformed request line or header)."""
    reason = {400: "BadRequest", 413: "RequestEntityTooLarge", 405: "MethodNotAllowed"}.get(
        code, _phrase(code).replace(" ", "")
    )
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class _BadBody(Exception):
    """A request body that cannot be read: answered with `response`, then the connection closes."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class _Handler(BaseHTTPRequestHandler):
    """One connection: requests read with bounds (body size, idle time), answered by `ApiServer.handle`.

    Every method reaches `_serve` (`__getattr__`), so that an unsupported one is the API's 405
    Status rather than http.server's HTML 501 page, and every error http.server itself raises (a
    request line or header too long, a bad version) is a JSON Status too (`send_error`).
    """

    api: ApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        return  # request logs would drown the timeline

    def setup(self) -> None:
        # The timeout first: a client that connects and never says hello must not hold the thread.
        self.request.settimeout(self.timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):
            method = name[3:]
            return lambda: self._serve(method)
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.close_connection = True
        text = message or _phrase(code)
        self._send(Response(code, _error_body(code, text)), head=self.command == "HEAD")

    def _serve(self, method: str) -> None:
        try:
            body = self._body()
        except _BadBody as bad:
            self.close_connection = True
            self._send(bad.response, head=method == "HEAD")
            return
        if body is None:  # the client went away in the middle of its body
            self.close_connection = True
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.api.handle(method, self.path, headers, body)
        self._send(response, head=method == "HEAD")

    def _body(self) -> bytes | None:
        """The request body, read within `MAX_BODY`; None when the client hung up before its end.

        As Go's net/http reads it: `Transfer-Encoding: chunked` wins over Content-Length; other
        transfer encodings are 501; a Content-Length that is not a decimal number, or two that
        differ, are 400 (`bad Content-Length "abc"`)."""
        encoding = self.headers.get("Transfer-Encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                message = f"unsupported transfer encoding: {encoding!r}"
                raise _BadBody(Response(501, _error_body(501, message)))
            return self._chunked()
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return b""
        if len(lengths) > 1:
            message = "http: message cannot contain multiple Content-Length headers"
            raise _BadBody(_status(errors.BadRequest(message)))
        raw = lengths.pop()
        if not (raw.isascii() and raw.isdigit()):
            raise _BadBody(_status(errors.BadRequest(f"bad Content-Length {json.dumps(raw)}")))
        length = int(raw)
        if length > MAX_BODY:
            if length <= 4 * MAX_BODY:
                self.rfile.read(length)  # drained, so the client reads our answer instead of a reset
            raise _BadBody(_too_large())
        data = self.rfile.read(length) if length else b""
        return data if len(data) == length else None

    def _chunked(self) -> bytes | None:
        """A chunked body. One over `MAX_BODY` is read on and dropped (up to four times the limit)
        before the 413, so that the client reads our answer instead of a reset."""
        body = bytearray()
        seen = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                return None
            size_text = line.split(b";")[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
                raise _BadBody(_status(errors.BadRequest("malformed chunked encoding")))
            size = int(size_text, 16)
            if size == 0:
                for _ in range(64):  # trailers, up to the blank line that ends them
                    trailer = self.rfile.readline(8192)
                    if trailer in (b"\r\n", b"\n", b""):
                        if seen > MAX_BODY:
                            raise _BadBody(_too_large())
                        return bytes(body)
                raise _BadBody(_status(errors.BadRequest("malformed chunked encoding")))
            seen += size
            if seen > 4 * MAX_BODY:
                raise _BadBody(_too_large())
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                return None
            if seen <= MAX_BODY:
                body += chunk
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _BadBody(_status(errors.BadRequest("malformed chunked encoding")))

    def _send(self, response: Response, *, head: bool = False) -> None:
        """Write `response` (for HEAD, its headers only). A client that went away ends it quietly."""
        try:
            data = b""
            if response.stream is None:
                data = response.raw if response.raw is not None else _dumps(response.body)
        except (TypeError, ValueError) as exc:  # a body we cannot encode is our bug, not a crash
            _LOG.debug("could not encode a response", exc_info=True)
            response = _status(errors.ApiError(f"Internal error occurred: {exc}"))
            data = _dumps(response.body)
        try:
            self.send_response(response.status, _phrase(response.status))
            self.send_header("Content-Type", response.content_type)
            for key, value in response.headers:
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            if response.stream is not None:
                self._stream(response.stream)
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)
        except OSError:  # reset, broken pipe, a write that timed out, a TLS failure
            self.close_connection = True
        finally:
            if response.stream is not None:
                response.stream.close()  # ends the watch (its `finally`) even when the client left

    def _stream(self, stream: Iterator[bytes]) -> None:
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for chunk in stream:
            if chunk:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            elif self._client_gone():
                self.close_connection = True
                return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _client_gone(self) -> bool:
        """Whether the client closed its end: a watch's client sends nothing after its request, so
        a readable socket that yields no bytes (or a TLS close) means it went away. Without this a
        dead watch on a quiet selector would hold its thread until the next matching event."""
        sock = self.connection
        try:
            readable = select.select([sock], [], [], 0)[0]
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        previous = sock.gettimeout()
        try:
            sock.settimeout(0.05)
            return bool(sock.recv(4096) == b"")
        except (TimeoutError, ssl.SSLWantReadError, BlockingIOError):
            return False
        except OSError:
            return True
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(previous)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _too_large() -> Response:
    return _status(errors.RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}"))


def _health(method: str, seg: list[str], raw_query: str) -> Response:
    """`/healthz`, `/livez`, `/readyz` (and `/<endpoint>/<check>`): `ok`, or with `?verbose` one
    `[+]<check> ok` line per check and `<endpoint> check passed`, as the apiserver's
    `k8s.io/apiserver/pkg/server/healthz` writes them. Our checks always pass."""
    endpoint = seg[0]
    checks = ["ping", "log", "etcd"]
    if endpoint == "readyz":
        checks += ["etcd-readiness", "informer-sync", "shutdown"]
    if len(seg) > 2 or (len(seg) == 2 and seg[1] not in checks):
        return _status(_not_found_path())
    if len(seg) == 1 and "verbose" in parse_qs(raw_query, keep_blank_values=True):
        text = "".join(f"[+]{check} ok\n" for check in checks) + f"{endpoint} check passed\n"
    else:
        text = "ok"
    return Response(
        200,
        raw=text.encode(),
        content_type="text/plain; charset=utf-8",
        headers=[("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-cache, private")],
    )
