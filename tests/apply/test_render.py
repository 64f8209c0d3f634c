"""The render pipeline as a library: a Kustomization's objects from an artifact, with no cluster."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from gitops_sim.apply import build, render
from gitops_sim.cluster import errors
from gitops_sim.model import artifacts
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import kustomize as api

ARTIFACT = artifacts.Artifact(
    path="gitrepository/flux-system/apps/a.tar.gz",
    url="http://source-controller/gitrepository/flux-system/apps/a.tar.gz",
    revision="main@sha1:0123456789abcdef0123456789abcdef01234567",
    digest="sha256:" + "a" * 64,
    last_update_time="2025-01-01T00:00:00Z",
    size=1,
)
FILES = {
    "apps/kustomization.yaml": b"resources: [cm.yaml]\n",
    "apps/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: '${mode}'}\n",
}


def spec(**fields: object) -> api.KustomizationSpec:
    raw = {
        "interval": "10m",
        "prune": True,
        "path": "./apps",
        "sourceRef": {"kind": "GitRepository", "name": "apps"},
        **fields,
    }
    return declare.parse(api.KustomizationSpec, raw)


def stored(files: Mapping[str, bytes]) -> render.ArtifactFiles:
    def files_of(artifact: artifacts.Artifact) -> Mapping[str, bytes]:
        return files

    return files_of


def variables(data: dict[tuple[str, str, str], dict[str, str]]) -> render.Variables:
    def read(kind: str, namespace: str, name: str) -> Mapping[str, str]:
        if (kind, namespace, name) not in data:
            raise errors.NotFound(f'{kind.lower()}s "{name}" not found')
        return data[(kind, namespace, name)]

    return read


def test_a_kustomization_renders_with_substitution_common_metadata_and_owner_labels_without_a_cluster(
    tmp_path: Path,
) -> None:
    rendered = render.render(
        spec(
            postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]},
            commonMetadata={"labels": {"team": "a"}, "annotations": {"owner": "ops"}},
        ),
        "apps",
        "flux-system",
        ARTIFACT,
        files_of=stored(FILES),
        variables=variables({("ConfigMap", "flux-system", "vars"): {"mode": "fast"}}),
        builder=build.Builder(tmp_path),
    )
    assert rendered.manifests == [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "settings",
                "labels": {
                    "team": "a",
                    "kustomize.toolkit.fluxcd.io/name": "apps",
                    "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
                },
                "annotations": {"owner": "ops"},
            },
            "data": {"mode": "fast"},
        }
    ]
    assert rendered.encrypted is None


def test_a_missing_substitution_source_is_build_failed_with_fluxs_message(tmp_path: Path) -> None:
    with pytest.raises(render.RenderError) as caught:
        render.render(
            spec(postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}),
            "apps",
            "flux-system",
            ARTIFACT,
            files_of=stored(FILES),
            variables=variables({}),
            builder=build.Builder(tmp_path),
        )
    assert (caught.value.reason, caught.value.message) == (
        "BuildFailed",
        "substitute from 'ConfigMap/vars' error: configmaps \"vars\" not found",
    )


def test_a_kustomize_failure_is_build_failed_with_kustomizes_own_words(tmp_path: Path) -> None:
    broken = {"apps/kustomization.yaml": b"resources: [missing.yaml]\n"}
    with pytest.raises(render.RenderError) as caught:
        render.render(
            spec(),
            "apps",
            "flux-system",
            ARTIFACT,
            files_of=stored(broken),
            variables=variables({}),
            builder=build.Builder(tmp_path),
        )
    assert (caught.value.reason, caught.value.emit, caught.value.requeue_after) == ("BuildFailed", True, None)
    assert caught.value.message == BUILD_FAILED


def test_an_artifact_gone_from_storage_is_artifact_failed_retried_in_30s_without_a_warning(
    tmp_path: Path,
) -> None:
    def gone(artifact: artifacts.Artifact) -> Mapping[str, bytes]:
        raise render.FetchError(f"artifact not found: {artifact.url}", missing=True)

    with pytest.raises(render.RenderError) as caught:
        render.render(
            spec(),
            "apps",
            "flux-system",
            ARTIFACT,
            files_of=gone,
            variables=variables({}),
            builder=build.Builder(tmp_path),
        )
    assert (caught.value.reason, caught.value.message, caught.value.requeue_after, caught.value.emit) == (
        "ArtifactFailed",
        "Source is not ready, artifact not found, retrying in 30s",
        30_000,
        False,
    )


def test_the_owner_labels_name_the_kustomization() -> None:
    assert render.owner_labels("apps", "flux-system") == {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }


def test_the_overlay_comes_from_the_typed_spec() -> None:
    overlay = render.overlay(
        spec(targetNamespace="team-a", namePrefix="x-", images=[{"name": "app", "newTag": "2"}])
    )
    assert overlay == build.Overlay(
        namespace="team-a", name_prefix="x-", images=({"name": "app", "newTag": "2"},)
    )


MISSING = "/tmp/kustomization-flux-system-apps/apps/missing.yaml"
BUILD_FAILED = (
    "kustomize build failed: accumulating resources: accumulation err='accumulating resources from "
    f"'missing.yaml': evalsymlink failure on '{MISSING}' : lstat {MISSING}: no such file or directory': "
    f"must build at directory: not a valid directory: evalsymlink failure on '{MISSING}' : "
    f"lstat {MISSING}: no such file or directory"
)
