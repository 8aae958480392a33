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

from engine.gate import GateResult, QuarantinedRecord, ShaclResult
from engine.provenance import GENERATED_BY, PRODUCED, record_description, record_node
from engine.store.base import KnowledgeStore
from engine.terms import to_oxigraph
from engine.vocab import RDF_TYPE, literal, sh, wr


def _entry_node(source: str, record_iri: str) -> ox.NamedNode:
    digest = hashlib.sha256(record_iri.encode()).hexdigest()[:20]
    return ox.NamedNode(f"urn:warrant:quarantine:{source}:{digest}")


def _skolem(term: rdflib.term.Node, base: str) -> ox.NamedNode | ox.Literal | ox.Triple:
    if isinstance(term, rdflib.BNode):
        return ox.NamedNode(f"{base}/{term}")
    converted = to_oxigraph(term)
    if isinstance(converted, ox.BlankNode):
        return ox.NamedNode(f"{base}/{converted.value}")
    return converted  # type: ignore[return-value]


def _result_triples(node: ox.NamedNode, r: ShaclResult) -> Iterator[ox.Triple]:
    base = node.value
    yield ox.Triple(node, RDF_TYPE, sh("ValidationResult"))
    yield ox.Triple(node, sh("focusNode"), _skolem(r.focus_node, base))
    yield ox.Triple(node, sh("resultSeverity"), _skolem(r.severity, base))
    yield ox.Triple(node, sh("sourceConstraintComponent"), _skolem(r.component, base))
    yield ox.Triple(node, sh("resultMessage"), literal(r.message))
    yield ox.Triple(node, wr("shapeDescription"), literal(r.shape_label))
    if r.path is not None:
        yield ox.Triple(node, sh("resultPath"), _skolem(r.path, base))
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


def report_triples(result: GateResult, *, batch: ox.NamedNode) -> Iterator[ox.Triple]:
    """The batch's SHACL validation report, blank nodes skolemised under the report IRI."""
    from engine.vocab import report_node

    report = report_node(batch.value.removeprefix("urn:warrant:batch:"))
    yield ox.Triple(report, RDF_TYPE, sh("ValidationReport"))
    yield ox.Triple(report, RDF_TYPE, wr("ValidationReport"))
    yield ox.Triple(report, sh("conforms"), literal(not result.results))
    yield ox.Triple(report, wr("forBatch"), batch)
    for i, r in enumerate(result.results):
        rnode = ox.NamedNode(f"{report.value}/result/{i}")
        yield ox.Triple(report, sh("result"), rnode)
        yield from _result_triples(rnode, r)


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
            reasons=tuple(sorted(reasons, key=lambda r: (r["focus_node"], r["path"], r["message"]))),
        )
        for (src, record), (batch, reasons) in sorted(grouped.items())
    ]


def _text(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode | ox.Literal | ox.BlankNode):
        return term.value
    return str(term)
