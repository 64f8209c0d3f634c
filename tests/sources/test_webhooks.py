"""Alert sinks and the inbound server: real HTTP on 127.0.0.1, under the URLs providers name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitops_sim.sources import webhooks

SLACK = "https://hooks.slack.com/services/T0/B0/secret-part"


@pytest.fixture
def sinks() -> Iterator[webhooks.Sinks]:
    hosted = webhooks.Sinks(lambda: 42)
    try:
        yield hosted
    finally:
        hosted.close()


def test_a_declared_sink_records_what_is_posted_to_its_url(sinks: webhooks.Sinks) -> None:
    sinks.declare("slack", "https://hooks.slack.com")
    answer = sinks.post(SLACK, {"Content-Type": "application/json"}, b'{"text":"hi"}', 5)
    assert answer.status == 200
    [got] = sinks.received("slack")
    assert (got.t_ms, got.method, got.path, got.body) == (
        42,
        "POST",
        "/services/T0/B0/secret-part",
        b'{"text":"hi"}',
    )
    assert got.header("content-type") == "application/json"


def test_a_host_no_sink_declares_is_no_such_host_without_a_request(sinks: webhooks.Sinks) -> None:
    with pytest.raises(webhooks.DeliveryError) as caught:
        sinks.post("https://hooks.example.com/x", {}, b"", 5)
    assert (
        str(caught.value)
        == 'Post "https://hooks.example.com/x": dial tcp: lookup hooks.example.com: no such host'
    )


def test_a_sink_that_is_down_refuses_the_connection(sinks: webhooks.Sinks) -> None:
    sinks.declare("slack", "https://hooks.slack.com")
    sinks.set_fault("slack", "down")
    with pytest.raises(webhooks.DeliveryError) as caught:
        sinks.post(SLACK, {}, b"", 5)
    assert str(caught.value) == f'Post "{SLACK}": dial tcp hooks.slack.com:443: connect: connection refused'
    assert sinks.received() == []


def test_an_unavailable_sink_answers_503_and_still_records(sinks: webhooks.Sinks) -> None:
    sinks.declare("slack", "https://hooks.slack.com")
    sinks.set_fault("slack", "unavailable")
    assert sinks.post(SLACK, {}, b"x", 5).status == 503
    assert len(sinks.received("slack")) == 1


def test_a_hanging_sink_runs_the_sender_into_its_timeout(sinks: webhooks.Sinks) -> None:
    sinks.declare("slack", "https://hooks.slack.com")
    sinks.set_fault("slack", "hang")
    with pytest.raises(webhooks.DeliveryError) as caught:
        sinks.post(SLACK, {}, b"x", 0.2)
    assert "context deadline exceeded" in str(caught.value)


def test_the_inbound_server_hands_requests_to_the_installed_handler() -> None:
    inbound = webhooks.Inbound()
    seen: list[webhooks.Request] = []

    def handle(request: webhooks.Request) -> webhooks.Answer:
        seen.append(request)
        return webhooks.Answer(202, b"")

    try:
        sinks = webhooks.Sinks(lambda: 0)
        url = f"http://{inbound.address}/hook/abc"
        assert sinks.post(url, {}, b"{}", 5).status == 404  # nothing installed yet
        inbound.install(handle)
        assert sinks.post(url, {"X-GitHub-Event": "push"}, b"{}", 5).status == 202
        assert (seen[0].method, seen[0].path, seen[0].header("x-github-event")) == (
            "POST",
            "/hook/abc",
            "push",
        )
    finally:
        inbound.stop()
