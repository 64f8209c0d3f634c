"""`flux build kustomization` and `flux diff kustomization`: what a Kustomization would apply
from a local folder, before it is committed, and how that differs from the cluster.

build (flux2 cmd/flux/build_kustomization.go over internal/build): the Kustomization comes from
the cluster, or from `--kustomization-file` (required with `--dry-run`, which reads no cluster
and leaves `substituteFrom` out); the folder `--path` is built as kustomize-controller builds its
`spec.path`, through the kernel's render pipeline (`apply.render`: the real kustomize with the
overlay fields, postBuild substitution, Flux's owner labels and commonMetadata); the objects are
printed as YAML documents, each after `---`.

diff (cmd/flux/diff_kustomization.go): each built object is compared with the cluster through a
server-side dry-run apply as kustomize-controller (`► Kind/ns/name created`, `► Kind/ns/name
drifted` with the changed fields as `path: live -> desired` lines); what the live
Kustomization's inventory has and the build no longer does is `► Kind/ns/name deleted`. Exit 1
when something differs, as the real CLI does (`⚠️ identified at least one change, exiting with
non-zero exit code`), 0 when nothing does.

Differences, on purpose: a drifted object lists its changed fields one per line instead of
dyff's report; Secrets' values are masked as `*****` in both commands (the real build prints a
SOPS-encrypted value as `**SOPS**` and a plain one as it is); `--recursive`, `--local-sources`,
`--ignore-paths` and `--strict-substitute` are not offered.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol; reads the folder through the
session.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_sim import process
from gitops_sim.apply import build, inventory, render
from gitops_sim.cluster import errors
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import artifacts, flux, objects, refs, yamlsafe
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import kustomize as api

MASK = "*****"
MANAGER = "kustomize-controller"


def _from_file(content: bytes, name: str, namespace: str) -> objects.RawObject:
    for doc in yamlsafe.load_all(content):
        if (
            isinstance(doc, dict)
            and doc.get("kind") == "Kustomization"
            and (doc.get("metadata") or {}).get("name") == name
        ):
            doc.setdefault("metadata", {}).setdefault("namespace", namespace)
            return doc
    raise FluxError(f"failed to find kustomization {name!r} in the kustomization file")


def kustomization(session: Session, name: str, file: bytes | None) -> objects.RawObject:
    """The Kustomization to build: from `--kustomization-file`, else from the cluster."""
    if file is not None:
        return _from_file(file, name, session.namespace)
    ref = refs.ObjectRef(flux.KUSTOMIZE_GROUP, "Kustomization", session.namespace, name)
    try:
        return session.cluster.get(ref)
    except errors.ApiError as exc:
        raise FluxError(f"failed to get kustomization object: {exc.message}") from exc


class _NoVariables:
    def __call__(self, kind: str, namespace: str, name: str) -> Mapping[str, str]:
        raise errors.NotFound(f'{kind.lower()}s "{name}" not found')


def build_objects(
    session: Session, obj: objects.RawObject, files: Mapping[str, bytes], *, dry_run: bool
) -> list[objects.RawObject]:
    """The objects the Kustomization `obj` would apply, `files` standing for its `spec.path`."""
    if session.scratch is None:
        raise FluxError("this session has no scratch folder to build in")
    try:
        spec = declare.parse(api.KustomizationSpec, obj.get("spec") or {})
    except declare.ParseError as exc:
        raise FluxError(f"invalid kustomization: {exc}") from exc
    spec = _at_root(spec, dry_run)
    meta = obj["metadata"]
    digest = "sha256:" + _digest(files)
    artifact = artifacts.Artifact(
        path="local", url="", revision="local", digest=digest, last_update_time="", size=0
    )
    variables: render.Variables = _NoVariables() if dry_run else render.ClusterVariables(session.cluster)
    builder = build.Builder(session.scratch, limits=process.Limits(60.0, 2 << 30))
    try:
        rendered = render.from_files(
            spec,
            str(meta["name"]),
            str(meta.get("namespace", session.namespace)),
            artifact,
            files,
            variables=variables,
            builder=builder,
            decrypt_secrets=False,
        )
    except render.RenderError as exc:
        raise FluxError(exc.message) from exc
    return [_masked(o) for o in rendered.manifests]


def _at_root(spec: api.KustomizationSpec, dry_run: bool) -> api.KustomizationSpec:
    """The spec with `path` at the folder's root (the folder is `spec.path`), and without
    `substituteFrom` in a dry run (it reads no cluster)."""
    post_build = spec.post_build
    if dry_run and post_build is not None:
        post_build = dataclasses.replace(post_build, substitute_from=())
    return dataclasses.replace(spec, path="./", post_build=post_build)


def _digest(files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()


def _masked(obj: objects.RawObject) -> objects.RawObject:
    if obj.get("kind") != "Secret" or obj.get("apiVersion") != "v1":
        return obj
    out = objects.deep_copy(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = {k: MASK for k in out[key]}
    return out


def to_yaml(docs: list[objects.RawObject]) -> str:
    """ssa ObjectsToYAML: each object after `---`, its keys sorted (sigs.k8s.io/yaml)."""
    return "".join("---\n" + yamlsafe.dump(_sorted(d)) for d in docs)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def diff(session: Session, obj: objects.RawObject, built: list[objects.RawObject]) -> bool:
    """Print the differences; True when there is any."""
    changed = False
    out = session.out
    wanted: set[refs.ObjectRef] = set()
    for desired in built:
        ref = objects.ref_of(desired)
        wanted.add(ref)
        subject = str(ref)
        try:
            live = session.cluster.get(ref)
        except errors.NotFound:
            out.write(f"► {subject} created\n")
            changed = True
            continue
        except errors.ApiError as exc:
            raise FluxError(exc.message) from exc
        try:
            dry = session.cluster.apply(desired, field_manager=MANAGER, force=True, dry_run=True)
        except errors.ApiError as exc:
            raise FluxError(f"{subject} dry-run failed: {exc.message}") from exc
        lines = _changes(_comparable(live), _comparable(dry))
        if lines:
            changed = True
            out.write(f"► {subject} drifted\n")
            out.write("".join(f"  {line}\n" for line in lines))
    for entry in ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []:
        gone = inventory_ref(entry)
        if gone is not None and gone not in wanted:
            out.write(f"► {gone} deleted\n")
            changed = True
    return changed


def inventory_ref(entry: Any) -> refs.ObjectRef | None:
    """The object of a Kustomization's inventory entry, None when the entry is malformed."""
    try:
        return inventory.parse_id(entry)[0]
    except (KeyError, TypeError, ValueError):
        return None


def _comparable(obj: objects.RawObject) -> dict[str, Any]:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k in ("labels", "annotations")}
    body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    return _masked({**body, "metadata": meta})


def _changes(live: Any, desired: Any, path: str = "") -> list[str]:
    if isinstance(live, dict) and isinstance(desired, dict):
        out: list[str] = []
        for key in sorted(set(live) | set(desired), key=str):
            where = f"{path}.{key}" if path else str(key)
            out += _changes(live.get(key), desired.get(key), where)
        return out
    if live == desired:
        return []
    return [f"{path}: {json.dumps(live)} -> {json.dumps(desired)}"]


def read_local(path: Path) -> dict[str, bytes]:
    """`Session.read_folder` on this machine: a file's content under the key "", a folder's
    files by relative path (`.git` left out), or FluxError as the CLI words a bad `--path`."""
    if path.is_file():
        return {"": path.read_bytes()}
    if not path.is_dir():
        raise FluxError(f'invalid resource path "{path}"')
    root = path.resolve()
    files: dict[str, bytes] = {}
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root)
        if ".git" in rel.parts or not file.is_file():
            continue
        if not file.resolve().is_relative_to(root):
            raise FluxError(f"{rel.as_posix()} leads outside {path} (a symlink)")
        files[rel.as_posix()] = file.read_bytes()
    return files
