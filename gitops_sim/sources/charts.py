"""Helm chart repositories for a simulation: published with the real Helm SDK, served over HTTP.

`ChartRepositories.publish(url, name, version, files)` writes a chart (the files given, or what
`helm create` makes), packages it with helm-python-sdk (the Helm v4 Go SDK), and rewrites the
repository's `index.yaml`. Packaging is reproducible: file times come from the simulation's clock,
and the index is written here (Helm's own generator stamps the real time), so the same scenario
always yields the same chart digests and index revision.

The repositories are served on 127.0.0.1 as plain static files, `<path>/index.yaml` and
`<path>/<chart>-<version>.tgz`, under the host names their URLs give (virtual hosting, as for the
registry); a repository may require basic auth, and may be made `unreachable` (connections
refused) or `unavailable` (503). `route(url)` says where a URL is fetched from, for the Helm
controllers' HTTP client: hosted hosts go to this server, hosts on 127.0.0.1 or localhost (a real
chart server a test started) are reached directly, others do not resolve.

Hostile charts and servers: the Helm SDK runs in this process (a Go library), so it cannot be
given an address-space or a wall-time limit as `process.run` gives kustomize; its inputs are
bounded instead. Measured with helm-python's Helm v4 SDK: a Chart.yaml or values.yaml alias bomb
is refused by Helm at once ("document contains excessive aliasing", 70 MiB resident), 100,000-deep
nesting too ("exceeded max depth of 10000"), a 200 MB template ("larger than the maximum file
size 5242880"); 20,000 small templates package in about 1s. What is left unbounded by Helm is
what reaches it: `fetch` reads at most `max_bytes` of a response (source-controller's
`--helm-chart-max-size`, 10 MiB, and `--helm-index-max-size`, 50 MiB, for the callers to pass),
and `package` refuses more than `MAX_CHART_FILES` files or `MAX_CHART_BYTES` in all before Helm
sees them. Gap, on purpose: a chart within those bounds still runs in-process without a memory
or time limit; template rendering (HelmRelease) is not simulated, so no chart code runs.

An offline mirror (`gitops_sim.mirror`) serves the repositories it holds with `host_files` (its
trimmed `index.yaml` and chart archives, byte for byte) and reads upstreams with `http_get`; a URL
no repository here serves then fails with the mirror's note added (`loopback.Hosting.offline`).

Callers: the engine and the scenario runner (publish, faults), the HelmRepository and HelmChart
controllers (through `fetch`), `gitops_sim.mirror`. Never reads the real time.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

from gitops_sim.model import duration, yamlsafe
from gitops_sim.sources import loopback
from gitops_sim.timing import clock as clocks

MAX_CHART_BYTES = 100 << 20
"""Helm's loader refuses a chart that decompresses to more (MaxDecompressedChartSize); so do we,
before writing its files for the SDK."""
MAX_CHART_FILES = 10_000
"""More files than any real chart has; a tree of tiny files costs the SDK time per file."""
MAX_DOWNLOAD_BYTES = 10 << 20
"""source-controller's `--helm-chart-max-size` default: the most `fetch` reads of a chart."""


class ChartError(Exception):
    """Publishing or fetching failed; `message` reads as Helm's client words it."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(slots=True)
class Repo:
    url: str
    folder: Path
    entries: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    credentials: tuple[str, str] | None = None
    fault: str | None = None  # "unreachable" | "unavailable"


class TooLarge(ChartError):
    """A response longer than the caller's `max_bytes`."""


def _key(url: str) -> str:
    parts = urlsplit(url.rstrip("/"))
    return f"{parts.hostname or ''}{parts.path}"


class ChartRepositories(loopback.Hosting):
    def __init__(self, root: Path, clock: clocks.Clock) -> None:
        self._root = root
        self._clock = clock
        self.repos: dict[str, Repo] = {}  # "charts.example.com/stable" -> Repo
        super().__init__()

    # -- publishing --------------------------------------------------------------------------

    def package(
        self,
        name: str,
        version: str,
        files: Mapping[str, str | bytes] | None = None,
        *,
        app_version: str | None = None,
    ) -> tuple[bytes, dict[str, object]]:
        """Package chart `name` at `version` with the Helm SDK (the files given, or what `helm
        create` makes), file times from the clock; returns the .tgz and the chart's metadata."""
        import helm_python as helm  # the Go SDK loads on first use

        if files:
            size = sum(len(c) for c in files.values())
            if len(files) > MAX_CHART_FILES or size > MAX_CHART_BYTES:
                raise ChartError(
                    f"chart '{name}' has {len(files)} files and {size} bytes: more than the "
                    f"{MAX_CHART_FILES} files or {MAX_CHART_BYTES} bytes a chart may hold"
                )
        scratch = self._root / "scratch"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        try:
            if files:
                chart_dir = scratch / name
                for rel, text in files.items():
                    (chart_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                    (chart_dir / rel).write_bytes(text.encode() if isinstance(text, str) else text)
            else:
                helm.Chart.create(name, scratch)
                chart_dir = scratch / name
            stamp = (self._clock.epoch_ms + self._clock.now()) / 1000
            for path in [chart_dir, *chart_dir.rglob("*")]:
                os.utime(path, (stamp, stamp))
            archive = Path(
                helm.package(chart_dir, destination=scratch / "out", version=version, app_version=app_version)
            )
            metadata = {
                k: v
                for k, v in dict(helm.Chart.load(chart_dir).metadata).items()
                if v not in (None, "", [], {})
            }
            metadata.update({"name": name, "version": version})
            if app_version:
                metadata["appVersion"] = app_version
            return archive.read_bytes(), metadata
        except helm.HelmError as exc:
            raise ChartError(str(exc)) from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def publish(
        self,
        url: str,
        name: str,
        version: str,
        files: Mapping[str, str] | None = None,
        *,
        app_version: str | None = None,
    ) -> str:
        """Package chart `name` at `version` into the HTTP repository at `url`; returns its digest."""
        repo = self.repos.setdefault(
            _key(url), Repo(url.rstrip("/"), self._root / _key(url).replace("/", "_"))
        )
        repo.folder.mkdir(parents=True, exist_ok=True)
        data, metadata = self.package(name, version, files, app_version=app_version)
        filename = f"{name}-{version}.tgz"
        (repo.folder / filename).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        entry: dict[str, object] = {
            **metadata,
            "created": duration.rfc3339(self._clock.epoch_ms + self._clock.now()),
            "digest": digest,
            "urls": [f"{repo.url}/{filename}"],
        }
        versions = [e for e in repo.entries.get(name, []) if e.get("version") != version]
        repo.entries[name] = [entry, *versions]
        self._write_index(repo)
        return digest

    def _write_index(self, repo: Repo) -> None:
        index = {
            "apiVersion": "v1",
            "entries": {name: repo.entries[name] for name in sorted(repo.entries)},
            "generated": duration.rfc3339(self._clock.epoch_ms + self._clock.now()),
        }
        (repo.folder / "index.yaml").write_text(yaml.safe_dump(index, sort_keys=True))

    def _start(self) -> loopback.Server:
        return loopback.Server(_Handler, "gitops-sim-charts", charts=self)

    def get(self, url: str) -> Repo | None:
        return self.repos.get(_key(url))

    # -- serving -----------------------------------------------------------------------------

    def route(self, url: str) -> tuple[str, str, bool] | None:
        """(address to connect to, Host header, hosted here) for a URL; None when its host does
        not resolve. The hosted server speaks plain HTTP whatever the scheme."""
        parts = urlsplit(url)
        host = parts.netloc
        repo = self._repo_of(url)
        if repo is not None:
            if repo.fault == "unreachable":
                return self.refusing(), host, True
            return self.serving(), host, True
        if any(urlsplit(r.url).hostname == parts.hostname for r in self.repos.values()):
            return self.serving(), host, True  # a hosted host: an unknown path is a 404 there
        if loopback.is_loopback(host):
            return host, host, False
        return None

    def fetch(
        self,
        url: str,
        credentials: tuple[str, str] | None = None,
        timeout_s: float = 60.0,
        *,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
    ) -> bytes:
        """GET `url` as Helm's HTTP getter would (basic auth when given), within `timeout_s`,
        reading no more than `max_bytes` of the body. A URL no repository here serves gets the
        offline mirror's note, when one is loaded."""
        try:
            return http_get(url, self.route(url), credentials, timeout_s, max_bytes=max_bytes)
        except TooLarge:
            raise
        except ChartError as exc:
            if exc.status not in (0, 404) or self._repo_of(url) is not None:
                raise
            note = self.offline_note(url)
            if not note:
                raise
            raise ChartError(exc.message + note, status=exc.status) from exc

    def _repo_of(self, url: str) -> Repo | None:
        key = _key(url)
        return next((r for k, r in self.repos.items() if key == k or key.startswith(k + "/")), None)

    def host_files(self, url: str, files: Mapping[str, bytes]) -> None:
        """Serve the repository at `url` with these files as they are (`index.yaml` and chart
        archives, from an offline mirror); a later `publish` there keeps the index's entries."""
        repo = self.repos.setdefault(
            _key(url), Repo(url.rstrip("/"), self._root / _key(url).replace("/", "_"))
        )
        repo.folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            if "/" in name or name in ("", ".", ".."):
                raise ChartError(f"{name!r} cannot name a file of a chart repository")
            (repo.folder / name).write_bytes(data)
        index = yamlsafe.load(files.get("index.yaml", b"")) or {}
        entries = index.get("entries") if isinstance(index, dict) else None
        repo.entries = {
            str(name): [e for e in versions if isinstance(e, dict)]
            for name, versions in (entries if isinstance(entries, dict) else {}).items()
            if isinstance(versions, list)
        }


def http_get(
    url: str,
    target: tuple[str, str, bool] | None,
    credentials: tuple[str, str] | None = None,
    timeout_s: float = 60.0,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> bytes:
    """GET `url` from `target` (address, Host header, hosted here: what `route` gives; None when
    the host does not resolve), as Helm's HTTP getter would: basic auth when given, within
    `timeout_s`, reading no more than `max_bytes` of the body. A hosted server speaks plain
    HTTP; any other gets what the scheme says (HTTPS verified)."""
    if target is None:
        raise ChartError(f'Get "{url}": dial tcp: lookup {urlsplit(url).hostname}: no such host')
    address, host_header, hosted = target
    parts = urlsplit(url)
    headers = {"Host": host_header, "User-Agent": "Helm/4 (gitops-sim)"}
    if credentials is not None:
        raw = f"{credentials[0]}:{credentials[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
    secure = parts.scheme == "https" and not hosted
    conn = (http.client.HTTPSConnection if secure else loopback.HTTPConnection)(address, timeout=timeout_s)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
        response = conn.getresponse()
        body = response.read(max_bytes + 1)
    except TimeoutError as exc:
        raise ChartError(f'Get "{url}": context deadline exceeded') from exc
    except (ConnectionError, OSError, http.client.HTTPException) as exc:
        what = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        raise ChartError(f'Get "{url}": dial tcp {parts.hostname}:{port}: connect: {what}') from exc
    finally:
        conn.close()
    if response.status != 200:
        raise ChartError(
            f"failed to fetch {url} : {response.status} {response.reason}", status=response.status
        )
    if len(body) > max_bytes:
        raise TooLarge(f"size of {url} exceeds the maximum size of {max_bytes} bytes")
    return body


def resolve_chart_url(repo_url: str, chart_url: str) -> str:
    """A chart URL from an index, made absolute against the repository URL (as Helm does)."""
    return urljoin(repo_url.rstrip("/") + "/", chart_url)


class _Handler(loopback.Handler):
    charts: ChartRepositories

    def do_GET(self) -> None:
        host = self.headers.get("Host", "").split(":")[0]
        path = urlsplit(self.path).path
        full = f"{host}{path}"
        repo = next((r for k, r in self.charts.repos.items() if full.startswith(k + "/")), None)
        if repo is None:
            self.send(404, b"404 page not found\n")
            return
        if repo.fault == "unavailable":
            self.send(503, b"service unavailable\n")
            return
        if repo.credentials is not None:
            raw = f"{repo.credentials[0]}:{repo.credentials[1]}".encode()
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(raw).decode():
                self.send(401, b"401 Unauthorized\n", WWW_Authenticate='Basic realm="charts"')
                return
        name = full.removeprefix(_key(repo.url) + "/")
        target = repo.folder / name
        if "/" in name or not target.is_file():
            self.send(404, b"404 page not found\n")
            return
        kind = "application/x-yaml" if name.endswith(".yaml") else "application/gzip"
        self.send(200, target.read_bytes(), kind)
