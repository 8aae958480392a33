"""Scenario 7, memory: the KG served by ``warrant serve``, resident set after real work.

A deployment runs ``warrant serve``; so does this scenario (:func:`bench.prepare.serve`: a
child process over a copy of the reference store, with the generated workspace). It is
warmed with what its users ask of it — a SPARQL query touching every triple, a whole-KG plan
with proofs (the largest request: every finding's action, decision and proof), a decision on
one of the plan's actions — and then its ``/proc`` status is read: ``VmRSS`` now and
``VmHWM``, the peak over its life.

The baseline is a bare Python process holding the same store in pyoxigraph and running the
same query: what the data costs without Warrant (no ASP grounding, no proofs, no API).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.measure import Figure
from bench.prepare import API_KEY, ScenarioContext, ensure_reference, serve

TARGET_MIB = 2048
COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
_BARE = """
import sys, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
n = next(iter(store.query(sys.argv[2])))[0].value
status = open("/proc/self/status").read().splitlines()
kib = {l.split(":")[0]: int(l.split()[1]) for l in status if l.startswith(("VmRSS", "VmHWM"))}
print(n, kib["VmRSS"], kib["VmHWM"])
"""


def run(ctx: ScenarioContext) -> list[Figure]:
    """Resident memory of ``warrant serve`` holding this KG, vs bare pyoxigraph."""
    ensure_reference(ctx)
    bare = subprocess.run(
        [sys.executable, "-c", _BARE, str(ctx.store_path), COUNT_QUERY],
        check=True, capture_output=True, text=True, timeout=3600,
    ).stdout.split()
    bare_count, bare_rss, bare_peak = int(bare[0]), int(bare[1]) / 1024, int(bare[2]) / 1024
    served = _serve_and_warm(ctx)
    if bare_count != served.quads:
        raise RuntimeError(f"the served store counted {served.quads:,} quads, "
                           f"bare pyoxigraph {bare_count:,}")
    target = ctx.size >= 1_000_000
    baseline = "bare pyoxigraph process: the same store, the same query"
    work = (f"{served.quads:,} quads; warmed by a full-store SPARQL count, a whole-KG plan "
            f"with proofs ({served.actions:,} actions, {served.plan_s:.1f} s) and a decision")
    return [
        Figure(name="served KG, resident after warm-up (VmRSS)", unit="MiB",
               warrant=served.rss_mib, baseline=bare_rss, baseline_name=baseline,
               target="< 2 GiB resident at 1M" if target else "",
               met=served.rss_mib < TARGET_MIB if target else None, note=work),
        Figure(name="served KG, peak resident (VmHWM)", unit="MiB",
               warrant=served.peak_mib, baseline=bare_peak, baseline_name=baseline,
               target="< 2 GiB resident at 1M" if target else "",
               met=served.peak_mib < TARGET_MIB if target else None,
               note="the server's peak over start-up, facts, grounding, plan and decision"),
    ]


@dataclass(frozen=True)
class _Warmed:
    """What the warm-up measured of the server process."""

    quads: int
    actions: int
    plan_s: float
    rss_mib: float
    peak_mib: float


def _serve_and_warm(ctx: ScenarioContext) -> _Warmed:
    with serve(ctx, "api-memory") as served, httpx.Client(
        base_url=served.url, headers={"X-API-Key": API_KEY}, timeout=3600.0
    ) as client:
        got = client.post("/sparql", data={"query": COUNT_QUERY},
                          headers={"Accept": "application/sparql-results+json"})
        got.raise_for_status()
        quads = int(got.json()["results"]["bindings"][0]["n"]["value"])
        started = time.perf_counter()
        plan = client.post("/v1/plans", json={"goal": "remediate"})
        plan.raise_for_status()
        plan_s = time.perf_counter() - started
        actions = plan.json()["actions"]
        if actions:
            client.post("/v1/decisions", json={"action": actions[len(actions) // 2]["action"]}
                        ).raise_for_status()
        rss, peak = _proc_memory_mib(served.pid)
    return _Warmed(quads, len(actions), plan_s, rss, peak)


def _proc_memory_mib(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            fields[line.split(":")[0]] = int(line.split()[1]) / 1024
    return fields["VmRSS"], fields["VmHWM"]
