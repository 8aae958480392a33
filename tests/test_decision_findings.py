"""A decision lists the findings its proofs reach; a plan lists every finding in scope.

A plan for one vendor lists that vendor's findings (the example rules report them by scope).

Checked on the example workspace and its real KG: the decision record's findings are exactly
the ``finding``/``violation`` atoms that are nodes of the decided action's proof graph,
walked here from the action's roots independently of the engine's own filter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.knowledge.ingest import Ingestor
from engine.knowledge.ontology import load_ontology_graph
from engine.planning import DecisionPlane, PlanRecord
from engine.reasoning import FactNode, ProofGraph, RuleNode
from engine.reasoning.request import decide_request
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

_FINDING_PREFIXES = ("finding(", "violation(")


def _clock() -> datetime:
    return datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def setup(
    repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DecisionPlane, PlanRecord]]:
    workspace = Workspace.load(repo_root)
    store = OxigraphStore(tmp_path_factory.mktemp("decision-findings") / "kg")
    Ingestor(
        workspace, store, clock=_clock, ontology=load_ontology_graph(workspace.ontology_files())
    ).ingest()
    plane = DecisionPlane(workspace, store, clock=_clock)
    try:
        yield plane, plane.plan("remediate")
    finally:
        store.close()


def _reached_findings(graph: ProofGraph) -> set[str]:
    """Finding atoms among the nodes reachable from the graph's roots."""
    seen: set[str] = set()
    out: set[str] = set()
    stack = list(graph.roots.values())
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        node = graph.nodes[nid]
        text = node.head if isinstance(node, RuleNode) else node.atom
        if text.startswith(_FINDING_PREFIXES):
            out.add(text)
        if isinstance(node, RuleNode):
            stack.extend(node.children)
    return out


@pytest.mark.parametrize(
    ("action", "reaches"),
    [
        ('schedule_reassessment("acme:vendor/V006")', True),  # escalate to the DPO
        ('suspend_flow("acme:processing/P-0031")', False),  # escalate, on no finding
    ],
)
def test_a_decision_lists_exactly_the_findings_of_its_proof(
    setup: tuple[DecisionPlane, PlanRecord], action: str, reaches: bool
) -> None:
    plane, plan = setup
    record = plane.decide(action)
    assert record.kind == "decision"
    graph = record.plan.proofs
    assert graph is not None
    expected = _reached_findings(graph)
    assert bool(expected) == reaches, f"the proof of {action} reaches {sorted(expected)}"
    assert set(record.plan.findings) == expected
    assert len(record.plan.findings) == len(expected)  # no duplicates
    # in the plan's order, and a strict subset of what the plan lists
    listed = [f for f in plan.plan.findings if f in expected]
    assert list(record.plan.findings) == listed
    assert len(record.plan.findings) < len(plan.plan.findings)


def test_a_plan_still_lists_every_finding_in_scope(
    setup: tuple[DecisionPlane, PlanRecord],
) -> None:
    _, plan = setup
    graph = plan.plan.proofs
    assert graph is not None
    proved = {atom for atom in graph.roots if atom.startswith(_FINDING_PREFIXES)}
    assert proved and set(plan.plan.findings) == proved
    # findings no action's proof uses are listed too: a plan answers what is wrong
    used = _reached_findings(
        ProofGraph(
            roots={a: n for a, n in graph.roots.items() if not a.startswith(_FINDING_PREFIXES)},
            nodes=graph.nodes,
        )
    )
    assert set(plan.plan.findings) > used


def test_a_plan_for_one_vendor_lists_the_findings_in_its_scope(
    setup: tuple[DecisionPlane, PlanRecord],
) -> None:
    plane, plan = setup
    vendor = "acme:vendor/V006"
    scoped = plane.plan("remediate", {"vendor": vendor}).plan
    own = {f for f in plan.plan.findings if f'"{vendor}"' in f}
    # the vendor's own findings, not the whole KG's (the rules report what is in scope)
    assert own and own <= set(scoped.findings) < set(plan.plan.findings)
    assert list(scoped.findings) == [f for f in plan.plan.findings if f in scoped.findings]
    assert scoped.proofs is not None
    proved = {atom for atom in scoped.proofs.roots if atom.startswith(_FINDING_PREFIXES)}
    assert proved == set(scoped.findings)


def test_a_decision_without_proofs_lists_no_finding(
    setup: tuple[DecisionPlane, PlanRecord],
) -> None:
    plane, plan = setup
    _kg, facts = plane.facts()
    action = 'schedule_reassessment("acme:vendor/V006")'
    request = decide_request(plane.rules(), plane.action(action), {}, now=plan.now)
    reasoner = plane.reasoner()
    bare = reasoner.run(facts, request, proofs=False, findings=False)
    assert bare.findings == () and bare.proofs is None
    # a decision control does not even show the KG's findings: asked for all, it has none
    # (its findings are the ones its proofs reach); a plan request lists them all
    everything = reasoner.run(facts, request, proofs=False, findings=True)
    assert everything.findings == () and plan.plan.findings


def test_a_fact_node_that_is_a_finding_counts_as_reached() -> None:
    from engine.reasoning.plan import proved_atoms

    graph = ProofGraph(
        roots={'action(x("a"))': "r"},
        nodes={
            "r": RuleNode(
                id="r",
                rule_id="x",
                file="rules/x.lp",
                line=1,
                label="x",
                head='action(x("a"))',
                children=("f",),
            ),
            "f": FactNode(id="f", atom='finding(k,"a")', source="request"),
        },
    )
    assert proved_atoms(graph) == {'action(x("a"))', 'finding(k,"a")'}
