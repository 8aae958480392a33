"""The plan store on SQLite and PostgreSQL: inside the caller's transaction, once per id.

A record stored in the caller's transaction is rolled back with it; the same id again is the
first record (its creation time), also when a concurrent writer stored it between the look-up
and the insert (PostgreSQL, where the insert runs in a savepoint and the caller's transaction
stays usable); an idempotency key reused for another goal is a conflict.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from engine.action.audit import AuditLog
from engine.action.db import open_database, plans, write
from engine.errors import ConflictError
from engine.plan_store import PlanStore, encode
from engine.planning import PlanRecord
from engine.reasoning import Plan
from tests.servers.postgres import PostgresServer

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'plans.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"plans_{uuid.uuid4().hex[:12]}")
    eng = open_database(url)
    yield eng
    eng.dispose()


def _record(goal: str = "remediate", *, at: datetime = T0, optimal: bool = True) -> PlanRecord:
    plan = Plan(
        goal=goal,
        params={},
        actions=(),
        cost=(),
        cost_breakdown=(),
        optimal=optimal,
        findings=(),
        rules_revision="r1",
        facts_revision="f1",
    )
    return PlanRecord(id=f"plan-{goal}", kind="plan", created_at=at, kg_state="k", now=1, plan=plan)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(plans)).scalar_one())


def test_the_same_id_again_is_the_first_record(engine: Engine) -> None:
    store = PlanStore(engine)
    first = _record()
    with write(engine) as conn:
        assert store.store(conn, first).new
    later = _record(at=T0 + timedelta(hours=1))
    with write(engine) as conn:
        again = store.store(conn, later)
    assert not again.new and again.record == first
    assert store.get(first.id) == first and _count(engine) == 1


def test_a_stored_body_that_differs_is_returned_as_stored(engine: Engine) -> None:
    store = PlanStore(engine)
    first = _record(optimal=True)
    store.save(first)
    other = _record(optimal=False, at=T0 + timedelta(minutes=5))
    assert encode(dataclasses.replace(other, created_at=T0)) != encode(first)
    assert store.save(other) == first


def test_a_record_stored_in_a_rolled_back_transaction_is_gone(engine: Engine) -> None:
    store = PlanStore(engine)
    with pytest.raises(RuntimeError), write(engine) as conn:
        assert store.store(conn, _record()).new
        raise RuntimeError("the caller's next write failed")
    assert _count(engine) == 0


def test_a_reused_idempotency_key_for_another_goal_conflicts(engine: Engine) -> None:
    store = PlanStore(engine)
    first = store.save(_record("remediate"), idempotency_key="k1")
    assert store.save(_record("remediate", at=T0 + timedelta(1)), idempotency_key="k1") == first
    with pytest.raises(ConflictError, match="k1"):
        store.save(_record("tidy"), idempotency_key="k1")
    assert _count(engine) == 1


def test_a_concurrent_writer_between_look_up_and_insert(postgres: PostgresServer) -> None:
    """On PostgreSQL another writer can store the same id after the look-up; the insert's
    savepoint keeps the caller's transaction (here: its audit entry) alive. (SQLite's write
    transaction holds the database lock: no other writer gets in between there.)"""
    engine = open_database(postgres.create_database(f"race_{uuid.uuid4().hex[:12]}"))
    store = PlanStore(engine)
    theirs = _record(at=T0 - timedelta(minutes=1))
    ours = _record()
    raced: list[bool] = []

    def race(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO plans") and not raced:
            raced.append(True)
            store.save(theirs)  # its own connection, committed before ours inserts

    with write(engine) as conn:
        event.listen(conn, "before_cursor_execute", race)
        got = store.store(conn, ours)
        event.remove(conn, "before_cursor_execute", race)
        AuditLog(engine).append("plan", actor="t", subject="plan:x", payload={}, at=T0, conn=conn)
    assert raced and not got.new and got.record == theirs
    assert _count(engine) == 1 and AuditLog(engine).verify().checked == 1
    engine.dispose()
