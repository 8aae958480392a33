"""engine.knowledge.ontology: Turtle loading with located errors, the HermiT check (owlready2)."""

from __future__ import annotations

from pathlib import Path

import owlready2
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.namespace import OWL, RDF, RDFS

from engine.errors import OntologyError
from engine.knowledge.ontology import JAVA_MISSING, check_ontology, load_ontology_graph

WR = rdflib.Namespace("https://w3id.org/warrant/core#")
VR = rdflib.Namespace("https://w3id.org/warrant/vendor-risk#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")
DPV = rdflib.Namespace("https://w3id.org/dpv#")

PREFIXES = """\
@prefix ex: <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
INCONSISTENT = (
    PREFIXES
    + """\
ex:Vendor a owl:Class ; owl:disjointWith ex:Employee .
ex:Employee a owl:Class .
ex:acme a ex:Vendor, ex:Employee .
"""
)
UNSATISFIABLE = (
    PREFIXES
    + """\
ex:Vendor a owl:Class ; owl:disjointWith ex:Employee .
ex:Employee a owl:Class .

ex:Contractor a owl:Class ;
    rdfs:subClassOf ex:Vendor, ex:Employee .
"""
)
CONSISTENT = (
    PREFIXES
    + """\
ex:Vendor a owl:Class ; owl:disjointWith ex:Employee .
ex:Employee a owl:Class .
ex:acme a ex:Vendor .
"""
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def example_files(repo_root: Path) -> list[Path]:
    return [repo_root / "ontology" / "core.ttl", repo_root / "ontology" / "vendor-risk.ttl"]


# --- the example ontology -----------------------------------------------------------------


def test_example_ontology_is_consistent_with_no_unsatisfiable_class(
    example_files: list[Path],
) -> None:
    report = check_ontology(example_files)
    assert report.consistent
    assert report.unsatisfiable == ()
    assert report.messages == ()
    assert report.ok
    assert report.duration > 0


def test_check_leaves_owlready2_default_world_and_java_setting_alone(
    example_files: list[Path],
) -> None:
    java_before = owlready2.JAVA_EXE
    check_ontology(example_files)
    assert java_before == owlready2.JAVA_EXE
    assert owlready2.default_world.search_one(iri=str(VR.Vendor)) is None


@pytest.mark.parametrize("name", ["core.ttl", "vendor-risk.ttl"])
def test_every_term_has_label_and_comment_and_header_has_version(
    repo_root: Path, name: str
) -> None:
    graph = load_ontology_graph([repo_root / "ontology" / name])
    namespace = str(WR if name == "core.ttl" else VR)
    headers = list(graph.subjects(RDF.type, OWL.Ontology))
    assert len(headers) == 1
    assert graph.value(headers[0], OWL.versionInfo) is not None
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {
        s
        for kind in kinds
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, rdflib.URIRef) and str(s).startswith(namespace)
    }
    assert terms
    missing = sorted(
        str(t)
        for t in terms
        if graph.value(t, RDFS.label) is None or graph.value(t, RDFS.comment) is None
    )
    assert missing == []


CORE_TERMS = [
    ("aspName", OWL.AnnotationProperty),
    ("produced", OWL.AnnotationProperty),
    ("produced", RDF.Property),
    *[
        (n, OWL.Class)
        for n in [
            "Source",
            "Batch",
            "SourceRecord",
            "QuarantineEntry",
            "ValidationReport",
            "Plan",
            "Action",
            "Decision",
            "RuleInstance",
        ]
    ],
    *[(n, OWL.ObjectProperty) for n in ("graph", "approverRole", "decides", "record")],
    *[
        (n, OWL.DatatypeProperty)
        for n in [
            "container",
            "row",
            "key",
            "contentHash",
            "mappingVersion",
            "shapesVersion",
            "triplesAdded",
            "triplesRemoved",
            "recordsQuarantined",
            "warnings",
            "decisionKind",
            "reason",
        ]
    ],
]


@pytest.mark.parametrize(("local", "kind"), CORE_TERMS)
def test_core_defines_the_engine_terms(repo_root: Path, local: str, kind: rdflib.URIRef) -> None:
    graph = load_ontology_graph([repo_root / "ontology" / "core.ttl"])
    assert (WR[local], RDF.type, kind) in graph


ALIGNMENT = [
    ("core.ttl", WR.Batch, RDFS.subClassOf, PROV.Activity),
    ("core.ttl", WR.Decision, RDFS.subClassOf, PROV.Activity),
    ("core.ttl", WR.SourceRecord, RDFS.subClassOf, PROV.Entity),
    ("vendor-risk.ttl", VR.Vendor, RDFS.subClassOf, ORG.Organization),
    ("vendor-risk.ttl", VR.Vendor, RDFS.subClassOf, DPV.DataProcessor),
    ("vendor-risk.ttl", VR.Employee, RDFS.subClassOf, PROV.Agent),
    ("vendor-risk.ttl", VR.Department, RDFS.subClassOf, ORG.OrganizationalUnit),
    ("vendor-risk.ttl", VR.Role, RDFS.subClassOf, ORG.Role),
    ("vendor-risk.ttl", VR.memberOf, RDFS.subPropertyOf, ORG.memberOf),
    ("vendor-risk.ttl", VR.manager, RDFS.subPropertyOf, ORG.reportsTo),
    ("vendor-risk.ttl", VR.PersonalDataAsset, RDFS.subClassOf, DPV.PersonalData),
    ("vendor-risk.ttl", VR.ProcessingRelationship, RDFS.subClassOf, DPV.Process),
    ("vendor-risk.ttl", VR.ProcessingRelationship, RDFS.subClassOf, PROV.Activity),
    ("vendor-risk.ttl", VR.Region, RDFS.subClassOf, DPV.Location),
    ("vendor-risk.ttl", VR.BusinessProcess, RDFS.subClassOf, DPV.Purpose),
]


@pytest.mark.parametrize(("name", "s", "p", "o"), ALIGNMENT)
def test_alignment_with_prov_org_dpv(
    repo_root: Path, name: str, s: rdflib.URIRef, p: rdflib.URIRef, o: rdflib.URIRef
) -> None:
    graph = load_ontology_graph([repo_root / "ontology" / name])
    assert (s, p, o) in graph


def test_external_vocabularies_are_declared_not_imported_or_copied(
    example_files: list[Path],
) -> None:
    graph = load_ontology_graph(example_files)
    assert not list(graph.triples((None, OWL.imports, None)))
    external = [
        s
        for s in set(graph.subjects())
        if isinstance(s, rdflib.URIRef) and str(s).startswith((str(PROV), str(ORG), str(DPV)))
    ]
    assert external
    for term in external:
        assert graph.value(term, RDFS.comment) is None, f"{term} looks copied, not declared"


def test_pellet_is_not_needed_hermit_reports_a_disjointness_axiom(
    example_files: list[Path],
) -> None:
    graph = load_ontology_graph(example_files)
    members = [
        list(rdflib.collection.Collection(graph, lst)) for lst in graph.objects(None, OWL.members)
    ]
    assert any(VR.Vendor in m and VR.Employee in m for m in members)


# --- bad ontologies are reported, not raised ------------------------------------------------


def test_an_individual_in_two_disjoint_classes_is_reported_inconsistent(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.ttl", CONSISTENT)
    bad = _write(tmp_path, "bad.ttl", INCONSISTENT)
    report = check_ontology([good, bad])
    assert not report.consistent
    assert not report.ok
    assert report.unsatisfiable == ()
    [message] = report.messages
    assert message.kind == "inconsistent"
    assert message.location.file == str(bad)
    assert "inconsistent" in str(message)


def test_inconsistency_is_blamed_on_the_file_that_introduces_it(tmp_path: Path) -> None:
    bad = _write(tmp_path, "bad.ttl", INCONSISTENT)
    later = _write(tmp_path, "later.ttl", CONSISTENT)
    report = check_ontology([bad, later])
    assert [m.location.file for m in report.messages] == [str(bad)]


def test_an_unsatisfiable_class_is_reported_with_file_line_and_iri(tmp_path: Path) -> None:
    path = _write(tmp_path, "unsat.ttl", UNSATISFIABLE)
    report = check_ontology([path])
    assert report.consistent
    assert report.unsatisfiable == ("http://example.org/Contractor",)
    [message] = report.messages
    assert message.kind == "unsatisfiable"
    assert message.location.file == str(path)
    assert message.location.line == 7
    assert "`http://example.org/Contractor`" in message.message
    assert str(message).startswith(f"{path}:7: ")


def test_no_ontology_files_is_trivially_consistent_without_java() -> None:
    report = check_ontology([], java="/nonexistent/java")
    assert report.ok
    assert report.messages == ()


def test_missing_java_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.ttl", CONSISTENT)
    with pytest.raises(OntologyError) as info:
        check_ontology([path], java="/nonexistent/java")
    assert info.value.message == JAVA_MISSING
    assert str(info.value).startswith("java not found: install a JRE")
    assert info.value.code == "ontology_error"
    assert info.value.details == {"java": "/nonexistent/java"}


def test_a_java_that_is_not_executable_counts_as_missing(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.ttl", CONSISTENT)
    fake = _write(tmp_path, "java", "not a program")
    with pytest.raises(OntologyError, match="java not found"):
        check_ontology([path], java=str(fake))


def test_a_reasoner_past_its_time_limit_is_stopped(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.ttl", CONSISTENT)
    with pytest.raises(OntologyError, match=r"time limit of 0\.01 s"):
        check_ontology([path], timeout_s=0.01)


# --- loading --------------------------------------------------------------------------------


def test_load_merges_files_and_keeps_their_prefixes(example_files: list[Path]) -> None:
    graph = load_ontology_graph(example_files)
    assert (VR.Vendor, RDF.type, OWL.Class) in graph
    assert (WR.Batch, RDF.type, OWL.Class) in graph
    assert dict(graph.namespaces())["vr"] == rdflib.URIRef(str(VR))


SYNTAX_ERRORS = [
    ("unbound prefix", PREFIXES + "foo:a a owl:Class .\n", 4),
    ("missing object", PREFIXES + "ex:a a owl:Class ;\n    rdfs:label .\n", 5),
    ("unterminated string", PREFIXES + 'ex:a rdfs:label "oops .\nex:b a owl:Class .\n', 4),
    ("missing dot", PREFIXES + "ex:a a owl:Class\nex:b a owl:Class .\n", 5),
]


@pytest.mark.parametrize(("case", "text", "line"), SYNTAX_ERRORS, ids=[c[0] for c in SYNTAX_ERRORS])
def test_a_turtle_syntax_error_is_located(tmp_path: Path, case: str, text: str, line: int) -> None:
    path = _write(tmp_path, "broken.ttl", text)
    for call in (load_ontology_graph, check_ontology):
        with pytest.raises(OntologyError) as info:
            call([path])
        assert info.value.location is not None
        assert info.value.location.file == str(path)
        assert info.value.location.line == line
        assert info.value.location.column is not None
        assert str(info.value).startswith(f"{path}:{line}:")
        assert "turtle syntax error" in info.value.message


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.integers(min_value=0, max_value=30),
    after=st.integers(min_value=0, max_value=5),
    token=st.sampled_from(["nope:x", "ex:a ex:b", "ex:a a ;", '"x']),
)
def test_the_reported_line_is_the_broken_line(
    tmp_path: Path, before: int, after: int, token: str
) -> None:
    good = [f"ex:c{i} a owl:Class ." for i in range(before)]
    tail = [f"ex:d{i} a owl:Class ." for i in range(after)]
    text = PREFIXES + "\n".join([*good, token + " .", *tail]) + "\n"
    path = _write(tmp_path, "prop.ttl", text)
    with pytest.raises(OntologyError) as info:
        load_ontology_graph([path])
    assert info.value.location is not None
    assert info.value.location.line == PREFIXES.count("\n") + before + 1


def test_an_unreadable_file_is_located(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ttl"
    with pytest.raises(OntologyError, match="cannot read ontology file") as info:
        load_ontology_graph([missing])
    assert info.value.location is not None
    assert info.value.location.file == str(missing)


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ttl"
    path.write_bytes(PREFIXES.encode() + b'ex:a rdfs:label "caf\xe9" .\n')
    with pytest.raises(OntologyError) as info:
        load_ontology_graph([path])
    assert info.value.location is not None
    assert info.value.location.file == str(path)
