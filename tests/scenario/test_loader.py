from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.scenario import loader, schema
from gitops_sim.scenario.located import LoadError
from tests.scenario.conftest import WriteScenario


def load_error(path: Path) -> str:
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    return str(caught.value)


def test_upstream_steps_load_into_typed_steps(write_scenario: WriteScenario) -> None:
    path = write_scenario("""\
        - tag: {repo: fleet, name: v1.0.0, message: release}
        - fault: {repo: fleet, type: unreachable}
        - heal: {repo: fleet}
        """)
    assert [s.action for s in loader.load(path).steps] == [
        schema.Tag("fleet", "v1.0.0", None, "release"),
        schema.Fault("fleet", "unreachable"),
        schema.Heal("fleet"),
    ]


def test_workload_steps_load_into_typed_steps(write_scenario: WriteScenario) -> None:
    path = write_scenario("""\
        - push-image: [ghcr.io/acme/app:1.1.0, "localhost:5000/app:2"]
        - fault: {image: "ghcr.io/acme/app:1.1.0", type: crash-loop}
        - fault: {pods: Deployment/apps/web, type: evicted}
        """)
    assert [s.action for s in loader.load(path).steps] == [
        schema.PushImage(("ghcr.io/acme/app:1.1.0", "localhost:5000/app:2")),
        schema.Fault("ghcr.io/acme/app:1.1.0", "crash-loop", upstream="image"),
        schema.Fault("Deployment/apps/web", "evicted", upstream="pods"),
    ]


def test_an_image_without_a_registry_host_or_tag_is_refused(write_scenario: WriteScenario) -> None:
    path = write_scenario("- push-image: nginx\n")
    assert load_error(path) == (
        f"{path}:23:17: steps[0].push-image: expected <registry host>/<name>:<tag>, "
        "e.g. ghcr.io/acme/app:1.0.0; got 'nginx'"
    )


def test_a_valid_scenario_loads_into_typed_steps(write_scenario: WriteScenario) -> None:
    path = write_scenario("""\
        - advance: 10m
        - drift: {object: ConfigMap/default/settings, set: {data.mode: b}}
        - expect:
            condition: {object: Kustomization/flux-system/apps, type: Ready, status: True}
            within: 2m
        """)
    sc = loader.load(path)
    assert sc.name == "test scenario"
    assert [s.keyword for s in sc.steps] == ["advance", "drift", "expect"]
    assert sc.steps[0].action == schema.Advance(600_000)
    expect = sc.steps[2].action
    assert isinstance(expect, schema.Expect)
    assert expect.items[0].want == {"type": "Ready", "status": "True"}
    assert expect.items[0].within_ms == 120_000
    inline = sc.repos[0].files["apps/cm.yaml"]
    assert isinstance(inline, str)  # inline files stay text; only `dir:` files are bytes
    assert inline.startswith("apiVersion: v1")


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(
            "- advance: soon\n", ":23:14: steps[0].advance: invalid duration 'soon'", id="bad-duration"
        ),
        pytest.param(
            "- wait: 1m\n",
            ":23:11: steps[0].wait: unknown step; expected one of: apply, commit",
            id="unknown-step",
        ),
        pytest.param(
            "- drift: {object: Deployment/x, sett: {a: 1}}\n",
            ":23:41: steps[0].drift.sett: unknown field; did you mean 'set'? "
            "expected one of: object, manager, set, unset",
            id="unknown-field",
        ),
        pytest.param(
            "- delete: podinfo\n", ":23:13: steps[0].delete: expected Kind/namespace/name", id="bad-ref"
        ),
        pytest.param(
            "- expect:\n"
            "    condition: {object: Kustomization/flux-system/apps, type: Ready, status: maybe}\n",
            ':24:80: steps[0].expect.condition.status: expected "True", "False" or "Unknown"',
            id="bad-status",
        ),
        pytest.param(
            "- commit: {message: hi}\n",
            ":23:13: steps[0].commit: missing required field 'repo'",
            id="missing-field",
        ),
        pytest.param(
            "- fault: {repo: fleet, type: flaky}\n",
            ":23:32: steps[0].fault.type: expected one of: unreachable, auth",
            id="unknown-fault",
        ),
        pytest.param(
            "- tag: {repo: fleet}\n",
            ":23:10: steps[0].tag: missing required field 'name'",
            id="tag-without-name",
        ),
        pytest.param(
            "- expect: {no-commit: {repo: fleet}}\n",
            ":23:13: steps[0].expect.for: `for: <duration>` goes with no-commit and no-notification",
            id="no-commit-without-for",
        ),
        pytest.param(
            "- expect: {commit: {repo: fleet}, for: 1m}\n",
            ":23:42: steps[0].expect.for: `for: <duration>` goes with no-commit and no-notification",
            id="for-on-a-commit",
        ),
        pytest.param(
            "- expect: {commit: {repo: fleet, author: fluxbot}}\n",
            ":23:44: steps[0].expect.commit.author: expected 'Name <email>'",
            id="commit-author-without-email",
        ),
        pytest.param(
            "- expect: {commit: {repo: fleet, parent: abc}}\n",
            ":23:44: steps[0].expect.commit.parent: unknown field; expected one of: repo, branch, message",
            id="commit-unknown-field",
        ),
        pytest.param(
            "- commit: {repo: fleet, before-next-push: yes please}\n",
            ":23:45: steps[0].commit.before-next-push: expected true or false",
            id="before-next-push-not-a-boolean",
        ),
        pytest.param(
            "- webhook: {receiver: GitRepository/flux-system/fleet}\n",
            ":23:25: steps[0].webhook.receiver: expected Receiver/<namespace>/<name>",
            id="webhook-to-something-else",
        ),
        pytest.param(
            "- webhook: {receiver: Receiver/flux-system/github, signature: forged}\n",
            ":23:65: steps[0].webhook.signature: expected valid, invalid or missing",
            id="webhook-bad-signature-kind",
        ),
        pytest.param(
            "- expect: {notification: {sink: slack, severity: warning}}\n",
            ':23:52: steps[0].expect.notification.severity: expected "info" or "error"',
            id="notification-bad-severity",
        ),
        pytest.param(
            "- fault: {sink: slack, type: flaky}\n",
            ":23:32: steps[0].fault.type: expected one of: down, unavailable, hang",
            id="sink-unknown-fault",
        ),
        pytest.param(
            "- push-image: {image: ghcr.io/acme/app:1.0.0, created: yesterday}\n",
            ":23:58: steps[0].push-image.created: expected an RFC 3339 time",
            id="push-image-bad-created",
        ),
    ],
)
def test_errors_name_file_line_column_and_field(
    write_scenario: WriteScenario, steps: str, expected: str
) -> None:
    path = write_scenario(steps)
    message = load_error(path)
    assert message.startswith(str(path) + expected), message


def test_invalid_yaml_is_reported_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nsteps:\n  - advance: [1m\n")
    assert load_error(path).startswith(f"{path}:4:1: invalid YAML")


def test_a_missing_manifest_field_is_reported_at_the_manifest(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\napply:\n  - {kind: ConfigMap, metadata: {name: a}}\nsteps: []\n")
    assert load_error(path) == f"{path}:3:5: apply[0]: manifest is missing 'apiVersion'"


DECLARED = "apiVersion: gitops-sim/v1alpha1\nkind: Scenario\n"


def test_discovery_finds_only_files_that_declare_themselves_scenarios(tmp_path: Path) -> None:
    (tmp_path / "flux").mkdir()
    (tmp_path / "flux" / "sync.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "one.yaml").write_text(DECLARED + "name: one\nsteps: []\n")
    (tmp_path / "undeclared.yaml").write_text("name: two\nsteps: []\n")
    assert loader.discover([tmp_path]) == [tmp_path / "one.yaml"]


def test_a_multi_document_flux_manifest_beside_a_scenario_is_not_mistaken_for_one(tmp_path: Path) -> None:
    (tmp_path / "fleet").mkdir()
    (tmp_path / "fleet" / "gotk-sync.yaml").write_text(
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: a}\n"
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: a}\n"
        "steps: []\n"
    )
    (tmp_path / "s.yaml").write_text(DECLARED + "name: s\nsteps: []\n")
    assert loader.discover([tmp_path]) == [tmp_path / "s.yaml"]


def test_a_declared_scenario_that_is_broken_is_found_and_its_error_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("# a comment first\n" + DECLARED.replace("kind: Scenario", "kind: 'Scenario'  # quoted")
                    + "name: x\nsteps:\n  - advance: [1m\n")  # fmt: skip
    assert loader.discover([tmp_path]) == [path]
    assert load_error(path).startswith(f"{path}:7:1: invalid YAML")


def test_a_scenario_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("apiVersion: gitops-sim/v1alpha1\nkind: Test\nname: x\nsteps: []\n")
    assert load_error(path) == f"{path}:2:7: kind: expected 'Scenario'"


def test_manifests_can_come_from_files_beside_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "sync.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text("name: x\napply:\n  - file: sync.yaml\nsteps: []\n")
    assert [m.obj["metadata"]["name"] for m in loader.load(path).apply] == ["a", "b"]


def test_an_unquoted_start_time_is_read_as_the_text_it_is(tmp_path: Path) -> None:
    path = tmp_path / "start.yaml"
    path.write_text("name: s\nstart: 2025-06-01T00:00:00Z\nsteps: []\n")
    assert loader.load(path).start_ms == 1_748_736_000_000
