from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.cluster import errors
from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import githttp
from gitops_sim.testing import events_of, ready
from tests.builders import GITREPO, gitrepository, repo_with, secret


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
    # Nothing reported yet: the status is the CRD's default.
    assert sim.cluster.get(GITREPO)["status"] == {"observedGeneration": -1}
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


def stored_revision(sim: simulation.Simulation) -> str:
    return str(sim.cluster.get(GITREPO)["status"]["artifact"]["revision"])


def test_a_tag_is_stored_with_the_tag_in_the_revision(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    tagged = repo.tag("v1.0.0", message="first release")
    repo.commit({"a.yaml": "a: 2\n"}, "after the tag")
    sim.cluster.apply(gitrepository(ref={"tag": "v1.0.0"}), field_manager="kubectl")
    sim.advance(1_000)
    assert stored_revision(sim) == f"v1.0.0@sha1:{tagged}"


def test_a_semver_range_follows_the_highest_matching_tag_as_tags_are_pushed(
    sim: simulation.Simulation,
) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    repo.tag("v1.0.0")
    repo.tag("v2.0.0")
    sim.cluster.apply(gitrepository(ref={"semver": "~1.0"}), field_manager="kubectl")
    sim.advance(1_000)
    assert stored_revision(sim).startswith("v1.0.0@sha1:")
    patched = repo.commit({"a.yaml": "a: 2\n"}, "fix")
    repo.tag("v1.0.1")
    sim.advance(60_000)
    assert stored_revision(sim) == f"v1.0.1@sha1:{patched}"
    assert events_of(sim, GITREPO)[-1][2:] == ("NewArtifact", "stored artifact for commit 'fix'")


def test_a_semver_range_with_no_matching_tag_fails_as_flux_says(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    repo.tag("v1.0.0")
    sim.cluster.apply(gitrepository(ref={"semver": ">=3.0.0"}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(GITREPO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": "failed to checkout and determine revision: no match found for semver: >=3.0.0",
    }


def test_a_commit_wins_over_a_branch_and_keeps_it_in_the_revision(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    first = repo.head()
    repo.commit({"a.yaml": "a: 2\n"}, "second")
    sim.cluster.apply(gitrepository(ref={"branch": "main", "commit": first}), field_manager="kubectl")
    sim.advance(1_000)
    assert stored_revision(sim) == f"main@sha1:{first}"
    sim.cluster.apply(gitrepository(ref={"commit": first}), field_manager="kubectl")
    sim.advance(1_000)
    assert stored_revision(sim) == f"sha1:{first}"


def test_a_ref_name_is_stored_with_the_full_ref_in_the_revision(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    staging = repo.commit({"a.yaml": "a: 2\n"}, "staging", branch="staging")
    sim.cluster.apply(gitrepository(ref={"name": "refs/heads/staging"}), field_manager="kubectl")
    sim.advance(1_000)
    assert stored_revision(sim) == f"refs/heads/staging@sha1:{staging}"


def test_a_missing_tag_fails_with_the_ref_go_git_could_not_find(sim: simulation.Simulation) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(ref={"tag": "v9.9.9"}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(GITREPO))["message"] == (
        "failed to checkout and determine revision: unable to clone 'https://github.com/acme/fleet': "
        'couldn\'t find remote ref "refs/tags/v9.9.9"'
    )


def basic_auth_secret(username: str, password: str) -> dict[str, Any]:
    return secret("git-creds", username=username, password=password)


def test_a_private_repository_needs_the_secret_and_recovers_once_it_is_right(
    sim: simulation.Simulation,
) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    repo.credentials = githttp.Credentials(username="flux", password="right")
    sim.cluster.apply(basic_auth_secret("flux", "wrong"), field_manager="kubectl")
    sim.cluster.apply(gitrepository(secretRef={"name": "git-creds"}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(GITREPO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": "failed to checkout and determine revision: unable to clone "
        "'https://github.com/acme/fleet': authentication required",
    }
    sim.cluster.apply(basic_auth_secret("flux", "right"), field_manager="kubectl")
    sim.advance(60_000)
    assert ready(sim.cluster.get(GITREPO))["status"] == "True"
    assert events_of(sim, GITREPO)[-1][2] == "NewArtifact"


def test_a_missing_secret_is_an_authentication_failure(sim: simulation.Simulation) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(secretRef={"name": "nope"}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(GITREPO)) == {
        "status": "False",
        "reason": "AuthenticationFailed",
        "message": "failed to configure authentication options: "
        "failed to get secret 'flux-system/nope': secrets \"nope\" not found",
    }


def test_an_unreachable_remote_is_reported_then_recovered_with_a_succeeded_event(
    sim: simulation.Simulation,
) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    repo.fault = "unreachable"
    sim.advance(60_000)
    assert ready(sim.cluster.get(GITREPO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": "failed to checkout and determine revision: unable to list remote for "
        "'https://github.com/acme/fleet': "
        'Get "https://github.com/acme/fleet/info/refs?service=git-upload-pack": '
        "dial tcp github.com:443: connect: connection refused",
    }
    repo.fault = None
    sim.advance(60_000)
    obj = sim.cluster.get(GITREPO)
    assert ready(obj)["status"] == "True"
    assert events_of(sim, GITREPO)[-1][1:3] == ("Normal", "Succeeded")


def test_changing_spec_ignore_rebuilds_the_artifact_of_the_same_revision(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n", "docs/readme.md": "# hi\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    before = sim.cluster.get(GITREPO)["status"]["artifact"]
    sim.cluster.apply(gitrepository(ignore="docs/\n"), field_manager="kubectl")
    sim.advance(1_000)
    obj = sim.cluster.get(GITREPO)
    after = obj["status"]["artifact"]
    assert after["revision"] == before["revision"] and after["digest"] != before["digest"]
    assert obj["status"]["observedIgnore"] == "docs/\n"
    from gitops_sim.model import artifacts

    assert sorted(sim.storage.fetch(artifacts.Artifact.from_status(after))) == ["apps/a.yaml"]


def test_a_corrupted_artifact_is_removed_with_a_warning_and_rebuilt(sim: simulation.Simulation) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    artifact = sim.cluster.get(GITREPO)["status"]["artifact"]
    path = sim.storage.root / artifact["path"]
    path.write_bytes(path.read_bytes() + b"tampered")
    sim.advance(60_000)
    warning = [e for e in events_of(sim, GITREPO) if e[1] == "Warning"]
    assert warning[-1][2:] == (
        "ArtifactVerificationFailed",
        f"failed to verify integrity of artifact: computed digest doesn't match '{artifact['digest']}'",
    )
    assert (
        sim.cluster.get(GITREPO)["status"]["artifact"]["digest"] == artifact["digest"]
    )  # rebuilt, identical
    assert ready(sim.cluster.get(GITREPO))["status"] == "True"


def test_a_missing_artifact_is_rebuilt_at_the_next_reconcile(sim: simulation.Simulation) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(1_000)
    artifact = sim.cluster.get(GITREPO)["status"]["artifact"]
    (sim.storage.root / artifact["path"]).unlink()
    sim.advance(60_000)
    assert (sim.storage.root / artifact["path"]).is_file()
    assert not [e for e in events_of(sim, GITREPO) if e[1] == "Warning"]


def include_repos(sim: simulation.Simulation) -> Any:
    main = repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    shared = sim.git.create("shared", "https://github.com/acme/shared")
    shared.commit({"base/common.yaml": "c: 1\n", "docs/readme.md": "# shared\n"}, "shared init")
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "shared", "namespace": "flux-system"},
            "spec": {"url": shared.url, "interval": "1m", "ref": {"branch": "main"}},
        },
        field_manager="kubectl",
    )
    return main, shared


def test_an_included_repository_is_copied_into_the_artifact_and_followed(sim: simulation.Simulation) -> None:
    _, shared = include_repos(sim)
    include = [{"repository": {"name": "shared"}, "fromPath": "base", "toPath": "vendor/base"}]
    sim.cluster.apply(gitrepository(include=include), field_manager="kubectl")
    sim.advance(2_000)
    obj = sim.cluster.get(GITREPO)
    from gitops_sim.model import artifacts

    stored = sim.storage.fetch(artifacts.Artifact.from_status(obj["status"]["artifact"]))
    assert sorted(stored) == ["apps/a.yaml", "vendor/base/common.yaml"]
    assert obj["status"]["observedInclude"] == include
    assert obj["status"]["includedArtifacts"][0]["revision"].startswith("main@sha1:")
    shared.commit({"base/common.yaml": "c: 2\n"}, "shared change")
    sim.advance(61_000)  # the included repository's next interval; the includer follows at once
    stored = sim.storage.fetch(artifacts.Artifact.from_status(sim.cluster.get(GITREPO)["status"]["artifact"]))
    assert stored["vendor/base/common.yaml"] == b"c: 2\n"


def test_a_missing_include_waits_without_warnings(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(include=[{"repository": {"name": "nope"}}]), field_manager="kubectl")
    sim.advance(2_000)
    obj = sim.cluster.get(GITREPO)
    assert ready(obj) == {
        "status": "False",
        "reason": "NotFound",
        "message": "could not get resource for include 'nope': "
        'GitRepository.source.toolkit.fluxcd.io "nope" not found',
    }
    assert not [e for e in events_of(sim, GITREPO) if e[1] == "Warning"]


def test_a_hung_remote_runs_into_the_timeout_and_recovers(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"a.yaml": "a: 1\n"})
    sim.cluster.apply(gitrepository(timeout="300ms"), field_manager="kubectl")
    sim.advance(1_000)
    repo.fault = "hang"
    sim.advance(60_000)
    assert ready(sim.cluster.get(GITREPO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": "failed to checkout and determine revision: unable to list remote for "
        "'https://github.com/acme/fleet': context deadline exceeded",
    }
    repo.fault = None
    sim.advance(60_000)
    assert ready(sim.cluster.get(GITREPO))["status"] == "True"


def test_an_interval_the_crd_refuses_is_refused_by_the_server_and_the_rest_runs(
    sim: simulation.Simulation,
) -> None:
    repo_with(sim, {"a.yaml": "a: 1\n"})
    broken = gitrepository(interval="soon")
    broken["metadata"]["name"] = "broken"
    with pytest.raises(errors.Invalid) as refused:
        sim.cluster.apply(broken, field_manager="kubectl")
    assert str(refused.value) == (
        'GitRepository.source.toolkit.fluxcd.io "broken" is invalid: spec.interval: Invalid value: "soon": '
        "spec.interval in body should match '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'"
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(5_000)
    assert ready(sim.cluster.get(GITREPO))["status"] == "True"
