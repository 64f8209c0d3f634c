"""The HelmRelease CRD generated from `fluxapi.helm`: what the API server accepts, defaults and refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import crds, declare, helm, meta
from tests.fluxapi.conftest import blocked, cluster_with, refused

DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
INVALID = 'HelmRelease.helm.toolkit.fluxcd.io "podinfo" is invalid: '

# A release of the podinfo chart from a HelmRepository, with the settings the Flux docs show off.
PODINFO: dict[str, Any] = {
    "interval": "15m",
    "timeout": "5m",
    "chart": {
        "spec": {
            "chart": "podinfo",
            "version": "6.5.*",
            "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
            "interval": "5m",
        }
    },
    "releaseName": "podinfo",
    "install": {"remediation": {"retries": 3}},
    "upgrade": {"remediation": {"retries": 3}},
    "test": {"enable": True},
    "driftDetection": {
        "mode": "enabled",
        "ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}],
    },
    "uninstall": {"keepHistory": True},
    "values": {"replicaCount": 2, "ingress": {"enabled": False, "hosts": ["podinfo.local"]}},
}

# The smallest valid release: a chart from an OCIRepository.
MINIMAL: dict[str, Any] = {"interval": "10m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}

CHART_TEMPLATE: dict[str, Any] = {
    "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}
}


def helmrelease(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "default"},
        "spec": copy.deepcopy(spec),
    }


def minimal(**fields: Any) -> dict[str, Any]:
    """MINIMAL with `fields` set (a None value removes the field)."""
    spec = copy.deepcopy(MINIMAL)
    for name, value in fields.items():
        if value is None:
            spec.pop(name, None)
        else:
            spec[name] = copy.deepcopy(value)
    return spec


def from_template(**chart_spec: Any) -> dict[str, Any]:
    """A release from a chart template whose spec has `chart_spec` set (None removes a field)."""
    template = copy.deepcopy(CHART_TEMPLATE["spec"])
    for name, value in chart_spec.items():
        if value is None:
            template.pop(name, None)
        else:
            template[name] = value
    return minimal(chartRef=None, chart={"spec": template})


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return cluster_with(*helm.KINDS)


def create(cluster: store.MemoryCluster, spec: dict[str, Any]) -> dict[str, Any]:
    return cluster.create(helmrelease(spec), field_manager="kubectl-create", field_validation="Strict")


# ---------------------------------------------------------------------------------------------
# The kind


def test_the_crd_names_serves_and_labels_the_kind_as_flux_does() -> None:
    manifest = crds.manifest(helm.HELMRELEASE)
    assert manifest["metadata"]["name"] == "helmreleases.helm.toolkit.fluxcd.io"
    assert manifest["metadata"]["annotations"] == {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}
    assert manifest["metadata"]["labels"]["app.kubernetes.io/component"] == "helm-controller"
    assert manifest["spec"]["names"] == {
        "categories": ["all", "fluxcd", "fluxcd-appliers"],
        "kind": "HelmRelease",
        "listKind": "HelmReleaseList",
        "plural": "helmreleases",
        "shortNames": ["hr"],
        "singular": "helmrelease",
    }
    [version] = manifest["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v2", True, True)
    assert version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == ["Age", "Ready", "Status"]


# ---------------------------------------------------------------------------------------------
# Accepted and defaulted


def test_a_release_from_a_chart_template_is_stored_with_the_schema_defaults(
    cluster: store.MemoryCluster,
) -> None:
    stored = create(cluster, PODINFO)
    assert stored["spec"] == {
        "interval": "15m",
        "timeout": "5m",
        "chart": {
            "spec": {
                "chart": "podinfo",
                "version": "6.5.*",
                "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
                "interval": "5m",
                "reconcileStrategy": "ChartVersion",
            }
        },
        "releaseName": "podinfo",
        "install": {"remediation": {"retries": 3}},
        "upgrade": {"remediation": {"retries": 3}},
        "test": {"enable": True},
        "driftDetection": {
            "mode": "enabled",
            "ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}],
        },
        "uninstall": {"keepHistory": True, "deletionPropagation": "background"},
        "values": {"replicaCount": 2, "ingress": {"enabled": False, "hosts": ["podinfo.local"]}},
    }


def test_a_new_release_starts_with_observed_generation_minus_one(cluster: store.MemoryCluster) -> None:
    assert create(cluster, PODINFO)["status"] == {"observedGeneration": -1}


def test_a_chart_template_without_a_version_takes_any_version(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, from_template())
    assert stored["spec"]["chart"]["spec"]["version"] == "*"


def test_a_chart_verification_without_a_provider_uses_cosign(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, from_template(verify={"secretRef": {"name": "cosign-keys"}}))
    assert stored["spec"]["chart"]["spec"]["verify"] == {
        "provider": "cosign",
        "secretRef": {"name": "cosign-keys"},
    }


def test_a_release_using_every_spec_field_is_accepted_unchanged(cluster: store.MemoryCluster) -> None:
    spec = minimal(
        commonMetadata={"labels": {"team": "web"}, "annotations": {"owner": "web"}},
        dependsOn=[{"name": "cert-manager", "namespace": "infra", "readyExpr": "dep.status.ready"}],
        driftDetection={"mode": "warn", "ignore": [{"paths": ["/data"]}]},
        healthCheckExprs=[{"apiVersion": "example.com/v1", "kind": "Widget", "current": "true"}],
        install={
            "timeout": "3m",
            "strategy": {"name": "RetryOnFailure", "retryInterval": "2m"},
            "remediation": {"retries": -1, "ignoreTestFailures": True, "remediateLastFailure": False},
            "disableTakeOwnership": True,
            "disableWait": True,
            "disableWaitForJobs": True,
            "disableHooks": True,
            "disableOpenAPIValidation": True,
            "disableSchemaValidation": True,
            "replace": True,
            "skipCRDs": True,
            "crds": "CreateReplace",
            "createNamespace": True,
            "serverSideApply": False,
        },
        kubeConfig={"secretRef": {"name": "prod-kubeconfig", "key": "value"}},
        maxHistory=10,
        persistentClient=False,
        postRenderStrategy="separate",
        postRenderers=[
            {
                "kustomize": {
                    "patches": [{"patch": "- op: remove\n  path: /x\n", "target": {"kind": "Deployment"}}],
                    "images": [{"name": "podinfo", "newTag": "6.5.4"}],
                }
            }
        ],
        releaseName="web",
        rollback={
            "timeout": "1m",
            "disableWait": True,
            "disableWaitForJobs": True,
            "disableHooks": True,
            "recreate": True,
            "force": True,
            "cleanupOnFail": True,
            "serverSideApply": "disabled",
        },
        serviceAccountName="helm",
        storageNamespace="helm-storage",
        suspend=True,
        targetNamespace="web",
        test={
            "enable": True,
            "timeout": "2m",
            "ignoreFailures": True,
            "filters": [{"name": "smoke", "exclude": True}],
        },
        uninstall={
            "timeout": "1m",
            "disableHooks": True,
            "keepHistory": True,
            "disableWait": True,
            "deletionPropagation": "foreground",
        },
        upgrade={
            "timeout": "4m",
            "strategy": {"name": "RemediateOnFailure"},
            "remediation": {"retries": 2, "strategy": "uninstall", "remediateLastFailure": True},
            "disableTakeOwnership": True,
            "disableWait": True,
            "disableWaitForJobs": True,
            "disableHooks": True,
            "disableOpenAPIValidation": True,
            "disableSchemaValidation": True,
            "force": True,
            "preserveValues": True,
            "cleanupOnFail": True,
            "crds": "Create",
            "serverSideApply": "auto",
            "chartNameChangeStrategy": "InPlaceUpdate",
        },
        values={"image": {"tag": "latest"}},
        valuesFrom=[
            {"kind": "ConfigMap", "name": "web-values", "valuesKey": "prod.yaml", "optional": True},
            {
                "kind": "Secret",
                "name": "web-token",
                "valuesKey": "token",
                "targetPath": "auth.token",
                "literal": True,
            },
        ],
        waitStrategy={"name": "legacy"},
    )
    assert create(cluster, spec)["spec"] == spec


def test_values_of_any_shape_are_kept_as_they_are(cluster: store.MemoryCluster) -> None:
    values = {"a": [1, "two", {"three": None}], "b": {"c": {"d": 1.5}}, "x-unknown": True}
    assert create(cluster, minimal(values=values))["spec"]["values"] == values


def test_a_status_with_history_and_inventory_is_stored_through_the_status_subresource(
    cluster: store.MemoryCluster,
) -> None:
    created = create(cluster, PODINFO)
    status = {
        "observedGeneration": 1,
        "lastAttemptedGeneration": 1,
        "lastAttemptedReleaseAction": "install",
        "lastAttemptedReleaseActionDuration": "12.5s",
        "lastAttemptedRevision": "6.5.4",
        "lastAttemptedConfigDigest": "sha256:abc",
        "helmChart": "default/default-podinfo",
        "storageNamespace": "default",
        "failures": 0,
        "installFailures": 1,
        "upgradeFailures": 0,
        "history": [
            {
                "apiVersion": "v2",
                "name": "podinfo",
                "namespace": "default",
                "version": 1,
                "status": "deployed",
                "action": "install",
                "chartName": "podinfo",
                "chartVersion": "6.5.4",
                "appVersion": "6.5.4",
                "configDigest": "sha256:abc",
                "digest": "sha256:def",
                "firstDeployed": "2026-01-01T00:00:00Z",
                "lastDeployed": "2026-01-01T00:00:00Z",
                "testHooks": {"podinfo-grpc-test-abcd": {"phase": "Succeeded"}},
            }
        ],
        "inventory": {"entries": [{"id": "default_podinfo_apps_Deployment", "v": "v1"}]},
    }
    updated = cluster.update(
        {**created, "status": status}, field_manager="helm-controller", subresource="status"
    )
    assert updated["status"] == status


# ---------------------------------------------------------------------------------------------
# Refused: required fields


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(minimal(interval=None), "spec.interval", id="interval"),
        pytest.param(minimal(chartRef=None, chart={}), "spec.chart.spec", id="chart.spec"),
        pytest.param(from_template(chart=None), "spec.chart.spec.chart", id="chart.spec.chart"),
        pytest.param(from_template(sourceRef=None), "spec.chart.spec.sourceRef", id="chart.spec.sourceRef"),
        pytest.param(
            from_template(sourceRef={"name": "podinfo"}),
            "spec.chart.spec.sourceRef.kind",
            id="chart.spec.sourceRef.kind",
        ),
        pytest.param(
            from_template(sourceRef={"kind": "HelmRepository"}),
            "spec.chart.spec.sourceRef.name",
            id="chart.spec.sourceRef.name",
        ),
        pytest.param(
            from_template(verify={"secretRef": {}}),
            "spec.chart.spec.verify.secretRef.name",
            id="verify.secretRef.name",
        ),
        pytest.param(minimal(chartRef={"name": "podinfo"}), "spec.chartRef.kind", id="chartRef.kind"),
        pytest.param(minimal(chartRef={"kind": "HelmChart"}), "spec.chartRef.name", id="chartRef.name"),
        pytest.param(
            minimal(dependsOn=[{"namespace": "infra"}]), "spec.dependsOn[0].name", id="dependsOn.name"
        ),
        pytest.param(
            minimal(driftDetection={"ignore": [{"target": {"kind": "Deployment"}}]}),
            "spec.driftDetection.ignore[0].paths",
            id="driftDetection.ignore.paths",
        ),
        pytest.param(
            minimal(healthCheckExprs=[{"current": "true"}]),
            "spec.healthCheckExprs[0].apiVersion",
            id="healthCheckExprs.apiVersion",
        ),
        pytest.param(
            minimal(healthCheckExprs=[{"apiVersion": "example.com/v1"}]),
            "spec.healthCheckExprs[0].current",
            id="healthCheckExprs.current",
        ),
        pytest.param(
            minimal(install={"strategy": {}}),
            "spec.install.strategy.name",
            id="install.strategy",
        ),
        pytest.param(minimal(upgrade={"strategy": {}}), "spec.upgrade.strategy.name", id="upgrade.strategy"),
        pytest.param(
            minimal(kubeConfig={"secretRef": {"key": "value"}}),
            "spec.kubeConfig.secretRef.name",
            id="kubeConfig.secret",
        ),
        pytest.param(
            minimal(kubeConfig={"configMapRef": {}}),
            "spec.kubeConfig.configMapRef.name",
            id="kubeConfig.configMap",
        ),
        pytest.param(
            minimal(postRenderers=[{"kustomize": {"patches": [{"target": {"kind": "Service"}}]}}]),
            "spec.postRenderers[0].kustomize.patches[0].patch",
            id="postRenderers.patch",
        ),
        pytest.param(
            minimal(postRenderers=[{"kustomize": {"images": [{"newTag": "1"}]}}]),
            "spec.postRenderers[0].kustomize.images[0].name",
            id="postRenderers.image",
        ),
        pytest.param(
            minimal(test={"filters": [{"exclude": True}]}), "spec.test.filters[0].name", id="test.filter"
        ),
        pytest.param(
            minimal(valuesFrom=[{"name": "values"}]), "spec.valuesFrom[0].kind", id="valuesFrom.kind"
        ),
        pytest.param(
            minimal(valuesFrom=[{"kind": "Secret"}]), "spec.valuesFrom[0].name", id="valuesFrom.name"
        ),
        pytest.param(minimal(waitStrategy={}), "spec.waitStrategy.name", id="waitStrategy"),
    ],
)
def test_a_missing_required_field_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str
) -> None:
    assert refused(cluster, helmrelease(spec)) == blocked(f"{INVALID}{path}: Required value")


# ---------------------------------------------------------------------------------------------
# Refused: patterns, enums, lengths, types


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(minimal(interval="5"), "spec.interval", id="interval"),
        pytest.param(minimal(timeout="5"), "spec.timeout", id="timeout"),
        pytest.param(from_template(interval="5"), "spec.chart.spec.interval", id="chart.interval"),
        pytest.param(minimal(install={"timeout": "5"}), "spec.install.timeout", id="install.timeout"),
        pytest.param(
            minimal(install={"strategy": {"name": "RetryOnFailure", "retryInterval": "5"}}),
            "spec.install.strategy.retryInterval",
            id="install.retryInterval",
        ),
        pytest.param(minimal(upgrade={"timeout": "5"}), "spec.upgrade.timeout", id="upgrade.timeout"),
        pytest.param(
            minimal(upgrade={"strategy": {"name": "RetryOnFailure", "retryInterval": "5"}}),
            "spec.upgrade.strategy.retryInterval",
            id="upgrade.retryInterval",
        ),
        pytest.param(minimal(test={"timeout": "5"}), "spec.test.timeout", id="test.timeout"),
        pytest.param(minimal(rollback={"timeout": "5"}), "spec.rollback.timeout", id="rollback.timeout"),
        pytest.param(minimal(uninstall={"timeout": "5"}), "spec.uninstall.timeout", id="uninstall.timeout"),
    ],
)
def test_a_duration_that_is_not_a_go_duration_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str
) -> None:
    assert refused(cluster, helmrelease(spec)) == (
        f"{INVALID}{path}: Invalid value: \"5\": {path} in body should match '{DURATION}'"
    )


@pytest.mark.parametrize(
    ("reference", "field", "value", "pattern"),
    [
        pytest.param({"valuesKey": "a b"}, "valuesKey", "a b", r"^[\-._a-zA-Z0-9]+$", id="valuesKey"),
        pytest.param(
            {"targetPath": "a b"},
            "targetPath",
            "a b",
            r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$",
            id="targetPath",
        ),
    ],
)
def test_a_values_reference_with_a_malformed_key_or_path_is_refused(
    cluster: store.MemoryCluster, reference: dict[str, Any], field: str, value: str, pattern: str
) -> None:
    spec = minimal(valuesFrom=[{"kind": "Secret", "name": "values", **reference}])
    path = f"spec.valuesFrom[0].{field}"
    assert refused(cluster, helmrelease(spec)) == (
        f"{INVALID}{path}: Invalid value: \"{value}\": {path} in body should match '{pattern}'"
    )


@pytest.mark.parametrize(
    ("spec", "path", "supported"),
    [
        pytest.param(
            from_template(sourceRef={"kind": "foo", "name": "podinfo"}),
            "spec.chart.spec.sourceRef.kind",
            '"HelmRepository", "GitRepository", "Bucket"',
            id="chart.sourceRef.kind",
        ),
        pytest.param(
            from_template(reconcileStrategy="foo"),
            "spec.chart.spec.reconcileStrategy",
            '"ChartVersion", "Revision"',
            id="chart.reconcileStrategy",
        ),
        pytest.param(
            from_template(verify={"provider": "foo"}),
            "spec.chart.spec.verify.provider",
            '"cosign", "notation"',
            id="chart.verify.provider",
        ),
        pytest.param(
            minimal(chartRef={"kind": "foo", "name": "podinfo"}),
            "spec.chartRef.kind",
            '"OCIRepository", "HelmChart", "ExternalArtifact"',
            id="chartRef.kind",
        ),
        pytest.param(
            minimal(driftDetection={"mode": "foo"}),
            "spec.driftDetection.mode",
            '"enabled", "warn", "disabled"',
            id="driftDetection.mode",
        ),
        pytest.param(
            minimal(install={"crds": "foo"}),
            "spec.install.crds",
            '"Skip", "Create", "CreateReplace"',
            id="install.crds",
        ),
        pytest.param(
            minimal(install={"strategy": {"name": "foo"}}),
            "spec.install.strategy.name",
            '"RemediateOnFailure", "RetryOnFailure"',
            id="install.strategy.name",
        ),
        pytest.param(
            minimal(upgrade={"crds": "foo"}),
            "spec.upgrade.crds",
            '"Skip", "Create", "CreateReplace"',
            id="upgrade.crds",
        ),
        pytest.param(
            minimal(upgrade={"strategy": {"name": "foo"}}),
            "spec.upgrade.strategy.name",
            '"RemediateOnFailure", "RetryOnFailure"',
            id="upgrade.strategy.name",
        ),
        pytest.param(
            minimal(upgrade={"remediation": {"strategy": "foo"}}),
            "spec.upgrade.remediation.strategy",
            '"rollback", "uninstall"',
            id="upgrade.remediation.strategy",
        ),
        pytest.param(
            minimal(upgrade={"serverSideApply": "foo"}),
            "spec.upgrade.serverSideApply",
            '"enabled", "disabled", "auto"',
            id="upgrade.serverSideApply",
        ),
        pytest.param(
            minimal(upgrade={"chartNameChangeStrategy": "foo"}),
            "spec.upgrade.chartNameChangeStrategy",
            '"InPlaceUpdate", "Reinstall"',
            id="upgrade.chartNameChangeStrategy",
        ),
        pytest.param(
            minimal(rollback={"serverSideApply": "foo"}),
            "spec.rollback.serverSideApply",
            '"enabled", "disabled", "auto"',
            id="rollback.serverSideApply",
        ),
        pytest.param(
            minimal(uninstall={"deletionPropagation": "foo"}),
            "spec.uninstall.deletionPropagation",
            '"background", "foreground", "orphan"',
            id="uninstall.deletionPropagation",
        ),
        pytest.param(
            minimal(postRenderStrategy="foo"),
            "spec.postRenderStrategy",
            '"nohooks", "combined", "separate"',
            id="postRenderStrategy",
        ),
        pytest.param(
            minimal(waitStrategy={"name": "foo"}),
            "spec.waitStrategy.name",
            '"poller", "legacy"',
            id="waitStrategy",
        ),
        pytest.param(
            minimal(valuesFrom=[{"kind": "foo", "name": "values"}]),
            "spec.valuesFrom[0].kind",
            '"Secret", "ConfigMap"',
            id="valuesFrom.kind",
        ),
    ],
)
def test_a_value_outside_an_enum_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str, supported: str
) -> None:
    assert refused(cluster, helmrelease(spec)) == blocked(
        f'{INVALID}{path}: Unsupported value: "foo": supported values: {supported}'
    )


@pytest.mark.parametrize(
    ("spec", "path", "limit"),
    [
        pytest.param(minimal(releaseName="r" * 54), "spec.releaseName", 53, id="releaseName"),
        pytest.param(minimal(targetNamespace="n" * 64), "spec.targetNamespace", 63, id="targetNamespace"),
        pytest.param(minimal(storageNamespace="n" * 64), "spec.storageNamespace", 63, id="storageNamespace"),
        pytest.param(
            minimal(serviceAccountName="s" * 254), "spec.serviceAccountName", 253, id="serviceAccountName"
        ),
        pytest.param(from_template(chart="c" * 2049), "spec.chart.spec.chart", 2048, id="chart.chart"),
        pytest.param(
            from_template(sourceRef={"kind": "HelmRepository", "name": "n" * 254}),
            "spec.chart.spec.sourceRef.name",
            253,
            id="chart.sourceRef.name",
        ),
        pytest.param(
            from_template(sourceRef={"kind": "HelmRepository", "name": "podinfo", "namespace": "n" * 64}),
            "spec.chart.spec.sourceRef.namespace",
            63,
            id="chart.sourceRef.namespace",
        ),
        pytest.param(
            minimal(chartRef={"kind": "HelmChart", "name": "n" * 254}),
            "spec.chartRef.name",
            253,
            id="chartRef.name",
        ),
        pytest.param(
            minimal(chartRef={"kind": "HelmChart", "name": "podinfo", "namespace": "n" * 64}),
            "spec.chartRef.namespace",
            63,
            id="chartRef.namespace",
        ),
        pytest.param(
            minimal(test={"filters": [{"name": "t" * 254}]}), "spec.test.filters[0].name", 253, id="filter"
        ),
        pytest.param(
            minimal(valuesFrom=[{"kind": "Secret", "name": "n" * 254}]),
            "spec.valuesFrom[0].name",
            253,
            id="valuesFrom",
        ),
        pytest.param(
            minimal(valuesFrom=[{"kind": "Secret", "name": "v", "valuesKey": "k" * 254}]),
            "spec.valuesFrom[0].valuesKey",
            253,
            id="valuesKey",
        ),
        pytest.param(
            minimal(valuesFrom=[{"kind": "Secret", "name": "v", "targetPath": "p" * 251}]),
            "spec.valuesFrom[0].targetPath",
            250,
            id="targetPath",
        ),
    ],
)
def test_a_string_over_its_maximum_length_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str, limit: int
) -> None:
    assert refused(cluster, helmrelease(spec)) == blocked(
        f"{INVALID}{path}: Too long: may not be more than {limit} bytes"
    )


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(minimal(releaseName=""), "spec.releaseName", id="releaseName"),
        pytest.param(minimal(targetNamespace=""), "spec.targetNamespace", id="targetNamespace"),
        pytest.param(minimal(storageNamespace=""), "spec.storageNamespace", id="storageNamespace"),
        pytest.param(minimal(serviceAccountName=""), "spec.serviceAccountName", id="serviceAccountName"),
        pytest.param(from_template(chart=""), "spec.chart.spec.chart", id="chart.chart"),
        pytest.param(
            from_template(sourceRef={"kind": "HelmRepository", "name": ""}),
            "spec.chart.spec.sourceRef.name",
            id="chart.sourceRef.name",
        ),
        pytest.param(
            from_template(sourceRef={"kind": "HelmRepository", "name": "podinfo", "namespace": ""}),
            "spec.chart.spec.sourceRef.namespace",
            id="chart.sourceRef.namespace",
        ),
        pytest.param(
            minimal(chartRef={"kind": "HelmChart", "name": ""}), "spec.chartRef.name", id="chartRef.name"
        ),
        pytest.param(
            minimal(chartRef={"kind": "HelmChart", "name": "podinfo", "namespace": ""}),
            "spec.chartRef.namespace",
            id="chartRef.namespace",
        ),
        pytest.param(minimal(test={"filters": [{"name": ""}]}), "spec.test.filters[0].name", id="filter"),
        pytest.param(
            minimal(valuesFrom=[{"kind": "Secret", "name": ""}]), "spec.valuesFrom[0].name", id="valuesFrom"
        ),
    ],
)
def test_an_empty_string_where_one_character_is_the_minimum_is_refused(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str
) -> None:
    assert refused(cluster, helmrelease(spec)) == (
        f'{INVALID}{path}: Invalid value: "": {path} in body should be at least 1 chars long'
    )


def test_a_max_history_that_is_not_an_integer_is_refused(cluster: store.MemoryCluster) -> None:
    assert refused(cluster, helmrelease(minimal(maxHistory="5"))) == blocked(
        f'{INVALID}spec.maxHistory: Invalid value: "string": '
        'spec.maxHistory in body must be of type integer: "string"'
    )


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(minimal(foo=1), "spec.foo", id="spec"),
        pytest.param(minimal(install={"foo": 1}), "spec.install.foo", id="install"),
        pytest.param(from_template(foo=1), "spec.chart.spec.foo", id="chart.spec"),
    ],
)
def test_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, spec: dict[str, Any], path: str
) -> None:
    assert refused(cluster, helmrelease(spec)) == (
        'HelmRelease in version "v2" cannot be handled as a HelmRelease: '
        f'strict decoding error: unknown field "{path}"'
    )


def test_a_status_with_an_unknown_release_action_is_refused(cluster: store.MemoryCluster) -> None:
    created = create(cluster, MINIMAL)
    with pytest.raises(errors.Invalid) as caught:
        cluster.update(
            {**created, "status": {"lastAttemptedReleaseAction": "rollback"}},
            field_manager="helm-controller",
            subresource="status",
        )
    assert str(caught.value) == blocked(
        f'{INVALID}status.lastAttemptedReleaseAction: Unsupported value: "rollback": '
        'supported values: "install", "upgrade"'
    )


# ---------------------------------------------------------------------------------------------
# CEL rules


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(minimal(chart=CHART_TEMPLATE), id="both"),
        pytest.param(minimal(chartRef=None), id="neither"),
    ],
)
def test_a_release_needs_exactly_one_of_chart_and_chart_ref(
    cluster: store.MemoryCluster, spec: dict[str, Any]
) -> None:
    assert (
        refused(cluster, helmrelease(spec))
        == f"{INVALID}spec: Invalid value: either chart or chartRef must be set"
    )


def test_a_release_with_only_a_chart_ref_is_accepted(cluster: store.MemoryCluster) -> None:
    assert create(cluster, MINIMAL)["spec"] == MINIMAL


def test_a_release_with_only_a_chart_template_is_accepted(cluster: store.MemoryCluster) -> None:
    assert "chart" in create(cluster, from_template())["spec"]


def test_an_install_retry_interval_with_remediate_on_failure_is_refused(cluster: store.MemoryCluster) -> None:
    spec = minimal(install={"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}})
    assert refused(cluster, helmrelease(spec)) == (
        f"{INVALID}spec.install.strategy: Invalid value: "
        ".retryInterval cannot be set when .name is 'RemediateOnFailure'"
    )


def test_an_install_retry_interval_with_retry_on_failure_is_accepted(cluster: store.MemoryCluster) -> None:
    strategy = {"name": "RetryOnFailure", "retryInterval": "1m"}
    assert create(cluster, minimal(install={"strategy": strategy}))["spec"]["install"]["strategy"] == strategy


def test_an_upgrade_retry_interval_with_remediate_on_failure_is_refused(cluster: store.MemoryCluster) -> None:
    spec = minimal(upgrade={"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}})
    assert refused(cluster, helmrelease(spec)) == (
        f"{INVALID}spec.upgrade.strategy: Invalid value: "
        ".retryInterval can only be set when .name is 'RetryOnFailure'"
    )


def test_an_upgrade_retry_interval_with_retry_on_failure_is_accepted(cluster: store.MemoryCluster) -> None:
    strategy = {"name": "RetryOnFailure", "retryInterval": "1m"}
    assert create(cluster, minimal(upgrade={"strategy": strategy}))["spec"]["upgrade"]["strategy"] == strategy


@pytest.mark.parametrize(
    "kube_config",
    [
        pytest.param({}, id="neither"),
        pytest.param({"secretRef": {"name": "kubeconfig"}, "configMapRef": {"name": "cluster"}}, id="both"),
    ],
)
def test_a_kube_config_needs_exactly_one_of_a_secret_and_a_config_map(
    cluster: store.MemoryCluster, kube_config: dict[str, Any]
) -> None:
    assert refused(cluster, helmrelease(minimal(kubeConfig=kube_config))) == (
        f"{INVALID}spec.kubeConfig: Invalid value: "
        "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"
    )


@pytest.mark.parametrize(
    "kube_config",
    [
        pytest.param({"secretRef": {"name": "kubeconfig"}}, id="secret"),
        pytest.param({"configMapRef": {"name": "cluster"}}, id="configMap"),
    ],
)
def test_a_kube_config_with_one_of_a_secret_and_a_config_map_is_accepted(
    cluster: store.MemoryCluster, kube_config: dict[str, Any]
) -> None:
    assert create(cluster, minimal(kubeConfig=kube_config))["spec"]["kubeConfig"] == kube_config


# ---------------------------------------------------------------------------------------------
# Parsing


def test_a_stored_spec_parses_into_the_typed_spec_with_its_defaults(cluster: store.MemoryCluster) -> None:
    podinfo = {name: value for name, value in PODINFO.items() if name != "driftDetection"}
    spec = declare.parse(helm.HelmReleaseSpec, create(cluster, podinfo)["spec"])
    assert spec.interval == "15m"
    assert spec.chart_ref is None
    assert spec.chart is not None
    assert spec.chart.spec.version == "6.5.*"
    assert spec.chart.spec.reconcile_strategy == "ChartVersion"
    assert spec.chart.spec.source_ref == helm.CrossNamespaceObjectReference(
        kind="HelmRepository", name="podinfo"
    )
    assert spec.install is not None and spec.install.remediation is not None
    assert spec.install.remediation.retries == 3
    assert spec.uninstall is not None
    assert spec.uninstall.deletion_propagation == "background"
    assert spec.uninstall.keep_history is True
    values: Any = spec.values
    assert values == {"replicaCount": 2, "ingress": {"enabled": False, "hosts": ["podinfo.local"]}}
    assert spec.suspend is False
    assert spec.persistent_client is None
    assert spec.values_from is None


def test_lists_in_a_stored_spec_parse_into_tuples(cluster: store.MemoryCluster) -> None:
    spec = declare.parse(helm.HelmReleaseSpec, create(cluster, PODINFO)["spec"])
    assert spec.drift_detection == helm.DriftDetection(
        mode="enabled",
        ignore=(helm.IgnoreRule(paths=("/spec/replicas",), target=meta.Selector(kind="Deployment")),),
    )


def test_a_status_parses_into_the_typed_status() -> None:
    status = declare.parse(
        helm.HelmReleaseStatus,
        {
            "observedGeneration": 2,
            "lastAttemptedReleaseAction": "upgrade",
            "upgradeFailures": 1,
            "history": [
                {
                    "name": "podinfo",
                    "namespace": "default",
                    "version": 2,
                    "status": "failed",
                    "chartName": "podinfo",
                    "chartVersion": "6.5.4",
                    "configDigest": "sha256:abc",
                    "digest": "sha256:def",
                    "firstDeployed": "2026-01-01T00:00:00Z",
                    "lastDeployed": "2026-01-02T00:00:00Z",
                    "testHooks": {"smoke": {"phase": "Failed"}},
                }
            ],
        },
        "status",
    )
    assert status.observed_generation == 2
    assert status.last_attempted_release_action == "upgrade"
    assert status.upgrade_failures == 1
    assert status.install_failures is None
    assert status.history is not None
    [snapshot] = status.history
    assert (snapshot.version, snapshot.status, snapshot.action) == (2, "failed", None)
    assert snapshot.test_hooks == {"smoke": helm.TestHookStatus(phase="Failed")}
