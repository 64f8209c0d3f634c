"""helm-controller's status bookkeeping: snapshot digests, history records, and Ready.

Expected values come from helm-controller's own sources: the digest test vector of
internal/release/digest_test.go, the Observation and Snapshot JSON layouts (Go struct order and
tags), `recordOnObject` and the `observe*` functions, and `summarize` in release.go.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, cast

import pytest

from gitops_sim.helm import status, storage, values
from gitops_sim.model.fluxapi import declare, helm

CHART = storage.ChartRecord(
    metadata={
        "name": "podinfo",
        "version": "6.5.0",
        "appVersion": "6.5.0",
        "apiVersion": "v2",
        "description": "A <b> chart",
        "maintainers": [{"email": "a@b.c", "name": "stefan"}],
        "annotations": {"z": "1", "a": "2"},
    }
)
MANIFEST = "---\n# Source: podinfo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
JOB = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n"
MIGRATE = storage.Hook(
    name="migrate",
    kind="Job",
    path="podinfo/templates/job.yaml",
    manifest=JOB,
    events=("pre-upgrade",),
    last_run=storage.HookExecution("2024-05-01T11:00:00Z", "2024-05-01T11:00:05Z", "Succeeded"),
    weight=-5,
    delete_policies=("before-hook-creation",),
)
SMOKE = storage.Hook(
    name="smoke",
    kind="Pod",
    path="podinfo/templates/tests/smoke.yaml",
    manifest="apiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n",
    events=("test",),
)


def release(version: int = 2, status_: storage.Status = "deployed", **changes: Any) -> storage.Release:
    rel = storage.new_release(
        CHART,
        name="podinfo",
        namespace="apps",
        version=version,
        config={"replicaCount": 2, "image": {"tag": "6.5.0"}, "ratio": 0.5},
        manifest=MANIFEST,
        status=status_,
        description="Upgrade complete",
        first_deployed="2024-05-01T10:00:00.500000000Z",
        last_deployed="2024-05-01T11:00:00Z",
        hooks=(MIGRATE, SMOKE),
    )
    return dataclasses.replace(rel, **changes)


EXPECTED_OBSERVATION = (
    '{"name":"podinfo","version":2,'
    '"info":{"first_deployed":"2024-05-01T10:00:00.5Z","last_deployed":"2024-05-01T11:00:00Z",'
    '"description":"Upgrade complete","status":"deployed"},'
    '"chartMetadata":{"name":"podinfo","version":"6.5.0","description":"A \\u003cb\\u003e chart",'
    '"maintainers":[{"name":"stefan","email":"a@b.c"}],"apiVersion":"v2","appVersion":"6.5.0",'
    '"annotations":{"a":"2","z":"1"}},'
    '"config":{"image":{"tag":"6.5.0"},"ratio":0.5,"replicaCount":2},'
    '"manifest":"---\\n# Source: podinfo/templates/cm.yaml\\napiVersion: v1\\nkind: ConfigMap\\n",'
    '"hooks":[{"name":"migrate","kind":"Job","path":"podinfo/templates/job.yaml",'
    '"manifest":"apiVersion: batch/v1\\nkind: Job\\nmetadata:\\n  name: migrate\\n",'
    '"events":["pre-upgrade"],"last_run":{"started_at":"2024-05-01T11:00:00Z",'
    '"completed_at":"2024-05-01T11:00:05Z","phase":"Succeeded"},"weight":-5,'
    '"delete_policies":["before-hook-creation"]}],'
    '"namespace":"apps"}\n'
)
DIGEST_V2 = "sha256:" + hashlib.sha256(EXPECTED_OBSERVATION.encode()).hexdigest()


# --- the Observation and its digest ------------------------------------------------------------


def test_digest_of_a_bare_observation_matches_helm_controllers_test_vector() -> None:
    bare = storage.Release(
        name="foo",
        namespace="",
        version=0,
        info=storage.Info(status=cast(storage.Status, "")),
        chart=storage.ChartRecord(metadata={}),
        apply_method="",
    )
    assert status.release_digest(bare) == (
        "sha256:f1498f27a16a09cd7e1ee610d924df065c03d30035638babc95dd9a8d412ce4d"
    )


def test_observation_is_gos_json_of_the_release_without_chart_files_or_test_hooks() -> None:
    assert status.observation_json(release()) == EXPECTED_OBSERVATION


def test_release_digest_is_the_sha256_of_the_observation() -> None:
    assert status.release_digest(release()) == DIGEST_V2


def test_observation_encodes_info_and_hooks_as_helm_stores_them() -> None:
    info = dataclasses.replace(release().info, first_deployed="2024-05-01T10:00:00.5Z")
    rel = release(hooks=(MIGRATE,), info=info)
    observed = json.loads(status.observation_json(rel))
    stored = storage.to_json(rel)
    assert list(observed["info"].items()) == list(stored["info"].items())
    assert [list(h.items()) for h in observed["hooks"]] == [list(h.items()) for h in stored["hooks"]]


def test_a_test_hook_run_does_not_change_the_release_digest() -> None:
    ran = dataclasses.replace(SMOKE, last_run=storage.HookExecution("2024-05-01T12:00:00Z", "", "Running"))
    assert status.release_digest(release(hooks=(MIGRATE, ran))) == DIGEST_V2


def test_oci_digest_is_part_of_the_observation() -> None:
    text = status.observation_json(release(), oci_digest="sha256:abc")
    assert text.endswith('"namespace":"apps","ociDigest":"sha256:abc"}\n')


def test_a_release_with_only_test_hooks_observes_hooks_as_null() -> None:
    assert '"hooks":null' in status.observation_json(release(hooks=(SMOKE,)))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(0.5, "0.5", id="fraction"),
        pytest.param(3.0, "3", id="whole-float"),
        pytest.param(1.5e-05, "0.000015", id="small-fixed"),
        pytest.param(1e-06, "0.000001", id="fixed-boundary"),
        pytest.param(1e-07, "1e-7", id="exponent-one-digit"),
        pytest.param(1.5e-12, "1.5e-12", id="exponent-two-digits"),
        pytest.param(1e21, "1e+21", id="large"),
        pytest.param(123456789.25, "123456789.25", id="no-exponent-below-1e21"),
    ],
)
def test_floats_are_written_as_gos_encoding_json(value: float, text: str) -> None:
    assert status._go_float(value) == text


@pytest.mark.parametrize(
    ("given", "go", "meta"),
    [
        pytest.param("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", id="utc"),
        pytest.param(
            "2024-05-01T10:00:00.120000000Z", "2024-05-01T10:00:00.12Z", "2024-05-01T10:00:00Z", id="nanos"
        ),
        pytest.param(
            "2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z", id="offset"
        ),
        pytest.param(
            "2024-05-01T10:00:00.000+00:00", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", id="zero"
        ),
    ],
)
def test_times_are_written_as_go_and_as_metav1(given: str, go: str, meta: str) -> None:
    assert (status.go_time(given), status.meta_time(given)) == (go, meta)


# --- snapshots ---------------------------------------------------------------------------------


def snap(version: int, state: str = "deployed", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "apiVersion": "v2",
        "digest": f"sha256:{version}",
        "name": "podinfo",
        "namespace": "apps",
        "version": version,
        "status": state,
        "chartName": "podinfo",
        "chartVersion": "6.5.0",
        "configDigest": "sha256:c",
    }
    return out | extra


def test_snapshot_holds_the_release_as_helm_controller_records_it() -> None:
    assert status.snapshot(release(), action="upgrade", oci_digest="sha256:abc") == {
        "apiVersion": "v2",
        "digest": status.release_digest(release(), oci_digest="sha256:abc"),
        "name": "podinfo",
        "namespace": "apps",
        "version": 2,
        "status": "deployed",
        "action": "upgrade",
        "chartName": "podinfo",
        "chartVersion": "6.5.0",
        "appVersion": "6.5.0",
        "configDigest": values.digest({"replicaCount": 2, "image": {"tag": "6.5.0"}, "ratio": 0.5}),
        "firstDeployed": "2024-05-01T10:00:00Z",
        "lastDeployed": "2024-05-01T11:00:00Z",
        "ociDigest": "sha256:abc",
    }


def test_snapshot_parses_as_the_typed_api() -> None:
    parsed = declare.parse(helm.Snapshot, status.snapshot(release(), action="install"))
    assert (parsed.version, parsed.action, parsed.chart_version) == (2, "install", "6.5.0")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param((), {"smoke": {}, "load": {"phase": "Failed"}}, id="all"),
        pytest.param((helm.Filter(name="load"),), {"load": {"phase": "Failed"}}, id="include"),
        pytest.param((helm.Filter(name="load", exclude=True),), {"smoke": {}}, id="exclude"),
    ],
)
def test_test_hooks_are_recorded_by_name_as_filtered(
    filters: tuple[helm.Filter, ...], expected: dict[str, Any]
) -> None:
    load = dataclasses.replace(SMOKE, name="load", last_run=storage.HookExecution(phase="Failed"))
    assert status.observed_test_hooks(release(hooks=(MIGRATE, SMOKE, load)), filters) == expected


def test_test_hook_times_are_metav1_times() -> None:
    ran = dataclasses.replace(
        SMOKE, last_run=storage.HookExecution("2024-05-01T12:00:00.25Z", "2024-05-01T12:00:09Z", "Succeeded")
    )
    assert status.observed_test_hooks(release(hooks=(ran,))) == {
        "smoke": {
            "lastStarted": "2024-05-01T12:00:00Z",
            "lastCompleted": "2024-05-01T12:00:09Z",
            "phase": "Succeeded",
        }
    }


# --- recording actions -------------------------------------------------------------------------


def test_install_prepends_a_snapshot_with_the_action_and_attempted_oci_digest() -> None:
    recorded = status.record_release({"lastAttemptedRevisionDigest": "sha256:oci"}, [release(1)], "install")
    assert recorded["history"] == [status.snapshot(release(1), action="install", oci_digest="sha256:oci")]


def test_upgrade_re_observes_the_superseded_release_keeping_its_oci_digest_and_tests_but_not_its_action() -> (
    None
):
    tests = {"smoke": {"phase": "Succeeded"}}
    before = {"history": [snap(1, action="install", ociDigest="sha256:one", testHooks=tests)]}
    superseded = release(1, "superseded")
    recorded = status.record_release(before, [release(2), superseded], "upgrade")
    assert recorded["history"] == [
        status.snapshot(release(2), action="upgrade"),
        status.snapshot(superseded, oci_digest="sha256:one", test_hooks=tests),
    ]


def test_an_action_that_stored_nothing_leaves_the_history() -> None:
    assert status.record_release({"history": [snap(1)]}, [], "upgrade") == {"history": [snap(1)]}


def test_a_test_run_updates_the_latest_snapshot_with_the_test_results() -> None:
    ran = dataclasses.replace(SMOKE, last_run=storage.HookExecution(phase="Succeeded"))
    tested = release(2, hooks=(MIGRATE, ran))
    before = {"history": [snap(1, "superseded"), snap(2, action="upgrade", ociDigest="sha256:two")]}
    assert status.record_test(before, tested)["history"] == [
        status.snapshot(
            tested, action="upgrade", oci_digest="sha256:two", test_hooks={"smoke": {"phase": "Succeeded"}}
        ),
        snap(1, "superseded"),
    ]


def test_a_test_run_of_another_release_is_ignored() -> None:
    before = {"history": [snap(3)]}
    assert status.record_test(before, release(2)) == before


def test_rollback_updates_targeted_snapshots_and_prepends_its_own_release() -> None:
    tests = {"smoke": {"phase": "Succeeded"}}
    before = {"history": [snap(2, "failed", action="upgrade"), snap(1, action="install", testHooks=tests)]}
    writes = [release(1, "superseded"), release(2, "superseded"), release(3)]
    assert status.record_rollback(before, writes)["history"] == [
        status.snapshot(release(3)),
        status.snapshot(release(2, "superseded"), action="rollback"),
        status.snapshot(release(1, "superseded"), action="rollback", test_hooks=tests),
    ]


def test_uninstall_updates_only_the_snapshots_it_targets() -> None:
    before = {"history": [snap(2, testHooks={})]}
    writes = [release(2, "uninstalled"), release(7, "uninstalled")]
    assert status.record_uninstall(before, writes)["history"] == [
        status.snapshot(release(2, "uninstalled"), action="uninstall", test_hooks={})
    ]


def test_unlock_keeps_the_action_but_drops_the_test_hooks() -> None:
    before = {"history": [snap(2, "pending-upgrade", action="upgrade", testHooks={})]}
    assert status.record_unlock(before, [release(2, "failed")])["history"] == [
        status.snapshot(release(2, "failed"), action="upgrade")
    ]


@pytest.mark.parametrize(
    ("history", "ignore_tests", "kept"),
    [
        pytest.param(
            [snap(3), snap(2, "superseded"), snap(1, "superseded")], False, [3, 2], id="to-previous"
        ),
        pytest.param([snap(3), snap(2, "failed"), snap(1, "superseded")], False, [3, 2, 1], id="past-failed"),
        pytest.param(
            [snap(3), snap(2, "superseded", testHooks={"t": {"phase": "Failed"}}), snap(1, "superseded")],
            False,
            [3, 2, 1],
            id="past-failed-test",
        ),
        pytest.param(
            [snap(3), snap(2, "superseded", testHooks={"t": {"phase": "Failed"}}), snap(1, "superseded")],
            True,
            [3, 2],
            id="failed-test-ignored",
        ),
        pytest.param([snap(v, "failed") for v in range(7, 0, -1)], False, [7, 6, 5, 4, 3], id="max-five"),
    ],
)
def test_history_is_truncated_to_the_previous_deployed_release(
    history: list[dict[str, Any]], ignore_tests: bool, kept: list[int]
) -> None:
    truncated = status.truncate_history({"history": history}, ignore_tests)
    assert [s["version"] for s in truncated["history"]] == kept


# --- last attempt, summarize, finish -----------------------------------------------------------


def test_last_attempt_records_generation_revision_and_digests() -> None:
    before = {"lastAttemptedValuesChecksum": "abc", "lastReleaseRevision": 3, "failures": 1}
    assert status.record_last_attempt(
        before, generation=4, chart_version="6.5.0", oci_digest="", config_digest="sha256:c"
    ) == {
        "failures": 1,
        "lastAttemptedGeneration": 4,
        "lastAttemptedRevision": "6.5.0",
        "lastAttemptedConfigDigest": "sha256:c",
    }


NOW = "2024-05-01T12:00:00Z"
EARLIER = "2024-05-01T11:00:00Z"


def cond(type_: str, status_: str, reason: str, message: str, generation: int = 2) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status_,
        "observedGeneration": generation,
        "lastTransitionTime": EARLIER,
        "reason": reason,
        "message": message,
    }


RELEASED = cond("Released", "True", "UpgradeSucceeded", "Helm upgrade succeeded for release apps/podinfo.v2")
RELEASED_OLD = cond("Released", "True", "UpgradeSucceeded", "upgraded v2", generation=1)
REMEDIATED = cond("Remediated", "True", "RollbackSucceeded", "Helm rollback succeeded")
TEST_FAILED = cond("TestSuccess", "False", "TestFailed", "Helm test failed")
STALLED = cond("Stalled", "True", "RetriesExceeded", "Failed to upgrade after 1 attempt(s)")


def hr(*conds: dict[str, Any], generation: int = 2) -> dict[str, Any]:
    return {
        "metadata": {"name": "podinfo", "namespace": "apps", "generation": generation},
        "status": {"conditions": [dict(c) for c in conds]},
    }


def spec(**fields: Any) -> helm.HelmReleaseSpec:
    data = {
        "interval": "5m",
        "chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "p"}}},
    }
    return declare.parse(helm.HelmReleaseSpec, data | fields)


def ready(obj: dict[str, Any]) -> tuple[str, str, str]:
    found = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    return found["status"], found["reason"], found["message"]


@pytest.mark.parametrize(
    ("conds", "fields", "expected"),
    [
        pytest.param([RELEASED], {}, ("True", RELEASED["reason"], RELEASED["message"]), id="released"),
        pytest.param(
            [RELEASED, REMEDIATED],
            {},
            ("False", "RollbackSucceeded", "Helm rollback succeeded"),
            id="remediated-false",
        ),
        pytest.param(
            [RELEASED, TEST_FAILED],
            {"test": {"enable": True}},
            ("False", "TestFailed", "Helm test failed"),
            id="test-failed",
        ),
        pytest.param(
            [RELEASED, TEST_FAILED],
            {"test": {"enable": True, "ignoreFailures": True}},
            ("True", RELEASED["reason"], RELEASED["message"]),
            id="test-failures-ignored",
        ),
        pytest.param(
            [RELEASED_OLD, cond("Remediated", "True", "RollbackSucceeded", "rolled back", generation=2)],
            {},
            ("False", "RollbackSucceeded", "rolled back"),
            id="newer-remediated-wins",
        ),
        pytest.param(
            [RELEASED, cond("Remediated", "True", "RollbackSucceeded", "rolled back", generation=1)],
            {},
            ("True", RELEASED["reason"], RELEASED["message"]),
            id="newer-released-wins",
        ),
    ],
)
def test_ready_is_summarized_from_remediated_test_success_and_released(
    conds: list[dict[str, Any]], fields: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    assert ready(status.summarize(hr(*conds), spec(**fields), now=NOW)) == expected


def test_summarize_removes_test_success_when_tests_are_disabled() -> None:
    out = status.summarize(hr(RELEASED, TEST_FAILED), spec(), now=NOW)
    assert [c["type"] for c in out["status"]["conditions"]] == ["Ready", "Released"]


def test_summarize_removes_stalled_when_ready_is_true() -> None:
    out = status.summarize(hr(STALLED, RELEASED), spec(), now=NOW)
    assert [c["type"] for c in out["status"]["conditions"]] == ["Ready", "Released"]


def test_summarize_keeps_stalled_when_ready_is_false() -> None:
    out = status.summarize(hr(STALLED, RELEASED, REMEDIATED), spec(), now=NOW)
    assert [c["type"] for c in out["status"]["conditions"]] == ["Stalled", "Ready", "Released", "Remediated"]


def test_summarize_sets_ready_at_the_objects_generation_and_time() -> None:
    out = status.summarize(hr(RELEASED_OLD, generation=3), spec(), now=NOW)
    assert out["status"]["conditions"][0] == {
        "type": "Ready",
        "status": "True",
        "observedGeneration": 3,
        "lastTransitionTime": NOW,
        "reason": "UpgradeSucceeded",
        "message": "upgraded v2",
    }


POST_RENDERERS = [
    {
        "kustomize": {
            "images": [{"newTag": "6.5.1", "name": "podinfo"}],
            "patches": [{"target": {"name": "podinfo", "kind": "Deployment"}, "patch": "- op: remove"}],
        }
    }
]
POST_RENDERERS_JSON = (
    '[{"kustomize":{"patches":[{"patch":"- op: remove","target":{"kind":"Deployment","name":"podinfo"}}],'
    '"images":[{"name":"podinfo","newTag":"6.5.1"}]}}]\n'
)


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_post_renderers_digest_is_the_sha256_of_gos_json_of_the_spec_field() -> None:
    assert status.post_renderers_digest(spec(postRenderers=POST_RENDERERS)) == sha256(POST_RENDERERS_JSON)


def test_common_metadata_digest_is_the_sha256_of_gos_json_of_the_spec_field() -> None:
    common = {"labels": {"team": "a", "env": "b"}, "annotations": {"x": "<y>"}}
    expected = '{"annotations":{"x":"\\u003cy\\u003e"},"labels":{"env":"b","team":"a"}}\n'
    assert status.common_metadata_digest(spec(commonMetadata=common)) == sha256(expected)


def test_summarize_records_the_observed_digests_of_the_spec() -> None:
    before = hr(RELEASED)
    before["status"]["observedCommonMetadataDigest"] = "sha256:old"
    out = status.summarize(before, spec(postRenderers=POST_RENDERERS), now=NOW)
    observed = (
        out["status"].get("observedPostRenderersDigest"),
        out["status"].get("observedCommonMetadataDigest"),
    )
    assert observed == (sha256(POST_RENDERERS_JSON), None)


def test_summarize_without_conditions_changes_nothing() -> None:
    before = {"metadata": {"generation": 1}, "status": {}}
    assert status.summarize(before, spec(postRenderers=POST_RENDERERS), now=NOW) == before


def test_summarize_leaves_its_input_unchanged() -> None:
    before = hr(STALLED, RELEASED)
    status.summarize(before, spec(), now=NOW)
    assert before == hr(STALLED, RELEASED)


@pytest.mark.parametrize(
    ("error", "requeue", "observed"),
    [
        pytest.param("none", False, True, id="success"),
        pytest.param("none", True, False, id="success-requeue"),
        pytest.param("terminal", False, True, id="terminal"),
        pytest.param("other", False, False, id="retryable-error"),
    ],
)
def test_observed_generation_is_patched_after_success_or_a_terminal_error(
    error: Any, requeue: bool, observed: bool
) -> None:
    assert status.observes_generation(error=error, requeue=requeue) is observed


def test_finish_records_the_handled_request_and_observed_generation() -> None:
    obj = {
        "metadata": {"generation": 5, "annotations": {"reconcile.fluxcd.io/requestedAt": "now"}},
        "status": {},
    }
    assert status.finish(obj, observe_generation=True)["status"] == {
        "lastHandledReconcileAt": "now",
        "observedGeneration": 5,
    }
