"""Release storage as Helm keeps it: the Secret's name, type and labels, Helm's encoding, history
pruning, and the test that matters: unmodified Helm reads what we write, over the served API."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from gitops_sim.cluster.http import server
from gitops_sim.engine import simulation
from gitops_sim.helm import storage
from gitops_sim.model import refs

T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-01T00:10:00Z"
T2 = "2026-01-01T00:20:00Z"


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> helm.Chart:
    folder = tmp_path_factory.mktemp("charts") / "podinfo"
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: podinfo\nversion: 6.5.0\nappVersion: 6.5.0\n")
    (folder / "values.yaml").write_text("replicaCount: 1\nmessage: hello\n")
    (folder / "templates" / "configmap.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    )
    (folder / "templates" / "NOTES.txt").write_text("Thanks for installing <{{ .Release.Name }}> & more\n")
    return helm.Chart.load(folder)


def release(chart: helm.Chart, **changes: Any) -> storage.Release:
    fields: dict[str, Any] = {
        "name": "podinfo",
        "namespace": "apps",
        "version": 1,
        "config": {"replicaCount": 2},
        "manifest": "---\n# Source: podinfo/templates/configmap.yaml\napiVersion: v1\nkind: ConfigMap\n",
        "status": "deployed",
        "description": "Install complete",
        "first_deployed": T0,
        "last_deployed": T0,
    }
    return storage.new_release(chart, **(fields | changes))


def helm_json(secret: dict[str, Any]) -> str:
    inner = base64.b64decode(secret["data"]["release"])
    return gzip.decompress(base64.b64decode(inner)).decode()


@pytest.fixture
def served_helm(
    served: tuple[simulation.Simulation, server.ApiServer], tmp_path: Path
) -> Iterator[tuple[simulation.Simulation, helm.Config]]:
    sim, api = served
    sim.memory.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="test"
    )
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(api.kubeconfig())
    with helm.Config(kubeconfig_path=kubeconfig, namespace="apps") as config:
        yield sim, config


def test_the_secret_has_helms_name_type_and_labels(chart: helm.Chart) -> None:
    secret = storage.secret_for(
        release(chart, version=3, labels={"team": "web"}), "flux-system", modified_at=1767225600
    )

    assert (secret["apiVersion"], secret["kind"], secret["type"]) == ("v1", "Secret", "helm.sh/release.v1")
    assert secret["metadata"] == {
        "name": "sh.helm.release.v1.podinfo.v3",
        "namespace": "flux-system",
        "labels": {
            "team": "web",
            "modifiedAt": "1767225600",
            "name": "podinfo",
            "owner": "helm",
            "status": "deployed",
            "version": "3",
        },
    }


def test_a_created_secret_carries_created_at_instead_of_modified_at(chart: helm.Chart) -> None:
    secret = storage.secret_for(release(chart), "apps", created_at=1767225600)

    assert secret["metadata"]["labels"] == {
        "createdAt": "1767225600",
        "name": "podinfo",
        "owner": "helm",
        "status": "deployed",
        "version": "1",
    }


def test_the_release_data_is_base64_of_gzipped_json_inside_the_secrets_base64(chart: helm.Chart) -> None:
    data = json.loads(helm_json(storage.secret_for(release(chart), "apps")))

    assert (data["name"], data["version"], data["namespace"], data["info"]["status"]) == (
        "podinfo",
        1,
        "apps",
        "deployed",
    )


def test_encoding_then_decoding_gives_back_the_same_release(chart: helm.Chart) -> None:
    hook = storage.Hook(
        name="migrate",
        kind="Job",
        path="podinfo/templates/job.yaml",
        manifest="kind: Job\n",
        events=("pre-upgrade", "post-install"),
        last_run=storage.HookExecution(started_at=T0, completed_at=T1, phase="Succeeded"),
        weight=-5,
        delete_policies=("before-hook-creation",),
    )
    original = release(chart, hooks=[hook], notes="notes <&>", labels={"team": "web"})

    secret = storage.secret_for(original, "apps")

    assert storage.release_from_secret(secret) == original


def test_json_escapes_html_characters_as_go_does(chart: helm.Chart) -> None:
    text = helm_json(storage.secret_for(release(chart, description="a <b> & c"), "apps"))

    assert '"description":"a \\u003cb\\u003e \\u0026 c"' in text


def test_whole_floats_in_values_are_written_as_integers_as_go_does(chart: helm.Chart) -> None:
    text = helm_json(storage.secret_for(release(chart, config={"b": 3.0, "a": 0.5}), "apps"))

    assert '"config":{"a":0.5,"b":3}' in text


def test_a_secret_that_is_not_a_release_does_not_decode() -> None:
    secret = {
        "kind": "Secret",
        "metadata": {"name": "x"},
        "data": {"release": base64.b64encode(b"!!").decode()},
    }

    with pytest.raises(storage.DecodeError):
        storage.release_from_secret(secret)


def test_releases_reads_the_history_oldest_first_and_latest_is_the_newest(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, _ = served_helm
    for version, status in ((2, "deployed"), (1, "superseded")):
        sim.memory.create(
            storage.secret_for(release(chart, version=version, status=status), "apps"), field_manager="t"
        )
    sim.memory.create(storage.secret_for(release(chart, name="other"), "apps"), field_manager="t")

    history = storage.releases(sim.memory, "apps", "podinfo")

    assert [(r.version, r.info.status) for r in history] == [(1, "superseded"), (2, "deployed")]
    assert storage.latest(sim.memory, "apps", "podinfo") == history[-1]
    assert storage.latest(sim.memory, "apps", "absent") is None


def write_helm_controller_releases(sim: simulation.Simulation, chart: helm.Chart) -> None:
    """podinfo: revision 1 superseded by a deployed revision 2; broken: a failed install."""
    revisions = [
        release(chart, version=1, status="superseded", description="Superseded", config={"message": "one"}),
        release(
            chart,
            version=2,
            status="deployed",
            description="Upgrade complete",
            config={"message": "two", "replicaCount": 3},
            last_deployed=T1,
        ),
        release(
            chart,
            name="broken",
            status="failed",
            description='Release "broken" failed: context deadline exceeded',
            config={},
            first_deployed=T2,
            last_deployed=T2,
        ),
    ]
    for rev in revisions:
        sim.memory.create(
            storage.secret_for(rev, "apps", modified_at=1767225600), field_manager="helm-controller"
        )


def summary(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry["name"],
        entry["revision"],
        entry["status"],
        f"{entry['chart_name']}-{entry['chart_version']}",
        entry["app_version"],
        entry["deployed_at"],
    )


def test_helm_lists_the_releases_we_wrote(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    write_helm_controller_releases(sim, chart)

    assert [summary(e) for e in config.list()] == [
        ("broken", 1, "failed", "podinfo-6.5.0", "6.5.0", T2),
        ("podinfo", 2, "deployed", "podinfo-6.5.0", "6.5.0", T1),
    ]


def test_helm_shows_the_history_we_wrote(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    write_helm_controller_releases(sim, chart)

    assert [summary(e) for e in config.history("podinfo")] == [
        ("podinfo", 1, "superseded", "podinfo-6.5.0", "6.5.0", T0),
        ("podinfo", 2, "deployed", "podinfo-6.5.0", "6.5.0", T1),
    ]


def test_helm_gets_the_user_supplied_values_we_wrote(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    write_helm_controller_releases(sim, chart)

    assert config.get_values("podinfo") == {"message": "two", "replicaCount": 3}
    assert config.get_values("podinfo", revision=1) == {"message": "one"}
    assert config.get_values("podinfo", all_values=True) == {"message": "two", "replicaCount": 3}


def test_helm_shows_the_status_we_wrote(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    write_helm_controller_releases(sim, chart)

    status = config.status("podinfo")
    failed = config.status("broken")

    assert summary(status) == ("podinfo", 2, "deployed", "podinfo-6.5.0", "6.5.0", T1)
    assert status["manifest"] == release(chart).manifest
    assert summary(failed) == ("broken", 1, "failed", "podinfo-6.5.0", "6.5.0", T2)


def test_helm_gets_the_description_and_notes_we_wrote(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    write_helm_controller_releases(sim, chart)

    info = config.get_all("broken")["info"]

    assert (info["status"], info["description"]) == (
        "failed",
        'Release "broken" failed: context deadline exceeded',
    )


def test_a_release_helm_wrote_decodes_and_encodes_to_helms_json_byte_for_byte(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    config.install(chart, "podinfo", {"message": "hi", "nested": {"b": 1, "a": 2.5}}, timeout=30)
    [secret] = sim.memory.list(refs.GroupKind("", "Secret"), namespace="apps")

    again = storage.encode(storage.release_from_secret(secret))

    assert gzip.decompress(base64.b64decode(again)).decode() == helm_json(secret)


def test_a_release_helm_wrote_is_labelled_as_we_label_ours(
    served_helm: tuple[simulation.Simulation, helm.Config], chart: helm.Chart
) -> None:
    sim, config = served_helm
    config.install(chart, "podinfo", {}, timeout=30)
    [secret] = sim.memory.list(refs.GroupKind("", "Secret"), namespace="apps")
    ours = storage.secret_for(
        storage.release_from_secret(secret),
        "apps",
        modified_at=int(secret["metadata"]["labels"]["modifiedAt"]),
    )

    assert (secret["metadata"]["name"], secret["type"], secret["metadata"]["labels"]) == (
        ours["metadata"]["name"],
        ours["type"],
        ours["metadata"]["labels"],
    )


def hist(*pairs: tuple[int, storage.Status]) -> list[storage.Release]:
    """Revisions of one release, each (version, status)."""
    chart = storage.ChartRecord(metadata={"name": "c", "version": "1.0.0"})
    return [
        storage.Release(
            name="r", namespace="apps", version=v, info=storage.Info(T0, T0, status=s), chart=chart
        )
        for v, s in pairs
    ]


@pytest.mark.parametrize(
    ("history", "max_history", "pruned"),
    [
        pytest.param(hist((1, "superseded"), (2, "deployed")), 0, [], id="zero-means-unlimited"),
        pytest.param(hist((1, "superseded"), (2, "deployed")), 3, [], id="room-left"),
        pytest.param(
            hist((1, "superseded"), (2, "superseded"), (3, "deployed")), 3, [1], id="makes-room-for-one-more"
        ),
        pytest.param(
            hist((1, "superseded"), (2, "superseded"), (3, "superseded"), (4, "deployed"), (5, "failed")),
            2,
            [1, 2, 3, 5],
            id="keeps-the-deployed-one",
        ),
        pytest.param(
            hist((1, "deployed"), (2, "failed"), (3, "failed")), 1, [2, 3], id="max-one-keeps-only-deployed"
        ),
        pytest.param(hist((1, "failed"), (2, "failed")), 1, [1, 2], id="no-deployed-deletes-all"),
        pytest.param(
            hist((3, "deployed"), (1, "superseded"), (2, "superseded")),
            2,
            [1, 2],
            id="oldest-first-whatever-the-order",
        ),
    ],
)
def test_prune_history_deletes_what_helm_deletes_before_a_new_revision(
    history: list[storage.Release], max_history: int, pruned: list[int]
) -> None:
    assert [r.version for r in storage.prune_history(history, max_history)] == pruned
