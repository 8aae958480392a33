"""Small helpers over clingo's AST: walk, variables, predicates, substitution, matching.

The reasoning modules look at rules only through these functions, so the quirks of the
``clingo.ast`` API (sequences that are not lists, constants that are ``SymbolicTerm`` in one
place and ``Function`` in another) are handled once, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

import clingo
from clingo import ast

Signature = tuple[str, int]
Binding = dict[str, clingo.Symbol]

_BINOPS: dict[ast.BinaryOperator, Callable[[int, int], int]] = {
    ast.BinaryOperator.Plus: lambda a, b: a + b,
    ast.BinaryOperator.Minus: lambda a, b: a - b,
    ast.BinaryOperator.Multiplication: lambda a, b: a * b,
    ast.BinaryOperator.Division: lambda a, b: int(a / b),
    ast.BinaryOperator.Modulo: lambda a, b: a - b * int(a / b),
    ast.BinaryOperator.Power: lambda a, b: a**b,
    ast.BinaryOperator.And: lambda a, b: a & b,
    ast.BinaryOperator.Or: lambda a, b: a | b,
    ast.BinaryOperator.XOr: lambda a, b: a ^ b,
}


class NotGround(Exception):
    """A term still holds an unbound variable or a construct that has no single value."""


def children(node: ast.AST) -> Iterator[ast.AST]:
    """The direct AST children of ``node`` in source order."""
    for key in node.child_keys:
        value = getattr(node, key)
        if isinstance(value, ast.AST):
            yield value
        elif value is not None and not isinstance(value, str | int):
            for item in value:
                if isinstance(item, ast.AST):
                    yield item


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below and including ``node``, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def variables(node: ast.AST) -> list[ast.AST]:
    """Every ``Variable`` node under ``node`` (anonymous ``_`` included), in source order."""
    return [n for n in walk(node) if n.ast_type == ast.ASTType.Variable]


def variable_names(node: ast.AST) -> set[str]:
    """Names of the named variables under ``node``."""
    return {v.name for v in variables(node) if v.name != "_"}


def atom_signature(atom: ast.AST) -> Signature | None:
    """``(name, arity)`` of a symbolic atom or of its term; None for anything else."""
    term = atom.symbol if atom.ast_type == ast.ASTType.SymbolicAtom else atom
    if term.ast_type == ast.ASTType.Function and term.name:
        return (term.name, len(term.arguments))
    if term.ast_type == ast.ASTType.SymbolicTerm:
        sym = term.symbol
        if sym.type == clingo.SymbolType.Function and sym.name:
            return (sym.name, len(sym.arguments))
    if (
        term.ast_type == ast.ASTType.UnaryOperation
        and term.operator_type == ast.UnaryOperator.Minus
    ):
        inner = atom_signature(term.argument)
        return ("-" + inner[0], inner[1]) if inner else None
    return None


def symbolic_atoms(node: ast.AST) -> Iterator[ast.AST]:
    """Every ``SymbolicAtom`` under ``node``."""
    return (n for n in walk(node) if n.ast_type == ast.ASTType.SymbolicAtom)


def signatures(nodes: Iterable[ast.AST]) -> set[Signature]:
    """The predicates of every symbolic atom under ``nodes``."""
    return {sig for n in nodes for a in symbolic_atoms(n) if (sig := atom_signature(a))}


def is_positive_atom(literal: ast.AST) -> bool:
    """A plain positive literal over a symbolic atom (``p(X)``, not ``not p(X)``)."""
    return (
        literal.ast_type == ast.ASTType.Literal
        and literal.sign == ast.Sign.NoSign
        and literal.atom.ast_type == ast.ASTType.SymbolicAtom
    )


class _Substitute(ast.Transformer):
    def __init__(self, binding: Mapping[str, clingo.Symbol]) -> None:
        self.binding = binding

    def visit_Variable(self, node: ast.AST) -> ast.AST:
        value = self.binding.get(node.name)
        return node if value is None else ast.SymbolicTerm(node.location, value)


def substitute(node: ast.AST, binding: Mapping[str, clingo.Symbol]) -> ast.AST:
    """``node`` with every bound variable replaced by its value."""
    result: ast.AST = _Substitute(binding)(node)
    return result


def evaluate(term: ast.AST, binding: Mapping[str, clingo.Symbol] | None = None) -> clingo.Symbol:
    """The value of a term under ``binding``; raises NotGround if it has none."""
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicAtom:
        return evaluate(term.symbol, binding)
    if kind == ast.ASTType.SymbolicTerm:
        sym: clingo.Symbol = term.symbol
        return sym
    if kind == ast.ASTType.Variable:
        if binding is None or term.name not in binding:
            raise NotGround(term.name)
        return binding[term.name]
    if kind == ast.ASTType.Function:
        if term.external:
            raise NotGround(str(term))
        args = [evaluate(a, binding) for a in term.arguments]
        return clingo.Function(term.name, args)
    if kind == ast.ASTType.UnaryOperation:
        value = evaluate(term.argument, binding)
        if term.operator_type == ast.UnaryOperator.Minus:
            if value.type == clingo.SymbolType.Number:
                return clingo.Number(-value.number)
            if value.type == clingo.SymbolType.Function and value.name:
                return clingo.Function(value.name, value.arguments, not value.positive)
        raise NotGround(str(term))
    if kind == ast.ASTType.BinaryOperation:
        left, right = evaluate(term.left, binding), evaluate(term.right, binding)
        if left.type != clingo.SymbolType.Number or right.type != clingo.SymbolType.Number:
            raise NotGround(str(term))
        try:
            return clingo.Number(_BINOPS[term.operator_type](left.number, right.number))
        except (ZeroDivisionError, KeyError) as exc:
            raise NotGround(str(term)) from exc
    raise NotGround(str(term))


def match(
    pattern: ast.AST, value: clingo.Symbol, binding: Mapping[str, clingo.Symbol]
) -> Binding | None:
    """Extend ``binding`` so that ``pattern`` equals ``value``; None when they cannot match."""
    result = dict(binding)
    return result if _match(pattern, value, result) else None


def _match(pattern: ast.AST, value: clingo.Symbol, binding: Binding) -> bool:
    kind = pattern.ast_type
    if kind == ast.ASTType.SymbolicAtom:
        return _match(pattern.symbol, value, binding)
    if kind == ast.ASTType.Variable:
        if pattern.name == "_":
            return True
        bound = binding.get(pattern.name)
        if bound is None:
            binding[pattern.name] = value
            return True
        return bool(bound == value)
    if kind == ast.ASTType.Function and not pattern.external:
        if value.type != clingo.SymbolType.Function or not value.positive:
            return False
        if value.name != pattern.name or len(value.arguments) != len(pattern.arguments):
            return False
        return all(
            _match(p, v, binding) for p, v in zip(pattern.arguments, value.arguments, strict=True)
        )
    try:
        return bool(evaluate(pattern, binding) == value)
    except NotGround:
        return False


def compare(op: ast.ComparisonOperator, left: clingo.Symbol, right: clingo.Symbol) -> bool:
    """clingo's total order on symbols, as a comparison operator."""
    if op == ast.ComparisonOperator.Equal:
        return bool(left == right)
    if op == ast.ComparisonOperator.NotEqual:
        return bool(left != right)
    if op == ast.ComparisonOperator.LessThan:
        return bool(left < right)
    if op == ast.ComparisonOperator.LessEqual:
        return bool(left <= right)
    if op == ast.ComparisonOperator.GreaterThan:
        return bool(left > right)
    return bool(left >= right)


def comparison_holds(comparison: ast.AST, binding: Mapping[str, clingo.Symbol]) -> bool:
    """Whether a (possibly chained) comparison holds under ``binding``; NotGround if unbound."""
    left = evaluate(comparison.term, binding)
    for guard in comparison.guards:
        right = evaluate(guard.term, binding)
        if not compare(guard.comparison, left, right):
            return False
        left = right
    return True


def render(sym: clingo.Symbol) -> str:
    """A symbol for people: strings without their quotes, everything else as clingo prints it."""
    if sym.type == clingo.SymbolType.String:
        text: str = sym.string
        return text
    return str(sym)


Evaluator = Callable[[Mapping[str, clingo.Symbol]], clingo.Symbol]


def compile_term(term: ast.AST) -> Evaluator:
    """``evaluate`` compiled once: a closure that walks no AST (proofs evaluate many instances).

    Same results and the same NotGround cases as :func:`evaluate`; reading clingo AST
    attributes goes through cffi on every access, which made it most of a proof's cost.
    """
    kind = term.ast_type
    if kind == ast.ASTType.SymbolicAtom:
        return compile_term(term.symbol)
    if kind == ast.ASTType.SymbolicTerm:
        sym: clingo.Symbol = term.symbol
        return lambda _b: sym
    if kind == ast.ASTType.Variable:
        name: str = term.name

        def variable(b: Mapping[str, clingo.Symbol]) -> clingo.Symbol:
            try:
                return b[name]
            except KeyError:
                raise NotGround(name) from None

        return variable
    if kind == ast.ASTType.Function and not term.external:
        fname: str = term.name
        args = [compile_term(a) for a in term.arguments]
        return lambda b: clingo.Function(fname, [a(b) for a in args])
    return lambda b: evaluate(term, b)


class Rendering:
    """``str(substitute(node, binding))`` compiled once into text pieces and variable slots.

    Each variable is substituted once by a marker constant, printed by clingo, and the text
    split at the markers, so rendering an instance is a join of strings.
    """

    def __init__(self, node: ast.AST) -> None:
        names = sorted({v.name for v in variables(node)})
        markers = {n: f"__warrant_var_{i}__" for i, n in enumerate(names)}
        text = str(substitute(node, {n: clingo.Function(m) for n, m in markers.items()}))
        self._pieces: list[str] = []
        self._slots: list[str] = []
        if not markers:
            self._pieces.append(text)
            return
        by_marker = {m: n for n, m in markers.items()}
        pattern = re.compile("|".join(re.escape(m) for m in markers.values()))
        last = 0
        for m in pattern.finditer(text):
            self._pieces.append(text[last : m.start()])
            self._slots.append(by_marker[m.group(0)])
            last = m.end()
        self._pieces.append(text[last:])

    def render(self, binding: Mapping[str, clingo.Symbol]) -> str:
        """The node's text with bound variables replaced by their values."""
        out = [self._pieces[0]]
        for slot, piece in zip(self._slots, self._pieces[1:], strict=True):
            value = binding.get(slot)
            out.append(slot if value is None else str(value))
            out.append(piece)
        return "".join(out)
