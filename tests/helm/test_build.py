"""`gitops-sim flux build/diff helmrelease`: a HelmRelease rendered from a repository folder, no cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_sim import cli
from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.model import refs

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.2.3\n",
    "values.yaml": "replicas: 1\ngreeting: hello\n",
    "templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n"
    ),
    "templates/hook.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
        '    helm.sh/hook: pre-install\n    helm.sh/hook-weight: "5"\n'
    ),
}

HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 5m
  chart:
    spec:
      chart: ./charts/demo
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    replicas: 3
  valuesFrom:
    - kind: ConfigMap
      name: web-values
"""

VALUES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-values
  namespace: apps
data:
  values.yaml: |
    greeting: bonjour
"""

HELM_METADATA = {
    "labels": {
        "helm.toolkit.fluxcd.io/name": "web",
        "helm.toolkit.fluxcd.io/namespace": "apps",
        "app.kubernetes.io/managed-by": "Helm",
    },
    "annotations": {"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "apps"},
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write(tmp_path / "repo", {f"charts/demo/{k}": v for k, v in CHART.items()})
    (root / "README.md").write_text("# not YAML\n")
    (root / "broken.yaml").write_text("key: [unclosed\n")
    return write(root, {"apps/web.yaml": HELMRELEASE + "---\n" + VALUES})


def configmap(greeting: str, replicas: str = "3") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web-config", "namespace": "apps", **HELM_METADATA},
        "data": {"greeting": greeting, "replicas": replicas},
    }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_build_prints_the_objects_the_helmrelease_would_apply(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "flux", "build", "helmrelease", "web", "--path", str(repo))
    assert (code, err) == (0, "")
    assert out.startswith("---\n")
    assert list(yaml.safe_load_all(out)) == [configmap("bonjour")]


def test_build_with_hooks_prints_them_after_the_objects(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "flux", "build", "hr", "web", "--path", str(repo), "--hooks")
    assert code == 0
    assert "---\n# Hook: pre-install (weight 5) from demo/templates/hook.yaml\n" in out
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["ConfigMap", "Job"]
    assert list(yaml.safe_load_all(out))[1]["metadata"]["namespace"] == "apps"


def test_build_renders_the_chart_given_with_chart_instead(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = write(
        tmp_path / "other",
        {
            "Chart.yaml": "apiVersion: v2\nname: other\nversion: 0.1.0\n",
            "templates/sa.yaml": (
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.greeting }}\n"
            ),
        },
    )
    code, out, _ = run(
        capsys, "flux", "build", "helmrelease", "web", "--path", str(repo), "--chart", str(other)
    )
    assert code == 0
    assert list(yaml.safe_load_all(out)) == [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "bonjour", "namespace": "apps", **HELM_METADATA},
        }
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            ("./charts/demo", "./charts/missing"),
            "error apps/web.yaml: HelmRelease 'apps/web': chart path './charts/missing' of GitRepository "
            "'flux-system/flux-system' is not a chart folder under {repo} (taken as that repository's "
            "root): pass --chart with the chart's folder or .tgz\n",
            id="git-chart-path-missing",
        ),
        pytest.param(
            (
                "chart: ./charts/demo\n      sourceRef:\n        kind: GitRepository\n"
                "        name: flux-system",
                "chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo",
            ),
            "error apps/web.yaml: HelmRelease 'apps/web': chart 'podinfo' comes from HelmRepository "
            "'flux-system/podinfo', which is not fetched (nothing reaches the internet): pass --chart "
            "with the chart's folder or .tgz\n",
            id="helm-repository",
        ),
        pytest.param(
            ("      name: web-values", "      name: absent"),
            "error apps/web.yaml: HelmRelease 'apps/web': could not resolve ConfigMap chart values "
            "reference 'apps/absent' with key 'values.yaml': configmaps \"absent\" not found\n",
            id="missing-values-from",
        ),
    ],
)
def test_build_fails_with_the_file_and_the_problem(
    repo: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], message: str
) -> None:
    hr = repo / "apps/web.yaml"
    hr.write_text(hr.read_text().replace(*edit))
    code, out, err = run(capsys, "flux", "build", "helmrelease", "web", "--path", str(repo))
    assert (code, out) == (2, "")
    assert err == message.format(repo=repo)


def test_build_merges_the_chart_values_files_under_the_helmrelease_values(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, {"charts/demo/values-prod.yaml": "greeting: ahoy\nreplicas: 9\n"})
    hr = repo / "apps/web.yaml"
    hr.write_text(
        hr.read_text()
        .replace("      name: web-values", "      name: absent\n      optional: true")
        .replace(
            "      chart: ./charts/demo\n",
            "      chart: ./charts/demo\n      valuesFiles: [charts/demo/values-prod.yaml]\n",
        )
    )
    code, out, _ = run(capsys, "flux", "build", "helmrelease", "web", "--path", str(repo))
    assert code == 0
    assert list(yaml.safe_load_all(out)) == [configmap("ahoy", "3")]


def test_build_fails_when_no_helmrelease_has_that_name(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "flux", "build", "helmrelease", "api", "--path", str(repo), "-n", "apps")
    assert (code, err) == (2, "error HelmRelease 'apps/api' not found in the YAML files of the folder\n")


def test_build_skips_an_optional_values_from_that_is_missing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hr = repo / "apps/web.yaml"
    hr.write_text(
        hr.read_text().replace("      name: web-values", "      name: absent\n      optional: true")
    )
    code, out, _ = run(capsys, "flux", "build", "helmrelease", "web", "--path", str(repo))
    assert code == 0
    assert list(yaml.safe_load_all(out)) == [configmap("hello")]


def test_build_ignores_a_symlink_out_of_the_folder(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = write(tmp_path / "outside", {"values.yaml": VALUES.replace("bonjour", "leaked")})
    (repo / "apps/web.yaml").write_text(HELMRELEASE)
    (repo / "apps/values.yaml").symlink_to(outside / "values.yaml")
    code, _, err = run(capsys, "flux", "build", "helmrelease", "web", "--path", str(repo))
    assert code == 2
    assert 'configmaps "web-values" not found' in err


Served = tuple[simulation.Simulation, server.ApiServer]


def diff(served: Served, repo: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    kubeconfig = repo.parent / "kubeconfig"
    kubeconfig.write_text(served[1].kubeconfig())
    return run(
        capsys, "flux", "diff", "helmrelease", "web", "--path", str(repo), "--kubeconfig", str(kubeconfig)
    )


def namespace(sim: simulation.Simulation) -> None:
    sim.memory.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )


def test_diff_reports_a_drifted_object_and_exits_1(
    repo: Path, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace(served[0])
    served[0].memory.apply(configmap("hi"), field_manager="kubectl")
    code, out, err = diff(served, repo, capsys)
    assert out == (
        "► ConfigMap/apps/web-config drifted\n\ndata.greeting\n± value change\n- hi\n+ bonjour\n\n"
    )
    assert (code, err) == (1, "⚠️ identified at least one change, exiting with non-zero exit code\n")


def test_diff_reports_a_missing_object_as_created(
    repo: Path, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace(served[0])
    code, out, _ = diff(served, repo, capsys)
    assert (code, out) == (1, "► ConfigMap/apps/web-config created\n")


def test_diff_prints_nothing_and_exits_0_when_the_cluster_matches(
    repo: Path, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace(served[0])
    served[0].memory.apply(configmap("bonjour"), field_manager="helm-controller")
    assert diff(served, repo, capsys) == (0, "", "")


def test_diff_exits_2_when_the_cluster_cannot_be_reached(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = repo.parent / "kubeconfig"
    kubeconfig.write_text("not: a kubeconfig\n")
    code, out, err = run(
        capsys, "flux", "diff", "helmrelease", "web", "--path", str(repo), "--kubeconfig", str(kubeconfig)
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"error cannot reach the cluster of {kubeconfig}: ")


def test_diff_reports_what_the_live_inventory_has_and_the_render_no_longer_does_as_deleted(
    repo: Path, served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = served[0]
    namespace(sim)
    sim.memory.apply(configmap("bonjour"), field_manager="helm-controller")
    hr = yaml.safe_load(HELMRELEASE)
    sim.memory.apply(hr, field_manager="kubectl")
    inventory = [
        {"id": "apps_web-config__ConfigMap", "v": "v1"},
        {"id": "apps_web_apps_Deployment", "v": "v1"},
    ]
    sim.memory.merge_patch(
        ref("apps", "web"),
        {"status": {"inventory": {"entries": inventory}, "history": [SNAPSHOT]}},
        subresource="status",
        field_manager="helm-controller",
    )
    code, out, _ = diff(served, repo, capsys)
    assert (code, out) == (1, "► Deployment/apps/web deleted\n")


SNAPSHOT = {
    "version": 2,
    "name": "web",
    "namespace": "apps",
    "chartName": "demo",
    "chartVersion": "1.2.3",
    "configDigest": "sha256:0",
    "digest": "sha256:0",
    "firstDeployed": "2026-01-01T00:00:00Z",
    "lastDeployed": "2026-01-01T00:00:00Z",
    "status": "deployed",
}


def ref(namespace: str, name: str) -> refs.ObjectRef:
    return refs.ObjectRef("helm.toolkit.fluxcd.io", "HelmRelease", namespace, name)
