"""Loading the SHACL shapes (the data contracts) and working out what context they need.

``load_shapes`` parses each versioned Turtle file, normalises plain literals (see
``engine.terms``) and analyses the shapes once, so the gate knows per batch whether it may
validate only the changed focus nodes (*local* shapes) or must validate the whole batch with
wider context (``WIDE_CONTEXT`` below lists exactly which SHACL features force that, and why).

Example::

    shapes = load_shapes([Path("ontology/shapes/vendor.ttl")])
    shapes.versions        # {"ontology/shapes/vendor.ttl": "1.2.0"}
    shapes.analysis.is_local
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import BNode, Node, URIRef

from engine.errors import Location, ShapesError
from engine.terms import normalise_term

# SHACL Advanced Features the gate does not run: rules would make the gate a reasoner that
# writes triples, and custom targets would pick focus nodes by arbitrary queries.
_UNSUPPORTED_AF = (SH.rule, SH.target)


@dataclass(frozen=True)
class ShapesFile:
    """One loaded shapes file: where it came from, its declared version and content hash."""

    path: str
    version: str
    sha256: str


@dataclass(frozen=True, eq=False)
class ShapesSet:
    """All shapes of a workspace as one rdflib graph, with versions and a precomputed analysis.

    ``version`` is a hash over every file's content (in load order) so a batch's PROV-O record
    names exactly the contracts it was checked against; ``versions`` the per-file
    ``owl:versionInfo``. ``graph`` is normalised (no explicit ``xsd:string``) and must not be
    mutated.
    """

    graph: rdflib.Graph
    files: tuple[ShapesFile, ...]
    version: str
    analysis: ShapesAnalysis

    @property
    def versions(self) -> Mapping[str, str]:
        """Per-file declared versions, keyed by the path as given to :func:`load_shapes`."""
        return MappingProxyType({f.path: f.version for f in self.files})

    @property
    def is_empty(self) -> bool:
        """True when no shape has a target, so validation can never report anything."""
        return not self.analysis.targeted_shapes


def shapes_from_graph(graph: rdflib.Graph, *, files: Sequence[ShapesFile] = ()) -> ShapesSet:
    """Build a :class:`ShapesSet` from an already parsed graph (normalised into a copy).

    Used by :func:`load_shapes` and by callers whose shapes do not come from versioned files
    (the W3C test suite); no version is required here.
    """
    norm = rdflib.Graph(bind_namespaces="none")
    for prefix, ns in graph.namespaces():
        norm.bind(prefix, ns, override=True)
    norm += ((s, p, normalise_term(o)) for s, p, o in graph)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.path}\0{f.sha256}\n".encode())
    if not files:
        for line in sorted(norm.serialize(format="nt").splitlines()):
            digest.update(line.encode() + b"\n")
    return ShapesSet(
        graph=norm,
        files=tuple(files),
        version=f"sha256:{digest.hexdigest()}",
        analysis=analyse_shapes(norm),
    )


def empty_shapes() -> ShapesSet:
    """The shapes of a workspace without any: the gate accepts everything."""
    return shapes_from_graph(rdflib.Graph())


def load_shapes(paths: Sequence[Path]) -> ShapesSet:
    """Parse and version every shapes file; raise ``ShapesError`` naming the file (and line)."""
    combined = rdflib.Graph(bind_namespaces="none")
    files: list[ShapesFile] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ShapesError(
                f"cannot read shapes file `{path}`: {exc.strerror or exc}",
                location=Location(file=str(path)),
            ) from exc
        graph = _parse(path, data)
        for predicate in _UNSUPPORTED_AF:
            for shape in graph.subjects(predicate, None):
                raise ShapesError(
                    f"shapes use SHACL-AF `{graph.qname(predicate)}`, which the gate does not run",
                    location=Location(file=str(path), shape=str(shape)),
                )
        files.append(
            ShapesFile(
                path=str(path),
                version=_version(path, graph),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
        for prefix, ns in graph.namespaces():
            combined.bind(prefix, ns, override=False)
        combined += graph
    return shapes_from_graph(combined, files=files)


def _parse(path: Path, data: bytes) -> rdflib.Graph:
    graph = rdflib.Graph(bind_namespaces="none")
    try:
        graph.parse(data=data, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        raise ShapesError(
            f"shapes file does not parse: {exc._why}",
            location=Location(file=str(path), line=exc.lines + 1, column=_column(exc)),
        ) from exc
    except Exception as exc:  # rdflib raises plain exceptions for e.g. undefined prefixes
        raise ShapesError(
            f"shapes file does not parse: {str(exc).splitlines()[0] if str(exc) else exc!r}",
            location=Location(file=str(path)),
        ) from exc
    return graph


def _column(exc: BadSyntax) -> int | None:
    text = exc._str
    if isinstance(text, bytes | str) and isinstance(exc._i, int):
        newline = b"\n" if isinstance(text, bytes) else "\n"
        return exc._i - text.rfind(newline, 0, exc._i)
    return None


def _version(path: Path, graph: rdflib.Graph) -> str:
    ontologies = set(graph.subjects(RDF.type, OWL.Ontology))
    where = Location(file=str(path))
    if len(ontologies) != 1:
        found = "none" if not ontologies else f"{len(ontologies)}"
        raise ShapesError(
            f"shapes file must declare exactly one `owl:Ontology` carrying `owl:versionInfo`, "
            f"found {found}",
            location=where,
        )
    versions = {str(v) for v in graph.objects(next(iter(ontologies)), OWL.versionInfo)}
    if len(versions) != 1:
        raise ShapesError(
            "shapes file must give its `owl:Ontology` exactly one `owl:versionInfo`, "
            f"found {len(versions)}",
            location=where,
        )
    return versions.pop()


# What makes a shape *non-local*. A shape set is local when the validity of a focus node
# depends only on (a) the focus node's own outgoing triples and (b) the rdf:type of nodes it
# references where ``sh:class`` checks them (plus rdfs:subClassOf from the ontology). Then the
# gate may rebuild just the changed subjects' triples plus those types and validate only them.
# Each feature below breaks that, for the reason given; any one of them makes the gate
# validate the whole batch with referenced nodes described (outgoing triples) from the store.
WIDE_CONTEXT: Mapping[URIRef, str] = MappingProxyType(
    {
        SH.inversePath: "an inverse path reads triples that point at the focus node, "
        "which other subjects own",
        SH.zeroOrMorePath: "a transitive path reads the triples of every node it walks through",
        SH.oneOrMorePath: "a transitive path reads the triples of every node it walks through",
        SH.zeroOrOnePath: "a path of length two or more reads the next node's triples",
        RDF.first: "a sequence path reads the triples of the intermediate nodes",
        SH.targetObjectsOf: "a node becomes a focus node because another subject points at it, "
        "so a change to one subject changes which other nodes are validated",
        SH.sparql: "a SPARQL constraint may read any triple of the data graph",
        SH.ConstraintComponent: "a custom (SPARQL-based) constraint component may read any triple",
        SH.property: "a property shape applied to a value node (via sh:node, "
        "sh:qualifiedValueShape, sh:and/or/xone/not on a property) reads the referenced "
        "node's own triples",
        SH.closed: "sh:closed on a value node reads the referenced node's own triples",
        SH.equals: "a property-pair constraint on a value node reads the referenced node's triples",
    }
)
_PAIR = (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals)
_LOGICAL_LISTS = (SH["and"], SH["or"], SH.xone)
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


@dataclass(frozen=True)
class WideContext:
    """One reason the shapes are not local: the SHACL feature, the shape using it, and why."""

    feature: str
    shape: str
    why: str


@dataclass(frozen=True)
class ShapesAnalysis:
    """What the gate needs to know about the shapes, computed once at load.

    ``class_predicates`` are the predicates whose objects ``sh:class`` checks (directly or
    nested in sh:node / sh:or …); the gate fetches the rdf:type of those objects as context,
    and re-validates subjects pointing through them at a node whose types changed.
    """

    targeted_shapes: frozenset[Node]
    targets_by_class: Mapping[URIRef, frozenset[Node]]
    class_predicates: frozenset[URIRef]
    wide_context: tuple[WideContext, ...]

    @property
    def is_local(self) -> bool:
        """True when validating a focus node needs only its own triples and referenced types."""
        return not self.wide_context


def analyse_shapes(graph: rdflib.Graph) -> ShapesAnalysis:
    """Find the targeted shapes, the classes they target, and each feature forcing wide context."""
    targeted: set[Node] = set()
    by_class: dict[URIRef, set[Node]] = {}
    for predicate in _TARGETS:
        for shape, obj in graph.subject_objects(predicate):
            targeted.add(shape)
            if predicate == SH.targetClass and isinstance(obj, URIRef):
                by_class.setdefault(obj, set()).add(shape)
    for kind in (SH.NodeShape, SH.PropertyShape):
        for shape in graph.subjects(RDF.type, kind):
            if isinstance(shape, URIRef) and (shape, RDF.type, RDFS.Class) in graph:
                targeted.add(shape)  # implicit class target (SHACL 2.1.3.3)
                by_class.setdefault(shape, set()).add(shape)
    walker = _Walker(graph)
    for shape in graph.subjects(SH.targetObjectsOf, None):
        walker.wide(SH.targetObjectsOf, shape)
    for shape in graph.subjects(SH.target, None):
        walker.wide(SH.target, shape, "a SHACL-AF custom target selects focus nodes by query")
    for component in graph.subjects(RDF.type, SH.ConstraintComponent):
        walker.wide(SH.ConstraintComponent, component)
    for shape in sorted(targeted, key=str):
        walker.walk(shape, on_focus=True, via=frozenset())
    return ShapesAnalysis(
        targeted_shapes=frozenset(targeted),
        targets_by_class=MappingProxyType({c: frozenset(s) for c, s in by_class.items()}),
        class_predicates=frozenset(walker.class_predicates),
        wide_context=tuple(sorted(walker.reasons, key=lambda r: (r.feature, r.shape))),
    )


def _curie(term: URIRef) -> str:
    for prefix, ns in (("sh", str(SH)), ("rdf", str(RDF))):
        if term.startswith(ns):
            return f"{prefix}:{term[len(ns):]}"
    return str(term)


class _Walker:
    """Walks shapes from their targets, tracking whether the current value node is the focus."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self.graph = graph
        self.reasons: set[WideContext] = set()
        self.class_predicates: set[URIRef] = set()
        self._seen: set[tuple[Node, bool, frozenset[URIRef]]] = set()

    def wide(self, feature: URIRef, shape: Node, why: str | None = None) -> None:
        self.reasons.add(
            WideContext(
                feature=_curie(feature),
                shape=str(shape),
                why=why or WIDE_CONTEXT[feature],
            )
        )

    def walk(self, shape: Node, *, on_focus: bool, via: frozenset[URIRef]) -> None:
        """Analyse ``shape`` on the focus node (``on_focus``) or on a node reached by ``via``."""
        key = (shape, on_focus, via)
        g = self.graph
        if key in self._seen or (shape, SH.deactivated, rdflib.Literal(True)) in g:
            return
        self._seen.add(key)
        path = g.value(shape, SH.path)
        if path is not None:
            if not on_focus:
                self.wide(SH.property, shape)
            preds = self._predicates(shape, path)
            value_on_focus, value_via = False, preds
        else:
            value_on_focus, value_via = on_focus, via
        if g.value(shape, SH["class"]) is not None:
            self.class_predicates.update(value_via)
        if g.value(shape, SH.sparql) is not None:
            self.wide(SH.sparql, shape)
        if not value_on_focus:
            if path is None and (shape, SH.closed, rdflib.Literal(True)) in g:
                self.wide(SH.closed, shape)
            if path is None and any(g.value(shape, p) is not None for p in _PAIR):
                self.wide(SH.equals, shape)
        inner: list[Node] = [*g.objects(shape, SH.node), *g.objects(shape, SH["not"])]
        inner += g.objects(shape, SH.qualifiedValueShape)
        for predicate in _LOGICAL_LISTS:
            for head in g.objects(shape, predicate):
                inner += g.items(head)
        for child in inner:
            self.walk(child, on_focus=value_on_focus, via=value_via)
        for prop in g.objects(shape, SH.property):
            if not value_on_focus:
                self.wide(SH.property, prop)
            self.walk(prop, on_focus=value_on_focus, via=value_via)

    def _predicates(self, shape: Node, path: Node) -> frozenset[URIRef]:
        """The predicates of a one-step path (an IRI or sh:alternativePath of IRIs)."""
        if isinstance(path, URIRef):
            return frozenset({path})
        g = self.graph
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            items = list(g.items(alternatives))
            if all(isinstance(i, URIRef) for i in items):
                return frozenset(i for i in items if isinstance(i, URIRef))
            for item in items:
                if not isinstance(item, URIRef):
                    self._predicates(shape, item)
            return frozenset(i for i in items if isinstance(i, URIRef))
        if isinstance(path, BNode) and g.value(path, RDF.first) is not None:
            self.wide(RDF.first, shape)
            return frozenset()
        for kind in (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
            if g.value(path, kind) is not None:
                self.wide(kind, shape)
                return frozenset()
        raise ShapesError("shape has a malformed `sh:path`", location=Location(shape=str(shape)))
