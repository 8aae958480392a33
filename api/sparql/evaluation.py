"""Running a query under a time limit and a result limit, and writing its answer.

The query runs in a worker thread of a small per-app pool; pyoxigraph releases the GIL while
it evaluates, so the event loop keeps serving. Results never pass through Python term by
term: pyoxigraph's own serializer evaluates the lazy results and writes them, in the
negotiated format, into a :class:`BoundedSink`, which enforces the limits as the bytes arrive
(about every 8 KiB):

- **Time limit** (``Settings.query_timeout_s``): the caller is answered 503 ``query_timeout``
  when the deadline passes. The engine cannot be interrupted inside one step (a sort, an
  aggregate, the first solution of a large join) nor between two writes: the worker thread
  sees the deadline at its next write (or at the end) and stops; its result is thrown away.
  The pool is small so that runaway queries queue behind each other instead of starving the
  process.
- **Result limit** (``Settings.query_result_limit``): a query with more solutions or triples is
  refused with 422 ``result_limit_exceeded`` — results are never silently truncated; page
  with ``LIMIT`` / ``OFFSET``. The sink counts a marker that every solution writes once
  (:class:`Counting`): a line in TSV and N-Triples (both escape line breaks inside terms),
  ``<result>`` in XML (``<`` is escaped in text) — exact counts. In JSON and CSV a marker may
  also occur inside a value (``},{`` / ``[{`` begin each JSON solution; a quoted CSV value may
  hold a line break), so there the count is an upper bound: while it stays within the limit
  the answer is exact as written; past it (more results, or values full of markers) the query
  is evaluated again, counted exactly as TSV and rewritten in the negotiated format by
  pyoxigraph's parser and serializer.

Graphs (CONSTRUCT / DESCRIBE) are counted as N-Triples and rewritten in the other graph
formats the same way. Every such round trip is exact (both sides write every term in
N-Triples syntax, triple terms included), so every format is byte-identical to what Oxigraph
itself would produce.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from api.sparql.lexer import has_dataset_clause
from api.sparql.negotiation import BOOLEAN_OFFERS, GRAPH_OFFERS, SOLUTION_OFFERS, negotiate
from api.sparql.protocol import QueryRequest
from engine.errors import QueryError
from engine.store import KnowledgeStore

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

QUERY_TIMEOUT = "query_timeout"
RESULT_LIMIT_EXCEEDED = "result_limit_exceeded"
_POSITION = re.compile(r"error at 1:(\d+)")
_MAX_MESSAGE = 240
_TSV = ox.QueryResultsFormat.TSV
_NT = ox.RdfFormat.N_TRIPLES


@dataclass(frozen=True)
class Answer:
    """A serialized result and its media type."""

    body: bytes
    media_type: str


@dataclass(frozen=True)
class Budget:
    """The limits one evaluation runs under."""

    deadline: float  # time.monotonic() value
    result_limit: int
    cancelled: threading.Event

    def check(self, timeout_s: float) -> None:
        """Raise the timeout error when the deadline passed or the caller gave up."""
        if self.cancelled.is_set() or time.monotonic() > self.deadline:
            raise timeout_error(timeout_s)


def timeout_error(timeout_s: float) -> QueryError:
    """The 503 answered when a query runs past its time limit."""
    return QueryError(
        f"the query ran longer than the limit of {timeout_s:g} s; narrow it or add a LIMIT",
        code=QUERY_TIMEOUT,
        details={"timeout_s": timeout_s},
    )


@dataclass(frozen=True)
class Counting:
    """How a sink counts results in one format: by the occurrences of ``marker`` (a byte
    string that cannot overlap itself), less ``offset``. With ``exact`` that is the number
    of results; otherwise it may count markers inside values too: an upper bound."""

    marker: bytes
    offset: int
    exact: bool


LINES = Counting(b"\n", offset=0, exact=True)
"""N-Triples: one triple per line (line breaks in terms are escaped)."""
TSV_LINES = Counting(b"\n", offset=1, exact=True)
"""TSV results: the variables' line, then one solution per line (line breaks escaped)."""
COUNTINGS: dict[ox.QueryResultsFormat, Counting] = {
    _TSV: TSV_LINES,
    # Every solution is one ``<result>`` element; ``<`` is escaped in text and attributes.
    ox.QueryResultsFormat.XML: Counting(b"<result>", offset=0, exact=True),
    # ``},{`` separates two solutions (``[{`` opens the first; the one scan counts no more
    # than it must): n solutions write it n - 1 times, and a value may hold it.
    ox.QueryResultsFormat.JSON: Counting(b"},{", offset=-1, exact=False),
    # One line per solution after the header, but a quoted value may hold line breaks.
    ox.QueryResultsFormat.CSV: Counting(b"\n", offset=1, exact=False),
}
"""How the sink counts the solutions of each results format (each is one scan of the bytes:
about 1 ms per MB, against the 20 ms per MB of a TSV round trip)."""


class AmbiguousCount(Exception):
    """An upper-bound count passed the limit: the solutions must be counted exactly."""


class BoundedSink(io.BytesIO):
    """An in-memory binary file for pyoxigraph's serializers that stops them at the budget's
    limits, counting results by ``counting``'s markers (also across two writes)."""

    def __init__(self, budget: Budget, timeout_s: float, counting: Counting) -> None:
        super().__init__()
        self._budget = budget
        self._timeout_s = timeout_s
        self._marker = counting.marker
        self._exact = counting.exact
        self._allowed = budget.result_limit + counting.offset
        self._seen = 0
        self._carry = len(counting.marker) - 1
        self._tail = b""  # the last ``_carry`` bytes written, for a marker split by a write

    def write(self, chunk: ReadableBuffer, /) -> int:
        """Keep ``chunk``; raise the timeout or result-limit error when a limit is passed
        (:class:`AmbiguousCount` when an upper-bound count passes the result limit)."""
        self._budget.check(self._timeout_s)
        data = bytes(chunk)  # pyoxigraph writes bytes: no copy
        marker = self._marker
        self._seen += data.count(marker)
        if self._carry:
            head = data[: self._carry]
            edge = self._tail + head
            self._seen += edge.count(marker) - self._tail.count(marker) - head.count(marker)
            self._tail = edge[-self._carry :] if len(data) < self._carry else data[-self._carry :]
        if self._seen > self._allowed:
            if self._exact:
                raise result_limit_error(self._budget.result_limit)
            raise AmbiguousCount
        return super().write(data)


def result_limit_error(limit: int) -> QueryError:
    """The 422 answered when a query has more results than the limit."""
    return QueryError(
        f"the query has more than {limit} results; page through them with LIMIT and OFFSET",
        code=RESULT_LIMIT_EXCEEDED,
        details={"result_limit": limit},
    )


def _written(write: Callable[[BoundedSink], object], sink: BoundedSink) -> bytes:
    """Run one of pyoxigraph's serializers into ``sink``; engine failures become QueryError."""
    try:
        write(sink)
    except QueryError:
        raise
    except (OSError, RuntimeError, ValueError, TypeError) as exc:
        raise QueryError(f"the query failed while evaluating: {exc}") from exc
    return sink.getvalue()


def solutions_bytes(
    solutions: ox.QuerySolutions, fmt: ox.QueryResultsFormat, sink: BoundedSink
) -> bytes:
    """``solutions`` evaluated and written by pyoxigraph as TSV through ``sink`` (which counts
    them exactly), then rewritten in ``fmt``."""
    tsv = _written(lambda out: solutions.serialize(out, format=_TSV), sink)
    if fmt == _TSV:
        return tsv
    parsed = ox.parse_query_results(tsv, format=_TSV)
    assert isinstance(parsed, ox.QuerySolutions)
    return parsed.serialize(format=fmt) or b""


def direct_solutions_bytes(
    solutions: ox.QuerySolutions,
    fmt: ox.QueryResultsFormat,
    budget: Budget,
    timeout_s: float,
) -> bytes:
    """``solutions`` evaluated and written by pyoxigraph in ``fmt`` straight into a sink that
    counts them by the format's markers; AmbiguousCount when that count is not conclusive."""
    sink = BoundedSink(budget, timeout_s, COUNTINGS[fmt])
    return _written(lambda out: solutions.serialize(out, format=fmt), sink)


def triples_bytes(triples: ox.QueryTriples, fmt: ox.RdfFormat, sink: BoundedSink) -> bytes:
    """``triples`` evaluated and written in ``fmt`` by pyoxigraph (through ``sink``)."""
    nt = _written(lambda out: triples.serialize(out, format=_NT), sink)
    if fmt == _NT:
        return nt
    return ox.serialize(ox.parse(nt, format=_NT), format=fmt) or b""


def graph_answer(
    triples: Iterable[ox.Triple], accept: str | None, prefixes: dict[str, str] | None = None
) -> Answer:
    """Triples in the negotiated graph format (Turtle by default)."""
    offer = negotiate(accept, GRAPH_OFFERS)
    body = ox.serialize(triples, format=offer.format, prefixes=prefixes)
    return Answer(body or b"", offer.media_type)


def _detached(exc: BaseException) -> None:
    """Drop the tracebacks of ``exc`` and its causes.

    pyoxigraph's result iterators must be freed on the thread that made them; a traceback
    keeps the worker's frames (and so the iterator) alive until the event loop's thread drops
    the exception, which pyoxigraph reports as an error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


def evaluate(
    store: KnowledgeStore,
    request: QueryRequest,
    *,
    accept: str | None,
    base_iri: str,
    budget: Budget,
    timeout_s: float,
) -> Answer:
    """Run one query within ``budget`` and write the answer in the negotiated format."""
    try:
        return _evaluate(
            store, request, accept=accept, base_iri=base_iri, budget=budget, timeout_s=timeout_s
        )
    except Exception as exc:
        _detached(exc)
        raise


def _evaluate(
    store: KnowledgeStore,
    request: QueryRequest,
    *,
    accept: str | None,
    base_iri: str,
    budget: Budget,
    timeout_s: float,
) -> Answer:
    budget.check(timeout_s)
    prefix = f"BASE <{base_iri}> "
    protocol = request.has_protocol_dataset
    default_graph = [ox.NamedNode(g) for g in request.default_graphs] if protocol else None
    named_graphs = [ox.NamedNode(g) for g in request.named_graphs] if protocol else None
    union = not protocol and not has_dataset_clause(request.query)

    def run() -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        try:
            return store.query(
                prefix + request.query,
                default_graph=default_graph,
                named_graphs=named_graphs,
                use_default_graph_as_union=union,
            )
        except QueryError as exc:
            message = _POSITION.sub(
                lambda m: f"error at 1:{max(1, int(m.group(1)) - len(prefix))}", exc.message
            )
            message = " ".join(message.split())
            if len(message) > _MAX_MESSAGE:
                message = message[: _MAX_MESSAGE - 1] + "…"
            raise QueryError(
                message, location=exc.location, details=exc.details, code=exc.code
            ) from exc

    result = run()
    if isinstance(result, ox.QueryBoolean):
        offer = negotiate(accept, BOOLEAN_OFFERS)
        return Answer(result.serialize(format=offer.format) or b"", offer.media_type)
    if isinstance(result, ox.QuerySolutions):
        results_offer = negotiate(accept, SOLUTION_OFFERS)
        fmt = results_offer.format
        try:
            body = direct_solutions_bytes(result, fmt, budget, timeout_s)
        except AmbiguousCount:
            del result  # freed here, on the thread that made it
            again = run()
            assert isinstance(again, ox.QuerySolutions)
            body = solutions_bytes(again, fmt, BoundedSink(budget, timeout_s, TSV_LINES))
        return Answer(body, results_offer.media_type)
    graph_offer = negotiate(accept, GRAPH_OFFERS)  # refuse (406) before evaluating
    sink = BoundedSink(budget, timeout_s, LINES)
    return Answer(triples_bytes(result, graph_offer.format, sink), graph_offer.media_type)


@dataclass
class QueryRunner:
    """Evaluates queries off the event loop under the app's limits."""

    store: KnowledgeStore
    executor: ThreadPoolExecutor
    timeout_s: float
    result_limit: int

    async def run(self, request: QueryRequest, *, accept: str | None, base_iri: str) -> Answer:
        """The answer, or QueryError (400 / 406 / 422 / 503)."""
        budget = Budget(
            deadline=time.monotonic() + self.timeout_s,
            result_limit=self.result_limit,
            cancelled=threading.Event(),
        )
        future = self.executor.submit(
            evaluate,
            self.store,
            request,
            accept=accept,
            base_iri=base_iri,
            budget=budget,
            timeout_s=self.timeout_s,
        )
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.timeout_s)
        except TimeoutError as exc:
            raise timeout_error(self.timeout_s) from exc
        finally:
            budget.cancelled.set()  # stops the worker at its next step if it still runs
