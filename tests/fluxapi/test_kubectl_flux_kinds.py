"""Every Flux kind, through the real kubectl: applied, listed with its printer columns, explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.model import fluxapi, refs, yamlsafe
from gitops_sim.model.fluxapi import declare
from tests.http.conftest import kubectl_for

# A valid spec per kind (the shape Flux's docs show), and a nested field to explain.
SPECS: dict[str, tuple[dict[str, Any], str]] = {
    "GitRepository": (
        {"interval": "1m", "url": "https://github.com/stefanprodan/podinfo"},
        "spec.ref.branch",
    ),
    "OCIRepository": (
        {"interval": "5m", "url": "oci://ghcr.io/stefanprodan/manifests/podinfo"},
        "spec.ref.semver",
    ),
    "HelmRepository": ({"interval": "1h", "url": "https://stefanprodan.github.io/podinfo"}, "spec.type"),
    "HelmChart": (
        {"chart": "podinfo", "interval": "1h", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}},
        "spec.sourceRef.kind",
    ),
    "Bucket": ({"bucketName": "podinfo", "endpoint": "minio.example.com", "interval": "5m"}, "spec.provider"),
    "ExternalArtifact": (
        {
            "sourceRef": {
                "apiVersion": "source.extensions.fluxcd.io/v1beta1",
                "kind": "ArtifactGenerator",
                "name": "a",
            }
        },
        "spec.sourceRef.name",
    ),
    "Kustomization": (
        {"interval": "10m", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "podinfo"}},
        "spec.postBuild.substitute",
    ),
    "HelmRelease": (
        {"interval": "10m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}},
        "spec.install.remediation.retries",
    ),
    "Receiver": (
        {
            "type": "github",
            "events": ["ping", "push"],
            "resources": [{"kind": "GitRepository", "name": "podinfo"}],
            "secretRef": {"name": "webhook-token"},
        },
        "spec.resources.kind",
    ),
    "Alert": (
        {"providerRef": {"name": "slack"}, "eventSources": [{"kind": "GitRepository", "name": "*"}]},
        "spec.eventSeverity",
    ),
    "Provider": ({"type": "slack", "channel": "general", "secretRef": {"name": "slack-url"}}, "spec.type"),
    "ImageRepository": ({"image": "ghcr.io/stefanprodan/podinfo", "interval": "5m"}, "spec.exclusionList"),
    "ImagePolicy": (
        {"imageRepositoryRef": {"name": "podinfo"}, "policy": {"semver": {"range": "5.0.x"}}},
        "spec.policy.semver.range",
    ),
    "ImageUpdateAutomation": (
        {
            "interval": "30m",
            "sourceRef": {"kind": "GitRepository", "name": "podinfo"},
            "git": {
                "commit": {"author": {"email": "fluxcdbot@users.noreply.github.com", "name": "fluxcdbot"}}
            },
            "update": {"path": "./clusters/my-cluster", "strategy": "Setters"},
        },
        "spec.git.commit.author.email",
    ),
    "ArtifactGenerator": (
        {
            "sources": [{"alias": "config", "kind": "GitRepository", "name": "podinfo"}],
            "artifacts": [
                {"name": "podinfo-bundle", "copy": [{"from": "@config/deploy/", "to": "@artifact/"}]}
            ],
        },
        "spec.artifacts.name",
    ),
}


def doc_of(kind: declare.Kind, path: str) -> tuple[str, str]:
    """The description and the OpenAPI type `kubectl explain` shows for `path` of `kind`."""
    node = kind.schema(kind.storage)
    for part in path.split("."):
        node = node["properties"][part]
        if node.get("type") == "array" and part != path.rsplit(".", 1)[1]:
            node = node["items"]
    kind_name = node.get("type", "Object")
    if kind_name == "array":
        kind_name = f"[]{node['items'].get('type', 'Object')}"
    elif kind_name == "object" and "additionalProperties" in node:
        kind_name = f"map[string]{node['additionalProperties']['type']}"
    return node["description"], kind_name


def test_every_flux_kind_has_an_example_here() -> None:
    assert sorted(SPECS) == sorted(k.kind for k in fluxapi.KINDS)


@pytest.mark.parametrize("kind", fluxapi.KINDS, ids=lambda k: k.kind)
def test_kubectl_applies_lists_and_explains_every_flux_kind(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path, kind: declare.Kind
) -> None:
    kubectl = kubectl_for(served[1], tmp_path)
    spec, field = SPECS[kind.kind]
    manifest = {
        "apiVersion": f"{kind.group}/{kind.storage.name}",
        "kind": kind.kind,
        "metadata": {"name": "podinfo", "namespace": "default"},
        "spec": spec,
    }
    applied = kubectl("apply", "-f", "-", stdin=yamlsafe.dump(manifest))
    assert applied.returncode == 0, applied.stderr
    assert served[0].cluster.get(refs.ObjectRef(kind.group, kind.kind, "default", "podinfo"))["spec"]

    listed = kubectl("get", f"{kind.plural}.{kind.group}", "-n", "default")
    assert listed.returncode == 0, listed.stderr
    header = listed.stdout.splitlines()[0].split()
    shown = [c for c in kind.storage.columns if c.priority == 0]  # the others only with -o wide
    assert header == ["NAME", *(w.upper() for c in shown for w in c.name.split())]

    explained = kubectl(
        "explain", f"{kind.plural}.{field}", "--api-version", f"{kind.group}/{kind.storage.name}"
    )
    assert explained.returncode == 0, explained.stderr
    text = " ".join(explained.stdout.split())
    description, type_name = doc_of(kind, field)
    assert f"FIELD: {field.rsplit('.', 1)[1]} <{type_name}>" in text
    assert " ".join(description.split()) in text
