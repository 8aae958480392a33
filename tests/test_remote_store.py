"""The remote SPARQL 1.1 store beyond the shared contract: a real server going away and coming
back, refused updates, configuration, and a whole ingest + plan running against it.

The contract both backends share is in test_store_contract.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from engine.errors import ConfigError, QueryError, StoreError
from engine.knowledge.ingest import Ingestor
from engine.store.base import GraphChange
from engine.store.remote import RemoteSparqlStore, open_remote_store, redact_url, update_request
from engine.workspace import Workspace
from tests.ingest_workspace import write_workspace
from tests.servers.oxigraph_server import OxigraphServer, start_oxigraph

G = ox.NamedNode("urn:test:graph")
T1 = ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), ox.Literal("one"))
T2 = ox.Triple(ox.NamedNode("urn:b"), ox.NamedNode("urn:p"), ox.Literal("two"))


def _clock() -> datetime:
    return datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def remote(server: OxigraphServer, **options: object) -> RemoteSparqlStore:
    settings: dict[str, object] = {"retries": 0}
    settings.update(options)
    return RemoteSparqlStore(
        query_url=server.query_url,
        update_url=server.update_url,
        store_url=server.store_url,
        **settings,  # type: ignore[arg-type]
    )


@pytest.fixture
def own_server() -> Iterator[OxigraphServer]:
    """A server of this test's own, free to be stopped and restarted."""
    import shutil

    server = start_oxigraph()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


def test_a_batch_is_one_update_request() -> None:
    text = update_request([
        GraphChange(G, removed=[T1], added=[T2]),
        GraphChange(ox.NamedNode("urn:test:other"), added=[T1]),
    ])
    assert text.count("DELETE DATA") == 1 and text.count("INSERT DATA") == 2
    assert text.index("DELETE DATA") < text.index("INSERT DATA")


def test_a_server_that_is_down_leaves_the_store_as_it_was(own_server: OxigraphServer) -> None:
    store = remote(own_server)
    store.apply([GraphChange(G, added=[T1])])
    own_server.stop()
    with pytest.raises(StoreError, match=r"update to the store at `.*` failed after 1 attempt"):
        store.apply([GraphChange(G, removed=[T1], added=[T2])])
    with pytest.raises(StoreError, match="query to the store"):
        store.count(G)
    own_server.start()
    assert set(store.triples(G)) == {T1}
    store.close()


def test_retries_carry_a_batch_over_a_restart(own_server: OxigraphServer) -> None:
    store = remote(own_server, retries=6, backoff_s=0.1)
    own_server.stop()
    restart = threading.Timer(0.5, own_server.start)
    restart.start()
    try:
        store.apply([GraphChange(G, added=[T1, T2])])
    finally:
        restart.join()
    assert store.count(G) == 2
    store.apply([GraphChange(G, added=[T1, T2])])  # a replayed batch changes nothing
    assert store.count(G) == 2
    store.close()


def test_a_refused_update_is_a_store_error(oxigraph_server: OxigraphServer) -> None:
    wrong = RemoteSparqlStore(
        query_url=oxigraph_server.query_url, update_url=oxigraph_server.query_url, retries=0
    )
    with pytest.raises(StoreError, match="refused a batch and kept its previous state"):
        wrong.apply([GraphChange(G, added=[T1])])
    wrong.close()


def test_query_errors_and_unexpected_answers(oxigraph_server: OxigraphServer) -> None:
    store = remote(oxigraph_server)
    with pytest.raises(QueryError, match="rejected the query"):
        store.query("SELECT ?x WHERE {")
    odd = RemoteSparqlStore(query_url=oxigraph_server.base_url + "/", update_url="http://x/",
                            retries=0)
    with pytest.raises((StoreError, QueryError)):
        odd.query("ASK {}")
    odd.close()
    store.close()


def test_graphs_without_a_graph_store_endpoint(oxigraph_server: OxigraphServer) -> None:
    oxigraph_server.clear()
    store = RemoteSparqlStore(
        query_url=oxigraph_server.query_url, update_url=oxigraph_server.update_url, retries=0
    )
    store.apply([GraphChange(G, added=[T1, T2])])
    assert set(store.triples(G)) == {T1, T2}  # read by CONSTRUCT instead of a GSP GET
    assert list(store.triples(ox.NamedNode("urn:test:absent"))) == []
    store.close()


def test_credentials_are_sent_but_never_shown() -> None:
    assert redact_url("http://user:pa55@kg.example:7200/repositories/x") == (
        "http://***@kg.example:7200/repositories/x"
    )
    store = RemoteSparqlStore(query_url="http://u:pa55@127.0.0.1:9/query",
                              update_url="http://u:pa55@127.0.0.1:9/update",
                              auth=("u", "pa55"), retries=0, timeout_s=1)
    with pytest.raises(StoreError) as err:
        store.count()
    assert "pa55" not in str(err.value) and "pa55" not in repr(err.value.details)
    store.close()


def test_store_configuration(tmp_path: Path) -> None:
    (tmp_path / "warrant.toml").write_text(
        '[store]\ntype = "sparql"\nquery_url = "${KG}/query"\nupdate_url = "${KG}/update"\n'
        'user = "warrant"\npassword = "${KG_PASSWORD}"\nunion = "native"\n'
    )
    ws = Workspace.load(tmp_path, env={"KG": "http://kg:7878", "KG_PASSWORD": "pw-xyz"})
    cfg = ws.config.store
    assert (cfg.type, cfg.query_url, cfg.union) == ("sparql", "http://kg:7878/query", "native")
    assert "pw-xyz" not in repr(cfg)
    store = open_remote_store(**cfg.model_dump(exclude={"type"}))
    assert store.union == "native"
    store.close()
    with pytest.raises(ConfigError, match="needs `update_url`"):
        open_remote_store(query_url="http://kg/query", update_url=None)
    (tmp_path / "warrant.toml").write_text('[store]\ntype = "sparql"\nunion = "magic"\n')
    with pytest.raises(ConfigError, match=r"store\.union"):
        Workspace.load(tmp_path)


def test_ingest_and_replay_run_against_the_remote_store(
    oxigraph_server: OxigraphServer, tmp_path: Path
) -> None:
    oxigraph_server.clear()
    ws = Workspace.load(write_workspace(tmp_path / "ws"))
    store = remote(oxigraph_server)
    first = Ingestor(ws, store, clock=_clock).ingest()
    assert first and all(not s.unchanged for s in first)
    before = {g.value: store.count(g) for g in store.graphs()}
    again = Ingestor(ws, store, clock=_clock).ingest()
    assert all(s.unchanged for s in again)
    assert {g.value: store.count(g) for g in store.graphs()} == before
    assert httpx.get(oxigraph_server.base_url + "/query", params={"query": "ASK {}"},
                     timeout=10).status_code == 200
    store.close()


def test_two_workers_share_one_remote_store(
    oxigraph_server: OxigraphServer, tmp_path: Path
) -> None:
    oxigraph_server.clear()
    ws = Workspace.load(write_workspace(tmp_path / "ws"))
    one, two = remote(oxigraph_server), remote(oxigraph_server)
    Ingestor(ws, one, clock=_clock).ingest()
    started = time.monotonic()
    assert all(s.unchanged for s in Ingestor(ws, two, clock=_clock).ingest())
    assert time.monotonic() - started < 30
    one.close()
    two.close()
