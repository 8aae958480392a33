"""Proof DAGs: acyclic and well-founded for recursive rules; every leaf an input; every
instance's body holds in the answer set. Renderers: JSON, text, DOT."""

from __future__ import annotations

import json
from pathlib import Path

import clingo
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.reasoning import (
    FactNode,
    FactSet,
    ProofGraph,
    Reasoner,
    RuleNode,
    Solver,
    load_rules,
    plan_request,
    rules_from_texts,
)

DATA = Path(__file__).parent / "data" / "reasoning"
S, F = clingo.String, clingo.Function

CLOSURE = """
% @goal reach "what reaches the target"
% @rule edge "{A} reaches {B} directly"
path(A, B) :- edge(A, B).
% @rule step "{A} reaches {C} through {B}"
path(A, C) :- edge(A, B), path(B, C).
% @rule hit "{A} reaches the target"
action(alert(A)) :- request(reach), path(A, t), not safe(A).
"""


def assert_well_formed(graph: ProofGraph, facts: set[str], inputs: set[str]) -> None:
    """Acyclic (a topological order exists) and every leaf is an input fact."""
    state: dict[str, int] = {}
    for root in graph.roots.values():
        stack = [(root, False)]
        while stack:
            nid, done = stack.pop()
            if done:
                state[nid] = 2
                continue
            assert state.get(nid) != 1, f"cycle through {nid}"
            if state.get(nid) == 2:
                continue
            state[nid] = 1
            stack.append((nid, True))
            node = graph.nodes[nid]
            if isinstance(node, RuleNode):
                for child in node.children:
                    assert state.get(child) != 1, f"cycle through {child}"
                    stack.append((child, False))
            else:
                assert node.source in ("kg", "request")
                assert node.atom in (facts if node.source == "kg" else inputs)


def assert_instances_hold(graph: ProofGraph, model: set[str]) -> None:
    """Each rule instance fires in the answer set: its head and positive body atoms hold, its
    negative conditions do not."""
    for node in graph.nodes.values():
        if isinstance(node, RuleNode):
            assert node.head in model
            for child in node.children:
                child_node = graph.nodes[child]
                atom = child_node.head if isinstance(child_node, RuleNode) else child_node.atom
                assert atom in model
            for negative in node.negative:
                assert negative.removeprefix("not ") not in model


def test_recursive_chain_proof_is_acyclic_and_well_founded() -> None:
    rules = rules_from_texts({"rules/closure.lp": CLOSURE})
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "t")]  # a cycle a→b→c→a plus an exit
    atoms = [F("edge", [F(x), F(y)]) for x, y in edges]
    facts = FactSet.from_groups({"edge/2": atoms})
    plan = Reasoner(rules).plan(facts, "reach", now=None)
    assert [a.action for a in plan.actions] == ["alert(a)", "alert(b)", "alert(c)"]
    assert plan.proofs is not None
    assert_well_formed(plan.proofs, {str(a) for a in atoms}, {"request(reach)"})
    # the shortest derivation wins: path(c,t) is direct, path(b,t) goes through c only
    proof_b = plan.proofs.subgraph("action(alert(b))")
    heads = sorted(n.head for n in proof_b.nodes.values() if isinstance(n, RuleNode))
    assert heads == ["action(alert(b))", "path(b,t)", "path(c,t)"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=18),
    st.sets(st.integers(0, 6), max_size=3),
)
def test_random_graph_proofs(edges: list[tuple[int, int]], safe: set[int]) -> None:
    rules = rules_from_texts({"rules/closure.lp": CLOSURE.replace("path(A, t)", "path(A, 0)")})
    atoms = [F("edge", [clingo.Number(x), clingo.Number(y)]) for x, y in edges]
    atoms += [F("safe", [clingo.Number(x)]) for x in safe]
    facts = FactSet.from_groups({"g": atoms})
    solver = Solver(rules)
    request = plan_request(rules, "reach", now=None)
    answer = solver.solve(facts, request, all_atoms=True)
    plan = Reasoner(rules).plan(facts, "reach", now=None)
    assert plan.proofs is not None
    assert set(plan.proofs.roots) == {f"action({a.action})" for a in plan.actions}
    assert_well_formed(plan.proofs, {str(a) for a in facts.atoms}, {"request(reach)"})
    assert_instances_hold(plan.proofs, {str(a) for a in answer.atoms or ()})


def test_shared_subproofs_are_one_node_and_renderers_agree() -> None:
    rules = load_rules(DATA / "supply")
    facts = FactSet.from_text((DATA / "supply" / "facts.lp").read_text())
    labels = {S("acme:v/delta"): "Delta Logistics"}
    plan = Reasoner(rules).plan(
        facts, "remediate", {"vendor": "acme:v/alpha"}, now=19500, label_of=labels.get
    )
    graph = plan.proofs
    assert graph is not None
    ids = list(graph.nodes)
    assert len(ids) == len(set(ids))
    expired = [
        n for n in graph.nodes.values() if isinstance(n, RuleNode) and n.rule_id == "cert_expired"
    ]
    assert len(expired) == 1  # used by both flows, stored once
    assert (
        expired[0].label == "certification acme:c/1 of vendor Delta Logistics expired on day 19000"
    )
    assert expired[0].negative == ('not renewed("acme:c/1")',)
    assert expired[0].comparisons == ("19000 < 19500",)
    text = graph.to_text()
    assert text.count(f"#{expired[0].id[:8]}") == 2  # printed once, then cited
    dot = graph.to_dot()
    assert dot.startswith("digraph proof {") and f'"{expired[0].id}"' in dot
    assert ProofGraph.model_validate(json.loads(graph.to_json())) == graph
    leaves = [n for n in graph.nodes.values() if isinstance(n, FactNode)]
    assert {n.source for n in leaves} == {"kg", "request"}


def _settled_and_plain(rules_text: str, atoms: list[clingo.Symbol], goal: str) -> None:
    """Proofs reusing the grounding's settled subproofs equal proofs built from scratch, for a
    few roots first and then for all of them (the second call reuses the first's cache)."""
    from engine.reasoning.proof import build_proofs

    rules = rules_from_texts({"rules/r.lp": rules_text})
    facts = FactSet.from_groups({"g": atoms})
    solver = Solver(rules)
    request = plan_request(rules, goal, now=None)
    answer = solver.solve(facts, request)
    assert answer.trace is not None
    program, trace = solver.program, answer.trace
    shown = list(answer.shown)
    for roots in (shown[::3], shown, shown[1::2]):
        kwargs = {
            "facts": facts.atom_set,
            "inputs": request.given(),
            "roots": roots,
            "static": trace.static_index(program),
            "memo": trace.parsed,
        }
        plain = build_proofs(program, answer.fired, **kwargs)  # type: ignore[arg-type]
        reused = build_proofs(
            program,
            answer.fired,
            settled=trace.settled(),
            **kwargs,  # type: ignore[arg-type]
        )
        assert reused.to_json() == plain.to_json()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=18),
    st.sets(st.integers(0, 6), max_size=3),
)
def test_settled_subproofs_equal_proofs_from_scratch(
    edges: list[tuple[int, int]], safe: set[int]
) -> None:
    text = CLOSURE.replace("path(A, t)", "path(A, 0)") + (
        '% @rule far "{A} reaches {B} in two steps"\n'
        "violation(far(A, B)) :- path(A, C), path(C, B), not safe(A).\n"
    )
    atoms = [F("edge", [clingo.Number(x), clingo.Number(y)]) for x, y in edges]
    atoms += [F("safe", [clingo.Number(x)]) for x in safe]
    _settled_and_plain(text, atoms, "reach")
