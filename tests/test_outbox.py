"""The outbox on SQLite and on a real PostgreSQL, dispatching to real webhook receivers.

Time is a manual clock and jitter a seeded RNG, so every schedule here is exact and repeatable.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from engine.action.backoff import ManualClock, RetryPolicy
from engine.action.breaker import BreakerPolicy
from engine.action.db import open_database, sqlite_url, write
from engine.action.executors import ActionEnvelope, Executor, Outcome, WebhookExecutor
from engine.action.outbox import Outbox
from engine.action.status import MessageState
from engine.errors import ConfigError, ConflictError, NotFoundError, ParameterError
from tests.servers.postgres import PostgresServer
from tests.servers.webhook import WebhookBehaviour, WebhookReceiver

SECRET = "outbox-secret"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SEED = 7


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "outbox.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"outbox_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[Callable[..., WebhookReceiver]]:
    """Start receivers on demand; all are stopped at the end."""
    started: list[WebhookReceiver] = []

    def start(name: str = "hook", behaviour: WebhookBehaviour | None = None) -> WebhookReceiver:
        r = WebhookReceiver(tmp_path / f"{name}.db", secret=SECRET, behaviour=behaviour)
        started.append(r.__enter__())
        return r

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


_CREATED: list[Outbox] = []


@pytest.fixture(autouse=True)
def close_outboxes() -> Iterator[None]:
    """Close the HTTP pools of every outbox a test made."""
    yield
    while _CREATED:
        _CREATED.pop().close()


def make_outbox(
    engine: Engine,
    clock: ManualClock,
    routes: Mapping[str, WebhookReceiver],
    *,
    policy: RetryPolicy | None = None,
    breaker: BreakerPolicy | None = None,
    timeout_s: float = 5.0,
) -> Outbox:
    executors: dict[str, Executor] = {
        action_type: WebhookExecutor(
            name=f"hook-{action_type}", url=r.url, secret=SECRET, timeout_s=timeout_s
        )
        for action_type, r in routes.items()
    }
    outbox = Outbox(
        engine,
        clock=clock,
        rng=random.Random(SEED),
        policy=policy or RetryPolicy(max_attempts=4, base_delay_s=1.0, max_delay_s=8.0,
                                     lease_s=30.0),
        executors=executors,
        breaker_policy=breaker or BreakerPolicy(failure_threshold=100, cooldown_s=10.0),
    )
    _CREATED.append(outbox)
    return outbox


def step(action_id: str, *after: str, action_type: str = "notify", plan: str = "p1"
         ) -> ActionEnvelope:
    return ActionEnvelope.create(
        action_id=action_id, plan_id=plan, action_type=action_type,
        payload={"step": action_id}, after=after,
    )


def sent(receiver: WebhookReceiver) -> list[str]:
    return [r.action_id or "" for r in receiver.requests()]


def kinds(outbox: Outbox) -> list[str]:
    return [e.kind for e in outbox.audit.entries(limit=1000)]


def test_dispatch_sends_once_with_the_stored_key_and_audits(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers()
    outbox = make_outbox(engine, clock, {"notify": hook})
    env = step("a1")
    assert outbox.enqueue(env) is True
    report = outbox.run_until_idle(timeout_s=10)
    assert report.settled and [r.outcome for r in report.records] == [Outcome.SUCCEEDED]
    assert hook.applied() == {env.idempotency_key: "a1"}
    assert outbox.plan_status("p1").complete
    assert kinds(outbox) == ["dispatch.enqueue", "dispatch.attempt"]
    attempt = outbox.audit.entries(limit=10)[1]
    assert attempt.payload["idempotency_key"] == env.idempotency_key
    assert attempt.payload["state"] == "succeeded"
    assert outbox.audit.verify().ok


def test_enqueue_is_idempotent_and_conflicts_on_different_content(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    outbox = make_outbox(engine, clock, {"notify": receivers()})
    assert outbox.enqueue_many([step("a"), step("b", "a")]) == 2
    assert outbox.enqueue_many([step("b", "a"), step("a")]) == 0
    changed = ActionEnvelope.create(
        action_id="a", plan_id="p1", action_type="notify", payload={"step": "other"}
    )
    with pytest.raises(ConflictError):
        outbox.enqueue(changed)


@pytest.mark.parametrize(
    ("batch", "error", "text"),
    [
        ([step("a"), step("b", "ghost")], NotFoundError, "unknown action `ghost`"),
        ([step("a", "b"), step("b", "a")], ParameterError, "cycle"),
        ([step("a"), step("a")], ParameterError, "twice"),
        ([step("a"), step("b", action_type="fax")], ParameterError, "action type `fax`"),
    ],
)
def test_bad_enqueue_stores_nothing(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver],
    batch: list[ActionEnvelope], error: type[Exception], text: str,
) -> None:
    outbox = make_outbox(engine, clock, {"notify": receivers()})
    with pytest.raises(error) as info:
        outbox.enqueue_many(batch)
    assert text in str(info.value)
    with pytest.raises(NotFoundError):
        outbox.plan_status("p1")
    assert outbox.audit.entries() == []


def test_enqueue_joins_the_callers_transaction(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    outbox = make_outbox(engine, clock, {"notify": receivers()})
    with pytest.raises(RuntimeError), engine.begin() as conn:
        outbox.enqueue(step("a"), conn=conn)
        raise RuntimeError("the caller's state change failed")
    with pytest.raises(NotFoundError):
        outbox.plan_status("p1")
    with engine.begin() as conn:
        outbox.enqueue(step("a"), conn=conn)
    assert outbox.plan_status("p1").step("a").state is MessageState.PENDING


def test_arrived_is_set_once_new_work_commits(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    """What wakes the dispatch worker: set after the commit, never for a rollback or for an
    action that was already there."""
    outbox = make_outbox(engine, clock, {"notify": receivers()})
    with pytest.raises(RuntimeError, match="abort"), write(engine) as conn:
        assert outbox.enqueue(step("a1"), conn=conn)
        assert not outbox.arrived.is_set()  # not before the commit: a reader sees nothing yet
        raise RuntimeError("abort")
    assert not outbox.arrived.is_set()
    with write(engine) as conn:
        assert outbox.enqueue(step("a1"), conn=conn)
        assert not outbox.arrived.is_set()
    assert outbox.arrived.is_set()
    outbox.arrived.clear()
    assert outbox.enqueue(step("a1")) is False
    assert not outbox.arrived.is_set()


def test_a_round_that_leaves_a_retry_reports_when_it_falls_due(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers(behaviour=WebhookBehaviour(fail_first=1))
    outbox = make_outbox(engine, clock, {"notify": hook})
    outbox.enqueue(step("a"))
    report = outbox.run_until_idle(timeout_s=10)
    status = outbox.plan_status("p1").step("a")
    assert not report.settled and report.next_due == status.next_attempt_at is not None
    assert report.next_due > clock.now()
    clock.advance((report.next_due - clock.now()).total_seconds())
    done = outbox.run_until_idle(timeout_s=10)
    assert done.settled and done.next_due is None


def test_retries_500s_with_seeded_full_jitter_backoff(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers(behaviour=WebhookBehaviour(fail_first=2))
    policy = RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=8.0, lease_s=30.0)
    outbox = make_outbox(engine, clock, {"notify": hook}, policy=policy)
    outbox.enqueue(step("a"))
    replay = random.Random(SEED)
    for attempt in (1, 2):
        record = outbox.run_once()
        assert record is not None and record.state is MessageState.FAILED
        assert record.attempt == attempt and record.detail == "http 500"
        status = outbox.plan_status("p1").step("a")
        expected = clock.now() + timedelta(seconds=policy.delay(attempt, replay))
        assert status.next_attempt_at is not None
        assert abs((status.next_attempt_at - expected).total_seconds()) < 1e-5
        assert outbox.run_once() is None  # not due yet
        clock.advance((status.next_attempt_at - clock.now()).total_seconds())
    record = outbox.run_once()
    assert record is not None and record.state is MessageState.SUCCEEDED and record.attempt == 3
    seen = hook.requests()
    assert [r.status for r in seen] == [500, 500, 200]
    assert len({r.idempotency_key for r in seen}) == 1
    assert len(hook.applied()) == 1


def test_hanging_webhook_times_out_then_is_deduped(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers(behaviour=WebhookBehaviour(delay_s=5.0, delay_first_only=True))
    outbox = make_outbox(engine, clock, {"notify": hook}, timeout_s=0.3)
    outbox.enqueue(step("a"))
    first = outbox.run_once()
    assert first is not None and first.state is MessageState.FAILED
    assert "timed out" in first.detail
    report = outbox.run_until_settled(timeout_s=10)
    assert report.settled and report.records[-1].detail == "http 409 (already processed)"
    assert [r.status for r in hook.requests()] == [200, 409]
    assert len(hook.applied()) == 1


def test_breaker_opens_defers_without_counting_and_half_opens(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers(behaviour=WebhookBehaviour(status=503))
    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=1.0, lease_s=30.0)
    breaker = BreakerPolicy(failure_threshold=2, cooldown_s=30.0)
    outbox = make_outbox(engine, clock, {"notify": hook}, policy=policy, breaker=breaker)
    outbox.enqueue_many([step("a"), step("b"), step("c")])
    assert outbox.run_once() is not None and outbox.run_once() is not None  # a, b fail: open
    assert outbox.breakers["hook-notify"].state(clock.now()) == "open"
    assert outbox.run_once() is None  # c is deferred, not sent
    clock.advance(5)
    assert outbox.run_once() is None  # a and b are due, but the breaker is open
    assert len(hook.requests()) == 2
    status = outbox.plan_status("p1")
    assert status.step("c").attempts == 0 and status.step("a").attempts == 1
    assert status.step("c").next_attempt_at == T0 + timedelta(seconds=30)

    clock.advance(25)  # cool-down over: half-open lets one probe through, which fails
    probe = outbox.run_once()
    assert probe is not None and probe.state is MessageState.FAILED
    assert outbox.breakers["hook-notify"].state(clock.now()) == "open"
    assert outbox.run_once() is None

    hook.behaviour = WebhookBehaviour()
    clock.advance(30)
    probe = outbox.run_once()
    assert probe is not None and probe.state is MessageState.SUCCEEDED
    assert outbox.breakers["hook-notify"].state(clock.now()) == "closed"
    assert outbox.run_until_settled(timeout_s=10).settled
    final = outbox.plan_status("p1")
    assert final.complete
    assert sum(s.attempts for s in final.steps) == len(hook.requests()) == 6


def test_dead_letter_after_max_attempts_then_retry(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers(behaviour=WebhookBehaviour(status=500))
    policy = RetryPolicy(max_attempts=3, base_delay_s=1.0, max_delay_s=2.0, lease_s=30.0)
    outbox = make_outbox(engine, clock, {"notify": hook}, policy=policy)
    env = step("a")
    outbox.enqueue(env)
    report = outbox.run_until_settled(timeout_s=10)
    assert report.settled and [r.attempt for r in report.records] == [1, 2, 3]
    [dead] = outbox.dead_letters()
    assert (dead.action_id, dead.attempts, dead.last_error) == ("a", 3, "http 500")
    assert dead.idempotency_key == env.idempotency_key
    assert outbox.audit.entries(limit=100)[-1].payload["state"] == "dead"

    with pytest.raises(NotFoundError):
        outbox.retry_dead("nope", actor="ops")
    hook.behaviour = WebhookBehaviour()
    outbox.retry_dead("a", actor="ops")
    with pytest.raises(ConflictError):
        outbox.retry_dead("a", actor="ops")
    assert outbox.run_until_settled(timeout_s=10).settled
    assert outbox.dead_letters() == []
    assert {r.idempotency_key for r in hook.requests()} == {env.idempotency_key}
    assert "dispatch.retry" in kinds(outbox) and outbox.audit.verify().ok


def test_permanent_failure_goes_straight_to_dead_letters(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers(behaviour=WebhookBehaviour(status=422))
    outbox = make_outbox(engine, clock, {"notify": hook})
    outbox.enqueue(step("a"))
    record = outbox.run_once()
    assert record is not None and record.state is MessageState.DEAD and record.attempt == 1
    assert [d.action_id for d in outbox.dead_letters()] == ["a"]


def test_plan_order_waits_for_success(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    flaky = receivers("flaky", WebhookBehaviour(fail_first=1))
    hook = receivers()
    outbox = make_outbox(engine, clock, {"first": flaky, "notify": hook})
    outbox.enqueue_many([step("c", "b"), step("b", "a"), step("a", action_type="first")])
    record = outbox.run_once()
    assert record is not None and (record.action_id, record.state) == ("a", MessageState.FAILED)
    assert outbox.run_once() is None  # b may not start: a has not succeeded
    status = outbox.plan_status("p1")
    assert [s.action_id for s in status.steps] == ["a", "b", "c"]
    assert status.step("b").waiting_on == ("a",) and "waiting on `a`" in status.step("b").reason
    assert "retry scheduled" in status.step("a").reason
    assert sent(hook) == []
    assert outbox.run_until_settled(timeout_s=10).settled
    assert sent(flaky) == ["a", "a"] and sent(hook) == ["b", "c"]
    assert outbox.plan_status("p1").complete


def test_dead_step_holds_dependants_until_retried(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    broken = receivers("broken", WebhookBehaviour(status=400))
    hook = receivers()
    outbox = make_outbox(engine, clock, {"first": broken, "notify": hook})
    outbox.enqueue_many(
        [step("a", action_type="first"), step("b", "a"), step("c", "b"), step("d")]
    )
    assert outbox.run_until_settled(timeout_s=10).settled
    status = outbox.plan_status("p1")
    assert status.dead == ("a",) and status.held == ("b", "c")
    assert status.step("c").held_by == "a"
    assert status.step("b").reason == "held back: step `a` is dead"
    assert sent(hook) == ["d"]
    outbox.enqueue(step("e", "c"))  # enqueued behind a held step: held at once
    assert outbox.plan_status("p1").step("e").state is MessageState.HELD

    broken.behaviour = WebhookBehaviour()
    outbox.retry_dead("a", actor="ops")
    assert outbox.run_until_settled(timeout_s=10).settled
    assert outbox.plan_status("p1").complete
    assert sent(hook) == ["d", "b", "c", "e"]


def test_progress_survives_a_restart(
    db_url: str, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    hook = receivers()
    first_engine = open_database(db_url)
    first = make_outbox(first_engine, clock, {"notify": hook})
    first.enqueue_many([step("a"), step("b", "a"), step("c", "b")])
    assert first.run_once() is not None
    first_engine.dispose()

    second_engine = open_database(db_url)
    second = make_outbox(second_engine, clock, {"notify": hook})
    assert second.plan_status("p1").step("a").state is MessageState.SUCCEEDED
    assert second.run_until_settled(timeout_s=10).settled
    assert sent(hook) == ["a", "b", "c"]
    assert second.audit.verify().ok
    second_engine.dispose()


def test_unknown_plan_is_not_found(
    engine: Engine, clock: ManualClock, receivers: Callable[..., WebhookReceiver]
) -> None:
    outbox = make_outbox(engine, clock, {"notify": receivers()})
    with pytest.raises(NotFoundError):
        outbox.plan_status("missing")


# -- the parts on their own: breaker, backoff, database URLs ---------------------------------


def test_breaker_cycle_is_driven_by_the_clock(clock: ManualClock) -> None:
    from engine.action.breaker import BreakerState, CircuitBreaker

    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=2, cooldown_s=10))
    assert breaker.admit(clock.now()).allowed
    assert breaker.record_failure(clock.now()) is BreakerState.CLOSED
    breaker.record_success(clock.now())  # success resets the count
    breaker.record_failure(clock.now())
    assert breaker.record_failure(clock.now()) is BreakerState.OPEN
    refused = breaker.admit(clock.now())
    assert not refused.allowed and refused.retry_at == clock.now() + timedelta(seconds=10)
    clock.advance(10)
    assert breaker.state(clock.now()) is BreakerState.HALF_OPEN
    assert breaker.admit(clock.now()).allowed  # the one probe
    assert not breaker.admit(clock.now()).allowed  # nobody else while it is out
    assert breaker.record_failure(clock.now()) is BreakerState.OPEN
    clock.advance(10)
    assert breaker.admit(clock.now()).allowed
    assert breaker.record_success(clock.now()) is BreakerState.CLOSED


@given(attempt=st.integers(min_value=1, max_value=500), seed=st.integers(0, 2**32))
def test_full_jitter_stays_under_the_capped_exponential_ceiling(attempt: int, seed: int) -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.5, max_delay_s=60.0)
    delay = policy.delay(attempt, random.Random(seed))
    assert 0.0 <= delay <= policy.ceiling(attempt) == min(60.0, 0.5 * 2 ** min(attempt - 1, 62))
    assert delay == policy.delay(attempt, random.Random(seed))  # seeded: repeatable


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay_s": -1.0}, {"base_delay_s": 5.0, "max_delay_s": 1.0},
     {"lease_s": 0.0}],
)
def test_bad_retry_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["mysql://h/db", "not a url", "oracle+cx://x"])
def test_unsupported_database_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_database(url)
