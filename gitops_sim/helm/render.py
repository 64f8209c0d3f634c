"""Rendering a Helm release as helm-controller does: the real Helm engine, then its post-renderers.

`Renderer.render(chart, values, release, post)` loads a chart (the packaged `.tgz` a HelmChart
artifact holds, or a chart folder), renders its templates with helm-python-sdk's Helm v4 engine
(`helm.Chart.render`; never a template engine of our own), and splits the output as Helm's
install and upgrade actions do (`Configuration.renderResources`):

- NOTES.txt of the top chart is taken out (sub-chart notes are dropped: helm-controller never
  sets `SubNotes`);
- the post-renderers run over the documents, each tagged with the file it came from
  (`postrenderer.helm.sh/postrender-filename`), hooks included or not as `postRenderStrategy`
  says (`combined`, the default; `separate`; `nohooks`); the tag is then taken off and the
  documents regrouped by file;
- every file is split into documents; one with a `helm.sh/hook` annotation naming known events
  is a hook (weight from `helm.sh/hook-weight`, 0 when absent or not an integer; deletion
  policies from `helm.sh/hook-delete-policy`, before-hook-creation when none, as `execHook`
  sets it), one naming an unknown event is dropped, the rest are the release's manifests;
  manifests and hooks are stable-sorted by kind in Helm's install order (`kind_sorter.go`);
- the manifest text Helm stores on the release is `---\\n# Source: <file>\\n<document>\\n` for
  each manifest in that order (CRDs are not in it);
- the chart's `crds/` files are returned apart, for `install.crds`/`upgrade.crds`.

helm-controller's post-renderers (`internal/postrender`: `BuildPostRenderers`) run in this
order: each `postRenderers[].kustomize` (patches and images), then `commonMetadata` (labels,
then annotations, on `metadata` only), then the origin labels
`helm.toolkit.fluxcd.io/name` and `helm.toolkit.fluxcd.io/namespace` (always; they win over a
common label of the same key). Without kustomize post-renderers, the labels and annotations
are set here and each document written as kustomize would write it (`label_in_process`,
`model.goyaml`; about 10 ms a render instead of 100 ms for starting kustomize), unless a
document is one only kustomize may judge. Otherwise all of them run in one `kubectl kustomize`
(the real kustomize,
the one `apply.build` uses) through `process.run` with a wall-time and memory limit: one
kustomization folder per kustomize post-renderer, each taking the previous as its resource, and
a last one whose `transformers:` are kustomize's builtin LabelTransformer and
AnnotationsTransformer with helm-controller's field specs. Every folder keeps input order
(`sortOptions: fifo`), as helm-controller's in-process krusty does.

Provenance (behaviour learned, no code copied): helm/helm v4 `pkg/action/action.go`
(renderResources, annotateAndMerge, splitAndDeannotate), `pkg/action/hooks.go` (hookByWeight,
default delete policy), `pkg/release/v1/util/manifest_sorter.go`, `manifest.go`
(SplitManifests), `kind_sorter.go` (InstallOrder); fluxcd/helm-controller
`internal/postrender/{build,kustomize,common_renderer,transformer,combined}.go`.

With a `buildcache.Cache` (`Renderer(cache=...)`, from `Settings.cache_dir`), both tools' results
are kept on disk across runs and processes, each named by a digest of everything it reads:
- Helm's engine (the files it renders, the chart's name and `crds/`, or its error): the packaged
  chart's sha256 (a chart folder is never cached: it may change under its path), the values as
  the SDK hands them to Helm (its own `json.dumps`), the release (name, namespace, revision,
  install or upgrade: what `.Release` shows), and the engine (`helm_identity`: Helm's and the
  SDK's versions and the library file, which also fix the default `.Capabilities`). A chart whose
  templates or values name a function whose result is not a function of its inputs (`now`,
  `ago`, `rand*`, `uuidv4`, `shuffle`, `gen*` certificates and keys, `bcrypt`, `htpasswd`,
  `encryptAES`, `getHostByName`), in any of its files that holds a template action, is never
  kept: Helm would render it differently each time;
- the post-render kustomize run: the folder it builds, file by file, and the kustomize
  (`apply.build.kustomize_identity`). The post-rendering in Python (tagging, labelling,
  regrouping) runs every time, so a change to it never meets an old entry.
Errors are kept as well, but never a limit hit (wall time, memory), nor a library failure. A render
whose values hold a Secret's data (`persist=False`, the HelmRelease's `valuesFrom` a Secret) is
never written to disk.

Callers: the HelmRelease controller (install, upgrade, drift detection) and the local
`flux build/diff helmrelease` command. It must never contact a cluster (`lookup` returns
nothing, as in `helm template`), never read the real time or the environment, and never run a
program except through `process.run`.

Differences, on purpose:
- The Helm SDK renders offline, so `.Capabilities` are Helm's defaults, not the simulated
  cluster's, and `lookup` finds nothing.
- Documents that went through kustomize keep kustomize's serialisation (as in helm-controller);
  removing the file tag is done on that text. Hooks under `nohooks` and a parse error's wording
  come from Python's YAML reader, not Go's.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from gitops_sim import buildcache, process
from gitops_sim.apply import build
from gitops_sim.helm import storage
from gitops_sim.model import goyaml, yamlsafe
from gitops_sim.model.fluxapi import helm as helmapi

PostRenderStrategy = Literal["combined", "separate", "nohooks"]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
HOOK_ANNOTATION = "helm.sh/hook"
HOOK_WEIGHT_ANNOTATION = "helm.sh/hook-weight"
HOOK_DELETE_ANNOTATION = "helm.sh/hook-delete-policy"
HOOK_OUTPUT_LOG_ANNOTATION = "helm.sh/hook-output-log-policy"
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
ORIGIN_GROUP = helmapi.GROUP

_EVENTS: dict[str, storage.HookEvent] = {
    "pre-install": "pre-install",
    "post-install": "post-install",
    "pre-delete": "pre-delete",
    "post-delete": "post-delete",
    "pre-upgrade": "pre-upgrade",
    "post-upgrade": "post-upgrade",
    "pre-rollback": "pre-rollback",
    "post-rollback": "post-rollback",
    "test": "test",
    "test-success": "test",  # Helm 2's name, still read
}

INSTALL_ORDER = (
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
"""Helm's `InstallOrder`: kinds earlier in the list are installed first; unknown kinds last,
alphabetically by kind."""
_RANK = {kind: i for i, kind in enumerate(INSTALL_ORDER)}


class RenderError(Exception):
    """The chart could not be rendered or post-rendered; the message is Helm's (or kustomize's,
    wrapped as Helm wraps a post-renderer's error)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """One document of the release: the template file it came from, its text, the object."""

    path: str
    content: str
    object: dict[str, Any] = field(hash=False, compare=True)


@dataclass(frozen=True, slots=True)
class Hook:
    """One hook document, as Helm records it on the release."""

    name: str
    kind: str
    path: str
    manifest: str
    events: tuple[storage.HookEvent, ...]
    weight: int
    delete_policies: tuple[str, ...]
    output_log_policies: tuple[str, ...]
    object: dict[str, Any] = field(hash=False, compare=True)


@dataclass(frozen=True, slots=True)
class CrdFile:
    """One file of the chart's `crds/` folder and the objects in it (never post-rendered)."""

    filename: str
    data: str
    objects: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """What `.Release` holds while rendering."""

    name: str
    namespace: str
    revision: int = 1
    is_upgrade: bool = False


@dataclass(frozen=True, slots=True)
class PostRender:
    """helm-controller's post-renderers for one HelmRelease (`BuildPostRenderers`)."""

    owner_name: str
    owner_namespace: str
    kustomize: tuple[helmapi.Kustomize, ...] = ()
    common_labels: tuple[tuple[str, str], ...] | None = None
    common_annotations: tuple[tuple[str, str], ...] | None = None
    strategy: PostRenderStrategy = "combined"

    @classmethod
    def from_spec(cls, spec: helmapi.HelmReleaseSpec, *, name: str, namespace: str) -> PostRender:
        meta = spec.common_metadata
        return cls(
            owner_name=name,
            owner_namespace=namespace,
            kustomize=tuple(r.kustomize for r in spec.post_renderers or () if r.kustomize is not None),
            common_labels=None if meta is None or meta.labels is None else tuple(meta.labels.items()),
            common_annotations=(
                None if meta is None or meta.annotations is None else tuple(meta.annotations.items())
            ),
            strategy=spec.post_render_strategy or "combined",
        )


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered release, split as Helm's action splits it."""

    manifests: tuple[Manifest, ...]
    """The release's documents in Helm's install order."""
    hooks: tuple[Hook, ...]
    """The hooks in Helm's install order (by kind); `for_event` gives a run order."""
    notes: str
    crds: tuple[CrdFile, ...]
    manifest: str
    """The manifest text Helm stores on the release."""

    @property
    def objects(self) -> tuple[dict[str, Any], ...]:
        return tuple(m.object for m in self.manifests)

    def for_event(self, event: storage.HookEvent) -> tuple[Hook, ...]:
        """The hooks an event runs, in the order Helm runs them: by weight, then by name."""
        chosen = [h for h in self.hooks if event in h.events]
        return tuple(sorted(chosen, key=lambda h: (h.weight, h.name)))


# -- splitting and sorting (Helm's manifest_sorter) -------------------------------------------

_SEPARATOR = re.compile(r"(?m)^---[ \t]*")


def split_manifests(text: str) -> list[str]:
    """Helm's `SplitManifests`: the non-blank documents of a file, in order."""
    return [d.lstrip() for d in _SEPARATOR.split(text.lstrip()) if d.strip()]


def _kind_rank(kind: str) -> tuple[int, str]:
    return (_RANK[kind], "") if kind in _RANK else (len(_RANK), kind)


def _parse(path: str, doc: str) -> dict[str, Any]:
    try:
        obj = yamlsafe.load(doc)
    except (yaml.YAMLError, ValueError) as exc:
        raise RenderError(f"YAML parse error on {path}: {exc}") from exc
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise RenderError(
            f"YAML parse error on {path}: error unmarshaling JSON: json: cannot unmarshal "
            f"{yamlsafe.go_json_type(obj)} into Go value of type util.SimpleHead"
        )
    return obj


def _policies(annotations: Mapping[str, Any], key: str) -> tuple[str, ...]:
    if key not in annotations:
        return ()
    return tuple(p.strip().lower() for p in str(annotations[key]).split(","))


def sort_manifests(files: Mapping[str, str]) -> tuple[list[Hook], list[Manifest]]:
    """Helm's `SortManifests` with `InstallOrder`: files by name, documents in file order,
    partials and blank files skipped, hooks apart; both stable-sorted by kind."""
    hooks: list[Hook] = []
    generic: list[Manifest] = []
    for path in sorted(files):
        content = files[path]
        if path.rsplit("/", 1)[-1].startswith("_") or not content.strip():
            continue
        for doc in split_manifests(content):
            obj = _parse(path, doc)
            metadata = obj.get("metadata")
            annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
            if not isinstance(annotations, dict) or HOOK_ANNOTATION not in annotations:
                generic.append(Manifest(path=path, content=doc, object=obj))
                continue
            events = [_EVENTS.get(e.strip().lower()) for e in str(annotations[HOOK_ANNOTATION]).split(",")]
            if None in events:
                continue  # Helm skips a document naming an unknown hook
            weight = str(annotations.get(HOOK_WEIGHT_ANNOTATION, ""))
            hooks.append(
                Hook(
                    name=str(metadata.get("name") or "") if isinstance(metadata, dict) else "",
                    kind=str(obj.get("kind") or ""),
                    path=path,
                    manifest=doc,
                    events=tuple(e for e in events if e is not None),
                    weight=int(weight) if re.fullmatch(r"[+-]?[0-9]+", weight) else 0,
                    delete_policies=_policies(annotations, HOOK_DELETE_ANNOTATION)
                    or ("before-hook-creation",),
                    output_log_policies=_policies(annotations, HOOK_OUTPUT_LOG_ANNOTATION),
                    object=obj,
                )
            )
    generic.sort(key=lambda m: _kind_rank(str(m.object.get("kind") or "")))
    hooks.sort(key=lambda h: _kind_rank(h.kind))
    return hooks, generic


# -- post-rendering ---------------------------------------------------------------------------


def _tagged_documents(files: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The documents `annotateAndMerge` tags, each with its file: files by name, partials and
    blank files skipped, every document a mapping with a `metadata` mapping (Helm's errors
    otherwise)."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(files):
        content = files[path]
        if path.rsplit("/", 1)[-1].startswith("_") or not content.strip():
            continue
        for doc in split_manifests(content):
            try:
                parsed = yamlsafe.load_all(doc)
            except (yaml.YAMLError, ValueError) as exc:
                raise RenderError(f"error merging manifests: parsing {path}: {exc}") from exc
            for obj in parsed:
                if obj is None:
                    continue
                if not isinstance(obj, dict):
                    raise RenderError(f"error merging manifests: parsing {path}: wrong node kind")
                metadata = obj.setdefault("metadata", {})
                if not isinstance(metadata, dict):
                    raise RenderError(f"error merging manifests: annotating {path}: wrong node kind")
                docs.append((path, obj))
    return docs


def annotate_and_merge(files: Mapping[str, str]) -> str:
    """Helm's `annotateAndMerge`: every document tagged with its file, as one stream."""
    out: list[str] = []
    for path, obj in _tagged_documents(files):
        metadata = obj["metadata"]
        annotations = metadata.get("annotations")
        metadata["annotations"] = {
            **(annotations if isinstance(annotations, dict) else {}),
            FILENAME_ANNOTATION: path,
        }
        out.append(yamlsafe.dump(obj))
    return "---\n".join(out)


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def label_in_process(files: Mapping[str, str], post: PostRender) -> dict[str, str] | None:
    """What `kubectl kustomize` makes of the files when the post-renderers only label and
    annotate (no `postRenderers[].kustomize`): each document with helm-controller's labels and
    annotations set on `metadata`, written as kustomize writes it (`goyaml.marshal`), grouped by
    file. None when kustomize itself must decide: a document it would refuse (no apiVersion,
    kind or name, a List, an id given twice), labels or annotations that are not strings, or a
    value `goyaml` does not promise to write as go-yaml does."""
    labels = dict(post.common_labels or ()) | {
        f"{ORIGIN_GROUP}/name": post.owner_name,
        f"{ORIGIN_GROUP}/namespace": post.owner_namespace,
    }
    added_annotations = dict(post.common_annotations or ())
    seen: set[tuple[str, str, str, str]] = set()
    grouped: dict[str, list[str]] = {}
    for path, obj in _tagged_documents(files):
        meta = obj["metadata"]
        api, kind, name = obj.get("apiVersion"), obj.get("kind"), meta.get("name")
        if not (
            isinstance(api, str) and api and isinstance(kind, str) and kind and isinstance(name, str) and name
        ):
            return None
        ident = (api.rpartition("/")[0], kind, str(meta.get("namespace") or ""), name)
        if kind.endswith("List") or ident in seen:
            return None
        seen.add(ident)
        own_labels = meta.get("labels", {})
        own_annotations = meta.get("annotations") or {}
        if not _strings(own_labels) or not _strings(own_annotations):
            return None
        new_meta = {**meta, "labels": {**own_labels, **labels}}
        annotations = {**own_annotations, **added_annotations}
        if annotations:
            new_meta["annotations"] = annotations
        else:
            new_meta.pop("annotations", None)
        try:
            text = goyaml.marshal({**obj, "metadata": new_meta})
        except goyaml.Unsupported:
            return None
        grouped.setdefault(path, []).append(text)
    return {path: "---\n".join(parts) for path, parts in grouped.items()}


def _untag(doc: str) -> tuple[str | None, str]:
    """The file tag of one kustomize output document, and the document without it (an
    `annotations:` left empty goes too, as kyaml's ClearAnnotation leaves none)."""
    lines = doc.split("\n")
    try:
        meta = lines.index("metadata:")
    except ValueError:
        return None, doc
    end = meta + 1
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end]):
        end += 1
    if "  annotations:" not in lines[meta + 1 : end]:
        return None, doc
    start = lines.index("  annotations:", meta + 1)
    prefix = f"    {FILENAME_ANNOTATION}:"
    for i in range(start + 1, end):
        if not lines[i].startswith("    "):
            break
        if lines[i].startswith(prefix):
            value = yamlsafe.load(lines[i].strip())[FILENAME_ANNOTATION]
            del lines[i]
            if i == start + 1 and (i >= len(lines) or not lines[i].startswith("    ")):
                del lines[start]
            return str(value), "\n".join(lines)
    return None, doc


def split_and_deannotate(stream: str, fallback: str) -> dict[str, str]:
    """Helm's `splitAndDeannotate`: kustomize's output regrouped by the file each document came
    from; an untagged document gets a `generated-by-postrender-…` name."""
    grouped: dict[str, list[str]] = {}
    docs = [d for d in re.split(r"(?m)^---\n", stream) if d.strip()]
    for i, doc in enumerate(docs):
        name, text = _untag(doc)
        if name is None:
            name = (
                f"generated-by-postrender-{fallback}-{i}.yaml"
                if fallback
                else f"generated-by-postrender-{i}.yaml"
            )
        grouped.setdefault(name, []).append(text if text.endswith("\n") else text + "\n")
    return {name: "---\n".join(parts) for name, parts in grouped.items()}


def kubectl_path() -> str:
    return build.kubectl_path()


CACHE_NAMESPACE = "helm"
"""The `buildcache` namespace of Helm engine renders (post-render kustomize runs go under
`apply.build.CACHE_NAMESPACE`)."""
_ROOT_TOKEN = "\0post-render-root\0"
_REPEATABLE_BYTES = 64 << 20
"""A chart expanding past this is not scanned for unrepeatable functions, nor cached."""
_UNREPEATABLE = re.compile(
    rb"\b(?:now|ago|rand(?:Alpha|AlphaNum|Ascii|Numeric|Bytes|Int)|uuidv4|shuffle"
    rb"|gen(?:CA|CAWithKey|PrivateKey|SelfSignedCert|SelfSignedCertWithKey|SignedCert|SignedCertWithKey)"
    rb"|bcrypt|htpasswd|encryptAES|getHostByName)\b"
)
"""Sprig's and Helm's template functions whose result is not a function of their arguments."""


def _unrepeatable(text: bytes) -> bool:
    return b"{{" in text and _UNREPEATABLE.search(text) is not None


def repeatable(chart: bytes) -> bool:
    """Whether every render of the packaged `chart` with the same inputs gives the same files: no
    file holding a template action names a function in `_UNREPEATABLE`. False when the archive
    cannot be read, or expands past `_REPEATABLE_BYTES`."""
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(chart), mode="r:*") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                total += member.size
                if total > _REPEATABLE_BYTES:
                    return False
                extracted = archive.extractfile(member)
                if extracted is not None and _unrepeatable(extracted.read()):
                    return False
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return False
    return True


_HELM_IDENTITY: list[str | None] = []


def helm_identity() -> str | None:
    """What names Helm's engine in a cache key: the Helm and SDK versions the library reports,
    the helm-python-sdk distribution's version, and the library file (path, size, mtime). None
    when it cannot say."""
    if not _HELM_IDENTITY:
        import helm_python as helm

        try:
            library = Path(helm.library_path)
            stat = library.stat()
            found: str | None = json.dumps(
                {
                    "helm": helm.helm_sdk_version(),
                    "helm-c": helm.helm_c_version(),
                    "helm-python-sdk": importlib.metadata.version("helm-python-sdk"),
                    "library": [os.path.realpath(library), stat.st_size, stat.st_mtime_ns],
                },
                sort_keys=True,
            )
        except (OSError, helm.HelmError, importlib.metadata.PackageNotFoundError):
            found = None
        _HELM_IDENTITY.append(found)
    return _HELM_IDENTITY[0]


_DETERMINISTIC_ERRORS = (
    "HelmChartInvalidError",
    "HelmChartLoadError",
    "HelmRenderError",
    "HelmValuesError",
)
"""The Helm SDK's errors that say what is wrong with the chart or values (kept in the cache);
any other (I/O, a panic, the library) is not kept."""


@dataclass(frozen=True, slots=True)
class _Engine:
    """What Helm's engine made of a chart: the rendered files, the chart's name, its `crds/`."""

    files: dict[str, str]
    chart_name: str
    crds: tuple[tuple[str, str], ...]

    def encode(self) -> bytes:
        return json.dumps({"files": self.files, "chart": self.chart_name, "crds": self.crds}).encode()

    @classmethod
    def decode(cls, data: bytes) -> _Engine | str:
        """The entry stored by `encode`, or the error text stored for a failed render."""
        body = json.loads(data)
        if "error" in body:
            return str(body["error"])
        return cls(
            files={str(k): str(v) for k, v in body["files"].items()},
            chart_name=str(body["chart"]),
            crds=tuple((str(f), str(d)) for f, d in body["crds"]),
        )


_NOWHERE = "http://127.0.0.1:9"
_ENV = {"LC_ALL": "C", "HTTP_PROXY": _NOWHERE, "HTTPS_PROXY": _NOWHERE, "NO_PROXY": ""}
_LAYER_WRAP = re.compile(
    r"(?:accumulating resources: )?accumulation err='accumulating resources from '\.\./\d+': "
    r"'[^']*' must resolve to a file': recursed accumulation of path '[^']*': "
)
RENDER_LIMITS = process.Limits(wall_s=60.0, memory_bytes=2 << 30)


def _kustomization(**fields: Any) -> str:
    body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **fields}
    return yamlsafe.dump({**body, "sortOptions": {"order": "fifo"}})


def _selector(target: Any) -> dict[str, str]:
    keys = ("group", "version", "kind", "name", "namespace")
    out = {k: getattr(target, k) for k in keys if getattr(target, k)}
    if target.label_selector:
        out["labelSelector"] = target.label_selector
    if target.annotation_selector:
        out["annotationSelector"] = target.annotation_selector
    return out


def _kustomize_layer(k: helmapi.Kustomize, resource: str) -> str:
    fields: dict[str, Any] = {"resources": [resource]}
    patches = [
        {"patch": p.patch, **({"target": _selector(p.target)} if p.target is not None else {})}
        for p in k.patches or ()
    ]
    images = [
        {
            key: v
            for key, v in (
                ("name", i.name),
                ("newName", i.new_name),
                ("newTag", i.new_tag),
                ("digest", i.digest),
            )
            if v
        }
        for i in k.images or ()
    ]
    if patches:
        fields["patches"] = patches
    if images:
        fields["images"] = images
    return _kustomization(**fields)


def _transformer(kind: str, name: str, key: str, pairs: Mapping[str, str], path: str) -> str:
    return yamlsafe.dump(
        {
            "apiVersion": "builtin",
            "kind": kind,
            "metadata": {"name": name},
            key: dict(pairs),
            "fieldSpecs": [{"path": path, "create": True}],
        }
    )


class Renderer:
    """Renders releases; post-renders in `scratch` (a folder of its own)."""

    def __init__(
        self,
        scratch: Path,
        *,
        limits: process.Limits = RENDER_LIMITS,
        in_process: bool = True,
        cache: buildcache.Cache | None = None,
    ) -> None:
        """`in_process`: label and annotate without kustomize where `label_in_process` can (off
        only to compare the two). `cache`: keep results on disk too (see the module)."""
        self._scratch = scratch
        self._limits = limits
        self._in_process = in_process
        self._kubectl: str | None = None
        self._charts: dict[str, Any] = {}
        self._disk = cache
        self._repeatable: dict[str, bool] = {}

    def load(self, chart: bytes | Path) -> Any:
        import helm_python as helm  # the Go SDK loads on first use

        key = hashlib.sha256(chart).hexdigest() if isinstance(chart, bytes) else f"dir:{chart}"
        loaded = self._charts.get(key)
        if loaded is None:
            try:
                loaded = (
                    helm.Chart.load_archive(chart)
                    if isinstance(chart, bytes)
                    else helm.Chart.load(str(chart))
                )
            except helm.HelmError as exc:
                raise RenderError(str(exc)) from exc
            if isinstance(chart, bytes):  # a folder may change between renders
                self._charts = {key: loaded, **dict(list(self._charts.items())[:7])}
        return loaded

    def render(
        self,
        chart: bytes | Path,
        values: Mapping[str, Any],
        release: ReleaseInfo,
        post: PostRender | None,
        *,
        persist: bool = True,
    ) -> Rendered:
        """Render `chart` with `values` (the composed values; the chart's defaults are merged
        under them by Helm) for `release`, through helm-controller's post-renderers (None: none,
        as the helm CLI renders). `persist=False`: the values hold a Secret's data, so nothing of
        this render goes to the disk cache."""
        engine = self._engine(chart, values, release, persist)
        files = dict(engine.files)
        notes = ""
        for path in [p for p in files if p.endswith("NOTES.txt")]:
            text = files.pop(path)
            if path == f"{engine.chart_name}/templates/NOTES.txt":
                notes = text
        if post is not None:
            files = self._post_render(files, post, persist)
        hooks, manifests = sort_manifests(files)
        text = "".join(f"---\n# Source: {m.path}\n{m.content}\n" for m in manifests)
        crds = tuple(
            CrdFile(filename=filename, data=data, objects=tuple(crd_objects(filename, data)))
            for filename, data in engine.crds
        )
        return Rendered(manifests=tuple(manifests), hooks=tuple(hooks), notes=notes, crds=crds, manifest=text)

    def _engine(
        self, chart: bytes | Path, values: Mapping[str, Any], release: ReleaseInfo, persist: bool
    ) -> _Engine:
        """Helm's engine on the chart: from the disk cache when it holds the result."""
        import helm_python as helm

        name = self._engine_key(chart, values, release) if persist else None
        if name is not None:
            assert self._disk is not None
            entry = self._disk.get(CACHE_NAMESPACE, name)
            if entry is not None:
                found = _Engine.decode(entry)
                if isinstance(found, str):
                    raise RenderError(found)
                return found
        try:
            loaded = self.load(chart)
            files = dict(
                loaded.render(
                    dict(values),
                    name=release.name,
                    namespace=release.namespace,
                    revision=release.revision,
                    is_install=not release.is_upgrade,
                    is_upgrade=release.is_upgrade,
                )
            )
        except (RenderError, helm.HelmError) as exc:
            cause = exc if isinstance(exc, helm.HelmError) else exc.__cause__
            if name is not None and type(cause).__name__ in _DETERMINISTIC_ERRORS:
                assert self._disk is not None
                self._disk.put(CACHE_NAMESPACE, name, json.dumps({"error": str(exc)}).encode())
            if isinstance(exc, RenderError):
                raise
            raise RenderError(str(exc)) from exc
        engine = _Engine(
            files=files,
            chart_name=str(loaded.metadata["name"]),
            crds=tuple((str(c["filename"]), str(c["data"])) for c in loaded.crds),
        )
        if name is not None:
            assert self._disk is not None
            self._disk.put(CACHE_NAMESPACE, name, engine.encode())
        return engine

    def _engine_key(self, chart: bytes | Path, values: Mapping[str, Any], release: ReleaseInfo) -> str | None:
        """The name of this render in the disk cache, or None when it must not be kept (see the
        module)."""
        if self._disk is None or not isinstance(chart, bytes):
            return None
        try:
            handed = json.dumps(dict(values))  # as helm_python hands the values to Helm
        except (TypeError, ValueError):
            return None
        digest = hashlib.sha256(chart).hexdigest()
        if digest not in self._repeatable:
            self._repeatable[digest] = repeatable(chart)
        if not self._repeatable[digest] or _unrepeatable(handed.encode()):
            return None  # `tpl` renders values as templates
        identity = helm_identity()
        if identity is None:
            return None
        shown = json.dumps([release.name, release.namespace, release.revision, release.is_upgrade])
        return buildcache.key("helm render 1", identity, digest, handed, shown)

    def _post_render(self, files: dict[str, str], post: PostRender, persist: bool) -> dict[str, str]:
        if post.strategy == "combined":
            return self._run_group(files, post, "", "files", persist)
        hooks, manifests = sort_manifests(files)
        hook_files: dict[str, str] = {}
        for h in hooks:
            hook_files[h.path] = (
                f"{hook_files[h.path]}\n---\n{h.manifest}" if h.path in hook_files else h.manifest
            )
        manifest_files: dict[str, str] = {}
        for m in manifests:
            manifest_files[m.path] = (
                f"{manifest_files[m.path]}\n---\n{m.content}" if m.path in manifest_files else m.content
            )
        out: dict[str, str] = {}
        groups = (("hooks", hook_files, post.strategy == "separate"), ("manifests", manifest_files, True))
        for group, group_files, rendered in groups:
            if not group_files:
                continue
            result = self._run_group(group_files, post, group, group, persist) if rendered else group_files
            for name, content in result.items():
                out[name] = f"{out[name]}\n---\n{content}" if name in out else content
        return out

    def _run_group(
        self, files: dict[str, str], post: PostRender, fallback: str, what: str, persist: bool
    ) -> dict[str, str]:
        if self._in_process and not post.kustomize:
            labelled = label_in_process(files, post)
            if labelled is not None:
                return labelled
        merged = annotate_and_merge(files)
        if not merged.strip():
            return {}
        try:
            output = self._kustomize(merged, post, persist)
        except RenderError as exc:
            raise RenderError(f"error while running post render on {what}: {exc}") from exc
        return split_and_deannotate(output, fallback)

    def _kustomize(self, stream: str, post: PostRender, persist: bool) -> str:
        """kustomize's output for the post-renderers' folders over `stream` (from the disk cache
        when it holds the result); raises `RenderError` with kustomize's words."""
        tree = _post_render_tree(stream, post)
        root = self._scratch / "postrender"
        if self._kubectl is None:
            self._kubectl = kubectl_path()
        name = None
        if persist and self._disk is not None:
            identity = build.kustomize_identity(self._kubectl, self._disk)
            if identity is not None:
                parts = [part for path in sorted(tree) for part in (path, tree[path])]
                name = buildcache.key("helm post-render 1", identity, *parts)
        if name is not None:
            assert self._disk is not None
            entry = self._disk.get(build.CACHE_NAMESPACE, name)
            if entry is not None:
                status, _, body = entry.partition(b"\n")
                if status == b"output":
                    return body.decode()
                raise _post_render_error(body.decode().replace(_ROOT_TOKEN, str(root)), root)
        shutil.rmtree(root, ignore_errors=True)
        for path, text in tree.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        try:
            proc = process.run(
                [self._kubectl, "kustomize", str(root / "final")],
                env=_ENV | {"HOME": str(root)},
                limits=self._limits,
            )
        except process.LimitExceeded as exc:
            raise RenderError(str(exc).replace("kubectl", "kustomize build", 1)) from exc
        scratch = str(self._scratch)
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").split("\n\ngoroutine ", 1)[0].strip()
            kept = message.replace(str(root), _ROOT_TOKEN)
            if name is not None and _ROOT_TOKEN not in message and scratch not in kept:
                assert self._disk is not None
                self._disk.put(build.CACHE_NAMESPACE, name, b"error\n" + kept.encode())
            raise _post_render_error(message, root)
        if name is not None and scratch.encode() not in proc.stdout:
            assert self._disk is not None
            self._disk.put(build.CACHE_NAMESPACE, name, b"output\n" + proc.stdout)
        return proc.stdout.decode()


def _post_render_tree(stream: str, post: PostRender) -> dict[str, str]:
    """The folders kustomize post-renders in (path under the root: text): `0` holds Helm's
    output, one folder per kustomize post-renderer takes the previous one as its resource, and
    `final` applies the common metadata and origin labels."""
    tree = {
        "0/helm-output.yaml": stream,
        "0/kustomization.yaml": _kustomization(resources=["helm-output.yaml"]),
    }
    for i, k in enumerate(post.kustomize, start=1):
        tree[f"{i}/kustomization.yaml"] = _kustomize_layer(k, f"../{i - 1}")
    transformers: list[str] = []
    if post.common_labels is not None:
        transformers.append("common-labels.yaml")
        tree[f"final/{transformers[-1]}"] = _transformer(
            "LabelTransformer", "common-labels", "labels", dict(post.common_labels), "metadata/labels"
        )
    if post.common_annotations is not None:
        transformers.append("common-annotations.yaml")
        tree[f"final/{transformers[-1]}"] = _transformer(
            "AnnotationsTransformer",
            "common-annotations",
            "annotations",
            dict(post.common_annotations),
            "metadata/annotations",
        )
    transformers.append("origin-labels.yaml")
    origin = {f"{ORIGIN_GROUP}/name": post.owner_name, f"{ORIGIN_GROUP}/namespace": post.owner_namespace}
    tree[f"final/{transformers[-1]}"] = _transformer(
        "LabelTransformer", "origin-labels", "labels", origin, "metadata/labels"
    )
    tree["final/kustomization.yaml"] = _kustomization(
        resources=[f"../{len(post.kustomize)}"], transformers=transformers
    )
    return tree


def _post_render_error(message: str, root: Path) -> RenderError:
    """kustomize's own error, without the wrapping our layered folders add (helm-controller runs
    each post-renderer on its own, so its messages have none)."""
    message = _LAYER_WRAP.split(message.removeprefix("error: "))[-1]
    return RenderError(message.replace(str(root), "."))


def crd_objects(filename: str, data: str) -> list[dict[str, Any]]:
    try:
        docs = yamlsafe.load_all(data)
    except (yaml.YAMLError, ValueError) as exc:
        raise RenderError(f"failed to parse CRDs from {filename}: {exc}") from exc
    return [d for d in docs if isinstance(d, dict)]


def set_ownership(meta: dict[str, Any], release_name: str, release_namespace: str) -> None:
    """Helm's `setMetadataVisitor`: the label and annotations by which Helm knows which release
    owns an object (`app.kubernetes.io/managed-by: Helm`, `meta.helm.sh/release-name` and
    `-namespace`), set in `meta` in place."""
    meta["labels"] = {**(meta.get("labels") or {}), MANAGED_BY_LABEL: "Helm"}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        RELEASE_NAME_ANNOTATION: release_name,
        RELEASE_NAMESPACE_ANNOTATION: release_namespace,
    }
