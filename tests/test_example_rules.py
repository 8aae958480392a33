"""The flagship example's rules (``rules/*.lp``): their unit tests, their checks, their plan.

The rule unit tests (``rules/tests/*.yaml``) run through the same runner as ``warrant test``
and must all pass and fire every rule. End to end, the example workspace is ingested through
the real pipeline (fixed clock) into a store in a temporary folder, and the decision plane
plans ``remediate`` over it: the plan must be proven optimal, carry a proof per action, show
each decision kind, settle what the data README says the rules should find, and match the
golden file (``UPDATE_GOLDEN=1`` rewrites it).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ParameterError, SolveError
from engine.knowledge.ingest import Ingestor
from engine.knowledge.ontology import load_ontology_graph
from engine.planning import DecisionPlane, PlanRecord
from engine.reasoning import FactSet, Reasoner, load_rules
from engine.reasoning.ruletest import TestReport, run_rule_tests
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

GOLDEN = Path(__file__).parent / "data" / "example" / "plan.golden.json"
FIXED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _clock() -> datetime:
    return FIXED


def _vendor(n: int) -> str:
    return f'"acme:vendor/V{n:03d}"'


def _flow(n: int) -> str:
    return f'"acme:processing/P-{n:04d}"'


# --- the rule unit tests -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(repo_root: Path) -> TestReport:
    rules = load_rules(repo_root, directory=repo_root / "rules")
    return run_rule_tests(rules, repo_root / "rules" / "tests")


def test_every_rule_unit_test_passes(report: TestReport) -> None:
    failed = [f"{c.file}: {c.name}: {'; '.join(c.failures)}" for c in report.cases if not c.passed]
    assert failed == []
    assert len(report.cases) >= 15


def test_the_rule_unit_tests_fire_every_rule(report: TestReport) -> None:
    assert report.unfired_rules == ()


def test_the_rule_unit_tests_cover_decide_mode_and_unsat(repo_root: Path) -> None:
    from engine.reasoning.ruletest import load_cases

    cases = [c for _f, c in load_cases(repo_root / "rules" / "tests")]
    assert any(c.unsat for c in cases)
    assert {c.plan.decisions[c.proposed] for c in cases if c.proposed and c.plan} >= {
        "allow",
        "escalate",
        "deny",
    }


# --- the example knowledge graph ----------------------------------------------------------------


@pytest.fixture(scope="module")
def plane(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DecisionPlane]:
    """The example workspace ingested into a fresh on-disk store, with its decision plane."""
    workspace = Workspace.load(repo_root)
    store = OxigraphStore(tmp_path_factory.mktemp("data") / "kg")
    try:
        Ingestor(
            workspace,
            store,
            clock=_clock,
            ontology=load_ontology_graph(workspace.ontology_files()),
        ).ingest()
        yield DecisionPlane(workspace, store, clock=_clock)
    finally:
        store.close()


@pytest.fixture(scope="module")
def record(plane: DecisionPlane) -> PlanRecord:
    return plane.plan("remediate")


def _body(record: PlanRecord) -> str:
    """The plan record as stable JSON, without the one timestamp it holds."""
    data = record.as_dict()
    del data["created_at"]
    return json.dumps(data, sort_keys=True, indent=2) + "\n"


def test_the_rules_check_clean(plane: DecisionPlane) -> None:
    assert [str(m) for m in plane.check_messages()] == []


def test_the_plan_is_optimal_and_quick(plane: DecisionPlane, record: PlanRecord) -> None:
    assert record.plan.optimal
    start = time.perf_counter()
    again = plane.plan("remediate")
    assert time.perf_counter() - start < 2.0  # warm: grounded once per facts and rules
    assert again.plan.cost == record.plan.cost


def test_the_plan_has_every_decision_kind_and_a_proof_per_action(record: PlanRecord) -> None:
    plan = record.plan
    kinds = {a.decision.kind for a in plan.actions}
    assert kinds == {"allow", "escalate", "deny"}
    assert plan.proofs is not None
    assert all(a.proof is not None and a.proof in plan.proofs.nodes for a in plan.actions)
    roles = {r for a in plan.actions for r in a.decision.roles}
    assert roles == {"ciso", "dpo"}


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        # payment card tokens in the US at the only hosting provider: suspension denied …
        (f"suspend_flow({_flow(12)})", "deny"),
        # … so its contract owner gets a ticket to bring the data back, and the DPO is told
        (f"open_ticket({_vendor(2)})", "allow"),
        (f"notify_dpo({_flow(12)})", "allow"),
        # the production database in the US at a critical vendor with a second backup provider
        (f"suspend_flow({_flow(31)})", "escalate"),
        # high-risk processors of personal data: their reassessment is a DPIA for the DPO
        (f"schedule_reassessment({_vendor(8)})", "escalate"),
        (f"schedule_reassessment({_vendor(15)})", "escalate"),  # through V003's flows
        (f"schedule_reassessment({_vendor(29)})", "escalate"),
        (f"suspend_flow({_flow(70)})", "allow"),
        (f"request_evidence({_vendor(3)})", "allow"),
        (f"open_ticket({_vendor(16)})", "allow"),  # critical, no SOC 2 report
    ],
)
def test_the_plan_decides_the_documented_cases(record: PlanRecord, action: str, kind: str) -> None:
    assert record.plan.decision(action).kind == kind


def test_the_plan_finds_what_the_data_readme_lists(record: PlanRecord) -> None:
    found = set(record.plan.findings)
    outside = {f.split(",")[1] for f in found if f.startswith("finding(outside_region,")}
    assert outside == {_flow(n) for n in (12, 24, 31, 65, 70)}
    expired = {f.split(",")[1] for f in found if f.startswith("finding(cert_expired,")}
    assert expired == {_vendor(n) for n in (3, 6, 8, 12, 13, 15, 21, 24, 35, 37, 39, 40)}
    stale = {f.split(",")[1].rstrip(")") for f in found if f.startswith("finding(stale_audit,")}
    assert stale == {_vendor(n) for n in (4, 8, 15, 17, 24, 25, 31, 40)}
    assert f"finding(never_audited,{_vendor(29)})" in found
    uncertified = {
        f.split(",")[1].rstrip(")") for f in found if f.startswith("finding(no_certification,")
    }
    assert uncertified == {_vendor(n) for n in (9, 18, 20, 26, 29, 31)}
    risky = {f.split(",")[1] for f in found if f.startswith("finding(high_risk_personal,")}
    # V015 and V038 receive personal data only as sub-processors (of V003 and V016)
    assert risky == {_vendor(n) for n in (6, 8, 15, 29, 38)}


def test_the_plan_orders_actions(record: PlanRecord) -> None:
    position = {a.action: a.index for a in record.plan.actions}
    pairs = [
        (f"notify_dpo({_flow(31)})", f"suspend_flow({_flow(31)})"),
        (f"open_ticket({_vendor(2)})", f"suspend_flow({_flow(12)})"),
        (f"schedule_reassessment({_vendor(8)})", f"request_evidence({_vendor(8)})"),
        (f"schedule_reassessment({_vendor(8)})", f"suspend_flow({_flow(31)})"),
    ]
    for later, earlier in pairs:
        assert position[later] > position[earlier]


def test_the_optimum_prefers_cheap_remedies(record: PlanRecord) -> None:
    actions = {a.action for a in record.plan.actions}
    # a fresh audit and a lapsed certificate: evidence, not a reassessment
    assert f"request_evidence({_vendor(3)})" in actions
    assert f"schedule_reassessment({_vendor(3)})" not in actions
    # uncertified with a stale audit: the reassessment settles both, no ticket on top
    assert f"schedule_reassessment({_vendor(31)})" in actions
    assert f"open_ticket({_vendor(31)})" not in actions
    # V015's exposure through V003's flows: reassess V015 rather than suspend V003's flows
    assert not any(a.startswith(f"suspend_flow({_flow(13)}") for a in actions)


def test_the_plan_for_one_vendor_covers_its_sub_processors(plane: DecisionPlane) -> None:
    plan = plane.plan("remediate", {"vendor": "acme:vendor/V006"}).plan
    vendors = {a.action.split("(", 1)[1].rstrip(")") for a in plan.actions}
    # V006's chain: V024 (critical, ISO lapsed, audit 2023) and V031 below it
    assert vendors >= {_vendor(6), _vendor(24), _vendor(31), _flow(24)}
    assert _vendor(8) not in vendors
    assert plan.optimal


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ('suspend_flow("acme:processing/P-0003")', "deny"),  # V001, only payroll provider
        ('suspend_flow("acme:processing/P-0031")', "escalate"),
        ('suspend_flow("acme:processing/P-0070")', "allow"),
        ('schedule_reassessment("acme:vendor/V006")', "escalate"),
        ('request_evidence("acme:vendor/V003")', "allow"),
    ],
)
def test_decide_mode_runs_the_same_policies(plane: DecisionPlane, action: str, kind: str) -> None:
    decision = plane.decide(action).plan
    assert [a.action for a in decision.actions] == [action]
    assert decision.actions[0].decision.kind == kind
    assert decision.actions[0].proof is not None


@pytest.mark.parametrize(
    "bad",
    ["suspend_vendor(acme:vendor/V001)", 'suspend_flow("a", "b")', "open_ticket(", "notify()"],
)
def test_decide_rejects_unknown_or_malformed_actions(plane: DecisionPlane, bad: str) -> None:
    with pytest.raises(ParameterError):
        plane.decide(bad)


def test_plan_rejects_an_unknown_parameter(plane: DecisionPlane) -> None:
    with pytest.raises(ParameterError):
        plane.plan("remediate", {"supplier": "acme:vendor/V001"})


def test_the_plan_matches_the_golden_file(plane: DecisionPlane, record: PlanRecord) -> None:
    body = _body(record)
    assert _body(plane.plan("remediate")) == body  # deterministic on the same facts and rules
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(body, encoding="utf-8")
    assert body == GOLDEN.read_text(encoding="utf-8")


def test_why_not_suspend_instead_of_reassess(plane: DecisionPlane, record: PlanRecord) -> None:
    """Suspending V003's flow would settle V015's exposure too, at a higher cost."""
    answer = plane.why_not(record, f"suspend_flow({_flow(13)})")
    assert answer.status == "not_chosen"
    assert answer.cost_difference is not None and answer.cost_difference[0] > 0


def test_no_plan_names_the_settling_constraint(repo_root: Path) -> None:
    """A denied suspension whose fallback ticket is denied too leaves a finding unsettled."""
    rules = load_rules(repo_root, directory=repo_root / "rules")
    facts = FactSet.from_text(
        'criticality("v/a", "vr:critical"). contract_owner("v/a", "e/gone").\n'
        'processor("f/1", "v/a"). processes_asset("f/1", "d/1"). in_region("f/1", "r/us").\n'
        'for_process("f/1", "p/hosting"). allowed_region("d/1", "r/eu").\n'
    )
    with pytest.raises(SolveError) as caught:
        Reasoner(rules, time_limit=10).plan(facts, "remediate", {}, now=1000)
    assert caught.value.code == "no_plan"
    conflict = caught.value.details["conflict"]
    assert isinstance(conflict, dict)
    assert [i["rule_id"] for i in conflict["items"] if i["kind"] == "constraint"] == [
        "every_finding_settled"
    ]


# --- the rules against a reference model, on generated vendor registers -------------------------

KINDS = ("k/soc2", "k/iso")
LEVELS = ("vr:low", "vr:medium", "vr:high", "vr:critical")
NOW_DAY = 1000
# values on and around the boundaries the rules draw (expiry today, audit a year ago, risk 70)
EXPIRIES = (900, 999, 1000, 1001)
AUDITS = (None, 634, 635, 636, 1000)


@dataclass(frozen=True)
class VendorRow:
    """One generated vendor: criticality, risk, last audit, certifications, parent."""

    level: str
    risk: int
    audit: int | None
    certs: tuple[tuple[str, int], ...]
    parent: int | None


@dataclass(frozen=True)
class FlowRow:
    """One generated processing flow: vendor, asset, region, business process."""

    vendor: int
    asset: int
    region: str
    process: str


@dataclass(frozen=True)
class Register:
    """A generated vendor register: vendors (parents precede children), assets and flows."""

    vendors: tuple[VendorRow, ...]
    assets: tuple[tuple[bool, frozenset[str]], ...]  # (personal?, allowed regions)
    flows: tuple[FlowRow, ...]

    def text(self) -> str:
        """The register as ASP facts in the schema's predicates."""
        out = ['employee("e/1").']
        for i, v in enumerate(self.vendors):
            out += [f'vendor("v/{i}").', f'criticality("v/{i}", "{v.level}").']
            out += [f'risk_score("v/{i}", {v.risk}).', f'contract_owner("v/{i}", "e/1").']
            if v.audit is not None:
                out.append(f'last_audit_date("v/{i}", {v.audit}).')
            if v.parent is not None:
                out.append(f'subprocessor_of("v/{i}", "v/{v.parent}").')
            for j, (kind, expiry) in enumerate(v.certs):
                c = f'"c/{i}-{j}"'
                out += [
                    f'certifies({c}, "v/{i}").',
                    f'certification_kind({c}, "{kind}").',
                    f"expiry_date({c}, {expiry}).",
                ]
        for a, (personal, regions) in enumerate(self.assets):
            kind = "vr:personal" if personal else "vr:internal"
            out.append(f'classification("d/{a}", "{kind}").')
            out += [f'allowed_region("d/{a}", "{r}").' for r in sorted(regions)]
        for f, flow in enumerate(self.flows):
            out += [
                f'processor("f/{f}", "v/{flow.vendor}").',
                f'processes_asset("f/{f}", "d/{flow.asset}").',
                f'in_region("f/{f}", "{flow.region}").',
                f'for_process("f/{f}", "{flow.process}").',
            ]
        return "\n".join(out) + "\n"


@st.composite
def registers(draw: st.DrawFn) -> Register:
    n = draw(st.integers(1, 6))
    vendors = []
    for i in range(n):
        certs = draw(
            st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(EXPIRIES)), max_size=2)
        )
        vendors.append(
            VendorRow(
                level=draw(st.sampled_from(LEVELS)),
                risk=draw(st.sampled_from((20, 69, 70, 71, 90))),
                audit=draw(st.sampled_from(AUDITS)),
                certs=tuple(certs),
                parent=draw(st.sampled_from((None, 0, i - 1, i - 1, i - 1))) if i else None,
            )
        )
    assets = tuple(
        (draw(st.booleans()), frozenset(draw(st.sets(st.sampled_from(("r/eu", "r/us"))))))
        for _ in range(3)
    )
    flows = draw(
        st.lists(
            st.builds(
                FlowRow,
                vendor=st.just(0) | st.integers(0, n - 1),  # the root heads the longest chain
                asset=st.integers(0, 2),
                region=st.sampled_from(("r/eu", "r/us")),
                process=st.sampled_from(("p/hosting", "p/backup")),
            ),
            max_size=5,
        )
    )
    return Register(tuple(vendors), assets, tuple(flows))


def _model_findings(reg: Register) -> set[str]:
    """The findings, computed directly from the register (a reference for findings.lp)."""
    out: set[str] = set()
    kinds_in_use = {k for v in reg.vendors for k, _e in v.certs}
    below: dict[int, set[int]] = {i: {i} for i in range(len(reg.vendors))}
    for i in reversed(range(len(reg.vendors))):  # children come after their parents
        parent = reg.vendors[i].parent
        if parent is not None:
            below[parent] |= below[i]
    for i, v in enumerate(reg.vendors):
        current = {k for k, e in v.certs if e >= NOW_DAY}
        for j, (kind, expiry) in enumerate(v.certs):
            if expiry < NOW_DAY and kind not in current:
                out.add(f'finding(cert_expired,"v/{i}","c/{i}-{j}",{expiry})')
        if not v.certs:
            out.add(f'finding(no_certification,"v/{i}")')
        elif v.level == "vr:critical":
            held = {k for k, _e in v.certs}
            out |= {f'finding(missing_certification,"v/{i}","{k}")' for k in kinds_in_use - held}
        if v.audit is None:
            out.add(f'finding(never_audited,"v/{i}")')
        elif v.audit < NOW_DAY - 365:
            out.add(f'finding(stale_audit,"v/{i}",{v.audit})')
    for f, flow in enumerate(reg.flows):
        personal, regions = reg.assets[flow.asset]
        if regions and flow.region not in regions:
            out.add(f'finding(outside_region,"f/{f}","d/{flow.asset}","{flow.region}")')
        if personal:
            for s in below[flow.vendor]:
                if reg.vendors[s].risk >= 70:
                    out.add(f'finding(high_risk_personal,"v/{s}","f/{f}")')
    return out


def _settles(finding: str, reg: Register) -> set[str]:
    """The actions that settle one finding (a reference for remedies.lp)."""
    args = finding[len("finding(") : -1].split(",")
    kind, subject = args[0], args[1]
    reassess = {f"schedule_reassessment({subject})"}
    if kind == "cert_expired":
        return reassess | {f"request_evidence({subject})"}
    if kind in ("no_certification", "missing_certification"):
        return reassess | {f"open_ticket({subject})"}
    if kind in ("stale_audit", "never_audited"):
        return reassess
    if kind == "high_risk_personal":
        return reassess | {f"suspend_flow({args[2]})"}
    vendor = reg.flows[int(subject.strip('"')[2:])].vendor
    return {f"suspend_flow({subject})", f'open_ticket("v/{vendor}")'}


@pytest.fixture(scope="module")
def reasoner(repo_root: Path) -> Reasoner:
    return Reasoner(load_rules(repo_root, directory=repo_root / "rules"), time_limit=10)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(reg=registers())
def test_the_rules_agree_with_a_reference_model(reasoner: Reasoner, reg: Register) -> None:
    plan = reasoner.plan(FactSet.from_text(reg.text()), "remediate", {}, now=NOW_DAY, proofs=False)
    assert set(plan.findings) == _model_findings(reg)
    assert plan.optimal
    live = {a.action for a in plan.actions if a.decision.kind != "deny"}
    for finding in plan.findings:
        assert _settles(finding, reg) & live, finding
    for a in plan.actions:
        if a.decision.kind == "deny":  # only a required suspension is kept when denied
            assert a.action.startswith("suspend_flow(")
            assert any(
                f.startswith(f"finding(outside_region,{a.action[13:-1]},") for f in plan.findings
            )
