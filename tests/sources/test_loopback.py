"""The servers' and clients' shared parts (`sources.loopback`): a held request (a hang fault)."""

from __future__ import annotations

import http.client

import pytest

from gitops_sim.sources import loopback


class Holding(loopback.Handler):
    def do_GET(self) -> None:
        self.hold()


class Answering(loopback.Handler):
    def do_GET(self) -> None:
        self.send(200, b"ok")


def test_a_client_gives_up_on_a_held_request_while_the_server_still_holds_it() -> None:
    server = loopback.Server(Holding, "holding")
    try:
        conn = loopback.HTTPConnection(server.address, timeout=3600)
        conn.request("GET", "/")
        with pytest.raises(TimeoutError, match="timed out"):
            conn.getresponse()
        assert not server.stopping.is_set()  # an hour early: the request is still held
        conn.close()
    finally:
        server.stop()


def test_a_client_reads_an_answer_that_comes_as_before() -> None:
    server = loopback.Server(Answering, "answering")
    try:
        conn = loopback.HTTPConnection(server.address, timeout=5)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"ok")
        conn.close()
    finally:
        server.stop()


def test_a_server_stops_at_once_with_a_request_held() -> None:
    server = loopback.Server(Holding, "holding")
    conn = http.client.HTTPConnection(server.address, timeout=3600)
    conn.request("GET", "/")
    server.stop()  # lets the held request go and joins its thread
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()
