"""``/v1/plans``: request a plan for a goal, fetch it, its proof, why-not, and dispatch it.

``POST /v1/plans`` takes an ``Idempotency-Key`` header: the same key again returns the plan
first stored under it (a different goal or parameters under that key is a 409). Proofs render
as JSON, an indented text tree, Graphviz DOT or SVG.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response

from api.action_models import DispatchReportV1, PlanRequestV1, PlanV1
from api.auth import require_roles
from api.metrics import Metrics, metrics
from api.routes.context import actor_of, encoded, errors, service
from engine.principals import Principal, Role
from engine.proof_select import action_proof
from engine.proof_svg import proof_svg
from engine.reasoning import WhyNot
from engine.service import WarrantService

router = APIRouter(tags=["plans"])

Planner = Annotated[Principal, Depends(require_roles(Role.APP))]
Reader = Annotated[Principal, Depends(require_roles(Role.READER, Role.APP))]
Service = Annotated[WarrantService, Depends(service)]
ProofFormat = Literal["json", "text", "dot", "svg"]
_MEDIA = {"json": "application/json", "text": "text/plain; charset=utf-8",
          "dot": "text/vnd.graphviz; charset=utf-8", "svg": "image/svg+xml"}


@router.post("/v1/plans", response_model=PlanV1, status_code=201,
             responses=errors(400, 404, 409, 413))
def create_plan(
    body: PlanRequestV1,
    principal: Planner,
    svc: Service,
    m: Annotated[Metrics, Depends(metrics)],
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                           pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> Response:
    """Plan for a goal with typed parameters; each action carries its policy decision."""
    record = svc.plan(body.goal, body.params, actor=actor_of(principal),
                      idempotency_key=idempotency_key)
    m.plans_total.inc()
    for a in record.plan.actions:
        m.decisions_total.labels(kind=a.decision.kind).inc()
    return encoded(PlanV1.of(record), status_code=201)


@router.get("/v1/plans/{plan_id}", response_model=PlanV1, responses=errors(404))
def get_plan(plan_id: str, _principal: Reader, svc: Service) -> Response:
    """A stored plan or decision."""
    return encoded(PlanV1.of(svc.get_plan(plan_id)))


@router.get("/v1/plans/{plan_id}/proof", response_class=Response, responses={
    **errors(400, 404),
    200: {"content": {m: {} for m in _MEDIA.values()}, "description": "the proof"},
})
def get_proof(
    plan_id: str,
    _principal: Reader,
    svc: Service,
    action: Annotated[str | None, Query(max_length=2000)] = None,
    fmt: Annotated[ProofFormat, Query(alias="format")] = "json",
) -> Response:
    """The proof of one action (or of the whole plan) as JSON, text, DOT or SVG."""
    graph = action_proof(svc.get_plan(plan_id), action)
    if fmt == "svg":
        body = proof_svg(graph)
    else:
        body = {"json": graph.to_json, "text": graph.to_text, "dot": graph.to_dot}[fmt]()
    return Response(body, media_type=_MEDIA[fmt])


@router.get("/v1/plans/{plan_id}/why-not", response_model=WhyNot, responses=errors(400, 404))
def why_not(
    plan_id: str,
    _principal: Reader,
    svc: Service,
    action: Annotated[str, Query(min_length=1, max_length=2000)],
) -> WhyNot:
    """Why an action is not in the plan: unmet conditions, cost, or blocking constraints."""
    return svc.why_not(plan_id, action)


@router.post("/v1/plans/{plan_id}/dispatch", response_model=DispatchReportV1,
             status_code=202, responses=errors(404, 409))
def dispatch_plan(plan_id: str, principal: Planner, svc: Service) -> DispatchReportV1:
    """Enqueue the plan's allowed (and approved, re-checked) actions in the plan's order."""
    report = svc.dispatch_plan(plan_id, actor=actor_of(principal))
    return DispatchReportV1.of(report)
