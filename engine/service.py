"""The application service: the one place the API and the CLI change state through.

It composes the knowledge store, the ingestor, the decision plane, the plan store, the audit
log, the outbox with its executors, and the approval queue, and keeps the rule that every
state change is audited: ingestion batches (and quarantines), plans, decisions, approvals,
rejections, re-checks, dispatch requests (the outbox audits each attempt itself) and rule
reloads. Plans, decisions, approvals and dispatch outcomes also go to the KG's decisions graph
as PROV-O (:mod:`engine.decision_graph`).

Example::

    service = WarrantService.open(workspace, store, engine=open_database(url),
                                  clock=SystemClock())
    record = service.plan("remediate", {}, actor="cli")
    report = service.dispatch_plan(record.id, actor="cli")
    service.drain(timeout_s=10)
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from engine.action.approval_flow import ApprovalFlow, DispatchReport
from engine.action.approvals import ApprovalStore
from engine.action.audit import AuditEntryV1, AuditKind, AuditLog, VerifyReport
from engine.action.backoff import Clock, RetryPolicy
from engine.action.db import write
from engine.action.executors import Executor, build_executors
from engine.action.outbox import Outbox
from engine.action.status import DeadLetter, DrainReport, PlanProgress
from engine.decision_graph import dispatch_triples, plan_triples
from engine.errors import ConflictError, RuleError
from engine.export import export_after_plan
from engine.knowledge.ingest import Ingestor, IngestSummary
from engine.knowledge.ontology_sync import sync_ontology
from engine.knowledge.push import PushChange, pushed_read
from engine.plan_store import PlanStore
from engine.planning import DecisionPlane, PlanRecord
from engine.reasoning import WhyNot
from engine.reasoning.rules import RuleMessage
from engine.store.base import GraphChange, KnowledgeStore
from engine.vocab import GRAPH_DECISIONS, RDF_TYPE, plan_node, wr
from engine.workspace import Workspace

_QUARANTINE_LISTED = 100


@dataclass(frozen=True)
class DecisionOutcome:
    """A proposed action's decision, and what happened next (queued, dispatched)."""

    record: PlanRecord
    approval_id: str | None
    dispatch: DispatchReport | None


@dataclass(frozen=True)
class RulesReload:
    """The rules revision before and after a reload."""

    before: str | None
    after: str
    rules: int


class WarrantService:
    """Ingest, plan, decide, approve, dispatch and audit over one workspace and store."""

    def __init__(
        self,
        workspace: Workspace,
        store: KnowledgeStore,
        *,
        engine: Engine,
        clock: Clock,
        executors: Mapping[str, Executor],
        rng: random.Random | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.workspace = workspace
        self.store = store
        self.engine = engine
        self.clock = clock
        self.audit = AuditLog(engine)
        self.plans = PlanStore(engine)
        self.plane = DecisionPlane(workspace, store, clock=clock.now)
        self.outbox = Outbox(
            engine,
            clock=clock,
            rng=rng or random.Random(),
            policy=retry_policy,
            executors=executors,
        )
        self.approvals = ApprovalStore(engine)
        self.flow = ApprovalFlow(
            plane=self.plane,
            plans=self.plans,
            approvals=self.approvals,
            audit=self.audit,
            outbox=self.outbox,
            store=store,
            engine=engine,
            clock=clock,
        )
        self._ingestor: Ingestor | None = None

    @classmethod
    def open(
        cls,
        workspace: Workspace,
        store: KnowledgeStore,
        *,
        engine: Engine,
        clock: Clock,
        env: Mapping[str, str] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> WarrantService:
        """A service whose executors come from the workspace's ``[executors]`` tables."""
        section = {
            name: cfg.model_dump(exclude_none=True, exclude_defaults=True) | {"type": cfg.type}
            for name, cfg in workspace.config.executors.items()
        }
        executors = build_executors(section, env=os.environ if env is None else env)
        return cls(
            workspace,
            store,
            engine=engine,
            clock=clock,
            executors=executors,
            retry_policy=retry_policy,
        )

    def close(self) -> None:
        """Close the executors (the store and the engine belong to the caller)."""
        self.outbox.close()

    # -- ingestion -------------------------------------------------------------------------

    def ingestor(self) -> Ingestor:
        """The ingestor, sharing the decision plane's ontology."""
        if self._ingestor is None:
            files = self.workspace.ontology_files()
            ontology = self.plane.ontology() if files else None
            self._ingestor = Ingestor(
                self.workspace, self.store, clock=self.clock.now, ontology=ontology
            )
        return self._ingestor

    def ingest(
        self,
        sources: Sequence[str] | None = None,
        *,
        actor: str,
        force: bool = False,
        on_source: Callable[[str], None] | None = None,
    ) -> list[IngestSummary]:
        """Pull sources (default: all) into the KG; one audit entry per batch."""
        sync_ontology(self.store, self.workspace.ontology_files())
        summaries = self.ingestor().ingest(sources or None, force=force, on_source=on_source)
        for s in summaries:
            self._audit_batch(s, actor=actor, pushed=False)
        return summaries

    def push(self, source: str, change: PushChange, *, actor: str) -> IngestSummary:
        """Apply pushed upserts and deletes to a source as one gated, recorded batch."""
        read = pushed_read(self.workspace, self.store, source, change)
        summary = self.ingestor().ingest_read(read)
        self._audit_batch(
            summary,
            actor=actor,
            pushed=True,
            extra={"upserted": len(change.upsert), "deleted": len(change.delete)},
        )
        return summary

    def _audit_batch(
        self,
        s: IngestSummary,
        *,
        actor: str,
        pushed: bool,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        payload = {k: v for k, v in s.as_dict().items() if k != "quarantine"}
        payload |= {"pushed": pushed, **(extra or {})}
        at = self.clock.now()
        with write(self.engine) as conn:
            self.audit.append(
                AuditKind.INGEST_BATCH,
                actor=actor,
                subject=f"source:{s.source}",
                payload=payload,
                at=at,
                conn=conn,
            )
            if s.quarantined and not s.unchanged:
                self.audit.append(
                    AuditKind.QUARANTINE,
                    actor=actor,
                    subject=f"source:{s.source}",
                    payload={
                        "batch_id": s.batch_id,
                        "quarantined": s.quarantined,
                        "records": list(s.quarantine[:_QUARANTINE_LISTED]),
                    },
                    at=at,
                    conn=conn,
                )

    # -- plans and decisions ---------------------------------------------------------------

    def plan(
        self,
        goal: str,
        params: Mapping[str, object] | None = None,
        *,
        actor: str,
        idempotency_key: str | None = None,
    ) -> PlanRecord:
        """Plan for ``goal``; a reused idempotency key returns the plan first stored under it."""
        if idempotency_key is not None:
            existing = self.plans.by_idempotency_key(idempotency_key)
            if existing is not None:
                typed = self.plane.typed_params(params or {})
                if existing.plan.goal != goal or dict(existing.plan.params) != typed:
                    raise ConflictError(
                        f"idempotency key `{idempotency_key}` was used for another request",
                        details={"plan_id": existing.id},
                    )
                return existing
        record = self.plane.plan(goal, params or {})
        stored = self._store_record(record, actor=actor, idempotency_key=idempotency_key)
        # `[export.neo4j] after_plan = true`: the graph people explore gets every new plan.
        export_after_plan(self.workspace, stored)
        return stored

    def decide(
        self,
        action: str,
        params: Mapping[str, object] | None = None,
        *,
        actor: str,
        dispatch: bool = False,
    ) -> DecisionOutcome:
        """Decide one proposed action; queue it if escalated, enqueue it if allowed + dispatch."""
        record = self._store_record(self.plane.decide(action, params or {}), actor=actor)
        queued = self.flow.queue_escalations(record, dispatch=dispatch)
        report = None
        if dispatch and record.plan.actions and record.plan.actions[0].decision.kind == "allow":
            report = self.dispatch_plan(record.id, actor=actor)
        return DecisionOutcome(record, queued[0] if queued else None, report)

    def _store_record(
        self, record: PlanRecord, *, actor: str, idempotency_key: str | None = None
    ) -> PlanRecord:
        """Store the record and its audit entry in one transaction, and its PROV-O statements
        in the decisions graph before that transaction commits: a failure anywhere leaves no
        record without its entry (the KG write is idempotent, so a record whose statements
        are in the KG already, a repeated request, does not write them again)."""
        with write(self.engine) as conn:
            saved = self.plans.store(conn, record, idempotency_key=idempotency_key)
            stored = saved.record
            kind = AuditKind.PLAN if stored.kind == "plan" else AuditKind.DECISION
            self.audit.append(
                kind,
                actor=actor,
                subject=f"plan:{stored.id}",
                payload={
                    "goal": stored.plan.goal,
                    "proposed": stored.plan.proposed,
                    "params": dict(stored.plan.params),
                    "rules_revision": stored.plan.rules_revision,
                    "kg_state": stored.kg_state,
                    "idempotency_key": idempotency_key,
                    "decisions": [
                        {
                            "action": a.action,
                            "kind": a.decision.kind,
                            "roles": list(a.decision.roles),
                            "reasons": list(a.decision.reasons),
                        }
                        for a in stored.plan.actions
                    ],
                },
                at=self.clock.now(),
                conn=conn,
            )
            if saved.new or not self._in_decisions_graph(stored.id):
                self.store.apply([GraphChange(GRAPH_DECISIONS, added=plan_triples(stored))])
        if stored.kind == "plan":
            self.flow.queue_escalations(stored, dispatch=False)
        return stored

    def _in_decisions_graph(self, plan_id: str) -> bool:
        """Whether a plan's statements are in the decisions graph (they are written in one
        store transaction, so its ``wr:Plan`` type stands for all of them)."""
        found = self.store.match(plan_node(plan_id), RDF_TYPE, wr("Plan"), GRAPH_DECISIONS)
        return next(iter(found), None) is not None

    def get_plan(self, plan_id: str) -> PlanRecord:
        """A stored plan or decision (NotFoundError otherwise)."""
        return self.plans.get(plan_id)

    def why_not(self, plan_id: str, action: str) -> WhyNot:
        """Why ``action`` is not in a stored plan, on the current KG."""
        return self.plane.why_not(self.plans.get(plan_id), action)

    # -- dispatch --------------------------------------------------------------------------

    def dispatch_plan(self, plan_id: str, *, actor: str) -> DispatchReport:
        """Enqueue the ready actions of a plan in order (see :mod:`engine.action.approval_flow`)."""
        return self.flow.dispatch_plan(self.plans.get(plan_id), actor=actor)

    def drain(self, *, timeout_s: float) -> DrainReport:
        """Run due outbox work until idle; record each outcome in the decisions graph."""
        report = self.outbox.run_until_idle(timeout_s=timeout_s)
        at = self.clock.now()
        added = []
        for r in report.records:
            added += dispatch_triples(
                r.action_id,
                outcome=str(r.outcome),
                state=str(r.state or "taken_over"),
                attempt=r.attempt,
                at=at,
            )
        if added:
            self.store.apply([GraphChange(GRAPH_DECISIONS, added=added)])
        return report

    def progress(self, plan_id: str) -> PlanProgress:
        """A plan's dispatch checkpoint (NotFoundError for an unknown plan)."""
        self.plans.get(plan_id)
        return self.outbox.plan_status(plan_id)

    def dead_letters(self) -> list[DeadLetter]:
        """The dead-letter list."""
        return self.outbox.dead_letters()

    def retry_dead(self, action_id: str, *, actor: str) -> None:
        """Send a dead action again (audited by the outbox)."""
        self.outbox.retry_dead(action_id, actor=actor)

    # -- audit and rules -------------------------------------------------------------------

    def audit_entries(self, *, since_seq: int = 0, limit: int = 100) -> list[AuditEntryV1]:
        """Audit entries after ``since_seq``, oldest first."""
        return self.audit.entries(since_seq=since_seq, limit=limit)

    def verify_audit(self) -> VerifyReport:
        """Walk the hash chain; name the first bad entry."""
        return self.audit.verify()

    def reload_rules(self, *, actor: str) -> RulesReload:
        """Re-read and re-check the rules (RuleError if they do not check); audited."""
        before = self.plane.loaded_revision
        try:
            rules = self.plane.rules()
        except RuleError as exc:
            self.audit.append(
                AuditKind.RULE_RELOAD,
                actor=actor,
                subject="rules",
                payload={"before": before, "ok": False, "code": exc.code, "error": str(exc)[:500]},
                at=self.clock.now(),
            )
            raise
        self.audit.append(
            AuditKind.RULE_RELOAD,
            actor=actor,
            subject="rules",
            payload={
                "before": before,
                "after": rules.revision,
                "rules": len(rules.rules),
                "changed": before != rules.revision,
                "ok": True,
            },
            at=self.clock.now(),
        )
        return RulesReload(before=before, after=rules.revision, rules=len(rules.rules))

    def check_rules(self) -> list[RuleMessage]:
        """Every located message about the rules on disk."""
        return self.plane.check_messages()
