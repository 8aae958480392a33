"""The benchmark's lean HTTP clients against a real server on loopback: what they send, what
they read, and that an answer they cannot read whole is an error, never a short count; and
the ``warrant serve`` option their kept-alive connections rely on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from bench.clients import LeanClient, load, post_request
from tests.servers.handler import serving


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the API server

    def do_GET(self) -> None:
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"2\r\nok\r\n0\r\n\r\n")
            return
        status = 500 if self.path.startswith("/fail") else 200
        self._answer(status, json.dumps({"path": self.path}).encode(),
                     {"Server-Timing": 'query;dur=1.5'})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        echoed = {"body": json.loads(body), "key": self.headers.get("X-API-Key"),
                  "type": self.headers.get("Content-Type")}
        self._answer(201, json.dumps(echoed).encode(), {})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


def test_lean_client_gets_and_posts_on_one_connection(base: str) -> None:
    with LeanClient(base, {"X-API-Key": "k"}) as client:
        body, timing = client.get("/sparql", {"query": "ASK {}"})
        answer = json.loads(client.post("/v1/decisions", {"action": "a(b)"}))
    assert json.loads(body) == {"path": "/sparql?query=ASK+%7B%7D"}
    assert timing == "query;dur=1.5"
    assert answer == {"body": {"action": "a(b)"}, "key": "k", "type": "application/json"}


def test_lean_client_refuses_an_unexpected_status(base: str) -> None:
    with LeanClient(base, {}) as client, pytest.raises(RuntimeError, match="GET /fail: 500"):
        client.get("/fail")


def test_load_counts_every_answer_read_whole(base: str) -> None:
    requests = [post_request(base, "/v1/decisions", {"action": f"a({i})"}, {"X-API-Key": "k"})
                for i in range(3)]
    assert requests[0].startswith(b"POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1:")
    assert requests[0].endswith(b'\r\n\r\n{"action": "a(0)"}')
    done = load(base, requests, clients=2, seconds=0.3)
    assert done.completed == len(done.latencies) > 0
    assert done.rate > 0 and done.p50_ms > 0


def test_load_refuses_a_wrong_status_and_an_answer_without_a_length(base: str) -> None:
    get = b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n"
    with pytest.raises(RuntimeError, match=r"load: b'HTTP/1\.1 500"):
        load(base, [get], clients=1, seconds=0.2)
    chunked = b"GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n"
    with pytest.raises(RuntimeError, match="chunked answer"):
        load(base, [chunked], clients=1, seconds=0.2, status=200)


def test_serve_refuses_a_keep_alive_below_a_second() -> None:
    from typer.testing import CliRunner

    from cli.main import app as cli_app

    result = CliRunner().invoke(cli_app, ["serve", "--keep-alive", "0"])
    assert result.exit_code == 2
    assert "--keep-alive" in result.output
