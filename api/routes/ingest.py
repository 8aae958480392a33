"""``/v1/ingest`` (pull sources) and ``/v1/sources/{name}/records`` (push changes); role ``app``.

Pushed records are mapped, gated and recorded exactly like a pulled batch (see
:mod:`engine.knowledge.push`): a record that breaks a shape is quarantined, not loaded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.action_models import IngestRequestV1, IngestSummaryV1, PushV1
from api.auth import require_roles
from api.routes.context import actor_of, errors, service
from engine.knowledge.push import PushChange
from engine.principals import Principal, Role
from engine.service import WarrantService

router = APIRouter(tags=["ingest"])

App = Annotated[Principal, Depends(require_roles(Role.APP))]
Service = Annotated[WarrantService, Depends(service)]


@router.post("/v1/ingest", response_model=list[IngestSummaryV1], responses=errors(400, 404))
def ingest(principal: App, svc: Service, body: IngestRequestV1 | None = None
           ) -> list[IngestSummaryV1]:
    """Pull the named sources (default: all) through mapping, gate and provenance."""
    request = body or IngestRequestV1()
    summaries = svc.ingest(request.sources, actor=actor_of(principal), force=request.force)
    return [IngestSummaryV1.of(s) for s in summaries]


@router.post("/v1/sources/{name}/records", response_model=IngestSummaryV1,
             responses=errors(400, 404, 413))
def push_records(
    name: Annotated[str, Path(max_length=200)],
    body: PushV1,
    principal: App,
    svc: Service,
) -> IngestSummaryV1:
    """Upsert and delete records of a source by key, as one gated batch."""
    change = PushChange(key=tuple(body.key), upsert=tuple(body.upsert),
                        delete=tuple(body.delete))
    return IngestSummaryV1.of(svc.push(name, change, actor=actor_of(principal)))
