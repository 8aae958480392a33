"""The reasoning facade: plan a goal, decide a proposed action, explain why not, explain UNSAT.

>>> import clingo
>>> from engine.reasoning.rules import rules_from_texts
>>> rules = rules_from_texts({"rules/r.lp": '''
... % @goal tidy "remove stale accounts"
... % @action disable(A: iri)
... % @rule stale "account answer is stale"
... action(disable(A)) :- request(tidy), stale(A).
... '''})
>>> facts = FactSet.from_groups({"stale/1": [clingo.Function("stale", [clingo.String("acme:u1")])]})
>>> plan = Reasoner(rules).plan(facts, "tidy", now=19000)
>>> [(a.action, a.decision.kind) for a in plan.actions]
[('disable("acme:u1")', 'allow')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import clingo

from engine.errors import SolveError
from engine.reasoning.conflict import Conflict, minimal_conflict
from engine.reasoning.decision_table import DecisionTable
from engine.reasoning.facts import FactSet
from engine.reasoning.plan import Plan, assemble_plan, reported_findings
from engine.reasoning.proof import LabelOf, ProofGraph, Resolver, build_proofs
from engine.reasoning.request import Request, decide_request, plan_request
from engine.reasoning.rules import RuleSet
from engine.reasoning.solve import Answer, Solver
from engine.reasoning.trace import Reach
from engine.reasoning.transform import FINDINGS, TraceScope
from engine.reasoning.whynot import WhyNot, why_not


class Reasoner:
    """Plans, decisions and explanations over one RuleSet (thread-safe; controls are cached)."""

    def __init__(
        self,
        rules: RuleSet,
        *,
        time_limit: float = 10.0,
        cache_size: int = 4,
        seed: int = 0,
        trace: TraceScope = TraceScope.OUTPUTS,
        table: bool = True,
    ) -> None:
        self.rules = rules
        self.solver = Solver(
            rules, time_limit=time_limit, cache_size=cache_size, seed=seed, trace=trace
        )
        # decisions looked up in every candidate's grounded world; off: the warm control
        self.table = DecisionTable(self.solver.program, seed=seed) if table else None

    def plan(
        self,
        facts: FactSet,
        goal: str,
        params: Mapping[str, object] | None = None,
        *,
        now: int | None,
        origin: Resolver | None = None,
        label_of: LabelOf | None = None,
        proofs: bool = True,
        findings: bool = True,
    ) -> Plan:
        """The optimal plan for ``goal``; SolveError(code="no_plan") with the minimal conflict."""
        request = plan_request(self.rules, goal, params, now=now)
        return self.run(
            facts, request, origin=origin, label_of=label_of, proofs=proofs, findings=findings
        )

    def decide(
        self,
        facts: FactSet,
        action: clingo.Symbol,
        params: Mapping[str, object] | None = None,
        *,
        now: int | None,
        origin: Resolver | None = None,
        label_of: LabelOf | None = None,
    ) -> Plan:
        """Decide one proposed action without planning: a Plan holding just that action."""
        request = decide_request(self.rules, action, params, now=now)
        return self.run(
            facts,
            request,
            origin=origin,
            label_of=label_of,
            proofs=True,
            findings=False,
            reach=True,
        )

    def run(
        self,
        facts: FactSet,
        request: Request,
        *,
        origin: Resolver | None = None,
        label_of: LabelOf | None = None,
        proofs: bool = True,
        findings: bool = True,
        reach: bool = False,
    ) -> Plan:
        """Solve a prepared request and assemble its Plan; ``reach`` reads only the fired
        instances the proofs use (a decision's proofs need a few of the model's thousands)."""
        given = facts.atom_set
        inputs = frozenset(request.given())
        answer = (
            None
            if self.table is None
            else self.table.solve(facts, request, lambda: self.solver.domain(facts, deciding=True))
        )
        if answer is None:
            answer = self.solver.solve(
                facts,
                request,
                reach=Reach(
                    roots=lambda shown, names: _roots(shown, names, findings),
                    given=lambda atom: atom in given or atom in inputs,
                )
                if proofs and reach
                else None,
            )
        if not answer.satisfiable:
            conflict = minimal_conflict(self.solver, facts, request)
            raise SolveError(
                f"no plan satisfies the rules for goal `{request.goal}`: "
                f"conflicting {conflict.describe()}",
                code="no_plan",
                details={"conflict": conflict.model_dump(mode="json")},
            )
        listed = (
            reported_findings(answer, FINDINGS)
            if findings and self.solver.program.reports
            else None
        )
        graph = (
            self._proofs(answer, facts, request, origin, label_of, findings, listed)
            if proofs
            else None
        )
        return assemble_plan(
            request=request,
            answer=answer,
            rules_revision=self.rules.revision,
            facts_revision=facts.revision,
            proofs=graph,
            finding_names=FINDINGS,
            all_findings=findings,
            listed=listed,
        )

    def _proofs(
        self,
        answer: Answer,
        facts: FactSet,
        request: Request,
        origin: Resolver | None,
        label_of: LabelOf | None,
        findings: bool,
        listed: Sequence[clingo.Symbol] | None,
    ) -> ProofGraph:
        """The proofs of the plan's actions, their decisions and its findings: those
        ``listed`` (the rules report them) or every one (the fixed ones as ``fixed_roots``)."""
        if listed is not None:
            roots = [*_roots(answer.shown, answer.names, False), *listed]
            fixed: Sequence[clingo.Symbol] = ()
        else:
            roots = _roots(answer.shown, answer.names, findings)
            fixed = answer.fixed.symbols if findings and answer.fixed is not None else ()
        return build_proofs(
            self.solver.program,
            answer.fired,
            facts=facts.atom_set,
            inputs=request.given(),
            static=None if answer.trace is None else answer.trace.static_index(self.solver.program),
            memo=None if answer.trace is None else answer.trace.parsed,
            fact_memo=None if answer.trace is None else answer.trace.fact_nodes,
            settled=None if answer.trace is None else answer.trace.settled(),
            fact_values=facts.values,
            roots=roots,
            fixed_roots=fixed,
            origin=origin,
            label_of=label_of,
        )

    def why_not(
        self,
        facts: FactSet,
        goal: str,
        action: clingo.Symbol,
        params: Mapping[str, object] | None = None,
        *,
        now: int | None,
        origin: Resolver | None = None,
        label_of: LabelOf | None = None,
    ) -> WhyNot:
        """Why ``action`` is not in the plan for ``goal``."""
        request = plan_request(self.rules, goal, params, now=now)
        return why_not(self.solver, facts, request, action, origin=origin, label_of=label_of)

    def conflict(
        self,
        facts: FactSet,
        goal: str,
        params: Mapping[str, object] | None = None,
        *,
        now: int | None,
    ) -> Conflict:
        """The minimal conflicting constraints of a goal with no plan (empty if it has one)."""
        return minimal_conflict(self.solver, facts, plan_request(self.rules, goal, params, now=now))


def _roots(
    shown: Sequence[clingo.Symbol], names: Sequence[str], findings: bool
) -> list[clingo.Symbol]:
    """The atoms a plan proves among the shown ones: actions, their denials and escalations,
    and the open findings (the fixed ones are ``Answer.fixed``)."""
    wanted = {"action", "deny", "escalate"} | (set(FINDINGS) if findings else set())
    actions = {s.arguments[0] for s, n in zip(shown, names, strict=True) if n == "action"}
    return [
        s
        for s, n in zip(shown, names, strict=True)
        if n in wanted and (n not in ("deny", "escalate") or s.arguments[0] in actions)
    ]
