"""Kill a real dispatch worker process mid-dispatch: no action is lost or applied twice.

The worker (``tests/helpers/dispatch_worker.py``) runs as a child process against a real
webhook receiver on 127.0.0.1 that lives in this test process and records what it saw in
SQLite. The test SIGKILLs the worker after the receiver applied an action but before the
outbox recorded it, after the claim but before the send, and at random moments; a fresh worker
then finishes the job. Every action must reach the receiver, always under the one idempotency
key derived at enqueue, and be applied exactly once, in plan order.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from engine.action.audit import AuditLog
from engine.action.backoff import SystemClock
from engine.action.db import open_database, outbox, sqlite_url
from engine.action.executors import ActionEnvelope
from engine.action.outbox import Outbox
from tests.servers.postgres import PostgresServer
from tests.servers.webhook import WebhookBehaviour, WebhookReceiver

SECRET = "crash-secret"
REPO = Path(__file__).resolve().parent.parent
PLAN = [
    ActionEnvelope.create(action_id="a1", plan_id="p", action_type="notify", payload={"n": 1}),
    ActionEnvelope.create(
        action_id="a2", plan_id="p", action_type="notify", payload={"n": 2}, after=("a1",)
    ),
    ActionEnvelope.create(action_id="a3", plan_id="p", action_type="notify", payload={"n": 3}),
    ActionEnvelope.create(
        action_id="a4", plan_id="p", action_type="notify", payload={"n": 4}, after=("a2", "a3")
    ),
]


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "outbox.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"crash_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    Outbox(eng, clock=SystemClock(), rng=random.Random(1)).enqueue_many(PLAN)
    yield eng
    eng.dispose()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(tmp_path / "hook.db", secret=SECRET) as r:
        yield r


def start_worker(
    db_url: str, receiver: WebhookReceiver, *extra: str, lease_s: float = 1.0
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "tests.helpers.dispatch_worker",
            "--db", db_url, "--url", receiver.url, "--secret", SECRET,
            "--lease-s", str(lease_s), "--timeout-s", str(lease_s * 0.75), "--run-s", "45",
            *extra,
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(worker: subprocess.Popen[str]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=10)  # reap it and close its pipes


def finish(worker: subprocess.Popen[str]) -> None:
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert '"settled": true' in out


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def states(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.action_id, outbox.c.state)).all()
        return {str(r.action_id): str(r.state) for r in rows}


def assert_exactly_once(engine: Engine, receiver: WebhookReceiver) -> None:
    """Every action applied once, under its one key, in plan order; outbox and audit agree."""
    requests = receiver.requests()
    assert all(r.signature_ok for r in requests)
    for env in PLAN:
        keys = {r.idempotency_key for r in requests if r.action_id == env.action_id}
        assert keys == {env.idempotency_key}, env.action_id
    assert receiver.applied() == {env.idempotency_key: env.action_id for env in PLAN}
    applied_at = {
        r.action_id: i for i, r in enumerate(requests) if r.status == 200
    }
    first_seen: dict[str | None, int] = {}
    for i, r in enumerate(requests):
        first_seen.setdefault(r.action_id, i)
    for env in PLAN:
        for dep in env.after:
            assert first_seen[env.action_id] > applied_at[dep], f"{env.action_id} before {dep}"
    assert set(states(engine).values()) == {"succeeded"}
    assert AuditLog(engine).verify().ok


def test_killed_after_receiver_applied_before_outbox_recorded(
    db_url: str, engine: Engine, receiver: WebhookReceiver
) -> None:
    receiver.behaviour = WebhookBehaviour(delay_s=30.0, delay_first_only=True)
    worker = start_worker(db_url, receiver)
    wait_until(lambda: len(receiver.applied()) == 1)
    kill(worker)
    assert states(engine)["a1"] == "in_flight"  # sent and applied, but not recorded

    receiver.behaviour = WebhookBehaviour()
    finish(start_worker(db_url, receiver))
    assert_exactly_once(engine, receiver)
    a1 = [r.status for r in receiver.requests() if r.action_id == "a1"]
    assert a1 == [200, 409]  # resent with the same key, deduped by the receiver
    recovered = [e for e in AuditLog(engine).entries(limit=1000) if e.kind == "dispatch.recovered"]
    assert [e.subject for e in recovered] == ["a1"]


def test_killed_after_claim_before_send(
    db_url: str, engine: Engine, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    marker = tmp_path / "claimed"
    worker = start_worker(db_url, receiver, "--pause-before-send", str(marker))
    wait_until(marker.exists)
    kill(worker)
    assert receiver.requests() == []
    assert states(engine)[marker.read_text()] == "in_flight"

    finish(start_worker(db_url, receiver))
    assert_exactly_once(engine, receiver)
    assert len(receiver.requests()) == len(PLAN)  # nothing was sent twice


def test_killed_at_random_moments(
    db_url: str, engine: Engine, receiver: WebhookReceiver
) -> None:
    receiver.behaviour = WebhookBehaviour(delay_s=0.15)
    rng = random.Random(2025)
    for _ in range(4):
        worker = start_worker(db_url, receiver)
        time.sleep(rng.uniform(0.2, 1.4))
        kill(worker)
    finish(start_worker(db_url, receiver))
    assert_exactly_once(engine, receiver)
