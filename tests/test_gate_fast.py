"""The gate's fast SHACL evaluator against pyshacl: same results, same messages, same reports.

A differential property test (random small graphs x random shapes built from the supported
SHACL Core components), plus a table of splits: which constraints stay with pyshacl.
"""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyshacl.rdfutil.stringify import stringify_blank_node
from rdflib.namespace import SH

from engine.gate import validate_graph
from engine.gate.evaluate import validate_triples
from engine.gate.report import ValidationOutcome, ValidationResult
from engine.gate.residue import needed, read_predicates
from engine.gate.shapes import ShapesSet, shapes_from_graph
from engine.gate.sparql_fast import WHOLE_QUERY_MIN_FOCUS, groups_by_this
from engine.gate.split import split_shapes
from engine.terms import add_triples

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
PREFIXES = f"""\
@prefix ex: <{EX}> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <{XSD}> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def ex(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def typed(lexical: str, datatype: str) -> ox.Literal:
    return ox.Literal(lexical, datatype=ox.NamedNode(XSD + datatype))


SUBJECTS = [ex(f"s{i}") for i in range(4)] + [ox.BlankNode("b0")]
LINKS = [ex("s0"), ex("s1"), ex("s2"), ex("s3")]
CLASSES = [ex("C"), ex("D"), ex("E")]
PREDICATES = [ex("p0"), ex("p1"), ex("p2")]
OBJECTS: list[ox.NamedNode | ox.BlankNode | ox.Literal] = [
    ex("s0"), ex("s1"), ex("other"), ox.BlankNode("b0"),
    ox.Literal("abc"), ox.Literal("ABCdef"), ox.Literal("a b"), ox.Literal(""),
    ox.Literal("chat", language="fr"), ox.Literal("cat", language="en"),
    ox.Literal("dog", language="en"), ox.Literal("Hund", language="de-CH"),
    typed("12", "integer"), typed("1x", "integer"), typed("-3", "integer"),
    typed("2020-01-31", "date"), typed("2020-13-01", "date"),
    typed("true", "boolean"), typed("maybe", "boolean"), typed("1.5", "decimal"),
    typed("7", "int"),
]

CONSTRAINTS = st.sampled_from(
    [
        "sh:datatype xsd:string", "sh:datatype xsd:integer", "sh:datatype xsd:date",
        "sh:datatype xsd:boolean", "sh:datatype rdf:langString", "sh:datatype xsd:decimal",
        "sh:datatype xsd:int",
        "sh:nodeKind sh:IRI", "sh:nodeKind sh:Literal", "sh:nodeKind sh:BlankNodeOrIRI",
        "sh:nodeKind sh:BlankNode", "sh:nodeKind sh:IRIOrLiteral",
        "sh:minCount 1", "sh:minCount 2", "sh:maxCount 0", "sh:maxCount 1",
        'sh:in ( ex:s0 "abc" 12 )', 'sh:in ( "cat"@en ex:other )',
        "sh:hasValue ex:s1", 'sh:hasValue "abc"',
        "sh:class ex:C", "sh:class ex:D", "sh:class ex:C , ex:E",
        'sh:pattern "^a"', 'sh:pattern "^a" ; sh:flags "i"', 'sh:pattern "[0-9]"',
        "sh:minInclusive 0", "sh:maxInclusive 12", "sh:minExclusive -3",
        'sh:maxExclusive "2020-06-01"^^xsd:date',
        "sh:minLength 1", "sh:maxLength 3",
        'sh:languageIn ( "en" )', 'sh:languageIn ( "en" "de" )',
        "sh:uniqueLang true", "sh:uniqueLang false",
    ]
)
NODE_CONSTRAINTS = st.sampled_from(
    ["sh:nodeKind sh:IRI", "sh:class ex:C", "sh:class ex:D", "sh:in ( ex:s0 ex:s1 )",
     "sh:hasValue ex:s2", 'sh:pattern "s[01]$"', "sh:maxLength 20", "sh:datatype xsd:string"]
)
TARGETS = st.sampled_from(
    ["sh:targetClass ex:C", "sh:targetClass ex:D", "sh:targetNode ex:s0 , ex:nowhere",
     "sh:targetSubjectsOf ex:p1", "sh:targetObjectsOf ex:p2"]
)
EXTRAS = st.sampled_from(
    ["", "sh:severity sh:Warning", "sh:severity sh:Info", 'sh:message "custom"@en',
     "sh:deactivated true", 'sh:message "one"@en , "zwei"@de']
)


def _family(constraint: str) -> str:
    """One of each parameter per shape: pyshacl rejects two sh:datatype (SHACL 4.1.2)."""
    return constraint.split()[0]


@st.composite
def shapes_text(draw: st.DrawFn) -> str:
    out = [PREFIXES]
    for i in range(draw(st.integers(1, 3))):
        lines = [f"ex:Shape{i} a sh:NodeShape", draw(TARGETS)]
        lines += draw(st.lists(NODE_CONSTRAINTS, max_size=2, unique_by=_family))
        extra = draw(EXTRAS)
        if extra and "deactivated" not in extra:
            lines.append(extra)
        for j in range(draw(st.integers(0, 3))):
            body = [f"sh:path {draw(st.sampled_from(['ex:p0', 'ex:p1', 'ex:p2']))}"]
            body += draw(st.lists(CONSTRAINTS, min_size=1, max_size=3, unique_by=_family))
            if extra := draw(EXTRAS):
                body.append(extra)
            shared = draw(st.booleans())
            name = f"ex:Prop{i}_{j}" if shared else None
            if name:
                out.append(f"{name} a sh:PropertyShape ; " + " ; ".join(body) + " .")
                lines.append(f"sh:property {name}")
            else:
                lines.append("sh:property [ " + " ; ".join(body) + " ]")
        out.append(" ;\n  ".join(lines) + " .")
    return "\n".join(out)


@st.composite
def data(draw: st.DrawFn) -> list[ox.Triple]:
    triples = [ox.Triple(ex("E"), SUBCLASS, ex("C"))]
    for s in SUBJECTS:
        for c in draw(st.lists(st.sampled_from(CLASSES), max_size=2, unique=True)):
            triples.append(ox.Triple(s, RDF_TYPE, c))
        for p in PREDICATES:
            pool = OBJECTS + LINKS * 3  # links between subjects make chains and cycles
            for o in draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)):
                triples.append(ox.Triple(s, p, o))
    return triples


def fresh_blank_names() -> None:
    """pyshacl caches blank-node descriptions by ``id(graph)``, and ids are reused once a
    graph is freed: a later graph's message could show an earlier graph's node. Clear it."""
    stringify_blank_node.dict_cache.clear()


def fast_and_slow(
    triples: list[ox.Triple], shape_set: ShapesSet, graph: rdflib.Graph
) -> tuple[ValidationOutcome, ValidationOutcome]:
    """The fast evaluator's and pyshacl's outcome on the same data, each with fresh names."""
    fresh_blank_names()
    fast = validate_triples(triples, shape_set, focus=None, rdflib_graph=lambda: graph)
    fresh_blank_names()
    return fast, validate_graph(graph, shape_set)


def load(text: str) -> ShapesSet:
    graph = rdflib.Graph(bind_namespaces="none")
    graph.parse(data=text, format="turtle")
    return shapes_from_graph(graph)


def graph_of(triples: list[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph(bind_namespaces="none")
    add_triples(graph, triples)
    return graph


def facts(results: tuple[ValidationResult, ...]) -> list[tuple[object, ...]]:
    """Results as comparable rows (a multiset, messages included)."""
    return sorted(
        (
            (r.focus_node, r.result_path, r.value, r.constraint_component, r.severity,
             r.source_shape, r.message)
            for r in results
        ),
        key=repr,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes=shapes_text(), triples=data(), pick=st.sets(st.integers(0, 4)))
def test_fast_evaluator_matches_pyshacl(
    shapes: str, triples: list[ox.Triple], pick: set[int]
) -> None:
    shape_set = load(shapes)
    assert split_shapes(shape_set).residual is None  # everything ran on the fast path
    graph = graph_of(triples)
    fast, slow = fast_and_slow(triples, shape_set, graph)
    assert facts(fast.results) == facts(slow.results)
    assert fast.conforms == slow.conforms
    assert len(fast.report) == len(slow.report)
    focus = [SUBJECTS[i] for i in sorted(pick)]
    fresh_blank_names()
    fast_f = validate_triples(triples, shape_set, focus=focus, rdflib_graph=lambda: graph)
    fresh_blank_names()
    slow_f = validate_graph(graph, shape_set, focus_nodes=[
        rdflib.BNode(n.value) if isinstance(n, ox.BlankNode) else rdflib.URIRef(n.value)
        for n in focus
    ])
    assert facts(fast_f.results) == facts(slow_f.results)


MIXED = PREFIXES + """
ex:Cycle a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:p0 ; sh:minCount 1 ] ;
  sh:sparql [ sh:select "SELECT $this WHERE { $this <http://example.org/p1> $this }" ] .
ex:Nested a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:p1 ; sh:maxCount 1 ; sh:node ex:Inner ] .
ex:Inner a sh:NodeShape ; sh:property [ sh:path ex:p2 ; sh:minCount 1 ] .
ex:Complex a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path [ sh:inversePath ex:p0 ] ; sh:maxCount 0 ] .
ex:Plain a sh:NodeShape ; sh:targetClass ex:D ; sh:property [ sh:path ex:p0 ; sh:minCount 1 ] .
ex:Current a sh:NodeShape ; sh:targetClass ex:D ;
  sh:sparql [ sh:select "SELECT $this WHERE { $this ?p $currentShape }" ] .
ex:Chain a sh:NodeShape ; sh:targetClass ex:C ; sh:severity sh:Warning ;
  sh:sparql [ sh:message "{$this} reaches {?value} back"@en ; sh:select '''
    SELECT $this ?value WHERE { $this <http://example.org/p0> ?value . FILTER(isIRI(?value))
      ?value <http://example.org/p0>* $this }''' ] ;
  sh:sparql [ sh:select '''
    SELECT $this ?value WHERE { $this <http://example.org/p1> ?value .
      FILTER EXISTS { $this <http://example.org/p2> ?any }
      FILTER NOT EXISTS { ?value a <http://example.org/C> } }''' ] .
"""


@pytest.mark.parametrize(
    ("shape", "stays_with_pyshacl"),
    [
        ("Cycle", False),  # sh:sparql (Oxigraph) and sh:property run fast
        ("Current", True),  # $currentShape is not pre-bound here
        ("Chain", False),
        ("Nested", True),  # sh:node on the property shape
        ("Inner", False),  # untargeted: only reached via sh:node, kept whole for pyshacl
        ("Complex", True),  # inverse path
        ("Plain", False),
    ],
)
def test_split_keeps_unsupported_constraints_for_pyshacl(
    shape: str, stays_with_pyshacl: bool
) -> None:
    split = split_shapes(load(MIXED))
    assert split.residual is not None
    targeted = split.residual.analysis.targeted_shapes
    assert (rdflib.URIRef(EX + shape) in targeted) is stays_with_pyshacl
    residual = split.residual.graph
    if shape == "Cycle":  # the fast part left the residual graph
        assert residual.value(rdflib.URIRef(EX + shape), SH.property) is None
        assert residual.value(rdflib.URIRef(EX + shape), SH.sparql) is None
    if shape == "Inner":
        assert residual.value(rdflib.URIRef(EX + shape), SH.property) is not None


@settings(max_examples=100, deadline=None)
@given(triples=data())
def test_mixed_shapes_match_pyshacl(triples: list[ox.Triple]) -> None:
    shape_set = load(MIXED)
    graph = graph_of(triples)
    fast, slow = fast_and_slow(triples, shape_set, graph)
    assert facts(fast.results) == facts(slow.results)
    assert fast.conforms == slow.conforms


def test_sparql_constraint_runs_in_oxigraph_where_rdflib_errs() -> None:
    """Regression: rdflib matches an empty literal on a zero-length path (`"" p* ex:s1` is
    true there); Oxigraph does not, as SPARQL 1.1 (9.3) says. The gate follows Oxigraph."""
    shapes = load(PREFIXES + """
ex:Chain a sh:NodeShape ; sh:targetClass ex:C ;
  sh:sparql [ sh:select '''SELECT $this ?value WHERE {
      $this <http://example.org/p0> ?value . ?value <http://example.org/p0>* $this }''' ] .
""")
    triples = [
        ox.Triple(ex("s1"), RDF_TYPE, ex("C")), ox.Triple(ex("s1"), ex("p0"), ox.Literal(""))
    ]
    graph = graph_of(triples)
    assert split_shapes(shapes).residual is None
    assert validate_triples(triples, shapes, focus=None, rdflib_graph=lambda: graph).conforms
    assert not validate_graph(graph, shapes).conforms  # pyshacl over rdflib: a false result


def test_sparql_without_projected_this_stays_with_pyshacl() -> None:
    """Oxigraph substitutes only projected variables; such a query is left to pyshacl."""
    shapes = load(PREFIXES + """
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:sparql [ sh:select "SELECT ?value WHERE { $this <http://example.org/p0> ?value }" ] .
""")
    split = split_shapes(shapes)
    assert split.residual is not None
    triples = [ox.Triple(ex("s1"), RDF_TYPE, ex("C")), ox.Triple(ex("s1"), ex("p0"), ex("s2"))]
    graph = graph_of(triples)
    fast = validate_triples(triples, shapes, focus=None, rdflib_graph=lambda: graph)
    assert facts(fast.results) == facts(validate_graph(graph, shapes).results)
    assert len(fast.results) == 1


def many_subjects(seed: int, n: int) -> list[ox.Triple]:
    """Enough focus nodes for the one-query SPARQL path: chains, cycles, literals, types."""
    rng = random.Random(seed)
    nodes = [ex(f"n{i}") for i in range(n)]
    triples = [ox.Triple(ex("E"), SUBCLASS, ex("C"))]
    for s in nodes:
        for c in rng.sample(CLASSES, rng.randint(0, 2)):
            triples.append(ox.Triple(s, RDF_TYPE, c))
        for p in PREDICATES:
            for _ in range(rng.randint(0, 2)):
                o = rng.choice([*nodes, *OBJECTS[:8]])
                triples.append(ox.Triple(s, p, o))
    return list(dict.fromkeys(triples))


@pytest.mark.parametrize("seed", range(6))
def test_sparql_on_many_focus_nodes_matches_pyshacl(seed: int) -> None:
    """Above ``WHOLE_QUERY_MIN_FOCUS`` a plain query runs once for all focus nodes."""
    shape_set = load(MIXED)
    triples = many_subjects(seed, WHOLE_QUERY_MIN_FOCUS * 3)
    graph = graph_of(triples)
    fast, slow = fast_and_slow(triples, shape_set, graph)
    assert facts(fast.results) == facts(slow.results)
    assert any(str(r.source_shape) == EX + "Chain" for r in fast.results)
    focus = [ex(f"n{i}") for i in range(0, WHOLE_QUERY_MIN_FOCUS * 3, 2)]
    fresh_blank_names()
    fast_f = validate_triples(triples, shape_set, focus=focus, rdflib_graph=lambda: graph)
    fresh_blank_names()
    slow_f = validate_graph(
        graph, shape_set, focus_nodes=[rdflib.URIRef(n.value) for n in focus]
    )
    assert facts(fast_f.results) == facts(slow_f.results)


@pytest.mark.parametrize(
    ("where", "whole"),
    [
        ("$this ex:p ?value . ?value ex:p* $this", True),
        ("$this ex:p ?value FILTER NOT EXISTS { ?value a ex:C } FILTER(isIRI(?value))", True),
        ("$this ex:p ?value . { ?value ex:q ?x }", True),
        ("?value ex:p ?x FILTER(?x = $this)", False),  # $this bound by no triple
        ("$this ex:p ?value . { ?value ex:q ?x FILTER(?x = $this) }", False),  # nested filter
        ("$this ex:p ?value OPTIONAL { ?value ex:q ?x }", False),
        ("$this ex:p ?value MINUS { $this ex:q ?value }", False),
        ("{ $this ex:p ?value } UNION { $this ex:q ?value }", False),
        ("$this ex:p ?value BIND(1 AS ?x)", False),
        ("{ SELECT $this ?value WHERE { $this ex:p ?value } }", False),
        ("GRAPH ?g { $this ex:p ?value }", False),
    ],
)
def test_which_sparql_runs_once_for_all_focus_nodes(where: str, whole: bool) -> None:
    text = f"PREFIX ex: <{EX}>\nSELECT $this ?value WHERE {{ {where} }}"
    assert groups_by_this(text) is whole
    assert groups_by_this(text + " LIMIT 5") is False
    assert groups_by_this(text.replace("SELECT $this ?value", "SELECT ?value")) is False


@pytest.mark.parametrize(
    ("shape", "bounded"),
    [
        ("sh:property [ sh:path [ sh:inversePath ex:p0 ] ; sh:minCount 1 ]", True),
        ("sh:property [ sh:path ex:p1 ; sh:node ex:Inner ]", True),
        ("sh:closed true ; sh:property [ sh:path ex:p0 ]", False),  # reads every predicate
        ('sh:sparql [ sh:select "SELECT $this WHERE { $this ?p ?o }" ]', False),
    ],
)
def test_residue_reads_only_the_predicates_its_shapes_name(shape: str, bounded: bool) -> None:
    graph = rdflib.Graph(bind_namespaces="none")
    graph.parse(data=PREFIXES + f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; {shape} .\n"
                "ex:Untargeted a sh:NodeShape ; sh:property [ sh:path ex:p2 ] .", format="turtle")
    found = read_predicates(shapes_from_graph(graph))
    assert (found is not None) is bounded
    if found is not None:
        assert RDF_TYPE in found and SUBCLASS in found and ex("p2") not in found
        kept = list(needed([ox.Triple(ex("s"), ex("p2"), ex("o")),
                            ox.Triple(ex("s"), RDF_TYPE, ex("C"))], found))
        assert kept == [ox.Triple(ex("s"), RDF_TYPE, ex("C"))]
