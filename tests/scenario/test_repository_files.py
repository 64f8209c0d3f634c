"""Repository files as Flux sees them: bytes, and YAML read as Kubernetes reads it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gitops_sim.model import artifacts, refs
from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.steps import git as git_steps

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
GITREPO = refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "fleet")

FLUX_OBJECTS = """\
apply:
  - |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {name: fleet, namespace: flux-system}
    spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}
  - |
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {name: apps, namespace: flux-system}
    spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
"""

READY = """\
steps:
  - expect:
      condition: {object: Kustomization/flux-system/apps, type: Ready, status: "True"}
      within: 2m
"""


def test_a_png_under_dir_is_committed_and_packed_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "fleet" / "apps").mkdir(parents=True)
    (tmp_path / "fleet" / "assets").mkdir()
    (tmp_path / "fleet" / "assets" / "logo.png").write_bytes(PNG)
    # With a .sourceignore, source-controller's default exclusions (*.png among them) do not apply.
    (tmp_path / "fleet" / ".sourceignore").write_text("*.md\n")
    (tmp_path / "fleet" / "apps" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {mode: a}\n"
    )
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: png\nrepos:\n  fleet: {url: https://github.com/acme/fleet, dir: fleet}\n"
        + FLUX_OBJECTS
        + READY
    )
    run = runner.Runner(loader.load(path), tmp_path / "work")
    try:
        outcome = run.run()
        repo = run.sim.cluster.get(GITREPO)
        stored = run.sim.storage.fetch(artifacts.Artifact.from_status(repo["status"]["artifact"]))
    finally:
        run.sim.close()
    assert outcome.passed, outcome.failure
    assert stored["assets/logo.png"] == PNG


def test_a_plain_equals_sign_in_a_repository_manifest_is_applied_and_the_run_continues(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        textwrap.dedent("""\
            name: equals
            repos:
              fleet:
                url: https://github.com/acme/fleet
                files:
                  apps/cm.yaml: |
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: alertmanager, namespace: default}
                    data:
                      matchType: =
                      window: 1:20
                      enabled: yes
            """)
        + FLUX_OBJECTS
        + READY
        + textwrap.indent(
            textwrap.dedent("""\
                - expect:
                    object: ConfigMap/default/alertmanager
                    fields: {data.matchType: "=", data.window: "1:20", data.enabled: "yes"}
                - advance: 10m
                - expect:
                    condition: {object: Kustomization/flux-system/apps, type: Ready, status: "True"}
                """),
            "  ",
        )
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure


def test_post_build_substitution_keeps_the_type_of_every_value(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        textwrap.dedent("""\
            name: substitution
            repos:
              fleet:
                url: https://github.com/acme/fleet
                files:
                  apps/cm.yaml: |
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: settings, namespace: default}
                    data: {match: =, flag: "y", window: "1:20", color: "${COLOR}"}
            apply:
              - |
                apiVersion: source.toolkit.fluxcd.io/v1
                kind: GitRepository
                metadata: {name: fleet, namespace: flux-system}
                spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}
              - |
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: apps, namespace: flux-system}
                spec:
                  interval: 10m
                  path: ./apps
                  prune: true
                  sourceRef: {kind: GitRepository, name: fleet}
                  postBuild: {substitute: {COLOR: blue}}
            steps:
              - expect:
                  object: ConfigMap/default/settings
                  fields: {data: {match: "=", flag: "y", window: "1:20", color: blue}}
                  within: 2m
            """)
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure


def test_a_commit_with_dir_replaces_and_adds_files_and_keeps_the_rest(tmp_path: Path) -> None:
    change = tmp_path / "v2" / "apps"
    change.mkdir(parents=True)
    (change / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {mode: b}\n"
    )
    (change / "extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: default}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent("""\
        name: dir commit
        repos:
          fleet:
            url: https://github.com/acme/fleet
            files:
              README.md: "# fleet\\n"
              apps/cm.yaml: |
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings, namespace: default}
                data: {mode: a}
        """)
        + FLUX_OBJECTS
        + textwrap.dedent("""\
        steps:
          - advance: 1s
          - commit: {repo: fleet, message: v2, dir: v2, files: {apps/extra.yaml: null}}
          - reconcile: GitRepository/flux-system/fleet
          - reconcile: Kustomization/flux-system/apps
          - expect: {object: ConfigMap/default/settings, fields: {data.mode: b}, within: 1m}
          - expect: {absent: ConfigMap/default/extra}
        """)
    )
    scenario = loader.load(path)
    commit = scenario.steps[1].action
    assert isinstance(commit, git_steps.Commit)
    assert sorted(commit.files) == ["apps/cm.yaml", "apps/extra.yaml"]  # README.md is not touched
    assert commit.files["apps/extra.yaml"] is None  # `files` applies after `dir`
    outcome = runner.run(scenario, tmp_path / "work")
    assert outcome.passed, outcome.failure
