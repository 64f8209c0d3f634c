"""Load an offline mirror into a simulation, so that remote URLs answer from it.

`serve(cache_dir, sim)` hosts what the mirror (`mirror.cache`) holds under the URLs it came from,
on the simulation's own servers, before the run starts:

- each HTTP Helm repository in the simulation's chart repositories, its trimmed `index.yaml` and
  chart archives served byte for byte (`sources.charts.ChartRepositories.host_files`), so a
  HelmRepository's revision is the mirrored index's digest;
- each OCI repository (artifacts, and charts of `type: oci` HelmRepositories) in the simulation's
  registry, manifests and blobs as mirrored, under their tags;
- each git repository of a remote base in the simulation's git server, loaded from its bundle
  with the upstream's commit ids (`sources.git.Repository.import_bundle`), and kustomize told to
  clone remote bases there (`apply.build.Builder.remote_bases`): `url.<served>.insteadOf` per
  mirrored repository, and every other http(s) URL sent to a closed port.

A URL the mirror lacks then fails as the controller would fail to reach it, with the mirror's note
after Flux's message and reason: a HelmRepository's `failed to fetch Helm repository index: … no
such host: https://charts.example.com is not in the offline mirror: run gitops-sim mirror <path>
--cache <dir>`, an OCIRepository's pull error, a Kustomization's `kustomize build failed: …
Could not resolve host: …: <url> at <ref> is not in the offline mirror: …`. URLs on this machine
(127.0.0.1, localhost) get no note: they are reached for real.

`stand_in_charts=True`: a chart the mirror does not hold (recorded as failed in its index, or in
`wanted`) is replaced by a stand-in of the name and version asked for: a valid chart with no
templates (a semver range gets its lowest matching version among the range's own numbers), so
the HelmRelease installs and the rest of the repository can be tried. OCIRepositories selecting a
chart layer get one too (under their tag; a digest cannot be stood in for).

Returns human-readable notes for the end-of-run summary: what was served, what the mirror lacks,
and every stand-in. The signature is stable (`gitops-sim up` and `run --mirror` call it).

Differs from Flux, visibly: a stand-in chart renders nothing where the real chart would create
objects; the trimmed index lists only mirrored versions, so a range that the live repository would
resolve to a newer release resolves to the mirrored one.

Callers: the CLI (`run --mirror`, `up`). Never reads the clock; reaches nothing but the
simulation's own servers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from gitops_sim.apply import build
from gitops_sim.engine import simulation
from gitops_sim.mirror import cache, discover
from gitops_sim.model import semver, yamlsafe
from gitops_sim.sources import charts, git, githttp, loopback, oci

NOWHERE = "http://127.0.0.1:9/"
"""Where kustomize's git sends every http(s) URL the mirror does not serve (the discard port,
which refuses at once): nothing leaves the machine."""
TOOLS_PATH = "/usr/bin:/bin"
"""Where git's shell commands find their tools (`git submodule`, which kustomize runs after every
clone, is a shell script); kustomize itself runs nothing but git (no exec plugins are enabled)."""


def serve(
    cache_dir: Path | None,
    sim: simulation.Simulation,
    *,
    stand_in_charts: bool = False,
    wanted: Sequence[discover.Reference] = (),
) -> list[str]:
    """Host the mirror in `cache_dir` (None: no mirror, only stand-ins and notes) in `sim`, before
    it runs; with `stand_in_charts`, stand-ins for the charts it lacks (those its index recorded
    as failed, and those of `wanted`, e.g. `discover.discover(folder)`). Returns the notes.
    Raises `cache.MirrorError` when the folder is not a mirror or a blob is damaged."""
    index = cache.load(cache_dir) if cache_dir is not None else {}
    blobs = cache.Blobs(cache_dir) if cache_dir is not None else None
    hint = _Hint(cache_dir, str(index.get("source") or ""))
    notes: list[str] = []
    requests = [discover.Reference.from_json(r) for r in (index.get("requests") or {}).values()]
    records = {r.key: rec for r, rec in zip(requests, (index.get("requests") or {}).values(), strict=True)}
    for ref in requests:
        record = records[ref.key]
        if "resolved" in record:
            notes.append(f"offline mirror: {ref.describe()} served as {record['resolved']}")
        else:
            notes.append(
                f"offline mirror: {ref.describe()} is missing ({record.get('error', 'not fetched')})"
            )
    chart_files: dict[str, dict[str, bytes]] = {}
    for url, entry in sorted((index.get("charts") or {}).items()):
        assert blobs is not None
        chart_files[url] = {
            name: blobs.get(str(d)) for name, d in sorted(dict(entry.get("files") or {}).items())
        }
    if stand_in_charts:
        lacking = [r for r in requests if "resolved" not in records[r.key]]
        lacking += [r for r in wanted if r.key not in records or "resolved" not in records[r.key]]
        notes += _stand_ins(sim, lacking, chart_files)
    for url, files in chart_files.items():
        try:
            sim.charts.host_files(url, files)
        except charts.ChartError as exc:
            raise cache.MirrorError(f"cannot serve {url} from the mirror: {exc.message}") from exc
    if blobs is not None:
        _serve_oci(sim, index.get("oci") or {}, blobs)
        served = _serve_git(sim, index.get("git") or {}, blobs)
    else:
        served = {}
    mirrored_refs = {(r.url, r.version) for r in requests if r.kind == "git" and "resolved" in records[r.key]}
    _remote_bases(sim, served, mirrored_refs, hint)
    sim.charts.offline = hint.for_chart_url
    sim.registries.offline = hint.for_registry_url
    return notes


class _Hint:
    """The note added to what cannot be reached: how to put it in the mirror."""

    def __init__(self, cache_dir: Path | None, source: str) -> None:
        where = f" --cache {cache_dir}" if cache_dir is not None else " --cache DIR"
        self.command = f"gitops-sim mirror {source or 'PATH'}{where}"

    def text(self, what: str) -> str:
        return f"{what} is not in the offline mirror: run {self.command}"

    def for_chart_url(self, url: str) -> str | None:
        if loopback.is_loopback(urlsplit(url).netloc):
            return None
        return self.text(url.removesuffix("/index.yaml"))

    def for_registry_url(self, url: str) -> str | None:
        parts = urlsplit(url)
        if loopback.is_loopback(parts.netloc):
            return None
        name = re.split(r"/(?:manifests|tags|blobs)/", parts.path.removeprefix("/v2/"))[0].strip("/")
        return self.text(f"oci://{parts.netloc}/{name}" if name else parts.netloc)


# -- OCI and git ----------------------------------------------------------------------------------


def _serve_oci(sim: simulation.Simulation, repos: dict[str, Any], blobs: cache.Blobs) -> None:
    for key, repo in sorted(repos.items()):
        host, name = sim.registries.host(f"oci://{key}")
        server = sim.registries.server
        manifests = dict(repo.get("manifests") or {})
        for digest, manifest in sorted(manifests.items()):
            for blob in manifest.get("blobs") or []:
                if blob not in manifests:
                    server.put_blob(blobs.get(str(blob)))
            server.put_manifest(host, name, digest, str(manifest.get("mediaType")), blobs.get(digest))
        for tag, digest in sorted(dict(repo.get("tags") or {}).items()):
            media_type = str(manifests.get(digest, {}).get("mediaType"))
            server.put_manifest(host, name, tag, media_type, blobs.get(str(digest)))


def _serve_git(sim: simulation.Simulation, repos: dict[str, Any], blobs: cache.Blobs) -> dict[str, str]:
    """Host each repository; returns the URL prefixes served and where git fetches them."""
    served: dict[str, str] = {}
    for url, entry in sorted(repos.items()):
        bundle = str(entry.get("bundle"))
        blobs.get(bundle)  # checked against its digest before git reads it
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", git.host_path(url)).strip("-.")[:60]
        name = f"mirror-{slug}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
        try:
            repo = sim.git.create(name, url, branch=str(entry.get("head") or "main"))
            repo.import_bundle(blobs.path(bundle), [str(s) for s in entry.get("shallow") or []])
        except git.GitError as exc:
            raise cache.MirrorError(f"cannot serve {url} from the mirror: {exc}") from exc
        served[git.normalize_url(url)] = f"{sim.git.base_url()}/{git.host_path(url)}"
    return served


def _remote_bases(
    sim: simulation.Simulation, served: dict[str, str], mirrored: set[tuple[str, str]], hint: _Hint
) -> None:
    """kustomize's git: the sandbox, the served repositories, every other URL nowhere."""
    config = [
        *githttp.SANDBOX_CONFIG,
        *((f"url.{target}.insteadOf", url) for url, target in sorted(served.items())),
        (f"url.{NOWHERE}.insteadOf", "https://"),
        (f"url.{NOWHERE}.insteadOf", "http://"),
    ]
    env = {k: v for k, v in githttp.GIT_ENV.items() if k != "HOME"}
    env["PATH"] = TOOLS_PATH
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for i, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value

    def note(url: str, ref: str) -> str | None:
        if (git.normalize_url(url), ref) in mirrored:
            return None
        return hint.text(f"{url} at {ref}")

    sim.builder.remote_bases(build.RemoteBases(sim.git.git, env, served, note))


# -- stand-in charts -------------------------------------------------------------------------------


def stand_in_version(constraint: str) -> str | None:
    """A version for a stand-in of a chart asked for as `constraint`: the version itself, else
    the lowest of the range's own numbers (and their next patch, minor and major) it matches;
    None when nothing simple matches."""
    if semver.try_parse_version(constraint) is not None:
        return constraint
    try:
        rule = semver.Constraint("*" if constraint in ("", "*") else constraint)
    except semver.SemverError:
        return None
    candidates = {"0.0.0", "0.1.0", "1.0.0"}
    for match in re.finditer(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", constraint):
        a, b, c = (int(part or 0) for part in match.groups())
        candidates |= {f"{a}.{b}.{c}", f"{a}.{b}.{c + 1}", f"{a}.{b + 1}.0", f"{a + 1}.0.0"}
    versions = sorted((semver.parse_version(v) for v in candidates), key=lambda v: v.key())
    return next((v.original for v in versions if rule.check(v)), None)


def _stand_in(sim: simulation.Simulation, name: str, version: str) -> tuple[bytes, dict[str, object]]:
    chart_yaml = yamlsafe.dump(
        {
            "apiVersion": "v2",
            "name": name,
            "version": version,
            "description": f"gitops-sim stand-in for {name} {version}, which is not in the offline mirror",
            "type": "application",
        }
    )
    return sim.charts.package(name, version, {"Chart.yaml": chart_yaml, "values.yaml": "{}\n"})


def _stand_ins(
    sim: simulation.Simulation,
    lacking: Sequence[discover.Reference],
    chart_files: dict[str, dict[str, bytes]],
) -> list[str]:
    notes: list[str] = []
    done: set[str] = set()
    for ref in sorted(lacking, key=lambda r: r.key):
        if ref.key in done or not (ref.kind == "chart" or (ref.kind == "oci" and ref.chart_layer)):
            continue
        done.add(ref.key)
        made = _stand_in_one(sim, ref, chart_files)
        notes.append(made)
    return notes


def _stand_in_one(
    sim: simulation.Simulation, ref: discover.Reference, chart_files: dict[str, dict[str, bytes]]
) -> str:
    if ref.kind == "oci":
        host, name = oci.split_url(ref.url)
        chart, asked = name.rpartition("/")[2], ref.semver or ref.version
    else:
        chart, asked = ref.name, ref.version
    if ref.digest or not ref.url.startswith(("http://", "https://", "oci://")):
        return f"no stand-in for {ref.describe()}: {ref.problem or 'a digest names exact content'}"
    version = stand_in_version(asked) if ref.kind == "chart" or ref.semver else None
    tag = "" if version is not None else (ref.version or "latest")
    version = version or "0.0.0"
    try:
        data, metadata = _stand_in(sim, chart, version)
        if ref.kind == "chart" and not ref.url.startswith("oci://"):
            _add_to_index(ref.url, chart, version, data, metadata, chart_files)
        else:
            if ref.kind == "chart":
                host, path = oci.split_url(ref.url)
                name = f"{path}/{chart}".strip("/")
            sim.registries.host(f"oci://{host}/{name}")
            client = oci.RegistryClient(sim.registries.route)
            digest = client.push_chart(host, name, data, metadata)
            if tag:
                repo = sim.registries.server.repository(host, name)
                media_type, body = repo.manifests[digest]
                sim.registries.server.put_manifest(host, name, tag, media_type, body)
    except (charts.ChartError, oci.RegistryError) as exc:
        return f"no stand-in for {ref.describe()}: {exc.message}"
    where = f" ({', '.join(ref.at)})" if ref.at else ""
    return (
        f"stand-in chart {chart} {version}{f' (tag {tag})' if tag else ''} for {ref.describe()}{where}: "
        "not in the offline mirror; it has no templates"
    )


def _add_to_index(
    url: str,
    chart: str,
    version: str,
    data: bytes,
    metadata: dict[str, object],
    chart_files: dict[str, dict[str, bytes]],
) -> None:
    files = chart_files.setdefault(url, {})
    try:
        index = yamlsafe.load(files.get("index.yaml", b"")) or {}
    except yaml.YAMLError:
        index = {}
    entries = dict(index.get("entries") or {}) if isinstance(index, dict) else {}
    file = f"{chart}-{version}.tgz"
    entry = {**metadata, "digest": hashlib.sha256(data).hexdigest(), "urls": [f"{url}/{file}"]}
    versions = [e for e in entries.get(chart) or [] if isinstance(e, dict) and e.get("version") != version]
    entries[chart] = [entry, *versions]
    files["index.yaml"] = yamlsafe.dump(
        {"apiVersion": "v1", "entries": dict(sorted(entries.items()))}
    ).encode()
    files[file] = data
