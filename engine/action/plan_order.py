"""Plan order in the outbox: which steps may start, which are held back, and the checkpoint view.

A step may start only when every step it comes ``after`` has succeeded. When a step goes dead
its open dependants (transitively) are marked ``held`` by it, and released when it is retried.
The outbox rows themselves are the plan's checkpoint: :func:`read_plan_status` rebuilds a
plan's progress from them after any restart. All functions work inside the caller's
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from engine.action.backoff import from_micros
from engine.action.db import outbox, outbox_after
from engine.action.executors import ActionEnvelope
from engine.action.status import DeadLetter, MessageState, PlanProgress, StepStatus
from engine.errors import Location, NotFoundError, ParameterError

OPEN_STATES = (MessageState.PENDING, MessageState.FAILED)
"""States from which a step can be claimed (when due and its ``after`` steps succeeded)."""


def eligible(action_types: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL condition: an open step of a handled type whose ``after`` steps all succeeded."""
    dep = outbox_after.alias("dep")
    done = outbox.alias("done")
    unmet = sa.exists().where(
        dep.c.action_id == outbox.c.action_id,
        ~sa.exists().where(
            done.c.action_id == dep.c.after_id, done.c.state == MessageState.SUCCEEDED
        ),
    )
    return sa.and_(
        outbox.c.state.in_(OPEN_STATES),
        outbox.c.action_type.in_(sorted(action_types)),
        ~unmet,
    )


def after_of(conn: Connection, action_id: str) -> tuple[str, ...]:
    """The steps ``action_id`` comes after, sorted."""
    return tuple(
        conn.execute(
            sa.select(outbox_after.c.after_id)
            .where(outbox_after.c.action_id == action_id)
            .order_by(outbox_after.c.after_id)
        ).scalars()
    )


def states_of(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """The state of each known action among ``ids``."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(outbox.c.action_id, outbox.c.state).where(outbox.c.action_id.in_(wanted))
    ).all()
    return {str(r.action_id): str(r.state) for r in rows}


def blocking_root(conn: Connection, after: Iterable[str]) -> str | None:
    """The dead step that holds back an action coming after ``after``, if any."""
    for dep in sorted(after):
        row = conn.execute(
            sa.select(outbox.c.state, outbox.c.held_by).where(outbox.c.action_id == dep)
        ).first()
        if row is None:
            continue
        if row.state == MessageState.DEAD:
            return dep
        if row.state == MessageState.HELD:
            return str(row.held_by)
    return None


def hold_dependants(conn: Connection, root: str, now_us: int) -> list[str]:
    """Mark every open step that (transitively) comes after ``root`` as held by it."""
    held: list[str] = []
    frontier = [root]
    while frontier:
        deps = conn.execute(
            sa.select(outbox_after.c.action_id).where(outbox_after.c.after_id.in_(frontier))
        ).scalars()
        frontier = []
        for action_id in sorted(set(deps)):
            changed = conn.execute(
                sa.update(outbox)
                .where(outbox.c.action_id == action_id, outbox.c.state.in_(OPEN_STATES))
                .values(state=MessageState.HELD, held_by=root, updated_us=now_us)
            ).rowcount
            if changed:
                held.append(action_id)
                frontier.append(action_id)
    return held


def release(conn: Connection, root: str, now_us: int) -> list[str]:
    """Steps held by ``root`` become pending again unless another dead step holds them."""
    rows = conn.execute(
        sa.select(outbox.c.action_id)
        .where(outbox.c.state == MessageState.HELD, outbox.c.held_by == root)
        .order_by(outbox.c.seq)
    ).scalars()
    released: list[str] = []
    for action_id in list(rows):  # seq order is dependency order
        other = blocking_root(conn, after_of(conn, action_id))
        conn.execute(
            sa.update(outbox)
            .where(outbox.c.action_id == action_id)
            .values(
                state=MessageState.HELD if other else MessageState.PENDING,
                held_by=other,
                next_attempt_us=now_us,
                updated_us=now_us,
            )
        )
        if other is None:
            released.append(action_id)
    return released


def read_plan_status(conn: Connection, plan_id: str) -> PlanProgress:
    """Each step of a plan: its state, what it waits on, and which dead step holds it back."""
    rows = conn.execute(
        sa.select(outbox).where(outbox.c.plan_id == plan_id).order_by(outbox.c.seq)
    ).all()
    if not rows:
        raise NotFoundError(f"plan `{plan_id}` has no actions in the outbox")
    steps = []
    for r in rows:
        after = after_of(conn, r.action_id)
        states = states_of(conn, after)
        steps.append(
            StepStatus(
                action_id=r.action_id,
                action_type=r.action_type,
                state=MessageState(r.state),
                attempts=int(r.attempts),
                after=after,
                waiting_on=tuple(a for a in after if states.get(a) != MessageState.SUCCEEDED),
                held_by=r.held_by,
                last_error=r.last_error,
                next_attempt_at=(
                    from_micros(int(r.next_attempt_us)) if r.state in OPEN_STATES else None
                ),
            )
        )
    return PlanProgress(plan_id=plan_id, steps=tuple(steps))


def read_dead_letters(conn: Connection) -> list[DeadLetter]:
    """Every dead action, oldest enqueued first."""
    rows = conn.execute(
        sa.select(outbox).where(outbox.c.state == MessageState.DEAD).order_by(outbox.c.seq)
    ).all()
    return [
        DeadLetter(
            action_id=r.action_id,
            plan_id=r.plan_id,
            action_type=r.action_type,
            idempotency_key=r.idempotency_key,
            attempts=int(r.attempts),
            last_error=r.last_error or "",
            dead_at=from_micros(int(r.updated_us)),
        )
        for r in rows
    ]


def envelope_of(row: Row[object], after: tuple[str, ...]) -> ActionEnvelope:
    """Rebuild the envelope stored in an outbox row."""
    m = row._mapping
    return ActionEnvelope(
        action_id=str(m["action_id"]),
        plan_id=None if m["plan_id"] is None else str(m["plan_id"]),
        action_type=str(m["action_type"]),
        payload=json.loads(str(m["payload"])),
        idempotency_key=str(m["idempotency_key"]),
        after=after,
    )


def topological(envelopes: Sequence[ActionEnvelope]) -> list[ActionEnvelope]:
    """The envelopes with every step after the steps it comes after; a cycle is an error."""
    by_id: dict[str, ActionEnvelope] = {}
    for env in envelopes:
        if env.action_id in by_id:
            raise ParameterError(
                f"action `{env.action_id}` appears twice in one enqueue",
                location=Location(record=env.action_id),
            )
        by_id[env.action_id] = env
    done: set[str] = set()
    visiting: set[str] = set()
    ordered: list[ActionEnvelope] = []

    def visit(action_id: str) -> None:
        if action_id in done or action_id not in by_id:
            return
        if action_id in visiting:
            raise ParameterError(
                f"plan order has a cycle through `{action_id}`",
                location=Location(record=action_id, field="after"),
            )
        visiting.add(action_id)
        for dep in by_id[action_id].after:
            visit(dep)
        visiting.discard(action_id)
        done.add(action_id)
        ordered.append(by_id[action_id])

    for env in envelopes:
        visit(env.action_id)
    return ordered
