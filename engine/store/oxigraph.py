"""The embedded default store: Oxigraph on disk (pyoxigraph), no server needed.

A batch is applied as ONE SPARQL update (``DELETE DATA …; INSERT DATA …``), which Oxigraph
runs in a single transaction, or — when nothing is removed — as one transactional ``extend``.
Either way a crash leaves the previous state or the new one, never half of a batch.

Blank nodes never reach this store: ``INSERT DATA`` would mint fresh ones on every write and
``DELETE DATA`` cannot name them, which would break idempotent re-ingest. Mapping produces
IRIs only; RDF files and validation reports are skolemised before they get here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from engine.errors import QueryError, StoreError
from engine.store.base import (
    GraphChange,
    Subject,
    Term,
    count_graph_query,
    select_rows,
    single_count,
)

_UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD")


def term_sparql(term: Term) -> str:
    """A term in SPARQL 1.2 syntax (triple terms as ``<<( s p o )>>``)."""
    if isinstance(term, ox.Triple):
        return (
            f"<<( {term_sparql(term.subject)} {term_sparql(term.predicate)} "
            f"{term_sparql(term.object)} )>>"
        )
    if isinstance(term, ox.BlankNode):
        raise StoreError(f"blank node `{term}` cannot be written; skolemise it first")
    return str(term)


def _triples_block(triples: Iterable[ox.Triple]) -> str:
    return " .\n".join(
        f"{term_sparql(t.subject)} {term_sparql(t.predicate)} {term_sparql(t.object)}"
        for t in triples
    )


class OxigraphStore:
    """Oxigraph on disk at ``path`` (or in memory when ``path`` is ``None``, for tests)."""

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(
                f"cannot open the oxigraph store at `{path}`: {exc}; is another warrant "
                "process (e.g. `warrant serve`) holding it?"
            ) from exc

    @property
    def raw(self) -> ox.Store:
        """The underlying pyoxigraph store, for the SPARQL endpoint and benchmarks."""
        return self._store

    def apply(self, changes: Sequence[GraphChange]) -> None:
        """Apply every change in one transaction."""
        if not any(c.removed or c.added for c in changes):
            return
        try:
            if not any(c.removed for c in changes):
                self._store.extend(
                    ox.Quad(t.subject, t.predicate, t.object, c.graph)
                    for c in changes
                    for t in c.added
                )
                return
            ops: list[str] = []
            for c in changes:
                if c.removed:
                    g = term_sparql(c.graph)
                    ops.append(f"DELETE DATA {{ GRAPH {g} {{\n{_triples_block(c.removed)}\n}} }}")
            for c in changes:
                if c.added:
                    g = term_sparql(c.graph)
                    ops.append(f"INSERT DATA {{ GRAPH {g} {{\n{_triples_block(c.added)}\n}} }}")
            self._store.update(" ;\n".join(ops))
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(
                f"the store refused a batch and kept its previous state: {exc}"
            ) from exc

    def triples(self, graph: ox.NamedNode) -> Iterator[ox.Triple]:
        """Every triple of one named graph."""
        for q in self._store.quads_for_pattern(None, None, None, graph):
            yield ox.Triple(q.subject, q.predicate, q.object)

    def match(
        self,
        subject: Subject | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
        graph: ox.NamedNode | None = None,
    ) -> Iterator[ox.Quad]:
        """Quads matching a pattern; ``graph=None`` searches every named graph."""
        for q in self._store.quads_for_pattern(subject, predicate, obj, graph):
            if graph is None and isinstance(q.graph_name, ox.DefaultGraph):
                continue
            yield q

    def graphs(self) -> list[ox.NamedNode]:
        """The named graphs present, sorted by IRI."""
        return sorted(
            (g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)),
            key=lambda g: g.value,
        )

    def count(self, graph: ox.NamedNode | None = None) -> int:
        """Number of quads in ``graph`` (or in the whole store)."""
        if graph is None:
            return len(self._store)
        return single_count(self._store.query(count_graph_query(graph)))

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
        """Run a read-only SPARQL query; updates and syntax errors raise QueryError."""
        try:
            return self._store.query(
                sparql,
                default_graph=list(default_graph) if default_graph else None,
                named_graphs=list(named_graphs) if named_graphs is not None else None,
                use_default_graph_as_union=use_default_graph_as_union,
            )
        except SyntaxError as exc:
            head = sparql.lstrip().split(None, 1)[0].upper() if sparql.strip() else ""
            if head in _UPDATE_KEYWORDS:
                raise QueryError(
                    "updates are not accepted: the knowledge graph changes only through "
                    "ingestion (SPARQL 1.1 Protocol §2.1: a query operation)"
                ) from exc
            raise QueryError(f"malformed SPARQL query: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store failed to answer a query: {exc}") from exc

    def close(self) -> None:
        """Flush pending writes; the store is released when garbage-collected."""
        if self.path is not None and not self.read_only:
            with contextlib.suppress(OSError):
                self._store.flush()
