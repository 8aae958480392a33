"""``/v1/approvals``: the queue of escalated actions, decided by approvers of the named role.

Listing and reading need ``reader`` or any approver role; approving or rejecting needs
``approver:<role>`` for the entry's role (``admin`` passes) — a principal of another role gets
a 403, audited. Deciding an entry twice is a 409. An approved action whose plan was asked to
be dispatched is re-checked on the current KG and dispatched, or superseded if its facts
changed.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from api.action_models import ApprovalDecisionV1, ApprovalResultV1, ApprovalV1, DispatchReportV1
from api.auth import current_principal, enforce_roles
from api.routes.context import actor_of, errors, service
from engine.action.approvals import ApprovalState
from engine.principals import Principal
from engine.proof_select import action_proof
from engine.service import WarrantService

router = APIRouter(tags=["approvals"])

Service = Annotated[WarrantService, Depends(service)]
Anyone = Annotated[Principal, Depends(current_principal)]


def _may_read(principal: Principal) -> bool:
    return principal.holds("reader") or any(r.startswith("approver:") for r in principal.roles)


def _require_reader(request: Request, principal: Principal) -> None:
    if not _may_read(principal):
        enforce_roles(request, principal, "reader")  # raises the audited 403


@router.get("/v1/approvals", response_model=list[ApprovalV1], responses=errors())
def list_approvals(
    request: Request,
    principal: Anyone,
    svc: Service,
    role: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_-]{0,99}$")] = None,
    state: Annotated[Literal["pending", "approved", "rejected", "superseded"] | None,
                     Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ApprovalV1]:
    """Escalated actions (pending by default), optionally for one approver role."""
    _require_reader(request, principal)
    found = svc.approvals.list(role=role, state=ApprovalState(state) if state else None,
                               limit=limit)
    return [ApprovalV1.of(a) for a in found]


@router.get("/v1/approvals/{approval_id}", response_model=ApprovalV1, responses=errors(404))
def get_approval(approval_id: str, request: Request, principal: Anyone,
                 svc: Service) -> ApprovalV1:
    """One escalated action with its proof."""
    _require_reader(request, principal)
    entry = svc.approvals.get(approval_id)
    proof = json.loads(action_proof(svc.get_plan(entry.plan_id), entry.action).to_json())
    return ApprovalV1.of(entry, proof=proof)


def _decide(approval_id: str, body: ApprovalDecisionV1, principal: Principal,
            svc: WarrantService, *, approve: bool) -> ApprovalResultV1:
    decided, report = svc.flow.approve_and_dispatch(
        approval_id, principal=principal, actor=actor_of(principal), approve=approve,
        comment=body.comment,
    )
    return ApprovalResultV1(approval=ApprovalV1.of(decided),
                            dispatch=DispatchReportV1.of(report) if report else None)


@router.post("/v1/approvals/{approval_id}/approve", response_model=ApprovalResultV1,
             responses=errors(404, 409))
def approve(approval_id: str, body: ApprovalDecisionV1, principal: Anyone,
            svc: Service) -> ApprovalResultV1:
    """Approve an escalated action (needs ``approver:<its role>``)."""
    return _decide(approval_id, body, principal, svc, approve=True)


@router.post("/v1/approvals/{approval_id}/reject", response_model=ApprovalResultV1,
             responses=errors(404, 409))
def reject(approval_id: str, body: ApprovalDecisionV1, principal: Anyone,
           svc: Service) -> ApprovalResultV1:
    """Reject an escalated action (needs ``approver:<its role>``); it will never run."""
    return _decide(approval_id, body, principal, svc, approve=False)
