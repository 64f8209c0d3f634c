"""The disk cache of kustomize builds: a hit is exactly what kustomize would say, and any input
that kustomize reads, or the kustomize itself, changed is a miss.

A hit is proven with a kubectl whose kustomize always fails ("broken"), but which reports the same
version: a build it returns came from the cache; a miss fails with its error."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_sim import buildcache, process
from gitops_sim.apply import build

CM = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: a}\n"
FILES = {
    "apps/kustomization.yaml": b"resources: [cm.yaml, ../base]\ncomponents: [../components/team]\n",
    "apps/cm.yaml": CM,
    "base/kustomization.yaml": b"resources: [sa.yaml]\n",
    "base/sa.yaml": b"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}\n",
    "components/team/kustomization.yaml": (
        b"apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {team: a}\n"
    ),
    "copy/kustomization.yaml": b"resources: [cm.yaml, ../base]\ncomponents: [../components/team]\n",
    "copy/cm.yaml": CM.replace(b"mode: a", b"mode: copy"),
    "plain/deploy.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
    "README.md": b"not built\n",
}
BROKEN = "kustomize is not available on this machine"


def shown(objs: list[dict[str, Any]]) -> str:
    """The objects as a user sees them, in order, keys in kustomize's order."""
    return json.dumps(objs)


def fake_kubectl(folder: Path, *, version: str | None = None) -> str:
    """A kubectl that reports the wheel's version (or `version`) and whose kustomize fails."""
    real = build.kubectl_path()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kubectl"
    if version is None:
        answer = f'exec {real} "$@"'
    else:
        body = json.dumps({"clientVersion": {"gitVersion": version}, "kustomizeVersion": version})
        answer = f"echo '{body}'; exit 0"
    path.write_text(
        f'#!/bin/sh\nif [ "$1" = version ]; then {answer}; fi\necho "error: {BROKEN}" >&2\nexit 1\n'
    )
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def cache(tmp_path: Path) -> buildcache.Cache:
    return buildcache.Cache(tmp_path / "cache")


def warm(tmp_path: Path, cache: buildcache.Cache, files: dict[str, bytes], path: str, **kw: Any) -> str:
    """Build once with the real kustomize and the cache; the objects as shown."""
    return shown(build.Builder(tmp_path / "warm", cache=cache).build(files, path, label="apps", **kw))


def broken(tmp_path: Path, cache: buildcache.Cache, **kw: Any) -> build.Builder:
    return build.Builder(tmp_path / "broken", cache=cache, kubectl=fake_kubectl(tmp_path / "bin", **kw))


def test_the_same_inputs_give_from_the_cache_what_an_uncached_build_gives(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    overlay = build.Overlay(namespace="team-a", name_prefix="x-")
    uncached = shown(build.Builder(tmp_path / "plain").build(FILES, "./apps", label="apps", overlay=overlay))
    assert warm(tmp_path, cache, FILES, "./apps", overlay=overlay) == uncached
    again = broken(tmp_path, cache).build(FILES, "./apps", label="other", overlay=overlay)
    assert shown(again) == uncached


def test_a_folder_without_a_kustomization_is_cached_with_the_one_flux_generates(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    uncached = shown(build.Builder(tmp_path / "plain").build(FILES, "./plain", label="plain"))
    warm(tmp_path, cache, FILES, "./plain")
    assert shown(broken(tmp_path, cache).build(FILES, "./plain", label="plain")) == uncached


def changed(name: str, data: bytes) -> dict[str, bytes]:
    return {**FILES, name: data}


@pytest.mark.parametrize(
    ("files", "path", "overlay"),
    [
        pytest.param(
            changed("apps/cm.yaml", CM.replace(b"mode: a", b"mode: b")), "./apps", None, id="a-resource"
        ),
        pytest.param(changed("base/sa.yaml", FILES["base/sa.yaml"] + b"# x\n"), "./apps", None, id="a-base"),
        pytest.param(
            changed(
                "components/team/kustomization.yaml", FILES["components/team/kustomization.yaml"] + b"\n"
            ),
            "./apps",
            None,
            id="a-component",
        ),
        pytest.param(changed("README.md", b"changed\n"), "./apps", None, id="a-file-not-built"),
        pytest.param(changed("apps/new.yaml", CM), "./apps", None, id="a-file-added"),
        pytest.param(
            {k: v for k, v in FILES.items() if k != "README.md"}, "./apps", None, id="a-file-removed"
        ),
        pytest.param(FILES, "./base", None, id="the-path"),
        pytest.param(FILES, "./copy", None, id="a-path-with-the-same-kustomization"),
        pytest.param(FILES, "./apps", build.Overlay(namespace="team-b"), id="targetNamespace"),
        pytest.param(FILES, "./apps", build.Overlay(name_prefix="p-"), id="namePrefix"),
        pytest.param(FILES, "./apps", build.Overlay(name_suffix="-s"), id="nameSuffix"),
        pytest.param(
            FILES, "./apps", build.Overlay(images=({"name": "nginx", "newTag": "1.27"},)), id="images"
        ),
        pytest.param(
            FILES,
            "./apps",
            build.Overlay(
                patches=({"patch": "- {op: add, path: /data/x, value: y}", "target": {"kind": "ConfigMap"}},)
            ),
            id="patches",
        ),
        pytest.param(FILES, "./apps", build.Overlay(components=("../components/team",)), id="components"),
    ],
)
def test_any_input_changed_is_a_miss(
    tmp_path: Path,
    cache: buildcache.Cache,
    files: dict[str, bytes],
    path: str,
    overlay: build.Overlay | None,
) -> None:
    warm(tmp_path, cache, FILES, "./apps")
    with pytest.raises(build.BuildError, match=BROKEN):
        broken(tmp_path, cache).build(files, path, label="apps", overlay=overlay)


def test_another_kustomize_version_is_a_miss(tmp_path: Path, cache: buildcache.Cache) -> None:
    warm(tmp_path, cache, FILES, "./apps")
    with pytest.raises(build.BuildError, match=BROKEN):
        broken(tmp_path, cache, version="v9.9.9").build(FILES, "./apps", label="apps")


def test_a_failed_build_says_from_the_cache_exactly_what_kustomize_said(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    files = {"apps/kustomization.yaml": b"resources: [missing.yaml]\n"}
    with pytest.raises(build.BuildError) as uncached:
        build.Builder(tmp_path / "plain").build(files, "./apps", label="team-web")
    with pytest.raises(build.BuildError):
        build.Builder(tmp_path / "warm", cache=cache).build(files, "./apps", label="other")
    with pytest.raises(build.BuildError) as cached:
        broken(tmp_path, cache).build(files, "./apps", label="team-web")
    assert "/tmp/kustomization-team-web/apps" in str(uncached.value)
    assert str(cached.value) == str(uncached.value)


def test_a_build_stopped_by_its_time_limit_is_not_kept(tmp_path: Path, cache: buildcache.Cache) -> None:
    hasty = build.Builder(tmp_path / "hasty", cache=cache, limits=process.Limits(wall_s=0.001))
    with pytest.raises(build.BuildError, match="did not finish within"):
        hasty.build(FILES, "./apps", label="apps")
    with pytest.raises(build.BuildError, match=BROKEN):
        broken(tmp_path, cache).build(FILES, "./apps", label="apps")


def test_a_build_of_decrypted_sources_is_never_written_to_disk(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    build.Builder(tmp_path / "warm", cache=cache).build(FILES, "./apps", label="apps", persist=False)
    assert not (cache.root / build.CACHE_NAMESPACE).exists()
    with pytest.raises(build.BuildError, match=BROKEN):
        broken(tmp_path, cache).build(FILES, "./apps", label="apps")


# -- remote bases -------------------------------------------------------------------------------

GIT_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}
REMOTE = "https://github.com/acme/bases"
WITH_REMOTE = {"apps/kustomization.yaml": f"resources:\n- {REMOTE}//app?ref=main\n".encode()}


def commit_base(repo: Path, data: str) -> None:
    """The remote repository's `app/cm.yaml`, committed on main."""
    if not repo.exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=GIT_ENV, check=True)
    (repo / "app").mkdir(exist_ok=True)
    (repo / "app" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (repo / "app" / "cm.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: remote}}\ndata: {{mode: {data}}}\n"
    )
    subprocess.run(["git", "-C", str(repo), "add", "-A"], env=GIT_ENV, check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", data], env=GIT_ENV, check=True)


def remote_bases(repo: Path) -> build.RemoteBases:
    git = shutil.which("git")
    assert git is not None
    env = {
        **GIT_ENV,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{repo}.insteadOf",
        "GIT_CONFIG_VALUE_0": REMOTE,
    }
    return build.RemoteBases(git, env, {}, lambda url, ref: None)


def with_remote(builder: build.Builder, repo: Path) -> build.Builder:
    builder.remote_bases(remote_bases(repo))
    return builder


def test_a_build_that_cloned_a_remote_base_is_never_kept(tmp_path: Path, cache: buildcache.Cache) -> None:
    repo = tmp_path / "upstream"
    commit_base(repo, "first")
    first = with_remote(build.Builder(tmp_path / "one", cache=cache), repo).build(
        WITH_REMOTE, "./apps", label="a"
    )
    assert [o["data"] for o in first] == [{"mode": "first"}]
    commit_base(repo, "second")
    second = with_remote(build.Builder(tmp_path / "two", cache=cache), repo).build(
        WITH_REMOTE, "./apps", label="a"
    )
    assert [o["data"] for o in second] == [{"mode": "second"}]
    with pytest.raises(build.BuildError, match=BROKEN):
        with_remote(broken(tmp_path, cache), repo).build(WITH_REMOTE, "./apps", label="a")


def test_with_remote_bases_a_build_that_cloned_nothing_is_kept(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    repo = tmp_path / "upstream"
    commit_base(repo, "first")
    built = with_remote(build.Builder(tmp_path / "one", cache=cache), repo).build(FILES, "./apps", label="a")
    assert shown(with_remote(broken(tmp_path, cache), repo).build(FILES, "./apps", label="a")) == shown(built)


def test_a_remote_base_that_failed_without_a_mirror_is_built_again_with_one(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    repo = tmp_path / "upstream"
    commit_base(repo, "first")
    with pytest.raises(build.BuildError):
        build.Builder(tmp_path / "offline", cache=cache).build(WITH_REMOTE, "./apps", label="a")
    built = with_remote(build.Builder(tmp_path / "one", cache=cache), repo).build(
        WITH_REMOTE, "./apps", label="a"
    )
    assert [o["data"] for o in built] == [{"mode": "first"}]


# -- builds ahead ------------------------------------------------------------------------------

SIBLINGS = [
    ("./copy", build.Overlay()),
    ("./plain", build.Overlay(namespace="team-b")),
    ("./base", build.Overlay()),
]


def test_a_miss_builds_the_siblings_ahead_into_the_cache_as_kustomize_builds_them(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    builder = build.Builder(tmp_path / "ahead", cache=cache)
    builder.siblings = lambda digest: SIBLINGS
    builder.build(FILES, "./apps", label="apps", content_digest="sha256:files")
    for path, overlay in SIBLINGS:  # a kustomize that always fails: each of them comes from the cache
        ahead = broken(tmp_path, cache).build(
            FILES, path, label="x", overlay=overlay, content_digest="sha256:files"
        )
        plain = build.Builder(tmp_path / "plain").build(FILES, path, label="x", overlay=overlay)
        assert shown(ahead) == shown(plain)
    assert not (tmp_path / "ahead" / "ahead").exists()  # the workers' trees are gone


def test_the_siblings_are_asked_for_the_content_being_built_and_built_ahead_once(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    asked: list[str] = []

    def siblings(digest: str) -> list[tuple[str, build.Overlay]]:
        asked.append(digest)
        return SIBLINGS

    builder = build.Builder(tmp_path / "ahead", cache=cache)
    builder.siblings = siblings
    builder.build(FILES, "./apps", label="apps", content_digest="sha256:files")
    builder.build(
        FILES, "./apps", label="apps", overlay=build.Overlay(name_prefix="p-"), content_digest="sha256:files"
    )
    assert asked == ["sha256:files", "sha256:files"]
    assert cache.counts.writes == 2  # the two builds here; the siblings went in through the workers' caches


def test_a_sibling_that_fails_to_build_fails_nothing_here(tmp_path: Path, cache: buildcache.Cache) -> None:
    builder = build.Builder(tmp_path / "ahead", cache=cache)
    builder.siblings = lambda digest: [("./missing", build.Overlay()), ("./README.md", build.Overlay())]
    objs = builder.build(FILES, "./apps", label="apps", content_digest="sha256:files")
    assert [o["kind"] for o in objs] == ["ServiceAccount", "ConfigMap"]


def test_without_a_disk_cache_nothing_is_built_ahead(tmp_path: Path) -> None:
    builder = build.Builder(tmp_path / "plain")
    builder.siblings = lambda digest: pytest.fail("asked for siblings without a cache")
    builder.build(FILES, "./apps", label="apps", content_digest="sha256:files")
