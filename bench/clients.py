"""Lean HTTP clients for the scenarios that time a server: as little client time as Python
allows, so that a round trip measures the server.

httpx, the first client here, was itself a large part of what it measured on this 2-core
machine (round 8): it took 16.6 ms to read a 16 MB answer that ``http.client`` read in
4.0 ms from the same bare server, and its async client spent 1.2–1.8 ms of CPU on each
decision request of a load test, on the core the server's own threads and the kernel share.

- :class:`LeanClient`: requests one after another on one kept-alive ``http.client``
  connection (the standard library's client);
- :func:`load`: concurrent clients on one asyncio loop, each a kept-alive connection
  writing prepared request bytes and reading the answer by its ``Content-Length`` (the API
  answers every request with one; a chunked answer is refused, not misread).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit


class LeanClient:
    """Requests over one kept-alive ``http.client`` connection to ``base`` (a context manager
    that closes it)."""

    def __init__(self, base: str, headers: dict[str, str], *, timeout_s: float = 600.0) -> None:
        url = urlsplit(base)
        self._connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port,
                                                      timeout=timeout_s)
        self._headers = headers

    def get(self, path: str, params: dict[str, str] | None = None) -> tuple[bytes, str]:
        """The body of a 200 answer and its ``Server-Timing`` header ("" if none)."""
        target = f"{path}?{urlencode(params)}" if params else path
        return self._send("GET", target, None, 200)

    def post(self, path: str, body: dict[str, object], *, status: int = 201) -> bytes:
        """The body of the answer to ``body`` as JSON, which must have ``status``."""
        return self._send("POST", path, json.dumps(body).encode(), status)[0]

    def _send(self, method: str, target: str, body: bytes | None,
              status: int) -> tuple[bytes, str]:
        headers = self._headers if body is None else {
            **self._headers, "Content-Type": "application/json"}
        self._connection.request(method, target, body=body, headers=headers)
        response = self._connection.getresponse()
        answer = response.read()
        if response.status != status:
            raise RuntimeError(f"{method} {target[:80]}: {response.status} {answer[:300]!r}")
        return answer, response.getheader("server-timing") or ""

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def __enter__(self) -> LeanClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Load:
    """What concurrent clients achieved: completed requests, seconds, per-request latencies."""

    completed: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.completed / self.seconds

    @property
    def p50_ms(self) -> float:
        """Median latency under load, in milliseconds."""
        return statistics.median(self.latencies) * 1000


def post_request(base: str, path: str, body: dict[str, object], headers: dict[str, str]) -> bytes:
    """The bytes of one HTTP/1.1 POST of ``body`` as JSON, for :func:`load`."""
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(base).netloc}",
             *(f"{k}: {v}" for k, v in headers.items()),
             "Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def load(base: str, requests: Sequence[bytes], *, clients: int, seconds: float,
         status: int = 201) -> Load:
    """``clients`` connections sending ``requests`` in turn for ``seconds``; every answer
    must have ``status``."""
    return asyncio.run(_load(base, requests, clients=clients, seconds=seconds, status=status))


async def _load(base: str, requests: Sequence[bytes], *, clients: int, seconds: float,
                status: int) -> Load:
    url = urlsplit(base)
    latencies: list[float] = []
    counter = iter(range(10**12))
    expected = str(status).encode()

    async def client(stop_at: float) -> None:
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                writer.write(requests[next(counter) % len(requests)])
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                answer = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if head[9:12] != expected:
                    raise RuntimeError(f"load: {head[:12]!r} {answer[:300]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(time.monotonic() + seconds) for _ in range(clients)))
    return Load(len(latencies), time.perf_counter() - started, tuple(latencies))


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
        if name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("load: a chunked answer (the API sends Content-Length)")
    raise RuntimeError(f"load: an answer without Content-Length: {head[:200]!r}")
