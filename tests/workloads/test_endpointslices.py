"""The EndpointSlice controller: a Service's slices list the IPs and ports of the Pods its selector
matches, ready or not, and follow them as they come and go, in virtual time."""

from __future__ import annotations

from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs

SLICES = refs.GroupKind("discovery.k8s.io", "EndpointSlice")


def deployment(replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"name": "http", "containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }


def service(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "labels": {"team": "a"}},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            **spec,
        },
    }


def slices(sim: simulation.Simulation) -> list[dict[str, Any]]:
    return sim.cluster.list(SLICES, namespace="default")


def endpoints(sim: simulation.Simulation) -> list[tuple[str, str, bool]]:
    return [
        (e["targetRef"]["name"], e["addresses"][0], e["conditions"]["ready"])
        for s in slices(sim)
        for e in s["endpoints"]
    ]


def pod_ips(sim: simulation.Simulation) -> dict[str, str]:
    return {
        p["metadata"]["name"]: p["status"]["podIP"]
        for p in sim.cluster.list(refs.GroupKind("", "Pod"), namespace="default")
    }


def test_a_service_s_slice_is_named_labelled_and_owned_as_the_controller_makes_it(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(service(), field_manager="kubectl")
    sim.settle()
    [placeholder] = slices(sim)
    assert placeholder["metadata"]["name"].startswith("web-")
    assert len(placeholder["metadata"]["name"]) == len("web-") + 5
    assert placeholder["metadata"]["generateName"] == "web-"
    assert placeholder["metadata"]["labels"] == {
        "team": "a",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    owner = placeholder["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Service", "web", True)
    assert (placeholder["addressType"], placeholder["endpoints"]) == ("IPv4", [])


def test_pods_are_listed_with_their_ips_once_they_have_one_and_ready_once_they_are(
    sim: simulation.Simulation,
) -> None:
    sim.cluster.apply(service(), field_manager="kubectl")
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.settle()
    ips = pod_ips(sim)
    assert sorted(endpoints(sim)) == sorted((name, ip, False) for name, ip in ips.items())
    sim.advance(3_000)
    assert sorted(endpoints(sim)) == sorted((name, ip, True) for name, ip in ips.items())
    [one] = slices(sim)
    assert one["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert {e["nodeName"] for e in one["endpoints"]} == {"sim-node"}
    assert [e["targetRef"]["kind"] for e in one["endpoints"]] == ["Pod", "Pod"]


def test_the_slice_follows_pods_as_they_go(sim: simulation.Simulation) -> None:
    sim.cluster.apply(service(), field_manager="kubectl")
    sim.cluster.apply(deployment(replicas=3), field_manager="kubectl")
    sim.advance(3_000)
    name = slices(sim)[0]["metadata"]["name"]
    sim.cluster.apply(deployment(replicas=1), field_manager="kubectl")
    sim.advance(1_000)
    assert [s["metadata"]["name"] for s in slices(sim)] == [name]
    assert [e[0] for e in endpoints(sim)] == list(pod_ips(sim))
    assert len(endpoints(sim)) == 1


def test_a_slice_deleted_by_hand_is_made_again(sim: simulation.Simulation) -> None:
    sim.cluster.apply(service(), field_manager="kubectl")
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.advance(3_000)
    sim.cluster.delete(
        refs.ObjectRef("discovery.k8s.io", "EndpointSlice", "default", slices(sim)[0]["metadata"]["name"])
    )
    sim.settle()
    assert len(endpoints(sim)) == 2


def test_a_headless_service_s_slice_is_labelled_headless(sim: simulation.Simulation) -> None:
    sim.cluster.apply(service(clusterIP="None"), field_manager="kubectl")
    sim.settle()
    assert slices(sim)[0]["metadata"]["labels"]["service.kubernetes.io/headless"] == ""


def test_a_service_without_a_selector_gets_no_managed_slice(sim: simulation.Simulation) -> None:
    external = service()
    del external["spec"]["selector"]
    sim.cluster.apply(external, field_manager="kubectl")
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.advance(3_000)
    assert slices(sim) == []


def test_deleting_the_service_collects_its_slices(sim: simulation.Simulation) -> None:
    sim.cluster.apply(service(), field_manager="kubectl")
    sim.cluster.apply(deployment(), field_manager="kubectl")
    sim.advance(3_000)
    sim.cluster.delete(refs.ObjectRef("", "Service", "default", "web"))
    sim.settle()
    assert slices(sim) == []
