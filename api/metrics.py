"""Prometheus metrics, one registry per app so two apps in one process never share counters.

Route modules reach the metrics through the :func:`metrics` dependency and count what they do::

    @router.post("/v1/plans")
    def create_plan(m: Annotated[Metrics, Depends(metrics)], ...):
        m.plans_total.inc()
        m.decisions_total.labels(kind="allow").inc()

Request latency is measured by :class:`LatencyMiddleware`, labelled by the route *template*
(``/v1/keys/{key_id}``), never the raw path, so label cardinality stays bounded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Metrics:
    """The app's registry and the instruments other modules increment."""

    registry: CollectorRegistry
    request_latency: Histogram
    plans_total: Counter
    decisions_total: Counter
    dispatch_total: Counter
    approval_queue_depth: Gauge
    auth_failures_total: Counter

    @classmethod
    def create(cls) -> Metrics:
        """A fresh registry with every instrument registered."""
        reg = CollectorRegistry(auto_describe=True)
        return cls(
            registry=reg,
            request_latency=Histogram(
                "warrant_http_request_duration_seconds",
                "HTTP request latency by method, route template and status.",
                ("method", "route", "status"),
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
            plans_total=Counter("warrant_plans_total", "Plans computed.", registry=reg),
            decisions_total=Counter(
                "warrant_decisions_total",
                "Policy decisions by kind (allow, escalate, deny).",
                ("kind",),
                registry=reg,
            ),
            dispatch_total=Counter(
                "warrant_dispatch_total",
                "Dispatch attempts by outcome (ok, retry, dead).",
                ("outcome",),
                registry=reg,
            ),
            approval_queue_depth=Gauge(
                "warrant_approval_queue_depth", "Actions waiting for approval.", registry=reg
            ),
            auth_failures_total=Counter(
                "warrant_auth_failures_total",
                "Rejected requests by status (401, 403).",
                ("status",),
                registry=reg,
            ),
        )


async def metrics(request: Request) -> Metrics:
    """The app's :class:`Metrics` (a dependency; async, so it runs on the event loop and not in
    a worker thread)."""
    m = request.app.state.metrics
    assert isinstance(m, Metrics)
    return m


class LatencyMiddleware:
    """Observes every HTTP request's duration in ``warrant_http_request_duration_seconds``."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; label it with its route template once routing has run."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.request_latency.labels(
                method=scope.get("method", ""), route=route, status=str(status)
            ).observe(time.perf_counter() - started)
            if status in (401, 403):
                self.metrics.auth_failures_total.labels(status=str(status)).inc()
