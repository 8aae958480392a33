"""Plans and decisions, kept with the rules revision and KG state they were computed on.

A plan's id is a hash of what determines it (goal, parameters, rules revision, facts revision,
today), so asking twice on the same state returns the same plan; the stored body is the plan's
JSON with every proof, which is what ``warrant explain`` and the API render later.
"""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from engine.action.db import plans, read, write
from engine.errors import ConflictError, NotFoundError
from engine.planning import PlanKind, PlanRecord
from engine.reasoning import Plan


class PlanStore:
    """Plans in the SQL database shared with the audit log and the outbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, record: PlanRecord, *, idempotency_key: str | None = None) -> PlanRecord:
        """Store a plan; the same id again is a no-op. A reused idempotency key returns the
        plan first stored under it (ConflictError if it named another goal)."""
        if idempotency_key is not None:
            existing = self.by_idempotency_key(idempotency_key)
            if existing is not None:
                if existing.plan.goal != record.plan.goal:
                    raise ConflictError(
                        f"idempotency key `{idempotency_key}` was used for another request"
                    )
                return existing
        body = json.dumps(record.as_dict(), sort_keys=True)
        try:
            with write(self.engine) as conn:
                if conn.execute(sa.select(plans.c.id).where(plans.c.id == record.id)).first():
                    return self.get(record.id) if idempotency_key is None else record
                conn.execute(
                    sa.insert(plans).values(
                        id=record.id,
                        kind=record.kind,
                        goal=record.plan.goal,
                        created_at=record.created_at.isoformat(),
                        kg_state=record.kg_state,
                        rules_revision=record.plan.rules_revision,
                        idempotency_key=idempotency_key,
                        body=body,
                    )
                )
        except IntegrityError:
            found = self.by_idempotency_key(idempotency_key) if idempotency_key else None
            if found is not None:
                return found
            raise
        return record

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
            row = conn.execute(
                sa.select(plans.c.body).where(plans.c.idempotency_key == key)
            ).first()
        return None if row is None else _decode(row[0])

    def list(self, *, limit: int = 50) -> list[PlanRecord]:
        """The most recent plans and decisions."""
        with read(self.engine) as conn:
            rows = conn.execute(
                sa.select(plans.c.body).order_by(plans.c.created_at.desc()).limit(limit)
            ).all()
        return [_decode(r[0]) for r in rows]


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
