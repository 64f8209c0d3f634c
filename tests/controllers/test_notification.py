"""notification-controller: events routed to Alerts and posted over real HTTP; Receivers' webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.sources import webhooks
from gitops_sim.testing import events_of, ready
from tests.builders import GITREPO, gitrepository, repo_with

HOOK = "https://hooks.example.com"
ALERT = refs.ObjectRef("notification.toolkit.fluxcd.io", "Alert", "flux-system", "on-call")
RECEIVER = refs.ObjectRef("notification.toolkit.fluxcd.io", "Receiver", "flux-system", "github")


def provider(kind: str = "generic", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1",
        "kind": "Provider",
        "metadata": {"name": "hook", "namespace": "flux-system"},
        "spec": {"type": kind, "address": f"{HOOK}/flux", **spec},
    }


def alert(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1",
        "kind": "Alert",
        "metadata": {"name": "on-call", "namespace": "flux-system"},
        "spec": {
            "providerRef": {"name": "hook"},
            "eventSources": [{"kind": "GitRepository", "name": "*"}],
            **spec,
        },
    }


def secret(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "flux-system"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def start(sim: simulation.Simulation, *objs: dict[str, Any]) -> None:
    sim.sinks.declare("hook", HOOK)
    for obj in objs:
        sim.cluster.apply(obj, field_manager="kubectl")


def test_a_new_artifact_is_posted_to_a_generic_sink_as_fluxs_event(sim: simulation.Simulation) -> None:
    start(sim, provider(), alert())
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(2_000)
    [got] = sim.sinks.received("hook")
    body = json.loads(got.body)
    assert (got.method, got.path) == ("POST", "/flux")
    assert body["involvedObject"]["kind"] == "GitRepository"
    assert (body["severity"], body["reason"], body["reportingController"]) == (
        "info",
        "NewArtifact",
        "source-controller",
    )
    assert body["message"].startswith("stored artifact for commit")
    assert body["metadata"]["revision"].startswith("main@sha1:")  # the group prefix is stripped
    assert got.header("Gotk-Component") == "source-controller"


def test_an_error_only_alert_drops_info_events(sim: simulation.Simulation) -> None:
    start(sim, provider(), alert(eventSeverity="error"))
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(2_000)
    assert sim.sinks.received("hook") == []


def test_a_generic_hmac_provider_signs_the_body_with_the_secrets_token(sim: simulation.Simulation) -> None:
    start(sim, secret("hmac", token="s3cret"), provider("generic-hmac", secretRef={"name": "hmac"}), alert())
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(2_000)
    [got] = sim.sinks.received("hook")
    expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert got.header("X-Signature") == f"sha256={expected}"


def test_a_sink_that_is_down_is_reported_on_the_alert_and_the_engine_goes_on(
    sim: simulation.Simulation,
) -> None:
    start(sim, provider(), alert())
    sim.sinks.set_fault("hook", "down")
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(2_000)
    assert ready(sim.cluster.get(GITREPO))["status"] == "True"
    warning = events_of(sim, ALERT)[-1]
    assert (warning.type, warning.reason) == ("Warning", "NotificationDispatchFailed")
    assert warning.message.startswith("failed to send notification for GitRepository/flux-system/")
    assert "connection refused" in warning.message


def receiver(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1",
        "kind": "Receiver",
        "metadata": {"name": "github", "namespace": "flux-system"},
        "spec": {
            "type": "github",
            "events": ["push"],
            "secretRef": {"name": "webhook-token"},
            "resources": [
                {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": GITREPO.name}
            ],
            **spec,
        },
    }


def test_a_receiver_publishes_fluxs_webhook_path(sim: simulation.Simulation) -> None:
    start(sim, secret("webhook-token", token="t0k3n"), receiver())
    sim.advance(1_000)
    digest = hashlib.sha256(b"t0k3n" + b"github" + b"flux-system").hexdigest()
    assert sim.cluster.get(RECEIVER)["status"]["webhookPath"] == f"/hook/{digest}"
    assert ready(sim.cluster.get(RECEIVER)) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"Receiver initialized for path: /hook/{digest}",
    }


def post_github(sim: simulation.Simulation, key: str, event: str = "push") -> webhooks.Answer:
    path = sim.cluster.get(RECEIVER)["status"]["webhookPath"]
    body = b'{"ref":"refs/heads/main"}'
    signature = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-Hub-Signature-256": signature}
    return sim.sinks.post(f"http://{sim.inbound.address}{path}", headers, body, 5)


def test_a_signed_github_push_reconciles_the_git_repository_at_once(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    start(sim, secret("webhook-token", token="t0k3n"), receiver(), gitrepository(interval="1h"))
    sim.advance(2_000)
    assert post_github(sim, "t0k3n").status == 200
    annotations = sim.cluster.get(GITREPO)["metadata"]["annotations"]
    assert annotations["reconcile.fluxcd.io/requestedAt"].endswith(" +0000 UTC")


def test_a_bad_signature_is_refused_and_changes_nothing(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    start(sim, secret("webhook-token", token="t0k3n"), receiver(), gitrepository(interval="1h"))
    sim.advance(2_000)
    before = sim.cluster.get(GITREPO)["metadata"]["resourceVersion"]
    assert post_github(sim, "wrong").status == 400
    assert sim.cluster.get(GITREPO)["metadata"]["resourceVersion"] == before


def test_a_deleted_alert_routes_nothing_and_a_changed_one_its_new_rules(sim: simulation.Simulation) -> None:
    start(sim, provider(), alert())
    repo = repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(2_000)
    sim.cluster.apply(alert(eventSeverity="error"), field_manager="kubectl")
    repo.commit({"apps/cm.yaml": "kind: ConfigMap\ndata: {a: b}\n"}, "second")
    sim.advance(61_000)
    assert len(sim.sinks.received("hook")) == 1  # the info event of the second commit is not sent
    sim.cluster.apply(alert(), field_manager="kubectl")
    sim.cluster.delete(ALERT)
    repo.commit({"apps/cm.yaml": "kind: ConfigMap\ndata: {a: c}\n"}, "third")
    sim.advance(61_000)
    assert len(sim.sinks.received("hook")) == 1


def test_a_body_over_flux_s_limit_is_refused_before_anything_is_read(sim: simulation.Simulation) -> None:
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    start(sim, secret("webhook-token", token="t0k3n"), receiver(), gitrepository(interval="1h"))
    sim.advance(2_000)
    path = sim.cluster.get(RECEIVER)["status"]["webhookPath"]
    before = sim.cluster.get(GITREPO)["metadata"]["resourceVersion"]
    body = b"x" * (3 * 1024 * 1024 + 1)
    answer = sim.sinks.post(f"http://{sim.inbound.address}{path}", {"X-GitHub-Event": "push"}, body, 10)
    assert answer.status == 413
    assert sim.cluster.get(GITREPO)["metadata"]["resourceVersion"] == before


def test_an_unknown_hook_path_is_404(sim: simulation.Simulation) -> None:
    start(sim, secret("webhook-token", token="t0k3n"), receiver())
    sim.advance(1_000)
    assert sim.sinks.post(f"http://{sim.inbound.address}/hook/0000", {}, b"{}", 5).status == 404


def test_a_sink_answering_503_is_retried_then_reported_as_given_up(sim: simulation.Simulation) -> None:
    start(sim, provider(), alert())
    sim.sinks.set_fault("hook", "unavailable")
    repo_with(sim, {"apps/cm.yaml": "kind: ConfigMap\n"})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    sim.advance(2_000)
    assert len(sim.sinks.received("hook")) == 5  # the first attempt and retryablehttp's 4 retries
    warning = events_of(sim, ALERT)[-1]
    assert (warning.type, warning.reason) == ("Warning", "NotificationDispatchFailed")
    assert "giving up after 5 attempt(s)" in warning.message
