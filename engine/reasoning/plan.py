"""Plans and decisions: what the engine returns for a goal or a proposed action.

A ``Plan`` lists the chosen actions in an order that respects ``after/2`` (a topological order,
ties broken by the action's text, so it is deterministic), the cost vector and its labelled
breakdown, whether the optimum was proven, one ``Decision`` per action, the findings, the
revisions of rules and facts it used, and the proof DAG.

Findings: a plan lists every finding in scope (what is wrong is part of what it answers): the
ones ``reported/1`` names when the rules define it (a plan for one vendor lists that vendor's),
else every finding the model holds. The decision on one proposed action lists only the
findings its proofs reach — the whole KG's findings (hundreds of kilobytes at 100k triples)
say nothing about one action, and each decision record would store and serve them again.

Decision per action: ``deny`` if any ``deny(A, _)`` holds (every reason listed), else
``escalate`` if any ``escalate(A, Role, _)`` holds (roles and reasons), else ``allow``.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Sequence
from typing import Literal

import clingo
from pydantic import BaseModel, ConfigDict

from engine.errors import SolveError
from engine.reasoning.astutil import render
from engine.reasoning.clingo_c import Symbols
from engine.reasoning.proof import ProofGraph, RuleNode
from engine.reasoning.request import Request
from engine.reasoning.solve import Answer, insertion_points, merge_at
from engine.reasoning.transform import REPORTED

DecisionKind = Literal["allow", "escalate", "deny"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Decision(_Model):
    """The policy decision on one action, with the reasons that produced it."""

    kind: DecisionKind
    role: str | None = None
    roles: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


class CostItem(_Model):
    """One tuple of a ``#minimize`` statement that the plan pays for."""

    priority: int
    weight: int
    terms: tuple[str, ...]


class PlannedAction(_Model):
    """An action in the plan: its position, what it runs after, its decision and proof root."""

    index: int
    action: str
    after: tuple[str, ...] = ()
    decision: Decision
    proof: str | None = None


class Plan(_Model):
    """A plan for a goal (or the decision on a proposed action), replayable from its revisions."""

    version: Literal["plan.v1"] = "plan.v1"
    goal: str
    params: dict[str, str | int | bool]
    proposed: str | None = None
    actions: tuple[PlannedAction, ...]
    cost: tuple[int, ...]
    cost_breakdown: tuple[CostItem, ...]
    optimal: bool
    findings: tuple[str, ...]
    rules_revision: str
    facts_revision: str
    proofs: ProofGraph | None = None

    def to_json(self) -> str:
        """Stable JSON (sorted keys) for storage, golden files and replay comparison."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=2)

    def decision(self, action: str) -> Decision:
        """The decision on one planned action (by its text); KeyError if not planned."""
        for a in self.actions:
            if a.action == action:
                return a.decision
        raise KeyError(action)


def decisions(
    shown: Sequence[clingo.Symbol], actions: Sequence[clingo.Symbol]
) -> dict[clingo.Symbol, Decision]:
    """Apply deny > escalate > allow to each action from the shown deny/escalate atoms."""
    denies: dict[clingo.Symbol, list[str]] = {}
    escalations: dict[clingo.Symbol, list[tuple[str, str]]] = {}
    for atom in shown:
        if atom.name == "deny" and len(atom.arguments) == 2:
            denies.setdefault(atom.arguments[0], []).append(render(atom.arguments[1]))
        elif atom.name == "escalate" and len(atom.arguments) == 3:
            a, role, reason = atom.arguments
            escalations.setdefault(a, []).append((render(role), render(reason)))
    out: dict[clingo.Symbol, Decision] = {}
    for action in actions:
        if action in denies:
            out[action] = Decision(kind="deny", reasons=tuple(sorted(set(denies[action]))))
        elif action in escalations:
            pairs = sorted(set(escalations[action]))
            roles = tuple(sorted({r for r, _ in pairs}))
            out[action] = Decision(
                kind="escalate",
                role=roles[0],
                roles=roles,
                reasons=tuple(dict.fromkeys(reason for _r, reason in pairs)),
            )
        else:
            out[action] = Decision(kind="allow")
    return out


def order_actions(
    actions: Sequence[clingo.Symbol], after: Sequence[tuple[clingo.Symbol, clingo.Symbol]]
) -> list[clingo.Symbol]:
    """A topological order where ``after(A, B)`` puts B before A; ties by the action's text."""
    chosen = set(actions)
    preds: dict[clingo.Symbol, set[clingo.Symbol]] = {a: set() for a in actions}
    succs: dict[clingo.Symbol, set[clingo.Symbol]] = {a: set() for a in actions}
    for a, b in after:
        if a in chosen and b in chosen and a != b:
            preds[a].add(b)
            succs[b].add(a)
    heap = [(str(a), a) for a in actions if not preds[a]]
    heapq.heapify(heap)
    order: list[clingo.Symbol] = []
    while heap:
        _text, a = heapq.heappop(heap)
        order.append(a)
        for s in succs[a]:
            preds[s].discard(a)
            if not preds[s]:
                heapq.heappush(heap, (str(s), s))
    if len(order) < len(actions):
        stuck = sorted(str(a) for a in actions if a not in set(order))
        raise SolveError(
            f"after/2 orders actions in a cycle through `{stuck[0]}`", code="order_cycle"
        )
    return order


def cost_items(
    costs: Sequence[clingo.Symbol], *, text: Callable[[clingo.Symbol], str] = render
) -> tuple[CostItem, ...]:
    """The ``__cost(P, W, Terms)`` atoms as breakdown items, highest priority first
    (``text`` renders a term: ``Answer.rendered`` keeps them per grounding)."""
    items = [
        CostItem(
            priority=c.arguments[0].number,
            weight=c.arguments[1].number,
            terms=tuple(text(t) for t in c.arguments[2].arguments),
        )
        for c in costs
        if c.arguments[0].type == clingo.SymbolType.Number
        and c.arguments[1].type == clingo.SymbolType.Number
    ]
    return tuple(sorted(items, key=lambda i: (-i.priority, i.terms, i.weight)))


def assemble_plan(
    *,
    request: Request,
    answer: Answer,
    rules_revision: str,
    facts_revision: str,
    proofs: ProofGraph | None,
    finding_names: frozenset[str],
    all_findings: bool = True,
    listed: Sequence[clingo.Symbol] | None = None,
) -> Plan:
    """Turn a satisfiable answer into a Plan listing the findings ``listed`` (a plan's, from
    ``reported_findings``), or every finding it holds; without ``all_findings`` (a decision)
    only the findings that are nodes of ``proofs`` (none without proofs)."""
    actions = [s.arguments[0] for s in answer.named(("action",)) if len(s.arguments) == 1]
    after = [(s.arguments[0], s.arguments[1]) for s in answer.named(("after",))]
    ordered = order_actions(actions, after)
    decided = decisions(answer.named(("deny", "escalate")), actions)
    roots = proofs.roots if proofs is not None else {}
    # grouped once: a scan of every pair per action was quadratic in the plan's size
    after_of: dict[clingo.Symbol, list[clingo.Symbol]] = {}
    for a, b in after:
        if b in decided and b != a:
            after_of.setdefault(a, []).append(b)
    planned = []
    for index, action in enumerate(ordered):
        before = sorted(str(b) for b in after_of.get(action, ()))
        planned.append(
            PlannedAction(
                index=index,
                action=str(action),
                after=tuple(before),
                decision=decided[action],
                proof=roots.get(str(clingo.Function("action", [action]))),
            )
        )
    return Plan(
        goal=request.goal,
        params=request.param_values(),
        proposed=None if request.proposed is None else str(request.proposed),
        actions=tuple(planned),
        cost=answer.cost,
        cost_breakdown=cost_items(answer.costs, text=answer.rendered),
        optimal=answer.optimal,
        findings=(
            _findings(answer, finding_names, proofs, all_findings)
            if listed is None
            else tuple(answer.text(s) for s in listed)
        ),
        rules_revision=rules_revision,
        facts_revision=facts_revision,
        proofs=proofs,
    )


def reported_findings(answer: Answer, names: frozenset[str]) -> list[clingo.Symbol]:
    """The findings (predicates ``names``) the answer holds that a ``reported/1`` atom names,
    in clingo's order: what a plan lists when the rules scope its findings.

    Both runs of held findings are in clingo's order already (those grounding fixed, and the
    open ones the model holds), so they are filtered and merged, not sorted: a whole-KG plan
    reports tens of thousands.
    """
    read = Symbols()
    reported = {read.first(r._rep) for r in answer.named((REPORTED[0],))}
    held = [s for s in answer.named(names) if s._rep in reported]
    if answer.fixed is None:
        return held
    fixed = [s for s in answer.fixed.symbols if s._rep in reported]
    return merge_at(insertion_points(held, fixed), held, fixed)


def _findings(
    answer: Answer, names: frozenset[str], proofs: ProofGraph | None, everything: bool
) -> tuple[str, ...]:
    """All findings in clingo's symbol order (the fixed ones with the open ones the answer
    shows), or those that are nodes of ``proofs`` in the same order (read from the few nodes,
    not the thousands of findings of the KG)."""
    if everything:
        held = answer.named(names)
        if answer.fixed is None:
            return tuple(answer.text(s) for s in held)
        fixed = answer.fixed
        points = insertion_points(held, fixed.symbols)
        return tuple(merge_at(points, [answer.text(s) for s in held], fixed.texts))
    if proofs is None:
        return ()
    reached = [t for t in proved_atoms(proofs) if t.split("(", 1)[0] in names]
    return tuple(str(s) for s in sorted(clingo.parse_term(t) for t in reached))


def proved_atoms(proofs: ProofGraph) -> frozenset[str]:
    """The atom text of every node of a proof graph (rule heads and facts)."""
    return frozenset(
        node.head if isinstance(node, RuleNode) else node.atom for node in proofs.nodes.values()
    )
