"""Scenario 6, dispatch and audit: actions per second through the outbox to a local webhook.

Warrant enqueues actions in its transactional outbox (SQLite) and dispatches them to a real
webhook receiver on 127.0.0.1 (HMAC signed, idempotency key, the receiver's own dedupe table),
writing a hash-chained audit entry per outcome. The baseline POSTs the same signed bodies to
the same receiver with a bare httpx client: the transport's own cost.
"""

from __future__ import annotations

import random

import httpx

from bench.measure import Figure, time_each
from bench.prepare import ScenarioContext
from engine.action import AuditLog
from engine.action.backoff import SystemClock
from engine.action.db import open_database, sqlite_url
from engine.action.executors import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    ActionEnvelope,
    Executor,
    WebhookExecutor,
    sign,
)
from engine.action.outbox import Outbox
from tests.servers.webhook import WebhookReceiver

SECRET = "bench-webhook-secret"
ACTIONS = 300
SMOKE_ACTIONS = 20  # below 10k triples (the harness's own smoke test)


def run(ctx: ScenarioContext) -> list[Figure]:
    """Outbox dispatch rate vs bare signed POSTs, with audit entries counted."""
    root = ctx.scratch / "dispatch"
    root.mkdir(parents=True, exist_ok=True)
    rates: list[float] = []
    base_rates: list[float] = []
    audited = 0
    runs = 1 if ctx.quick else max(1, min(ctx.runs, 3))
    count = SMOKE_ACTIONS if ctx.size < 10_000 else ACTIONS // 3 if ctx.quick else ACTIONS
    with WebhookReceiver(root / "hook.sqlite", secret=SECRET) as hook:
        for r in range(runs):
            engine = open_database(sqlite_url(root / f"outbox-{r}.sqlite"))
            executors: dict[str, Executor] = {
                "notify": WebhookExecutor(name="hook", url=hook.url, secret=SECRET)}
            outbox = Outbox(engine, clock=SystemClock(), rng=random.Random(7),
                            executors=executors)
            envs = [ActionEnvelope.create(action_id=f"r{r}-a{i}", action_type="notify",
                                          payload={"vendor": f"acme:vendor/V{i:03d}"})
                    for i in range(count)]

            def dispatch(outbox: Outbox = outbox, envs: list[ActionEnvelope] = envs) -> None:
                outbox.enqueue_many(envs)
                outbox.run_until_idle(timeout_s=600)

            t = time_each([dispatch])
            rates.append(count / t.median)
            audited = len(AuditLog(engine).entries(limit=10 * count))
            outbox.close()
            engine.dispose()

            client = httpx.Client(timeout=30)
            bodies = [ActionEnvelope.create(action_id=f"b{r}-a{i}", action_type="notify",
                                            payload={"vendor": f"acme:vendor/V{i:03d}"})
                      for i in range(count)]

            def bare(client: httpx.Client = client, bodies: list[ActionEnvelope] = bodies) -> None:
                for env in bodies:
                    body = env.body()
                    client.post(hook.url, content=body, headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: sign(body, SECRET),
                        IDEMPOTENCY_HEADER: env.idempotency_key,
                    }).raise_for_status()

            b = time_each([bare])
            base_rates.append(count / b.median)
            client.close()
    rates.sort()
    base_rates.sort()
    return [Figure(
        name=f"actions dispatched through the outbox ({count} per run)", unit="actions/s",
        warrant=rates[len(rates) // 2], baseline=base_rates[len(base_rates) // 2],
        baseline_name="bare httpx POSTs of the same signed bodies, same receiver",
        better="higher", note=f"{audited} audit entries written in the last run "
        "(claim, outcome; hash chained, SQLite)",
    )]
