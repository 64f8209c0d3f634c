"""The render pipeline of a Flux Kustomization: the objects its apply would send, without a cluster.

`render` fetches the source artifact's files (`fetch`), then `from_files` builds `spec.path` with
the real kustomize and the overlay fields (`build.Builder`), runs postBuild substitution
(`substituteFrom` in order, then `substitute`), and adds Flux's owner labels
(`kustomize.toolkit.fluxcd.io/name` and `/namespace`) and `spec.commonMetadata`. A failure is a
`RenderError` with kustomize-controller's reason and message (`ArtifactFailed`, `BuildFailed`),
the words the Kustomization's Ready condition would carry.

Provenance: kustomize-controller `internal/controller/kustomization_controller.go` (build,
the `generator`/`postbuild` packages it calls, and the owner labels of `apply`); our own code.

Callers: the kustomize controller, which calls `fetch` and `from_files` separately because its
progress messages and its no-change memo sit between them; a `gitops-sim build kustomization`
command (a later issue) calls `render`. The artifact store and the substitution sources come in
as seams (`ArtifactFiles`, `Variables`): `apply` sits beside `storage` in the layers, and a
render must be possible with no cluster at all (`ClusterVariables` adapts one when there is).

This module never writes anything: not to a cluster, not to an object's status, and it sends
no events. Repository content is untrusted: kustomize runs under `build`'s limits, and the
substituted objects are re-parsed with `model.yamlsafe`, so a variable cannot smuggle in an
alias bomb. SOPS: with `spec.decryption` the render decrypts as kustomize-controller does
(`apply.decrypt`: the keys of its Secret, the generator sources and patch files before the build,
each built object after it; a failure is BuildFailed; a build of decrypted sources is never
written to the disk cache, `buildcache`); a Secret still encrypted after that is
reported in `Rendered.encrypted` (the apply refuses it). `flux build` renders without decrypting
(`decrypt_secrets=False`), as the CLI does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from gitops_sim.apply import build, decrypt
from gitops_sim.cluster import backend, errors
from gitops_sim.model import artifacts, conditions, envsubst, flux, objects, refs, yamlsafe
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import kustomize as api

NAME_LABEL = f"{flux.KUSTOMIZE_GROUP}/name"
NAMESPACE_LABEL = f"{flux.KUSTOMIZE_GROUP}/namespace"
SUBSTITUTE_ANNOTATION = f"{flux.KUSTOMIZE_GROUP}/substitute"
DECRYPT_ANNOTATION = f"{flux.KUSTOMIZE_GROUP}/decrypt"


class RenderError(Exception):
    """The render failed: Ready=False with `reason` and `message` in kustomize-controller.

    `requeue_after` is set when Flux retries sooner than `retryInterval` (a source whose artifact
    is not there yet), and `emit` is False where Flux sends no Warning event for it."""

    def __init__(
        self, reason: str, message: str, *, requeue_after: int | None = None, emit: bool = True
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.requeue_after = requeue_after
        self.emit = emit


class FetchError(Exception):
    """What an `ArtifactFiles` raises: the artifact is `missing` from storage, or unusable
    (digest mismatch, unsafe archive); the message is storage's."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


class ArtifactFiles(Protocol):
    def __call__(self, artifact: artifacts.Artifact) -> Mapping[str, bytes]:
        """The files of `artifact`, digest verified; raises `FetchError`."""


class Variables(Protocol):
    def __call__(self, kind: str, namespace: str, name: str) -> Mapping[str, str]:
        """The data of ConfigMap or Secret `namespace/name` (a Secret's values decoded);
        raises `errors.NotFound` when there is none."""


@dataclass(frozen=True, slots=True)
class ClusterVariables:
    """`Variables` read from a cluster (read-only)."""

    cluster: backend.Cluster

    def __call__(self, kind: str, namespace: str, name: str) -> Mapping[str, str]:
        obj = self.cluster.get(refs.ObjectRef("", kind, namespace, name))
        if kind == "Secret":
            return objects.secret_data(obj)
        return {str(k): str(v) for k, v in (obj.get("data") or {}).items()}


_: type[Variables] = ClusterVariables


@dataclass(frozen=True, slots=True)
class Rendered:
    """The objects a Kustomization's apply would send, and what its history and memo need."""

    manifests: list[objects.RawObject]
    digest: str
    """History digest: sha256 of the substituted objects, before the labels and commonMetadata."""
    owner: dict[str, str]
    common: dict[str, Any]
    encrypted: refs.ObjectRef | None
    """The first Secret still SOPS-encrypted (the apply refuses the whole set), if any."""

    @property
    def fingerprint(self) -> str:
        """The digest plus everything added to every object after it."""
        return f"{self.digest} {json.dumps([self.owner, self.common], sort_keys=True)}"


def owner_labels(name: str, namespace: str) -> dict[str, str]:
    """The labels Flux puts on everything a Kustomization applies (and prunes by)."""
    return {NAME_LABEL: name, NAMESPACE_LABEL: namespace}


def render(
    spec: api.KustomizationSpec,
    name: str,
    namespace: str,
    artifact: artifacts.Artifact,
    *,
    files_of: ArtifactFiles,
    variables: Variables,
    builder: build.Builder,
) -> Rendered:
    """The objects Kustomization `namespace/name` would apply from `artifact`."""
    files = fetch(files_of, artifact)
    return from_files(spec, name, namespace, artifact, files, variables=variables, builder=builder)


def fetch(files_of: ArtifactFiles, artifact: artifacts.Artifact) -> Mapping[str, bytes]:
    """The artifact's files from storage (never from an upstream)."""
    try:
        return files_of(artifact)
    except FetchError as exc:
        if exc.missing:
            raise RenderError(
                conditions.Reason.ARTIFACT_FAILED,
                "Source is not ready, artifact not found, retrying in 30s",
                requeue_after=flux.REQUEUE_DEPENDENCY_MS,
                emit=False,
            ) from exc
        raise RenderError(conditions.Reason.ARTIFACT_FAILED, str(exc)) from exc


def from_files(
    spec: api.KustomizationSpec,
    name: str,
    namespace: str,
    artifact: artifacts.Artifact,
    files: Mapping[str, bytes],
    *,
    variables: Variables,
    builder: build.Builder,
    decrypt_secrets: bool = True,
) -> Rendered:
    """Decrypt the sources, build, decrypt the objects, substitute, label: the render after the
    fetch (`decrypt_secrets=False`: leave SOPS content encrypted, as `flux build` does)."""
    decryptor = None
    built_from = files
    if decrypt_secrets and spec.decryption is not None:
        try:
            decryptor = decrypt.Decryptor.load(spec.decryption, namespace, _secret_data(variables))
            built_from = decryptor.decrypt_sources(files, spec.path or "./")
        except errors.NotFound as exc:
            raise RenderError(conditions.Reason.BUILD_FAILED, exc.message) from exc
        except decrypt.DecryptError as exc:
            raise RenderError(conditions.Reason.BUILD_FAILED, exc.message) from exc
    try:
        rendered = builder.build(
            built_from,
            spec.path or "./",
            label=f"{namespace}-{name}",
            overlay=overlay(spec),
            # decrypted sources are other content than the artifact's, and never go to disk
            content_digest=artifact.digest if built_from is files else None,
            persist=built_from is files,
        )
    except build.PathNotFound as exc:
        raise RenderError(conditions.Reason.ARTIFACT_FAILED, str(exc)) from exc
    except build.BuildError as exc:
        raise RenderError(conditions.Reason.BUILD_FAILED, f"kustomize build failed: {exc}") from exc
    if decryptor is not None:
        rendered = [_decrypted(decryptor, item) for item in rendered]
    encrypted = sops_encrypted(rendered)
    rendered = post_build(spec.post_build, namespace, rendered, variables)
    digest = "sha256:" + hashlib.sha256(json.dumps(rendered, sort_keys=True).encode()).hexdigest()
    owner = owner_labels(name, namespace)
    common: dict[str, Any] = declare.dump(spec.common_metadata) if spec.common_metadata else {}
    for item in rendered:
        item_meta = objects.metadata(item)
        if common.get("labels"):
            item_meta.setdefault("labels", {}).update(common["labels"])
        if common.get("annotations"):
            item_meta.setdefault("annotations", {}).update(common["annotations"])
        item_meta.setdefault("labels", {}).update(owner)
    return Rendered(rendered, digest, owner, common, encrypted)


def _secret_data(variables: Variables) -> decrypt.Secrets:
    def secrets(namespace: str, name: str) -> Mapping[str, str]:
        return variables("Secret", namespace, name)

    return secrets


def _decrypted(decryptor: decrypt.Decryptor, item: objects.RawObject) -> objects.RawObject:
    """One built object through kustomize-controller's `DecryptResource`."""
    try:
        out = decryptor.decrypt_resource(item)
    except decrypt.DecryptError as exc:
        gvk = objects.gvk_of(item)
        shown = f"{gvk.kind or '[noKind]'}.{gvk.version or '[noVer]'}.{gvk.group or '[noGrp]'}"
        name = objects.metadata(item).get("name", "")
        raise RenderError(
            conditions.Reason.BUILD_FAILED, f"decryption failed for '{shown}/{name}': {exc.message}"
        ) from exc
    return item if out is None else out


def overlay(spec: api.KustomizationSpec) -> build.Overlay:
    """The spec's fields kustomize-controller's generator writes into kustomization.yaml."""
    return build.Overlay(
        namespace=spec.target_namespace or "",
        name_prefix=spec.name_prefix or "",
        name_suffix=spec.name_suffix or "",
        patches=tuple(declare.dump(p) for p in spec.patches),
        images=tuple(declare.dump(i) for i in spec.images),
        components=spec.components,
        ignore_missing_components=spec.ignore_missing_components,
    )


def post_build(
    post: api.PostBuild | None,
    namespace: str,
    rendered: list[objects.RawObject],
    variables: Variables,
) -> list[objects.RawObject]:
    """postBuild: substitute variables (`substituteFrom` in order, then `substitute`) in each
    object but those annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`; only when
    a variable is set or `substituteStrategy: Always`; strict about unset variables."""
    if not post:
        return rendered
    values: dict[str, str] = {}
    for source in post.substitute_from:
        try:
            data = variables(source.kind, namespace, source.name)
        except errors.NotFound as exc:
            if source.optional:
                continue
            raise RenderError(
                conditions.Reason.BUILD_FAILED,
                f"substitute from '{source.kind}/{source.name}' error: {exc.message}",
            ) from exc
        values.update(data)
    values.update(post.substitute or {})
    values = {k: v.replace("\n", "") for k, v in values.items()}
    try:
        envsubst.check_names(values)
    except envsubst.SubstitutionError as exc:
        raise RenderError(conditions.Reason.BUILD_FAILED, str(exc)) from exc
    if not values and post.substitute_strategy != "Always":
        return rendered
    out = []
    for item in rendered:
        if objects.annotations_of(item).get(SUBSTITUTE_ANNOTATION) == "disabled":
            out.append(item)
            continue
        try:
            # Flux marshals each object with sigs.k8s.io/yaml (go-yaml v2's encoder), which
            # quotes a string only where go-yaml would read it as another type.
            text = envsubst.substitute(yamlsafe.dump(item), values)
            out.append(yamlsafe.load(text))
        except (envsubst.SubstitutionError, yaml.YAMLError) as exc:
            name = objects.metadata(item).get("name", "")
            raise RenderError(
                conditions.Reason.BUILD_FAILED, f"post build failed for '{name}': {exc}"
            ) from exc
    return out


def sops_encrypted(rendered: list[objects.RawObject]) -> refs.ObjectRef | None:
    """The first `v1` Secret with a top-level `sops` key and no `kustomize.toolkit.fluxcd.io/decrypt:
    disabled` annotation (kustomize-controller's IsEncryptedSecret and IsDecryptionDisabled)."""
    for item in rendered:
        if item.get("apiVersion") != "v1" or item.get("kind") != "Secret" or "sops" not in item:
            continue
        if str(objects.annotations_of(item).get(DECRYPT_ANNOTATION, "")).lower() == "disabled":
            continue
        return objects.ref_of(item)
    return None
