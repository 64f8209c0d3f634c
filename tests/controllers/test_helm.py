"""HelmRepository and HelmChart: indexes and charts published with the Helm SDK, served over HTTP."""

from __future__ import annotations

from gitops_sim.engine import simulation
from gitops_sim.model import archives
from gitops_sim.testing import events_of, ready
from tests.builders import (
    HELM_URL,
    HELMCHART,
    HELMREPO,
    gitrepository,
    helmchart,
    helmrepository,
    repo_with,
    secret,
)


def test_a_repository_index_is_stored_with_the_raw_index_digest_as_revision(
    sim: simulation.Simulation,
) -> None:
    sim.charts.publish(HELM_URL, "podinfo", "6.1.0")
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.advance(1_000)
    obj = sim.cluster.get(HELMREPO)
    raw = (sim.charts.get(HELM_URL).folder / "index.yaml").read_bytes()  # type: ignore[union-attr]
    import hashlib

    revision = "sha256:" + hashlib.sha256(raw).hexdigest()
    assert obj["status"]["artifact"]["revision"] == revision
    assert obj["status"]["artifact"]["path"] == f"helmrepository/flux-system/stable/index-{revision[7:]}.yaml"
    assert obj["status"]["url"].endswith("/helmrepository/flux-system/stable/index.yaml")
    assert ready(obj) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"stored artifact: revision '{revision}'",
    }
    [(_, kind, reason, message)] = events_of(sim, HELMREPO)
    assert (kind, reason) == ("Normal", "NewArtifact")
    assert message.startswith("stored fetched index of size ") and message.endswith(f"B from '{HELM_URL}'")


def test_a_chart_follows_a_semver_range_as_versions_are_published(sim: simulation.Simulation) -> None:
    sim.charts.publish(HELM_URL, "podinfo", "6.1.0")
    sim.charts.publish(HELM_URL, "podinfo", "7.0.0")
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmchart(version="6.x"), field_manager="kubectl")
    sim.advance(2_000)
    obj = sim.cluster.get(HELMCHART)
    assert obj["status"]["artifact"]["revision"] == "6.1.0"
    assert obj["status"]["artifact"]["path"] == "helmchart/flux-system/podinfo/podinfo-6.1.0.tgz"
    assert ready(obj) == {
        "status": "True",
        "reason": "ChartPullSucceeded",
        "message": "pulled 'podinfo' chart with version '6.1.0'",
    }
    sim.charts.publish(HELM_URL, "podinfo", "6.2.0")
    sim.advance(61_000)  # the index changes at the repository's interval; the chart follows at once
    assert sim.cluster.get(HELMCHART)["status"]["artifact"]["revision"] == "6.2.0"
    assert events_of(sim, HELMCHART)[-1][2:] == (
        "ChartPullSucceeded",
        "pulled 'podinfo' chart with version '6.2.0'",
    )


def test_values_files_are_merged_and_the_chart_packaged_again(sim: simulation.Simulation) -> None:
    sim.charts.publish(
        HELM_URL,
        "podinfo",
        "1.0.0",
        {
            "Chart.yaml": "apiVersion: v2\nname: podinfo\nversion: 1.0.0\n",
            "values.yaml": "replicaCount: 1\nimage: {tag: '1.0'}\n",
            "values-prod.yaml": "replicaCount: 3\n",
            "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        },
    )
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmchart(valuesFiles=["values.yaml", "values-prod.yaml"]), field_manager="kubectl")
    sim.advance(2_000)
    obj = sim.cluster.get(HELMCHART)
    assert ready(obj) == {
        "status": "True",
        "reason": "ChartPackageSucceeded",
        "message": "packaged 'podinfo' chart with version '1.0.0' "
        "and merged values files [values.yaml values-prod.yaml]",
    }
    chart = archives.unpack((sim.storage.root / obj["status"]["artifact"]["path"]).read_bytes())
    import yaml

    assert yaml.safe_load(chart["podinfo/values.yaml"]) == {"replicaCount": 3, "image": {"tag": "1.0"}}


def test_a_version_that_does_not_exist_stalls_the_chart(sim: simulation.Simulation) -> None:
    sim.charts.publish(HELM_URL, "podinfo", "6.1.0")
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.cluster.apply(helmchart(version="9.9.9"), field_manager="kubectl")
    sim.advance(2_000)
    obj = sim.cluster.get(HELMCHART)
    message = (
        "invalid chart reference: failed to get chart version for remote reference: "
        "no 'podinfo' chart with version matching '9.9.9' found"
    )
    assert ready(obj) == {"status": "False", "reason": "InvalidChartReference", "message": message}
    assert any(c["type"] == "Stalled" for c in obj["status"]["conditions"])


def test_an_index_that_cannot_be_fetched_is_reported_with_helms_words(sim: simulation.Simulation) -> None:
    sim.charts.publish(HELM_URL, "podinfo", "6.1.0")
    sim.charts.get(HELM_URL).fault = "unavailable"  # type: ignore[union-attr]
    sim.cluster.apply(helmrepository(), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(HELMREPO)) == {
        "status": "False",
        "reason": "Failed",
        "message": "failed to fetch Helm repository index: failed to cache index to temporary file: "
        f"failed to fetch {HELM_URL}/index.yaml : 503 Service Unavailable",
    }
    sim.charts.get(HELM_URL).fault = None  # type: ignore[union-attr]
    sim.advance(60_000)
    assert ready(sim.cluster.get(HELMREPO))["status"] == "True"


def test_a_private_repository_needs_its_basic_auth_secret(sim: simulation.Simulation) -> None:
    sim.charts.publish(HELM_URL, "podinfo", "6.1.0")
    sim.charts.get(HELM_URL).credentials = ("flux", "s3cret")  # type: ignore[union-attr]
    sim.cluster.apply(
        secret("charts-auth", username="flux", password="s3cret"),
        field_manager="kubectl",
    )
    sim.cluster.apply(helmrepository(secretRef={"name": "charts-auth"}), field_manager="kubectl")
    sim.cluster.apply(helmchart(), field_manager="kubectl")
    sim.advance(2_000)
    assert ready(sim.cluster.get(HELMCHART))["status"] == "True"


def test_an_oci_helm_repository_is_left_static(sim: simulation.Simulation) -> None:
    sim.cluster.apply(helmrepository(type="oci", url="oci://ghcr.io/acme/charts"), field_manager="kubectl")
    sim.advance(5_000)
    obj = sim.cluster.get(HELMREPO)
    assert "status" not in obj or not obj["status"]
    assert "finalizers" not in obj["metadata"]


def test_a_chart_in_git_is_packaged_with_the_source_revision_as_build_metadata(
    sim: simulation.Simulation,
) -> None:
    repo = repo_with(
        sim,
        {
            "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.3.0\n",
            "charts/app/values.yaml": "replicaCount: 1\n",
            "charts/app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        },
    )
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.cluster.apply(
        helmchart(
            chart="./charts/app",
            sourceRef={"kind": "GitRepository", "name": "fleet"},
            reconcileStrategy="Revision",
        ),
        field_manager="kubectl",
    )
    sim.advance(2_000)
    obj = sim.cluster.get(HELMCHART)
    version = f"0.3.0+{(repo.head() or '')[:12]}"
    assert obj["status"]["artifact"]["revision"] == version
    assert ready(obj)["message"] == f"packaged 'app' chart with version '{version}'"


def test_a_chart_in_an_oci_helm_repository_is_pulled_by_semver_from_the_registry(
    sim: simulation.Simulation,
) -> None:
    from gitops_sim.sources import oci

    client = oci.RegistryClient(sim.registries.route)
    host, path = sim.registries.host("oci://ghcr.io/acme/charts")
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        data, metadata = sim.charts.package("podinfo", version)
        client.push_chart(host, f"{path}/podinfo", data, metadata)
    sim.cluster.apply(helmrepository(type="oci", url="oci://ghcr.io/acme/charts"), field_manager="kubectl")
    sim.cluster.apply(helmchart(version="1.x"), field_manager="kubectl")
    sim.advance(2_000)
    obj = sim.cluster.get(HELMCHART)
    assert ready(obj) == {
        "status": "True",
        "reason": "ChartPullSucceeded",
        "message": "pulled 'podinfo' chart with version '1.1.0'",
    }
    chart = archives.unpack((sim.storage.root / obj["status"]["artifact"]["path"]).read_bytes())
    assert "podinfo/Chart.yaml" in chart
    assert "observedSourceArtifactRevision" not in obj["status"]


def test_a_repository_url_that_only_shares_a_prefix_with_a_hosted_one_is_not_it(
    sim: simulation.Simulation,
) -> None:
    sim.charts.publish(HELM_URL, "podinfo", "6.1.0")
    sim.cluster.apply(helmrepository(url=HELM_URL + "2"), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(HELMREPO))["message"].endswith(
        f"failed to fetch {HELM_URL}2/index.yaml : 404 Not Found"
    )
