"""A plan lists the findings ``reported/1`` names when the rules define it; else every one.

The rules below give two vendors a finding each; the request's ``vendor`` parameter scopes
what is reported. Each listed finding is a root of the plan's proofs, and nothing else is: a
finding not reported is neither listed nor proved.
"""

from __future__ import annotations

import pytest

from engine.reasoning import FactSet, Reasoner, rules_from_texts

BASE = """\
% @goal fix "fix every finding"
% @param vendor: iri in vendor
% @action ticket(V: iri in vendor)
% @rule stale "{V} was audited long ago"
finding(stale, V) :- vendor(V), old(V).
% @rule unknown "{V} has no contact"
finding(unknown, V) :- vendor(V), not contact(V).
% @rule fix "ticket {V}"
action(ticket(V)) :- request(fix), finding(_, V), in_scope(V).
scoped :- param(vendor, _).
in_scope(V) :- vendor(V), not scoped.
in_scope(V) :- param(vendor, V).
"""
REPORTED = """\
% @rule reported "{F} concerns {V}, in scope"
reported(finding(K, V)) :- request(fix), finding(K, V), in_scope(V).
% a reported term that is not a held finding is not listed
reported(finding(stale, "v/none")) :- request(fix).
reported(other("v/a")) :- request(fix).
"""
FACTS = FactSet.from_text(
    'vendor("v/a"). vendor("v/b"). old("v/a"). old("v/b"). contact("v/a").\n'
)
EVERY = ('finding(stale,"v/a")', 'finding(stale,"v/b")', 'finding(unknown,"v/b")')


def _plan(rules_text: str, params: dict[str, object] | None) -> tuple[tuple[str, ...], set[str]]:
    reasoner = Reasoner(rules_from_texts({"rules/r.lp": rules_text}))
    plan = reasoner.plan(FACTS, "fix", params, now=None)
    assert plan.proofs is not None
    roots = {atom for atom in plan.proofs.roots if atom.startswith("finding(")}
    return plan.findings, roots


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        (None, EVERY),
        ({"vendor": "v/a"}, ('finding(stale,"v/a")',)),
        ({"vendor": "v/b"}, ('finding(stale,"v/b")', 'finding(unknown,"v/b")')),
    ],
)
def test_a_plan_lists_and_proves_the_reported_findings(
    params: dict[str, object] | None, listed: tuple[str, ...]
) -> None:
    findings, proved = _plan(BASE + REPORTED, params)
    assert findings == listed
    assert proved == set(listed)


@pytest.mark.parametrize("params", [None, {"vendor": "v/a"}])
def test_without_reported_a_plan_lists_every_finding(params: dict[str, object] | None) -> None:
    findings, proved = _plan(BASE, params)
    assert findings == EVERY
    assert proved == set(EVERY)


def test_nothing_reported_lists_no_finding() -> None:
    rules = BASE + "reported(x) :- request(fix), not request(fix).\n"
    findings, proved = _plan(rules, {"vendor": "v/a"})
    assert findings == () and proved == set()
