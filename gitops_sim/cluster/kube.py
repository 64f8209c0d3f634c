"""KubeCluster: the `Cluster` protocol over a real Kubernetes API, with the official Python client.

Used with our own HTTP front (tests, `serve`) and with real clusters (k3d, k3s, a kubeconfig). The
official client's ApiClient does the transport (TLS, tokens, the kubeconfig's auth); this module
maps protocol calls to REST requests, with the content types the apiserver expects for each patch,
and maps `Status` answers back to `cluster.errors` values with their code, reason and message.
Kinds are discovered from `/api` and `/apis` (again when a kind is missing: a CRD may have just
been created).

Watches read the server's chunked JSON lines on a thread of their own and call the callback from
that thread; `kind` is required (a real server has no all-kinds watch). Warnings headers are not
returned to callers yet. Every answer is decoded afresh, so `read`, `read_list` and a write's
`shared` result are the same as `get`, `list` and a write's: nothing is shared with anyone.

Fidelity and known gaps: none of its own beyond the server's: it adds no behaviour.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import socket
import threading
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import quote, urlencode

import kubernetes.client
import kubernetes.config
import urllib3

from gitops_sim.cluster import backend, errors, kinds
from gitops_sim.model import objects, refs

_ERRORS: dict[str, type[errors.ApiError]] = {
    "BadRequest": errors.BadRequest,
    "Forbidden": errors.Forbidden,
    "NotFound": errors.NotFound,
    "AlreadyExists": errors.AlreadyExists,
    "Conflict": errors.Conflict,
    "Invalid": errors.Invalid,
    "Expired": errors.Gone,
    "Gone": errors.Gone,
    "UnsupportedMediaType": errors.UnsupportedMediaType,
    "RequestEntityTooLarge": errors.RequestEntityTooLarge,
}


def _error(status: int, body: bytes) -> errors.ApiError:
    try:
        data = json.loads(body)
    except ValueError:
        data = {}
    cls = _ERRORS.get(str(data.get("reason", "")), errors.ApiError)
    error = cls(str(data.get("message") or body.decode(errors="replace")), details=data.get("details") or {})
    error.code = status
    return error


class Unreachable(Exception):
    """A kubeconfig that cannot be read, or whose cluster does not answer (the message says why)."""


class KubeCluster:
    def __init__(self, api_client: kubernetes.client.ApiClient) -> None:
        self._client = api_client
        self._kinds = kinds.KindRegistry(with_builtins=False)
        self._discover()

    @classmethod
    def from_kubeconfig(cls, path: str, context: str | None = None) -> KubeCluster:
        """The cluster a kubeconfig names; `Unreachable` when it cannot be read or reached."""
        try:
            configuration = kubernetes.client.Configuration()
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=path, context=context, client_configuration=configuration
            )
            return cls(kubernetes.client.ApiClient(configuration))
        except (OSError, ValueError, urllib3.exceptions.HTTPError, kubernetes.config.ConfigException) as exc:
            raise Unreachable(str(exc)) from exc

    @property
    def server(self) -> str:
        """The API server's URL."""
        return str(self._client.configuration.host)

    def server_version(self) -> str:
        """The API server's `gitVersion` (`/version`), e.g. `v1.37.0`."""
        return str(self._request("GET", "/version").get("gitVersion", ""))

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        *,
        text: bool = False,
    ) -> Any:
        """The answer's JSON (or, with `text`, its body as text); an ApiError for a 4xx or 5xx."""
        url = self._client.configuration.host + path + (("?" + urlencode(query)) if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        self._client.update_params_for_auth(headers, [], ["BearerToken"], path, method, body)
        # The client serialises JSON (and structured YAML) bodies itself: hand it Python values.
        response = self._client.call_api(method, url, header_params=headers, body=body)
        data = response.read()  # type: ignore[no-untyped-call]
        if response.status >= 400:
            raise _error(response.status, data)
        if text:
            return data.decode()
        return json.loads(data) if data else None

    def _discover(self) -> None:
        found: list[kinds.KindInfo] = []
        for group_version in ["v1", *self._group_versions()]:
            prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            listed = self._request("GET", prefix)
            subresources = {
                r["name"].split("/")[0] for r in listed["resources"] if r["name"].endswith("/status")
            }
            for resource in listed["resources"]:
                if "/" in resource["name"]:
                    continue
                found.append(
                    kinds.KindInfo(
                        refs.GVK.of(group_version, resource["kind"]),
                        resource["name"],
                        bool(resource["namespaced"]),
                        resource["name"] in subresources,
                        True,
                    )
                )
        self._kinds.replace(found)

    def _group_versions(self) -> list[str]:
        groups = self._request("GET", "/apis")["groups"]
        return [g["preferredVersion"]["groupVersion"] for g in groups]

    def _info(self, gvk: refs.GVK) -> kinds.KindInfo:
        try:
            return self._kinds.resolve(gvk)
        except errors.NoKindMatch:
            self._discover()
            return self._kinds.resolve(gvk)

    def _path(
        self, info: kinds.KindInfo, namespace: str | None, name: str | None = None, subresource: str = ""
    ) -> str:
        prefix = f"/apis/{info.gvk.group}/{info.gvk.version}" if info.gvk.group else "/api/v1"
        path = prefix + (f"/namespaces/{quote(namespace)}" if info.namespaced and namespace else "")
        path += (
            f"/{info.plural}"
            + (f"/{quote(name)}" if name else "")
            + (f"/{subresource}" if subresource else "")
        )
        return path

    def _ref_info(self, ref: refs.ObjectRef) -> kinds.KindInfo:
        info = self._kinds.get(ref.group_kind)
        if info is None:
            self._discover()
            info = self._kinds.get(ref.group_kind)
        if info is None:
            raise errors.no_kind_match(refs.GVK(ref.group, "", ref.kind))
        return info

    # -- the protocol ------------------------------------------------------------------------

    @property
    def in_process(self) -> bool:
        """Never: a remote API server, with its own controllers and events on reader threads."""
        return False

    def kind_info(self, gvk: refs.GVK) -> kinds.KindInfo:
        return self._info(gvk)

    def find_kind(self, gk: refs.GroupKind) -> kinds.KindInfo | None:
        return self._kinds.get(gk)

    def kinds_named(self, kind: str) -> builtins.list[kinds.KindInfo]:
        return self._kinds.by_kind(kind)

    def read(self, ref: refs.ObjectRef) -> objects.RawObject:
        return self.get(ref)

    def get(self, ref: refs.ObjectRef) -> objects.RawObject:
        info = self._ref_info(ref)
        return cast(objects.RawObject, self._request("GET", self._path(info, ref.namespace, ref.name)))

    def pod_log(
        self,
        ref: refs.ObjectRef,
        *,
        container: str | None = None,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
    ) -> str:
        info = self._ref_info(ref)
        query = {
            key: str(value)
            for key, value in (
                ("container", container),
                ("tailLines", tail_lines),
                ("sinceSeconds", since_seconds),
            )
            if value is not None
        }
        path = self._path(info, ref.namespace, ref.name) + "/log"
        return str(self._request("GET", path, query, text=True))

    def list(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
    ) -> builtins.list[objects.RawObject]:
        return self.list_page(gk, namespace=namespace, labels=labels, fields=fields).items

    def read_list(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
    ) -> builtins.list[objects.RawObject]:
        return self.list(gk, namespace=namespace, labels=labels, fields=fields)

    def list_page(
        self,
        gk: refs.GroupKind,
        *,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> backend.ListPage:
        info = self._ref_info(refs.ObjectRef(gk.group, gk.kind, "", ""))
        query = _selectors(labels, fields)
        if limit:
            query["limit"] = str(limit)
        if continue_token:
            query["continue"] = continue_token
        data = self._request("GET", self._path(info, namespace), query)
        meta = data.get("metadata") or {}
        items = [
            {"apiVersion": info.gvk.api_version, "kind": info.gvk.kind, **i} for i in data.get("items") or []
        ]
        return backend.ListPage(
            items,
            str(meta.get("resourceVersion", "")),
            str(meta.get("continue") or ""),
            meta.get("remainingItemCount"),
        )

    def _write_query(self, manager: str, dry_run: bool, validation: str) -> dict[str, str]:
        query = {"fieldManager": manager, "fieldValidation": validation}
        if dry_run:
            query["dryRun"] = "All"
        return query

    def create(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        info = self._info(objects.gvk_of(obj))
        path = self._path(info, objects.ref_of(obj).namespace)
        return cast(
            objects.RawObject,
            self._request("POST", path, self._write_query(field_manager, dry_run, field_validation), obj),
        )

    def update(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        info = self._info(objects.gvk_of(obj))
        ref = objects.ref_of(obj)
        path = self._path(info, ref.namespace, ref.name, subresource)
        return cast(
            objects.RawObject,
            self._request("PUT", path, self._write_query(field_manager, dry_run, field_validation), obj),
        )

    def apply(
        self,
        obj: objects.RawObject,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        info = self._info(objects.gvk_of(obj))
        ref = objects.ref_of(obj)
        query = self._write_query(field_manager, dry_run, field_validation)
        if force:
            query["force"] = "true"
        return cast(
            objects.RawObject,
            self._request(
                "PATCH", self._path(info, ref.namespace, ref.name), query, obj, "application/apply-patch+yaml"
            ),
        )

    def _patch(
        self,
        ref: refs.ObjectRef,
        body: Any,
        content_type: str,
        field_manager: str,
        subresource: backend.Subresource,
        dry_run: bool,
        field_validation: str,
    ) -> objects.RawObject:
        info = self._ref_info(ref)
        path = self._path(info, ref.namespace, ref.name, subresource)
        return cast(
            objects.RawObject,
            self._request(
                "PATCH", path, self._write_query(field_manager, dry_run, field_validation), body, content_type
            ),
        )

    def json_patch(
        self,
        ref: refs.ObjectRef,
        ops: builtins.list[dict[str, Any]],
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
    ) -> objects.RawObject:
        return self._patch(
            ref, ops, "application/json-patch+json", field_manager, subresource, dry_run, field_validation
        )

    def merge_patch(
        self,
        ref: refs.ObjectRef,
        patch: dict[str, Any],
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
        shared: bool = False,
    ) -> objects.RawObject:
        return self._patch(
            ref, patch, "application/merge-patch+json", field_manager, subresource, dry_run, field_validation
        )

    def strategic_merge_patch(
        self,
        ref: refs.ObjectRef,
        patch: dict[str, Any],
        *,
        field_manager: str,
        subresource: backend.Subresource = "",
        dry_run: bool = False,
        field_validation: backend.FieldValidation = "Warn",
        warnings: builtins.list[str] | None = None,
    ) -> objects.RawObject:
        return self._patch(
            ref,
            patch,
            "application/strategic-merge-patch+json",
            field_manager,
            subresource,
            dry_run,
            field_validation,
        )

    def delete(
        self, ref: refs.ObjectRef, *, propagation: backend.Propagation = "Background", dry_run: bool = False
    ) -> objects.RawObject | None:
        info = self._ref_info(ref)
        query = {"propagationPolicy": propagation, **({"dryRun": "All"} if dry_run else {})}
        data = self._request("DELETE", self._path(info, ref.namespace, ref.name), query)
        return None if not data or data.get("kind") == "Status" else cast(objects.RawObject, data)

    def watch(
        self,
        callback: backend.WatchCallback,
        *,
        kind: refs.GroupKind | None = None,
        namespace: str | None = None,
        labels: str | dict[str, str] | None = None,
        fields: str | None = None,
        resource_version: str | None = None,
        send_initial_events: bool = False,
        bookmarks: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        if kind is None:
            raise ValueError("a watch on a real API server is for one kind: pass kind=")
        info = self._ref_info(refs.ObjectRef(kind.group, kind.kind, "", ""))
        query = {"watch": "true", **_selectors(labels, fields)}
        if resource_version is not None:
            query["resourceVersion"] = resource_version
        if bookmarks:
            query["allowWatchBookmarks"] = "true"
        if send_initial_events:
            query["sendInitialEvents"] = "true"
            query["resourceVersionMatch"] = "NotOlderThan"
        url = self._client.configuration.host + self._path(info, namespace) + "?" + urlencode(query)
        headers = {"Accept": "application/json"}
        self._client.update_params_for_auth(headers, [], ["BearerToken"], url, "GET", None)
        response = self._client.rest_client.pool_manager.request(
            "GET", url, headers=headers, preload_content=False
        )
        if response.status >= 400:
            raise _error(response.status, response.read())
        stopped = threading.Event()

        def pump() -> None:
            buffer = b""
            try:
                for chunk in response.stream(1024, decode_content=True):
                    if stopped.is_set():
                        return
                    buffer += chunk
                    while b"\n" in buffer:
                        line, buffer = buffer.split(b"\n", 1)
                        if line.strip():
                            event = json.loads(line)
                            callback(backend.WatchEvent(event["type"], event["object"]))
            except (OSError, urllib3.exceptions.HTTPError):
                pass  # the stream broke: the watch is over, as in client-go
            if on_close is not None and not stopped.is_set():
                on_close()

        thread = threading.Thread(target=pump, name="gitops-sim-watch", daemon=True)
        thread.start()

        def stop() -> None:
            stopped.set()
            # Wake the reader first: closing a response another thread is reading from deadlocks.
            sock = getattr(getattr(response, "connection", None), "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            thread.join(timeout=5)
            response.close()

        return stop


def _selectors(labels: str | dict[str, str] | None, fields: str | None) -> dict[str, str]:
    query: dict[str, str] = {}
    if labels:
        query["labelSelector"] = (
            labels if isinstance(labels, str) else ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        )
    if fields:
        query["fieldSelector"] = fields
    return query


_: type[backend.Cluster] = KubeCluster
