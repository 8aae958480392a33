"""Settled roots' graph parts kept per set of roots: a plan proves every finding of the KG,
all settled, and the merge of those subproofs is built once per grounding, labeller and set of
settled roots. Graphs built with it must equal graphs built from scratch, byte for byte, also
when dynamic atoms (here from a choice) reach settled ones, for roots that are facts or not
derived, and after older sets of roots were dropped."""

from __future__ import annotations

from typing import Any

import clingo
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.reasoning import FactSet, ProofGraph, Solver, build_proofs, plan_request
from engine.reasoning import rules_from_texts as texts
from engine.reasoning.proof import _appended, _merged
from engine.reasoning.request import Request
from engine.reasoning.settled import _KEPT_ROOTS, SettledProofs, SettledRoots
from engine.reasoning.solve import Answer

F, N = clingo.Function, clingo.Number

# ``pick`` comes from a choice (dynamic); ``action`` reads it and the settled ``path``
CHOICE = """
% @goal reach "what reaches the target"
% @rule edge "{A} reaches {B} directly"
path(A, B) :- edge(A, B).
% @rule step "{A} reaches {C} through {B}"
path(A, C) :- edge(A, B), path(B, C).
% @rule far "{A} reaches {B} in two steps"
violation(far(A, B)) :- path(A, C), path(C, B).
{ pick(A) } :- edge(A, _), request(reach).
#maximize { 1,A : pick(A) }.
% @rule hit "{A} is picked and reaches 0"
action(alert(A)) :- request(reach), pick(A), path(A, 0).
"""


def _edges(pairs: list[tuple[int, int]]) -> list[clingo.Symbol]:
    return [F("edge", [N(x), N(y)]) for x, y in pairs]


def _solved(pairs: list[tuple[int, int]]) -> tuple[FactSet, Solver, Request, Answer]:
    """The ``CHOICE`` rules solved over ``edge`` facts for ``pairs``."""
    rules = texts({"rules/r.lp": CHOICE})
    facts = FactSet.from_groups({"g": _edges(pairs)})
    solver = Solver(rules)
    request = plan_request(rules, "reach", now=None)
    answer = solver.solve(facts, request)
    assert answer.trace is not None
    return facts, solver, request, answer


def _check(pairs: list[tuple[int, int]], extra_roots: list[clingo.Symbol]) -> int:
    """Build proofs for many root sets (more than are kept, each asked twice) with and without
    settled proofs; return how many sets of settled roots the labeller keeps at the end."""
    facts, solver, request, answer = _solved(pairs)
    assert answer.trace is not None
    program, trace = solver.program, answer.trace
    shown = list(answer.shown)
    settled = trace.settled()
    kwargs: dict[str, Any] = {
        "facts": facts.atom_set,
        "inputs": request.given(),
        "static": trace.static_index(program),
        "memo": trace.parsed,
    }
    sets = [shown, shown[::2], shown[1::2], shown[::3], shown[:1], [], shown + extra_roots]
    sets += [shown[::-1], shown + shown]  # another order; repeated roots
    for roots in [*sets, *reversed(sets)]:
        plain = build_proofs(program, answer.fired, roots=roots, **kwargs)
        fixed = tuple(roots[::2])  # passed again as the same object: its part is kept
        for _ in range(2):  # the second one from the kept part
            reused = build_proofs(program, answer.fired, roots=roots, settled=settled, **kwargs)
            assert reused.to_json() == plain.to_json()
            assert list(reused.roots) == sorted(reused.roots)
            assert list(reused.nodes) == sorted(reused.nodes)
            split = build_proofs(
                program,
                answer.fired,
                roots=roots[1::2],
                fixed_roots=fixed,
                settled=settled,
                **kwargs,
            )
            assert split.to_json() == plain.to_json()
    return len(settled.proofs(None, None).roots)


def test_settled_roots_with_dynamic_atoms_equal_plain_proofs() -> None:
    pairs = [(1, 0), (2, 1), (3, 2), (0, 3), (4, 4)]
    kept = _check(pairs, [])
    assert 1 <= kept <= _KEPT_ROOTS


def test_roots_that_are_facts_or_not_derived_are_drawn_as_before() -> None:
    pairs = [(1, 0), (2, 1)]
    missing = F("violation", [F("far", [N(9), N(9)])])  # derived by nothing: unsupported
    fact = F("edge", [N(1), N(0)])  # a KG fact as a root
    _check(pairs, [missing, fact])
    facts, solver, request, answer = _solved(pairs)
    assert answer.trace is not None
    graph = build_proofs(
        solver.program,
        answer.fired,
        facts=facts.atom_set,
        inputs=request.given(),
        roots=[missing, fact],
        static=answer.trace.static_index(solver.program),
        memo=answer.trace.parsed,
        settled=answer.trace.settled(),
    )
    sources = {graph.nodes[nid].source for nid in graph.roots.values()}  # type: ignore[union-attr]
    assert sources == {"kg", "unsupported"}
    assert isinstance(graph, ProofGraph)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=14))
def test_settled_roots_equal_plain_proofs_for_random_graphs(pairs: list[tuple[int, int]]) -> None:
    _check(pairs, [])


def test_appended_keeps_the_base_order_then_new_keys_in_order() -> None:
    base = {"b": 1, "d": 2, "f": 3}
    appended = _appended(base, {"g": 9, "a": 7, "d": 0})
    assert list(appended.items()) == [("b", 1), ("d", 2), ("f", 3), ("a", 7), ("g", 9)]
    assert base == {"b": 1, "d": 2, "f": 3}  # a copy: the kept part is shared by requests


def test_merged_keeps_key_order_and_the_kept_value_of_a_known_key() -> None:
    keys, values = ["b", "d", "f"], [1, 2, 3]
    assert _merged(keys, values, {}) == {"b": 1, "d": 2, "f": 3}
    merged = _merged(keys, values, {"g": 9, "a": 7, "d": 0, "e": 5, "c": 4})
    assert list(merged.items()) == [
        ("a", 7),
        ("b", 1),
        ("c", 4),
        ("d", 2),
        ("e", 5),
        ("f", 3),
        ("g", 9),
    ]
    assert list(_merged([], [], {"z": 1, "y": 2})) == ["y", "z"]
    assert _merged(keys, values, {"b": 0, "f": 0}) == {"b": 1, "d": 2, "f": 3}


def test_kept_root_sets_drop_the_least_recently_used() -> None:
    shared = SettledProofs()
    parts = [SettledRoots(frozenset({k}), [], [], [], []) for k in range(_KEPT_ROOTS + 1)]
    for k, part in enumerate(parts[:_KEPT_ROOTS]):
        shared.keep_roots((k,), part)
    assert shared.kept_roots((0,)) is parts[0]  # used again: now the most recent
    assert shared.kept_roots((99,)) is None  # never kept
    shared.keep_roots((_KEPT_ROOTS,), parts[-1])
    assert shared.kept_roots((1,)) is None  # the least recently used went
    assert shared.kept_roots((0,)) is parts[0]
    assert len(shared.roots) == _KEPT_ROOTS
