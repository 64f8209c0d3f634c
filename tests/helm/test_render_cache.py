"""The disk cache of Helm renders: a render from the cache is the render Helm would make, and every
input Helm or the post-render kustomize reads is part of what names it."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from gitops_sim import buildcache
from gitops_sim.engine import simulation
from gitops_sim.helm import render
from gitops_sim.model import refs
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import helm as helmapi
from gitops_sim.testing import ready
from tests.builders import HELM_URL, helmrepository

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.2.3\n",
    "values.yaml": "replicas: 1\n",
    "templates/app.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "  namespace: {{ .Release.Namespace }}\nspec:\n  replicas: {{ .Values.replicas }}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
        'data:\n  revision: "{{ .Release.Revision }}"\n  upgrade: "{{ .Release.IsUpgrade }}"\n'
    ),
    "templates/hook.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
        "    helm.sh/hook: pre-install\n"
    ),
    "templates/NOTES.txt": "Installed {{ .Release.Name }}.\n",
    "crds/widget.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: widgets.example.com\n"
    ),
}
RELEASE = render.ReleaseInfo(name="web", namespace="apps", revision=1)
POST = render.PostRender(owner_name="web-hr", owner_namespace="flux-system")


def package(files: dict[str, str]) -> bytes:
    """The chart as a packaged .tgz (what a HelmChart artifact holds)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"demo/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def spec_post(spec: dict[str, Any]) -> render.PostRender:
    body = {
        "interval": "5m",
        "chart": {"spec": {"chart": "demo", "sourceRef": {"kind": "HelmRepository", "name": "r"}}},
    }
    parsed = declare.parse(helmapi.HelmReleaseSpec, body | spec)
    return render.PostRender.from_spec(parsed, name="web-hr", namespace="flux-system")


PATCHED = spec_post(
    {
        "postRenderers": [
            {
                "kustomize": {
                    "patches": [
                        {
                            "patch": "- {op: add, path: /data/patched, value: 'yes'}",
                            "target": {"kind": "ConfigMap"},
                        }
                    ]
                }
            }
        ]
    }
)


@pytest.fixture
def cache(tmp_path: Path) -> buildcache.Cache:
    return buildcache.Cache(tmp_path / "cache")


def uncached(tmp_path: Path, *args: Any) -> render.Rendered:
    return render.Renderer(tmp_path / "plain").render(*args)


def cached(tmp_path: Path, cache: buildcache.Cache, *args: Any, **kw: Any) -> render.Rendered:
    """A render by a renderer of its own (nothing kept in memory) with the disk cache."""
    return render.Renderer(
        tmp_path / f"cached-{cache.counts.hits + cache.counts.misses}", cache=cache
    ).render(*args, **kw)


@pytest.mark.parametrize("post", [pytest.param(POST, id="labels"), pytest.param(PATCHED, id="kustomize")])
def test_the_same_inputs_give_from_the_cache_what_helm_gives(
    tmp_path: Path, cache: buildcache.Cache, post: render.PostRender
) -> None:
    chart = package(CHART)
    fresh = uncached(tmp_path, chart, {"replicas": 2}, RELEASE, post)
    assert cached(tmp_path, cache, chart, {"replicas": 2}, RELEASE, post) == fresh
    hits = cache.counts.hits
    assert cached(tmp_path, cache, chart, {"replicas": 2}, RELEASE, post) == fresh
    assert cache.counts.hits > hits
    assert fresh.notes == "Installed web.\n" and [c.filename for c in fresh.crds] == ["demo/crds/widget.yaml"]


ALTERED = {**CHART, "values.yaml": "replicas: 3\n"}


@pytest.mark.parametrize(
    ("chart", "values", "release", "post"),
    [
        pytest.param(ALTERED, {}, RELEASE, POST, id="a-chart-file"),
        pytest.param(CHART, {"replicas": 5}, RELEASE, POST, id="a-value"),
        pytest.param(CHART, {}, render.ReleaseInfo("api", "apps", 1), POST, id="the-release-name"),
        pytest.param(CHART, {}, render.ReleaseInfo("web", "other", 1), POST, id="the-release-namespace"),
        pytest.param(CHART, {}, render.ReleaseInfo("web", "apps", 2, True), POST, id="revision-and-upgrade"),
        pytest.param(CHART, {}, render.ReleaseInfo("web", "apps", 1, True), POST, id="upgrade"),
        pytest.param(
            CHART,
            {},
            RELEASE,
            render.PostRender("web-hr", "flux-system", common_labels=(("a", "b"),)),
            id="labels",
        ),
        pytest.param(CHART, {}, RELEASE, render.PostRender("other", "flux-system"), id="the-owner"),
        pytest.param(CHART, {}, RELEASE, PATCHED, id="a-kustomize-patch"),
    ],
)
def test_any_input_changed_renders_what_helm_renders_for_it(
    tmp_path: Path,
    cache: buildcache.Cache,
    chart: dict[str, str],
    values: dict[str, Any],
    release: render.ReleaseInfo,
    post: render.PostRender,
) -> None:
    cached(tmp_path, cache, package(CHART), {}, RELEASE, POST)
    fresh = uncached(tmp_path, package(chart), values, release, post)
    assert cached(tmp_path, cache, package(chart), values, release, post) == fresh


def test_a_changed_kustomize_patch_is_a_miss(tmp_path: Path, cache: buildcache.Cache) -> None:
    chart = package(CHART)
    cached(tmp_path, cache, chart, {}, RELEASE, PATCHED)
    other = spec_post(
        {
            "postRenderers": [
                {
                    "kustomize": {
                        "patches": [
                            {
                                "patch": "- {op: add, path: /data/patched, value: 'no'}",
                                "target": {"kind": "ConfigMap"},
                            }
                        ]
                    }
                }
            ]
        }
    )
    out = cached(tmp_path, cache, chart, {}, RELEASE, other)
    assert [m.object["data"]["patched"] for m in out.manifests if m.object["kind"] == "ConfigMap"] == ["no"]


def test_a_template_error_says_from_the_cache_exactly_what_helm_said(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    chart = package({**CHART, "templates/fail.yaml": '{{ fail "replicas must be set" }}\n'})
    with pytest.raises(render.RenderError) as fresh:
        uncached(tmp_path, chart, {}, RELEASE, POST)
    for _ in range(2):
        with pytest.raises(render.RenderError) as again:
            cached(tmp_path, cache, chart, {}, RELEASE, POST)
        assert str(again.value) == str(fresh.value)
    assert "replicas must be set" in str(fresh.value) and cache.counts.hits == 1


def test_a_post_render_error_says_from_the_cache_exactly_what_kustomize_said(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    post = spec_post(
        {
            "postRenderers": [
                {
                    "kustomize": {
                        "patches": [
                            {
                                "patch": "- {op: replace, path: /spec/none/x, value: 1}",
                                "target": {"kind": "Deployment"},
                            }
                        ]
                    }
                }
            ]
        }
    )
    chart = package(CHART)
    with pytest.raises(render.RenderError) as fresh:
        uncached(tmp_path, chart, {}, RELEASE, post)
    for _ in range(2):
        with pytest.raises(render.RenderError) as again:
            cached(tmp_path, cache, chart, {}, RELEASE, post)
        assert str(again.value) == str(fresh.value)
    assert str(fresh.value).startswith("error while running post render on files: ")


@pytest.mark.parametrize(
    ("template", "values"),
    [
        pytest.param("{{ randAlphaNum 12 }}", {}, id="in-a-template"),
        pytest.param(
            "{{ tpl .Values.token . }}", {"token": "{{ randAlphaNum 12 }}"}, id="in-values-through-tpl"
        ),
    ],
)
def test_a_chart_that_draws_random_values_renders_anew_each_time(
    tmp_path: Path, cache: buildcache.Cache, template: str, values: dict[str, str]
) -> None:
    chart = package(
        {
            **CHART,
            "templates/secret.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n"
                f"stringData:\n  token: '{template}'\n"
            ),
        }
    )
    tokens = [
        next(m.object["stringData"]["token"] for m in out.manifests if m.object["kind"] == "Secret")
        for out in (cached(tmp_path, cache, chart, values, RELEASE, POST) for _ in range(2))
    ]
    assert tokens[0] != tokens[1]
    assert not (cache.root / render.CACHE_NAMESPACE).exists()


def test_a_render_whose_values_hold_a_secret_is_never_written_to_disk(
    tmp_path: Path, cache: buildcache.Cache
) -> None:
    cached(tmp_path, cache, package(CHART), {"replicas": 2}, RELEASE, PATCHED, persist=False)
    assert cache.counts.writes == 0 and not cache.root.exists()


def test_a_chart_folder_is_never_cached(tmp_path: Path, cache: buildcache.Cache) -> None:
    folder = tmp_path / "chart"
    for name, text in CHART.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    cached(tmp_path, cache, folder, {}, RELEASE, POST)
    assert not (cache.root / render.CACHE_NAMESPACE).exists()


def test_the_engine_is_named_by_helms_version_and_the_sdks(tmp_path: Path) -> None:
    identity = render.helm_identity()
    assert identity is not None
    assert helm.helm_sdk_version() in identity and helm.helm_c_version() in identity
    assert str(Path(helm.library_path).name) in identity


# -- the HelmRelease controller ------------------------------------------------------------------

HR = refs.ObjectRef("helm.toolkit.fluxcd.io", "HelmRelease", "apps", "web")


def release_with_values_from(tmp_path: Path, kind: str) -> simulation.Simulation:
    """A simulation with a disk cache that installs chart demo with values from a `kind`."""
    sim = simulation.Simulation(simulation.Settings(tmp_path / "sim", cache_dir=tmp_path / "cache"))
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    sim.charts.publish(
        HELM_URL,
        "demo",
        "1.2.3",
        {
            "Chart.yaml": CHART["Chart.yaml"],
            "templates/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
                'data:\n  replicas: "{{ .Values.replicas }}"\n'
            ),
        },
    )
    data = {"values.yaml": "replicas: 2\n"}
    sim.cluster.apply(
        {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": "web-values", "namespace": "apps"},
            ("stringData" if kind == "Secret" else "data"): data,
        },
        field_manager="kubectl",
    )
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {
                "interval": "10m",
                "chart": {
                    "spec": {
                        "chart": "demo",
                        "sourceRef": {"kind": "HelmRepository", "name": "stable", "namespace": "flux-system"},
                    }
                },
                "valuesFrom": [{"kind": kind, "name": "web-values"}],
            },
        },
        field_manager="kubectl",
    )
    sim.advance(60_000)
    return sim


@pytest.mark.parametrize(("kind", "kept"), [("ConfigMap", True), ("Secret", False)])
def test_a_release_with_values_from_a_secret_never_reaches_the_disk_cache(
    tmp_path: Path, kind: str, kept: bool
) -> None:
    sim = release_with_values_from(tmp_path, kind)
    try:
        assert ready(sim.cluster.get(HR))["status"] == "True"
        assert (tmp_path / "cache" / render.CACHE_NAMESPACE).exists() is kept
    finally:
        sim.close()
