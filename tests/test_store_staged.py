"""Staged bulk writes of the embedded store: as atomic as a transaction, at bulk-load speed.

A large add-only change into an empty graph is bulk-loaded under a commit marker (see
``engine.store.oxigraph``). These tests pin what that must keep: the same content as a
transactional write, nothing visible of the staging, all-or-nothing on a failure, and a crash
anywhere between the marker and the commit undone on the next open — with nothing stored
before lost. A real SIGKILL of an ingest is in ``tests/test_ingest_crash.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from engine.errors import StoreError
from engine.store.base import GraphChange
from engine.store.oxigraph import BULK_MIN_TRIPLES, STAGING_GRAPH, OxigraphStore

BIG = ox.NamedNode("urn:test:graph:big")
SMALL = ox.NamedNode("urn:test:graph:small")
OLD = ox.NamedNode("urn:test:graph:old")
P = ox.NamedNode("https://example.org/p")


def triples(n: int, tag: str = "s") -> list[ox.Triple]:
    return [
        ox.Triple(ox.NamedNode(f"https://example.org/{tag}{i}"), P, ox.Literal(i))
        for i in range(n)
    ]


def snapshot(store: OxigraphStore) -> dict[str, set[ox.Triple]]:
    return {g.value: set(store.triples(g)) for g in store.graphs()}


def batch() -> list[GraphChange]:
    return [
        GraphChange(BIG, added=triples(BULK_MIN_TRIPLES + 5)),
        GraphChange(SMALL, added=triples(3, "small")),
        GraphChange(OLD, removed=triples(1, "old"), added=triples(2, "new")),
    ]


def test_a_staged_batch_stores_what_a_transaction_stores(tmp_path: Path) -> None:
    staged = OxigraphStore(tmp_path / "staged")
    plain = OxigraphStore(None)  # in memory: always one transaction
    for store in (staged, plain):
        store.apply([GraphChange(OLD, added=triples(1, "old"))])
        store.apply(batch())
    assert snapshot(staged) == snapshot(plain)
    assert STAGING_GRAPH not in staged.graphs()
    assert not staged.raw.contains_named_graph(STAGING_GRAPH)
    assert staged.count() == plain.count()
    # a second large batch into the now non-empty graph goes through a transaction
    more = triples(BULK_MIN_TRIPLES, "more")
    staged.apply([GraphChange(BIG, added=more)])
    assert staged.count(BIG) == BULK_MIN_TRIPLES * 2 + 5
    staged.close()


def test_a_failing_staged_batch_leaves_the_store_unchanged(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "kg")
    store.apply([GraphChange(OLD, added=triples(1, "old"))])
    before = snapshot(store)
    bad = ox.Triple(ox.BlankNode("b0"), P, P)
    with pytest.raises(StoreError, match="blank node"):
        store.apply([*batch(), GraphChange(SMALL, removed=[bad], added=[bad])])
    assert snapshot(store) == before
    assert not store.raw.contains_named_graph(BIG)
    store.close()


CRASH = """
import os, sys
import pyoxigraph as ox
from engine.store import oxigraph as m
store = m.OxigraphStore(__import__("pathlib").Path(sys.argv[1]))
stop = sys.argv[2]
big = [ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"),
               ox.Literal(i), ox.NamedNode("urn:test:graph:big")) for i in range(30000)]
raw = store.raw
raw.extend([ox.Quad(m._TOKEN, m._STAGES_NEW, ox.NamedNode("urn:test:graph:big"),
                    m.STAGING_GRAPH)])
if stop == "after-marker":
    os._exit(9)
raw.bulk_extend(big[:12000])
if stop == "mid-bulk":
    os._exit(9)
raw.bulk_extend(big[12000:])
if stop == "after-bulk":
    os._exit(9)
raw.extend([ox.Quad(m._TOKEN, m._COMMITTED, m._TRUE, m.STAGING_GRAPH)])
os._exit(9)  # "after-commit": the markers are left behind
"""


@pytest.mark.parametrize("stop", ["after-marker", "mid-bulk", "after-bulk", "after-commit"])
def test_a_crash_during_a_staged_write_is_undone_on_open(tmp_path: Path, stop: str) -> None:
    path = tmp_path / "kg"
    store = OxigraphStore(path)
    store.apply([GraphChange(OLD, added=triples(50, "old"))])
    store.close()
    del store
    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", CRASH, str(path), stop], cwd=repo, check=False)
    reopened = OxigraphStore(path)
    assert set(reopened.triples(OLD)) == set(triples(50, "old"))  # nothing stored is lost
    assert not reopened.raw.contains_named_graph(STAGING_GRAPH)
    if stop == "after-commit":
        assert reopened.count(BIG) == 30000
    else:
        assert not reopened.raw.contains_named_graph(BIG)
        assert reopened.count() == 50
    reopened.close()


def test_close_releases_the_database_at_once(tmp_path: Path) -> None:
    """A closed store lets go of its lock even while something still refers to it (a
    second command in one process used to fail with "lock hold by current process")."""
    first = OxigraphStore(tmp_path / "kg")
    first.apply([GraphChange(SMALL, added=triples(3))])
    holder = [first, {"cycle": first}]  # kept alive, as a reference cycle would
    first.close()
    second = OxigraphStore(tmp_path / "kg")
    assert len(set(second.triples(SMALL))) == 3
    with pytest.raises(StoreError) as err:
        first.graphs()
    assert err.value.code == "store_closed" and holder
    second.close()
