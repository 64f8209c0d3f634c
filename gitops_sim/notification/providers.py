"""What each Provider sends: notification-controller's notifiers, without the network.

What it does: `settings` gathers what `createNotifier` reads from a Provider and its secretRef
(address, token, username, password, headers, proxy); `validate` raises the error Flux's
notifier factory raises for them (`ProviderError`, Flux's words); `requests` returns, in order,
the HTTP requests the notifier makes for one event (`HttpRequest`: method, URL, headers, body
bytes as Go writes them), or none when the notifier skips the event. The delivery rules the
caller needs are here too: which answers are successes (`is_success`), which are retried and
after how long (`RETRY_POLICIES`, `should_retry`, `backoff_ms`), when a commit status is already
there (`duplicate`), and the error texts Flux reports (`failure_message`, `gave_up_message`),
masked as Flux masks them (`mask_token`).

Types: generic, generic-hmac, slack, discord, msteams, googlechat, rocket, telegram (chat and
webhook notifiers, one POST each, through go-retryablehttp: 4 retries, 2s to 30s), and the
commit-status notifiers github, gitlab, gitea and bitbucket (a lookup of the existing status,
then a create unless it is a duplicate; gitea first asks the server's version, as its SDK does
when the client is built). The API base of a git host follows the address's scheme and host:
`github.com` is `https://api.github.com/`, any other host `<scheme>://<host>/api/v3/` (go-github
`WithEnterpriseURLs`); gitlab `<scheme>://<host>/api/v4/`; gitea `<scheme>://<host>/api/v1`.

The event passed in is the one the notifier receives, after routing: its metadata already
merged and stripped of group prefixes (`revision`, `commit`, `summary`, ...), as
`combineEventMetadata` leaves it. The commit-status id is computed by the caller
(`routing.default_commit_status`, or the Provider's commitStatusExpr).

Provenance: fluxcd/notification-controller internal/notifier (factory.go, forwarder.go,
slack.go, discord.go, teams.go, google_chat.go, rocket.go, telegram.go, github.go,
github_helpers.go, gitlab.go, gitea.go, gitea_helpers.go, bitbucket.go, util.go, client.go),
internal/server/event_handlers.go (`createNotifier`, `extractAuthFromSecret`, the masking of
Post errors) and provider_commit_status.go (`generateDefaultCommitStatus`); the clients they use:
hashicorp/go-retryablehttp v0.7.8 (`DefaultRetryPolicy`, `DefaultBackoff`, `Do`'s "giving up"
error), google/go-github v64 (`NewRequest`, `WithEnterpriseURLs`, repos_statuses.go),
xanzy/go-gitlab (the predecessor of gitlab-org/api/client-go: `NewRequest`, `PathEscape`,
commits.go), ktrysmt/go-bitbucket (commits.go, client.go), chainguard-dev/git-urls (`Parse`),
fluxcd/pkg masktoken, git (`TransformRevision`, `ExtractHashFromRevision`) and
runtime/secrets (`AuthMethodsFromSecret`). Our own code.

Callers: the notification-controller simulation's dispatch (it sends the requests over real
HTTP with the policy below). Pure: no clock, no network, no cluster; it never sends anything,
and a token, password or HMAC key never appears in its errors or in any repr.

Deliberate differences from Flux:
- Go iterates a map in random order; slack, discord, rocket, googlechat, telegram and the
  legacy MS Teams card list the metadata sorted by key (Flux's adaptive card and markdown
  already sort, with `summary` first in the card).
- bitbucket: go-bitbucket always talks to `https://api.bitbucket.org/2.0` (or the controller's
  `BITBUCKET_API_BASE_URL`); here an address on `bitbucket.org` does, and an address on any
  other host uses `<scheme>://<host>/2.0`, so a scenario can serve it locally.
- headers are the ones the Go client puts on the request (canonical names, with Go's default
  `User-Agent: Go-http-client/1.1` where the client sets none); what the transport adds
  (`Host`, `Content-Length`, `Accept-Encoding: gzip`) is left to the sender. TLS (certSecretRef,
  `ca.crt`), GitHub App authentication, proxySecretRef and the other provider types are not
  simulated (`Unsimulated`).
- URLs are checked as Go's `url.ParseRequestURI` checks them for the errors a Provider meets
  (empty, relative, bad escape, control character, bad port); Go's host-name validation is not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import typing
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gitops_sim.model import gojson, yamlsafe
from gitops_sim.model.fluxapi import notification as fluxapi
from gitops_sim.model.semver import go_quote
from gitops_sim.notification import event as ev

# ---------------------------------------------------------------------------------------------
# Constants and values

GO_USER_AGENT = "Go-http-client/1.1"
NOTIFICATION_HEADER = "Gotk-Component"
"""`gotk-component` as Go's `Header.Set` writes it: the reporting controller of the event."""
DEFAULT_TIMEOUT_MS = 15_000
"""A Provider's `spec.timeout` when omitted: the whole Post, retries included, must fit in it."""

GITHUB_USER_AGENT = "go-github/v64.0.0"
GITHUB_API_VERSION = "2022-11-28"
GITLAB_USER_AGENT = "go-gitlab"
BITBUCKET_CLOUD_API = "https://api.bitbucket.org/2.0"
BITBUCKET_STATUS_URL = "https://bitbucket.org"
TELEGRAM_API = "https://api.telegram.org/bot"
SLACK_POST_MESSAGE_URL = "https://slack.com/api/chat.postMessage"

CHAT_TYPES = ("generic", "generic-hmac", "slack", "discord", "msteams", "googlechat", "rocket", "telegram")
COMMIT_STATUS_TYPES = ("github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops")
"""Flux's `isCommitStatusProvider` (all six; the first four but bitbucketserver are simulated)."""
SIMULATED_TYPES = (*CHAT_TYPES, "github", "gitlab", "gitea", "bitbucket")

Step = Literal["post", "version", "list", "create"]
"""What a request is for: a notifier's one POST; gitea's version probe; the lookup of existing
commit statuses; the creation of the status (skipped when `duplicate` says so)."""

Client = Literal["retryablehttp", "github", "gitlab", "gitea", "bitbucket"]


class ProviderError(ValueError):
    """An error in Flux's words, with any secret masked (`mask_token`)."""


class Unsimulated(ProviderError):
    """A provider type Flux supports and this module does not simulate."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries: `retries` after the first attempt, `wait_min_ms`..`wait_max_ms`,
    `backoff` "exponential" (retryablehttp `DefaultBackoff`: min·2^n capped at max, Retry-After
    honoured on 429/503) or "linear-jitter" (n+1 times a random wait between min and max; go-gitlab
    uses 700-900ms, and the RateLimit-Reset header on 429), or "none"."""

    retries: int
    wait_min_ms: int
    wait_max_ms: int
    backoff: Literal["exponential", "linear-jitter", "none"]


RETRY_POLICIES: Mapping[Client, RetryPolicy] = {
    "retryablehttp": RetryPolicy(4, 2_000, 30_000, "exponential"),
    "gitlab": RetryPolicy(5, 700, 900, "linear-jitter"),
    "github": RetryPolicy(0, 0, 0, "none"),
    "gitea": RetryPolicy(0, 0, 0, "none"),
    "bitbucket": RetryPolicy(0, 0, 0, "none"),
}


@dataclass(frozen=True, slots=True, repr=False)
class HttpRequest:
    """One request a notifier makes. `secrets` (never shown) are masked out of the repr."""

    step: Step
    client: Client
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    proxy: str = ""
    secrets: tuple[str, ...] = field(default=(), compare=False)
    mask: str = field(default="", compare=False)
    """The Secret's token, which Flux masks out of a failed Post's error (`mask_token`)."""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}: {self._mask(v)}" for k, v in self.headers)
        return (
            f"HttpRequest({self.step} {self.method} {self._mask(self.url)} [{shown}] "
            f"body={len(self.body)} bytes{' via proxy' if self.proxy else ''})"
        )

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "*****")
        return text


@dataclass(frozen=True, slots=True, repr=False)
class ProviderSettings:
    """What `createNotifier` hands the notifier factory (see `settings`)."""

    address: str = ""
    channel: str = ""
    username: str = ""
    token: str = ""
    password: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    proxy: str = ""
    mask: str = ""
    """The Secret's `token`, trimmed: what Flux masks out of a failed Post's error."""

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.password, self.mask) if s)

    def __repr__(self) -> str:
        hidden = "*****"
        return (
            f"ProviderSettings(address={mask_token(self.address, self.mask)!r}, "
            f"channel={self.channel!r}, username={self.username!r}, "
            f"token={hidden if self.token else ''!r}, password={hidden if self.password else ''!r}, "
            f"headers={sorted(self.headers)!r}, proxy={bool(self.proxy)!r})"
        )


# ---------------------------------------------------------------------------------------------
# Secrets and masking


def mask_token(text: str, token: str) -> str:
    """fluxcd/pkg masktoken: every match of `QuoteMeta(token)*` becomes `*****`. The `*` repeats
    the token's last character, as Flux's does (`abc` also masks `ab` and `abcc`)."""
    if not token:
        return text
    return re.sub(re.escape(token) + "*", "*****", text)


def settings(spec: fluxapi.ProviderSpec, secret_data: Mapping[str, bytes] | None = None) -> ProviderSettings:
    """`createNotifier`'s options from the spec and the secretRef's data (None: no secretRef).

    The Secret's `address` (trimmed) replaces spec.address; `headers` is a YAML map; `proxy`
    (deprecated) sets the proxy; `token` and `username`/`password` come through fluxcd/pkg's
    `AuthMethodsFromSecret`, so a Secret with a username and no password (or the reverse) gives
    no credentials at all; the Secret's `username` replaces spec.username. The token used to
    mask errors is the Secret's `token`, trimmed; the notifier gets it untrimmed, as in Flux.
    """
    address = spec.address or ""
    username = spec.username or ""
    token = password = mask = ""
    headers: dict[str, str] = {}
    proxy = spec.proxy or ""
    if secret_data is not None:
        raw_address = secret_data.get("address")
        if raw_address is not None and len(raw_address) > 2048:
            raise ProviderError("invalid address in secret: address exceeds maximum length of 2048 bytes")
        if "proxy" in secret_data:
            proxy = secret_data["proxy"].decode(errors="replace").strip()
        if "headers" in secret_data:
            headers = _headers(secret_data["headers"])
        has_user, has_password = "username" in secret_data, "password" in secret_data
        if has_user == has_password:
            token = secret_data.get("token", b"").decode(errors="replace")
            if has_user:
                username = secret_data["username"].decode(errors="replace")
                password = secret_data["password"].decode(errors="replace")
        if raw_address is not None:
            address = raw_address.decode(errors="replace").strip()
        if "token" in secret_data:
            mask = secret_data["token"].decode(errors="replace").strip()
    return ProviderSettings(address, spec.channel or "", username, token, password, headers, proxy, mask)


def _headers(raw: bytes) -> dict[str, str]:
    """sigs.k8s.io/yaml into `map[string]string`, with encoding/json's type errors."""
    prefix = "failed to read headers from secret: error unmarshaling JSON: while decoding JSON: json: "
    try:
        value = yamlsafe.load(raw)
    except Exception as err:  # a YAML syntax error: Flux wraps the parser's message
        raise ProviderError(
            f"failed to read headers from secret: error converting YAML to JSON: {err}"
        ) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProviderError(
            f"{prefix}cannot unmarshal {_json_kind(value)} into Go value of type map[string]string"
        )
    out: dict[str, str] = {}
    for key, item in value.items():
        if item is not None and not isinstance(item, str):
            raise ProviderError(f"{prefix}cannot unmarshal {_json_kind(item)} into Go value of type string")
        out[str(key)] = item or ""
    return out


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


# ---------------------------------------------------------------------------------------------
# Go's URL parsing, as far as Providers meet it


_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _request_uri_error(raw: str) -> str | None:
    """The error of Go's `url.ParseRequestURI(raw)`, or None when it parses."""
    problem = _request_uri_problem(raw)
    return None if problem is None else f"parse {go_quote(raw)}: {problem}"


def _request_uri_problem(raw: str) -> str | None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return "net/url: invalid control character in URL"
    if raw == "":
        return "empty url"
    scheme, rest = _scheme(raw)
    if scheme is None:
        return "missing protocol scheme"
    rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        return None if scheme else "invalid URI for request"
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        host = authority.rpartition("@")[2]
        if bad := _ESCAPE.search(authority):
            return f"invalid URL escape {go_quote(authority[bad.start() : bad.start() + 3])}"
        port = host.rpartition("]")[2] if host.startswith("[") else host
        if ":" in port:
            digits = port.rpartition(":")[2]
            if not digits.isdigit() and digits != "":
                return f"invalid port {go_quote(':' + digits)} after host"
        rest = slash + path
    if bad := _ESCAPE.search(rest):
        return f"invalid URL escape {go_quote(rest[bad.start() : bad.start() + 3])}"
    return None


def _scheme(raw: str) -> tuple[str | None, str]:
    """Go's `getScheme`: ("", raw) when there is none, (None, raw) for a leading colon."""
    for i, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if i == 0:
                return "", raw
            continue
        if char == ":":
            return (None, raw) if i == 0 else (raw[:i].lower(), raw[i + 1 :])
        return "", raw
    return "", raw


@dataclass(frozen=True, slots=True)
class GitAddress:
    """`parseGitAddress`: `host` is `<scheme>://<host[:port]>` (ssh becomes https), `id` the path
    without its leading slashes and `.git`."""

    host: str
    id: str

    @property
    def scheme(self) -> str:
        return self.host.partition("://")[0]

    @property
    def hostname(self) -> str:
        return self.host.partition("://")[2]


_SCP = re.compile(r"^([a-zA-Z0-9-._~]+@)?([a-zA-Z0-9._-]+):([a-zA-Z0-9./._-]+)(?:\?||$)(.*)$")
_TRANSPORTS = ("ssh", "git", "git+ssh", "http", "https", "ftp", "ftps", "rsync", "file")


def parse_git_address(address: str) -> GitAddress:
    """chainguard-dev/git-urls `Parse` (a URL with a git transport, else scp-like, else a local
    path), then Flux's host and id."""
    scheme, rest = _scheme(address)
    no_fragment = rest.partition("#")[0]
    if scheme and scheme in _TRANSPORTS and _request_uri_problem(address.partition("#")[0] or "/") is None:
        host = ""
        path = no_fragment.partition("?")[0]
        if path.startswith("//"):
            authority, slash, tail = path[2:].partition("/")
            host, path = authority.rpartition("@")[2], slash + tail
        path = urllib.parse.unquote(path)
    elif len(address) <= 2048 and (found := _SCP.match(address)):
        scheme, host, path = "ssh", found.group(2), found.group(3)
    else:
        scheme, host, path = "file", "", address
    if scheme == "ssh":
        scheme = "https"
    ident = path.lstrip("/")
    ident = ident.removesuffix(".git")
    return GitAddress(f"{scheme}://{host}", ident)


# ---------------------------------------------------------------------------------------------
# Validation (the notifier factory)


def validate(provider_type: str, options: ProviderSettings, *, commit_status: str = "") -> None:
    """The error Flux's factory (`Factory.Notifier`) gives for these options, in its words.

    Flux reports it wrapped by the dispatcher: `failed to initialize notifier for provider
    '<name>': failed to initialize notifier: <this message>`.
    """
    try:
        _validate(provider_type, options, commit_status)
    except ProviderError as err:
        raise type(err)(_masked(str(err), options)) from None


def _masked(message: str, options: ProviderSettings) -> str:
    """Flux's masking of the Secret's token (`mask_token`), then any other secret, exactly."""
    message = mask_token(message, options.mask)
    for secret in options.secrets():
        message = message.replace(secret, "*****")
    return message


_HOOK_ERRORS = {
    "slack": "invalid Slack hook URL {url}: '{err}'",
    "discord": "invalid Discord hook URL {url}: '{err}'",
    "rocket": "invalid Rocket hook URL {url}: '{err}'",
    "msteams": "invalid MS Teams webhook URL {url}: '{err}'",
    "googlechat": "invalid Google Chat hook URL {url}",
    "generic": "invalid hook URL {url}: {err}",
    "generic-hmac": "invalid hook URL {url}: {err}",
}


def _validate(provider_type: str, o: ProviderSettings, commit_status: str) -> None:
    if provider_type not in FLUX_TYPES:
        raise ProviderError(f"provider {provider_type} not supported")
    if provider_type not in SIMULATED_TYPES:
        raise Unsimulated(f"provider type {provider_type} is not simulated by gitops-sim")
    if provider_type in _HOOK_ERRORS:
        err = _request_uri_error(o.address)
        if err is not None:
            raise ProviderError(_HOOK_ERRORS[provider_type].format(url=o.address, err=err))
        if provider_type == "generic-hmac" and not o.token:
            raise ProviderError("HMAC key is empty")
    elif provider_type == "telegram":
        if not o.channel:
            raise ProviderError("empty Telegram channel")
        if not o.token:
            raise ProviderError("empty Telegram token")
    else:
        _git_target(provider_type, o, commit_status)


FLUX_TYPES: tuple[str, ...] = typing.get_args(typing.get_type_hints(fluxapi.ProviderSpec)["type"])
"""Every type Flux's factory knows (the API's enum)."""


@dataclass(frozen=True, slots=True)
class _GitTarget:
    api: str
    owner: str
    repo: str
    project: str
    token: str
    username: str = ""
    password: str = ""


def _git_target(provider_type: str, o: ProviderSettings, commit_status: str) -> _GitTarget:
    token = o.token or o.password  # GitHubClientOptions, GiteaClientOptions, gitLabNotifierFunc
    if provider_type == "github":
        if not commit_status:
            raise ProviderError("commit status cannot be empty")
        if not token:
            raise ProviderError("github token or github app details must be specified")
        address = parse_git_address(o.address)
        parts = address.id.split("/")
        if len(parts) != 2:
            raise ProviderError(f"invalid repository id: '{address.id}'")
        return _GitTarget(_github_api(address), parts[0], parts[1], address.id, token)
    if provider_type == "gitlab":
        if not token:
            raise ProviderError("gitlab token cannot be empty")
        address = parse_git_address(o.address)
        if not commit_status:
            raise ProviderError("commit status cannot be empty")
        api = address.host + "/" + "api/v4/"
        return _GitTarget(api, "", "", address.id, token)
    if provider_type == "gitea":
        if not commit_status:
            raise ProviderError("commit status cannot be empty")
        if not token:
            raise ProviderError("gitea token cannot be empty")
        address = parse_git_address(o.address)
        parts = address.id.split("/")
        if len(parts) != 2:
            raise ProviderError(f"invalid repository id {go_quote(address.id)}")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in o.proxy):
            raise ProviderError("invalid proxy URL")
        return _GitTarget(address.host + "/api/v1", parts[0], parts[1], address.id, token)
    # bitbucket: no password fallback, the token is "<user>:<password>"
    if not o.token:
        raise ProviderError("bitbucket token cannot be empty")
    if not commit_status:
        raise ProviderError("commit status cannot be empty")
    address = parse_git_address(o.address)
    credentials = o.token.split(":")
    if len(credentials) != 2:
        raise ProviderError("invalid token format, expected to be <user>:<password>")
    parts = address.id.split("/")
    if len(parts) != 2:
        raise ProviderError(f"invalid repository id {go_quote(address.id)}")
    api = BITBUCKET_CLOUD_API if address.hostname == "bitbucket.org" else address.host + "/2.0"
    return _GitTarget(api, parts[0], parts[1], address.id, o.token, credentials[0], credentials[1])


def _github_api(address: GitAddress) -> str:
    if address.hostname == "github.com":
        return "https://api.github.com/"
    host = address.hostname.rpartition("@")[2]
    if host.startswith("api.") or ".api." in host:
        return address.host + "/"
    return address.host + "/api/v3/"


# ---------------------------------------------------------------------------------------------
# Requests


def requests(
    provider_type: str, options: ProviderSettings, event: ev.Event, *, commit_status: str = ""
) -> tuple[HttpRequest, ...]:
    """The requests the notifier makes for `event`, in order (see the module docstring).

    Raises `ProviderError` for the factory's errors (`validate`) and for the ones the notifier's
    Post raises before sending (`missing revision metadata`, `failed to extract commit hash from
    '<rev>' revision`). An empty tuple: the notifier skips the event (github, gitlab and
    bitbucket skip reason `Progressing`).
    """
    validate(provider_type, options, commit_status=commit_status)
    try:
        if provider_type in CHAT_TYPES:
            return (_chat(provider_type, options, event),)
        return _commit_status(provider_type, options, event, commit_status)
    except ProviderError as err:
        raise ProviderError(_masked(str(err), options)) from None


def _headers_of(pairs: Mapping[str, str], *, user_agent: str = GO_USER_AGENT) -> tuple[tuple[str, str], ...]:
    headers = {canonical_header(k): v for k, v in pairs.items()}
    headers.setdefault("User-Agent", user_agent)
    return tuple(sorted(headers.items()))


def canonical_header(name: str) -> str:
    """Go's `textproto.CanonicalMIMEHeaderKey` (a name with a space or other invalid byte is kept)."""
    if not name or any(not (c.isascii() and (c.isalnum() or c in "!#$%&'*+-.^_`|~")) for c in name):
        return name
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _object_name(event: ev.Event) -> str:
    obj = event.involved_object
    return f"{obj.kind.lower()}/{obj.name}.{obj.namespace}"


def _chat(provider_type: str, o: ProviderSettings, event: ev.Event) -> HttpRequest:
    url = o.address
    headers: dict[str, str] = {"Content-Type": "application/json"}
    body: bytes
    secrets = o.secrets()
    if provider_type in ("generic", "generic-hmac"):
        body = event.body()
        headers[NOTIFICATION_HEADER] = event.reporting_controller
        headers.update({canonical_header(k): v for k, v in o.headers.items()})
        if provider_type == "generic-hmac":
            digest = hmac.new(o.token.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Signature"] = f"sha256={digest}"
    elif provider_type == "slack":
        body = gojson.marshal(_slack_payload(o, event))
        if o.token:
            headers["Authorization"] = "Bearer " + o.token
    elif provider_type == "discord":
        url = discord_url(o.address)
        body = gojson.marshal(_discord_payload(o, event))
    elif provider_type == "rocket":
        body = gojson.marshal(_rocket_payload(o, event))
    elif provider_type == "msteams":
        body = gojson.marshal(_msteams_payload(o.address, event))
    elif provider_type == "googlechat":
        body = gojson.marshal(_google_chat_payload(event))
    else:  # telegram
        url = f"{TELEGRAM_API}{o.token}/sendMessage"
        body = gojson.marshal(_telegram_payload(o.channel, event))
    return HttpRequest(
        "post", "retryablehttp", "POST", url, _headers_of(headers), body, o.proxy, secrets, o.mask
    )


def _fields(event: ev.Event) -> list[dict[str, Any]]:
    return [{"title": k, "value": v, "short": False} for k, v in sorted(event.metadata.items())]


def _slack_payload(o: ProviderSettings, event: ev.Event) -> dict[str, Any]:
    author = _object_name(event)
    attachment = {
        "fallback": f"{author}: {event.message.split(chr(10))[0]}",
        "color": "danger" if event.severity == ev.ERROR else "good",
        "author_name": author,
        "text": event.message,
        "mrkdwn_in": ["text"],
        "fields": _fields(event),
    }
    return {
        "channel": o.channel,
        "username": o.username or event.reporting_controller,
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [attachment],
    }


def discord_url(address: str) -> str:
    """Discord's Slack-compatible endpoint: `/slack` joined to the path unless it ends so."""
    if address.endswith("/slack"):
        return address
    parts = urllib.parse.urlsplit(address)
    path = _clean_join(parts.path, "slack")
    if parts.netloc and not path.startswith("/"):
        path = "/" + path
    return urllib.parse.urlunsplit(parts._replace(path=path))


def _clean_join(base: str, leaf: str) -> str:
    """Go's `path.Join(base, leaf)` for a clean leaf."""
    segments: list[str] = []
    rooted = base.startswith("/")
    for part in [*base.split("/"), leaf]:
        if part in ("", "."):
            continue
        if part == "..":
            if segments and segments[-1] != "..":
                segments.pop()
            elif not rooted:
                segments.append(part)
            continue
        segments.append(part)
    return ("/" if rooted else "") + "/".join(segments)


def _discord_payload(o: ProviderSettings, event: ev.Event) -> dict[str, Any]:
    attachment = {
        "fallback": "",
        "color": "danger" if event.severity == ev.ERROR else "good",
        "author_name": _object_name(event),
        "text": event.message,
        "mrkdwn_in": ["text"],
        "fields": _fields(event),
    }
    username = o.username or event.reporting_controller
    return {
        "channel": "",
        "username": username,
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [attachment],
    }


def _rocket_payload(o: ProviderSettings, event: ev.Event) -> dict[str, Any]:
    attachment = {
        "fallback": "",
        "color": "#FF0000" if event.severity == ev.ERROR else "#0076D7",
        "author_name": _object_name(event),
        "text": event.message,
        "mrkdwn_in": ["text"],
        "fields": _fields(event),
    }
    return {
        "channel": o.channel,
        "username": o.username,
        "icon_url": "",
        "icon_emoji": "",
        "attachments": [attachment],
    }


def msteams_legacy(address: str) -> bool:
    """A webhook on `*.webhook.office.com` gets the legacy MessageCard, any other an Adaptive Card."""
    host = address.partition("://")[2].partition("/")[0].rpartition("@")[2]
    return host.split(":")[0].endswith(".webhook.office.com")


def _msteams_payload(address: str, event: ev.Event) -> dict[str, Any]:
    name = _object_name(event)
    error = event.severity == ev.ERROR
    if msteams_legacy(address):
        facts = [{"name": k, "value": v} for k, v in sorted(event.metadata.items())]
        section = {"activityTitle": event.message, "activitySubtitle": name, "facts": facts}
        return {
            "@type": "MessageCard",
            "@context": "http://schema.org/extensions",
            "themeColor": "FF0000" if error else "0076D7",
            "summary": name,
            "sections": [section],
        }
    meta = dict(event.metadata)
    first = [{"title": "summary", "value": meta.pop("summary")}] if "summary" in meta else []
    facts = first + [{"title": k, "value": v} for k, v in sorted(meta.items())]
    message: dict[str, Any] = {"type": "TextBlock", "text": event.message}
    if error:
        message["color"] = "attention"
    message["wrap"] = True
    fact_set: dict[str, Any] = {"type": "FactSet"}
    if facts:
        fact_set["facts"] = facts
    title = {"type": "TextBlock", "text": name, "size": "large", "weight": "bolder", "wrap": True}
    content = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "Container", "items": [title, message, fact_set]}],
        "msteams": {"width": "Full"},
    }
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": content}
    return {"type": "message", "attachments": [attachment]}


def _google_chat_payload(event: ev.Event) -> dict[str, Any]:
    text = event.message
    if event.severity == ev.ERROR:
        text = f'<font color="#ff0000">{event.message}</font>'
    sections: list[dict[str, Any]] = [
        {"header": "", "widgets": [{"textParagraph": {"text": text}, "keyValue": None}]}
    ]
    if event.metadata:
        widgets = [
            {
                "textParagraph": None,
                "keyValue": {
                    "topLabel": k,
                    "content": v,
                    "contentMultiline": False,
                    "bottomLabel": None,
                    "icon": None,
                },
            }
            for k, v in sorted(event.metadata.items())
        ]
        sections.append({"header": "", "widgets": widgets})
    header = {
        "title": _object_name(event),
        "subtitle": event.reporting_controller,
        "imageUrl": None,
        "imageStyle": None,
    }
    return {"cards": [{"header": header, "sections": sections}]}


_TELEGRAM_SPECIAL = "\\.-_[]()~>`#+=|{}!*"


def telegram_escape(text: str) -> str:
    """Telegram's MarkdownV2 escapes, as Flux's `escapeString` applies them (each special
    character in turn, so a backslash added for one is not escaped again by a later one)."""
    for char in _TELEGRAM_SPECIAL:
        text = text.replace(char, "\\" + char)
    return text


def _telegram_payload(channel: str, event: ev.Event) -> dict[str, Any]:
    emoji = "🚨" if event.severity == ev.ERROR else "💫"
    obj = event.involved_object
    heading = f"{emoji} {obj.kind.lower()}/{obj.name}/{obj.namespace}"
    metadata = "".join(
        f"\\- *{telegram_escape(k)}*: {telegram_escape(v)}\n" for k, v in sorted(event.metadata.items())
    )
    text = f"*{telegram_escape(heading)}*\n{telegram_escape(event.message)}\n{metadata}"
    chat, sep, thread = channel.partition(":")
    payload: dict[str, Any] = {"chat_id": chat}
    if sep:
        payload["message_thread_id"] = thread
    payload["text"] = text
    payload["parse_mode"] = "MarkdownV2"
    return payload


# ---------------------------------------------------------------------------------------------
# Commit statuses


def split_camelcase(text: str) -> list[str]:
    """Flux's `splitCamelcase`: runs of lower, upper, digit and other characters, an upper run
    giving its last letter to a following lower run (`PDFLoader` → `PDF`, `Loader`)."""
    runs: list[list[str]] = []
    last = 0
    for char in text:
        category = unicodedata.category(char)
        kind = {"Ll": 1, "Lu": 2, "Nd": 3}.get(category, 4)
        if kind == last:
            runs[-1].append(char)
        else:
            runs.append([char])
        last = kind
    for i in range(len(runs) - 1):
        if unicodedata.category(runs[i][0]) == "Lu" and unicodedata.category(runs[i + 1][0]) == "Ll":
            runs[i + 1].insert(0, runs[i].pop())
    return ["".join(run) for run in runs if run]


def describe(event: ev.Event) -> tuple[str, str]:
    """`formatNameAndDescription`: (`<kind>/<name>` lower-cased, the reason's words lower-cased)."""
    obj = event.involved_object
    return f"{obj.kind}/{obj.name}".lower(), " ".join(split_camelcase(event.reason)).lower()


def commit_sha(event: ev.Event) -> str:
    """The commit the status is for: metadata `commit`, else `originRevision`, else `revision`,
    read as fluxcd/pkg/git reads revisions (`main@sha1:<hash>`, `main/<hash>`, `<hash>`)."""
    for key in (ev.META_COMMIT_KEY, ev.META_ORIGIN_REVISION_KEY, ev.META_REVISION_KEY):
        if key in event.metadata:
            revision = event.metadata[key]
            break
    else:
        raise ProviderError("missing revision metadata")
    digest = _transform_revision(revision)
    sha = _extract_hash(digest)
    if len(sha) != 40:
        raise ProviderError(f"failed to extract commit hash from '{revision}' revision")
    return sha


def _extract_hash(revision: str) -> str:
    if ":" in revision:
        return revision.rpartition(":")[2]
    return revision.split("/")[-1]


def _transform_revision(revision: str) -> str:
    if revision == "" or ":" in revision:
        return revision
    sha = _extract_hash(revision)
    algorithm = "sha1" if len(sha) == 40 else "<unknown>"
    digest = f"{algorithm}:{sha}" if sha else ""
    pointer = revision.rpartition("@")[0] if "@" in revision else ""
    if not pointer and "/" in revision and revision.rpartition("/")[0] != "HEAD":
        pointer = revision.rpartition("/")[0]
    return f"{pointer}@{digest}" if pointer else digest


STATES: Mapping[str, Mapping[str, str]] = {
    "github": {"info": "success", "error": "failure"},
    "gitlab": {"info": "success", "error": "failed"},
    "gitea": {"info": "success", "error": "failure", "progressing": "pending"},
    "bitbucket": {"info": "SUCCESSFUL", "error": "FAILED"},
}
"""Severity to each host's state; gitea alone maps reason `Progressing` (to `pending`)."""


def _commit_status(
    provider_type: str, o: ProviderSettings, event: ev.Event, commit_status: str
) -> tuple[HttpRequest, ...]:
    target = _git_target(provider_type, o, commit_status)
    progressing = event.reason == "Progressing"
    if progressing and provider_type != "gitea":
        return ()
    sha = commit_sha(event)
    state = STATES[provider_type]["progressing" if progressing else event.severity]
    name, description = describe(event)
    client: Client = "bitbucket"
    if provider_type in ("github", "gitlab", "gitea"):
        client = "github" if provider_type == "github" else "gitlab" if provider_type == "gitlab" else "gitea"
    basic = base64.b64encode(f"{target.username}:{target.password}".encode()).decode()
    secrets = (*o.secrets(), basic) if target.username else o.secrets()
    agent = {"github": GITHUB_USER_AGENT, "gitlab": GITLAB_USER_AGENT}.get(client, GO_USER_AGENT)

    def request(step: Step, method: str, url: str, headers: dict[str, str], body: bytes = b"") -> HttpRequest:
        if body:
            headers = {**headers, "Content-Type": "application/json"}
        return HttpRequest(
            step, client, method, url, _headers_of(headers, user_agent=agent), body, o.proxy, secrets, o.mask
        )

    if provider_type == "github":
        auth = {
            "Accept": "application/vnd.github.v3+json",
            "X-Github-Api-Version": GITHUB_API_VERSION,
            "Authorization": "Bearer " + target.token,
        }
        base = f"{target.api}repos/{target.owner}/{target.repo}"
        status = {"state": state, "description": description, "context": commit_status}
        # go-github encodes with SetEscapeHTML(false), and json.Encoder ends the body with a newline.
        body = (json.dumps(status, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        return (
            request("list", "GET", f"{base}/commits/{sha}/statuses?per_page=50", auth),
            request("create", "POST", f"{base}/statuses/{sha}", auth, body),
        )
    if provider_type == "gitlab":
        auth = {"Accept": "application/json", "Private-Token": target.token}
        base = f"{target.api}projects/{_segment(target.project).replace('.', '%2E')}"
        query = urllib.parse.urlencode({"name": commit_status})
        body = gojson.marshal({"state": state, "name": commit_status, "description": description})
        return (
            request("list", "GET", f"{base}/repository/commits/{sha}/statuses?{query}", auth),
            request("create", "POST", f"{base}/statuses/{sha}", auth, body),
        )
    if provider_type == "gitea":
        auth = {"Authorization": "token " + target.token}
        base = f"{target.api}/repos/{_segment(target.owner)}/{_segment(target.repo)}"
        status = {"state": state, "target_url": "", "description": description, "context": commit_status}
        return (
            request("version", "GET", f"{target.api}/version", auth),
            request("list", "GET", f"{base}/commits/{sha}/statuses?limit=50&page=1", auth),
            request("create", "POST", f"{base}/statuses/{sha}", auth, gojson.marshal(status)),
        )
    auth = {"Authorization": "Basic " + basic}
    base = f"{target.api}/repositories/{target.owner}/{target.repo}/commit/{sha}/statuses/build"
    key = hashlib.sha1(commit_status.encode()).hexdigest()  # Bitbucket's key is at most 40 characters
    status = {
        "key": key,
        "url": BITBUCKET_STATUS_URL,
        "state": state,
        "name": name,
        "description": description,
    }
    return (
        request("list", "GET", f"{base}/{key}", auth),
        request("create", "POST", base, auth, gojson.marshal(status)),
    )


def _segment(text: str) -> str:
    """Go's `url.PathEscape`."""
    return urllib.parse.quote(text, safe="!$&'()*+,;=:@")


def duplicate(create: HttpRequest, listed: bytes) -> bool:
    """Whether the host already has this status, from the lookup's answer (`listed`), so the
    create is skipped: github and gitea compare the first listed status with the same context;
    gitlab any with the same sha, state, description and name; bitbucket the one status by key
    (a 404 lookup is no status: pass b"null")."""
    mine = create.json()
    try:
        found = json.loads(listed or b"null")
    except ValueError:
        return False
    if create.client == "bitbucket":
        found = found if isinstance(found, dict) else {}
        return bool(
            found.get("state", "") == mine["state"] and found.get("description", "") == mine["description"]
        )
    if not isinstance(found, list):
        return False
    if create.client == "gitlab":
        sha = create.url.rpartition("/")[2]
        return any(
            isinstance(s, dict)
            and (s.get("sha"), s.get("status"), s.get("description"), s.get("name"))
            == (sha, mine["state"], mine["description"], mine["name"])
            for s in found
        )
    for s in found:
        if not isinstance(s, dict) or not s.get("context") or not s.get("state") or not s.get("description"):
            continue
        if s["context"] == mine["context"]:
            return bool(s["state"] == mine["state"] and s["description"] == mine["description"])
    return False


# ---------------------------------------------------------------------------------------------
# Answers, retries and errors


def is_success(request: HttpRequest, status: int, body: bytes = b"") -> bool:
    """Whether an answer ends the request well: any 2xx for the retryablehttp notifiers (a Slack
    `chat.postMessage` answer must also say `"ok": true`); go-github any 2xx but 202; go-gitlab
    200, 201, 202, 204, 304; go-bitbucket 200, 201, 202, 204 (and a 404 lookup is no status);
    gitea's SDK any 2xx."""
    if request.client == "retryablehttp":
        if not 200 <= status < 300:
            return False
        if request.url == SLACK_POST_MESSAGE_URL:
            try:
                return bool(json.loads(body).get("ok"))
            except (ValueError, AttributeError):
                return False
        return True
    if request.client == "github":
        return 200 <= status < 300 and status != 202
    if request.client == "gitlab":
        return status in (200, 201, 202, 204, 304)
    if request.client == "bitbucket":
        return status in (200, 201, 202, 204) or (request.step == "list" and status == 404)
    return 200 <= status < 300


def should_retry(request: HttpRequest, status: int | None) -> bool:
    """Whether the client tries again (`status` None: the connection failed). retryablehttp
    retries a failed connection, 429, and 0 or any 5xx but 501; go-gitlab 429 and any 5xx (not a
    failed connection); the others never."""
    client = request.client
    if client == "retryablehttp":
        return status is None or status == 429 or status == 0 or (status >= 500 and status != 501)
    if client == "gitlab":
        return status is not None and (status == 429 or status >= 500)
    return False


def backoff_ms(
    request: HttpRequest, retry: int, retry_after: str | None = None, status: int | None = None
) -> int:
    """retryablehttp's `DefaultBackoff` before retry number `retry` (0 for the first): 2s, 4s,
    8s, 16s, capped at 30s; a 429 or 503 answer's `Retry-After` seconds win. For gitlab, the
    jitter's upper bound: (retry+1) × 900ms."""
    policy = RETRY_POLICIES[request.client]
    if policy.backoff == "none":
        return 0
    if policy.backoff == "linear-jitter":
        return (retry + 1) * policy.wait_max_ms
    if status in (429, 503) and retry_after is not None and retry_after.strip().lstrip("-").isdigit():
        seconds = int(retry_after)
        if seconds >= 0:
            return seconds * 1000
    return min(policy.wait_min_ms << retry, policy.wait_max_ms)


def _redacted(url: str) -> str:
    """retryablehttp's `redactURL`: a password in the URL's user info becomes `xxxxx`."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:xxxxx@{parts.netloc.rpartition('@')[2]}"))


def _wrap(request: HttpRequest, message: str) -> str:
    prefixed = message if request.url.startswith(TELEGRAM_API) else f"postMessage failed: {message}"
    return request._mask(mask_token(prefixed, request.mask))


def failure_message(request: HttpRequest, status: int, body: bytes) -> str:
    """A retryablehttp notifier's error for an answer that is not retried and not a success, as
    the Post returns it (masked): `postMessage failed: request failed: request failed with status
    code 400: <body>`; Slack's API: `... request failed: Slack responded with error: <error>`."""
    if request.url == SLACK_POST_MESSAGE_URL and 200 <= status < 300:
        try:
            error = json.loads(body).get("error", "")
            reason = f"Slack responded with error: {error}"
        except (ValueError, AttributeError) as err:
            reason = f"unable to unmarshal response body: {err}"
    else:
        reason = f"request failed with status code {status}: {body.decode(errors='replace')}"
    return _wrap(request, f"request failed: {reason}")


def gave_up_message(request: HttpRequest, attempts: int, cause: str = "") -> str:
    """A retryablehttp notifier's error once retries are spent: `postMessage failed: failed to
    execute request: POST <url> giving up after 5 attempt(s)`, and `: <cause>` when the last
    attempt failed to connect (`cause` is Go's client error text)."""
    suffix = f": {cause}" if cause else ""
    message = f"{request.method} {_redacted(request.url)} giving up after {attempts} attempt(s){suffix}"
    return _wrap(request, f"failed to execute request: {message}")


def dispatch_error(event: ev.Event, message: str) -> str:
    """The Alert's Warning event text for a failed Post (`NotificationDispatchFailed`)."""
    obj = event.involved_object
    return f"failed to send notification for {obj.kind}/{obj.namespace}/{obj.name}: {message}"


# ---------------------------------------------------------------------------------------------
# Reading a payload back (what a scenario's sink received)


@dataclass(frozen=True, slots=True)
class Notice:
    """What a received payload says, as far as its shape tells: severity (`info`/`error`), the
    event's message, the object (`Kind/namespace/name` where the payload names it; chat payloads
    give the kind in lower case) and the reason (where the payload carries it)."""

    severity: str
    message: str
    object: str = ""
    reason: str = ""


def _from_author(author: str) -> str:
    """`kind/name.namespace` (chat payloads) as `kind/namespace/name`."""
    kind, _, rest = author.partition("/")
    name, _, namespace = rest.rpartition(".")
    return f"{kind}/{namespace}/{name}" if name else author


def read(provider_type: str, method: str, body: bytes) -> Notice | None:
    """The notice in a request `provider_type` sends (None: a lookup, or a shape not read)."""
    if method != "POST":
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if provider_type in ("generic", "generic-hmac"):
        obj = doc.get("involvedObject") or {}
        ref = f"{obj.get('kind', '')}/{obj.get('namespace', '')}/{obj.get('name', '')}"
        return Notice(
            str(doc.get("severity", "")), str(doc.get("message", "")), ref, str(doc.get("reason", ""))
        )
    if provider_type in ("slack", "discord", "rocket"):
        attachment = (doc.get("attachments") or [{}])[0]
        error = attachment.get("color") in ("danger", "#FF0000")
        author = str(attachment.get("author_name", ""))
        return Notice(ev.ERROR if error else ev.INFO, str(attachment.get("text", "")), _from_author(author))
    if provider_type == "msteams":
        if doc.get("@type") == "MessageCard":
            section = (doc.get("sections") or [{}])[0]
            error = doc.get("themeColor") == "FF0000"
            subtitle = str(section.get("activitySubtitle", ""))
            return Notice(
                ev.ERROR if error else ev.INFO, str(section.get("activityTitle", "")), _from_author(subtitle)
            )
        items = (
            ((((doc.get("attachments") or [{}])[0].get("content") or {}).get("body") or [{}])[0]).get("items")
            or []
        )
        if len(items) < 2:
            return None
        error = items[1].get("color") == "attention"
        return Notice(
            ev.ERROR if error else ev.INFO,
            str(items[1].get("text", "")),
            _from_author(str(items[0].get("text", ""))),
        )
    if provider_type == "googlechat":
        card = (doc.get("cards") or [{}])[0]
        text = str(
            (((card.get("sections") or [{}])[0].get("widgets") or [{}])[0].get("textParagraph") or {}).get(
                "text", ""
            )
        )
        error = text.startswith('<font color="#ff0000">')
        if error:
            text = text.removeprefix('<font color="#ff0000">').removesuffix("</font>")
        return Notice(
            ev.ERROR if error else ev.INFO,
            text,
            _from_author(str((card.get("header") or {}).get("title", ""))),
        )
    if provider_type in STATES:
        state = str(doc.get("state", ""))
        severity = next((s for s, v in STATES[provider_type].items() if v == state), "")
        return Notice(
            severity, str(doc.get("description", "")), str(doc.get("context") or doc.get("name") or "")
        )
    return None
