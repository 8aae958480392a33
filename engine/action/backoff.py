"""Time for the action plane: an injected clock and the retry policy with full-jitter backoff.

The clock is injected everywhere (outbox, breaker, audit timestamps) so that tests drive time
by hand instead of sleeping, and a dispatch run can be replayed. Backoff follows the
"full jitter" scheme: attempt *n* waits a uniformly random time in
``[0, min(max_delay, base * 2**(n-1))]`` drawn from a seeded :class:`random.Random`, which
spreads retries from many workers and keeps a run repeatable under a fixed seed.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time (timezone-aware, UTC) and waits; the one source of time in dispatch."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a manual clock just moves forward)."""
        ...


class SystemClock:
    """The wall clock: ``datetime.now(UTC)`` and ``time.sleep``."""

    def now(self) -> datetime:
        """The current UTC instant."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block the thread for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """A clock that moves only when told to: ``advance`` or ``sleep`` (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a manual clock needs a timezone-aware start instant")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The clock's current instant."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` and return the new instant."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance instead of waiting."""
        self.advance(max(0.0, seconds))


def to_micros(at: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware instant (exact, no float)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware instant")
    delta = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(us: int) -> datetime:
    """The UTC instant ``us`` microseconds after the Unix epoch."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how far apart an action is tried before it goes to the dead-letter list.

    ``lease_s`` is how long a claimed action may stay in flight before another worker takes it
    over as crashed; it must exceed the slowest executor's timeout.
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 60.0
    lease_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")
        if self.lease_s <= 0:
            raise ValueError("lease_s must be positive")

    def ceiling(self, attempt: int) -> float:
        """The largest delay after failed attempt number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        exponent = min(attempt - 1, 62)  # 2**62 already exceeds any sane cap
        return float(min(self.max_delay_s, self.base_delay_s * (2**exponent)))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: a uniform delay in ``[0, ceiling(attempt)]`` drawn from ``rng``."""
        return rng.uniform(0.0, self.ceiling(attempt))
