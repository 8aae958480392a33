"""``/sparql`` results written by pyoxigraph's serializers equal those of the former writer.

The reference model is the writer the endpoint used before (every solution pulled into Python,
written as TSV term by term, parsed and written again; triples collected, then serialized).
Both run over a generated, ingested knowledge graph — the benchmark's governance queries,
whole named graphs, a CONSTRUCT — in every format the endpoint offers; the answers must parse
to the same results and be byte-identical.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from api.sparql.evaluation import Answer, Budget, evaluate
from api.sparql.negotiation import GRAPH_OFFERS, SOLUTION_OFFERS, GraphOffer, ResultsOffer
from api.sparql.protocol import QueryRequest
from bench.generate import generate
from bench.prepare import ingest_all, quiet_libraries
from bench.scenarios.sparql import QUERIES
from engine.errors import QueryError
from engine.store import OxigraphStore

BASE = "http://localhost/sparql"
SELECTS = [
    *QUERIES.values(),
    "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER (!isTriple(?o)) }",
    "SELECT ?s ?label (LANG(?label) AS ?lang) WHERE { ?s ?p ?label FILTER isLiteral(?label) }",
]
CONSTRUCTS = [
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER (!isTriple(?o)) }",
    "CONSTRUCT { _:b <http://example.org/about> ?s } WHERE { ?s a ?type }",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphStore]:
    quiet_libraries()
    root = tmp_path_factory.mktemp("kg")
    ws = generate(root / "ws", triples=3000)
    ingest_all(ws.root, root / "store")
    opened = OxigraphStore(root / "store", read_only=True)
    try:
        yield opened
    finally:
        opened.close()


def _budget() -> Budget:
    return Budget(deadline=time.monotonic() + 60, result_limit=10**9,
                  cancelled=threading.Event())


def _new(store: OxigraphStore, query: str, media_type: str) -> Answer:
    return evaluate(store, QueryRequest(query), accept=media_type, base_iri=BASE,
                    budget=_budget(), timeout_s=60.0)


def _result(store: OxigraphStore, query: str) -> ox.QuerySolutions | ox.QueryTriples:
    result = store.query(f"BASE <{BASE}> {query}", use_default_graph_as_union=True)
    assert not isinstance(result, ox.QueryBoolean)
    return result


def _old_solutions(store: OxigraphStore, query: str, offer: ResultsOffer) -> bytes:
    """The former writer: rows pulled into Python, TSV built term by term, parsed, written."""
    result = _result(store, query)
    assert isinstance(result, ox.QuerySolutions)
    variables = list(result.variables)
    lines = ["\t".join(f"?{v.value}" for v in variables)]
    for row in result:
        lines.append("\t".join("" if row[v] is None else str(row[v]) for v in variables))
    parsed = ox.parse_query_results(("\n".join(lines) + "\n").encode(),
                                    format=ox.QueryResultsFormat.TSV)
    assert isinstance(parsed, ox.QuerySolutions)
    return parsed.serialize(format=offer.format) or b""


def _old_triples(store: OxigraphStore, query: str, offer: GraphOffer) -> bytes:
    """The former writer: triples collected in Python, then serialized."""
    return ox.serialize(list(_result(store, query)), format=offer.format) or b""


def _rows(body: bytes, fmt: ox.QueryResultsFormat) -> list[tuple[object, ...]]:
    parsed = ox.parse_query_results(body, format=fmt)
    assert isinstance(parsed, ox.QuerySolutions)
    variables = list(parsed.variables)
    return [tuple(row[v] for v in variables) for row in parsed]


@pytest.mark.parametrize("query", SELECTS)
@pytest.mark.parametrize("offer", SOLUTION_OFFERS[:4], ids=lambda o: o.media_type)
def test_select_results_equal_the_former_writer(
    store: OxigraphStore, query: str, offer: ResultsOffer
) -> None:
    old = _old_solutions(store, query, offer)
    new = _new(store, query, offer.media_type)
    assert new.media_type == offer.media_type
    if offer.format != ox.QueryResultsFormat.CSV:  # CSV drops term kinds: bytes only
        assert _rows(new.body, offer.format) == _rows(old, offer.format)
        assert len(_rows(new.body, offer.format)) > 0
    assert new.body == old


@pytest.mark.parametrize("query", CONSTRUCTS)
@pytest.mark.parametrize("offer", GRAPH_OFFERS[:4], ids=lambda o: o.media_type)
def test_construct_results_equal_the_former_writer(
    store: OxigraphStore, query: str, offer: GraphOffer
) -> None:
    old = _old_triples(store, query, offer)
    new = _new(store, query, offer.media_type)
    assert new.media_type == offer.media_type
    assert _canonical(new.body, offer.format) == _canonical(old, offer.format)
    if "_:" not in query:  # a template's blank nodes are fresh in every evaluation
        assert new.body == old


def _canonical(body: bytes, fmt: ox.RdfFormat) -> list[tuple[str, str, str]]:
    """The triples in order, blank nodes renamed by first appearance."""
    names: dict[str, str] = {}

    def term(t: object) -> str:
        if isinstance(t, ox.BlankNode):
            return names.setdefault(t.value, f"_:n{len(names)}")
        return str(t)

    out = [(term(q.subject), term(q.predicate), term(q.object))
           for q in ox.parse(body, format=fmt)]
    assert out
    return out


def test_triple_terms_are_answered() -> None:
    """RDF 1.2 triple terms in solutions and graphs: the former writer failed on them (it wrote
    a triple term without its ``<<( … )>>``)."""
    store = OxigraphStore(None)
    a, p = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p")
    store.raw.add(ox.Quad(a, p, ox.Triple(a, p, ox.Literal("x\ty\nz"))))
    with pytest.raises(SyntaxError):
        _old_solutions(store, "SELECT ?o { ?s ?p ?o }", SOLUTION_OFFERS[0])
    for query, fmt in (("SELECT ?o { ?s ?p ?o }", ox.QueryResultsFormat.JSON),
                       ("SELECT ?o { ?s ?p ?o }", ox.QueryResultsFormat.XML)):
        direct = store.raw.query(query)
        assert isinstance(direct, ox.QuerySolutions)
        media = "application/sparql-results+" + ("json" if fmt == ox.QueryResultsFormat.JSON
                                                 else "xml")
        assert _new(store, query, media).body == direct.serialize(format=fmt)
    graph = _new(store, "CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle").body
    assert list(ox.parse(graph, format=ox.RdfFormat.TURTLE)) == [
        ox.Quad(a, p, ox.Triple(a, p, ox.Literal("x\ty\nz")))]


def _limited(store: OxigraphStore, query: str, limit: int, media_type: str) -> Answer:
    budget = Budget(deadline=time.monotonic() + 60, result_limit=limit,
                    cancelled=threading.Event())
    return evaluate(store, QueryRequest(query), accept=media_type, base_iri=BASE,
                    budget=budget, timeout_s=60.0)


@pytest.mark.parametrize(("query", "media_type"), [
    (SELECTS[3], "application/sparql-results+json"),
    (SELECTS[3], "text/tab-separated-values"),
    (CONSTRUCTS[0], "text/turtle"),
    (CONSTRUCTS[0], "application/n-triples"),
])
def test_the_result_limit_counts_solutions_and_triples(
    store: OxigraphStore, query: str, media_type: str
) -> None:
    """Exactly ``limit`` results pass; one more is refused (however long the values)."""
    count = len(list(_result(store, query)))
    assert count > 100
    assert _limited(store, query, count, media_type).body
    with pytest.raises(QueryError, match=f"more than {count - 1} results"):
        _limited(store, query, count - 1, media_type)
