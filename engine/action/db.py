"""The action plane's database: one SQLAlchemy engine and schema shared by audit and outbox.

SQLite (a file, WAL journal) is the embedded default; PostgreSQL (``postgresql+psycopg://``)
is the production backend. Both hold the same tables, so the audit log and the outbox can
change state in one transaction.

Writes are serialised differently per backend, and the callers do not need to know which:

- SQLite: every write transaction starts with ``BEGIN IMMEDIATE`` (the pysqlite driver's own
  transaction handling is switched off), so two writers never interleave; readers use
  ``BEGIN DEFERRED`` and, thanks to WAL, never block writers.
- PostgreSQL: appends lock the single ``audit_head`` row (``SELECT … FOR UPDATE``) and the
  outbox claims rows with ``FOR UPDATE SKIP LOCKED``.

Example::

    engine = open_engine(sqlite_url(Path("var/action.db")))
    create_schema(engine)
    with write(engine) as conn:
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from engine.errors import ConfigError, Location

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first audit entry: the chain starts from all zeros."""

_READ_ONLY = "warrant_read_only"
_AFTER_COMMIT = "warrant_after_commit"
_SQLITE_BUSY_TIMEOUT_MS = 30_000

metadata = sa.MetaData()

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, index=True),
)
"""One row per audit entry; ``payload`` holds canonical JSON, ``at`` an ISO-8601 UTC instant."""

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
"""A single row (id 1): the chain's last seq and hash, the row appends lock on PostgreSQL."""

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("action_id", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger(), nullable=False, unique=True),
    sa.Column("plan_id", sa.String(200), nullable=True, index=True),
    sa.Column("action_type", sa.String(200), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
    sa.Column("lease_until_us", sa.BigInteger(), nullable=True),
    sa.Column("held_by", sa.String(200), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("updated_us", sa.BigInteger(), nullable=False),
)
"""One row per action to dispatch; times are integer microseconds since the Unix epoch."""

outbox_after = sa.Table(
    "outbox_after",
    metadata,
    sa.Column("action_id", sa.String(200), primary_key=True),
    sa.Column("after_id", sa.String(200), primary_key=True, index=True),
)
"""Plan order: ``action_id`` may start only after ``after_id`` succeeded."""


plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("goal", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("kg_state", sa.String(64), nullable=False),
    sa.Column("rules_revision", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
    sa.Column("body", sa.Text(), nullable=False),
)
"""Every plan and decision Warrant computed, with the rules revision and KG state it used."""

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("plan_id", sa.String(64), nullable=False, index=True),
    sa.Column("action_index", sa.Integer(), nullable=False),
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("role", sa.String(200), nullable=False, index=True),
    sa.Column("reasons", sa.Text(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("dispatch", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("approver", sa.String(200), nullable=True),
    sa.Column("comment", sa.Text(), nullable=True),
    sa.Column("decided_at", sa.String(40), nullable=True),
    sa.Column("superseded_by", sa.String(64), nullable=True),
    sa.Column("basis", sa.Text(), nullable=False),
    sa.UniqueConstraint("plan_id", "action_index", name="uq_approvals_plan_action"),
)
"""Escalated actions waiting for (or decided by) an approver; ``basis`` is the proof's facts."""


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def open_engine(url: str) -> Engine:
    """An engine for a ``sqlite:`` or ``postgresql+psycopg:`` URL, set up for the action plane."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            f"database url `{url}` does not parse", location=Location(field="url")
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return sa.create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(
        f"database backend `{backend}` is not supported: use sqlite or postgresql+psycopg",
        location=Location(field="url"),
    )


def _sqlite_engine(url: sa.URL) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        engine = sa.create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = bool(conn.get_execution_options().get(_READ_ONLY, False))
        conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


def is_sqlite(engine_or_conn: Engine | Connection) -> bool:
    """Whether the backend is SQLite (which ignores ``FOR UPDATE``)."""
    return engine_or_conn.dialect.name == "sqlite"


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction: committed on success, rolled back on error, serialised on SQLite.

    Callbacks registered with :func:`after_commit` run once it has committed, and are dropped
    when it rolls back.
    """
    info: dict[Any, Any] = {}
    try:
        with engine.begin() as conn:
            info = conn.info  # the pooled connection's: still readable once it is returned
            yield conn
    except BaseException:
        info.pop(_AFTER_COMMIT, None)
        raise
    for callback in info.pop(_AFTER_COMMIT, ()):
        callback()


def after_commit(conn: Connection, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the :func:`write` transaction of ``conn`` has committed (what it
    announces is then visible to every reader; SQLAlchemy's ``commit`` event runs before)."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(callback)


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read transaction that takes no write lock (a consistent snapshot on both backends)."""
    with engine.connect() as conn:
        if is_sqlite(conn):
            conn.execution_options(**{_READ_ONLY: True})
        else:
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def create_schema(engine: Engine) -> None:
    """Create the audit and outbox tables and the chain head if absent (safe to call twice)."""
    metadata.create_all(engine, checkfirst=True)
    try:
        with write(engine) as conn:
            exists = conn.execute(sa.select(audit_head.c.id).where(audit_head.c.id == 1)).first()
            if exists is None:
                conn.execute(sa.insert(audit_head).values(id=1, seq=0, hash=GENESIS_HASH))
    except IntegrityError:
        pass  # another process created the head between our check and insert


def open_database(url: str) -> Engine:
    """Open the action-plane database at ``url`` and make sure its schema exists."""
    engine = open_engine(url)
    create_schema(engine)
    return engine
