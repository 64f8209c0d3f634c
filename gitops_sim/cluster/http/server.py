"""The HTTP front of the in-memory API: kubectl and the Kubernetes Python client talk to it.

`ApiServer` serves a `MemoryCluster` on 127.0.0.1 (unless told otherwise) with the routes,
discovery, verbs and error shapes of the kube-apiserver that clients depend on (kube-api.md §1):
legacy and aggregated discovery, minimal OpenAPI v3, GET/LIST (selectors, pages, Table output),
streaming WATCH (chunked JSON lines, bookmarks, watch-list), POST, PUT (and /status), the four
PATCH types, DELETE with propagation, deletecollection, `dryRun=All`, `fieldValidation` with
`Warning` headers, optional bearer-token auth. Every failure is a `Status` with the real code.

One lock serialises every store operation: requests run on their own threads, and an engine
driving the same store must take the same lock (`ApiServer.lock`). Watch events are queued by
the store's callback and written by the request's thread; a client that goes away ends its watch.
Stored objects are serialised once per version (`_Encoded`), as the apiserver's watch cache does:
a LIST joins cached bytes, and ten watchers of one change share one encoding.

Optionally HTTPS with a self-signed certificate (`tls_dir`), which the kubeconfig it writes
carries as the CA. Not served yet: `/openapi/v2` (kubectl tolerates its absence).
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import socket
import ssl
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import yaml

from gitops_sim.cluster import backend, errors, kinds
from gitops_sim.cluster.http import discovery, protobuf, tables, tls
from gitops_sim.cluster.memory import store
from gitops_sim.model import objects, refs
from gitops_sim.timing import clock as clocks

MAX_BODY = 3 * 1024 * 1024  # the apiserver's request body limit
JSON = "application/json"
WATCH_POLL_S = 0.5


@dataclass
class Response:
    status: int
    body: Any = None
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterator[bytes] | None = None
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
    ) -> None:
        """`tls_dir`: serve HTTPS with a self-signed certificate written there (`cluster.http.tls`)."""
        self.cluster = cluster
        self.clock = clock
        self.token = token
        self.lock = threading.RLock()
        self._stopping = threading.Event()
        self._watch_epoch = 0
        handler = type("Handler", (_Handler,), {"api": self})
        self._httpd = _Server((host, port), handler)
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

    def _cluster_entry(self) -> dict[str, str]:
        entry = {"server": self.url}
        if self._ca is not None:
            entry["certificate-authority-data"] = base64.b64encode(self._ca).decode()
        return entry

    def kubeconfig(self) -> str:
        # kubectl asks for a username on an HTTPS server with no credentials; any token will do when
        # the server checks none.
        token = self.token or ("gitops-sim" if self._ca is not None else None)
        user: dict[str, Any] = {"token": token} if token else {}
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "gitops-sim",
                "clusters": [{"name": "gitops-sim", "cluster": self._cluster_entry()}],
                "users": [{"name": "gitops-sim", "user": user}],
                "contexts": [
                    {"name": "gitops-sim", "context": {"cluster": "gitops-sim", "user": "gitops-sim"}}
                ],
            },
            sort_keys=False,
        )

    # -- request handling ----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
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
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        segments = [s for s in parts.path.split("/") if s]
        try:
            with self.lock:
                return self._route(method, segments, query, headers, body)
        except errors.ApiError as error:
            return _status(error)
        except Exception as exc:  # a bug of ours: answer as the apiserver answers a panic, and go on
            traceback.print_exc()
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
                    return Response(200, discovery.aggregated(by_group, core=True), discovery.AGGREGATED)
                return Response(200, discovery.api_versions(self.address))
            if seg == ["apis"]:
                if "as=APIGroupDiscoveryList" in accept:
                    return Response(200, discovery.aggregated(by_group, core=False), discovery.AGGREGATED)
                return Response(200, discovery.group_list(by_group))
            if seg == ["api", "v1"]:
                return Response(200, discovery.resource_list("v1", by_group.get("", {}).get("v1", [])))
            if len(seg) == 3 and seg[0] == "apis" and seg[2] in by_group.get(seg[1], {}):
                return Response(200, discovery.resource_list(f"{seg[1]}/{seg[2]}", by_group[seg[1]][seg[2]]))
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
        return self._verb(method, info, namespace, name, subresource, query, headers, body)

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
        if subresource not in ("", "status") or (subresource == "status" and not info.status_subresource):
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
        dry_run = query.get("dryRun") == "All"
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

        if method == "GET" and name is None:
            if query.get("watch") in ("true", "1"):
                return self._watch(info, namespace, query, as_table="as=Table" in headers.get("accept", ""))
            return self._list(info, namespace, query, headers.get("accept", ""))
        if method == "GET":
            obj = self.cluster.snapshot(ref())
            if "as=Table" in headers.get("accept", ""):
                return Response(200, self._table(info, [obj]), _table_type(headers))
            return Response(200, raw=self._encoded(obj))
        if method == "POST" and name is None:
            obj = self._body(body, info, namespace, None, headers)
            return done(201, self.cluster.create(obj, **write))
        if method == "PUT" and name is not None:
            obj = self._body(body, info, namespace, name, headers)
            return done(200, self.cluster.update(obj, subresource=sub, **write))
        if method == "PATCH" and name is not None:
            return done(*self._patch(info, ref(), body, headers, query, sub, write))
        if method == "DELETE" and not sub:
            options = _decode(body) if body.strip() else {}
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
                return Response(200, deleted)
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
            items.append(gone or obj)
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
        kind = headers.get("content-type", "").split(";")[0].strip()
        options = {**write, "subresource": sub}
        if "force" in query and kind != "application/apply-patch+yaml":
            raise errors.Invalid(
                'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
                "non-apply patch"
            )
        if kind == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise errors.Invalid(
                    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                    "is required for apply patch"
                )
            obj = _decode(body, yaml_ok=True)
            obj.setdefault("metadata", {}).setdefault("name", ref.name)
            if info.namespaced:
                obj["metadata"].setdefault("namespace", ref.namespace)
            obj.setdefault("apiVersion", info.gvk.api_version)
            obj.setdefault("kind", info.gvk.kind)
            try:
                self.cluster.snapshot(ref)
                code = 200
            except errors.NotFound:
                code = 201
            return code, self.cluster.apply(obj, force=query.get("force") == "true", **write)
        if kind == "application/json-patch+json":
            ops = _decode_value(body) if body.strip() else []
            if not isinstance(ops, list):
                raise errors.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
            return 200, self.cluster.json_patch(ref, ops, **options)
        if kind == "application/merge-patch+json":
            return 200, self.cluster.merge_patch(ref, _decode(body), **options)
        if kind == "application/strategic-merge-patch+json":
            return 200, self.cluster.strategic_merge_patch(ref, _decode(body), **options)
        raise errors.UnsupportedMediaType(
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
            + ("" if info.custom else ", application/strategic-merge-patch+json")
        )

    def _body(
        self,
        body: bytes,
        info: kinds.KindInfo,
        namespace: str | None,
        name: str | None,
        headers: dict[str, str],
    ) -> objects.RawObject:
        if "protobuf" in headers.get("content-type", ""):
            obj = protobuf.decode(body)
        else:
            obj = _decode(body, yaml_ok="yaml" in headers.get("content-type", ""))
        obj.setdefault("apiVersion", info.gvk.api_version)
        obj.setdefault("kind", info.gvk.kind)
        meta = obj.setdefault("metadata", {})
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
            body = self._table(info, page.items)
            body["metadata"]["resourceVersion"] = page.resource_version
            return Response(200, body, _table_type({"accept": accept}))
        meta: dict[str, Any] = {"resourceVersion": page.resource_version}
        if page.continue_token:
            meta["continue"] = page.continue_token
        if page.remaining_item_count is not None:
            meta["remainingItemCount"] = page.remaining_item_count
        head = _dumps({"kind": f"{info.gvk.kind}List", "apiVersion": info.gvk.api_version, "metadata": meta})
        items = b",".join(map(self._encoded, page.items))
        return Response(200, raw=head[:-1] + b',"items":[' + items + b"]}")

    def _table(self, info: kinds.KindInfo, items: list[objects.RawObject]) -> dict[str, Any]:
        now = self.clock.epoch_ms + self.clock.now()
        return tables.table(info, items, str(self.cluster.resource_version), now)

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

        def stream() -> Iterator[bytes]:
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
                            now = self.clock.epoch_ms + self.clock.now()
                            row = tables.table(
                                info,
                                [event.object],
                                str(self.cluster.resource_version),
                                now,
                                include_columns=first,
                            )
                            first = False
                            line = _dumps({"type": event.type, "object": row})
                        else:
                            encoded = self._encoded(event.object)
                            line = b'{"type":"' + event.type.encode() + b'","object":' + encoded + b"}"
                    yield line + b"\n"
            finally:
                with self.lock:
                    stop()

        return Response(200, stream=stream())


def _warning(text: str) -> str:
    """An RFC 7234 warning header as the apiserver writes it: code 299, agent "-", quoted text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


def _table_type(headers: dict[str, str]) -> str:
    return "application/json;as=Table;v=v1;g=meta.k8s.io"


def _integer(query: dict[str, str], name: str) -> int:
    """An integer query parameter (0 when absent); anything else is the apiserver's 400."""
    raw = query.get(name) or "0"
    try:
        return int(raw)
    except ValueError:
        raise errors.BadRequest(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode(body: bytes, *, yaml_ok: bool = False) -> dict[str, Any]:
    """The body as a JSON object (see `_decode_value`)."""
    value = _decode_value(body, yaml_ok=yaml_ok)
    if not isinstance(value, dict):
        raise errors.BadRequest("the request body must be a JSON object")
    return value


def _decode_value(body: bytes, *, yaml_ok: bool = False) -> Any:
    """The body's value, or a 400. YAML bodies (apply patches) are tried as JSON first: JSON is
    YAML, it is what kubectl and the clients send, and the JSON parser is ~15x cheaper than PyYAML's."""
    if len(body) > MAX_BODY:
        raise errors.RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")
    try:
        value = json.loads(body, parse_constant=_no_constants)
    except ValueError as exc:
        if not yaml_ok:
            raise errors.BadRequest(f"the request body could not be decoded: {exc}") from exc
        try:
            value = yaml.load(body, Loader=_YAML_LOADER)  # CSafeLoader or SafeLoader
        except yaml.YAMLError as yaml_exc:
            raise errors.BadRequest(f"the request body could not be decoded: {yaml_exc}") from yaml_exc
    return value


class _Server(ThreadingHTTPServer):
    """Threads per connection, remembered so that `stop` can close idle keep-alive connections."""

    daemon_threads = False
    block_on_close = True
    request_queue_size = 128  # socketserver's default backlog of 5 resets clients under load

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._guard = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._guard:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        return  # request logs would drown the timeline

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            if length <= 4 * MAX_BODY:
                self.rfile.read(length)  # drained, so the client reads our answer instead of a reset
            error = errors.RequestEntityTooLarge(f"Request entity too large: limit is {MAX_BODY}")
            self._send(_status(error))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.api.handle(method, self.path, headers, body)
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status, HTTPStatus(response.status).phrase)
            self.send_header("Content-Type", response.content_type)
            for key, value in response.headers:
                self.send_header(key, value)
            if response.stream is not None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                for chunk in response.stream:
                    if chunk:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    else:
                        self.wfile.write(b"")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            data = response.raw if response.raw is not None else _dumps(response.body)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
