"""The SHACL gate: quarantine rules, context from a real store, delta vs full validation."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.namespace import SH, XSD

from connectors.base import RecordLocator
from engine.gate import (
    GateResult,
    NoContext,
    Severity,
    StoreContext,
    ValidationScope,
    gate_batch,
    validate_graph,
)
from engine.gate.shapes import ShapesSet, empty_shapes, load_shapes
from engine.mapping.model import MappedRecord
from engine.terms import to_oxigraph, to_rdflib

DATA = Path(__file__).parent / "data" / "gate"
EX = "http://example.org/"
PREFIXES = f"""\
@prefix ex: <{EX}> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
GRAPH = ox.NamedNode("http://example.org/graphs/vendors")
OTHER = ox.NamedNode("http://example.org/graphs/reference")


@pytest.fixture(scope="module")
def shapes() -> ShapesSet:
    return load_shapes([DATA / "vendor.ttl"])


@pytest.fixture(scope="module")
def soft_shapes() -> ShapesSet:
    return load_shapes([DATA / "vendor.ttl", DATA / "vendor-warnings.ttl"])


def ex(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def rec(row: int, turtle: str) -> MappedRecord:
    """A record whose triples come from Oxigraph's parser (so strings are xsd:string)."""
    quads = ox.parse((PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE)
    return MappedRecord(
        locator=RecordLocator(source="vendors", container="data/vendors.csv", row=row),
        triples=tuple(q.triple for q in quads),
    )


def gate(
    records: list[MappedRecord],
    shapes: ShapesSet,
    store: ox.Store | None = None,
    changed: list[ox.NamedNode] | None = None,
) -> GateResult:
    context = StoreContext(store, exclude_graph=GRAPH) if store is not None else NoContext()
    return gate_batch(records, shapes, context=context, changed_subjects=changed)


def rows(records: tuple[MappedRecord, ...]) -> list[int | None]:
    return [r.locator.row for r in records]


GOOD = 'ex:v1 a ex:Vendor ; ex:name "Acme" ; ex:risk "low" ; ex:country "DE" .'


def test_valid_batch_is_accepted(shapes: ShapesSet) -> None:
    result = gate([rec(1, GOOD)], shapes)
    assert rows(result.accepted) == [1] and not result.quarantined
    assert result.scope is ValidationScope.FULL and result.counts.violations == 0
    assert result.shapes_version == shapes.version


@pytest.mark.parametrize(
    "value", ['"low"', '"low"^^xsd:string', '"medium"', '"high"^^<http://www.w3.org/2001/XMLSchema#string>']
)
def test_sh_in_strings_from_oxigraph_parser(shapes: ShapesSet, value: str) -> None:
    """Regression: Oxigraph gives xsd:string literals, rdflib plain ones; both must match sh:in."""
    body = f'ex:v1 a ex:Vendor ; ex:name "Acme" ; ex:risk {value} ; ex:country "FR"^^xsd:string .'
    result = gate([rec(1, body)], shapes)
    assert not result.quarantined, [r.results for r in result.quarantined]


@pytest.mark.parametrize("country", ['"DE"', '"DE"^^xsd:string'])
def test_sh_in_strings_from_rdflib_parser(shapes: ShapesSet, country: str) -> None:
    body = f'ex:v1 a ex:Vendor ; ex:name "A"^^xsd:string ; ex:risk "low" ; ex:country {country} .'
    data = rdflib.Graph().parse(data=PREFIXES + body, format="turtle")
    outcome = validate_graph(data, shapes)
    assert outcome.conforms, outcome.results


@pytest.mark.parametrize(
    ("triple", "component", "value"),
    [
        ('ex:risk "extreme"', SH.InConstraintComponent, rdflib.Literal("extreme")),
        ('ex:risk "LOW"', SH.InConstraintComponent, rdflib.Literal("LOW")),
        ('ex:country "de"', SH.InConstraintComponent, rdflib.Literal("de")),
        ('ex:employees "high"^^xsd:integer', SH.DatatypeConstraintComponent,
         rdflib.Literal("high", datatype=XSD.integer)),
        ('ex:employees "12"', SH.DatatypeConstraintComponent, rdflib.Literal("12")),
        ('ex:since "03/15/2025"^^xsd:date', SH.DatatypeConstraintComponent,
         rdflib.Literal("03/15/2025", datatype=XSD.date)),
        ('ex:since "2025-03-15T00:00:00"^^xsd:dateTime', SH.DatatypeConstraintComponent,
         rdflib.Literal("2025-03-15T00:00:00", datatype=XSD.dateTime)),
        ('ex:name 42', SH.DatatypeConstraintComponent, rdflib.Literal(42)),
    ],
)
def test_bad_values_quarantine_the_record(
    shapes: ShapesSet, triple: str, component: rdflib.URIRef, value: rdflib.Literal
) -> None:
    bad = rec(2, f'ex:v2 a ex:Vendor ; ex:name "B" ; {triple} .')
    result = gate([rec(1, GOOD), bad], shapes)
    assert rows(result.accepted) == [1]
    (q,) = result.quarantined
    assert q.record is bad
    (r,) = q.results
    assert (r.focus_node, r.constraint_component, r.severity) == (
        rdflib.URIRef(EX + "v2"), component, Severity.VIOLATION
    )
    assert isinstance(r.value, rdflib.Literal)
    assert r.value == value and r.value.datatype == value.datatype
    assert r.result_path is not None and r.source_shape is not None


def test_valid_dates_and_integers_pass(shapes: ShapesSet) -> None:
    body = 'ex:v1 a ex:Vendor ; ex:name "A" ; ex:employees 12 ; ex:since "2025-03-15"^^xsd:date .'
    assert not gate([rec(1, body)], shapes).quarantined


def test_missing_required_property(shapes: ShapesSet) -> None:
    result = gate([rec(1, "ex:v1 a ex:Vendor .")], shapes)
    (q,) = result.quarantined
    assert q.results[0].constraint_component == SH.MinCountConstraintComponent
    assert q.results[0].value is None


def test_dangling_reference_with_store_context(shapes: ShapesSet) -> None:
    contract = rec(1, "ex:c1 a ex:Contract ; ex:vendor ex:v9 .")
    store = ox.Store()
    # Unknown everywhere: dangling.
    (q,) = gate([contract], shapes, store).quarantined
    assert q.results[0].constraint_component == SH.ClassConstraintComponent
    assert q.results[0].value == rdflib.URIRef(EX + "v9")
    # Typed only in the batch's own graph, which the batch replaces: still dangling.
    store.add(ox.Quad(ex("v9"), ox.NamedNode(str(rdflib.RDF.type)), ex("Vendor"), GRAPH))
    assert gate([contract], shapes, store).quarantined
    # Typed in another graph (another source): the reference resolves.
    store.add(ox.Quad(ex("v9"), ox.NamedNode(str(rdflib.RDF.type)), ex("Vendor"), OTHER))
    result = gate([contract], shapes, store)
    assert rows(result.accepted) == [1] and not result.quarantined


def test_reference_resolved_within_the_batch(shapes: ShapesSet) -> None:
    result = gate([rec(1, "ex:c1 a ex:Contract ; ex:vendor ex:v1 ."), rec(2, GOOD)], shapes)
    assert rows(result.accepted) == [1, 2]


def test_subclass_from_ontology_satisfies_sh_class(shapes: ShapesSet) -> None:
    ontology = rdflib.Graph().parse(
        data=PREFIXES + "ex:Supplier rdfs:subClassOf ex:Vendor .", format="turtle"
    )
    records = [
        rec(1, "ex:c1 a ex:Contract ; ex:vendor ex:s1 ."),
        rec(2, 'ex:s1 a ex:Supplier ; ex:name "S" .'),
    ]
    assert gate(records, shapes).quarantined
    result = gate_batch(records, shapes, context=NoContext(), ontology=ontology)
    assert not result.quarantined
    # Subclass instances are targeted by sh:targetClass too: a nameless supplier fails.
    nameless = [records[0], rec(2, "ex:s1 a ex:Supplier .")]
    bad = gate_batch(nameless, shapes, context=NoContext(), ontology=ontology)
    assert rows(tuple(q.record for q in bad.quarantined)) == [2]


def test_value_node_record_is_not_quarantined(shapes: ShapesSet) -> None:
    """The contract points at a supplier that is no vendor: only the contract is at fault."""
    contract = rec(1, "ex:c1 a ex:Contract ; ex:vendor ex:s1 .")
    supplier = rec(2, 'ex:s1 a ex:Supplier ; ex:name "S" .')
    result = gate([contract, supplier], shapes)
    assert rows(tuple(q.record for q in result.quarantined)) == [1]
    assert rows(result.accepted) == [2]


def test_records_sharing_a_focus_node_are_quarantined_together(shapes: ShapesSet) -> None:
    first = rec(1, 'ex:v1 a ex:Vendor ; ex:name "Acme" .')
    second = rec(2, 'ex:v1 ex:employees "many"^^xsd:integer .')
    other = rec(3, 'ex:v2 a ex:Vendor ; ex:name "Other" .')
    result = gate([first, second, other], shapes)
    assert rows(tuple(q.record for q in result.quarantined)) == [1, 2]
    assert rows(result.accepted) == [3]
    assert all(len(q.results) == 1 for q in result.quarantined)
    assert result.counts.violations == 1 and result.counts.quarantined == 2


def test_warnings_and_infos_load_with_the_record(soft_shapes: ShapesSet) -> None:
    result = gate([rec(1, GOOD)], soft_shapes)
    assert rows(result.accepted) == [1] and not result.quarantined
    found = result.warnings[result.accepted[0].locator]
    assert sorted(r.severity.name for r in found) == ["INFO", "WARNING"]
    warning = next(r for r in found if r.severity is Severity.WARNING)
    assert warning.message == "vendor has no e-mail"
    assert (result.counts.warnings, result.counts.infos) == (1, 1)


def test_quarantined_record_keeps_its_warnings_too(soft_shapes: ShapesSet) -> None:
    result = gate([rec(1, "ex:v1 a ex:Vendor .")], soft_shapes)
    (q,) = result.quarantined
    assert {r.severity for r in q.results} == {Severity.VIOLATION, Severity.WARNING, Severity.INFO}
    assert not result.warnings


def test_report_is_rdf_with_every_result(shapes: ShapesSet) -> None:
    result = gate([rec(1, "ex:v2 a ex:Vendor ."), rec(2, GOOD)], shapes)
    report = result.report
    (root,) = report.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert report.value(root, SH.conforms) == rdflib.Literal(False)
    assert len(list(report.objects(root, SH.result))) == 1
    ask = "ASK { ?r <http://www.w3.org/ns/shacl#focusNode> <http://example.org/v2> }"
    assert report.query(ask).askAnswer


def test_empty_shapes_accept_everything_quickly() -> None:
    records = [rec(i, f'ex:v{i} a ex:Vendor ; ex:risk "bogus" .') for i in range(200)]
    result = gate(records, empty_shapes())
    assert len(result.accepted) == 200 and result.scope is ValidationScope.NONE
    assert result.counts.triples_validated == 0
    assert validate_graph(rdflib.Graph(), empty_shapes()).conforms


def test_empty_batch(shapes: ShapesSet) -> None:
    result = gate([], shapes)
    assert result.accepted == () and result.scope is ValidationScope.NONE


# --- delta validation ---------------------------------------------------------------------

BATCH = [
    rec(1, GOOD),
    rec(2, 'ex:v2 a ex:Vendor ; ex:name "B" ; ex:risk "extreme" .'),
    rec(3, "ex:c1 a ex:Contract ; ex:vendor ex:v1 ."),
    rec(4, "ex:c2 a ex:Contract ; ex:vendor ex:v404 ."),
    rec(5, "ex:c3 a ex:Contract ; ex:vendor ex:v2 ."),
    rec(6, 'ex:v2 ex:employees 3 .'),
]
# (name, changed subjects, quarantined rows, focus nodes validated). A contract pointing at a
# changed node through ex:vendor (checked by sh:class) is re-validated with it.
DELTA_CASES = [
    ("good vendor and its contract", ["v1"], [], 2),
    ("bad vendor, both its rows", ["v2"], [2, 6], 2),
    ("dangling contract", ["c2"], [4], 1),
    ("two changes", ["v1", "c2"], [4], 3),
    ("removed node, its referrer", ["v404"], [4], 1),
    ("nothing", [], [], 0),
]


@pytest.mark.parametrize(
    ("name", "changed", "quarantined", "focus"), DELTA_CASES, ids=[c[0] for c in DELTA_CASES]
)
def test_delta_validation_table(
    shapes: ShapesSet, name: str, changed: list[str], quarantined: list[int], focus: int
) -> None:
    delta = gate(BATCH, shapes, changed=[ex(c) for c in changed])
    full = gate(BATCH, shapes)
    assert delta.scope is ValidationScope.DELTA
    assert rows(tuple(q.record for q in delta.quarantined)) == quarantined
    full_bad = {q.record.locator for q in full.quarantined}
    # Whatever the delta quarantines, full validation quarantines too.
    assert {q.record.locator for q in delta.quarantined} <= full_bad
    assert delta.counts.focus_nodes == focus
    assert delta.counts.triples_validated <= full.counts.triples_validated


def test_non_local_shapes_validate_the_whole_batch(shapes: ShapesSet) -> None:
    owners = load_shapes([DATA / "vendor.ttl", DATA / "owners.ttl"])
    assert not owners.analysis.is_local
    result = gate(BATCH[:3], owners, changed=[ex("v1")])
    assert result.scope is ValidationScope.FULL
    assert "sh:inversePath" in result.scope_reason
    # v1 is used by c1; v2 is used by nobody in the batch.
    assert rows(tuple(q.record for q in result.quarantined)) == [2]


def test_non_local_context_is_described_from_the_store() -> None:
    owners = load_shapes([DATA / "vendor.ttl", DATA / "owners.ttl"])
    store = ox.Store()
    store.add(ox.Quad(ex("v9"), ox.NamedNode(str(rdflib.RDF.type)), ex("Vendor"), OTHER))
    result = gate([rec(1, "ex:c1 a ex:Contract ; ex:vendor ex:v9 .")], owners, store)
    assert not result.quarantined and not result.unattributed


def test_delta_scales_with_the_change(shapes: ShapesSet) -> None:
    records = [
        rec(i, f'ex:v{i} a ex:Vendor ; ex:name "V{i}" ; ex:risk "low" ; ex:employees {i} .')
        for i in range(2000)
    ]
    result = gate(records, shapes, changed=[ex("v7"), ex("v1500")])
    assert result.scope is ValidationScope.DELTA
    assert result.counts.focus_nodes == 2 and result.counts.triples_validated == 8
    assert len(result.accepted) == 2000


# --- property: delta == full restricted to the affected focus nodes ---------------------

VENDOR_FACTS = [
    'ex:name "N"', 'ex:risk "low"', 'ex:risk "bad"', "ex:employees 5",
    'ex:employees "x"^^xsd:integer', 'ex:country "FR"',
]


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[MappedRecord], list[ox.NamedNode]]:
    vendors = [f"v{i}" for i in range(draw(st.integers(1, 4)))]
    records: list[MappedRecord] = []
    for v in vendors:
        for _ in range(draw(st.integers(1, 2))):
            facts = draw(st.lists(st.sampled_from(VENDOR_FACTS), max_size=3, unique=True))
            typed = draw(st.booleans())
            body = "; ".join(["a ex:Vendor"] * typed + facts) or 'ex:note "n"'
            records.append(rec(len(records) + 1, f"ex:{v} {body} ."))
    for i in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from([*vendors, "ghost"]))
        records.append(rec(len(records) + 1, f"ex:c{i} a ex:Contract ; ex:vendor ex:{target} ."))
    nodes = [*vendors, "ghost", *(f"c{i}" for i in range(3))]
    changed = draw(st.lists(st.sampled_from(nodes), unique=True, max_size=4))
    return records, [ex(c) for c in changed]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_delta_equals_full_on_changed_focus_nodes(
    case: tuple[list[MappedRecord], list[ox.NamedNode]],
) -> None:
    shapes = load_shapes([DATA / "vendor.ttl"])
    records, changed = case
    delta = gate(records, shapes, changed=changed)
    full = gate(records, shapes)
    changed_rdf = {to_rdflib(c) for c in changed}

    def key(r: object) -> tuple[str, ...]:
        return r.sort_key()  # type: ignore[attr-defined,no-any-return]

    full_results = {key(r) for q in full.quarantined for r in q.results}
    delta_results = {key(r) for q in delta.quarantined for r in q.results}
    # Everything the delta reports, full validation reports too (no false alarms) ...
    assert delta_results <= full_results
    # ... and on the changed focus nodes, they agree exactly.
    on_changed = {
        key(r) for q in full.quarantined for r in q.results if r.focus_node in changed_rdf
    }
    assert on_changed <= delta_results
    assert {
        q.record.locator
        for q in full.quarantined
        if any(r.focus_node in changed_rdf for r in q.results)
    } <= {q.record.locator for q in delta.quarantined}


# --- the store context and the term boundary -------------------------------------------


def test_store_context_excludes_the_batch_graph() -> None:
    store = ox.Store()
    rdf_type = ox.NamedNode(str(rdflib.RDF.type))
    store.add(ox.Quad(ex("a"), rdf_type, ex("Vendor"), OTHER))
    store.add(ox.Quad(ex("a"), rdf_type, ex("Vendor"), ox.DefaultGraph()))
    store.add(ox.Quad(ex("a"), ex("name"), ox.Literal("A"), OTHER))
    store.add(ox.Quad(ex("b"), rdf_type, ex("Vendor"), GRAPH))
    context = StoreContext(store, exclude_graph=GRAPH)
    types = list(context.types_of([ex("a"), ex("b")]))
    assert types == [ox.Triple(ex("a"), rdf_type, ex("Vendor"))]
    assert len(list(context.describe([ex("a")]))) == 2
    assert len(list(StoreContext(store).types_of([ex("b")]))) == 1


ox_terms = st.one_of(
    st.builds(lambda s: ox.NamedNode(EX + s), st.text("abcxyz0123", min_size=1)),
    st.builds(lambda s: ox.BlankNode("b" + s), st.text("abc0123", min_size=1)),
    st.builds(ox.Literal, st.text()),
    st.builds(
        lambda s, lang: ox.Literal(s, language=lang), st.text(), st.sampled_from(["en", "de-ch"])
    ),
    st.builds(
        lambda s, dt: ox.Literal(s, datatype=ox.NamedNode(str(dt))),
        st.text(),
        st.sampled_from([XSD.integer, XSD.date, XSD.string, XSD.boolean]),
    ),
)


@given(ox_terms)
def test_terms_round_trip(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
    converted = to_rdflib(term)
    assert to_oxigraph(converted) == term
    if isinstance(converted, rdflib.Literal):
        assert converted.datatype != XSD.string  # the one canonical simple literal
