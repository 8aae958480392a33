"""Scenario 1, ingest: source rows → mapped, gated, stored triples per second.

Warrant reads every source of a fresh generated workspace, maps it, runs the SHACL gate and
writes each batch (data, records, quarantine, report, provenance) into a fresh on-disk
Oxigraph store. The baseline is pyoxigraph bulk-loading the same data triples, written out
as N-Triples, into a fresh on-disk store: the bare cost of putting those triples on disk.
"""

from __future__ import annotations

import shutil
from functools import partial

import pyoxigraph as ox

from bench.measure import Figure, time_each
from bench.prepare import (
    ScenarioContext,
    adopt_reference,
    export_ntriples,
    ingest_all,
)

TARGET_RATIO = 1 / 3


def run(ctx: ScenarioContext) -> list[Figure]:
    """Ingest rate vs pyoxigraph's disk bulk load, at this size."""
    runs = ctx.runs_for(3)
    added: list[int] = []

    def ingest_once(i: int) -> None:
        path = ctx.scratch / f"ingest-{i}"
        summaries = ingest_all(ctx.root, path)
        added.append(sum(s.added for s in summaries))

    warrant = time_each([partial(ingest_once, i) for i in range(runs)])
    adopt_reference(ctx, ctx.scratch / "ingest-0")
    triples = added[0]

    ref = ox.Store.read_only(str(ctx.store_path))
    nt = ctx.scratch / "data.nt"
    exported = export_ntriples(ref, ctx.workspace(), nt)
    del ref

    def bulk_once(i: int) -> None:
        path = ctx.scratch / f"bulk-{i}"
        if path.exists():
            shutil.rmtree(path)
        store = ox.Store(str(path))
        store.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES)
        store.flush()

    baseline = time_each([partial(bulk_once, i) for i in range(max(runs, 3))])
    for i in range(runs):
        shutil.rmtree(ctx.scratch / f"ingest-{i}", ignore_errors=True)
    w_rate = triples / warrant.median
    b_rate = exported / baseline.median
    target = ctx.size >= 1_000_000
    return [
        Figure(
            name="ingest rate (mapped, gated, stored)",
            unit="triples/s",
            warrant=w_rate,
            baseline=b_rate,
            baseline_name="pyoxigraph bulk_load of the same N-Triples, on disk",
            better="higher",
            target="≥ 1/3 of the bulk-load rate at 1M" if target else "",
            met=(w_rate >= TARGET_RATIO * b_rate) if target else None,
            note=f"{triples:,} data triples; Warrant {warrant.median:.2f} s, "
            f"bulk load {baseline.median:.2f} s",
        ),
    ]
