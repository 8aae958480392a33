"""Escalation → approval → re-check → dispatch: the action plane's state machine.

* :meth:`ApprovalFlow.queue_escalations` puts each escalated action of a plan in the queue with
  its proof's fact basis.
* :meth:`ApprovalFlow.decide` approves or rejects an entry: only a principal holding
  ``approver:<role>`` (or ``admin``) may; deciding twice is a conflict. The state change and its
  audit entry are one transaction; the approval also goes to the decisions graph.
* :meth:`ApprovalFlow.recheck` runs before an approved action is dispatched: every fact of the
  basis must still hold with the same triples, and the policies re-run on the current KG must
  give the same decision (escalate, same roles, same reasons). Otherwise the entry is
  ``superseded``, the new decision is stored and audited, and an escalated new decision is
  queued again — the action never runs on stale facts.
* :meth:`ApprovalFlow.dispatch_plan` enqueues the ready actions of a plan in its order.
"""

from __future__ import annotations

from dataclasses import dataclass

import clingo
from sqlalchemy.engine import Engine

from engine.action.approvals import (
    Approval,
    ApprovalState,
    ApprovalStore,
    BasisFact,
    approval_id,
    fact_basis,
)
from engine.action.audit import AuditKind, AuditLog
from engine.action.backoff import Clock
from engine.action.db import write
from engine.action.dispatch_plan import StepPlan, select_steps
from engine.action.outbox import Outbox
from engine.decision_graph import action_id_of, approval_triples, plan_triples
from engine.errors import AuthError, NotFoundError
from engine.plan_store import PlanStore
from engine.planning import DecisionPlane, PlanRecord
from engine.principals import Principal, approver
from engine.store.base import GraphChange, KnowledgeStore
from engine.vocab import GRAPH_DECISIONS


@dataclass(frozen=True)
class Recheck:
    """The outcome of re-checking an approved action on the current KG."""

    holds: bool
    changed_facts: tuple[str, ...]
    new_decision_id: str | None = None
    new_kind: str | None = None
    new_approval_id: str | None = None


@dataclass(frozen=True)
class DispatchReport:
    """What a dispatch request did: each step's state and how many envelopes were new."""

    plan_id: str
    steps: tuple[StepPlan, ...]
    enqueued: int
    rechecks: tuple[tuple[str, Recheck], ...] = ()


class ApprovalFlow:
    """The approval queue's transitions, each audited, over the shared parts of the service."""

    def __init__(
        self,
        *,
        plane: DecisionPlane,
        plans: PlanStore,
        approvals: ApprovalStore,
        audit: AuditLog,
        outbox: Outbox,
        store: KnowledgeStore,
        engine: Engine,
        clock: Clock,
    ) -> None:
        self.plane = plane
        self.plans = plans
        self.approvals = approvals
        self.audit = audit
        self.outbox = outbox
        self.store = store
        self.engine = engine
        self.clock = clock

    def queue_escalations(self, record: PlanRecord, *, dispatch: bool) -> list[str]:
        """Queue every escalated action of ``record`` (once); the ids of its entries."""
        ids: list[str] = []
        for planned in record.plan.actions:
            if planned.decision.kind != "escalate":
                continue
            entry = Approval(
                id=approval_id(record.id, planned.index),
                plan_id=record.id,
                action_index=planned.index,
                action=planned.action,
                role=planned.decision.role or planned.decision.roles[0],
                reasons=planned.decision.reasons,
                state=ApprovalState.PENDING,
                dispatch=dispatch,
                created_at=self.clock.now(),
                basis=fact_basis(record.plan.proofs, planned.action),
            )
            self.approvals.add(entry)
            ids.append(entry.id)
        return ids

    def decide(
        self, entry_id: str, *, principal: Principal, actor: str, approve: bool, comment: str
    ) -> Approval:
        """Approve or reject a pending entry as ``principal`` (403 without the role)."""
        entry = self.approvals.get(entry_id)
        needed = approver(entry.role)
        at = self.clock.now()
        if not principal.holds(needed):
            error = AuthError(
                f"principal `{principal.name}` lacks the role `{needed}` to decide "
                f"approval `{entry_id}`",
                code="forbidden",
                details={"required_any_of": [needed]},
            )
            self.audit.append(AuditKind.AUTH_FAILURE, actor=actor, subject=f"approval:{entry_id}",
                              payload={"status": 403, "code": "forbidden",
                                       "reason": error.message}, at=at)
            raise error
        state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
        with write(self.engine) as conn:
            decided = self.approvals.decide(conn, entry_id, state=state, approver=actor,
                                            comment=comment, at=at)
            self.audit.append(
                AuditKind.APPROVAL if approve else AuditKind.REJECTION,
                actor=actor,
                subject=f"approval:{entry_id}",
                payload={"plan_id": entry.plan_id, "action": entry.action, "role": entry.role,
                         "comment": comment},
                at=at,
                conn=conn,
            )
        self.store.apply([GraphChange(GRAPH_DECISIONS,
                                      added=approval_triples(decided, principal_id=principal.id))])
        return decided

    def recheck(self, entry: Approval, record: PlanRecord, *, actor: str) -> Recheck:
        """Whether an approved action still stands on the current KG (else supersede it)."""
        changed = self._changed_facts(entry.basis)
        fresh = self.plane.decide(entry.action, dict(record.plan.params))
        decision = fresh.plan.actions[0].decision if fresh.plan.actions else None
        same = (
            decision is not None
            and decision.kind == "escalate"
            and entry.role in decision.roles
            and tuple(decision.reasons) == entry.reasons
        )
        if not changed and same:
            return Recheck(holds=True, changed_facts=())
        stored = self.plans.save(fresh)
        self.store.apply([GraphChange(GRAPH_DECISIONS, added=plan_triples(stored))])
        new_ids = self.queue_escalations(stored, dispatch=entry.dispatch)
        kind = decision.kind if decision is not None else "none"
        with write(self.engine) as conn:
            self.approvals.supersede(conn, entry.id, by=stored.id)
            self.audit.append(
                "approval.superseded",
                actor=actor,
                subject=f"approval:{entry.id}",
                payload={"plan_id": entry.plan_id, "action": entry.action,
                         "changed_facts": list(changed), "new_decision": stored.id,
                         "new_kind": kind, "new_approval": new_ids[0] if new_ids else None},
                at=self.clock.now(),
                conn=conn,
            )
        return Recheck(holds=False, changed_facts=changed, new_decision_id=stored.id,
                       new_kind=kind, new_approval_id=new_ids[0] if new_ids else None)

    def _changed_facts(self, basis: tuple[BasisFact, ...]) -> tuple[str, ...]:
        kg, _facts = self.plane.facts()
        changed: list[str] = []
        for fact in basis:
            try:
                symbol = clingo.parse_term(fact.atom)
            except RuntimeError:
                changed.append(fact.atom)
                continue
            now = tuple(sorted({(*o.triple, o.graph) for o in kg.origins(symbol)}))
            if not now or now != fact.triples:
                changed.append(fact.atom)
        return tuple(changed)

    def dispatch_plan(self, record: PlanRecord, *, actor: str) -> DispatchReport:
        """Re-check approved actions, then enqueue every ready action in the plan's order."""
        with write(self.engine) as conn:
            self.approvals.set_dispatch(conn, record.id)
        entries = {e.action_index: e for e in self.approvals.list(plan_id=record.id, limit=10_000)}
        approved: set[int] = set()
        rechecks: list[tuple[str, Recheck]] = []
        for idx, entry in sorted(entries.items()):
            if entry.state is not ApprovalState.APPROVED:
                continue
            if self._already_enqueued(record.id, idx):
                approved.add(idx)
                continue
            result = self.recheck(entry, record, actor=actor)
            rechecks.append((entry.id, result))
            if result.holds:
                approved.add(idx)
        states = {i: self.approvals.get(e.id).state.value for i, e in entries.items()}
        selection = select_steps(
            record,
            approved=approved,
            approval_states=states,
            approval_ids={i: e.id for i, e in entries.items()},
            action_types=set(self.outbox.executors),
        )
        new = 0
        with write(self.engine) as conn:
            if selection.envelopes:
                new = self.outbox.enqueue_many(selection.envelopes, conn=conn)
            self.audit.append(
                "dispatch.request",
                actor=actor,
                subject=f"plan:{record.id}",
                payload={"enqueued": new,
                         "steps": [{"action_id": s.action_id, "state": s.state,
                                    "detail": s.detail} for s in selection.steps]},
                at=self.clock.now(),
                conn=conn,
            )
        return DispatchReport(record.id, selection.steps, new, tuple(rechecks))

    def _already_enqueued(self, plan_id: str, index: int) -> bool:
        try:
            self.outbox.plan_status(plan_id).step(action_id_of(plan_id, index))
        except (KeyError, NotFoundError):
            return False
        return True

    def approve_and_dispatch(
        self, entry_id: str, *, principal: Principal, actor: str, approve: bool, comment: str
    ) -> tuple[Approval, DispatchReport | None]:
        """Decide an entry; when its plan asked to be dispatched, dispatch it now (re-checked)."""
        decided = self.decide(entry_id, principal=principal, actor=actor, approve=approve,
                              comment=comment)
        if not (approve and decided.dispatch):
            return decided, None
        record = self.plans.get(decided.plan_id)
        report = self.dispatch_plan(record, actor=actor)
        return self.approvals.get(entry_id), report


__all__ = ["ApprovalFlow", "DispatchReport", "Recheck"]
