"""Decisions, approvals and dispatch results as PROV-O in the ``decisions`` graph.

Governance teams ask with SPARQL which actions were taken because of which source record::

    PREFIX wr: <https://w3id.org/warrant/core#>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    SELECT ?action ?kind ?record WHERE { GRAPH <urn:warrant:graph:decisions> {
        ?decision a wr:Decision ; wr:decides ?action ; wr:decisionKind ?kind ;
                  prov:used ?record .
        ?record a wr:SourceRecord } }

The shapes of the statements:

* a plan (or a single decision request) is a ``wr:Plan`` and a ``prov:Activity``;
* each of its actions is a ``wr:Action`` (``prov:Entity``, ``prov:wasGeneratedBy`` the plan);
* each policy decision is a ``wr:Decision`` (a ``prov:Activity``) that ``wr:decides`` the
  action, ``prov:wasInformedBy`` the plan, ``prov:used`` every ``wr:SourceRecord`` behind its
  proof, with ``wr:decisionKind``, ``wr:reason`` and ``wr:approverRole``;
* an approval or rejection, and each dispatch outcome, is a ``prov:Activity`` that
  ``prov:wasInformedBy`` the decision.
"""

from __future__ import annotations

import datetime as dt

import pyoxigraph as ox

from engine.action.approvals import Approval, source_records
from engine.planning import PlanRecord
from engine.vocab import (
    RDF_TYPE,
    RDFS_LABEL,
    action_node,
    approval_node,
    decision_node,
    dispatch_node,
    literal,
    plan_node,
    principal_node,
    prov,
    role_node,
    timestamp,
    wr,
)


def action_id_of(plan_id: str, index: int) -> str:
    """The outbox / decision-graph id of a plan's action at ``index``."""
    return f"{plan_id}.a{index}"


def plan_triples(record: PlanRecord) -> list[ox.Triple]:
    """A plan, its actions and their decisions, linked to the source records of the proofs."""
    p = plan_node(record.id)
    plan = record.plan
    out = [
        ox.Triple(p, RDF_TYPE, wr("Plan")),
        ox.Triple(p, RDF_TYPE, prov("Activity")),
        ox.Triple(p, RDFS_LABEL, literal(f"{record.kind} {record.id} for {plan.goal}")),
        ox.Triple(p, wr("goal"), literal(plan.goal)),
        ox.Triple(p, wr("requestKind"), literal(record.kind)),
        ox.Triple(p, wr("rulesRevision"), literal(plan.rules_revision)),
        ox.Triple(p, wr("factsRevision"), literal(plan.facts_revision)),
        ox.Triple(p, prov("startedAtTime"), timestamp(record.created_at)),
    ]
    for planned in plan.actions:
        aid = action_id_of(record.id, planned.index)
        a, d = action_node(aid), decision_node(aid)
        decision = planned.decision
        out += [
            ox.Triple(a, RDF_TYPE, wr("Action")),
            ox.Triple(a, RDF_TYPE, prov("Entity")),
            ox.Triple(a, RDFS_LABEL, literal(planned.action)),
            ox.Triple(a, wr("actionType"), literal(planned.action.split("(", 1)[0])),
            ox.Triple(a, wr("position"), literal(planned.index)),
            ox.Triple(a, prov("wasGeneratedBy"), p),
            ox.Triple(d, RDF_TYPE, wr("Decision")),
            ox.Triple(d, RDF_TYPE, prov("Activity")),
            ox.Triple(d, wr("decides"), a),
            ox.Triple(d, wr("decisionKind"), literal(decision.kind)),
            ox.Triple(d, prov("wasInformedBy"), p),
        ]
        out += [ox.Triple(d, wr("reason"), literal(r)) for r in decision.reasons]
        out += [ox.Triple(d, wr("approverRole"), role_node(r)) for r in decision.roles]
        for record_iri in source_records(plan.proofs, planned.action):
            rec = ox.NamedNode(record_iri)
            out += [
                ox.Triple(d, prov("used"), rec),
                ox.Triple(rec, RDF_TYPE, wr("SourceRecord")),
                ox.Triple(p, prov("used"), rec),
            ]
    return out


def approval_triples(approval: Approval, *, principal_id: str) -> list[ox.Triple]:
    """An approval or rejection: who decided, when, with which comment."""
    node = approval_node(approval.id)
    d = decision_node(action_id_of(approval.plan_id, approval.action_index))
    who = principal_node(principal_id)
    out = [
        ox.Triple(node, RDF_TYPE, prov("Activity")),
        ox.Triple(node, RDF_TYPE, wr("Approval")),
        ox.Triple(node, wr("approvalState"), literal(approval.state.value)),
        ox.Triple(node, wr("approverRole"), role_node(approval.role)),
        ox.Triple(node, prov("wasInformedBy"), d),
        ox.Triple(node, prov("wasAssociatedWith"), who),
        ox.Triple(who, RDF_TYPE, prov("Agent")),
    ]
    if approval.comment:
        out.append(ox.Triple(node, RDFS_LABEL, literal(approval.comment)))
    if approval.decided_at is not None:
        out.append(ox.Triple(node, prov("endedAtTime"), timestamp(approval.decided_at)))
    return out


def dispatch_triples(
    action_id: str, *, outcome: str, state: str, attempt: int, at: dt.datetime
) -> list[ox.Triple]:
    """One dispatch attempt's result for an action (the latest attempt wins a query by time)."""
    node = dispatch_node(action_id, attempt)
    return [
        ox.Triple(node, RDF_TYPE, prov("Activity")),
        ox.Triple(node, RDF_TYPE, wr("Dispatch")),
        ox.Triple(node, prov("wasInformedBy"), decision_node(action_id)),
        ox.Triple(node, wr("dispatches"), action_node(action_id)),
        ox.Triple(node, wr("dispatchOutcome"), literal(outcome)),
        ox.Triple(node, wr("dispatchState"), literal(state)),
        ox.Triple(node, wr("attempt"), literal(attempt)),
        ox.Triple(node, prov("endedAtTime"), timestamp(at)),
    ]
