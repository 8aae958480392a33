"""Wire models of plans, decisions, approvals, dispatch, ingestion, audit and rules (``…V1``).

Every model is frozen and rejects unknown fields, so a misspelt field is a 422 naming it.
Request parameters are JSON scalars only (string, integer, boolean); their declared types are
checked by the decision plane (a wrong type is a 400 naming the parameter), and they reach
the solver as typed symbols, never as program text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from engine.action.approval_flow import DispatchReport
from engine.action.approvals import Approval
from engine.action.status import DeadLetter, PlanProgress
from engine.decision_graph import action_id_of
from engine.knowledge.ingest import IngestSummary
from engine.planning import PlanRecord
from engine.reasoning.proof import ProofGraph

Scalar = StrictStr | StrictInt | StrictBool
_NAME = r"^[a-z][A-Za-z0-9_]{0,99}$"
_MAX_PARAMS = 64
_MAX_ROWS = 10_000


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanRequestV1(_Wire):
    """``POST /v1/plans``: a goal declared with ``% @goal`` and its typed parameters."""

    goal: str = Field(pattern=_NAME, examples=["remediate"])
    params: dict[str, Scalar] = Field(default_factory=dict, max_length=_MAX_PARAMS)


class DecisionV1(_Wire):
    """The policy decision on one action."""

    kind: Literal["allow", "escalate", "deny"]
    roles: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


class PlannedActionV1(_Wire):
    """One action of a plan: its position, id, what it runs after, its decision."""

    index: int
    action: str
    action_id: str
    after: list[str]
    decision: DecisionV1


class PlanV1(_Wire):
    """A plan (or a single decision request) with the revisions it was computed on."""

    id: str
    kind: Literal["plan", "decision"]
    goal: str
    proposed: str | None = None
    params: dict[str, Scalar]
    created_at: datetime
    kg_state: str
    rules_revision: str
    facts_revision: str
    cost: list[int]
    optimal: bool
    findings: list[str]
    """A plan: every finding in scope. A decision: only the findings its proof reaches."""
    actions: list[PlannedActionV1]

    @classmethod
    def of(cls, record: PlanRecord) -> PlanV1:
        """The wire form of a stored plan (proofs are served by ``/proof``)."""
        plan = record.plan
        return cls(
            id=record.id,
            kind=record.kind,
            goal=plan.goal,
            proposed=plan.proposed,
            params=dict(plan.params),
            created_at=record.created_at,
            kg_state=record.kg_state,
            rules_revision=plan.rules_revision,
            facts_revision=plan.facts_revision,
            cost=list(plan.cost),
            optimal=plan.optimal,
            findings=list(plan.findings),
            actions=[
                PlannedActionV1(
                    index=a.index,
                    action=a.action,
                    action_id=action_id_of(record.id, a.index),
                    after=list(a.after),
                    decision=DecisionV1(kind=a.decision.kind, roles=list(a.decision.roles),
                                        reasons=list(a.decision.reasons)),
                )
                for a in plan.actions
            ],
        )


class StepV1(_Wire):
    """One action of a plan as a dispatch request saw it."""

    index: int
    action: str
    action_id: str
    state: str
    detail: str


class RecheckV1(_Wire):
    """An approved action re-checked on the current KG before dispatch."""

    approval_id: str
    holds: bool
    changed_facts: list[str]
    new_decision_id: str | None = None
    new_kind: str | None = None
    new_approval_id: str | None = None


class DispatchReportV1(_Wire):
    """What ``dispatch`` did: how many actions were enqueued and why the others wait."""

    plan_id: str
    enqueued: int
    steps: list[StepV1]
    rechecks: list[RecheckV1]

    @classmethod
    def of(cls, report: DispatchReport) -> DispatchReportV1:
        """Wire form."""
        return cls(
            plan_id=report.plan_id,
            enqueued=report.enqueued,
            steps=[StepV1(index=s.index, action=s.action, action_id=s.action_id, state=s.state,
                          detail=s.detail) for s in report.steps],
            rechecks=[RecheckV1(approval_id=aid, holds=r.holds,
                                changed_facts=list(r.changed_facts),
                                new_decision_id=r.new_decision_id, new_kind=r.new_kind,
                                new_approval_id=r.new_approval_id)
                      for aid, r in report.rechecks],
        )


class DecisionRequestV1(_Wire):
    """``POST /v1/decisions``: an action an agent wants to take."""

    action: str = Field(min_length=1, max_length=2000, examples=['review("v:V1")'])
    params: dict[str, Scalar] = Field(default_factory=dict, max_length=_MAX_PARAMS)
    dispatch: bool = False


class DecisionResponseV1(_Wire):
    """The decision on a proposed action, its proof, and what happened next."""

    decision_id: str
    action: str
    decision: DecisionV1
    proof: ProofGraph
    approval_id: str | None = None
    dispatch: DispatchReportV1 | None = None


class BasisFactV1(_Wire):
    """A KG fact an escalated action's proof stood on, with its triples (s, p, o, graph)."""

    atom: str
    triples: list[list[str]]


class ApprovalV1(_Wire):
    """An escalated action in the approval queue."""

    id: str
    plan_id: str
    action_index: int
    action_id: str
    action: str
    role: str
    reasons: list[str]
    state: Literal["pending", "approved", "rejected", "superseded"]
    created_at: datetime
    approver: str | None = None
    comment: str | None = None
    decided_at: datetime | None = None
    superseded_by: str | None = None
    basis: list[BasisFactV1]
    proof: dict[str, Any] | None = None

    @classmethod
    def of(cls, a: Approval, *, proof: dict[str, Any] | None = None) -> ApprovalV1:
        """Wire form, with the action's proof when given."""
        return cls(
            id=a.id, plan_id=a.plan_id, action_index=a.action_index,
            action_id=action_id_of(a.plan_id, a.action_index), action=a.action, role=a.role,
            reasons=list(a.reasons), state=a.state.value, created_at=a.created_at,
            approver=a.approver, comment=a.comment, decided_at=a.decided_at,
            superseded_by=a.superseded_by,
            basis=[BasisFactV1(atom=b.atom, triples=[list(t) for t in b.triples])
                   for b in a.basis],
            proof=proof,
        )


class ApprovalDecisionV1(_Wire):
    """``POST /v1/approvals/{id}/approve|reject``: the approver's comment."""

    comment: str = Field(default="", max_length=4000)


class ApprovalResultV1(_Wire):
    """The decided entry and, if its plan was to be dispatched, the dispatch report."""

    approval: ApprovalV1
    dispatch: DispatchReportV1 | None = None


class PushV1(_Wire):
    """``POST /v1/sources/{name}/records``: rows to upsert and keys to delete."""

    key: list[StrictStr] = Field(min_length=1, max_length=16, examples=[["vendor_id"]])
    upsert: list[dict[str, Scalar | None]] = Field(default_factory=list, max_length=_MAX_ROWS)
    delete: list[dict[str, Scalar]] = Field(default_factory=list, max_length=_MAX_ROWS)


class IngestRequestV1(_Wire):
    """``POST /v1/ingest``: which sources to pull (default: all)."""

    sources: list[StrictStr] | None = Field(default=None, max_length=200)
    force: bool = False


class IngestSummaryV1(_Wire):
    """What one batch did."""

    source: str
    graph: str
    batch_id: str | None
    unchanged: bool
    records: int
    added: int
    removed: int
    quarantined: int
    warnings: int
    quarantine: list[dict[str, Any]]

    @classmethod
    def of(cls, s: IngestSummary) -> IngestSummaryV1:
        """Wire form."""
        return cls.model_validate(s.as_dict())


class DeadLetterV1(_Wire):
    """An action on the dead-letter list."""

    action_id: str
    plan_id: str | None
    action_type: str
    idempotency_key: str
    attempts: int
    last_error: str
    dead_at: datetime

    @classmethod
    def of(cls, d: DeadLetter) -> DeadLetterV1:
        """Wire form."""
        return cls(action_id=d.action_id, plan_id=d.plan_id, action_type=d.action_type,
                   idempotency_key=d.idempotency_key, attempts=d.attempts,
                   last_error=d.last_error, dead_at=d.dead_at)


class ProgressStepV1(_Wire):
    """One enqueued step of a plan."""

    action_id: str
    action_type: str
    state: str
    attempts: int
    after: list[str]
    waiting_on: list[str]
    held_by: str | None
    last_error: str | None
    reason: str


class ProgressV1(_Wire):
    """A plan's dispatch checkpoint."""

    plan_id: str
    complete: bool
    steps: list[ProgressStepV1]

    @classmethod
    def of(cls, p: PlanProgress) -> ProgressV1:
        """Wire form."""
        return cls(
            plan_id=p.plan_id, complete=p.complete,
            steps=[ProgressStepV1(action_id=s.action_id, action_type=s.action_type,
                                  state=str(s.state), attempts=s.attempts, after=list(s.after),
                                  waiting_on=list(s.waiting_on), held_by=s.held_by,
                                  last_error=s.last_error, reason=s.reason) for s in p.steps],
        )


class RulesReloadV1(_Wire):
    """The rules revision before and after a reload."""

    before: str | None
    after: str
    rules: int
    changed: bool


class RuleMessageV1(_Wire):
    """One located message about the rules."""

    severity: str
    code: str
    location: str
    message: str


class RulesCheckV1(_Wire):
    """``GET /v1/rules/check``: whether the rules check, and every message."""

    ok: bool
    messages: list[RuleMessageV1]
