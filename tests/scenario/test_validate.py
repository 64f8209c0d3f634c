"""`gitops-sim validate` sends every object a scenario applies to a throwaway API server as a dry
run (`scenario.validate`): what the server refuses makes the file invalid, at the manifest's
file:line:col and field, with the message the run would fail with; what may come at run time is
not an error."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from gitops_sim import cli
from gitops_sim.scenario import loader, runner, validate

SOURCE = """\
- apiVersion: source.toolkit.fluxcd.io/v1
  kind: GitRepository
  metadata: {name: fleet, namespace: flux-system}
  spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}
"""

KUSTOMIZATION = """\
- |
  apiVersion: kustomize.toolkit.fluxcd.io/%s
  kind: Kustomization
  metadata: {name: apps, namespace: flux-system}
  spec: {interval: %s, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
"""


def scenario(tmp_path: Path, applied: str, *, top: str = "") -> Path:
    """A scenario that applies a GitRepository first, then, at its second step, `applied`
    (the YAML list of an `apply` step). Line 13 holds the step's first manifest."""
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: validated\n"
        + top
        + "apply:\n"
        + textwrap.indent(SOURCE, "  ")
        + "steps:\n  - advance: 1m\n  - apply:\n"
        + textwrap.indent(textwrap.dedent(applied), "      ")
    )
    return path


def validated(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli.main(["validate", str(path)])
    return code, capsys.readouterr().out.rstrip().splitlines()


def test_a_kustomization_of_a_removed_api_version_is_invalid_with_the_servers_message_and_the_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, KUSTOMIZATION % ("v1beta2", "10m"))
    assert validated(path, capsys) == (
        2,
        [
            f"error {path}:10:9: steps[1].apply[0]: applying Kustomization/flux-system/apps: "
            'no matches for kind "Kustomization" in version "kustomize.toolkit.fluxcd.io/v1beta2"',
            "  hint: kustomize.toolkit.fluxcd.io/v1beta2 was removed in Flux v2.8.0; Flux v2.10.0 serves "
            "Kustomization as kustomize.toolkit.fluxcd.io/v1: `flux migrate -f <dir>` rewrites the "
            "manifests under <dir> to the served API versions",
            "0 valid, 1 invalid",
        ],
    )


def test_a_field_value_the_crd_schema_refuses_is_invalid_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, KUSTOMIZATION % ("v1", "banana"))
    code, lines = validated(path, capsys)
    assert code == 2
    assert lines[0] == (
        f"error {path}:10:9: steps[1].apply[0]: applying Kustomization/flux-system/apps: "
        'Kustomization.kustomize.toolkit.fluxcd.io "apps" is invalid: spec.interval: Invalid value: '
        "\"banana\": spec.interval in body should match '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'"
    )


def test_a_missing_required_field_is_invalid_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        """\
        - apiVersion: kustomize.toolkit.fluxcd.io/v1
          kind: Kustomization
          metadata: {name: apps, namespace: flux-system}
          spec: {interval: 10m, prune: true}
        """,
    )
    code, lines = validated(path, capsys)
    assert code == 2
    assert lines[0].startswith(
        f"error {path}:10:9: steps[1].apply[0]: applying Kustomization/flux-system/apps: "
    )
    assert "spec.sourceRef: Required value" in lines[0]


def test_the_verdict_is_the_one_the_run_fails_with(tmp_path: Path) -> None:
    path = scenario(tmp_path, KUSTOMIZATION % ("v1", "banana"))
    sc = loader.load(path)
    [problem] = validate.check(sc)
    outcome = runner.run(sc, tmp_path / "work")
    assert outcome.failure is not None
    assert f"{problem.loc}: {problem.message}" == str(outcome.failure)


def test_an_object_in_a_file_beside_the_scenario_is_checked_at_its_own_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "apps.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine, namespace: apps}\n"
        "---\n# the second document\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken, namespace: apps}\ndata: {colour: [blue]}\n"
    )
    path = scenario(tmp_path, "- file: apps.yaml\n")
    code, lines = validated(path, capsys)
    assert code == 2
    assert lines[0] == (
        f"error {tmp_path / 'apps.yaml'}:6:1: steps[1].apply[0]: applying ConfigMap/apps/broken: "
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array into '
        "Go struct field ConfigMap.data of type string"
    )


def test_a_misspelt_built_in_kind_is_invalid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(
        tmp_path, "- {apiVersion: apps/v1, kind: Deploymnt, metadata: {name: web, namespace: apps}}\n"
    )
    code, lines = validated(path, capsys)
    assert code == 2
    assert lines[0] == (
        f"error {path}:10:9: steps[1].apply[0]: applying Deploymnt/apps/web: "
        'no matches for kind "Deploymnt" in version "apps/v1"'
    )


def test_a_kind_of_a_group_served_later_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        "- {apiVersion: monitoring.coreos.com/v1, kind: ServiceMonitor,"
        " metadata: {name: web, namespace: apps}}\n",
    )
    assert validated(path, capsys) == (0, ["1 valid, 0 invalid"])


def test_a_namespace_the_scenario_never_creates_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, "- {apiVersion: v1, kind: ConfigMap, metadata: {name: web, namespace: apps}}\n")
    assert validated(path, capsys) == (0, ["1 valid, 0 invalid"])


def test_a_custom_resource_is_checked_by_the_crd_the_scenario_applied_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.acme.io"},
        "spec": {
            "group": "acme.io",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                            },
                        }
                    },
                }
            ],
        },
    }
    widget = "{apiVersion: acme.io/v1, kind: Widget, metadata: {name: w, namespace: apps}, spec: {size: big}}"
    path = scenario(tmp_path, f"- {json.dumps(crd)}\n- {widget}\n")
    code, lines = validated(path, capsys)
    assert code == 2
    assert lines[0].startswith(f"error {path}:11:9: steps[1].apply[1]: applying Widget/apps/w: ")
    assert 'spec.size: Invalid value: "string": spec.size in body must be of type integer' in lines[0]


def test_an_unknown_field_is_a_warning_and_the_file_stays_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        """\
        - apiVersion: kustomize.toolkit.fluxcd.io/v1
          kind: Kustomization
          metadata: {name: apps, namespace: flux-system}
          spec: {interval: 10m, intervall: 1m, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
        """,
    )
    assert validated(path, capsys) == (
        0,
        [
            f"warning {path}:10:9: steps[1].apply[0]: applying Kustomization/flux-system/apps: "
            'unknown field "spec.intervall"',
            "1 valid, 0 invalid",
        ],
    )


def test_the_initial_manifests_are_checked_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: initial\napply:\n" + textwrap.indent(KUSTOMIZATION % ("v1", "banana"), "  "))
    code, lines = validated(path, capsys)
    assert code == 2
    assert lines[0].startswith(f"error {path}:3:5: apply[0]: applying Kustomization/flux-system/apps: ")


def test_without_flux_a_flux_crd_the_scenario_applies_replaces_flux_s_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gitrepositories.source.toolkit.fluxcd.io"},
        "spec": {
            "group": "source.toolkit.fluxcd.io",
            "names": {"kind": "GitRepository", "plural": "gitrepositories", "listKind": "GitRepositoryList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: own CRD\ncluster: {flux: absent}\nsteps:\n  - apply:\n"
        f"      - {json.dumps(crd)}\n"
        "      - {apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository, "
        "metadata: {name: fleet, namespace: flux-system}, spec: {interval: banana}}\n"
    )
    assert validated(path, capsys) == (0, ["1 valid, 0 invalid"])


def test_without_flux_a_refused_flux_crd_leaves_flux_s_own_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: refused CRD\ncluster: {flux: absent}\nsteps:\n  - apply:\n"
        "      - {apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, "
        "metadata: {name: gitrepositories.source.toolkit.fluxcd.io}}\n"
        "      - {apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository, "
        "metadata: {name: fleet, namespace: flux-system},"
        " spec: {url: https://github.com/acme/fleet, interval: banana}}\n"
    )
    code, lines = validated(path, capsys)
    assert code == 2
    assert "spec: Required value" in lines[0]
    assert lines[1].startswith(
        f"error {path}:6:9: steps[0].apply[1]: applying GitRepository/flux-system/fleet: "
    )
    assert 'spec.interval: Invalid value: "banana"' in lines[1]


def test_a_deprecated_flux_version_is_a_warning_and_the_file_stays_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        """\
        - apiVersion: notification.toolkit.fluxcd.io/v1beta3
          kind: Provider
          metadata: {name: hook, namespace: flux-system}
          spec: {type: generic, address: "https://hooks.example.com/flux"}
        """,
    )
    assert validated(path, capsys) == (
        0,
        [
            f"warning {path}:10:9: steps[1].apply[0]: applying Provider/flux-system/hook: "
            "v1beta3 Provider is deprecated, upgrade to v1",
            "1 valid, 0 invalid",
        ],
    )
