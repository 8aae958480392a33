"""Properties every proof of the example plan must have, checked against the real model and KG.

- the proof graph is a DAG (acyclic), and every child a node names exists;
- every rule instance in a proof really fires in the answer set: its head and every positive
  body atom hold in the model, and every ``not x`` it records is false in the model;
- every KG leaf is a fact whose origin names a triple that is in the store, in the named graph
  the origin says, produced by the source record the origin names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import clingo
import pyoxigraph as ox
import pytest

from engine.knowledge.ingest import Ingestor
from engine.knowledge.ontology import load_ontology_graph
from engine.planning import DecisionPlane, PlanRecord
from engine.reasoning import FactNode, RuleNode
from engine.reasoning.request import plan_request
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

PRODUCED = ox.NamedNode("https://w3id.org/warrant/core#produced")


def _clock() -> datetime:
    return datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def setup(
    repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DecisionPlane, OxigraphStore, PlanRecord]]:
    workspace = Workspace.load(repo_root)
    store = OxigraphStore(tmp_path_factory.mktemp("proofs") / "kg")
    Ingestor(
        workspace, store, clock=_clock, ontology=load_ontology_graph(workspace.ontology_files())
    ).ingest()
    plane = DecisionPlane(workspace, store, clock=_clock)
    try:
        yield plane, store, plane.plan("remediate")
    finally:
        store.close()


def _term(text: str) -> ox.NamedNode | ox.Literal:
    """An N-Triples term string as stored in an origin back to a pyoxigraph term."""
    [quad] = list(ox.parse(f"<urn:s> <urn:p> {text} .", format=ox.RdfFormat.N_TRIPLES))
    obj = quad.object
    assert isinstance(obj, ox.NamedNode | ox.Literal)
    return obj


def test_proofs_are_acyclic_and_closed(
    setup: tuple[DecisionPlane, OxigraphStore, PlanRecord],
) -> None:
    _, _, record = setup
    graph = record.plan.proofs
    assert graph is not None and graph.roots
    state: dict[str, int] = {}

    def visit(nid: str) -> None:
        assert nid in graph.nodes, f"dangling child {nid}"
        if state.get(nid) == 2:
            return
        assert state.get(nid) != 1, f"cycle through {nid}"
        state[nid] = 1
        node = graph.nodes[nid]
        if isinstance(node, RuleNode):
            for child in node.children:
                visit(child)
        state[nid] = 2

    for root in graph.roots.values():
        visit(root)


def test_every_rule_instance_fires_in_the_answer_set(
    setup: tuple[DecisionPlane, OxigraphStore, PlanRecord],
) -> None:
    plane, _, record = setup
    _, facts = plane.facts()
    request = plan_request(plane.rules(), record.plan.goal, {}, now=record.now)
    answer = plane.reasoner().solver.solve(facts, request, all_atoms=True)
    model = {str(a) for a in answer.atoms or ()} | {str(a) for a in facts.atoms}
    model |= {str(a) for a in request.given()}
    graph = record.plan.proofs
    assert graph is not None
    for node in graph.nodes.values():
        if not isinstance(node, RuleNode):
            continue
        assert node.head in model, node.rule_id
        for child in node.children:
            child_node = graph.nodes[child]
            atom = child_node.head if isinstance(child_node, RuleNode) else child_node.atom
            assert atom in model, (node.rule_id, atom)
        for neg in node.negative:
            positive = str(clingo.parse_term(neg.removeprefix("not ").strip()))
            assert positive not in model, (node.rule_id, neg)


def test_every_kg_leaf_is_a_stored_triple_of_its_record(
    setup: tuple[DecisionPlane, OxigraphStore, PlanRecord],
) -> None:
    _, store, record = setup
    graph = record.plan.proofs
    assert graph is not None
    leaves = [n for n in graph.nodes.values() if isinstance(n, FactNode) and n.source == "kg"]
    assert leaves
    for leaf in leaves:
        assert leaf.origin, f"{leaf.atom} has no origin"
        for origin in leaf.origin:
            s, p, o = (_term(t) for t in origin["triple"])
            g = ox.NamedNode(origin["graph"])
            triple = ox.Triple(s, p, o)  # type: ignore[arg-type]
            assert list(store.match(s, p, o, g)), (leaf.atom, origin["triple"])  # type: ignore[arg-type]
            rec = ox.NamedNode(origin["record"]["iri"])
            assert list(store.match(rec, PRODUCED, triple)), (leaf.atom, origin["record"])


@pytest.mark.parametrize(
    "action",
    [
        'suspend_flow("acme:processing/P-0003")',  # deny
        'suspend_flow("acme:processing/P-0031")',  # escalate to the CISO
        'suspend_flow("acme:processing/P-0070")',  # allow
        'schedule_reassessment("acme:vendor/V006")',  # escalate to the DPO
    ],
)
def test_a_decision_reading_only_reachable_instances_equals_the_full_read(
    setup: tuple[DecisionPlane, OxigraphStore, PlanRecord], action: str
) -> None:
    """Decisions read only the fired instances their proofs can reach (a speed-up); the plan,
    decision and proof must be byte-identical to reading the whole model."""
    from engine.reasoning.request import decide_request

    plane, _, record = setup
    kg, facts = plane.facts()
    request = decide_request(plane.rules(), plane.action(action), {}, now=record.now)
    origin = plane.origin_resolver(kg)
    label_of = plane.label_function(kg)
    runs = [
        plane.reasoner().run(
            facts, request, origin=origin, label_of=label_of, findings=False, reach=reach
        )
        for reach in (True, False)
    ]
    assert runs[0].actions and runs[0].proofs is not None
    assert runs[0].to_json() == runs[1].to_json()
