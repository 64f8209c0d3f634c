"""An OCI registry for a simulation's own images and artifacts, served over the Distribution API.

Scenarios push Flux artifacts (`push-artifact`) and image tags to registries named by host
(`ghcr.io`); `RegistryServer` keeps them in memory and serves them on 127.0.0.1 with the subset
of the OCI Distribution API that Flux's clients use: `/v2/` (version check), tag lists,
manifests by tag or digest (GET, HEAD, PUT), blobs (GET, HEAD) and monolithic uploads
(POST then PUT). Errors are the registry's JSON error bodies (`MANIFEST_UNKNOWN`, `NAME_UNKNOWN`,
`BLOB_UNKNOWN`). A repository can be made to fail: `unavailable` answers 503 to everything.
(`unreachable`, connections refused, is the client's business: `sources.oci` sends such a host
to a closed port.)

An offline mirror (`gitops_sim.mirror.serve`) loads its manifests and blobs here under their
hosts; `Registries.note` is then what a client adds to an error about a repository this server
does not hold (how to mirror it).

Callers: `sources.oci` (the hosted side of `OciRegistries`), `gitops_sim.mirror`, tests. A real
registry (Debian's docker-registry) is reached by the same client; this server exists so that
scenarios need no external process. Never reads the clock.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from gitops_sim.sources import loopback

_NAME = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
_ROUTE = re.compile(
    rf"^/v2/(?P<name>{_NAME})/(?P<what>tags/list|manifests/[^/]+|blobs/uploads/[^/]*|blobs/[^/]+)$"
)


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(slots=True)
class Repository:
    tags: dict[str, str] = field(default_factory=dict)  # tag -> manifest digest
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # digest -> (media type, body)
    fault: str | None = None  # "unavailable": every request answers 503; "hang": none answers


class RegistryServer:
    """Registries by host; each host's repositories by name."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.repos: dict[str, Repository] = {}  # "ghcr.io/acme/app" -> Repository
        self._uploads: dict[str, str] = {}
        self._lock = threading.Lock()
        self._server = loopback.Server(_Handler, "gitops-sim-registry", registry=self)

    @property
    def address(self) -> str:
        return self._server.address

    def repository(self, host: str, name: str) -> Repository:
        with self._lock:
            return self.repos.setdefault(f"{host}/{name}", Repository())

    def put_blob(self, data: bytes) -> str:
        digest = digest_of(data)
        with self._lock:
            self.blobs[digest] = data
        return digest

    def put_manifest(self, host: str, name: str, reference: str, media_type: str, body: bytes) -> str:
        digest = digest_of(body)
        repo = self.repository(host, name)
        with self._lock:
            repo.manifests[digest] = (media_type, body)
            if not reference.startswith("sha256:"):
                repo.tags[reference] = digest
        return digest

    def delete_tag(self, host: str, name: str, tag: str) -> None:
        repo = self.repository(host, name)  # takes the lock itself
        with self._lock:
            repo.tags.pop(tag, None)

    def stop(self) -> None:
        self._server.stop()


def _error(code: str, message: str, detail: object = None) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()


class _Handler(loopback.Handler):
    registry: RegistryServer

    def _send(
        self, status: int, body: bytes = b"", content_type: str = "application/json", **headers: str
    ) -> None:
        self.send(status, body, content_type, Docker_Distribution_API_Version="registry/2.0", **headers)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _route(self) -> tuple[str, str, Repository | None] | None:
        path = urlsplit(self.path).path
        if path in ("/v2", "/v2/"):
            self._send(200, b"{}")
            return None
        match = _ROUTE.match(path)
        if match is None:
            self._send(404, _error("NAME_INVALID", "invalid repository name"))
            return None
        key = f"{self.headers.get('Host', '')}/{match['name']}"  # virtual hosting: ghcr.io, docker.io…
        repo = self.registry.repos.get(key)
        if repo is not None and repo.fault == "hang":  # no answer until the server stops
            self.hold()
            return None
        if repo is not None and repo.fault == "unavailable":
            self._send(503, b"service unavailable\n", "text/plain")
            return None
        return key, match["what"], repo

    def do_GET(self) -> None:
        routed = self._route()
        if routed is None:
            return
        key, what, repo = routed
        if what == "tags/list":
            if repo is None:
                self._send(
                    404, _error("NAME_UNKNOWN", "repository name not known to registry", {"name": key})
                )
                return
            name = key.split("/", 1)[1]
            self._send(200, json.dumps({"name": name, "tags": sorted(repo.tags)}).encode())
        elif what.startswith("manifests/"):
            reference = what.removeprefix("manifests/")
            digest = (
                reference if reference.startswith("sha256:") else (repo.tags.get(reference) if repo else None)
            )
            found = repo.manifests.get(digest) if repo is not None and digest else None
            if found is None:
                detail = {"Tag": reference} if not reference.startswith("sha256:") else {"Digest": reference}
                self._send(404, _error("MANIFEST_UNKNOWN", "manifest unknown", detail))
                return
            media_type, body = found
            self._send(200, body, media_type, Docker_Content_Digest=str(digest))
        elif what.startswith("blobs/") and not what.startswith("blobs/uploads"):
            digest = what.removeprefix("blobs/")
            blob = self.registry.blobs.get(digest)
            if blob is None:
                self._send(404, _error("BLOB_UNKNOWN", "blob unknown to registry", digest))
                return
            self._send(200, blob, "application/octet-stream", Docker_Content_Digest=digest)
        else:
            self._send(405, _error("UNSUPPORTED", "the operation is unsupported"))

    do_HEAD = do_GET

    def do_POST(self) -> None:
        routed = self._route()
        if routed is None:
            return
        key, what, _ = routed
        if what != "blobs/uploads/":
            self._send(405, _error("UNSUPPORTED", "the operation is unsupported"))
            return
        body = self._body()
        digest = parse_qs(urlsplit(self.path).query).get("digest", [""])[0]
        if digest:  # a monolithic upload in one request
            self._finish_upload(key, digest, body)
            return
        upload = hashlib.sha256(f"{key}/{len(self.registry._uploads)}".encode()).hexdigest()[:32]
        self.registry._uploads[upload] = key
        self._send(202, b"", Location=f"/v2/{key.split('/', 1)[1]}/blobs/uploads/{upload}", Range="0-0")

    def do_PUT(self) -> None:
        routed = self._route()
        if routed is None:
            return
        key, what, _ = routed
        body = self._body()
        host, name = key.split("/", 1)
        if what.startswith("manifests/"):
            media_type = self.headers.get("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            digest = self.registry.put_manifest(host, name, what.removeprefix("manifests/"), media_type, body)
            self._send(201, b"", Location=f"/v2/{name}/manifests/{digest}", Docker_Content_Digest=digest)
        elif what.startswith("blobs/uploads/"):
            digest = parse_qs(urlsplit(self.path).query).get("digest", [""])[0]
            self._finish_upload(key, digest, body)
        else:
            self._send(405, _error("UNSUPPORTED", "the operation is unsupported"))

    def _finish_upload(self, key: str, digest: str, body: bytes) -> None:
        if digest != digest_of(body):
            self._send(400, _error("DIGEST_INVALID", "provided digest did not match uploaded content"))
            return
        self.registry.put_blob(body)
        self._send(
            201, b"", Location=f"/v2/{key.split('/', 1)[1]}/blobs/{digest}", Docker_Content_Digest=digest
        )


class Registries(loopback.Hosting):
    """The registries a simulation hosts, and where a client reaches any registry host.

    Hosts appear when something is pushed to them. A hosted host can be made unreachable
    (connections refused: requests go to a port that never listens); a repository can be made
    unavailable (503). Hosts on this machine (`127.0.0.1:5000`) are reached directly."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: set[str] = set()
        self.unreachable: set[str] = set()

    @property
    def server(self) -> RegistryServer:
        self.serving()
        server: RegistryServer = self._running
        return server

    def _start(self) -> RegistryServer:
        return RegistryServer()

    def route(self, host: str) -> tuple[str, str, bool] | None:
        """(address to connect to, Host header, whether it is this simulation's own server) for a
        registry host; None when the host does not resolve. The own server speaks plain HTTP
        whatever the scheme (TLS is not simulated); a real registry gets what the scheme says."""
        if host in self.unreachable:
            return self.refusing(), host, True
        if host in self.hosts:
            return self.serving(), host, True
        if loopback.is_loopback(host):
            return host, host, False
        return None

    def set_fault(self, target: str, fault: str | None) -> None:
        """Fault `target` (`host` or `host/name`): `unreachable` refuses connections to the host,
        `unavailable` makes the repository `host/name` answer 503 and `hang` makes it answer
        nothing, so clients run into their timeout (both need a name); None heals the host and
        every repository at or under `target`."""
        host, _, name = target.partition("/")
        if fault == "unreachable":
            self.unreachable.add(host)
        elif fault in ("unavailable", "hang"):
            if not name:
                raise ValueError(f"`{fault}` names a repository: <host>/<name>")
            self.server.repository(host, name).fault = fault
        else:
            self.unreachable.discard(host)
            for key, repository in self.server.repos.items():
                if key == target or key.startswith(target + "/"):
                    repository.fault = None

    def note(self, url: str) -> str:
        """What the offline mirror adds to a client's error about `url` (a request URL,
        `https://<host>/v2/<name>/…`): nothing for a repository this server holds."""
        parts = urlsplit(url)
        name = parts.path.removeprefix("/v2/").split("/manifests/")[0].split("/tags/")[0].split("/blobs/")[0]
        if self._running is not None and f"{parts.netloc}/{name}" in self.server.repos:
            return ""
        return self.offline_note(url)

    def host(self, url: str) -> tuple[str, str]:
        """Host the registry of `url` (`oci://ghcr.io/acme/app` or `ghcr.io/acme/app`) here;
        returns (host, repository name)."""
        host, _, name = url.removeprefix("oci://").strip("/").partition("/")
        self.hosts.add(host)
        return host, name
