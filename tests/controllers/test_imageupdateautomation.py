"""ImageUpdateAutomation: marked image references rewritten in Git, committed and pushed, as
image-automation-controller does."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import git, oci
from gitops_sim.testing import events_of, ready

AUTO = refs.ObjectRef("image.toolkit.fluxcd.io", "ImageUpdateAutomation", "flux-system", "fleet")
IMAGE = "registry.example.com/acme/app"
URL = "https://github.com/acme/fleet"
MARKER = '# {"$imagepolicy": "flux-system:app"}'
DEPLOY = (
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: app  # the web front\n"
    "  namespace: apps\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "        - name: app\n"
    f"          image: {IMAGE}:1.0.0 {MARKER}\n"
)
AUTHOR = {"name": "fluxbot", "email": "flux@example.com"}


def automation(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": "ImageUpdateAutomation",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {
            "interval": "30m",
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "git": {"commit": {"author": AUTHOR}, "checkout": {"ref": {"branch": "main"}}},
            "update": {"path": "./apps", "strategy": "Setters"},
            **spec,
        },
    }


def setup(
    sim: simulation.Simulation,
    *,
    files: dict[str, str] | None = None,
    tags: tuple[str, ...] = ("1.0.0",),
    **spec: Any,
) -> git.Repository:
    repo = sim.git.create("fleet", URL)
    repo.commit(files or {"apps/deploy.yaml": DEPLOY}, "first")
    push(sim, *tags)
    for obj in (
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {"url": URL, "interval": "1m", "ref": {"branch": "main"}},
        },
        {
            "apiVersion": "image.toolkit.fluxcd.io/v1",
            "kind": "ImageRepository",
            "metadata": {"name": "app", "namespace": "flux-system"},
            "spec": {"image": IMAGE, "interval": "1m"},
        },
        {
            "apiVersion": "image.toolkit.fluxcd.io/v1",
            "kind": "ImagePolicy",
            "metadata": {"name": "app", "namespace": "flux-system"},
            "spec": {"imageRepositoryRef": {"name": "app"}, "policy": {"semver": {"range": "1.x"}}},
        },
        automation(**spec),
    ):
        sim.cluster.apply(obj, field_manager="kubectl")
    sim.advance(2_000)
    return repo


def push(sim: simulation.Simulation, *versions: str) -> None:
    client = oci.RegistryClient(sim.registries.route)
    host, name = sim.registries.host(IMAGE)
    for version in versions:
        client.push_image(host, name, version)


def status(sim: simulation.Simulation) -> dict[str, Any]:
    result: dict[str, Any] = sim.cluster.get(AUTO)["status"]
    return result


def test_a_file_already_current_gives_no_commit_and_records_what_was_observed(
    sim: simulation.Simulation,
) -> None:
    repo = setup(sim)
    head = repo.head()
    assert repo.log("main") == [head]
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "True",
        "reason": "Succeeded",
        "message": "repository up-to-date",
    }
    assert status(sim)["observedSourceRevision"] == f"main@sha1:{head}"
    assert status(sim)["observedPolicies"] == {"app": {"name": IMAGE, "tag": "1.0.0"}}
    assert "lastPushCommit" not in status(sim)


def test_a_new_tag_is_committed_and_pushed_with_only_the_marked_value_changed(
    sim: simulation.Simulation,
) -> None:
    repo = setup(sim)
    push(sim, "1.1.0")
    sim.advance(61_000)
    head = repo.head()
    assert head is not None
    info = repo.commit_info(head)
    assert (info.author_name, info.author_email) == ("fluxbot", "flux@example.com")
    assert info.message == "Update from image update automation"
    assert [f.path for f in info.files] == ["apps/deploy.yaml"]
    assert repo.files_at(head)["apps/deploy.yaml"].decode() == DEPLOY.replace(":1.0.0", ":1.1.0")
    assert status(sim)["lastPushCommit"] == head
    assert status(sim)["observedSourceRevision"] == f"main@sha1:{head}"
    assert status(sim)["observedPolicies"] == {"app": {"name": IMAGE, "tag": "1.1.0"}}


def test_a_push_is_announced_with_fluxs_summary(sim: simulation.Simulation) -> None:
    repo = setup(sim)
    push(sim, "1.1.0")
    sim.advance(61_000)
    head = repo.head()
    assert head is not None
    last = events_of(sim, AUTO)[-1]
    assert (last.type, last.reason) == ("Normal", "Succeeded")
    assert last.message == f"pushed commit '{head[:7]}' to branch 'main'\nUpdate from image update automation"


def test_the_message_template_sees_the_changes(sim: simulation.Simulation) -> None:
    template = (
        "Automation: {{ .AutomationObject }}\n"
        "{{ range $resource, $changes := .Changed.Objects -}}\n"
        "- {{ $resource.Kind }}/{{ $resource.Name }}: "
        "{{ range $changes }}{{ .OldValue }} -> {{ .NewValue }}{{ end }}\n"
        "{{ end -}}\n"
        "{{ .Values.team }}"
    )
    repo = setup(
        sim,
        git={
            "commit": {
                "author": AUTHOR,
                "messageTemplate": template,
                "messageTemplateValues": {"team": "web"},
            },
            "checkout": {"ref": {"branch": "main"}},
        },
    )
    push(sim, "1.1.0")
    sim.advance(61_000)
    head = repo.head()
    assert head is not None
    assert repo.commit_info(head).message == (
        f"Automation: flux-system/fleet\n- Deployment/app: {IMAGE}:1.0.0 -> {IMAGE}:1.1.0\nweb"
    )


def test_a_template_using_the_removed_updated_field_stalls(sim: simulation.Simulation) -> None:
    setup(
        sim,
        git={
            "commit": {"author": AUTHOR, "messageTemplate": "{{ .Updated }}"},
            "checkout": {"ref": {"branch": "main"}},
        },
    )
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert ready(sim.cluster.get(AUTO))["reason"] == "RemovedTemplateField"
    assert ready(sim.cluster.get(AUTO))["message"].startswith("template uses removed '.Updated' field.")
    stalled = [c for c in status(sim)["conditions"] if c["type"] == "Stalled"]
    assert stalled and stalled[0]["status"] == "True"


def test_a_push_branch_gets_the_commit_and_the_checkout_branch_stays(sim: simulation.Simulation) -> None:
    repo = setup(
        sim,
        git={
            "commit": {"author": AUTHOR},
            "checkout": {"ref": {"branch": "main"}},
            "push": {"branch": "image-updates"},
        },
    )
    main = repo.head()
    push(sim, "1.1.0")
    sim.advance(61_000)
    pushed = repo.head("image-updates")
    assert pushed is not None and repo.head() == main
    assert repo.commit_info(pushed).parents == (main,)
    assert status(sim)["observedSourceRevision"] == f"main@sha1:{main}"
    assert status(sim)["lastPushCommit"] == pushed


def test_a_second_bump_to_the_push_branch_builds_on_it(sim: simulation.Simulation) -> None:
    repo = setup(
        sim,
        git={
            "commit": {"author": AUTHOR},
            "checkout": {"ref": {"branch": "main"}},
            "push": {"branch": "auto"},
        },
    )
    push(sim, "1.1.0")
    sim.advance(61_000)
    first = repo.head("auto")
    push(sim, "1.2.0")
    sim.advance(61_000)
    second = repo.head("auto")
    assert second is not None and second != first
    assert repo.commit_info(second).parents == (first,)


def test_a_human_commit_before_the_push_is_kept_and_the_bump_lands_on_top(sim: simulation.Simulation) -> None:
    repo = setup(sim)
    repo.race_next_push({"README.md": "hello\n"}, "docs by a human", author=("Ada", "ada@example.com"))
    push(sim, "1.1.0")
    sim.advance(61_000)
    head = repo.head()
    assert head is not None
    assert repo.commit_info(head).author_name == "fluxbot"
    human = repo.commit_info(head).parents[0]
    assert repo.commit_info(human).message.startswith("docs by a human")
    assert ready(sim.cluster.get(AUTO))["status"] == "True"
    assert repo.files_at(head)["README.md"] == b"hello\n"


def test_a_protected_branch_fails_the_push_with_fluxs_words(sim: simulation.Simulation) -> None:
    repo = setup(sim)
    repo.fault = "protected"
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": "failed to update source: failed to push to remote: "
        "command error on refs/heads/main: protected branch hook declined",
    }
    assert events_of(sim, AUTO)[-1].type == "Warning"


def test_an_unreachable_repository_fails_the_checkout(sim: simulation.Simulation) -> None:
    repo = setup(sim)
    repo.fault = "unreachable"
    sim.cluster.merge_patch(
        AUTO, {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "1"}}}, field_manager="flux"
    )
    sim.advance(1_000)
    cond = ready(sim.cluster.get(AUTO))
    assert (cond["status"], cond["reason"]) == ("False", "GitOperationFailed")
    assert cond["message"] == (
        f"failed to checkout source: unable to clone '{URL}': "
        f'Get "{URL}/info/refs?service=git-upload-pack": dial tcp github.com:443: connect: connection refused'
    )


def test_no_push_branch_and_a_tag_checkout_cannot_configure_the_source(sim: simulation.Simulation) -> None:
    repo = sim.git.create("fleet", URL)
    repo.commit({"apps/deploy.yaml": DEPLOY}, "first")
    repo.tag("v1")
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {"url": URL, "interval": "1m", "ref": {"tag": "v1"}},
        },
        field_manager="kubectl",
    )
    sim.cluster.apply(automation(git={"commit": {"author": AUTHOR}}), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "False",
        "reason": "SourceManagerFailed",
        "message": "failed configuring source manager: push spec not provided, and cannot be inferred "
        "from .spec.git.checkout.ref or GitRepository .spec.ref",
    }


def test_a_missing_git_repository_fails_the_source_manager(sim: simulation.Simulation) -> None:
    sim.cluster.apply(automation(), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "False",
        "reason": "SourceManagerFailed",
        "message": "failed configuring source manager: referenced git repository does not exist: "
        'gitrepositories.source.toolkit.fluxcd.io "fleet" not found',
    }


def test_nothing_new_ends_the_run_early_with_fluxs_trace_event(sim: simulation.Simulation) -> None:
    setup(sim)
    sim.advance(30 * 60_000)
    last = events_of(sim, AUTO)[-1]
    assert (last.type, last.reason, last.message) == (
        "Normal",
        "Succeeded",
        "no change since last reconciliation",
    )


def test_an_invalid_policy_selector_stalls(sim: simulation.Simulation) -> None:
    setup(sim, policySelector={"matchExpressions": [{"key": "app", "operator": "In"}]})
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "False",
        "reason": "InvalidPolicySelector",
        "message": "failed to parse policy selector: "
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    }


def test_a_policy_selector_leaves_out_unlabelled_policies(sim: simulation.Simulation) -> None:
    repo = setup(sim, policySelector={"matchLabels": {"automation": "on"}})
    head = repo.head()
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert repo.head() == head
    assert status(sim)["observedPolicies"] == {}


def test_the_policy_change_delay_holds_the_commit_until_it_has_passed(sim: simulation.Simulation) -> None:
    repo = setup(sim, policyChangeDelay="5m")
    head = repo.head()
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert repo.head() == head
    assert events_of(sim, AUTO)[-1].message.startswith("waiting ")
    sim.advance(5 * 60_000)
    assert repo.head() != head
    assert status(sim)["observedPolicies"] == {"app": {"name": IMAGE, "tag": "1.1.0"}}


@pytest.mark.parametrize("path", ["./apps/../..", "../outside"])
def test_an_update_path_cannot_climb_out_of_the_checkout(sim: simulation.Simulation, path: str) -> None:
    repo = setup(sim, update={"path": path, "strategy": "Setters"})
    push(sim, "1.1.0")
    sim.advance(61_000)
    head = repo.head()
    assert head is not None
    assert [f.path for f in repo.commit_info(head).files] == ["apps/deploy.yaml"]


def test_a_refspec_is_pushed_after_the_branch(sim: simulation.Simulation) -> None:
    repo = setup(
        sim,
        git={
            "commit": {"author": AUTHOR},
            "checkout": {"ref": {"branch": "main"}},
            "push": {"branch": "auto", "refspec": "refs/heads/auto:refs/heads/review/auto"},
        },
    )
    push(sim, "1.1.0")
    sim.advance(61_000)
    pushed = repo.head("auto")
    assert pushed is not None and repo.head("review/auto") == pushed
    last = events_of(sim, AUTO)[-1]
    refspecs = "refspecs 'refs/heads/auto:refs/heads/review/auto'"
    assert last.message.startswith(f"pushed commit '{pushed[:7]}' to branch 'auto' and {refspecs}\n")


def test_push_options_reach_the_server(sim: simulation.Simulation) -> None:
    repo = setup(
        sim,
        git={
            "commit": {"author": AUTHOR},
            "checkout": {"ref": {"branch": "main"}},
            "push": {"branch": "main", "options": {"merge_request.create": "", "ci.skip": ""}},
        },
    )
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert sorted(repo.pushed_options) == ["ci.skip=", "merge_request.create="]


def test_credentials_the_server_refuses_fail_the_checkout_with_fluxs_words(
    sim: simulation.Simulation,
) -> None:
    repo = setup(sim)
    repo.fault = "auth"
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": f"failed to checkout source: unable to clone '{URL}': authentication required",
    }


def test_a_suspended_automation_does_not_commit(sim: simulation.Simulation) -> None:
    repo = setup(sim, suspend=True)
    head = repo.head()
    push(sim, "1.1.0")
    sim.advance(31 * 60_000)
    assert repo.head() == head


def test_credentials_that_may_only_read_fail_the_push_with_fluxs_words(sim: simulation.Simulation) -> None:
    repo = setup(sim)
    repo.fault = "read-only"
    push(sim, "1.1.0")
    sim.advance(61_000)
    assert ready(sim.cluster.get(AUTO)) == {
        "status": "False",
        "reason": "GitOperationFailed",
        "message": "failed to update source: failed to push to remote: authorization failed",
    }
