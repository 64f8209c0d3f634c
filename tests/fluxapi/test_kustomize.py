"""The Kustomization kind (kustomize.toolkit.fluxcd.io/v1) as the generated CRD serves it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import declare, kustomize
from tests.fluxapi.conftest import blocked, cluster_with, refused

Spec = dict[str, Any]
PREFIX = 'Kustomization.kustomize.toolkit.fluxcd.io "webapp" is invalid: '
DURATION = r"'^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'"
KUBECONFIG_MESSAGE = (
    "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"
)


def webapp(**spec: Any) -> dict[str, Any]:
    """A Kustomization applying ./deploy/production of a GitRepository, `spec` merged in."""
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "webapp", "namespace": "default"},
        "spec": {
            "interval": "15m",
            "retryInterval": "2m",
            "timeout": "3m",
            "path": "./deploy/production",
            "prune": True,
            "targetNamespace": "webapp",
            "sourceRef": {"kind": "GitRepository", "name": "webapp", "namespace": "flux-system"},
            "postBuild": {
                "substitute": {"cluster_env": "prod"},
                "substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars"}],
            },
            **spec,
        },
    }


def everything() -> Spec:
    """Every optional field of the spec set, as the Flux docs use them."""
    return {
        "buildMetadata": ["originAnnotations", "transformerAnnotations"],
        "commonMetadata": {"labels": {"team": "web"}, "annotations": {"owner": "web@example.com"}},
        "components": ["../components/ingress"],
        "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}},
        "deletionPolicy": "WaitForTermination",
        "dependsOn": [{"name": "infra", "namespace": "flux-system", "readyExpr": "dep.status.ready"}],
        "healthCheckExprs": [
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "current": "status.conditions.all(c, c.status == 'True')",
                "failed": "status.conditions.exists(c, c.status == 'False')",
            }
        ],
        "healthChecks": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "frontend", "namespace": "webapp"}
        ],
        "ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}],
        "ignoreMissingComponents": True,
        "images": [{"name": "ghcr.io/example/web", "newTag": "1.4.2"}],
        "kubeConfig": {"secretRef": {"name": "prod-kubeconfig", "key": "value"}},
        "namePrefix": "prod-",
        "nameSuffix": "-v1",
        "patches": [
            {
                "patch": "- op: replace\n  path: /spec/replicas\n  value: 3\n",
                "target": {"kind": "Deployment", "labelSelector": "app=frontend"},
            }
        ],
        "serviceAccountName": "webapp-deployer",
        "suspend": False,
        "wait": True,
        "force": True,
    }


def changed(change: Callable[[Spec], object]) -> dict[str, Any]:
    obj = webapp()
    change(obj["spec"])
    return obj


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return cluster_with(*kustomize.KINDS)


def test_a_kustomization_as_the_docs_write_it_is_stored_with_the_schema_defaults(
    cluster: store.MemoryCluster,
) -> None:
    stored = cluster.create(webapp(), field_manager="kubectl")
    assert stored["spec"] == {
        "interval": "15m",
        "retryInterval": "2m",
        "timeout": "3m",
        "path": "./deploy/production",
        "prune": True,
        "targetNamespace": "webapp",
        "sourceRef": {"kind": "GitRepository", "name": "webapp", "namespace": "flux-system"},
        "postBuild": {
            "substitute": {"cluster_env": "prod"},
            "substituteFrom": [{"kind": "ConfigMap", "name": "cluster-vars", "optional": False}],
        },
        "force": False,
    }


def test_a_new_kustomization_starts_at_observed_generation_minus_one(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(webapp(), field_manager="kubectl")
    assert stored["status"] == {"observedGeneration": -1}


def test_a_kustomization_using_every_spec_field_is_accepted_as_written(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(webapp(**everything()), field_manager="kubectl", field_validation="Strict")
    expected = webapp(**everything())["spec"]
    expected["postBuild"]["substituteFrom"][0]["optional"] = False
    assert stored["spec"] == expected


def test_the_stored_spec_parses_into_the_typed_spec_with_the_defaults(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(webapp(), field_manager="kubectl")
    spec = declare.parse(kustomize.KustomizationSpec, stored["spec"])
    assert spec.interval == "15m"
    assert spec.prune is True
    assert spec.source_ref == kustomize.CrossNamespaceSourceReference(
        kind="GitRepository", name="webapp", namespace="flux-system"
    )
    assert spec.post_build is not None
    assert spec.post_build.substitute_from == (
        kustomize.SubstituteReference(kind="ConfigMap", name="cluster-vars", optional=False),
    )
    assert spec.post_build.substitute_strategy is None
    assert (spec.force, spec.suspend, spec.wait) == (False, False, False)
    assert (spec.depends_on, spec.health_checks, spec.patches, spec.components) == ((), (), (), ())
    assert (spec.deletion_policy, spec.kube_config, spec.decryption) == (None, None, None)


def test_every_spec_field_parses_into_its_typed_value(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(webapp(**everything()), field_manager="kubectl")
    spec = declare.parse(kustomize.KustomizationSpec, stored["spec"])
    assert spec.build_metadata == ("originAnnotations", "transformerAnnotations")
    assert spec.decryption is not None and spec.decryption.provider == "sops"
    assert spec.depends_on[0].ready_expr == "dep.status.ready"
    assert spec.health_check_exprs[0].kind == "Certificate"
    assert spec.ignore[0].paths == ("/spec/replicas",)
    assert spec.kube_config is not None and spec.kube_config.secret_ref is not None
    assert spec.kube_config.secret_ref.key == "value"
    assert spec.patches[0].target is not None and spec.patches[0].target.label_selector == "app=frontend"
    assert spec.deletion_policy == "WaitForTermination"


def test_the_status_reports_inventory_and_history_and_parses(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(webapp(), field_manager="kubectl")
    stored["status"] = {
        "observedGeneration": 1,
        "lastAppliedRevision": "main@sha1:4b94f17f5ceb13341bdfe15d4d9249bb0a3a011e",
        "lastAttemptedRevision": "main@sha1:4b94f17f5ceb13341bdfe15d4d9249bb0a3a011e",
        "inventory": {"entries": [{"id": "webapp_frontend_apps_Deployment", "v": "v1"}]},
        "history": [
            {
                "digest": "sha256:966a0b26898be9448d927312d81f9221edac224e383f131a6451f22b918bd66d",
                "firstReconciled": "2025-01-01T00:00:00Z",
                "lastReconciled": "2025-01-01T00:15:00Z",
                "lastReconciledDuration": "1.2s",
                "lastReconciledStatus": "ReconciliationSucceeded",
                "totalReconciliations": 2,
            }
        ],
    }
    updated = cluster.update(stored, field_manager="kustomize-controller", subresource="status")
    status = declare.parse(kustomize.KustomizationStatus, updated["status"], "status")
    assert status.inventory == kustomize.ResourceInventory(
        entries=(kustomize.ResourceRef(id="webapp_frontend_apps_Deployment", v="v1"),)
    )
    assert status.history[0].total_reconciliations == 2
    assert status.conditions == ()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param(lambda s: s.pop("interval"), "spec.interval", id="interval"),
        pytest.param(lambda s: s.pop("prune"), "spec.prune", id="prune"),
        pytest.param(lambda s: s.pop("sourceRef"), "spec.sourceRef", id="sourceRef"),
        pytest.param(lambda s: s["sourceRef"].pop("kind"), "spec.sourceRef.kind", id="sourceRef.kind"),
        pytest.param(lambda s: s["sourceRef"].pop("name"), "spec.sourceRef.name", id="sourceRef.name"),
        pytest.param(lambda s: s.update(decryption={}), "spec.decryption.provider", id="decryption.provider"),
        pytest.param(
            lambda s: s.update(decryption={"provider": "sops", "secretRef": {}}),
            "spec.decryption.secretRef.name",
            id="decryption.secretRef.name",
        ),
        pytest.param(
            lambda s: s.update(dependsOn=[{"namespace": "flux-system"}]),
            "spec.dependsOn[0].name",
            id="dependsOn.name",
        ),
        pytest.param(
            lambda s: s.update(healthChecks=[{"name": "frontend"}]),
            "spec.healthChecks[0].kind",
            id="healthChecks.kind",
        ),
        pytest.param(
            lambda s: s.update(healthChecks=[{"kind": "Deployment"}]),
            "spec.healthChecks[0].name",
            id="healthChecks.name",
        ),
        pytest.param(
            lambda s: s.update(healthCheckExprs=[{"current": "true"}]),
            "spec.healthCheckExprs[0].apiVersion",
            id="healthCheckExprs.apiVersion",
        ),
        pytest.param(
            lambda s: s.update(healthCheckExprs=[{"apiVersion": "example.com/v1"}]),
            "spec.healthCheckExprs[0].current",
            id="healthCheckExprs.current",
        ),
        pytest.param(lambda s: s.update(ignore=[{}]), "spec.ignore[0].paths", id="ignore.paths"),
        pytest.param(lambda s: s.update(images=[{"newTag": "1.0"}]), "spec.images[0].name", id="images.name"),
        pytest.param(
            lambda s: s.update(patches=[{"target": {"kind": "Deployment"}}]),
            "spec.patches[0].patch",
            id="patches.patch",
        ),
        pytest.param(
            lambda s: s.update(kubeConfig={"secretRef": {"key": "value"}}),
            "spec.kubeConfig.secretRef.name",
            id="kubeConfig.secretRef.name",
        ),
        pytest.param(
            lambda s: s["postBuild"]["substituteFrom"][0].pop("kind"),
            "spec.postBuild.substituteFrom[0].kind",
            id="substituteFrom.kind",
        ),
        pytest.param(
            lambda s: s["postBuild"]["substituteFrom"][0].pop("name"),
            "spec.postBuild.substituteFrom[0].name",
            id="substituteFrom.name",
        ),
    ],
)
def test_a_missing_required_field_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str
) -> None:
    assert refused(cluster, changed(change)) == blocked(f"{PREFIX}{path}: Required value")


@pytest.mark.parametrize("field", ["interval", "retryInterval", "timeout"])
def test_a_duration_that_is_not_a_go_duration_is_refused(cluster: store.MemoryCluster, field: str) -> None:
    assert refused(cluster, webapp(**{field: "5"})) == (
        f'{PREFIX}spec.{field}: Invalid value: "5": spec.{field} in body should match {DURATION}'
    )


@pytest.mark.parametrize(
    ("change", "path", "supported"),
    [
        pytest.param(
            lambda s: s["sourceRef"].update(kind="foo"),
            "spec.sourceRef.kind",
            '"OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"',
            id="sourceRef.kind",
        ),
        pytest.param(
            lambda s: s.update(deletionPolicy="foo"),
            "spec.deletionPolicy",
            '"MirrorPrune", "Delete", "WaitForTermination", "Orphan"',
            id="deletionPolicy",
        ),
        pytest.param(
            lambda s: s.update(decryption={"provider": "foo"}),
            "spec.decryption.provider",
            '"sops"',
            id="provider",
        ),
        pytest.param(
            lambda s: s["postBuild"].update(substituteStrategy="foo"),
            "spec.postBuild.substituteStrategy",
            '"WithVariables", "Always"',
            id="substituteStrategy",
        ),
        pytest.param(
            lambda s: s["postBuild"]["substituteFrom"][0].update(kind="foo"),
            "spec.postBuild.substituteFrom[0].kind",
            '"Secret", "ConfigMap"',
            id="substituteFrom.kind",
        ),
        pytest.param(
            lambda s: s.update(buildMetadata=["foo"]),
            "spec.buildMetadata[0]",
            '"originAnnotations", "transformerAnnotations"',
            id="buildMetadata",
        ),
    ],
)
def test_a_value_outside_an_enum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str, supported: str
) -> None:
    assert refused(cluster, changed(change)) == blocked(
        f'{PREFIX}{path}: Unsupported value: "foo": supported values: {supported}'
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param(lambda s: s.update(namePrefix=""), "spec.namePrefix", id="namePrefix"),
        pytest.param(lambda s: s.update(nameSuffix=""), "spec.nameSuffix", id="nameSuffix"),
        pytest.param(lambda s: s.update(targetNamespace=""), "spec.targetNamespace", id="targetNamespace"),
        pytest.param(
            lambda s: s["postBuild"]["substituteFrom"][0].update(name=""),
            "spec.postBuild.substituteFrom[0].name",
            id="substituteFrom.name",
        ),
    ],
)
def test_an_empty_string_where_one_character_is_the_minimum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str
) -> None:
    assert refused(cluster, changed(change)) == (
        f'{PREFIX}{path}: Invalid value: "": {path} in body should be at least 1 chars long'
    )


@pytest.mark.parametrize(
    ("change", "path", "limit"),
    [
        pytest.param(lambda s: s.update(namePrefix="p" * 201), "spec.namePrefix", 200, id="namePrefix"),
        pytest.param(lambda s: s.update(nameSuffix="s" * 201), "spec.nameSuffix", 200, id="nameSuffix"),
        pytest.param(
            lambda s: s.update(targetNamespace="n" * 64), "spec.targetNamespace", 63, id="targetNamespace"
        ),
        pytest.param(
            lambda s: s["postBuild"]["substituteFrom"][0].update(name="c" * 254),
            "spec.postBuild.substituteFrom[0].name",
            253,
            id="substituteFrom.name",
        ),
    ],
)
def test_a_string_longer_than_its_maximum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str, limit: int
) -> None:
    assert refused(cluster, changed(change)) == blocked(
        f"{PREFIX}{path}: Too long: may not be more than {limit} bytes"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(lambda s: s.update(foo="bar"), "spec.foo", id="spec"),
        pytest.param(lambda s: s["sourceRef"].update(foo="bar"), "spec.sourceRef.foo", id="sourceRef"),
        pytest.param(lambda s: s["postBuild"].update(foo="bar"), "spec.postBuild.foo", id="postBuild"),
    ],
)
def test_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], field: str
) -> None:
    assert refused(cluster, changed(change)) == (
        'Kustomization in version "v1" cannot be handled as a Kustomization: '
        f'strict decoding error: unknown field "{field}"'
    )


# CEL: spec.kubeConfig names exactly one of configMapRef and secretRef.


@pytest.mark.parametrize(
    "kube_config",
    [
        pytest.param({}, id="neither"),
        pytest.param(
            {"configMapRef": {"name": "prod-cluster"}, "secretRef": {"name": "prod-kubeconfig"}}, id="both"
        ),
    ],
)
def test_a_kubeconfig_must_name_exactly_one_of_a_configmap_and_a_secret(
    cluster: store.MemoryCluster, kube_config: dict[str, Any]
) -> None:
    assert refused(cluster, webapp(kubeConfig=kube_config)) == (
        f"{PREFIX}spec.kubeConfig: Invalid value: {KUBECONFIG_MESSAGE}"
    )


@pytest.mark.parametrize(
    "kube_config",
    [
        pytest.param({"configMapRef": {"name": "prod-cluster"}}, id="configMapRef"),
        pytest.param({"secretRef": {"name": "prod-kubeconfig"}}, id="secretRef"),
    ],
)
def test_a_kubeconfig_naming_one_of_a_configmap_and_a_secret_is_accepted(
    cluster: store.MemoryCluster, kube_config: dict[str, Any]
) -> None:
    stored = cluster.create(webapp(kubeConfig=copy.deepcopy(kube_config)), field_manager="kubectl")
    assert stored["spec"]["kubeConfig"] == kube_config
