"""The ArtifactGenerator kind (source.extensions.fluxcd.io/v1beta1) as the generated CRD serves it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import declare, sourcewatcher
from tests.fluxapi.conftest import blocked, cluster_with, refused

Spec = dict[str, Any]
PREFIX = 'ArtifactGenerator.source.extensions.fluxcd.io "shop" is invalid: '
ALIAS_PATH = r"'^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.*)$'"
ALIAS = r"'^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$'"
NAMES_MESSAGE = "artifact names must be valid Kubernetes object names when pathPattern is not set"


def shop_spec() -> Spec:
    """A chart from an OCI repository with production values merged in from Git."""
    return {
        "sources": [
            {"alias": "chart", "kind": "OCIRepository", "name": "shop-chart", "namespace": "charts"},
            {"alias": "config", "kind": "GitRepository", "name": "shop-config"},
        ],
        "artifacts": [
            {
                "name": "shop-bundle",
                "originRevision": "@config",
                "copy": [
                    {"from": "@chart/", "to": "@artifact/"},
                    {
                        "from": "@config/envs/prod/values.yaml",
                        "to": "@artifact/shop/values.yaml",
                        "strategy": "Merge",
                    },
                ],
            }
        ],
    }


def generator(spec: Spec) -> dict[str, Any]:
    return {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": {"name": "shop", "namespace": "apps"},
        "spec": spec,
    }


def changed(change: Callable[[Spec], object]) -> dict[str, Any]:
    spec = shop_spec()
    change(spec)
    return generator(spec)


def source(spec: Spec) -> Spec:
    src: Spec = spec["sources"][0]
    return src


def artifact(spec: Spec) -> Spec:
    out: Spec = spec["artifacts"][0]
    return out


def copy_op(spec: Spec) -> Spec:
    op: Spec = spec["artifacts"][0]["copy"][0]
    return op


def per_app(spec: Spec) -> None:
    """Turn the spec into one generating an artifact per directory under apps/."""
    spec["pathPattern"] = "@config/apps/{app}"
    artifact(spec)["name"] = "{app}-bundle"


@pytest.fixture
def cluster() -> store.MemoryCluster:
    cluster = cluster_with(*sourcewatcher.KINDS)
    cluster.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}, field_manager="setup"
    )
    return cluster


def test_an_artifact_generator_as_the_docs_write_it_is_stored_as_written(
    cluster: store.MemoryCluster,
) -> None:
    stored = cluster.create(generator(shop_spec()), field_manager="kubectl", field_validation="Strict")
    assert stored["spec"] == shop_spec()


def test_a_new_artifact_generator_has_no_status(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(generator(shop_spec()), field_manager="kubectl")
    assert "status" not in stored


def test_a_generator_using_every_spec_field_is_accepted_as_written(cluster: store.MemoryCluster) -> None:
    spec = shop_spec()
    per_app(spec)
    spec["commonMetadata"] = {"labels": {"team": "shop"}, "annotations": {"owner": "shop@example.com"}}
    artifact(spec)["revision"] = "@chart"
    copy_op(spec)["exclude"] = ["*.md", "**/testdata/**"]
    copy_op(spec)["strategy"] = "Extract"
    stored = cluster.create(
        generator(copy.deepcopy(spec)), field_manager="kubectl", field_validation="Strict"
    )
    assert stored["spec"] == spec


def test_the_stored_spec_parses_into_the_typed_spec(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(generator(shop_spec()), field_manager="kubectl")
    spec = declare.parse(sourcewatcher.ArtifactGeneratorSpec, stored["spec"])
    assert spec.sources[0] == sourcewatcher.SourceReference(
        alias="chart", kind="OCIRepository", name="shop-chart", namespace="charts"
    )
    assert spec.sources[1].namespace is None
    assert spec.artifacts[0].origin_revision == "@config"
    assert spec.artifacts[0].revision is None
    assert spec.artifacts[0].copy[0] == sourcewatcher.CopyOperation(from_="@chart/", to="@artifact/")
    assert spec.artifacts[0].copy[1].strategy == "Merge"
    assert (spec.path_pattern, spec.common_metadata) == (None, None)


def test_the_status_reports_the_generated_artifacts_and_parses(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(generator(shop_spec()), field_manager="kubectl")
    stored["status"] = {
        "observedSourcesDigest": "sha256:0dd16ff06ef2efe7bbc5b6a356eb9f3b59467d76617969eb7bb34e094abbd58e",
        "inventory": [
            {
                "name": "shop-bundle",
                "namespace": "apps",
                "digest": "sha256:1b1452058f747245f79b4d45d589ad5693c516987e678d13231ddfdf26979208",
                "filename": "3f1c2a7e.tar.gz",
            }
        ],
    }
    updated = cluster.update(stored, field_manager="source-watcher", subresource="status")
    status = declare.parse(sourcewatcher.ArtifactGeneratorStatus, updated["status"], "status")
    assert status.inventory[0].name == "shop-bundle"
    assert status.inventory[0].filename == "3f1c2a7e.tar.gz"
    assert (status.conditions, status.last_handled_reconcile_at) == ((), None)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param(lambda s: s.pop("sources"), "spec.sources", id="sources"),
        pytest.param(lambda s: s.pop("artifacts"), "spec.artifacts", id="artifacts"),
        pytest.param(lambda s: source(s).pop("alias"), "spec.sources[0].alias", id="sources.alias"),
        pytest.param(lambda s: source(s).pop("kind"), "spec.sources[0].kind", id="sources.kind"),
        pytest.param(lambda s: source(s).pop("name"), "spec.sources[0].name", id="sources.name"),
        pytest.param(lambda s: artifact(s).pop("name"), "spec.artifacts[0].name", id="artifacts.name"),
        pytest.param(lambda s: artifact(s).pop("copy"), "spec.artifacts[0].copy", id="artifacts.copy"),
        pytest.param(lambda s: copy_op(s).pop("from"), "spec.artifacts[0].copy[0].from", id="copy.from"),
        pytest.param(lambda s: copy_op(s).pop("to"), "spec.artifacts[0].copy[0].to", id="copy.to"),
    ],
)
def test_a_missing_required_field_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str
) -> None:
    assert refused(cluster, changed(change)) == blocked(f"{PREFIX}{path}: Required value")


@pytest.mark.parametrize(
    ("change", "path", "value", "pattern"),
    [
        pytest.param(
            lambda s: s.update(pathPattern="apps/{app}"),
            "spec.pathPattern",
            "apps/{app}",
            ALIAS_PATH,
            id="pathPattern",
        ),
        pytest.param(
            lambda s: source(s).update(alias="Chart"),
            "spec.sources[0].alias",
            "Chart",
            "'^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$'",
            id="sources.alias",
        ),
        pytest.param(
            lambda s: source(s).update(name="shop_chart"),
            "spec.sources[0].name",
            "shop_chart",
            "'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'",
            id="sources.name",
        ),
        pytest.param(
            lambda s: source(s).update(namespace="Charts"),
            "spec.sources[0].namespace",
            "Charts",
            "'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
            id="sources.namespace",
        ),
        pytest.param(
            lambda s: artifact(s).update(revision="chart"),
            "spec.artifacts[0].revision",
            "chart",
            ALIAS,
            id="revision",
        ),
        pytest.param(
            lambda s: artifact(s).update(originRevision="@config/"),
            "spec.artifacts[0].originRevision",
            "@config/",
            ALIAS,
            id="originRevision",
        ),
        pytest.param(
            lambda s: copy_op(s).update({"from": "chart/"}),
            "spec.artifacts[0].copy[0].from",
            "chart/",
            ALIAS_PATH,
            id="copy.from",
        ),
        pytest.param(
            lambda s: copy_op(s).update(to="@chart/"),
            "spec.artifacts[0].copy[0].to",
            "@chart/",
            "'^@(artifact)/(.*)$'",
            id="copy.to",
        ),
    ],
)
def test_a_value_not_matching_its_pattern_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str, value: str, pattern: str
) -> None:
    assert refused(cluster, changed(change)) == (
        f'{PREFIX}{path}: Invalid value: "{value}": {path} in body should match {pattern}'
    )


@pytest.mark.parametrize(
    ("change", "path", "supported"),
    [
        pytest.param(
            lambda s: source(s).update(kind="foo"),
            "spec.sources[0].kind",
            '"Bucket", "GitRepository", "OCIRepository", "HelmChart", "ExternalArtifact"',
            id="sources.kind",
        ),
        pytest.param(
            lambda s: copy_op(s).update(strategy="foo"),
            "spec.artifacts[0].copy[0].strategy",
            '"Overwrite", "Merge", "Extract"',
            id="copy.strategy",
        ),
    ],
)
def test_a_value_outside_an_enum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str, supported: str
) -> None:
    assert refused(cluster, changed(change)) == blocked(
        f'{PREFIX}{path}: Unsupported value: "foo": supported values: {supported}'
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param(lambda s: s.update(sources=[]), "spec.sources", id="sources"),
        pytest.param(lambda s: s.update(artifacts=[]), "spec.artifacts", id="artifacts"),
        pytest.param(lambda s: artifact(s).update(copy=[]), "spec.artifacts[0].copy", id="copy"),
    ],
)
def test_an_empty_list_where_one_item_is_the_minimum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str
) -> None:
    assert refused(cluster, changed(change)) == (
        f"{PREFIX}{path}: Invalid value: 0: {path} in body should have at least 1 items"
    )


@pytest.mark.parametrize(
    ("change", "path", "count", "limit"),
    [
        pytest.param(
            lambda s: s.update(sources=s["sources"][:1] * 1001), "spec.sources", 1001, 1000, id="sources"
        ),
        pytest.param(
            lambda s: s.update(artifacts=s["artifacts"] * 1001), "spec.artifacts", 1001, 1000, id="artifacts"
        ),
        pytest.param(
            lambda s: copy_op(s).update(exclude=["*.md"] * 101),
            "spec.artifacts[0].copy[0].exclude",
            101,
            100,
            id="copy.exclude",
        ),
    ],
)
def test_a_list_longer_than_its_maximum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str, count: int, limit: int
) -> None:
    assert refused(cluster, changed(change)) == blocked(
        f"{PREFIX}{path}: Too many: {count}: must have at most {limit} items"
    )


def test_an_empty_artifact_name_is_refused(cluster: store.MemoryCluster) -> None:
    def empty_name(spec: Spec) -> None:
        per_app(spec)
        artifact(spec)["name"] = ""

    path = "spec.artifacts[0].name"
    assert refused(cluster, changed(empty_name)) == (
        f'{PREFIX}{path}: Invalid value: "": {path} in body should be at least 1 chars long'
    )


@pytest.mark.parametrize(
    ("change", "path", "limit"),
    [
        pytest.param(
            lambda s: source(s).update(alias="a" * 64), "spec.sources[0].alias", 63, id="sources.alias"
        ),
        pytest.param(
            lambda s: source(s).update(name="n" * 254), "spec.sources[0].name", 253, id="sources.name"
        ),
        pytest.param(
            lambda s: source(s).update(namespace="n" * 64),
            "spec.sources[0].namespace",
            63,
            id="sources.namespace",
        ),
        pytest.param(
            lambda s: artifact(s).update(name="a" * 254), "spec.artifacts[0].name", 253, id="artifacts.name"
        ),
        pytest.param(
            lambda s: artifact(s).update(revision="@" + "r" * 64),
            "spec.artifacts[0].revision",
            64,
            id="revision",
        ),
        pytest.param(
            lambda s: artifact(s).update(originRevision="@" + "r" * 64),
            "spec.artifacts[0].originRevision",
            64,
            id="originRevision",
        ),
        pytest.param(
            lambda s: s.update(pathPattern="@config/" + "p" * 1017),
            "spec.pathPattern",
            1024,
            id="pathPattern",
        ),
        pytest.param(
            lambda s: copy_op(s).update({"from": "@chart/" + "f" * 1018}),
            "spec.artifacts[0].copy[0].from",
            1024,
            id="copy.from",
        ),
        pytest.param(
            lambda s: copy_op(s).update(to="@artifact/" + "t" * 1015),
            "spec.artifacts[0].copy[0].to",
            1024,
            id="copy.to",
        ),
    ],
)
def test_a_string_longer_than_its_maximum_is_refused(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], path: str, limit: int
) -> None:
    assert refused(cluster, changed(change)) == blocked(
        f"{PREFIX}{path}: Too long: may not be more than {limit} bytes"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(lambda s: s.update(foo="bar"), "spec.foo", id="spec"),
        pytest.param(lambda s: source(s).update(foo="bar"), "spec.sources[0].foo", id="sources"),
        pytest.param(lambda s: copy_op(s).update(foo="bar"), "spec.artifacts[0].copy[0].foo", id="copy"),
    ],
)
def test_an_unknown_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, change: Callable[[Spec], object], field: str
) -> None:
    assert refused(cluster, changed(change)) == (
        'ArtifactGenerator in version "v1beta1" cannot be handled as a ArtifactGenerator: '
        f'strict decoding error: unknown field "{field}"'
    )


# CEL: without pathPattern, every artifact name must be a valid object name (DNS subdomain).


@pytest.mark.parametrize("name", ["{app}-bundle", "Shop-Bundle", "shop_bundle", "-shop"])
def test_an_artifact_name_that_is_no_object_name_is_refused_without_a_path_pattern(
    cluster: store.MemoryCluster, name: str
) -> None:
    assert refused(cluster, changed(lambda s: artifact(s).update(name=name))) == (
        f"{PREFIX}spec: Invalid value: {NAMES_MESSAGE}"
    )


def test_an_artifact_name_with_placeholders_is_accepted_with_a_path_pattern(
    cluster: store.MemoryCluster,
) -> None:
    stored = cluster.create(changed(per_app), field_manager="kubectl")
    assert artifact(stored["spec"])["name"] == "{app}-bundle"


def test_a_dotted_artifact_name_is_accepted_without_a_path_pattern(cluster: store.MemoryCluster) -> None:
    stored = cluster.create(
        changed(lambda s: artifact(s).update(name="shop.bundle-v2")), field_manager="kubectl"
    )
    assert artifact(stored["spec"])["name"] == "shop.bundle-v2"
