"""Scenario 4, plans: a plan with full proofs on a warm engine vs plain clingo ground + solve.

Warrant: ``DecisionPlane.plan`` on a warm engine (facts loaded, program grounded), proofs
included, for the realistic request (one vendor: the ``vendor`` parameter of the example's
``@param vendor``, cycling over the vendors with the most findings) and for the whole KG (one
action, decision and proof per finding); the same without proofs (what proofs add); the first
plan after a KG change (facts re-read from the store, program re-grounded, solved, proofs
built); proposed-action decisions. The baseline is plain clingo on the same rule files and the
same fact text, scoped the same way: one ``Control`` with the same optimisation strategy,
ground and solve, no tracing and no proofs. Served plans and decisions (HTTP) are the
``served`` scenario's.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

import clingo
import pyoxigraph as ox

from bench.measure import Figure, Timing, time_runs
from bench.prepare import ScenarioContext, ensure_reference, utc_now
from engine.planning import DecisionPlane
from engine.store.oxigraph import OxigraphStore

GOAL = "remediate"
PLAN_P50_MS = {100_000: 50.0, 1_000_000: 200.0}
SCOPED_VENDORS = 5
_VENDOR_CLASS = "https://w3id.org/warrant/vendor-risk#Vendor"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')  # the string arguments in an atom's text


@dataclass(frozen=True)
class Warm:
    """A warm decision plane over the reference store, and what the baseline needs."""

    plane: DecisionPlane
    program: str
    facts_text: str
    now: int


def warm_plane(ctx: ScenarioContext) -> Warm:
    """Open the reference store read-only and warm a decision plane on it (one plan)."""
    ensure_reference(ctx)
    store = OxigraphStore(ctx.store_path, read_only=True)
    plane = DecisionPlane(ctx.workspace(), store, clock=utc_now)
    plane.plan(GOAL)
    kg, _facts = plane.facts()
    rules_dir = plane.workspace.rules_dir()
    program = "\n".join(p.read_text(encoding="utf-8") for p in sorted(rules_dir.glob("*.lp")))
    return Warm(plane=plane, program=program, facts_text=kg.text(), now=plane.today())


def plain_clingo(warm: Warm, vendor: str | None = None) -> None:
    """Ground and solve the rules and facts with clingo alone (no tracing, no proofs), for
    the whole KG or scoped to one ``vendor`` (the request's ``param(vendor, V)`` as a fact)."""
    ctl = clingo.Control(["--opt-strategy=usc", "--warn=none"])
    ctl.add("base", [], warm.program)
    scope = "" if vendor is None else f"param(vendor, {clingo.String(vendor)}).\n"
    ctl.add("base", [], f"{warm.facts_text}\nrequest({GOAL}).\nnow({warm.now}).\n{scope}")
    ctl.ground([("base", [])])
    ctl.solve()


def baseline_timing(ctx: ScenarioContext, warm: Warm) -> Timing:
    """Plain clingo ground + solve of the whole KG, median of several runs."""
    return time_runs(lambda: plain_clingo(warm), runs=ctx.runs_for(2), warmup=0)


def busiest_vendors(plane: DecisionPlane, findings: tuple[str, ...], count: int) -> list[str]:
    """The ``count`` vendors (compact IRIs) named by the most findings, ties by IRI: the
    plan a risk owner asks for is one vendor's, and a vendor with findings has work to plan."""
    rows = plane.store.select(f"SELECT ?v WHERE {{ ?v a <{_VENDOR_CLASS}> }} ORDER BY ?v")
    prefixes = plane.prefixes()
    vendors = [prefixes.compact(r["v"].value) for r in rows if isinstance(r["v"], ox.NamedNode)]
    known = set(vendors)  # each finding counts once per vendor it names, in one pass
    named = Counter(v for f in findings for v in set(_QUOTED.findall(f)) if v in known)
    ranked = sorted((v for v in vendors if named[v]), key=lambda v: (-named[v], v))
    return ranked[:count]


def run(ctx: ScenarioContext) -> list[Figure]:
    """Warm plans (one vendor, whole KG) with and without proofs, cold start, decisions."""
    warm = warm_plane(ctx)
    plane = warm.plane
    runs = 1 if ctx.quick else ctx.repeats(5)  # whole-KG plans: the costliest figures
    base = baseline_timing(ctx, warm)
    with_proofs = time_runs(lambda: plane.plan(GOAL), runs=runs)
    _kg, facts = plane.facts()
    reasoner = plane.reasoner()
    no_proofs = time_runs(
        lambda: reasoner.plan(facts, GOAL, now=warm.now, proofs=False), runs=runs
    )
    record = plane.plan(GOAL)
    proof_ms = with_proofs.p50_ms - no_proofs.p50_ms
    figures = _scoped(ctx, warm, busiest_vendors(plane, record.plan.findings, SCOPED_VENDORS))

    def cold() -> None:
        fresh = DecisionPlane(plane.workspace, plane.store, clock=utc_now)
        fresh.rules()
        fresh.schema()
        fresh.plan(GOAL)

    cold_t = time_runs(cold, runs=ctx.runs_for(2))
    figures += [
        Figure(name="whole-KG plan with proofs, warm engine (p50)", unit="ms",
               warrant=with_proofs.p50_ms, baseline=base.p50_ms,
               baseline_name="plain clingo ground + solve, same rules and facts",
               note=f"every finding of the KG: {len(record.plan.actions)} actions; p90 "
               f"{with_proofs.percentile_ms(0.9):.0f} ms"),
        Figure(name="whole-KG plan without proofs, warm engine (p50)", unit="ms",
               warrant=no_proofs.p50_ms, baseline=base.p50_ms,
               baseline_name="plain clingo ground + solve, same rules and facts"),
        Figure(name="what proofs add to the whole-KG plan (with − without)", unit="ms",
               warrant=proof_ms, baseline=no_proofs.p50_ms,
               baseline_name="the warm whole-KG solve without proofs"),
        Figure(name="cold start: first plan after a KG change", unit="ms",
               warrant=cold_t.p50_ms, baseline=base.p50_ms,
               baseline_name="plain clingo ground + solve, same rules and facts",
               note="whole KG; facts re-read from the store, program re-grounded, solved, "
               "proofs built"),
    ]
    figures += _decisions(ctx, plane, [a.action for a in record.plan.actions])
    return figures


def _scoped(ctx: ScenarioContext, warm: Warm, vendors: list[str]) -> list[Figure]:
    """One vendor's plan (``vendor`` parameter), cycling over ``vendors``, with and without
    proofs, beside plain clingo ground + solve with the same ``param(vendor, V)``."""
    if not vendors:
        return [Figure(name="one-vendor plan with proofs, warm engine (p50)", unit="ms",
                       warrant=None, note="no vendor has findings")]
    plane = warm.plane
    _kg, facts = plane.facts()
    reasoner = plane.reasoner()
    for v in vendors:  # warm: the first request of a parameter value grounds nothing new
        plane.plan(GOAL, {"vendor": v})
    runs = ctx.repeats(5) * len(vendors)
    cycle = itertools.cycle(vendors)
    with_proofs = time_runs(lambda: plane.plan(GOAL, {"vendor": next(cycle)}), runs=runs)
    cycle = itertools.cycle(vendors)
    no_proofs = time_runs(
        lambda: reasoner.plan(
            facts, GOAL, {"vendor": next(cycle)}, now=warm.now, proofs=False
        ),
        runs=runs,
    )
    cycle = itertools.cycle(vendors)
    base = time_runs(lambda: plain_clingo(warm, next(cycle)), runs=ctx.runs_for(2), warmup=0)
    sizes = [len(plane.plan(GOAL, {"vendor": v}).plan.actions) for v in vendors]
    proof_ms = with_proofs.p50_ms - no_proofs.p50_ms
    target = _plan_target(ctx.size)
    baseline_name = "plain clingo ground + solve, same rules and facts, same vendor"
    return [
        Figure(name="one-vendor plan with proofs, warm engine (p50)", unit="ms",
               warrant=with_proofs.p50_ms, baseline=base.p50_ms, baseline_name=baseline_name,
               target=target,
               met=None if not target else with_proofs.p50_ms < PLAN_P50_MS[ctx.size],
               note=f"`vendor` parameter, {len(vendors)} vendors with the most findings "
               f"({min(sizes)}–{max(sizes)} actions); p90 "
               f"{with_proofs.percentile_ms(0.9):.0f} ms"),
        Figure(name="one-vendor plan without proofs, warm engine (p50)", unit="ms",
               warrant=no_proofs.p50_ms, baseline=base.p50_ms, baseline_name=baseline_name),
        Figure(name="what proofs add to a one-vendor plan (with − without)", unit="ms",
               warrant=proof_ms, baseline=no_proofs.p50_ms,
               baseline_name="the warm one-vendor solve without proofs",
               target="≤ 1× the solve time", met=proof_ms <= no_proofs.p50_ms),
    ]


def _plan_target(size: int) -> str:
    if size in PLAN_P50_MS:
        return f"p50 < {PLAN_P50_MS[size]:.0f} ms at {size // 1000:,}k triples"
    return ""


def _decisions(ctx: ScenarioContext, plane: DecisionPlane, actions: list[str]) -> list[Figure]:
    if not actions:
        return [Figure(name="proposed-action decisions", unit="ms", warrant=None,
                       note="the plan has no actions to propose")]
    picks = [actions[i * len(actions) // 10] for i in range(min(10, len(actions)))]
    plane.decide(picks[0])
    count = ctx.repeats(5) * len(picks)
    calls = iter(picks * (count // len(picks)))
    t = time_runs(lambda: plane.decide(next(calls)), runs=count)
    rate = len(t.runs) / sum(t.runs)
    return [
        Figure(name="proposed-action decision, warm engine (p50)", unit="ms",
               warrant=t.p50_ms, target="p50 < 5 ms", met=t.p50_ms < 5,
               note=f"{len(picks)} different actions from the plan, "
               f"{rate:.0f} decisions/s in sequence"),
    ]
