"""The hash-chained audit log on SQLite and on a real PostgreSQL: appends, tampering, races."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pydantic
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Connection, Engine

from engine.action.audit import (
    AuditEntryV1,
    AuditKind,
    AuditLog,
    canonical_json,
    entry_hash,
    format_instant,
)
from engine.action.db import audit_entries, audit_head, open_database, sqlite_url
from engine.errors import ParameterError
from tests.servers.postgres import PostgresServer

T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL for each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "audit.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"audit_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()


def fill(log: AuditLog, n: int) -> None:
    for i in range(1, n + 1):
        log.append(
            AuditKind.DECISION,
            actor=f"user{i}",
            subject=f"action:{i}",
            payload={"i": i, "why": ["rule", i], "ok": i % 2 == 0},
            at=T0 + timedelta(seconds=i),
        )


def seqs(conn: Connection) -> list[int]:
    query = sa.select(audit_entries.c.seq).order_by(audit_entries.c.seq)
    return list(conn.execute(query).scalars())


def move(conn: Connection, old: int, new: int) -> None:
    conn.execute(sa.update(audit_entries).where(audit_entries.c.seq == old).values(seq=new))


def renumber(conn: Connection, start: int, delta: int) -> None:
    """Shift every entry from ``start`` on by ``delta``, one row at a time (unique seq)."""
    rows = [s for s in seqs(conn) if s >= start]
    for s in sorted(rows, reverse=delta > 0):
        move(conn, s, s + delta)


def forge(conn: Connection, seq: int, prev_hash: str) -> str:
    """Insert a self-consistent forged entry at ``seq`` chained to ``prev_hash``."""
    payload = canonical_json({"forged": True})
    at = format_instant(T0)
    digest = entry_hash(
        prev_hash=prev_hash, seq=seq, kind="approval", actor="mallory", subject="x",
        payload=payload, at=at,
    )
    conn.execute(
        sa.insert(audit_entries).values(
            seq=seq, kind="approval", actor="mallory", subject="x", payload=payload, at=at,
            prev_hash=prev_hash, hash=digest,
        )
    )
    return digest


def hash_of(conn: Connection, seq: int) -> str:
    return str(
        conn.execute(sa.select(audit_entries.c.hash).where(audit_entries.c.seq == seq)).scalar_one()
    )


def edit_payload(conn: Connection) -> None:
    conn.execute(
        sa.update(audit_entries).where(audit_entries.c.seq == 3).values(payload='{"i":99}')
    )


def edit_kind(conn: Connection) -> None:
    conn.execute(sa.update(audit_entries).where(audit_entries.c.seq == 3).values(kind="approval"))


def reformat_payload(conn: Connection) -> None:
    row = conn.execute(sa.select(audit_entries.c.payload).where(audit_entries.c.seq == 3)).one()
    conn.execute(
        sa.update(audit_entries)
        .where(audit_entries.c.seq == 3)
        .values(payload=row.payload.replace(",", ", "))
    )


def edit_first_prev(conn: Connection) -> None:
    conn.execute(
        sa.update(audit_entries).where(audit_entries.c.seq == 1).values(prev_hash="1" * 64)
    )


def rewrite_with_hash(conn: Connection) -> None:
    """Edit entry 3 and recompute its hash: entry 4 still commits to the original."""
    row = conn.execute(sa.select(audit_entries).where(audit_entries.c.seq == 3)).one()
    payload = canonical_json({"i": 1000})
    digest = entry_hash(
        prev_hash=row.prev_hash, seq=3, kind=row.kind, actor=row.actor, subject=row.subject,
        payload=payload, at=row.at,
    )
    conn.execute(
        sa.update(audit_entries)
        .where(audit_entries.c.seq == 3)
        .values(payload=payload, hash=digest)
    )


def delete_middle(conn: Connection) -> None:
    conn.execute(sa.delete(audit_entries).where(audit_entries.c.seq == 3))


def delete_and_renumber(conn: Connection) -> None:
    delete_middle(conn)
    renumber(conn, 4, -1)


def delete_last(conn: Connection) -> None:
    conn.execute(sa.delete(audit_entries).where(audit_entries.c.seq == 6))


def swap_far(conn: Connection) -> None:
    move(conn, 2, -1)
    move(conn, 5, 2)
    move(conn, -1, 5)


def swap_adjacent(conn: Connection) -> None:
    move(conn, 3, -1)
    move(conn, 4, 3)
    move(conn, -1, 4)


def insert_middle(conn: Connection) -> None:
    prev = hash_of(conn, 2)
    renumber(conn, 3, +1)
    forge(conn, 3, prev)


def append_forged(conn: Connection) -> None:
    forge(conn, 7, hash_of(conn, 6))


def edit_head(conn: Connection) -> None:
    conn.execute(sa.update(audit_head).values(hash="2" * 64))


TAMPERING: list[tuple[str, Callable[[Connection], None], str, int]] = [
    ("edit payload", edit_payload, "edited", 3),
    ("edit kind", edit_kind, "edited", 3),
    ("non-canonical payload", reformat_payload, "edited", 3),
    ("edit first prev_hash", edit_first_prev, "edited", 1),
    ("rewrite and rehash", rewrite_with_hash, "edited", 3),
    ("edit chain head", edit_head, "edited", 6),
    ("delete middle", delete_middle, "deleted", 3),
    ("delete and renumber", delete_and_renumber, "deleted", 3),
    ("delete last", delete_last, "deleted", 6),
    ("swap far", swap_far, "reordered", 2),
    ("swap adjacent", swap_adjacent, "reordered", 3),
    ("insert forged in middle", insert_middle, "inserted", 3),
    ("append forged at end", append_forged, "inserted", 7),
]


@pytest.mark.parametrize(
    ("tamper", "problem", "first_bad"),
    [pytest.param(t, p, b, id=name) for name, t, p, b in TAMPERING],
)
def test_verify_names_first_bad_entry(
    engine: Engine, tamper: Callable[[Connection], None], problem: str, first_bad: int
) -> None:
    log = AuditLog(engine)
    fill(log, 6)
    assert log.verify().ok
    with engine.begin() as conn:
        tamper(conn)
    report = log.verify()
    assert not report.ok
    assert (report.problem, report.first_bad_seq) == (problem, first_bad), report.message
    assert str(first_bad) in report.message


def test_append_chains_and_round_trips(engine: Engine) -> None:
    log = AuditLog(engine)
    first = log.append(
        "dispatch.attempt", actor="worker", subject="a1", payload={"b": 1, "a": "é"}, at=T0
    )
    second = log.append(AuditKind.APPROVAL, actor="ciso", subject="a1", payload={}, at=T0)
    assert first.seq == 1 and second.seq == 2
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    assert log.entries() == [first, second]
    assert log.entries(since_seq=1) == [second]
    assert first.at == T0
    report = log.verify()
    assert report.ok and report.checked == 2 and report.first_bad_seq is None


def test_empty_log_verifies(engine: Engine) -> None:
    report = AuditLog(engine).verify()
    assert report.ok and report.checked == 0


def test_append_joins_callers_transaction(engine: Engine) -> None:
    log = AuditLog(engine)
    fill(log, 2)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        log.append("plan", actor="a", subject="p", payload={}, at=T0, conn=conn)
        raise RuntimeError("caller fails after appending")
    assert [e.seq for e in log.entries()] == [1, 2]
    assert log.verify().ok
    entry = log.append("plan", actor="a", subject="p", payload={}, at=T0)
    assert entry.seq == 3


@pytest.mark.parametrize(
    ("kind", "actor", "payload", "at", "field"),
    [
        ("Bad Kind", "a", {}, T0, "kind"),
        ("decision.", "a", {}, T0, "kind"),
        ("decision", "", {}, T0, "actor"),
        ("decision", "a", {"x": {1, 2}}, T0, "payload"),
        ("decision", "a", {"x": float("nan")}, T0, "payload"),
        ("decision", "a", {}, datetime(2025, 1, 1), "at"),
    ],
)
def test_bad_appends_are_rejected_and_write_nothing(
    engine: Engine, kind: str, actor: str, payload: dict[str, object], at: datetime, field: str
) -> None:
    log = AuditLog(engine)
    with pytest.raises(ParameterError) as info:
        log.append(kind, actor=actor, subject="s", payload=payload, at=at)
    assert info.value.location is not None and info.value.location.field == field
    assert log.entries() == [] and log.verify().ok


def test_entry_model_rejects_unknown_fields() -> None:
    fields = {
        "seq": 1, "kind": "plan", "actor": "a", "subject": "s", "payload": {}, "at": T0,
        "prev_hash": "0" * 64, "hash": "a" * 64,
    }
    assert AuditEntryV1.model_validate(fields).seq == 1
    with pytest.raises(pydantic.ValidationError):
        AuditEntryV1.model_validate({**fields, "extra": 1})
    with pytest.raises(pydantic.ValidationError):
        AuditEntryV1.model_validate({**fields, "hash": "not hex"})


def test_concurrent_writers_never_fork_the_chain(db_url: str) -> None:
    engines = [open_database(db_url) for _ in range(4)]
    errors: list[BaseException] = []

    def work(eng: Engine, w: int) -> None:
        try:
            log = AuditLog(eng)
            for i in range(15):
                log.append("decision", actor=f"w{w}", subject=str(i), payload={"i": i}, at=T0)
        except BaseException as exc:  # report in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e, w)) for w, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = AuditLog(engines[0]).verify()
    assert report.ok and report.checked == 60
    for e in engines:
        e.dispose()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=8),
    data=st.data(),
    column=st.sampled_from(["kind", "actor", "subject", "payload", "at"]),
)
def test_any_single_field_edit_is_caught_at_its_entry(
    n: int, data: st.DataObject, column: str
) -> None:
    eng = open_database("sqlite://")
    log = AuditLog(eng)
    fill(log, n)
    target = data.draw(st.integers(min_value=1, max_value=n))
    new_value = {
        "kind": "rejection",
        "actor": "mallory",
        "subject": "elsewhere",
        "payload": '{"i":-1}',
        "at": format_instant(T0 - timedelta(days=1)),
    }[column]
    with eng.begin() as conn:
        conn.execute(
            sa.update(audit_entries)
            .where(audit_entries.c.seq == target)
            .values({column: new_value})
        )
    report = log.verify()
    assert (report.ok, report.problem, report.first_bad_seq) == (False, "edited", target)
    eng.dispose()
