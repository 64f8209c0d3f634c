from __future__ import annotations

import itertools

import pytest

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.testing import events_of, ready
from tests.builders import CONFIGMAP, KS, NAMESPACE, gitrepository, kustomization, repo_with
from tests.builders import GITREPO as GITREPO_REF

SETTINGS = refs.ObjectRef("", "ConfigMap", "default", "settings")


def synced(sim: simulation.Simulation, files: dict[str, str | None], **spec: object) -> None:
    repo_with(sim, files)
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")
    sim.advance(1_000)


def test_applies_the_path_and_reports_the_revision(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/ns.yaml": NAMESPACE, "apps/cm.yaml": CONFIGMAP % "a"})
    head = sim.git.lookup("https://github.com/acme/fleet").head()
    ks = sim.cluster.get(KS)
    assert ready(ks) == {
        "status": "True",
        "reason": "ReconciliationSucceeded",
        "message": f"Applied revision: main@sha1:{head}",
    }
    assert ks["status"]["lastAppliedRevision"] == ks["status"]["lastAttemptedRevision"] == f"main@sha1:{head}"
    assert ks["status"]["inventory"] == {
        "entries": [
            {"id": "_default__Namespace", "v": "v1"},
            {"id": "default_settings__ConfigMap", "v": "v1"},
        ]
    }
    live = sim.cluster.get(SETTINGS)
    assert live["metadata"]["labels"] == {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    assert [m["manager"] for m in live["metadata"]["managedFields"]] == ["kustomize-controller"]


def test_emits_the_change_set_then_the_success_event(sim: simulation.Simulation) -> None:
    # The default namespace exists in every cluster: taking it over (owner labels) configures it.
    synced(sim, {"apps/ns.yaml": NAMESPACE, "apps/cm.yaml": CONFIGMAP % "a"})
    assert [e[1:] for e in events_of(sim, KS)] == [
        ("Normal", "Progressing", "Namespace/default configured\nConfigMap/default/settings created"),
        ("Normal", "ReconciliationSucceeded", "Reconciliation finished in 0s, next run in 10m0s"),
    ]


def test_an_unchanged_object_is_not_written_again(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"}, path="./apps")
    before = sim.cluster.get(SETTINGS)["metadata"]["resourceVersion"]
    sim.advance(11 * 60_000)
    assert sim.cluster.get(SETTINGS)["metadata"]["resourceVersion"] == before
    messages = [e[3] for e in events_of(sim, KS)]
    assert messages.count("Reconciliation finished in 0s, next run in 10m0s") == 2
    assert not any("configured" in m for m in messages)


def test_an_object_deleted_by_hand_is_created_again_at_the_next_interval(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"}, path="./apps")
    sim.advance(11 * 60_000)  # a no-change interval first
    sim.cluster.delete(SETTINGS)
    sim.advance(10 * 60_000)
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "a"}
    assert "ConfigMap/default/settings created" in [e[3] for e in events_of(sim, KS)][-2:]


def test_the_next_run_is_the_interval_with_at_most_five_percent_jitter(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.advance(60 * 60_000)
    times = [t for t, _, reason, _ in events_of(sim, KS) if reason == "ReconciliationSucceeded"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps and all(570_000 <= g <= 630_000 for g in gaps)


def test_a_folder_without_kustomization_yaml_gets_one_generated(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/nested/deep/cm.yaml": CONFIGMAP % "deep", "apps/notes.txt": "not yaml"})
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "deep"}


def test_an_existing_kustomization_yaml_is_used_as_is(sim: simulation.Simulation) -> None:
    synced(
        sim,
        {
            "apps/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: team-\n",
            "apps/cm.yaml": CONFIGMAP % "a",
            "apps/unlisted.yaml": NAMESPACE.replace("default", "ignored"),
        },
    )
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "team-settings"))["data"] == {
        "mode": "a"
    }
    with pytest.raises(errors.NotFound):
        sim.cluster.get(refs.ObjectRef("", "Namespace", "", "ignored"))


def test_a_kustomize_error_is_build_failed_and_the_rest_keeps_running(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/kustomization.yaml": "resources: [missing.yaml]\n", "ok/cm.yaml": CONFIGMAP % "ok"})
    other = kustomization(path="./ok")
    other["metadata"]["name"] = "ok"
    sim.cluster.apply(other, field_manager="kubectl")
    sim.advance(1_000)
    broken = ready(sim.cluster.get(KS))
    assert broken["status"] == "False" and broken["reason"] == "BuildFailed"
    assert broken["message"].startswith("kustomize build failed: accumulating resources:")
    assert "/tmp/kustomization-flux-system-apps/apps/missing.yaml" in broken["message"]
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "ok"}
    assert events_of(sim, KS)[-1][1:3] == ("Warning", "BuildFailed")


def test_a_missing_path_is_artifact_failed(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"}, path="./nope")
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ArtifactFailed",
        "message": "kustomization path not found: stat /tmp/kustomization-flux-system-apps/nope: "
        "no such file or directory",
    }


def test_a_missing_source_is_artifact_failed_with_the_not_found_text(sim: simulation.Simulation) -> None:
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ArtifactFailed",
        "message": 'GitRepository.source.toolkit.fluxcd.io "fleet" not found',
    }


def test_a_source_without_artifact_is_retried_in_thirty_seconds(sim: simulation.Simulation) -> None:
    sim.cluster.apply(gitrepository(url="https://github.com/acme/missing"), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(KS))["message"] == "Source artifact not found, retrying in 30s"
    assert sim.queues[KS.group_kind].pending_at(KS) == 30_750


def test_an_unknown_kind_fails_the_apply_and_names_the_object(sim: simulation.Simulation) -> None:
    synced(
        sim,
        {
            "apps/w.yaml": "apiVersion: example.com/v1\nkind: Widget\n"
            "metadata: {name: w, namespace: default}\n"
        },
    )
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": "Widget/default/w dry-run failed: "
        'no matches for kind "Widget" in version "example.com/v1"\n',
    }


def test_a_new_source_revision_triggers_the_kustomization_at_once(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.git.lookup("https://github.com/acme/fleet").commit({"apps/cm.yaml": CONFIGMAP % "b"}, "b")
    sim.advance(60_000)
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "b"}
    assert events_of(sim, KS)[-2] == (
        60_750,
        "Normal",
        "Progressing",
        "ConfigMap/default/settings configured",
    )


def test_prune_deletes_objects_removed_from_git_only_if_they_carry_the_owner_labels(
    sim: simulation.Simulation,
) -> None:
    synced(
        sim,
        {"apps/cm.yaml": CONFIGMAP % "a", "apps/other.yaml": (CONFIGMAP % "x").replace("settings", "other")},
    )
    other = refs.ObjectRef("", "ConfigMap", "default", "other")
    hijacked = sim.cluster.get(other)
    hijacked["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/name": "someone-else"}
    sim.cluster.update(hijacked, field_manager="kubectl-edit")
    sim.git.lookup("https://github.com/acme/fleet").commit({"apps/other.yaml": None}, "drop other")
    sim.advance(60_000)
    assert sim.cluster.get(other)["data"] == {"mode": "x"}
    assert ("Normal", "Progressing", "ConfigMap/default/other skipped") not in [
        e[1:] for e in events_of(sim, KS)
    ]
    ks = sim.cluster.get(KS)
    assert ks["status"]["inventory"]["entries"] == [{"id": "default_settings__ConfigMap", "v": "v1"}]


def test_requested_reconcile_runs_now_and_is_recorded(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    ks = sim.cluster.get(KS)
    ks["metadata"]["annotations"] = {"reconcile.fluxcd.io/requestedAt": "2025-01-01T00:00:05Z"}
    sim.cluster.update(ks, field_manager="flux")
    sim.settle()
    assert sim.cluster.get(KS)["status"]["lastHandledReconcileAt"] == "2025-01-01T00:00:05Z"
    assert events_of(sim, KS)[-1][0] == 1_000


def test_deleting_the_kustomization_prunes_its_inventory(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.delete(KS)
    sim.settle()
    with pytest.raises(errors.NotFound):
        sim.cluster.get(SETTINGS)
    with pytest.raises(errors.NotFound):
        sim.cluster.get(KS)


def test_deleting_a_kustomization_without_prune_orphans_its_objects(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"}, prune=False)
    sim.cluster.delete(KS)
    sim.settle()
    assert sim.cluster.get(SETTINGS)["data"] == {"mode": "a"}


def test_waiting_for_a_source_sends_no_event(sim: simulation.Simulation) -> None:
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(60_000)
    assert events_of(sim, KS) == []


def test_an_artifact_gone_from_storage_is_waited_for_quietly(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    for file in (sim.storage.root / "gitrepository").rglob("*.tar.gz"):
        file.unlink()
    ks = sim.cluster.get(KS)
    ks["metadata"]["annotations"] = {"reconcile.fluxcd.io/requestedAt": "now"}
    sim.cluster.update(ks, field_manager="flux")
    sim.settle()
    assert ready(sim.cluster.get(KS))["message"] == "Source is not ready, artifact not found, retrying in 30s"
    assert events_of(sim, KS)[-1][2] == "ReconciliationSucceeded"


def test_a_corrupted_artifact_fails_its_digest_check(sim: simulation.Simulation) -> None:
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    for file in (sim.storage.root / "gitrepository").rglob("*.tar.gz"):
        file.write_bytes(b"not a tarball")
    sim.cluster.update(
        {**sim.cluster.get(KS), "spec": {**kustomization()["spec"], "interval": "5m"}},
        field_manager="kubectl",
    )
    sim.settle()
    digest = sim.cluster.get(GITREPO_REF)["status"]["artifact"]["digest"]
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ArtifactFailed",
        "message": f"failed to verify artifact: computed digest doesn't match '{digest}'",
    }
    assert events_of(sim, KS)[-1][1:3] == ("Warning", "ArtifactFailed")


def test_a_suspended_kustomization_applies_nothing_but_records_the_request(
    sim: simulation.Simulation,
) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP % "a"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    suspended = kustomization(suspend=True)
    suspended["metadata"]["annotations"] = {"reconcile.fluxcd.io/requestedAt": "first"}
    sim.cluster.apply(suspended, field_manager="kubectl")
    sim.advance(30 * 60_000)
    with pytest.raises(errors.NotFound):
        sim.cluster.get(SETTINGS)
    assert sim.cluster.get(KS)["status"] == {"observedGeneration": -1, "lastHandledReconcileAt": "first"}
    assert events_of(sim, KS) == []


@pytest.mark.parametrize(
    ("policy", "prune", "left"),
    [
        (None, True, False),  # MirrorPrune follows prune
        (None, False, True),
        ("Delete", False, False),
        ("WaitForTermination", False, False),
        ("Orphan", True, True),
    ],
)
def test_deletion_policy_decides_what_deleting_the_kustomization_leaves(
    sim: simulation.Simulation, policy: str | None, prune: bool, left: bool
) -> None:
    spec: dict[str, object] = {"prune": prune, **({"deletionPolicy": policy} if policy else {})}
    synced(sim, {"apps/cm.yaml": CONFIGMAP % "a"}, **spec)
    sim.cluster.delete(KS)
    sim.advance(1_000)
    with pytest.raises(errors.NotFound):
        sim.cluster.get(KS)
    try:
        sim.cluster.get(SETTINGS)
        exists = True
    except errors.NotFound:
        exists = False
    assert exists is left
