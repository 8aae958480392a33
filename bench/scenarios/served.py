"""Scenario 4b, plans and decisions over HTTP: ``warrant serve`` answering agents.

Warrant: ``POST /v1/decisions`` (a proposed action, answered with its decision and proof) and
``POST /v1/plans`` (goal ``remediate`` scoped to one vendor with the rules' ``vendor``
parameter) against ``warrant serve`` in a child process over a copy of the reference store —
the whole application: API key lookup, validation, the DecisionPlane, the stored plan record,
the hash-chained audit entry, the decision triples written to the store, the access log.

Two figures each: the median latency of requests sent one after another on a warm server, and
the sustained rate of :data:`CLIENTS` concurrent clients for a fixed time, both with the
lean clients of :mod:`bench.clients` (httpx, before, spent 1.2–1.8 ms of CPU a request on
the machine's other core). The baseline is the same work through ``DecisionPlane.decide`` /
``DecisionPlane.plan`` in this process on a warm engine over another copy of the store: the
bare engine, without the API, the plan store, the audit log or the store write.

One server process, as a deployment runs it: ``warrant serve`` has no ``--workers`` option,
and it could not use one — the embedded Oxigraph store is opened read-write by one process
only, and each process would hold its own grounded engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pyoxigraph as ox

from bench.clients import LeanClient, Load, load, post_request
from bench.measure import Figure, Timing, time_each
from bench.prepare import API_KEY, ScenarioContext, copy_reference, served_api, utc_now
from engine.binding.prefixes import PrefixMap
from engine.planning import DecisionPlane
from engine.store.oxigraph import OxigraphStore

GOAL = "remediate"
CLIENTS = 16
DECISION_RATE_TARGET = 300.0
DECISION_P50_TARGET_MS = 5.0
DISTINCT_DECISIONS = 60
DISTINCT_VENDORS = 20
TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Request:
    """One HTTP request: route and JSON body."""

    path: str
    body: dict[str, object]


def proposed_actions(plane: DecisionPlane, plan_actions: list[str], *,
                     distinct: int = DISTINCT_DECISIONS) -> list[str]:
    """Distinct proposed actions of every kind: evenly spread over the warm plan's actions
    (vendors and flows with findings), plus tickets and reassessments for vendors the plan
    leaves alone (the KG's other vendors) — what agents would propose."""
    kinds: dict[str, list[str]] = {}
    for a in plan_actions:
        kinds.setdefault(a.split("(", 1)[0], []).append(a)
    per_kind = max(1, distinct // (len(kinds) + 1))
    picks = [xs[i * len(xs) // per_kind] for xs in kinds.values()
             for i in range(min(per_kind, len(xs)))]
    planned = {_argument(a) for a in plan_actions}
    others = [v for v in _vendors(plane) if v not in planned][:per_kind // 2 + 1]
    picks += [f'{k}("{v}")' for v in others for k in ("open_ticket", "schedule_reassessment")]
    return picks


def plan_vendors(plan_actions: list[str], *, distinct: int = DISTINCT_VENDORS) -> list[str]:
    """Distinct vendors named by the plan's vendor-level actions (spread over the list)."""
    vendors = sorted({_argument(a) for a in plan_actions
                      if a.startswith(("open_ticket(", "request_evidence(",
                                       "schedule_reassessment("))})
    step = max(1, len(vendors) // distinct)
    return vendors[::step][:distinct]


def _argument(action: str) -> str:
    return action.split("(", 1)[1].rstrip(")").strip('"')


def _vendors(plane: DecisionPlane) -> list[str]:
    """The KG's vendors as the rules name them (compact IRIs, like the plan's actions)."""
    q = """PREFIX vr: <https://w3id.org/warrant/vendor-risk#>
SELECT ?v WHERE { ?v a vr:Vendor } ORDER BY ?v"""
    prefixes = PrefixMap.standard(plane.workspace.config.project.prefixes)
    iris = [row["v"] for row in plane.store.select(q)]
    return [prefixes.compact(i.value) for i in iris if isinstance(i, ox.NamedNode)]


def sequential(client: LeanClient, requests: list[Request], *, budget_s: float) -> Timing:
    """Each request once (cycling the list while time allows), one after another."""
    out: list[float] = []
    started = time.monotonic()
    i = 0
    while i < len(requests) or (time.monotonic() - started < budget_s and i < 10 * len(requests)):
        req = requests[i % len(requests)]
        t = time.perf_counter()
        client.post(req.path, req.body)
        out.append(time.perf_counter() - t)
        i += 1
        if i >= len(requests) and time.monotonic() - started >= budget_s:
            break
    return Timing(tuple(out))


def concurrent(base: str, requests: list[Request], *, clients: int, seconds: float) -> Load:
    """``clients`` concurrent clients sending ``requests`` in turn for ``seconds``."""
    prepared = [post_request(base, r.path, r.body, {"X-API-Key": API_KEY}) for r in requests]
    return load(base, prepared, clients=clients, seconds=seconds)


def in_process(calls: list[Callable[[], object]], *, budget_s: float) -> Timing:
    """The same work in this process: each call once, cycling while time allows."""
    runs = list(time_each(calls).runs)
    started = time.monotonic()
    while time.monotonic() - started < budget_s and len(runs) < 10 * len(calls):
        runs += time_each(calls).runs
    return Timing(tuple(runs))


@dataclass(frozen=True)
class Durations:
    """How long each measurement runs, in seconds."""

    load_s: float  # concurrent clients
    sequential_s: float  # requests one after another (each request at least once)

    @classmethod
    def for_size(cls, size: int, *, quick: bool = False) -> Durations:
        """Shorter below 100k triples; a second each below 10k (the harness's smoke test) and
        in a quick run."""
        if size < 10_000 or quick:
            return cls(1.0, 1.0)
        return cls(5.0, 3.0) if size < 100_000 else cls(10.0, 8.0)


def run(ctx: ScenarioContext) -> list[Figure]:
    """Decisions and vendor-scoped plans over HTTP vs the warm in-process engine."""
    # A read-write copy, as the server opens its own (read-only stores answer slower).
    store = OxigraphStore(copy_reference(ctx, "served-baseline"))
    plane = DecisionPlane(ctx.workspace(), store, clock=utc_now)
    plan_actions = [a.action for a in plane.plan(GOAL).plan.actions]
    if not plan_actions:
        return [Figure(name="decisions and plans over HTTP", unit="requests/s", warrant=None,
                       note="the plan has no actions to propose")]
    quick = 3 if ctx.quick else 1  # a quick run proposes a third as many distinct requests
    actions = proposed_actions(plane, plan_actions, distinct=DISTINCT_DECISIONS // quick)
    vendors = plan_vendors(plan_actions, distinct=DISTINCT_VENDORS // quick)
    durations = Durations.for_size(ctx.size, quick=ctx.quick)
    seconds, budget_s = durations.load_s, durations.sequential_s

    for a in actions:  # warm: every proposed action's instances parsed once
        plane.decide(a)
    base_dec = in_process([partial(plane.decide, a) for a in actions], budget_s=budget_s)
    for v in vendors:
        plane.plan(GOAL, {"vendor": v})
    base_plan = in_process([partial(plane.plan, GOAL, {"vendor": v}) for v in vendors],
                           budget_s=budget_s)
    store.close()

    decisions = [Request("/v1/decisions", {"action": a}) for a in actions]
    plans = [Request("/v1/plans", {"goal": GOAL, "params": {"vendor": v}}) for v in vendors]
    with served_api(ctx, "api-served") as base, LeanClient(
        base, {"X-API-Key": API_KEY}, timeout_s=TIMEOUT_S
    ) as client:
        for req in (*plans, *decisions):  # warm the server's engine the same way
            client.post(req.path, req.body)
        seq_dec = sequential(client, decisions, budget_s=budget_s)
        load_dec = concurrent(base, decisions, clients=CLIENTS, seconds=seconds)
        seq_plan = sequential(client, plans, budget_s=budget_s)
        load_plan = concurrent(base, plans, clients=CLIENTS, seconds=seconds)

    base_dec_rate = 1 / base_dec.median
    base_plan_rate = 1 / base_plan.median
    engine = "DecisionPlane.{} in process, warm engine (the bare engine)"
    return [
        Figure(name="proposed-action decision over HTTP, sequential (p50)", unit="ms",
               warrant=seq_dec.p50_ms, baseline=base_dec.p50_ms,
               baseline_name=engine.format("decide"),
               target=f"p50 < {DECISION_P50_TARGET_MS:.0f} ms",
               met=seq_dec.p50_ms < DECISION_P50_TARGET_MS,
               note=f"{len(actions)} distinct actions, {len(seq_dec.runs)} requests; "
               f"p90 {seq_dec.percentile_ms(0.9):.1f} ms; API overhead "
               f"{seq_dec.p50_ms - base_dec.p50_ms:.1f} ms"),
        Figure(name=f"proposed-action decisions over HTTP, {CLIENTS} concurrent clients",
               unit="requests/s", warrant=load_dec.rate, baseline=base_dec_rate,
               baseline_name=engine.format("decide") + ", one after another",
               better="higher", target=f"≥ {DECISION_RATE_TARGET:.0f}/s on 2 cores",
               met=load_dec.rate >= DECISION_RATE_TARGET,
               note=f"{load_dec.completed} requests in {load_dec.seconds:.1f} s; p50 under "
               f"load {load_dec.p50_ms:.0f} ms; one server process"),
        Figure(name="vendor-scoped plan over HTTP, sequential (p50)", unit="ms",
               warrant=seq_plan.p50_ms, baseline=base_plan.p50_ms,
               baseline_name=engine.format("plan"),
               note=f"goal `{GOAL}`, {len(vendors)} vendors, {len(seq_plan.runs)} requests; "
               f"p90 {seq_plan.percentile_ms(0.9):.1f} ms"),
        Figure(name=f"vendor-scoped plans over HTTP, {CLIENTS} concurrent clients",
               unit="requests/s", warrant=load_plan.rate, baseline=base_plan_rate,
               baseline_name=engine.format("plan") + ", one after another",
               better="higher",
               note=f"{load_plan.completed} requests in {load_plan.seconds:.1f} s; p50 under "
               f"load {load_plan.p50_ms:.0f} ms; one server process"),
    ]
