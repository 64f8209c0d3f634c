"""Receivers' webhook checks: paths, tokens, each type's signature and event rules, the answers'
status codes, the resources a webhook reconciles and the annotation it writes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from gitops_sim.model.fluxapi import meta
from gitops_sim.model.fluxapi import notification as api
from gitops_sim.notification import receivers

TOKEN = "s3cr3t-t0ken"
NAME, NAMESPACE = "hook", "flux-system"
PATH = receivers.webhook_path(TOKEN, NAME, NAMESPACE)
SECRET = {"token": TOKEN.encode()}
JSON = {"Content-Type": "application/json"}
GIT = (api.ReceiverResource(kind="GitRepository", name="app"),)


def spec(kind: str, *, events: tuple[str, ...] = (), suspend: bool = False, **extra: Any) -> api.ReceiverSpec:
    fields: dict[str, Any] = {"type": kind, "events": events, "suspend": suspend, "resources": GIT}
    if kind != "generic-oidc":
        fields["secret_ref"] = meta.LocalObjectReference(name="webhook-token")
    return api.ReceiverSpec(**(fields | extra))


def sign(algorithm: str, body: bytes, key: str = TOKEN) -> str:
    return f"{algorithm}={hmac.new(key.encode(), body, getattr(hashlib, algorithm)).hexdigest()}"


def answer(
    kind: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"{}",
    *,
    events: tuple[str, ...] = (),
    secret: Mapping[str, bytes] | None = SECRET,
    path: str = PATH,
    method: str = "POST",
    ready: bool = True,
    suspend: bool = False,
) -> receivers.Outcome:
    request = receivers.Request.of(method, path, headers, body)
    found = receivers.Found(NAMESPACE, NAME, PATH, ready)
    return receivers.validate(
        kind, spec(kind, events=events, suspend=suspend), secret, request, receiver=found
    )


# ---------------------------------------------------------------------------------------------
# The path, the token, the Receiver's status


def test_the_webhook_path_is_the_sha256_of_token_name_and_namespace() -> None:
    # printf '%s' 'tokennamens' | sha256sum
    expected = "/hook/9f3f1bb97bc2396f3fa58dc72a9c08a57c02e524af1250535429cdb90db6028e"
    assert receivers.webhook_path("token", "name", "ns") == expected


def test_the_ready_message_names_the_path() -> None:
    assert receivers.ready_message("/hook/abc") == "Receiver initialized for path: /hook/abc"


def test_the_token_is_read_from_the_secrets_token_key() -> None:
    assert receivers.token_of({"token": b"abc", "other": b"x"}, "ns", "s") == "abc"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            None, "unable to read token from secret 'ns/s' error: secrets \"s\" not found", id="no-secret"
        ),
        pytest.param({"tok": b"x"}, "invalid 'ns/s' secret data: required fields 'token'", id="no-key"),
    ],
)
def test_a_missing_token_is_token_not_found_with_the_reconcilers_words(
    data: Mapping[str, bytes] | None, message: str
) -> None:
    with pytest.raises(receivers.TokenNotFound) as caught:
        receivers.token_of(data, "ns", "s")
    assert str(caught.value) == message
    assert caught.value.reason == "TokenNotFound"


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        pytest.param(
            {"resource_filter": "res.metadata.name == "},
            "InvalidCELExpression",
            "invalid resourceFilter expression: failed to parse the CEL expression",
            id="resource-filter",
        ),
        pytest.param(
            {"resources": (api.ReceiverResource(kind="Bucket", name="b", filter="(("),)},
            "InvalidCELExpression",
            'invalid filter expression for resources[0] (kind="Bucket", name="b"): failed to parse',
            id="resource-filter-per-entry",
        ),
        pytest.param(
            {"secret_ref": None},
            "ValidationFailed",
            "secretRef is required when type is not generic-oidc",
            id="secret",
        ),
    ],
)
def test_a_bad_spec_is_a_terminal_configuration_error(
    changes: dict[str, Any], reason: str, message: str
) -> None:
    problem = receivers.check_spec(spec("github", **changes))
    assert problem is not None
    assert problem.reason == reason
    assert problem.message.startswith(f"{receivers.TERMINAL_PREFIX}: {message}")


def test_a_good_spec_has_no_problem() -> None:
    assert receivers.check_spec(spec("github", resource_filter="req.ref == 'refs/heads/main'")) is None


def test_generic_oidc_is_refused_at_reconcile_as_not_simulated() -> None:
    provider = api.OIDCProvider(
        issuer_url="https://issuer.example.com",
        validations=(api.OIDCValidation(expression="true", message="no"),),
    )
    problem = receivers.check_spec(spec("generic-oidc", oidc_providers=(provider,)))
    assert problem is not None
    assert "not simulated" in problem.message


# ---------------------------------------------------------------------------------------------
# The server's answers before the type's check


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/other", 404, id="outside-hook"),
        pytest.param("/hook", 301, id="hook-without-slash"),
        pytest.param("/hook/0000", 404, id="unknown-digest"),
        pytest.param(PATH + "?x=1", 404, id="query-is-part-of-the-lookup"),
    ],
)
def test_a_request_off_the_receivers_path_is_not_found(path: str, status: int) -> None:
    assert answer("generic", path=path).status == status


def test_any_method_is_handled_like_post() -> None:
    assert answer("generic", method="GET").status == 200


@pytest.mark.parametrize(
    ("size", "status"),
    [
        pytest.param(receivers.MAX_REQUEST_SIZE_BYTES, 200, id="at-the-limit"),
        pytest.param(receivers.MAX_REQUEST_SIZE_BYTES + 1, 413, id="over-the-limit"),
    ],
)
def test_a_body_over_3_mib_is_too_large(size: int, status: int) -> None:
    outcome = answer("generic", body=b" " * size)
    assert outcome.status == status
    if status == 413:
        assert outcome.error == "request body exceeds the maximum size of 3145728 bytes"


def test_the_body_limit_is_checked_before_the_receiver_is_looked_up() -> None:
    assert answer("generic", path="/hook/none", body=b"x" * (3 * 1024 * 1024 + 1)).status == 413


@pytest.mark.parametrize(
    ("ready", "suspend", "log"),
    [
        pytest.param(False, False, "receiver is not ready", id="not-ready"),
        pytest.param(True, True, "receiver is suspended", id="suspended"),
    ],
)
def test_a_suspended_or_unready_receiver_is_unavailable(ready: bool, suspend: bool, log: str) -> None:
    outcome = answer("generic", ready=ready, suspend=suspend)
    assert (outcome.status, outcome.log, outcome.error) == (503, log, "unable to process request")


@pytest.mark.parametrize(
    ("secret", "error"),
    [
        pytest.param(
            None,
            'unable to read secret, error: unable to read secret "flux-system/webhook-token": '
            'secrets "webhook-token" not found',
            id="no-secret",
        ),
        pytest.param(
            {"x": b"y"},
            "invalid \"flux-system/webhook-token\" secret data: required field 'token'",
            id="no-token",
        ),
    ],
)
def test_a_missing_secret_or_token_at_request_time_is_a_bad_request(
    secret: Mapping[str, bytes] | None, error: str
) -> None:
    outcome = answer("generic", secret=secret)
    assert (outcome.status, outcome.error) == (400, error)


def test_an_unknown_type_is_refused_with_fluxs_words() -> None:
    request = receivers.Request.of("POST", PATH, JSON, b"{}")
    found = receivers.Found(NAMESPACE, NAME, PATH, True)
    outcome = receivers.validate("gitea", spec("generic"), SECRET, request, receiver=found)
    assert (outcome.status, outcome.error) == (400, 'recevier type "gitea" not supported')


# ---------------------------------------------------------------------------------------------
# generic and generic-hmac


def test_generic_accepts_anything_at_its_path() -> None:
    assert answer("generic", body=b"not json").accepted


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_generic_hmac_accepts_each_algorithm_go_github_knows(algorithm: str) -> None:
    body = b'{"ref":"main"}'
    assert answer("generic-hmac", {"X-Signature": sign(algorithm, body)}, body).accepted


@pytest.mark.parametrize(
    ("signature", "error"),
    [
        pytest.param(None, "missing signature", id="missing"),
        pytest.param("abcdef", 'error parsing signature "abcdef"', id="no-prefix"),
        pytest.param("md5=abcd", 'unknown hash type prefix: "md5"', id="md5"),
        pytest.param(
            "sha256=xyz",
            "error decoding signature \"sha256=xyz\": encoding/hex: invalid byte: U+0078 'x'",
            id="hex",
        ),
        pytest.param(
            "sha256=abc",
            'error decoding signature "sha256=abc": encoding/hex: odd length hex string',
            id="odd",
        ),
        pytest.param(sign("sha256", b"{}", key="other"), "payload signature check failed", id="wrong-key"),
        pytest.param(sign("sha256", b"{ }"), "payload signature check failed", id="other-body"),
    ],
)
def test_generic_hmac_refuses_a_bad_signature(signature: str | None, error: str) -> None:
    headers = {} if signature is None else {"X-Signature": signature}
    outcome = answer("generic-hmac", headers, b"{}")
    assert (outcome.status, outcome.log) == (400, "unable to validate payload")
    assert outcome.error == f"unable to validate HMAC signature: {error}"


def test_a_token_sent_as_the_signature_is_masked_in_the_error() -> None:
    outcome = answer("generic-hmac", {"X-Signature": f"sha256={TOKEN}"})
    assert TOKEN not in outcome.error
    assert outcome.error == 'unable to validate HMAC signature: error decoding signature "sha256=*****": ' + (
        "encoding/hex: invalid byte: U+0073 's'"
    )


# ---------------------------------------------------------------------------------------------
# github and bitbucket


@pytest.mark.parametrize("header", ["X-Hub-Signature-256", "X-Hub-Signature"])
def test_github_accepts_either_signature_header(header: str) -> None:
    body = b'{"ref":"refs/heads/main"}'
    algorithm = "sha256" if header.endswith("256") else "sha1"
    headers = JSON | {header: sign(algorithm, body), "X-GitHub-Event": "push"}
    outcome = answer("github", headers, body)
    assert (outcome.status, outcome.event, outcome.log) == (200, "push", "handling GitHub event: push")


def test_github_prefers_the_sha256_header_over_the_sha1_one() -> None:
    body = b"{}"
    headers = JSON | {"X-Hub-Signature-256": "sha256=00", "X-Hub-Signature": sign("sha1", body)}
    assert answer("github", headers, body).error.endswith("payload signature check failed")


def test_github_reads_headers_case_insensitively() -> None:
    body = b"{}"
    headers = {
        "content-type": "application/json",
        "x-hub-signature-256": sign("sha256", body),
        "x-github-event": "PUSH",
    }
    assert answer("github", headers, body, events=("push",)).accepted


@pytest.mark.parametrize(
    ("events", "event", "accepted"),
    [
        pytest.param((), "issues", True, id="no-filter-accepts-all"),
        pytest.param(("push",), "Push", True, id="case-insensitive"),
        pytest.param(("push",), "issues", False, id="not-listed"),
        pytest.param(("push",), "ping", False, id="ping-not-listed"),
        pytest.param(("ping", "push"), "ping", True, id="ping-listed"),
    ],
)
def test_github_events_are_matched_against_spec_events(
    events: tuple[str, ...], event: str, accepted: bool
) -> None:
    body = b"{}"
    headers = JSON | {"X-Hub-Signature-256": sign("sha256", body), "X-GitHub-Event": event}
    outcome = answer("github", headers, body, events=events)
    assert outcome.accepted is accepted
    if not accepted:
        assert (outcome.status, outcome.error) == (400, f'the GitHub event "{event}" is not authorised')


@pytest.mark.parametrize(
    ("content_type", "error"),
    [
        pytest.param(None, "mime: no media type", id="missing"),
        pytest.param("text/plain", 'webhook request has unsupported Content-Type "text/plain"', id="text"),
        pytest.param("application/", "mime: expected token after slash", id="malformed"),
    ],
)
def test_github_refuses_a_body_that_is_neither_json_nor_a_form(content_type: str | None, error: str) -> None:
    body = b"{}"
    headers = {"X-Hub-Signature-256": sign("sha256", body)}
    if content_type:
        headers["Content-Type"] = content_type
    outcome = answer("github", headers, body)
    assert (outcome.status, outcome.error) == (400, f"the GitHub signature header is invalid, err: {error}")


def test_github_accepts_a_form_encoded_payload_signed_as_sent() -> None:
    body = b"payload=%7B%7D"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Hub-Signature": sign("sha1", body)}
    assert answer("github", headers, body).accepted


def test_bitbucket_checks_the_signature_and_matches_x_event_key() -> None:
    body = b"{}"
    headers = JSON | {"X-Hub-Signature": sign("sha256", body), "X-Event-Key": "repo:refs_changed"}
    assert answer("bitbucket", headers, body, events=("repo:refs_changed",)).event == "repo:refs_changed"
    refused = answer("bitbucket", headers, body, events=("pr:opened",))
    assert refused.error == 'the Bitbucket server event "repo:refs_changed" is not authorised'
    unsigned = answer("bitbucket", JSON, body)
    assert unsigned.error == "the Bitbucket server signature header is invalid, err: missing signature"


# ---------------------------------------------------------------------------------------------
# Token headers: gitlab, harbor


@pytest.mark.parametrize(
    ("headers", "events", "status", "error"),
    [
        pytest.param({"X-Gitlab-Token": TOKEN, "X-Gitlab-Event": "Push Hook"}, (), 200, "", id="ok"),
        pytest.param(
            {"X-Gitlab-Token": "nope", "X-Gitlab-Event": "Push Hook"},
            (),
            400,
            "the X-Gitlab-Token header value does not match the receiver token",
            id="wrong-token",
        ),
        pytest.param(
            {"X-Gitlab-Token": TOKEN, "X-Gitlab-Event": "Tag Push Hook"},
            ("push hook",),
            400,
            'the GitLab event "Tag Push Hook" is not authorised',
            id="event",
        ),
    ],
)
def test_gitlab_compares_the_token_header_and_filters_events(
    headers: dict[str, str], events: tuple[str, ...], status: int, error: str
) -> None:
    outcome = answer("gitlab", headers, events=events)
    assert (outcome.status, outcome.error) == (status, error)


@pytest.mark.parametrize(("authorization", "status"), [(TOKEN, 200), ("Bearer " + TOKEN, 400), ("", 400)])
def test_harbor_compares_the_authorization_header_with_the_token(authorization: str, status: int) -> None:
    outcome = answer("harbor", {"Authorization": authorization})
    assert outcome.status == status
    assert TOKEN not in outcome.error


# ---------------------------------------------------------------------------------------------
# Payload types: dockerhub, quay, acr, nexus, gcr, cdevents


@pytest.mark.parametrize(
    ("kind", "body", "error"),
    [
        pytest.param(
            "dockerhub", b'{"push_data":{"tag":"1.0"},"repository":{"repo_url":"u"}}', "", id="dockerhub"
        ),
        pytest.param("dockerhub", b"nope", "cannot decode DockerHub webhook payload", id="dockerhub-bad"),
        pytest.param(
            "dockerhub",
            b'{"push_data":"1.0"}',
            "cannot decode DockerHub webhook payload",
            id="dockerhub-type",
        ),
        pytest.param("quay", b'{"docker_url":"quay.io/a/b","updated_tags":["1"]}', "", id="quay"),
        pytest.param(
            "quay",
            b'{"docker_url":"quay.io/a/b","updated_tags":"1"}',
            "cannot decode Quay webhook payload: json: cannot unmarshal string into Go struct field "
            "payload.updated_tags of type []string",
            id="quay-type",
        ),
        pytest.param("quay", b"", "cannot decode Quay webhook payload: EOF", id="quay-empty"),
        pytest.param(
            "acr", b'{"action":"push","target":{"repository":"r","tag":"t"}} trailing', "", id="acr"
        ),
        pytest.param(
            "acr",
            b'{"action":"push",',
            "cannot decode ACR webhook payload: unexpected EOF",
            id="acr-truncated",
        ),
        pytest.param(
            "acr",
            b"[1]",
            "cannot decode ACR webhook payload: json: cannot unmarshal array into Go value of type "
            "server.payload",
            id="acr-array",
        ),
    ],
)
def test_payload_types_accept_what_decodes_and_refuse_what_does_not(
    kind: str, body: bytes, error: str
) -> None:
    outcome = answer(kind, body=body)
    assert (outcome.status, outcome.error) == (400 if error else 200, error)


@pytest.mark.parametrize(
    ("signature", "body", "error"),
    [
        pytest.param("good", b'{"action":"CREATED","repositoryName":"r"}', "", id="ok"),
        pytest.param(None, b"{}", "the Nexus signature is missing from header", id="missing"),
        pytest.param("sha1=x", b"{}", "invalid Nexus signature", id="wrong"),
        pytest.param("upper", b"{}", "invalid Nexus signature", id="upper-case-hex"),
        pytest.param(
            "good",
            b"{} x",
            "cannot decode Nexus webhook payload: invalid character 'x' after top-level value",
            id="json",
        ),
    ],
)
def test_nexus_checks_the_hmac_sha1_signature_then_the_payload(
    signature: str | None, body: bytes, error: str
) -> None:
    digest = hmac.new(TOKEN.encode(), body, hashlib.sha1).hexdigest()
    headers = {}
    if signature is not None:
        value = {"good": digest, "upper": digest.upper()}.get(signature, signature)
        headers["X-Nexus-Webhook-Signature"] = value
    outcome = answer("nexus", headers, body)
    assert (outcome.status, outcome.error) == (400 if error else 200, error)


@pytest.mark.parametrize(
    ("secret", "authorization", "error"),
    [
        pytest.param(
            SECRET, "Bearer x", "invalid secret data: required field 'email' for GCR receiver", id="email"
        ),
        pytest.param(
            SECRET | {"email": b"a@b"},
            "Bearer x",
            "invalid secret data: required field 'audience' for GCR receiver",
            id="audience",
        ),
        pytest.param(
            SECRET | {"email": b"a@b", "audience": b"aud"},
            "x",
            "cannot authenticate GCR request: the Authorization header is missing or malformed",
            id="bearer",
        ),
        pytest.param(
            SECRET | {"email": b"a@b", "audience": b"aud"},
            "Bearer eyJ",
            f"cannot authenticate GCR request: {receivers.NOT_SIMULATED_GCR}",
            id="not-simulated",
        ),
    ],
)
def test_gcr_checks_what_it_can_and_refuses_token_verification_as_not_simulated(
    secret: Mapping[str, bytes], authorization: str, error: str
) -> None:
    outcome = answer("gcr", {"Authorization": authorization}, secret=secret)
    assert (outcome.status, outcome.error) == (400, error)


CDEVENT = {
    "context": {
        "version": "0.4.1",
        "id": "1",
        "source": "ci",
        "type": "dev.cdevents.artifact.published.0.1.1",
        "timestamp": "2024-01-01T00:00:00Z",
    },
    "subject": {"id": "pkg:oci/app", "content": {}},
}


@pytest.mark.parametrize(
    ("body", "events", "error"),
    [
        pytest.param(CDEVENT, (), "", id="ok"),
        pytest.param(CDEVENT, ("dev.cdevents.artifact.published.0.1.1",), "", id="listed"),
        pytest.param(
            CDEVENT,
            ("dev.cdevents.build.finished.0.1.1",),
            'the CDEvent "dev.cdevents.artifact.published.0.1.1" is not authorised',
            id="not-listed",
        ),
        pytest.param(
            {"subject": {}}, (), "unable to validate CDEvent event: the CDEvent has no context", id="bad"
        ),
    ],
)
def test_cdevents_validates_the_event_and_filters_on_the_ce_type_header(
    body: dict[str, Any], events: tuple[str, ...], error: str
) -> None:
    headers = JSON | {"Ce-Type": "dev.cdevents.artifact.published.0.1.1"}
    outcome = answer("cdevents", headers, json.dumps(body).encode(), events=events)
    assert (outcome.status, outcome.error) == (400 if error else 200, error)


def test_generic_oidc_requests_are_refused_as_not_simulated() -> None:
    outcome = answer("generic-oidc", secret=None)
    assert outcome.status == 400
    assert outcome.error == receivers.NOT_SIMULATED_OIDC


def test_the_request_repr_never_shows_a_token_header() -> None:
    request = receivers.Request.of("POST", PATH, {"X-Gitlab-Token": TOKEN, "Authorization": TOKEN}, b"{}")
    assert TOKEN not in repr(request)


# ---------------------------------------------------------------------------------------------
# The resources an accepted request reconciles


class Cluster:
    """A lister over a fixed set of objects, recording what it was asked."""

    def __init__(self, *objects: tuple[str, str, str, Mapping[str, str]]) -> None:
        self.objects = objects
        self.calls: list[tuple[str, str, str]] = []

    def __call__(
        self, kind: str, namespace: str, name: str, labels: Mapping[str, str] | None
    ) -> Sequence[Mapping[str, Any]]:
        self.calls.append((kind, namespace, name))
        out = []
        for k, ns, n, obj_labels in self.objects:
            if (k, ns) != (kind, namespace):
                continue
            wanted = (labels or {}).items()
            if name == n or (name == "*" and all(obj_labels.get(key) == v for key, v in wanted)):
                out.append({"metadata": {"name": n, "namespace": ns, "labels": dict(obj_labels)}})
        return out


CLUSTER: tuple[tuple[str, str, str, Mapping[str, str]], ...] = (
    ("GitRepository", NAMESPACE, "app", {"team": "a"}),
    ("GitRepository", NAMESPACE, "web", {"team": "b"}),
    ("GitRepository", "apps", "api", {"team": "a"}),
    ("Kustomization", NAMESPACE, "infra", {}),
)


def plan(*resources: api.ReceiverResource, body: bytes = b"{}", **extra: Any) -> receivers.Plan:
    no_cross = extra.pop("no_cross_namespace_refs", False)
    receiver = spec("generic", resources=resources, **extra)
    request = receivers.Request.of("POST", PATH, JSON, body)
    return receivers.resources_to_annotate(
        receiver, Cluster(*CLUSTER), namespace=NAMESPACE, request=request, no_cross_namespace_refs=no_cross
    )


def names(result: receivers.Plan) -> list[str]:
    return [f"{t.namespace}/{t.name}" for t in result.targets]


def test_a_named_resource_defaults_to_the_receivers_namespace_and_flux_api_version() -> None:
    result = plan(api.ReceiverResource(kind="GitRepository", name="app"))
    assert result.targets == (
        receivers.Target("source.toolkit.fluxcd.io/v1", "GitRepository", NAMESPACE, "app"),
    )
    assert result.status == 200


def test_a_named_resource_ignores_match_labels() -> None:
    result = plan(api.ReceiverResource(kind="GitRepository", name="app", match_labels={"team": "zzz"}))
    assert names(result) == [f"{NAMESPACE}/app"]


def test_a_wildcard_selects_the_objects_carrying_all_the_labels() -> None:
    result = plan(api.ReceiverResource(kind="GitRepository", name="*", match_labels={"team": "a"}))
    assert names(result) == [f"{NAMESPACE}/app"]


def test_a_wildcard_in_another_namespace_selects_there() -> None:
    result = plan(api.ReceiverResource(kind="GitRepository", name="*", namespace="apps", match_labels={}))
    assert names(result) == ["apps/api"]


def test_a_wildcard_without_match_labels_is_an_error() -> None:
    result = plan(api.ReceiverResource(kind="GitRepository", name="*"))
    assert result.selections[0].error == "matchLabels field not set when using wildcard '*' as name"
    assert result.status == 500


def test_a_wildcard_that_matches_nothing_is_logged_not_an_error() -> None:
    result = plan(api.ReceiverResource(kind="GitRepository", name="*", match_labels={"team": "z"}))
    assert result.status == 200
    assert result.selections[0].note == (
        'no "GitRepository" resources found with matching labels map["team":"z"]\' in "flux-system" namespace'
    )


def test_a_missing_named_resource_fails_the_request_but_not_the_others() -> None:
    result = plan(
        api.ReceiverResource(kind="GitRepository", name="gone"),
        api.ReceiverResource(kind="GitRepository", name="web"),
    )
    assert result.selections[0].error == (
        'unable to read GitRepository "flux-system/gone" error: '
        'gitrepositories.source.toolkit.fluxcd.io "gone" not found'
    )
    assert names(result) == [f"{NAMESPACE}/web"]
    assert result.status == 500


def test_a_kind_without_a_default_api_version_must_set_one() -> None:
    missing = plan(api.ReceiverResource(kind="Kustomization", name="infra"))
    assert missing.selections[0].error == 'apiVersion must be specified for kind "Kustomization"'
    given = plan(
        api.ReceiverResource(kind="Kustomization", name="infra", api_version="kustomize.toolkit.fluxcd.io/v1")
    )
    assert given.targets[0].api_version == "kustomize.toolkit.fluxcd.io/v1"


def test_cross_namespace_references_are_refused_when_the_flag_is_set() -> None:
    resource = api.ReceiverResource(kind="GitRepository", name="api", namespace="apps")
    assert names(plan(resource)) == ["apps/api"]
    refused = plan(resource, no_cross_namespace_refs=True)
    assert refused.selections[0].error == "cross-namespace references are not allowed"


def test_the_lister_error_is_wrapped_with_fluxs_words() -> None:
    def failing(
        kind: str, ns: str, name: str, labels: Mapping[str, str] | None
    ) -> Sequence[Mapping[str, Any]]:
        raise receivers.ListError("forbidden")

    resource = api.ReceiverResource(kind="GitRepository", name="*", match_labels={"a": "b"})
    request = receivers.Request.of("POST", PATH, JSON, b"{}")
    result = receivers.resources_to_annotate(
        spec("generic", resources=(resource,)), failing, namespace=NAMESPACE, request=request
    )
    assert result.selections[0].error == (
        'failed listing resources in namespace "flux-system" by matching labels map["a":"b"]: forbidden'
    )


@pytest.mark.parametrize(
    ("resource_filter", "per_resource", "expected"),
    [
        pytest.param(None, None, ["app", "web"], id="none"),
        pytest.param("res.metadata.name == req.name", None, ["web"], id="resource-filter-over-req"),
        pytest.param(None, "res.metadata.labels.team == 'a'", ["app"], id="per-resource"),
        pytest.param(
            "res.metadata.name == req.name", "res.metadata.labels.team == 'a'", [], id="both-must-hold"
        ),
    ],
)
def test_cel_filters_keep_the_objects_for_which_they_all_hold(
    resource_filter: str | None, per_resource: str | None, expected: list[str]
) -> None:
    resource = api.ReceiverResource(kind="GitRepository", name="*", match_labels={}, filter=per_resource)
    result = plan(resource, body=b'{"name":"web"}', resource_filter=resource_filter)
    assert [t.name for t in result.targets] == expected
    assert result.status == 200


def test_a_body_that_is_not_json_fails_the_filters_before_anything_is_annotated() -> None:
    result = plan(*GIT, body=b"{nope", resource_filter="true")
    assert (
        result.error == "failed to parse request body as JSON: "
        "invalid character 'n' looking for beginning of object key string"
    )
    assert result.targets == ()
    assert result.status == 500


def test_a_filter_that_fails_to_evaluate_fails_its_entry() -> None:
    resource = api.ReceiverResource(kind="GitRepository", name="app", filter="req.missing == 'x'")
    result = plan(resource)
    assert result.selections[0].error.startswith(
        "failed to evaluate the CEL expression 'req.missing == 'x'': "
    )
    assert result.status == 500


# ---------------------------------------------------------------------------------------------
# The annotation


@pytest.mark.parametrize(
    ("now", "monotonic", "value"),
    [
        pytest.param("2024-05-01T12:00:00Z", None, "2024-05-01 12:00:00 +0000 UTC", id="whole-second"),
        pytest.param(
            "2024-05-01T12:00:00.5Z", None, "2024-05-01 12:00:00.5 +0000 UTC", id="fraction-trimmed"
        ),
        pytest.param(
            "2024-05-01T12:00:00.123456789Z", None, "2024-05-01 12:00:00.123456789 +0000 UTC", id="nanos"
        ),
        pytest.param("2024-05-01T01:30:00+02:00", None, "2024-04-30 23:30:00 +0000 UTC", id="to-utc"),
        pytest.param(
            "2024-05-01T12:00:00Z", 90_000_000_007, "2024-05-01 12:00:00 +0000 UTC m=+90.000000007", id="mono"
        ),
    ],
)
def test_the_request_annotation_is_gos_time_string(now: str, monotonic: int | None, value: str) -> None:
    assert receivers.request_annotation(now, monotonic_ns=monotonic) == {
        "reconcile.fluxcd.io/requestedAt": value
    }
