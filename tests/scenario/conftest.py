"""Write small scenario files for the tests of this folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

HEADER = """\
name: {name}
repos:
  fleet:
    url: https://github.com/acme/fleet
    files:
      apps/cm.yaml: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: settings, namespace: default}}
        data: {{mode: a}}
apply:
  - |
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: GitRepository
    metadata: {{name: fleet, namespace: flux-system}}
    spec: {{url: https://github.com/acme/fleet, interval: 1m, ref: {{branch: main}}}}
  - |
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata: {{name: apps, namespace: flux-system}}
    spec: {{interval: 10m, path: ./apps, prune: true, sourceRef: {{kind: GitRepository, name: fleet}}}}
"""

WriteScenario = Callable[[str], Path]


@pytest.fixture
def write_scenario(tmp_path: Path) -> WriteScenario:
    """Write a scenario with a synced repository; `steps` is the YAML of its steps block."""

    def write(steps: str, name: str = "test scenario") -> Path:
        path = tmp_path / "scenario.yaml"
        path.write_text(HEADER.format(name=name) + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  "))
        return path

    return write
