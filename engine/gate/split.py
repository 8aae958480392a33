"""Which SHACL constraints the gate evaluates itself, and the *residual* shapes left to pyshacl.

pyshacl validates ~1.5k triples/s here, mostly spent finding targets and value nodes through
rdflib lookups. SHACL-SPARQL constraints of node shapes run in Oxigraph
(``engine.gate.sparql_fast``). The constraint components below need nothing but a focus
node's own values for a predicate path (plus ``rdf:type`` / ``rdfs:subClassOf`` for
``sh:class``), so the gate evaluates them over an index of the batch's triples
(``engine.gate.fast``), with pyshacl's own component objects deciding each value and
writing each result (same semantics, same messages, same report triples).

Everything else stays with pyshacl, in a *residual* copy of the shapes graph: the same
triples (so blank-node shape ids, and with them ``sh:sourceShape``, do not change) minus the
constraints evaluated here, minus ``sh:property`` links to property shapes with nothing left,
and without the targets of shapes with nothing left (so pyshacl does not even look for their
focus nodes). A shape reachable through a shape-expecting parameter (``sh:node``, ``sh:not``,
``sh:and``/``or``/``xone``, ``sh:qualifiedValueShape``) or nested under a property shape is
validated on value nodes pyshacl chooses, so it stays whole in the residual graph.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
from pyshacl.constraints.constraint_component import ConstraintComponent
from pyshacl.constraints.core.cardinality_constraints import (
    MaxCountConstraintComponent,
    MinCountConstraintComponent,
)
from pyshacl.constraints.core.other_constraints import (
    HasValueConstraintComponent,
    InConstraintComponent,
)
from pyshacl.constraints.core.string_based_constraints import (
    LanguageInConstraintComponent,
    MaxLengthConstraintComponent,
    MinLengthConstraintComponent,
    PatternConstraintComponent,
    UniqueLangConstraintComponent,
)
from pyshacl.constraints.core.value_constraints import (
    ClassConstraintComponent,
    DatatypeConstraintComponent,
    NodeKindConstraintComponent,
)
from pyshacl.constraints.core.value_range_constraints import (
    MaxExclusiveConstraintComponent,
    MaxInclusiveConstraintComponent,
    MinExclusiveConstraintComponent,
    MinInclusiveConstraintComponent,
)
from pyshacl.errors import ConstraintLoadError, ConstraintLoadWarning
from pyshacl.shape import Shape
from pyshacl.shapes_graph import ShapesGraph
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node, URIRef

from engine.gate.shapes import ShapesSet, analyse_shapes
from engine.gate.sparql_fast import SparqlCheck, prepare_sparql
from engine.terms import to_oxigraph

# SHACL Core components decided by a focus node's own values for one predicate (SHACL 4.1-4.8).
SUPPORTED: frozenset[type[ConstraintComponent]] = frozenset(
    {
        ClassConstraintComponent,
        DatatypeConstraintComponent,
        NodeKindConstraintComponent,
        MinCountConstraintComponent,
        MaxCountConstraintComponent,
        MinExclusiveConstraintComponent,
        MinInclusiveConstraintComponent,
        MaxExclusiveConstraintComponent,
        MaxInclusiveConstraintComponent,
        MinLengthConstraintComponent,
        MaxLengthConstraintComponent,
        PatternConstraintComponent,
        LanguageInConstraintComponent,
        UniqueLangConstraintComponent,
        InConstraintComponent,
        HasValueConstraintComponent,
    }
)
# Parameters whose values are shapes validated against *value* nodes pyshacl picks.
_NESTING = (SH.node, SH["not"], SH.qualifiedValueShape)
_NESTING_LISTS = (SH["and"], SH["or"], SH.xone)
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


@dataclass(frozen=True, eq=False)
class FastShape:
    """A shape as the fast evaluator runs it: pyshacl's shape, its path and its components.

    ``predicate`` is None for a node shape (its value node is the focus node itself);
    ``children`` are the property shapes of a node shape (``sh:property``) run here.
    """

    shape: Shape
    predicate: ox.NamedNode | None
    components: tuple[ConstraintComponent, ...]
    children: tuple[FastShape, ...]
    sparql: SparqlCheck | None = None


@dataclass(frozen=True)
class Targets:
    """A shape's target declarations (SHACL 2.1.3), implicit class targets included."""

    nodes: frozenset[ox.NamedNode | ox.BlankNode | ox.Literal]
    classes: frozenset[ox.NamedNode]
    subjects_of: frozenset[ox.NamedNode]
    objects_of: frozenset[ox.NamedNode]


@dataclass(frozen=True, eq=False)
class SplitShapes:
    """The shapes split in two: ``roots`` run here, ``residual`` (if targeted) in pyshacl."""

    shapes_graph: ShapesGraph
    roots: tuple[tuple[FastShape, Targets], ...]
    residual: ShapesSet | None
    residual_with_sparql: ShapesSet | None
    """The residual shapes plus the SPARQL constraints run here: used when Oxigraph would not
    see the data as written (it stores some literals canonically, ``"07"^^xsd:int`` as
    ``"7"^^xsd:integer``), so a query's values could differ from pyshacl's."""


_CACHE: weakref.WeakKeyDictionary[ShapesSet, SplitShapes] = weakref.WeakKeyDictionary()


def split_shapes(shapes: ShapesSet) -> SplitShapes:
    """The split of ``shapes`` (computed once per loaded shapes set)."""
    found = _CACHE.get(shapes)
    if found is None:
        found = _CACHE[shapes] = _split(shapes)
    return found


def _split(shapes: ShapesSet) -> SplitShapes:
    graph = shapes.graph
    sg = ShapesGraph(graph)
    all_shapes: list[Shape] = list(sg.shapes)
    nested = _nested_shapes(graph, all_shapes)
    residual = rdflib.Graph(bind_namespaces="none")
    for prefix, ns in graph.namespaces():
        residual.bind(prefix, ns, override=True)
    residual += graph
    built: dict[Node, FastShape] = {}
    moved: list[Node] = []

    def build(shape: Shape) -> FastShape:
        if shape.node in built:
            return built[shape.node]
        path = shape.path() if shape.is_property_shape else None  # type: ignore[no-untyped-call]
        simple = path is None or isinstance(path, URIRef)
        components: list[ConstraintComponent] = []
        done: set[type[ConstraintComponent]] = set()
        for parameter, _value in graph.predicate_objects(shape.node):
            kind = CONSTRAINT_PARAMETERS_MAP.get(parameter)
            if kind is None or kind in done or kind not in SUPPORTED or not simple:
                continue
            try:
                component = kind(shape)
            except (ConstraintLoadError, ConstraintLoadWarning):
                continue  # pyshacl reports (or skips) it in the residual run, as it would
            done.add(kind)
            components.append(component)
            for p in kind.constraint_parameters():
                residual.remove((shape.node, p, None))
        sparql = None
        if path is None and (shape.node, SH.sparql, None) in graph:
            sparql = prepare_sparql(shape)
            if sparql is not None:
                moved.append(shape.node)
                residual.remove((shape.node, SH.sparql, None))
        children: list[FastShape] = []
        if path is None:
            for child_node in graph.objects(shape.node, SH.property):
                if child_node in nested:
                    continue
                child = build(sg.lookup_shape_from_node(child_node))
                if child.predicate is None:
                    continue
                children.append(child)
                if not _has_constraints(residual, child_node, sg):
                    residual.remove((shape.node, SH.property, child_node))
        predicate = ox.NamedNode(str(path)) if isinstance(path, URIRef) else None
        fast = FastShape(shape, predicate, tuple(components), tuple(children), sparql)
        built[shape.node] = fast
        return fast

    roots: list[tuple[FastShape, Targets]] = []
    for shape in all_shapes:
        targets = _targets(shape)
        if shape.node in nested or targets is None:
            continue
        roots.append((build(shape), targets))
    for fast, _targets_of in roots:
        node = fast.shape.node
        if not _has_constraints(residual, node, sg):
            for predicate in _TARGETS:
                residual.remove((node, predicate, None))
            residual.remove((node, RDF.type, RDFS.Class))
    with_sparql = rdflib.Graph(bind_namespaces="none")
    for prefix, ns in graph.namespaces():
        with_sparql.bind(prefix, ns, override=True)
    with_sparql += residual
    for moved_node in moved:
        for predicate in (SH.sparql, *_TARGETS):
            with_sparql += graph.triples((moved_node, predicate, None))
        with_sparql += graph.triples((moved_node, RDF.type, RDFS.Class))
    rest = _targeted(residual, shapes)
    return SplitShapes(
        shapes_graph=sg,
        roots=tuple(roots),
        residual=rest,
        residual_with_sparql=_targeted(with_sparql, shapes) if moved else rest,
    )


def _targeted(graph: rdflib.Graph, shapes: ShapesSet) -> ShapesSet | None:
    analysis = analyse_shapes(graph)
    if not analysis.targeted_shapes:
        return None
    return ShapesSet(graph=graph, files=shapes.files, version=shapes.version, analysis=analysis)


def _targets(shape: Shape) -> Targets | None:
    nodes, classes, implicit, objects_of, subjects_of = shape.target()  # type: ignore[no-untyped-call]
    if not (nodes or classes or implicit or objects_of or subjects_of):
        return None

    def iris(terms: Iterable[Node]) -> frozenset[ox.NamedNode]:
        return frozenset(ox.NamedNode(str(t)) for t in terms if isinstance(t, URIRef))

    return Targets(
        nodes=frozenset(to_oxigraph(n) for n in nodes),
        classes=iris([*classes, *implicit]),
        subjects_of=iris(subjects_of),
        objects_of=iris(objects_of),
    )


def _nested_shapes(graph: rdflib.Graph, shapes: list[Shape]) -> set[Node]:
    """Shapes pyshacl may validate against value nodes other than a node shape's focus nodes."""
    todo: list[Node] = []
    for shape in shapes:
        for predicate in _NESTING:
            todo += graph.objects(shape.node, predicate)
        for predicate in _NESTING_LISTS:
            for head in graph.objects(shape.node, predicate):
                todo += graph.items(head)
        if shape.is_property_shape:
            todo += graph.objects(shape.node, SH.property)
    seen: set[Node] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo += graph.objects(node, SH.property)
        for predicate in _NESTING:
            todo += graph.objects(node, predicate)
        for predicate in _NESTING_LISTS:
            for head in graph.objects(node, predicate):
                todo += graph.items(head)
    return seen


def _has_constraints(residual: rdflib.Graph, node: Node, sg: ShapesGraph) -> bool:
    """True when a shape still has a parameter pyshacl evaluates (core, SPARQL or custom)."""
    custom = {p.path() for c in sg.custom_constraints for p in c.parameters}
    return any(
        p in CONSTRAINT_PARAMETERS_MAP or p in custom for p in residual.predicates(node, None)
    )
