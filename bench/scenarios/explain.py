"""Scenario 5, explanations: proof extraction alone, and why-not, vs the plain solve.

Proof extraction is timed by itself on a warm engine: the answer is solved once, then only
``build_proofs`` runs (through the reasoner's own proof step). Why-not asks why an action on
a vendor the plan leaves alone is not in the plan. Both stand beside plain clingo ground +
solve of the same rules and facts.
"""

from __future__ import annotations

import pyoxigraph as ox

from bench.measure import Figure, time_runs
from bench.prepare import ScenarioContext
from bench.scenarios.plan import GOAL, baseline_timing, warm_plane
from engine.reasoning.plan import reported_findings
from engine.reasoning.request import plan_request
from engine.reasoning.transform import FINDINGS


def run(ctx: ScenarioContext) -> list[Figure]:
    """Proofs alone and why-not vs plain clingo."""
    warm = warm_plane(ctx)
    plane = warm.plane
    base = baseline_timing(ctx, warm)
    kg, facts = plane.facts()
    reasoner = plane.reasoner()
    request = plan_request(reasoner.rules, GOAL, None, now=warm.now)
    answer = reasoner.solver.solve(facts, request)
    runs = ctx.repeats(5)

    # the plane's own resolver and labeller: the same objects request after request, as in a
    # served plan (the grounding keeps the proofs it built with them)
    origin, label_of = plane.origin_resolver(kg), plane.label_function(kg)
    listed = reported_findings(answer, FINDINGS) if reasoner.solver.program.reports else None
    proofs = time_runs(
        lambda: reasoner._proofs(answer, facts, request, origin, label_of, True, listed),
        runs=runs,
    )
    record = plane.plan(GOAL)
    chosen = {a.action for a in record.plan.actions}
    vendors = sorted({s for s in (str(a) for a in chosen) if "vendor/" in s})
    target = _unchosen(plane, chosen)
    figures = [
        Figure(name="proof extraction alone (whole plan)", unit="ms", warrant=proofs.p50_ms,
               baseline=base.p50_ms, baseline_name="plain clingo ground + solve",
               note=f"{len(record.plan.actions)} actions, findings included"),
    ]
    if target is None:
        figures.append(Figure(name="why-not", unit="ms", warrant=None,
                              note=f"no unchosen action found ({len(vendors)} vendors)"))
        return figures
    why = time_runs(lambda: plane.why_not(record, target), runs=ctx.runs_for(2))
    figures.append(Figure(name="why-not for an action the plan does not take", unit="ms",
                          warrant=why.p50_ms, baseline=base.p50_ms,
                          baseline_name="plain clingo ground + solve", note=f"`{target}`"))
    return figures


def _unchosen(plane: object, chosen: set[str]) -> str | None:
    """An ``open_ticket`` on a vendor the plan does not open a ticket for."""
    from engine.planning import DecisionPlane

    assert isinstance(plane, DecisionPlane)
    rows = plane.store.select(
        "SELECT ?v WHERE { ?v a <https://w3id.org/warrant/vendor-risk#Vendor> } "
        "ORDER BY ?v LIMIT 200"
    )
    prefixes = plane.prefixes()
    for row in rows:
        v = row["v"]
        if not isinstance(v, ox.NamedNode):
            continue
        iri = prefixes.compact(v.value)
        if f'open_ticket("{iri}")' not in chosen:
            return f"open_ticket({iri})"
    return None
