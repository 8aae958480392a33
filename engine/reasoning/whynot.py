"""Why was an action not in the plan? Unmet conditions, a worse cost, or a blocking constraint.

Three answers, tried in this order:

- ``not_chosen`` — the action is possible: the best plan that contains it (the action assumed
  true) costs more; the cost difference says by how much.
- ``blocked`` — some rule offers the action, but no plan with it satisfies the constraints: the
  minimal conflicting set, from ``conflict``.
- ``not_derivable`` — no rule can produce it: for each rule whose head unifies with the action,
  the first body condition that fails against the plan's answer set, with the bindings found so
  far (a missing fact, a ``not x`` where x holds — with x's proof — or a failed comparison).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import clingo
from clingo import ast
from pydantic import BaseModel, ConfigDict

from engine.reasoning.astutil import (
    Binding,
    NotGround,
    atom_signature,
    comparison_holds,
    evaluate,
    match,
    render,
    substitute,
    variable_names,
)
from engine.reasoning.conflict import Conflict, minimal_conflict
from engine.reasoning.facts import FactSet
from engine.reasoning.proof import LabelOf, ProofGraph, Resolver, build_proofs
from engine.reasoning.request import Request
from engine.reasoning.solve import Answer, Solver
from engine.reasoning.transform import DECIDE_RULE_ID, head_elements

FailureKind = Literal["missing", "negated", "comparison", "unsupported"]
_STEP_LIMIT = 200_000


class Failure(BaseModel):
    """The first condition of one rule that did not hold, with the bindings made so far."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    rule_id: str
    file: str
    line: int
    label: str | None
    condition: str
    kind: FailureKind
    bindings: dict[str, str]
    proof: ProofGraph | None = None


class WhyNot(BaseModel):
    """The explanation of an action's absence from a plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    action: str
    status: Literal["chosen", "not_chosen", "blocked", "not_derivable", "no_plan"]
    failures: tuple[Failure, ...] = ()
    plan_cost: tuple[int, ...] | None = None
    cost_with_action: tuple[int, ...] | None = None
    cost_difference: tuple[int, ...] | None = None
    conflict: Conflict | None = None


def why_not(
    solver: Solver,
    facts: FactSet,
    request: Request,
    action: clingo.Symbol,
    *,
    origin: Resolver | None = None,
    label_of: LabelOf | None = None,
) -> WhyNot:
    """Explain why ``action`` is not in the plan for ``request``."""
    target = clingo.Function("action", [action])
    base = solver.solve(facts, request, all_atoms=True)
    if not base.satisfiable:
        return WhyNot(
            action=str(action), status="no_plan", conflict=minimal_conflict(solver, facts, request)
        )
    atoms = frozenset(base.atoms or ())
    if target in atoms:
        return WhyNot(action=str(action), status="chosen", plan_cost=base.cost)
    forced = solver.solve(facts, request, extra=[(target, True)])
    if forced.satisfiable:
        return WhyNot(
            action=str(action),
            status="not_chosen",
            plan_cost=base.cost,
            cost_with_action=forced.cost,
            cost_difference=_difference(forced.cost, base.cost),
        )
    failures, offered = _explain(solver, base, atoms, target, facts, request, origin, label_of)
    if offered:
        conflict = minimal_conflict(solver, facts, request, extra=[(target, True)])
        return WhyNot(action=str(action), status="blocked", plan_cost=base.cost, conflict=conflict)
    return WhyNot(
        action=str(action), status="not_derivable", failures=tuple(failures), plan_cost=base.cost
    )


def _difference(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    width = max(len(a), len(b))
    pa, pb = [0] * (width - len(a)) + list(a), [0] * (width - len(b)) + list(b)
    return tuple(x - y for x, y in zip(pa, pb, strict=True))


@dataclass
class _Deepest:
    depth: int = -1
    failure: tuple[ast.AST, Binding, FailureKind, clingo.Symbol | None] | None = None
    steps: int = 0


def _explain(
    solver: Solver,
    base: Answer,
    atoms: frozenset[clingo.Symbol],
    target: clingo.Symbol,
    facts: FactSet,
    request: Request,
    origin: Resolver | None,
    label_of: LabelOf | None,
) -> tuple[list[Failure], bool]:
    index: dict[tuple[str, int], list[clingo.Symbol]] = {}
    for a in atoms:
        if a.type == clingo.SymbolType.Function:
            index.setdefault((a.name, len(a.arguments)), []).append(a)
    failures: list[Failure] = []
    for rule in solver.program.rules:
        if rule.id == DECIDE_RULE_ID and request.proposed is None:
            continue
        for literal, condition in head_elements(rule):
            if literal.atom.ast_type != ast.ASTType.SymbolicAtom:
                continue
            start = match(literal.atom, target, {})
            if start is None:
                continue
            deepest = _Deepest()
            if _search([*rule.body, *condition], start, index, atoms, deepest, 0):
                return [], True
            if deepest.failure is None:
                continue
            lit, binding, kind, witness = deepest.failure
            proof = None
            if witness is not None:
                proof = build_proofs(
                    solver.program,
                    base.fired,
                    facts=facts.atom_set,
                    inputs=request.given(),
                    static=None if base.trace is None else base.trace.static_index(solver.program),
                    memo=None if base.trace is None else base.trace.parsed,
                    fact_memo=None if base.trace is None else base.trace.fact_nodes,
                    roots=[witness],
                    origin=origin,
                    label_of=label_of,
                )
            failures.append(
                Failure(
                    rule_id=rule.id,
                    file=rule.file,
                    line=rule.line,
                    label=rule.label,
                    condition=str(substitute(lit, binding)),
                    kind=kind,
                    bindings={k: render(v) for k, v in sorted(binding.items())},
                    proof=proof,
                )
            )
    return failures, False


def _ready(lit: ast.AST, binding: Mapping[str, clingo.Symbol]) -> bool:
    if (
        lit.ast_type == ast.ASTType.Literal
        and lit.sign == ast.Sign.NoSign
        and (lit.atom.ast_type == ast.ASTType.SymbolicAtom)
    ):
        return True
    return variable_names(lit) <= set(binding) or _assignment(lit, binding) is not None


def _assignment(lit: ast.AST, binding: Mapping[str, clingo.Symbol]) -> tuple[str, ast.AST] | None:
    """``X = expr`` (or ``expr = X``) with X unbound and expr ground: an assignment."""
    if lit.ast_type != ast.ASTType.Literal or lit.atom.ast_type != ast.ASTType.Comparison:
        return None
    comp = lit.atom
    if len(comp.guards) != 1 or comp.guards[0].comparison != ast.ComparisonOperator.Equal:
        return None
    for var, expr in ((comp.term, comp.guards[0].term), (comp.guards[0].term, comp.term)):
        if (
            var.ast_type == ast.ASTType.Variable
            and var.name not in binding
            and (variable_names(expr) <= set(binding))
        ):
            return var.name, expr
    return None


def _search(
    lits: list[ast.AST],
    binding: Binding,
    index: Mapping[tuple[str, int], list[clingo.Symbol]],
    atoms: frozenset[clingo.Symbol],
    deepest: _Deepest,
    depth: int,
) -> bool:
    """Whether the literals can all hold; records the deepest failure on the way."""
    deepest.steps += 1
    if not lits:
        return True
    if deepest.steps > _STEP_LIMIT:
        return False
    pick = next((i for i, lit in enumerate(lits) if _ready(lit, binding)), 0)
    lit, rest = lits[pick], lits[:pick] + lits[pick + 1 :]

    def fail(kind: FailureKind, witness: clingo.Symbol | None = None) -> bool:
        if depth > deepest.depth:
            deepest.depth, deepest.failure = depth, (lit, dict(binding), kind, witness)
        return False

    if lit.ast_type != ast.ASTType.Literal:
        return _search(rest, binding, index, atoms, deepest, depth + 1)  # conditional literal
    kind = lit.atom.ast_type
    if kind == ast.ASTType.SymbolicAtom:
        sig = atom_signature(lit.atom)
        if lit.sign == ast.Sign.NoSign:
            for candidate in index.get(sig, []) if sig else []:
                extended = match(lit.atom, candidate, binding)
                if extended is not None and _search(
                    rest, extended, index, atoms, deepest, depth + 1
                ):
                    return True
            return fail("missing")
        holding = [c for c in (index.get(sig, []) if sig else []) if match(lit.atom, c, binding)]
        if lit.sign == ast.Sign.Negation and holding:
            return fail("negated", holding[0])
        if lit.sign == ast.Sign.DoubleNegation and not holding:
            return fail("missing")
        return _search(rest, binding, index, atoms, deepest, depth + 1)
    if kind == ast.ASTType.Comparison:
        assign = _assignment(lit, binding)
        try:
            if assign is not None:
                extended = {**binding, assign[0]: evaluate(assign[1], binding)}
                return _search(rest, extended, index, atoms, deepest, depth + 1)
            if comparison_holds(lit.atom, binding):
                return _search(rest, binding, index, atoms, deepest, depth + 1)
        except NotGround:
            return fail("unsupported")
        return fail("comparison")
    if kind == ast.ASTType.BooleanConstant and not lit.atom.value:
        return fail("comparison")
    # aggregates are not re-evaluated here; the solver's answer decides them
    return _search(rest, binding, index, atoms, deepest, depth + 1)
