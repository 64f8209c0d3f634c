from __future__ import annotations

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from tests.controllers.conftest import GITREPO, events_of, gitrepository, ready, repo_with


def test_a_branch_is_stored_as_an_artifact_with_flux_revision_and_path(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    obj = sim.cluster.get(GITREPO)
    sha = repo.head()
    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == f"main@sha1:{sha}"
    assert artifact["path"] == f"gitrepository/flux-system/fleet/{sha}.tar.gz"
    assert artifact["url"] == f"http://source-controller.flux-system.svc.cluster.local./{artifact['path']}"
    assert artifact["digest"].startswith("sha256:") and len(artifact["digest"]) == 71
    assert ready(obj) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"stored artifact for revision 'main@sha1:{sha}'",
    }
    assert obj["status"]["observedGeneration"] == 1
    assert obj["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]


def test_the_first_reconcile_adds_the_finalizer_and_requeues_after_the_min_retry_delay(
    sim: simulation.Simulation,
) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.settle()
    assert "status" not in sim.cluster.get(GITREPO)
    sim.advance(750)
    assert events_of(sim, GITREPO) == [(750, "Normal", "NewArtifact", "stored artifact for commit 'init'")]


def test_a_new_commit_is_picked_up_at_the_next_interval(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    repo.commit({"a.yaml": "a: 2\n"}, "a long commit subject that goes on and on beyond fifty characters")
    sim.advance(58_000)
    assert len(events_of(sim, GITREPO)) == 1
    sim.advance(2_000)
    assert events_of(sim, GITREPO)[-1] == (
        60_750,
        "Normal",
        "NewArtifact",
        "stored artifact for commit 'a long commit subject that goes on and on beyond f...'",
    )
    assert sim.cluster.get(GITREPO)["status"]["artifact"]["revision"] == f"main@sha1:{repo.head()}"


def test_ignored_files_stay_out_of_the_artifact(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n", "logo.png": "binary", ".github/workflows/ci.yaml": "on: push\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    from gitops_sim.model import artifacts

    stored = sim.storage.fetch(artifacts.Artifact.from_status(sim.cluster.get(GITREPO)["status"]["artifact"]))
    assert sorted(stored) == ["apps/a.yaml"]


def test_a_missing_repository_fails_with_backoff_and_a_warning(sim: simulation.Simulation) -> None:
    sim.cluster.apply(gitrepository(url="https://github.com/acme/missing"), field_manager="kubectl")
    sim.advance(10_000)
    obj = sim.cluster.get(GITREPO)
    message = (
        "failed to checkout and determine revision: unable to clone: repository not found: "
        "git repository: 'https://github.com/acme/missing'"
    )
    assert ready(obj) == {"status": "False", "reason": "GitOperationFailed", "message": message}
    reconciling = next(c for c in obj["status"]["conditions"] if c["type"] == "Reconciling")
    assert reconciling["reason"] == "ProgressingWithRetry"
    assert [t for t, *_ in events_of(sim, GITREPO)] == [750, 2_250, 5_250]
    assert {(e[1], e[2]) for e in events_of(sim, GITREPO)} == {("Warning", "GitOperationFailed")}


def test_a_suspended_repository_is_left_alone(sim: simulation.Simulation) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(suspend=True), field_manager="kubectl")
    sim.advance(120_000)
    assert "artifact" not in sim.cluster.get(GITREPO).get("status", {})
    assert events_of(sim, GITREPO) == []


def test_deleting_the_repository_removes_its_artifacts_and_finalizer(sim: simulation.Simulation) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    sim.cluster.delete(GITREPO)
    sim.settle()
    assert sim.cluster.list(refs.GroupKind("source.toolkit.fluxcd.io", "GitRepository")) == []
    assert not any((sim.storage.root / "gitrepository").rglob("*.tar.gz"))
