"""Loading shapes: versions, bad files, normalisation, and the locality analysis."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import XSD

from engine.errors import ShapesError
from engine.gate.shapes import empty_shapes, load_shapes, shapes_from_graph

DATA = Path(__file__).parent / "data" / "gate"
EX = rdflib.Namespace("http://example.org/")
HEADER = """\
@prefix ex: <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<urn:test:shapes> a owl:Ontology ; owl:versionInfo "1" .
"""


def _write(tmp_path: Path, body: str, name: str = "shapes.ttl") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def test_load_records_versions_and_targets() -> None:
    shapes = load_shapes([DATA / "vendor.ttl", DATA / "vendor-warnings.ttl"])
    assert dict(shapes.versions) == {
        str(DATA / "vendor.ttl"): "1.2.0",
        str(DATA / "vendor-warnings.ttl"): "0.3",
    }
    assert shapes.version.startswith("sha256:")
    assert shapes.analysis.is_local
    assert set(shapes.analysis.targets_by_class) == {EX.Vendor, EX.Contract}
    assert len(shapes.analysis.targets_by_class[EX.Vendor]) == 2
    assert shapes.analysis.class_predicates == {EX.vendor}
    assert not shapes.is_empty


def test_version_follows_content(tmp_path: Path) -> None:
    a = _write(tmp_path, "ex:S a sh:NodeShape ; sh:targetClass ex:A .", "a.ttl")
    same = load_shapes([a]).version
    assert load_shapes([a]).version == same
    a.write_text(HEADER + "ex:S a sh:NodeShape ; sh:targetClass ex:B .")
    assert load_shapes([a]).version != same


def test_explicit_xsd_string_in_shapes_is_normalised() -> None:
    shapes = load_shapes([DATA / "vendor.ttl"])
    literals = [o for o in shapes.graph.objects() if isinstance(o, rdflib.Literal)]
    assert rdflib.Literal("DE") in literals
    assert all(lit.datatype != XSD.string for lit in literals)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('ex:S a sh:NodeShape ;\n  sh:name "unterminated .\n', 8),
        ("ex:S a sh:NodeShape ;\n\n  sh:path ex:p ex:q .\n", 9),
        ("ex:S a sh:NodeShape\nex:T a sh:NodeShape .\n", 8),
    ],
)
def test_syntax_error_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ShapesError) as err:
        load_shapes([path])
    assert err.value.location is not None
    assert err.value.location.file == str(path)
    assert err.value.location.line == line
    assert err.value.message.startswith("shapes file does not parse")


def test_broken_fixture_reports_its_line() -> None:
    with pytest.raises(ShapesError) as err:
        load_shapes([DATA / "vendor.ttl", DATA / "broken.ttl"])
    assert err.value.location is not None
    assert (err.value.location.file, err.value.location.line) == (str(DATA / "broken.ttl"), 6)
    assert str(err.value).startswith(f"{DATA / 'broken.ttl'}:6:")


def test_undefined_prefix_is_a_shapes_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "nope:S a sh:NodeShape .\n")
    with pytest.raises(ShapesError, match="does not parse") as err:
        load_shapes([path])
    assert err.value.location is not None and err.value.location.file == str(path)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ex:S a sh:NodeShape .", "found none"),
        ('<urn:x> a owl:Ontology ; owl:versionInfo "1" .', "found 2"),
    ],
)
def test_ontology_node_must_be_unique(tmp_path: Path, text: str, found: str) -> None:
    path = tmp_path / "s.ttl"
    header = HEADER if "urn:x" in text else HEADER.replace(
        '<urn:test:shapes> a owl:Ontology ; owl:versionInfo "1" .\n', ""
    )
    path.write_text(header + text)
    with pytest.raises(ShapesError, match=found) as err:
        load_shapes([path])
    assert err.value.location is not None and err.value.location.file == str(path)


def test_missing_version_names_the_file() -> None:
    with pytest.raises(ShapesError, match="owl:versionInfo") as err:
        load_shapes([DATA / "unversioned.ttl"])
    assert err.value.location is not None
    assert err.value.location.file == str(DATA / "unversioned.ttl")


def test_two_versions_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, '<urn:test:shapes> owl:versionInfo "2" .')
    with pytest.raises(ShapesError, match="found 2"):
        load_shapes([path])


def test_missing_file_is_a_shapes_error(tmp_path: Path) -> None:
    with pytest.raises(ShapesError, match="cannot read shapes file"):
        load_shapes([tmp_path / "absent.ttl"])


@pytest.mark.parametrize("feature", ["sh:rule [ a sh:TripleRule ]", "sh:target [ a ex:T ]"])
def test_shacl_af_is_rejected(tmp_path: Path, feature: str) -> None:
    path = _write(tmp_path, f"ex:S a sh:NodeShape ; {feature} .")
    with pytest.raises(ShapesError, match="SHACL-AF") as err:
        load_shapes([path])
    assert err.value.location is not None and err.value.location.shape == str(EX.S)


def test_empty_shapes() -> None:
    assert empty_shapes().is_empty
    assert load_shapes([]).is_empty
    untargeted = shapes_from_graph(
        rdflib.Graph().parse(data=HEADER + "ex:S a sh:NodeShape ; sh:datatype xsd:string .")
    )
    assert untargeted.is_empty


TARGET = "ex:S a sh:NodeShape ; sh:targetClass ex:A ; "
LOCALITY = [
    ("datatype", TARGET + "sh:property [ sh:path ex:p ; sh:datatype xsd:string ] .", set()),
    ("class", TARGET + "sh:property [ sh:path ex:p ; sh:class ex:B ] .", set()),
    ("alternative", TARGET + "sh:property [ sh:path [ sh:alternativePath (ex:p ex:q) ] ; "
     "sh:class ex:B ] .", set()),
    ("or-of-datatypes", TARGET + "sh:property [ sh:path ex:p ; sh:or ( [ sh:datatype xsd:int ] "
     "[ sh:datatype xsd:string ] ) ] .", set()),
    ("qualified-datatype", TARGET + "sh:property [ sh:path ex:p ; sh:qualifiedValueShape "
     "[ sh:datatype xsd:int ] ; sh:qualifiedMinCount 1 ] .", set()),
    ("equals-on-focus", TARGET + "sh:property [ sh:path ex:p ; sh:equals ex:q ] .", set()),
    ("closed-focus", TARGET + "sh:closed true ; sh:property [ sh:path ex:p ] .", set()),
    ("subjects-of", "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; "
     "sh:property [ sh:path ex:p ; sh:minCount 1 ] .", set()),
    ("node-on-focus", TARGET + "sh:node ex:T . ex:T sh:property [ sh:path ex:p ; "
     "sh:minCount 1 ] .", set()),
    ("inverse", TARGET + "sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .",
     {"sh:inversePath"}),
    ("sequence", TARGET + "sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ] .",
     {"rdf:first"}),
    ("transitive", TARGET + "sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; "
     "sh:class ex:B ] .", {"sh:zeroOrMorePath"}),
    ("objects-of", "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:p ; sh:nodeKind sh:IRI .",
     {"sh:targetObjectsOf"}),
    ("sparql", TARGET + 'sh:sparql [ sh:select "SELECT $this WHERE { }" ] .', {"sh:sparql"}),
    ("node-into-value", TARGET + "sh:property [ sh:path ex:p ; sh:node ex:T ] . "
     "ex:T sh:property [ sh:path ex:q ; sh:minCount 1 ] .", {"sh:property"}),
    ("closed-value", TARGET + "sh:property [ sh:path ex:p ; sh:node ex:T ] . "
     "ex:T sh:closed true .", {"sh:closed"}),
    ("equals-on-value", TARGET + "sh:property [ sh:path ex:p ; sh:node ex:T ] . "
     "ex:T sh:equals ex:q .", {"sh:equals"}),
    ("custom-component", TARGET + "ex:flag true . ex:C a sh:ConstraintComponent ; "
     "sh:parameter [ sh:path ex:flag ] .", {"sh:ConstraintComponent"}),
]


@pytest.mark.parametrize(("name", "body", "features"), LOCALITY, ids=[c[0] for c in LOCALITY])
def test_locality_analysis(name: str, body: str, features: set[str]) -> None:
    shapes = shapes_from_graph(rdflib.Graph().parse(data=HEADER + body, format="turtle"))
    found = {w.feature for w in shapes.analysis.wide_context}
    assert found == features, name
    assert shapes.analysis.is_local == (not features)
    assert all(w.why for w in shapes.analysis.wide_context)


def test_deactivated_shape_is_ignored_by_the_analysis() -> None:
    body = TARGET + "sh:deactivated true ; sh:property [ sh:path [ sh:inversePath ex:p ] ] ."
    shapes = shapes_from_graph(rdflib.Graph().parse(data=HEADER + body, format="turtle"))
    assert shapes.analysis.is_local


def test_malformed_path_is_a_shapes_error() -> None:
    body = TARGET + 'sh:property [ sh:path [ ex:weird "x" ] ] .'
    with pytest.raises(ShapesError, match="malformed `sh:path`"):
        shapes_from_graph(rdflib.Graph().parse(data=HEADER + body, format="turtle"))
