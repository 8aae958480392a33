"""One store contract, two backends: embedded Oxigraph on disk and the remote SPARQL 1.1 store.

Every test runs against both; the remote backend talks to a real ``oxigraph serve`` on
loopback. Whatever the rest of Warrant relies on (atomic multi-graph batches, idempotent
re-apply, named graphs, triple terms, read-only queries) is asserted here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import QueryError, StoreError
from engine.store.base import GraphChange, KnowledgeStore
from engine.store.oxigraph import OxigraphStore
from engine.store.remote import RemoteSparqlStore
from tests.servers.oxigraph_server import OxigraphServer

EX = "https://example.org/"
G1 = ox.NamedNode("urn:test:graph:one")
G2 = ox.NamedNode("urn:test:graph:two")
P = ox.NamedNode(f"{EX}p")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(f"{EX}{local}")


def t(s: str, o: ox.NamedNode | ox.Literal | ox.Triple, p: ox.NamedNode = P) -> ox.Triple:
    return ox.Triple(n(s), p, o)


@pytest.fixture(params=["oxigraph", "remote"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, oxigraph_server: OxigraphServer
) -> Iterator[KnowledgeStore]:
    """A fresh, empty store of each backend."""
    backend: KnowledgeStore
    if request.param == "oxigraph":
        backend = OxigraphStore(tmp_path / "kg")
    else:
        oxigraph_server.clear()
        backend = RemoteSparqlStore(
            query_url=oxigraph_server.query_url,
            update_url=oxigraph_server.update_url,
            store_url=oxigraph_server.store_url,
            retries=0,
        )
    try:
        yield backend
    finally:
        backend.close()


def snapshot(store: KnowledgeStore) -> dict[str, set[ox.Triple]]:
    return {g.value: set(store.triples(g)) for g in store.graphs() if store.count(g)}


def test_apply_adds_and_removes_across_graphs(store: KnowledgeStore) -> None:
    store.apply([GraphChange(G1, added=[t("a", n("b")), t("a", ox.Literal("x"), LABEL)]),
                 GraphChange(G2, added=[t("c", ox.Literal(3))])])
    assert store.count(G1) == 2 and store.count(G2) == 1
    store.apply([GraphChange(G1, removed=[t("a", n("b"))], added=[t("a", n("z"))]),
                 GraphChange(G2, removed=[t("c", ox.Literal(3))])])
    assert set(store.triples(G1)) == {t("a", n("z")), t("a", ox.Literal("x"), LABEL)}
    # An emptied graph may stay listed (Oxigraph keeps empty named graphs; most stores do not).
    assert [g for g in store.graphs() if store.count(g)] == [G1]
    assert store.count() == 2


def test_a_failing_batch_leaves_the_store_unchanged(store: KnowledgeStore) -> None:
    store.apply([GraphChange(G1, added=[t("a", n("b")), t("b", n("c"))])])
    before = snapshot(store)
    bad = ox.Triple(ox.BlankNode("b0"), P, n("x"))
    with pytest.raises(StoreError, match="blank node"):
        store.apply([
            GraphChange(G1, removed=[t("a", n("b"))], added=[t("new", n("x"))]),
            GraphChange(G2, added=[t("other", n("y"))]),
            GraphChange(ox.NamedNode("urn:test:graph:three"), removed=[bad], added=[bad]),
        ])
    assert snapshot(store) == before


def test_reapplying_a_batch_changes_nothing(store: KnowledgeStore) -> None:
    batch = [GraphChange(G1, removed=[t("gone", n("x"))], added=[t("a", n("b"))]),
             GraphChange(G2, added=[t("c", ox.Literal("d", language="en"))])]
    store.apply(batch)
    first = snapshot(store)
    store.apply(batch)
    assert snapshot(store) == first
    store.apply([])
    store.apply([GraphChange(G1)])
    assert snapshot(store) == first


def test_match_by_pattern_and_graph(store: KnowledgeStore) -> None:
    store.apply([GraphChange(G1, added=[t("a", n("b")), t("a", ox.Literal("l"), LABEL)]),
                 GraphChange(G2, added=[t("a", n("c"))])])
    everywhere = {(q.triple, q.graph_name) for q in store.match(n("a"), P, None)}
    assert everywhere == {(t("a", n("b")), G1), (t("a", n("c")), G2)}
    in_g2 = [q.triple for q in store.match(None, None, None, G2)]
    assert in_g2 == [t("a", n("c"))]
    assert [q.triple for q in store.match(None, LABEL, ox.Literal("l"))] == [
        t("a", ox.Literal("l"), LABEL)
    ]
    assert list(store.match(n("nobody"), None, None)) == []


def test_select_runs_over_the_union_of_named_graphs(store: KnowledgeStore) -> None:
    store.apply([GraphChange(G1, added=[t("a", n("b"))]),
                 GraphChange(G2, added=[t("b", n("c"))])])
    rows = list(store.select(f"SELECT ?x ?z WHERE {{ ?x <{P.value}> ?y . ?y <{P.value}> ?z }}"))
    assert rows == [{"x": n("a"), "z": n("c")}]
    optional = list(store.select(
        f"SELECT ?x ?l WHERE {{ ?x <{P.value}> ?y "
        f"OPTIONAL {{ ?x <{LABEL.value}> ?l }} }} ORDER BY ?x"
    ))
    assert optional == [{"x": n("a")}, {"x": n("b")}]


def test_query_kinds_and_datasets(store: KnowledgeStore) -> None:
    store.apply([GraphChange(G1, added=[t("a", n("b"))]),
                 GraphChange(G2, added=[t("b", n("c"))])])
    ask = store.query("ASK { GRAPH ?g { ?s ?p ?o } }")
    assert isinstance(ask, ox.QueryBoolean) and bool(ask)
    graph = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G2.value}> {{ ?s ?p ?o }} }}")
    assert isinstance(graph, ox.QueryTriples) and list(graph) == [t("b", n("c"))]
    only_g1 = store.query("SELECT ?s WHERE { ?s ?p ?o }", default_graph=[G1])
    assert isinstance(only_g1, ox.QuerySolutions)
    assert [row["s"] for row in only_g1] == [n("a")]
    named = store.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[G2])
    assert isinstance(named, ox.QuerySolutions)
    assert [row["g"] for row in named] == [G2]
    default_only = store.query("SELECT * WHERE { ?s ?p ?o }")
    assert isinstance(default_only, ox.QuerySolutions) and list(default_only) == []


@pytest.mark.parametrize(
    "text", ["SELECT * WHERE { ?s ?p }", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DROP ALL"]
)
def test_malformed_queries_and_updates_are_refused(store: KnowledgeStore, text: str) -> None:
    store.apply([GraphChange(G1, added=[t("a", n("b"))])])
    with pytest.raises(QueryError):
        store.query(text)
    assert store.count() == 1


def test_triple_terms_round_trip(store: KnowledgeStore) -> None:
    quoted = ox.Triple(n("s"), P, ox.Literal("o"))
    record = ox.NamedNode("urn:warrant:record:x")
    produced = ox.NamedNode("https://w3id.org/warrant/core#produced")
    store.apply([GraphChange(G1, added=[ox.Triple(record, produced, quoted)])])
    assert list(store.triples(G1)) == [ox.Triple(record, produced, quoted)]
    assert [q.subject for q in store.match(None, produced, quoted)] == [record]
    quoted_text = f'<<( <{EX}s> <{P.value}> "o" )>>'
    rows = list(store.select(f"SELECT ?r WHERE {{ ?r <{produced.value}> {quoted_text} }}"))
    assert rows == [{"r": record}]
    store.apply([GraphChange(G1, removed=[ox.Triple(record, produced, quoted)])])
    assert store.count() == 0


def test_literals_keep_datatype_and_language(store: KnowledgeStore) -> None:
    values = [
        ox.Literal("2026-01-31", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")),
        ox.Literal("ein Text", language="de"),
        ox.Literal('quote " and \\ backslash\nnewline'),
        ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")),
    ]
    triples = {t(f"v{i}", v) for i, v in enumerate(values)}
    store.apply([GraphChange(G1, added=sorted(triples, key=str))])
    assert set(store.triples(G1)) == triples


_texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(_texts, min_size=1, max_size=5, unique=True))
def test_any_literal_text_round_trips(store: KnowledgeStore, values: list[str]) -> None:
    triples = {t(f"h{i}", ox.Literal(v)) for i, v in enumerate(values)}
    graph = ox.NamedNode("urn:test:graph:hypothesis")
    store.apply([GraphChange(graph, added=sorted(triples, key=str))])
    try:
        assert set(store.triples(graph)) == triples
    finally:
        store.apply([GraphChange(graph, removed=sorted(triples, key=str))])
    assert store.count(graph) == 0


def test_a_store_counts_its_writes_to_a_graph_or_says_it_cannot(store: KnowledgeStore) -> None:
    before = store.changes(G1)
    store.apply([GraphChange(G1, added=[t("a", n("b"))])])
    after = store.changes(G1)
    if isinstance(store, RemoteSparqlStore):  # other clients of the server may write
        assert (before, after) == (None, None)
    else:
        assert (before, after) == (0, 1)
        assert store.changes(G2) == 0
