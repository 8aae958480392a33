"""Plans, actions, decisions and proofs as rows of a property graph (pure, no I/O).

The model written by ``warrant export neo4j`` (documented in docs/graph-connectors.md)::

    (:Plan)-[:HAS_ACTION]->(:Action)-[:SUPPORTED_BY]->(:RuleInstance)-[:USES]->(:Fact)
    (:Action)-[:AFTER]->(:Action)                     plan order (after/2)
    (:Action)-[:DECIDED_BY {atom}]->(:RuleInstance)  the deny / escalate proofs
    (:Plan)-[:PROVES {atom}]->(:RuleInstance|:Fact)  every proof root (findings included)
    (:RuleInstance)-[:USES]->(:RuleInstance|:Fact)   the proof DAG
    (:Fact)-[:FROM_RECORD]->(source node)            facts whose record came from Neo4j

Every node has an ``id`` that is a function of its content (plans and proof nodes are already
content-addressed; an action is ``<plan id>/<index>``), so merging on ``id`` makes writing
the same plan twice a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from engine.planning import PlanRecord
from engine.reasoning.proof import FactNode, RuleNode

Row = dict[str, object]


@dataclass(frozen=True)
class SourceLink:
    """How facts from one Neo4j source find their node: its key fields and (optional) label."""

    key: tuple[str, ...]
    label: str | None = None


@dataclass
class GraphRows:
    """Rows per node label and per relationship type, deduplicated by id / endpoints."""

    plans: dict[str, Row] = field(default_factory=dict)
    actions: dict[str, Row] = field(default_factory=dict)
    rules: dict[str, Row] = field(default_factory=dict)
    facts: dict[str, Row] = field(default_factory=dict)
    has_action: dict[tuple[str, str], Row] = field(default_factory=dict)
    after: dict[tuple[str, str], Row] = field(default_factory=dict)
    supported_by: dict[tuple[str, str], Row] = field(default_factory=dict)
    decided_by: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    proves: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    uses_rule: dict[tuple[str, str], Row] = field(default_factory=dict)
    uses_fact: dict[tuple[str, str], Row] = field(default_factory=dict)
    links: dict[tuple[str, str, str, str], Row] = field(default_factory=dict)


def parse_key(key: str) -> dict[str, str]:
    """``id=P-0001&x=2`` (a record locator's key) back into field → value."""
    out: dict[str, str] = {}
    for part in key.split("&"):
        name, sep, value = part.partition("=")
        if sep:
            out[unquote(name)] = unquote(value)
    return out


def plan_rows(records: Iterable[PlanRecord], *, links: Mapping[str, SourceLink]) -> GraphRows:
    """The rows of every plan, its actions and its proof DAG; facts linked per ``links``."""
    rows = GraphRows()
    for record in records:
        _add_plan(rows, record, links)
    return rows


def _add_plan(rows: GraphRows, record: PlanRecord, links: Mapping[str, SourceLink]) -> None:
    plan = record.plan
    rows.plans[record.id] = {
        "id": record.id,
        "kind": record.kind,
        "goal": plan.goal,
        "proposed": plan.proposed or "",
        "params": json.dumps(plan.params, sort_keys=True),
        "created_at": record.created_at.isoformat(),
        "kg_state": record.kg_state,
        "rules_revision": plan.rules_revision,
        "facts_revision": plan.facts_revision,
        "optimal": plan.optimal,
        "cost": list(plan.cost),
        "finding_count": len(plan.findings),  # each finding is a PROVES root with its proof
    }
    ids = {a.action: f"{record.id}/{a.index}" for a in plan.actions}
    proofs = plan.proofs
    for a in plan.actions:
        aid = ids[a.action]
        rows.actions[aid] = {
            "id": aid,
            "plan": record.id,
            "index": a.index,
            "action": a.action,
            "decision": a.decision.kind,
            "role": a.decision.role or "",
            "roles": list(a.decision.roles),
            "reasons": list(a.decision.reasons),
        }
        rows.has_action[(record.id, aid)] = {"from": record.id, "to": aid}
        for before in a.after:
            if before in ids:
                rows.after[(aid, ids[before])] = {"from": aid, "to": ids[before]}
        if a.proof is not None:
            rows.supported_by[(aid, a.proof)] = {"from": aid, "to": a.proof}
        if proofs is not None:
            for atom, nid in proofs.roots.items():
                if atom.startswith((f"deny({a.action},", f"escalate({a.action},")):
                    rows.decided_by[(aid, nid, atom)] = {"from": aid, "to": nid, "atom": atom}
    if proofs is None:
        return
    for atom, nid in proofs.roots.items():
        rows.proves[(record.id, nid, atom)] = {"from": record.id, "to": nid, "atom": atom}
    for nid, node in proofs.nodes.items():
        if isinstance(node, RuleNode):
            rows.rules[nid] = {
                "id": nid,
                "rule_id": node.rule_id,
                "file": node.file,
                "line": node.line,
                "label": node.label,
                "head": node.head,
                "negative": list(node.negative),
                "comparisons": list(node.comparisons),
                "aggregates": list(node.aggregates),
            }
            for child in node.children:
                target = proofs.nodes[child]
                bucket = rows.uses_rule if isinstance(target, RuleNode) else rows.uses_fact
                bucket[(nid, child)] = {"from": nid, "to": child}
        else:
            _add_fact(rows, nid, node, links)


def _add_fact(rows: GraphRows, nid: str, node: FactNode, links: Mapping[str, SourceLink]) -> None:
    origins = node.origin if isinstance(node.origin, list) else []
    records = [o.get("record") for o in origins if isinstance(o, dict)]
    found = [r for r in records if isinstance(r, dict)]
    rows.facts[nid] = {
        "id": nid,
        "atom": node.atom,
        "source": node.source,
        "triples": sorted(
            " ".join(str(t) for t in o.get("compact", ()))
            for o in origins
            if isinstance(o, dict)
        ),
        "graphs": sorted({str(o.get("graph")) for o in origins if isinstance(o, dict)}),
        "records": sorted({str(r.get("iri")) for r in found}),
        "record_sources": sorted({str(r.get("source")) for r in found}),
        "record_keys": sorted({str(r.get("key")) for r in found if r.get("key") is not None}),
    }
    for r in found:
        link = links.get(str(r.get("source")))
        key = r.get("key")
        if link is None or not isinstance(key, str) or len(link.key) != 1:
            continue
        values = parse_key(key)
        field_name = link.key[0]
        if field_name in values:
            row: Row = {"from": nid, "value": values[field_name]}
            rows.links[(nid, link.label or "", field_name, values[field_name])] = row


__all__ = ["GraphRows", "Row", "SourceLink", "parse_key", "plan_rows"]
