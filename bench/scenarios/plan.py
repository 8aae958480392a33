"""Scenario 4, plans: a plan with full proofs on a warm engine vs plain clingo ground + solve.

Warrant: ``DecisionPlane.plan`` on a warm engine (facts loaded, program grounded), proofs
included; the same without proofs (what proofs add); the first plan after a KG change (facts
re-read from the store, program re-grounded, solved, proofs built); proposed-action decisions.
The baseline is plain clingo on the same rule files and the same fact text: one ``Control``
with the same optimisation strategy, ground and solve, no tracing and no proofs.
"""

from __future__ import annotations

from dataclasses import dataclass

import clingo

from bench.measure import Figure, Timing, time_runs
from bench.prepare import ScenarioContext, ensure_reference, utc_now
from engine.planning import DecisionPlane
from engine.store.oxigraph import OxigraphStore

GOAL = "remediate"
PLAN_P50_MS = {100_000: 50.0, 1_000_000: 200.0}
HTTP_PENDING = "pending: the API has no plan / decision routes yet (engine-level figure above)"


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


def plain_clingo(warm: Warm) -> None:
    """Ground and solve the rules and facts with clingo alone (no tracing, no proofs)."""
    ctl = clingo.Control(["--opt-strategy=usc", "--warn=none"])
    ctl.add("base", [], warm.program)
    ctl.add("base", [], f"{warm.facts_text}\nrequest({GOAL}).\nnow({warm.now}).\n")
    ctl.ground([("base", [])])
    ctl.solve()


def baseline_timing(ctx: ScenarioContext, warm: Warm) -> Timing:
    """Plain clingo ground + solve, median of several runs."""
    return time_runs(lambda: plain_clingo(warm), runs=ctx.runs_for(2), warmup=0)


def run(ctx: ScenarioContext) -> list[Figure]:
    """Warm plan with proofs, without proofs, cold start, and decisions."""
    warm = warm_plane(ctx)
    plane = warm.plane
    runs = max(ctx.runs, 5)
    base = baseline_timing(ctx, warm)
    with_proofs = time_runs(lambda: plane.plan(GOAL), runs=runs)
    _kg, facts = plane.facts()
    reasoner = plane.reasoner()
    no_proofs = time_runs(
        lambda: reasoner.plan(facts, GOAL, now=warm.now, proofs=False), runs=runs
    )
    record = plane.plan(GOAL)
    proof_ms = with_proofs.p50_ms - no_proofs.p50_ms

    def cold() -> None:
        fresh = DecisionPlane(plane.workspace, plane.store, clock=utc_now)
        fresh.rules()
        fresh.schema()
        fresh.plan(GOAL)

    cold_t = time_runs(cold, runs=ctx.runs_for(2))
    figures = [
        Figure(name="plan with proofs, warm engine (p50)", unit="ms",
               warrant=with_proofs.p50_ms, baseline=base.p50_ms,
               baseline_name="plain clingo ground + solve, same rules and facts",
               target=_plan_target(ctx.size),
               met=None if not _plan_target(ctx.size) else
               with_proofs.p50_ms < PLAN_P50_MS[ctx.size],
               note=f"{len(record.plan.actions)} actions; p90 "
               f"{with_proofs.percentile_ms(0.9):.0f} ms"),
        Figure(name="plan without proofs, warm engine (p50)", unit="ms",
               warrant=no_proofs.p50_ms, baseline=base.p50_ms,
               baseline_name="plain clingo ground + solve, same rules and facts"),
        Figure(name="what proofs add (with − without)", unit="ms", warrant=proof_ms,
               baseline=no_proofs.p50_ms, baseline_name="the warm solve without proofs",
               target="≤ 1× the solve time" if ctx.size == 100_000 else "",
               met=(proof_ms <= no_proofs.p50_ms) if ctx.size == 100_000 else None),
        Figure(name="cold start: first plan after a KG change", unit="ms",
               warrant=cold_t.p50_ms, baseline=base.p50_ms,
               baseline_name="plain clingo ground + solve, same rules and facts",
               note="facts re-read from the store, program re-grounded, solved, proofs built"),
    ]
    figures += _decisions(ctx, plane, [a.action for a in record.plan.actions])
    figures.append(Figure(name="concurrent plan requests over HTTP", unit="requests/s",
                          warrant=None, better="higher", note=HTTP_PENDING))
    return figures


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
    count = max(ctx.runs, 5) * len(picks)
    calls = iter(picks * (count // len(picks)))
    t = time_runs(lambda: plane.decide(next(calls)), runs=count)
    rate = len(t.runs) / sum(t.runs)
    return [
        Figure(name="proposed-action decision, warm engine (p50)", unit="ms",
               warrant=t.p50_ms, target="p50 < 5 ms", met=t.p50_ms < 5,
               note=f"{len(picks)} different actions from the plan, "
               f"{rate:.0f} decisions/s in sequence"),
        Figure(name="proposed-action decisions over HTTP", unit="requests/s", warrant=None,
               better="higher", target="≥ 300/s on 2 cores", note=HTTP_PENDING),
    ]
