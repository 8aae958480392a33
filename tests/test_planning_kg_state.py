"""The KG state a plan records is read from the store only when the provenance graph may have
changed: every request asks for it, and its query grows with every batch ever ingested.

A writable Oxigraph store counts its own writes per graph (no other process can write it);
a store that cannot say (a remote one, another process's read-only copy) is read every time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest

from engine.planning import DecisionPlane, kg_state
from engine.store.base import GraphChange, Term
from engine.store.oxigraph import OxigraphStore
from engine.vocab import GRAPH_PROVENANCE
from engine.workspace import Workspace

BATCH = ox.NamedNode("https://w3id.org/warrant/core#Batch")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OTHER = ox.NamedNode("urn:test:graph:other")


class CountingStore(OxigraphStore):
    """An in-memory store that counts its SELECT queries; ``shared`` makes it answer, like a
    store other processes write, that it cannot count its changes."""

    def __init__(self, *, shared: bool = False) -> None:
        super().__init__(None)
        self.selects = 0
        self.shared = shared

    def select(self, sparql: str) -> Iterable[dict[str, Term]]:
        self.selects += 1
        return super().select(sparql)

    def changes(self, graph: ox.NamedNode) -> int | None:
        return None if self.shared else super().changes(graph)


def _clock() -> datetime:
    return datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _batch(store: OxigraphStore, n: int) -> None:
    node = ox.NamedNode(f"urn:test:batch:{n}")
    store.apply([GraphChange(GRAPH_PROVENANCE, added=[ox.Triple(node, RDF_TYPE, BATCH)])])


@pytest.fixture
def plane_and_store(repo_root: Path) -> Iterator[tuple[DecisionPlane, CountingStore]]:
    store = CountingStore()
    _batch(store, 1)
    try:
        yield DecisionPlane(Workspace.load(repo_root), store, clock=_clock), store
    finally:
        store.close()


def test_the_state_is_read_once_until_a_batch_is_recorded(
    plane_and_store: tuple[DecisionPlane, CountingStore],
) -> None:
    plane, store = plane_and_store
    first = plane.kg_state()
    assert first == kg_state(store)
    reads = store.selects
    assert [plane.kg_state() for _ in range(3)] == [first] * 3
    assert store.selects == reads  # no query while the provenance graph is unchanged

    store.apply([GraphChange(OTHER, added=[ox.Triple(OTHER, RDF_TYPE, OTHER)])])
    assert plane.kg_state() == first
    assert store.selects == reads  # another graph's write does not touch the state

    _batch(store, 2)
    second = plane.kg_state()
    assert second != first
    assert second == kg_state(store)


def test_a_store_that_cannot_count_is_read_on_every_request(repo_root: Path) -> None:
    store = CountingStore(shared=True)
    _batch(store, 1)
    plane = DecisionPlane(Workspace.load(repo_root), store, clock=_clock)
    plane.kg_state()
    reads = store.selects
    plane.kg_state()
    assert store.selects == reads + 1
    store.close()


def test_a_writable_store_counts_its_writes_per_graph(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "kg")
    g1, g2 = ox.NamedNode("urn:test:g1"), ox.NamedNode("urn:test:g2")
    triple = ox.Triple(g1, RDF_TYPE, g2)
    assert (store.changes(g1), store.changes(g2)) == (0, 0)
    store.apply([GraphChange(g1, added=[triple]), GraphChange(g2)])  # g2's change is empty
    assert (store.changes(g1), store.changes(g2)) == (1, 0)
    store.apply([GraphChange(g1, removed=[triple])])
    assert store.changes(g1) == 2
    store.close()

    reader = OxigraphStore(tmp_path / "kg", read_only=True)
    assert reader.changes(g1) is None  # the writer may be another process
    reader.close()
