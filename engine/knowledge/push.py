"""Push ingestion: records upserted or deleted by key, merged into a source's current records.

A source can push changes instead of being re-read (change data capture, webhooks from a
system of record). The pushed rows go through the source's own mapping, so they become the
same :class:`MappedRecord` s a pulled batch would hold; they are merged with the records the
knowledge graph holds for that source now (loaded ones from its records graph, quarantined
ones from its quarantine graph) and the merged set is one ordinary batch
(:meth:`engine.knowledge.ingest.Ingestor.ingest_read`): gated, recorded with PROV-O and
written in one transaction. Only the records that changed are re-validated, as for any batch.

Identity: a pushed record is identified by its key fields (``key_text`` of their values), so
its IRI is ``urn:warrant:record:<source>:<container>:<k=v>``. Pushing the same key again
replaces it. A pushed record also replaces any current record of the same container that
describes one of the same subjects (a record a pull identified by its row), so an entity never
has two competing records. A delete names the key values; the record with that key, and any
record describing the subject the mapping makes from those values, leaves the graph.

Example::

    change = PushChange(key=("vendor_id",), upsert=({"vendor_id": "V9", ...},), delete=())
    read = pushed_read(workspace, store, "vendors", change)
    summary = ingestor.ingest_read(read)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from connectors.base import LogicalSource, Record, RecordLocator, key_text
from engine.errors import Location, ParameterError
from engine.knowledge.provenance import PRODUCED
from engine.knowledge.sourcing import SourceRead
from engine.mapping import MappingDocument, load_mapping, map_records
from engine.mapping.model import MappedRecord
from engine.store.base import KnowledgeStore
from engine.vocab import WR, quarantine_graph, records_graph
from engine.workspace import RdfSourceConfig, SparqlSourceConfig, Workspace

Row = Mapping[str, object]


@dataclass(frozen=True)
class PushChange:
    """Rows to upsert and keys to delete, identified by the ``key`` fields."""

    key: tuple[str, ...]
    upsert: tuple[Row, ...] = ()
    delete: tuple[Row, ...] = ()


class _KeyOnly(Mapping[str, object]):
    """A row holding only key values: every other field reads as null (no triple)."""

    def __init__(self, values: Row) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> object:
        return self._values.get(name)

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _literal_text(term: object) -> str | None:
    return term.value if isinstance(term, ox.Literal) else None


def current_records(store: KnowledgeStore, source: str) -> list[MappedRecord]:
    """The records the knowledge graph holds for ``source`` now: loaded and quarantined."""
    out: dict[str, MappedRecord] = {}
    for graph, entry_of in ((records_graph(source), False), (quarantine_graph(source), True)):
        described: dict[str, dict[str, str]] = defaultdict(dict)
        produced: dict[str, list[ox.Triple]] = defaultdict(list)
        record_of_entry: dict[str, str] = {}
        for t in store.triples(graph):
            if not isinstance(t.subject, ox.NamedNode):
                continue
            subject = t.subject.value
            p = t.predicate.value
            if p == PRODUCED.value and isinstance(t.object, ox.Triple):
                produced[subject].append(t.object)
            elif p == WR + "record" and isinstance(t.object, ox.NamedNode):
                record_of_entry[subject] = t.object.value
            elif p in (WR + "fromSource", WR + "container", WR + "key", WR + "row"):
                text = _literal_text(t.object)
                if text is not None:
                    described[subject][p.removeprefix(WR)] = text
        owners = record_of_entry if entry_of else {s: s for s in described}
        for owner, record_iri in owners.items():
            desc = described.get(record_iri, {})
            if "container" not in desc:
                continue
            locator = RecordLocator(
                source=desc.get("fromSource", source),
                container=desc["container"],
                row=int(desc["row"]) if "row" in desc else None,
                key=desc.get("key"),
            )
            triples = tuple(sorted(produced.get(owner, ()), key=str))
            out.setdefault(locator.iri, MappedRecord(locator=locator, triples=triples))
    return [out[k] for k in sorted(out)]


def _logical_source(doc: MappingDocument, source: str) -> LogicalSource:
    found = {m.source for m in doc.mappings}
    if len(found) != 1:
        raise ParameterError(
            f"source `{source}` maps {len(found)} logical sources; push needs exactly one",
            location=Location(record=source),
        )
    return next(iter(found))


def _map(
    doc: MappingDocument, logical: LogicalSource, source: str, rows: Iterable[Record]
) -> list[MappedRecord]:
    listed = list(rows)

    def fetch(wanted: LogicalSource) -> Iterable[Record]:
        return listed if wanted == logical else ()

    return list(map_records(doc, fetch, source_name=source))


def _locator(source: str, container: str, key: Sequence[str], row: Row, index: int,
             what: str) -> RecordLocator:
    missing = [k for k in key if k not in row]
    if missing:
        raise ParameterError(
            f"{what} {index} lacks key field `{missing[0]}`",
            location=Location(record=f"{what}[{index}]", field=missing[0]),
        )
    text = key_text([(k, row[k]) for k in key])
    if text is None:
        raise ParameterError(
            f"{what} {index} has an empty key value",
            location=Location(record=f"{what}[{index}]", field=key[0]),
        )
    return RecordLocator(source=source, container=container, key=text)


def _subjects(records: Iterable[MappedRecord]) -> set[ox.NamedNode | ox.BlankNode]:
    return {s for r in records for s in r.subjects}


def pushed_read(
    workspace: Workspace, store: KnowledgeStore, source: str, change: PushChange
) -> SourceRead:
    """The source's current records with ``change`` applied, ready for one batch."""
    cfg = workspace.source(source)
    if isinstance(cfg, RdfSourceConfig | SparqlSourceConfig) or cfg.mapping is None:
        raise ParameterError(
            f"source `{source}` has no mapping: push needs a mapped (csv, json, sql, neo4j) source",
            location=Location(record=source),
        )
    if not change.key:
        raise ParameterError("`key` names no field", location=Location(field="key"))
    doc = load_mapping(workspace.resolve(cfg.mapping), base_dir=workspace.root)
    logical = _logical_source(doc, source)
    container = logical.path or logical.table or logical.describe()

    upserts: dict[str, Record] = {}
    for i, row in enumerate(change.upsert):
        loc = _locator(source, container, change.key, row, i, "upsert")
        upserts[loc.iri] = Record(locator=loc, values=dict(row))
    deletes: dict[str, Record] = {}
    for i, row in enumerate(change.delete):
        loc = _locator(source, container, change.key, row, i, "delete")
        if loc.iri in upserts:
            raise ParameterError(
                f"key `{loc.key}` is both upserted and deleted",
                location=Location(record=f"delete[{i}]"),
            )
        deletes[loc.iri] = Record(locator=loc, values=_KeyOnly(row))

    mapped_upserts = _map(doc, logical, source, upserts.values())
    replaced_subjects = _subjects(mapped_upserts) | _subjects(
        _map(doc, logical, source, deletes.values())
    )
    gone = set(upserts) | set(deletes)
    kept = [
        r for r in current_records(store, source)
        if r.locator.iri not in gone
        and not (r.locator.container == container and _subjects([r]) & replaced_subjects)
    ]
    merged = sorted([*kept, *mapped_upserts], key=lambda r: r.locator.iri)
    return SourceRead(source, cfg.type, tuple(merged), doc.version)
