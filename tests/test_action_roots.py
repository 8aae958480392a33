"""Which proof roots are about an action: its choice and every denial or escalation of it."""

from __future__ import annotations

from engine.action.approvals import action_roots
from engine.reasoning.proof import ProofGraph


def _old(proofs: ProofGraph, action: str) -> list[str]:
    """The scan the index replaced: every root compared with the action's three forms."""
    wanted = "".join(action.split())
    out = []
    for atom, nid in sorted(proofs.roots.items()):
        compact = "".join(atom.split())
        if compact == f"action({wanted})" or compact.startswith(
            (f"deny({wanted},", f"escalate({wanted},")
        ):
            out.append(nid)
    return out


ROOTS = {
    'action(suspend_flow("acme:p/1"))': "n1",
    'deny(suspend_flow("acme:p/1"),"sole provider, critical")': "n2",
    'escalate(suspend_flow("acme:p/1"),ciso,"a, b")': "n3",
    'action(suspend_flow("acme:p/1,x"))': "n4",
    'deny(suspend_flow("acme:p/1,x"),"r")': "n5",
    'action(move(f("a\\",(b"),2))': "n6",
    'escalate(move(f("a\\",(b"),2),dpo,"r")': "n7",
    'finding(stale_audit,"acme:v/1",19000)': "n8",
    "action(open_ticket(\"acme:v/1\"))": "n9",
    "deny(open_ticket(\"acme:v/1\"), \"no owner\")": "n10",
}


def test_roots_by_action_agree_with_the_scan() -> None:
    proofs = ProofGraph.model_construct(roots=ROOTS, nodes={})
    actions = [
        'suspend_flow("acme:p/1")',
        'suspend_flow("acme:p/1,x")',
        'move(f("a\\",(b"),2)',
        'open_ticket( "acme:v/1" )',
        'open_ticket("acme:v/2")',
        "stale_audit",
    ]
    for action in actions:
        assert action_roots(proofs, action) == _old(proofs, action), action
    assert action_roots(proofs, 'suspend_flow("acme:p/1")') == ["n1", "n2", "n3"]
    assert action_roots(proofs, 'open_ticket("acme:v/2")') == []


def test_a_new_graph_is_indexed_afresh() -> None:
    first = ProofGraph.model_construct(roots={"action(a)": "x"}, nodes={})
    second = ProofGraph.model_construct(roots={"action(a)": "y"}, nodes={})
    assert action_roots(first, "a") == ["x"]
    assert action_roots(second, "a") == ["y"]
