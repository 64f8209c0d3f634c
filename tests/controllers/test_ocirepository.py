"""OCIRepository: tags, semver, digests, layer selection, faults, as source-controller reports them."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import archives, refs
from gitops_sim.sources import oci
from gitops_sim.testing import events_of, ready
from tests.builders import OCI_URL, OCIREPO, kustomization, ocirepository


def push(sim: simulation.Simulation, tag: str, files: dict[str, bytes], **annotations: str) -> str:
    host, name = sim.registries.host(OCI_URL)
    client = oci.RegistryClient(sim.registries.route)
    return client.push_artifact(host, name, tag, archives.pack(files), annotations=annotations)


def on_oci() -> dict[str, Any]:
    """The Kustomization `apps`, applying `./deploy` of this OCIRepository's artifact."""
    return kustomization(path="./deploy", sourceRef={"kind": "OCIRepository", "name": "manifests"})


def status(sim: simulation.Simulation) -> dict[str, Any]:
    return dict(sim.cluster.get(OCIREPO)["status"])


def test_a_tag_is_stored_with_tag_and_digest_in_the_revision(sim: simulation.Simulation) -> None:
    digest = push(
        sim,
        "v1.0.0",
        {"deploy/cm.yaml": b"kind: ConfigMap\n"},
        **{
            "org.opencontainers.image.source": "https://github.com/acme/app",
            "org.opencontainers.image.revision": "main@sha1:abc",
        },
    )
    sim.cluster.apply(ocirepository(ref={"tag": "v1.0.0"}), field_manager="kubectl")
    sim.advance(1_000)
    got = status(sim)
    assert got["artifact"]["revision"] == f"v1.0.0@{digest}"
    assert got["artifact"]["path"] == f"ocirepository/flux-system/manifests/{digest}.tar.gz"
    assert got["artifact"]["metadata"]["org.opencontainers.image.revision"] == "main@sha1:abc"
    assert got["url"].endswith("/ocirepository/flux-system/manifests/latest.tar.gz")
    assert ready(sim.cluster.get(OCIREPO)) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"stored artifact for digest 'v1.0.0@{digest}'",
    }
    assert events_of(sim, OCIREPO)[-1][2:] == (
        "NewArtifact",
        f"stored artifact with revision 'v1.0.0@{digest}' from '{OCI_URL}', "
        "origin source 'https://github.com/acme/app', origin revision 'main@sha1:abc'",
    )


def test_the_latest_tag_is_the_default_and_a_moved_tag_is_followed(sim: simulation.Simulation) -> None:
    push(sim, "latest", {"a.yaml": b"1"})
    sim.cluster.apply(ocirepository(), field_manager="kubectl")
    sim.advance(1_000)
    moved = push(sim, "latest", {"a.yaml": b"2"})
    sim.advance(60_000)
    assert status(sim)["artifact"]["revision"] == f"latest@{moved}"


def test_a_semver_range_with_a_filter_picks_the_highest_matching_tag(sim: simulation.Simulation) -> None:
    for tag in ("1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0"):
        push(sim, tag, {"a.yaml": tag.encode()})
    sim.cluster.apply(ocirepository(ref={"semver": "1.x", "semverFilter": "^1\\."}), field_manager="kubectl")
    sim.advance(1_000)
    assert status(sim)["artifact"]["revision"].startswith("1.1.0@sha256:")


def test_a_digest_ref_has_no_tag_in_the_revision(sim: simulation.Simulation) -> None:
    digest = push(sim, "v1", {"a.yaml": b"1"})
    sim.cluster.apply(ocirepository(ref={"digest": digest}), field_manager="kubectl")
    sim.advance(1_000)
    assert status(sim)["artifact"]["revision"] == digest


def test_copy_stores_the_layer_unchanged(sim: simulation.Simulation) -> None:
    push(sim, "v1", {"a.yaml": b"1", "logo.png": b"image"})
    sim.cluster.apply(
        ocirepository(
            ref={"tag": "v1"}, layerSelector={"mediaType": oci.FLUX_CONTENT_TYPE, "operation": "copy"}
        ),
        field_manager="kubectl",
    )
    sim.advance(1_000)
    got = status(sim)
    assert got["observedLayerSelector"] == {"mediaType": oci.FLUX_CONTENT_TYPE, "operation": "copy"}
    stored = (sim.storage.root / got["artifact"]["path"]).read_bytes()
    assert archives.unpack(stored) == {"a.yaml": b"1", "logo.png": b"image"}  # no ignore rules on copy


def test_a_layer_of_a_missing_media_type_fails_as_flux_says(sim: simulation.Simulation) -> None:
    push(sim, "v1", {"a.yaml": b"1"})
    sim.cluster.apply(
        ocirepository(ref={"tag": "v1"}, layerSelector={"mediaType": "text/plain"}), field_manager="kubectl"
    )
    sim.advance(1_000)
    assert ready(sim.cluster.get(OCIREPO)) == {
        "status": "False",
        "reason": "OCIArtifactLayerOperationFailed",
        "message": "failed to find layer with media type 'text/plain' in artifact",
    }


def test_a_missing_tag_is_a_pull_failure_with_the_registry_error(sim: simulation.Simulation) -> None:
    push(sim, "v1", {"a.yaml": b"1"})
    sim.cluster.apply(ocirepository(ref={"tag": "v9"}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(OCIREPO)) == {
        "status": "False",
        "reason": "OCIArtifactPullFailed",
        "message": "failed to determine artifact digest: GET https://ghcr.io/v2/acme/manifests/manifests/v9: "
        "MANIFEST_UNKNOWN: manifest unknown; map[Tag:v9]",
    }


def test_no_semver_match_is_a_read_operation_failure(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0", {"a.yaml": b"1"})
    sim.cluster.apply(ocirepository(ref={"semver": ">=2.0.0"}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(OCIREPO)) == {
        "status": "False",
        "reason": "ReadOperationFailed",
        "message": (
            f"failed to determine the artifact tag for '{OCI_URL}': no match found for semver: >=2.0.0"
        ),
    }


def test_an_invalid_url_stalls_without_retrying(sim: simulation.Simulation) -> None:
    sim.cluster.apply(ocirepository(url="oci://ghcr.io/acme/manifests:v1"), field_manager="kubectl")
    sim.advance(60_000)
    obj = sim.cluster.get(OCIREPO)
    stalled = next(c for c in obj["status"]["conditions"] if c["type"] == "Stalled")
    assert (stalled["reason"], stalled["message"]) == (
        "URLInvalid",
        "URL validation failed for 'oci://ghcr.io/acme/manifests:v1': "
        "URL must not contain a tag; remove ':v1'",
    )
    assert len(events_of(sim, OCIREPO)) == 1  # no retries


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("unreachable", 'Get "https://ghcr.io/v2/": dial tcp ghcr.io:443: connect: connection refused'),
        (
            "unavailable",
            "GET https://ghcr.io/v2/acme/manifests/manifests/v1: unexpected status code 503 "
            "Service Unavailable: service unavailable",
        ),
    ],
)
def test_a_registry_fault_is_reported_then_recovered(
    sim: simulation.Simulation, fault: str, message: str
) -> None:
    push(sim, "v1", {"a.yaml": b"1"})
    sim.cluster.apply(ocirepository(ref={"tag": "v1"}), field_manager="kubectl")
    sim.advance(1_000)
    if fault == "unreachable":
        sim.registries.unreachable.add("ghcr.io")
    else:
        sim.registries.server.repository("ghcr.io", "acme/manifests").fault = "unavailable"
    sim.advance(60_000)
    assert ready(sim.cluster.get(OCIREPO))["message"] == f"failed to determine artifact digest: {message}"
    sim.registries.unreachable.clear()
    sim.registries.server.repository("ghcr.io", "acme/manifests").fault = None
    sim.advance(60_000)
    assert ready(sim.cluster.get(OCIREPO))["status"] == "True"
    assert events_of(sim, OCIREPO)[-1][1:3] == ("Normal", "Succeeded")


def test_a_kustomization_applies_an_oci_artifact(sim: simulation.Simulation) -> None:
    push(
        sim,
        "v1",
        {
            "deploy/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\n"
            b"metadata: {name: from-oci, namespace: default}\n"
        },
    )
    sim.cluster.apply(ocirepository(ref={"tag": "v1"}), field_manager="kubectl")
    sim.cluster.apply(on_oci(), field_manager="kubectl")
    sim.advance(2_000)
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "from-oci"))


def test_a_kustomization_records_the_origin_revision_of_an_oci_artifact(sim: simulation.Simulation) -> None:
    origin = "main@sha1:0123456789abcdef0123456789abcdef01234567"
    files = {
        "deploy/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-oci, namespace: default}\n"
    }
    push(sim, "v1", files, **{"org.opencontainers.image.revision": origin})
    sim.cluster.apply(ocirepository(ref={"tag": "v1"}), field_manager="kubectl")
    ks = refs.ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", "apps")
    sim.cluster.apply(on_oci(), field_manager="kubectl")
    sim.advance(2_000)
    status = sim.cluster.get(ks)["status"]
    assert status["lastAppliedOriginRevision"] == origin
    assert status["history"][0]["metadata"]["originRevision"] == origin
    events = sim.cluster.list(refs.GroupKind("", "Event"), namespace="flux-system")
    finished = next(e for e in events if e["message"].startswith("Reconciliation finished"))
    assert finished["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/originRevision"] == origin


def test_a_hanging_registry_runs_into_the_timeout(sim: simulation.Simulation) -> None:
    push(sim, "v1", {"a.yaml": b"1"})
    sim.registries.server.repository("ghcr.io", "acme/manifests").fault = "hang"
    sim.cluster.apply(ocirepository(ref={"tag": "v1"}, timeout="200ms"), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(OCIREPO))["message"] == (
        'failed to determine artifact digest: Get "https://ghcr.io/v2/acme/manifests/manifests/v1": '
        "context deadline exceeded"
    )
    sim.registries.server.repository("ghcr.io", "acme/manifests").fault = None
