"""source-watcher's copy operations (`cp`-like), strategies and path patterns, over trees in memory."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.model import archives, artifactbuild
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import sourcewatcher as api

REPO = {
    "deploy/frontend/app.yaml": b"frontend",
    "deploy/frontend/sub/extra.yaml": b"extra",
    "deploy/frontend/README.md": b"docs",
    "config/values.yaml": b"replicas: 1\nimage: {tag: v1, pull: Always}\nports: [80, 443]\n",
    "envs/prod.yaml": b"image: {tag: v2}\nports: [8080]\n",
    "charts/podinfo-6.5.0.tgz": archives.pack({"podinfo/Chart.yaml": b"name: podinfo\n"}),
}


def ops(*raw: dict[str, Any]) -> tuple[api.CopyOperation, ...]:
    return tuple(declare.parse(api.CopyOperation, op, "copy") for op in raw)


def build(*raw: dict[str, Any]) -> dict[str, bytes]:
    staging = artifactbuild.Tree()
    artifactbuild.apply_copies(ops(*raw), {"repo": artifactbuild.Tree.of(REPO)}, staging)
    return staging.files


def failure(*raw: dict[str, Any]) -> str:
    with pytest.raises(artifactbuild.BuildError) as caught:
        build(*raw)
    return caught.value.message


@pytest.mark.parametrize(
    ("source", "dest", "paths"),
    [
        pytest.param(
            "@repo/deploy/frontend/**",
            "@artifact/",
            ["README.md", "app.yaml", "sub/extra.yaml"],
            id="dir-globstar-copies-the-contents",
        ),
        pytest.param(
            "@repo/deploy/frontend/",
            "@artifact/apps/",
            ["apps/frontend/README.md", "apps/frontend/app.yaml", "apps/frontend/sub/extra.yaml"],
            id="dir-copies-as-a-subdirectory",
        ),
        pytest.param("@repo/config/values.yaml", "@artifact/apps/", ["apps/values.yaml"], id="file-into-dir"),
        pytest.param("@repo/config/values.yaml", "@artifact/v.yaml", ["v.yaml"], id="file-renamed"),
        pytest.param(
            "@repo/deploy/frontend/*.yaml",
            "@artifact/x/",
            ["x/deploy/frontend/app.yaml"],
            id="glob-keeps-paths",
        ),
    ],
)
def test_copies_follow_cp_semantics(source: str, dest: str, paths: list[str]) -> None:
    assert sorted(build({"from": source, "to": dest})) == paths


def test_excludes_match_file_names_at_any_depth_and_paths_below_the_selection() -> None:
    built = build({"from": "@repo/deploy/frontend/**", "to": "@artifact/", "exclude": ["*.md", "sub/**"]})
    assert sorted(built) == ["app.yaml"]


def test_overwrite_lets_a_later_copy_replace_an_earlier_file() -> None:
    built = build(
        {"from": "@repo/config/values.yaml", "to": "@artifact/values.yaml"},
        {"from": "@repo/envs/prod.yaml", "to": "@artifact/values.yaml"},
    )
    assert built["values.yaml"] == REPO["envs/prod.yaml"]


def test_merge_merges_maps_deeply_and_replaces_lists_as_helm_merges_values() -> None:
    built = build(
        {"from": "@repo/config/values.yaml", "to": "@artifact/values.yaml"},
        {"from": "@repo/envs/prod.yaml", "to": "@artifact/values.yaml", "strategy": "Merge"},
    )
    assert built["values.yaml"].decode() == "image:\n  pull: Always\n  tag: v2\nports:\n- 8080\nreplicas: 1\n"


def test_extract_unpacks_the_tarballs_a_globstar_finds_and_skips_other_files() -> None:
    built = build({"from": "@repo/**", "to": "@artifact/", "strategy": "Extract"})
    assert built == {"podinfo/Chart.yaml": b"name: podinfo\n"}


@pytest.mark.parametrize(
    ("op", "message"),
    [
        pytest.param(
            {"from": "@repo/nothing/*.yaml", "to": "@artifact/"},
            "no files match pattern 'nothing/*.yaml' in source 'repo'",
            id="no-match",
        ),
        pytest.param(
            {"from": "@repo/missing.yaml", "to": "@artifact/"},
            "source 'missing.yaml' does not exist",
            id="missing",
        ),
        pytest.param(
            {"from": "@repo/config/values.yaml", "to": "@artifact/", "strategy": "Extract"},
            "extract strategy requires tarball file (.tar.gz or .tgz), got 'config/values.yaml'",
            id="extract-non-tarball",
        ),
        pytest.param({"from": "@other/x", "to": "@artifact/"}, "source alias 'other' not found", id="alias"),
    ],
)
def test_a_failed_copy_names_the_operation_and_why(op: dict[str, Any], message: str) -> None:
    assert failure(op) == (
        f"failed to apply copy operations: failed to apply copy operation from '{op['from']}' to "
        f"'{op['to']}': {message}"
    )


def test_the_content_hash_depends_on_names_and_contents_only() -> None:
    one = artifactbuild.content_hash("app", {"a.yaml": b"x", "b.yaml": b"y"})
    assert one == artifactbuild.content_hash("app", {"b.yaml": b"y", "a.yaml": b"x"})
    assert one != artifactbuild.content_hash("app", {"a.yaml": b"y", "b.yaml": b"x"})
    assert one != artifactbuild.content_hash("other", {"a.yaml": b"x", "b.yaml": b"y"})
    assert one.isdigit()


def spec(**fields: Any) -> api.ArtifactGeneratorSpec:
    return declare.parse(
        api.ArtifactGeneratorSpec,
        {"sources": [{"alias": "mono", "kind": "GitRepository", "name": "mono"}], **fields},
    )


def test_a_path_pattern_makes_one_artifact_per_matched_directory() -> None:
    tree = artifactbuild.Tree.of({"apps/Auth/envs/prod/a.yaml": b"", "apps/web/envs/dev/b.yaml": b""})
    wanted = spec(
        pathPattern="@mono/apps/{app}/envs/{env}",
        artifacts=[
            {"name": "{app}-{env}", "copy": [{"from": "@mono/apps/{app}/envs/{env}/**", "to": "@artifact/"}]}
        ],
    )
    found = artifactbuild.requests(wanted, {"mono": tree})
    assert [(r.artifact.name, r.artifact.copy[0].from_, r.labels) for r in found] == [
        ("auth-prod", "@mono/apps/Auth/envs/prod/**", {"app": "auth", "env": "prod"}),
        ("web-dev", "@mono/apps/web/envs/dev/**", {"app": "web", "env": "dev"}),
    ]


def test_directories_differing_only_in_case_collide_terminally() -> None:
    tree = artifactbuild.Tree.of({"apps/Auth/a.yaml": b"", "apps/auth/b.yaml": b""})
    wanted = spec(
        pathPattern="@mono/apps/{app}",
        artifacts=[{"name": "{app}", "copy": [{"from": "@mono/x", "to": "@artifact/"}]}],
    )
    with pytest.raises(artifactbuild.BuildError) as caught:
        artifactbuild.requests(wanted, {"mono": tree})
    assert caught.value.terminal
    assert caught.value.message == (
        'pathPattern "@mono/apps/{app}": directories "apps/Auth" and "apps/auth" both resolve to '
        'artifact name "auth"'
    )
