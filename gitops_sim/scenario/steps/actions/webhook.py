"""Sends the `webhook` step (declared in `steps.webhook`): a real HTTP request to the simulation's
receiver server, at the Receiver's `status.webhookPath`, signed with the token of its Secret as
the service the Receiver's `type` names signs it.

How each type is sent (the headers Flux's receiver server reads):
- `generic`: the path is the secret, no header;
- `generic-hmac`: `X-Signature: sha256=<hex HMAC-SHA256 of the body>`;
- `github`: `X-GitHub-Event` and `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`;
- `gitlab`: `X-Gitlab-Event` and `X-Gitlab-Token: <token>`;
- `bitbucket`: `X-Event-Key` and `X-Hub-Signature: sha256=<hex HMAC-SHA256>`;
- `harbor`: `Authorization: <token>`;
- `nexus`: `X-Nexus-Webhook-Signature: <hex HMAC-SHA1>`;
- the others (`dockerhub`, `quay`, `gcr`, `acr`, `cdevents`): the body and the step's headers.
`signature: invalid` signs with another key (or sends another token), `missing` leaves the
signature out. The trace records the receiver, the status and the answer, never the token or a
signature.

Never reads the real time.
"""

from __future__ import annotations

import hmac

from gitops_sim.cluster import errors
from gitops_sim.model import objects, refs
from gitops_sim.scenario import assertions, schema
from gitops_sim.scenario.steps import registry
from gitops_sim.scenario.steps import webhook as steps
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import webhooks

_EVENT_HEADERS = {"github": "X-GitHub-Event", "gitlab": "X-Gitlab-Event", "bitbucket": "X-Event-Key"}
_DEFAULT_EVENTS = {"github": "push", "gitlab": "Push Hook", "bitbucket": "repo:push"}


def _hex(key: str, body: bytes, digest: str = "sha256") -> str:
    return hmac.new(key.encode(), body, digest).hexdigest()


def signed_headers(kind: str, token: str, action: steps.Webhook) -> dict[str, str]:
    """The headers `kind`'s service sends with `action.body` (see the module docstring)."""
    key = token if action.signature == "valid" else token + "-not-it"
    headers: dict[str, str] = {"Content-Type": "application/json"}
    if kind in _EVENT_HEADERS:
        headers[_EVENT_HEADERS[kind]] = action.event or _DEFAULT_EVENTS[kind]
    if action.signature != "missing":
        if kind == "generic-hmac":
            headers["X-Signature"] = f"sha256={_hex(key, action.body)}"
        elif kind == "github":
            headers["X-Hub-Signature-256"] = f"sha256={_hex(key, action.body)}"
        elif kind == "gitlab":
            headers["X-Gitlab-Token"] = key
        elif kind == "bitbucket":
            headers["X-Hub-Signature"] = f"sha256={_hex(key, action.body)}"
        elif kind == "harbor":
            headers["Authorization"] = key
        elif kind == "nexus":
            headers["X-Nexus-Webhook-Signature"] = _hex(key, action.body, "sha1")
    headers.update(action.headers)
    return headers


@registry.performs(steps.Webhook)
def send(action: steps.Webhook, step: schema.Step, ctx: base.Context) -> None:
    ref = assertions.resolve_ref(ctx.sim.cluster, action.receiver)
    try:
        receiver = ctx.sim.cluster.get(ref)
    except errors.NotFound as exc:
        raise base.StepFailed(step.loc, f"webhook: {ref} does not exist") from exc
    spec, status = receiver.get("spec") or {}, receiver.get("status") or {}
    path = status.get("webhookPath")
    if not path:
        raise base.StepFailed(
            step.loc, f"webhook: {ref} has no status.webhookPath yet (has it been reconciled?)"
        )
    secret_name = str((spec.get("secretRef") or {}).get("name", ""))
    try:
        secret = ctx.sim.cluster.get(refs.ObjectRef("", "Secret", ref.namespace, secret_name))
        token = objects.secret_data(secret).get("token", "")
    except errors.NotFound:
        token = ""
    headers = signed_headers(str(spec.get("type", "generic")), token, action)
    url = f"http://{ctx.sim.inbound.address}{path}"
    try:
        answer = ctx.sim.sinks.post(url, headers, action.body, 10)
    except webhooks.DeliveryError as exc:
        raise base.StepFailed(step.loc, f"webhook: {exc}") from exc
    text = answer.body.decode(errors="replace").strip()
    ctx.trace.record(
        "webhook", object=str(ref), status=answer.status, answer=text, signature=action.signature
    )
    if action.status is not None and answer.status != action.status:
        raise base.StepFailed(
            step.loc, f"webhook: {ref} answered {answer.status} ({text!r}), expected {action.status}"
        )
