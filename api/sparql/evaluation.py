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
  ``<result>`` in XML (``<`` is escaped in text) — exact counts. In JSON (``},{`` between
  two solutions) and CSV (a line) a value may hold the marker too, so there the count is an
  upper bound: while it stays within the limit nothing more is needed; past it the sink
  counts exactly from then on by a scan that skips strings / quoted values
  (:class:`JsonScan`, :class:`CsvScan`).

Graphs (CONSTRUCT / DESCRIBE) are counted as N-Triples and rewritten in the other graph
formats by pyoxigraph's parser and serializer. That round trip is exact (both sides write
every term in N-Triples syntax, triple terms included): every format, solutions and graphs,
is byte-identical to what Oxigraph itself would produce.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

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
    """A serialized result and its media type; ``evaluated_ms``: the time the engine spent
    evaluating and writing it (0 for answers that ran no query), sent as ``Server-Timing``."""

    body: bytes
    media_type: str
    evaluated_ms: float = 0.0


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


class Scan(Protocol):
    """An exact count of the solutions in a results document fed to it in pieces."""

    solutions: int

    def feed(self, data: bytes) -> None:
        """Count the solutions that ``data``, the next bytes of the document, completes."""
        ...


_JSON_STRING = re.compile(rb'"[^"]*"')


class JsonScan:
    """Solutions in SPARQL JSON results: ``},{`` and the ``[{`` of the first one, outside
    strings (inside a string, ``"`` and ``\\`` are escaped: every other ``"`` delimits one)."""

    def __init__(self) -> None:
        self.solutions = 0
        self._in_string = False
        self._escape = False  # the last piece ended inside an escape sequence
        self._tail = b""  # the last two bytes outside strings, for a marker split by a piece
        self._separators = 0
        self._opened = False

    def feed(self, data: bytes) -> None:
        """See :class:`Scan`."""
        if self._escape and data:
            data, self._escape = data[1:], False
        flat = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        if flat.endswith(b"\\"):
            flat, self._escape = flat[:-1], True
        if self._in_string:  # the string the last piece ended in: up to its closing quote
            end = flat.find(b'"')
            if end < 0:
                return
            flat, self._in_string, self._tail = flat[end + 1 :], False, b""
        # Removing strings joins no marker: a string follows `{`, `[`, `,` or `:` and is
        # followed by `:`, `,`, `}` or `]`.
        outside = self._tail + _JSON_STRING.sub(b"", flat)
        opened_at = outside.find(b'"')
        if opened_at >= 0:  # a string runs on into the next piece
            outside, self._in_string = outside[:opened_at], True
        self._separators += outside.count(b"},{")
        self._opened = self._opened or b"[{" in outside
        self._tail = b"" if self._in_string else outside[-2:]
        self.solutions = self._separators + (1 if self._opened else 0)


class CsvScan:
    """Solutions in SPARQL CSV results: line breaks outside quoted values, less the header
    (a quoted value doubles its ``"``: every ``"`` opens or closes one)."""

    def __init__(self) -> None:
        self.solutions = 0
        self._quoted = False
        self._lines = 0

    def feed(self, data: bytes) -> None:
        """See :class:`Scan`."""
        parts = data.split(b'"')
        outside = parts[1::2] if self._quoted else parts[0::2]
        self._quoted = self._quoted != (len(parts) % 2 == 0)
        self._lines += sum(segment.count(b"\n") for segment in outside)
        self.solutions = max(0, self._lines - 1)


@dataclass(frozen=True)
class Counting:
    """How a sink counts results in one format: by the occurrences of ``marker`` (a byte
    string that cannot overlap itself), less ``offset``. Without ``scan`` that is the number
    of results. With it, markers inside values count too: an upper bound, and once it
    passes the limit the sink counts exactly with a fresh ``scan()`` (a slower pass)."""

    marker: bytes
    offset: int
    scan: Callable[[], Scan] | None = None


LINES = Counting(b"\n", offset=0)
"""N-Triples: one triple per line (line breaks in terms are escaped)."""
TSV_LINES = Counting(b"\n", offset=1)
"""TSV results: the variables' line, then one solution per line (line breaks escaped)."""
COUNTINGS: dict[ox.QueryResultsFormat, Counting] = {
    _TSV: TSV_LINES,
    # Every solution is one ``<result>`` element; ``<`` is escaped in text and attributes.
    ox.QueryResultsFormat.XML: Counting(b"<result>", offset=0),
    # ``},{`` separates two solutions: n solutions write it n - 1 times; a value may hold it.
    ox.QueryResultsFormat.JSON: Counting(b"},{", offset=-1, scan=JsonScan),
    # One line per solution after the header, but a quoted value may hold line breaks.
    ox.QueryResultsFormat.CSV: Counting(b"\n", offset=1, scan=CsvScan),
}
"""How the sink counts the solutions of each results format: one ``bytes.count`` over the
bytes (about 1 ms per MB, against 20 ms per MB for the TSV round trip this replaced)."""


class BoundedSink(io.BytesIO):
    """An in-memory binary file for pyoxigraph's serializers that stops them at the budget's
    limits, counting results by ``counting``'s marker (also across two writes)."""

    def __init__(self, budget: Budget, timeout_s: float, counting: Counting) -> None:
        super().__init__()
        self._budget = budget
        self._timeout_s = timeout_s
        self._counting = counting
        self._allowed = budget.result_limit + counting.offset
        self._seen = 0
        self._carry = len(counting.marker) - 1
        self._tail = b""  # the last ``_carry`` bytes written, for a marker split by a write
        self._scan: Scan | None = None

    def write(self, chunk: ReadableBuffer, /) -> int:
        """Keep ``chunk``; raise the timeout or result-limit error when a limit is passed."""
        self._budget.check(self._timeout_s)
        data = bytes(chunk)  # pyoxigraph writes bytes: no copy
        if self._scan is None:
            marker = self._counting.marker
            self._seen += data.count(marker)
            if self._carry:
                head = data[: self._carry]
                edge = self._tail + head
                self._seen += edge.count(marker) - self._tail.count(marker) - head.count(marker)
                self._tail = (
                    edge[-self._carry :] if len(data) < self._carry else data[-self._carry :]
                )
            if self._seen > self._allowed:
                if self._counting.scan is None:
                    raise result_limit_error(self._budget.result_limit)
                self._scan = self._counting.scan()
                self._scan.feed(self.getvalue())
        if self._scan is not None:
            self._scan.feed(data)
            if self._scan.solutions > self._budget.result_limit:
                raise result_limit_error(self._budget.result_limit)
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
    solutions: ox.QuerySolutions,
    fmt: ox.QueryResultsFormat,
    budget: Budget,
    timeout_s: float,
) -> bytes:
    """``solutions`` evaluated and written by pyoxigraph in ``fmt`` straight into a sink that
    counts them (:data:`COUNTINGS`)."""
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
    """Run one query within ``budget`` and write the answer in the negotiated format, timed
    from the start of evaluation to the last byte written (``Answer.evaluated_ms``)."""
    started = time.perf_counter()
    try:
        answer = _evaluate(
            store, request, accept=accept, base_iri=base_iri, budget=budget, timeout_s=timeout_s
        )
        return replace(answer, evaluated_ms=(time.perf_counter() - started) * 1000)
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
    try:
        result = store.query(
            prefix + request.query,
            default_graph=[ox.NamedNode(g) for g in request.default_graphs] if protocol else None,
            named_graphs=[ox.NamedNode(g) for g in request.named_graphs] if protocol else None,
            use_default_graph_as_union=not protocol and not has_dataset_clause(request.query),
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
    if isinstance(result, ox.QueryBoolean):
        offer = negotiate(accept, BOOLEAN_OFFERS)
        return Answer(result.serialize(format=offer.format) or b"", offer.media_type)
    if isinstance(result, ox.QuerySolutions):
        results_offer = negotiate(accept, SOLUTION_OFFERS)
        body = solutions_bytes(result, results_offer.format, budget, timeout_s)
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
