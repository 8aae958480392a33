"""The SPARQL endpoint source against a real ``oxigraph serve``, and its bad inputs.

CONSTRUCT sources become one record per subject; SELECT + mapping sources go through the
shared mapping step; paging, timeouts, retries, a server that is down, malformed queries and
malformed answers (from a real HTTP server on loopback that answers garbage) are covered.
"""

from __future__ import annotations

import http.server
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from connectors.base import LogicalSource
from connectors.registry import open_connector
from connectors.sparql import SparqlConnector, read_construct
from engine.errors import ConfigError, SourceError
from engine.knowledge.ingest import Ingestor
from engine.knowledge.sourcing import read_source
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace
from tests.servers.handler import serving
from tests.servers.oxigraph_server import OxigraphServer
from tests.servers.postgres import free_port

EX = "https://example.org/"
DATA = "\n".join(
    f'<{EX}sys/{i}> a <{EX}System> ; <http://www.w3.org/2000/01/rdf-schema#label> "system {i}" ;'
    f" <{EX}owner> [ <{EX}name> \"owner {i}\" ] ."
    for i in range(1, 13)
)
CONSTRUCT = (
    "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <urn:test:systems> { ?s ?p ?o } }"
)
SELECT = (
    f"SELECT ?id ?label WHERE {{ GRAPH <urn:test:systems> {{ ?s a <{EX}System> ; "
    f"<http://www.w3.org/2000/01/rdf-schema#label> ?label "
    f'BIND(STRAFTER(STR(?s), "{EX}sys/") AS ?id) }} }} ORDER BY ?label'
)


@pytest.fixture
def endpoint(oxigraph_server: OxigraphServer) -> Iterator[OxigraphServer]:
    oxigraph_server.clear()
    httpx.post(
        oxigraph_server.store_url,
        params={"graph": "urn:test:systems"},
        content=DATA.encode(),
        headers={"Content-Type": "text/turtle"},
        timeout=30,
    ).raise_for_status()
    yield oxigraph_server


@pytest.mark.parametrize("page_size", [0, 5, 100])
def test_construct_gives_one_record_per_subject(endpoint: OxigraphServer, page_size: int) -> None:
    records = read_construct(
        name="inventory", endpoint=endpoint.query_url, query=CONSTRUCT + " ORDER BY ?s ?p ?o"
        if page_size else CONSTRUCT, page_size=page_size,
    )
    subjects = [r.locator.key for r in records]
    assert len([s for s in subjects if s and s.startswith(f"subject={EX}sys/")]) == 12
    assert len(records) == 24  # 12 systems + 12 skolemised owners
    owners = [r for r in records if r.locator.key and "bnode" in r.locator.key]
    assert all(str(t.subject).startswith("<urn:warrant:bnode:inventory:") for r in owners
               for t in r.triples)
    again = read_construct(name="inventory", endpoint=endpoint.query_url, query=CONSTRUCT)
    assert sum(len(r.triples) for r in again) == 48


def test_select_rows_are_paged_in_order(endpoint: OxigraphServer) -> None:
    for page_size in (0, 1, 5, 12, 50):
        c = SparqlConnector(name="inventory", endpoint=endpoint.query_url, page_size=page_size)
        rows = list(c.records(LogicalSource("sparql", query=SELECT)))
        c.close()
        assert [r.values["label"] for r in rows] == sorted(f"system {i}" for i in range(1, 13))
        assert [r.locator.row for r in rows] == list(range(1, 13))


def test_a_sparql_workspace_ingests_through_the_gate(
    endpoint: OxigraphServer, tmp_path: Path
) -> None:
    (tmp_path / "m.yaml").write_text(
        "prefixes:\n  ex: 'https://example.org/'\nmappings:\n  system:\n    sources:\n"
        f"      - query: '{SELECT}'\n        referenceFormulation: sparql\n"
        "    s: ex:asset/$(id)\n    po:\n      - [a, ex:Asset]\n      - [rdfs:label, $(label)]\n"
    )
    (tmp_path / "warrant.toml").write_text(
        "[sources.mapped]\ntype = 'sparql'\nendpoint = '${ENDPOINT}'\nmapping = 'm.yaml'\n"
        "page_size = 5\n"
        "[sources.raw]\ntype = 'sparql'\nendpoint = '${ENDPOINT}'\n"
        f"query = '{CONSTRUCT}'\n"
    )
    ws = Workspace.load(tmp_path, env={"ENDPOINT": endpoint.query_url})
    assert len(read_source(ws, "mapped").records) == 12
    store = OxigraphStore(None)
    summaries = Ingestor(ws, store, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)).ingest()
    assert [(s.source, s.records, s.quarantined) for s in summaries] == [
        ("mapped", 12, 0), ("raw", 24, 0)
    ]
    assert store.count(ox.NamedNode("urn:warrant:graph:source:mapped")) == 24


def test_a_malformed_query_names_the_source(endpoint: OxigraphServer) -> None:
    c = SparqlConnector(name="inventory", endpoint=endpoint.query_url)
    rejected = r"source `inventory`: .* rejected the query \(HTTP 400\)"
    with pytest.raises(SourceError, match=rejected):
        list(c.records(LogicalSource("sparql", query="SELECT * WHERE { ?s ")))
    with pytest.raises(SourceError, match="names no sparql `query`"):
        c.records(LogicalSource("sparql", table="t"))
    c.close()


def test_a_server_that_is_down_fails_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"failed after 3 attempt\(s\) \(ConnectError\)"):
        read_construct(name="gone", endpoint=url, query=CONSTRUCT, retries=2, backoff_s=0.05)
    assert time.monotonic() - started < 5


class _Garbage(http.server.BaseHTTPRequestHandler):
    """A real HTTP server answering every query with something that is not valid results."""

    mode = "garbage"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if _Garbage.mode == "slow":
            time.sleep(1.5)
        elif _Garbage.mode == "flaky":
            _Garbage.mode = "garbage-ntriples"
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"<a> <b> ." if "ntriples" in _Garbage.mode else b'{"head": {"vars": ["x"]'
        ctype = "application/n-triples" if "ntriples" in _Garbage.mode else (
            "application/sparql-results+json")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def garbage() -> Iterator[str]:
    with serving(_Garbage) as url:
        yield f"{url}/sparql"


def test_malformed_results_are_source_errors(garbage: str) -> None:
    _Garbage.mode = "garbage"
    c = SparqlConnector(name="bad", endpoint=garbage)
    with pytest.raises(SourceError, match="malformed SPARQL results"):
        list(c.records(LogicalSource("sparql", query=SELECT)))
    c.close()
    _Garbage.mode = "garbage-ntriples"
    with pytest.raises(SourceError, match="malformed n-triples"):
        read_construct(name="bad", endpoint=garbage, query=CONSTRUCT)


def test_a_503_is_retried_and_a_timeout_reported(garbage: str) -> None:
    _Garbage.mode = "flaky"
    with pytest.raises(SourceError, match="malformed n-triples"):  # retried past the 503
        read_construct(name="bad", endpoint=garbage, query=CONSTRUCT, backoff_s=0.01)
    _Garbage.mode = "slow"
    with pytest.raises(SourceError, match=r"timed out after 1 attempt"):
        read_construct(name="slow", endpoint=garbage, query=CONSTRUCT, timeout_s=0.3, retries=0)


def test_credentials_never_appear_in_errors() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(SourceError) as err:
        read_construct(name="x", endpoint=url, query=CONSTRUCT, user="u", password="s3cr3t-pw",
                       retries=0)
    assert "s3cr3t" not in str(err.value)


def test_bad_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs an `endpoint`"):
        open_connector("s", {"type": "sparql"}, workspace=tmp_path)
    (tmp_path / "warrant.toml").write_text("[sources.s]\ntype = 'sparql'\nendpoint = 'http://x'\n")
    with pytest.raises(ConfigError, match="needs a `mapping`"):
        read_source(Workspace.load(tmp_path), "s")
