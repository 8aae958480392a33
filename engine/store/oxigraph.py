"""The embedded default store: Oxigraph on disk (pyoxigraph), no server needed.

A batch is applied as ONE SPARQL update (``DELETE DATA …; INSERT DATA …``), which Oxigraph
runs in a single transaction, or — when nothing is removed — as one transactional ``extend``.
Either way a crash leaves the previous state or the new one, never half of a batch.

Staged bulk writes. A transactional ``extend`` of a large batch costs several times
Oxigraph's bulk loader (300k quads on disk: 12.7 s against 3.5 s, and the transaction's
memtable is flushed again at close; at 1M the transactional writes were 212 s of a profiled
ingest). So when a batch *adds* many triples to a named graph that is empty now (the first
ingest of a source: its data, records and large quarantine graphs), those graphs are
bulk-loaded (``bulk_extend``, not transactional) under a commit marker:

1. one transaction writes, in the staging graph ``urn:warrant:graph:staging``, a marker per
   bulk graph: ``<token> stages <graph>`` (and whether the graph name existed);
2. ``bulk_extend`` writes those graphs' quads;
3. one transaction writes every other change of the batch (removals included, small graphs,
   provenance) *and* ``<token> committed true`` — this is the batch's commit point;
4. the staging graph is removed.

On every writable open (and before the next staged write) a marker without its commit quad
means a crash between 1 and 3: the graphs it names were empty, so clearing them restores
the previous state and loses nothing stored before. A marker with its commit quad means a
crash in 4: only the markers are removed. A read-only open does not recover: it may see a
half-loaded graph of a crashed batch until the next writable open.

Blank nodes never reach this store: ``INSERT DATA`` would mint fresh ones on every write and
``DELETE DATA`` cannot name them, which would break idempotent re-ingest. Mapping produces
IRIs only; RDF files and validation reports are skolemised before they get here.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
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
from engine.vocab import XSD_BOOLEAN

# A graph gets staged (bulk-loaded) only when the batch adds at least this many triples to
# it: below that the transaction is cheap and the bulk loader's new files are not worth it.
BULK_MIN_TRIPLES = 20_000
# The store's own bookkeeping, never part of the KG (hidden from ``graphs()``, removed once a
# batch is committed): urn: names, not terms of the core ontology.
STAGING_GRAPH = ox.NamedNode("urn:warrant:graph:staging")
_TOKEN = ox.NamedNode("urn:warrant:staging:batch")
_STAGES = ox.NamedNode("urn:warrant:staging:stages")
_STAGES_NEW = ox.NamedNode("urn:warrant:staging:stagesNew")
_COMMITTED = ox.NamedNode("urn:warrant:staging:committed")
_TRUE = ox.Literal("true", datatype=XSD_BOOLEAN)

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


class _ClosedStore:
    """Stands in for the database of a closed OxigraphStore."""

    def __getattr__(self, name: str) -> object:
        raise StoreError("the store is closed", code="store_closed")


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
        self._write_lock = threading.Lock()
        self._changes: dict[ox.NamedNode, int] = {}
        if not read_only:
            self._recover()

    @property
    def raw(self) -> ox.Store:
        """The underlying pyoxigraph store, for the SPARQL endpoint and benchmarks."""
        return self._store

    def apply(self, changes: Sequence[GraphChange]) -> None:
        """Apply every change atomically: in one transaction, or staged (see the module doc)."""
        if not any(c.removed or c.added for c in changes):
            return
        with self._write_lock:
            try:
                staged = self._stageable(changes)
                if staged:
                    self._apply_staged(changes, staged)
                else:
                    self._transaction(changes, ())
            except (OSError, SyntaxError, ValueError) as exc:
                raise StoreError(
                    f"the store refused a batch and kept its previous state: {exc}"
                ) from exc
            finally:  # counted even when refused: a reader looks again, which is never wrong
                for c in changes:
                    if c.removed or c.added:
                        self._changes[c.graph] = self._changes.get(c.graph, 0) + 1

    def changes(self, graph: ox.NamedNode) -> int | None:
        """Writes to ``graph`` through :meth:`apply` since the store was opened. Oxigraph lets
        one process open a store for writing, so a writable store's count is complete; a
        read-only one (another process may write) answers ``None``."""
        if self.read_only:
            return None
        return self._changes.get(graph, 0)

    def _transaction(self, changes: Sequence[GraphChange], extra: Sequence[ox.Quad]) -> None:
        """``changes`` plus the ``extra`` quads (default graph names allowed) in one transaction."""
        if not any(c.removed for c in changes):
            self._store.extend(
                itertools.chain(
                    (
                        ox.Quad(t.subject, t.predicate, t.object, c.graph)
                        for c in changes
                        for t in c.added
                    ),
                    extra,
                )
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
        for q in extra:
            g = term_sparql(q.graph_name)  # type: ignore[arg-type]
            ops.append(f"INSERT DATA {{ GRAPH {g} {{ {_triples_block([q.triple])} }} }}")
        self._store.update(" ;\n".join(ops))

    def _stageable(self, changes: Sequence[GraphChange]) -> list[GraphChange]:
        """The changes that may be bulk-loaded: large, add-only, into a graph empty now."""
        if self.path is None:
            return []
        return [
            c
            for c in changes
            if not c.removed
            and len(c.added) >= BULK_MIN_TRIPLES
            and c.graph != STAGING_GRAPH
            and next(iter(self._store.quads_for_pattern(None, None, None, c.graph)), None) is None
        ]

    def _apply_staged(self, changes: Sequence[GraphChange], staged: list[GraphChange]) -> None:
        """Marker, bulk load, commit transaction, cleanup (module doc, steps 1-4)."""
        self._recover()
        markers = [
            ox.Quad(
                _TOKEN,
                _STAGES if self._store.contains_named_graph(c.graph) else _STAGES_NEW,
                c.graph,
                STAGING_GRAPH,
            )
            for c in staged
        ]
        self._store.extend(markers)
        try:
            self._store.bulk_extend(
                ox.Quad(t.subject, t.predicate, t.object, c.graph) for c in staged for t in c.added
            )
            rest = [c for c in changes if not any(c is s for s in staged)]
            self._transaction(rest, [ox.Quad(_TOKEN, _COMMITTED, _TRUE, STAGING_GRAPH)])
        except BaseException:
            with contextlib.suppress(OSError):
                self._recover()
            raise
        with contextlib.suppress(OSError):  # committed: a leftover marker is dropped on open
            self._store.remove_graph(STAGING_GRAPH)

    def _recover(self) -> None:
        """Undo a staged write that crashed before its commit; drop the markers of one after."""
        pending = list(self._store.quads_for_pattern(None, None, None, STAGING_GRAPH))
        if not pending:
            if self._store.contains_named_graph(STAGING_GRAPH):
                self._store.remove_graph(STAGING_GRAPH)
            return
        committed = {q.subject for q in pending if q.predicate == _COMMITTED}
        for q in pending:
            if q.subject in committed or not isinstance(q.object, ox.NamedNode):
                continue
            if q.predicate == _STAGES:
                self._store.clear_graph(q.object)
            elif q.predicate == _STAGES_NEW:
                self._store.remove_graph(q.object)
        self._store.remove_graph(STAGING_GRAPH)

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
            (
                g
                for g in self._store.named_graphs()
                if isinstance(g, ox.NamedNode) and g != STAGING_GRAPH
            ),
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
        """Flush pending writes and let go of the database, so that its lock is released now
        rather than whenever the garbage collector breaks the last reference cycle holding
        this object (a second command in one process then failed with "lock hold by current
        process"). Using the store afterwards raises StoreError."""
        if self.path is not None and not self.read_only:
            with contextlib.suppress(OSError):
                self._store.flush()
        self._store = _ClosedStore()  # type: ignore[assignment]
