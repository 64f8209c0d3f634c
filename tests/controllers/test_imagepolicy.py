"""ImagePolicy: the latest tag of a scan, chosen by policy as image-reflector-controller does."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import oci
from gitops_sim.testing import events_of, ready

POLICY = refs.ObjectRef("image.toolkit.fluxcd.io", "ImagePolicy", "flux-system", "app")
IMAGE = "registry.example.com/acme/app"


def imagerepository(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "flux-system"},
        "spec": {"image": IMAGE, "interval": "5m", **spec},
    }


def imagepolicy(policy: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImagePolicy",
        "metadata": {"name": "app", "namespace": "flux-system"},
        "spec": {
            "imageRepositoryRef": {"name": "app"},
            "policy": policy or {"semver": {"range": "1.x"}},
            **spec,
        },
    }


def push(sim: simulation.Simulation, *versions: str) -> dict[str, str]:
    client = oci.RegistryClient(sim.registries.route)
    host, name = sim.registries.host(IMAGE)
    return {v: client.push_image(host, name, v) for v in versions}


def status(sim: simulation.Simulation) -> dict[str, Any]:
    result: dict[str, Any] = sim.cluster.get(POLICY)["status"]
    return result


def test_the_highest_version_in_range_is_the_latest_ref(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0", "1.2.0", "2.0.0", "1.3.0-rc.1")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.cluster.apply(imagepolicy(), field_manager="kubectl")
    sim.advance(2_000)
    assert status(sim)["latestRef"] == {"name": IMAGE, "tag": "1.2.0"}
    assert ready(sim.cluster.get(POLICY)) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"Latest image tag for {IMAGE} resolved to 1.2.0",
    }
    assert [(e.type, e.reason) for e in events_of(sim, POLICY)] == [("Normal", "Succeeded")]


def test_a_new_tag_moves_the_policy_after_the_next_scan_and_names_the_previous_one(
    sim: simulation.Simulation,
) -> None:
    push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.cluster.apply(imagepolicy(), field_manager="kubectl")
    sim.advance(2_000)
    push(sim, "1.1.0")
    sim.advance(5 * 60_000)
    assert status(sim)["latestRef"]["tag"] == "1.1.0"
    assert status(sim)["observedPreviousRef"] == {"name": IMAGE, "tag": "1.0.0"}
    assert ready(sim.cluster.get(POLICY))["message"] == (
        f"Latest image tag for {IMAGE} resolved to 1.1.0 (previously {IMAGE}:1.0.0)"
    )


def test_a_numerical_extract_orders_release_candidates(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0-rc9", "1.0.0-rc10", "1.0.0-rc2")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    filter_tags = {"pattern": "^1\\.0\\.0-rc(?P<rc>[0-9]+)$", "extract": "$rc"}
    sim.cluster.apply(
        imagepolicy({"numerical": {"order": "asc"}}, filterTags=filter_tags), field_manager="kubectl"
    )
    sim.advance(2_000)
    assert status(sim)["latestRef"]["tag"] == "1.0.0-rc10"


def test_a_missing_repository_is_a_dependency_not_ready(sim: simulation.Simulation) -> None:
    sim.cluster.apply(imagepolicy(), field_manager="kubectl")
    sim.advance(2_000)
    got = ready(sim.cluster.get(POLICY))
    assert (got["status"], got["reason"]) == ("False", "DependencyNotReady")
    assert got["message"] == (
        "failed to get the referred ImageRepository: referenced ImageRepository does not exist: "
        'imagerepositories.image.toolkit.fluxcd.io "app" not found'
    )


def test_a_repository_without_tags_is_retried_in_30s(sim: simulation.Simulation) -> None:
    sim.registries.host(IMAGE)
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.cluster.apply(imagepolicy(), field_manager="kubectl")
    sim.advance(2_000)
    assert ready(sim.cluster.get(POLICY)) == {
        "status": "False",
        "reason": "DependencyNotReady",
        "message": "retrying in 30s error: no tags in database",
    }
    push(sim, "1.0.0")
    request = {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}
    sim.cluster.merge_patch(
        refs.ObjectRef("image.toolkit.fluxcd.io", "ImageRepository", "flux-system", "app"),
        request,
        field_manager="flux",
    )
    sim.advance(2_000)
    assert status(sim)["latestRef"]["tag"] == "1.0.0"


def test_no_tag_in_range_is_a_failure_with_fluxs_words(sim: simulation.Simulation) -> None:
    push(sim, "2.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.cluster.apply(imagepolicy(), field_manager="kubectl")
    sim.advance(2_000)
    assert ready(sim.cluster.get(POLICY)) == {
        "status": "False",
        "reason": "Failure",
        "message": "unable to determine latest version from provided list",
    }


def test_an_invalid_range_stalls_the_policy(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.cluster.apply(imagepolicy({"semver": {"range": "not a range"}}), field_manager="kubectl")
    sim.advance(2_000)
    got = ready(sim.cluster.get(POLICY))
    assert (got["status"], got["reason"]) == ("False", "InvalidPolicy")
    assert got["message"].startswith("invalid policy: ")
    assert {c["type"] for c in status(sim)["conditions"]} == {"Ready", "Stalled"}


def test_a_repository_in_another_namespace_needs_its_access_from(sim: simulation.Simulation) -> None:
    push(sim, "1.0.0")
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "apps", "labels": {"team": "apps"}},
    }
    sim.cluster.apply(namespace, field_manager="kubectl")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    policy = imagepolicy()
    policy["metadata"]["namespace"] = "apps"
    policy["spec"]["imageRepositoryRef"]["namespace"] = "flux-system"
    sim.cluster.apply(policy, field_manager="kubectl")
    sim.advance(2_000)
    apps = refs.ObjectRef("image.toolkit.fluxcd.io", "ImagePolicy", "apps", "app")
    assert ready(sim.cluster.get(apps)) == {
        "status": "False",
        "reason": "AccessDenied",
        "message": "failed to get the referred ImageRepository: access denied: "
        "'flux-system/app' can't be accessed due to missing ACL labels on 'accessFrom'",
    }
    access = {"namespaceSelectors": [{"matchLabels": {"team": "apps"}}]}
    sim.cluster.apply(imagerepository(accessFrom=access), field_manager="kubectl")
    sim.advance(60_000)
    assert ready(sim.cluster.get(apps))["reason"] == "Succeeded"


def test_an_always_digest_policy_resolves_the_digest_of_the_chosen_tag(sim: simulation.Simulation) -> None:
    digests = push(sim, "1.0.0")
    sim.cluster.apply(imagerepository(), field_manager="kubectl")
    sim.cluster.apply(imagepolicy(digestReflectionPolicy="Always", interval="10m"), field_manager="kubectl")
    sim.advance(2_000)
    assert status(sim)["latestRef"] == {"name": IMAGE, "tag": "1.0.0", "digest": digests["1.0.0"]}
    assert ready(sim.cluster.get(POLICY))["message"] == (
        f"Latest image tag for {IMAGE} resolved to 1.0.0 with digest {digests['1.0.0']}"
    )


def test_an_always_digest_policy_without_interval_is_refused_by_the_api_server(
    sim: simulation.Simulation,
) -> None:
    import pytest

    from gitops_sim.cluster import errors

    with pytest.raises(errors.Invalid) as caught:
        sim.cluster.apply(imagepolicy(digestReflectionPolicy="Always"), field_manager="kubectl")
    assert (
        "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"
        in caught.value.message
    )
