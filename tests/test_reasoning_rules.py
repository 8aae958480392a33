"""Rule loading (annotations, ids, revision) and `warrant check` messages with file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import RuleError
from engine.reasoning import check_rules, load_rules, rules_from_texts

DATA = Path(__file__).parent / "data" / "reasoning"


def test_annotations_ids_and_declarations() -> None:
    rules = load_rules(DATA / "supply")
    assert rules.messages == ()
    ids = [r.id for r in rules.rules]
    assert ids[:3] == ["subproc_direct", "subproc_chain", "cert_expired"]
    assert rules.rule("cert_expired").label == (
        "certification {C} of vendor {V} expired on day {D}"
    )
    assert rules.rule("cert_expired").file == "rules/supply.lp"
    assert rules.rule("must_cover").kind == "constraint"
    assert rules.rule("may_suspend").kind == "choice"
    assert [g.name for g in rules.goals] == ["remediate"]
    assert [(p.name, p.type) for p in rules.params] == [("vendor", "iri")]
    assert [(a.name, a.args) for a in rules.actions] == [
        ("suspend_flow", (("F", "iri"),)),
        ("notify", (("V", "iri"),)),
    ]


def test_unannotated_rules_get_file_line_ids() -> None:
    rules = rules_from_texts({"rules/base.lp": "p(1).\nq(X) :- p(X).\n"})
    assert [r.id for r in rules.rules] == ["base:1", "base:2"]
    assert rules.rules[1].label is None


def test_revision_covers_names_and_contents() -> None:
    a = rules_from_texts({"rules/a.lp": "p."})
    assert a.revision == rules_from_texts({"rules/a.lp": "p."}).revision
    assert a.revision != rules_from_texts({"rules/a.lp": "q."}).revision
    assert a.revision != rules_from_texts({"rules/b.lp": "p."}).revision


def test_empty_workspace_has_no_rules(tmp_path: Path) -> None:
    rules = load_rules(tmp_path)
    assert rules.rules == () and rules.messages == ()


def test_parse_error_raises_located_rule_error() -> None:
    rules = rules_from_texts({"rules/bad.lp": "p(1).\nq(X :- p(X).\n"})
    with pytest.raises(RuleError) as info:
        rules.raise_for_errors()
    assert info.value.location is not None
    assert (info.value.location.file, info.value.location.line) == ("rules/bad.lp", 2)
    assert str(info.value).startswith("rules/bad.lp:2:5: ")


SCHEMA = {"supplies": 2, "vendor": 1, "flow": 1}

CHECK_CASES = [
    # (program, code, line, column, fragment)
    ("p(X) :- vendor(Y).", "unsafe_variable", 1, 3, "`X`"),
    ("p(X) :- vendor(X), not supplies(X, Z).", "unsafe_variable", 1, 36, "`Z`"),
    ("p(X) :- vendor(X), X < W.", "unsafe_variable", 1, 24, "`W`"),
    ("p(X) :- suplies(X, _).", "undefined_predicate", 1, 9, "did you mean `supplies/2`"),
    ("p(X) :- vendor(X, _).", "arity_mismatch", 1, 9, "used with 2 arguments but defined with 1"),
    ("deny(X) :- vendor(X).", "arity_mismatch", 1, 1, "`deny` takes 2 arguments"),
    ("p(X) :- vendor(X)\nq.", "syntax_error", 2, 1, "syntax error"),
    ('% @rule r "{Y} is a vendor"\np(X) :- vendor(X).', "label_variable", 2, 1, "`{Y}`"),
    ("% @rule\np.", "bad_annotation", 1, 1, "@rule <id>"),
    ('% @rule r "x"\n#show p/1.', "bad_annotation", 1, 1, "not followed by a rule"),
    ('% @rule r "x"\np.\n% @rule r "y"\nq.', "duplicate_rule_id", 4, 1, "already used"),
    ("% @param n: float", "bad_annotation", 1, 1, "@param"),
    ("% @param n: iri in", "bad_annotation", 1, 1, "[in <class>]"),
    ("% @param v: iri in vendr", "bad_domain", 1, 1, "did you mean `vendor`"),
    ("% @param v: iri in supplies", "bad_domain", 1, 1, "not a class predicate"),
    ("% @action a(X: iri in hot)\nhot(X) :- vendor(X).", "bad_domain", 1, 1, "derived by"),
    ("% @action a(X: iri in request)", "bad_domain", 1, 1, "derived by the rules"),
    ("#program step(t).\np.", "program_part", 1, 1, "not supported"),
    ("reported(vendor(X)) :- vendor(X).", "reported_not_a_finding", 1, 1, "`vendor(X)`"),
    ("p.\nreported(x) :- p.", "reported_not_a_finding", 2, 1, "not a finding"),
]


@pytest.mark.parametrize(
    "program",
    [
        "finding(k, X) :- vendor(X).\nreported(finding(k, X)) :- finding(k, X).",
        "reported(F) :- supplies(F, _).",  # a variable: bound by the body, not checked here
    ],
)
def test_a_reported_finding_is_not_flagged(program: str) -> None:
    messages = check_rules(rules_from_texts({"rules/t.lp": program}), schema_predicates=SCHEMA)
    assert not [m for m in messages if m.code == "reported_not_a_finding"]


@pytest.mark.parametrize(("program", "code", "line", "column", "fragment"), CHECK_CASES)
def test_check_messages(program: str, code: str, line: int, column: int, fragment: str) -> None:
    messages = check_rules(rules_from_texts({"rules/t.lp": program}), schema_predicates=SCHEMA)
    found = [m for m in messages if m.code == code]
    assert found, messages
    assert (found[0].file, found[0].line, found[0].column) == ("rules/t.lp", line, column)
    assert fragment in found[0].message
    assert str(found[0]).startswith(f"rules/t.lp:{line}:{column}: ")


def test_clean_program_has_no_messages() -> None:
    rules = load_rules(DATA / "supply")
    schema = {
        "engages": 2,
        "certification": 2,
        "expires": 2,
        "renewed": 1,
        "flow_vendor": 2,
        "critical": 1,
        "legal_hold": 1,
        "disruption": 2,
    }
    assert check_rules(rules, schema_predicates=schema) == []


def test_without_schema_unknown_predicates_are_warnings() -> None:
    messages = check_rules(rules_from_texts({"rules/t.lp": "p(X) :- q(X)."}))
    assert [(m.code, m.severity) for m in messages] == [("undefined_predicate", "warning")]


def test_messages_sort_by_location() -> None:
    rules = rules_from_texts(
        {
            "rules/b.lp": "p(X) :- q(Y).",
            "rules/a.lp": "r(X) :- q(Y).\ns(X) :- qq(X).",
        }
    )
    messages = check_rules(rules, schema_predicates={"q": 1})
    places = [(m.file, m.line, m.column) for m in messages]
    assert places == sorted(places)
    assert places[0][0] == "rules/a.lp"


def test_domain_annotations_are_read() -> None:
    rules = rules_from_texts(
        {"rules/t.lp": "% @param v: iri in vendor\n% @action a(X: iri in flow, N: int)\n"}
    )
    assert [(p.name, p.type, p.domain) for p in rules.params] == [("v", "iri", "vendor")]
    (action,) = rules.actions
    assert action.args == (("X", "iri"), ("N", "int"))
    assert (action.domain(0), action.domain(1)) == ("flow", None)
    assert not check_rules(rules, schema_predicates=SCHEMA)
