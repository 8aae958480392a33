"""SHACL validation reports: parsed results, outcomes, and restricting a report to focus nodes.

The report graph is kept as RDF (it is stored and queried with SPARQL); the parsed
:class:`ValidationResult` values are what the gate reasons over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import rdflib
from rdflib.namespace import RDF, SH, XSD
from rdflib.term import BNode, Literal, Node, URIRef


class Severity(Enum):
    """The three SHACL severities (SHACL 2.1.5); only ``VIOLATION`` quarantines a record."""

    VIOLATION = str(SH.Violation)
    WARNING = str(SH.Warning)
    INFO = str(SH.Info)

    @classmethod
    def from_node(cls, node: Node | None) -> Severity:
        """Map a ``sh:resultSeverity``; custom ones (any IRI, SHACL 2.1.5) count as violations."""
        for member in cls:
            if node is not None and str(node) == member.value:
                return member
        return cls.VIOLATION


@dataclass(frozen=True)
class ValidationResult:
    """One ``sh:ValidationResult``: which node broke which constraint of which shape, and how badly.

    ``result_path`` is an IRI for a predicate path, or a blank node of ``report`` for complex
    paths; ``message`` is the first ``sh:resultMessage`` (sorted), if any.
    """

    focus_node: Node
    result_path: Node | None
    value: Node | None
    source_shape: Node | None
    constraint_component: Node | None
    severity: Severity
    message: str | None

    def sort_key(self) -> tuple[str, ...]:
        """A total order so results (and everything derived from them) are deterministic."""
        return tuple(
            "" if n is None else n.n3() if isinstance(n, URIRef | Literal) else str(n)
            for n in (
                self.focus_node,
                self.source_shape,
                self.constraint_component,
                self.result_path,
                self.value,
            )
        )


@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    """What one validation run gives: conformance, the report as RDF, and the parsed results.

    ``conforms`` follows SHACL (2.2.1): true only when there are no results at all, of any
    severity. Use :attr:`has_violations` for the gate's quarantine rule.
    """

    conforms: bool
    report: rdflib.Graph
    results: tuple[ValidationResult, ...]

    @property
    def has_violations(self) -> bool:
        """True when any result has severity ``sh:Violation``."""
        return any(r.severity is Severity.VIOLATION for r in self.results)


def parse_report(report: rdflib.Graph) -> tuple[ValidationResult, ...]:
    """Parse every ``sh:result`` of the report graph, in a deterministic order."""
    out: list[ValidationResult] = []
    for node in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(node, SH.result):
            focus = report.value(result, SH.focusNode)
            if focus is None:
                continue
            messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
            out.append(
                ValidationResult(
                    focus_node=focus,
                    result_path=report.value(result, SH.resultPath),
                    value=report.value(result, SH.value),
                    source_shape=report.value(result, SH.sourceShape),
                    constraint_component=report.value(result, SH.sourceConstraintComponent),
                    severity=Severity.from_node(report.value(result, SH.resultSeverity)),
                    message=messages[0] if messages else None,
                )
            )
    return tuple(sorted(out, key=ValidationResult.sort_key))


def empty_report() -> rdflib.Graph:
    """A conforming report with no results (what validating nothing gives)."""
    graph = rdflib.Graph(bind_namespaces="none")
    graph.bind("sh", SH)
    node = BNode()
    graph.add((node, RDF.type, SH.ValidationReport))
    graph.add((node, SH.conforms, Literal(True, datatype=XSD.boolean)))
    return graph


def restrict_report(
    report: rdflib.Graph, keep: Callable[[Node], bool]
) -> tuple[rdflib.Graph, tuple[ValidationResult, ...]]:
    """A new report holding only the results whose focus node ``keep`` accepts, re-judged.

    Each kept result is copied with its concise bounded description (paths, details), so the
    new report is self-contained; ``sh:conforms`` is recomputed from what remains.
    """
    out = empty_report()
    root = next(iter(out.subjects(RDF.type, SH.ValidationReport)))
    kept = 0
    for node in report.subjects(RDF.type, SH.ValidationReport):
        for result in report.objects(node, SH.result):
            focus = report.value(result, SH.focusNode)
            if focus is None or not keep(focus):
                continue
            kept += 1
            out.add((root, SH.result, result))
            report.cbd(result, target_graph=out)
    if kept:
        out.set((root, SH.conforms, Literal(False, datatype=XSD.boolean)))
    return out, parse_report(out)

