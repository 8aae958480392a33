"""The app factory: everything the API needs is passed in; nothing is built at import time.

Example::

    settings = Settings()
    store = OxigraphStore(settings.store_path)
    audit = AuditLog(open_database(settings.audit_db_url))
    app = create_app(settings, store=store, audit=audit, clock=SystemClock())
    uvicorn.run(app)

Route modules are routers, one per concept (:mod:`api.routes`); pass more with ``routers=``
or include them here. They reach the app's parts through dependencies: the principal with
:func:`api.auth.require_roles`, counters with :func:`api.metrics.metrics`, and
``request.app.state`` for ``store``, ``audit``, ``clock`` and ``settings``.

Middleware, outermost first: request id + access log, latency histogram, catch-all 500,
request body limit; then FastAPI's exception handlers (:mod:`api.errors`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Protocol

from fastapi import APIRouter, FastAPI

from api.auth import AuditSink, AuthContext
from api.errors import CatchAllMiddleware, install_error_handlers
from api.limits import BodyLimitMiddleware
from api.logging import RequestContextMiddleware
from api.metrics import LatencyMiddleware, Metrics
from api.routes import keys, ops, sparql
from api.sparql.evaluation import QueryRunner
from engine.action.audit import AuditLog
from engine.action.db import open_engine
from engine.principals import Clock, PrincipalStore
from engine.settings import Settings
from engine.store import KnowledgeStore

DEFAULT_QUERY_WORKERS = 4
FOUNDATION_ROUTERS = (sparql.router, ops.router, keys.router)
"""The routes every app has, the most frequent first: governance teams' queries."""


class Background(Protocol):
    """Work that runs while the app serves (the dispatch worker): started and stopped with it."""

    def start(self) -> None:
        """Start (called when the app starts serving)."""
        ...

    def stop(self) -> None:
        """Stop and wait (called at shutdown)."""
        ...


def create_app(
    settings: Settings,
    *,
    store: KnowledgeStore,
    audit: AuditSink | None,
    clock: Clock,
    principals: PrincipalStore | None = None,
    routers: Sequence[APIRouter] = (),
    query_workers: int = DEFAULT_QUERY_WORKERS,
    background: Sequence[Background] = (),
) -> FastAPI:
    """A ready FastAPI app over ``store``; registers the bootstrap admin key if configured.

    ``routers`` are included first, in their order, the most frequent requests first; the
    :data:`FOUNDATION_ROUTERS` they do not place follow. ``background`` tasks start when the
    app starts serving and stop at shutdown.
    ``principals`` defaults to a store on the audit log's database (or on
    ``settings.audit_db_url`` when there is no :class:`AuditLog`).
    """
    jwt_secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    if principals is None:
        engine = audit.engine if isinstance(audit, AuditLog) else open_engine(
            settings.audit_db_url)
        principals = PrincipalStore(engine, clock=clock, jwt_secret=jwt_secret)
    bootstrap = settings.bootstrap_admin_key
    principals.register_bootstrap(bootstrap.get_secret_value() if bootstrap else None)

    executor = ThreadPoolExecutor(max_workers=query_workers, thread_name_prefix="warrant-sparql")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for task in background:
            task.start()
        try:
            yield
        finally:
            for task in reversed(background):
                task.stop()
            executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Warrant",
        version="1",
        summary="Plans, decisions and proofs over a governed knowledge graph.",
        lifespan=lifespan,
        openapi_url=None,  # served by ops.router behind authentication
        docs_url=None,
        redoc_url=None,
    )
    metrics = Metrics.create()
    app.state.settings = settings
    app.state.store = store
    app.state.audit = audit
    app.state.clock = clock
    app.state.metrics = metrics
    app.state.auth = AuthContext(principals=principals, audit=audit, clock=clock)
    app.state.query_runner = QueryRunner(
        store=store,
        executor=executor,
        timeout_s=settings.query_timeout_s,
        result_limit=settings.query_result_limit,
    )

    install_error_handlers(app)
    # add_middleware puts each new one outside the previous: innermost first.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(LatencyMiddleware, metrics=metrics)
    app.add_middleware(RequestContextMiddleware)

    # A request walks the routers in order, ~7 µs each: the caller's come first, in its
    # order (they may place the foundation's among them), then the foundation's not placed.
    for router in (*routers, *(r for r in FOUNDATION_ROUTERS if r not in routers)):
        app.include_router(router)
    return app
