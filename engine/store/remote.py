"""A remote SPARQL 1.1 store as the knowledge graph: Query, Update and Graph Store Protocol.

A deployment that outgrows one machine keeps its KG on a clustered triplestore (GraphDB,
Stardog, Neptune, Virtuoso, an Oxigraph server …) and runs several stateless Warrant workers
against it. This backend speaks only the W3C protocols:

- reads are SPARQL 1.1 Protocol queries (``POST`` form ``query=…``, §2.1.2) answered as
  SPARQL results JSON or N-Triples; a graph's triples come from the Graph Store Protocol
  (``GET ?graph=…``, §5.2) when a store URL is configured;
- a batch is ONE SPARQL 1.1 Update request (``DELETE DATA`` / ``INSERT DATA`` over several
  ``GRAPH`` blocks, SPARQL 1.1 Update §3.1.1–3.1.2). The protocol makes a request the unit of
  work (§2.2: "all operations in a request are executed … as an atomic unit" is what the
  servers below implement): Oxigraph's server runs an update request in one transaction, as
  do GraphDB, Stardog and Neptune; Virtuoso needs transactional (non-autocommit) mode. So
  from Warrant's point of view a batch is applied whole or not at all.

A request that fails to connect, times out or gets a 5xx is retried with backoff: reads are
harmless to repeat, and a batch is a set difference (``DELETE DATA`` then ``INSERT DATA`` of
fixed triples), so replaying one the server already committed leaves the same state.

Warrant keeps everything in named graphs. "The union of named graphs as default graph" is
not standard: ``union = "parameter"`` sends Oxigraph's ``union-default-graph`` parameter;
``union = "native"`` is for stores whose default graph already is that union (GraphDB,
Neptune, Virtuoso, Stardog with ``query.all.graphs``).

Credentials are sent as HTTP basic auth and never appear in errors or logs.

>>> # store = RemoteSparqlStore(query_url="http://kg:7878/query",
>>> #                           update_url="http://kg:7878/update",
>>> #                           store_url="http://kg:7878/store")
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from engine.errors import QueryError, StoreError
from engine.http_retry import RetriesExhausted, send_with_retries
from engine.store.base import (
    GraphChange,
    Subject,
    Term,
    count_graph_query,
    select_rows,
    single_count,
)
from engine.store.oxigraph import term_sparql

UnionMode = Literal["parameter", "native"]
"""How the union of named graphs is asked for: Oxigraph's parameter, or the store's default."""

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL without any ``user:password@`` part, safe to print and log."""
    return _USERINFO.sub(r"\1***@", url)


def _block(triples: Iterable[ox.Triple]) -> str:
    return " .\n".join(
        f"{term_sparql(t.subject)} {term_sparql(t.predicate)} {term_sparql(t.object)}"
        for t in triples
    )


def update_request(changes: Sequence[GraphChange]) -> str:
    """The one SPARQL Update request of a batch: every removal, then every addition."""
    ops = [
        f"DELETE DATA {{ GRAPH {term_sparql(c.graph)} {{\n{_block(c.removed)}\n}} }}"
        for c in changes
        if c.removed
    ]
    ops += [
        f"INSERT DATA {{ GRAPH {term_sparql(c.graph)} {{\n{_block(c.added)}\n}} }}"
        for c in changes
        if c.added
    ]
    return " ;\n".join(ops)


class RemoteSparqlStore:
    """The knowledge graph in a remote SPARQL 1.1 store (see the module docstring)."""

    def __init__(
        self,
        *,
        query_url: str,
        update_url: str,
        store_url: str | None = None,
        auth: tuple[str, str] | None = None,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.2,
        union: UnionMode = "parameter",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.store_url = store_url
        self.union: UnionMode = union
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        self._client = httpx.Client(
            auth=httpx.BasicAuth(*auth) if auth is not None else None,
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
        )

    # -- writes -------------------------------------------------------------------------------

    def changes(self, graph: ox.NamedNode) -> int | None:
        """Always ``None``: other clients of the server may write any graph."""
        return None

    def apply(self, changes: Sequence[GraphChange]) -> None:
        """Send every change as ONE update request: applied whole by the server, or not at all."""
        if not any(c.removed or c.added for c in changes):
            return
        body = update_request(changes)  # StoreError for a blank node, before anything is sent
        response = self._send(
            "POST",
            self.update_url,
            what="update",
            content=body.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update"},
        )
        if response.status_code >= 400:
            raise StoreError(
                "the store refused a batch and kept its previous state: "
                f"{_server_message(response)}",
                details={"endpoint": redact_url(self.update_url), "status": response.status_code},
            )

    # -- reads --------------------------------------------------------------------------------

    def triples(self, graph: ox.NamedNode) -> Iterator[ox.Triple]:
        """Every triple of one named graph (Graph Store Protocol GET, else a CONSTRUCT)."""
        if self.store_url is None:
            result = self.query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
            )
            assert isinstance(result, ox.QueryTriples)
            return iter(list(result))
        response = self._send(
            "GET",
            self.store_url,
            what="graph read",
            params={"graph": graph.value},
            headers={"Accept": _NTRIPLES},
        )
        if response.status_code == 404:
            return iter(())
        if response.status_code >= 400:
            raise StoreError(
                f"the store failed to return graph `{graph.value}`: {_server_message(response)}"
            )
        return iter([q.triple for q in self._parse_rdf(response.content)])

    def match(
        self,
        subject: Subject | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
        graph: ox.NamedNode | None = None,
    ) -> Iterator[ox.Quad]:
        """Quads matching a pattern; ``graph=None`` searches every named graph."""
        s = term_sparql(subject) if subject is not None else "?s"
        p = term_sparql(predicate) if predicate is not None else "?p"
        o = term_sparql(obj) if obj is not None else "?o"
        g = term_sparql(graph) if graph is not None else "?g"
        result = self.query(f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH {g} {{ {s} {p} {o} }} }}")
        assert isinstance(result, ox.QuerySolutions)
        for row in result:
            rs = subject if subject is not None else row["s"]
            rp = predicate if predicate is not None else row["p"]
            ro = obj if obj is not None else row["o"]
            rg = graph if graph is not None else row["g"]
            yield ox.Quad(rs, rp, ro, rg)

    def graphs(self) -> list[ox.NamedNode]:
        """The named graphs present, sorted by IRI."""
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(result, ox.QuerySolutions)
        found = {row["g"] for row in result}
        return sorted((g for g in found if isinstance(g, ox.NamedNode)), key=lambda g: g.value)

    def count(self, graph: ox.NamedNode | None = None) -> int:
        """Number of quads in ``graph`` (or in every named graph)."""
        return single_count(self.query(count_graph_query(graph)))

    def select(self, sparql: str) -> Iterable[dict[str, Term]]:
        """Rows of a SELECT query over the union of named graphs as dicts."""
        return select_rows(self.query(sparql, use_default_graph_as_union=True), sparql)

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[ox.NamedNode] | None = None,
        named_graphs: Sequence[ox.NamedNode] | None = None,
        use_default_graph_as_union: bool = False,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a read-only query on the server (SPARQL 1.1 Protocol, POST form encoding)."""
        form: list[tuple[str, str]] = [("query", sparql)]
        form += [("default-graph-uri", g.value) for g in default_graph or ()]
        form += [("named-graph-uri", g.value) for g in named_graphs or ()]
        if use_default_graph_as_union and not default_graph and self.union == "parameter":
            form.append(("union-default-graph", ""))
        response = self._send(
            "POST",
            self.query_url,
            what="query",
            data=form,
            headers={"Accept": f"{_RESULTS_JSON}, {_NTRIPLES};q=0.9"},
        )
        if 400 <= response.status_code < 500:
            raise QueryError(f"the store rejected the query: {_server_message(response)}")
        if response.status_code >= 400:
            raise StoreError(f"the store failed to answer a query: {_server_message(response)}")
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        try:
            if media == _RESULTS_JSON:
                return ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
            if media in (_NTRIPLES, "text/plain"):
                return _as_query_triples(self._parse_rdf(response.content))
        except SyntaxError as exc:
            raise StoreError(f"the store answered with malformed results: {exc}") from exc
        raise StoreError(f"the store answered a query with unexpected media type `{media}`")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    # -- transport ----------------------------------------------------------------------------

    def _send(
        self,
        method: Literal["GET", "POST"],
        url: str,
        *,
        what: str,
        content: bytes | None = None,
        data: list[tuple[str, str]] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str],
    ) -> httpx.Response:
        """One request with retries on connection errors, timeouts and 502/503/504."""
        if data is not None:
            content = urlencode(data).encode("ascii")
            headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            response = send_with_retries(
                lambda: self._client.request(
                    method, url, content=content, params=params, headers=headers
                ),
                retries=self._retries,
                backoff_s=self._backoff_s,
            )
        except RetriesExhausted as exc:
            reason = "timed out" if exc.timed_out else "failed"
            raise StoreError(
                f"{what} to the store at `{redact_url(url)}` {reason} after "
                f"{exc.attempts} attempt(s): {type(exc.cause).__name__}",
                details={"endpoint": redact_url(url)},
            ) from exc.cause
        if response.status_code in (401, 403):
            raise StoreError(
                f"the store at `{redact_url(url)}` refused the credentials "
                f"(HTTP {response.status_code})",
                code="store_unauthorized",
            )
        return response

    @staticmethod
    def _parse_rdf(data: bytes) -> list[ox.Quad]:
        try:
            return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        except SyntaxError as exc:
            raise StoreError(f"the store answered with malformed n-triples: {exc}") from exc


def _as_query_triples(quads: Iterable[ox.Quad]) -> ox.QueryTriples:
    """Wrap parsed triples as the ``QueryTriples`` a CONSTRUCT returns (pyoxigraph has no
    public constructor for it, so they pass through an in-memory store)."""
    scratch = ox.Store()
    scratch.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
    result = scratch.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert isinstance(result, ox.QueryTriples)
    return result


def _server_message(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if len(text) > 300:
        text = text[:299] + "…"
    return f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"


def open_remote_store(
    *,
    query_url: str | None,
    update_url: str | None,
    store_url: str | None = None,
    user: str | None = None,
    password: str | None = None,
    timeout_s: float = 30.0,
    retries: int = 3,
    union: UnionMode = "parameter",
) -> RemoteSparqlStore:
    """The remote store of a ``[store] type = "sparql"`` table; ConfigError for a missing URL.

    >>> # open_remote_store(**workspace.config.store.model_dump(exclude={"type"}))
    """
    from engine.errors import ConfigError, Location

    for key, value in (("query_url", query_url), ("update_url", update_url)):
        if not value:
            raise ConfigError(
                f"a `sparql` store needs `{key}`",
                Location(file="warrant.toml", field=f"store.{key}"),
            )
    assert query_url is not None and update_url is not None
    return RemoteSparqlStore(
        query_url=query_url,
        update_url=update_url,
        store_url=store_url,
        auth=(user, password or "") if user is not None else None,
        timeout_s=timeout_s,
        retries=retries,
        union=union,
    )
