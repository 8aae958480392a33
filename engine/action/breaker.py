"""A circuit breaker per executor: stop hammering an executor that keeps failing.

::

    closed ──N consecutive failures──▶ open ──cool-down elapsed──▶ half-open
      ▲                                  ▲                            │ one probe
      └──────────── probe succeeds ──────┼──────── probe fails ───────┘

While a breaker is open the outbox does not send to that executor; it reschedules the
message for when the cool-down ends, without counting an attempt. In half-open exactly one
probe is let through; its outcome closes or re-opens the breaker. Time comes from the injected
clock, so tests move it by hand. State is kept in memory per worker: a restarted worker starts
closed and learns again from the first failures.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class BreakerState(StrEnum):
    """Where a breaker is in its cycle."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    """When a breaker opens (consecutive failures) and how long it stays open."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if self.cooldown_s < 0:
            raise ValueError("cooldown_s must not be negative")


@dataclass(frozen=True)
class Admission:
    """Whether a call may go out now; if not, when to try again."""

    allowed: bool
    state: BreakerState
    retry_at: datetime | None = None


class CircuitBreaker:
    """One executor's breaker (thread-safe)."""

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at: datetime | None = None
        self._probe_out = False
        self._lock = threading.Lock()

    def state(self, now: datetime) -> BreakerState:
        """The state at ``now`` (an open breaker whose cool-down ended reads as half-open)."""
        with self._lock:
            self._tick(now)
            return self._state

    def admit(self, now: datetime) -> Admission:
        """Ask to send one call; in half-open only the first asker gets through."""
        with self._lock:
            self._tick(now)
            if self._state is BreakerState.CLOSED:
                return Admission(True, self._state)
            if self._state is BreakerState.HALF_OPEN and not self._probe_out:
                self._probe_out = True
                return Admission(True, self._state)
            return Admission(False, self._state, retry_at=self._reopen_at(now))

    def record_success(self, now: datetime) -> BreakerState:
        """The executor answered: close the breaker."""
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._opened_at = None
            self._probe_out = False
            return self._state

    def record_failure(self, now: datetime) -> BreakerState:
        """The executor failed (unavailable, timed out, 5xx): count it, maybe open."""
        with self._lock:
            self._tick(now)
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or (
                self._failures >= self.policy.failure_threshold
            ):
                self._state = BreakerState.OPEN
                self._opened_at = now
                self._probe_out = False
            return self._state

    def _tick(self, now: datetime) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._opened_at is not None
            and now >= self._opened_at + timedelta(seconds=self.policy.cooldown_s)
        ):
            self._state = BreakerState.HALF_OPEN
            self._probe_out = False

    def _reopen_at(self, now: datetime) -> datetime:
        if self._state is BreakerState.OPEN and self._opened_at is not None:
            return self._opened_at + timedelta(seconds=self.policy.cooldown_s)
        # half-open with the probe out: look again shortly
        return now + timedelta(seconds=min(1.0, self.policy.cooldown_s))


class Breakers:
    """The breakers of all executors, created on first use, keyed by executor name."""

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self._by_name: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> CircuitBreaker:
        """The breaker of executor ``name``."""
        with self._lock:
            breaker = self._by_name.get(name)
            if breaker is None:
                breaker = self._by_name[name] = CircuitBreaker(self.policy)
            return breaker
