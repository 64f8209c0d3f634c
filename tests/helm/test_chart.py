"""Where a HelmRelease's chart comes from: names, the HelmChart template, the source and its artifact.

Expected values come from helm-controller's api/v2 getters, internal/release/name_test.go,
internal/reconcile/helmchart_template.go and internal/controller/helmrelease_controller.go (and
its tests' messages).
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.apply import changeset
from gitops_sim.helm import chart
from gitops_sim.model import artifacts, refs
from gitops_sim.model.fluxapi import declare, helm

DIGEST = "sha256:" + "0123456789abcdef" * 4


def spec(**fields: Any) -> helm.HelmReleaseSpec:
    raw: dict[str, Any] = {"interval": "10m"}
    if "chartRef" not in fields:
        raw["chart"] = {
            "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}
        }
    raw.update(fields)
    return declare.parse(helm.HelmReleaseSpec, raw)


def template(**chart_spec: Any) -> dict[str, Any]:
    return {
        "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}, **chart_spec}
    }


def source_obj(
    *,
    generation: int = 1,
    observed: int | None = 1,
    ready: tuple[str, str] | None = ("True", "ok"),
    stalled: str | None = None,
    artifact: bool = True,
) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": []}
    if observed is not None:
        status["observedGeneration"] = observed
    if ready is not None:
        status["conditions"].append({"type": "Ready", "status": ready[0], "reason": "R", "message": ready[1]})
    if stalled is not None:
        status["conditions"].append({"type": "Stalled", "status": "True", "reason": "R", "message": stalled})
    if artifact:
        status["artifact"] = {
            "path": "helmchart/apps/apps-podinfo/podinfo-6.5.0.tgz",
            "url": "http://source-controller.flux-system.svc.cluster.local./helmchart/apps/apps-podinfo/podinfo-6.5.0.tgz",
            "revision": "6.5.0",
            "digest": DIGEST,
            "lastUpdateTime": "2026-01-01T00:00:00Z",
            "size": 1234,
        }
    return {"metadata": {"name": "x", "namespace": "apps", "generation": generation}, "status": status}


HC = chart.SourceRef("HelmChart", "apps", "apps-podinfo")
OCI = chart.SourceRef("OCIRepository", "apps", "podinfo")
EA = chart.SourceRef("ExternalArtifact", "apps", "podinfo")


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, "podinfo", id="the-object-name"),
        pytest.param({"targetNamespace": "web"}, "web-podinfo", id="target-namespace-prefixed"),
        pytest.param({"targetNamespace": "web", "releaseName": "front"}, "front", id="release-name-wins"),
    ],
)
def test_release_name_follows_get_release_name(fields: dict[str, Any], expected: str) -> None:
    assert chart.release_name(spec(**fields), "podinfo") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("release-name", "release-name", id="short-kept"),
        pytest.param(
            "release-name-with-very-long-name-which-is-longer-than-53-characters",
            "release-name-with-very-long-name-which-i-788ca0d0d7b0",
            id="long-hashed",
        ),
        pytest.param(
            "another-release-name-with-very-long-name-which-is-longer-than-53-characters",
            "another-release-name-with-very-long-name-7e72150d5a36",
            id="another-long-hashed",
        ),
        pytest.param("a" * 53, "a" * 53, id="exactly-53-kept"),
        pytest.param("", "", id="empty"),
    ],
)
def test_shorten_name_matches_helm_controller(name: str, expected: str) -> None:
    assert chart.shorten_name(name) == expected


def test_a_target_namespaced_name_over_53_characters_is_stored_shortened_but_shown_whole() -> None:
    hr = spec(targetNamespace="observability-platform-production")
    name = "kube-prometheus-stack-operator"
    assert chart.release_name(hr, name) == "observability-platform-production-kube-prometheus-stack-operator"
    assert chart.storage_release_name(hr, name) == "observability-platform-production-kube-p-3c917c3ba569"


@pytest.mark.parametrize(
    ("fields", "release_ns", "storage_ns"),
    [
        pytest.param({}, "apps", "apps", id="defaults-to-own-namespace"),
        pytest.param({"targetNamespace": "web"}, "web", "apps", id="target-only"),
        pytest.param({"targetNamespace": "web", "storageNamespace": "helm"}, "web", "helm", id="both"),
    ],
)
def test_release_and_storage_namespaces_default_to_the_helmrelease_namespace(
    fields: dict[str, Any], release_ns: str, storage_ns: str
) -> None:
    hr = spec(**fields)
    assert (chart.release_namespace(hr, "apps"), chart.storage_namespace(hr, "apps")) == (
        release_ns,
        storage_ns,
    )


# ---------------------------------------------------------------------------------------------
# The HelmChart template


def test_helm_chart_is_built_from_the_template_with_owner_labels_and_go_durations() -> None:
    hr = spec(chart=template())
    assert chart.helm_chart(hr, name="podinfo", namespace="apps") == {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {
            "name": "apps-podinfo",
            "namespace": "apps",
            "labels": {"helm.toolkit.fluxcd.io/name": "podinfo", "helm.toolkit.fluxcd.io/namespace": "apps"},
        },
        "spec": {
            "chart": "podinfo",
            "version": "*",
            "sourceRef": {"kind": "HelmRepository", "name": "podinfo"},
            "interval": "10m0s",
            "reconcileStrategy": "ChartVersion",
        },
    }


def test_helm_chart_carries_every_template_field_and_lives_in_the_source_namespace() -> None:
    hr = spec(
        chart={
            "metadata": {
                "labels": {"team": "web", "helm.toolkit.fluxcd.io/name": "spoof"},
                "annotations": {"a": "b"},
            },
            "spec": {
                "chart": "podinfo",
                "version": ">=6.0.0 <7.0.0",
                "sourceRef": {"kind": "HelmRepository", "name": "charts", "namespace": "flux-system"},
                "interval": "1h30m",
                "reconcileStrategy": "Revision",
                "valuesFiles": ["values.yaml", "values-prod.yaml"],
                "ignoreMissingValuesFiles": True,
                "verify": {"provider": "cosign", "secretRef": {"name": "cosign-pub"}},
            },
        }
    )
    assert chart.helm_chart(hr, name="podinfo", namespace="apps") == {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {
            "name": "apps-podinfo",
            "namespace": "flux-system",
            "labels": {
                "team": "web",
                "helm.toolkit.fluxcd.io/name": "podinfo",
                "helm.toolkit.fluxcd.io/namespace": "apps",
            },
            "annotations": {"a": "b"},
        },
        "spec": {
            "chart": "podinfo",
            "version": ">=6.0.0 <7.0.0",
            "sourceRef": {"kind": "HelmRepository", "name": "charts"},
            "interval": "1h30m0s",
            "reconcileStrategy": "Revision",
            "valuesFiles": ["values.yaml", "values-prod.yaml"],
            "ignoreMissingValuesFiles": True,
            "verify": {"provider": "cosign", "secretRef": {"name": "cosign-pub"}},
        },
    }


def test_status_helm_chart_names_the_chart_namespace_and_name() -> None:
    hr = spec(chart=template(sourceRef={"kind": "GitRepository", "name": "repo", "namespace": "flux-system"}))
    assert chart.helm_chart_status(hr, name="podinfo", namespace="apps") == "flux-system/apps-podinfo"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("flux-system/apps-podinfo", ("flux-system", "apps-podinfo"), id="set"),
        pytest.param("", ("", ""), id="unset"),
        pytest.param("no-slash", ("", ""), id="malformed"),
    ],
)
def test_parse_status_helm_chart_splits_namespace_and_name(text: str, expected: tuple[str, str]) -> None:
    assert chart.parse_status_helm_chart(text) == expected


def _hc(namespace: str, name: str) -> refs.ObjectRef:
    return refs.ObjectRef("source.toolkit.fluxcd.io", "HelmChart", namespace, name)


def test_first_reconcile_applies_the_chart_and_deletes_nothing() -> None:
    plan = chart.plan_chart_template(
        spec(),
        name="podinfo",
        namespace="apps",
        status_helm_chart="",
        deleting=False,
        allow_cross_namespace=True,
    )
    assert (plan.delete, plan.helm_chart, plan.error) == (None, "apps/apps-podinfo", None)
    assert plan.apply is not None and plan.apply["metadata"]["name"] == "apps-podinfo"


def test_a_chart_that_moved_namespace_is_deleted_before_the_new_one_is_applied() -> None:
    hr = spec(
        chart=template(sourceRef={"kind": "HelmRepository", "name": "podinfo", "namespace": "flux-system"})
    )
    plan = chart.plan_chart_template(
        hr,
        name="podinfo",
        namespace="apps",
        status_helm_chart="apps/apps-podinfo",
        deleting=False,
        allow_cross_namespace=True,
    )
    assert plan.delete == _hc("apps", "apps-podinfo")
    assert plan.apply is not None and plan.apply["metadata"]["namespace"] == "flux-system"
    assert plan.helm_chart == "flux-system/apps-podinfo"


def test_switching_to_chart_ref_deletes_the_old_chart_and_applies_nothing() -> None:
    hr = spec(chartRef={"kind": "OCIRepository", "name": "podinfo"})
    plan = chart.plan_chart_template(
        hr,
        name="podinfo",
        namespace="apps",
        status_helm_chart="apps/apps-podinfo",
        deleting=False,
        allow_cross_namespace=True,
    )
    assert plan == chart.TemplatePlan(delete=_hc("apps", "apps-podinfo"), apply=None, helm_chart="")


def test_deleting_the_helmrelease_deletes_its_chart_and_never_recreates_it() -> None:
    plan = chart.plan_chart_template(
        spec(),
        name="podinfo",
        namespace="apps",
        status_helm_chart="apps/apps-podinfo",
        deleting=True,
        allow_cross_namespace=True,
    )
    assert plan == chart.TemplatePlan(delete=_hc("apps", "apps-podinfo"), apply=None, helm_chart="")


def test_a_suspended_helmrelease_being_deleted_leaves_its_chart() -> None:
    plan = chart.plan_chart_template(
        spec(suspend=True),
        name="podinfo",
        namespace="apps",
        status_helm_chart="apps/apps-podinfo",
        deleting=True,
        allow_cross_namespace=True,
    )
    assert plan == chart.TemplatePlan(delete=None, apply=None, helm_chart="apps/apps-podinfo")


def test_an_in_sync_chart_is_reapplied_without_deletion() -> None:
    plan = chart.plan_chart_template(
        spec(),
        name="podinfo",
        namespace="apps",
        status_helm_chart="apps/apps-podinfo",
        deleting=False,
        allow_cross_namespace=True,
    )
    assert (plan.delete, plan.helm_chart) == (None, "apps/apps-podinfo")
    assert plan.apply is not None


def test_a_cross_namespace_chart_is_refused_with_no_cross_namespace_refs() -> None:
    hr = spec(
        chart=template(sourceRef={"kind": "HelmRepository", "name": "podinfo", "namespace": "flux-system"})
    )
    plan = chart.plan_chart_template(
        hr,
        name="podinfo",
        namespace="apps",
        status_helm_chart="",
        deleting=False,
        allow_cross_namespace=False,
    )
    assert plan == chart.TemplatePlan(
        delete=None,
        apply=None,
        helm_chart="",
        error="cross-namespace references are not allowed: cannot access HelmChart flux-system/apps-podinfo",
    )


SOURCE_REF = "'HelmRepository/flux-system/podinfo'"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(
            changeset.Action.CREATED,
            (
                "HelmChartCreated",
                "Created HelmChart/flux-system/apps-podinfo with SourceRef " + SOURCE_REF,
            ),
            id="created",
        ),
        pytest.param(
            changeset.Action.CONFIGURED,
            (
                "HelmChartConfigured",
                "Configured HelmChart/flux-system/apps-podinfo with SourceRef " + SOURCE_REF,
            ),
            id="configured",
        ),
        pytest.param(changeset.Action.UNCHANGED, None, id="unchanged-silent"),
    ],
)
def test_chart_apply_trace_event(action: changeset.Action, expected: tuple[str, str] | None) -> None:
    hr = spec(
        chart=template(sourceRef={"kind": "HelmRepository", "name": "podinfo", "namespace": "flux-system"})
    )
    applied = chart.helm_chart(hr, name="podinfo", namespace="apps")
    assert chart.chart_applied_event(action, applied) == expected


def test_chart_deletion_and_apply_failures_have_flux_wording() -> None:
    assert chart.chart_deleted_event("apps/apps-podinfo") == (
        "HelmChartDeleted",
        "deleted HelmChart 'apps/apps-podinfo'",
    )
    assert (
        chart.chart_delete_error("apps/apps-podinfo", "boom")
        == "failed to delete HelmChart 'apps/apps-podinfo': boom"
    )
    assert chart.chart_apply_error("boom") == ("HelmChartSyncErr", "failed to run server-side apply: boom")


# ---------------------------------------------------------------------------------------------
# The source


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, chart.SourceRef("HelmChart", "apps", "apps-podinfo"), id="chart-template"),
        pytest.param(
            {"chart": template(sourceRef={"kind": "Bucket", "name": "b", "namespace": "flux-system"})},
            chart.SourceRef("HelmChart", "flux-system", "apps-podinfo"),
            id="chart-template-in-source-namespace",
        ),
        pytest.param(
            {"chartRef": {"kind": "OCIRepository", "name": "podinfo"}},
            chart.SourceRef("OCIRepository", "apps", "podinfo"),
            id="chart-ref-defaults-namespace",
        ),
        pytest.param(
            {"chartRef": {"kind": "HelmChart", "name": "shared", "namespace": "flux-system"}},
            chart.SourceRef("HelmChart", "flux-system", "shared"),
            id="chart-ref-helmchart",
        ),
        pytest.param(
            {"chartRef": {"kind": "ExternalArtifact", "name": "podinfo"}},
            chart.SourceRef("ExternalArtifact", "apps", "podinfo"),
            id="chart-ref-external-artifact",
        ),
    ],
)
def test_chart_source_for_chart_and_chart_ref(fields: dict[str, Any], expected: chart.SourceRef) -> None:
    assert chart.chart_source(spec(**fields), name="podinfo", namespace="apps") == expected


def test_external_artifact_source_has_its_group_and_version() -> None:
    assert EA.object_ref == refs.ObjectRef("source.toolkit.fluxcd.io", "ExternalArtifact", "apps", "podinfo")
    assert EA.gvk.api_version == "source.toolkit.fluxcd.io/v1"


def _artifact(
    source: chart.SourceRef, obj: dict[str, Any] | None, **kw: Any
) -> chart.ChartArtifact | chart.Failure:
    opts: dict[str, Any] = {
        "namespace": "apps",
        "allow_cross_namespace": True,
        "allow_external_artifact": True,
    }
    opts.update(kw)
    return chart.chart_artifact(source, obj, **opts)


def test_a_ready_source_gives_its_artifact() -> None:
    got = _artifact(HC, source_obj())
    assert isinstance(got, chart.ChartArtifact)
    assert got.source == HC
    assert got.artifact == artifacts.Artifact.from_status(source_obj()["status"]["artifact"])


def test_a_missing_source_is_artifact_failed_and_retried() -> None:
    assert _artifact(HC, None) == chart.Failure(
        "ArtifactFailed",
        'could not get Source object: HelmChart.source.toolkit.fluxcd.io "apps-podinfo" not found',
        chart.Outcome.RETRY,
    )


_SNR = "SourceNotReady"


@pytest.mark.parametrize(
    ("source", "obj", "message"),
    [
        pytest.param(
            HC,
            source_obj(generation=2, observed=1),
            "HelmChart 'apps/apps-podinfo' is not ready: latest generation of object has not been reconciled",
            id="generation-not-reconciled",
        ),
        pytest.param(
            HC,
            source_obj(
                generation=2, observed=-1, ready=("False", "no chart version found for podinfo-9.9.9")
            ),
            "HelmChart 'apps/apps-podinfo' is not ready: no chart version found for podinfo-9.9.9",
            id="generation-not-reconciled-ready-false",
        ),
        pytest.param(
            OCI,
            source_obj(ready=("False", "x"), stalled="invalid URL"),
            "OCIRepository 'apps/podinfo' is not ready: invalid URL",
            id="stalled",
        ),
        pytest.param(
            HC,
            source_obj(artifact=False),
            "HelmChart 'apps/apps-podinfo' is not ready: does not have an artifact",
            id="no-artifact",
        ),
        pytest.param(
            HC, source_obj(observed=None, ready=None), "observed generation not found", id="never-reconciled"
        ),
        pytest.param(
            EA,
            source_obj(observed=None, ready=None, artifact=False),
            "ExternalArtifact 'apps/podinfo' is not ready: does not have an artifact",
            id="external-artifact-without-artifact",
        ),
    ],
)
def test_an_unready_source_is_a_jittered_wait(
    source: chart.SourceRef, obj: dict[str, Any], message: str
) -> None:
    assert _artifact(source, obj) == chart.Failure(
        _SNR, message, chart.Outcome.WAIT, requeue_after_ms=30_000, jitter=True
    )


def test_an_external_artifact_needs_only_an_artifact() -> None:
    assert isinstance(_artifact(EA, source_obj(observed=None, ready=None)), chart.ChartArtifact)


@pytest.mark.parametrize(
    ("source", "kw", "message"),
    [
        pytest.param(
            chart.SourceRef("OCIRepository", "flux-system", "podinfo"),
            {"allow_cross_namespace": False},
            "cross-namespace references are not allowed: cannot access OCIRepository flux-system/podinfo",
            id="cross-namespace",
        ),
        pytest.param(
            EA,
            {"allow_external_artifact": False},
            "can't access 'ExternalArtifact/apps/podinfo', ExternalArtifact feature gate is disabled",
            id="external-artifact-gate",
        ),
    ],
)
def test_a_refused_source_stalls_with_access_denied(
    source: chart.SourceRef, kw: dict[str, Any], message: str
) -> None:
    assert _artifact(source, source_obj(), **kw) == chart.Failure(
        "AccessDenied", message, chart.Outcome.STALL, event=message
    )


def test_a_vanished_artifact_file_waits_unjittered() -> None:
    assert chart.artifact_not_found() == chart.Failure(
        "ArtifactFailed",
        "Source not ready: artifact not found. Retrying in 30s",
        chart.Outcome.WAIT,
        requeue_after_ms=30_000,
    )


def test_an_unloadable_chart_is_retried_with_a_warning() -> None:
    assert chart.chart_load_failed("gzip: invalid header") == chart.Failure(
        "ArtifactFailed",
        "Could not load chart: gzip: invalid header",
        chart.Outcome.RETRY,
        event="gzip: invalid header",
    )


# ---------------------------------------------------------------------------------------------
# The chart version with the source's digest

HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("source", "version", "revision", "expected"),
    [
        pytest.param(HC, "6.5.0", "6.5.0", chart.ChartRevision("6.5.0", ""), id="helmchart-untouched"),
        pytest.param(
            OCI,
            "6.5.0",
            f"6.5.0@sha256:{HEX}",
            chart.ChartRevision("6.5.0+0123456789ab", f"sha256:{HEX}"),
            id="oci-semver-tag",
        ),
        pytest.param(
            OCI,
            "6.5.0+build.1",
            f"6.5.0_build.1@sha256:{HEX}",
            chart.ChartRevision("6.5.0+0123456789ab", f"sha256:{HEX}"),
            id="oci-tag-metadata-replaced",
        ),
        pytest.param(
            OCI,
            "7.0.0-rc.1",
            f"sha256:{HEX}",
            chart.ChartRevision("7.0.0-rc.1+0123456789ab", f"sha256:{HEX}"),
            id="oci-digest-only",
        ),
        pytest.param(
            OCI,
            "6.5.0",
            f"latest@sha256:{HEX}",
            chart.ChartRevision("6.5.0+0123456789ab", f"latest@sha256:{HEX}"),
            id="oci-non-semver-tag",
        ),
        pytest.param(
            EA, "1.0.0", "1.0.0", chart.ChartRevision("1.0.0", ""), id="external-artifact-version-revision"
        ),
        pytest.param(
            EA,
            "1.0.0",
            f"sha256:{HEX}",
            chart.ChartRevision("1.0.0+0123456789ab", f"sha256:{HEX}"),
            id="external-artifact-digest-revision",
        ),
    ],
)
def test_chart_revision_appends_the_oci_digest(
    source: chart.SourceRef, version: str, revision: str, expected: chart.ChartRevision
) -> None:
    assert chart.chart_revision(version, source, revision) == expected


def test_chart_digest_tracking_off_keeps_the_version_but_records_the_digest() -> None:
    got = chart.chart_revision("6.5.0", OCI, f"6.5.0@sha256:{HEX}", digest_tracking=False)
    assert got == chart.ChartRevision("6.5.0", f"sha256:{HEX}")


@pytest.mark.parametrize(
    ("version", "revision", "message"),
    [
        pytest.param(
            "6.5.0",
            f"6.4.0@sha256:{HEX}",
            "artifact revision 6.4.0 does not match chart version 6.5.0",
            id="tag-mismatch",
        ),
        pytest.param("6.5.0", "6.5.0@sha256:abc", "invalid artifact revision sha256:abc", id="short-digest"),
        pytest.param("six", f"sha256:{HEX}", "invalid chart version six", id="bad-chart-version"),
    ],
)
def test_chart_revision_failures_are_chart_mutate_errors(version: str, revision: str, message: str) -> None:
    assert chart.chart_revision(version, OCI, revision) == chart.Failure(
        "ChartMutateError", message, chart.Outcome.RETRY
    )
