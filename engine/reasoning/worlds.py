"""The decision program split in two: the base, and each candidate action's own world.

In decide mode a proposed action's consequences follow from the facts by grounding alone, so
``decision_table`` grounds every candidate at once. For that the program is split: the
*base* is the part that does not depend on the proposed action (the closure of the facts,
with ``request(decide)`` and ``now``), as written; every other rule is rewritten so that its
atoms carry the candidate they hold for, ``__s(K, atom)``: a rule's tagged literals share one
tag variable, so the worlds of two candidates never meet, and each world is what a control
with that one proposed action would derive.

The split follows the predicates' dependence on ``proposed/1`` (``split_program``):

- *pure* predicates hold only through a proposed action (``action/1`` in decide mode, where
  every rule conditioned on another ``request`` is dead): only their tagged form exists;
- *owned* predicates negate a proposal-dependent one (``not deny(A, _)``): the base cannot
  compute them soundly (a world can make them false), so each world computes all of them;
- *mixed* predicates hold in the base and gain instances in a world (monotonically): a world's
  rule reads either form, one variant per combination of its mixed positive literals.

A world's constraints mark it (``__s(K, __conflict)``) instead of failing the grounding, and
its costs are its ``__cost`` atoms. A rule with no tagged positive literal left to bind the
tag ranges over the candidates (``__cand(K)``). Programs this cannot split (an aggregate or
condition over a proposal-dependent predicate, a statement other than a rule or a minimise,
more than ``_MAX_VARIANTS`` variants of one rule) raise Unsplittable: the warm control
decides for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import product

from clingo import ast

from engine.reasoning.astutil import Signature, atom_signature, is_positive_atom, signatures
from engine.reasoning.request import DECIDE_GOAL
from engine.reasoning.transform import COST, FIRED, Program

PROPOSED: Signature = ("proposed", 1)
TAG = "__s"  # ``__s(K, atom)``: ``atom`` holds in the world where ``K`` is proposed
CANDIDATE = "__cand"  # ``__cand(K)``: ``K`` is a candidate action
CONFLICT = "__conflict"  # ``__s(K, __conflict)``: a constraint fails when ``K`` is proposed
_K = "__K"
# at most this many variants of one statement (2 ** its mixed positive literals)
_MAX_VARIANTS = 16


class Unsplittable(Exception):
    """The program uses a construct the split does not handle."""


class _Place(Enum):
    BASE = "base"  # the base only
    BOTH = "both"  # the base as written, the worlds in the variants with a tagged literal
    WORLD = "world"  # the worlds only, in every variant


@dataclass(frozen=True)
class SplitProgram:
    """The split: the base statements (AST) and the tagged ones (program text)."""

    base: tuple[ast.AST, ...]
    tagged: str
    # the predicates a candidate's world can add atoms of (unwrapped), for settled proofs
    world_heads: frozenset[Signature]
    # the predicates only a candidate's world holds: the KG must hold none of their atoms
    alone: frozenset[Signature]

    def text(self) -> str:
        """The tagged program, with each candidate proposed in its own world."""
        return f"{TAG}({_K}, proposed({_K})) :- {CANDIDATE}({_K}).\n{self.tagged}"


@dataclass(frozen=True)
class _Stmt:
    node: ast.AST
    heads: frozenset[Signature]
    body: tuple[ast.AST, ...]  # the literals to rewrite (a rule's or a minimize's body)
    traces: bool  # a ``__fired`` rule: it traces the rule before it


def split_program(program: Program) -> SplitProgram:
    """Split ``program`` into base and worlds; raises Unsplittable.

    The split assumes that the KG holds no atom of a predicate only a world holds (the caller
    checks ``SplitProgram.alone`` against the grounded base)."""
    stmts = [_statement(s) for s in program.statements]
    live = [s for s in stmts if s is not None and not _dead(s)]
    affected = _affected(live)
    pure = _pure(live, affected)
    owned = _owned(live, affected, pure)
    alone = pure | owned  # no base form
    mixed = affected - alone
    base: list[ast.AST] = [s for s in program.statements if _kept_as_is(s)]
    world: list[str] = []
    place = _Place.BASE
    for s in live:
        if not s.traces:  # a rule's __fired twin goes where the rule goes
            place = _place(s, affected, alone, mixed)
        if place != _Place.WORLD:
            base.append(s.node)
        if place != _Place.BASE and s.node.ast_type != ast.ASTType.Minimize:
            # a world's costs are read from its ``__cost`` atoms, not minimised
            world += [str(v) for v in _variants(s, alone, mixed, only_tagged=place == _Place.BOTH)]
    heads = {h for s in live for h in s.heads if h in affected}
    return SplitProgram(
        tuple(base), "".join(f"{t}\n" for t in world), frozenset(heads), frozenset(alone)
    )


def _kept_as_is(node: ast.AST) -> bool:
    """Statements the base keeps whatever the split: ``#program`` and the outputs' shows."""
    return node.ast_type in (ast.ASTType.Program, ast.ASTType.ShowSignature)


def _statement(node: ast.AST) -> _Stmt | None:
    kind = node.ast_type
    if kind in (ast.ASTType.Program, ast.ASTType.ShowSignature):
        return None
    if kind == ast.ASTType.Minimize:
        return _Stmt(node, frozenset(), tuple(node.body), False)
    if kind != ast.ASTType.Rule:
        raise Unsplittable(f"a {kind.name} statement")
    name = _head_name(node)
    heads: set[Signature] = set()
    for literal, _cond in _elements(node.head):
        sig = atom_signature(literal.atom) if literal.ast_type == ast.ASTType.Literal else None
        if sig is None:
            raise Unsplittable(f"a head the split cannot wrap: {node}")
        heads.add(sig)
    # the engine's heads (trace and cost atoms) are read by no rule: no predicate to split
    engine = name in (FIRED, COST)
    return _Stmt(node, frozenset() if engine else frozenset(heads), tuple(node.body), name == FIRED)


def _head_name(node: ast.AST) -> str | None:
    head = node.head
    if head.ast_type == ast.ASTType.Literal and head.atom.ast_type == ast.ASTType.SymbolicAtom:
        sig = atom_signature(head.atom)
        return sig[0] if sig else None
    return None


def _elements(head: ast.AST) -> list[tuple[ast.AST, list[ast.AST]]]:
    kind = head.ast_type
    if kind == ast.ASTType.Literal:
        return [] if head.atom.ast_type == ast.ASTType.BooleanConstant else [(head, [])]
    if kind in (ast.ASTType.Aggregate, ast.ASTType.Disjunction):
        return [(e.literal, list(e.condition)) for e in head.elements]
    raise Unsplittable(f"a {kind.name} head")


def _dead(s: _Stmt) -> bool:
    """A statement conditioned on a goal other than ``decide``: it never fires in a decision."""
    for lit in s.body:
        if is_positive_atom(lit) and atom_signature(lit.atom) == ("request", 1):
            (goal,) = lit.atom.symbol.arguments
            constant = goal.ast_type == ast.ASTType.SymbolicTerm or (
                goal.ast_type == ast.ASTType.Function and not goal.arguments
            )
            if constant and str(goal) != DECIDE_GOAL:
                return True
    return False


def _mentions(s: _Stmt) -> set[Signature]:
    """Predicates ``s`` reads: its body and its head's conditions."""
    conditions = [c for _lit, cond in _elements(s.node.head) for c in cond] if _is_rule(s) else []
    return signatures([*s.body, *conditions])


def _is_rule(s: _Stmt) -> bool:
    return bool(s.node.ast_type == ast.ASTType.Rule)


def _affected(stmts: Sequence[_Stmt]) -> set[Signature]:
    """Predicates whose truth can depend on the proposed action."""
    affected = {PROPOSED}
    changed = True
    while changed:
        changed = False
        for s in stmts:
            if s.heads - affected and _mentions(s) & affected:
                affected |= s.heads
                changed = True
    return affected


def _positive_signatures(s: _Stmt) -> set[Signature]:
    return {sig for lit in s.body if is_positive_atom(lit) and (sig := atom_signature(lit.atom))}


def _pure(stmts: Sequence[_Stmt], candidates: set[Signature]) -> set[Signature]:
    """Predicates every rule of which needs a pure atom: they hold only in a world."""
    pure = set(candidates) | {PROPOSED}
    changed = True
    while changed:
        changed = False
        for s in stmts:
            for head in s.heads & pure:
                if head != PROPOSED and not _positive_signatures(s) & pure:
                    pure.discard(head)
                    changed = True
    return pure


def _owned(
    stmts: Sequence[_Stmt], affected: set[Signature], pure: set[Signature]
) -> set[Signature]:
    """Mixed predicates some rule of which negates a proposal-dependent one: the base would
    hold instances a world can make false, so every instance comes from the world."""
    owned: set[Signature] = set()
    for s in stmts:
        if s.heads - pure and _negated(s) & affected:
            owned |= s.heads - pure
    return owned


def _negated(s: _Stmt) -> set[Signature]:
    """Predicates ``s`` reads in a negative literal."""
    return {
        sig
        for lit in s.body
        if lit.ast_type == ast.ASTType.Literal
        and lit.sign != ast.Sign.NoSign
        and lit.atom.ast_type == ast.ASTType.SymbolicAtom
        and (sig := atom_signature(lit.atom))
    }


def _nested(s: _Stmt) -> set[Signature]:
    """Predicates ``s`` reads inside an aggregate, a conditional literal or a head condition
    (the split would need both forms of them in one element)."""
    nodes = [
        lit
        for lit in s.body
        if lit.ast_type != ast.ASTType.Literal or lit.atom.ast_type == ast.ASTType.BodyAggregate
    ]
    if _is_rule(s):
        nodes += [c for _lit, cond in _elements(s.node.head) for c in cond]
    return signatures(nodes)


def _place(
    s: _Stmt, affected: set[Signature], alone: set[Signature], mixed: set[Signature]
) -> _Place:
    """Where ``s`` goes: see the module's docstring."""
    if _nested(s) & affected:
        raise Unsplittable(f"an aggregate or condition over a proposed action's atoms: {s.node}")
    if not _mentions(s) & affected and not s.heads & alone:
        return _Place.BASE
    if s.heads & alone or _negated(s) & affected or _positive_signatures(s) & alone:
        return _Place.WORLD
    return _Place.BOTH


def _wrap(atom: ast.AST) -> ast.AST:
    """``p(X)`` as ``__s(__K, p(X))``."""
    loc = atom.symbol.location
    return ast.SymbolicAtom(ast.Function(loc, TAG, [ast.Variable(loc, _K), atom.symbol], 0))


def _variants(
    s: _Stmt, alone: set[Signature], mixed: set[Signature], *, only_tagged: bool
) -> list[ast.AST]:
    """The worlds' versions of ``s``: head tagged; each literal of a world-only predicate
    tagged; each positive mixed literal in its base form or its tagged form (every
    combination, or only those with one tagged form at least when the base holds the rest);
    each negative mixed literal as both negations."""
    choices: list[list[list[ast.AST]]] = []
    for lit in s.body:
        sig = atom_signature(lit.atom) if lit.ast_type == ast.ASTType.Literal else None
        if sig is None or lit.atom.ast_type != ast.ASTType.SymbolicAtom:
            choices.append([[lit]])
            continue
        wrapped = lit.update(atom=_wrap(lit.atom))
        if sig in alone:
            choices.append([[wrapped]])
        elif sig in mixed and lit.sign == ast.Sign.NoSign:
            choices.append([[lit], [wrapped]])
        elif sig in mixed and lit.sign == ast.Sign.Negation:
            choices.append([[lit, wrapped]])
        elif sig in mixed:
            raise Unsplittable(f"a double negation of a proposed action's atom: {s.node}")
        else:
            choices.append([[lit]])
    combos = list(product(*[range(len(c)) for c in choices]))
    if len(combos) > _MAX_VARIANTS:
        raise Unsplittable(f"{len(combos)} variants of one statement: {s.node}")
    out: list[ast.AST] = []
    for combo in combos:
        if only_tagged and not any(combo):  # the base form: the base grounds it
            continue
        body = [lit for c, pick in zip(choices, combo, strict=True) for lit in c[pick]]
        if not any(_tagged(lit) for lit in body):  # bind the world's tag
            loc = s.node.location
            cand = ast.SymbolicAtom(ast.Function(loc, CANDIDATE, [ast.Variable(loc, _K)], 0))
            body.insert(0, ast.Literal(loc, ast.Sign.NoSign, cand))
        out.append(s.node.update(head=_wrapped_head(s.node.head), body=body))
    return out


def _tagged(lit: ast.AST) -> bool:
    """A positive literal of a world's atom (it binds the tag)."""
    return is_positive_atom(lit) and atom_signature(lit.atom) == (TAG, 2)


def _wrapped_head(head: ast.AST) -> ast.AST:
    """The head in the world's form; a constraint's marks the world as conflicting."""
    if head.ast_type == ast.ASTType.Literal:
        if head.atom.ast_type == ast.ASTType.BooleanConstant:
            loc = head.location
            conflict = ast.SymbolicAtom(ast.Function(loc, CONFLICT, [], 0))
            return head.update(atom=_wrap(conflict))
        return head.update(atom=_wrap(head.atom))
    elements = [e.update(literal=_wrapped_head(e.literal)) for e in head.elements]
    return head.update(elements=elements)
