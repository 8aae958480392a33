"""Where the gate gets context from outside the batch: the store's *other* graphs.

A batch replaces its source's named graph, so that graph is excluded: its current content
is about to be superseded by the batch itself.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Protocol

import pyoxigraph as ox

from engine.store.base import KnowledgeStore

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


class ContextProvider(Protocol):
    """Answers the two questions the gate asks the store about nodes outside the batch."""

    def types_of(self, nodes: Collection[ox.NamedNode]) -> Iterable[ox.Triple]:
        """The ``rdf:type`` triples of ``nodes`` in the store's other graphs."""
        ...

    def describe(self, nodes: Collection[ox.NamedNode]) -> Iterable[ox.Triple]:
        """All outgoing triples of ``nodes`` in the store's other graphs (non-local shapes)."""
        ...


class NoContext:
    """A provider for a gate with no store behind it (an empty workspace, a dry run)."""

    def types_of(self, nodes: Collection[ox.NamedNode]) -> Iterable[ox.Triple]:
        """Nothing is known outside the batch."""
        return ()

    def describe(self, nodes: Collection[ox.NamedNode]) -> Iterable[ox.Triple]:
        """Nothing is known outside the batch."""
        return ()


class StoreContext:
    """Context read from a knowledge store, skipping ``exclude_graph`` (the batch's own graph).

    One indexed lookup per node, so the cost follows the number of referenced nodes, never
    the size of the store.
    """

    def __init__(
        self, store: KnowledgeStore | ox.Store, exclude_graph: ox.NamedNode | None = None
    ) -> None:
        self._store = store
        self._exclude = exclude_graph

    def types_of(self, nodes: Collection[ox.NamedNode]) -> Iterable[ox.Triple]:
        """The ``rdf:type`` triples of ``nodes`` in every graph but the excluded one."""
        return self._lookup(nodes, RDF_TYPE)

    def describe(self, nodes: Collection[ox.NamedNode]) -> Iterable[ox.Triple]:
        """Every outgoing triple of ``nodes`` in every graph but the excluded one."""
        return self._lookup(nodes, None)

    def _lookup(
        self, nodes: Collection[ox.NamedNode], predicate: ox.NamedNode | None
    ) -> Iterator[ox.Triple]:
        seen: set[ox.Triple] = set()
        for node in nodes:
            quads = (
                self._store.quads_for_pattern(node, predicate, None, None)
                if isinstance(self._store, ox.Store)
                else self._store.match(node, predicate, None, None)
            )
            for quad in quads:
                if self._exclude is not None and quad.graph_name == self._exclude:
                    continue
                triple = quad.triple
                if triple not in seen:
                    seen.add(triple)
                    yield triple
