"""Render a HelmRelease from a repository folder, with no cluster, and diff it against a cluster.

What it does: `build(root, name, ...)` finds the HelmRelease `name` among the Kubernetes YAML
files under `root` (`read_documents`, `find_helmrelease`), composes its values as helm-controller
does (`helm.values.compose`, with a reader over the ConfigMaps and Secrets found in the same
folder), finds its chart (`locate_chart`: `--chart` wins, else the `chart.spec.chart` path of a
GitRepository source, the folder being that repository), renders it with the real Helm engine and
helm-controller's post-renderers (`helm.render.Renderer`) and returns the objects Helm would
apply: the chart's CRDs first when the install (or, for an upgrade, the upgrade) CRD policy
creates them, then the release's manifest in Helm's install order, each with the metadata Helm
sets (`app.kubernetes.io/managed-by: Helm`, `meta.helm.sh/release-name`/`-namespace`) and the
release namespace on namespaced kinds; the hooks come apart (`Built.hooks`), since Helm runs
them as events, not as part of the release. `to_yaml` writes them as YAML documents.

`diff(cluster, built, live)` compares those objects with a cluster the way helm-controller's drift
detection does (`helm.drift.detect`: server-side apply dry-runs, field manager
`helm-controller`, `driftDetection.ignore` rules) and reports each change as `flux diff
kustomization` prints it: `► Kind/ns/name created`, `► Kind/ns/name drifted` followed by a
dyff-style report of the fields, and `► Kind/ns/name deleted` for what the live HelmRelease's
`status.inventory` holds that the render no longer has (Helm deletes those on upgrade).

Provenance (behaviour learned, no code copied): fluxcd/flux2 `internal/build/diff.go` and
`cmd/flux/testdata/diff-kustomization/*.golden` (the `►` lines, the report layout, the exit
status); helm/helm v4 `pkg/action/install.go` (CRDs first, the ownership metadata it sets) and
`pkg/kube` (the namespace a namespaced object without one gets); fluxcd/helm-controller
`api/v2` (CRD policies and their defaults, release and storage names).

Callers: `gitops-sim flux build helmrelease` and `gitops-sim flux diff helmrelease` (cli.py),
which print what these functions return. Never: prints, writes to a cluster (the diff only
dry-runs), reaches the internet (remote HelmRepository and OCI charts are refused, not
fetched), follows a symlink out of `root`, or reads the time or the environment.

Differences, on purpose (beyond helm-controller, which has no such command):
- A ConfigMap, Secret or HelmRelease without `metadata.namespace` is taken to be in the
  namespace the HelmRelease is looked for in (`--namespace`, else its own, else `default`): in a
  repository the namespace usually comes from the Kustomization that applies the folder.
  kustomize generators (`configMapGenerator`) are not run, and SOPS is not decrypted.
- `chart.spec.valuesFiles` are merged (in order, Flux's merge) under the composed values rather
  than into the chart's own `values.yaml` as source-controller packages them; the rendered objects
  are the same except where a chart default is deleted with a null. Bucket sources are not read.
- `.Capabilities` are Helm's offline defaults and `lookup` finds nothing (as `helm template`).
- The diff report is dyff's layout for the common cases (value change, one or more map or list
  entries added or removed) over helm-controller's JSON patch, not dyff's own comparison; a list
  entry is named by its `name` field when every entry of the list has one, else by its index.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from gitops_sim.cluster import backend, errors, kinds
from gitops_sim.helm import chart as charts
from gitops_sim.helm import drift, render, values
from gitops_sim.model import objects, refs, yamlsafe
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import helm as helmapi

MAX_FILE_BYTES = 10 << 20
"""A YAML file larger than this is not read (a repository's manifests are far smaller)."""
DEFAULT_NAMESPACE = "default"
_SKIPPED_DIRS = frozenset({".git"})


class BuildError(Exception):
    """The HelmRelease cannot be built; `message` names the file (or flag) and the problem."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Document:
    """One Kubernetes object found in the folder: the file (relative to the folder) and the object."""

    file: str
    object: dict[str, Any] = field(hash=False)

    @property
    def kind(self) -> str:
        return str(self.object.get("kind") or "")

    @property
    def name(self) -> str:
        return str(objects.metadata(self.object).get("name") or "")

    def namespace(self, default: str) -> str:
        return str(objects.metadata(self.object).get("namespace") or default)


@dataclass(frozen=True, slots=True)
class Found:
    """The HelmRelease to build: where it was found, its name, namespace and parsed spec."""

    document: Document
    name: str
    namespace: str
    spec: helmapi.HelmReleaseSpec


@dataclass(frozen=True, slots=True)
class ChartSource:
    """The chart to render (a folder, or a packaged chart's bytes) and where it came from."""

    chart: Path | bytes = field(repr=False)
    origin: str


@dataclass(frozen=True, slots=True)
class Built:
    """What the HelmRelease would apply, and how it was made."""

    helmrelease: Found
    chart: ChartSource
    values: values.Composed
    release: render.ReleaseInfo
    rendered: render.Rendered
    objects: tuple[dict[str, Any], ...]
    """The objects Helm would apply: CRDs (when the policy creates them), then the manifest."""
    hooks: tuple[render.Hook, ...]
    """The hooks (with the release namespace set), in Helm's install order."""


# --- reading the folder ----------------------------------------------------------------------


def read_documents(root: Path) -> tuple[Document, ...]:
    """Every Kubernetes object (a mapping with `apiVersion` and `kind`) in the `.yaml`/`.yml`
    files under `root`, in path order. Files that are not YAML are skipped, and so is `.git`,
    any file larger than `MAX_FILE_BYTES`, and any symlink that leads out of `root`."""
    if not root.is_dir():
        raise BuildError(f"--path {root}: not a directory")
    top = root.resolve()
    found: list[Document] = []
    for folder, dirs, files in os.walk(top):  # never descends into a symlinked folder
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for filename in sorted(files):
            if not filename.endswith((".yaml", ".yml")):
                continue
            path = Path(folder) / filename
            real = path.resolve()
            if not real.is_relative_to(top) or not real.is_file():
                continue
            try:
                if real.stat().st_size > MAX_FILE_BYTES:
                    continue
                docs = yamlsafe.load_all(real.read_bytes())
            except (OSError, yaml.YAMLError, ValueError):
                continue
            relative = path.relative_to(top).as_posix()
            for doc in docs:
                if isinstance(doc, dict) and isinstance(doc.get("apiVersion"), str) and doc.get("kind"):
                    found.append(Document(relative, doc))
    return tuple(found)


def find_helmrelease(docs: Sequence[Document], name: str, namespace: str | None = None) -> Found:
    """The HelmRelease `name` (in `namespace`; without it, the only one of that name)."""
    candidates = [
        d
        for d in docs
        if d.kind == "HelmRelease"
        and str(d.object["apiVersion"]).startswith(helmapi.GROUP + "/")
        and d.name == name
    ]
    if namespace is not None:
        candidates = [d for d in candidates if d.namespace(namespace) == namespace]
    if not candidates:
        where = f"'{namespace}/{name}'" if namespace else f"'{name}'"
        raise BuildError(f"HelmRelease {where} not found in the YAML files of the folder")
    if len(candidates) > 1:
        found = ", ".join(f"{d.namespace(DEFAULT_NAMESPACE)}/{name} ({d.file})" for d in candidates)
        raise BuildError(f"{len(candidates)} HelmReleases named '{name}': {found}; pass --namespace")
    doc = candidates[0]
    ns = doc.namespace(namespace or DEFAULT_NAMESPACE)
    try:
        spec = declare.parse(helmapi.HelmReleaseSpec, doc.object.get("spec"))
    except declare.ParseError as exc:
        raise BuildError(f"{doc.file}: HelmRelease '{ns}/{name}': {exc}") from None
    return Found(doc, name, ns, spec)


def file_reader(docs: Sequence[Document], namespace: str) -> values.Reader:
    """A values `Reader` over the ConfigMaps and Secrets of the folder (a Secret's `data` decoded
    from base64 and its `stringData` over it, as the API server stores them)."""

    def read(kind: str, ns: str, name: str) -> Mapping[str, str | bytes] | None:
        for d in docs:
            if d.kind != kind or d.object.get("apiVersion") != "v1" or d.name != name:
                continue
            if d.namespace(namespace) != ns:
                continue
            data = d.object.get("data") or {}
            if kind == "ConfigMap":
                return {str(k): str(v) for k, v in data.items()}
            try:
                out: dict[str, str | bytes] = {
                    str(k): base64.b64decode(str(v), validate=True) for k, v in data.items()
                }
            except binascii.Error as exc:
                raise errors.BadRequest(
                    f"{d.file}: Secret '{ns}/{name}': data is not base64: {exc}"
                ) from None
            out.update({str(k): str(v) for k, v in (d.object.get("stringData") or {}).items()})
            return out
        return None

    return read


# --- the chart -------------------------------------------------------------------------------


def locate_chart(found: Found, root: Path, override: Path | None = None) -> ChartSource:
    """The chart to render: `override` (a chart folder or a `.tgz`), else the chart path of the
    HelmRelease's GitRepository source inside `root`. Anything remote is refused, with the fix."""
    if override is not None:
        if override.is_dir():
            return ChartSource(override, f"{override}")
        try:
            return ChartSource(override.read_bytes(), f"{override}")
        except OSError as exc:
            raise BuildError(f"--chart {override}: {exc.strerror or exc}") from None
    where = f"{found.document.file}: HelmRelease '{found.namespace}/{found.name}'"
    fix = "pass --chart with the chart's folder or .tgz"
    spec = found.spec
    if spec.chart is None:
        ref = spec.chart_ref
        assert ref is not None  # the CRD requires one of chart and chartRef
        ns = ref.namespace or found.namespace
        raise BuildError(
            f"{where}: its chart is the artifact of {ref.kind} '{ns}/{ref.name}' (chartRef), "
            f"which is not fetched: {fix}"
        )
    template = spec.chart.spec
    source = template.source_ref
    source_ns = source.namespace or found.namespace
    if source.kind != "GitRepository":
        raise BuildError(
            f"{where}: chart '{template.chart}' comes from {source.kind} '{source_ns}/{source.name}', "
            f"which is not fetched (nothing reaches the internet): {fix}"
        )
    top = root.resolve()
    path = (top / template.chart).resolve()
    if not path.is_relative_to(top) or not (path / "Chart.yaml").is_file():
        raise BuildError(
            f"{where}: chart path '{template.chart}' of GitRepository '{source_ns}/{source.name}' "
            f"is not a chart folder under {root} (taken as that repository's root): {fix}"
        )
    return ChartSource(path, f"GitRepository {source_ns}/{source.name} {template.chart}")


def _values_files(found: Found, root: Path, source: ChartSource) -> dict[str, Any]:
    """`chart.spec.valuesFiles` (paths in the source), merged in order."""
    if found.spec.chart is None or not found.spec.chart.spec.values_files:
        return {}
    template = found.spec.chart.spec
    top = root.resolve()
    merged: dict[str, Any] = {}
    for name in template.values_files or ():
        path = (top / name).resolve()
        if not path.is_relative_to(top) or not path.is_file():
            if template.ignore_missing_values_files:
                continue
            raise BuildError(
                f"{found.document.file}: HelmRelease '{found.namespace}/{found.name}': "
                f"values file '{name}' not found under {root}"
            )
        try:
            loaded = yamlsafe.load(path.read_bytes()) or {}
        except (OSError, yaml.YAMLError, ValueError) as exc:
            raise BuildError(f"{name}: cannot be read as values: {exc}") from None
        if not isinstance(loaded, dict):
            raise BuildError(f"{name}: values must be a YAML mapping")
        merged = values.merge_maps(merged, loaded)
    return merged


# --- building --------------------------------------------------------------------------------


def build(
    root: Path,
    name: str,
    *,
    scratch: Path,
    namespace: str | None = None,
    chart: Path | None = None,
    revision: int = 1,
    is_upgrade: bool = False,
) -> Built:
    """The objects the HelmRelease `name` under `root` would apply (an install at `revision` 1,
    or an upgrade to `revision`). `scratch` is a folder for the post-renderers' kustomize runs."""
    docs = read_documents(root)
    found = find_helmrelease(docs, name, namespace)
    where = f"{found.document.file}: HelmRelease '{found.namespace}/{found.name}'"
    source = locate_chart(found, root, chart)
    own: Any = found.spec.values
    if own is not None and not isinstance(own, dict):
        raise BuildError(f"{where}: spec.values must be an object")
    try:
        composed = values.compose(
            found.namespace, own, found.spec.values_from, file_reader(docs, found.namespace)
        )
    except values.ValuesError as exc:
        raise BuildError(f"{where}: {exc.message}") from None
    base = _values_files(found, root, source) if chart is None else {}
    final = values.merge_maps(base, composed.values) if base else composed.values
    release = render.ReleaseInfo(
        name=charts.storage_release_name(found.spec, name),
        namespace=charts.release_namespace(found.spec, found.namespace),
        revision=revision,
        is_upgrade=is_upgrade,
    )
    spec = found.spec
    disabled = spec.install is not None and spec.install.disable_schema_validation
    if is_upgrade:
        disabled = spec.upgrade is not None and spec.upgrade.disable_schema_validation
    if not disabled:
        _validate(source, final, where)
    post = render.PostRender.from_spec(spec, name=name, namespace=found.namespace)
    try:
        rendered = render.Renderer(scratch).render(source.chart, final, release, post)
    except render.RenderError as exc:
        raise BuildError(f"{where}: {exc}") from None
    scopes = _scopes(rendered)
    crds = _crds(spec, rendered, is_upgrade)
    manifest = tuple(_as_applied(m.object, release, scopes) for m in rendered.manifests if m.object)
    hooks = tuple(_with_namespace_hook(h, release.namespace, scopes) for h in rendered.hooks)
    return Built(
        helmrelease=found,
        chart=source,
        values=composed,
        release=release,
        rendered=rendered,
        objects=crds + manifest,
        hooks=hooks,
    )


def _validate(source: ChartSource, final: Mapping[str, Any], where: str) -> None:
    import helm_python as helm  # the Go SDK loads on first use

    try:
        loaded = (
            helm.Chart.load_archive(source.chart)
            if isinstance(source.chart, bytes)
            else helm.Chart.load(str(source.chart))
        )
    except helm.HelmError as exc:
        raise BuildError(f"{where}: chart {source.origin}: {exc}") from None
    try:
        values.validate_schema(loaded, final)
    except values.SchemaError as exc:
        raise BuildError(f"{where}: {exc.message}") from None


def _crds(
    spec: helmapi.HelmReleaseSpec, rendered: render.Rendered, is_upgrade: bool
) -> tuple[dict[str, Any], ...]:
    """The chart's CRDs when the action's policy creates them: `install.crds` / `upgrade.crds`,
    Create when unset for both (helm-controller's `crdPolicyOrDefault`, internal/action/crds.go;
    its API comments say Skip for upgrades, but the code applies Create, and the deprecated
    `skipCRDs` is not read)."""
    action = spec.upgrade if is_upgrade else spec.install
    policy = (action.crds if action is not None else None) or "Create"
    if policy == "Skip":
        return ()
    return tuple(obj for crd in rendered.crds for obj in crd.objects)


def _scopes(rendered: render.Rendered) -> dict[refs.GroupKind, bool]:
    """Whether each kind is namespaced: the chart's own CRDs say for theirs."""
    scopes: dict[refs.GroupKind, bool] = {}
    crds = [o for c in rendered.crds for o in c.objects] + [
        m.object for m in rendered.manifests if m.object.get("kind") == "CustomResourceDefinition"
    ]
    for crd in crds:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if isinstance(spec, dict) and isinstance(names, dict):
            gk = refs.GroupKind(str(spec.get("group") or ""), str(names.get("kind") or ""))
            scopes[gk] = spec.get("scope") != "Cluster"
    return scopes


_BUILTINS = kinds.KindRegistry()


def _namespaced(obj: Mapping[str, Any], scopes: Mapping[refs.GroupKind, bool]) -> bool:
    gk = refs.GVK.of(str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")).group_kind
    if gk in scopes:
        return scopes[gk]
    info = _BUILTINS.get(gk)
    return True if info is None else info.namespaced


def _as_applied(
    raw: Mapping[str, Any], release: render.ReleaseInfo, scopes: Mapping[refs.GroupKind, bool]
) -> dict[str, Any]:
    """One manifest object as Helm applies it: its ownership metadata, and the release namespace
    when it is namespaced and has none."""
    obj: dict[str, Any] = objects.clone(dict(raw))
    meta = obj.setdefault("metadata", {})
    if _namespaced(obj, scopes) and not meta.get("namespace"):
        meta["namespace"] = release.namespace
    render.set_ownership(meta, release.name, release.namespace)
    return obj


def _with_namespace_hook(
    hook: render.Hook, namespace: str, scopes: Mapping[refs.GroupKind, bool]
) -> render.Hook:
    obj: dict[str, Any] = objects.clone(hook.object)
    meta = obj.setdefault("metadata", {})
    if _namespaced(obj, scopes) and not meta.get("namespace"):
        meta["namespace"] = namespace
    return render.Hook(
        name=hook.name,
        kind=hook.kind,
        path=hook.path,
        manifest=hook.manifest,
        events=hook.events,
        weight=hook.weight,
        delete_policies=hook.delete_policies,
        output_log_policies=hook.output_log_policies,
        object=obj,
    )


def to_yaml(built: Built, *, hooks: bool = False) -> str:
    """The objects as YAML documents, each after `---`; with `hooks`, the hooks follow, each
    with a comment saying when Helm runs it."""
    out = [f"---\n{yamlsafe.dump(obj)}" for obj in built.objects]
    if hooks:
        for hook in built.hooks:
            when = ",".join(hook.events)
            out.append(
                f"---\n# Hook: {when} (weight {hook.weight}) from {hook.path}\n{yamlsafe.dump(hook.object)}"
            )
    return "".join(out)


# --- diffing ---------------------------------------------------------------------------------

Action = Literal["created", "drifted", "deleted"]


@dataclass(frozen=True, slots=True)
class Change:
    """One line of `flux diff`'s output, and for `drifted` the report that follows it."""

    subject: str
    action: Action
    report: str = ""

    def text(self) -> str:
        return f"► {self.subject} {self.action}\n{self.report}"


@dataclass(frozen=True, slots=True)
class Diff:
    """The changes applying the build would make, and the objects that could not be compared."""

    changes: tuple[Change, ...]
    errors: tuple[str, ...] = ()

    def text(self) -> str:
        return "".join(c.text() for c in self.changes)


def live_release(cluster: backend.Cluster, name: str, namespace: str) -> dict[str, Any] | None:
    """The HelmRelease as the cluster has it, or None."""
    try:
        found: dict[str, Any] = dict(
            cluster.read(refs.ObjectRef(helmapi.GROUP, "HelmRelease", namespace, name))
        )
    except (errors.NotFound, errors.NoKindMatch):  # no such object, or no HelmRelease CRD there
        return None
    return found


def next_revision(live: Mapping[str, Any] | None) -> tuple[int, bool]:
    """The revision the next release would be (and whether it is an upgrade), from the live
    HelmRelease's `status.history` (newest first)."""
    history = ((live or {}).get("status") or {}).get("history") or []
    latest = history[0].get("version") if history and isinstance(history[0], dict) else None
    if isinstance(latest, int) and latest > 0:
        return latest + 1, True
    return 1, False


def diff(cluster: backend.Cluster, built: Built, live: Mapping[str, Any] | None = None) -> Diff:
    """Compare the build with the cluster as helm-controller's drift detection does."""
    spec = built.helmrelease.spec
    ignore = spec.drift_detection.ignore if spec.drift_detection is not None else None
    report = drift.detect(
        cluster,
        built.objects,
        release_name=built.release.name,
        release_namespace=built.release.namespace,
        ignore=ignore or (),
    )
    changes: list[Change] = []
    errs = list(report.errors)
    for d in report.diffs:
        if d.type == drift.DiffType.CREATE:
            changes.append(Change(d.resource_name, "created"))
        elif d.type == drift.DiffType.UPDATE:
            try:
                current = cluster.read(d.ref)
            except errors.ApiError as exc:
                errs.append(exc.message)
                continue
            changes.append(Change(d.resource_name, "drifted", _report(current, d.patch)))
    rendered = {_key(o) for o in built.objects}
    for entry in _inventory(live):
        if entry[0] not in rendered:
            changes.append(Change(entry[1], "deleted"))
    return Diff(tuple(changes), tuple(errs))


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    gk = refs.GVK.of(str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")).group_kind
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""), gk.group, gk.kind)


def _inventory(live: Mapping[str, Any] | None) -> list[tuple[tuple[str, str, str, str], str]]:
    """The live HelmRelease's `status.inventory`: (key, subject) per entry, in kind order."""
    entries = (((live or {}).get("status") or {}).get("inventory") or {}).get("entries") or []
    out = []
    for entry in entries:
        parts = str(entry.get("id") or "").split("_")
        if len(parts) != 4:
            continue
        ns, name, _group, kind = parts
        subject = f"{kind}/{ns}/{name}" if ns else f"{kind}/{name}"
        out.append(((ns, name, _group, kind), subject))
    return sorted(out, key=lambda e: (*_kind_rank(e[0][3]), e[0][0], e[0][1]))


_RANK = {kind: i for i, kind in enumerate(render.INSTALL_ORDER)}


def _kind_rank(kind: str) -> tuple[int, str]:
    """ssa's sort of objects: Helm's install order of kinds, unknown kinds last by name."""
    return (_RANK[kind], "") if kind in _RANK else (len(_RANK), kind)


# --- the dyff-style report -------------------------------------------------------------------


def _report(live: Mapping[str, Any], patch: Sequence[drift.Operation]) -> str:
    """`flux diff`'s report of one drifted object: per change, a blank line, the dyff path, what
    changed (live `-`, desired `+`), and a closing blank line."""
    parts: list[str] = []
    for op in patch:
        tokens = [_unescape(t) for t in op.path.split("/")[1:]]
        parent, last = tokens[:-1], tokens[-1] if tokens else ""
        container = _get(live, parent)
        if op.op == "replace":
            old = _get(live, tokens)
            parts.append(
                f"\n{_dyff_path(live, tokens)}\n± value change\n{_values('-', old)}{_values('+', op.value)}"
            )
        elif op.op == "add" and (isinstance(container, list) or last == "-"):
            parts.append(f"\n{_dyff_path(live, parent)}\n+ one list entry added:\n{_yaml([op.value])}")
        elif op.op == "add":
            parts.append(f"\n{_dyff_path(live, parent)}\n+ one map entry added:\n{_yaml({last: op.value})}")
        elif isinstance(container, list):
            old = _get(live, tokens)
            parts.append(f"\n{_dyff_path(live, parent)}\n- one list entry removed:\n{_yaml([old])}")
        else:
            old = _get(live, tokens)
            parts.append(f"\n{_dyff_path(live, parent)}\n- one map entry removed:\n{_yaml({last: old})}")
    return "".join(parts) + ("\n" if parts else "")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _get(value: Any, tokens: Sequence[str]) -> Any:
    for token in tokens:
        if isinstance(value, list):
            value = value[int(token)] if token.isdigit() and int(token) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(token)
        else:
            return None
    return value


def _dyff_path(live: Mapping[str, Any], tokens: Sequence[str]) -> str:
    """dyff's dot path: map keys as they are, list entries by their `name` when every entry of
    the list has one, else by index; the root is `(root level)`."""
    words: list[str] = []
    value: Any = live
    for token in tokens:
        if isinstance(value, list):
            named = all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value)
            index = int(token) if token.isdigit() else len(value)
            item = value[index] if index < len(value) else None
            words.append(str(item["name"]) if named and isinstance(item, dict) else token)
            value = item
        else:
            words.append(token)
            value = value.get(token) if isinstance(value, dict) else None
    return ".".join(words) if words else "(root level)"


def _yaml(value: Any) -> str:
    return yamlsafe.dump(value)


def _values(sign: str, value: Any) -> str:
    if isinstance(value, dict | list):
        return "".join(f"{sign} {line}\n" for line in _yaml(value).splitlines())
    text = _yaml(value).removesuffix("\n").removesuffix("\n...")
    return f"{sign} {text}\n"
