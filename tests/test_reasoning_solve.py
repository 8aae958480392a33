"""Plans: golden JSON, determinism, injection, timeouts, warm controls."""

from __future__ import annotations

import os
import time
from pathlib import Path

import clingo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ParameterError, SolveError
from engine.reasoning import (
    FactSet,
    Plan,
    Reasoner,
    Solver,
    decide_request,
    load_rules,
    plan_request,
    rules_from_texts,
)

DATA = Path(__file__).parent / "data" / "reasoning"
GOLDEN = DATA / "golden"
S, F, N = clingo.String, clingo.Function, clingo.Number


def supply() -> tuple[Reasoner, FactSet]:
    rules = load_rules(DATA / "supply")
    return Reasoner(rules), FactSet.from_text((DATA / "supply" / "facts.lp").read_text())


def origin(atom: clingo.Symbol) -> dict[str, str]:
    return {"graph": "urn:test:supply", "record": f"facts.lp#{atom.name}"}


def test_plan_matches_golden_file() -> None:
    reasoner, facts = supply()
    plan = reasoner.plan(facts, "remediate", {"vendor": "acme:v/alpha"}, now=19500, origin=origin)
    golden = GOLDEN / "supply_plan.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(plan.to_json())
    assert plan.to_json() == golden.read_text()
    text = GOLDEN / "supply_proof.txt"
    assert plan.proofs is not None
    if os.environ.get("UPDATE_GOLDEN") == "1":
        text.write_text(plan.proofs.to_text())
    assert plan.proofs.to_text() == text.read_text()


def test_plan_content() -> None:
    reasoner, facts = supply()
    plan = reasoner.plan(facts, "remediate", {"vendor": "acme:v/alpha"}, now=19500)
    assert plan.optimal
    assert [a.action for a in plan.actions] == [
        'suspend_flow("acme:f/P-0001")',
        'notify("acme:v/alpha")',
        'suspend_flow("acme:f/P-0002")',
    ]
    notify = plan.actions[1]
    assert notify.after == ('suspend_flow("acme:f/P-0001")',)
    assert plan.decision('suspend_flow("acme:f/P-0001")').kind == "escalate"
    assert plan.decision('suspend_flow("acme:f/P-0001")').role == "ciso"
    assert plan.decision('suspend_flow("acme:f/P-0002")').reasons == ("legal hold",)
    assert plan.decision('notify("acme:v/alpha")').kind == "allow"
    assert plan.cost == (8, 1)
    assert [(c.priority, c.weight, c.terms) for c in plan.cost_breakdown] == [
        (1, 5, ("disruption", "acme:f/P-0001")),
        (1, 3, ("disruption", "acme:f/P-0002")),
        (0, 1, ("notice", "acme:v/alpha")),
    ]
    assert Plan.model_validate_json(plan.to_json()) == plan


def test_same_input_gives_identical_json() -> None:
    reasoner, facts = supply()
    first = reasoner.plan(facts, "remediate", {"vendor": "acme:v/alpha"}, now=19500)
    reasoner.plan(facts, "remediate", {"vendor": "acme:v/beta"}, now=19500)  # warm state in between
    again = reasoner.plan(facts, "remediate", {"vendor": "acme:v/alpha"}, now=19500)
    fresh_reasoner, _ = supply()
    fresh = fresh_reasoner.plan(facts, "remediate", {"vendor": "acme:v/alpha"}, now=19500)
    assert first.to_json() == again.to_json() == fresh.to_json()


def test_decide_mode_returns_one_decision_with_proof() -> None:
    reasoner, facts = supply()
    action = F("suspend_flow", [S("acme:f/P-0002")])
    plan = reasoner.decide(facts, action, now=19500)
    assert [a.action for a in plan.actions] == ['suspend_flow("acme:f/P-0002")']
    assert plan.actions[0].decision.kind == "deny"
    assert plan.proofs is not None
    assert plan.actions[0].proof in plan.proofs.nodes
    allowed = reasoner.decide(facts, F("suspend_flow", [S("acme:f/P-0003")]), now=19500)
    assert allowed.actions[0].decision.kind == "allow"


INJECTION = 'x"). evil. %'


def inject() -> Reasoner:
    return Reasoner(load_rules(DATA / "inject"))


def test_param_injection_stays_one_string() -> None:
    plan = inject().plan(FactSet.from_groups({}), "notify", {"contact": INJECTION}, now=None)
    assert [a.action for a in plan.actions] == [str(F("notify", [S(INJECTION)]))]
    assert plan.params == {"contact": INJECTION}
    rules = load_rules(DATA / "inject")
    answer = Solver(rules).solve(
        FactSet.from_groups({}),
        plan_request(rules, "notify", {"contact": INJECTION}, now=None),
        all_atoms=True,
    )
    assert answer.atoms is not None
    assert {a.name for a in answer.atoms} == {"request", "param", "action", "__fired"}
    assert F("param", [F("contact"), S(INJECTION)]) in answer.atoms


def test_injected_fact_string_stays_one_string() -> None:
    facts = FactSet.from_groups({"notified/2": [F("notified", [S(INJECTION), N(5)])]})
    plan = inject().plan(facts, "notify", {"contact": INJECTION, "limit": 3}, now=None)
    assert plan.actions[0].decision.kind == "deny"


@pytest.mark.parametrize(
    ("goal", "params", "fragment"),
    [
        ("nope", {}, "unknown goal `nope`"),
        ("notify", {"who": "x"}, "unknown parameter `who`"),
        ("notify", {"limit": "3"}, "parameter `limit` expects int"),
        ("notify", {"limit": True}, "parameter `limit` expects int"),
        ("notify", {"urgent": "yes"}, "parameter `urgent` expects bool"),
        ("notify", {"contact": 7}, "parameter `contact` expects string"),
    ],
)
def test_bad_parameters(goal: str, params: dict[str, object], fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment):
        inject().plan(FactSet.from_groups({}), goal, params, now=None)


@pytest.mark.parametrize(
    ("atom", "fragment"),
    [
        (F("request", [F("notify")]), "reserved predicate"),
        (F("__fired", [N(1)]), "reserved predicate"),
        (N(3), "not an atom"),
        (F("p", [F("Bad")]), "not a valid clingo name"),
    ],
)
def test_bad_facts(atom: clingo.Symbol, fragment: str) -> None:
    with pytest.raises(SolveError, match=fragment):
        FactSet.from_groups({"x": [atom]})


def test_timeout_raises_solve_error() -> None:
    rules = load_rules(DATA / "hard")
    solver = Solver(rules, time_limit=0.3)
    with pytest.raises(SolveError, match=r"ran past its time limit of 0\.3 s") as info:
        solver.solve(FactSet.from_groups({}), plan_request(rules, "hard", now=None))
    assert info.value.code == "solve_timeout"


symbols = st.recursive(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1).map(N),
        st.text(max_size=12).map(S),
        st.from_regex(r"[a-z][a-zA-Z0-9_]{0,6}", fullmatch=True).map(F),
    ),
    lambda inner: st.tuples(
        st.from_regex(r"[a-z][a-z0-9_]{0,6}|", fullmatch=True),
        st.lists(inner, min_size=1, max_size=3),
    ).map(lambda t: F(t[0], t[1])),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(symbols)
def test_symbol_text_round_trip(sym: clingo.Symbol) -> None:
    assert clingo.parse_term(str(sym)) == sym


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(max_size=10), min_size=1, max_size=5))
def test_fact_text_grounds_back_to_the_same_atoms(values: list[str]) -> None:
    atoms = [F("name", [S(v), N(i)]) for i, v in enumerate(values)]
    facts = FactSet.from_groups({"name/2": atoms})
    assert FactSet.from_text(facts.text()).atoms == facts.atoms


CHAIN = """
% @goal audit "find exposed vendors"
% @param vendor: iri
% @rule reach "{A} reaches {B}"
reach(A, B) :- link(A, B).
% @rule reach_t "{A} reaches {C} via {B}"
reach(A, C) :- link(A, B), reach(B, C).
% @rule flag "{V} reaches exposed {W}"
finding(exposed(V, W)) :- request(audit), param(vendor, V), reach(V, W), bad(W).
"""


def chain_facts(n: int) -> FactSet:
    """Chains of 10 vendors (so the closure stays linear in n), with a few shortcuts."""
    links = [F("link", [S(f"v{i}"), S(f"v{i + 1}")]) for i in range(n) if i % 10 != 9]
    links += [F("link", [S(f"v{i}"), S(f"v{i + 3}")]) for i in range(0, n, 10)]
    bad = [F("bad", [S(f"v{i}")]) for i in range(5, n, 10)]
    return FactSet.from_groups({"link/2": links, "bad/1": bad})


def test_warm_control_is_reused_across_requests() -> None:
    rules = rules_from_texts({"rules/chain.lp": CHAIN})
    solver = Solver(rules)
    facts = chain_facts(120)
    first = solver.solve(facts, plan_request(rules, "audit", {"vendor": "v100"}, now=None))
    second = solver.solve(facts, plan_request(rules, "audit", {"vendor": "v110"}, now=None))
    assert (first.reused, second.reused) == (False, True)
    assert second.ground_ms == first.ground_ms  # the same grounding served both
    assert {s.arguments[0].arguments[0] for s in second.shown} == {S("v110")}
    # a value outside the facts' domain gets a control of its own, then that one is reused
    odd = plan_request(rules, "audit", {"vendor": "zz"}, now=None)
    assert solver.solve(facts, odd).reused is False
    assert solver.solve(facts, odd).reused is True
    assert solver.solve(facts, odd).shown == ()


MIXED_FINDINGS = """
% @goal audit "what to review"
% @param vendor: iri in vendor
% @rule bad "{W} is bad"
finding(issue(W)) :- bad(W).
% @rule asked "{V} was asked about"
finding(issue(V)) :- request(audit), param(vendor, V), vendor(V).
% @rule review "review {V}"
action(review(V)) :- finding(issue(V)), vendor(V).
"""


@pytest.mark.parametrize("vendor", ["b", "d", "f", "a"])
def test_plan_findings_merge_fixed_and_open_in_clingos_order(vendor: str) -> None:
    """A plan lists the findings grounding fixed (``Answer.fixed``, not shown) and the open
    ones its model holds, interleaved in clingo's order; every one is a proof root."""
    rules = rules_from_texts({"rules/mixed.lp": MIXED_FINDINGS})
    facts = FactSet.from_groups(
        {
            "bad/1": [F("bad", [S(w)]) for w in ("a", "c", "e")],
            "vendor/1": [F("vendor", [S(v)]) for v in ("a", "b", "d", "f")],
        }
    )
    reasoner = Reasoner(rules)
    for _ in range(2):  # the second answer from the warm control and the kept settled part
        plan = reasoner.plan(facts, "audit", {"vendor": vendor}, now=None)
        expected = sorted({F("finding", [F("issue", [S(w)])]) for w in ("a", "c", "e", vendor)})
        assert plan.findings == tuple(str(f) for f in expected)
        assert plan.proofs is not None and set(plan.findings) <= set(plan.proofs.roots)
        assert [a.action for a in plan.actions] == sorted({'review("a")', f'review("{vendor}")'})
    fixed = reasoner.solver.solve(facts, plan_request(rules, "audit", {"vendor": vendor}, now=None))
    assert fixed.fixed is not None
    assert [str(s) for s in fixed.fixed.symbols] == [f'finding(issue("{w}"))' for w in "ace"]
    reviews = {F("action", [F("review", [S(v)])]) for v in ("a", vendor)}
    held = set() if vendor == "a" else {F("finding", [F("issue", [S(vendor)])])}
    assert fixed.shown == tuple(sorted(reviews | held))


TYPED = """
% @goal audit "which vendors reach exposed ones"
% @param vendor: iri in vendor
% @action cut(V: iri in vendor, W: iri)
% @rule flag "{V} is flagged"
finding(flagged(V)) :- request(audit), param(vendor, V), vendor(V).
% @rule cut_bad "cutting {V} off {W} is refused"
deny(cut(V, W), "W is bad") :- action(cut(V, W)), bad(W).
"""


def test_typed_domains_declare_only_class_members() -> None:
    """``in vendor`` keeps the warm control to vendors; any other value is still answered."""
    rules = rules_from_texts({"rules/typed.lp": TYPED})
    solver = Solver(rules)
    vendors = [F("vendor", [S(f"v{i}")]) for i in range(3)]
    facts = FactSet.from_groups(
        {"vendor/1": vendors, "bad/1": [F("bad", [S("w")])], "note/1": [F("note", [S("x")])]}
    )
    domain = solver.domain(facts, deciding=True)
    planning = solver.domain(facts, deciding=False)
    requests = {s for s in planning | domain if s.name == "request"}
    assert requests & domain == {F("request", [F("decide")])}  # decisions: no goal
    assert requests & planning == {F("request", [F("audit")])}
    assert not any(s.name == "proposed" for s in planning)  # plans: no proposed action
    params = {s.arguments[1] for s in domain if s.name == "param"}
    assert params == {S("v0"), S("v1"), S("v2")}
    cuts = {s.arguments[0] for s in domain if s.name == "proposed"}
    # V over the 3 vendors, W (untyped iri) over all 5 strings of the facts
    assert len(cuts) == 3 * 5 and F("cut", [S("v1"), S("w")]) in cuts
    first = solver.solve(facts, plan_request(rules, "audit", {"vendor": "v1"}, now=None))
    assert first.shown == (F("finding", [F("flagged", [S("v1")])]),)
    outside = solver.solve(facts, plan_request(rules, "audit", {"vendor": "x"}, now=None))
    assert (first.reused, outside.reused, outside.shown) == (False, False, ())
    reasoner = Reasoner(rules)
    decided = reasoner.decide(facts, F("cut", [S("x"), S("w")]), now=None)
    assert decided.actions[0].decision.kind == "deny"  # outside the domain, still decided
    allowed = reasoner.decide(facts, F("cut", [S("v0"), S("x")]), now=None)
    assert allowed.actions[0].decision.kind == "allow"


def test_plans_and_decisions_share_no_control() -> None:
    """A decision grounds its own warm control (no goal rules), reused by the next one,
    and answers exactly as a control grounded for its inputs alone would."""
    rules = rules_from_texts({"rules/typed.lp": TYPED})
    solver = Solver(rules)
    facts = FactSet.from_groups(
        {"vendor/1": [F("vendor", [S("v0")])], "bad/1": [F("bad", [S("w")])]}
    )
    plan = solver.solve(facts, plan_request(rules, "audit", {"vendor": "v0"}, now=None))
    cut = F("cut", [S("v0"), S("w")])
    first = solver.solve(facts, decide_request(rules, cut, now=None))
    again = solver.solve(facts, decide_request(rules, cut, now=None))
    assert (plan.reused, first.reused, again.reused) == (False, False, True)
    assert F("deny", [cut, S("W is bad")]) in first.shown
    fresh = Solver(rules, domain_cap=0).solve(facts, decide_request(rules, cut, now=None))
    assert fresh.shown == first.shown


def test_warm_request_is_much_faster_than_grounding() -> None:
    """Timing is printed, not asserted; the structure (reuse) is what the test checks."""
    rules = rules_from_texts({"rules/chain.lp": CHAIN})
    solver = Solver(rules)
    facts = chain_facts(10_000)
    cold = solver.solve(facts, plan_request(rules, "audit", {"vendor": "v9900"}, now=None))
    started = time.perf_counter()
    warm = solver.solve(facts, plan_request(rules, "audit", {"vendor": "v9950"}, now=None))
    elapsed = (time.perf_counter() - started) * 1000
    print(f"facts={len(facts.atoms)} ground={cold.ground_ms:.1f}ms warm request={elapsed:.1f}ms")
    assert warm.reused and not cold.reused
    assert len(warm.shown) == 1


def test_cache_is_bounded() -> None:
    rules = rules_from_texts({"rules/chain.lp": CHAIN})
    solver = Solver(rules, cache_size=2)
    for n in (10, 11, 12):
        solver.solve(chain_facts(n), plan_request(rules, "audit", {"vendor": "v1"}, now=None))
    assert len(solver._cache) == 2
