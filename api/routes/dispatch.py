"""``/v1/dispatch``: the dead-letter list and retries; ``/v1/plans/{id}/progress``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.action_models import DeadLetterV1, ProgressV1
from api.auth import require_roles
from api.routes.context import actor_of, errors, service
from engine.principals import Principal, Role
from engine.service import WarrantService

router = APIRouter(tags=["dispatch"])

Reader = Annotated[Principal, Depends(require_roles(Role.READER, Role.APP))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Service = Annotated[WarrantService, Depends(service)]


@router.get("/v1/dispatch/dead-letters", response_model=list[DeadLetterV1], responses=errors())
def dead_letters(_principal: Reader, svc: Service) -> list[DeadLetterV1]:
    """Actions that ran out of attempts or failed permanently."""
    return [DeadLetterV1.of(d) for d in svc.dead_letters()]


@router.post("/v1/dispatch/dead-letters/{action_id}/retry", status_code=202,
             response_class=Response, responses=errors(404, 409))
def retry(action_id: str, principal: Admin, svc: Service) -> Response:
    """Send a dead action again from attempt 1, with the same idempotency key."""
    svc.retry_dead(action_id, actor=actor_of(principal))
    return Response(status_code=202)


@router.get("/v1/plans/{plan_id}/progress", response_model=ProgressV1, responses=errors(404))
def progress(plan_id: str, _principal: Reader, svc: Service) -> ProgressV1:
    """Each enqueued step of a plan: its state and why."""
    return ProgressV1.of(svc.progress(plan_id))
