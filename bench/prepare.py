"""What scenarios share: the generated workspace, its ingested reference store, the same data
exported for the bare libraries, and a served API.

The reference store (``<workspace>/var/store``) is ingested once, by the ingest scenario's
first run or on first need, and then only read; a scenario that writes works on a copy.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter
from pydantic import SecretStr

from engine.knowledge.ingest import Ingestor, IngestSummary
from engine.knowledge.ontology import load_ontology_graph
from engine.knowledge.ontology_sync import sync_ontology
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

API_KEY = "bench-admin-key-0123456789abcdef"
_READY = "ingested.ok"


def utc_now() -> dt.datetime:
    """The wall clock, timezone-aware (what a deployment runs with)."""
    return dt.datetime.now(dt.UTC)


def quiet_libraries() -> None:
    """Silence rdflib's per-literal conversion tracebacks (broken records are expected)."""
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    logging.getLogger("rdflib").setLevel(logging.ERROR)


@dataclass(frozen=True)
class ScenarioContext:
    """Where a scenario runs and how hard it tries."""

    root: Path
    size: int
    runs: int
    scratch: Path

    def workspace(self) -> Workspace:
        """The generated workspace."""
        return Workspace.load(self.root)

    @property
    def store_path(self) -> Path:
        """The reference store's folder (read-only for scenarios other than ingest)."""
        return self.root / "var" / "store"

    def runs_for(self, cost: int) -> int:
        """Fewer runs for expensive work at large sizes: ``cost`` is 1 (cheap) .. 3 (ingest)."""
        if cost >= 3 and self.size >= 1_000_000:
            return 1
        if cost >= 2 and self.size >= 100_000:
            return max(1, min(self.runs, 3))
        return self.runs


def ingest_all(root: Path, store_path: Path) -> list[IngestSummary]:
    """What ``warrant ingest`` does, into a fresh store at ``store_path``: ontology, sources."""
    if store_path.exists():
        shutil.rmtree(store_path)
    ws = Workspace.load(root)
    files = ws.ontology_files()
    store = OxigraphStore(store_path)
    try:
        sync_ontology(store, files)
        ontology = load_ontology_graph(files) if files else None
        return Ingestor(ws, store, clock=utc_now, ontology=ontology).ingest()
    finally:
        store.close()
        del store
        gc.collect()


def ensure_reference(ctx: ScenarioContext) -> None:
    """Ingest the reference store unless a finished one is there."""
    marker = ctx.store_path.parent / _READY
    if marker.exists() and ctx.store_path.exists():
        return
    ingest_all(ctx.root, ctx.store_path)
    marker.write_text("ok\n")


def adopt_reference(ctx: ScenarioContext, store_path: Path) -> None:
    """Make a store ingested elsewhere the reference store, if there is none yet."""
    marker = ctx.store_path.parent / _READY
    if marker.exists():
        return
    if ctx.store_path.exists():
        shutil.rmtree(ctx.store_path)
    ctx.store_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(store_path), str(ctx.store_path))
    marker.write_text("ok\n")


def copy_reference(ctx: ScenarioContext, name: str) -> Path:
    """A writable copy of the reference store in the scratch folder."""
    ensure_reference(ctx)
    dest = ctx.scratch / name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ctx.store_path, dest)
    return dest


def source_graphs(ws: Workspace) -> list[ox.NamedNode]:
    """The named graph of every configured source."""
    return [ox.NamedNode(ws.source_graph(n)) for n in ws.config.sources]


def data_triple_count(store: OxigraphStore, ws: Workspace) -> int:
    """Triples in the source graphs (the data, without records, reports and provenance)."""
    return sum(store.count(g) for g in source_graphs(ws))


def export_ntriples(store: ox.Store, ws: Workspace, path: Path) -> int:
    """Write the source graphs' triples to one N-Triples file; returns the triple count."""
    count = 0
    with path.open("wb") as out:
        for g in source_graphs(ws):
            store.dump(out, ox.RdfFormat.N_TRIPLES, from_graph=g)
            count += sum(1 for _ in store.quads_for_pattern(None, None, None, g))
    return count


@contextmanager
def served_api(store: OxigraphStore, data_dir: Path) -> Iterator[str]:
    """Serve the real FastAPI app over ``store`` with uvicorn on 127.0.0.1; yields its URL."""
    from api.app import create_app
    from engine.action.audit import AuditLog
    from engine.action.backoff import SystemClock
    from engine.action.db import open_database, sqlite_url
    from engine.settings import Settings
    from tests.servers.uvicorn_server import run_uvicorn

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        data_dir=data_dir,
        bootstrap_admin_key=SecretStr(API_KEY),
        query_result_limit=1_000_000,
        query_timeout_s=120.0,
    )
    audit = AuditLog(open_database(sqlite_url(data_dir / "audit.sqlite")))
    app = create_app(settings, store=store, audit=audit, clock=SystemClock(),
                     routers=_extra_routers())
    with run_uvicorn(app) as server:
        yield server.base_url


def _extra_routers() -> list[APIRouter]:
    """Plan and decision routers, when the API has them (they are being added)."""
    return []


__all__ = [
    "API_KEY",
    "ScenarioContext",
    "adopt_reference",
    "copy_reference",
    "data_triple_count",
    "ensure_reference",
    "export_ntriples",
    "ingest_all",
    "quiet_libraries",
    "served_api",
    "source_graphs",
    "utc_now",
]
