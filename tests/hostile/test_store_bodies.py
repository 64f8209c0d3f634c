"""Hostile and malformed bodies given straight to MemoryCluster: refused as the kube-apiserver
refuses them, whole, and the store keeps only objects it can serve back."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_sim.cluster import errors
from gitops_sim.cluster.memory import store
from gitops_sim.model import refs, yamlsafe
from tests.builders import memory_cluster, widget_crd

CM = refs.ObjectRef("", "ConfigMap", "default", "c")
CM_KIND = refs.GroupKind("", "ConfigMap")
SECRET = refs.ObjectRef("", "Secret", "default", "s")
REJECTED = "the server rejected our request due to an error in our request"
# How many examples: bounded by default, more when GITOPS_SIM_FUZZ_EXAMPLES asks (tests may read it).
EXAMPLES = int(os.environ.get("GITOPS_SIM_FUZZ_EXAMPLES", "50"))  # noqa: TID251


@pytest.fixture
def cluster() -> store.MemoryCluster:
    cluster = memory_cluster()
    cluster.create(configmap(), field_manager="t")
    return cluster


def configmap(**meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default", **meta},
        "data": {"k": "v"},
    }


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, **fields}


def refused(cluster: store.MemoryCluster, write: Any) -> errors.ApiError:
    """Run `write`, which must fail, and check it changed nothing."""
    before = cluster.resource_version
    listed = cluster.list(CM_KIND)
    with pytest.raises(errors.ApiError) as caught:
        write()
    assert cluster.resource_version == before
    assert cluster.list(CM_KIND) == listed
    return caught.value


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- patches that would unname, rename, re-kind or re-own an object -------------------------------


def test_a_merge_patch_of_null_metadata_is_refused_as_a_name_mismatch(cluster: store.MemoryCluster) -> None:
    error = refused(cluster, lambda: cluster.merge_patch(CM, {"metadata": None}, field_manager="t"))
    assert isinstance(error, errors.BadRequest)
    assert error.message == "the name of the object () does not match the name on the URL (c)"
    assert [o["metadata"]["name"] for o in cluster.list(CM_KIND)] == ["c"]


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param(lambda c: c.merge_patch(CM, {"metadata": {"name": "d"}}, field_manager="t"), id="merge"),
        pytest.param(
            lambda c: c.json_patch(
                CM, [{"op": "replace", "path": "/metadata/name", "value": "d"}], field_manager="t"
            ),
            id="json",
        ),
        pytest.param(
            lambda c: c.strategic_merge_patch(CM, {"metadata": {"name": "d"}}, field_manager="t"),
            id="strategic",
        ),
    ],
)
def test_a_patch_that_renames_the_object_is_a_bad_request(cluster: store.MemoryCluster, patch: Any) -> None:
    error = refused(cluster, lambda: patch(cluster))
    assert (error.code, error.message) == (
        400,
        "the name of the object (d) does not match the name on the URL (c)",
    )


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param(lambda c: c.merge_patch(CM, {"kind": "Secret"}, field_manager="t"), id="merge"),
        pytest.param(
            lambda c: c.json_patch(
                CM, [{"op": "replace", "path": "/kind", "value": "Secret"}], field_manager="t"
            ),
            id="json",
        ),
        pytest.param(
            lambda c: c.strategic_merge_patch(CM, {"kind": "Secret"}, field_manager="t"), id="strategic"
        ),
    ],
)
def test_a_patch_that_changes_the_kind_is_invalid(cluster: store.MemoryCluster, patch: Any) -> None:
    error = refused(cluster, lambda: patch(cluster))
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message == 'ConfigMap "c" is invalid: kind: Invalid value: "Secret": must be ConfigMap'


def test_a_patch_that_changes_the_api_version_is_invalid(cluster: store.MemoryCluster) -> None:
    error = refused(cluster, lambda: cluster.merge_patch(CM, {"apiVersion": "v2"}, field_manager="t"))
    assert error.message == 'ConfigMap "c" is invalid: apiVersion: Invalid value: "v2": must be v1'


def test_a_json_patch_removing_kind_and_api_version_leaves_them_as_they_were(
    cluster: store.MemoryCluster,
) -> None:
    out = cluster.json_patch(
        CM, [{"op": "remove", "path": "/kind"}, {"op": "remove", "path": "/apiVersion"}], field_manager="t"
    )
    assert (out["apiVersion"], out["kind"]) == ("v1", "ConfigMap")


def test_a_patch_that_moves_the_object_to_another_namespace_is_a_bad_request(
    cluster: store.MemoryCluster,
) -> None:
    error = refused(
        cluster, lambda: cluster.merge_patch(CM, {"metadata": {"namespace": "other"}}, field_manager="t")
    )
    assert (error.code, error.message) == (
        400,
        "the namespace of the provided object does not match the namespace sent on the request",
    )


def test_a_patch_that_changes_the_uid_is_invalid_as_immutable(cluster: store.MemoryCluster) -> None:
    error = refused(
        cluster, lambda: cluster.merge_patch(CM, {"metadata": {"uid": "other"}}, field_manager="t")
    )
    assert (error.code, error.message) == (
        422,
        'ConfigMap "c" is invalid: metadata.uid: Invalid value: "other": field is immutable',
    )


def test_an_update_that_changes_the_uid_is_invalid_as_immutable(cluster: store.MemoryCluster) -> None:
    live = cluster.get(CM)
    live["metadata"]["uid"] = "other"
    error = refused(cluster, lambda: cluster.update(live, field_manager="t"))
    assert (
        error.message == 'ConfigMap "c" is invalid: metadata.uid: Invalid value: "other": field is immutable'
    )


# -- values of the wrong type: Go's decoding errors -------------------------------------------------


def test_a_numeric_name_on_create_is_a_decoding_bad_request() -> None:
    cluster = memory_cluster()
    error = refused(cluster, lambda: cluster.create(configmap(name=123), field_manager="t"))
    assert (error.code, error.message) == (
        400,
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go '
        "struct field ObjectMeta.metadata.name of type string",
    )


@pytest.mark.parametrize(
    ("meta", "problem"),
    [
        pytest.param(
            {"labels": ["a"]},
            "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels "
            "of type map[string]string",
            id="labels-list",
        ),
        pytest.param(
            {"annotations": {"a": 1}},
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.annotations "
            "of type string",
            id="annotation-number",
        ),
        pytest.param(
            {"finalizers": "x"},
            "json: cannot unmarshal string into Go struct field ObjectMeta.metadata.finalizers "
            "of type []string",
            id="finalizers-string",
        ),
        pytest.param(
            {"ownerReferences": [{"uid": 5}]},
            "json: cannot unmarshal number into Go struct field OwnerReference.metadata.ownerReferences.uid "
            "of type string",
            id="owner-uid-number",
        ),
    ],
)
def test_metadata_of_the_wrong_type_is_refused_on_update(
    cluster: store.MemoryCluster, meta: dict[str, Any], problem: str
) -> None:
    error = refused(cluster, lambda: cluster.update(configmap(**meta), field_manager="t"))
    assert error.message == f'ConfigMap in version "v1" cannot be handled as a ConfigMap: {problem}'


def test_metadata_that_is_not_a_map_is_refused_on_create() -> None:
    cluster = memory_cluster()
    body = {**configmap(), "metadata": "c"}
    error = refused(cluster, lambda: cluster.create(body, field_manager="t"))
    assert error.message.endswith(
        "json: cannot unmarshal string into Go struct field ConfigMap.metadata of type v1.ObjectMeta"
    )


def test_a_patch_giving_a_label_a_number_is_invalid_about_the_patch(cluster: store.MemoryCluster) -> None:
    error = refused(
        cluster, lambda: cluster.merge_patch(CM, {"metadata": {"labels": {"a": 1}}}, field_manager="t")
    )
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message.startswith(' "" is invalid: patch: Invalid value: "{')
    assert error.message.endswith(
        ": json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"
    )


def test_a_patch_replacing_metadata_with_a_string_is_invalid_about_the_patch(
    cluster: store.MemoryCluster,
) -> None:
    error = refused(
        cluster,
        lambda: cluster.json_patch(
            CM, [{"op": "replace", "path": "/metadata", "value": "x"}], field_manager="t"
        ),
    )
    assert error.code == 422
    assert error.message.endswith("Go struct field ConfigMap.metadata of type v1.ObjectMeta")


def test_garbage_managed_fields_in_a_patch_leave_ownership_as_it_was(cluster: store.MemoryCluster) -> None:
    before = cluster.get(CM)["metadata"]["managedFields"]
    out = cluster.json_patch(
        CM,
        [
            {
                "op": "replace",
                "path": "/metadata/managedFields",
                "value": [{"manager": "x", "operation": "Steal"}],
            },
            {"op": "add", "path": "/data/n", "value": "1"},
        ],
        field_manager="t",
    )
    assert [(m["manager"], m["operation"]) for m in out["metadata"]["managedFields"]] == [
        (m["manager"], m["operation"]) for m in before
    ]


# -- malformed JSON patches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        pytest.param(
            [1, 2, 3],
            "error decoding patch: json: cannot unmarshal number into Go value of type handlers.jsonPatchOp",
            id="numbers",
        ),
        pytest.param(
            {"op": "add"},
            "error decoding patch: json: cannot unmarshal object into Go value of type "
            "[]handlers.jsonPatchOp",
            id="not-a-list",
        ),
        pytest.param(
            [{"op": 1, "path": "/a"}],
            "error decoding patch: json: cannot unmarshal number into Go struct field "
            "jsonPatchOp.op of type string",
            id="numeric-op",
        ),
    ],
)
def test_a_json_patch_that_does_not_decode_is_a_bad_request(
    cluster: store.MemoryCluster, ops: Any, message: str
) -> None:
    error = refused(cluster, lambda: cluster.json_patch(CM, ops, field_manager="t"))
    assert (error.code, error.message) == (400, message)


def test_a_json_patch_of_numbers_with_field_validation_ignore_names_the_library_type(
    cluster: store.MemoryCluster,
) -> None:
    ops: Any = [1]
    error = refused(
        cluster, lambda: cluster.json_patch(CM, ops, field_manager="t", field_validation="Ignore")
    )
    assert error.message == "json: cannot unmarshal number into Go value of type jsonpatch.Operation"


@pytest.mark.parametrize(
    "ops",
    [
        pytest.param([{"path": "/data/k"}], id="no-op"),
        pytest.param([{"op": "remove"}], id="no-path"),
        pytest.param([{"op": "add", "path": "", "value": {}}], id="empty-path"),
        pytest.param([{"op": "frobnicate", "path": "/data"}], id="unknown-op"),
        pytest.param([{"op": "add", "path": "/nope/deeper/x", "value": 1}], id="missing-parent"),
        pytest.param([{"op": "add", "path": "/data/k/x", "value": 1}], id="through-a-scalar"),
        pytest.param(
            [
                {"op": "add", "path": "/metadata/finalizers", "value": []},
                {"op": "add", "path": "/metadata/finalizers/x", "value": "a"},
            ],
            id="non-numeric-index",
        ),
        pytest.param(
            [
                {"op": "add", "path": "/metadata/finalizers", "value": []},
                {"op": "add", "path": "/metadata/finalizers/99999999999999999999999", "value": "a"},
            ],
            id="huge-index",
        ),
        pytest.param(
            [
                {"op": "add", "path": "/metadata/finalizers", "value": []},
                {"op": "remove", "path": "/metadata/finalizers/0"},
            ],
            id="index-past-the-end",
        ),
        pytest.param([{"op": "move", "from": "/data/missing", "path": "/data/x"}], id="move-from-missing"),
        pytest.param([{"op": "copy", "path": "/data/x"}], id="copy-without-from"),
        pytest.param([{"op": "test", "path": "/data/k"}], id="test-without-value"),
        pytest.param([None], id="null-op"),
    ],
)
def test_a_json_patch_that_does_not_apply_is_invalid_with_the_servers_message(
    cluster: store.MemoryCluster, ops: Any
) -> None:
    error = refused(cluster, lambda: cluster.json_patch(CM, ops, field_manager="t"))
    assert (error.code, error.reason, error.message) == (422, "Invalid", REJECTED)


def test_a_json_patch_with_too_many_operations_is_too_large(cluster: store.MemoryCluster) -> None:
    ops = [{"op": "test", "path": "/data/k", "value": "v"}] * 10_001
    error = refused(cluster, lambda: cluster.json_patch(CM, ops, field_manager="t"))
    assert (error.code, error.message) == (
        413,
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001",
    )


def test_a_json_patch_index_may_count_from_the_end(cluster: store.MemoryCluster) -> None:
    out = cluster.json_patch(
        CM,
        [
            {"op": "add", "path": "/metadata/finalizers", "value": ["a/x", "b/y"]},
            {"op": "remove", "path": "/metadata/finalizers/-1"},
        ],
        field_manager="t",
    )
    assert out["metadata"]["finalizers"] == ["a/x"]


def test_a_merge_patch_that_is_not_a_map_is_a_bad_request(cluster: store.MemoryCluster) -> None:
    error = refused(cluster, lambda: cluster.merge_patch(CM, [1], field_manager="t"))  # type: ignore[arg-type]
    assert error.message == (
        "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.one_of(
            st.none(),
            st.integers(),
            st.dictionaries(
                st.sampled_from(["op", "path", "from", "value"]),
                st.one_of(
                    st.sampled_from(
                        ["add", "remove", "replace", "move", "copy", "test", "/", "", "/data", "/data/k"]
                    ),
                    st.sampled_from(
                        ["/metadata/labels/a", "/data/-", "/metadata/finalizers/0", "a/b", "/~2"]
                    ),
                    st.integers(),
                    st.none(),
                    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
                ),
            ),
        ),
        max_size=5,
    )
)
def test_any_json_patch_either_applies_or_fails_as_an_api_error(ops: Any) -> None:
    cluster = memory_cluster()
    cluster.create(configmap(), field_manager="t")
    before = cluster.list(CM_KIND)
    try:
        out = cluster.json_patch(CM, ops, field_manager="t")
    except errors.ApiError:
        assert cluster.list(CM_KIND) == before
        return
    assert cluster.get(CM) == out
    assert out["metadata"]["name"] == "c" and out["kind"] == "ConfigMap"


# -- Secrets --------------------------------------------------------------------------------------


def test_secret_string_data_is_merged_into_data_on_create_and_never_stored() -> None:
    cluster = memory_cluster()
    out = cluster.create(
        secret(data={"a": b64("1"), "b": b64("2")}, stringData={"b": "two"}), field_manager="t"
    )
    assert out["data"] == {"a": b64("1"), "b": b64("two")}
    assert "stringData" not in out
    assert "stringData" not in cluster.get(SECRET)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda c: c.update(secret(stringData={"b": "two"}), field_manager="t"), id="update"),
        pytest.param(lambda c: c.apply(secret(stringData={"b": "two"}), field_manager="t"), id="apply"),
        pytest.param(
            lambda c: c.merge_patch(SECRET, {"stringData": {"b": "two"}}, field_manager="t"), id="merge"
        ),
        pytest.param(
            lambda c: c.strategic_merge_patch(SECRET, {"stringData": {"b": "two"}}, field_manager="t"),
            id="strategic",
        ),
        pytest.param(
            lambda c: c.json_patch(
                SECRET, [{"op": "add", "path": "/stringData", "value": {"b": "two"}}], field_manager="t"
            ),
            id="json",
        ),
    ],
)
def test_secret_string_data_is_merged_into_data_on_every_write(write: Any) -> None:
    cluster = memory_cluster()
    cluster.create(secret(data={"a": b64("1")}), field_manager="t")
    out = write(cluster)
    assert "stringData" not in out
    assert out["data"]["b"] == b64("two")
    assert "stringData" not in cluster.get(SECRET)


@pytest.mark.parametrize(
    ("value", "offset"),
    [("YWJj!", 4), ("abc", 0), ("YQ=x", 2), ("YWJj\nZGVm", None), ("YQ==YQ==", 4), ("=AAA", 0)],
)
def test_secret_data_must_be_base64_as_go_decodes_it(value: str, offset: int | None) -> None:
    cluster = memory_cluster()
    if offset is None:
        assert cluster.create(secret(data={"a": value}), field_manager="t")["data"] == {"a": b64("abcdef")}
        return
    with pytest.raises(errors.BadRequest) as caught:
        cluster.create(secret(data={"a": value}), field_manager="t")
    assert caught.value.message == (
        f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte {offset}'
    )


def test_secret_data_over_a_mebibyte_is_too_long() -> None:
    cluster = memory_cluster()
    with pytest.raises(errors.Invalid) as caught:
        cluster.create(secret(stringData={"a": "x" * 1_048_577}), field_manager="t")
    assert caught.value.message == 'Secret "s" is invalid: data: Too long: must have at most 1048576 bytes'


def test_a_configmap_patched_over_a_mebibyte_is_too_long_and_unchanged(cluster: store.MemoryCluster) -> None:
    error = refused(
        cluster, lambda: cluster.merge_patch(CM, {"data": {"big": "x" * 1_048_576}}, field_manager="t")
    )
    assert error.message == 'ConfigMap "c" is invalid: []: Too long: must have at most 1048576 bytes'


# -- depth ----------------------------------------------------------------------------------------


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"n": value}
    return value


@pytest.fixture
def widgets() -> store.MemoryCluster:
    cluster = memory_cluster()
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    cluster.create(widget_crd(schema={"openAPIV3Schema": schema}), field_manager="t")
    return cluster


def widget(spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": spec,
    }


def test_an_object_at_the_depth_limit_is_stored_patched_and_applied(widgets: store.MemoryCluster) -> None:
    spec = nested(yamlsafe.MAX_DEPTH - 2)  # the object's own level, the chain, the leaf
    assert yamlsafe.depth(widget(spec)) == yamlsafe.MAX_DEPTH
    ref = refs.ObjectRef("example.com", "Widget", "default", "w")
    widgets.create(widget(spec), field_manager="a")
    widgets.merge_patch(ref, {"spec": {"n": {"m": "x"}}}, field_manager="b")
    widgets.json_patch(
        ref,
        [{"op": "add", "path": "/spec/other", "value": nested(yamlsafe.MAX_DEPTH - 3)}],
        field_manager="d",
    )
    out = widgets.apply(widget(nested(yamlsafe.MAX_DEPTH - 3)), field_manager="c", force=True)
    assert yamlsafe.depth(out["spec"]) == yamlsafe.MAX_DEPTH - 1


def test_an_object_past_the_depth_limit_is_refused_before_it_is_walked(widgets: store.MemoryCluster) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        widgets.create(widget(nested(5000)), field_manager="a")
    assert caught.value.message == (
        'Widget in version "v1" cannot be handled as a Widget: the object nests deeper than 100 levels'
    )


def test_a_patch_past_the_depth_limit_is_refused(cluster: store.MemoryCluster) -> None:
    error = refused(cluster, lambda: cluster.merge_patch(CM, nested(5000), field_manager="t"))
    assert (error.code, error.message) == (
        400,
        "error decoding patch: the patch nests deeper than 100 levels",
    )


@given(st.binary(max_size=64), st.integers(0, 3), st.sampled_from(["", "!", "=", "==", "A"]))
def test_base64_checked_in_c_agrees_with_gos_rules_checked_byte_by_byte(
    data: bytes, cut: int, tail: str
) -> None:
    from gitops_sim.cluster.memory import bodies

    text = base64.b64encode(data).decode()
    text = (text[: len(text) - cut] if cut else text) + tail
    # A line break is skipped by Go's decoder but refused by Python's strict one: the same text
    # after one is judged byte by byte, its offsets one further on.
    byte_by_byte = bodies.base64_error("\n" + text)
    assert bodies.base64_error(text) == (None if byte_by_byte is None else byte_by_byte - 1)
