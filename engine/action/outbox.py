"""The transactional outbox: every action is stored before it is sent, and sent until it lands.

Delivery is *at least once*; the effect is *exactly once* because every attempt of an action,
before and after any crash, carries the same idempotency key (derived once, at enqueue, and
stored) and receivers dedupe on it. A crash at any point therefore neither loses an action
(the row is committed before anything is sent) nor applies it twice.

States::

    pending ──claim──▶ in_flight ──▶ succeeded
       ▲                  │  ├────▶ failed (retry scheduled, full-jitter backoff) ──▶ claim …
       │                  │  └────▶ dead (max attempts or permanent failure) ──retry_dead──▶ pending
       └── lease expired ─┘          │
                                     └─ its dependants (transitively) ──▶ held

A step is eligible only when every step it comes ``after`` has succeeded, so a plan runs in
its order and a failed step holds back its dependants; the rows are the plan's checkpoint, so
progress survives restarts. Claiming commits ``in_flight`` with a lease and an attempt number
before the executor is called; the outcome and its audit entry are committed together, and only
if the lease is still ours (the attempt number is the fencing token). A worker that starts finds
rows whose lease expired (their worker died mid-dispatch) and sends them again, same key.
A circuit breaker per executor keeps messages for a failing executor waiting (not counted as
attempts) until its cool-down ends.

Example::

    outbox = Outbox(engine, clock=SystemClock(), rng=random.Random(7), executors=executors)
    outbox.enqueue(ActionEnvelope.create(action_id="a1", action_type="notify", payload={}))
    outbox.run_until_settled(timeout_s=30)
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from engine.action.audit import AuditKind, AuditLog, canonical_json
from engine.action.backoff import Clock, RetryPolicy, from_micros, to_micros
from engine.action.breaker import BreakerPolicy, Breakers
from engine.action.db import after_commit, outbox, outbox_after, read, write
from engine.action.executors import (
    ActionEnvelope,
    ExecutionResult,
    Executor,
    Outcome,
)
from engine.action.plan_order import (
    after_of,
    blocking_root,
    eligible,
    envelope_of,
    hold_dependants,
    read_dead_letters,
    read_plan_status,
    release,
    states_of,
    topological,
)
from engine.action.status import (
    DeadLetter,
    DispatchRecord,
    DrainReport,
    MessageState,
    PlanProgress,
)
from engine.errors import ConflictError, DispatchError, Location, NotFoundError, ParameterError

_CLAIM_BATCH = 20


class Outbox:
    """Stores actions transactionally and dispatches them through their executors."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        rng: random.Random,
        policy: RetryPolicy | None = None,
        executors: Mapping[str, Executor] | None = None,
        breaker_policy: BreakerPolicy | None = None,
        actor: str = "dispatcher",
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.rng = rng
        self.policy = policy or RetryPolicy()
        self.executors = dict(executors or {})
        self.breakers = Breakers(breaker_policy or BreakerPolicy())
        self.audit = AuditLog(engine)
        self.actor = actor
        self.arrived = threading.Event()
        """Set when a transaction that made work runnable here (an enqueue, a dead action sent
        again) has committed: the dispatch worker waits on it instead of polling the table."""

    def _announce(self, conn: Connection) -> None:
        """Set ``arrived`` once ``conn``'s transaction commits (not before: a worker woken
        early would find nothing and sleep)."""
        after_commit(conn, self.arrived.set)

    def close(self) -> None:
        """Close every executor (HTTP pools); the engine belongs to the caller."""
        for executor in self.executors.values():
            executor.close()

    # -- enqueue ---------------------------------------------------------------------------

    def enqueue(self, envelope: ActionEnvelope, *, conn: Connection | None = None) -> bool:
        """Store one action (inside ``conn``'s transaction when given); False if already there."""
        return self.enqueue_many([envelope], conn=conn) == 1

    def enqueue_many(
        self, envelopes: Sequence[ActionEnvelope], *, conn: Connection | None = None
    ) -> int:
        """Store a plan's actions atomically, in dependency order; returns how many were new."""
        if conn is None:
            with write(self.engine) as own:
                return self._enqueue(own, envelopes)
        return self._enqueue(conn, envelopes)

    def _enqueue(self, conn: Connection, envelopes: Sequence[ActionEnvelope]) -> int:
        ordered = topological(envelopes)
        at = self.clock.now()
        now_us = to_micros(at)
        new = 0
        batch = {e.action_id for e in envelopes}
        for env in ordered:
            if self.executors and env.action_type not in self.executors:
                raise ParameterError(
                    f"no executor is configured for action type `{env.action_type}`",
                    location=Location(record=env.action_id, field="action_type"),
                )
            existing = conn.execute(
                sa.select(outbox).where(outbox.c.action_id == env.action_id)
            ).first()
            if existing is not None:
                if envelope_of(existing, after_of(conn, env.action_id)) != _normalised(env):
                    raise ConflictError(
                        f"action `{env.action_id}` was already enqueued with different content",
                        location=Location(record=env.action_id),
                    )
                continue
            states = states_of(conn, env.after)
            missing = [a for a in env.after if a not in states and a not in batch]
            if missing:
                raise NotFoundError(
                    f"action `{env.action_id}` comes after unknown action `{missing[0]}`",
                    location=Location(record=env.action_id, field="after"),
                )
            # the audit append locks the chain head: it also serialises the seq below
            self.audit.append(
                AuditKind.DISPATCH_ENQUEUE,
                actor=self.actor,
                subject=env.action_id,
                payload={
                    "plan_id": env.plan_id,
                    "action_type": env.action_type,
                    "idempotency_key": env.idempotency_key,
                    "after": sorted(env.after),
                },
                at=at,
                conn=conn,
            )
            held_by = blocking_root(conn, env.after)
            seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.seq), 0))).scalar()
            conn.execute(
                sa.insert(outbox).values(
                    action_id=env.action_id,
                    seq=int(seq or 0) + 1,
                    plan_id=env.plan_id,
                    action_type=env.action_type,
                    payload=canonical_json(env.payload),
                    idempotency_key=env.idempotency_key,
                    state=MessageState.HELD if held_by else MessageState.PENDING,
                    attempts=0,
                    next_attempt_us=now_us,
                    held_by=held_by,
                    created_us=now_us,
                    updated_us=now_us,
                )
            )
            for dep in env.after:
                conn.execute(sa.insert(outbox_after).values(action_id=env.action_id, after_id=dep))
            new += 1
        if new:
            self._announce(conn)
        return new

    # -- dispatch --------------------------------------------------------------------------

    def run_once(self) -> DispatchRecord | None:
        """Recover expired leases, claim one eligible action, execute it, record the outcome."""
        claimed = self._claim()
        if claimed is None:
            return None
        envelope, attempt = claimed
        executor = self.executors[envelope.action_type]
        result = _execute(executor, envelope)
        breaker = self.breakers[executor.name]
        if result.outcome is Outcome.RETRYABLE:
            breaker_state = breaker.record_failure(self.clock.now())
        else:
            breaker_state = breaker.record_success(self.clock.now())
        return self._record(envelope, attempt, result, str(breaker_state))

    def run_until_idle(self, *, timeout_s: float) -> DrainReport:
        """Dispatch until nothing is due now (or ``timeout_s`` of real time passed)."""
        deadline = time.monotonic() + timeout_s
        records: list[DispatchRecord] = []
        while time.monotonic() < deadline:
            record = self.run_once()
            if record is None:
                due = self._next_due()
                return DrainReport(tuple(records), settled=due is None, next_due=due)
            records.append(record)
        return DrainReport(tuple(records), settled=False)

    def run_until_settled(self, *, timeout_s: float, poll_s: float = 0.5) -> DrainReport:
        """Dispatch, sleeping on the clock until retries fall due, until no work can proceed."""
        deadline = time.monotonic() + timeout_s
        records: list[DispatchRecord] = []
        while time.monotonic() < deadline:
            record = self.run_once()
            if record is not None:
                records.append(record)
                continue
            due = self._next_due()
            if due is None:
                return DrainReport(tuple(records), settled=True)
            wait = (due - self.clock.now()).total_seconds()
            self.clock.sleep(min(max(wait, 0.001), poll_s))  # wake up for new work too
        return DrainReport(tuple(records), settled=False)

    def _claim(self) -> tuple[ActionEnvelope, int] | None:
        at = self.clock.now()
        due = self._next_due()
        if due is None or due > at:
            # an idle poll reads without the write lock: the worker polls every 0.2 s, and a
            # write transaction each time would serialise against every API request's writes
            return None
        now_us = to_micros(at)
        with write(self.engine) as conn:
            self._recover(conn, at)
            rows = conn.execute(
                sa.select(outbox)
                .where(eligible(self.executors), outbox.c.next_attempt_us <= now_us)
                .order_by(outbox.c.next_attempt_us, outbox.c.seq)
                .limit(_CLAIM_BATCH)
                .with_for_update(skip_locked=True, of=outbox)
            ).all()
            for row in rows:
                executor = self.executors[row.action_type]
                admission = self.breakers[executor.name].admit(at)
                if not admission.allowed:
                    retry_at = admission.retry_at or at
                    conn.execute(
                        sa.update(outbox)
                        .where(outbox.c.action_id == row.action_id)
                        .values(next_attempt_us=to_micros(retry_at), updated_us=now_us)
                    )
                    continue
                attempt = int(row.attempts) + 1
                lease_us = now_us + int(self.policy.lease_s * 1_000_000)
                conn.execute(
                    sa.update(outbox)
                    .where(outbox.c.action_id == row.action_id)
                    .values(
                        state=MessageState.IN_FLIGHT,
                        attempts=attempt,
                        lease_until_us=lease_us,
                        updated_us=now_us,
                    )
                )
                return envelope_of(row, after_of(conn, row.action_id)), attempt
        return None

    def recover(self) -> int:
        """Put actions whose worker died mid-dispatch (lease expired) back in line; how many."""
        with write(self.engine) as conn:
            return self._recover(conn, self.clock.now())

    def _recover(self, conn: Connection, at: datetime) -> int:
        now_us = to_micros(at)
        expired = conn.execute(
            sa.select(outbox.c.action_id, outbox.c.attempts)
            .where(outbox.c.state == MessageState.IN_FLIGHT, outbox.c.lease_until_us < now_us)
            .with_for_update(skip_locked=True)
        ).all()
        for row in expired:
            last = int(row.attempts) >= self.policy.max_attempts
            error = "worker stopped mid-dispatch (lease expired)"
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.action_id == row.action_id)
                .values(
                    state=MessageState.DEAD if last else MessageState.PENDING,
                    lease_until_us=None,
                    next_attempt_us=now_us,
                    last_error=error,
                    updated_us=now_us,
                )
            )
            held = hold_dependants(conn, row.action_id, now_us) if last else []
            self.audit.append(
                AuditKind.DISPATCH_RECOVERED,
                actor=self.actor,
                subject=row.action_id,
                payload={"attempt": int(row.attempts), "dead": last, "held": held},
                at=at,
                conn=conn,
            )
        return len(expired)

    def _record(
        self, envelope: ActionEnvelope, attempt: int, result: ExecutionResult, breaker: str
    ) -> DispatchRecord:
        at = self.clock.now()
        now_us = to_micros(at)
        with write(self.engine) as conn:
            ours = conn.execute(
                sa.select(outbox.c.action_id)
                .where(
                    outbox.c.action_id == envelope.action_id,
                    outbox.c.state == MessageState.IN_FLIGHT,
                    outbox.c.attempts == attempt,
                )
                .with_for_update()
            ).first()
            if ours is None:  # our lease expired and another worker took the action over
                return DispatchRecord(
                    envelope.action_id, attempt, result.outcome, None, result.detail
                )
            next_us: int | None = None
            held: list[str] = []
            if result.outcome is Outcome.SUCCEEDED:
                state = MessageState.SUCCEEDED
            elif result.outcome is Outcome.RETRYABLE and attempt < self.policy.max_attempts:
                state = MessageState.FAILED
                next_us = now_us + int(self.policy.delay(attempt, self.rng) * 1_000_000)
            else:
                state = MessageState.DEAD
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.action_id == envelope.action_id)
                .values(
                    state=state,
                    lease_until_us=None,
                    next_attempt_us=next_us if next_us is not None else now_us,
                    last_error=None if state is MessageState.SUCCEEDED else result.detail,
                    updated_us=now_us,
                )
            )
            if state is MessageState.DEAD:
                held = hold_dependants(conn, envelope.action_id, now_us)
            self.audit.append(
                AuditKind.DISPATCH_ATTEMPT,
                actor=self.actor,
                subject=envelope.action_id,
                payload={
                    "plan_id": envelope.plan_id,
                    "attempt": attempt,
                    "idempotency_key": envelope.idempotency_key,
                    "outcome": str(result.outcome),
                    "detail": result.detail,
                    "status_code": result.status_code,
                    "state": str(state),
                    "next_attempt_at": from_micros(next_us).isoformat() if next_us else None,
                    "breaker": breaker,
                    "held": held,
                },
                at=at,
                conn=conn,
            )
            return DispatchRecord(envelope.action_id, attempt, result.outcome, state, result.detail)

    def _next_due(self) -> datetime | None:
        with read(self.engine) as conn:
            retry = conn.execute(
                sa.select(sa.func.min(outbox.c.next_attempt_us)).where(eligible(self.executors))
            ).scalar()
            lease = conn.execute(
                sa.select(sa.func.min(outbox.c.lease_until_us)).where(
                    outbox.c.state == MessageState.IN_FLIGHT
                )
            ).scalar()
        due = [int(v) for v in (retry, lease) if v is not None]
        return from_micros(min(due)) if due else None

    # -- dead letters and plan order -------------------------------------------------------

    def dead_letters(self) -> list[DeadLetter]:
        """Every action that ran out of attempts or failed permanently, oldest first."""
        with read(self.engine) as conn:
            return read_dead_letters(conn)

    def retry_dead(self, action_id: str, *, actor: str) -> None:
        """Send a dead action again from attempt 1 (same key) and release what it held back."""
        at = self.clock.now()
        now_us = to_micros(at)
        with write(self.engine) as conn:
            row = conn.execute(
                sa.select(outbox.c.state).where(outbox.c.action_id == action_id).with_for_update()
            ).first()
            if row is None:
                raise NotFoundError(f"action `{action_id}` is not in the outbox")
            if row.state != MessageState.DEAD:
                raise ConflictError(f"action `{action_id}` is `{row.state}`, not dead")
            conn.execute(
                sa.update(outbox)
                .where(outbox.c.action_id == action_id)
                .values(state=MessageState.PENDING, attempts=0, next_attempt_us=now_us,
                        updated_us=now_us)
            )
            released = release(conn, action_id, now_us)
            self._announce(conn)
            self.audit.append(
                AuditKind.DISPATCH_RETRY,
                actor=actor,
                subject=action_id,
                payload={"released": released},
                at=at,
                conn=conn,
            )

    def plan_status(self, plan_id: str) -> PlanProgress:
        """Each step of a plan: its state, what it waits on, and which failure holds it back."""
        with read(self.engine) as conn:
            return read_plan_status(conn, plan_id)


def _execute(executor: Executor, envelope: ActionEnvelope) -> ExecutionResult:
    """Run the executor; a DispatchError is permanent, any other exception is retried."""
    try:
        return executor.execute(envelope)
    except DispatchError as exc:
        return ExecutionResult(Outcome.PERMANENT, exc.message)
    except Exception as exc:
        return ExecutionResult(Outcome.RETRYABLE, f"{type(exc).__name__}: {exc}")


def _normalised(env: ActionEnvelope) -> ActionEnvelope:
    return env.model_copy(update={"after": tuple(sorted(env.after))})
