"""The explanation of an ImageUpdateAutomation: the tag funnel per policy, the markers per file,
and the verdict (would commit, or why not, most likely first).

Behaviour learned from image-automation-controller `internal/controller` (`getPolicies`, suspend,
`failed to apply policies`) and users' reports of automations that "succeed but never commit"
(image-automation-controller#159, #166, #306, #312); the fixtures are our own.
"""

from __future__ import annotations

import pytest

from gitops_sim.images import explain, setters
from gitops_sim.model.fluxapi import image, meta

NS = "flux-system"
APP_IMAGE = "ghcr.io/acme/app"
SEMVER = image.ImagePolicyChoice(semver=image.SemVerPolicy(range=">=1.0.0 <2.0.0"))
DEPLOY = f'image: {APP_IMAGE}:1.0.0 # {{"$imagepolicy": "{NS}:app"}}\n'


def spec(
    choice: image.ImagePolicyChoice = SEMVER, tag_filter: image.TagFilter | None = None
) -> image.ImagePolicySpec:
    return image.ImagePolicySpec(
        image_repository_ref=meta.NamespacedObjectReference(name="app"), policy=choice, filter_tags=tag_filter
    )


def repository(*tags: str, excluded: tuple[str, ...] | None = None) -> explain.Repository:
    return explain.Repository(name="app", image=APP_IMAGE, tags=tags, excluded=excluded)


def app_policy(
    *,
    selected: bool = True,
    tag: str | None = "1.2.0",
    name: str = "app",
    ready: explain.Ready | None = None,
) -> explain.Policy:
    return explain.Policy(
        name=name,
        selected=selected,
        spec=spec(),
        repository=repository("1.0.0", "1.2.0"),
        latest=image.ImageRef(name=APP_IMAGE, tag=tag) if tag is not None else None,
        ready=ready,
    )


def automation(
    *, path: str = "./apps", selector: str = "", suspend: bool = False, ready: explain.Ready | None = None
) -> explain.Automation:
    return explain.Automation(
        namespace=NS, name="apps", path=path, selector=selector, suspend=suspend, ready=ready
    )


def checkout(files: dict[str, str]) -> explain.Checkout:
    return explain.Checkout(
        revision="main@sha1:" + "ab" * 20, files={p: t.encode() for p, t in files.items()}
    )


def run(
    policies: list[explain.Policy] | None = None,
    files: dict[str, str] | None = None,
    *,
    path: str = "./apps",
    selector: str = "",
    suspend: bool = False,
    ready: explain.Ready | None = None,
) -> explain.Explanation:
    return explain.explain(
        automation(path=path, selector=selector, suspend=suspend, ready=ready),
        [app_policy()] if policies is None else policies,
        checkout({"apps/deploy.yaml": DEPLOY} if files is None else files),
    )


def reasons(result: explain.Explanation) -> list[explain.Reason]:
    return [cause.reason for cause in result.verdict.causes]


# ---------------------------------------------------------------------------------------------
# The verdict


def test_a_changed_marker_makes_a_commit_verdict() -> None:
    result = run()
    assert result.verdict.line == "would commit: 1 change(s) in 1 file(s)"
    assert "  would commit: 1 change(s) in 1 file(s)\n" in explain.render(result)


def test_a_suspended_automation_does_not_commit_even_with_changes() -> None:
    result = run(suspend=True)
    assert reasons(result) == [explain.Reason.SUSPENDED]
    assert (
        "  - suspended: spec.suspend is true, so the controller does not run "
        "(flux resume image update apps -n flux-system)\n"
    ) in explain.render(result)


def test_files_that_could_not_be_read_are_why_nothing_happened() -> None:
    result = explain.explain(
        automation(), [app_policy()], explain.Checkout(error="checkout failed: reference not found")
    )
    assert reasons(result) == [explain.Reason.SOURCE_UNREADABLE]
    assert "  - the files could not be read: checkout failed: reference not found\n" in explain.render(result)


def test_a_selector_matching_no_policy_is_why_nothing_happened() -> None:
    result = run([app_policy(selected=False)], selector="team=web")
    assert reasons(result)[0] is explain.Reason.NO_POLICY_SELECTED
    assert (
        "  - no policy selected: the policySelector team=web matches none of the 1 ImagePolicies "
        "in flux-system\n"
    ) in explain.render(result)


def test_a_namespace_without_policies_is_why_nothing_happened() -> None:
    result = run([])
    assert result.verdict.causes[0] == explain.Cause(
        explain.Reason.NO_POLICY_SELECTED, "no policy selected: there is no ImagePolicy in flux-system"
    )


def test_selected_policies_without_a_latest_image_are_why_nothing_happened() -> None:
    ready = explain.Ready(
        status="False", reason="DependencyNotReady", message="retrying in 10s error: no tags"
    )
    result = run([app_policy(tag=None, ready=ready)])
    assert reasons(result)[0] is explain.Reason.NO_LATEST_IMAGE
    assert (
        "  - no selected policy has a latest image: "
        "app (DependencyNotReady: retrying in 10s error: no tags)\n"
    ) in explain.render(result)


def test_no_marker_under_the_path_says_the_path_is_wrong_when_files_elsewhere_carry_markers() -> None:
    result = run(files={"clusters/prod/deploy.yaml": DEPLOY, "apps/readme.yaml": "a: 1\n"})
    assert reasons(result) == [explain.Reason.NO_MARKER_UNDER_PATH]
    assert (
        '  - no file under update.path "./apps" carries a marker; files elsewhere do: '
        "clusters/prod/deploy.yaml: the path is wrong\n"
    ) in explain.render(result)


def test_no_marker_in_the_whole_repository_is_why_nothing_happened() -> None:
    result = run(files={"deploy.yaml": "image: x\n"}, path="")
    assert "  - no file in the repository carries a marker\n" in explain.render(result)


def test_a_marker_naming_a_missing_policy_gives_the_closest_existing_name() -> None:
    result = run(files={"apps/deploy.yaml": DEPLOY.replace(f"{NS}:app", f"{NS}:ap")})
    assert reasons(result) == [explain.Reason.UNKNOWN_POLICIES]
    assert (
        "  - markers name policies that are not selected or do not exist: "
        "flux-system:ap (no ImagePolicy ap in flux-system (closest: flux-system:app))\n"
    ) in explain.render(result)


def test_a_marker_naming_another_namespace_says_it_must_name_the_automations() -> None:
    result = run(files={"apps/deploy.yaml": DEPLOY.replace(f"{NS}:app", "apps:app")})
    assert result.verdict.causes == (
        explain.Cause(
            explain.Reason.UNKNOWN_POLICIES,
            "markers name policies that are not selected or do not exist: apps:app (namespace "
            '"apps" is not the automation\'s: a marker must name a policy in flux-system (flux-system:app))',
        ),
    )


def test_a_marker_naming_a_policy_the_selector_leaves_out_says_so() -> None:
    other = app_policy(name="web", selected=False)
    result = run([app_policy(), other], files={"apps/deploy.yaml": DEPLOY.replace(f"{NS}:app", f"{NS}:web")})
    assert result.markers[0].detail == "ImagePolicy web is not selected by the policySelector"


def test_values_already_current_are_why_nothing_happened() -> None:
    result = run(files={"apps/deploy.yaml": DEPLOY.replace(":1.0.0", ":1.2.0")})
    assert reasons(result) == [explain.Reason.ALL_CURRENT]
    assert "  - all 1 marked value(s) already hold the policies' images\n" in explain.render(result)


def test_an_invalid_latest_image_fails_the_update_in_flux_words() -> None:
    result = run([app_policy(tag="bad tag")])
    assert result.verdict.causes == (
        explain.Cause(
            explain.Reason.UPDATE_FAILED,
            'failed to apply policies: encountered invalid image ref "ghcr.io/acme/app:bad tag": '
            "could not parse reference: ghcr.io/acme/app:bad tag",
        ),
    )


def test_the_causes_come_most_likely_first() -> None:
    result = run([app_policy(selected=False)], files={"other/deploy.yaml": DEPLOY}, suspend=True)
    assert reasons(result) == [
        explain.Reason.SUSPENDED,
        explain.Reason.NO_POLICY_SELECTED,
        explain.Reason.NO_MARKER_UNDER_PATH,
    ]


def test_a_failed_last_run_is_a_note() -> None:
    ready = explain.Ready(status="False", reason="GitOperationFailed", message="failed to push")
    result = run(ready=ready)
    assert result.verdict.notes == ("the last run failed: GitOperationFailed: failed to push",)


# ---------------------------------------------------------------------------------------------
# The funnel


def test_a_semver_funnel_shows_exclusions_pre_releases_and_tags_outside_the_range() -> None:
    tags = ("0.9.0", "1.0.0", "1.1.0", "1.2.0-rc.1", "2.0.0", "latest")
    policy = explain.Policy(
        name="app", selected=True, spec=spec(), repository=repository(*tags, excluded=("1.1.0.sig",))
    )
    funnel = run([policy]).policies[0].funnel
    assert funnel is not None
    assert (funnel.scanned, funnel.excluded, funnel.in_database, funnel.candidates) == (
        7,
        ("1.1.0.sig",),
        6,
        6,
    )
    assert funnel.not_versions == ("latest",)
    assert funnel.prereleases == ("1.2.0-rc.1",)
    assert funnel.outside_range == ("0.9.0", "2.0.0")
    assert [c.tag for c in funnel.ranked] == ["1.1.0", "1.0.0"]


def test_a_numerical_funnel_with_extract_shows_filtered_shadowed_and_ranked_values() -> None:
    tag_filter = image.TagFilter(pattern=r"^main-[a-f0-9]+-(?P<ts>[0-9]+)", extract="$ts")
    tags = ("main-aa-10", "dev-bb-99", "main-cc-9", "main-dd-10", "main-ee-100")
    policy = explain.Policy(
        name="app",
        selected=True,
        spec=spec(image.ImagePolicyChoice(numerical=image.NumericalPolicy(order="asc")), tag_filter),
        repository=repository(*tags),
    )
    view = run([policy]).policies[0]
    assert view.funnel is not None
    assert view.funnel.filtered_out == ("dev-bb-99",)
    assert view.funnel.shadowed == ("main-aa-10",)
    assert [(c.tag, c.value) for c in view.funnel.ranked] == [
        ("main-ee-100", "100"),
        ("main-dd-10", "10"),
        ("main-cc-9", "9"),
    ]
    text = explain.render(run([policy]))
    assert "    chosen: main-ee-100 (100)\n    runners-up: main-dd-10 (10), main-cc-9 (9)\n" in text


def test_a_range_matching_no_tag_keeps_the_funnel_and_flux_error() -> None:
    policy = explain.Policy(name="app", selected=True, spec=spec(), repository=repository("2.0.0", "3.0.0"))
    view = run([policy]).policies[0]
    assert view.funnel is not None
    assert view.funnel.outside_range == ("2.0.0", "3.0.0")
    assert view.funnel.error == "unable to determine latest version from provided list"
    assert view.note == "unable to determine latest version from provided list"


def test_a_repository_never_scanned_has_no_funnel() -> None:
    policy = explain.Policy(
        name="app",
        selected=True,
        spec=spec(),
        repository=explain.Repository(name="app", image=APP_IMAGE, tags=None),
    )
    view = run([policy]).policies[0]
    assert (view.funnel, view.no_funnel, view.note) == (None, "no scan yet", "no scan yet")


def test_a_policy_behind_its_tags_is_noted() -> None:
    result = run([app_policy(tag="1.0.0")], files={"apps/deploy.yaml": DEPLOY})
    assert result.policies[0].note == "the tags now give 1.2.0; the policy has not caught up yet"


def test_long_tag_lists_are_cut_after_five() -> None:
    tags = (*(f"0.{i}.0" for i in range(8)), "1.0.0")
    policy = explain.Policy(name="app", selected=True, spec=spec(), repository=repository(*tags))
    text = explain.render(run([policy]))
    assert "    outside the range: 8 (0.0.0, 0.1.0, 0.2.0, 0.3.0, 0.4.0, … and 3 more)\n" in text


# ---------------------------------------------------------------------------------------------
# Paths and rendering


@pytest.mark.parametrize(
    ("path", "joined"),
    [
        pytest.param("", "", id="omitted"),
        pytest.param(".", "", id="dot"),
        pytest.param("./apps/", "apps", id="dot-slash-and-trailing-slash"),
        pytest.param("/apps//prod", "apps/prod", id="leading-and-double-slashes"),
        pytest.param("../../apps", "apps", id="dot-dot-stops-at-the-root"),
    ],
)
def test_update_path_is_joined_to_the_checkout_as_securejoin_does(path: str, joined: str) -> None:
    assert explain.join_path(path) == joined


def test_rendering_is_deterministic_whatever_the_order_of_policies_and_files() -> None:
    web = app_policy(name="web", selected=False)
    files = {"apps/b.yaml": DEPLOY, "apps/a.yaml": DEPLOY.replace(f"{NS}:app", f"{NS}:web")}
    first = explain.render(run([app_policy(), web], files))
    second = explain.render(run([web, app_policy()], dict(reversed(list(files.items())))))
    assert first == second
    assert first.index("  app: selected") < first.index("  web: not selected")
    assert first.index("  apps/a.yaml") < first.index("  apps/b.yaml")


def test_the_rendered_text_has_its_sections_in_order() -> None:
    text = explain.render(run())
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert headings == [
        "ImageUpdateAutomation flux-system/apps",
        "Policies (1 in flux-system, 1 selected, 1 with a latest image)",
        'Markers under update.path "./apps" (1 in 1 file(s))',
        "Verdict",
    ]
    assert "    line 1: flux-system:app changed: ghcr.io/acme/app:1.0.0 -> ghcr.io/acme/app:1.2.0\n" in text
    assert "\x1b" not in text


def test_markers_other_than_changes_are_listed_with_their_outcome() -> None:
    text = "a: x # {'$imagepolicy': 'flux-system:app'}\n" + DEPLOY
    result = run(files={"apps/deploy.yaml": text})
    assert [m.outcome for m in result.markers] == [setters.Outcome.NOT_A_MARKER, setters.Outcome.CHANGED]
    assert result.verdict.notes == ("1 comment(s) mention $imagepolicy but are not markers (see Markers)",)
