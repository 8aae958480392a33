"""Read one configured source into mapped records: connector → shared mapping step.

Everything a batch needs is read and mapped before anything is written, so a source that
fails half-way (malformed row 812, a dropped connection) leaves the store untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from connectors.rdffile import read_rdf
from connectors.registry import open_connector
from engine.errors import ConfigError, Location
from engine.mapping import load_mapping, map_records
from engine.mapping.model import MappedRecord
from engine.workspace import RdfSourceConfig, SparqlSourceConfig, Workspace


@dataclass(frozen=True)
class SourceRead:
    """The mapped records of one source and the mapping version that produced them."""

    source: str
    source_type: str
    records: tuple[MappedRecord, ...]
    mapping_version: str | None

    @property
    def content_hash(self) -> str:
        """A hash of every record's locator and triples, order-independent within a record."""
        h = hashlib.sha256()
        for rec in self.records:
            h.update(str(rec.locator).encode())
            h.update(b"\x00")
            for line in sorted(str(t) for t in rec.triples):
                h.update(line.encode())
                h.update(b"\n")
        return h.hexdigest()


def read_source(workspace: Workspace, name: str) -> SourceRead:
    """Fetch and map every record of source ``name``; raise before any write on bad input."""
    cfg = workspace.source(name)
    if isinstance(cfg, RdfSourceConfig):
        records = tuple(
            read_rdf(name=name, workspace=workspace.root, path=cfg.path, format=cfg.format)
        )
        return SourceRead(name, cfg.type, records, None)
    if isinstance(cfg, SparqlSourceConfig) and cfg.mapping is None and cfg.query is not None:
        from connectors.sparql import read_construct

        constructed = read_construct(
            name=name,
            endpoint=cfg.endpoint,
            query=cfg.query,
            user=cfg.user,
            password=cfg.password,
            page_size=cfg.page_size,
            timeout_s=cfg.timeout_s,
            retries=cfg.retries,
        )
        return SourceRead(name, cfg.type, tuple(constructed), None)
    if cfg.mapping is None:
        raise ConfigError(
            f"source `{name}` of type `{cfg.type}` needs a `mapping`",
            location=Location(file="warrant.toml", field=f"sources.{name}.mapping"),
        )
    doc = load_mapping(workspace.resolve(cfg.mapping), base_dir=workspace.root)
    connector = open_connector(name, cfg.model_dump(), workspace=workspace.root)
    try:
        records = tuple(map_records(doc, connector.records, source_name=name))
    finally:
        connector.close()
    return SourceRead(name, cfg.type, records, doc.version)
