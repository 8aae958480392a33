"""A real HTTP server for API tests: uvicorn serving an app on 127.0.0.1 in a background thread.

The socket is bound before the server starts (port 0: the kernel picks a free port), so there
is no race between choosing a port and listening on it. The server stops at teardown.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class RunningServer:
    """A server that listens: requests go to :attr:`base_url`."""

    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def run_uvicorn(app: FastAPI, *, startup_timeout_s: float = 10.0) -> Iterator[RunningServer]:
    """Serve ``app`` until the block ends."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
    # (proto 0 is "any"); without it every response's body waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(str(host), int(port))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
