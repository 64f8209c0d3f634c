"""`expect: commit` and `expect: no-commit`: what an automation pushed, checked in Git."""

from __future__ import annotations

import textwrap
from pathlib import Path

from gitops_sim.scenario import loader, runner

SCENARIO = """\
name: commits
images: [registry.example.com/acme/app:1.0.0]
repos:
  fleet:
    url: https://github.com/acme/fleet
    files:
      apps/app.yaml: |
        kind: Deployment
        metadata: {{name: app, namespace: apps}}
        spec:
          template:
            spec:
              containers:
                - image: registry.example.com/acme/app:1.0.0 # {{"$imagepolicy": "flux-system:app"}}
apply:
  - |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: fleet, namespace: flux-system}}
    spec: {{url: https://github.com/acme/fleet, interval: 1m, ref: {{branch: main}}}}
  - |
    apiVersion: image.toolkit.fluxcd.io/v1
    kind: ImageRepository
    metadata: {{name: app, namespace: flux-system}}
    spec: {{image: registry.example.com/acme/app, interval: 1m}}
  - |
    apiVersion: image.toolkit.fluxcd.io/v1
    kind: ImagePolicy
    metadata: {{name: app, namespace: flux-system}}
    spec: {{imageRepositoryRef: {{name: app}}, policy: {{semver: {{range: {range}}}}}}}
  - |
    apiVersion: image.toolkit.fluxcd.io/v1
    kind: ImageUpdateAutomation
    metadata: {{name: fleet, namespace: flux-system}}
    spec:
      interval: 10m
      sourceRef: {{kind: GitRepository, name: fleet}}
      git:
        checkout: {{ref: {{branch: main}}}}
        commit: {{author: {{name: fluxbot, email: flux@example.com}}}}
steps:
{steps}"""


def run(tmp_path: Path, steps: str, range_: str = "1.x") -> runner.Outcome:
    path = tmp_path / "commits.yaml"
    path.write_text(SCENARIO.format(steps=textwrap.indent(textwrap.dedent(steps), "  "), range=range_))
    return runner.run(loader.load(path), tmp_path / "work")


def test_a_commit_the_automation_pushed_matches_its_author_files_and_diff(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        """\
        - push-image: registry.example.com/acme/app:1.1.0
        - expect:
            commit:
              repo: fleet
              author: fluxbot <flux@example.com>
              message: Update from image update automation
              files: [apps/app.yaml]
              diff: "+        - image: registry.example.com/acme/app:1.1.0"
            within: 2m
        """,
    )
    assert outcome.passed, outcome.failure


def test_the_scenarios_own_commits_are_not_what_a_commit_expectation_looks_for(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        """\
        - commit: {repo: fleet, message: by hand, files: {README.md: hi}}
        - expect: {commit: {repo: fleet}}
        """,
    )
    assert outcome.failure is not None
    assert "expectation failed: fleet@main: no commit since the last action step" in str(outcome.failure)


def test_a_missing_commit_is_explained_as_gitops_sim_explain_tells_it(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        """\
        - push-image: registry.example.com/acme/app:2.0.0
        - expect:
            commit: {repo: fleet}
            within: 3m
        """,
    )
    assert outcome.failure is not None
    message = str(outcome.failure)
    assert "expectation failed (waited 3m0s): fleet@main: no commit since the last action step" in message
    assert "why, as `gitops-sim explain` tells it:" in message
    assert "ImageUpdateAutomation flux-system/fleet" in message


def test_no_commit_fails_at_the_first_commit_and_shows_it(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        """\
        - push-image: registry.example.com/acme/app:1.1.0
        - expect:
            no-commit: {repo: fleet}
            for: 10m
        """,
    )
    assert outcome.failure is not None
    message = str(outcome.failure)
    assert "expectation failed: fleet@main: expected no commit, found 1:" in message
    assert "fluxbot <flux@example.com>: 'Update from image update automation'" in message
    assert outcome.virtual_ms < 60_000


def test_an_image_digest_variable_names_only_images_the_scenario_pushed(tmp_path: Path) -> None:
    outcome = run(
        tmp_path,
        """\
        - expect:
            commit: {repo: fleet, diff: "${images.registry.example.com/acme/app:9.9.9.digest}"}
        """,
    )
    assert outcome.failure is not None
    assert "registry.example.com/acme/app:9.9.9 was not pushed by this scenario" in str(outcome.failure)
