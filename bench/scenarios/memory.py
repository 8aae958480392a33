"""Scenario 7, memory: the KG served by ``warrant serve``, resident set after real work.

A deployment runs ``warrant serve``; so does this scenario (:func:`bench.prepare.serve`: a
child process over a copy of the reference store, with the generated workspace). It is
asked what its users ask — a SPARQL query touching every triple, a plan scoped to one vendor
and decisions on proposed actions — and its ``/proc`` status is read (``VmRSS``); then the
largest request there is, a whole-KG plan with proofs (every finding's action, decision and
proof), and its status again: ``VmRSS`` and ``VmHWM``, the peak over its life.

The baseline is a bare Python process holding the same store in pyoxigraph and running the
same query: what the data costs without Warrant (no ASP grounding, no proofs, no API).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

from bench.measure import Figure, resident_mib
from bench.prepare import API_KEY, ScenarioContext, ensure_reference, serve
from engine.binding.prefixes import PrefixMap

TARGET_MIB = 2048
COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
VENDOR_QUERY = ("SELECT ?v WHERE { ?v a <https://w3id.org/warrant/vendor-risk#Vendor> } "
                "ORDER BY ?v LIMIT 1")
WARM_LIMIT_S = 900.0  # for all warm-up requests; past it the figures are lower bounds
EVERYDAY_ACTIONS = ("open_ticket", "request_evidence", "schedule_reassessment")
_BARE = """
import sys, pyoxigraph as ox
from bench.measure import resident_mib
store = ox.Store.read_only(sys.argv[1])
n = next(iter(store.query(sys.argv[2])))[0].value
print(n, *resident_mib())
"""


def run(ctx: ScenarioContext) -> list[Figure]:
    """Resident memory of ``warrant serve`` holding this KG, vs bare pyoxigraph."""
    ensure_reference(ctx)
    bare = subprocess.run(
        [sys.executable, "-c", _BARE, str(ctx.store_path), COUNT_QUERY],
        check=True, capture_output=True, text=True, timeout=3600,
    ).stdout.split()
    bare_count, bare_rss, bare_peak = int(bare[0]), float(bare[1]), float(bare[2])
    served = _serve_and_warm(ctx)
    if bare_count != served.quads:
        raise RuntimeError(f"the served store counted {served.quads:,} quads, "
                           f"bare pyoxigraph {bare_count:,}")
    target = "< 2 GiB resident at 1M" if ctx.size >= 1_000_000 else ""
    baseline = "bare pyoxigraph process: the same store, the same query"
    return [
        Figure(name="served KG after everyday requests (VmRSS)", unit="MiB",
               warrant=served.everyday_mib, baseline=bare_rss, baseline_name=baseline,
               target=target, met=served.everyday_mib < TARGET_MIB if target else None,
               note=f"{served.quads:,} quads; a full-store SPARQL count, a plan for one vendor "
               f"and {served.decisions} decisions" + ("" if served.everyday_done else
               f" (not finished within {WARM_LIMIT_S:.0f} s: read then, a lower bound)")),
        Figure(name="served KG after a whole-KG plan (VmRSS)", unit="MiB",
               warrant=None if ctx.quick else served.after_mib, baseline=bare_rss,
               baseline_name=baseline,
               target=target, met=served.after_mib < TARGET_MIB if target else None,
               note="the largest request: a plan with proofs for every finding "
               + (f"({served.actions:,} actions, {served.plan_s:.1f} s over HTTP)"
                  if served.actions is not None else "(left out of a quick run)" if ctx.quick
                  else f"(not finished within the warm-up's {WARM_LIMIT_S:.0f} s: read then, a "
                  "lower bound)")),
        Figure(name="served KG, peak resident (VmHWM)", unit="MiB",
               warrant=served.peak_mib, baseline=bare_peak, baseline_name=baseline,
               target=target, met=served.peak_mib < TARGET_MIB if target else None,
               note="the server's peak over start-up, facts, grounding, plans and decisions"),
    ]


@dataclass(frozen=True)
class _Warmed:
    """What the warm-up measured of the server process."""

    quads: int
    decisions: int
    everyday_done: bool  # False: still planning when the warm-up's time ran out
    everyday_mib: float
    actions: int | None  # None: the whole-KG plan did not finish (or did not start) in time
    plan_s: float
    after_mib: float
    peak_mib: float


def _serve_and_warm(ctx: ScenarioContext) -> _Warmed:
    with serve(ctx, "api-memory") as served, httpx.Client(
        base_url=served.url, headers={"X-API-Key": API_KEY}, timeout=3600.0
    ) as client:
        got = client.post("/sparql", data={"query": COUNT_QUERY},
                          headers={"Accept": "application/sparql-results+json"})
        got.raise_for_status()
        quads = int(got.json()["results"]["bindings"][0]["n"]["value"])
        vendor = _a_vendor(client, ctx)
        deadline = time.monotonic() + WARM_LIMIT_S
        proposed = [f'{kind}("{vendor}")' for kind in EVERYDAY_ACTIONS]
        requests: list[tuple[str, dict[str, object]]] = [
            ("/v1/plans", {"goal": "remediate", "params": {"vendor": vendor}})]
        requests += [("/v1/decisions", {"action": a}) for a in proposed]
        everyday_done = all(_post(client, path, body, deadline) is not None
                            for path, body in requests)
        everyday, _ = resident_mib(served.pid)
        started = time.perf_counter()
        actions: int | None = None
        if everyday_done and not ctx.quick:  # a quick run leaves out the largest request
            whole = _post(client, "/v1/plans", {"goal": "remediate"}, deadline)
            actions = len(whole.json()["actions"]) if whole is not None else None
        plan_s = time.perf_counter() - started
        after, peak = resident_mib(served.pid)
    return _Warmed(quads, len(proposed), everyday_done, everyday, actions, plan_s, after, peak)


def _post(client: httpx.Client, path: str, body: dict[str, object],
          deadline: float) -> httpx.Response | None:
    """POST within what is left of the warm-up's time; None if it ran out (still working)."""
    try:
        got = client.post(path, json=body, timeout=max(1.0, deadline - time.monotonic()))
    except httpx.TimeoutException:
        return None
    got.raise_for_status()
    return got


def _a_vendor(client: httpx.Client, ctx: ScenarioContext) -> str:
    """The first vendor of the KG, as the rules name it (a compact IRI)."""
    got = client.post("/sparql", data={"query": VENDOR_QUERY},
                      headers={"Accept": "application/sparql-results+json"})
    got.raise_for_status()
    iri = got.json()["results"]["bindings"][0]["v"]["value"]
    prefixes = PrefixMap.standard(ctx.workspace().config.project.prefixes)
    return prefixes.compact(iri)
