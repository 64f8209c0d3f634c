"""The image.toolkit.fluxcd.io/v1 CRDs generated from `fluxapi.image`, as a server serving them
answers: defaults filled in, required fields, patterns, enums, bounds, unknown fields and the CEL
rules of ImagePolicy; and `declare.parse` reading a stored spec into the typed value."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops_sim.cluster.memory import store
from gitops_sim.model.fluxapi import declare, image
from tests.fluxapi.conftest import blocked, cluster_with, refused

GROUP = "image.toolkit.fluxcd.io"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"

REPOSITORY: dict[str, Any] = {
    "image": "ghcr.io/stefanprodan/podinfo",
    "interval": "1h",
    "secretRef": {"name": "ghcr-auth"},
}
POLICY: dict[str, Any] = {
    "imageRepositoryRef": {"name": "podinfo"},
    "filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
    "policy": {"semver": {"range": ">=6.0.0 <7.0.0"}},
}
AUTOMATION: dict[str, Any] = {
    "interval": "30m",
    "sourceRef": {"name": "fleet-infra"},
    "git": {
        "checkout": {"ref": {"branch": "main"}},
        "commit": {
            "author": {"email": "fluxbot@example.com", "name": "fluxbot"},
            "messageTemplate": "Automated image update",
        },
        "push": {"branch": "image-updates"},
    },
    "update": {"path": "./clusters/staging"},
}
VALID = {"ImageRepository": REPOSITORY, "ImagePolicy": POLICY, "ImageUpdateAutomation": AUTOMATION}


@pytest.fixture
def cluster() -> store.MemoryCluster:
    return cluster_with(*image.KINDS)


def obj(kind: str, spec: dict[str, Any], name: str = "podinfo") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def changed(kind: str, path: str, value: Any) -> dict[str, Any]:
    """The valid spec of `kind` with the dotted `path` set to `value` (removed when ABSENT)."""
    spec = copy.deepcopy(VALID[kind])
    *parents, last = path.split(".")
    node = spec
    for key in parents:
        node = node.setdefault(key, {})
    if value is declare.ABSENT:
        node.pop(last, None)
    else:
        node[last] = value
    return spec


def create(cluster: store.MemoryCluster, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return cluster.create(obj(kind, spec), field_manager="kubectl-create", field_validation="Strict")


def invalid(kind: str, detail: str) -> str:
    return f'{kind}.{GROUP} "podinfo" is invalid: {detail}'


# ---------------------------------------------------------------------------------------------
# Valid objects and their defaults


def test_an_image_repository_is_stored_with_the_exclusion_list_and_provider_defaulted(
    cluster: store.MemoryCluster,
) -> None:
    stored = create(cluster, "ImageRepository", REPOSITORY)
    assert stored["spec"] == {**REPOSITORY, "exclusionList": [r"^.*\.sig$"], "provider": "generic"}
    assert stored["status"] == {"observedGeneration": -1}


def test_an_image_policy_is_stored_with_digest_reflection_defaulted_to_never(
    cluster: store.MemoryCluster,
) -> None:
    stored = create(cluster, "ImagePolicy", POLICY)
    assert stored["spec"] == {**POLICY, "digestReflectionPolicy": "Never"}
    assert stored["status"] == {"observedGeneration": -1}


@pytest.mark.parametrize("ordering", ["alphabetical", "numerical"])
def test_an_ordering_policy_without_an_order_is_stored_ascending(
    cluster: store.MemoryCluster, ordering: str
) -> None:
    stored = create(cluster, "ImagePolicy", changed("ImagePolicy", "policy", {ordering: {}}))
    assert stored["spec"]["policy"] == {ordering: {"order": "asc"}}


def test_an_image_update_automation_is_stored_with_source_kind_and_strategy_defaulted(
    cluster: store.MemoryCluster,
) -> None:
    stored = create(cluster, "ImageUpdateAutomation", AUTOMATION)
    assert stored["spec"] == {
        **AUTOMATION,
        "sourceRef": {"kind": "GitRepository", "name": "fleet-infra"},
        "update": {"path": "./clusters/staging", "strategy": "Setters"},
    }
    assert stored["status"] == {"observedGeneration": -1}


def test_an_image_update_automation_without_update_gets_the_setters_strategy(
    cluster: store.MemoryCluster,
) -> None:
    stored = create(
        cluster, "ImageUpdateAutomation", changed("ImageUpdateAutomation", "update", declare.ABSENT)
    )
    assert stored["spec"]["update"] == {"strategy": "Setters"}


def test_an_image_update_automation_with_signing_key_and_policy_selector_is_accepted(
    cluster: store.MemoryCluster,
) -> None:
    spec = changed(
        "ImageUpdateAutomation", "git.commit.signingKey", {"secretRef": {"name": "sign"}, "type": "ssh"}
    )
    spec["policySelector"] = {
        "matchLabels": {"team": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}],
    }
    stored = create(cluster, "ImageUpdateAutomation", spec)
    assert stored["spec"]["policySelector"] == spec["policySelector"]
    assert stored["spec"]["git"]["commit"]["signingKey"] == {"secretRef": {"name": "sign"}, "type": "ssh"}


# ---------------------------------------------------------------------------------------------
# Schema checks


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        pytest.param("ImageRepository", "image", id="repository-image"),
        pytest.param("ImageRepository", "interval", id="repository-interval"),
        pytest.param("ImageRepository", "secretRef.name", id="repository-secretRef.name"),
        pytest.param("ImagePolicy", "imageRepositoryRef", id="policy-imageRepositoryRef"),
        pytest.param("ImagePolicy", "imageRepositoryRef.name", id="policy-imageRepositoryRef.name"),
        pytest.param("ImagePolicy", "policy", id="policy-policy"),
        pytest.param("ImagePolicy", "policy.semver.range", id="policy-semver.range"),
        pytest.param("ImageUpdateAutomation", "interval", id="automation-interval"),
        pytest.param("ImageUpdateAutomation", "sourceRef", id="automation-sourceRef"),
        pytest.param("ImageUpdateAutomation", "sourceRef.name", id="automation-sourceRef.name"),
        pytest.param("ImageUpdateAutomation", "git.commit", id="automation-git.commit"),
        pytest.param("ImageUpdateAutomation", "git.commit.author", id="automation-git.commit.author"),
        pytest.param("ImageUpdateAutomation", "git.commit.author.email", id="automation-author.email"),
        pytest.param("ImageUpdateAutomation", "git.checkout.ref", id="automation-git.checkout.ref"),
    ],
)
def test_a_missing_required_field_is_refused(cluster: store.MemoryCluster, kind: str, path: str) -> None:
    message = refused(cluster, obj(kind, changed(kind, path, declare.ABSENT)))
    expected = invalid(kind, f"spec.{path}: Required value")
    assert message == (blocked(expected) if kind == "ImagePolicy" else expected)  # its CRD has CEL rules


def test_a_signing_key_without_secret_ref_is_refused(cluster: store.MemoryCluster) -> None:
    spec = changed("ImageUpdateAutomation", "git.commit.signingKey", {"type": "gpg"})
    message = refused(cluster, obj("ImageUpdateAutomation", spec))
    assert message == invalid("ImageUpdateAutomation", "spec.git.commit.signingKey.secretRef: Required value")


def test_a_policy_selector_expression_without_operator_is_refused(cluster: store.MemoryCluster) -> None:
    spec = changed("ImageUpdateAutomation", "policySelector", {"matchExpressions": [{"key": "tier"}]})
    message = refused(cluster, obj("ImageUpdateAutomation", spec))
    assert message == invalid(
        "ImageUpdateAutomation", "spec.policySelector.matchExpressions[0].operator: Required value"
    )


@pytest.mark.parametrize(
    ("kind", "path", "value", "pattern"),
    [
        pytest.param("ImageRepository", "interval", "5", DURATION, id="repository-interval"),
        pytest.param(
            "ImageRepository",
            "timeout",
            "1h",
            r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$",
            id="repository-timeout-hours",
        ),
        pytest.param("ImageUpdateAutomation", "interval", "5", DURATION, id="automation-interval"),
    ],
)
def test_a_value_not_matching_its_pattern_is_refused(
    cluster: store.MemoryCluster, kind: str, path: str, value: str, pattern: str
) -> None:
    message = refused(cluster, obj(kind, changed(kind, path, value)))
    assert message == invalid(
        kind, f"spec.{path}: Invalid value: \"{value}\": spec.{path} in body should match '{pattern}'"
    )


def test_a_policy_interval_not_matching_the_duration_pattern_is_refused(cluster: store.MemoryCluster) -> None:
    spec = {**POLICY, "digestReflectionPolicy": "Always", "interval": "5"}
    message = refused(cluster, obj("ImagePolicy", spec))
    assert message == invalid(
        "ImagePolicy", f"spec.interval: Invalid value: \"5\": spec.interval in body should match '{DURATION}'"
    )


@pytest.mark.parametrize(
    ("kind", "path", "supported"),
    [
        pytest.param(
            "ImageRepository", "provider", '"generic", "aws", "azure", "gcp"', id="repository-provider"
        ),
        pytest.param(
            "ImagePolicy",
            "digestReflectionPolicy",
            '"Always", "IfNotPresent", "Never"',
            id="policy-reflection",
        ),
        pytest.param("ImagePolicy", "policy.alphabetical.order", '"asc", "desc"', id="policy-alphabetical"),
        pytest.param("ImagePolicy", "policy.numerical.order", '"asc", "desc"', id="policy-numerical"),
        pytest.param(
            "ImageUpdateAutomation", "sourceRef.kind", '"GitRepository"', id="automation-source-kind"
        ),
        pytest.param("ImageUpdateAutomation", "update.strategy", '"Setters"', id="automation-strategy"),
    ],
)
def test_a_value_outside_its_enum_is_refused(
    cluster: store.MemoryCluster, kind: str, path: str, supported: str
) -> None:
    message = refused(cluster, obj(kind, changed(kind, path, "foo")))
    expected = invalid(kind, f'spec.{path}: Unsupported value: "foo": supported values: {supported}')
    assert message == (blocked(expected) if kind == "ImagePolicy" else expected)  # its CRD has CEL rules


def test_a_signing_key_type_outside_its_enum_is_refused(cluster: store.MemoryCluster) -> None:
    spec = changed(
        "ImageUpdateAutomation", "git.commit.signingKey", {"secretRef": {"name": "s"}, "type": "x509"}
    )
    message = refused(cluster, obj("ImageUpdateAutomation", spec))
    assert message == invalid(
        "ImageUpdateAutomation",
        'spec.git.commit.signingKey.type: Unsupported value: "x509": supported values: "gpg", "ssh"',
    )


def test_more_than_25_exclusion_patterns_are_refused(cluster: store.MemoryCluster) -> None:
    spec = changed("ImageRepository", "exclusionList", [f"^v{i}$" for i in range(26)])
    message = refused(cluster, obj("ImageRepository", spec))
    assert message == invalid(
        "ImageRepository", "spec.exclusionList: Too many: 26: must have at most 25 items"
    )


def test_a_service_account_name_longer_than_253_characters_is_refused(cluster: store.MemoryCluster) -> None:
    spec = changed("ImageRepository", "serviceAccountName", "a" * 254)
    message = refused(cluster, obj("ImageRepository", spec))
    assert message == invalid(
        "ImageRepository", "spec.serviceAccountName: Too long: may not be more than 253 bytes"
    )


@pytest.mark.parametrize("kind", sorted(VALID))
def test_an_unknown_spec_field_is_refused_under_strict_validation(
    cluster: store.MemoryCluster, kind: str
) -> None:
    message = refused(cluster, obj(kind, changed(kind, "foo", "bar")))
    assert message == (
        f'{kind} in version "v1" cannot be handled as a {kind}: '
        'strict decoding error: unknown field "spec.foo"'
    )


# ---------------------------------------------------------------------------------------------
# ImagePolicy's CEL rules (interval goes with digestReflectionPolicy Always, and only with it)


def test_a_policy_interval_without_always_reflection_is_refused(cluster: store.MemoryCluster) -> None:
    spec = {**POLICY, "digestReflectionPolicy": "IfNotPresent", "interval": "10m"}
    message = refused(cluster, obj("ImagePolicy", spec))
    assert message == invalid(
        "ImagePolicy",
        "spec: Invalid value: spec.interval is only accepted when spec.digestReflectionPolicy "
        "is set to 'Always'",
    )


def test_a_policy_interval_with_the_default_reflection_is_refused(cluster: store.MemoryCluster) -> None:
    message = refused(cluster, obj("ImagePolicy", {**POLICY, "interval": "10m"}))
    assert message == invalid(
        "ImagePolicy",
        "spec: Invalid value: spec.interval is only accepted when spec.digestReflectionPolicy "
        "is set to 'Always'",
    )


def test_always_reflection_without_interval_is_refused(cluster: store.MemoryCluster) -> None:
    message = refused(cluster, obj("ImagePolicy", {**POLICY, "digestReflectionPolicy": "Always"}))
    assert message == invalid(
        "ImagePolicy",
        "spec: Invalid value: spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
    )


def test_always_reflection_with_an_interval_is_accepted(cluster: store.MemoryCluster) -> None:
    spec = {**POLICY, "digestReflectionPolicy": "Always", "interval": "10m"}
    assert create(cluster, "ImagePolicy", spec)["spec"] == spec


def test_if_not_present_reflection_without_interval_is_accepted(cluster: store.MemoryCluster) -> None:
    spec = {**POLICY, "digestReflectionPolicy": "IfNotPresent"}
    assert create(cluster, "ImagePolicy", spec)["spec"] == spec


# ---------------------------------------------------------------------------------------------
# Parsing a stored spec


def test_a_stored_image_repository_spec_parses_with_its_defaults(cluster: store.MemoryCluster) -> None:
    spec = declare.parse(image.ImageRepositorySpec, create(cluster, "ImageRepository", REPOSITORY)["spec"])
    assert spec.image == "ghcr.io/stefanprodan/podinfo"
    assert spec.exclusion_list == (r"^.*\.sig$",)
    assert spec.provider == "generic"
    assert spec.secret_ref is not None
    assert spec.secret_ref.name == "ghcr-auth"
    assert spec.timeout is None
    assert spec.suspend is False


def test_a_stored_image_policy_spec_parses_with_its_defaults(cluster: store.MemoryCluster) -> None:
    spec = declare.parse(image.ImagePolicySpec, create(cluster, "ImagePolicy", POLICY)["spec"])
    assert spec.digest_reflection_policy == "Never"
    assert spec.policy == image.ImagePolicyChoice(semver=image.SemVerPolicy(range=">=6.0.0 <7.0.0"))
    assert spec.filter_tags == image.TagFilter(pattern="^main-[a-f0-9]+-(?P<ts>[0-9]+)", extract="$ts")
    assert spec.image_repository_ref.namespace is None
    assert spec.interval is None


def test_a_stored_image_update_automation_spec_parses_with_its_defaults(cluster: store.MemoryCluster) -> None:
    stored = create(cluster, "ImageUpdateAutomation", AUTOMATION)
    spec = declare.parse(image.ImageUpdateAutomationSpec, stored["spec"])
    assert spec.source_ref == image.CrossNamespaceSourceReference(kind="GitRepository", name="fleet-infra")
    assert spec.update == image.UpdateStrategy(path="./clusters/staging", strategy="Setters")
    assert spec.git is not None
    assert spec.git.commit.author.email == "fluxbot@example.com"
    assert spec.git.push == image.PushSpec(branch="image-updates")
    assert spec.policy_selector is None


def test_an_automation_spec_without_update_parses_to_the_setters_strategy() -> None:
    spec = declare.parse(image.ImageUpdateAutomationSpec, {"interval": "1m", "sourceRef": {"name": "repo"}})
    assert spec.update == image.UpdateStrategy(strategy="Setters")
    assert spec.source_ref.kind == "GitRepository"
