"""ImageRepository: tags scanned into the controller's own database, as image-reflector-controller does."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.images import tags
from gitops_sim.model import refs
from gitops_sim.sources import oci
from gitops_sim.testing import events_of, ready

REPO = refs.ObjectRef("image.toolkit.fluxcd.io", "ImageRepository", "flux-system", "app")
IMAGE = "registry.example.com/acme/app"


def imagerepository(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "flux-system"},
        "spec": {"image": IMAGE, "interval": "5m", **spec},
    }


def push(sim: simulation.Simulation, *versions: str) -> None:
    client = oci.RegistryClient(sim.registries.route)
    host, name = sim.registries.host(IMAGE)
    for version in versions:
        client.push_image(host, name, version)


def status(sim: simulation.Simulation) -> dict[str, Any]:
    result: dict[str, Any] = sim.cluster.get(REPO)["status"]
    return result


def test_a_first_scan_stores_the_tags_and_reports_them(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0", "1.1.0", "sha256-abc.sig")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.advance(1_000)
    checksum = tags.checksum(["1.1.0", "1.0.0"])
    assert status(sim)["canonicalImageName"] == IMAGE
    scan = status(sim)["lastScanResult"]
    assert (scan["tagCount"], scan["latestTags"], scan["revision"]) == (2, ["1.1.0", "1.0.0"], checksum)
    assert ready(sim.cluster.get(REPO)) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"successful scan: found 2 tags with checksum {checksum}",
    }
    assert status(sim)["observedExclusionList"] == ["^.*\\.sig$"]
    assert status(sim)["observedGeneration"] == 1
    assert [(e.type, e.reason) for e in events_of(sim, REPO)] == [("Normal", "Succeeded")]


def test_a_new_tag_is_found_at_the_next_interval(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.advance(1_000)
    push(sim, "1.2.0")
    sim.advance(4 * 60_000)
    assert status(sim)["lastScanResult"]["tagCount"] == 1
    sim.advance(61_000)
    assert status(sim)["lastScanResult"]["tagCount"] == 2
    messages = [e.message for e in events_of(sim, REPO)]
    assert messages[-1] == f"successful scan: found 2 tags with checksum {tags.checksum(['1.2.0', '1.0.0'])}"


def test_a_reconcile_request_scans_before_the_interval(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.advance(1_000)
    push(sim, "1.2.0")
    request = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}
    sim.cluster.merge_patch(REPO, request, field_manager="flux")
    sim.advance(1_000)
    assert status(sim)["lastScanResult"]["tagCount"] == 2
    assert status(sim)["lastHandledReconcileAt"] == "now"


def test_an_image_with_a_tag_stalls_with_fluxs_words(sim: simulation.Simulation) -> None:
    sim.cluster.apply(imagerepository(image=f"{IMAGE}:1.0"), field_manager="kubectl")
    sim.advance(1_000)
    message = f"image '{IMAGE}:1.0' should not include a tag; remove ':1.0'"
    assert ready(sim.cluster.get(REPO)) == {
        "status": "False",
        "reason": "ImageURLInvalid",
        "message": message,
    }
    conds = {c["type"]: c for c in status(sim)["conditions"]}
    assert conds["Stalled"]["reason"] == "ImageURLInvalid"
    assert "Reconciling" not in conds
    assert status(sim)["observedGeneration"] == 1
    assert [(e.type, e.reason) for e in events_of(sim, REPO)] == [("Warning", "ImageURLInvalid")]


def test_a_registry_that_cannot_be_reached_fails_the_scan_and_retries(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    sim.registries.set_fault("registry.example.com", "unreachable")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.advance(1_000)
    got = ready(sim.cluster.get(REPO))
    assert (got["status"], got["reason"]) == ("False", "ReadOperationFailed")
    assert got["message"].startswith("scan failed: ")
    conds = {c["type"]: c for c in status(sim)["conditions"]}
    assert (conds["Reconciling"]["reason"], conds["Reconciling"]["message"]) == (
        "ProgressingWithRetry",
        "scanning: first scan",
    )
    assert ("Warning", "ReadOperationFailed") in [(e.type, e.reason) for e in events_of(sim, REPO)]
    sim.registries.set_fault("registry.example.com", None)
    sim.advance(30_000)
    assert ready(sim.cluster.get(REPO))["reason"] == "Succeeded"
    assert "Reconciling" not in {c["type"] for c in status(sim)["conditions"]}


def test_an_exclusion_list_replaces_the_default(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0", "1.0.0-rc.1", "x.sig")
    sim.cluster.apply(imagerepository(exclusionList=["-rc"]), field_manager="kubectl")
    sim.advance(1_000)
    assert status(sim)["lastScanResult"]["latestTags"] == ["x.sig", "1.0.0"]


def test_an_exclusion_that_is_not_a_go_regexp_fails_the_scan(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(exclusionList=["(?=x)"]), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(REPO)) == {
        "status": "False",
        "reason": "ReadOperationFailed",
        "message": "scan failed: failed to compile regex (?=x): "
        "error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
    }


def test_a_rescan_that_finds_the_same_tags_sends_fluxs_trace_event(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.advance(1_000)
    sim.advance(5 * 60_000)
    last = events_of(sim, REPO)[-1]
    assert (last.type, last.reason, last.message) == (
        "Normal",
        "Succeeded",
        "tags did not change, next scan in 5m0s",
    )
