"""What the outbox reports: message states, plan progress, dead letters, dispatch records.

These are plain frozen values, separate from the outbox that produces them, so the API and the
CLI can render them (JSON, tables) without touching the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from engine.action.executors import Outcome


class MessageState(StrEnum):
    """Where an action is in the outbox (see the state diagram in ``outbox``)."""

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the last attempt failed; a retry is scheduled
    DEAD = "dead"  # on the dead-letter list
    HELD = "held"  # a step it comes after is dead


@dataclass(frozen=True)
class DispatchRecord:
    """One attempt as the worker saw it; ``state`` is None when its lease had been taken over."""

    action_id: str
    attempt: int
    outcome: Outcome
    state: MessageState | None
    detail: str


@dataclass(frozen=True)
class DrainReport:
    """What a run loop did, and whether no more work can proceed (settled)."""

    records: tuple[DispatchRecord, ...]
    settled: bool
    next_due: datetime | None = None  # not settled: when the next retry or lease falls due


@dataclass(frozen=True)
class DeadLetter:
    """An action that ran out of attempts or failed permanently."""

    action_id: str
    plan_id: str | None
    action_type: str
    idempotency_key: str
    attempts: int
    last_error: str
    dead_at: datetime


@dataclass(frozen=True)
class StepStatus:
    """One step of a plan: its state, what it still waits on, and what holds it back."""

    action_id: str
    action_type: str
    state: MessageState
    attempts: int
    after: tuple[str, ...]
    waiting_on: tuple[str, ...]
    held_by: str | None
    last_error: str | None
    next_attempt_at: datetime | None

    @property
    def reason(self) -> str:
        """A one-line account of why the step is where it is."""
        if self.state is MessageState.HELD:
            return f"held back: step `{self.held_by}` is dead"
        if self.state is MessageState.DEAD:
            return f"dead after {self.attempts} attempt(s): {self.last_error}"
        if self.state is MessageState.FAILED:
            return f"attempt {self.attempts} failed ({self.last_error}); retry scheduled"
        if self.waiting_on:
            return "waiting on " + ", ".join(f"`{a}`" for a in self.waiting_on)
        return str(self.state)


@dataclass(frozen=True)
class PlanProgress:
    """A plan's checkpoint: every step in enqueue (dependency) order."""

    plan_id: str
    steps: tuple[StepStatus, ...]

    @property
    def complete(self) -> bool:
        """Every step succeeded."""
        return all(s.state is MessageState.SUCCEEDED for s in self.steps)

    @property
    def dead(self) -> tuple[str, ...]:
        """Steps on the dead-letter list."""
        return tuple(s.action_id for s in self.steps if s.state is MessageState.DEAD)

    @property
    def held(self) -> tuple[str, ...]:
        """Steps held back by a dead step."""
        return tuple(s.action_id for s in self.steps if s.state is MessageState.HELD)

    def step(self, action_id: str) -> StepStatus:
        """The status of one step (KeyError if the plan has no such step)."""
        for s in self.steps:
            if s.action_id == action_id:
                return s
        raise KeyError(action_id)
