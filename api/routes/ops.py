"""Operations: ``/healthz``, ``/readyz``, ``/metrics`` (Prometheus) and ``/openapi.json``.

``/healthz`` and ``/readyz`` need no credentials so that orchestrators can probe them; they
reveal nothing but up / ready. ``/metrics`` and ``/openapi.json`` need any authenticated
principal.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import auth_context, require_roles
from api.metrics import Metrics, metrics
from api.models import HealthV1, ReadyCheckV1, ReadyV1
from engine.action.db import read
from engine.errors import WarrantError
from engine.principals import Principal
from engine.store import KnowledgeStore

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthV1)
def healthz() -> HealthV1:
    """The process is up and serving."""
    return HealthV1()


def _check_store(store: KnowledgeStore) -> ReadyCheckV1:
    try:
        store.query("ASK {}")
    except (WarrantError, OSError) as exc:
        return ReadyCheckV1(name="store", ok=False, message=str(exc)[:200])
    return ReadyCheckV1(name="store", ok=True)


def _check_database(request: Request) -> ReadyCheckV1:
    try:
        with read(auth_context(request).principals.engine) as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return ReadyCheckV1(name="database", ok=False, message=type(exc).__name__)
    return ReadyCheckV1(name="database", ok=True)


@router.get("/readyz", response_model=ReadyV1, responses={503: {"model": ReadyV1}})
def readyz(request: Request) -> JSONResponse:
    """Whether the knowledge-graph store and the action-plane database answer (503 if not)."""
    checks = [_check_store(request.app.state.store), _check_database(request)]
    ok = all(c.ok for c in checks)
    body = ReadyV1(status="ready" if ok else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(
    request: Request, _principal: Annotated[Principal, Depends(require_roles())]
) -> JSONResponse:
    """The OpenAPI document of every route (any authenticated principal)."""
    return JSONResponse(request.app.openapi())


@router.get("/metrics", response_class=Response)
def prometheus_metrics(
    m: Annotated[Metrics, Depends(metrics)],
    _principal: Annotated[Principal, Depends(require_roles())],
) -> Response:
    """Prometheus text exposition of this app's registry."""
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
