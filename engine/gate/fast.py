"""The gate's own SHACL Core evaluator: local constraints over an index of pyoxigraph triples.

``engine.gate.split`` decides which constraints run here (value-local SHACL Core components on
node shapes and on property shapes with a predicate path). This module finds their focus
nodes (targets, SHACL 2.1.3, with ``rdfs:subClassOf`` followed in the data as SHACL 1.5 says)
and value nodes from a subject index, and lets pyshacl's own component objects judge the
values and describe each result (``ConstraintComponent.evaluate`` / ``make_v_result``), so a
result, its message and its report triples are exactly what a pyshacl run gives. Only
``sh:class`` is decided here, because pyshacl's version reads the rdflib data graph.

What the index costs is one pass over the triples; nothing is built per shape and no rdflib
graph of the data exists (values are converted to rdflib terms once each, on demand).
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import pyoxigraph as ox
import rdflib
from pyshacl.constraints.core.cardinality_constraints import (
    MaxCountConstraintComponent,
    MinCountConstraintComponent,
)
from pyshacl.constraints.core.string_based_constraints import PatternConstraintComponent
from pyshacl.constraints.core.value_constraints import (
    ClassConstraintComponent,
    DatatypeConstraintComponent,
    NodeKindConstraintComponent,
)
from pyshacl.pytypes import SHACLExecutor
from pyshacl.validator import Validator
from rdflib.namespace import RDF, RDFS, SH, XSD

from engine.gate.context import RDF_TYPE
from engine.gate.sparql_fast import as_stored, data_store, run_sparql
from engine.gate.split import FastShape, SplitShapes, Targets
from engine.terms import RdfTerm, to_oxigraph, to_rdflib

_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_XSD_STRING = ox.NamedNode(str(XSD.string))
# sh:nodeKind → the pyoxigraph term types that conform (SHACL 4.1.3).
_KINDS: dict[Any, tuple[type, ...]] = {
    SH.IRI: (ox.NamedNode,),
    SH.BlankNode: (ox.BlankNode,),
    SH.Literal: (ox.Literal,),
    SH.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode),
    SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
    SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
}
OxNode = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
# One pyshacl result: (text description, result node, report triples).
RawResult = tuple[str, Any, list[tuple[Any, Any, Any]]]


class DataIndex:
    """The data graph as ``subject → predicate → objects``, a set of triples like rdflib's."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        # Millions of small acyclic objects: the cyclic GC would only slow the build down.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self.out = self._build(triples)
        finally:
            if enabled:
                gc.enable()
        self._by_type: dict[OxNode, set[OxNode]] | None = None
        self._supers: dict[OxNode, frozenset[OxNode]] = {}
        self._store: ox.Store | None = None

    def store(self) -> ox.Store | None:
        """The data in an in-memory Oxigraph store (for SPARQL constraints), built once.

        None when Oxigraph would store a literal of the data differently from how it is
        written (it keeps some datatypes canonically): a query could then bind values that
        are not the data's terms, so the SPARQL constraints go to pyshacl instead.
        """
        if self._store is None:
            literals = {
                o
                for by_p in self.out.values()
                for objs in by_p.values()
                for o in objs
                # language-tagged and xsd:string literals are kept verbatim: not checked
                if isinstance(o, ox.Literal) and o.language is None and o.datatype != _XSD_STRING
            }
            if not as_stored(literals):
                return None
            self._store = data_store(
                ox.Triple(s, p, o)  # type: ignore[arg-type]
                for s, by_p in self.out.items()
                for p, objs in by_p.items()
                for o in objs
            )
        return self._store

    @staticmethod
    def _build(triples: Iterable[ox.Triple]) -> dict[OxNode, dict[ox.NamedNode, set[OxNode]]]:
        out: dict[OxNode, dict[ox.NamedNode, set[OxNode]]] = {}
        for t in triples:
            by_p = out.get(t.subject)
            if by_p is None:
                by_p = out[t.subject] = {}
            objs = by_p.get(t.predicate)
            if objs is None:
                by_p[t.predicate] = {t.object}
            else:
                objs.add(t.object)
        return out

    def objects(self, subject: OxNode, predicate: ox.NamedNode) -> set[OxNode]:
        """The objects of ``subject predicate ?o`` (empty when none)."""
        by_p = self.out.get(subject)
        return by_p.get(predicate, set()) if by_p is not None else set()

    def superclasses(self, cls: OxNode) -> frozenset[OxNode]:
        """``cls`` and every class it reaches by ``rdfs:subClassOf`` (cycles allowed)."""
        found = self._supers.get(cls)
        if found is None:
            seen: set[OxNode] = {cls}
            todo = [cls]
            while todo:
                for sup in self.objects(todo.pop(), _SUBCLASS):
                    if sup not in seen:
                        seen.add(sup)
                        todo.append(sup)
            found = self._supers[cls] = frozenset(seen)
        return found

    def is_instance(self, node: OxNode, cls: OxNode) -> bool:
        """SHACL instance (SHACL 1.5): a type of ``node`` is ``cls`` or a subclass of it."""
        return any(cls in self.superclasses(t) for t in self.objects(node, RDF_TYPE))

    def instances(self, classes: Collection[ox.NamedNode]) -> set[OxNode]:
        """Every SHACL instance of any of ``classes``."""
        if self._by_type is None:
            by_type: dict[OxNode, set[OxNode]] = {}
            for s, by_p in self.out.items():
                for t in by_p.get(RDF_TYPE, ()):
                    by_type.setdefault(t, set()).add(s)
            self._by_type = by_type
        wanted = set(classes)
        return {
            s
            for t, subjects in self._by_type.items()
            if wanted & self.superclasses(t)
            for s in subjects
        }

    def targets(self, targets: Targets) -> set[OxNode]:
        """The focus nodes of a shape with these target declarations (SHACL 2.1.3)."""
        found: set[OxNode] = set(targets.nodes)
        if targets.classes:
            found |= self.instances(targets.classes)
        for p in targets.subjects_of:
            found |= {s for s, by_p in self.out.items() if p in by_p}
        for p in targets.objects_of:
            found |= {o for by_p in self.out.values() for o in by_p.get(p, ())}
        return found

    def blank_description(self) -> rdflib.Graph:
        """Every triple about a blank node: what pyshacl prints and copies for blank nodes."""
        graph = rdflib.Graph(bind_namespaces="none")
        for s, by_p in self.out.items():
            if isinstance(s, ox.BlankNode):
                for p, objs in by_p.items():
                    for o in objs:
                        if not isinstance(o, ox.Triple):
                            graph.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        return graph


class _Terms:
    """pyoxigraph → rdflib conversion, once per term (values repeat across focus nodes)."""

    def __init__(self) -> None:
        self._cache: dict[OxNode, RdfTerm] = {}

    def __call__(self, term: OxNode) -> RdfTerm:
        found = self._cache.get(term)
        if found is None:
            if isinstance(term, ox.Triple):
                raise ValueError("RDF 1.2 triple terms cannot be validated by SHACL 1.0")
            found = self._cache[term] = to_rdflib(term)
        return found


def evaluate_fast(
    split: SplitShapes, index: DataIndex, *, focus: Collection[OxNode] | None
) -> list[RawResult]:
    """Run every fast shape over ``index``; report only ``focus`` nodes when given."""
    executor = SHACLExecutor()
    terms = _Terms()
    describe = index.blank_description()
    results: list[RawResult] = []
    for fast, targets in split.roots:
        if fast.shape.deactivated:
            continue
        nodes = index.targets(targets)
        if focus is not None:
            nodes = nodes & set(focus) if len(nodes) > len(focus) else {
                n for n in nodes if n in focus
            }
        if not nodes:
            continue
        results += _run(fast, sorted_nodes(nodes), index, terms, describe, executor)
    return results


def sorted_nodes(nodes: Iterable[OxNode]) -> list[OxNode]:
    """A stable order (the results are sets, but a fixed order keeps reports reproducible)."""
    return sorted(nodes, key=str)


def _run(
    fast: FastShape,
    focus: list[OxNode],
    index: DataIndex,
    terms: _Terms,
    describe: rdflib.Graph,
    executor: SHACLExecutor,
) -> Iterator[RawResult]:
    if fast.predicate is None:
        values = {f: {f} for f in focus}
    else:
        values = {f: index.objects(f, fast.predicate) for f in focus}
    yield from _components(fast, values, index, terms, describe, executor)
    store = index.store() if fast.sparql is not None else None
    if fast.sparql is not None and store is not None:
        yield from run_sparql(fast.sparql, focus, store, describe, terms)
    for child in fast.children:
        if child.shape.deactivated or child.predicate is None:
            continue
        pred = child.predicate
        child_values = {f: index.objects(f, pred) for f in focus}
        yield from _components(child, child_values, index, terms, describe, executor)


def _components(
    fast: FastShape,
    values: dict[OxNode, set[OxNode]],
    index: DataIndex,
    terms: _Terms,
    describe: rdflib.Graph,
    executor: SHACLExecutor,
) -> Iterator[RawResult]:
    converted: dict[Any, set[Any]] | None = None
    for component in fast.components:
        if isinstance(component, ClassConstraintComponent):
            yield from _class(component, values, index, terms, describe)
            continue
        suspects = _suspects(component, values)
        if suspects is None:
            if converted is None:
                converted = {terms(f): {terms(v) for v in vs} for f, vs in values.items()}
            given = converted
        elif not suspects:
            continue
        else:
            given = {terms(f): {terms(v) for v in vs} for f, vs in suspects.items()}
        _conforms, reports = component.evaluate(executor, describe, given, [])
        yield from reports


def _suspects(
    component: Any, values: dict[OxNode, set[OxNode]]
) -> dict[OxNode, set[OxNode]] | None:
    """The focus nodes this component may report, decided on pyoxigraph terms; None: all.

    Only for components whose verdict on a focus node reads nothing but its own value nodes
    and that pyshacl decides exactly as here (cardinality, node kind, ``sh:pattern`` on the
    lexical form, ``xsd:string`` / ``rdf:langString`` datatype): every other focus node is
    certain to conform, so handing pyshacl only the suspects gives the same results without
    converting every value to rdflib. Triple terms stay suspects (their conversion raises,
    as it did before).
    """
    if isinstance(component, MinCountConstraintComponent):
        low = int(component.min_count.value)
        return {f: vs for f, vs in values.items() if len(vs) < low}
    if isinstance(component, MaxCountConstraintComponent):
        high = int(component.max_count.value)
        return {f: vs for f, vs in values.items() if len(vs) > high}
    if isinstance(component, NodeKindConstraintComponent):
        kinds = _KINDS.get(component.nodekind_rule)
        if kinds is None:
            return None
        return {f: vs for f, vs in values.items() if any(not isinstance(v, kinds) for v in vs)}
    if isinstance(component, PatternConstraintComponent):
        matchers = list(component.compiled_cache.values())  # one per sh:pattern
        return {
            f: vs
            for f, vs in values.items()
            if not all(_matches(v, matchers) for v in vs)
        }
    if isinstance(component, DatatypeConstraintComponent):
        rule = component.datatype_rule
        if rule == XSD.string:
            return {f: vs for f, vs in values.items() if not all(_is_string(v) for v in vs)}
        if rule == RDF.langString:
            return {f: vs for f, vs in values.items() if not all(_is_lang(v) for v in vs)}
    return None


def _matches(v: OxNode, matchers: list[Any]) -> bool:
    """pyshacl's ``sh:pattern`` test: an IRI's or literal's text (a blank node never matches)."""
    if not isinstance(v, ox.NamedNode | ox.Literal):
        return False
    return all(m.search(v.value) for m in matchers)


def _is_string(v: OxNode) -> bool:
    return isinstance(v, ox.Literal) and v.language is None and v.datatype == _XSD_STRING


def _is_lang(v: OxNode) -> bool:
    return isinstance(v, ox.Literal) and v.language is not None


def _class(
    component: ClassConstraintComponent,
    values: dict[OxNode, set[OxNode]],
    index: DataIndex,
    terms: _Terms,
    describe: rdflib.Graph,
) -> Iterator[RawResult]:
    """``sh:class`` (SHACL 4.1.1): every value is a SHACL instance of each class (no literal)."""
    for cls in component.class_rules:
        ox_cls = to_oxigraph(cls)
        for f, vs in values.items():
            for v in vs:
                if isinstance(v, ox.Literal) or not index.is_instance(v, ox_cls):
                    yield component.make_v_result(describe, terms(f), value_node=terms(v))


def report_of(split: SplitShapes, results: list[RawResult]) -> rdflib.Graph:
    """The report graph pyshacl would write for these results (``sh:conforms`` included)."""
    graph, _text = Validator.create_validation_report(
        split.shapes_graph, not results, results
    )
    assert isinstance(graph, rdflib.Graph)
    return graph
