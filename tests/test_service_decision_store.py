"""A decision's record, audit entry and PROV-O statements are written together, once.

Real parts: the example workspace ingested into an embedded Oxigraph store, a SQLite action
database, clingo. Checked: the stored body is the record's JSON; a repeated decision returns
the first record (its time), audits the request again and leaves the decisions graph as it
was; lost PROV-O statements are written again; and a failing audit append leaves neither a
record nor PROV-O statements behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import sqlalchemy as sa

from engine.action.backoff import SystemClock
from engine.action.db import audit_head, open_database, plans, read, write
from engine.decision_graph import plan_triples
from engine.errors import StoreError
from engine.plan_store import encode
from engine.service import WarrantService
from engine.store.base import GraphChange
from engine.store.oxigraph import OxigraphStore
from engine.vocab import GRAPH_DECISIONS
from engine.workspace import Workspace

ACTION = 'schedule_reassessment("acme:vendor/V006")'


@pytest.fixture(scope="module")
def service(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WarrantService]:
    root = tmp_path_factory.mktemp("decision-store")
    store = OxigraphStore(root / "kg")
    engine = open_database(f"sqlite:///{root / 'warrant.sqlite'}")
    svc = WarrantService(
        Workspace.load(repo_root), store, engine=engine, clock=SystemClock(), executors={}
    )
    svc.ingest(actor="test")
    try:
        yield svc
    finally:
        svc.close()
        store.close()
        engine.dispose()


def _stored_rows(svc: WarrantService, plan_id: str) -> list[str]:
    with read(svc.engine) as conn:
        return [r.body for r in conn.execute(sa.select(plans.c.body).where(plans.c.id == plan_id))]


def _decisions_graph(svc: WarrantService) -> set[str]:
    return {str(t) for t in svc.store.triples(GRAPH_DECISIONS)}


def _held(svc: WarrantService, triples: list[ox.Triple]) -> list[bool]:
    """Whether each triple is in the decisions graph (the store normalises literals)."""
    return [
        next(iter(svc.store.match(t.subject, t.predicate, t.object, GRAPH_DECISIONS)), None)
        is not None
        for t in triples
    ]


def test_the_stored_body_is_the_records_json(service: WarrantService) -> None:
    record = service.decide(ACTION, actor="test").record
    [body] = _stored_rows(service, record.id)
    assert body == encode(record)
    assert json.loads(body) == record.as_dict()
    assert service.get_plan(record.id) == record


def test_a_repeated_decision_is_the_first_record_audited_again(service: WarrantService) -> None:
    first = service.decide(ACTION, actor="test").record
    graph = _decisions_graph(service)
    seq = service.audit_entries(limit=100_000)[-1].seq
    again = service.decide(ACTION, actor="test").record
    assert again == first  # the same id, plan and creation time (the first one's)
    assert len(_stored_rows(service, first.id)) == 1
    entries = service.audit_entries(since_seq=seq)
    assert [(e.kind, e.subject) for e in entries] == [("decision", f"plan:{first.id}")]
    assert service.verify_audit().ok
    assert _decisions_graph(service) == graph
    assert all(_held(service, plan_triples(first)))


def test_lost_prov_statements_are_written_again(service: WarrantService) -> None:
    record = service.decide(ACTION, actor="test").record
    triples = plan_triples(record)
    service.store.apply([GraphChange(GRAPH_DECISIONS, removed=triples)])
    assert not any(_held(service, triples))
    service.decide(ACTION, actor="test")
    assert all(_held(service, triples))


def test_a_failed_audit_append_leaves_no_record_and_no_statements(
    service: WarrantService,
) -> None:
    action = 'open_ticket("acme:vendor/V006")'
    with write(service.engine) as conn:
        head = conn.execute(sa.select(audit_head)).one()
        conn.execute(sa.delete(audit_head))
    try:
        with pytest.raises(StoreError, match="not initialised"):
            service.decide(action, actor="test")
    finally:
        with write(service.engine) as conn:
            conn.execute(sa.insert(audit_head).values(id=head.id, seq=head.seq, hash=head.hash))
    record = service.plane.decide(action)
    assert _stored_rows(service, record.id) == []
    assert not any(_held(service, plan_triples(record)))
    # and once the log works again the same decision is stored, audited and in the KG
    stored = service.decide(action, actor="test").record
    assert stored.id == record.id and len(_stored_rows(service, record.id)) == 1
    assert service.verify_audit().ok
    assert all(_held(service, plan_triples(stored)))
