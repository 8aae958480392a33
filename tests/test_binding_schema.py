"""Schema derivation: predicate names, argument types, overrides and the errors rule authors see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib

from engine.binding.prefixes import PrefixMap
from engine.binding.schema import RESERVED_NAMES, Schema, derive_schema, descendants, snake_case
from engine.errors import OntologyError

DATA = Path(__file__).parent / "data" / "binding"
HEAD = """
@prefix ex: <https://example.org/gov#> . @prefix wr: <https://w3id.org/warrant/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
PM = PrefixMap.standard({"ex": "https://example.org/gov#"})


def _schema(turtle: str) -> Schema:
    return derive_schema(rdflib.Graph().parse(data=HEAD + turtle, format="turtle"), prefixes=PM)


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(DATA / "ontology.ttl")


@pytest.fixture(scope="module")
def schema(ontology: rdflib.Graph) -> Schema:
    return derive_schema(ontology, prefixes=PrefixMap.from_graph(ontology))


@pytest.mark.parametrize(
    ("local", "name"),
    [
        ("hasAccessTo", "has_access_to"),
        ("ISO27001Cert", "iso27001_cert"),
        ("HTTPServer", "http_server"),
        ("vendorID", "vendor_id"),
        ("Vendor", "vendor"),
        ("has-access", "has_access"),
        ("has_access", "has_access"),
        ("_private", "private"),
        ("3rdParty", "n3rd_party"),
        ("Données", "donnees"),
        ("soc2TypeII", "soc2_type_ii"),
        ("URL", "url"),
        ("a.b c", "a_b_c"),
        ("—", ""),
    ],
)
def test_snake_case(local: str, name: str) -> None:
    assert snake_case(local) == name


@pytest.mark.parametrize(
    ("name", "arity", "arg_types", "kind"),
    [
        ("vendor", 1, ("iri",), "class"),
        ("employee", 1, ("iri",), "class"),  # rdfs:Class
        ("iso27001_cert", 1, ("iri",), "class"),
        ("web_service", 1, ("iri",), "class"),  # wr:aspName override
        ("has_certification", 2, ("iri", "iri"), "object_property"),
        ("has_access_to", 2, ("iri", "iri"), "object_property"),  # no range: iri
        ("risk_score", 2, ("iri", "int"), "datatype_property"),
        ("employee_count", 2, ("iri", "int"), "datatype_property"),
        ("last_audit_date", 2, ("iri", "date"), "datatype_property"),
        ("reviewed_at", 2, ("iri", "datetime"), "datatype_property"),
        ("is_active", 2, ("iri", "bool"), "datatype_property"),
        ("annual_spend", 2, ("iri", "string"), "datatype_property"),  # decimal: no floats in ASP
        ("legal_name", 2, ("iri", "string"), "datatype_property"),
        ("description", 2, ("iri", "string"), "property"),  # rdf:Property, rdfs:Literal
        ("tags", 2, ("iri", "string"), "datatype_property"),  # no range
    ],
)
def test_predicates(schema: Schema, name: str, arity: int, arg_types: tuple[str, ...],
                    kind: str) -> None:
    pred = schema.get(name, arity)
    assert pred is not None
    assert (pred.arg_types, pred.kind) == (arg_types, kind)
    assert schema.get(name, 3 - arity) is None
    assert schema.for_iri(pred.iri) == pred


def test_annotation_and_builtin_terms_are_not_predicates(schema: Schema) -> None:
    names = {p.name for p in schema}
    assert "note" not in names and "asp_name" not in names
    assert schema.named("http_service") is None  # overridden by wr:aspName


def test_predicates_sorted_and_labelled(schema: Schema) -> None:
    assert [p.name for p in schema] == sorted(p.name for p in schema)
    vendor = schema.get("vendor", 1)
    assert vendor is not None
    assert vendor.label == "Vendor"  # English preferred over French
    assert vendor.comment == "An external organisation."
    cert = schema.get("iso27001_cert", 1)
    assert cert is not None and cert.label == "ISO 27001 certificate"  # skos:prefLabel


def test_render_text_matches_golden(schema: Schema) -> None:
    assert schema.render_text() == (DATA / "schema.txt").read_text()


def test_render_text_line_shape(schema: Schema) -> None:
    line = next(x for x in schema.render_text().splitlines() if x.startswith("vendor/1 "))
    assert line.split() == ["vendor/1", "ex:Vendor", "(iri)", '"Vendor"']
    line = next(x for x in schema.render_text().splitlines() if x.startswith("has_cert"))
    assert line.split()[:4] == ["has_certification/2", "ex:hasCertification", "(iri,", "iri)"]


def test_as_json(schema: Schema) -> None:
    data = json.loads(json.dumps(schema.as_json()))
    assert data["version"] == 1
    assert data["prefixes"]["ex"] == "https://example.org/gov#"
    row = next(p for p in data["predicates"] if p["name"] == "risk_score")
    assert row == {
        "name": "risk_score", "arity": 2, "iri": "https://example.org/gov#riskScore",
        "compact": "ex:riskScore", "arg_types": ["iri", "int"], "kind": "datatype_property",
        "label": None, "comment": None, "range": "http://www.w3.org/2001/XMLSchema#integer",
    }


def test_empty_ontology_gives_empty_schema() -> None:
    schema = derive_schema(rdflib.Graph(), prefixes=PM)
    assert len(schema) == 0 and schema.render_text() == ""


def test_descendants(ontology: rdflib.Graph) -> None:
    ns = "https://example.org/gov#"
    assert descendants(ontology, ns + "Vendor", via="class") == {
        ns + "Vendor", ns + "CriticalVendor", ns + "TierOneVendor"}
    assert descendants(ontology, ns + "subprocessorOf", via="property") == {
        ns + "subprocessorOf", ns + "directSubprocessorOf"}


def test_subclass_cycle_terminates() -> None:
    g = rdflib.Graph().parse(data=HEAD + "ex:A rdfs:subClassOf ex:B . ex:B rdfs:subClassOf ex:A .",
                             format="turtle")
    assert descendants(g, "https://example.org/gov#A", via="class") == {
        "https://example.org/gov#A", "https://example.org/gov#B"}


@pytest.mark.parametrize(
    ("turtle", "fragments"),
    [
        ("ex:Vendor a owl:Class . ex:vendor a owl:ObjectProperty .",
         ["`ex:Vendor`", "`ex:vendor`", "`vendor`", "wr:aspName"]),
        ("ex:hasAccess a owl:ObjectProperty . ex:has_access a owl:ObjectProperty .",
         ["`ex:hasAccess`", "`ex:has_access`", "`has_access`"]),
        ("ex:A a owl:Class ; wr:aspName \"thing\" . ex:Thing a owl:Class .",
         ["`ex:A`", "`ex:Thing`", "`thing`"]),
        ("ex:Action a owl:Class .", ["`ex:Action`", "`action`", "reserved", "wr:aspName"]),
        ("ex:X a owl:Class ; wr:aspName \"deny\" .", ["`ex:X`", "`deny`", "reserved"]),
        ("ex:X a owl:Class ; wr:aspName \"Vendor\" .", ["`Vendor`", "not an ASP predicate name"]),
        ("ex:X a owl:Class ; wr:aspName \"a b\" .", ["`a b`"]),
        ("ex:X a owl:Class ; wr:aspName \"x1\", \"x2\" .", ["several wr:aspName", "`x1`"]),
        ("ex:X a owl:Class, owl:ObjectProperty .", ["`ex:X`", "both a class and a property"]),
        ("ex:p a owl:DatatypeProperty ; rdfs:range xsd:date, xsd:integer .",
         ["ranges of different kinds", "date", "int"]),
        ("<https://example.org/gov#—> a owl:Class .", ["no ASP predicate name"]),
    ],
)
def test_ontology_errors(turtle: str, fragments: list[str]) -> None:
    with pytest.raises(OntologyError) as info:
        _schema(turtle)
    message = info.value.message
    for fragment in fragments:
        assert fragment in message, message
    assert info.value.code == "ontology_error"
    assert "\n" not in message


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
def test_no_reserved_name_is_produced(name: str) -> None:
    local = "".join(part.capitalize() for part in name.split("_"))
    with pytest.raises(OntologyError, match="reserved"):
        _schema(f"ex:{local} a owl:Class .")


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(OntologyError) as info:
        _schema("ex:Cost a owl:Class . ex:Now a owl:Class . ex:A a owl:Class . "
                "ex:a a rdf:Property .")
    problems = info.value.details["problems"]
    assert len(problems) == 3
    assert "(and 2 more)" in info.value.message


def test_override_resolves_collision() -> None:
    schema = _schema(
        'ex:Vendor a owl:Class . ex:vendor a owl:ObjectProperty ; wr:aspName "vendor_of" .'
    )
    assert [p.signature for p in schema] == ["vendor/1", "vendor_of/2"]


def test_real_ontology_derives(repo_root: Path) -> None:
    """The workspace's own ontology must bind: every class and property gets a usable name."""
    g = rdflib.Graph()
    for path in sorted((repo_root / "ontology").glob("*.ttl")):
        g.parse(path)
    schema = derive_schema(g, prefixes=PrefixMap.from_graph(g))
    vendor = schema.for_iri("https://w3id.org/warrant/vendor-risk#Vendor")
    assert vendor is not None and vendor.arity == 1
    score = schema.for_iri("https://w3id.org/warrant/vendor-risk#riskScore")
    assert score is not None and score.arg_types == ("iri", "int")
    audit = schema.for_iri("https://w3id.org/warrant/vendor-risk#lastAuditDate")
    assert audit is not None and audit.arg_types == ("iri", "date")
    assert not {p.name for p in schema} & RESERVED_NAMES
