"""The store interface every backend implements (embedded Oxigraph, remote SPARQL 1.1 store).

The rest of Warrant sees only this protocol. Writes are expressed as a list of
:class:`GraphChange` applied in ONE transaction (:meth:`KnowledgeStore.apply`), which is what
makes a batch atomic: a crash leaves either the previous state or the new one, never half.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox

Subject = ox.NamedNode | ox.BlankNode | ox.Triple
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass(frozen=True)
class GraphChange:
    """Triples to remove from and add to one named graph."""

    graph: ox.NamedNode
    removed: Sequence[ox.Triple] = ()
    added: Sequence[ox.Triple] = ()


@dataclass(frozen=True)
class QueryOutcome:
    """A SPARQL result: variables + rows for SELECT, a boolean for ASK, triples for CONSTRUCT."""

    kind: str  # "select" | "ask" | "graph"
    variables: tuple[str, ...] = ()
    rows: tuple[tuple[Term | None, ...], ...] = ()
    boolean: bool | None = None
    triples: tuple[ox.Triple, ...] = field(default=())


class KnowledgeStore(Protocol):
    """A quad store with named graphs, SPARQL query and atomic multi-graph changes."""

    def apply(self, changes: Sequence[GraphChange]) -> None:
        """Apply all changes in one transaction: all of them, or none on any failure."""
        ...

    def changes(self, graph: ox.NamedNode) -> int | None:
        """How many times this process has changed ``graph`` since it opened the store, when
        no other process can change it; ``None`` when one may (then readers must look).

        What a caller derives from a graph's content (the KG state a plan records) stays valid
        while this count stays the same, and needs no query to find out.
        """
        ...

    def triples(self, graph: ox.NamedNode) -> Iterator[ox.Triple]:
        """Every triple of one named graph."""
        ...

    def match(
        self,
        subject: Subject | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
        graph: ox.NamedNode | None = None,
    ) -> Iterator[ox.Quad]:
        """Quads matching a pattern (``None`` is a wildcard; graph ``None`` = all named graphs)."""
        ...

    def graphs(self) -> list[ox.NamedNode]:
        """The named graphs present, sorted."""
        ...

    def count(self, graph: ox.NamedNode | None = None) -> int:
        """Number of quads in a graph, or in the whole store."""
        ...

    def select(self, sparql: str) -> Iterable[dict[str, Term]]:
        """Rows of a SELECT query as variable → term dicts (unbound variables omitted)."""
        ...

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[ox.NamedNode] | None = None,
        named_graphs: Sequence[ox.NamedNode] | None = None,
        use_default_graph_as_union: bool = False,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL 1.1 query (never an update); raise QueryError if malformed."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...


def select_rows(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, sparql: str
) -> Iterator[dict[str, Term]]:
    """The rows of a SELECT result as variable → term dicts (unbound variables omitted)."""
    from engine.errors import QueryError

    if not isinstance(result, ox.QuerySolutions):
        raise QueryError(f"expected a SELECT query, got `{sparql[:40]}`")
    names = [v.value for v in result.variables]
    for row in result:
        yield {name: value for name in names if (value := row[name]) is not None}


def count_graph_query(graph: ox.NamedNode | None) -> str:
    """The SPARQL that counts the quads of one named graph (or of every named graph)."""
    g = str(graph) if graph is not None else "?g"
    return f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}"


def single_count(result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> int:
    """The one integer a ``SELECT (COUNT(*) AS ?n)`` query returns."""
    assert isinstance(result, ox.QuerySolutions)
    for row in result:
        n = row["n"]
        return int(n.value) if isinstance(n, ox.Literal) else 0
    return 0
