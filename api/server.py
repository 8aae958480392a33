"""The served app: the service, its routes and the dispatch worker, composed for ``warrant serve``.

Example::

    settings = Settings(workspace=Path("."), bootstrap_admin_key=SecretStr("dev-key"))
    with OxigraphStore(settings.store_path) as store:
        app = build_app(settings, store=store, clock=SystemClock())
        uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI

from api.app import create_app
from api.metrics import Metrics
from api.routes import approvals, audit, decisions, dispatch, ingest, plans, rules, sparql
from engine.action.audit import AuditLog
from engine.action.backoff import Clock, RetryPolicy
from engine.action.db import open_database
from engine.action.dispatch_worker import DispatchWorker
from engine.action.status import DispatchRecord
from engine.service import WarrantService
from engine.settings import Settings
from engine.store import KnowledgeStore
from engine.workspace import Workspace

ROUTERS = (decisions.router, sparql.router, plans.router, approvals.router, ingest.router,
           audit.router, dispatch.router, rules.router)
"""The action plane's routers and where the foundation's ``/sparql`` goes among them, the most
frequent requests first (routes are matched in order; the foundation's others follow)."""


def build_app(
    settings: Settings,
    *,
    store: KnowledgeStore,
    clock: Clock,
    workspace: Workspace | None = None,
    env: Mapping[str, str] | None = None,
    retry_policy: RetryPolicy | None = None,
    worker: bool = True,
    worker_interval_s: float = 0.2,
    worker_idle_s: float = 2.0,
) -> FastAPI:
    """The full API over ``store``: every route, plus the dispatch worker when ``worker``."""
    settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    engine = open_database(settings.audit_db_url)
    ws = workspace or Workspace.load(settings.workspace)
    service = WarrantService.open(ws, store, engine=engine, clock=clock, env=env,
                                  retry_policy=retry_policy)
    holder: dict[str, Metrics] = {}

    def count(record: DispatchRecord) -> None:
        if "m" in holder:
            holder["m"].dispatch_total.labels(outcome=str(record.outcome)).inc()

    background = [DispatchWorker(service, interval_s=worker_interval_s, idle_s=worker_idle_s,
                                 on_record=count)]
    app = create_app(
        settings, store=store, audit=AuditLog(engine), clock=clock, routers=ROUTERS,
        background=background if worker else (),
    )
    holder["m"] = app.state.metrics
    app.state.service = service
    # Read when /metrics is scraped: always current, and no query per decision or plan.
    app.state.metrics.approval_queue_depth.set_function(service.approvals.pending_count)
    return app
