"""The dispatch worker: a background thread that runs the outbox while the API serves.

Each round runs due outbox work until idle (:meth:`WarrantService.drain`, which also writes
the outcomes to the decisions graph), then sleeps a little; ``stop`` wakes it and waits for
the round in progress. A crash of the process mid-dispatch loses nothing: the outbox row is
in flight with a lease, and the next worker sends it again with the same idempotency key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from engine.action.status import DispatchRecord
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
        round_s: float = 5.0,
        on_record: Callable[[DispatchRecord], None] | None = None,
    ) -> None:
        self.service = service
        self.interval_s = interval_s
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
        if self._thread is not None:
            self._thread.join(timeout=self.round_s + 30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for record in self.service.drain(timeout_s=self.round_s):
                    if self.on_record is not None:
                        self.on_record(record)
            except (WarrantError, OSError) as exc:
                log.warning("dispatch round failed: %s", exc)
            except Exception:  # keep the worker alive; the outbox rows keep the state
                log.exception("dispatch round crashed")
            self._stop.wait(self.interval_s)
