"""Quarantined records and validation reports, as RDF in the store.

A record the gate rejects is kept — never silently dropped — in its source's quarantine graph
(``urn:warrant:graph:quarantine:NAME``), with the triples it would have produced and every
SHACL result that rejected it. The graph is replaced by each batch of the source: a record
that passes on a later batch (source fixed, shapes fixed, or the node it referenced arrived)
leaves the quarantine and loads. ``warrant quarantine`` lists what is there and why.

Validation reports (``sh:ValidationReport``) of every batch go to the reports graph with
blank nodes skolemised under the batch's report IRI, so they stay queryable and stable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib

from engine.gate import GateResult, QuarantinedRecord, ValidationResult
from engine.knowledge.provenance import GENERATED_BY, PRODUCED, record_description, record_node
from engine.store.base import KnowledgeStore
from engine.terms import to_oxigraph
from engine.vocab import RDF_TYPE, batch_node, literal, report_node, sh, wr


def _entry_node(source: str, record_iri: str) -> ox.NamedNode:
    digest = hashlib.sha256(record_iri.encode()).hexdigest()[:20]
    return ox.NamedNode(f"urn:warrant:quarantine:{source}:{digest}")


def _skolem(term: rdflib.term.Node, base: str) -> ox.NamedNode | ox.Literal | ox.Triple:
    if isinstance(term, rdflib.BNode):
        return ox.NamedNode(f"{base}/{term}")
    converted = to_oxigraph(term)
    if isinstance(converted, ox.BlankNode):
        return ox.NamedNode(f"{base}/{converted.value}")
    return converted


def shape_label(r: ValidationResult) -> str:
    """A readable name for the shape behind a result (property shapes are blank nodes)."""
    shape = r.source_shape
    if isinstance(shape, rdflib.URIRef):
        return str(shape)
    if r.result_path is not None and isinstance(r.result_path, rdflib.URIRef):
        return f"property shape on <{r.result_path}>"
    return "anonymous shape"


def _result_triples(node: ox.NamedNode, r: ValidationResult) -> Iterator[ox.Triple]:
    base = node.value
    yield ox.Triple(node, RDF_TYPE, sh("ValidationResult"))
    yield ox.Triple(node, sh("focusNode"), _skolem(r.focus_node, base))
    yield ox.Triple(node, sh("resultSeverity"), ox.NamedNode(r.severity.value))
    if r.constraint_component is not None:
        yield ox.Triple(
            node, sh("sourceConstraintComponent"), _skolem(r.constraint_component, base)
        )
    yield ox.Triple(node, sh("resultMessage"), literal(r.message or "constraint violated"))
    yield ox.Triple(node, wr("shapeDescription"), literal(shape_label(r)))
    if r.result_path is not None:
        yield ox.Triple(node, sh("resultPath"), _skolem(r.result_path, base))
    if r.value is not None:
        yield ox.Triple(node, sh("value"), _skolem(r.value, base))


def quarantine_triples(
    source: str, quarantined: Sequence[QuarantinedRecord], *, batch: ox.NamedNode
) -> Iterator[ox.Triple]:
    """The quarantine graph's content for one batch: an entry per rejected record."""
    for q in quarantined:
        loc = q.record.locator
        entry = _entry_node(source, loc.iri)
        yield ox.Triple(entry, RDF_TYPE, wr("QuarantineEntry"))
        yield ox.Triple(entry, wr("record"), record_node(loc))
        yield ox.Triple(entry, GENERATED_BY, batch)
        yield from record_description(loc)
        for t in q.record.triples:
            yield ox.Triple(entry, PRODUCED, t)
        for i, r in enumerate(q.results):
            rnode = ox.NamedNode(f"{entry.value}/result/{i}")
            yield ox.Triple(entry, wr("violation"), rnode)
            yield from _result_triples(rnode, r)


def report_triples(result: GateResult, *, batch_id: str) -> Iterator[ox.Triple]:
    """The batch's SHACL validation report as stored RDF.

    pyshacl's report root and results are blank nodes; the root becomes the batch's report
    IRI and every other blank node is skolemised under it, so the report is stable and
    queryable (``?report sh:result ?r``).
    """
    report = report_node(batch_id)
    roots = set(result.report.subjects(rdflib.RDF.type, rdflib.SH.ValidationReport))
    base = report.value

    def conv(term: rdflib.term.Node) -> ox.NamedNode | ox.Literal | ox.Triple:
        return report if term in roots else _skolem(term, base)

    yield ox.Triple(report, RDF_TYPE, sh("ValidationReport"))
    yield ox.Triple(report, RDF_TYPE, wr("ValidationReport"))
    yield ox.Triple(report, wr("forBatch"), batch_node(batch_id))
    if not roots:
        yield ox.Triple(report, sh("conforms"), literal(True))
    for s_, p_, o_ in result.report:
        subject = conv(s_)
        if isinstance(subject, ox.Literal) or not isinstance(p_, rdflib.URIRef):
            continue
        yield ox.Triple(subject, ox.NamedNode(str(p_)), conv(o_))


@dataclass(frozen=True)
class QuarantineEntry:
    """One quarantined record and the reasons, as listed by ``warrant quarantine``."""

    source: str
    record: str
    batch: str
    reasons: tuple[dict[str, str], ...]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "record": self.record,
            "batch": self.batch,
            "reasons": list(self.reasons),
        }


def list_quarantine(store: KnowledgeStore, *, source: str | None = None) -> list[QuarantineEntry]:
    """Every quarantined record (optionally of one source), sorted by source and record."""
    q = """
    PREFIX wr: <https://w3id.org/warrant/core#>
    PREFIX sh: <http://www.w3.org/ns/shacl#>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    SELECT ?src ?container ?row ?key ?batch ?focus ?path ?value ?msg ?shape ?sev WHERE {
      GRAPH ?g {
        ?e a wr:QuarantineEntry ; wr:record ?rec ; prov:wasGeneratedBy ?batch ;
           wr:violation ?r .
        ?rec wr:fromSource ?src ; wr:container ?container .
        OPTIONAL { ?rec wr:row ?row } OPTIONAL { ?rec wr:key ?key }
        ?r sh:focusNode ?focus ; sh:resultMessage ?msg ; wr:shapeDescription ?shape ;
           sh:resultSeverity ?sev .
        OPTIONAL { ?r sh:resultPath ?path } OPTIONAL { ?r sh:value ?value }
      }
      FILTER(STRSTARTS(STR(?g), "urn:warrant:graph:quarantine:"))
    }"""
    grouped: dict[tuple[str, str], tuple[str, list[dict[str, str]]]] = {}
    for row in store.select(q):
        src = _text(row["src"])
        if source is not None and src != source:
            continue
        ident = _text(row["key"]) if "key" in row else f"row={_text(row.get('row'))}"
        record = f"{_text(row['container'])}#{ident}"
        reason = {
            "focus_node": _text(row["focus"]),
            "path": _text(row.get("path")),
            "value": _text(row.get("value")),
            "message": _text(row["msg"]),
            "shape": _text(row["shape"]),
            "severity": _text(row["sev"]).rsplit("#", 1)[-1],
        }
        key = (src, record)
        if key not in grouped:
            grouped[key] = (_text(row["batch"]), [])
        grouped[key][1].append(reason)
    return [
        QuarantineEntry(
            source=src,
            record=record,
            batch=batch,
            reasons=tuple(
                sorted(reasons, key=lambda r: (r["focus_node"], r["path"], r["message"]))
            ),
        )
        for (src, record), (batch, reasons) in sorted(grouped.items())
    ]


def _text(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal | ox.BlankNode):
        return term.value
    return str(term)
