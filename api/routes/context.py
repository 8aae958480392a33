"""What the action-plane routes share: the service, the caller as an audit actor, error docs."""

from __future__ import annotations

from fastapi import Request

from api.models import ErrorV1
from engine.principals import Principal
from engine.service import WarrantService


async def service(request: Request) -> WarrantService:
    """The app's :class:`WarrantService` (a dependency; async, so it runs on the event loop and
    not in a worker thread)."""
    found = request.app.state.service
    assert isinstance(found, WarrantService)
    return found


def actor_of(principal: Principal) -> str:
    """How the audit log names a principal: ``key:<id>`` or ``jwt:<subject>``."""
    return f"{principal.via.value.replace('api_', '')}:{principal.id}"


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` for error statuses, all in the one error format."""
    return {s: {"model": ErrorV1} for s in (401, 403, 422, *statuses)}
