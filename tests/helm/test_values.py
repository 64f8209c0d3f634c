"""A HelmRelease's values: valuesFrom and values composed as helm-controller does, Helm's `--set`
parser writing into them, the config digest, and values.schema.json validation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest

from gitops_sim.cluster import errors
from gitops_sim.helm import values
from gitops_sim.model import refs
from gitops_sim.model.fluxapi import meta

NS = "default"


def ref(kind: str = "ConfigMap", name: str = "vals", **fields: Any) -> meta.ValuesReference:
    return meta.ValuesReference(kind=kind, name=name, **fields)  # type: ignore[arg-type]


class Objects:
    """A reader over named ConfigMaps and Secrets, counting its reads."""

    def __init__(self, **objects: Mapping[str, str | bytes]) -> None:
        self.objects = objects
        self.reads: list[tuple[str, str, str]] = []

    def __call__(self, kind: str, namespace: str, name: str) -> Mapping[str, str | bytes] | None:
        self.reads.append((kind, namespace, name))
        return self.objects.get(f"{kind}/{name}")


def compose(
    spec_values: dict[str, Any] | None, refs_: list[meta.ValuesReference], **objects: Mapping[str, Any]
) -> dict[str, Any]:
    return values.compose(NS, spec_values, refs_, Objects(**objects)).values


def failure(
    spec_values: dict[str, Any] | None, refs_: list[meta.ValuesReference], **objects: Mapping[str, Any]
) -> str:
    with pytest.raises(values.ValuesError) as caught:
        values.compose(NS, spec_values, refs_, Objects(**objects))
    assert caught.value.reason == "ValuesError"
    return caught.value.message


# --- composition -------------------------------------------------------------------------------


def test_composes_helm_controllers_valuesfrom_golden_case() -> None:
    config: dict[str, str | bytes] = {
        "resources.limits": "resources:\n  limits:\n    cpu: 200m\n    memory: 128Mi\n",
        "resources.requests": "resources:\n  requests:\n    cpu: 100m\n    memory: 64Mi\n",
        "resources.limits.cpu": "400m",
        "list.example": "{a,b,c}",
        "list.example.overwrite": "d",
        "podAnnotation.example.value": "demo",
    }
    cm = "valuesfrom-config"
    secret: dict[str, str | bytes] = {"values.yaml": b"serviceAccount:\n  enabled: true\n"}
    composed = compose(
        {"replicaCount": 2},
        [
            ref(name=cm, values_key="resources.limits"),
            ref(name=cm, values_key="resources.requests"),
            ref(name=cm, values_key="resources.limits.cpu", target_path="resources.limits.cpu"),
            ref(name=cm, values_key="list.example", target_path="list.example"),
            ref(name=cm, values_key="list.example.overwrite", target_path="list.example[2]"),
            ref(
                name=cm,
                values_key="podAnnotation.example.value",
                target_path="podAnnotations.some\\.k8s\\.annotation\\/env",
            ),
            ref("Secret", "valuesfrom-secret"),
        ],
        **{
            f"ConfigMap/{cm}": config,
            "Secret/valuesfrom-secret": secret,
        },
    )
    assert composed == {
        "list": {"example": ["a", "b", "d"]},
        "podAnnotations": {"some.k8s.annotation/env": "demo"},
        "replicaCount": 2,
        "resources": {
            "limits": {"cpu": "400m", "memory": "128Mi"},
            "requests": {"cpu": "100m", "memory": "64Mi"},
        },
        "serviceAccount": {"enabled": True},
    }


def test_later_references_win_and_spec_values_win_over_all() -> None:
    composed = compose(
        {"b": "spec"},
        [ref(name="one"), ref(name="two")],
        **{
            "ConfigMap/one": {"values.yaml": "a: one\nb: one\nc: one\n"},
            "ConfigMap/two": {"values.yaml": "a: two\nb: two\n"},
        },
    )
    assert composed == {"a": "two", "b": "spec", "c": "one"}


@pytest.mark.parametrize(
    ("base", "over", "merged"),
    [
        pytest.param({"m": {"a": 1, "b": 2}}, {"m": {"b": 3}}, {"m": {"a": 1, "b": 3}}, id="maps-merge"),
        pytest.param({"l": [1, 2, 3]}, {"l": [9]}, {"l": [9]}, id="lists-replace"),
        pytest.param({"m": {"a": 1}}, {"m": "flat"}, {"m": "flat"}, id="scalar-replaces-map"),
        pytest.param({"m": "flat"}, {"m": {"a": 1}}, {"m": {"a": 1}}, id="map-replaces-scalar"),
        pytest.param({"m": {"a": 1}}, {"m": None}, {"m": None}, id="null-is-kept-not-deleted"),
    ],
)
def test_merges_as_chartutil_merge_maps(
    base: dict[str, Any], over: dict[str, Any], merged: dict[str, Any]
) -> None:
    assert values.merge_maps(base, over) == merged


def test_spec_values_are_not_modified() -> None:
    spec = {"a": {"b": 1}}
    compose(spec, [ref(target_path="a.c")], **{"ConfigMap/vals": {"values.yaml": "2"}})
    assert spec == {"a": {"b": 1}}


def test_reads_the_values_yaml_key_by_default() -> None:
    composed = compose(None, [ref()], **{"ConfigMap/vals": {"values.yaml": "x: 1", "other": "y: 2"}})
    assert composed == {"x": 1}


def test_reads_each_object_once_per_composition() -> None:
    reader = Objects(**{"ConfigMap/vals": {"a": "a: 1", "b": "b: 2"}})
    values.compose(NS, None, [ref(values_key="a"), ref(values_key="b")], reader)
    assert reader.reads == [("ConfigMap", NS, "vals")]


def test_no_references_and_no_values_compose_to_empty() -> None:
    assert values.compose(NS, None, None, Objects()) == values.Composed({}, ())


# --- missing objects and keys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        pytest.param(
            ref(name="missing"),
            "could not resolve ConfigMap chart values reference 'default/missing' with key "
            "'values.yaml': configmaps \"missing\" not found",
            id="configmap",
        ),
        pytest.param(
            ref("Secret", "missing", values_key="v"),
            "could not resolve Secret chart values reference 'default/missing' with key 'v': "
            'secrets "missing" not found',
            id="secret",
        ),
    ],
)
def test_a_missing_object_fails_with_fluxs_message(reference: meta.ValuesReference, message: str) -> None:
    assert failure(None, [reference]) == message


def test_a_missing_optional_object_is_skipped_and_reported() -> None:
    composed = values.compose(NS, {"a": 1}, [ref(name="missing", optional=True)], Objects())
    assert composed == values.Composed(
        {"a": 1},
        (
            "could not resolve optional ConfigMap chart values reference 'default/missing' with key "
            "'values.yaml': configmaps \"missing\" not found",
        ),
    )


def test_a_missing_key_fails_with_fluxs_message() -> None:
    message = failure(None, [ref(values_key="nope")], **{"ConfigMap/vals": {"values.yaml": ""}})
    assert message == (
        "could not resolve ConfigMap chart values reference 'default/vals' with key 'nope': key not found"
    )


def test_a_missing_optional_key_is_skipped_and_reported() -> None:
    composed = values.compose(
        NS, None, [ref("Secret", values_key="nope", optional=True)], Objects(**{"Secret/vals": {}})
    )
    assert composed.skipped == (
        "could not resolve optional Secret chart values reference 'default/vals' with key 'nope': "
        "key not found",
    )


def test_an_object_found_missing_earlier_fails_a_required_reference_as_resource_not_found() -> None:
    message = failure(None, [ref(name="gone", optional=True), ref(name="gone", values_key="k")])
    assert message == (
        "could not resolve ConfigMap chart values reference 'default/gone' with key 'k': resource not found"
    )


def test_a_reader_raising_not_found_gives_its_message() -> None:
    def read(kind: str, namespace: str, name: str) -> Mapping[str, str | bytes] | None:
        raise errors.NotFound('configmaps "vals" not found (from the reader)')

    with pytest.raises(values.ValuesError) as caught:
        values.compose(NS, None, [ref()], read)
    assert caught.value.message.endswith(': configmaps "vals" not found (from the reader)')


def test_another_api_error_is_the_values_error_message_as_it_is() -> None:
    def read(kind: str, namespace: str, name: str) -> Mapping[str, str | bytes] | None:
        raise errors.Forbidden('configmaps "vals" is forbidden: no access')

    with pytest.raises(values.ValuesError) as caught:
        values.compose(NS, None, [ref()], read)
    assert caught.value.message == 'configmaps "vals" is forbidden: no access'


# --- YAML content --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            "a: [",
            "error converting YAML to JSON: yaml: line 1: did not find expected node content",
            id="yaml",
        ),
        pytest.param(
            "- a",
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value "
            "of type common.Values",
            id="not-a-map",
        ),
    ],
)
def test_unreadable_values_fail_with_helms_words(content: str, reason: str) -> None:
    message = failure(None, [ref()], **{"ConfigMap/vals": {"values.yaml": content}})
    assert message == (
        f"could not resolve ConfigMap chart values reference 'default/vals' with key 'values.yaml': {reason}"
    )


def test_yaml_content_is_read_as_helm_reads_it() -> None:
    composed = compose(None, [ref()], **{"ConfigMap/vals": {"values.yaml": "a: on\nb: 1.0\nd: 2001-12-14\n"}})
    assert composed == {"a": True, "b": 1, "d": "2001-12-14"}


# --- targetPath and literal ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content", "expected"),
    [
        pytest.param("a.b", "3", {"a": {"b": 3}}, id="typed-int"),
        pytest.param("a.b", "true", {"a": {"b": True}}, id="typed-bool"),
        pytest.param("a.b", "007", {"a": {"b": "007"}}, id="leading-zero-stays-string"),
        pytest.param("a.b", "'3'", {"a": {"b": "3"}}, id="single-quoted-string"),
        pytest.param("a.b", '"true"', {"a": {"b": "true"}}, id="double-quoted-string"),
        pytest.param("a", "{x,1}", {"a": ["x", 1]}, id="list"),
        pytest.param("a", "x,b=2", {"a": "x", "b": 2}, id="comma-sets-more"),
        pytest.param("a", "400m\n", {"a": "400m\n"}, id="newline-kept"),
        pytest.param("a\\.b", "1", {"a.b": 1}, id="escaped-dot"),
        pytest.param("a[1].b", "1", {"a": [None, {"b": 1}]}, id="index-then-key"),
    ],
)
def test_target_path_writes_with_helms_set_parser(path: str, content: str, expected: dict[str, Any]) -> None:
    assert compose(None, [ref(target_path=path)], **{"ConfigMap/vals": {"values.yaml": content}}) == expected


def test_target_path_writes_into_an_existing_list_in_place() -> None:
    composed = compose(
        None,
        [ref(name="base"), ref(target_path="l[1]")],
        **{"ConfigMap/base": {"values.yaml": "l: [a, b, c]"}, "ConfigMap/vals": {"values.yaml": "x"}},
    )
    assert composed == {"l": ["a", "x", "c"]}


def test_literal_keeps_the_content_one_verbatim_string() -> None:
    content = "a,b=c {x} [0] \\n true"
    composed = compose(
        None, [ref(target_path="cfg", literal=True)], **{"ConfigMap/vals": {"values.yaml": content}}
    )
    assert composed == {"cfg": content}


def test_literal_keeps_true_a_string() -> None:
    composed = compose(
        None, [ref(target_path="a", literal=True)], **{"ConfigMap/vals": {"values.yaml": "true"}}
    )
    assert composed == {"a": "true"}


@pytest.mark.parametrize(
    ("spec_values", "earlier", "path", "expected"),
    [
        pytest.param(
            {"a": {"b": "spec"}}, None, "a.b", {"a": {"b": "ref"}}, id="nested-map-shared-with-spec-ref-wins"
        ),
        pytest.param({"a": "spec"}, None, "a", {"a": "spec"}, id="top-level-key-spec-wins"),
        pytest.param(
            {"a": {"b": "spec"}},
            "a: {c: 1}",
            "a.b",
            {"a": {"b": "spec", "c": 1}},
            id="map-started-by-an-earlier-reference-spec-wins",
        ),
    ],
)
def test_target_path_survives_spec_values_only_where_go_shares_the_map(
    spec_values: dict[str, Any], earlier: str | None, path: str, expected: dict[str, Any]
) -> None:
    refs_ = [ref(name="earlier")] if earlier is not None else []
    composed = compose(
        spec_values,
        [*refs_, ref(target_path=path)],
        **{"ConfigMap/earlier": {"values.yaml": earlier or ""}, "ConfigMap/vals": {"values.yaml": "ref"}},
    )
    assert composed == expected


@pytest.mark.parametrize(
    ("spec_values", "path", "content", "reason"),
    [
        pytest.param(None, "a", "{x,y", "list must terminate with '}'", id="unterminated-list"),
        pytest.param(
            {"a": "flat"},
            "a.b",
            "1",
            "unable to parse key: interface conversion: interface {} is string, not map[string]interface {}",
            id="key-below-a-string",
        ),
        pytest.param(
            {"a": {"b": 1}},
            "a[0]",
            "1",
            "unable to parse key: interface conversion: interface {} is map[string]interface {}, "
            "not []interface {}",
            id="index-into-a-map",
        ),
        pytest.param(
            None,
            "a[70000]",
            "1",
            "index of 70000 is greater than maximum supported index of 65536",
            id="index-too-big",
        ),
    ],
)
def test_a_set_parser_error_fails_with_helms_words(
    spec_values: dict[str, Any] | None, path: str, content: str, reason: str
) -> None:
    message = failure(spec_values, [ref(target_path=path)], **{"ConfigMap/vals": {"values.yaml": content}})
    assert message == (
        f"could not resolve ConfigMap chart values reference 'default/vals' with key 'values.yaml': {reason}"
    )


# --- the parser against Helm's own -----------------------------------------------------------------

EXPRESSIONS = [
    "a=1",
    "a.b=1,c=two",
    "a=",
    "a",
    "a,b=1",
    "a={1,2}",
    "a={}",
    "a={1,2},b=3",
    "a=null,b=TRUE,c=False,d=0,e=-5,f=+7,g=007,h=1.5,i=9223372036854775808",
    "a\\.b=1",
    "a[x]=1",
    "a[1]=x",
    "a[0]",
    "a[1",
    "a[-1]=1",
    "a[0][1]=x",
    "a[0].b=1,a[0].c=2",
    "a.b[0].c=1",
    "a.=1",
    "a..b=1",
    "a[0]x=1",
    "a=1,,b=2",
    "a={x",
    "=1",
    "a.b=",
    "a[0].b=",
    ".".join("k" * 1 for _ in range(32)) + "=1",
    "name=a\\,b",
    "a=\u00e9t\u00e9",
]


def _helm_parse(expression: str, strings: bool) -> tuple[str, Any]:
    try:
        parsed = (helm.parse_set_string_values if strings else helm.parse_set_string)(expression)
    except helm.HelmValuesError as exc:
        return "error", str(exc)
    return "ok", parsed


def _our_parse(expression: str, strings: bool) -> tuple[str, Any]:
    data: dict[str, Any] = {}
    try:
        values.parse_into(expression, data, strings=strings)
    except values.SetError as exc:
        return "error", str(exc)
    return "ok", data


@pytest.mark.parametrize("strings", [pytest.param(False, id="set"), pytest.param(True, id="set-string")])
@pytest.mark.parametrize("expression", [pytest.param(e, id=e[:40]) for e in EXPRESSIONS])
def test_the_set_parser_agrees_with_helms_on_a_new_map(expression: str, strings: bool) -> None:
    assert _our_parse(expression, strings) == _helm_parse(expression, strings)


# --- the config digest -----------------------------------------------------------------------------

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({}, EMPTY_SHA256, id="empty"),
        pytest.param(None, EMPTY_SHA256, id="nil"),
        pytest.param(
            {
                "replicas": 3,
                "image": {"tag": "latest", "repository": "nginx"},
                "ports": [{"protocol": "TCP", "port": 8080}, {"port": 9090, "protocol": "UDP"}],
            },
            "sha256:fcdc2b0de1581a3633ada4afee3f918f6eaa5b5ab38c3fef03d5b48d3f85d9f6",
            id="value-map",
        ),
        pytest.param(
            {
                "test": {
                    "632bd82398e71231a98004b6": "value4",
                    "632bd817c559818a52307da2": "value3",
                    "632bd80ddf416cf32fd50679": "value2",
                    "632bd80235a05f4192aefade": "value1",
                },
                "replicas": 3,
            },
            "sha256:8a980fcbeadd6f05818f07e8aec14070c22250ca3d96af1fcd5f93b3e85b4d70",
            id="numeric-keys",
        ),
    ],
)
def test_digest_matches_fluxs_test_vectors(given: dict[str, Any] | None, expected: str) -> None:
    assert values.digest(given) == expected


def test_digest_with_sha512_matches_fluxs_test_vector() -> None:
    assert values.digest({"foo": "bar", "baz": {"cool": "stuff"}}, "sha512") == (
        "sha512:b5f9cd4855ca3b08afd602557f373069b1732ce2e6d52341481b0d38f1938452e9d7759ab177c66699962b592f20"
        "ceded03eea3cd405d8670578c47842e2c550"
    )


@pytest.mark.parametrize(
    ("given", "text"),
    [
        pytest.param(
            {"b": 1, "a": {"d": 2, "c": 3}}, "a:\n  c: 3\n  d: 2\nb: 1\n", id="keys-sorted-at-every-depth"
        ),
        pytest.param(
            {"a": "true", "b": True, "c": "1", "d": "", "e": None},
            'a: "true"\nb: true\nc: "1"\nd: ""\ne: null\n',
            id="quotes-what-would-read-back-as-another-type",
        ),
        pytest.param(
            {"a": 2.0, "b": 1.5, "c": 1234567.5, "d": 0.00001},
            "a: 2\nb: 1.5\nc: 1.2345675e+06\nd: 1e-05\n",
            id="floats-as-go",
        ),
        pytest.param({"a": "l1\nl2\n"}, "a: |\n  l1\n  l2\n", id="multi-line-literal"),
        pytest.param({"a": {}, "b": []}, "a: {}\nb: []\n", id="empty-collections"),
        pytest.param({"a": "it's: x"}, "a: 'it''s: x'\n", id="emitter-quotes-syntax"),
        pytest.param({"a": "1:20"}, 'a: "1:20"\n', id="base-60-quoted"),
    ],
)
def test_canonical_yaml_is_go_yaml_v2s(given: dict[str, Any], text: str) -> None:
    assert values.canonical_yaml(given) == text


def test_digest_ignores_key_order() -> None:
    assert values.digest({"a": 1, "b": {"c": 1, "d": 2}}) == values.digest({"b": {"d": 2, "c": 1}, "a": 1})


@pytest.mark.parametrize(
    ("expected", "given", "ok"),
    [
        pytest.param(EMPTY_SHA256, None, True, id="matching"),
        pytest.param(EMPTY_SHA256, {"a": 1}, False, id="other-values"),
        pytest.param("", None, False, id="empty-digest"),
        pytest.param("sha512:invalid", None, False, id="invalid-digest"),
    ],
)
def test_verify_as_chartutil(expected: str, given: dict[str, Any] | None, ok: bool) -> None:
    assert values.verify(expected, given) is ok


# --- values.schema.json ------------------------------------------------------------------------------

SCHEMA = (
    '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", '
    '"required": ["replicaCount"], "properties": {"replicaCount": {"type": "integer", "minimum": 1}}}'
)


@pytest.fixture
def chart(tmp_path: Path) -> Any:
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: podinfo\nversion: 6.5.0\n")
    (tmp_path / "values.yaml").write_text("replicaCount: 1\n")
    (tmp_path / "values.schema.json").write_text(SCHEMA)
    (tmp_path / "templates" / "cm.yaml").write_text("x: {{ .Values.replicaCount }}\n")
    return helm.Chart.load(str(tmp_path))


def test_schema_accepts_values_the_chart_defaults_complete(chart: Any) -> None:
    values.validate_schema(chart, {})


@pytest.mark.parametrize(
    ("given", "problems"),
    [
        pytest.param({"replicaCount": "two"}, "- at '/replicaCount': got string, want integer\n", id="type"),
        pytest.param({"replicaCount": 0}, "- at '/replicaCount': minimum: got 0, want 1\n", id="minimum"),
        pytest.param(
            {"replicaCount": None}, "- at '': missing property 'replicaCount'\n", id="null-removes-default"
        ),
    ],
)
def test_schema_violation_fails_with_helms_message(chart: Any, given: dict[str, Any], problems: str) -> None:
    with pytest.raises(values.SchemaError) as caught:
        values.validate_schema(chart, given)
    assert caught.value.message == (
        "values don't meet the specifications of the schema(s) in the following chart(s):\npodinfo:\n"
        + problems
    )


# --- a cluster as the reader -----------------------------------------------------------------------------


class Cluster:
    def __init__(self, **objects: dict[str, Any]) -> None:
        self.objects = objects

    def get(self, ref: refs.ObjectRef) -> dict[str, Any]:
        found = self.objects.get(f"{ref.kind}/{ref.namespace}/{ref.name}")
        if found is None:
            raise errors.NotFound(f'{ref.kind.lower()}s "{ref.name}" not found')
        return found


def test_cluster_reader_decodes_secret_data_and_reports_missing_objects() -> None:
    read = values.cluster_reader(
        Cluster(
            **{
                "Secret/default/s": {"data": {"values.yaml": "YTogMQ=="}},
                "ConfigMap/default/c": {"data": {"values.yaml": "b: 2"}},
            }
        )
    )
    assert (read("Secret", NS, "s"), read("ConfigMap", NS, "c"), read("ConfigMap", NS, "x")) == (
        {"values.yaml": b"a: 1"},
        {"values.yaml": "b: 2"},
        None,
    )
