"""One client for the OCI Distribution API, used by every controller that reads a registry.

`RegistryClient` pings `/v2/`, lists tags (following `Link` pages), resolves a tag to its
manifest digest (HEAD), reads manifests and blobs, and pushes blobs and manifests (what `flux
push artifact` does, for scenario steps and tests). It speaks HTTP to a registry marked
`insecure` and HTTPS otherwise, as go-containerregistry does.

Where requests go: a host that the simulation's own registry hosts (`ghcr.io` after a
`push-artifact` step) is sent to `sources.registry.RegistryServer` on 127.0.0.1, with its name in
the Host header; a host on this machine (`127.0.0.1:5000`, a real docker-registry) is reached
directly; any other host does not resolve (`no such host`), since a simulation never leaves the
machine. A hosted registry can be made `unreachable` (connections refused) or `unavailable`
(503).

A registry that answers 401 with a `Bearer` challenge (ghcr.io, Docker Hub: even anonymous pulls
need a token) gets go-containerregistry's token flow: a token from the challenge's realm for its
scope (anonymous, or with the basic credentials given), and the request again with it.

Errors read as go-containerregistry words them: `GET <url>: MANIFEST_UNKNOWN: manifest unknown;
map[Tag:v1]`, `Get "<url>": dial tcp <host>: connect: connection refused`.

Callers: the OCIRepository controller (and later the image controllers), the scenario runner.
Never reads the clock.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from gitops_sim.sources import loopback, registry

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
FLUX_CONTENT_TYPE = "application/vnd.cncf.flux.content.v1.tar+gzip"
FLUX_CONFIG_TYPE = "application/vnd.cncf.flux.config.v1+json"
HELM_CHART_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"


def helm_tag(version: str) -> str:
    """Helm stores a chart version as a tag with `+` (not allowed in tags) written as `_`."""
    return version.replace("+", "_")


class RegistryError(Exception):
    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Manifest:
    digest: str
    media_type: str
    body: dict[str, Any]


def split_url(url: str) -> tuple[str, str]:
    """`oci://ghcr.io/acme/app` (or `ghcr.io/acme/app`) → (`ghcr.io`, `acme/app`)."""
    rest = url.removeprefix("oci://").strip("/")
    host, _, name = rest.partition("/")
    return host, name


def _go_map(detail: object) -> str:
    if isinstance(detail, dict):
        return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(detail.items())) + "]"
    return str(detail)


class RegistryClient:
    def __init__(
        self,
        route: Callable[[str], tuple[str, str, bool] | None],
        timeout_s: float = 60.0,
        *,
        note: Callable[[str], str] | None = None,
    ) -> None:
        """`route(host)` gives (address to connect to, Host header, simulated) for a registry
        host; None when the host does not resolve (see `registry.Registries.route`).
        `timeout_s` bounds each request in wall time (`context deadline exceeded` after it).
        `note(url)` is added to the error of a request whose host does not resolve or that is
        answered 404 (an offline mirror's hint, `registry.Registries.note`)."""
        self._route = route
        self._timeout_s = timeout_s
        self._note = note

    def with_timeout(self, timeout_s: float) -> RegistryClient:
        """The same client with another request timeout (a source's `spec.timeout`)."""
        return RegistryClient(self._route, timeout_s, note=self._note)

    # -- reads -------------------------------------------------------------------------------

    def ping(self, host: str, *, insecure: bool = False, auth: str | None = None) -> None:
        self._request("GET", host, "/v2/", insecure=insecure, auth=auth, ok=(200, 401))

    def tags(
        self, host: str, name: str, *, insecure: bool = False, auth: str | None = None, page_size: int = 1000
    ) -> list[str]:
        """Every tag of `host/name`, page after page as the registry's `Link` headers lead
        (go-containerregistry's `remote.List`, 1000 a page)."""
        self.ping(host, insecure=insecure, auth=auth)
        tags: list[str] = []
        path: str | None = f"/v2/{name}/tags/list?n={page_size}"
        while path:
            _, headers, body = self._request("GET", host, path, insecure=insecure, auth=auth)
            tags += json.loads(body).get("tags") or []
            link = headers.get("link", "")
            path = link[link.find("<") + 1 : link.find(">")] if link.startswith("<") else None
        return tags

    def resolve(
        self, host: str, name: str, reference: str, *, insecure: bool = False, auth: str | None = None
    ) -> str:
        """The digest of the manifest a tag (or digest) names."""
        self.ping(host, insecure=insecure, auth=auth)
        _, headers, _ = self._request(
            "HEAD",
            host,
            f"/v2/{name}/manifests/{reference}",
            insecure=insecure,
            auth=auth,
            accept=MANIFEST_TYPES,
        )
        return headers.get("docker-content-digest", "")

    def manifest(
        self, host: str, name: str, reference: str, *, insecure: bool = False, auth: str | None = None
    ) -> Manifest:
        digest, media_type, body = self.raw_manifest(host, name, reference, insecure=insecure, auth=auth)
        return Manifest(digest, media_type, json.loads(body))

    def raw_manifest(
        self, host: str, name: str, reference: str, *, insecure: bool = False, auth: str | None = None
    ) -> tuple[str, str, bytes]:
        """(digest, media type, the bytes as served) of the manifest `reference` names."""
        self.ping(host, insecure=insecure, auth=auth)  # as go-containerregistry's remote.Get does
        _, headers, body = self._request(
            "GET",
            host,
            f"/v2/{name}/manifests/{reference}",
            insecure=insecure,
            auth=auth,
            accept=MANIFEST_TYPES,
        )
        digest = headers.get("docker-content-digest") or registry.digest_of(body)
        return digest, headers.get("content-type", ""), body

    def blob(
        self, host: str, name: str, digest: str, *, insecure: bool = False, auth: str | None = None
    ) -> bytes:
        _, _, body = self._request("GET", host, f"/v2/{name}/blobs/{digest}", insecure=insecure, auth=auth)
        if registry.digest_of(body) != digest:
            raise RegistryError(f"blob {digest}: the content does not match its digest")
        return body

    # -- writes ------------------------------------------------------------------------------

    def push_blob(self, host: str, name: str, data: bytes, *, insecure: bool = False) -> str:
        digest = registry.digest_of(data)
        _, headers, _ = self._request(
            "POST", host, f"/v2/{name}/blobs/uploads/", insecure=insecure, ok=(202, 201)
        )
        location = headers.get("location", "")
        if location:
            parts = urlsplit(location)
            sep = "&" if parts.query else "?"
            path = f"{parts.path}{'?' + parts.query if parts.query else ''}{sep}digest={digest}"
            self._request("PUT", host, path, insecure=insecure, body=data, ok=(201, 204))
        return digest

    def push_manifest(
        self, host: str, name: str, tag: str, manifest: dict[str, Any], *, insecure: bool = False
    ) -> str:
        body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        media_type = str(manifest.get("mediaType") or MANIFEST_TYPES[0])
        self._request(
            "PUT",
            host,
            f"/v2/{name}/manifests/{tag}",
            insecure=insecure,
            body=body,
            content_type=media_type,
            ok=(201, 200),
        )
        return registry.digest_of(body)

    def push_artifact(
        self,
        host: str,
        name: str,
        tag: str,
        layer: bytes,
        *,
        annotations: dict[str, str] | None = None,
        insecure: bool = False,
    ) -> str:
        """Push a Flux artifact (one tar+gzip layer, Flux's media types), as `flux push artifact`."""
        return self._push(
            host,
            name,
            tag,
            (FLUX_CONFIG_TYPE, b"{}"),
            [(FLUX_CONTENT_TYPE, layer)],
            insecure=insecure,
            artifact_type="application/vnd.cncf.flux.config.v1+json",
            annotations=dict(sorted((annotations or {}).items())),
        )

    def push_image(
        self,
        host: str,
        name: str,
        tag: str,
        *,
        insecure: bool = False,
        revision: str | None = None,
        created: str | None = None,
    ) -> str:
        """Push a container image as `docker push` would name it: an OCI image manifest whose
        config records the tag (so each tag has its own digest) and no layers (nothing runs it).
        `revision` (the `org.opencontainers.image.revision` label) makes another build of the
        same tag, with another digest; `created` is the config's creation time (RFC 3339)."""
        labels = {"org.opencontainers.image.version": tag}
        if revision is not None:
            labels["org.opencontainers.image.revision"] = revision
        document: dict[str, Any] = {"architecture": "amd64", "os": "linux", "config": {"Labels": labels}}
        if created is not None:
            document["created"] = created
        config = json.dumps(document, sort_keys=True).encode()
        return self._push(
            host, name, tag, ("application/vnd.oci.image.config.v1+json", config), [], insecure=insecure
        )

    def push_chart(
        self, host: str, name: str, chart: bytes, metadata: dict[str, Any], *, insecure: bool = False
    ) -> str:
        """Push a packaged chart as `helm push` does: config = Chart.yaml as JSON, one layer."""
        config = json.dumps(metadata, separators=(",", ":"), sort_keys=True).encode()
        tag = helm_tag(str(metadata["version"]))
        return self._push(
            host, name, tag, (HELM_CONFIG_TYPE, config), [(HELM_CHART_TYPE, chart)], insecure=insecure
        )

    def _push(
        self,
        host: str,
        name: str,
        tag: str,
        config: tuple[str, bytes],
        layers: list[tuple[str, bytes]],
        *,
        insecure: bool,
        artifact_type: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> str:
        """Upload the config and layer blobs, then an OCI image manifest naming them under `tag`."""
        for _, blob in [config, *layers]:
            self.push_blob(host, name, blob, insecure=insecure)

        def descriptor(media_type: str, blob: bytes) -> dict[str, Any]:
            return {"mediaType": media_type, "digest": registry.digest_of(blob), "size": len(blob)}

        manifest: dict[str, Any] = {"schemaVersion": 2, "mediaType": MANIFEST_TYPES[0]}
        if artifact_type is not None:
            manifest["artifactType"] = artifact_type
        manifest["config"] = descriptor(*config)
        manifest["layers"] = [descriptor(*layer) for layer in layers]
        if annotations is not None:
            manifest["annotations"] = annotations
        return self.push_manifest(host, name, tag, manifest, insecure=insecure)

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        host: str,
        path: str,
        *,
        insecure: bool,
        auth: str | None = None,
        accept: tuple[str, ...] = (),
        body: bytes | None = None,
        content_type: str = "application/octet-stream",
        ok: tuple[int, ...] = (200,),
    ) -> tuple[int, dict[str, str], bytes]:
        scheme = "http" if insecure else "https"
        url = f"{scheme}://{host}{path}"
        target = self._route(host)
        if target is None:
            raise RegistryError(
                f'{method.title()} "{url}": dial tcp: lookup {host.split(":")[0]}: no such host'
                + (self._note(url) if self._note is not None else "")
            )
        address, host_header, simulated = target
        headers = {"Host": host_header, "User-Agent": "gitops-sim (go-containerregistry)"}
        if accept:
            headers["Accept"] = ", ".join(accept)
        if auth:
            headers["Authorization"] = auth
        if body is not None:
            headers["Content-Type"] = content_type
        plain = insecure or simulated
        status, reason, answer, data = self._exchange(method, url, address, plain, path, headers, body)
        challenge = answer.get("www-authenticate", "")
        if status == 401 and 401 not in ok and challenge[:7].lower() == "bearer " and not _is_bearer(auth):
            token = self._token(challenge, path, auth)
            headers["Authorization"] = f"Bearer {token}"
            status, reason, answer, data = self._exchange(method, url, address, plain, path, headers, body)
        if status not in ok:
            error = _status_error(method, url, status, reason, data)
            note = self._note(url) if self._note is not None and status == 404 else ""
            if note:
                raise RegistryError(error.message + note, status=error.status, code=error.code)
            raise error
        return status, answer, data

    def _exchange(
        self,
        method: str,
        url: str,
        address: str,
        plain: bool,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[int, str, dict[str, str], bytes]:
        """One request: (status, reason, headers by lower-case name, body)."""
        conn = (
            loopback.HTTPConnection(address, timeout=self._timeout_s)
            if plain
            else http.client.HTTPSConnection(address, timeout=self._timeout_s)
        )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except TimeoutError as exc:
            raise RegistryError(f'{method.title()} "{url}": context deadline exceeded') from exc
        except (ConnectionError, OSError, http.client.HTTPException) as exc:
            what = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
            parts = urlsplit(url)
            port = parts.port or (80 if parts.scheme == "http" else 443)
            raise RegistryError(
                f'{method.title()} "{url}": dial tcp {parts.hostname}:{port}: connect: {what}'
            ) from exc
        finally:
            conn.close()
        return response.status, response.reason, {k.lower(): v for k, v in response.getheaders()}, data

    def _token(self, challenge: str, path: str, auth: str | None) -> str:
        """A bearer token for `path` from the challenge's realm (the registry token flow of
        go-containerregistry's `transport.bearer`: anonymous, or with the basic credentials
        given); the scope is the challenge's, else pull access to the path's repository."""
        params = dict(_CHALLENGE_PARAM.findall(challenge[7:]))
        realm = params.get("realm", "")
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"the registry's bearer challenge names no token realm: {challenge!r}")
        scope = params.get("scope") or "repository:{}:pull".format(
            re.split(r"/(?:manifests|tags|blobs)/", path.removeprefix("/v2/"))[0]
        )
        query = urlencode([(k, v) for k, v in (("scope", scope), ("service", params.get("service"))) if v])
        target = self._route(parts.netloc)
        if target is None:
            raise RegistryError(f'Get "{realm}": dial tcp: lookup {parts.hostname}: no such host')
        headers = {"Host": target[1], "User-Agent": "gitops-sim (go-containerregistry)"}
        if auth:
            headers["Authorization"] = auth
        sep = "&" if parts.query else "?"
        token_path = f"{parts.path or '/'}{'?' + parts.query if parts.query else ''}{sep}{query}"
        status, reason, _, data = self._exchange(
            "GET", realm, target[0], parts.scheme == "http" or target[2], token_path, headers, None
        )
        if status != 200:
            raise _status_error("GET", realm, status, reason, data)
        try:
            answer = json.loads(data)
            token = answer.get("token") or answer.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"GET {realm}: the token server's answer holds no token")
        return token


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _is_bearer(auth: str | None) -> bool:
    return auth is not None and auth[:7].lower() == "bearer "


def _status_error(method: str, url: str, status: int, reason: str, data: bytes) -> RegistryError:
    try:
        errors = json.loads(data).get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    if errors:
        first = errors[0]
        detail = f"; {_go_map(first['detail'])}" if first.get("detail") else ""
        return RegistryError(
            f"{method} {url}: {first.get('code')}: {first.get('message')}{detail}",
            status=status,
            code=str(first.get("code", "")),
        )
    text = data.decode(errors="replace").strip()
    return RegistryError(
        f"{method} {url}: unexpected status code {status} {reason}" + (f": {text}" if text else ""),
        status=status,
    )


def docker_config_auth(secret_data: Mapping[str, str], host: str) -> str | None:
    """The `Authorization` value for `host` in a Secret's `.dockerconfigjson` (its `auth`, else its
    username and password as basic auth); None when it has no entry for the host. Raises
    ValueError when the text is not JSON."""
    config = json.loads(secret_data.get(".dockerconfigjson") or "{}")
    entry = ((config.get("auths") if isinstance(config, dict) else None) or {}).get(host) or {}
    if entry.get("auth"):
        return f"Basic {entry['auth']}"
    if entry.get("username") or entry.get("password"):
        return basic_auth(str(entry.get("username", "")), str(entry.get("password", "")))
    return None


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
