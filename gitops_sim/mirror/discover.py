"""Every remote reference a Flux repository folder holds, found in its YAML, with file and line.

`discover(folder)` reads every `.yaml`/`.yml` file and kustomization file under `folder` (a
`.git` folder left out, and a file that is not YAML, such as a chart's templates, skipped) and
returns one `Reference` per distinct thing to fetch, each with every place that asks for it:

- `chart`: a Helm chart in a repository, from a HelmRelease's `spec.chart.spec` or a HelmChart,
  paired with the HelmRepository its `sourceRef` names (by name and namespace; the namespace a
  reference leaves out is its object's, and an object without one matches any). The URL is the
  HelmRepository's: `https://…` (an HTTP repository and its index.yaml) or `oci://…` (`type:
  oci`: the chart is `<url>/<chart>`, its versions are tags). The version is the one asked for,
  exact or a semver range (`*` when none).
- `oci`: an OCIRepository's artifact (`spec.url` and `spec.ref`: digest, semver with
  `semverFilter`, tag, or `latest`), marked `chart_layer` when its `layerSelector` picks a Helm
  chart layer (a HelmRelease's `chartRef`).
- `git`: a kustomize remote base or resource (`resources`, `bases`, `components` of a
  kustomization file): the URL kustomize clones and the ref it fetches, parsed as kustomize v5
  does (`remote_base`).

What cannot be mirrored is still returned, with `problem` saying why: a chart whose
HelmRepository the folder does not define, a value left to postBuild substitution (`${VAR}`), an
SSH remote base, a remote file fetched over plain HTTP (kustomize's other kind of remote
resource).

Callers: `gitops-sim mirror`, `gitops_sim.mirror.serve` (stand-ins for what was not mirrored),
`gitops-sim up`. Reads the folder and nothing else; never writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import yaml

from gitops_sim.model import yamlsafe

Kind = Literal["chart", "oci", "git"]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MAX_FILE_BYTES = 10 << 20
"""A YAML file larger than this is skipped (no Flux manifest is)."""
_SUBSTITUTION = re.compile(r"\$\{[^}]*\}")
_REMOTE_FILE = re.compile(r"\.(ya?ml|json)$")


@dataclass(frozen=True, slots=True)
class Reference:
    """One thing to fetch. Which fields mean something depends on `kind` (see the module)."""

    kind: Kind
    url: str
    """chart: the repository URL (https:// or oci://); oci: `oci://host/name`; git: the clone URL."""
    name: str = ""
    """chart: the chart's name."""
    version: str = ""
    """chart: the version or semver range asked for; oci: the tag (empty with semver or digest);
    git: the ref kustomize fetches (`HEAD` when none is given)."""
    semver: str = ""
    """oci: `spec.ref.semver`."""
    semver_filter: str = ""
    """oci: `spec.ref.semverFilter`."""
    digest: str = ""
    """oci: `spec.ref.digest`."""
    insecure: bool = False
    """oci and OCI charts: plain HTTP (`spec.insecure`)."""
    chart_layer: bool = False
    """oci: the artifact is a Helm chart (its layerSelector picks the chart layer)."""
    at: tuple[str, ...] = ()
    """Where the folder asks for it: `apps/podinfo.yaml:12`, sorted."""
    problem: str = ""
    """Why it cannot be mirrored; empty when it can."""

    @property
    def key(self) -> str:
        """What names the request in the mirror's index (the same request, the same key)."""
        if self.kind == "chart":
            return f"chart {self.url} {self.name} {self.version}"
        if self.kind == "git":
            return f"git {self.url} {self.version}"
        if self.digest:
            return f"oci {self.url} digest {self.digest}"
        if self.semver:
            suffix = f" filter {self.semver_filter}" if self.semver_filter else ""
            return f"oci {self.url} semver {self.semver}{suffix}"
        return f"oci {self.url} tag {self.version or 'latest'}"

    def describe(self) -> str:
        """How a person would name it: `chart podinfo 6.5.x from https://…`."""
        if self.kind == "chart":
            return f"chart {self.name} {self.version} from {self.url}"
        if self.kind == "git":
            return f"remote base {self.url} at {self.version}"
        ref = (
            f"@{self.digest}"
            if self.digest
            else f" (semver {self.semver})"
            if self.semver
            else f":{self.version or 'latest'}"
        )
        return f"OCI artifact {self.url.removeprefix('oci://')}{ref}"

    def to_json(self) -> dict[str, Any]:
        """The fields that are set (what the index records)."""
        data: dict[str, Any] = {"kind": self.kind, "url": self.url}
        for name in ("name", "version", "semver", "semver_filter", "digest", "problem"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        for flag in ("insecure", "chart_layer"):
            if getattr(self, flag):
                data[flag] = True
        data["at"] = list(self.at)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reference:
        kind = data.get("kind")
        if kind not in ("chart", "oci", "git") or not isinstance(data.get("url"), str):
            raise ValueError(f"not a mirrored reference: {data!r:.200}")
        text = {
            name: str(data.get(name) or "")
            for name in ("name", "version", "semver", "semver_filter", "digest", "problem")
        }
        return cls(
            kind,
            str(data["url"]),
            **text,
            insecure=bool(data.get("insecure")),
            chart_layer=bool(data.get("chart_layer")),
            at=tuple(str(a) for a in data.get("at") or ()),
        )


class Unsupported(ValueError):
    """A remote reference `gitops-sim mirror` cannot keep; the message says why."""


def remote_base(entry: str) -> tuple[str, str] | None:
    """(clone URL, ref) of a kustomize remote base, as kustomize v5 reads it, or None for a local
    path. The repository ends at `//`, else after `.git`, else after `_git/<name>` (Azure), else
    after the path's first two parts (`https://github.com/org/repo/deploy`); the ref is `?ref=`
    (or `?version=`), `HEAD` without one; `git::` is dropped and `github.com/…` is
    `https://github.com/…`. Raises `Unsupported` for SSH and for a remote file (a URL of one
    `.yaml` file, which kustomize GETs over HTTP)."""
    text = entry.strip()
    if text[:5].lower() == "git::":
        text = text[5:]
    if text.startswith(("github.com/", "github.com:")):
        text = "https://github.com/" + text[len("github.com/") :]
    if text.startswith(("git@", "ssh://", "gh:")):
        raise Unsupported(f"'{entry}' is reached over SSH; gitops-sim mirrors https:// remote bases")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = parse_qs(parts.query)
    ref = (query.get("ref") or query.get("version") or [""])[0] or "HEAD"
    path = parts.path
    if "/_git/" in path:
        start = path.index("/_git/") + len("/_git/")
        repo = path[:start] + path[start:].split("/")[0]
    elif "//" in path[1:]:
        repo = path[: path.index("//", 1)]
    elif ".git" in path:
        repo = path[: path.index(".git") + len(".git")]
    else:
        if _REMOTE_FILE.search(path) and not parts.query:
            raise Unsupported(
                f"'{entry}' is a remote file kustomize fetches over HTTP; gitops-sim mirrors git "
                "repositories (use '<repo>//<path>?ref=<ref>')"
            )
        repo = "/" + "/".join(path.strip("/").split("/")[:2])
    return f"{parts.scheme}://{parts.netloc}{repo}".rstrip("/"), ref


# -- reading the folder ------------------------------------------------------------------------


@dataclass(slots=True)
class _Doc:
    file: str
    node: yaml.MappingNode

    def at(self, node: yaml.Node | None = None) -> str:
        return f"{self.file}:{(node or self.node).start_mark.line + 1}"

    def get(self, *path: str) -> yaml.Node | None:
        node: yaml.Node | None = self.node
        for key in path:
            if not isinstance(node, yaml.MappingNode):
                return None
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        return node

    def text(self, *path: str) -> str:
        node = self.get(*path)
        if not isinstance(node, yaml.ScalarNode):
            return ""
        value = yamlsafe.construct_scalar(node)
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    def strings(self, key: str) -> Iterator[tuple[str, yaml.Node]]:
        node = self.get(key)
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.ScalarNode) and isinstance(item.value, str):
                    yield item.value, item


def _files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if ".git" in rel.parts or not path.is_file() or path.is_symlink():
            continue
        if path.suffix in (".yaml", ".yml") or path.name in KUSTOMIZATION_FILES:
            yield rel.as_posix(), path


def _documents(folder: Path) -> Iterator[_Doc]:
    for rel, path in _files(folder):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                continue
            nodes = yamlsafe.compose_all(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # not YAML (a chart's templates): nothing Flux reads as manifests
        for node in nodes:
            if isinstance(node, yaml.MappingNode):
                yield _Doc(rel, node)


def _group(api_version: str) -> str:
    return api_version.partition("/")[0]


@dataclass(slots=True)
class _Found:
    refs: dict[str, Reference] = field(default_factory=dict)

    def add(self, ref: Reference) -> None:
        key = ref.key if not ref.problem else f"{ref.key} {ref.problem}"
        seen = self.refs.get(key)
        at = ref.at if seen is None else tuple(sorted({*seen.at, *ref.at}))
        self.refs[key] = replace(seen or ref, at=at)


def discover(folder: Path) -> list[Reference]:
    """Every remote reference under `folder`, sorted by kind and URL (see the module)."""
    repositories: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
    wanted: list[tuple[_Doc, str, str, str, str, str]] = []  # doc, ns, chart, version, repo ns, repo name
    found = _Found()
    for doc in _documents(folder):
        kind, group = doc.text("kind"), _group(doc.text("apiVersion"))
        namespace = doc.text("metadata", "namespace")
        if group == "source.toolkit.fluxcd.io" and kind == "HelmRepository":
            key = (namespace, doc.text("metadata", "name"))
            entry = (
                doc.text("spec", "url"),
                doc.text("spec", "type") or "default",
                doc.text("spec", "insecure") == "true",
            )
            repositories.setdefault(key, []).append(entry)
        elif group == "helm.toolkit.fluxcd.io" and kind == "HelmRelease":
            spec = ("spec", "chart", "spec")
            if doc.text(*spec, "sourceRef", "kind") == "HelmRepository":
                ref_ns = doc.text(*spec, "sourceRef", "namespace") or namespace
                wanted.append(
                    (
                        doc,
                        namespace,
                        doc.text(*spec, "chart"),
                        doc.text(*spec, "version") or "*",
                        ref_ns,
                        doc.text(*spec, "sourceRef", "name"),
                    )
                )
        elif group == "source.toolkit.fluxcd.io" and kind == "HelmChart":
            if doc.text("spec", "sourceRef", "kind") == "HelmRepository":
                wanted.append(
                    (
                        doc,
                        namespace,
                        doc.text("spec", "chart"),
                        doc.text("spec", "version") or "*",
                        namespace,
                        doc.text("spec", "sourceRef", "name"),
                    )
                )
        elif group == "source.toolkit.fluxcd.io" and kind == "OCIRepository":
            found.add(_oci(doc))
        if doc.file.rpartition("/")[2] in KUSTOMIZATION_FILES:
            for field_name in ("resources", "bases", "components"):
                for text, node in doc.strings(field_name):
                    ref = _git(text, doc.at(node))
                    if ref is not None:
                        found.add(ref)
    for doc, _, chart, version, ref_ns, ref_name in wanted:
        for ref in _charts(doc, chart, version, ref_ns, ref_name, repositories):
            found.add(ref)
    return sorted(found.refs.values(), key=lambda r: (r.kind, r.url, r.key, r.problem))


def _charts(
    doc: _Doc,
    chart: str,
    version: str,
    ref_ns: str,
    ref_name: str,
    repositories: dict[tuple[str, str], list[tuple[str, str, bool]]],
) -> list[Reference]:
    at = (doc.at(),)
    matches = sorted(
        {
            entry
            for (ns, name), entries in repositories.items()
            if name == ref_name and (ns == ref_ns or not ns or not ref_ns)
            for entry in entries
        }
    )
    if not matches:
        where = f"{ref_ns}/{ref_name}" if ref_ns else ref_name
        return [
            Reference(
                "chart",
                f"HelmRepository/{where}",
                chart,
                version,
                at=at,
                problem=f"the folder defines no HelmRepository {where}",
            )
        ]
    refs = []
    for url, repo_type, insecure in matches:
        problem = ""
        if _SUBSTITUTION.search(f"{url} {chart} {version}"):
            problem = "it is left to postBuild substitution (${…}), which a mirror cannot resolve"
        elif repo_type == "oci" and not url.startswith("oci://"):
            problem = f"an oci HelmRepository's URL must start with oci://, not '{url}'"
        elif repo_type != "oci" and not url.startswith(("http://", "https://")):
            problem = f"a Helm repository's URL must be http:// or https://, not '{url}'"
        refs.append(
            Reference(
                "chart",
                url.rstrip("/"),
                chart,
                version,
                insecure=insecure and repo_type == "oci",
                at=at,
                problem=problem,
            )
        )
    return refs


def _oci(doc: _Doc) -> Reference:
    url = doc.text("spec", "url").rstrip("/")
    ref = Reference(
        "oci",
        url,
        version=doc.text("spec", "ref", "tag"),
        semver=doc.text("spec", "ref", "semver"),
        semver_filter=doc.text("spec", "ref", "semverFilter"),
        digest=doc.text("spec", "ref", "digest"),
        insecure=doc.text("spec", "insecure") == "true",
        chart_layer=doc.text("spec", "layerSelector", "mediaType") == HELM_CHART_LAYER,
        at=(doc.at(),),
    )
    if ref.digest or ref.semver:
        ref = replace(ref, version="")
    if not url.startswith("oci://"):
        return replace(ref, problem=f"an OCIRepository's URL must start with oci://, not '{url}'")
    if _SUBSTITUTION.search(ref.key):
        return replace(
            ref, problem="it is left to postBuild substitution (${…}), which a mirror cannot resolve"
        )
    return ref


def _git(entry: str, at: str) -> Reference | None:
    try:
        parsed = remote_base(entry)
    except Unsupported as exc:
        return Reference("git", entry, at=(at,), problem=str(exc))
    if parsed is None:
        return None
    url, ref = parsed
    if _SUBSTITUTION.search(entry):
        return Reference(
            "git", url, version=ref, at=(at,), problem="it is left to postBuild substitution (${…})"
        )
    return Reference("git", url, version=ref, at=(at,))
