"""`flux events`, `tree kustomization`, `stats` and `export`, as Flux 2.10's CLI prints them."""

from __future__ import annotations

import pytest

from gitops_sim.engine import simulation
from gitops_sim.fluxcli import get, inspect
from tests.builders import HELM_URL, gitrepository, kustomization, repo_with
from tests.fluxcli.conftest import Flux

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
CHILD = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
    "metadata: {name: child, namespace: flux-system}\n"
    "spec: {interval: 10m, path: ./child, prune: true, sourceRef: {kind: GitRepository, name: fleet}}\n"
)


@pytest.fixture
def synced(sim: simulation.Simulation) -> None:
    repo_with(
        sim,
        {"apps/cm.yaml": CONFIGMAP, "apps/child.yaml": CHILD, "child/cm.yaml": CONFIGMAP.replace("a,", "b,")},
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(62_000)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (50 * 3600, "2d2h"),
    ],
)
def test_event_ages_read_as_kubectl_writes_them(seconds: int, shown: str) -> None:
    assert inspect.human_duration(seconds) == shown


def _objects_shown(table: str) -> list[str]:
    """The OBJECT column of `flux events`' rows (a message's second line left out)."""
    rows = [line.split("\t") for line in table.splitlines()[1:] if "\t" in line]
    return [row[3].strip() for row in rows if row[0].strip() and not row[0].startswith("LAST SEEN")]


def test_events_for_a_kustomization_lists_its_events_oldest_first(synced: None, flux_cmd: Flux) -> None:
    ran = flux_cmd("events", "--for", "Kustomization/apps")
    assert ran.code == 0
    lines = [line for line in ran.out.splitlines() if line.split("\t")[0].strip()]  # not a message's 2nd line
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert [line.split("\t")[2].strip() for line in lines[1:]][-1] == "ReconciliationSucceeded"
    assert set(_objects_shown(ran.out)) == {"Kustomization/apps", "GitRepository/fleet"}
    assert lines[1].split("\t")[0].strip() == "62s"


def test_events_of_an_unknown_kind_are_refused(flux_cmd: Flux) -> None:
    assert flux_cmd("events", "--for", "Pod/x") == (1, "", "✗ 'Pod' is not a recognized Flux kind\n")
    assert flux_cmd("events", "-n", "default") == (0, "", "✗ No events found in default namespace.\n")


def test_tree_expands_nested_kustomizations(synced: None, flux_cmd: Flux) -> None:
    assert flux_cmd("tree", "ks", "apps") == (
        0,
        "Kustomization/flux-system/apps\n"
        "├── ConfigMap/default/a\n"
        "└── Kustomization/flux-system/child\n"
        "    └── ConfigMap/default/b\n"
        "\n",
        "",
    )
    assert flux_cmd("tree", "ks", "apps", "--compact").out == (
        "Kustomization/flux-system/apps\n└── Kustomization/flux-system/child\n\n"
    )


def test_stats_counts_each_kind(synced: None, flux_cmd: Flux) -> None:
    out = flux_cmd("stats").out
    rows = {
        line.split("\t")[0].strip(): [c.strip() for c in line.split("\t")[1:5]]
        for line in out.splitlines()[1:]
    }
    assert rows["Kustomization"] == ["2", "0", "0", "-"]
    assert rows["GitRepository"][:3] == ["1", "0", "0"] and rows["GitRepository"][3].endswith(" B")
    assert (
        out.splitlines()[0]
        == get.table(
            ["Reconcilers", "Running", "Failing", "Suspended", "Storage"],
            [["ImageUpdateAutomation", "0", "0", "0", "-"]],
        ).splitlines()[0]
    )


def test_export_prints_the_spec_without_status(synced: None, flux_cmd: Flux) -> None:
    assert flux_cmd("export", "ks", "apps").out == (
        "---\n"
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\n"
        "kind: Kustomization\n"
        "metadata:\n"
        "  name: apps\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  force: false\n"
        "  interval: 10m\n"
        "  path: ./apps\n"
        "  prune: true\n"
        "  sourceRef:\n"
        "    kind: GitRepository\n"
        "    name: fleet\n"
    )
    assert flux_cmd("export", "ks") == (1, "", "✗ name is required\n")


def test_events_for_a_kustomization_include_its_sources_events(synced: None, flux_cmd: Flux) -> None:
    ran = flux_cmd("events", "--for", "Kustomization/apps")
    assert {"Kustomization/apps", "GitRepository/fleet"} <= set(_objects_shown(ran.out))


def test_events_for_a_missing_object_fail_with_the_apis_not_found(flux_cmd: Flux) -> None:
    ran = flux_cmd("events", "--for", "Kustomization/nope")
    assert ran.code == 1
    assert ran.err == '✗ kustomizations.kustomize.toolkit.fluxcd.io "nope" not found\n'


def test_events_watch_prints_each_event_as_it_comes_until_the_timeout(
    sim: simulation.Simulation, flux_cmd: Flux
) -> None:
    repo_with(sim, {"apps/cm.yaml": CONFIGMAP})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    ran = flux_cmd("events", "--watch", "--timeout", "90s")
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert sum(line.startswith("LAST SEEN") for line in lines) == 1
    shown = _objects_shown(ran.out)
    assert "GitRepository/fleet" in shown
    assert "Kustomization/apps" in shown
    assert sim.clock.now() >= 90_000


def test_a_namespace_that_is_no_dns_label_is_refused(flux_cmd: Flux) -> None:
    refused = flux_cmd("get", "ks", "-n", "Bad_NS")
    assert refused == (1, "", '✗ namespace must be a valid DNS label: "Bad_NS"\n')


def test_a_command_that_only_groups_others_prints_its_usage(flux_cmd: Flux) -> None:
    ran = flux_cmd("get")
    assert ran.code == 0
    assert ran.out.startswith(
        "Usage:\n  flux get [command]\n\nAvailable Commands:\n  alert-providers\n  alerts\n  all\n"
    )
    assert "  kustomizations\n" in ran.out


def test_tree_expands_a_helmrelease_into_its_release_s_objects(
    sim: simulation.Simulation, flux_cmd: Flux
) -> None:
    chart = {
        "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    }
    sim.charts.publish(HELM_URL, "web", "1.0.0", chart)
    release = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        "metadata: {name: stable, namespace: flux-system}\n"
        f"spec: {{url: '{HELM_URL}', interval: 1m}}\n---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata: {name: web, namespace: default}\n"
        "spec: {interval: 10m, chart: {spec: {chart: web, sourceRef: "
        "{kind: HelmRepository, name: stable, namespace: flux-system}}}}\n"
    )
    repo_with(sim, {"apps/release.yaml": release})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(kustomization(), field_manager="kubectl")
    sim.advance(120_000)
    assert flux_cmd("tree", "ks", "apps").out == (
        "Kustomization/flux-system/apps\n"
        "├── HelmRelease/default/web\n"
        "│   └── ConfigMap/default/web\n"
        "└── HelmRepository/flux-system/stable\n"
        "\n"
    )
