"""`flux get`, `reconcile`, `suspend` and `resume`, as Flux 2.10's CLI prints them (cmd/flux/
get*.go over tablewriter, reconcile*.go, suspend*.go, resume*.go), in virtual time."""

from __future__ import annotations

import pytest

from gitops_sim.engine import simulation
from gitops_sim.fluxcli import get
from gitops_sim.model import flux
from gitops_sim.sources import git
from tests.builders import KS, gitrepository, kustomization, repo_with
from tests.fluxcli.conftest import Flux

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"


@pytest.fixture
def repo(sim: simulation.Simulation) -> git.Repository:
    """The repository fleet, with GitRepository fleet and Kustomization apps reconciled."""
    made = repo_with(sim, {"apps/cm.yaml": CONFIGMAP})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(2_000)
    return made


@pytest.fixture
def synced(repo: git.Repository) -> str:
    """The short SHA of the commit Flux applied."""
    return str(repo.head("main"))[:8]


def test_the_table_printer_pads_each_column_and_ends_rows_with_a_tab() -> None:
    message = "Fetched revision: main@sha1:696f056d"
    assert get.table(
        ["Name", "Revision", "Suspended", "Ready", "Message"],
        [["podinfo", "main@sha1:696f056d", "False", "True", message]],
    ) == (
        "NAME   \tREVISION          \tSUSPENDED\tREADY\tMESSAGE" + " " * 29 + " \n"
        f"podinfo\tmain@sha1:696f056d\tFalse    \tTrue \t{message}\t\n"
    )


def test_a_multi_line_message_continues_on_lines_of_two_spaces() -> None:
    assert get.table(["Name", "Message"], [["a", "one\ntwo"]]) == (
        "NAME\tMESSAGE \na   \tone    \t\n    \ttwo    \t\n"
    )


def test_get_sources_git_shows_the_short_revision_and_ready(synced: str, flux_cmd: Flux) -> None:
    message = f"stored artifact for revision 'main@sha1:{synced}'"
    revision = f"main@sha1:{synced}"
    assert flux_cmd("get", "sources", "git") == (
        0,
        get.table(
            ["Name", "Revision", "Suspended", "Ready", "Message"],
            [["fleet", revision, "False", "True", message]],
        ),
        "",
    )


def test_get_kustomizations_across_namespaces_adds_the_namespace_column(synced: str, flux_cmd: Flux) -> None:
    out = flux_cmd("get", "ks", "-A").out.splitlines()
    assert out[0].split() == ["NAMESPACE", "NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]
    assert out[1].split("\t") == [
        "flux-system",
        "apps",
        f"main@sha1:{synced}",
        "False    ",
        "True ",
        f"Applied revision: main@sha1:{synced}",
        "",
    ]


def test_get_all_prints_a_table_per_kind_named_kind_slash_name(synced: str, flux_cmd: Flux) -> None:
    out = flux_cmd("get", "all").out
    tables = out.split("\n\n")
    assert [t.splitlines()[1].split("\t")[0] for t in tables if t] == [
        "gitrepository/fleet",
        "kustomization/apps",
    ]
    assert out.endswith("\t\n\n")


def test_get_of_a_kind_with_no_objects_fails_naming_the_namespace(flux_cmd: Flux) -> None:
    assert flux_cmd("get", "hr") == (1, "", '✗ no HelmRelease objects found in "flux-system" namespace\n')
    assert flux_cmd("get", "ks", "nope", "-A") == (
        1,
        "",
        "✗ Kustomization object 'nope' not found in any namespace\n",
    )


def test_the_status_selector_filters_rows_and_needs_a_separator(synced: str, flux_cmd: Flux) -> None:
    assert flux_cmd("get", "ks", "--status-selector", "ready=false").out.count("\n") == 1  # the header only
    assert flux_cmd("get", "ks", "--status-selector", "ready!=false").out.count("\n") == 2
    assert flux_cmd("get", "ks", "--status-selector", "ready").err == (
        "✗ expected status selector in type=status or type!=status format, but found: ready\n"
    )


def test_reconcile_with_source_annotates_the_source_then_the_kustomization(
    sim: simulation.Simulation, repo: git.Repository, flux_cmd: Flux
) -> None:
    repo.commit({"apps/cm.yaml": CONFIGMAP.replace("name: a", "name: b")}, "rename")
    full = repo.head("main")
    ran = flux_cmd("reconcile", "ks", "apps", "--with-source")
    assert ran == (
        0,
        "",
        "► annotating GitRepository fleet in flux-system namespace\n"
        "✔ GitRepository annotated\n"
        "◎ waiting for GitRepository reconciliation\n"
        f"✔ fetched revision main@sha1:{full}\n"
        "► annotating Kustomization apps in flux-system namespace\n"
        "✔ Kustomization annotated\n"
        "◎ waiting for Kustomization reconciliation\n"
        f"✔ applied revision main@sha1:{full}\n",
    )
    annotations = sim.cluster.get(KS)["metadata"]["annotations"]
    assert annotations[flux.REQUESTED_AT_ANNOTATION].startswith("2025-01-01T00:00:0")


def test_reconcile_refuses_a_suspended_object(synced: str, flux_cmd: Flux) -> None:
    assert flux_cmd("suspend", "ks", "apps") == (
        0,
        "",
        "► suspending kustomization apps in flux-system namespace\n✔ kustomization suspended\n",
    )
    assert flux_cmd("reconcile", "ks", "apps") == (1, "", "✗ resource is suspended\n")


def test_resume_waits_for_the_reconcile_and_prints_what_it_applied(
    repo: git.Repository, flux_cmd: Flux
) -> None:
    flux_cmd("suspend", "ks", "apps")
    assert flux_cmd("resume", "ks", "apps") == (
        0,
        "",
        "► resuming kustomization apps in flux-system namespace\n"
        "✔ kustomization resumed\n"
        "◎ waiting for Kustomization reconciliation\n"
        "✔ Kustomization apps reconciliation completed\n"
        f"✔ applied revision main@sha1:{repo.head('main')}\n",
    )


def test_suspend_reports_a_missing_name_and_goes_on(synced: str, flux_cmd: Flux) -> None:
    assert flux_cmd("suspend", "source", "git", "nope", "fleet") == (
        0,
        "",
        "✗ GitRepository nope not found in flux-system namespace\n"
        "► suspending source git fleet in flux-system namespace\n"
        "✔ source git suspended\n",
    )


def test_reconcile_of_a_missing_object_fails_with_the_api_s_words(flux_cmd: Flux) -> None:
    assert flux_cmd("reconcile", "source", "git", "nope") == (
        1,
        "",
        '✗ gitrepositories.source.toolkit.fluxcd.io "nope" not found\n',
    )


def test_get_watch_prints_a_row_per_change_until_the_timeout(
    sim: simulation.Simulation, repo: git.Repository, flux_cmd: Flux
) -> None:
    repo.commit({"apps/cm.yaml": CONFIGMAP.replace("name: a", "name: c")}, "rename")
    ran = flux_cmd("get", "sources", "git", "--watch", "--timeout=2m")
    assert ran.code == 1 and ran.err == "✗ timed out waiting for the condition\n"
    lines = ran.out.splitlines()
    assert lines[0].split() == ["NAME", "REVISION", "SUSPENDED", "READY", "MESSAGE"]
    assert lines[1].startswith("fleet\tmain@sha1:")  # the object as it was when the watch began
    assert any(str(repo.head("main"))[:8] in line for line in lines[2:])  # the new commit, fetched at 1m
