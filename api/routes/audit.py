"""``/v1/audit``: the hash-chained audit log (role ``reader``) and its verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import require_roles
from api.routes.context import errors, service
from engine.action.audit import AuditEntryV1, VerifyReport
from engine.principals import Principal, Role
from engine.service import WarrantService

router = APIRouter(tags=["audit"])

Reader = Annotated[Principal, Depends(require_roles(Role.READER))]
Service = Annotated[WarrantService, Depends(service)]


@router.get("/v1/audit", response_model=list[AuditEntryV1], responses=errors())
def list_entries(
    _principal: Reader,
    svc: Service,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntryV1]:
    """Entries after seq ``since``, oldest first."""
    return svc.audit_entries(since_seq=since, limit=limit)


@router.get("/v1/audit/verify", response_model=VerifyReport, responses=errors())
def verify(_principal: Reader, svc: Service) -> VerifyReport:
    """Walk the chain: ok, or the first edited, deleted, reordered or inserted entry."""
    return svc.verify_audit()
