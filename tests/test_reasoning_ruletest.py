"""`warrant test`: YAML rule cases, pass/fail per case, never-fired rules, bad case files."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import RuleError
from engine.reasoning import load_rules, run_rule_tests

DATA = Path(__file__).parent / "data" / "reasoning"


def test_cases_pass_fail_and_unfired_rules() -> None:
    rules = load_rules(DATA / "supply")
    report = run_rule_tests(rules, DATA / "supply" / "rules" / "tests")
    assert [(c.name, c.passed) for c in report.cases] == [
        ("an expired sub-processor exposes the flows upstream", True),
        ("a renewed certification exposes nothing", True),
        ("a wrong expectation fails", False),
    ]
    assert report.cases[2].failures == ('expected `action(suspend_flow("f/1"))` to hold',)
    assert not report.passed
    assert report.unfired_rules == ("subproc_chain", "exposed_direct", "legal_hold")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("cases: [{facts: 'p.'}]", "case 1: field `name`"),
        ("name: x\nbogus: 1\n", "field `bogus`"),
        ("cases: [: :\n", "does not load"),
        ("42\n", "holds a case"),
    ],
)
def test_bad_case_files(tmp_path: Path, text: str, fragment: str) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text(text)
    with pytest.raises(RuleError, match=fragment) as info:
        run_rule_tests(load_rules(DATA / "supply"), case)
    assert info.value.location is not None and info.value.location.file == str(case)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("name: x\nfacts: 'p(.'\ngoal: remediate\n", "fixture facts do not parse"),
        ("name: x\ngoal: nope\n", "unknown goal `nope`"),
        ("name: x\ngoal: remediate\nexpect: ['p(']\n", "is not an atom"),
        ("name: x\ngoal: remediate\nunsat: true\n", "expected no plan"),
    ],
)
def test_case_errors_are_reported_not_raised(tmp_path: Path, case: str, fragment: str) -> None:
    (tmp_path / "c.yaml").write_text(case)
    report = run_rule_tests(load_rules(DATA / "supply"), tmp_path)
    assert not report.cases[0].passed
    assert fragment in report.cases[0].failures[0]


def test_unsat_expectation_and_decide_mode(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "cases:\n"
        "  - name: conflict\n    goal: staff\n    unsat: true\n"
    )
    assert run_rule_tests(load_rules(DATA / "conflict"), tmp_path).passed
    (tmp_path / "c.yaml").write_text(
        "name: decide a held flow\n"
        "facts: |\n  legal_hold(\"f/9\").\n"
        "proposed: 'suspend_flow(\"f/9\")'\n"
        "plan: {decisions: {'suspend_flow(\"f/9\")': deny}}\n"
    )
    report = run_rule_tests(load_rules(DATA / "supply"), tmp_path)
    assert report.passed, report.cases
