"""The action plane: audit log, transactional outbox, circuit breakers and executors.

::

    Outbox.enqueue ──▶ outbox rows (checkpoint) ──claim──▶ Executor ──▶ outcome + audit entry
                              │                        (webhook │ log │ python)   (one transaction)
                              └── plan order, retries with jitter, breaker, dead letters

Example::

    engine = open_database("sqlite:///var/action.db")
    outbox = Outbox(engine, clock=SystemClock(), rng=random.Random(), executors=executors)
    outbox.enqueue(ActionEnvelope.create(action_id="a1", action_type="notify", payload={}))
    outbox.run_until_settled(timeout_s=30)
    assert AuditLog(engine).verify().ok
"""

from engine.action.audit import (
    AuditEntry,
    AuditEntryV1,
    AuditKind,
    AuditLog,
    VerifyReport,
    canonical_json,
)
from engine.action.backoff import Clock, ManualClock, RetryPolicy, SystemClock
from engine.action.breaker import BreakerPolicy, BreakerState, CircuitBreaker
from engine.action.db import create_schema, open_database, open_engine, sqlite_url
from engine.action.executors import (
    ActionEnvelope,
    EntryPointExecutor,
    ExecutionResult,
    Executor,
    LogExecutor,
    Outcome,
    WebhookExecutor,
    build_executor,
    build_executors,
    derive_idempotency_key,
)
from engine.action.outbox import Outbox
from engine.action.status import (
    DeadLetter,
    DispatchRecord,
    DrainReport,
    MessageState,
    PlanProgress,
    StepStatus,
)

__all__ = [
    "ActionEnvelope",
    "AuditEntry",
    "AuditEntryV1",
    "AuditKind",
    "AuditLog",
    "BreakerPolicy",
    "BreakerState",
    "CircuitBreaker",
    "Clock",
    "DeadLetter",
    "DispatchRecord",
    "DrainReport",
    "EntryPointExecutor",
    "ExecutionResult",
    "Executor",
    "LogExecutor",
    "ManualClock",
    "MessageState",
    "Outbox",
    "Outcome",
    "PlanProgress",
    "RetryPolicy",
    "StepStatus",
    "SystemClock",
    "VerifyReport",
    "WebhookExecutor",
    "build_executor",
    "build_executors",
    "canonical_json",
    "create_schema",
    "derive_idempotency_key",
    "open_database",
    "open_engine",
    "sqlite_url",
]
