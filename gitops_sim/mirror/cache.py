"""The offline mirror's folder: `build` fetches what a repository refers to; `load` reads it back.

The folder is content-addressed, so CI can cache and share it: every fetched thing is a blob
`blobs/sha256/<hex>` named by the sha256 of its bytes, and `index.json` says what each blob is:

- `requests`: each reference `discover` found (by `Reference.key`), where the folder asks for it,
  and what it resolved to (`resolved`: a chart version, `<tag>@sha256:…`, a commit) or why it
  could not be fetched (`error`);
- `charts`: per HTTP Helm repository URL, its files as served: `index.yaml` trimmed to the chart
  versions mirrored (their index entries as the upstream wrote them, each `urls` pointing at
  `<repository URL>/<chart>-<version>.tgz`) and those archives;
- `oci`: per repository (`host/name`), tags to manifest digests, and each manifest's media type and
  the blobs it names (config, layers, or the manifests of an index). A manifest is the blob of its
  own digest, its bytes as the registry served them;
- `git`: per repository URL, a git bundle of the refs asked for, fetched `--depth=1` (the upstream's
  commit ids, so a `?ref=<sha>` still names its commit), the shallow commits, and the branch HEAD
  names when a remote base asked for no ref.

Versions are resolved as the controllers would at that moment: a chart's semver range as the
HelmChart controller picks from the index (the highest match), an OCIRepository's `semver` (after
`semverFilter`) from the tag list, a git ref as `git fetch` reads it (a full id, else
`refs/<ref>`, `refs/tags/<ref>`, `refs/heads/<ref>`). The trimmed index and tag lists hold only
what was mirrored, so the same ranges pick the same versions when served. The same input gives a
byte-identical `index.json` (keys sorted; no time, no path but `source` as given); a blob no
request names any more is removed.

Where things are fetched from is the `Upstreams` given: `Upstreams.internet()` for `gitops-sim
mirror` (each URL's own host, HTTPS verified, anonymous), or the servers of a simulation
(`Upstreams.of_simulation`, a test's stand-in for the internet). Fetching goes through the
project's clients: `sources.charts.http_get`, `sources.oci.RegistryClient`, the git CLI in
`sources.githttp`'s sandbox.

Not mirrored: credentials (every upstream is read anonymously: a HelmRepository's `secretRef` or
a private registry fails with its 401), git submodules of a remote base, OCI signatures.

Callers: `gitops-sim mirror` (`build`), `mirror.serve` (`load`). Never reads the clock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from gitops_sim import process
from gitops_sim.engine import simulation
from gitops_sim.mirror import discover
from gitops_sim.model import semver, yamlsafe
from gitops_sim.sources import charts, githttp, oci

API_VERSION = "gitops-sim/v1alpha1"
KIND = "OfflineMirror"
INDEX = "index.json"
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_INDEX_BYTES = 50 << 20
"""source-controller's `--helm-index-max-size`: the largest upstream index.yaml read."""


class MirrorError(Exception):
    """Something could not be fetched, or the folder is not a mirror `load` can read."""


Route = Callable[[str], tuple[str, str, bool] | None]


@dataclass(frozen=True, slots=True)
class Upstreams:
    """Where `build` fetches from, as the project's clients take it."""

    charts: Route
    """URL → (address, Host header, plain HTTP) for `sources.charts.http_get`; None: no such host."""
    registries: Route
    """Registry host → (address, Host header, plain HTTP) for `sources.oci.RegistryClient`."""
    git: Callable[[str], str | None]
    """A repository's URL → the URL git fetches; None: not found."""
    timeout_s: float = 60.0
    """Each request's wall-time limit."""

    @classmethod
    def internet(cls, timeout_s: float = 60.0) -> Upstreams:
        """Every URL from its own host: HTTPS verified (HTTP where a URL or `insecure` says so)."""

        def web(url: str) -> tuple[str, str, bool]:
            netloc = urlsplit(url).netloc
            return netloc, netloc, False

        def git_url(url: str) -> str | None:
            return url if urlsplit(url).scheme in ("http", "https") else None

        return cls(web, lambda host: (host, host, False), git_url, timeout_s)

    @classmethod
    def of_simulation(cls, sim: simulation.Simulation, timeout_s: float = 60.0) -> Upstreams:
        """The chart repositories, registries and git repositories `sim` hosts, under their own
        URLs (a served simulation standing in for the internet)."""
        return cls(sim.charts.route, sim.registries.route, sim.git.endpoint, timeout_s)


@dataclass(frozen=True, slots=True)
class Report:
    """What `build` did: one line per reference mirrored, and per one that failed (with why)."""

    mirrored: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failed


class Blobs:
    """`blobs/sha256/<hex>` under a folder."""

    def __init__(self, folder: Path) -> None:
        self.root = folder / "blobs" / "sha256"

    def path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise MirrorError(f"{digest!r} is not a sha256 digest")
        return self.root / digest.removeprefix("sha256:")

    def put(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.is_file():
            self.root.mkdir(parents=True, exist_ok=True)
            scratch = target.with_name(f".{target.name}.partial")
            scratch.write_bytes(data)
            os.replace(scratch, target)
        return digest

    def get(self, digest: str) -> bytes:
        """The blob's bytes, checked against its digest."""
        try:
            data = self.path(digest).read_bytes()
        except OSError as exc:
            raise MirrorError(f"blob {digest} is missing from the mirror: {exc.strerror}") from exc
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise MirrorError(
                f"blob {digest} does not match its digest: the mirror is damaged, build it again"
            )
        return data

    def prune(self, keep: set[str]) -> None:
        if not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if f"sha256:{path.name}" not in keep:
                path.unlink()


def load(cache_dir: Path) -> dict[str, Any]:
    """The mirror's index, checked for what `serve` relies on; a `MirrorError` says what is wrong."""
    where = cache_dir / INDEX
    try:
        index = yamlsafe.loads_json(where.read_bytes())
    except OSError as exc:
        raise MirrorError(
            f"{where}: {exc.strerror}: build it with `gitops-sim mirror PATH --cache {cache_dir}`"
        ) from exc
    except ValueError as exc:
        raise MirrorError(f"{where}: not JSON: {exc}") from exc
    if not isinstance(index, dict) or index.get("apiVersion") != API_VERSION or index.get("kind") != KIND:
        raise MirrorError(f"{where}: not an offline mirror's index (apiVersion {API_VERSION}, kind {KIND})")
    problem = _shape_problem(index)
    if problem is not None:
        raise MirrorError(f"{where}: {problem}: build it again with `gitops-sim mirror`")
    return index


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{what} must be a mapping")
    return value


def _text(value: object, what: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise ValueError(f"{what} is not {'a string' if pattern is None else 'valid'}: {value!r:.80}")
    return value


_URL = re.compile(r"^(https?|oci)://[^\s\x00-\x1f\x7f]+$")
_REPOSITORY = re.compile(r"^[^\s/\x00-\x1f\x7f]+/[^\s\x00-\x1f\x7f]+$")
_ID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _shape_problem(index: dict[str, Any]) -> str | None:
    """What makes `index` other than what `build` writes, or None (every value `serve` reads)."""
    try:
        for key, record in _mapping(index.get("requests", {}), "requests").items():
            discover.Reference.from_json(_mapping(record, f"requests[{key!r}]"))
        for url, entry in _mapping(index.get("charts", {}), "charts").items():
            _text(url, "a chart repository URL", _URL)
            for name, digest in _mapping(_mapping(entry, url).get("files"), f"charts[{url!r}].files").items():
                _text(name, "a chart repository's file name", _FILE_NAME)
                _text(digest, f"the digest of {name}", _DIGEST)
        for key, repo in _mapping(index.get("oci", {}), "oci").items():
            _text(key, "an OCI repository", _REPOSITORY)
            repo = _mapping(repo, f"oci[{key!r}]")
            manifests = _mapping(repo.get("manifests"), f"oci[{key!r}].manifests")
            for digest, manifest in manifests.items():
                _text(digest, "a manifest digest", _DIGEST)
                manifest = _mapping(manifest, f"oci[{key!r}].manifests[{digest!r}]")
                _text(manifest.get("mediaType"), "a media type")
                blobs = manifest.get("blobs")
                if not isinstance(blobs, list):
                    raise ValueError(f"the blobs of {digest} must be a list")
                for blob in blobs:
                    _text(blob, "a blob digest", _DIGEST)
            for tag, digest in _mapping(repo.get("tags"), f"oci[{key!r}].tags").items():
                if _text(digest, f"the digest of tag {tag!r}", _DIGEST) not in manifests:
                    raise ValueError(f"tag {tag!r} of {key} names no mirrored manifest")
        for url, entry in _mapping(index.get("git", {}), "git").items():
            _text(url, "a git repository URL", _URL)
            entry = _mapping(entry, f"git[{url!r}]")
            _text(entry.get("bundle"), f"the bundle of {url}", _DIGEST)
            _text(entry.get("head", "main"), f"the HEAD branch of {url}")
            shallow = entry.get("shallow", [])
            if not isinstance(shallow, list):
                raise ValueError(f"the shallow commits of {url} must be a list")
            for sha in shallow:
                _text(sha, "a commit id", _ID)
    except ValueError as exc:
        return str(exc)
    return None


# -- building ----------------------------------------------------------------------------------


def build(
    refs: Sequence[discover.Reference], cache_dir: Path, fetch: Upstreams, *, source: str = ""
) -> Report:
    """Fetch every reference in `refs` from `fetch` into `cache_dir` (see the module); `source`
    is recorded as the folder they came from (what the served notes tell users to mirror)."""
    merged: dict[str, discover.Reference] = {}
    for ref in refs:
        seen = merged.get(ref.key)
        merged[ref.key] = ref if seen is None else replace(seen, at=tuple(sorted({*seen.at, *ref.at})))
    with tempfile.TemporaryDirectory(prefix="gitops-sim-mirror-") as scratch:
        builder = _Builder(Blobs(cache_dir), fetch, Path(scratch))
        try:
            mirrored, failed = builder.run(sorted(merged.values(), key=lambda r: r.key))
        finally:
            builder.close()
        index = builder.index(source)
    text = json.dumps(index, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / INDEX).write_text(text, encoding="utf-8")
    builder.blobs.prune(builder.kept)
    return Report(tuple(mirrored), tuple(failed))


@dataclass(slots=True)
class _GitRepo:
    work: Path
    refs: dict[str, str]
    """What the upstream advertises (ref → commit)."""
    fetched: dict[str, str] = field(default_factory=dict)
    head: str = ""


class _Builder:
    def __init__(self, blobs: Blobs, fetch: Upstreams, scratch: Path) -> None:
        self.blobs = blobs
        self.fetch = fetch
        self.scratch = scratch
        self.kept: set[str] = set()
        self.requests: dict[str, dict[str, Any]] = {}
        self.upstream_indexes: dict[str, dict[str, Any]] = {}
        self.charts: dict[str, dict[str, dict[str, Any]]] = {}  # url -> chart -> version -> entry
        self.chart_files: dict[str, dict[str, str]] = {}  # url -> file -> digest
        self.oci: dict[str, dict[str, Any]] = {}
        self.git: dict[str, _GitRepo] = {}
        self.git_index: dict[str, Any] = {}
        self.registry = oci.RegistryClient(fetch.registries, fetch.timeout_s)
        self._git_program = shutil.which("git")
        self._git_client: githttp.GitHttpClient | None = None

    def close(self) -> None:
        if self._git_client is not None:
            self._git_client.close()

    def run(self, refs: list[discover.Reference]) -> tuple[list[str], list[str]]:
        mirrored: list[str] = []
        failed: list[str] = []
        for ref in refs:
            record = ref.to_json()
            try:
                if ref.problem:
                    raise MirrorError(ref.problem)
                resolved = self._one(ref)
            except (
                MirrorError,
                charts.ChartError,
                oci.RegistryError,
                githttp.RemoteError,
                semver.SemverError,
                ValueError,
                yaml.YAMLError,
            ) as exc:
                why = getattr(exc, "message", None) or str(exc)
                record.pop("problem", None)
                record["error"] = why
                failed.append(f"{ref.describe()} ({', '.join(ref.at)}): {why}")
            else:
                record["resolved"] = resolved
                mirrored.append(f"{ref.describe()}: {resolved}")
            self.requests[ref.key] = record
        for url in sorted(self.git):
            try:
                self._bundle(url)
            except MirrorError as exc:
                failed.append(f"remote base {url}: {exc}")
                for record in self.requests.values():
                    if record["kind"] == "git" and record["url"] == url:
                        record.pop("resolved", None)
                        record["error"] = str(exc)
        return mirrored, failed

    def _one(self, ref: discover.Reference) -> str:
        if ref.kind == "chart" and ref.url.startswith("oci://"):
            return self._oci_chart(ref)
        if ref.kind == "chart":
            return self._http_chart(ref)
        if ref.kind == "oci":
            return self._oci_artifact(ref)
        return self._git_ref(ref)

    # -- HTTP Helm repositories ----------------------------------------------------------------

    def _get(self, url: str, max_bytes: int = charts.MAX_DOWNLOAD_BYTES) -> bytes:
        return charts.http_get(url, self.fetch.charts(url), None, self.fetch.timeout_s, max_bytes=max_bytes)

    def _upstream_index(self, url: str) -> dict[str, Any]:
        if url not in self.upstream_indexes:
            raw = self._get(url.rstrip("/") + "/index.yaml", MAX_INDEX_BYTES)
            index = yamlsafe.loads_json(raw) if raw.lstrip().startswith(b"{") else yamlsafe.load(raw)
            if not isinstance(index, dict) or not isinstance(index.get("entries") or {}, dict):
                raise MirrorError(f"{url}/index.yaml is not a Helm repository index")
            self.upstream_indexes[url] = index
        return self.upstream_indexes[url]

    def _http_chart(self, ref: discover.Reference) -> str:
        entries = (self._upstream_index(ref.url).get("entries") or {}).get(ref.name)
        if not isinstance(entries, list) or not entries:
            raise MirrorError(f"no chart '{ref.name}' in {ref.url}/index.yaml")
        versions = {str(e.get("version")): e for e in entries if isinstance(e, dict)}
        version = ref.version if ref.version in versions else _highest(list(versions), ref.version)
        if version is None:
            raise MirrorError(f"no '{ref.name}' chart with version matching '{ref.version}' found")
        entry = versions[version]
        urls = entry.get("urls") or []
        if not isinstance(urls, list) or not urls:
            raise MirrorError(f"chart '{ref.name}' version '{version}' has no downloadable URLs")
        file = f"{ref.name}-{version}.tgz"
        if not _FILE_NAME.match(file):
            raise MirrorError(f"chart '{ref.name}' version '{version}' cannot be kept as a file")
        data = self._get(charts.resolve_chart_url(ref.url, str(urls[0])))
        self.chart_files.setdefault(ref.url, {})[file] = self.blobs.put(data)
        self.charts.setdefault(ref.url, {}).setdefault(ref.name, {})[version] = {
            **entry,
            "urls": [f"{ref.url}/{file}"],
        }
        return version

    # -- OCI -----------------------------------------------------------------------------------

    def _oci_chart(self, ref: discover.Reference) -> str:
        host, path = oci.split_url(ref.url)
        name = f"{path}/{ref.name}".strip("/")
        if semver.try_parse_version(ref.version) is not None:
            version = ref.version
        else:
            tags = self.registry.tags(host, name, insecure=ref.insecure)
            picked = _highest([t.replace("_", "+") for t in tags], ref.version)
            if picked is None:
                raise MirrorError(f"no '{ref.name}' chart with version matching '{ref.version}' found")
            version = picked
        self._pull(host, name, oci.helm_tag(version), ref.insecure)
        return version

    def _oci_artifact(self, ref: discover.Reference) -> str:
        host, name = oci.split_url(ref.url)
        if ref.digest:
            return self._pull(host, name, ref.digest, ref.insecure)
        if ref.semver:
            tags = self.registry.tags(host, name, insecure=ref.insecure)
            if ref.semver_filter:
                try:
                    tags = [t for t in tags if re.search(ref.semver_filter, t)]
                except re.error as exc:
                    raise MirrorError(f"semver regex parse error: {exc}") from exc
            tag = semver.highest(tags, ref.semver)
            if tag is None:
                raise MirrorError(f"no match found for semver: {ref.semver}")
        else:
            tag = ref.version or "latest"
        return f"{tag}@{self._pull(host, name, tag, ref.insecure)}"

    def _pull(self, host: str, name: str, reference: str, insecure: bool, depth: int = 0) -> str:
        """Mirror the manifest `reference` names, and every blob it names; its digest."""
        digest, media_type, body = self.registry.raw_manifest(host, name, reference, insecure=insecure)
        if self.blobs.put(body) != digest:
            raise MirrorError(f"{host}/{name}@{digest}: the manifest does not match its digest")
        self.kept.add(digest)
        manifest = yamlsafe.loads_json(body)
        repo = self.oci.setdefault(f"{host}/{name}", {"tags": {}, "manifests": {}})
        named: list[str] = []
        if isinstance(manifest, dict) and isinstance(manifest.get("manifests"), list):
            if depth > 0:
                raise MirrorError(f"{host}/{name}@{digest}: an index inside an index")
            for child in manifest["manifests"]:
                named.append(self._pull(host, name, str(child.get("digest")), insecure, depth + 1))
        elif isinstance(manifest, dict):
            layers = manifest.get("layers")
            for descriptor in [manifest.get("config"), *(layers if isinstance(layers, list) else [])]:
                if not isinstance(descriptor, dict) or not _DIGEST.match(str(descriptor.get("digest"))):
                    continue
                blob = str(descriptor["digest"])
                if not self.blobs.path(blob).is_file():
                    self.blobs.put(self.registry.blob(host, name, blob, insecure=insecure))
                self.kept.add(blob)
                named.append(blob)
        repo["manifests"][digest] = {"mediaType": media_type, "blobs": sorted(set(named))}
        if not reference.startswith("sha256:"):
            repo["tags"][reference] = digest
        return digest

    # -- git -----------------------------------------------------------------------------------

    def _run_git(self, work: Path, *args: str, config: tuple[str, ...] = ()) -> bytes:
        assert self._git_program is not None
        try:
            proc = process.run(
                githttp.sandboxed(self._git_program, *config, "-C", str(work), *args),
                env=githttp.git_env(),
                limits=process.Limits(wall_s=self.fetch.timeout_s * 4),
            )
        except process.LimitExceeded as exc:
            raise MirrorError(f"git {args[0]} was stopped: {exc}") from exc
        if proc.returncode != 0:
            raise MirrorError(proc.stderr.decode(errors="replace").strip().removeprefix("fatal: "))
        return proc.stdout

    def _git_repo(self, url: str) -> _GitRepo:
        repo = self.git.get(url)
        if repo is None:
            if self._git_program is None:
                raise MirrorError("git was not found on PATH: gitops-sim needs git to mirror remote bases")
            if self._git_client is None:
                self._git_client = githttp.GitHttpClient(self.fetch.git)
            advertised = self._git_client.list_refs(url, timeout_s=self.fetch.timeout_s)
            work = self.scratch / f"git-{len(self.git)}"
            work.mkdir(parents=True)
            self._run_git(work, "init", "--quiet", "--bare")
            githttp.seal(work)
            repo = self.git[url] = _GitRepo(work, advertised)
        return repo

    def _git_ref(self, ref: discover.Reference) -> str:
        repo = self._git_repo(ref.url)
        target = self.fetch.git(ref.url)
        if target is None:
            raise MirrorError("repository not found")
        wanted = ref.version
        if wanted == "HEAD":
            head = repo.refs.get("HEAD")
            branches = sorted(
                (
                    name.removeprefix("refs/heads/")
                    for name, sha in repo.refs.items()
                    if name.startswith("refs/heads/") and sha == head
                ),
                key=lambda b: (b not in ("main", "master"), b),
            )
            if not branches:
                raise MirrorError("the repository has no HEAD branch")
            repo.head = branches[0]
            full = f"refs/heads/{branches[0]}"
        elif githttp.is_hash(wanted):
            full = f"refs/gitops-sim/{wanted}"
        else:
            candidates = [wanted] if wanted.startswith("refs/") else []
            candidates += [f"refs/{wanted}", f"refs/tags/{wanted}", f"refs/heads/{wanted}"]
            found = next((c for c in candidates if c in repo.refs), None)
            if found is None:
                raise MirrorError(f"couldn't find remote ref {wanted}")
            full = found
        kind, _, short = full.removeprefix("refs/").partition("/")
        if kind not in ("heads", "tags", "gitops-sim") or githttp.ref_problem(short):
            raise MirrorError(f"cannot mirror the ref {full!r}")
        source = wanted if githttp.is_hash(wanted) else f"+{full}:{full}"
        self._run_git(
            repo.work,
            *("fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--depth=1", "--", target, source),
        )
        if githttp.is_hash(wanted):
            self._run_git(repo.work, "update-ref", full, wanted)
        sha = self._run_git(repo.work, "rev-parse", "--verify", "--end-of-options", f"{full}^{{commit}}")
        repo.fetched[full] = sha.decode().strip()
        return repo.fetched[full]

    def _bundle(self, url: str) -> None:
        repo = self.git[url]
        if not repo.fetched:
            return
        out = self.scratch / f"{repo.work.name}.bundle"
        self._run_git(
            repo.work, "bundle", "create", "--quiet", str(out), "--all", config=("-c", "pack.threads=1")
        )
        digest = self.blobs.put(out.read_bytes())
        self.kept.add(digest)
        shallow_file = repo.work / "shallow"
        shallow = sorted(shallow_file.read_text().split()) if shallow_file.is_file() else []
        entry: dict[str, Any] = {
            "bundle": digest,
            "refs": dict(sorted(repo.fetched.items())),
            "shallow": shallow,
        }
        if repo.head:
            entry["head"] = repo.head
        self.git_index[url] = entry

    # -- the index -----------------------------------------------------------------------------

    def index(self, source: str) -> dict[str, Any]:
        served_charts: dict[str, Any] = {}
        for url, by_name in sorted(self.charts.items()):
            trimmed = {
                "apiVersion": "v1",
                "entries": {
                    name: [_sorted(entry) for _, entry in sorted(versions.items(), key=_newest, reverse=True)]
                    for name, versions in sorted(by_name.items())
                },
            }
            files = dict(self.chart_files[url])
            files["index.yaml"] = self.blobs.put(yamlsafe.dump(trimmed).encode())
            self.kept.update(files.values())
            served_charts[url] = {"files": dict(sorted(files.items()))}
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "source": source,
            "requests": self.requests,
            "charts": served_charts,
            "oci": self.oci,
            "git": self.git_index,
        }


def _highest(versions: list[str], constraint: str) -> str | None:
    return semver.highest(versions, "*" if constraint in ("", "*") else constraint)


def _newest(item: tuple[str, Any]) -> tuple[int, Any]:
    """Helm's order of an index's versions (newest first, with `reverse`; unparsable last)."""
    parsed = semver.try_parse_version(item[0])
    return (0, ()) if parsed is None else (1, parsed.key())


def _sorted(value: Any) -> Any:
    """`value` with every mapping's keys sorted (what the trimmed index is written as)."""
    pending: list[Any] = [value]
    while pending:  # iterative: an upstream index's depth is bounded by yamlsafe, not by the stack
        item = pending.pop()
        if isinstance(item, dict):
            ordered = sorted(item.items(), key=lambda kv: str(kv[0]))
            item.clear()
            item.update(ordered)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value
