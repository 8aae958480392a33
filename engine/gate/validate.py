"""``validate_graph``: the one place pyshacl runs, with the options the gate depends on.

Choices, and why:

* ``inference="none"``. SHACL's ``sh:class`` and ``sh:targetClass`` already follow
  ``rdfs:subClassOf`` *in the data graph* (SHACL 1.5, "SHACL instance"), so mixing the
  ontology in (``ont_graph``) gives subclass reasoning without inference. RDFS inference would
  also apply ``rdfs:domain`` / ``rdfs:range``, typing any referenced IRI as the range class:
  a dangling reference would then *satisfy* ``sh:class`` instead of being reported.
* ``advanced=False``. SHACL-SPARQL (``sh:sparql``, SPARQL-based constraint components) runs
  without it in pyshacl; ``advanced`` turns on SHACL-AF, whose rules write inferred triples
  (and force a copy of the data graph). ``load_shapes`` rejects SHACL-AF rules and targets.
* Focus nodes. pyshacl's ``focus_nodes`` option keeps only IRIs (blank nodes are dropped) and
  still scans the data graph for every shape's targets, so the result is also filtered here
  by focus node; the caller keeps the data graph small (see ``engine.gate.batch``).
"""

from __future__ import annotations

from collections.abc import Collection

import pyshacl
import rdflib
from pyshacl.errors import ReportableRuntimeError
from rdflib.term import Node, URIRef

from engine.errors import Location, ShapesError
from engine.gate.report import (
    ValidationOutcome,
    empty_report,
    parse_report,
    restrict_report,
)
from engine.gate.shapes import ShapesSet
from engine.terms import normalised_graph

# Up to this many focus nodes, pyshacl's own (quadratic) focus filter is cheaper than
# validating every target of the data graph.
PYSHACL_FOCUS_LIMIT = 64


def validate_graph(
    data: rdflib.Graph,
    shapes: ShapesSet,
    *,
    ontology: rdflib.Graph | None = None,
    focus_nodes: Collection[Node] | None = None,
) -> ValidationOutcome:
    """Validate ``data`` against ``shapes``; with ``focus_nodes``, report only those nodes.

    ``data`` is normalised (explicit ``xsd:string`` literals become simple literals, in a
    copy) so shapes and data agree on strings whichever parser produced them. ``ontology`` is
    mixed into a copy of the data graph (for ``rdfs:subClassOf``); ``data`` is never mutated.

    Example::

        outcome = validate_graph(graph, load_shapes([Path("ontology/shapes/vendor.ttl")]))
        for r in outcome.results:
            print(r.severity, r.focus_node, r.message)
    """
    return run_pyshacl(
        normalised_graph(data), shapes, ontology=ontology, focus_nodes=focus_nodes
    )


def run_pyshacl(
    data: rdflib.Graph,
    shapes: ShapesSet,
    *,
    ontology: rdflib.Graph | None = None,
    focus_nodes: Collection[Node] | None = None,
) -> ValidationOutcome:
    """Run pyshacl on an already normalised graph (the gate builds its graphs normalised)."""
    wanted = None if focus_nodes is None else frozenset(focus_nodes)
    if shapes.is_empty or (wanted is not None and not wanted):
        return ValidationOutcome(conforms=True, report=empty_report(), results=())
    # pyshacl's own focus filter only takes IRIs and tests each target for membership in a
    # *list* (quadratic), so it is used only for a few IRIs; otherwise every target is
    # validated and the report is filtered afterwards (linear).
    iri_focus = (
        [str(n) for n in wanted]
        if wanted is not None
        and len(wanted) <= PYSHACL_FOCUS_LIMIT
        and all(isinstance(n, URIRef) for n in wanted)
        else None
    )
    try:
        conforms, report, _text = pyshacl.validate(
            data,
            shacl_graph=shapes.graph,
            ont_graph=ontology,
            inference="none",
            advanced=False,
            abort_on_first=False,
            allow_infos=False,
            allow_warnings=False,
            meta_shacl=False,
            focus_nodes=iri_focus,
        )
    except (ReportableRuntimeError, NotImplementedError) as exc:
        raise ShapesError(
            f"shapes cannot be evaluated: {str(exc).strip().splitlines()[0] or type(exc).__name__}",
            location=Location(file=", ".join(f.path for f in shapes.files) or None),
        ) from exc
    if not isinstance(report, rdflib.Graph):
        # A SHACL *failure* (SHACL 3.6.1), e.g. a SPARQL constraint the spec forbids: the
        # shapes cannot be applied, which is the shapes author's problem, not the data's.
        message = str(report).strip().splitlines()[0] if str(report).strip() else "failure"
        raise ShapesError(
            f"shapes cannot be evaluated: {message}",
            location=Location(file=", ".join(f.path for f in shapes.files) or None),
        )
    if wanted is None:
        results = parse_report(report)
        return ValidationOutcome(conforms=bool(conforms), report=report, results=results)
    restricted, results = restrict_report(report, wanted.__contains__)
    return ValidationOutcome(conforms=not results, report=restricted, results=results)
