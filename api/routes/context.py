"""What the action-plane routes share: the service, the caller as an audit actor, error docs."""

from __future__ import annotations

from fastapi import Request, Response
from pydantic import BaseModel

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


def encoded(model: BaseModel, *, status_code: int = 200) -> Response:
    """``model`` as its JSON response, encoded in the endpoint's own worker thread.

    A plain-function endpoint that returns a model has FastAPI validate it against the
    ``response_model`` once more, in a second hand-off to a worker thread (the endpoint ran in
    the first), before encoding it. The models returned here are built by this code from
    validated records, so a route returns their bytes (its ``response_model`` still
    documents them).
    """
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
