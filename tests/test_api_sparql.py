"""The SPARQL endpoint: real clients (SPARQLWrapper, rdflib's SPARQLStore) against a real uvicorn
server, content negotiation, malformed and refused requests, time and result limits, and the
serialisation round trip compared with pyoxigraph's own serializer."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from api.app import create_app
from api.sparql.evaluation import Budget, solutions_bytes
from api.sparql.lexer import Operation, has_dataset_clause, operation
from api.sparql.negotiation import SOLUTION_OFFERS, negotiate
from engine.action.audit import AuditLog
from engine.action.backoff import ManualClock
from engine.action.db import open_database
from engine.errors import QueryError
from engine.settings import Settings
from engine.store import OxigraphStore
from tests.servers.uvicorn_server import RunningServer, run_uvicorn

KEY = "sparql-test-admin-key"
EX = "http://example.org/"
GRAPH = ox.NamedNode(EX + "graphs/vendors")
N_VENDORS = 30
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def _vendors() -> list[ox.Quad]:
    quads = []
    for i in range(N_VENDORS):
        v = ox.NamedNode(f"{EX}vendor/{i}")
        name = ox.Literal(f"Vendor {i}", language="en")
        score = ox.Literal(str(i), datatype=XSD_INTEGER)
        quads.append(ox.Quad(v, ox.NamedNode(EX + "name"), name, GRAPH))
        quads.append(ox.Quad(v, ox.NamedNode(EX + "score"), score, GRAPH))
    return quads


@dataclass(frozen=True)
class Served:
    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.base_url + "/sparql"

    def get(
        self, params: dict[str, str] | list[tuple[str, str]], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        pairs = tuple(params.items() if isinstance(params, dict) else params)
        return httpx.get(self.url, params=pairs, headers={"X-API-Key": KEY, **(headers or {})})

    def post(
        self,
        content: bytes | str,
        content_type: str | None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        h = {"X-API-Key": KEY, **(headers or {})}
        if content_type is not None:
            h["Content-Type"] = content_type
        return httpx.post(self.url, content=content, params=params, headers=h)


def _serve(**limits: float) -> Iterator[Served]:
    store = OxigraphStore(None)
    store.raw.extend(_vendors())
    s = Settings(bootstrap_admin_key=SecretStr(KEY), **limits)  # type: ignore[arg-type]
    app = create_app(
        s,
        store=store,
        audit=AuditLog(open_database("sqlite://")),
        clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)),
    )
    with run_uvicorn(app) as server:
        yield Served(server)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    yield from _serve(query_result_limit=1000)


SELECT_NAMES = f"SELECT ?v ?name WHERE {{ ?v <{EX}name> ?name }} ORDER BY ?v"


# --- real clients ------------------------------------------------------------------------


def _wrapper(served: Served, query: str, fmt: str) -> SPARQLWrapper:
    w = SPARQLWrapper(served.url)
    w.addCustomHttpHeader("X-API-Key", KEY)
    w.setQuery(query)
    w.setReturnFormat(fmt)
    return w


def test_sparqlwrapper_json(served: Served) -> None:
    res = _wrapper(served, SELECT_NAMES, JSON).queryAndConvert()
    assert isinstance(res, dict)
    rows = res["results"]["bindings"]
    assert len(rows) == N_VENDORS
    assert rows[0]["name"] == {"type": "literal", "value": "Vendor 0", "xml:lang": "en"}


def test_sparqlwrapper_xml(served: Served) -> None:
    doc = _wrapper(served, SELECT_NAMES, XML).queryAndConvert()
    literals = doc.getElementsByTagName("literal")  # type: ignore[union-attr]
    assert len(literals) == N_VENDORS
    assert literals[0].getAttribute("xml:lang") == "en"


def test_sparqlwrapper_csv(served: Served) -> None:
    raw = _wrapper(served, SELECT_NAMES, CSV).queryAndConvert()
    assert isinstance(raw, bytes)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0] == ["v", "name"] and len(rows) == N_VENDORS + 1
    assert rows[1] == [f"{EX}vendor/0", "Vendor 0"]


def test_sparqlwrapper_ask_and_construct_turtle(served: Served) -> None:
    ask = _wrapper(served, f"ASK {{ ?v <{EX}score> 29 }}", JSON).queryAndConvert()
    assert ask == {"head": {}, "boolean": True}
    construct = f"CONSTRUCT {{ ?v <{EX}label> ?name }} WHERE {{ ?v <{EX}name> ?name }}"
    w = _wrapper(served, construct, TURTLE)
    raw = w.query().convert()
    assert isinstance(raw, bytes)
    g = rdflib.Graph().parse(data=raw, format="turtle")
    assert len(g) == N_VENDORS


def test_rdflib_sparqlstore_with_auth_headers(served: Served) -> None:
    store = SPARQLStore(served.url, headers={"X-API-Key": KEY}, returnFormat="xml")
    g = rdflib.Graph(store=store)
    rows = list(g.query(SELECT_NAMES))
    assert len(rows) == N_VENDORS
    assert rows[0][1] == rdflib.Literal("Vendor 0", lang="en")  # type: ignore[index]
    construct = f"CONSTRUCT {{ ?v <{EX}score> ?s }} WHERE {{ ?v <{EX}score> ?s }}"
    result = g.query(construct)
    assert result.graph is not None and len(result.graph) == N_VENDORS
    assert bool(g.query(f"ASK {{ <{EX}vendor/3> ?p ?o }}").askAnswer)


# --- content negotiation -----------------------------------------------------------------

NEGOTIATION = [
    # query, Accept, expected content type (None: 406)
    (SELECT_NAMES, None, "application/sparql-results+json"),
    (SELECT_NAMES, "application/sparql-results+xml", "application/sparql-results+xml"),
    (SELECT_NAMES, "text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
    (SELECT_NAMES, "text/csv;q=0.9, application/sparql-results+xml;q=0.1", "text/csv"),
    (SELECT_NAMES, "text/*", "text/csv"),
    (
        SELECT_NAMES,
        "*/*;q=0.1, application/sparql-results+json;q=0",
        "application/sparql-results+xml",
    ),
    (SELECT_NAMES, "text/html", None),
    (SELECT_NAMES, "text/turtle", None),
    ("ASK {}", "application/sparql-results+xml", "application/sparql-results+xml"),
    ("ASK {}", "application/json", "application/json"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", None, "text/turtle"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples", "application/n-triples"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "application/ld+json", "application/ld+json"),
    (
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "application/rdf+xml;q=1, text/turtle;q=0.5",
        "application/rdf+xml",
    ),
    (f"DESCRIBE <{EX}vendor/1>", "text/turtle", "text/turtle"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "application/sparql-results+json", None),
]


@pytest.mark.parametrize(("query", "accept", "expected"), NEGOTIATION)
def test_content_negotiation(
    served: Served, query: str, accept: str | None, expected: str | None
) -> None:
    r = served.get({"query": query}, headers={"Accept": accept} if accept else None)
    if expected is None:
        assert r.status_code == 406, r.text
        assert r.json()["code"] == "not_acceptable"
        return
    assert r.status_code == 200, r.text
    media = r.headers["content-type"].split(";")[0]
    assert media == expected
    rdf = ox.RdfFormat.from_media_type(media)
    if rdf is not None and query.startswith(("CONSTRUCT", "DESCRIBE")):
        parsed = list(ox.parse(r.content, format=rdf))
        assert len(parsed) == (2 if query.startswith("DESCRIBE") else 2 * N_VENDORS)


def test_construct_json_ld_reads_back_in_rdflib(served: Served) -> None:
    r = served.get(
        {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/ld+json"}
    )
    g = rdflib.Graph().parse(data=r.content, format="json-ld")
    assert len(g) == 2 * N_VENDORS


def test_service_description(served: Served) -> None:
    r = served.get({})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.content, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef(served.url)) in g
    assert (None, sd.feature, sd.UnionDefaultGraph) in g


def test_the_endpoint_iri_follows_the_host_the_client_addressed(served: Served) -> None:
    """The endpoint IRI is kept per host: a second host gets its own, in the description and
    as the base of relative IRIs, and the first keeps its own."""
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    other = "warrant.example:8443"
    for host, expected in ((other, f"http://{other}/sparql"), (None, served.url)):
        headers = {"Host": host} if host else None
        g = rdflib.Graph().parse(data=served.get({}, headers=headers).content, format="turtle")
        assert set(g.objects(None, sd.endpoint)) == {rdflib.URIRef(expected)}
        r = served.get({"query": "SELECT ?x WHERE { BIND(<relative> AS ?x) }"},
                       headers={**(headers or {}), "Accept": "text/csv"})
        assert r.text.splitlines()[1] == expected.rsplit("/", 1)[0] + "/relative"


def test_a_query_answer_says_what_the_engine_took(served: Served) -> None:
    """``Server-Timing: query;dur=<ms>`` on every answer that ran a query: the engine's share
    of the request, so a client can tell it from the network and the API (the benchmark's
    HTTP overhead is the rest). The service description runs no query and has none."""
    started = time.perf_counter()
    r = served.get({"query": "SELECT * WHERE { ?s ?p ?o }"})
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert r.status_code == 200
    name, dur, desc = r.headers["server-timing"].split(";")
    assert name == "query" and desc == 'desc="evaluate and write"'
    assert dur.startswith("dur=") and 0 < float(dur.removeprefix("dur=")) < elapsed_ms
    assert "server-timing" not in served.get({}).headers


# --- malformed and refused requests ------------------------------------------------------

BAD_GET = [
    ([("query", "ASK {}"), ("query", "ASK {}")], "query_error", "exactly one"),
    ([("default-graph-uri", EX)], "query_error", "missing"),
    ([("query", "")], "query_error", "missing"),
    ([("query", "ASK {}"), ("update", "CLEAR ALL")], "update_refused", "§2.2"),
    ([("update", "CLEAR ALL")], "update_refused", "§2.2"),
    ([("query", "INSERT DATA { <a:b> <a:c> <a:d> }")], "update_refused", "§2.2"),
    ([("query", "PREFIX ex: <http://x/> DELETE WHERE { ?s ?p ?o }")], "update_refused", "§2.2"),
    ([("query", "SELECT * WHERE { ?s ?p }")], "query_error", "malformed"),
    ([("query", "ASK {}"), ("default-graph-uri", "not an iri")], "query_error", "absolute iri"),
]


@pytest.mark.parametrize(("params", "code", "says"), BAD_GET)
def test_bad_get_requests_are_400(
    served: Served, params: list[tuple[str, str]], code: str, says: str
) -> None:
    r = served.get(params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == code and says in body["message"].lower()


BAD_POST = [
    (b"ASK {}", "text/plain", "unsupported_media_type"),
    (b"ASK {}", None, "unsupported_media_type"),
    (b"query=ASK%20%7B%7D", None, "unsupported_media_type"),
    ("ASK {}".encode("utf-16"), "application/sparql-query; charset=UTF-16", "query_error"),
    (b"ASK { \xff }", "application/sparql-query", "query_error"),
    (b"query=%FF", "application/x-www-form-urlencoded", "query_error"),
    (b"CLEAR ALL", "application/sparql-update", "update_refused"),
    (b"update=CLEAR+ALL", "application/x-www-form-urlencoded", "update_refused"),
    (b"query=ASK+%7B%7D&update=CLEAR+ALL", "application/x-www-form-urlencoded", "update_refused"),
    (b"query=ASK+%7B%7D&query=ASK+%7B%7D", "application/x-www-form-urlencoded", "query_error"),
]


@pytest.mark.parametrize(("body", "content_type", "code"), BAD_POST)
def test_bad_post_requests_are_400(
    served: Served, body: bytes, content_type: str | None, code: str
) -> None:
    r = served.post(body, content_type)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code


def test_direct_post_with_query_parameter_is_refused(served: Served) -> None:
    r = served.post(b"ASK {}", "application/sparql-query", params={"query": "ASK {}"})
    assert r.status_code == 400


def test_form_post_and_protocol_dataset(served: Served) -> None:
    body = f"query=ASK%20%7B%20%3F%73%20%3F%70%20%3F%6F%20%7D&default-graph-uri={GRAPH.value}"
    r = served.post(body, "application/x-www-form-urlencoded")
    assert r.json()["boolean"] is True
    r = served.post(
        "ASK { ?s ?p ?o }",
        "application/sparql-query",
        params={"default-graph-uri": EX + "graphs/none"},
    )
    assert r.json()["boolean"] is False


def test_syntax_errors_point_at_the_users_text(served: Served) -> None:
    r = served.get({"query": "ASK {"})
    message = r.json()["message"]
    assert "error at 1:6" in message and "\n" not in message and len(message) <= 240


# --- limits ------------------------------------------------------------------------------


def test_result_limit_refuses_instead_of_truncating() -> None:
    for served in _serve(query_result_limit=N_VENDORS):
        ok = served.get({"query": SELECT_NAMES})
        assert len(ok.json()["results"]["bindings"]) == N_VENDORS
        over = served.get({"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert over.status_code == 422
        assert over.json()["code"] == "result_limit_exceeded"
        assert over.json()["details"] == {"result_limit": N_VENDORS}
        triples = served.get({"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
        assert triples.status_code == 422


_JOIN4 = " . ".join(f"?a{k} <{EX}score> ?x{k}" for k in range(4))  # 30**4 = 810k solutions
SLOW_JOIN = f"SELECT * WHERE {{ {_JOIN4} }}"
SLOW_AGGREGATE = f"SELECT (COUNT(*) AS ?n) WHERE {{ {_JOIN4} }}"  # one engine step, ~0.25 s


@pytest.mark.parametrize("query", [SLOW_JOIN, SLOW_AGGREGATE], ids=["streaming", "one-step"])
def test_time_limit_answers_503(query: str) -> None:
    for served in _serve(query_timeout_s=0.05, query_result_limit=10**9):
        started = datetime.now(UTC)
        r = served.get({"query": query})
        elapsed = (datetime.now(UTC) - started).total_seconds()
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "query_timeout"
        assert r.headers["retry-after"]
        assert elapsed < 3
        assert served.get({"query": "ASK {}"}).status_code == 200  # the endpoint still serves


# --- units: negotiation, lexer, serialisation round trip ---------------------------------


def test_negotiation_prefers_the_most_specific_range() -> None:
    chosen = negotiate("*/*;q=0.9, text/*;q=0.1, text/csv;q=0.8", SOLUTION_OFFERS)
    assert chosen.media_type == "application/sparql-results+json"
    chosen = negotiate("text/*;q=0.95, */*;q=0.9", SOLUTION_OFFERS)
    assert chosen.media_type == "text/csv"
    with pytest.raises(QueryError):
        negotiate("image/png, */*;q=0", SOLUTION_OFFERS)
    assert negotiate("garbage", SOLUTION_OFFERS).media_type == SOLUTION_OFFERS[0].media_type


LEXER = [
    ("SELECT * FROM <g> { ?s ?p ?o }", Operation.QUERY, True),
    ("select * where { ?s <p:x> ?from }", Operation.QUERY, False),
    ("# FROM <g>\nASK {}", Operation.QUERY, False),
    ("CONSTRUCT { ?s ?p ?o } FROM NAMED <g> WHERE { }", Operation.QUERY, True),
    ("SELECT ('FROM' AS ?x) {}", Operation.QUERY, False),
    ("SELECT * { ?s ex:from ?o }", Operation.QUERY, False),
    ("PREFIX : <x:> INSERT DATA {}", Operation.UPDATE, False),
    ("BASE <x:> WITH <g> DELETE {} WHERE {}", Operation.UPDATE, False),
    ('SELECT """ INSERT """ {}', Operation.QUERY, False),
    ("nonsense", Operation.UNKNOWN, False),
]


@pytest.mark.parametrize(("text", "op", "dataset"), LEXER)
def test_lexer(text: str, op: Operation, dataset: bool) -> None:
    assert operation(text) is op
    assert has_dataset_clause(text) is dataset


_iri = st.from_regex(r"\Ahttp://example\.org/([a-z0-9_~.-]|%[0-9A-F]{2}|[éü]){0,8}\Z")
_lit = st.one_of(
    st.builds(ox.Literal, st.text(max_size=20)),
    st.builds(
        lambda v, lang: ox.Literal(v, language=lang),
        st.text(max_size=10),
        st.sampled_from(["en", "fr-be", "de"]),
    ),
    st.builds(lambda v: ox.Literal(str(v), datatype=XSD_INTEGER), st.integers()),
)
_subject = st.one_of(
    st.builds(ox.NamedNode, _iri), st.builds(ox.BlankNode, st.from_regex(r"\A[a-z][a-z0-9]{0,6}\Z"))
)
_object = st.one_of(_subject, _lit)
_P, _Q = ox.NamedNode(EX + "p"), ox.NamedNode(EX + "q")


@given(
    st.lists(st.tuples(_subject, _object, st.booleans()), max_size=6),
    st.sampled_from(
        [
            ox.QueryResultsFormat.JSON,
            ox.QueryResultsFormat.XML,
            ox.QueryResultsFormat.CSV,
            ox.QueryResultsFormat.TSV,
        ]
    ),
)
@settings(max_examples=150, deadline=None)
def test_serialisation_is_byte_identical_to_pyoxigraph(
    rows: list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode | ox.BlankNode | ox.Literal, bool]],
    fmt: ox.QueryResultsFormat,
) -> None:
    store = ox.Store()
    for subject, obj, also_q in rows:
        store.add(ox.Quad(subject, _P, obj))
        if also_q:
            store.add(ox.Quad(subject, _Q, obj))
    query = (
        f"SELECT ?s ?o ?extra WHERE {{ ?s <{_P.value}> ?o OPTIONAL {{ ?s <{_Q.value}> ?extra }} }}"
    )
    direct = store.query(query)
    assert isinstance(direct, ox.QuerySolutions)
    expected = direct.serialize(format=fmt)
    count = len(list(store.query(query)))  # type: ignore[arg-type]
    again = store.query(query)
    assert isinstance(again, ox.QuerySolutions)
    assert solutions_bytes(again, fmt, _budget(count), 60.0) == expected
    if count:
        over = store.query(query)
        assert isinstance(over, ox.QuerySolutions)
        with pytest.raises(QueryError, match="more than"):
            solutions_bytes(over, fmt, _budget(count - 1), 60.0)


def _budget(limit: int) -> Budget:
    return Budget(deadline=time.monotonic() + 60, result_limit=limit, cancelled=threading.Event())
