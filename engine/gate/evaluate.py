"""``validate_triples``: the gate's validation, fast evaluator first, pyshacl for the rest.

The constraints ``engine.gate.split`` supports run over an index of the triples
(``engine.gate.fast``); the residual shapes (SHACL-SPARQL, logical and shape-based
constraints, complex paths, closed shapes …) run through pyshacl, over an rdflib graph of the
same triples, which is built only when a residual shape is left. The two reports are merged
into one, as a single pyshacl run over all the shapes would have written it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import Literal, Node

from engine.gate.fast import DataIndex, OxNode, evaluate_fast, report_of
from engine.gate.report import ValidationOutcome, parse_report
from engine.gate.residue import graph_of, needed, read_predicates
from engine.gate.shapes import ShapesSet
from engine.gate.split import split_shapes
from engine.gate.validate import run_pyshacl
from engine.terms import to_rdflib


def validate_triples(
    triples: Sequence[ox.Triple],
    shapes: ShapesSet,
    *,
    focus: Collection[OxNode] | None,
    rdflib_graph: Callable[[], rdflib.Graph],
) -> ValidationOutcome:
    """Validate the data graph ``triples``; report only ``focus`` nodes when given.

    ``rdflib_graph`` builds the same data as an rdflib graph (normalised, see
    ``engine.terms``); it is called only when shapes are left for pyshacl that may read any
    predicate (else pyshacl gets only the triples they can read: ``engine.gate.residue``).

    Example::

        outcome = validate_triples(triples, shapes, focus=None,
                                   rdflib_graph=lambda: graph_of(triples))
    """
    split = split_shapes(shapes)
    index = DataIndex(triples)
    raw = evaluate_fast(split, index, focus=focus) if split.roots else []
    report = report_of(split, raw)
    residual = split.residual
    if split.residual_with_sparql is not residual and index.store() is None:
        residual = split.residual_with_sparql  # the SPARQL constraints were not run above
    if residual is None or (focus is not None and not focus):
        return ValidationOutcome(conforms=not raw, report=report, results=parse_report(report))
    focus_terms: list[Node] | None = None
    if focus is not None:
        focus_terms = [to_rdflib(n) for n in focus if not isinstance(n, ox.Triple)]
    keep = read_predicates(residual)
    data = rdflib_graph() if keep is None else graph_of(list(needed(triples, keep)))
    rest = run_pyshacl(data, residual, focus_nodes=focus_terms)
    if not rest.results:
        return ValidationOutcome(conforms=not raw, report=report, results=parse_report(report))
    merged = _merge(report, rest.report)
    results = parse_report(merged)
    return ValidationOutcome(conforms=not results, report=merged, results=results)


def _merge(report: rdflib.Graph, other: rdflib.Graph) -> rdflib.Graph:
    """``report`` with every result of ``other`` (and its description) added; re-judged."""
    root = next(iter(report.subjects(RDF.type, SH.ValidationReport)))
    for node in other.subjects(RDF.type, SH.ValidationReport):
        for result in other.objects(node, SH.result):
            report.add((root, SH.result, result))
            other.cbd(result, target_graph=report)
    report.set((root, SH.conforms, Literal(False, datatype=XSD.boolean)))
    return report
