"""IRIs Warrant writes into the knowledge graph: its own terms, PROV-O, SHACL, and graph names.

The terms are defined (with labels and comments) in ``ontology/core.ttl``; this module only
names them for code, in one place.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pyoxigraph as ox

WR = "https://w3id.org/warrant/core#"
PROV = "http://www.w3.org/ns/prov#"
SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"


def wr(local: str) -> ox.NamedNode:
    """A term of Warrant's core ontology."""
    return ox.NamedNode(WR + local)


def prov(local: str) -> ox.NamedNode:
    """A PROV-O term."""
    return ox.NamedNode(PROV + local)


def sh(local: str) -> ox.NamedNode:
    """A SHACL term."""
    return ox.NamedNode(SH + local)


RDF_TYPE = ox.NamedNode(RDF + "type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
XSD_INTEGER = ox.NamedNode(XSD + "integer")
XSD_DATETIME = ox.NamedNode(XSD + "dateTime")
XSD_BOOLEAN = ox.NamedNode(XSD + "boolean")

GRAPH_PROVENANCE = ox.NamedNode("urn:warrant:graph:provenance")
GRAPH_REPORTS = ox.NamedNode("urn:warrant:graph:reports")
GRAPH_ONTOLOGY = ox.NamedNode("urn:warrant:graph:ontology")
GRAPH_DECISIONS = ox.NamedNode("urn:warrant:graph:decisions")


def _safe(name: str) -> str:
    return quote(name, safe="")


def records_graph(source: str) -> ox.NamedNode:
    """The graph holding the per-triple source-record links of one source."""
    return ox.NamedNode(f"urn:warrant:graph:records:{_safe(source)}")


def quarantine_graph(source: str) -> ox.NamedNode:
    """The graph holding the quarantined records of one source, with their reports."""
    return ox.NamedNode(f"urn:warrant:graph:quarantine:{_safe(source)}")


def source_node(source: str) -> ox.NamedNode:
    """The IRI naming a configured source (a ``prov:Entity`` the batches use)."""
    return ox.NamedNode(f"urn:warrant:source:{_safe(source)}")


def batch_node(batch_id: str) -> ox.NamedNode:
    """The IRI of one ingestion batch (a ``prov:Activity``)."""
    return ox.NamedNode(f"urn:warrant:batch:{_safe(batch_id)}")


def literal(value: str | int | bool, datatype: ox.NamedNode | None = None) -> ox.Literal:
    """A literal with the natural XSD datatype of a Python value."""
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=XSD_BOOLEAN)
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=XSD_INTEGER)
    return ox.Literal(value, datatype=datatype) if datatype else ox.Literal(value)


def report_node(batch_id: str) -> ox.NamedNode:
    """The IRI of the validation report of one batch."""
    return ox.NamedNode(f"urn:warrant:report:{_safe(batch_id)}")


def plan_node(plan_id: str) -> ox.NamedNode:
    """The IRI of a plan or decision request."""
    return ox.NamedNode(f"urn:warrant:plan:{_safe(plan_id)}")


def action_node(action_id: str) -> ox.NamedNode:
    """The IRI of one action of a plan (its outbox action id)."""
    return ox.NamedNode(f"urn:warrant:action:{_safe(action_id)}")


def decision_node(action_id: str) -> ox.NamedNode:
    """The IRI of the policy decision on one action."""
    return ox.NamedNode(f"urn:warrant:decision:{_safe(action_id)}")


def role_node(role: str) -> ox.NamedNode:
    """The IRI of an approver role."""
    return ox.NamedNode(f"urn:warrant:role:{_safe(role)}")


def approval_node(approval_id: str) -> ox.NamedNode:
    """The IRI of an approval or rejection."""
    return ox.NamedNode(f"urn:warrant:approval:{_safe(approval_id)}")


def principal_node(principal_id: str) -> ox.NamedNode:
    """The IRI of a principal (an approver, an application)."""
    return ox.NamedNode(f"urn:warrant:principal:{_safe(principal_id)}")


def dispatch_node(action_id: str, attempt: int) -> ox.NamedNode:
    """The IRI of one dispatch attempt of an action."""
    return ox.NamedNode(f"urn:warrant:dispatch:{_safe(action_id)}:{attempt}")


def timestamp(value: dt.datetime) -> ox.Literal:
    """An ``xsd:dateTime`` literal."""
    return ox.Literal(value.isoformat(), datatype=XSD_DATETIME)
