"""The result limit counts solutions exactly in every format written directly by pyoxigraph.

Solutions are written in the negotiated format and counted by a marker per solution
(:data:`api.sparql.evaluation.COUNTINGS`). In JSON and CSV the marker may also occur inside
values; past the limit such a count is settled by a scan that skips strings. These tests hold
values full of markers, quotes and backslashes, empty solutions, no solutions, and markers
split between two writes: exactly ``limit`` solutions are answered byte for byte as Oxigraph
writes them, one more is the 422.
"""

from __future__ import annotations

import itertools
import threading
import time

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.sparql.evaluation import (
    COUNTINGS,
    LINES,
    TSV_LINES,
    Answer,
    BoundedSink,
    Budget,
    Counting,
    CsvScan,
    JsonScan,
    Scan,
    evaluate,
)
from api.sparql.negotiation import SOLUTION_OFFERS, ResultsOffer
from api.sparql.protocol import QueryRequest
from engine.errors import QueryError
from engine.store import OxigraphStore

BASE = "http://localhost/sparql"
EX = "http://example.org/"
FORMATS = SOLUTION_OFFERS[:4]  # JSON, XML, CSV, TSV
N = 40
# Each value holds the JSON marker several times, line breaks (CSV's marker), and XML's
# `<result>`, so a marker count over the bytes is far above the number of solutions.
TRICKY = '},{"x":{},{\n<result>\r\n},{[{'


def _budget(limit: int) -> Budget:
    return Budget(deadline=time.monotonic() + 60, result_limit=limit, cancelled=threading.Event())


def _evaluate(store: OxigraphStore, query: str, media_type: str, limit: int) -> Answer:
    return evaluate(
        store,
        QueryRequest(query),
        accept=media_type,
        base_iri=BASE,
        budget=_budget(limit),
        timeout_s=60.0,
    )


def _direct(store: OxigraphStore, query: str, fmt: ox.QueryResultsFormat) -> bytes:
    """What Oxigraph itself writes for ``query``."""
    result = store.raw.query(f"BASE <{BASE}> {query}", use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return result.serialize(format=fmt) or b""


@pytest.fixture(scope="module")
def store() -> OxigraphStore:
    opened = OxigraphStore(None)
    g = ox.NamedNode(EX + "g")
    for i in range(N):
        subject = ox.NamedNode(f"{EX}s{i}")
        opened.raw.add(ox.Quad(subject, ox.NamedNode(EX + "v"), ox.Literal(f"{TRICKY}{i}"), g))
        opened.raw.add(ox.Quad(subject, ox.NamedNode(EX + "n"), ox.Literal(i), g))
    return opened


TRICKY_QUERY = f"SELECT ?s ?v WHERE {{ ?s <{EX}v> ?v }} ORDER BY ?s"
PLAIN_QUERY = f"SELECT ?s ?n WHERE {{ ?s <{EX}n> ?n }} ORDER BY ?n"
EMPTY_SOLUTIONS = "SELECT ?a WHERE { VALUES ?a { UNDEF UNDEF UNDEF } }"
NO_SOLUTIONS = "SELECT ?a WHERE { FILTER (false) }"


@pytest.mark.parametrize("offer", FORMATS, ids=lambda o: o.media_type)
@pytest.mark.parametrize(
    ("query", "count"),
    [(TRICKY_QUERY, N), (PLAIN_QUERY, N), (EMPTY_SOLUTIONS, 3), (NO_SOLUTIONS, 0)],
    ids=["markers-in-values", "plain", "empty-solutions", "none"],
)
def test_exactly_the_limit_passes_and_one_more_is_refused(
    store: OxigraphStore, offer: ResultsOffer, query: str, count: int
) -> None:
    media_type, fmt = offer.media_type, offer.format
    answer = _evaluate(store, query, media_type, count)
    assert answer.media_type == media_type
    assert answer.body == _direct(store, query, fmt)
    if count:
        with pytest.raises(QueryError, match=f"more than {count - 1} results") as refused:
            _evaluate(store, query, media_type, count - 1)
        assert refused.value.code == "result_limit_exceeded"


_value = st.text(alphabet='ab"\\\\},{[]\n\r\t<>u', max_size=12)
_SCANS: list[tuple[ox.QueryResultsFormat, type[JsonScan] | type[CsvScan]]] = [
    (ox.QueryResultsFormat.JSON, JsonScan),
    (ox.QueryResultsFormat.CSV, CsvScan),
]


@given(
    st.lists(st.lists(st.one_of(st.none(), _value), min_size=2, max_size=2), max_size=8),
    st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
    st.sampled_from(_SCANS),
)
@settings(max_examples=300, deadline=None)
def test_the_scans_count_solutions_exactly_however_the_bytes_are_cut(
    rows: list[list[str | None]],
    cuts: list[int],
    scan: tuple[ox.QueryResultsFormat, type[JsonScan] | type[CsvScan]],
) -> None:
    """Values of quotes, backslashes, markers and line breaks; unbound values (empty
    solutions); pieces cut anywhere, inside escapes too."""
    fmt, make = scan
    store = ox.Store()
    values = " ".join(
        "(" + " ".join("UNDEF" if v is None else _literal(v) for v in row) + ")" for row in rows
    )
    result = store.query(f"SELECT ?a ?b WHERE {{ VALUES (?a ?b) {{ {values} }} }}")
    assert isinstance(result, ox.QuerySolutions)
    body = result.serialize(format=fmt) or b""
    counter: Scan = make()
    edges = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    for start, end in itertools.pairwise(edges):
        counter.feed(body[start:end])
    assert counter.solutions == len(rows)


def _literal(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def test_every_results_format_has_a_counting() -> None:
    assert {o.format for o in SOLUTION_OFFERS} == set(COUNTINGS)


def _sink_count(body: bytes, cuts: list[int], counting: Counting, limit: int) -> bool:
    """Whether ``body``, written in the pieces ``cuts`` makes, stays within ``limit``."""
    sink = BoundedSink(_budget(limit), 60.0, counting)
    edges = [0, *sorted(c % (len(body) + 1) for c in cuts), len(body)]
    try:
        for start, end in itertools.pairwise(edges):
            sink.write(body[start:end])
    except QueryError:
        return False
    assert sink.getvalue() == body
    return True


@given(
    st.lists(st.sampled_from([b"}", b",", b"{", b"},{", b"x", b"\n"]), max_size=30),
    st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
@settings(max_examples=200, deadline=None)
def test_markers_split_between_writes_are_counted_once(
    pieces: list[bytes], cuts: list[int]
) -> None:
    body = b"".join(pieces)
    for counting in (Counting(b"},{", offset=0), LINES, TSV_LINES):
        total = body.count(counting.marker)
        results = total - counting.offset
        assert _sink_count(body, cuts, counting, max(results, 0))
        if results > 0:
            assert not _sink_count(body, cuts, counting, results - 1)


def test_a_cancelled_budget_stops_the_sink() -> None:
    budget = _budget(10)
    budget.cancelled.set()
    with pytest.raises(QueryError) as stopped:
        BoundedSink(budget, 1.0, LINES).write(b"<a> <b> <c> .\n")
    assert stopped.value.code == "query_timeout"
