"""``warrant test``: run the rule authors' YAML cases, report pass/fail and never-fired rules.

A case file under ``rules/tests/`` holds one case or a list of them (``cases:``)::

    name: expired vendor flows are suspended
    facts: |
      flow_vendor("acme:f/1", "acme:v/a").
    goal: remediate
    params: {vendor: "acme:v/a"}
    now: 19500
    expect: ['action(suspend_flow("acme:f/1"))']
    forbid: ['action(notify("acme:v/b"))']
    plan:
      actions: ['suspend_flow("acme:f/1")']
      decisions: {'suspend_flow("acme:f/1")': escalate}

``proposed: '<action term>'`` runs the case in decide mode; ``unsat: true`` expects no plan.
Fixture facts and atoms are author-written text, parsed by clingo; they are not user input.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import clingo
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import Location, RuleError, WarrantError
from engine.reasoning.facts import FactSet
from engine.reasoning.plan import assemble_plan
from engine.reasoning.request import decide_request, plan_request
from engine.reasoning.rules import RuleSet
from engine.reasoning.solve import Solver
from engine.reasoning.transform import DECIDE_RULE_ID, FINDINGS, TraceScope


class PlanExpectation(BaseModel):
    """The exact set of planned actions and/or some actions' decisions."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    actions: tuple[str, ...] | None = None
    decisions: dict[str, str] = {}


class Case(BaseModel):
    """One rule unit test: fixture facts in, expected and forbidden atoms out."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    facts: str = ""
    goal: str | None = None
    proposed: str | None = None
    params: dict[str, Any] = {}
    now: int | None = None
    expect: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    plan: PlanExpectation | None = None
    unsat: bool = False


class CaseResult(BaseModel):
    """A case's outcome and, when it failed, why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str
    name: str
    passed: bool
    failures: tuple[str, ...] = ()


class TestReport(BaseModel):
    """All case results plus the rules that no case ever fired."""

    __test__ = False
    model_config = ConfigDict(frozen=True, extra="forbid")
    cases: tuple[CaseResult, ...]
    unfired_rules: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether every case passed."""
        return all(c.passed for c in self.cases)


def load_cases(path: Path) -> list[tuple[str, Case]]:
    """The cases of one YAML file or of every ``*.yaml`` / ``*.yml`` in a folder (sorted)."""
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    out: list[tuple[str, Case]] = []
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            loc = Location(
                file=str(file),
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
            raise RuleError(
                f"rule test file does not load: {exc}".splitlines()[0],
                location=loc,
                code="rule_test",
            ) from exc
        raw = data.get("cases", [data]) if isinstance(data, Mapping) else data
        if not isinstance(raw, list):
            raise RuleError(
                "a rule test file holds a case or `cases: [...]`",
                location=Location(file=str(file)),
                code="rule_test",
            )
        for i, item in enumerate(raw):
            try:
                out.append((str(file), Case.model_validate(item)))
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise RuleError(
                    f"case {i + 1}: field `{where}`: {err['msg'].lower()}",
                    location=Location(file=str(file), field=where),
                    code="rule_test",
                ) from exc
    return out


def run_rule_tests(rules: RuleSet, path: Path, *, time_limit: float = 10.0) -> TestReport:
    """Run every case under ``path`` against ``rules``."""
    solver = Solver(rules, time_limit=time_limit, trace=TraceScope.ALL, cache_size=1)
    fired: set[int] = set()
    results = [_run_case(solver, rules, file, case, fired) for file, case in load_cases(path)]
    unfired = [
        r.id
        for r in solver.program.rules
        if r.index not in fired and r.kind != "constraint" and r.id != DECIDE_RULE_ID
    ]
    return TestReport(cases=tuple(results), unfired_rules=tuple(unfired))


def _run_case(solver: Solver, rules: RuleSet, file: str, case: Case, fired: set[int]) -> CaseResult:
    failures: list[str] = []
    try:
        facts = FactSet.from_text(case.facts)
        if case.proposed is not None:
            request = decide_request(rules, _term(case.proposed), case.params, now=case.now)
        else:
            request = plan_request(rules, case.goal or "", case.params, now=case.now)
        answer = solver.solve(facts, request, all_atoms=True)
    except WarrantError as exc:
        return CaseResult(file=file, name=case.name, passed=False, failures=(str(exc),))
    if not answer.satisfiable:
        ok = case.unsat
        return CaseResult(
            file=file,
            name=case.name,
            passed=ok,
            failures=() if ok else ("no plan: the rules are unsatisfiable",),
        )
    if case.unsat:
        failures.append("expected no plan, but the rules have one")
    fired |= {f.arguments[0].number for f in answer.all_fired()}
    atoms = set(answer.atoms or ())
    for text in case.expect:
        sym = _atom(text, failures)
        if sym is not None and sym not in atoms:
            failures.append(f"expected `{text}` to hold")
    for text in case.forbid:
        sym = _atom(text, failures)
        if sym is not None and sym in atoms:
            failures.append(f"expected `{text}` not to hold")
    if case.plan is not None:
        try:
            plan = assemble_plan(
                request=request,
                answer=answer,
                rules_revision=rules.revision,
                facts_revision=facts.revision,
                proofs=None,
                finding_names=FINDINGS,
            )
        except WarrantError as exc:
            failures.append(str(exc))
        else:
            got = {a.action: a.decision.kind for a in plan.actions}
            if case.plan.actions is not None:
                want = {_canonical(a, failures) for a in case.plan.actions}
                if want != set(got):
                    failures.append(f"planned actions {sorted(got)} differ from {sorted(want)}")
            for action, kind in sorted(case.plan.decisions.items()):
                key = _canonical(action, failures)
                if got.get(key) != kind:
                    failures.append(
                        f"decision on `{action}` is `{got.get(key)}`, expected `{kind}`"
                    )
    return CaseResult(file=file, name=case.name, passed=not failures, failures=tuple(failures))


def _term(text: str) -> clingo.Symbol:
    try:
        return clingo.parse_term(text)
    except RuntimeError as exc:
        raise RuleError(f"`{text}` is not a term") from exc


def _atom(text: str, failures: list[str]) -> clingo.Symbol | None:
    try:
        return clingo.parse_term(text)
    except RuntimeError:
        failures.append(f"`{text}` is not an atom")
        return None


def _canonical(text: str, failures: list[str]) -> str:
    sym = _atom(text, failures)
    return text if sym is None else str(sym)
