"""The trace of one grounding: its ``__fired`` atoms in clingo's order whatever their values,
and static instances parsed per head predicate giving what a whole index gives."""

from __future__ import annotations

import clingo
import pytest

from engine.reasoning import FactSet, Solver, plan_request, rules_from_texts
from engine.reasoning.proof import InstanceIndex, head_value, parse_instance
from engine.reasoning.trace import Trace, _ValueKeys, shown_values, sort_symbols
from engine.reasoning.transform import FIRED, TRUE_FIRED, TraceScope

F, N, S = clingo.Function, clingo.Number, clingo.String

RULES = """
% @goal g "demo"
% @rule copy "{X} is kept"
kept(X, Y) :- item(X, Y).
% @rule pair "{X} pairs with {Y}"
pair(X, Y) :- item(X, _), item(Y, _), X != Y.
% @rule pick "{X} is picked"
{ picked(X) } :- kept(X, _), request(g).
% @rule act "act on {X}"
action(act(X, Y)) :- picked(X), kept(X, Y).
"""

# values of every kind clingo orders: numbers (negative too), constants (negative too),
# strings (non-ASCII bytes, prefixes), tuples and functions of several arities and signs
VALUES = [
    N(-3),
    N(0),
    N(12),
    F("a"),
    F("b"),
    F("a", [], False),
    S(""),
    S("a"),
    S("ab"),
    S("é"),
    S("z"),
    F("", [N(1)]),
    F("", [N(1), N(2)]),
    F("f", [N(1)]),
    F("f", [S("x")]),
    F("g", [N(1)]),
    F("f", [N(1)], False),
    F("f", [F("c"), N(2)]),
    F("f", [F("", [S("q"), N(-1)])]),
]


def _grounded(values: list[clingo.Symbol]) -> tuple[clingo.Control, Trace, Solver]:
    rules = rules_from_texts({"rules/r.lp": RULES})
    atoms = [F("item", [v, w]) for v in values for w in values[::5]]
    facts = FactSet.from_groups({"item/2": atoms})
    solver = Solver(rules, trace=TraceScope.ALL)
    answer = solver.solve(facts, plan_request(rules, "g", now=None))
    assert answer.trace is not None
    grounded = next(iter(solver._cache.values()))
    return grounded.control, answer.trace, solver


def _by_wrappers(
    ctl: clingo.Control,
) -> tuple[list[clingo.Symbol], list[tuple[clingo.Symbol, int]]]:
    static: list[clingo.Symbol] = []
    dynamic: list[tuple[clingo.Symbol, int]] = []
    for atom in ctl.symbolic_atoms.by_signature(FIRED, 3):
        if atom.is_fact:
            static.append(atom.symbol)
        else:
            dynamic.append((atom.symbol, atom.literal))
    return sorted(static), sorted(dynamic)


@pytest.mark.parametrize(
    "values",
    [VALUES, VALUES[::-1], [N(5), N(-5)], [F("x", [], False), F("x")]],
    ids=["mixed", "reversed", "numbers", "signs"],
)
def test_trace_order_is_clingos(values: list[clingo.Symbol]) -> None:
    ctl, trace, _solver = _grounded(values)
    static, dynamic = _by_wrappers(ctl)
    assert static and dynamic  # both kinds are read
    assert list(trace.static) == static
    assert list(trace.dynamic) == dynamic


def test_trace_order_with_values_clingo_alone_orders() -> None:
    """#sup and #inf have no Python key: their groups are sorted by clingo."""
    ctl, trace, _solver = _grounded([clingo.Supremum, N(1), clingo.Infimum, S("s")])
    static, dynamic = _by_wrappers(ctl)
    assert list(trace.static) == static
    assert list(trace.dynamic) == dynamic


def test_fired_read_from_shown_markers_equals_each_literal_checked() -> None:
    """A plan grounding shows ``__true(K)`` markers: in every model, the instances read from
    them are those whose literals hold, in the trace's order, and no marker is an output."""
    ctl, trace, solver = _grounded([N(1), N(2), F("a")])
    grounded = next(iter(solver._cache.values()))
    assert not grounded.deciding and len(trace.dynamic) > 3
    ctl.configuration.solve.opt_mode = "ignore"  # type: ignore[union-attr]
    ctl.configuration.solve.models = 0  # type: ignore[union-attr]
    seen: list[int] = []

    def check(model: clingo.Model) -> None:
        expected = [sym for sym, lit in trace.dynamic if model.is_true(lit)]
        values = shown_values(model)
        assert trace.fired(model, values) == expected
        shown, names = trace.shown(values)
        assert TRUE_FIRED not in names
        assert shown == [s for s in model.symbols(shown=True) if s.name != TRUE_FIRED]
        seen.append(len(expected))

    ctl.solve(
        assumptions=grounded.selection(plan_request(solver.rules, "g", now=None).inputs()),
        on_model=check,
    )
    assert len(seen) == 8 and len(set(seen)) > 2  # every subset of the three picks


def test_static_index_parses_per_predicate_as_a_whole_index_does() -> None:
    _ctl, trace, solver = _grounded(VALUES)
    whole = InstanceIndex(solver.program, trace.static)
    lazy = trace.static_index(solver.program)
    heads = [F("kept", [v, w]) for v in VALUES for w in VALUES[::5]]
    heads += [F("pair", [v, w]) for v in VALUES[:4] for w in VALUES[:4]]
    heads += [F("kept", [N(99), N(99)]), F("missing", [N(1)]), F("item", [N(0), N(-3)])]
    found = 0
    for head in heads:
        got = lazy.of(head)
        found += bool(got)
        assert [i.traced for i in got] == [i.traced for i in whole.of(head)]
        assert [i.positive for i in got] == [i.positive for i in whole.of(head)]
        assert lazy.of(head) is got  # looked up once
    assert found > len(VALUES)  # kept/2 and pair/2 instances were compared
    assert lazy.of(F("kept", [N(0), N(-3)]))
    assert not lazy.of(F("kept", [N(99), N(99)]))


def test_value_keys_sort_as_clingo_sorts() -> None:
    keys = _ValueKeys()
    tuples = [F("", [v, w]) for v in VALUES for w in (N(2), S("b"), F("b"))]
    by_key = sorted(tuples, key=lambda t: keys(t._rep))  # type: ignore[arg-type,return-value]
    assert by_key == sorted(tuples)
    assert keys(F("", [N(1), clingo.Supremum])._rep) is None
    assert keys(F("", [F("f", [clingo.Infimum])])._rep) is None


def test_sort_symbols_sorts_as_clingo_sorts() -> None:
    inputs = [F("param", [F("vendor"), v]) for v in VALUES] + [F("request", [F("g")])]
    assert sort_symbols(reversed(inputs)) == sorted(inputs)
    mixed = [*VALUES, clingo.Supremum, clingo.Infimum]  # no keys: clingo sorts them
    assert sort_symbols(mixed) == sorted(mixed)
    assert sort_symbols([]) == []


ARITHMETIC = """
% @goal g "demo"
% @rule next "{X} is followed by {Y}"
next(X, X + 1) :- item(X, _).
% @rule wrap "{X} is wrapped"
wrapped(w(X, f(Y), c)) :- item(X, Y), next(X, _).
% @rule act "act on {X}"
action(act(X)) :- request(g), wrapped(w(X, _, c)).
"""


def test_instances_parse_alike_with_and_without_arithmetic() -> None:
    """Heads built on symbol values (functions of variables) and heads only ``compile_term``
    evaluates (arithmetic) parse to the instance the rule and its values give."""
    rules = rules_from_texts({"rules/r.lp": ARITHMETIC})
    facts = FactSet.from_groups({"item/2": [F("item", [N(1), S("a")]), F("item", [N(2), S("b")])]})
    solver = Solver(rules, trace=TraceScope.ALL)
    answer = solver.solve(facts, plan_request(rules, "g", now=None))
    assert answer.trace is not None
    parsed = [parse_instance(solver.program, f) for f in answer.all_fired()]
    heads = {str(i.head): [str(p) for p in i.positive] for i in parsed if i is not None}
    assert heads["next(1,2)"] == ['item(1,"a")']
    assert heads['wrapped(w(2,f("b"),c))'] == ['item(2,"b")', "next(2,3)"]
    assert heads["action(act(1))"] == ["request(g)", 'wrapped(w(1,f("a"),c))']
    assert parse_instance(solver.program, F(FIRED, [N(999), N(0), F("", [])])) is None
    for fired, inst in zip(answer.all_fired(), parsed, strict=True):
        expected = None if inst is None else inst.head._rep
        assert head_value(solver.program, fired) == expected
    assert len(parsed) >= 6  # next, wrapped and action instances were compared
    assert head_value(solver.program, F(FIRED, [N(999), N(0), F("", [])])) is None
