"""Why-not (not derivable, not chosen, blocked) and minimal UNSAT cores."""

from __future__ import annotations

from pathlib import Path

import clingo
import pytest

from engine.errors import SolveError
from engine.reasoning import FactSet, Reasoner, Solver, load_rules, minimal_conflict, plan_request

DATA = Path(__file__).parent / "data" / "reasoning"
S, F = clingo.String, clingo.Function
EMPTY = FactSet.from_groups({})


def supply() -> tuple[Reasoner, FactSet]:
    rules = load_rules(DATA / "supply")
    return Reasoner(rules), FactSet.from_text((DATA / "supply" / "facts.lp").read_text())


def test_why_not_reports_the_missing_condition() -> None:
    reasoner, facts = supply()
    answer = reasoner.why_not(
        facts,
        "remediate",
        F("suspend_flow", [S("acme:f/P-0003")]),
        {"vendor": "acme:v/alpha"},
        now=19500,
    )
    assert answer.status == "not_derivable"
    assert [(f.rule_id, f.kind, f.condition) for f in answer.failures] == [
        ("may_suspend", "missing", 'exposed("acme:f/P-0003",_)')
    ]
    assert answer.failures[0].bindings == {"F": "acme:f/P-0003"}
    assert answer.failures[0].file == "rules/supply.lp"


def test_why_not_reports_an_unmet_parameter() -> None:
    reasoner, facts = supply()
    answer = reasoner.why_not(
        facts, "remediate", F("notify", [S("acme:v/beta")]), {"vendor": "acme:v/alpha"}, now=19500
    )
    assert answer.status == "not_derivable"
    assert answer.failures[0].condition == 'param(vendor,"acme:v/beta")'
    assert answer.failures[0].kind == "missing"


def test_negated_condition_cites_the_atom_that_holds() -> None:
    from engine.reasoning import rules_from_texts

    rules = rules_from_texts(
        {
            "rules/n.lp": """
% @goal g "demo"
% @action go(X: iri)
% @rule blocked "{X} is blocked by {Y}"
blocked(X) :- depends(X, Y), broken(Y).
% @rule go "{X} can go"
action(go(X)) :- request(g), item(X), not blocked(X).
"""
        }
    )
    facts = FactSet.from_groups(
        {
            "f": [
                F("item", [S("a")]),
                F("item", [S("b")]),
                F("depends", [S("b"), S("c")]),
                F("broken", [S("c")]),
            ]
        }
    )
    why = Reasoner(rules).why_not(facts, "g", F("go", [S("b")]), now=None)
    assert why.status == "not_derivable"
    failure = why.failures[0]
    assert (failure.rule_id, failure.kind, failure.condition) == (
        "go",
        "negated",
        'not blocked("b")',
    )
    assert failure.proof is not None
    assert list(failure.proof.roots) == ['blocked("b")']
    assert any(getattr(n, "rule_id", None) == "blocked" for n in failure.proof.nodes.values())


def test_why_not_chosen_reports_the_cost_difference() -> None:
    from engine.reasoning import rules_from_texts

    rules = rules_from_texts(
        {
            "rules/c.lp": """
% @goal g "pick one route"
% @action route(R: iri)
% @rule pick "{R} may be taken"
{ action(route(R)) : option(R, _) } = 1 :- request(g).
#minimize { C@1,route,R : action(route(R)), option(R, C) }.
"""
        }
    )
    facts = FactSet.from_groups(
        {
            "o": [
                F("option", [S("cheap"), clingo.Number(2)]),
                F("option", [S("dear"), clingo.Number(7)]),
            ]
        }
    )
    reasoner = Reasoner(rules)
    plan = reasoner.plan(facts, "g", now=None)
    assert [a.action for a in plan.actions] == ['route("cheap")']
    why = reasoner.why_not(facts, "g", F("route", [S("dear")]), now=None)
    assert why.status == "not_chosen"
    assert (why.plan_cost, why.cost_with_action, why.cost_difference) == ((2,), (7,), (5,))
    assert reasoner.why_not(facts, "g", F("route", [S("cheap")]), now=None).status == "chosen"


def test_why_not_blocked_names_the_constraint() -> None:
    from engine.reasoning import rules_from_texts

    choose = rules_from_texts(
        {
            "rules/c.lp": """
% @goal g "choose"
% @action a(X: iri)
% @rule offer "{X} may be chosen"
{ action(a(X)) : cand(X) } :- request(g).
% @rule ban "{X} is banned"
:- action(a(X)), banned(X).
"""
        }
    )
    facts = FactSet.from_groups({"f": [F("cand", [S("x")]), F("banned", [S("x")])]})
    why = Reasoner(choose).why_not(facts, "g", F("a", [S("x")]), now=None)
    assert why.status == "blocked"
    assert why.conflict is not None
    assert [(i.kind, i.rule_id) for i in why.conflict.items] == [
        ("constraint", "ban"),
        ("assumption", None),
    ]


def test_unsat_gives_the_minimal_conflict() -> None:
    rules = load_rules(DATA / "conflict")
    solver = Solver(rules)
    conflict = minimal_conflict(solver, EMPTY, plan_request(rules, "staff", now=None))
    constraints = [i for i in conflict.items if i.kind == "constraint"]
    assert {i.rule_id for i in constraints} == {"need_one", "no_a", "no_b"}
    assert all(i.file == "rules/conflict.lp" and i.line for i in constraints)
    assert {i.label for i in constraints} == {
        "a or b must be picked",
        "a is on leave",
        "b is on leave",
    }
    # minimal: dropping any one constraint makes a plan possible
    ids = {r.id: r.index for r in rules.rules}
    kept = [ids[i.rule_id] for i in constraints if i.rule_id]
    request = plan_request(rules, "staff", now=None)
    for drop in kept:
        rest = [
            c
            for c in solver.program.constraints
            if c not in {drop}
            and (c in kept or solver.program.constraints[c].id in ("no_c", "few"))
        ]
        assert solver.solve(EMPTY, request, constraints=rest).satisfiable


def test_plan_without_solution_raises_with_the_conflict() -> None:
    rules = load_rules(DATA / "conflict")
    with pytest.raises(SolveError, match="conflicting `need_one`") as info:
        Reasoner(rules).plan(EMPTY, "staff", now=None)
    assert info.value.code == "no_plan"
    ids = [i["rule_id"] for i in info.value.details["conflict"]["items"] if i["rule_id"]]
    assert ids == ["need_one", "no_a", "no_b"]
