"""Ingestion: source → mapped records → SHACL gate → one atomic write with provenance.

One batch per source. The batch's writes — the source graph's delta, its records graph, its
quarantine, the validation report and the PROV-O activity — go to the store as ONE atomic
change (:meth:`KnowledgeStore.apply`: a transaction, or for a graph's large first write a
bulk load under a commit marker, see ``engine.store.oxigraph``), so a crash leaves the
previous state intact.

Re-ingesting unchanged input (same content hash, mapping and shapes versions) writes nothing
and says so. The gate validates only the focus nodes a batch changes when the shapes allow it
(see ``engine.gate``); quarantined records are never in the store's data graph, so they count
as changed and are re-validated on every batch — which is how they are re-ingested
automatically once the source, the shapes or the context they reference is fixed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import pyoxigraph as ox
import rdflib

from engine.gate import GateResult, StoreContext, gate_batch
from engine.gate.shapes import ShapesSet, load_shapes
from engine.knowledge.provenance import (
    BatchInfo,
    StoredRecord,
    batch_triples,
    parse_records_graph,
    record_triples,
)
from engine.knowledge.quarantine import quarantine_triples, report_triples
from engine.knowledge.sourcing import SourceRead, read_source
from engine.mapping.model import MappedRecord
from engine.store.base import GraphChange, KnowledgeStore
from engine.vocab import (
    GRAPH_PROVENANCE,
    GRAPH_REPORTS,
    batch_node,
    quarantine_graph,
    records_graph,
    report_node,
    source_node,
    wr,
)
from engine.workspace import Workspace

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class IngestSummary:
    """What one source's batch did (the ``--json`` summary of ``warrant ingest``)."""

    source: str
    graph: str
    batch_id: str | None
    unchanged: bool
    records: int
    added: int
    removed: int
    quarantined: int
    warnings: int
    quarantine: tuple[dict[str, object], ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (the wire model ``IngestSummaryV1`` validates exactly this)."""
        return {**asdict(self), "quarantine": list(self.quarantine)}


@dataclass(frozen=True)
class LastBatch:
    """The previous batch of a source, as the provenance graph records it."""

    batch_id: str
    content_hash: str
    mapping_version: str | None
    shapes_version: str | None
    quarantined: int


def last_batch(store: KnowledgeStore, source: str) -> LastBatch | None:
    """The most recent batch recorded for ``source``."""
    q = f"""
    PREFIX wr: <https://w3id.org/warrant/core#>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    SELECT ?b ?hash ?mv ?sv ?q WHERE {{
      GRAPH <{GRAPH_PROVENANCE.value}> {{
        ?b prov:used <{source_node(source).value}> ; wr:contentHash ?hash ;
           prov:endedAtTime ?t ; wr:recordsQuarantined ?q .
        OPTIONAL {{ ?b wr:mappingVersion ?mv }}
        OPTIONAL {{ ?b wr:shapesVersion ?sv }}
      }}
    }} ORDER BY DESC(?t) DESC(?b) LIMIT 1"""
    for row in store.select(q):
        b = row["b"]
        assert isinstance(b, ox.NamedNode)
        return LastBatch(
            batch_id=b.value.removeprefix("urn:warrant:batch:"),
            content_hash=row["hash"].value,  # type: ignore[union-attr]
            mapping_version=row["mv"].value if "mv" in row else None,  # type: ignore[union-attr]
            shapes_version=row["sv"].value if "sv" in row else None,  # type: ignore[union-attr]
            quarantined=int(row["q"].value),  # type: ignore[union-attr]
        )
    return None


def _stored_records(
    store: KnowledgeStore, graph: ox.NamedNode
) -> tuple[dict[str, StoredRecord], set[ox.Triple]]:
    by_subject: dict[ox.NamedNode, list[ox.Triple]] = defaultdict(list)
    all_triples: set[ox.Triple] = set()
    for t in store.triples(graph):
        all_triples.add(t)
        if isinstance(t.subject, ox.NamedNode):
            by_subject[t.subject].append(t)
    return parse_records_graph(by_subject), all_triples


def _batch_id(source: str, started: datetime, content_hash: str) -> str:
    stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{source}-{stamp}-{content_hash[:8]}"


class Ingestor:
    """Runs batches for a workspace's sources against one store."""

    def __init__(
        self,
        workspace: Workspace,
        store: KnowledgeStore,
        *,
        clock: Clock,
        ontology: rdflib.Graph | None = None,
    ) -> None:
        self.workspace = workspace
        self.store = store
        self.clock = clock
        self.ontology = ontology
        self._shapes: dict[tuple[str, ...], ShapesSet] = {}

    def shapes_for(self, source: str) -> ShapesSet:
        """The (cached) shapes set of a source's data contract."""
        files = tuple(self.workspace.source(source).shapes)
        if files not in self._shapes:
            self._shapes[files] = load_shapes([self.workspace.resolve(f) for f in files])
        return self._shapes[files]

    def ingest(
        self,
        names: Sequence[str] | None = None,
        *,
        force: bool = False,
        on_source: Callable[[str], None] | None = None,
    ) -> list[IngestSummary]:
        """Ingest the named sources (default: all, in configuration order), then replay.

        Replay: every other source that still has quarantined records is re-gated once the
        sources it may reference have changed, so records quarantined for a dangling reference
        load as soon as the referenced data arrives.
        """
        all_names = list(self.workspace.config.sources)
        wanted = list(names) if names else all_names
        for n in wanted:
            self.workspace.source(n)  # unknown names fail before any work
        summaries: list[IngestSummary] = []
        changed_any = False
        for name in wanted:
            if on_source:
                on_source(name)
            s = self.ingest_source(name, force=force)
            summaries.append(s)
            changed_any = changed_any or not s.unchanged
        if changed_any:
            for name in all_names:
                if name in wanted:
                    continue
                prev = last_batch(self.store, name)
                if prev is not None and prev.quarantined > 0:
                    if on_source:
                        on_source(f"{name} (replay)")
                    summaries.append(self.ingest_source(name, force=True))
        return summaries

    def ingest_source(self, name: str, *, force: bool = False) -> IngestSummary:
        """One batch for one source; returns its summary."""
        started = self.clock()
        return self.ingest_read(read_source(self.workspace, name), force=force, started=started)

    def ingest_read(
        self, read: SourceRead, *, force: bool = False, started: datetime | None = None
    ) -> IngestSummary:
        """One batch from records already read and mapped (pulled, or pushed over the API).

        The batch is gated, recorded and written exactly like a pulled one; unchanged input
        (same content hash, mapping and shapes versions) writes nothing.
        """
        started = started or self.clock()
        name = read.source
        shapes = self.shapes_for(name)
        graph = ox.NamedNode(self.workspace.source_graph(name))
        content_hash = read.content_hash
        prev = last_batch(self.store, name)
        if (
            not force
            and prev is not None
            and prev.content_hash == content_hash
            and prev.mapping_version == read.mapping_version
            and prev.shapes_version == shapes.version
        ):
            return IngestSummary(
                source=name,
                graph=graph.value,
                batch_id=prev.batch_id,
                unchanged=True,
                records=len(read.records),
                added=0,
                removed=0,
                quarantined=prev.quarantined,
                warnings=0,
            )
        return self._write_batch(read, shapes, graph, started, content_hash, prev)

    def _write_batch(
        self,
        read: SourceRead,
        shapes: ShapesSet,
        graph: ox.NamedNode,
        started: datetime,
        content_hash: str,
        prev: LastBatch | None,
    ) -> IngestSummary:
        name = read.source
        rgraph = records_graph(name)
        stored, old_record_triples = _stored_records(self.store, rgraph)
        old_data = set(self.store.triples(graph))

        # Which focus nodes changed: records that are new or produce other triples now,
        # and the subjects of records that disappeared. A new shapes version changes the
        # contract for everyone: validate all.
        changed: set[ox.NamedNode | ox.BlankNode] = set()
        seen_records: set[str] = set()
        for rec in read.records:
            iri = rec.locator.iri
            seen_records.add(iri)
            old = stored.get(iri)
            if old is None or old.produced != frozenset(rec.triples):
                changed.update(rec.subjects)
        for iri, old in stored.items():
            if iri not in seen_records:
                changed.update(
                    t.subject for t in old.produced if isinstance(t.subject, ox.NamedNode)
                )
        full = prev is None or prev.shapes_version != shapes.version

        result: GateResult = gate_batch(
            list(read.records),
            shapes,
            context=StoreContext(self.store, exclude_graph=graph),
            ontology=self.ontology,
            changed_subjects=None if full else changed,
        )
        batch_id = _batch_id(name, started, content_hash)
        this_batch = batch_node(batch_id)

        new_data: set[ox.Triple] = set()
        new_record_triples: set[ox.Triple] = set()
        for rec in result.accepted:
            new_data.update(rec.triples)
            old = stored.get(rec.locator.iri)
            unchanged = old is not None and old.produced == frozenset(rec.triples)
            gen = ox.NamedNode(old.batch) if unchanged and old and old.batch else this_batch
            new_record_triples.update(record_triples(rec.locator, rec.triples, gen))

        # Store order is not insertion order: the deltas go unsorted (sorting 1M triples by
        # their text took 25 s of a 1M ingest).
        added = list(new_data - old_data)
        removed = list(old_data - new_data)
        qgraph = quarantine_graph(name)
        old_q = set(self.store.triples(qgraph))
        new_q = set(quarantine_triples(name, result.quarantined, batch=this_batch))
        report = list(report_triples(result, batch_id=batch_id))
        warnings = sum(len(w) for w in result.warnings.values())
        info = BatchInfo(
            batch_id=batch_id,
            source=name,
            source_type=read.source_type,
            graph=graph,
            started=started,
            ended=self.clock(),
            content_hash=content_hash,
            mapping_version=read.mapping_version,
            shapes_version=shapes.version,
            records=len(read.records),
            records_loaded=len(result.accepted),
            records_quarantined=len(result.quarantined),
            triples_added=len(added),
            triples_removed=len(removed),
            warnings=warnings,
            replaces=prev.batch_id if prev else None,
        )
        prov = batch_triples(info)
        prov.append(ox.Triple(this_batch, wr("validationReport"), report_node(batch_id)))
        self.store.apply(
            [
                GraphChange(graph, removed=removed, added=added),
                GraphChange(
                    rgraph,
                    removed=list(old_record_triples - new_record_triples),
                    added=list(new_record_triples - old_record_triples),
                ),
                GraphChange(
                    qgraph,
                    removed=sorted(old_q - new_q, key=str),
                    added=sorted(new_q - old_q, key=str),
                ),
                GraphChange(GRAPH_REPORTS, added=report),
                GraphChange(GRAPH_PROVENANCE, added=prov),
            ]
        )
        return IngestSummary(
            source=name,
            graph=graph.value,
            batch_id=batch_id,
            unchanged=False,
            records=len(read.records),
            added=len(added),
            removed=len(removed),
            quarantined=len(result.quarantined),
            warnings=warnings,
            quarantine=tuple(
                {
                    "record": str(q.record.locator),
                    "reasons": sorted({r.message or "constraint violated" for r in q.results}),
                }
                for q in result.quarantined
            ),
        )


__all__ = ["IngestSummary", "Ingestor", "LastBatch", "MappedRecord", "last_batch"]
