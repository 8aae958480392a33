"""Rewrite the rule program for the engine: tracing, guarded constraints, cost tuples, shows.

The solver never sees the author's statements unchanged. ``compile_program`` adds, per rule:

- ``__fired(I, E, (X1, …, Xn)) :- Body.`` — one atom per ground instance whose body held
  (``E`` numbers the elements of a choice head; a chosen element's atom joins its body so that
  only chosen atoms are recorded). Only rules that can reach an output predicate are traced
  unless ``TraceScope.ALL`` is asked for, which keeps grounding lean.
- ``:- Body, __on(I).`` for each integrity constraint, with ``#external __on(I).`` declared by
  the solver, so an unsat core can name the constraints that conflict.
- ``__cost(P, W, (T…)) :- Cond.`` for each ``#minimize`` element / weak constraint, the
  labelled tuples of the cost breakdown.

The author's own ``#show`` statements are dropped; the engine shows what it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import clingo
from clingo import ast

from engine.reasoning.astutil import (
    Signature,
    atom_signature,
    signatures,
    symbolic_atoms,
    variable_names,
)
from engine.reasoning.rules import Rule, RuleSet

OUTPUTS: frozenset[Signature] = frozenset(
    {("action", 1), ("after", 2), ("deny", 2), ("escalate", 3)}
)
INPUTS: frozenset[Signature] = frozenset(
    {("request", 1), ("param", 2), ("now", 1), ("proposed", 1)}
)
FINDINGS: frozenset[str] = frozenset({"violation", "finding"})
# ``reported(F)``: a plan lists finding F. Rules that define it scope a plan's findings (a plan
# for one vendor lists that vendor's); without it a plan lists every finding.
REPORTED: Signature = ("reported", 1)
FIRED, COST, ON, SELECTED = "__fired", "__cost", "__on", "__input"
# ``__true(K)``: the K-th dynamic ``__fired`` instance holds (``Trace.show_dynamic``)
TRUE_FIRED = "__true"
DECIDE_RULE_ID = "engine:decide"
_ENGINE_FILE = "<engine>"


class TraceScope(Enum):
    """Which rules get ``__fired`` tracing: those feeding outputs, all, or none."""

    OUTPUTS = "outputs"
    ALL = "all"
    NONE = "none"


@dataclass(frozen=True)
class TracedElement:
    """One traced (rule, head element): its variables and the literals that held."""

    rule: Rule
    element: int
    variables: tuple[str, ...]
    head: ast.AST | None = field(compare=False, repr=False)
    body: tuple[ast.AST, ...] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Program:
    """The compiled program: statements for clingo plus what is needed to read a model back."""

    statements: tuple[ast.AST, ...] = field(repr=False)
    rules: tuple[Rule, ...]
    traced: Mapping[tuple[int, int], TracedElement]
    constraints: Mapping[int, Rule]
    finding_signatures: tuple[Signature, ...]
    used_signatures: frozenset[Signature]
    reports: bool = False  # the rules define ``reported/1``: plans list the findings it names


def _loc() -> ast.Location:
    pos = ast.Position(_ENGINE_FILE, 1, 1)
    return ast.Location(pos, pos)


def _lit(name: str, args: list[ast.AST]) -> ast.AST:
    loc = _loc()
    return ast.Literal(loc, ast.Sign.NoSign, ast.SymbolicAtom(ast.Function(loc, name, args, 0)))


def _num(n: int) -> ast.AST:
    return ast.SymbolicTerm(_loc(), clingo.Number(n))


def decide_rule(index: int) -> Rule:
    """The built-in ``action(A) :- proposed(A).`` that decide mode adds to every program."""
    nodes: list[ast.AST] = []
    ast.parse_string("action(A) :- proposed(A).", nodes.append)
    node = nodes[-1]
    return Rule(
        index, DECIDE_RULE_ID, _ENGINE_FILE, 1, 1, "proposed action {A}", "rule", str(node), node
    )


def head_elements(rule: Rule) -> list[tuple[ast.AST, list[ast.AST]]]:
    """The (atom literal, condition literals) pairs a head can make true."""
    head = rule.head
    kind = head.ast_type
    if kind == ast.ASTType.Literal:
        if head.atom.ast_type == ast.ASTType.BooleanConstant:
            return []
        return [(head, [])]
    if kind in (ast.ASTType.Aggregate, ast.ASTType.Disjunction):
        return [(e.literal, list(e.condition)) for e in head.elements]
    if kind == ast.ASTType.HeadAggregate:
        return [(e.condition.literal, list(e.condition.condition)) for e in head.elements]
    return []


def head_signatures(rule: Rule) -> set[Signature]:
    """Predicates a rule's head defines."""
    out: set[Signature] = set()
    for literal, _cond in head_elements(rule):
        if (
            literal.ast_type == ast.ASTType.Literal
            and literal.atom.ast_type == ast.ASTType.SymbolicAtom
        ):
            sig = atom_signature(literal.atom)
            if sig:
                out.add(sig)
    return out


def body_signatures(rule: Rule) -> set[Signature]:
    """Predicates a rule reads: body literals, aggregates and head conditions."""
    return signatures([*rule.body, *(c for _l, conds in head_elements(rule) for c in conds)])


def global_variables(body: list[ast.AST]) -> set[str]:
    """Variables of a body outside aggregate elements and conditional-literal conditions."""
    out: set[str] = set()
    for lit in body:
        if lit.ast_type == ast.ASTType.ConditionalLiteral:
            continue
        atom = lit.atom if lit.ast_type == ast.ASTType.Literal else lit
        if atom.ast_type in (ast.ASTType.BodyAggregate, ast.ASTType.Aggregate):
            for guard in (atom.left_guard, atom.right_guard):
                if guard is not None:
                    out |= variable_names(guard.term)
        else:
            out |= variable_names(lit)
    return out


class _NameAnonymous(ast.Transformer):
    """Name each ``_`` of a positive literal so a fired instance records its value."""

    def __init__(self) -> None:
        self.count = 0

    def visit_Variable(self, node: ast.AST) -> ast.AST:
        if node.name != "_":
            return node
        self.count += 1
        return node.update(name=f"__Anon{self.count}")


def _named_body(body: list[ast.AST]) -> list[ast.AST]:
    namer = _NameAnonymous()
    out = []
    for lit in body:
        positive = (
            lit.ast_type == ast.ASTType.Literal
            and lit.sign == ast.Sign.NoSign
            and lit.atom.ast_type == ast.ASTType.SymbolicAtom
        )
        out.append(namer(lit) if positive else lit)
    return out


def reachable_rules(rules: tuple[Rule, ...], targets: set[Signature]) -> set[int]:
    """Indexes of rules whose heads feed (through any body, positive or negative) a target."""
    needed = set(targets)
    heads = {r.index: head_signatures(r) for r in rules}
    bodies = {r.index: body_signatures(r) for r in rules}
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for r in rules:
            if r.index not in chosen and heads[r.index] & needed:
                chosen.add(r.index)
                needed |= bodies[r.index]
                changed = True
    return chosen


def compile_program(rule_set: RuleSet, *, trace: TraceScope) -> Program:
    """Compile the author's statements plus the engine's additions into one program."""
    rules = (*rule_set.rules, decide_rule(len(rule_set.rules)))
    findings = sorted({s for r in rules for s in head_signatures(r) if s[0] in FINDINGS})
    if trace == TraceScope.ALL:
        traced_ids = {r.index for r in rules}
    elif trace == TraceScope.OUTPUTS:
        traced_ids = reachable_rules(rules, set(OUTPUTS) | set(findings))
    else:
        traced_ids = set()
    by_node = {id(r.statement): r for r in rules}
    out: list[ast.AST] = []
    traced: dict[tuple[int, int], TracedElement] = {}
    constraints: dict[int, Rule] = {}
    used: set[Signature] = set()
    for stmt in [s.node for s in rule_set.statements] + [rules[-1].statement]:
        kind = stmt.ast_type
        if kind in (ast.ASTType.ShowSignature, ast.ASTType.ShowTerm):
            continue
        for atom in symbolic_atoms(stmt):
            sig = atom_signature(atom)
            if sig:
                used.add(sig)
        if kind == ast.ASTType.Minimize:
            out.append(stmt)
            terms = ast.Function(_loc(), "", list(stmt.terms), 0)
            head = _lit(COST, [stmt.priority, stmt.weight, terms])
            out.append(ast.Rule(_loc(), head, list(stmt.body)))
            continue
        rule = by_node.get(id(stmt))
        if rule is None:
            out.append(stmt)
            continue
        if rule.kind == "constraint":
            constraints[rule.index] = rule
            out.append(stmt.update(body=[*stmt.body, _lit(ON, [_num(rule.index)])]))
            continue
        out.append(stmt)
        if rule.index in traced_ids:
            out.extend(_fired_rules(rule, traced))
    reports = any(REPORTED in head_signatures(r) for r in rules)
    for name, arity in [*sorted(OUTPUTS), (COST, 3), *([REPORTED] if reports else [])]:
        out.append(ast.ShowSignature(_loc(), name, arity, 1))
    # findings are not shown: the solver reads them from the grounding (solve._Findings)
    return Program(
        tuple(out), rules, traced, constraints, tuple(findings), frozenset(used), reports
    )


def _fired_rules(rule: Rule, traced: dict[tuple[int, int], TracedElement]) -> list[ast.AST]:
    body = _named_body(rule.body)
    glob = global_variables(body)
    out: list[ast.AST] = []
    choice = rule.kind == "choice"
    for element, (literal, condition) in enumerate(head_elements(rule) or [(None, [])]):
        names = set(glob)
        extra: list[ast.AST] = []
        if choice and literal is not None:
            names |= variable_names(literal) | {v for c in condition for v in variable_names(c)}
            extra = [*condition, literal.update(sign=ast.Sign.NoSign)]
        variables = tuple(sorted(names))
        loc = _loc()
        tup = ast.Function(loc, "", [ast.Variable(loc, v) for v in variables], 0)
        head = _lit(FIRED, [_num(rule.index), _num(element), tup])
        out.append(ast.Rule(loc, head, [*body, *extra]))
        traced[(rule.index, element)] = TracedElement(
            rule, element, variables, literal, tuple(body) + tuple(condition)
        )
    return out
