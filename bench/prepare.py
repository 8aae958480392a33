"""What scenarios share: the generated workspace, its ingested reference store, the same data
exported for the bare libraries, and a served API.

The reference store (``<workspace>/var/store``) is ingested once, by the ingest scenario's
first run or on first need, and then only read; a scenario that writes works on a copy.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from bench.floor import KEEP_ALIVE_S
from engine.knowledge.ingest import Ingestor, IngestSummary
from engine.knowledge.ontology import load_ontology_graph
from engine.knowledge.ontology_sync import sync_ontology
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

API_KEY = "bench-admin-key-0123456789abcdef"
REPO = Path(__file__).resolve().parent.parent
SERVE_STARTUP_S = 120.0
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
    quick: bool = False  # ``--quick``: the whole 10k run in about a minute

    def workspace(self) -> Workspace:
        """The generated workspace."""
        return Workspace.load(self.root)

    @property
    def store_path(self) -> Path:
        """The reference store's folder (read-only for scenarios other than ingest)."""
        return self.root / "var" / "store"

    def runs_for(self, cost: int) -> int:
        """Fewer runs for expensive work at large sizes (and in a quick run): ``cost`` is
        1 (cheap) .. 3 (ingest)."""
        if cost >= 2 and self.quick:
            return 1
        if cost >= 3 and self.size >= 1_000_000:
            return 1
        if cost >= 2 and self.size >= 100_000:
            return max(1, min(self.runs, 3))
        return self.runs

    def repeats(self, at_least: int) -> int:
        """Runs of a figure cheap enough to repeat: at least ``at_least`` (``runs`` in a quick
        run), so that its median means something."""
        return self.runs if self.quick else max(self.runs, at_least)


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


@dataclass(frozen=True)
class Served:
    """A running ``warrant serve``: its URL and its process id."""

    url: str
    pid: int


@contextmanager
def served_api(ctx: ScenarioContext, name: str) -> Iterator[str]:
    """``warrant serve`` in a child process on 127.0.0.1; yields its URL (see :func:`serve`)."""
    with serve(ctx, name) as served:
        yield served.url


@contextmanager
def serve(ctx: ScenarioContext, name: str) -> Iterator[Served]:
    """``warrant serve`` in a child process on 127.0.0.1.

    The real application (:func:`api.server.build_app`: every route, the DecisionPlane, the
    dispatch worker, JSON access logs at ``info``) over a copy of the reference store in
    ``<scratch>/<name>/kg``, with :data:`API_KEY` as the bootstrap admin key. A child process
    is what a deployment runs: the benchmark's clients do not share the server's GIL.
    """
    data_dir = ctx.scratch / name
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    ensure_reference(ctx)
    shutil.copytree(ctx.store_path, data_dir / "kg")
    env = {
        **os.environ,
        "WARRANT_BOOTSTRAP_ADMIN_KEY": API_KEY,
        "WARRANT_QUERY_RESULT_LIMIT": "1000000",
        "WARRANT_QUERY_TIMEOUT_S": "120",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH"))
                                      if p),
    }

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workspace", str(ctx.root), "--data-dir", str(data_dir),
                "--keep-alive", str(KEEP_ALIVE_S)]

    with _child_server(command, env=env, cwd=data_dir, log_path=data_dir / "serve.log",
                       what="`warrant serve`") as served:
        yield served


@contextmanager
def floor_server(ctx: ScenarioContext, bodies: list[bytes]) -> Iterator[str]:
    """:mod:`bench.floor` in a child process on 127.0.0.1, serving ``bodies`` as
    ``/body/{i}``; yields its URL."""
    folder = ctx.scratch / "floor-bodies"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for i, body in enumerate(bodies):
        (folder / str(i)).write_bytes(body)

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "bench.floor", "--port", str(port), "--bodies", str(folder)]

    with _child_server(command, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO,
                       log_path=ctx.scratch / "floor.log", what="the HTTP floor server") as served:
        yield served.url


@contextmanager
def _child_server(
    command: Callable[[int], list[str]], *, env: dict[str, str], cwd: Path, log_path: Path,
    what: str,
) -> Iterator[Served]:
    """``command(port)`` in a child process, once its ``/healthz`` answers; stopped after.
    A port taken between choosing it and binding it is retried with another."""
    for _attempt in range(3):
        port = _free_port()
        with log_path.open("ab") as log:
            proc = subprocess.Popen(command(port), env=env, cwd=cwd, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            if _wait_ready(proc, url):
                yield Served(url=url, pid=proc.pid)
                return
        finally:
            _stop(proc)
    raise RuntimeError(f"{what} did not start; see {log_path}")


def _free_port() -> int:
    """A port the kernel reports free (the child binds it a moment later; retried if taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], url: str) -> bool:
    """Poll ``/healthz`` until it answers; False if the child exits first."""
    deadline = time.monotonic() + SERVE_STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


__all__ = [
    "API_KEY",
    "REPO",
    "ScenarioContext",
    "Served",
    "adopt_reference",
    "copy_reference",
    "data_triple_count",
    "ensure_reference",
    "export_ntriples",
    "ingest_all",
    "quiet_libraries",
    "serve",
    "served_api",
    "source_graphs",
    "utc_now",
]
