"""A real SPARQL 1.1 server for tests: ``oxigraph serve`` (PyPI ``oxigraph``) on loopback.

It serves the SPARQL 1.1 Protocol at ``/query`` and ``/update`` and the Graph Store Protocol
at ``/store``, over a store in a temporary directory. Oxigraph runs each update request in one
transaction, which is what the remote store backend relies on for atomic batches. The server
can be stopped and restarted on the same directory and port (tests of a server that is down,
and of state surviving a restart).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.servers.postgres import free_port


def oxigraph_binary() -> str:
    """The ``oxigraph`` command installed beside the test interpreter."""
    found = Path(sys.executable).with_name("oxigraph")
    if not found.is_file():
        found_on_path = shutil.which("oxigraph")
        if found_on_path is None:
            raise RuntimeError("the `oxigraph` server is not installed: pip install oxigraph")
        return found_on_path
    return str(found)


@dataclass
class OxigraphServer:
    """A running ``oxigraph serve``: endpoints under :attr:`base_url`."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def query_url(self) -> str:
        """The SPARQL 1.1 query endpoint."""
        return f"{self.base_url}/query"

    @property
    def update_url(self) -> str:
        """The SPARQL 1.1 update endpoint."""
        return f"{self.base_url}/update"

    @property
    def store_url(self) -> str:
        """The Graph Store Protocol endpoint."""
        return f"{self.base_url}/store"

    def start(self) -> None:
        """Start (or restart) the server on its directory and port; wait until it answers."""
        if self.process is not None and self.process.poll() is None:
            return
        log = (self.directory / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                oxigraph_binary(), "serve",
                "--location", str(self.directory / "db"),
                "--bind", f"127.0.0.1:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                text = (self.directory / "server.log").read_text(errors="replace")
                raise RuntimeError(f"oxigraph serve exited at start: {text[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("oxigraph serve did not listen within 20 s")

    def stop(self) -> None:
        """Stop the server (SIGKILL: what a crash or a dropped connection looks like)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def clear(self) -> None:
        """Drop every graph (between tests sharing one server)."""
        import httpx

        httpx.post(
            self.update_url,
            content="DROP ALL",
            headers={"Content-Type": "application/sparql-update"},
            timeout=30,
        ).raise_for_status()


def start_oxigraph() -> OxigraphServer:
    """A fresh server in a new temporary directory; the caller stops it."""
    server = OxigraphServer(free_port(), Path(tempfile.mkdtemp(prefix="warrant-oxigraph-")))
    try:
        server.start()
    except BaseException:
        shutil.rmtree(server.directory, ignore_errors=True)
        raise
    return server


def run_oxigraph() -> Iterator[OxigraphServer]:
    """Start a server, yield it, stop it and remove its files."""
    server = start_oxigraph()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)
