from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gitops_sim.scenario import loader, runner
from tests.scenario.conftest import WriteScenario


def run(path: Path, workdir: Path) -> runner.Outcome:
    return runner.run(loader.load(path), workdir)


def test_expect_within_waits_in_virtual_time_until_it_holds(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - expect:
            condition: {object: Kustomization/flux-system/apps, type: Ready, status: "True"}
            within: 2m
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure
    assert outcome.virtual_ms == 750
    assert outcome.trace.records[-1] == {
        "t": 750,
        "kind": "expect",
        "ok": True,
        "at": f"{path}:24:7",
        "what": 'condition Kustomization/flux-system/apps type="Ready" status="True"',
    }


def test_a_failing_expectation_shows_expected_and_actual_and_its_line(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1m
        - expect:
            object: ConfigMap/default/settings
            fields: {data.mode: b}
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.failure is not None
    assert str(outcome.failure) == (
        f'{path}:25:7: expectation failed: ConfigMap/default/settings: data.mode: expected "b", got "a"'
    )


def test_a_within_that_runs_out_fails_at_its_deadline(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect:
            absent: ConfigMap/default/settings
            within: 5m
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.failure is not None
    assert (
        "expectation failed (waited 5m0s): ConfigMap/default/settings still exists" in outcome.failure.message
    )
    assert outcome.virtual_ms == 301_000


def test_message_templates_resolve_to_the_repository_head(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - commit:
            repo: fleet
            message: two
            files:
              apps/cm.yaml: |
                kind: ConfigMap
                apiVersion: v1
                metadata: {name: settings, namespace: default}
                data: {mode: b}
        - expect:
            condition:
              object: Kustomization/flux-system/apps
              type: Ready
              message: "Applied revision: main@sha1:${repos.fleet.head}"
            within: 2m
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: b}}
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure
    commits = [r for r in outcome.trace.records if r["kind"] == "commit"]
    assert [c["message"] for c in commits] == ["Initial commit", "two"]


def test_an_unknown_template_variable_fails_with_a_hint(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - expect:
            condition: {object: Kustomization/flux-system/apps, type: Ready, message: "${repos.nope.head}"}
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.failure is not None
    assert "unknown variable ${repos.nope.head}" in outcome.failure.message


def test_drift_is_reverted_at_the_next_interval_and_traced(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - drift: {object: ConfigMap/default/settings, set: {data.mode: z}}
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: z}}
        - expect:
            event: {object: Kustomization/flux-system/apps, message: ConfigMap/default/settings configured}
            within: 11m
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: a}}
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure
    drift = next(r for r in outcome.trace.records if r["kind"] == "drift")
    assert drift == {
        "t": 1_000,
        "kind": "drift",
        "object": "ConfigMap/default/settings",
        "manager": "kubectl-edit",
        "changes": {"data.mode": "z"},
    }


def test_an_object_reference_to_an_unknown_kind_names_the_step(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("- delete: Widget/default/w\n")
    outcome = run(path, tmp_path / "work")
    assert outcome.failure is not None
    assert str(outcome.failure) == (
        f"{path}:23:5: delete: Widget/default/w: the cluster serves no kind 'Widget' (is its CRD installed?)"
    )


@pytest.mark.parametrize(
    "path",
    loader.discover([Path(__file__).parents[2] / "scenarios"]),
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_the_same_scenario_twice_gives_a_byte_identical_trace(path: Path, tmp_path: Path) -> None:
    scenario = loader.load(path)
    first = runner.run(scenario, tmp_path / "one").trace.to_json()
    second = runner.run(scenario, tmp_path / "two").trace.to_json()
    assert first == second
    # Not vacuous: the run recorded Flux's events, or (a cluster still without Flux) the CLI's output.
    assert '"kind": "event"' in first or '"kind": "flux"' in first


def test_a_different_seed_moves_the_jitter(write_scenario: WriteScenario, tmp_path: Path) -> None:
    path = write_scenario("- advance: 30m\n")
    scenario = loader.load(path)
    times = []
    for seed in (1, 2):
        outcome = runner.run(dataclasses.replace(scenario, seed=seed), tmp_path / f"s{seed}")
        times.append([r["t"] for r in outcome.trace.records if r["kind"] == "event"])
    assert times[0] != times[1]


def test_a_repository_can_start_from_a_folder_beside_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "fleet" / "apps").mkdir(parents=True)
    (tmp_path / "fleet" / "apps" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-dir, namespace: default}\ndata: {a: b}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: from a folder\n"
        "repos: {fleet: {url: https://github.com/acme/fleet, dir: fleet}}\n"
        "apply:\n"
        "  - {apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository,"
        " metadata: {name: fleet, namespace: flux-system},"
        " spec: {url: https://github.com/acme/fleet, interval: 1m, ref: {branch: main}}}\n"
        "  - {apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization,"
        " metadata: {name: apps, namespace: flux-system},"
        " spec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: fleet}}}\n"
        "steps:\n"
        "  - expect: {object: ConfigMap/default/from-dir, fields: {data.a: b}, within: 1m}\n"
    )
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure


def test_reconcile_requests_a_run_now_like_flux_reconcile(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1m
        - drift: {object: ConfigMap/default/settings, set: {data.mode: z}}
        - reconcile: Kustomization/flux-system/apps
        - expect: {object: ConfigMap/default/settings, fields: {data.mode: a}}
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure
    request = next(r for r in outcome.trace.records if r["kind"] == "reconcile")
    assert request["requestedAt"] == "2025-01-01T00:01:00Z"
    assert outcome.virtual_ms == 60_000


def test_deleting_a_kustomization_prunes_what_it_applied(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - delete: Kustomization/flux-system/apps
        - expect:
            - absent: ConfigMap/default/settings
            - absent: Kustomization/flux-system/apps
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure


def test_the_collector_is_paused_during_a_run_and_restored_after() -> None:
    import gc

    assert gc.isenabled()
    with runner.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with runner.collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had paused it keeps it paused
    finally:
        gc.enable()


def test_cycles_made_during_a_run_are_collected_after_it_and_nothing_stays_frozen() -> None:
    import gc
    import weakref

    class Node:
        other: object = None

    with runner.collector_paused():
        first, second = Node(), Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
        assert gone() is not None  # the collector is paused: the cycle is still there
        assert gc.get_freeze_count() > 0  # what lived before the run is not walked
    assert gone() is None
    assert gc.get_freeze_count() == 0


def test_objects_put_into_a_bucket_reach_the_cluster_through_a_bucket_source(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - apply:
            - |
              apiVersion: source.toolkit.fluxcd.io/v1
              kind: Bucket
              metadata: {name: drop, namespace: flux-system}
              spec: {bucketName: drop, endpoint: "minio.example.com:9000", insecure: true, interval: 1m}
            - |
              apiVersion: kustomize.toolkit.fluxcd.io/v1
              kind: Kustomization
              metadata: {name: drop, namespace: flux-system}
              spec: {interval: 10m, path: ./, prune: true, sourceRef: {kind: Bucket, name: drop}}
        - put-object:
            endpoint: "minio.example.com:9000"
            bucket: drop
            objects:
              cm.yaml: |
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: from-bucket, namespace: default}
        - expect:
            object: ConfigMap/default/from-bucket
            fields: {metadata.name: from-bucket}
            within: 2m
        """)
    outcome = runner.run(loader.load(path), tmp_path / "run")
    assert outcome.passed, outcome.failure
    assert any(r["kind"] == "put-object" for r in outcome.trace.records)


def test_kubelet_timings_and_eviction_come_from_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "pods.yaml"
    path.write_text("""\
name: slow pulls
kubelet: {pull: 10s, ready: 5s}
apply:
  - |
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: default}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: web, image: "nginx:1.27"}]}
steps:
  - advance: 14s
  - expect: {object: Deployment/default/web, fields: {status.updatedReplicas: 1}}
  - expect: {condition: {object: Deployment/default/web, type: Available, status: "False"}}
  - advance: 1s
  - expect: {condition: {object: Deployment/default/web, type: Available, status: "True"}}
  - fault: {pods: Deployment/default/web, type: evicted}
  - expect: {condition: {object: Deployment/default/web, type: Available, status: "False"}}
  - advance: 15s
  - expect: {condition: {object: Deployment/default/web, type: Available, status: "True"}}
""")
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure
    faults = [r for r in outcome.trace.records if r["kind"] == "fault"]
    assert faults[0]["type"] == "evicted" and faults[0]["target"].startswith("Deployment/default/web (web-")


def test_a_secrets_data_never_reaches_the_trace_or_a_failure(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - apply: |
            apiVersion: v1
            kind: Secret
            metadata: {name: creds, namespace: default}
            stringData: {password: hunter2}
        - drift: {object: Secret/default/creds, set: {data.password: aHVudGVyMw==}}
        - expect: {object: Secret/default/creds, fields: {data.password: aHVudGVyNA==}}
        """)
    outcome = run(path, tmp_path / "work")
    assert str(outcome.failure).endswith(
        "expectation failed: Secret/default/creds: data.password: not the expected value "
        "(a Secret's data is not shown)"
    )
    text = json.dumps(outcome.trace.records)
    assert [s for s in ("hunter2", "aHVudGVy") if s in text] == []
    assert '"changes": {"data.password": "<secret>"}' in text


def test_a_kind_served_in_the_core_group_and_another_resolves_to_the_core_one_as_kubectl_does(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - advance: 1s
        - expect: {absent: Event/default/nothing}
        """)
    outcome = run(path, tmp_path / "work")
    assert outcome.passed, outcome.failure


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parents[2] / "scenarios" / "notification").glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_no_secret_of_a_notification_scenario_reaches_its_trace(path: Path, tmp_path: Path) -> None:
    scenario = loader.load(path)
    secrets = [
        value
        for manifest in scenario.apply
        if manifest.obj.get("kind") == "Secret"
        for value in (manifest.obj.get("stringData") or {}).values()
    ]
    outcome = runner.run(scenario, tmp_path / "work")
    assert outcome.passed, outcome.failure
    text = outcome.trace.to_json()
    assert secrets or "Secret" not in path.read_text()
    for secret in secrets:
        assert secret not in text
        assert secret.rsplit("/", 1)[-1] not in text  # nor the secret part of a webhook URL


def test_a_push_to_a_registry_the_scenario_made_unreachable_fails_the_step_not_the_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "push.yaml"
    path.write_text(
        "name: push while the registry is down\n"
        "steps:\n"
        "  - fault: {registry: ghcr.io, type: unreachable}\n"
        "  - push-image: ghcr.io/acme/app:1.0.0\n"
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.failure is not None
    assert str(outcome.failure).startswith(f"{path}:4:")
    assert "push-image: the registry refused the push: " in outcome.failure.message
