"""ArtifactGenerator (source-watcher): ExternalArtifacts composed from Flux sources, as Flux 2.10 does it,
and the Kustomizations and HelmReleases that consume them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import artifacts, flux, fluxinstall, refs
from gitops_sim.sources import git
from gitops_sim.testing import events_of, ready
from tests.builders import gitrepository, repo_with

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: default}\ndata: {v: '%s'}\n"
MONOREPO = {
    "deploy/frontend/cm.yaml": CM % ("frontend", "1"),
    "deploy/backend/cm.yaml": CM % ("backend", "1"),
}
CHART = {
    "charts/podinfo/Chart.yaml": "apiVersion: v2\nname: podinfo\nversion: 6.5.0\n",
    "charts/podinfo/values.yaml": "message: hello\nreplicas: 1\n",
    "charts/podinfo/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: podinfo}\n"
        "data: {message: {{ .Values.message | quote }}, replicas: {{ .Values.replicas | quote }}}\n"
    ),
    "envs/prod/values.yaml": "message: prod\n",
}
AG = refs.ObjectRef("source.extensions.fluxcd.io", "ArtifactGenerator", "flux-system", "apps")
AG_APPS = refs.ObjectRef("source.extensions.fluxcd.io", "ArtifactGenerator", "apps", "apps")
HR = refs.ObjectRef("helm.toolkit.fluxcd.io", "HelmRelease", "flux-system", "podinfo")


def ea_ref(name: str, namespace: str = "flux-system") -> refs.ObjectRef:
    return refs.ObjectRef(flux.SOURCE_GROUP, "ExternalArtifact", namespace, name)


def ks_ref(name: str) -> refs.ObjectRef:
    return refs.ObjectRef(flux.KUSTOMIZE_GROUP, "Kustomization", "flux-system", name)


def output(name: str, *copies: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": name, "copy": list(copies), **fields}


def generator(*outputs: dict[str, Any], namespace: str = "flux-system", **spec: Any) -> dict[str, Any]:
    """ArtifactGenerator `apps` reading GitRepository fleet as `repo`, making `outputs`."""
    return {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": {"name": "apps", "namespace": namespace},
        "spec": {
            "sources": [
                {"alias": "repo", "kind": "GitRepository", "name": "fleet", "namespace": "flux-system"}
            ],
            "artifacts": list(outputs),
            **spec,
        },
    }


SPLIT = (
    output("frontend", {"from": "@repo/deploy/frontend/**", "to": "@artifact/"}, originRevision="@repo"),
    output("backend", {"from": "@repo/deploy/backend/**", "to": "@artifact/"}, originRevision="@repo"),
)


def consumer(name: str) -> dict[str, Any]:
    """Kustomization `name` applying the ExternalArtifact of that name."""
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "30m",
            "path": "./",
            "prune": True,
            "sourceRef": {"kind": "ExternalArtifact", "name": name},
        },
    }


def start(sim: simulation.Simulation, files: dict[str, str], *objs: dict[str, Any]) -> git.Repository:
    """The repository `fleet` with `files`, its GitRepository and `objs` applied, 5s later."""
    repo = repo_with(sim, dict[str, str | None](files))
    for obj in (gitrepository(), *objs):
        sim.cluster.apply(obj, field_manager="kubectl")
    sim.advance(5_000)
    return repo


def artifact_of(sim: simulation.Simulation, name: str) -> dict[str, Any]:
    return dict(sim.cluster.get(ea_ref(name))["status"]["artifact"])


def files_of(sim: simulation.Simulation, name: str) -> dict[str, bytes]:
    return dict(sim.storage.fetch(artifacts.Artifact.from_status(artifact_of(sim, name))))


def test_a_generator_splits_a_monorepo_into_external_artifacts(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(*SPLIT))
    obj = sim.cluster.get(AG)
    assert ready(obj) == {
        "status": "True",
        "reason": "Succeeded",
        "message": "reconciliation succeeded, generated 2 artifact(s)",
    }
    frontend = sim.cluster.get(ea_ref("frontend"))
    artifact = frontend["status"]["artifact"]
    assert artifact["revision"] == f"latest@{artifact['digest']}"
    assert artifact["url"] == f"http://source-watcher.flux-system.svc.cluster.local./{artifact['path']}"
    commit = sim.cluster.get(refs.ObjectRef(flux.SOURCE_GROUP, "GitRepository", "flux-system", "fleet"))
    assert artifact["metadata"] == {
        "org.opencontainers.image.revision": commit["status"]["artifact"]["revision"]
    }
    assert ready(frontend) == {"status": "True", "reason": "Succeeded", "message": "Artifact is ready"}
    assert frontend["spec"]["sourceRef"] == {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "name": "apps",
        "namespace": "flux-system",
    }
    assert frontend["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "source-watcher",
        "source.extensions.fluxcd.io/generator": obj["metadata"]["uid"],
    }
    assert files_of(sim, "frontend") == {"cm.yaml": MONOREPO["deploy/frontend/cm.yaml"].encode()}
    assert [(e["name"], e["digest"]) for e in obj["status"]["inventory"]] == [
        ("frontend", artifact["digest"]),
        ("backend", artifact_of(sim, "backend")["digest"]),
    ]
    assert events_of(sim, AG)[-1][2:] == (
        "Ready",
        f"external artifacts reconciled: flux-system/frontend ({artifact['digest']})\n"
        f"flux-system/backend ({artifact_of(sim, 'backend')['digest']})",
    )


def test_kustomizations_apply_the_external_artifacts(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(*SPLIT), consumer("frontend"), consumer("backend"))
    revision = artifact_of(sim, "frontend")["revision"]
    assert ready(sim.cluster.get(ks_ref("frontend"))) == {
        "status": "True",
        "reason": "ReconciliationSucceeded",
        "message": f"Applied revision: {revision}",
    }
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "backend"))["data"] == {"v": "1"}


def test_a_commit_to_one_app_gives_only_its_artifact_a_new_revision(sim: simulation.Simulation) -> None:
    repo = start(sim, MONOREPO, generator(*SPLIT), consumer("frontend"), consumer("backend"))
    before = {name: artifact_of(sim, name)["revision"] for name in ("frontend", "backend")}
    backend_events = len(events_of(sim, ks_ref("backend")))
    repo.commit({"deploy/frontend/cm.yaml": CM % ("frontend", "2")}, "frontend v2")
    sim.advance(60_000)
    assert artifact_of(sim, "frontend")["revision"] != before["frontend"]
    assert artifact_of(sim, "backend")["revision"] == before["backend"]
    assert len(events_of(sim, ks_ref("backend"))) == backend_events  # its Kustomization did not run
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "frontend"))["data"] == {"v": "2"}
    digest = artifact_of(sim, "frontend")["digest"]
    assert events_of(sim, AG)[-1][2:] == (
        "Ready",
        f"external artifacts reconciled: flux-system/frontend ({digest})",
    )


def test_merge_strategy_composes_a_chart_with_environment_values(sim: simulation.Simulation) -> None:
    copies = (
        {"from": "@repo/charts/podinfo/", "to": "@artifact/"},
        {"from": "@repo/envs/prod/values.yaml", "to": "@artifact/podinfo/values.yaml", "strategy": "Merge"},
    )
    start(sim, CHART, generator(output("podinfo", *copies)))
    assert files_of(sim, "podinfo")["podinfo/values.yaml"] == b"message: prod\nreplicas: 1\n"


def test_a_helmrelease_installs_the_chart_an_external_artifact_holds(sim: simulation.Simulation) -> None:
    copies = (
        {"from": "@repo/charts/podinfo/", "to": "@artifact/"},
        {"from": "@repo/envs/prod/values.yaml", "to": "@artifact/podinfo/values.yaml", "strategy": "Merge"},
    )
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "targetNamespace": "default",
            "chartRef": {"kind": "ExternalArtifact", "name": "podinfo"},
        },
    }
    start(sim, CHART, generator(output("podinfo", *copies)), release)
    digest = artifact_of(sim, "podinfo")["digest"]
    version = f"6.5.0+{digest.removeprefix('sha256:')[:12]}"
    assert ready(sim.cluster.get(HR)) == {
        "status": "True",
        "reason": "InstallSucceeded",
        "message": "Helm install succeeded for release default/default-podinfo.v1 with chart "
        f"podinfo@{version}",
    }
    assert sim.cluster.get(HR)["status"]["lastAttemptedRevisionDigest"] == f"latest@{digest}"
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "podinfo"))["data"] == {
        "message": "prod",
        "replicas": "1",
    }


def test_a_missing_source_is_source_fetch_failed_and_retried_every_5s(sim: simulation.Simulation) -> None:
    sim.cluster.apply(generator(*SPLIT), field_manager="kubectl")
    sim.advance(11_000)
    message = 'get sources failed: GitRepository.source.toolkit.fluxcd.io "fleet" not found'
    assert ready(sim.cluster.get(AG)) == {
        "status": "False",
        "reason": "SourceFetchFailed",
        "message": message,
    }
    warnings = [e for e in events_of(sim, AG) if e.type == "Warning"]
    assert [e.t for e in warnings] == [1, 5_001, 10_001]  # the finalizer first, then every 5s
    assert {e[2:] for e in warnings} == {("SourceFetchFailed", message)}


def test_an_artifact_no_longer_generated_is_deleted_with_its_files(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(*SPLIT))
    path = artifact_of(sim, "backend")["path"]
    sim.cluster.apply(generator(SPLIT[0]), field_manager="kubectl")
    sim.advance(1_000)
    assert [e["name"] for e in sim.cluster.get(AG)["status"]["inventory"]] == ["frontend"]
    assert (
        sim.cluster.list(refs.GroupKind(flux.SOURCE_GROUP, "ExternalArtifact"), namespace="flux-system")[0][
            "metadata"
        ]["name"]
        == "frontend"
    )
    assert not (sim.storage.root / path).exists()


def test_deleting_the_generator_deletes_its_external_artifacts(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(*SPLIT))
    sim.cluster.delete(AG)
    sim.advance(1_000)
    assert sim.cluster.list(refs.GroupKind(flux.SOURCE_GROUP, "ExternalArtifact")) == []


def test_a_source_in_another_namespace_is_read_by_default(sim: simulation.Simulation) -> None:
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    start(sim, MONOREPO, generator(*SPLIT, namespace="apps"))
    assert ready(sim.cluster.get(AG_APPS))["status"] == "True"
    assert ready(sim.cluster.get(ea_ref("frontend", "apps")))["message"] == "Artifact is ready"


def test_no_cross_namespace_refs_makes_a_source_elsewhere_access_denied(sim: simulation.Simulation) -> None:
    deployment = refs.ObjectRef("apps", "Deployment", "flux-system", "source-watcher")
    sim.cluster.json_patch(
        deployment,
        [
            {
                "op": "add",
                "path": "/spec/template/spec/containers/0/args/-",
                "value": "--no-cross-namespace-refs=true",
            }
        ],
        field_manager="kubectl",
    )
    sim.cluster.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="kubectl"
    )
    start(sim, MONOREPO, generator(*SPLIT, namespace="apps"))
    message = "cross-namespace reference to source GitRepository/flux-system/fleet is not allowed"
    obj = sim.cluster.get(AG_APPS)
    assert ready(obj) == {"status": "False", "reason": "AccessDenied", "message": message}
    assert [c["type"] for c in obj["status"]["conditions"]] == ["Stalled", "Ready"]


def test_an_external_artifact_source_is_refused_without_source_watcher_s_feature_gate(tmp_path: Path) -> None:
    settings = simulation.Settings(workdir=tmp_path, components=flux.DEFAULT_COMPONENTS)
    sim = simulation.Simulation(settings)
    try:
        sim.cluster.apply(consumer("frontend"), field_manager="kubectl")
        sim.advance(1_000)
        message = (
            "can't access 'ExternalArtifact/flux-system/frontend', ExternalArtifact feature gate is disabled"
        )
        obj = sim.cluster.get(ks_ref("frontend"))
        assert ready(obj) == {"status": "False", "reason": "AccessDenied", "message": message}
        assert [c["type"] for c in obj["status"]["conditions"]] == ["Stalled", "Ready"]
        assert events_of(sim, ks_ref("frontend"))[-1][1:] == ("Warning", "AccessDenied", message)
    finally:
        sim.close()


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        pytest.param((SPLIT[0], SPLIT[0]), "duplicate artifact name 'frontend' found", id="duplicate-name"),
        pytest.param(
            (output("x", {"from": "@repo/x", "to": "@artifact/"}, revision="@nope"),),
            "artifact x revision source alias 'nope' not found",
            id="revision-alias",
        ),
    ],
)
def test_an_invalid_spec_stalls_with_validation_failed(
    sim: simulation.Simulation, outputs: tuple[dict[str, Any], ...], message: str
) -> None:
    start(sim, MONOREPO, generator(*outputs))
    obj = sim.cluster.get(AG)
    assert ready(obj) == {"status": "False", "reason": "ValidationFailed", "message": message}
    assert [c["type"] for c in obj["status"]["conditions"]] == ["Stalled", "Ready"]


def test_a_copy_that_matches_nothing_is_build_failed(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(output("web", {"from": "@repo/web/*.yaml", "to": "@artifact/"})))
    assert ready(sim.cluster.get(AG)) == {
        "status": "False",
        "reason": "BuildFailed",
        "message": "web build failed: failed to apply copy operations: failed to apply copy operation from "
        "'@repo/web/*.yaml' to '@artifact/': no files match pattern 'web/*.yaml' in source 'repo'",
    }


def test_an_unchanged_generator_reports_no_drift_hourly(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(*SPLIT))
    sim.advance(3_700_000)
    assert events_of(sim, AG)[-1][2:] == ("Ready", "No drift detected, 2 artifact(s) up to date")


def test_the_same_scenario_generates_the_same_artifacts(tmp_path: Path) -> None:
    def run(folder: str) -> str:
        sim = simulation.Simulation(simulation.Settings(workdir=tmp_path / folder))
        try:
            start(sim, MONOREPO, generator(*SPLIT), consumer("frontend"))
            return json.dumps(
                [sim.cluster.get(AG)["status"], artifact_of(sim, "frontend"), sim.trace.records]
            )
        finally:
            sim.close()

    assert run("one") == run("two")


@pytest.mark.parametrize(
    ("extra", "gate"),
    [
        pytest.param(("source-watcher",), True, id="with-source-watcher"),
        pytest.param((), False, id="without"),
    ],
)
def test_flux_install_turns_on_the_appliers_external_artifact_gate_with_source_watcher(
    extra: tuple[str, ...], gate: bool
) -> None:
    docs = fluxinstall.manifests(fluxinstall.Options(components_extra=extra))
    args = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["args"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    for component in ("kustomize-controller", "helm-controller"):
        assert ("--feature-gates=ExternalArtifact=true" in args[component]) is gate
    assert not any("feature-gates" in a for a in args["source-controller"])


def test_the_trace_records_the_generator_s_condition_transitions(sim: simulation.Simulation) -> None:
    start(sim, MONOREPO, generator(*SPLIT))
    recorded = [
        (r["type"], r["status"], r["reason"])
        for r in sim.trace.records
        if r["kind"] == "condition" and r["object"] == str(AG)
    ]
    assert recorded == [
        ("Ready", "Unknown", "Progressing"),
        ("Reconciling", "True", "Progressing"),
        ("Ready", "False", "SourceFetchFailed"),
        ("Reconciling", "True", "ProgressingWithRetry"),
        ("Ready", "True", "Succeeded"),
        ("Reconciling", None, None),
    ]
