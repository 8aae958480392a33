"""Decisions looked up in every candidate's grounded world equal the warm control's, proofs
included; what the table cannot settle goes to the warm control, with the same answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import clingo
import pytest

from engine.errors import SolveError
from engine.knowledge.ingest import Ingestor
from engine.knowledge.ontology import load_ontology_graph
from engine.planning import DecisionPlane
from engine.reasoning import FactSet, Reasoner, rules_from_texts
from engine.reasoning.transform import TraceScope, compile_program
from engine.reasoning.worlds import Unsplittable, split_program
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

S, F = clingo.String, clingo.Function


def _clock() -> datetime:
    return datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def example(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DecisionPlane]:
    workspace = Workspace.load(repo_root)
    store = OxigraphStore(tmp_path_factory.mktemp("decision-table") / "kg")
    Ingestor(
        workspace, store, clock=_clock, ontology=load_ontology_graph(workspace.ontology_files())
    ).ingest()
    try:
        yield DecisionPlane(workspace, store, clock=_clock)
    finally:
        store.close()


def test_every_candidate_of_the_example_is_decided_as_by_the_warm_control(
    example: DecisionPlane,
) -> None:
    kg, facts = example.facts()
    rules = example.rules()
    table, warm = Reasoner(rules), Reasoner(rules, table=False)
    domain = warm.solver.domain(facts, deciding=True)
    candidates = sorted(s.arguments[0] for s in domain if s.name == "proposed")
    assert len(candidates) > 200
    kinds: set[str] = set()
    kw = {
        "now": example.today(),
        "origin": example.origin_resolver(kg),
        "label_of": example.label_function(kg),
    }
    for action in candidates:
        got = table.decide(facts, action, **kw)
        assert got == warm.decide(facts, action, **kw), str(action)
        kinds.add(got.actions[0].decision.kind)
    assert kinds == {"allow", "escalate", "deny"}
    assert table.table is not None and table.table.served == len(candidates)
    assert not table.solver.cached()  # no warm control was grounded


def _both(rules_text: str, facts: FactSet, action: clingo.Symbol) -> tuple[object, object, int]:
    rules = rules_from_texts({"rules/r.lp": rules_text})
    table, warm = Reasoner(rules), Reasoner(rules, table=False)
    assert table.table is not None

    def outcome(reasoner: Reasoner) -> object:
        try:
            return reasoner.decide(facts, action, now=None)
        except SolveError as exc:
            return (exc.code, str(exc))

    got = outcome(table)
    return got, outcome(warm), table.table.served


HEAD = """
% @goal tidy "tidy"
% @action cut(V: iri in vendor)
% @rule vendor_cut "cutting {V} costs 3"
cost(cut(V), 3) :- action(cut(V)).
#minimize { W@1,A : action(A), cost(A, W) }.
"""

VENDORS = FactSet.from_groups(
    {"vendor/1": [F("vendor", [S(v)]) for v in ("a", "b", "c")], "key/1": [F("key", [S("b")])]}
)


# a world negating another proposal-dependent atom computes it in the world alone; a
# predicate held in the base and gaining atoms in a world is read in either form
NEGATED = (
    '% @rule quiet "nothing is cut from a"\nquiet :- not action(cut("a")).\n'
    '% @rule noisy "{V} is cut while a is"\n'
    'deny(cut(V), "a is being cut") :- action(cut(V)), not quiet.\n'
)
MIXED = (
    '% @rule exposed_key "{V} holds a key"\nexposed(V) :- key(V).\n'
    '% @rule exposed_cut "{V} is cut"\nexposed(V) :- action(cut(V)).\n'
    '% @rule two "{V} and {W} are both exposed"\n'
    'escalate(cut(V), ciso, "two exposed") :- action(cut(V)), exposed(V), exposed(W), W != V.\n'
)


@pytest.mark.parametrize(
    ("extra", "kinds"),
    [(NEGATED, {"a": "deny", "b": "allow"}), (MIXED, {"a": "escalate", "b": "allow"})],
    ids=["negated", "mixed"],
)
def test_worlds_decide_as_the_warm_control(extra: str, kinds: dict[str, str]) -> None:
    for vendor, kind in kinds.items():
        got, warm, served = _both(HEAD + extra, VENDORS, F("cut", [S(vendor)]))
        assert got == warm and served == 1
        assert got.actions[0].decision.kind == kind  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ('% @rule maybe "{A} may be logged"\n{ logged(A) } :- action(A).\n', "a choice"),
        ('% @rule count "{N} actions"\nn(N) :- N = #count { A : action(A) }.\n', "an aggregate"),
        ('% @rule keyed "{V} holds a key"\ncut_key(V) :- action(cut(V)).\n', "KG facts"),
    ],
)
def test_what_the_table_cannot_settle_goes_to_the_warm_control(extra: str, why: str) -> None:
    facts = FactSet.from_groups(
        {
            "vendor/1": [F("vendor", [S(v)]) for v in ("a", "b")],
            "cut_key/1": [F("cut_key", [S("z")])],
        }
    )
    got, warm, served = _both(HEAD + extra, facts, F("cut", [S("a")]))
    assert got == warm, why
    assert served == 0, why


def test_a_world_in_conflict_is_explained_by_the_warm_control() -> None:
    rules = HEAD + '% @rule keep_b "b may not be cut"\n:- action(cut("b")).\n'
    got, warm, served = _both(rules, VENDORS, F("cut", [S("b")]))
    assert got == warm and served == 0
    assert isinstance(got, tuple) and got[0] == "no_plan" and "keep_b" in got[1]
    allowed, _warm, served = _both(rules, VENDORS, F("cut", [S("a")]))
    assert served == 1 and allowed.actions[0].decision.kind == "allow"  # type: ignore[attr-defined]


def test_an_action_outside_the_declared_domain_goes_to_the_warm_control() -> None:
    got, warm, served = _both(HEAD, VENDORS, F("cut", [S("not-a-vendor")]))
    assert got == warm and served == 0


def test_the_example_rules_split_into_base_and_worlds(repo_root: Path) -> None:
    from engine.reasoning import load_rules

    program = compile_program(load_rules(repo_root), trace=TraceScope.OUTPUTS)
    split = split_program(program)
    # the policies and costs hold only in a world; the findings and the closure in the base
    assert {("action", 1), ("deny", 2), ("escalate", 3), ("settled", 1)} <= split.alone
    assert ("remedy", 3) in split.world_heads and ("remedy", 3) not in split.alone
    assert "__s(__K,finding(" not in split.tagged and "__s(__K,deny(" in split.tagged
    base_heads = {str(s).split(":-")[0] for s in split.base}
    assert not any(h.startswith(("deny(", "escalate(")) for h in base_heads)


def test_a_program_with_another_statement_cannot_be_split() -> None:
    rules = rules_from_texts({"rules/r.lp": HEAD + "#external maybe(X) : vendor(X).\n"})
    with pytest.raises(Unsplittable):
        split_program(compile_program(rules, trace=TraceScope.OUTPUTS))
