"""A dispatch worker the crash tests run as a child process, plus entry points for tests.

The worker opens the outbox database, dispatches through a webhook executor with the wall
clock until nothing more can proceed, and prints a one-line JSON summary. With
``--pause-before-send MARKER`` it claims an action (committing ``in_flight``), writes MARKER and
then stops before sending, so a test can kill it between claim and send.

    python -m tests.helpers.dispatch_worker --db sqlite:///x.db --url http://127.0.0.1:1/hook \\
        --secret s --lease-s 2
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from engine.action.backoff import RetryPolicy, SystemClock
from engine.action.breaker import BreakerPolicy
from engine.action.db import open_database
from engine.action.executors import (
    ActionEnvelope,
    ExecutionResult,
    Executor,
    Outcome,
    WebhookExecutor,
)
from engine.action.outbox import Outbox
from engine.errors import DispatchError


class PauseBeforeSend:
    """Wraps an executor: the first call marks a file and then never sends (waits to be killed)."""

    def __init__(self, inner: Executor, marker: Path) -> None:
        self.inner = inner
        self.marker = marker

    @property
    def name(self) -> str:
        """The wrapped executor's name."""
        return self.inner.name

    def execute(self, envelope: ActionEnvelope) -> ExecutionResult:
        """Mark, then hang instead of sending."""
        self.marker.write_text(envelope.action_id)
        time.sleep(3600)
        return self.inner.execute(envelope)

    def close(self) -> None:
        """Close the wrapped executor."""
        self.inner.close()


def main(argv: list[str] | None = None) -> int:
    """Run one worker until the outbox settles; exit 0 if it settled."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--action-type", default="notify")
    parser.add_argument("--lease-s", type=float, default=2.0)
    parser.add_argument("--timeout-s", type=float, default=10.0)
    parser.add_argument("--run-s", type=float, default=60.0)
    parser.add_argument("--pause-before-send", type=Path, default=None)
    args = parser.parse_args(argv)
    engine = open_database(args.db)
    executor: Executor = WebhookExecutor(
        name="hook", url=args.url, secret=args.secret, timeout_s=args.timeout_s
    )
    if args.pause_before_send is not None:
        executor = PauseBeforeSend(executor, args.pause_before_send)
    outbox = Outbox(
        engine,
        clock=SystemClock(),
        rng=random.Random(),
        policy=RetryPolicy(max_attempts=10, base_delay_s=0.05, max_delay_s=0.5,
                           lease_s=args.lease_s),
        executors={args.action_type: executor},
        breaker_policy=BreakerPolicy(failure_threshold=50, cooldown_s=0.5),
        actor="worker",
    )
    report = outbox.run_until_settled(timeout_s=args.run_s, poll_s=0.1)
    print(json.dumps({"settled": report.settled, "dispatched": len(report.records)}), flush=True)
    outbox.close()
    engine.dispose()
    return 0 if report.settled else 1


# -- entry points for EntryPointExecutor tests ----------------------------------------------


def append_to_file(envelope: ActionEnvelope) -> None:
    """Append the action's idempotency key to the file named in ``payload["path"]``."""
    with Path(str(envelope.payload["path"])).open("a", encoding="utf-8") as out:
        out.write(envelope.idempotency_key + "\n")


def raise_value_error(envelope: ActionEnvelope) -> None:
    """Fail like a bug would."""
    raise ValueError(f"cannot handle {envelope.action_id}")


def refuse(envelope: ActionEnvelope) -> None:
    """Fail permanently."""
    raise DispatchError(f"action `{envelope.action_id}` is refused")


def busy(envelope: ActionEnvelope) -> ExecutionResult:
    """Ask to be retried."""
    return ExecutionResult(Outcome.RETRYABLE, "busy")


def wrong_return(envelope: ActionEnvelope) -> object:
    """Return something that is not a result."""
    return 42


NOT_A_FUNCTION = 3


if __name__ == "__main__":
    sys.exit(main())
