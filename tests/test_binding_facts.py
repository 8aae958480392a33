"""Loading facts from the store: used predicates only, closures, warnings, text, origins."""

from __future__ import annotations

import hashlib
from pathlib import Path

import clingo
import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.binding.facts import FactOrigin, FactSet, RecordRef, load_facts
from engine.binding.prefixes import PrefixMap
from engine.binding.schema import Schema, derive_schema
from engine.binding.terms import term_to_symbol
from engine.store.oxigraph import OxigraphStore

DATA = Path(__file__).parent / "data" / "binding"
EX = "https://example.org/gov#"
ACME = "https://id.acme.example/"
XSD = "http://www.w3.org/2001/XMLSchema#"
VENDORS = ox.NamedNode("urn:warrant:graph:source:vendors")
HR = ox.NamedNode("urn:warrant:graph:source:hr")
REFERENCE = ox.NamedNode("http://example.org/graphs/reference")
GRAPHS = [VENDORS, HR]
ALL_USED = [
    ("vendor", 1), ("employee", 1), ("risk_score", 2), ("last_audit_date", 2), ("is_active", 2),
    ("legal_name", 2), ("annual_spend", 2), ("reviewed_at", 2), ("subprocessor_of", 2),
]


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "ontology.ttl")


@pytest.fixture(scope="module")
def prefixes(ontology: rdflib.Graph) -> PrefixMap:
    return PrefixMap.from_graph(ontology, base=PrefixMap.standard({"acme": ACME}))


@pytest.fixture(scope="module")
def schema(ontology: rdflib.Graph, prefixes: PrefixMap) -> Schema:
    return derive_schema(ontology, prefixes=prefixes)


@pytest.fixture(scope="module")
def store() -> OxigraphStore:
    s = OxigraphStore(None)
    s.raw.load(path=str(DATA / "kg.trig"), format=ox.RdfFormat.TRIG)
    return s


@pytest.fixture(scope="module")
def facts(store: OxigraphStore, schema: Schema, prefixes: PrefixMap,
          ontology: rdflib.Graph) -> FactSet:
    return load_facts(store, schema, used=ALL_USED, graphs=GRAPHS, prefixes=prefixes,
                      ontology=ontology)


def test_text_matches_golden(facts: FactSet) -> None:
    assert facts.text() == (DATA / "facts.lp").read_text()


def test_revision_is_sha256_of_text(facts: FactSet) -> None:
    assert facts.revision == hashlib.sha256(facts.text().encode()).hexdigest()


def test_same_store_same_text(store: OxigraphStore, schema: Schema, prefixes: PrefixMap,
                              ontology: rdflib.Graph, facts: FactSet) -> None:
    again = load_facts(store, schema, used=list(reversed(ALL_USED)), graphs=[HR, VENDORS],
                       prefixes=prefixes, ontology=ontology)
    assert again.text() == facts.text() and again.revision == facts.revision


def test_symbols_are_the_text_sorted(facts: FactSet) -> None:
    ctl = clingo.Control()
    ctl.add("base", [], facts.text())
    ctl.ground([("base", [])])
    grounded = sorted(a.symbol for a in ctl.symbolic_atoms)
    assert list(facts.symbols) == grounded
    assert len(facts) == len(grounded) == sum(facts.counts.values())


def test_only_used_predicates_are_loaded(store: OxigraphStore, schema: Schema,
                                         prefixes: PrefixMap, ontology: rdflib.Graph) -> None:
    used = [("risk_score", 2), ("vendor", 2), ("my_rule_head", 3), ("nonsense", 1)]
    facts = load_facts(store, schema, used=used, graphs=GRAPHS, prefixes=prefixes,
                       ontology=ontology)
    assert set(facts.counts) == {"risk_score/2"}
    assert {s.name for s in facts.symbols} == {"risk_score"}


def test_graphs_restrict_the_facts(store: OxigraphStore, schema: Schema, prefixes: PrefixMap,
                                   ontology: rdflib.Graph) -> None:
    def vendors(graphs: list[ox.NamedNode]) -> list[str]:
        facts = load_facts(store, schema, used=[("vendor", 1)], graphs=graphs,
                           prefixes=prefixes, ontology=ontology)
        return [s.arguments[0].string for s in facts.symbols]

    assert vendors([VENDORS]) == ["acme:vendor/V001", "acme:vendor/V002", "acme:vendor/V003"]
    assert vendors([HR, REFERENCE]) == ["acme:vendor/V003", "acme:vendor/V009"]
    assert vendors([]) == []


def test_closures_need_the_ontology(store: OxigraphStore, schema: Schema,
                                    prefixes: PrefixMap) -> None:
    facts = load_facts(store, schema, used=[("vendor", 1), ("subprocessor_of", 2)],
                       graphs=GRAPHS, prefixes=prefixes, ontology=None)
    assert facts.text() == (
        'subprocessor_of("acme:vendor/V002","acme:vendor/V003").\n'
        'vendor("acme:vendor/V001").\nvendor("acme:vendor/V003").\n'
    )


def test_warnings_count_bad_literals(facts: FactSet) -> None:
    found = {(w.reason, w.predicate, w.datatype): w.count for w in facts.warnings}
    assert found == {
        ("ill_typed", "risk_score/2", XSD + "integer"): 1,
        ("ill_typed", "last_audit_date/2", XSD + "date"): 1,
        ("type_mismatch", "last_audit_date/2", XSD + "string"): 1,
    }


def test_terms_lead_back_to_rdf(facts: FactSet) -> None:
    seventy_two = facts.terms.terms(clingo.Number(72))
    assert seventy_two == (
        ox.Literal("1970-01-01T00:01:12Z", datatype=ox.NamedNode(XSD + "dateTime")),
        ox.Literal("72", datatype=ox.NamedNode(XSD + "integer")),
    )
    v1 = clingo.String("acme:vendor/V001")
    assert facts.terms.terms(v1) == (ox.NamedNode(ACME + "vendor/V001"),)
    assert facts.terms.label(v1) == "Acme Cloud"
    assert facts.terms.label(clingo.String("acme:vendor/V002")) == "acme:vendor/V002"


def _atom(text: str) -> clingo.Symbol:
    return clingo.parse_term(text)


def test_origin_with_row_record(facts: FactSet) -> None:
    (origin,) = facts.origins(_atom('vendor("acme:vendor/V001")'))
    assert origin == FactOrigin(
        triple=(f"<{ACME}vendor/V001>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
                f"<{EX}Vendor>"),
        compact=("acme:vendor/V001", "rdf:type", "ex:Vendor"),
        graph=VENDORS.value,
        batch="urn:warrant:batch:b1",
        record=RecordRef(source="vendors", container="data/vendors.csv", row=1, key=None,
                         iri="urn:warrant:record:vendors:data%2Fvendors.csv:row=1"),
    )
    assert str(origin.record) == "data/vendors.csv#row=1"
    assert origin.as_dict()["record"]["row"] == 1


def test_origins_of_a_fact_from_two_sources(facts: FactSet) -> None:
    origins = facts.origins(_atom('vendor("acme:vendor/V003")'))
    assert [(o.compact[2], o.graph, str(o.record)) for o in origins] == [
        ("ex:CriticalVendor", VENDORS.value, "data/vendors.csv#row=3"),
        ("ex:Vendor", HR.value, "employees#id=V003"),
    ]
    assert origins[1].record is not None and origins[1].record.key == "id=V003"
    assert [o.batch for o in origins] == ["urn:warrant:batch:b1", "urn:warrant:batch:b2"]


def test_origin_of_a_literal_fact(facts: FactSet) -> None:
    (origin,) = facts.origins(_atom('risk_score("acme:vendor/V001",72)'))
    assert origin.compact == ("acme:vendor/V001", "ex:riskScore", '"72"^^xsd:integer')
    assert origin.record is not None and origin.record.row == 1
    (plain,) = facts.origins(_atom('risk_score("acme:vendor/V003",72)'))
    assert plain.compact[2] == '"72"^^xsd:integer'  # Oxigraph stores xsd:int as xsd:integer
    assert plain.record is None and plain.batch is None


def test_origin_through_a_subproperty(facts: FactSet) -> None:
    (origin,) = facts.origins(_atom('subprocessor_of("acme:vendor/V001","acme:vendor/V002")'))
    assert origin.compact[1] == "ex:directSubprocessorOf"


@pytest.mark.parametrize(
    "atom",
    [
        'vendor("acme:vendor/V999")',  # in a graph that was not loaded
        'vendor("acme:vendor/V404")',
        'risk_score("acme:vendor/V001",73)',
        'web_service("acme:vendor/V001")',  # a schema predicate that was not used
        'my_rule(1)',
        "42",
        '-vendor("acme:vendor/V001")',
    ],
)
def test_no_origins_for_non_facts(facts: FactSet, atom: str) -> None:
    assert facts.origins(_atom(atom)) == ()


def test_origins_are_read_once(facts: FactSet) -> None:
    atom = _atom('vendor("acme:vendor/V001")')
    assert facts.origins(atom) == facts.origins(atom)


_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                max_size=20)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    _TEXT.map(ox.Literal),
    _TEXT.map(lambda t: ox.Literal(t, language="en")),
    st.integers(-(2**40), 2**40).map(
        lambda n: ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))),
    st.sampled_from(["true", "false", "maybe"]).map(
        lambda b: ox.Literal(b, datatype=ox.NamedNode(XSD + "boolean"))),
    _TEXT.map(lambda t: ox.NamedNode(ACME + "x/" + "".join(c for c in t if c.isalnum()))),
), max_size=8))
def test_loader_agrees_with_a_reference_model(
    schema: Schema, prefixes: PrefixMap, values: list[ox.NamedNode | ox.Literal]
) -> None:
    """Whatever the values (quotes, newlines, `%`, huge numbers), the fact text is exactly the
    facts a naive per-triple conversion gives, and grounding it adds no other atom."""
    store = OxigraphStore(None)
    g = ox.NamedNode("urn:warrant:graph:source:s")
    prop = ox.NamedNode(EX + "tags")
    store.raw.extend(
        ox.Quad(ox.NamedNode(f"{ACME}v/{i}"), prop, v, g) for i, v in enumerate(values)
    )
    facts = load_facts(store, schema, used=[("tags", 2)], graphs=[g], prefixes=prefixes,
                       ontology=None)
    expected = set()
    for i, v in enumerate(values):
        try:
            obj = term_to_symbol(v, prefixes)
        except ValueError:
            continue
        expected.add(clingo.Function("tags", [clingo.String(f"acme:v/{i}"), obj]))
    ctl = clingo.Control()
    ctl.add("base", [], facts.text())
    ctl.ground([("base", [])])
    assert {a.symbol for a in ctl.symbolic_atoms} == expected == set(facts.symbols)
