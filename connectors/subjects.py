"""RDF read as records: triples grouped per subject, blank nodes skolemised to stable IRIs.

Sources that already speak RDF (files, SPARQL CONSTRUCT) skip the mapping step; their record
is a subject with its triples. Blank nodes become IRIs under a prefix the source derives from
its content (file hash, query hash) and numbered in first-seen order, so reading the same
input twice yields the same triples and re-ingesting it changes nothing (RDF 1.1 §3.5).
"""

from __future__ import annotations

import pyoxigraph as ox

from connectors.base import RecordLocator
from engine.mapping.model import MappedRecord

SKOLEM_PREFIX = "urn:warrant:bnode:"
"""Every skolem IRI Warrant mints for a blank node starts with this."""

Subject = ox.NamedNode | ox.BlankNode | ox.Triple
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class SubjectRecords:
    """Collects triples (skolemised on the way in) and yields one record per subject."""

    def __init__(self, skolem_prefix: str) -> None:
        self._prefix = skolem_prefix
        self._seen: dict[str, ox.NamedNode] = {}
        self._groups: dict[Subject, dict[ox.Triple, None]] = {}

    def add(self, triple: ox.Triple) -> None:
        """Add one triple (duplicates are kept once, first-seen order)."""
        t = self._triple(triple)
        self._groups.setdefault(t.subject, {})[t] = None

    def records(self, *, source: str, container: str) -> list[MappedRecord]:
        """One record per subject, located ``container#subject=<IRI>``, row = its position."""
        return [
            MappedRecord(
                locator=RecordLocator(
                    source=source, container=container, row=number,
                    key=f"subject={_text(subject)}",
                ),
                triples=tuple(triples),
            )
            for number, (subject, triples) in enumerate(self._groups.items(), 1)
        ]

    def _term(self, term: Term) -> ox.NamedNode | ox.Literal | ox.Triple:
        if isinstance(term, ox.BlankNode):
            iri = self._seen.get(term.value)
            if iri is None:
                iri = ox.NamedNode(f"{self._prefix}{len(self._seen) + 1}")
                self._seen[term.value] = iri
            return iri
        if isinstance(term, ox.Triple):
            return self._triple(term)
        return term

    def _triple(self, triple: ox.Triple) -> ox.Triple:
        subject = self._term(triple.subject)
        assert not isinstance(subject, ox.Literal)
        return ox.Triple(subject, triple.predicate, self._term(triple.object))


def _text(subject: Subject) -> str:
    return subject.value if isinstance(subject, ox.NamedNode) else str(subject)
