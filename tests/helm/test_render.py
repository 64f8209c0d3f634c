"""Rendering a release: Helm's split, hook order and defaults, errors, post-renderers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_sim.helm import render
from gitops_sim.model.fluxapi import declare
from gitops_sim.model.fluxapi import helm as helmapi

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: '4.5'\n",
    "values.yaml": "replicas: 1\n",
    "templates/app.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "spec:\n  replicas: {{ .Values.replicas }}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
        'data:\n  revision: "{{ .Release.Revision }}"\n  upgrade: "{{ .Release.IsUpgrade }}"\n'
    ),
    "templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n",
    "templates/hooks.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
        '    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: "5"\n'
        "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: seed\n  annotations:\n"
        '    helm.sh/hook: pre-install\n    helm.sh/hook-weight: "-1"\n'
        "    helm.sh/hook-delete-policy: hook-succeeded, hook-failed\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: unknown\n  annotations:\n"
        "    helm.sh/hook: pre-nothing\n"
    ),
    "templates/tests/test.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n"
        "    helm.sh/hook: test\nspec:\n  containers: []\n"
    ),
    "templates/NOTES.txt": "Installed {{ .Release.Name }}.\n",
    "crds/widget.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata:\n  name: widgets.example.com\n"
    ),
}

RELEASE = render.ReleaseInfo(name="web", namespace="apps", revision=1)
POST = render.PostRender(owner_name="web-hr", owner_namespace="flux-system")
ORIGIN = {"helm.toolkit.fluxcd.io/name": "web-hr", "helm.toolkit.fluxcd.io/namespace": "flux-system"}


def write_chart(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / "demo" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "demo" / name).write_text(text)
    return root / "demo"


@pytest.fixture
def renderer(tmp_path: Path) -> render.Renderer:
    return render.Renderer(tmp_path / "scratch")


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return write_chart(tmp_path, CHART)


def spec_post(spec: dict[str, Any]) -> render.PostRender:
    body = {
        "interval": "5m",
        "chart": {"spec": {"chart": "demo", "sourceRef": {"kind": "HelmRepository", "name": "r"}}},
    }
    parsed = declare.parse(helmapi.HelmReleaseSpec, body | spec)
    return render.PostRender.from_spec(parsed, name="web-hr", namespace="flux-system")


def kinds_and_names(objects: tuple[dict[str, Any], ...]) -> list[tuple[str, str]]:
    return [(o["kind"], o["metadata"]["name"]) for o in objects]


def test_release_objects_come_in_helms_install_order(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, POST)
    assert kinds_and_names(out.objects) == [
        ("ServiceAccount", "web"),
        ("ConfigMap", "web-cm"),
        ("Deployment", "web"),
    ]


def test_values_are_merged_over_the_charts_defaults(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {"replicas": 3}, RELEASE, POST)
    assert out.objects[2]["spec"] == {"replicas": 3}


@pytest.mark.parametrize(
    ("release", "data"),
    [
        pytest.param(RELEASE, {"revision": "1", "upgrade": "false"}, id="install"),
        pytest.param(
            render.ReleaseInfo(name="web", namespace="apps", revision=4, is_upgrade=True),
            {"revision": "4", "upgrade": "true"},
            id="upgrade",
        ),
    ],
)
def test_the_release_values_reach_the_templates(
    renderer: render.Renderer, chart: Path, release: render.ReleaseInfo, data: dict[str, str]
) -> None:
    assert renderer.render(chart, {}, release, POST).objects[1]["data"] == data


def test_the_stored_manifest_names_each_source_file(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, POST)
    assert out.manifest.split("\n---\n")[0].split("\n")[:2] == ["---", "# Source: demo/templates/sa.yaml"]
    assert [line for line in out.manifest.split("\n") if line.startswith("# Source")] == [
        "# Source: demo/templates/sa.yaml",
        "# Source: demo/templates/app.yaml",
        "# Source: demo/templates/app.yaml",
    ]
    assert "postrender-filename" not in out.manifest


def test_hooks_are_split_out_and_unknown_hooks_dropped(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, POST)
    assert [(h.kind, h.name, h.events) for h in out.hooks] == [
        ("Pod", "web-test", ("test",)),
        ("Job", "migrate", ("pre-install", "pre-upgrade")),
        ("Job", "seed", ("pre-install",)),
    ]


def test_an_event_runs_its_hooks_by_weight_then_name(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, POST)
    assert [h.name for h in out.for_event("pre-install")] == ["seed", "migrate"]
    assert [h.name for h in out.for_event("test")] == ["web-test"]


def test_hook_weights_and_delete_policies_are_read_with_helms_defaults(
    renderer: render.Renderer, chart: Path
) -> None:
    hooks = {h.name: h for h in renderer.render(chart, {}, RELEASE, POST).hooks}
    assert (hooks["migrate"].weight, hooks["migrate"].delete_policies) == (5, ("before-hook-creation",))
    assert (hooks["seed"].weight, hooks["seed"].delete_policies) == (-1, ("hook-succeeded", "hook-failed"))
    assert (hooks["web-test"].weight, hooks["web-test"].path) == (0, "demo/templates/tests/test.yaml")


def test_notes_and_crds_are_kept_apart(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, POST)
    assert out.notes == "Installed web.\n"
    assert [(c.filename, [o["metadata"]["name"] for o in c.objects]) for c in out.crds] == [
        ("demo/crds/widget.yaml", ["widgets.example.com"])
    ]
    assert "CustomResourceDefinition" not in out.manifest


def test_a_packaged_chart_renders_like_its_folder(
    renderer: render.Renderer, chart: Path, tmp_path: Path
) -> None:
    import helm_python as helm

    archive = Path(helm.package(str(chart), destination=str(tmp_path))).read_bytes()
    assert renderer.render(archive, {}, RELEASE, POST) == renderer.render(chart, {}, RELEASE, POST)


def test_a_template_error_carries_helms_message(renderer: render.Renderer, tmp_path: Path) -> None:
    chart = write_chart(
        tmp_path,
        {
            "Chart.yaml": CHART["Chart.yaml"],
            "templates/t.yaml": '{{ required "image.tag is required" .Values.image }}',
        },
    )
    with pytest.raises(render.RenderError) as caught:
        renderer.render(chart, {}, RELEASE, POST)
    assert str(caught.value) == "execution error at (demo/templates/t.yaml:1:3): image.tag is required"


def test_origin_labels_are_set_on_every_object_and_hook(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, POST)
    assert all(o["metadata"]["labels"] == ORIGIN for o in out.objects)
    assert all(h.object["metadata"]["labels"] == ORIGIN for h in out.hooks)


def test_nohooks_leaves_hooks_as_rendered(renderer: render.Renderer, chart: Path) -> None:
    out = renderer.render(chart, {}, RELEASE, spec_post({"postRenderStrategy": "nohooks"}))
    assert all("labels" not in h.object["metadata"] for h in out.hooks)
    assert all(o["metadata"]["labels"] == ORIGIN for o in out.objects)


def test_a_kustomize_post_renderer_patches_the_release(renderer: render.Renderer, chart: Path) -> None:
    post = spec_post(
        {
            "postRenderers": [
                {
                    "kustomize": {
                        "patches": [
                            {
                                "target": {"kind": "Deployment"},
                                "patch": "- op: replace\n  path: /spec/replicas\n  value: 7\n",
                            }
                        ]
                    }
                }
            ]
        }
    )
    out = renderer.render(chart, {}, RELEASE, post)
    assert out.objects[2]["spec"] == {"replicas": 7}
    assert "replicas: 7" in out.manifest


def test_common_metadata_is_set_and_origin_labels_win(renderer: render.Renderer, chart: Path) -> None:
    post = spec_post(
        {
            "commonMetadata": {
                "labels": {"team": "web", "helm.toolkit.fluxcd.io/name": "other"},
                "annotations": {"owner": "ops"},
            }
        }
    )
    deployment = renderer.render(chart, {}, RELEASE, post).objects[2]
    assert deployment["metadata"]["labels"] == ORIGIN | {"team": "web"}
    assert deployment["metadata"]["annotations"] == {"owner": "ops"}


def test_a_failing_post_renderer_is_wrapped_as_helm_wraps_it(renderer: render.Renderer, chart: Path) -> None:
    post = spec_post({"postRenderers": [{"kustomize": {"patches": [{"patch": "not: [a patch"}]}}]})
    with pytest.raises(render.RenderError) as caught:
        renderer.render(chart, {}, RELEASE, post)
    assert str(caught.value) == (
        "error while running post render on files: "
        "trouble configuring builtin PatchTransformer with config: `\n"
        "patch: 'not: [a patch'\n`: unable to parse SM or JSON patch from [patch: \"not: [a patch\"]"
    )


@pytest.mark.parametrize(
    "post",
    [
        POST,
        render.PostRender(
            owner_name="web-hr",
            owner_namespace="flux-system",
            common_labels=(("team", "web"), ("helm.toolkit.fluxcd.io/name", "mine")),
            common_annotations=(("owner", "yes"),),
        ),
        render.PostRender(owner_name="web-hr", owner_namespace="flux-system", strategy="separate"),
    ],
    ids=["origin-labels", "common-metadata", "separate"],
)
@pytest.mark.parametrize("chart_name", ["demo", "helm-create"])
def test_labels_set_in_process_are_byte_for_byte_kustomizes(
    tmp_path: Path, chart: Path, post: render.PostRender, chart_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes: list[bool] = []
    real = render.label_in_process

    def spy(files: Any, post: render.PostRender) -> dict[str, str] | None:
        result = real(files, post)
        outcomes.append(result is not None)
        return result

    monkeypatch.setattr(render, "label_in_process", spy)
    if chart_name == "helm-create":
        import helm_python as helm

        (tmp_path / "created").mkdir()
        helm.Chart.create("podinfo", tmp_path / "created")
        source = tmp_path / "created" / "podinfo"
    else:
        source = chart
    values = {"replicas": 3, "ingress": {"enabled": True}, "autoscaling": {"enabled": True}}
    fast = render.Renderer(tmp_path / "fast").render(source, values, RELEASE, post)
    slow = render.Renderer(tmp_path / "slow", in_process=False).render(source, values, RELEASE, post)
    assert outcomes and all(outcomes), "the in-process path was taken"
    assert fast.manifest == slow.manifest
    assert [h.manifest for h in fast.hooks] == [h.manifest for h in slow.hooks]


def test_a_document_only_kustomize_may_judge_goes_through_kustomize(
    tmp_path: Path, renderer: render.Renderer
) -> None:
    twice = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n"
    files = {"templates/a.yaml": twice + "---\n" + twice}
    assert render.label_in_process(files, POST) is None
    chart = write_chart(tmp_path, {"Chart.yaml": CHART["Chart.yaml"], **files})
    with pytest.raises(render.RenderError, match="error while running post render on files: "):
        renderer.render(chart, {}, RELEASE, POST)
