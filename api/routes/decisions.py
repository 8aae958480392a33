"""``/v1/decisions``: the guardrail every agent action passes through.

An agent submits the action it wants to take; the answer is the policy decision with its
proof. With ``dispatch: true`` an allowed action is enqueued at once; an escalated one enters
the approval queue (and is dispatched when approved); a denied one never runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.action_models import DecisionRequestV1, DecisionResponseV1, DecisionV1, DispatchReportV1
from api.auth import require_roles
from api.metrics import Metrics, metrics
from api.routes.context import actor_of, encoded, errors, service
from engine.principals import Principal, Role
from engine.proof_select import action_proof
from engine.service import WarrantService

router = APIRouter(tags=["decisions"])


@router.post(
    "/v1/decisions",
    response_model=DecisionResponseV1,
    status_code=201,
    responses=errors(400, 409, 413),
)
def decide(
    body: DecisionRequestV1,
    principal: Annotated[Principal, Depends(require_roles(Role.APP))],
    svc: Annotated[WarrantService, Depends(service)],
    m: Annotated[Metrics, Depends(metrics)],
) -> Response:
    """Decide a proposed action (allow / escalate / deny) and return the proof."""
    outcome = svc.decide(
        body.action, body.params, actor=actor_of(principal), dispatch=body.dispatch
    )
    record = outcome.record
    planned = record.plan.actions[0]
    m.decisions_total.labels(kind=planned.decision.kind).inc()
    response = DecisionResponseV1(
        decision_id=record.id,
        action=planned.action,
        decision=DecisionV1(
            kind=planned.decision.kind,
            roles=list(planned.decision.roles),
            reasons=list(planned.decision.reasons),
        ),
        proof=action_proof(record, planned.action),
        approval_id=outcome.approval_id,
        dispatch=DispatchReportV1.of(outcome.dispatch) if outcome.dispatch else None,
    )
    return encoded(response, status_code=201)
