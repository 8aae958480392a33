"""Pick one action's proof out of a plan's proof DAG (used by the CLI and the API)."""

from __future__ import annotations

from engine.errors import ParameterError
from engine.planning import PlanRecord
from engine.reasoning import ProofGraph
from engine.reasoning.proof import ProofNode


def action_proof(record: PlanRecord, action: str | None) -> ProofGraph:
    """The proof of one action of a plan (its choice, denials, escalations), or all of them."""
    proofs = record.plan.proofs
    if proofs is None:
        raise ParameterError(f"plan `{record.id}` was stored without proofs")
    if action is None:
        return proofs
    keys = sorted(_root_atoms(proofs, action))
    if not keys:
        known = ", ".join(a.action for a in record.plan.actions) or "none"
        raise ParameterError(
            f"action `{action[:200]}` is not in plan `{record.id}`; its actions: {known}"
        )
    nodes: dict[str, ProofNode] = {}
    roots: dict[str, str] = {}
    for k in keys:
        sub = proofs.subgraph(k)
        roots.update(sub.roots)
        nodes.update(sub.nodes)
    return ProofGraph(roots=roots, nodes=dict(sorted(nodes.items())))


def _root_atoms(proofs: ProofGraph, action: str) -> set[str]:
    wanted = "".join(action.split())
    return {
        atom for atom in proofs.roots
        if "".join(atom.split()) == f"action({wanted})"
        or "".join(atom.split()).startswith((f"deny({wanted},", f"escalate({wanted},"))
    }
