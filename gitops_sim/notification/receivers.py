"""Receivers' webhook checks: what notification-controller's receiver server does with a request.

What it does: the receiver server's decisions, as pure functions over values, without HTTP.
- `webhook_path` is a Receiver's `status.webhookPath`: `/hook/` and the hex sha256 of token, name and
  namespace; `token_of` reads the token as the Receiver reconciler does (`TokenNotFound` with its
  words); `ready_message` is the Ready condition's message; `check_spec` the reconciler's terminal
  configuration errors (CEL filters, the generic-oidc rules).
- `validate` answers a request for one Receiver: the status code the Go server writes and the error
  it logs (`Outcome`). In Flux's order: the mux (404 outside `/hook/`), the 3 MiB body limit (413),
  the receiver lookup by the full request URI (404), suspended or not Ready (503), the Secret and
  its `token` (400), then the type's own check (400): signatures (HMAC in constant time), tokens
  (compared in constant time), payload decoding, and the `events` filter for the types that carry
  an event (github `X-GitHub-Event`, gitlab `X-Gitlab-Event`, bitbucket `X-Event-Key`, cdevents
  `Ce-Type`), case-insensitively.
- `resources_to_annotate` is what an accepted request reconciles: each `spec.resources` entry by
  name, or `*` with `matchLabels`, in the entry's namespace or the Receiver's, with its apiVersion
  defaulted as Flux defaults it, and kept only when `resourceFilter` and the entry's `filter` (CEL
  over `res` and `req`) both hold. Errors are Flux's, per entry (the answer is then 500).
- `request_annotation` is the annotation written on each target, valued as Go's `metav1.Now().String()`.

Provenance (our own code; behaviour learned from): fluxcd/notification-controller
internal/server/receiver_handlers.go (`handlePayload`, `validate`, `requestReconciliation`,
`notifyDynamicResources`, `annotate`, `verifyHmacSignature`), receiver_server.go (the mux),
receiver_resource_filter.go (`newResourceFilters`, `isJSONContent`), limits.go (3 MiB),
api/v1/receiver_types.go (`GetWebhookPath`), internal/controller/receiver_controller.go (token,
Ready message, terminal errors); google/go-github `messages.go` (`ValidatePayload`,
`ValidateSignature`); fluxcd/pkg masktoken, runtime/cel and apis/meta (`reconcile.fluxcd.io/requestedAt`);
Go's mime.ParseMediaType, encoding/hex and encoding/json error texts, and time.Time.String.

Callers: the notification-controller simulation (its receiver server and Receiver reconciler).
Never: touches the cluster, reads a clock, does I/O, or puts a token or key in a message or repr.
Every check here happens before the caller writes anything: `resources_to_annotate` only plans.

Deliberate differences from Flux:
- The HTTP response body is empty in Flux for every answer but the mux's; `Outcome.error` carries
  what Flux logs instead, masked as masktoken masks (the token, its last character repeated).
- HMAC signatures and tokens (gitlab, harbor) are compared in constant time; Flux compares the
  gitlab and harbor tokens with `!=`. The answers are the same.
- gcr: the Secret's `email` and `audience` and the `Bearer ` prefix are checked as Flux checks them;
  Google's ID-token verification is not simulated, so a well-formed gcr request is refused (400)
  with a note saying so. generic-oidc is not simulated: `check_spec` marks it terminal, and
  `validate` refuses it with a note.
- cdevents: Flux validates the body against the CDEvents v0.4 JSON schema (cdevents sdk-go); here
  only the envelope is checked (a JSON object whose `context` has `type`, `id`, `source`,
  `version` and `timestamp` strings, `type` under `dev.cdevents.`, and a `subject` with an `id`),
  with our own words after Flux's `unable to validate CDEvent event: `.
- Go's JSON decoder error texts are reproduced for the common cases (empty and truncated bodies,
  an unexpected character, a field of the wrong type); rarer syntax errors may be worded differently.
- CEL: the expressions run on `gitops_sim.model.cel`, which does not type-check; Flux rejects at
  reconcile an expression whose type is not bool (`check_spec` only rejects syntax errors).
- The mux: Go's ServeMux also cleans paths (`/hook/../x` is redirected); only `/hook` → `/hook/`
  (301) is modelled. Flux does not check the method: any method is handled like POST, here too.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from gitops_sim.model import cel
from gitops_sim.model.fluxapi import notification as api
from gitops_sim.model.semver import go_quote
from gitops_sim.notification.providers import mask_token

WEBHOOK_PATH_PREFIX = "/hook/"
MAX_REQUEST_SIZE_BYTES = 3 * 1024 * 1024
REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt"

DEFAULT_API_VERSIONS: Mapping[str, str] = {
    "Bucket": "source.toolkit.fluxcd.io/v1",
    "HelmChart": "source.toolkit.fluxcd.io/v1",
    "HelmRepository": "source.toolkit.fluxcd.io/v1",
    "GitRepository": "source.toolkit.fluxcd.io/v1",
    "OCIRepository": "source.toolkit.fluxcd.io/v1",
    "ImageRepository": "image.toolkit.fluxcd.io/v1",
    "ArtifactGenerator": "source.extensions.fluxcd.io/v1beta1",
}
"""The apiVersion of a `resources` entry that sets none; other kinds must set one."""

TERMINAL_PREFIX = "Reconciliation failed terminally due to configuration error"
NOT_SIMULATED_OIDC = "generic-oidc receivers are not simulated by gitops-sim (OIDC token verification)"
NOT_SIMULATED_GCR = "Google ID token verification is not simulated by gitops-sim"

# The Authorization-like headers a Request's repr never shows.
_SECRET_HEADERS = frozenset({"authorization", "x-gitlab-token"})


# ---------------------------------------------------------------------------------------------
# The Receiver reconciler's part


class TokenNotFound(Exception):
    """The Receiver's Secret or its `token` key is missing (Ready=False, reason `TokenNotFound`)."""

    reason = "TokenNotFound"


def webhook_path(token: str, name: str, namespace: str) -> str:
    """`status.webhookPath`: `/hook/` and hex(sha256(token + name + namespace))."""
    digest = hashlib.sha256((token + name + namespace).encode()).hexdigest()
    return WEBHOOK_PATH_PREFIX + digest


def token_of(secret_data: Mapping[str, bytes] | None, namespace: str, secret_name: str) -> str:
    """The `token` of the Receiver's Secret (`None`: the Secret does not exist), as the reconciler reads it.

    Raises `TokenNotFound` with the reconciler's words. A generic-oidc Receiver has no Secret and
    its token is "": the caller does not call this for it.
    """
    key = f"{namespace}/{secret_name}"
    if secret_data is None:
        raise TokenNotFound(
            f"unable to read token from secret '{key}' error: secrets {go_quote(secret_name)} not found"
        )
    if "token" not in secret_data:
        raise TokenNotFound(f"invalid '{key}' secret data: required fields 'token'")
    return secret_data["token"].decode(errors="replace")


def ready_message(path: str) -> str:
    """The Ready=True `Succeeded` message once the webhook path is known."""
    return f"Receiver initialized for path: {path}"


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """A terminal configuration error: Ready=False and Stalled with `reason`, `message`."""

    reason: str
    message: str


def check_spec(spec: api.ReceiverSpec) -> SpecProblem | None:
    """The reconciler's terminal checks, in its order, before it reads the Secret."""
    problem: tuple[str, str] | None = None
    if spec.resource_filter:
        error = _compile_error(spec.resource_filter)
        if error:
            problem = ("InvalidCELExpression", f"invalid resourceFilter expression: {error}")
    if problem is None:
        for i, res in enumerate(spec.resources):
            error = _compile_error(res.filter) if res.filter else None
            if error:
                problem = (
                    "InvalidCELExpression",
                    f"invalid filter expression for resources[{i}] "
                    f"(kind={go_quote(res.kind)}, name={go_quote(res.name)}): {error}",
                )
                break
    if problem is None:
        problem = _oidc_rule(spec)
    if problem is None and spec.type == "generic-oidc":
        problem = ("ValidationFailed", NOT_SIMULATED_OIDC)
    if problem is None:
        return None
    return SpecProblem(problem[0], f"{TERMINAL_PREFIX}: {problem[1]}")


def _oidc_rule(spec: api.ReceiverSpec) -> tuple[str, str] | None:
    oidc = spec.type == "generic-oidc"
    if oidc and not spec.oidc_providers:
        return ("ValidationFailed", "generic-oidc receiver requires at least one oidcProvider")
    if not oidc and spec.oidc_providers:
        return ("ValidationFailed", "oidcProviders can only be set when type is generic-oidc")
    if oidc and spec.secret_ref is not None:
        return ("ValidationFailed", "secretRef cannot be set when type is generic-oidc")
    if not oidc and spec.secret_ref is None:
        return ("ValidationFailed", "secretRef is required when type is not generic-oidc")
    return None


def _compile_error(expression: str) -> str | None:
    try:
        cel.Expression.parse(expression)
    except cel.CelError as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------------------------------
# The request and the answer


class Headers(Mapping[str, str]):
    """HTTP headers looked up case-insensitively, as Go's `Header.Get` does (the first value wins)."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in (headers or {}).items():
            items.setdefault(name.lower(), (name, value))
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get_go(self, name: str) -> str:
        """`Header.Get`: the value, or "" when absent."""
        return self.get(name) or ""

    def __repr__(self) -> str:
        shown = [n if n.lower() not in _SECRET_HEADERS else f"{n}=*****" for n in self]
        return f"Headers({shown!r})"


@dataclass(frozen=True, slots=True)
class Request:
    """One webhook request. `path` is the request URI (with its query, as Flux's lookup uses it)."""

    method: str
    path: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def of(
        cls, method: str, path: str, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Request:
        return cls(method, path, Headers(headers), body)

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path}, {self.headers!r}, body={len(self.body)} bytes)"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer: `status` is the code the Go server writes (200: accepted, so far).

    `log` is the message Flux logs with `error` (Flux writes neither to the response: `body` is what
    the response carries); where Flux logs nothing of its own (the mux, an unknown path) it is our
    short description, and "" for an accepted generic or generic-hmac request. `event` is the event
    type for the types that carry one. An accepted request may still be answered 500 if reconciling
    its resources fails (`Plan.status`).
    """

    status: int
    log: str
    error: str = ""
    event: str = ""
    body: bytes = b""

    @property
    def accepted(self) -> bool:
        return self.status == HTTPStatus.OK


@dataclass(frozen=True, slots=True)
class Found:
    """The Receiver the server found for a path: what it knows of it besides the spec."""

    namespace: str
    name: str
    webhook_path: str
    """`status.webhookPath`, "" while the Receiver has none."""
    ready: bool


def _refuse(status: int, log: str, error: str = "", token: str = "", body: bytes = b"") -> Outcome:
    return Outcome(int(status), log, mask_token(error, token), body=body)


def admit(request: Request) -> Outcome | None:
    """The mux and the body limit, before any Receiver is looked up (`None`: passed)."""
    url_path = request.path.partition("?")[0]
    if url_path == WEBHOOK_PATH_PREFIX.rstrip("/"):
        return _refuse(HTTPStatus.MOVED_PERMANENTLY, "redirected to /hook/")
    if not url_path.startswith(WEBHOOK_PATH_PREFIX):
        return _refuse(HTTPStatus.NOT_FOUND, "no handler", body=b"404 page not found\n")
    if len(request.body) > MAX_REQUEST_SIZE_BYTES:
        return _refuse(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "reading the request body failed",
            f"request body exceeds the maximum size of {MAX_REQUEST_SIZE_BYTES} bytes",
        )
    return None


def validate(
    receiver_type: str,
    spec: api.ReceiverSpec,
    secret_data: Mapping[str, bytes] | None,
    request: Request,
    *,
    receiver: Found | None,
) -> Outcome:
    """The answer to `request` for the Receiver found at its path (`None`: none was found).

    `secret_data` is the Receiver's Secret as read at request time (`None`: not found); Flux reads
    it for every request, and gcr also reads `email` and `audience` from it. `receiver_type` is
    `spec.type` as stored (kept apart so an unknown type can be answered as Flux answers it).
    """
    early = admit(request)
    if early is not None:
        return early
    if receiver is None or not receiver.webhook_path or receiver.webhook_path != request.path:
        return _refuse(HTTPStatus.NOT_FOUND, "no receiver for path")
    if spec.suspend:
        return _refuse(HTTPStatus.SERVICE_UNAVAILABLE, "receiver is suspended", "unable to process request")
    if not receiver.ready:
        return _refuse(HTTPStatus.SERVICE_UNAVAILABLE, "receiver is not ready", "unable to process request")
    token = ""
    if spec.secret_ref is not None:
        key = go_quote(f"{receiver.namespace}/{spec.secret_ref.name}")
        if secret_data is None:
            error = f"unable to read secret {key}: secrets {go_quote(spec.secret_ref.name)} not found"
            return _refuse(
                HTTPStatus.BAD_REQUEST, "unable to validate payload", f"unable to read secret, error: {error}"
            )
        if "token" not in secret_data:
            error = f"invalid {key} secret data: required field 'token'"
            return _refuse(HTTPStatus.BAD_REQUEST, "unable to validate payload", error)
        token = secret_data["token"].decode(errors="replace")
    check = _CHECKS.get(receiver_type)
    if check is None:
        error = f"recevier type {go_quote(receiver_type)} not supported"
        return _refuse(HTTPStatus.BAD_REQUEST, "unable to validate payload", error, token)
    try:
        event, log = check(spec, token, request, secret_data or {})
    except _Refused as exc:
        return _refuse(HTTPStatus.BAD_REQUEST, "unable to validate payload", str(exc), token)
    return Outcome(int(HTTPStatus.OK), mask_token(log, token), event=mask_token(event, token))


class _Refused(Exception):
    pass


_Check = Callable[[api.ReceiverSpec, str, Request, Mapping[str, bytes]], tuple[str, str]]


def _allowed(spec: api.ReceiverSpec, event: str, what: str) -> None:
    if spec.events and not any(event.casefold() == e.casefold() for e in spec.events):
        raise _Refused(f"the {what} {go_quote(event)} is not authorised")


def _check_generic(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    return "", ""


def _check_generic_hmac(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    error = _validate_signature(request.headers.get_go("X-Signature"), request.body, token.encode())
    if error:
        raise _Refused(f"unable to validate HMAC signature: {error}")
    return "", ""


def _check_github_style(request: Request, token: str) -> str | None:
    """go-github's `ValidatePayload`: the signature header, the content type, the HMAC."""
    signature = request.headers.get_go("X-Hub-Signature-256") or request.headers.get_go("X-Hub-Signature")
    media_type, error = _parse_media_type(request.headers.get_go("Content-Type"))
    if error:
        return error
    if media_type == "application/x-www-form-urlencoded":
        error = _query_error(request.body.decode(errors="replace"))
        if error:
            return error
    elif media_type != "application/json":
        return f"webhook request has unsupported Content-Type {go_quote(media_type)}"
    if token or signature:
        return _validate_signature(signature, request.body, token.encode())
    return None


def _check_github(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    error = _check_github_style(request, token)
    if error:
        raise _Refused(f"the GitHub signature header is invalid, err: {error}")
    event = request.headers.get_go("X-GitHub-Event")
    _allowed(spec, event, "GitHub event")
    return event, f"handling GitHub event: {event}"


def _check_bitbucket(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    error = _check_github_style(request, token)
    if error:
        raise _Refused(f"the Bitbucket server signature header is invalid, err: {error}")
    event = request.headers.get_go("X-Event-Key")
    _allowed(spec, event, "Bitbucket server event")
    return event, f"handling Bitbucket server event: {event}"


def _check_gitlab(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    if not _equal(request.headers.get_go("X-Gitlab-Token"), token):
        raise _Refused("the X-Gitlab-Token header value does not match the receiver token")
    event = request.headers.get_go("X-Gitlab-Event")
    _allowed(spec, event, "GitLab event")
    return event, f"handling GitLab event: {event}"


def _check_harbor(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    if not _equal(request.headers.get_go("Authorization"), token):
        raise _Refused("the Harbor Authorization header value does not match the receiver token")
    return "", "handling Harbor event"


def _check_cdevents(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    event = request.headers.get_go("Ce-Type")
    error = _cdevent_error(request.body)
    if error:
        raise _Refused(f"unable to validate CDEvent event: {error}")
    _allowed(spec, event, "CDEvent")
    return event, f"handling CDEvent: {event}"


def _cdevent_error(body: bytes) -> str | None:
    value, error = _decode_first(body)
    if error:
        return error
    if not isinstance(value, dict) or not isinstance(value.get("context"), dict):
        return "the CDEvent has no context"
    context = value["context"]
    for key in ("type", "id", "source", "version", "timestamp"):
        if not isinstance(context.get(key), str) or not context[key]:
            return f"the CDEvent context has no {key}"
    if not context["type"].startswith("dev.cdevents."):
        return f"unknown CDEvent type {go_quote(context['type'])}"
    subject = value.get("subject")
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str) or not subject["id"]:
        return "the CDEvent subject has no id"
    return None


_QUAY = {"docker_url": "string", "updated_tags": "[]string"}
_DOCKERHUB = {"push_data": {"tag": "string"}, "repository": {"repo_url": "string"}}
_NEXUS = {"action": "string", "repositoryName": "string"}
_ACR = {"action": "string", "target": ("target", {"repository": "string", "tag": "string"})}


def _check_quay(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    value, error = _decode_struct(request.body, _QUAY, first_only=True)
    if error:
        raise _Refused(f"cannot decode Quay webhook payload: {error}")
    return "", f"handling Quay event from {_str(value, 'docker_url')}"


def _check_dockerhub(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    value, error = _decode_struct(request.body, _DOCKERHUB, first_only=True)
    if error:
        raise _Refused("cannot decode DockerHub webhook payload")
    url, tag = _str(value.get("repository"), "repo_url"), _str(value.get("push_data"), "tag")
    return "", f"handling DockerHub event from {url} for tag {tag}"


def _check_nexus(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    signature = request.headers.get_go("X-Nexus-Webhook-Signature")
    if not signature:
        raise _Refused("the Nexus signature is missing from header")
    expected = hmac.new(token.encode(), request.body, hashlib.sha1).hexdigest()
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise _Refused("invalid Nexus signature")
    value, error = _decode_struct(request.body, _NEXUS, first_only=False)
    if error:
        raise _Refused(f"cannot decode Nexus webhook payload: {error}")
    return "", f"handling Nexus event from {_str(value, 'repositoryName')}"


def _check_acr(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    value, error = _decode_struct(request.body, _ACR, first_only=True)
    if error:
        raise _Refused(f"cannot decode ACR webhook payload: {error}")
    target = value.get("target")
    return "", f"handling ACR event from {_str(target, 'repository')} for tag {_str(target, 'tag')}"


def _check_gcr(
    spec: api.ReceiverSpec, token: str, request: Request, secret: Mapping[str, bytes]
) -> tuple[str, str]:
    if spec.secret_ref is None:
        raise _Refused("secretRef is required for GCR receivers")
    if not secret.get("email"):
        raise _Refused("invalid secret data: required field 'email' for GCR receiver")
    if not secret.get("audience"):
        raise _Refused("invalid secret data: required field 'audience' for GCR receiver")
    if not request.headers.get_go("Authorization").startswith("Bearer "):
        raise _Refused("cannot authenticate GCR request: the Authorization header is missing or malformed")
    raise _Refused(f"cannot authenticate GCR request: {NOT_SIMULATED_GCR}")


def _check_generic_oidc(
    spec: api.ReceiverSpec, token: str, request: Request, _: Mapping[str, bytes]
) -> tuple[str, str]:
    raise _Refused(NOT_SIMULATED_OIDC)


_CHECKS: Mapping[str, _Check] = {
    "generic": _check_generic,
    "generic-hmac": _check_generic_hmac,
    "generic-oidc": _check_generic_oidc,
    "github": _check_github,
    "gitlab": _check_gitlab,
    "bitbucket": _check_bitbucket,
    "harbor": _check_harbor,
    "dockerhub": _check_dockerhub,
    "quay": _check_quay,
    "gcr": _check_gcr,
    "nexus": _check_nexus,
    "acr": _check_acr,
    "cdevents": _check_cdevents,
}


# ---------------------------------------------------------------------------------------------
# Signatures, tokens, quoting, masking


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _validate_signature(signature: str, payload: bytes, key: bytes) -> str | None:
    """go-github's `ValidateSignature`: `<sha1|sha256|sha512>=<hex>`; the error, or None."""
    if not signature:
        return "missing signature"
    algorithm, sep, digest = signature.partition("=")
    if not sep:
        return f"error parsing signature {go_quote(signature)}"
    hashes = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
    if algorithm not in hashes:
        return f"unknown hash type prefix: {go_quote(algorithm)}"
    decoded, error = _hex_decode(digest)
    if error:
        return f"error decoding signature {go_quote(signature)}: {error}"
    expected = hmac.new(key, payload, hashes[algorithm]).digest()
    if not hmac.compare_digest(decoded, expected):
        return "payload signature check failed"
    return None


def _hex_decode(text: str) -> tuple[bytes, str | None]:
    """Go's `hex.DecodeString`, with its errors (an invalid byte is reported before an odd length)."""
    for char in text:
        if char not in "0123456789abcdefABCDEF":
            return b"", f"encoding/hex: invalid byte: {_go_rune(char)}"
    if len(text) % 2:
        return b"", "encoding/hex: odd length hex string"
    return binascii.unhexlify(text), None


def _go_rune(char: str) -> str:
    """Go's `%#U`: `U+0067 'g'` (the character only when printable)."""
    code = f"U+{ord(char):04X}"
    return f"{code} '{char}'" if char.isprintable() else code


# ---------------------------------------------------------------------------------------------
# Go's mime and JSON decoding, as far as the checks need them

_TSPECIALS = set('()<>@,;:\\"/[]?=')


def _token_prefix(text: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and 0x20 < ord(text[end]) < 0x7F and text[end] not in _TSPECIALS:
        end += 1
    return text[:end], text[end:]


def _query_error(text: str) -> str | None:
    """Go's `url.ParseQuery` error (the first), or None."""
    for pair in text.split("&"):
        if ";" in pair:
            return "invalid semicolon separator in query"
        for part in pair.split("=", 1):
            for i in (m.start() for m in re.finditer("%", part)):
                escape = part[i : i + 3]
                if len(escape) < 3 or not all(c in "0123456789abcdefABCDEF" for c in escape[1:]):
                    return f"invalid URL escape {go_quote(escape)}"
    return None


def _parse_media_type(value: str) -> tuple[str, str | None]:
    """Go's `mime.ParseMediaType`: the lower-cased media type, or its error (parameters checked
    for form only)."""
    base, _, params = value.partition(";")
    media_type = base.strip().lower()
    kind, rest = _token_prefix(media_type)
    if not kind:
        return "", "mime: no media type"
    if rest:
        if not rest.startswith("/"):
            return "", "mime: expected slash after first token"
        subtype, rest = _token_prefix(rest[1:])
        if not subtype:
            return "", "mime: expected token after slash"
        if rest:
            return "", "mime: unexpected content after media subtype"
    pieces = [p.strip() for p in params.split(";")] if params else []
    seen: set[str] = set()
    for i, piece in enumerate(pieces):
        if not piece:
            if i == len(pieces) - 1:
                break
            return media_type, "mime: invalid media parameter"
        name, eq, val = piece.partition("=")
        key, leftover = _token_prefix(name.strip())
        if not key or leftover or not eq or not (val and (_token_prefix(val)[0] == val or _quoted(val))):
            return media_type, "mime: invalid media parameter"
        if key.lower() in seen:
            return media_type, "mime: duplicate parameter name"
        seen.add(key.lower())
    return media_type, None


def _quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == '"' and text[-1] == '"'


def _is_json_content(headers: Headers) -> bool:
    """`isJSONContent`: one of the comma-separated Content-Type values is application/json."""
    for value in headers.get_go("Content-type").split(","):
        media_type, error = _parse_media_type(value)
        if error:
            break
        if media_type == "application/json":
            return True
    return False


_CONTEXTS = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
}


def _syntax_error(text: str, exc: json.JSONDecodeError) -> str:
    """Go's wording for a JSON syntax error, from Python's (the common cases)."""
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    char = text[exc.pos]
    shown = {"'": "'\\''", '"': "'\"'"}.get(char) or f"'{go_quote(char)[1:-1]}'"
    if exc.msg == "Expecting ',' delimiter":
        where = "after object key:value pair" if _innermost(text[: exc.pos]) == "{" else "after array element"
        return f"invalid character {shown} {where}"
    if exc.msg.startswith("Invalid control character"):
        return f"invalid character {shown} in string literal"
    return f"invalid character {shown} {_CONTEXTS.get(exc.msg, 'looking for beginning of value')}"


def _innermost(text: str) -> str:
    """The innermost JSON container open at the end of `text` ("{", "[" or "")."""
    open_: list[str] = []
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            open_.append(c)
        elif c in "]}" and open_:
            open_.pop()
    return open_[-1] if open_ else ""


def _decode_first(body: bytes) -> tuple[Any, str | None]:
    """`json.NewDecoder(body).Decode`: the first JSON value (trailing data is not read)."""
    text = body.decode(errors="replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        return None, "EOF"
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        return None, _syntax_error(text, exc)
    return value, None


def _decode_all(body: bytes) -> tuple[Any, str | None]:
    """`json.Unmarshal`: exactly one JSON value."""
    text = body.decode(errors="replace")
    if not text.strip(" \t\r\n"):
        return None, "unexpected end of JSON input"
    value, error = _decode_first(body)
    if error:
        return None, "unexpected end of JSON input" if error == "unexpected EOF" else error
    end = json.JSONDecoder().raw_decode(text, len(text) - len(text.lstrip(" \t\r\n")))[1]
    rest = text[end:].lstrip(" \t\r\n")
    if rest:
        return None, f"invalid character '{rest[0]}' after top-level value"
    return value, None


_KINDS = {str: "string", bool: "bool", int: "number", float: "number", list: "array", dict: "object"}
_Schema = Mapping[str, Any]


def _decode_struct(body: bytes, schema: _Schema, *, first_only: bool) -> tuple[dict[str, Any], str | None]:
    """Decode into Go's local `payload` struct (fields by JSON name; unknown fields ignored)."""
    value, error = _decode_first(body) if first_only else _decode_all(body)
    if error:
        return {}, error
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        return {}, f"json: cannot unmarshal {_KINDS[type(value)]} into Go value of type server.payload"
    mismatch = _mismatch(value, schema, "payload", ())
    return value, mismatch


def _mismatch(value: dict[str, Any], schema: _Schema, struct: str, path: tuple[str, ...]) -> str | None:
    for key, kind in schema.items():
        got = value.get(key)
        if got is None:
            continue
        where = (*path, key)
        if isinstance(kind, tuple):
            struct_name, kind = kind[0], kind[1]
        else:
            struct_name = struct
        if isinstance(kind, Mapping):
            if not isinstance(got, dict):
                go_type = "struct { " + "; ".join(f"{k} string" for k in kind) + " }"
                return _type_error(got, struct, where, go_type)
            found = _mismatch(got, kind, struct_name, where)
            if found:
                return found
        elif kind == "string" and not isinstance(got, str):
            return _type_error(got, struct, where, "string")
        elif kind == "[]string":
            if not isinstance(got, list):
                return _type_error(got, struct, where, "[]string")
            for item in got:
                if item is not None and not isinstance(item, str):
                    return _type_error(item, struct, where, "string")
    return None


def _type_error(got: Any, struct: str, path: tuple[str, ...], go_type: str) -> str:
    where = f"{struct}.{'.'.join(path)}"
    return f"json: cannot unmarshal {_KINDS[type(got)]} into Go struct field {where} of type {go_type}"


def _str(value: Any, key: str) -> str:
    """A string field of a decoded payload, "" when absent (Go's zero value)."""
    if isinstance(value, dict) and isinstance(value.get(key), str):
        return str(value[key])
    return ""


# ---------------------------------------------------------------------------------------------
# The resources an accepted request reconciles


class ListError(Exception):
    """Raised by a `Lister` when the API refuses the read; its text is the API's error."""


Lister = Callable[[str, str, str, Mapping[str, str] | None], Sequence[Mapping[str, Any]]]
"""`lister(kind, namespace, name_or_star, match_labels)`: the objects (apiVersion, kind, metadata)
named, or, for `*`, those in the namespace carrying all the labels. A missing named object is `[]`."""


@dataclass(frozen=True, slots=True)
class Target:
    """One object to annotate."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def annotate_error(self, error: str) -> str:
        """Flux's error when the annotation patch fails (the caller's part)."""
        key = go_quote(f"{self.namespace}/{self.name}")
        return (
            f"failed to annotate resource: '{self.kind}/{self.name}.{self.namespace}': "
            f"unable to annotate {self.kind} {key} error: {error}"
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """What one `spec.resources` entry selects: the targets, in order, and the entry's error."""

    resource: api.ReceiverResource
    targets: tuple[Target, ...] = ()
    filtered_out: tuple[Target, ...] = ()
    """Objects a CEL filter rejected (Flux logs them as NOT annotated)."""
    error: str = ""
    """Flux's error for the entry: the answer becomes 500 (the other entries still reconcile)."""
    note: str = ""
    """What Flux logs without failing (a wildcard that matched nothing)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """The targets of an accepted request; the caller annotates them in order.

    For a `*` entry the caller stops at the first failed patch of that entry (Flux returns there),
    and answers 500 if any patch failed.
    """

    selections: tuple[Selection, ...] = ()
    error: str = ""
    """`newResourceFilters` failed (500, nothing is annotated)."""

    @property
    def targets(self) -> tuple[Target, ...]:
        return tuple(t for s in self.selections for t in s.targets)

    @property
    def status(self) -> int:
        failed = self.error or any(s.error for s in self.selections)
        return int(HTTPStatus.INTERNAL_SERVER_ERROR if failed else HTTPStatus.OK)


_Filter = Callable[[Mapping[str, Any]], bool]


def resources_to_annotate(
    spec: api.ReceiverSpec,
    lister: Lister,
    *,
    namespace: str,
    request: Request,
    no_cross_namespace_refs: bool = False,
) -> Plan:
    """What an accepted request reconciles (see the module docstring). `namespace` is the Receiver's."""
    try:
        filters = _filters(spec, request)
    except cel.CelError as exc:
        return Plan(error=str(exc))
    except ValueError as exc:
        return Plan(error=f"failed to parse request body as JSON: {exc}")
    selections = [
        _select(res, check, lister, namespace, no_cross_namespace_refs)
        for res, check in zip(spec.resources, filters, strict=True)
    ]
    return Plan(tuple(selections))


def _filters(spec: api.ReceiverSpec, request: Request) -> list[_Filter | None]:
    """`newResourceFilters`: the stacked CEL filters per entry (`None`: accept all)."""
    if not spec.resource_filter and not any(r.filter for r in spec.resources):
        return [None] * len(spec.resources)
    req: Any = {}
    if _is_json_content(request.headers):
        req, error = _decode_first(request.body)
        if error:
            raise ValueError(error)
        if req is None:
            req = {}
        elif not isinstance(req, dict):
            raise ValueError(
                f"json: cannot unmarshal {_KINDS[type(req)]} into Go value of type map[string]interface {{}}"
            )
    top = cel.Expression.parse(spec.resource_filter) if spec.resource_filter else None
    out: list[_Filter | None] = []
    for res in spec.resources:
        expressions = [e for e in (top, cel.Expression.parse(res.filter) if res.filter else None) if e]
        out.append(_stack(tuple(expressions), req) if expressions else None)
    return out


def _stack(expressions: tuple[cel.Expression, ...], req: Mapping[str, Any]) -> _Filter:
    def accept(res: Mapping[str, Any]) -> bool:
        return all(e.evaluate({"res": dict(res), "req": dict(req)}) for e in expressions)

    return accept


def _select(
    res: api.ReceiverResource, accept: _Filter | None, lister: Lister, default_ns: str, no_cross: bool
) -> Selection:
    namespace = default_ns
    if res.namespace:
        if no_cross and res.namespace != default_ns:
            return Selection(res, error="cross-namespace references are not allowed")
        namespace = res.namespace
    api_version = res.api_version or DEFAULT_API_VERSIONS.get(res.kind, "")
    if not api_version:
        return Selection(res, error=f"apiVersion must be specified for kind {go_quote(res.kind)}")
    if res.name == "*":
        if res.match_labels is None:
            return Selection(res, error="matchLabels field not set when using wildcard '*' as name")
        try:
            found = lister(res.kind, namespace, "*", res.match_labels)
        except ListError as exc:
            labels = _go_map(res.match_labels)
            error = (
                f"failed listing resources in namespace {go_quote(namespace)} "
                f"by matching labels {labels}: {exc}"
            )
            return Selection(res, error=error)
        if not found:
            labels = _go_map(res.match_labels)
            note = (
                f"no {go_quote(res.kind)} resources found with matching labels {labels}' "
                f"in {go_quote(namespace)} namespace"
            )
            return Selection(res, note=note)
    else:
        try:
            found = lister(res.kind, namespace, res.name, None)
        except ListError as exc:
            found, missing = (), str(exc)
        else:
            missing = f"{_plural(res.kind)}.{api_version.rpartition('/')[0]} {go_quote(res.name)} not found"
        if not found:
            key = go_quote(f"{namespace}/{res.name}")
            return Selection(res, error=f"unable to read {res.kind} {key} error: {missing}")
    return _filtered(res, api_version, found, accept)


def _filtered(
    res: api.ReceiverResource, api_version: str, found: Sequence[Mapping[str, Any]], accept: _Filter | None
) -> Selection:
    targets: list[Target] = []
    rejected: list[Target] = []
    for obj in found:
        metadata = obj.get("metadata") or {}
        target = Target(
            api_version, res.kind, str(metadata.get("namespace", "")), str(metadata.get("name", ""))
        )
        if accept is not None:
            view = {"kind": res.kind, "apiVersion": api_version, "metadata": dict(metadata)}
            try:
                ok = accept(view)
            except cel.CelError as exc:
                return Selection(res, tuple(targets), tuple(rejected), error=str(exc))
            if not ok:
                rejected.append(target)
                continue
        targets.append(target)
    return Selection(res, tuple(targets), tuple(rejected))


def _plural(kind: str) -> str:
    lower = kind.lower()
    return lower[:-1] + "ies" if lower.endswith("y") else lower + "s"


def _go_map(labels: Mapping[str, str]) -> str:
    """Go's `%q` of a map[string]string: `map["k":"v"]`, keys sorted."""
    return "map[" + " ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(labels.items())) + "]"


# ---------------------------------------------------------------------------------------------
# The annotation

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def request_annotation(now_rfc3339_nano: str, *, monotonic_ns: int | None = None) -> dict[str, str]:
    """The annotation Flux writes: `reconcile.fluxcd.io/requestedAt` = Go's `metav1.Now().String()`.

    That is `time.Time.String()` in the controller's zone (UTC): `2006-01-02 15:04:05.999999999
    +0000 UTC`, fraction without trailing zeros, and, since `time.Now()` carries one, the monotonic
    reading ` m=+<seconds>.<9 digits>` when `monotonic_ns` (nanoseconds since the controller's
    process started) is given.
    """
    match = _RFC3339.match(now_rfc3339_nano)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {now_rfc3339_nano!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    nanos = int((match.group(7) or "0").ljust(9, "0"))
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    if match.group(9):
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        moment -= offset if match.group(9) == "+" else -offset
    fraction = f".{nanos:09d}".rstrip("0") if nanos else ""
    value = f"{moment:%Y-%m-%d %H:%M:%S}{fraction} +0000 UTC"
    if monotonic_ns is not None:
        sign = "-" if monotonic_ns < 0 else "+"
        seconds, rest = divmod(abs(monotonic_ns), 1_000_000_000)
        value += f" m={sign}{seconds}.{rest:09d}"
    return {REQUESTED_AT_ANNOTATION: value}


__all__ = [
    "DEFAULT_API_VERSIONS",
    "MAX_REQUEST_SIZE_BYTES",
    "REQUESTED_AT_ANNOTATION",
    "WEBHOOK_PATH_PREFIX",
    "Found",
    "Headers",
    "ListError",
    "Lister",
    "Outcome",
    "Plan",
    "Request",
    "Selection",
    "SpecProblem",
    "Target",
    "TokenNotFound",
    "admit",
    "check_spec",
    "ready_message",
    "request_annotation",
    "resources_to_annotate",
    "token_of",
    "validate",
    "webhook_path",
]
