"""The audit log: append-only, hash chained, in the action plane's database.

Each entry commits to the one before it: ``hash = sha256(prev_hash + canonical(fields))``
where ``fields`` are the entry's seq, kind, actor, subject, payload and time, rendered as
canonical JSON (sorted keys, no whitespace). The first entry's ``prev_hash`` is 64 zeros. A
one-row ``audit_head`` table holds the last seq and hash, so a deleted or forged *last* entry is
caught too, and on PostgreSQL appends lock that row so two writers never fork the chain (on
SQLite every write transaction is ``BEGIN IMMEDIATE``).

``append`` takes an optional connection, so a caller can write its state change and the
entry that records it in one transaction (the outbox does). ``verify`` walks the chain and
names the first bad entry and what happened to it: ``edited``, ``deleted``, ``reordered`` or
``inserted``.

Example::

    log = AuditLog(open_database("sqlite:///var/action.db"))
    log.append(AuditKind.DECISION, actor="api", subject="plan:42", payload={"x": 1}, at=now)
    assert log.verify().ok
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlalchemy.engine import Connection, Engine, Row

from engine.action.db import GENESIS_HASH, audit_entries, audit_head, read, write
from engine.errors import Location, ParameterError, StoreError

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

Problem = Literal["edited", "deleted", "reordered", "inserted"]


class AuditKind(StrEnum):
    """The kinds of event the engine audits; any dotted lowercase name is accepted too."""

    INGEST_BATCH = "ingest.batch"
    QUARANTINE = "ingest.quarantine"
    PLAN = "plan"
    DECISION = "decision"
    APPROVAL = "approval"
    REJECTION = "rejection"
    DISPATCH_ENQUEUE = "dispatch.enqueue"
    DISPATCH_ATTEMPT = "dispatch.attempt"
    DISPATCH_RECOVERED = "dispatch.recovered"
    DISPATCH_DEAD = "dispatch.dead"
    DISPATCH_RETRY = "dispatch.retry"
    RULE_RELOAD = "rules.reload"
    AUTH_FAILURE = "auth.failure"


def canonical_json(value: object) -> str:
    """Canonical JSON text: sorted keys, no whitespace, UTF-8, no NaN/Infinity."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def format_instant(at: datetime) -> str:
    """An instant as ISO-8601 UTC with microseconds: the form the chain hashes."""
    if at.tzinfo is None:
        raise ParameterError("audit time must be timezone-aware", location=Location(field="at"))
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *, prev_hash: str, seq: int, kind: str, actor: str, subject: str, payload: str, at: str
) -> str:
    """The chain hash of one entry; ``payload`` is its canonical JSON text."""
    fields = canonical_json(
        {
            "actor": actor,
            "at": at,
            "kind": kind,
            "payload": json.loads(payload),
            "seq": seq,
            "subject": subject,
        }
    )
    return hashlib.sha256((prev_hash + fields).encode("utf-8")).hexdigest()


class AuditEntryV1(BaseModel):
    """One audit entry, version 1 of the wire and storage form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    kind: str
    actor: str
    subject: str
    payload: dict[str, JsonValue]
    at: datetime
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


AuditEntry = AuditEntryV1
"""The current audit entry version."""


class VerifyReport(BaseModel):
    """The outcome of walking the chain: ok, or the first bad entry and what happened to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: Problem | None = None
    message: str


# Built once: constructing a statement (coercing its clauses, computing its cache key) cost
# more than running it, three times per appended entry.
_HEAD_FOR_UPDATE = (
    sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
)
_INSERT_ENTRY = sa.insert(audit_entries)
_ADVANCE_HEAD = (
    sa.update(audit_head)
    .where(audit_head.c.id == 1)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)


class AuditLog:
    """Appends hash-chained entries and verifies the chain; one instance per engine is enough."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(
        self,
        kind: str,
        *,
        actor: str,
        subject: str,
        payload: Mapping[str, object],
        at: datetime,
        conn: Connection | None = None,
    ) -> AuditEntryV1:
        """Add one entry at the chain's end; inside ``conn``'s transaction when given."""
        if conn is not None:
            return self._append(conn, kind, actor, subject, payload, at)
        with write(self.engine) as own:
            return self._append(own, kind, actor, subject, payload, at)

    def _append(
        self,
        conn: Connection,
        kind: str,
        actor: str,
        subject: str,
        payload: Mapping[str, object],
        at: datetime,
    ) -> AuditEntryV1:
        kind = str(kind)
        if not _KIND_RE.match(kind):
            raise ParameterError(
                f"audit kind `{kind}` is not a dotted lowercase name",
                location=Location(field="kind"),
            )
        if not actor:
            raise ParameterError("audit actor is empty", location=Location(field="actor"))
        try:
            payload_text = canonical_json(dict(payload))
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"audit payload is not JSON: {exc}", location=Location(field="payload")
            ) from exc
        at_text = format_instant(at)
        head = conn.execute(_HEAD_FOR_UPDATE).first()
        if head is None:
            raise StoreError("the audit log is not initialised: call `create_schema` first")
        seq = int(head.seq) + 1
        digest = entry_hash(
            prev_hash=head.hash,
            seq=seq,
            kind=kind,
            actor=actor,
            subject=subject,
            payload=payload_text,
            at=at_text,
        )
        values = {
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "subject": subject,
            "payload": payload_text,
            "at": at_text,
            "prev_hash": head.hash,
            "hash": digest,
        }
        conn.execute(_INSERT_ENTRY, values)
        conn.execute(_ADVANCE_HEAD, {"new_seq": seq, "new_hash": digest})
        return _to_entry(values)

    def entries(self, *, since_seq: int = 0, limit: int = 100) -> list[AuditEntryV1]:
        """Up to ``limit`` entries with seq greater than ``since_seq``, oldest first."""
        with read(self.engine) as conn:
            rows = conn.execute(
                sa.select(audit_entries)
                .where(audit_entries.c.seq > since_seq)
                .order_by(audit_entries.c.seq)
                .limit(limit)
            ).mappings()
            return [_to_entry(dict(r)) for r in rows]

    def verify(self) -> VerifyReport:
        """Walk the whole chain; report the first edited, deleted, reordered or inserted entry."""
        with read(self.engine) as conn:
            head = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).first()
            if head is None:
                raise StoreError("the audit log is not initialised: call `create_schema` first")
            expected_seq, expected_prev, pred_prev = 1, GENESIS_HASH, GENESIS_HASH
            checked = 0
            bad: Row[Any] | None = None
            result = conn.execution_options(yield_per=1000).execute(
                sa.select(audit_entries).order_by(audit_entries.c.seq)
            )
            for row in result:
                if row.seq != expected_seq or row.prev_hash != expected_prev or not _self_ok(row):
                    bad = row
                    break
                checked += 1
                expected_seq, pred_prev, expected_prev = row.seq + 1, row.prev_hash, row.hash
            result.close()
            if bad is not None:
                problem, seq, message = _classify(conn, bad, expected_seq, pred_prev)
                return VerifyReport(
                    ok=False, checked=checked, first_bad_seq=seq, problem=problem, message=message
                )
            last = expected_seq - 1
            if head.seq > last:
                message = f"entry {last + 1} is missing from the end"
                return _bad(checked, last + 1, "deleted", message)
            if head.seq < last:
                return _bad(
                    checked,
                    head.seq + 1,
                    "inserted",
                    f"entry {head.seq + 1} was added after the recorded chain head {head.seq}",
                )
            if head.hash != expected_prev:
                return _bad(checked, last, "edited", f"entry {last} does not match the chain head")
            return VerifyReport(ok=True, checked=checked, message=f"{checked} entries verified")


def _bad(checked: int, seq: int, problem: Problem, message: str) -> VerifyReport:
    return VerifyReport(
        ok=False, checked=checked, first_bad_seq=seq, problem=problem, message=message
    )


def _to_entry(values: Mapping[str, Any]) -> AuditEntryV1:
    return AuditEntryV1(
        seq=values["seq"],
        kind=values["kind"],
        actor=values["actor"],
        subject=values["subject"],
        payload=json.loads(values["payload"]),
        at=datetime.fromisoformat(values["at"]),
        prev_hash=values["prev_hash"],
        hash=values["hash"],
    )


def _hash_as(row: Row[Any], seq: int) -> str | None:
    """The row's hash were it entry ``seq``; None when its payload is not canonical JSON."""
    try:
        if canonical_json(json.loads(row.payload)) != row.payload:
            return None
        return entry_hash(
            prev_hash=row.prev_hash,
            seq=seq,
            kind=row.kind,
            actor=row.actor,
            subject=row.subject,
            payload=row.payload,
            at=row.at,
        )
    except (ValueError, TypeError):
        return None


def _self_ok(row: Row[Any]) -> bool:
    return bool(_hash_as(row, row.seq) == row.hash)


def _hash_exists(conn: Connection, digest: str) -> bool:
    found = conn.execute(
        sa.select(audit_entries.c.seq).where(audit_entries.c.hash == digest).limit(1)
    ).first()
    return found is not None


def _classify(
    conn: Connection, row: Row[Any], expected_seq: int, pred_prev: str
) -> tuple[Problem, int, str]:
    """Name what happened at the first row that breaks the chain (see the module docstring)."""
    seq = int(row.seq)
    if seq != expected_seq:
        return (
            "deleted",
            expected_seq,
            f"entry {expected_seq} is missing: the chain jumps from {expected_seq - 1} to {seq}",
        )
    if _self_ok(row):
        if seq >= 2 and row.prev_hash == pred_prev:
            return (
                "inserted",
                seq - 1,
                f"entry {seq - 1} was inserted: entry {seq} commits to entry {seq - 2}",
            )
        if _hash_exists(conn, row.prev_hash):
            return "reordered", seq, f"entry {seq} is out of order: it follows another entry"
        bad = max(seq - 1, 1)
        return (
            "edited",
            bad,
            f"entry {bad} was rewritten: entry {seq} commits to a different predecessor",
        )
    max_seq = conn.execute(sa.select(sa.func.max(audit_entries.c.seq))).scalar_one()
    original = next(
        (s for s in range(1, int(max_seq) + 2) if s != seq and _hash_as(row, s) == row.hash),
        None,
    )
    if original is None:
        return "edited", seq, f"entry {seq} was edited: its hash does not match its content"
    if original == seq + 1 and not _hash_exists(conn, row.prev_hash):
        return (
            "deleted",
            seq,
            f"entry {seq} is missing: the entries after it were renumbered",
        )
    if original == seq - 1:
        return (
            "inserted",
            seq - 1,
            f"entry {seq - 1} was inserted: the entries after it were renumbered",
        )
    return "reordered", seq, f"entry {seq} is out of order: it was written as entry {original}"
