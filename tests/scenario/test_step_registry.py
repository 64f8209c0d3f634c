"""The scenario steps are a registry: a step declared and performed from this file alone (`label`,
what `kubectl label` does) parses, is refused with file:line:col, and runs in a scenario, with no
edit to the schema or the runner. Every test name holds "registry" (`pytest -k registry`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.model import objects
from gitops_sim.scenario import assertions, loader, located, runner, schema
from gitops_sim.scenario.located import LoadError, Location
from gitops_sim.scenario.steps import fields, registry
from gitops_sim.scenario.steps.actions import base
from tests.scenario.conftest import WriteScenario


@dataclass(frozen=True, slots=True)
class Label(registry.Action):
    object: str
    key: str
    value: str


def parse_label(value: Any, loc: Location, where: str, ctx: fields.Context) -> Label:
    spec = fields.mapping(value, loc, where, ("object", "key", "value"), required=("object", "key", "value"))
    return Label(
        object=fields.ref(spec["object"], spec.value_locs["object"], f"{where}.object"),
        key=fields.string(spec["key"], spec.value_locs["key"], f"{where}.key"),
        value=fields.string(spec["value"], spec.value_locs["value"], f"{where}.value"),
    )


def perform_label(action: Label, step: schema.Step, ctx: base.Context) -> None:
    ref = assertions.resolve_ref(ctx.sim.cluster, action.object)
    live = ctx.sim.cluster.get(ref)
    objects.metadata(live).setdefault("labels", {})[action.key] = action.value
    ctx.sim.cluster.update(live, field_manager="kubectl-label")
    ctx.trace.record("label", object=str(ref), key=action.key, value=action.value)


@pytest.fixture
def label_step() -> Iterator[None]:
    """The `label` step, in the language while the test runs."""
    registry.declare(registry.Declaration("label", parse_label, "label: {object, key, value}"))
    registry.performs(Label)(perform_label)
    try:
        yield
    finally:
        registry.withdraw("label", Label)


@pytest.mark.usefixtures("label_step")
def test_registry_a_step_declared_by_a_test_parses_into_its_own_value(write_scenario: WriteScenario) -> None:
    path = write_scenario("- label: {object: ConfigMap/default/settings, key: team, value: web}\n")
    assert [(s.keyword, s.action) for s in loader.load(path).steps] == [
        ("label", Label("ConfigMap/default/settings", "team", "web"))
    ]


@pytest.mark.usefixtures("label_step")
def test_registry_a_step_declared_by_a_test_is_refused_at_its_file_line_and_column(
    write_scenario: WriteScenario,
) -> None:
    path = write_scenario("- label: {object: ConfigMap/default/settings, key: team}\n")
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value) == f"{path}:23:12: steps[0].label: missing required field 'value'"


@pytest.mark.usefixtures("label_step")
def test_registry_a_step_declared_by_a_test_runs_in_a_scenario(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario("""\
        - expect:
            object: ConfigMap/default/settings
            fields: {data.mode: a}
            within: 1m
        - label: {object: ConfigMap/default/settings, key: team, value: web}
        - expect:
            object: ConfigMap/default/settings
            fields: {metadata.labels.team: web}
        """)
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure
    labels = [r for r in outcome.trace.records if r["kind"] == "label"]
    assert labels == [
        {"t": 750, "kind": "label", "object": "ConfigMap/default/settings", "key": "team", "value": "web"}
    ]


@pytest.mark.usefixtures("label_step")
def test_registry_an_unknown_step_is_refused_naming_every_declared_step(
    write_scenario: WriteScenario,
) -> None:
    path = write_scenario("- wait: 1m\n")
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value) == (
        f"{path}:23:11: steps[0].wait: unknown step; expected one of: apply, commit, tag, push-artifact, "
        "push-image, delete-tag, publish-chart, put-object, fault, heal, metrics, drift, delete, reconcile, "
        "suspend, resume, flux, helm, webhook, advance, expect, label"
    )


def test_registry_a_withdrawn_step_is_no_longer_in_the_language(write_scenario: WriteScenario) -> None:
    registry.declare(registry.Declaration("label", parse_label, "label: {object, key, value}"))
    registry.withdraw("label")
    path = write_scenario("- label: {object: ConfigMap/default/settings, key: team, value: web}\n")
    with pytest.raises(LoadError, match=r"steps\[0\].label: unknown step"):
        loader.load(path)


def test_registry_holds_the_built_in_steps_in_the_order_of_the_language() -> None:
    assert (
        tuple(registry.declared())
        == schema.STEP_KEYS
        == (
            "apply",
            "commit",
            "tag",
            "push-artifact",
            "push-image",
            "delete-tag",
            "publish-chart",
            "put-object",
            "fault",
            "heal",
            "metrics",
            "drift",
            "delete",
            "reconcile",
            "suspend",
            "resume",
            "flux",
            "helm",
            "webhook",
            "advance",
            "expect",
        )
    )


def test_registry_refuses_a_step_key_declared_twice() -> None:
    with pytest.raises(ValueError, match="step 'commit' is already declared"):
        registry.declare(registry.Declaration("commit", parse_label, "commit: again"))


def test_registry_gives_every_built_in_step_a_performer() -> None:
    missing = [
        key
        for key, declaration in registry.declared().items()
        if registry.performer(declaration.parse(*_sample(key))) is None
    ]
    assert missing == []


def test_registry_usage_lists_every_step_and_fault_target() -> None:
    lines = schema.usage().splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [*schema.STEP_KEYS, "fault targets"]
    assert lines[-1].startswith("fault targets: repo (")


def _sample(key: str) -> tuple[Any, Location, str, fields.Context]:
    """A valid value for each built-in step, as the YAML loader would give it."""
    texts = {
        "apply": "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}",
        "commit": "{repo: fleet}",
        "tag": "{repo: fleet, name: v1}",
        "push-artifact": "{url: oci://ghcr.io/a/b, tag: v1, files: {a: b}}",
        "push-image": "ghcr.io/a/b:1",
        "delete-tag": "ghcr.io/a/b:1",
        "publish-chart": "{url: https://charts.example.com, name: a, version: 1.0.0}",
        "put-object": "{endpoint: minio:9000, bucket: b, objects: {a: b}}",
        "fault": "{repo: fleet, type: unreachable}",
        "heal": "{repo: fleet}",
        "metrics": "{workload: Deployment/default/web, cpu: 150%}",
        "drift": "{object: ConfigMap/default/a, set: {data.a: b}}",
        "delete": "ConfigMap/default/a",
        "reconcile": "Kustomization/flux-system/apps",
        "suspend": "Kustomization/flux-system/apps",
        "resume": "Kustomization/flux-system/apps",
        "flux": "get kustomizations -A",
        "helm": "uninstall flux -n flux-system",
        "webhook": "{receiver: Receiver/flux-system/github}",
        "advance": "1m",
        "expect": "{absent: ConfigMap/default/a}",
    }
    value = located.load(f"v: {texts[key]}", "sample.yaml")["v"]
    return value, Location("sample.yaml", 1, 4), f"steps[0].{key}", fields.Context(Path("."), "sample.yaml")
