"""Static checks for ``warrant check``: parse errors, unsafe variables, typos, arity mismatches.

Unsafe variables are found twice: statically per rule (a variable in the head, a negative
literal or a comparison that no positive body literal binds), and by grounding each file with
no facts, which is how clingo itself reports them; duplicates are merged by place and name.
Messages sort by location (file, line, column).

>>> from engine.reasoning.rules import rules_from_texts
>>> rs = rules_from_texts({"rules/a.lp": "p(X) :- q(Y).\\nr(X) :- supplies(X, Y).\\n"})
>>> [m.code for m in check_rules(rs, schema_predicates={"q": 1, "supply": 2})]
['unsafe_variable', 'undefined_predicate']
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

import clingo
from clingo import ast

from engine.reasoning.astutil import (
    Signature,
    atom_signature,
    is_positive_atom,
    symbolic_atoms,
    variable_names,
    variables,
)
from engine.reasoning.rules import Rule, RuleMessage, RuleSet, clingo_messages
from engine.reasoning.transform import (
    FINDINGS,
    INPUTS,
    OUTPUTS,
    REPORTED,
    head_elements,
    head_signatures,
)

_UNSAFE_NOTE = re.compile(r"^[^:\n]*:(\d+):(\d+)(?:-\d+(?::\d+)?)?: note: '([^']+)' is unsafe")


def check_rules(
    rules: RuleSet, *, schema_predicates: Mapping[str, int] | None = None
) -> list[RuleMessage]:
    """Every problem found in the rules, sorted by location."""
    messages: dict[tuple[str, int, int, str, str], RuleMessage] = {}

    def add(m: RuleMessage) -> None:
        messages.setdefault((m.file, m.line, m.column, m.code, m.message), m)

    for m in rules.messages:
        add(m)
    parsed = {m.file for m in rules.messages if m.code == "syntax_error"}
    for r in rules.rules:
        for m in _static_unsafe(r):
            add(m)
        for m in _label_placeholders(r):
            add(m)
        for m in _reported_terms(r):
            add(m)
    for f in rules.files:
        if f.name not in parsed:
            for m in _clingo_check(rules, f.name):
                add(m)
    for m in _predicates(rules, schema_predicates):
        add(m)
    for m in _domains(rules, schema_predicates):
        add(m)
    return sorted(messages.values())


def _domains(rules: RuleSet, schema: Mapping[str, int] | None) -> list[RuleMessage]:
    """Each ``in <class>`` of a ``@param`` / ``@action`` names a unary fact predicate.

    The warm solver reads a domain's members from the facts before grounding, so a predicate
    the rules derive would read as empty (every request then grounds its own control).
    """
    derived = {sig for r in rules.rules for sig in head_signatures(r)}
    named: list[tuple[str, str, int, str]] = [
        (p.domain, p.file, p.line, f"parameter `{p.name}`") for p in rules.params if p.domain
    ]
    for a in rules.actions:
        for i, (var, _kind) in enumerate(a.args):
            domain = a.domain(i)
            if domain:
                named.append((domain, a.file, a.line, f"argument {var} of action `{a.name}`"))
    out: list[RuleMessage] = []
    for domain, file, line, what in named:
        problem = None
        if (domain, 1) in INPUTS or (domain, 1) in derived or domain in dict(OUTPUTS):
            problem = "is derived by the rules; a domain is read from the knowledge graph's facts"
        elif schema is not None and schema.get(domain) != 1:
            near = difflib.get_close_matches(domain, [n for n, a in schema.items() if a == 1], n=1)
            hint = f"; did you mean `{near[0]}`?" if near else ""
            problem = f"is not a class predicate of the schema{hint}"
        if problem:
            text = f"the domain `{domain}` of {what} {problem}"
            out.append(RuleMessage(file, line, 1, "error", "bad_domain", text))
    return out


def _static_unsafe(rule: Rule) -> list[RuleMessage]:
    bound: set[str] = set()
    for lit in rule.body:
        if is_positive_atom(lit):
            bound |= _binding_vars(lit.atom.symbol)
        elif lit.ast_type == ast.ASTType.Literal and lit.atom.ast_type == ast.ASTType.BodyAggregate:
            agg = lit.atom
            for guard in (agg.left_guard, agg.right_guard):
                if (
                    guard is not None
                    and guard.comparison == ast.ComparisonOperator.Equal
                    and (guard.term.ast_type == ast.ASTType.Variable)
                ):
                    bound.add(guard.term.name)
    changed = True
    while changed:  # X = expr binds X once expr's variables are bound
        changed = False
        for lit in rule.body:
            if lit.ast_type != ast.ASTType.Literal or lit.atom.ast_type != ast.ASTType.Comparison:
                continue
            comp = lit.atom
            if len(comp.guards) != 1 or comp.guards[0].comparison != ast.ComparisonOperator.Equal:
                continue
            for var, expr in ((comp.term, comp.guards[0].term), (comp.guards[0].term, comp.term)):
                if (
                    var.ast_type == ast.ASTType.Variable
                    and var.name not in bound
                    and (variable_names(expr) <= bound)
                ):
                    bound.add(var.name)
                    changed = True
    places: list[ast.AST] = []
    elements = head_elements(rule)
    if rule.head.ast_type == ast.ASTType.Literal:
        places.append(rule.head)
    for literal, condition in elements if rule.kind == "choice" else []:
        local = {v for c in condition if is_positive_atom(c) for v in _binding_vars(c.atom.symbol)}
        places += [v for v in variables(literal) if v.name not in local]
    for lit in rule.body:
        if (
            lit.ast_type == ast.ASTType.Literal
            and not is_positive_atom(lit)
            and (lit.atom.ast_type in (ast.ASTType.SymbolicAtom, ast.ASTType.Comparison))
        ):
            places.append(lit)
    out: list[RuleMessage] = []
    seen: set[str] = set()
    for place in places:
        for var in variables(place) if place.ast_type != ast.ASTType.Variable else [place]:
            if var.name == "_" or var.name in bound or var.name in seen:
                continue
            seen.add(var.name)
            pos = var.location.begin
            out.append(
                RuleMessage(
                    rule.file,
                    pos.line,
                    pos.column,
                    "error",
                    "unsafe_variable",
                    f"unsafe variable `{var.name}`: no positive body literal binds it",
                )
            )
    return out


def _binding_vars(term: ast.AST) -> set[str]:
    """Variables a positive literal binds: arguments, nested in functions, not in arithmetic."""
    kind = term.ast_type
    if kind == ast.ASTType.Variable:
        return set() if term.name == "_" else {term.name}
    if kind == ast.ASTType.Function:
        return {v for a in term.arguments for v in _binding_vars(a)}
    if kind == ast.ASTType.Pool:
        return {v for a in term.arguments for v in _binding_vars(a)}
    return set()


def _label_placeholders(rule: Rule) -> list[RuleMessage]:
    if rule.label is None:
        return []
    names = variable_names(rule.statement)
    missing = sorted(set(re.findall(r"\{([A-Z_][A-Za-z0-9_']*)\}", rule.label)) - names)
    return [
        RuleMessage(
            rule.file,
            rule.line,
            rule.column,
            "warning",
            "label_variable",
            f"label of rule `{rule.id}` names `{{{v}}}`, which the rule does not use",
        )
        for v in missing
    ]


def _reported_terms(rule: Rule) -> list[RuleMessage]:
    """A ``reported/1`` head names a finding term: a plan lists only the findings it holds,
    so ``reported(x)`` for any other term would list nothing, silently."""
    out: list[RuleMessage] = []
    for literal, _cond in head_elements(rule):
        if atom_signature(literal.atom) != REPORTED:
            continue
        term = literal.atom.symbol.arguments[0]
        if term.ast_type == ast.ASTType.Variable:
            continue  # bound by the body: only the solve knows what it holds
        name = term.name if term.ast_type == ast.ASTType.Function else str(term)
        if name not in FINDINGS:
            out.append(
                RuleMessage(
                    rule.file,
                    rule.line,
                    rule.column,
                    "warning",
                    "reported_not_a_finding",
                    f"rule `{rule.id}` reports `{term}`, which is not a finding "
                    f"({' or '.join(f'`{n}(...)`' for n in sorted(FINDINGS))}): "
                    "a plan lists only the findings it holds",
                )
            )
    return out


def _clingo_check(rules: RuleSet, file: str) -> list[RuleMessage]:
    """Ground one file with no facts: clingo's own safety and semantic errors."""
    logged: list[str] = []
    ctl = clingo.Control(["--warn=none"], logger=lambda _c, m: logged.append(m))
    try:
        with ast.ProgramBuilder(ctl) as builder:
            for stmt in rules.statements:
                if stmt.file == file:
                    builder.add(stmt.node)
        ctl.ground([("base", [])])
    except RuntimeError:
        pass
    out: list[RuleMessage] = []
    for text in logged:
        notes = [_UNSAFE_NOTE.match(line) for line in text.splitlines()]
        unsafe = [n for n in notes if n]
        for n in unsafe:
            out.append(
                RuleMessage(
                    file,
                    int(n.group(1)),
                    int(n.group(2)),
                    "error",
                    "unsafe_variable",
                    f"unsafe variable `{n.group(3)}`: no positive body literal binds it",
                )
            )
        if not unsafe:
            out += [
                RuleMessage(m.file, m.line, m.column, m.severity, "clingo_error", m.message)
                for m in clingo_messages(file, text)
            ]
    return out


def _predicates(rules: RuleSet, schema: Mapping[str, int] | None) -> list[RuleMessage]:
    defined: dict[str, set[int]] = {}
    for name, arity in INPUTS:
        defined.setdefault(name, set()).add(arity)
    for r in rules.rules:
        for name, arity in head_signatures(r):
            defined.setdefault(name, set()).add(arity)
    for stmt in rules.statements:
        if stmt.node.ast_type == ast.ASTType.External:
            sig = atom_signature(stmt.node.atom)
            if sig:
                defined.setdefault(sig[0], set()).add(sig[1])
    for name, arity in (schema or {}).items():
        defined.setdefault(name, set()).add(arity)
    out: list[RuleMessage] = []
    reserved = {name: arity for name, arity in OUTPUTS}
    for r in rules.rules:
        for name, arity in sorted(head_signatures(r)):
            if name in reserved and reserved[name] != arity:
                out.append(
                    _msg(
                        r,
                        r.statement,
                        "arity_mismatch",
                        f"reserved predicate `{name}` takes {reserved[name]} arguments, "
                        f"not {arity}",
                    )
                )
        for node, sig in _body_atoms(r):
            name, arity = sig
            arities = defined.get(name)
            if arities is None:
                out.append(_undefined(r, node, sig, defined, schema is not None))
            elif arity not in arities:
                known = "/".join(str(a) for a in sorted(arities))
                out.append(
                    _msg(
                        r,
                        node,
                        "arity_mismatch",
                        f"predicate `{name}` is used with {arity} arguments but defined "
                        f"with {known}",
                    )
                )
    return out


def _body_atoms(rule: Rule) -> list[tuple[ast.AST, Signature]]:
    nodes = list(rule.body) + [c for _l, cond in head_elements(rule) for c in cond]
    out = []
    for node in nodes:
        for atom in symbolic_atoms(node):
            sig = atom_signature(atom)
            if sig is not None and not sig[0].startswith("-"):
                out.append(
                    (atom.symbol if atom.symbol.ast_type != ast.ASTType.SymbolicTerm else atom, sig)
                )
    return out


def _undefined(
    rule: Rule, node: ast.AST, sig: Signature, defined: Mapping[str, set[int]], strict: bool
) -> RuleMessage:
    name, arity = sig
    near = difflib.get_close_matches(name, list(defined), n=1, cutoff=0.6)
    hint = f"; did you mean `{near[0]}/{min(defined[near[0]])}`?" if near else ""
    where = "the schema or any rule head" if strict else "any rule head (no schema given)"
    return _msg(
        rule,
        node,
        "undefined_predicate",
        f"predicate `{name}/{arity}` is not defined by {where}{hint}",
        severity="error" if strict else "warning",
    )


def _msg(
    rule: Rule, node: ast.AST, code: str, text: str, *, severity: str = "error"
) -> RuleMessage:
    loc = getattr(node, "location", None)
    line = loc.begin.line if loc is not None else rule.line
    column = loc.begin.column if loc is not None else rule.column
    return RuleMessage(
        rule.file, line, column, "error" if severity == "error" else "warning", code, text
    )
