"""Which data the residual shapes can read, so pyshacl gets an rdflib graph of only that.

Building the rdflib data graph for pyshacl costs ~20 µs a triple (at 1M triples, 12 s) while
the residue is often one shape reading one predicate (the example: an inverse-path
``sh:minCount`` on ``vr:certifies``). SHACL Core reads the data only through the paths and
parameters a shapes graph names (SHACL 2.1, 4), through ``rdf:type`` / ``rdfs:subClassOf``
for targets and ``sh:class`` (SHACL 1.5), and through the description of blank nodes that a
report copies. So when every SHACL predicate of the residue is a Core one, a triple whose
predicate is no IRI of the shapes graph cannot change a result, and the graph keeps:

* the triples whose predicate is an IRI that the targeted residual shapes reach in the
  shapes graph (paths, nested shapes, lists), ``rdf:type`` and ``rdfs:subClassOf``;
* every triple about a blank node, and every triple with a triple term (whose conversion
  fails exactly as it did before).

SHACL-SPARQL (``sh:sparql``, custom targets and components), ``sh:closed`` (reads every
predicate of a focus node) or any SHACL predicate not listed here keep the whole graph.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, SH

from engine.gate.shapes import ShapesSet
from engine.terms import add_triples

_CORE = frozenset(
    SH[name]
    for name in (
        # shapes, targets, paths
        "property", "path", "inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath",
        "zeroOrOnePath", "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf",
        "node", "and", "or", "not", "xone",
        # Core constraint parameters (SHACL 4)
        "class", "datatype", "nodeKind", "minCount", "maxCount", "minExclusive", "minInclusive",
        "maxExclusive", "maxInclusive", "minLength", "maxLength", "pattern", "flags", "languageIn",
        "uniqueLang", "equals", "disjoint", "lessThan", "lessThanOrEquals", "hasValue", "in",
        "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
        # non-validating and report properties
        "message", "severity", "deactivated", "name", "description", "order", "group",
        "defaultValue",
        # declarations left when SPARQL constraints moved to Oxigraph (unattached)
        "declare", "prefix", "namespace", "prefixes", "select",
    )
)
_ALWAYS = (ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDFS.subClassOf)))


def read_predicates(shapes: ShapesSet) -> frozenset[ox.NamedNode] | None:
    """The predicates the data graph needs for these shapes; None when it needs them all.

    The IRIs in object position of every triple reachable from a targeted shape (its
    properties, paths, nested shapes, lists …): shapes nothing targets or reaches produce no
    results, however many paths they name.
    """
    graph = shapes.graph
    for p in set(graph.predicates()):
        if isinstance(p, rdflib.URIRef) and str(p).startswith(str(SH)) and p not in _CORE:
            return None
    seen: set[rdflib.term.Node] = set(shapes.analysis.targeted_shapes)
    todo = list(seen)
    mentioned: set[ox.NamedNode] = set()
    while todo:
        for _p, o in graph.predicate_objects(todo.pop()):
            if isinstance(o, rdflib.Literal):
                continue
            if isinstance(o, rdflib.URIRef):
                mentioned.add(ox.NamedNode(str(o)))
            if o not in seen:
                seen.add(o)
                todo.append(o)
    return frozenset(mentioned.union(_ALWAYS))


def needed(
    triples: Sequence[ox.Triple], predicates: frozenset[ox.NamedNode]
) -> Iterator[ox.Triple]:
    """The triples a residue reading ``predicates`` may look at (see the module doc)."""
    for t in triples:
        if (
            t.predicate in predicates
            or isinstance(t.subject, ox.BlankNode)
            or isinstance(t.object, (ox.BlankNode, ox.Triple))
        ):
            yield t


def graph_of(triples: Sequence[ox.Triple]) -> rdflib.Graph:
    """The triples as the (normalised) rdflib graph pyshacl reads; cyclic GC paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        graph = rdflib.Graph(bind_namespaces="none")
        add_triples(graph, triples)
    finally:
        if enabled:
            gc.enable()
    return graph
