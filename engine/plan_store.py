"""Plans and decisions, kept with the rules revision and KG state they were computed on.

A plan's id is a hash of what determines it (goal, parameters, rules revision, facts revision,
today), so asking twice on the same state returns the same plan; the stored body is the plan's
JSON with every proof, which is what ``warrant explain`` and the API render later.

``store`` takes the caller's connection, so the service writes a record and the audit entry
that records it in one transaction, and says whether the record is new: a repeated request
(the same id) reuses the stored record without decoding it again when its body is the one
just computed (a decision on the same state always is).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from engine.action.db import is_sqlite, plans, read, write
from engine.errors import ConflictError, NotFoundError
from engine.planning import PlanKind, PlanRecord
from engine.reasoning import Plan

# Built once: constructing a statement cost more than running it on a warm decision.
_BY_ID = sa.select(plans.c.created_at, plans.c.body).where(plans.c.id == sa.bindparam("plan_id"))
_BY_KEY = sa.select(plans.c.body).where(plans.c.idempotency_key == sa.bindparam("key"))
_INSERT = sa.insert(plans)


@dataclass(frozen=True)
class Stored:
    """A saved record, and whether this call inserted it (False: it was stored already)."""

    record: PlanRecord
    new: bool


class PlanStore:
    """Plans in the SQL database shared with the audit log and the outbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, record: PlanRecord, *, idempotency_key: str | None = None) -> PlanRecord:
        """Store a plan; the same id again is a no-op. A reused idempotency key returns the
        plan first stored under it (ConflictError if it named another goal)."""
        with write(self.engine) as conn:
            return self.store(conn, record, idempotency_key=idempotency_key).record

    def store(
        self, conn: Connection, record: PlanRecord, *, idempotency_key: str | None = None
    ) -> Stored:
        """``save`` inside the caller's write transaction ``conn`` (nothing is committed here).

        On SQLite the write transaction holds the database lock, so the look-ups and the insert
        cannot race; elsewhere the insert runs in a savepoint, and a concurrent writer's row
        (same id or idempotency key) is returned after it.
        """
        if idempotency_key is not None:
            existing = self._by_key(conn, idempotency_key)
            if existing is not None:
                if existing.plan.goal != record.plan.goal:
                    raise ConflictError(
                        f"idempotency key `{idempotency_key}` was used for another request"
                    )
                return Stored(existing, new=False)
        found = self._same_id(conn, record, keyed=idempotency_key is not None)
        if found is not None:
            return found
        values = {
            "id": record.id,
            "kind": record.kind,
            "goal": record.plan.goal,
            "created_at": record.created_at.isoformat(),
            "kg_state": record.kg_state,
            "rules_revision": record.plan.rules_revision,
            "idempotency_key": idempotency_key,
            "body": encode(record),
        }
        if is_sqlite(conn):
            conn.execute(_INSERT, values)
            return Stored(record, new=True)
        try:
            with conn.begin_nested():
                conn.execute(_INSERT, values)
        except IntegrityError:
            if idempotency_key is not None:
                keyed = self._by_key(conn, idempotency_key)
                if keyed is not None:
                    return Stored(keyed, new=False)
            raced = self._same_id(conn, record, keyed=idempotency_key is not None)
            if raced is not None:
                return raced
            raise
        return Stored(record, new=True)

    def _same_id(self, conn: Connection, record: PlanRecord, *, keyed: bool) -> Stored | None:
        """The stored record with ``record``'s id, if any. Its body differs from ``record``'s
        at most in the creation time when the two were computed alike: then ``record`` with
        the stored time is the stored record, and decoding (and validating every proof node)
        is skipped."""
        row = conn.execute(_BY_ID, {"plan_id": record.id}).first()
        if row is None:
            return None
        if keyed:  # what `save` always did: the new record, its key not recorded
            return Stored(record, new=False)
        created = dt.datetime.fromisoformat(row.created_at)
        again = dataclasses.replace(record, created_at=created)
        if encode(again) == row.body:
            return Stored(again, new=False)
        return Stored(_decode(row.body), new=False)

    def get(self, plan_id: str) -> PlanRecord:
        """A stored plan; NotFoundError naming the id otherwise."""
        with read(self.engine) as conn:
            row = conn.execute(sa.select(plans.c.body).where(plans.c.id == plan_id)).first()
        if row is None:
            raise NotFoundError(f"no plan or decision with id `{plan_id}`")
        return _decode(row[0])

    def by_idempotency_key(self, key: str) -> PlanRecord | None:
        """The plan stored under an idempotency key, if any."""
        with read(self.engine) as conn:
            return self._by_key(conn, key)

    def _by_key(self, conn: Connection, key: str) -> PlanRecord | None:
        row = conn.execute(_BY_KEY, {"key": key}).first()
        return None if row is None else _decode(row[0])

    def list(self, *, limit: int = 50) -> list[PlanRecord]:
        """The most recent plans and decisions."""
        with read(self.engine) as conn:
            rows = conn.execute(
                sa.select(plans.c.body).order_by(plans.c.created_at.desc()).limit(limit)
            ).all()
        return [_decode(r[0]) for r in rows]


def encode(record: PlanRecord) -> str:
    """The stored body: the record's header fields, then the plan's JSON written by pydantic's
    serializer in one pass (a plan's proofs run to megabytes: building the Python dict and
    dumping it with ``json`` took twice as long, and ``as_dict`` wrote and parsed it once more
    before that). The two key sets are disjoint; reading it back is ``json.loads``."""
    head = json.dumps(
        {
            "created_at": record.created_at.isoformat(),
            "id": record.id,
            "kg_state": record.kg_state,
            "kind": record.kind,
            "now": record.now,
        },
        sort_keys=True,
    )
    return f"{head[:-1]}, {record.plan.model_dump_json()[1:]}"


def _decode(body: str) -> PlanRecord:
    data = json.loads(body)
    kind: PlanKind = data.pop("kind")
    record_id = data.pop("id")
    created = dt.datetime.fromisoformat(data.pop("created_at"))
    kg_state = data.pop("kg_state")
    now = data.pop("now")
    return PlanRecord(
        id=record_id,
        kind=kind,
        created_at=created,
        kg_state=kg_state,
        now=now,
        plan=Plan.model_validate(data),
    )
