"""PROV-O for every batch, and the link from every triple to the source record it came from.

Two kinds of statements, both plain RDF so SPARQL can answer "where did this fact come from":

* a batch is a ``wr:Batch`` (a ``prov:Activity``) in the provenance graph, with its source,
  mapping and shapes versions, times, content hash and counts;
* a source record is a ``wr:SourceRecord`` (a ``prov:Entity``) in the source's records graph,
  naming its container and row / key, the batch that last changed it
  (``prov:wasGeneratedBy``), and each triple it produced as an RDF 1.2 triple term
  (``wr:produced <<( s p o )>>``)::

      SELECT ?container ?row WHERE {
        GRAPH ?rg { ?rec wr:produced <<( acme:vendor/V001 vr:riskScore ?v )>> ;
                         wr:container ?container ; wr:row ?row }
      }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import pyoxigraph as ox

from connectors.base import RecordLocator
from engine.vocab import (
    RDF_TYPE,
    RDFS_LABEL,
    batch_node,
    literal,
    prov,
    source_node,
    timestamp,
    wr,
)

PRODUCED = wr("produced")
GENERATED_BY = prov("wasGeneratedBy")
_SOURCE_RECORD = wr("SourceRecord")
_FROM_SOURCE = wr("fromSource")
_CONTAINER = wr("container")
_KEY = wr("key")
_ROW = wr("row")


@lru_cache(maxsize=256)
def _cached_literal(value: str) -> ox.Literal:
    """Source names and containers repeat on every record of a batch: one literal each."""
    return literal(value)


@dataclass(frozen=True)
class BatchInfo:
    """What the provenance graph records about one ingestion batch."""

    batch_id: str
    source: str
    source_type: str
    graph: ox.NamedNode
    started: datetime
    ended: datetime
    content_hash: str
    mapping_version: str | None
    shapes_version: str | None
    records: int
    records_loaded: int
    records_quarantined: int
    triples_added: int
    triples_removed: int
    warnings: int
    replaces: str | None  # the previous batch of this source


def batch_triples(info: BatchInfo) -> list[ox.Triple]:
    """The PROV-O activity describing one batch."""
    b = batch_node(info.batch_id)
    src = source_node(info.source)
    out = [
        ox.Triple(b, RDF_TYPE, wr("Batch")),
        ox.Triple(b, RDF_TYPE, prov("Activity")),
        ox.Triple(b, RDFS_LABEL, literal(f"ingest {info.source} ({info.batch_id})")),
        ox.Triple(b, prov("used"), src),
        ox.Triple(b, wr("graph"), info.graph),
        ox.Triple(b, prov("startedAtTime"), timestamp(info.started)),
        ox.Triple(b, prov("endedAtTime"), timestamp(info.ended)),
        ox.Triple(b, wr("contentHash"), literal(info.content_hash)),
        ox.Triple(b, wr("records"), literal(info.records)),
        ox.Triple(b, wr("recordsLoaded"), literal(info.records_loaded)),
        ox.Triple(b, wr("recordsQuarantined"), literal(info.records_quarantined)),
        ox.Triple(b, wr("triplesAdded"), literal(info.triples_added)),
        ox.Triple(b, wr("triplesRemoved"), literal(info.triples_removed)),
        ox.Triple(b, wr("warnings"), literal(info.warnings)),
        ox.Triple(src, RDF_TYPE, wr("Source")),
        ox.Triple(src, RDF_TYPE, prov("Entity")),
        ox.Triple(src, RDFS_LABEL, literal(info.source)),
        ox.Triple(src, wr("sourceType"), literal(info.source_type)),
    ]
    if info.mapping_version:
        out.append(ox.Triple(b, wr("mappingVersion"), literal(info.mapping_version)))
    if info.shapes_version:
        out.append(ox.Triple(b, wr("shapesVersion"), literal(info.shapes_version)))
    if info.replaces:
        out.append(ox.Triple(b, prov("wasInformedBy"), batch_node(info.replaces)))
    return out


def record_node(locator: RecordLocator) -> ox.NamedNode:
    """The IRI of a source record."""
    return ox.NamedNode(locator.iri)


def record_description(locator: RecordLocator) -> list[ox.Triple]:
    """What identifies a record: its source, container and row or key (no batch, no triples)."""
    return _description(record_node(locator), locator)


def _description(r: ox.NamedNode, locator: RecordLocator) -> list[ox.Triple]:
    out = [
        ox.Triple(r, RDF_TYPE, _SOURCE_RECORD),
        ox.Triple(r, _FROM_SOURCE, _cached_literal(locator.source)),
        ox.Triple(r, _CONTAINER, _cached_literal(locator.container)),
    ]
    if locator.key is not None:
        out.append(ox.Triple(r, _KEY, literal(locator.key)))
    if locator.row is not None:
        out.append(ox.Triple(r, _ROW, literal(locator.row)))
    return out


def record_triples(
    locator: RecordLocator, produced: tuple[ox.Triple, ...], batch: ox.NamedNode
) -> list[ox.Triple]:
    """The record node, the batch that generated it, and one ``wr:produced`` per triple."""
    r = record_node(locator)
    out = _description(r, locator)
    out.append(ox.Triple(r, GENERATED_BY, batch))
    out += [ox.Triple(r, PRODUCED, t) for t in produced]
    return out


@dataclass(frozen=True)
class StoredRecord:
    """A record as the records graph knows it: its batch and the triples it produced."""

    batch: str | None
    produced: frozenset[ox.Triple]


def parse_records_graph(triples: Mapping[ox.NamedNode, list[ox.Triple]]) -> dict[str, StoredRecord]:
    """Group a records graph (subject → its triples) into record IRI → StoredRecord."""
    out: dict[str, StoredRecord] = {}
    for subject, ts in triples.items():
        batch: str | None = None
        produced: set[ox.Triple] = set()
        for t in ts:
            if t.predicate == PRODUCED and isinstance(t.object, ox.Triple):
                produced.add(t.object)
            elif t.predicate == GENERATED_BY and isinstance(t.object, ox.NamedNode):
                batch = t.object.value
        out[subject.value] = StoredRecord(batch=batch, produced=frozenset(produced))
    return out
