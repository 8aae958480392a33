"""The W3C SPARQL 1.1 Protocol test suite against a real uvicorn server on 127.0.0.1.

The suite is read in place from ``shared/conformance/w3c/sparql11/protocol/manifest.ttl``: each
test is a list of HTTP requests (W3C HTTP-in-RDF vocabulary) with the expected status class,
result format and ASK answer. Its ``ut:graphData`` files are loaded into the named graphs the
manifest names. Every request also carries a ``reader`` API key (the endpoint needs one).

Tests that do not apply to a query-only endpoint are listed in :data:`NOT_APPLICABLE` with the
reason; they are left out of the parametrisation (not skipped). Every update request that the
suite expects to FAIL is run, and must fail with a 4xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, Namespace
from rdflib.term import Node

from api.app import create_app
from engine.action.audit import AuditLog
from engine.action.backoff import SystemClock
from engine.action.db import open_database
from engine.principals import PrincipalStore
from engine.settings import Settings
from engine.store import OxigraphStore
from tests.conftest import SHARED
from tests.servers.uvicorn_server import RunningServer, run_uvicorn

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SUITE = Path("conformance/w3c/sparql11/protocol/manifest.ttl")
BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/protocol/manifest#"

_UPDATE_APPLIES = "query-only endpoint: the SPARQL 1.1 Protocol update operation (§2.2) is refused"
NOT_APPLICABLE: dict[str, str] = {
    "update_dataset_default_graph": _UPDATE_APPLIES + "; the test expects its update to succeed",
    "update_dataset_default_graphs": _UPDATE_APPLIES + "; the test expects its update to succeed",
    "update_dataset_named_graphs": _UPDATE_APPLIES + "; the test expects its update to succeed",
    "update_dataset_full": _UPDATE_APPLIES + "; the test expects its update to succeed",
    "update_post_form": _UPDATE_APPLIES + "; the test expects `update=CLEAR ALL` to succeed",
    "update_post_direct": _UPDATE_APPLIES + "; the test expects `CLEAR ALL` to succeed",
    "update_base_uri": _UPDATE_APPLIES + "; the test inserts data, then queries it",
}
"""| test | why it does not apply | — every one sends an update that must succeed."""

_RESULT_TYPES = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    },
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/ld+json"},
}


@dataclass(frozen=True)
class HttpRequest:
    """One request of a test and what must come back."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: frozenset[str]
    expected_format: str | None
    expected_boolean: bool | None


def _node(node: Node | None) -> Node:
    assert node is not None
    return node


def _boolean_literal(node: Node | None) -> bool | None:
    if node is None:
        return None
    assert isinstance(node, rdflib.Literal)
    return bool(node.toPython())


def _manifest_names(path: Path) -> list[str]:
    g = rdflib.Graph().parse(path, format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    entries = Collection(g, _node(g.value(manifest, MF.entries)))
    return [str(e).removeprefix(BASE) for e in entries]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise over the manifest's entries (read in place) minus :data:`NOT_APPLICABLE`."""
    if "w3c_test" in metafunc.fixturenames:
        names = [n for n in _manifest_names(SHARED / SUITE) if n not in NOT_APPLICABLE]
        metafunc.parametrize("w3c_test", names)


@pytest.fixture(scope="module")
def manifest(shared_dir: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(shared_dir / SUITE, format="turtle")


def _requests(g: rdflib.Graph, name: str) -> list[HttpRequest]:
    test = rdflib.URIRef(BASE + name)
    action = g.value(test, MF.action)
    out: list[HttpRequest] = []
    for req in Collection(g, _node(g.value(action, HT.requests))):
        headers: list[tuple[str, str]] = []
        head_list = g.value(req, HT.headers)
        if head_list is not None:
            for h in Collection(g, head_list):
                headers.append((str(g.value(h, HT.fieldName)), str(g.value(h, HT.fieldValue))))
        body_node = g.value(req, HT.body)
        body = None
        if body_node is not None:
            encoding = str(g.value(body_node, CNT.characterEncoding) or "UTF-8")
            body = str(g.value(body_node, CNT.chars)).encode(encoding.lower())
        resp = g.value(req, HT.resp)
        statuses = frozenset(
            str(s).removeprefix(str(HTS)) for s in g.objects(resp, MF.expectedStatus)
        )
        fmt = g.value(resp, MF.expectedFormat)
        boolean = g.value(resp, MF.expectedBoolean)
        path = str(g.value(req, HT.absolutePath))
        assert path.startswith("/sparql/")
        out.append(
            HttpRequest(
                method=str(g.value(req, HT.methodName)),
                path="/sparql" + path.removeprefix("/sparql/"),
                headers=tuple(headers),
                body=body,
                statuses=statuses,
                expected_format=str(fmt) if fmt is not None else None,
                expected_boolean=_boolean_literal(boolean),
            )
        )
    return out


@dataclass(frozen=True)
class Endpoint:
    server: RunningServer
    key: str


@pytest.fixture(scope="module")
def endpoint(manifest: rdflib.Graph, shared_dir: Path) -> Iterator[Endpoint]:
    store = OxigraphStore(None)
    base = shared_dir / SUITE.parent
    for data in set(manifest.objects(None, UT.graphData)):
        file = base / Path(str(manifest.value(data, UT.graph))).name
        graph = ox.NamedNode(str(manifest.value(data, RDFS.label)))
        store.raw.load(path=str(file), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    db = open_database("sqlite://")
    clock = SystemClock()
    principals = PrincipalStore(db, clock=clock)
    key = principals.create_key("w3c-suite", roles=("reader",)).key
    app = create_app(
        Settings(), store=store, audit=AuditLog(db), clock=clock, principals=principals
    )
    with run_uvicorn(app) as server:
        yield Endpoint(server, key)


def _boolean(response: httpx.Response) -> bool:
    media = response.headers["content-type"].split(";")[0]
    if media == "application/sparql-results+json":
        value = json.loads(response.content)["boolean"]
        assert isinstance(value, bool)
        return value
    root = ElementTree.fromstring(response.content)
    found = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert found is not None and found.text in ("true", "false")
    return found.text == "true"


def _check_format(response: httpx.Response, expected: str) -> None:
    media = response.headers["content-type"].split(";")[0]
    assert media in _RESULT_TYPES[expected], media
    if expected == "RDF":
        fmt = ox.RdfFormat.from_media_type(media)
        assert fmt is not None
        list(ox.parse(response.content, format=fmt))
    elif expected == "tabular":
        fmt_r = ox.QueryResultsFormat.from_media_type(media)
        assert fmt_r is not None
        list(ox.parse_query_results(response.content, format=fmt_r))  # type: ignore[arg-type]


def test_protocol(w3c_test: str, manifest: rdflib.Graph, endpoint: Endpoint) -> None:
    """One W3C protocol test: every request's status class, format and ASK answer."""
    with httpx.Client(base_url=endpoint.server.base_url, timeout=30) as client:
        for req in _requests(manifest, w3c_test):
            headers = [*req.headers, ("X-API-Key", endpoint.key)]
            response = client.request(req.method, req.path, headers=headers, content=req.body)
            status_class = f"StatusCode{response.status_code // 100}xx"
            assert status_class in req.statuses, (response.status_code, response.text)
            if response.status_code >= 400:
                error = response.json()
                assert set(error) == {"code", "message", "details"}
            if req.expected_format is not None:
                _check_format(response, req.expected_format)
            if req.expected_boolean is not None:
                assert _boolean(response) is req.expected_boolean


def test_not_applicable_is_exactly_the_successful_updates(manifest: rdflib.Graph,
                                                          shared_dir: Path) -> None:
    """The exclusions are the 7 tests whose update must succeed, and nothing else."""
    assert len(NOT_APPLICABLE) == 7
    names = _manifest_names(shared_dir / SUITE)
    assert set(NOT_APPLICABLE) <= set(names)
    for name in NOT_APPLICABLE:
        first = _requests(manifest, name)[0]
        body = (first.body or b"").decode("utf-8")
        content_types = {v for k, v in first.headers if k.lower() == "content-type"}
        assert "application/sparql-update" in content_types or body.startswith("update=")
        assert first.statuses <= {"StatusCode2xx", "StatusCode3xx"}


def test_default_graph_is_the_union_of_named_graphs(endpoint: Endpoint) -> None:
    """Without a dataset in the request or the query, the named graphs' union is queried."""
    query = "ASK { <http://kasei.us/2009/09/sparql/data/data1.rdf> a ?t }"
    with httpx.Client(base_url=endpoint.server.base_url) as client:
        r = client.get("/sparql", params={"query": query},
                       headers={"X-API-Key": endpoint.key})
        assert r.json()["boolean"] is True
        with_from = "ASK FROM <http://kasei.us/2009/09/sparql/data/data3.rdf> " + query[4:]
        r = client.get("/sparql", params={"query": with_from},
                       headers={"X-API-Key": endpoint.key})
        assert r.json()["boolean"] is False, "FROM replaces the union default graph"
