"""What each Provider type sends for one event, its factory errors, and the delivery rules."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from gitops_sim.model.fluxapi import notification as fluxapi
from gitops_sim.notification import event as ev
from gitops_sim.notification import providers, routing

SHA = "5394cb7f48332b2de7c17dd8b8384bbc84b7e738"
TOKEN = "s3cr3t-t0ken"
STATUS_ID = "kustomization/podinfo/0c9c2e41"
LOCAL = "http://127.0.0.1:8080/acme/fleet"


def an_event(
    severity: ev.Severity = "info",
    reason: str = "ReconciliationSucceeded",
    metadata: dict[str, str] | None = None,
    message: str = "Applied revision main",
) -> ev.Event:
    obj = ev.ObjectReference("Kustomization", "flux-system", "podinfo", "kustomize.toolkit.fluxcd.io/v1")
    meta = {"revision": f"main@sha1:{SHA}"} if metadata is None else metadata
    return ev.Event(obj, severity, "2024-05-01T10:00:00Z", message, reason, "kustomize-controller", meta)


def only(provider_type: str, options: providers.ProviderSettings, event: ev.Event) -> providers.HttpRequest:
    (request,) = providers.requests(provider_type, options, event)
    return request


# ---------------------------------------------------------------------------------------------
# Chat and webhook bodies

AUTHOR = "kustomization/podinfo.flux-system"
FIELDS = '[{"title":"revision","value":"main@sha1:' + SHA + '","short":false}]'


@pytest.mark.parametrize(
    ("provider_type", "address", "severity", "expected"),
    [
        pytest.param(
            "slack",
            "https://hooks.slack.com/services/x",
            "info",
            '{"channel":"ops","username":"kustomize-controller","icon_url":"","icon_emoji":"",'
            '"attachments":[{"fallback":"' + AUTHOR + ': Applied revision main","color":"good",'
            '"author_name":"' + AUTHOR + '","text":"Applied revision main","mrkdwn_in":["text"],'
            '"fields":' + FIELDS + "}]}",
            id="slack-info-good",
        ),
        pytest.param(
            "discord",
            "https://discord.com/api/webhooks/1/abc",
            "error",
            '{"channel":"","username":"kustomize-controller","icon_url":"","icon_emoji":"",'
            '"attachments":[{"fallback":"","color":"danger","author_name":"' + AUTHOR + '",'
            '"text":"Applied revision main","mrkdwn_in":["text"],"fields":' + FIELDS + "}]}",
            id="discord-error-danger",
        ),
        pytest.param(
            "rocket",
            "https://rocket.example.com/hooks/x",
            "error",
            '{"channel":"ops","username":"","icon_url":"","icon_emoji":"",'
            '"attachments":[{"fallback":"","color":"#FF0000","author_name":"' + AUTHOR + '",'
            '"text":"Applied revision main","mrkdwn_in":["text"],"fields":' + FIELDS + "}]}",
            id="rocket-error-red",
        ),
        pytest.param(
            "googlechat",
            "https://chat.googleapis.com/v1/spaces/x",
            "error",
            '{"cards":[{"header":{"title":"' + AUTHOR + '","subtitle":"kustomize-controller",'
            '"imageUrl":null,"imageStyle":null},"sections":[{"header":"","widgets":[{"textParagraph":'
            '{"text":"\\u003cfont color=\\"#ff0000\\"\\u003eApplied revision main\\u003c/font\\u003e"},'
            '"keyValue":null}]},{"header":"","widgets":[{"textParagraph":null,"keyValue":{"topLabel":'
            '"revision","content":"main@sha1:' + SHA + '","contentMultiline":false,"bottomLabel":null,'
            '"icon":null}}]}]}]}',
            id="googlechat-error-red-font",
        ),
        pytest.param(
            "msteams",
            "https://acme.webhook.office.com/webhookb2/x",
            "info",
            '{"@type":"MessageCard","@context":"http://schema.org/extensions","themeColor":"0076D7",'
            '"summary":"' + AUTHOR + '","sections":[{"activityTitle":"Applied revision main",'
            '"activitySubtitle":"'
            + AUTHOR
            + '","facts":[{"name":"revision","value":"main@sha1:'
            + SHA
            + '"}]}]}',
            id="msteams-legacy-connector",
        ),
    ],
)
def test_chat_provider_posts_its_payload_shape(
    provider_type: str, address: str, severity: ev.Severity, expected: str
) -> None:
    options = providers.ProviderSettings(address=address, channel="ops")
    request = only(provider_type, options, an_event(severity))
    assert request.method == "POST"
    assert request.body == expected.encode()
    assert request.header("Content-Type") == "application/json"
    assert request.header("User-Agent") == providers.GO_USER_AGENT


def test_msteams_adaptive_card_puts_summary_first_and_colours_errors() -> None:
    event = an_event("error", metadata={"zeta": "z", "summary": "prod", "alpha": "a"}, message="boom")
    request = only("msteams", providers.ProviderSettings(address="https://prod.logic.azure.com/wf"), event)
    assert request.body == (
        b'{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",'
        b'"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard",'
        b'"version":"1.4","body":[{"type":"Container","items":[{"type":"TextBlock","text":'
        b'"kustomization/podinfo.flux-system","size":"large","weight":"bolder","wrap":true},'
        b'{"type":"TextBlock","text":"boom","color":"attention","wrap":true},{"type":"FactSet","facts":'
        b'[{"title":"summary","value":"prod"},{"title":"alpha","value":"a"},{"title":"zeta","value":"z"}]}]}],'
        b'"msteams":{"width":"Full"}}}]}'
    )


def test_msteams_adaptive_card_leaves_out_an_empty_fact_set() -> None:
    request = only(
        "msteams", providers.ProviderSettings(address="https://x.example/wf"), an_event(metadata={})
    )
    assert b'{"type":"FactSet"}' in request.body


def test_slack_fallback_is_the_first_line_and_username_from_spec_wins() -> None:
    options = providers.ProviderSettings(address="https://hooks.slack.com/x", username="flux")
    body = only("slack", options, an_event(message="line one\nline two")).json()
    assert body["username"] == "flux"
    assert body["attachments"][0]["fallback"] == f"{AUTHOR}: line one"


def test_slack_sends_the_token_as_a_bearer_header() -> None:
    request = only(
        "slack", providers.ProviderSettings(address=providers.SLACK_POST_MESSAGE_URL, token=TOKEN), an_event()
    )
    assert request.header("Authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("address", "url"),
    [
        pytest.param(
            "https://discord.com/api/webhooks/1/abc",
            "https://discord.com/api/webhooks/1/abc/slack",
            id="appended",
        ),
        pytest.param(
            "https://discord.com/api/webhooks/1/abc/slack",
            "https://discord.com/api/webhooks/1/abc/slack",
            id="kept",
        ),
        pytest.param(
            "https://discord.com/api/webhooks/1/abc/",
            "https://discord.com/api/webhooks/1/abc/slack",
            id="cleaned",
        ),
    ],
)
def test_discord_posts_to_the_slack_compatible_endpoint(address: str, url: str) -> None:
    assert only("discord", providers.ProviderSettings(address=address), an_event()).url == url


def test_telegram_escapes_markdown_and_splits_the_thread_from_the_channel() -> None:
    options = providers.ProviderSettings(channel="-100123:42", token="123:abc")
    request = only("telegram", options, an_event("error", metadata={"rev": "v1.0"}, message="a_b"))
    assert request.url == "https://api.telegram.org/bot123:abc/sendMessage"
    assert request.json() == {
        "chat_id": "-100123",
        "message_thread_id": "42",
        "text": "*🚨 kustomization/podinfo/flux\\-system*\na\\_b\n\\- *rev*: v1\\.0\n",
        "parse_mode": "MarkdownV2",
    }


# ---------------------------------------------------------------------------------------------
# generic and generic-hmac


def test_generic_posts_the_event_json_with_the_component_and_secret_headers() -> None:
    event = an_event()
    options = providers.ProviderSettings(address="https://sink.example/hook", headers={"x-team": "platform"})
    request = only("generic", options, event)
    assert request.body == event.body()
    assert request.headers == (
        ("Content-Type", "application/json"),
        ("Gotk-Component", "kustomize-controller"),
        ("User-Agent", "Go-http-client/1.1"),
        ("X-Team", "platform"),
    )


@pytest.mark.parametrize("key", ["k", TOKEN, "ключ-🔑"])
def test_generic_hmac_signs_the_exact_body_with_the_token(key: str) -> None:
    event = an_event(message="a <b> & c")
    request = only(
        "generic-hmac", providers.ProviderSettings(address="https://sink.example/", token=key), event
    )
    expected = hmac.new(key.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.header("X-Signature") == f"sha256={expected}"
    assert b"\\u003cb\\u003e \\u0026 c" in request.body


# ---------------------------------------------------------------------------------------------
# Commit statuses


@pytest.mark.parametrize(
    ("provider_type", "token", "urls"),
    [
        pytest.param(
            "github",
            TOKEN,
            [
                f"GET http://127.0.0.1:8080/api/v3/repos/acme/fleet/commits/{SHA}/statuses?per_page=50",
                f"POST http://127.0.0.1:8080/api/v3/repos/acme/fleet/statuses/{SHA}",
            ],
            id="github-enterprise-base",
        ),
        pytest.param(
            "gitlab",
            TOKEN,
            [
                f"GET http://127.0.0.1:8080/api/v4/projects/acme%2Ffleet/repository/commits/{SHA}/statuses"
                "?name=kustomization%2Fpodinfo%2F0c9c2e41",
                f"POST http://127.0.0.1:8080/api/v4/projects/acme%2Ffleet/statuses/{SHA}",
            ],
            id="gitlab",
        ),
        pytest.param(
            "gitea",
            TOKEN,
            [
                "GET http://127.0.0.1:8080/api/v1/version",
                f"GET http://127.0.0.1:8080/api/v1/repos/acme/fleet/commits/{SHA}/statuses?limit=50&page=1",
                f"POST http://127.0.0.1:8080/api/v1/repos/acme/fleet/statuses/{SHA}",
            ],
            id="gitea-asks-the-version-first",
        ),
        pytest.param(
            "bitbucket",
            "user:pass",
            [
                f"GET http://127.0.0.1:8080/2.0/repositories/acme/fleet/commit/{SHA}/statuses/build/"
                + hashlib.sha1(STATUS_ID.encode()).hexdigest(),
                f"POST http://127.0.0.1:8080/2.0/repositories/acme/fleet/commit/{SHA}/statuses/build",
            ],
            id="bitbucket-local-host",
        ),
    ],
)
def test_git_provider_api_follows_the_address_host(provider_type: str, token: str, urls: list[str]) -> None:
    options = providers.ProviderSettings(address=LOCAL, token=token)
    requests = providers.requests(provider_type, options, an_event(), commit_status=STATUS_ID)
    assert [f"{r.method} {r.url}" for r in requests] == urls


@pytest.mark.parametrize(
    ("address", "base"),
    [
        pytest.param("https://github.com/acme/fleet", "https://api.github.com/", id="github.com"),
        pytest.param("git@github.com:acme/fleet.git", "https://api.github.com/", id="scp-like"),
        pytest.param(
            "ssh://git@ghe.example.com/acme/fleet", "https://ghe.example.com/api/v3/", id="ssh-becomes-https"
        ),
        pytest.param("https://api.ghe.example.com/acme/fleet", "https://api.ghe.example.com/", id="api-host"),
    ],
)
def test_github_base_url_is_go_github_s_for_the_host(address: str, base: str) -> None:
    options = providers.ProviderSettings(address=address, token=TOKEN)
    list_request, _ = providers.requests("github", options, an_event(), commit_status=STATUS_ID)
    assert list_request.url.startswith(f"{base}repos/acme/fleet/commits/")


def test_bitbucket_cloud_address_talks_to_the_bitbucket_api() -> None:
    options = providers.ProviderSettings(address="https://bitbucket.org/acme/fleet", token="u:p")
    _, create = providers.requests("bitbucket", options, an_event(), commit_status=STATUS_ID)
    assert create.url.startswith("https://api.bitbucket.org/2.0/repositories/acme/fleet/")
    assert create.header("Authorization") == "Basic " + base64.b64encode(b"u:p").decode()


@pytest.mark.parametrize(
    ("provider_type", "severity", "body"),
    [
        pytest.param(
            "github",
            "info",
            b'{"state":"success","description":"reconciliation succeeded","context":"'
            + STATUS_ID.encode()
            + b'"}\n',
            id="github-success",
        ),
        pytest.param(
            "github",
            "error",
            b'{"state":"failure","description":"reconciliation succeeded","context":"'
            + STATUS_ID.encode()
            + b'"}\n',
            id="github-failure",
        ),
        pytest.param(
            "gitlab",
            "error",
            b'{"state":"failed","name":"'
            + STATUS_ID.encode()
            + b'","description":"reconciliation succeeded"}',
            id="gitlab-failed",
        ),
        pytest.param(
            "gitea",
            "info",
            b'{"state":"success","target_url":"","description":"reconciliation succeeded","context":"'
            + STATUS_ID.encode()
            + b'"}',
            id="gitea-success",
        ),
        pytest.param(
            "bitbucket",
            "error",
            b'{"key":"'
            + hashlib.sha1(STATUS_ID.encode()).hexdigest().encode()
            + b'","url":"https://bitbucket.org","state":"FAILED","name":"kustomization/podinfo",'
            b'"description":"reconciliation succeeded"}',
            id="bitbucket-failed",
        ),
    ],
)
def test_commit_status_body_maps_severity_to_the_host_state(
    provider_type: str, severity: ev.Severity, body: bytes
) -> None:
    token = "u:p" if provider_type == "bitbucket" else TOKEN
    options = providers.ProviderSettings(address=LOCAL, token=token)
    create = providers.requests(provider_type, options, an_event(severity), commit_status=STATUS_ID)[-1]
    assert create.step == "create"
    assert create.body == body


@pytest.mark.parametrize(
    ("provider_type", "header", "value"),
    [
        pytest.param("github", "Authorization", f"Bearer {TOKEN}", id="github-bearer"),
        pytest.param("gitlab", "Private-Token", TOKEN, id="gitlab-private-token"),
        pytest.param("gitea", "Authorization", f"token {TOKEN}", id="gitea-token"),
    ],
)
def test_git_provider_authenticates_as_its_client_does(provider_type: str, header: str, value: str) -> None:
    options = providers.ProviderSettings(address=LOCAL, token=TOKEN)
    for request in providers.requests(provider_type, options, an_event(), commit_status=STATUS_ID):
        assert request.header(header) == value


def test_github_falls_back_to_the_password_when_there_is_no_token() -> None:
    options = providers.ProviderSettings(address=LOCAL, username="bot", password="pw")
    list_request, _ = providers.requests("github", options, an_event(), commit_status=STATUS_ID)
    assert list_request.header("Authorization") == "Bearer pw"


@pytest.mark.parametrize(
    ("revision", "sha"),
    [
        pytest.param(f"main@sha1:{SHA}", SHA, id="new-format"),
        pytest.param(f"main/{SHA}", SHA, id="legacy-branch"),
        pytest.param(f"HEAD/{SHA}", SHA, id="legacy-head"),
        pytest.param(SHA, SHA, id="bare"),
        pytest.param(f"sha1:{SHA}", SHA, id="digest"),
    ],
)
def test_commit_sha_is_read_from_the_revision(revision: str, sha: str) -> None:
    assert providers.commit_sha(an_event(metadata={"revision": revision})) == sha


def test_commit_key_wins_over_origin_revision_and_revision() -> None:
    other = "f" * 40
    event = an_event(metadata={"revision": f"main@sha1:{SHA}", "originRevision": "x", "commit": other})
    assert providers.commit_sha(event) == other


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        pytest.param({}, "missing revision metadata", id="missing"),
        pytest.param(
            {"revision": "main@sha256:abc"},
            "failed to extract commit hash from 'main@sha256:abc' revision",
            id="short",
        ),
    ],
)
def test_commit_status_without_a_usable_revision_fails_as_flux_does(
    metadata: dict[str, str], message: str
) -> None:
    options = providers.ProviderSettings(address=LOCAL, token=TOKEN)
    with pytest.raises(providers.ProviderError) as caught:
        providers.requests("github", options, an_event(metadata=metadata), commit_status=STATUS_ID)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("provider_type", "count"), [("github", 0), ("gitlab", 0), ("bitbucket", 0), ("gitea", 3)]
)
def test_progressing_events_are_skipped_except_by_gitea(provider_type: str, count: int) -> None:
    token = "u:p" if provider_type == "bitbucket" else TOKEN
    options = providers.ProviderSettings(address=LOCAL, token=token)
    requests = providers.requests(
        provider_type, options, an_event(reason="Progressing"), commit_status=STATUS_ID
    )
    assert len(requests) == count
    if requests:
        assert requests[-1].json()["state"] == "pending"


@pytest.mark.parametrize(
    ("reason", "description"),
    [
        ("ReconciliationSucceeded", "reconciliation succeeded"),
        ("HealthCheckFailed", "health check failed"),
        ("PDFLoader", "pdf loader"),
        ("UpgradeFailed2", "upgrade failed 2"),
    ],
)
def test_description_is_the_reason_split_on_camel_case(reason: str, description: str) -> None:
    assert providers.describe(an_event(reason=reason)) == ("kustomization/podinfo", description)


def test_default_commit_status_uses_the_first_uid_segment() -> None:
    uid = "0C9C2E41-7f3a-4d1b-9e2a-1b2c3d4e5f60"
    assert routing.default_commit_status(uid, an_event()) == STATUS_ID


@pytest.mark.parametrize(
    ("provider_type", "listed", "duplicate"),
    [
        pytest.param(
            "github",
            b'[{"context":"'
            + STATUS_ID.encode()
            + b'","state":"success","description":"reconciliation succeeded"}]',
            True,
            id="github-same",
        ),
        pytest.param(
            "github",
            b'[{"context":"'
            + STATUS_ID.encode()
            + b'","state":"failure","description":"reconciliation succeeded"},'
            b'{"context":"'
            + STATUS_ID.encode()
            + b'","state":"success","description":"reconciliation succeeded"}]',
            False,
            id="github-latest-differs",
        ),
        pytest.param(
            "gitlab",
            b'[{"sha":"'
            + SHA.encode()
            + b'","status":"success","description":"reconciliation succeeded","name":"'
            + STATUS_ID.encode()
            + b'"}]',
            True,
            id="gitlab-same",
        ),
        pytest.param("bitbucket", b"null", False, id="bitbucket-not-found"),
        pytest.param(
            "bitbucket",
            b'{"state":"SUCCESSFUL","description":"reconciliation succeeded"}',
            True,
            id="bitbucket-same",
        ),
        pytest.param("gitea", b"[]", False, id="gitea-none"),
    ],
)
def test_duplicate_status_skips_the_create(provider_type: str, listed: bytes, duplicate: bool) -> None:
    token = "u:p" if provider_type == "bitbucket" else TOKEN
    options = providers.ProviderSettings(address=LOCAL, token=token)
    create = providers.requests(provider_type, options, an_event(), commit_status=STATUS_ID)[-1]
    assert providers.duplicate(create, listed) is duplicate


# ---------------------------------------------------------------------------------------------
# Factory errors


@pytest.mark.parametrize(
    ("provider_type", "options", "message"),
    [
        pytest.param("generic", {}, 'invalid hook URL : parse "": empty url', id="generic-empty"),
        pytest.param(
            "slack",
            {"address": "hooks"},
            "invalid Slack hook URL hooks: 'parse \"hooks\": invalid URI for request'",
            id="slack-relative",
        ),
        pytest.param(
            "discord",
            {"address": "http://x:port/"},
            "invalid Discord hook URL http://x:port/: "
            '\'parse "http://x:port/": invalid port ":port" after host\'',
            id="discord-port",
        ),
        pytest.param("googlechat", {"address": ""}, "invalid Google Chat hook URL ", id="googlechat"),
        pytest.param("generic-hmac", {"address": "https://x/"}, "HMAC key is empty", id="hmac-no-key"),
        pytest.param("telegram", {"token": "bot-token"}, "empty Telegram channel", id="telegram-channel"),
        pytest.param("telegram", {"channel": "c"}, "empty Telegram token", id="telegram-token"),
        pytest.param(
            "github",
            {"address": LOCAL},
            "github token or github app details must be specified",
            id="github-token",
        ),
        pytest.param(
            "github",
            {"address": LOCAL + "/extra", "token": TOKEN},
            "invalid repository id: 'acme/fleet/extra'",
            id="github-repo-id",
        ),
        pytest.param("gitlab", {"address": LOCAL}, "gitlab token cannot be empty", id="gitlab-token"),
        pytest.param("gitea", {"address": LOCAL}, "gitea token cannot be empty", id="gitea-token"),
        pytest.param(
            "gitea",
            {"address": LOCAL + "/x", "token": TOKEN},
            'invalid repository id "acme/fleet/x"',
            id="gitea-repo-id",
        ),
        pytest.param(
            "bitbucket", {"address": LOCAL}, "bitbucket token cannot be empty", id="bitbucket-token"
        ),
        pytest.param(
            "bitbucket",
            {"address": LOCAL, "token": "nocolon"},
            "invalid token format, expected to be <user>:<password>",
            id="bitbucket-token-format",
        ),
        pytest.param("nosuch", {}, "provider nosuch not supported", id="unknown-type"),
    ],
)
def test_validate_gives_the_factory_s_error(
    provider_type: str, options: dict[str, str], message: str
) -> None:
    settings = providers.ProviderSettings(**options)  # type: ignore[arg-type]
    with pytest.raises(providers.ProviderError) as caught:
        providers.validate(provider_type, settings, commit_status=STATUS_ID)
    assert str(caught.value) == message


def test_git_provider_without_a_commit_status_is_refused() -> None:
    with pytest.raises(providers.ProviderError, match="^commit status cannot be empty$"):
        providers.validate("github", providers.ProviderSettings(address=LOCAL, token=TOKEN))


def test_a_flux_type_not_simulated_says_so() -> None:
    with pytest.raises(providers.Unsimulated, match="webex"):
        providers.validate("webex", providers.ProviderSettings(address="https://x/"))


# ---------------------------------------------------------------------------------------------
# Settings from the Provider and its Secret


def test_secret_address_token_and_headers_override_the_spec() -> None:
    spec = fluxapi.ProviderSpec(type="generic", address="https://spec.example/", username="spec-user")
    data = {
        "address": b" https://secret.example/ \n",
        "token": b"tok\n",
        "headers": b"X-Env: prod\nx-team: a\n",
    }
    got = providers.settings(spec, data)
    assert (got.address, got.token, got.mask, got.username) == (
        "https://secret.example/",
        "tok\n",
        "tok",
        "spec-user",
    )
    assert dict(got.headers) == {"X-Env": "prod", "x-team": "a"}


def test_a_username_without_password_drops_every_credential_as_flux_does() -> None:
    spec = fluxapi.ProviderSpec(type="github", address=LOCAL)
    got = providers.settings(spec, {"token": b"tok", "username": b"bot"})
    assert (got.token, got.username, got.password, got.mask) == ("", "", "", "tok")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param(b"- a\n", "cannot unmarshal array into Go value of type map[string]string", id="list"),
        pytest.param(b"X-Retries: 3\n", "cannot unmarshal number into Go value of type string", id="number"),
    ],
)
def test_headers_that_are_not_a_string_map_are_refused(headers: bytes, message: str) -> None:
    spec = fluxapi.ProviderSpec(type="generic", address="https://x/")
    with pytest.raises(
        providers.ProviderError, match=f"^failed to read headers from secret: .*{re.escape(message)}$"
    ):
        providers.settings(spec, {"headers": headers})


def test_an_address_over_2048_bytes_in_the_secret_is_refused() -> None:
    spec = fluxapi.ProviderSpec(type="generic")
    with pytest.raises(providers.ProviderError, match="exceeds maximum length of 2048 bytes"):
        providers.settings(spec, {"address": b"h" * 2049})


# ---------------------------------------------------------------------------------------------
# Delivery rules


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (None, True),
        (429, True),
        (500, True),
        (501, False),
        (503, True),
        (400, False),
        (404, False),
        (200, False),
    ],
)
def test_retryablehttp_retries_connection_errors_429_and_5xx_but_501(status: int | None, retry: bool) -> None:
    request = only("generic", providers.ProviderSettings(address="https://x/"), an_event())
    assert providers.should_retry(request, status) is retry


def test_backoff_doubles_from_2s_to_the_30s_cap_and_honours_retry_after() -> None:
    request = only("generic", providers.ProviderSettings(address="https://x/"), an_event())
    assert [providers.backoff_ms(request, n) for n in range(6)] == [
        2_000,
        4_000,
        8_000,
        16_000,
        30_000,
        30_000,
    ]
    assert providers.backoff_ms(request, 0, retry_after="7", status=429) == 7_000
    assert providers.backoff_ms(request, 0, retry_after="7", status=500) == 2_000
    assert providers.RETRY_POLICIES["retryablehttp"].retries == 4


@pytest.mark.parametrize(
    ("status", "ok"), [(200, True), (204, True), (299, True), (300, False), (400, False)]
)
def test_any_2xx_is_a_success_for_a_webhook(status: int, ok: bool) -> None:
    request = only("generic", providers.ProviderSettings(address="https://x/"), an_event())
    assert providers.is_success(request, status) is ok


def test_slack_api_answer_must_say_ok() -> None:
    request = only("slack", providers.ProviderSettings(address=providers.SLACK_POST_MESSAGE_URL), an_event())
    assert providers.is_success(request, 200, b'{"ok":true}')
    assert not providers.is_success(request, 200, b'{"ok":false,"error":"channel_not_found"}')
    assert providers.failure_message(request, 200, b'{"ok":false,"error":"channel_not_found"}') == (
        "postMessage failed: request failed: Slack responded with error: channel_not_found"
    )


def test_failure_and_give_up_messages_are_flux_s() -> None:
    request = only("generic", providers.ProviderSettings(address="https://u:pw@x.example/hook"), an_event())
    assert providers.failure_message(request, 400, b"bad") == (
        "postMessage failed: request failed: request failed with status code 400: bad"
    )
    assert providers.gave_up_message(request, 5) == (
        "postMessage failed: failed to execute request: "
        "POST https://u:xxxxx@x.example/hook giving up after 5 attempt(s)"
    )


# ---------------------------------------------------------------------------------------------
# Secrets never shown


def test_mask_token_repeats_the_last_character_as_flux_s_regexp_does() -> None:
    assert providers.mask_token("abcc ab x", "abc") == "***** ***** x"
    assert providers.mask_token("a.b", "") == "a.b"
    assert providers.mask_token("t.k.", "k.") == "t.*****"


@pytest.mark.parametrize(
    ("provider_type", "options"),
    [
        pytest.param("slack", {"address": "https://hooks.slack.com/x", "token": TOKEN}, id="slack"),
        pytest.param("generic-hmac", {"address": "https://x/", "token": TOKEN}, id="hmac"),
        pytest.param("telegram", {"channel": "c", "token": TOKEN}, id="telegram-url"),
        pytest.param("github", {"address": LOCAL, "token": TOKEN}, id="github"),
        pytest.param("gitlab", {"address": LOCAL, "password": TOKEN}, id="gitlab-password"),
        pytest.param("gitea", {"address": LOCAL, "token": TOKEN}, id="gitea"),
        pytest.param("bitbucket", {"address": LOCAL, "token": f"user:{TOKEN}"}, id="bitbucket"),
    ],
)
def test_no_secret_appears_in_a_repr(provider_type: str, options: dict[str, str]) -> None:
    settings = providers.ProviderSettings(**options, mask=options.get("token", ""))  # type: ignore[arg-type]
    requests = providers.requests(provider_type, settings, an_event(), commit_status=STATUS_ID)
    basic = base64.b64encode(f"user:{TOKEN}".encode()).decode()
    for text in [repr(settings), *map(repr, requests)]:
        assert TOKEN not in text
        assert basic not in text


def test_no_secret_appears_in_an_error() -> None:
    settings = providers.ProviderSettings(address=f"hooks/{TOKEN}", token=TOKEN, mask=TOKEN)
    with pytest.raises(providers.ProviderError) as caught:
        providers.validate("generic-hmac", settings)
    assert str(caught.value) == 'invalid hook URL hooks/*****: parse "hooks/*****": invalid URI for request'
    request = only("telegram", providers.ProviderSettings(channel="c", token=TOKEN, mask=TOKEN), an_event())
    assert TOKEN not in providers.gave_up_message(request, 5)
    assert TOKEN not in providers.failure_message(request, 400, TOKEN.encode())


# ---------------------------------------------------------------------------------------------
# Reading a payload back


@pytest.mark.parametrize(
    ("provider_type", "address"),
    [
        ("generic", "https://hooks.example.com/flux"),
        ("slack", "https://hooks.slack.com/services/T0/B0/X"),
        ("discord", "https://discord.com/api/webhooks/1/x"),
        ("rocket", "https://rocket.example.com/hooks/x"),
        ("msteams", "https://acme.webhook.office.com/x"),
        ("msteams", "https://prod.workflows.example.com/x"),
        ("googlechat", "https://chat.googleapis.com/v1/spaces/x"),
    ],
)
@pytest.mark.parametrize("severity", ["info", "error"])
def test_a_chat_payload_reads_back_as_the_event_it_carries(
    provider_type: str, address: str, severity: ev.Severity
) -> None:
    request = only(provider_type, providers.ProviderSettings(address=address), an_event(severity))
    notice = providers.read(provider_type, request.method, request.body)
    assert notice is not None
    assert (notice.severity, notice.message) == (severity, "Applied revision main")
    assert notice.object.lower() == "kustomization/flux-system/podinfo"


def test_a_commit_status_reads_back_as_its_state_and_description() -> None:
    options = providers.ProviderSettings(address=LOCAL, token=TOKEN)
    requests = providers.requests(
        "github", options, an_event("error", "HealthCheckFailed"), commit_status=STATUS_ID
    )
    assert providers.read("github", requests[0].method, requests[0].body) is None  # the lookup
    notice = providers.read("github", requests[1].method, requests[1].body)
    assert notice == providers.Notice("error", "health check failed", STATUS_ID)
