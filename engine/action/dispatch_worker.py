"""The dispatch worker: a background thread that runs the outbox while the API serves.

Each round runs due outbox work until idle (:meth:`WarrantService.drain`, which also writes
the outcomes to the decisions graph), then sleeps until work arrives in this process (the
outbox's ``arrived`` event, set when an enqueue commits), the next retry falls due, or
``idle_s`` passes (work another process enqueued); ``stop`` wakes it and waits for the round
in progress. Polling the table every 0.2 s instead cost about 7% of a served decision's
CPU under load (three queries a round, through SQLAlchemy).

A crash of the process mid-dispatch loses nothing: the outbox row is in flight with a lease,
and the next worker sends it again with the same idempotency key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from engine.action.status import DispatchRecord, DrainReport
from engine.errors import WarrantError
from engine.service import WarrantService

log = logging.getLogger("warrant.dispatch.worker")


class DispatchWorker:
    """Runs ``service.drain`` in a loop on its own thread until stopped."""

    def __init__(
        self,
        service: WarrantService,
        *,
        interval_s: float = 0.2,
        idle_s: float = 2.0,
        round_s: float = 5.0,
        on_record: Callable[[DispatchRecord], None] | None = None,
    ) -> None:
        """``interval_s``: the shortest pause between rounds (after a failed or unfinished
        round, or before a retry that is due sooner); ``idle_s``: the longest, with nothing
        due."""
        self.service = service
        self.interval_s = interval_s
        self.idle_s = max(idle_s, interval_s)
        self.round_s = round_s
        self.on_record = on_record
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="warrant-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for the current round."""
        self._stop.set()
        self.service.outbox.arrived.set()  # wake it from its pause
        if self._thread is not None:
            self._thread.join(timeout=self.round_s + 30)
            self._thread = None

    def _run(self) -> None:
        arrived = self.service.outbox.arrived
        while not self._stop.is_set():
            arrived.clear()  # before the round: work that arrives during it wakes the next
            pause = self.interval_s
            try:
                report = self.service.drain(timeout_s=self.round_s)
                for record in report.records:
                    if self.on_record is not None:
                        self.on_record(record)
                pause = self._pause(report)
            except (WarrantError, OSError) as exc:
                log.warning("dispatch round failed: %s", exc)
            except Exception:  # keep the worker alive; the outbox rows keep the state
                log.exception("dispatch round crashed")
            arrived.wait(pause)

    def _pause(self, report: DrainReport) -> float:
        """How long to wait for new work after a round, at most: ``idle_s`` when nothing is
        due, else until the next retry or lease falls due (within the two bounds)."""
        if report.settled:
            return self.idle_s
        if report.next_due is None:  # the round ran out of time with work left
            return self.interval_s
        wait = (report.next_due - self.service.clock.now()).total_seconds()
        return min(max(wait, self.interval_s), self.idle_s)
