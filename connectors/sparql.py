"""Remote SPARQL 1.1 endpoints: a CONSTRUCT read as RDF, or SELECT rows for a mapping.

Two ways to configure a ``sparql`` source:

- ``query`` in warrant.toml, no mapping: a CONSTRUCT whose triples are the data. They are
  grouped into one :class:`MappedRecord` per subject (like an ``rdf`` file), located as
  ``<host>/query-<hash>#subject=<iri>``; blank nodes are skolemised in first-seen order.
- a mapping whose source is ``{query: "SELECT …", referenceFormulation: sparql}``: each
  solution is a record for the shared mapping step, its values the lexical forms of the
  bound terms (IRIs as their IRI text), unbound variables absent.

Requests follow the SPARQL 1.1 Protocol (§2.1.2, ``POST`` with form encoding). With
``page_size`` > 0 the query is sent page by page with ``LIMIT`` / ``OFFSET`` appended, so it
must ``ORDER BY`` for pages to be stable. Every request has a timeout; connection errors,
timeouts and 502/503/504 are retried with backoff (a query is safe to repeat). A malformed
answer, a 4xx (malformed query, refused credentials) or a server that stays down is a
``SourceError`` naming the source; everything is read before anything is written.

>>> # SparqlConnector(name="wikidata", endpoint="https://query.example.org/sparql")
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pyoxigraph as ox

from connectors.base import LogicalSource, Record, RecordLocator
from connectors.subjects import SKOLEM_PREFIX, SubjectRecords
from engine.errors import Location, SourceError
from engine.http_retry import RetriesExhausted, send_with_retries
from engine.mapping.model import MappedRecord

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"


def query_label(query: str) -> str:
    """``query-<12 hex>``: stable while the query's text (up to whitespace) stays the same."""
    return "query-" + hashlib.sha256(" ".join(query.split()).encode()).hexdigest()[:12]


def term_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The value a mapping reads from a bound term: IRI text, literal lexical form, ``_:id``."""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


class _Endpoint:
    """POSTs queries to one endpoint with a timeout and retries; errors name the source."""

    def __init__(
        self,
        *,
        name: str,
        endpoint: str,
        user: str | None,
        password: str | None,
        timeout_s: float,
        retries: int,
        backoff_s: float,
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        parts = urlsplit(endpoint)
        self.host = parts.hostname or "endpoint"
        self.shown = f"{parts.scheme}://{parts.hostname or ''}" + (
            f":{parts.port}" if parts.port else ""
        ) + parts.path
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._client = httpx.Client(
            auth=httpx.BasicAuth(user, password or "") if user is not None else None,
            timeout=httpx.Timeout(timeout_s),
        )

    def post(self, query: str, *, accept: str, container: str) -> bytes:
        """The body of a successful answer to ``query``."""
        body = urlencode({"query": query}).encode("ascii")
        headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            response = send_with_retries(
                lambda: self._client.post(self.endpoint, content=body, headers=headers),
                retries=self.retries,
                backoff_s=self.backoff_s,
            )
        except RetriesExhausted as exc:
            what = "timed out" if exc.timed_out else "failed"
            raise SourceError(
                f"source `{self.name}`: the request to `{self.shown}` {what} after "
                f"{exc.attempts} attempt(s) ({type(exc.cause).__name__})",
                Location(record=container),
            ) from exc.cause
        if response.status_code in (401, 403):
            raise SourceError(
                f"source `{self.name}`: `{self.shown}` refused the credentials "
                f"(HTTP {response.status_code})",
                Location(record=container),
                code="source_unauthorized",
            )
        if response.status_code >= 400:
            text = " ".join(response.text.split())[:300]
            raise SourceError(
                f"source `{self.name}`: `{self.shown}` rejected the query "
                f"(HTTP {response.status_code}): {text}",
                Location(record=container),
            )
        return response.content

    def close(self) -> None:
        self._client.close()


def _paged(query: str, page_size: int, offset: int) -> str:
    return f"{query.rstrip()}\nLIMIT {page_size} OFFSET {offset}" if page_size else query


class SparqlConnector:
    """SELECT rows from one endpoint for the mapping step (a warrant.toml ``sparql`` source)."""

    def __init__(
        self,
        *,
        name: str,
        endpoint: str,
        user: str | None = None,
        password: str | None = None,
        page_size: int = 0,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.2,
    ) -> None:
        self.name = name
        self.page_size = max(0, page_size)
        self._endpoint = _Endpoint(
            name=name, endpoint=endpoint, user=user, password=password,
            timeout_s=timeout_s, retries=retries, backoff_s=backoff_s,
        )

    def records(self, source: LogicalSource) -> Iterator[Record]:
        """Every solution of the mapping's SELECT query, read in full before the first yield."""
        if source.query is None:
            raise SourceError(f"source `{self.name}`: the mapping names no sparql `query`")
        container = f"{self._endpoint.host}/{query_label(source.query)}"
        rows: list[Record] = []
        offset = 0
        while True:
            data = self._endpoint.post(
                _paged(source.query, self.page_size, offset),
                accept=_RESULTS_JSON,
                container=container,
            )
            page = self._solutions(data, container)
            for values in page:
                rows.append(
                    Record(
                        locator=RecordLocator(self.name, container, row=len(rows) + 1),
                        values=values,
                    )
                )
            if not self.page_size or len(page) < self.page_size:
                return iter(rows)
            offset += self.page_size

    def _solutions(self, data: bytes, container: str) -> list[dict[str, object]]:
        try:
            result = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
            if not isinstance(result, ox.QuerySolutions):
                raise SourceError(
                    f"source `{self.name}`: expected SELECT results, got a boolean (ASK)",
                    Location(record=container),
                )
            names = [v.value for v in result.variables]
            out: list[dict[str, object]] = []
            for solution in result:
                out.append(
                    {n: term_value(v) for n in names if (v := solution[n]) is not None}
                )
            return out
        except SyntaxError as exc:
            raise SourceError(
                f"source `{self.name}`: malformed SPARQL results from `{self._endpoint.shown}`: "
                f"{exc}",
                Location(record=container),
            ) from exc

    def close(self) -> None:
        """Close the HTTP connections."""
        self._endpoint.close()


def read_construct(
    *,
    name: str,
    endpoint: str,
    query: str,
    user: str | None = None,
    password: str | None = None,
    page_size: int = 0,
    timeout_s: float = 30.0,
    retries: int = 3,
    backoff_s: float = 0.2,
) -> list[MappedRecord]:
    """Run a CONSTRUCT and group its triples into one record per subject, first-seen order."""
    client = _Endpoint(
        name=name, endpoint=endpoint, user=user, password=password,
        timeout_s=timeout_s, retries=retries, backoff_s=backoff_s,
    )
    container = f"{client.host}/{query_label(query)}"
    subjects = SubjectRecords(f"{SKOLEM_PREFIX}{quote(name, safe='')}:{query_label(query)[6:]}:")
    try:
        offset = 0
        while True:
            data = client.post(
                _paged(query, page_size, offset), accept=_NTRIPLES, container=container
            )
            try:
                page = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
            except SyntaxError as exc:
                raise SourceError(
                    f"source `{name}`: malformed n-triples from `{client.shown}`: {exc}",
                    Location(record=container),
                ) from exc
            for quad in page:
                subjects.add(quad.triple)
            # A page holds the triples of up to page_size solutions: stop at an empty one.
            if not page_size or not page:
                break
            offset += page_size
    finally:
        client.close()
    return subjects.records(source=name, container=container)
