"""The `webhook` step: a real, signed HTTP request to a Receiver, as GitHub, GitLab or a
registry would send it.

    webhook: {receiver: Receiver/<namespace>/<name>, event: push, body: {…} or text,
              signature: valid | invalid | missing, headers: {name: value}, status: 200}

`event` is the service's event name (GitHub's `X-GitHub-Event`, GitLab's `X-Gitlab-Event`, …);
`body` a mapping (sent as JSON) or text; `signature` says how the request is signed with the
Receiver's token (default `valid`); `headers` are added as given; `status`, when set, is the HTTP
status the receiver must answer (the step fails otherwise).

Declares the step (schema side); `steps.actions.webhook` sends it. Never imports a runtime module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

from gitops_sim.scenario import located
from gitops_sim.scenario.located import LDict, Location
from gitops_sim.scenario.steps import fields, registry, shapes

Signature = Literal["valid", "invalid", "missing"]


@dataclass(frozen=True, slots=True)
class Webhook(registry.Action):
    receiver: str  # Receiver/<namespace>/<name>
    event: str | None
    body: bytes
    signature: Signature
    headers: tuple[tuple[str, str], ...]
    status: int | None


def _parse(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> Webhook:
    spec = fields.mapping(
        value,
        vloc,
        vwhere,
        ("receiver", "event", "body", "signature", "headers", "status"),
        required=("receiver",),
    )
    receiver = fields.ref(spec["receiver"], spec.value_locs["receiver"], f"{vwhere}.receiver")
    if not receiver.startswith("Receiver/") or receiver.count("/") != 2:
        raise fields.fail(
            spec.value_locs["receiver"], f"{vwhere}.receiver", "expected Receiver/<namespace>/<name>"
        )
    body = b"{}"
    if "body" in spec:
        raw = spec["body"]
        if isinstance(raw, LDict):
            body = json.dumps(located.plain(raw), separators=(",", ":")).encode()
        else:
            body = fields.text(raw, spec.value_locs["body"], f"{vwhere}.body").encode()
    signature = "valid"
    if "signature" in spec:
        signature = fields.string(spec["signature"], spec.value_locs["signature"], f"{vwhere}.signature")
        if signature not in get_args(Signature):
            raise fields.fail(
                spec.value_locs["signature"], f"{vwhere}.signature", "expected valid, invalid or missing"
            )
    headers: list[tuple[str, str]] = []
    if "headers" in spec:
        given = spec["headers"]
        if not isinstance(given, LDict):
            raise fields.fail(
                spec.value_locs["headers"],
                f"{vwhere}.headers",
                "expected a mapping of header names to values",
            )
        for name, text in given.items():
            headers.append(
                (str(name), fields.string(text, given.value_locs[name], f"{vwhere}.headers.{name}"))
            )
    status = None
    if "status" in spec:
        status = spec["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise fields.fail(spec.value_locs["status"], f"{vwhere}.status", "expected an HTTP status code")
    return Webhook(
        receiver=receiver,
        event=fields.string(spec["event"], spec.value_locs["event"], f"{vwhere}.event")
        if "event" in spec
        else None,
        body=body,
        signature=signature,  # type: ignore[arg-type]
        headers=tuple(headers),
        status=status,
    )


registry.declare(
    registry.Declaration(
        "webhook",
        _parse,
        "webhook: {receiver: Receiver/ns/name, event, body, signature: valid|invalid|missing, headers,"
        " status}",
        value_schema=shapes.mapping(
            "A real, signed HTTP request to a Receiver, as GitHub, GitLab or a registry would send it.",
            {
                "receiver": shapes.ref("the Receiver, Receiver/<namespace>/<name>", kind="Receiver"),
                "event": shapes.string(
                    "the service's event name (GitHub's X-GitHub-Event, GitLab's X-Gitlab-Event, …)",
                    examples=["push"],
                ),
                "body": shapes.any_of(
                    "the request's body (default {})",
                    shapes.map_of("a mapping, sent as JSON", shapes.anything("")),
                    shapes.text("text, sent as it is"),
                ),
                "signature": shapes.choice(
                    "how the request is signed with the Receiver's token (default valid)", get_args(Signature)
                ),
                "headers": shapes.map_of("headers added as given", shapes.string("the header's value")),
                "status": shapes.integer(
                    "the HTTP status the receiver must answer (the step fails otherwise)", 100, 599
                ),
            },
            required=("receiver",),
        ),
    )
)
