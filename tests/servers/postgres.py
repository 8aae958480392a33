"""A real PostgreSQL server for tests: a throwaway cluster on a free loopback port.

Debian's ``postgresql`` package (installed by ``.ci/run``) provides the binaries; the cluster
lives in a temporary directory and is stopped at the end of the session. PostgreSQL refuses
to run as root, so when the tests run as root the server runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL binary `{name}` not found: install Debian's `postgresql` (see .ci/run)"
        )
    return candidates[-1]


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster: connect with :attr:`url` (SQLAlchemy, psycopg 3 driver)."""

    host: str
    port: int
    user: str
    database: str

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{self.database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        subprocess.run(
            [_pg_bin("createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user, name],
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{name}"


def run_postgres() -> Iterator[PostgresServer]:
    """Start a cluster, yield it, stop it and remove its files."""
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="warrant-pg-"))
    datadir = base / "data"
    port = free_port()

    def run(cmd: list[str]) -> None:
        if as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    if as_root:
        shutil.chown(base, user="postgres")
    run([_pg_bin("initdb"), "-D", str(datadir), "-U", "warrant", "--auth=trust", "-E", "UTF8"])
    run(
        [
            _pg_bin("pg_ctl"),
            "-D",
            str(datadir),
            "-l",
            str(base / "log"),
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
            "-w",
            "start",
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        subprocess.run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "warrant", "warrant"],
            check=True,
            capture_output=True,
        )
        yield PostgresServer(host="127.0.0.1", port=port, user="warrant", database="warrant")
    finally:
        run([_pg_bin("pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)
