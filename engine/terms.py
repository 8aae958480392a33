"""Term conversion between pyoxigraph and rdflib: the one place where plain literals are normalised.

Why this module exists: the two libraries spell the same RDF 1.1 *simple literal* differently.
Oxigraph's parsers give ``"x"^^xsd:string`` (RDF 1.1 makes the datatype explicit), rdflib's
give ``Literal("x")`` with no datatype, and rdflib compares the two as *different* terms. Shapes
parsed by rdflib and data parsed by Oxigraph then disagree on every ``sh:in`` / ``sh:hasValue``
string (measured: 1,033 false violations on 10k triples). The canonical form chosen here is
rdflib's: a simple literal has ``datatype=None`` and no language. Everything that crosses
into rdflib (gate data, shapes) goes through :func:`to_rdflib` or :func:`normalise_literal`;
everything that goes back to Oxigraph goes through :func:`to_oxigraph`, which restores
``xsd:string`` (Oxigraph's own form), so a round trip is the identity on both sides.

Example::

    >>> import pyoxigraph as ox
    >>> to_rdflib(ox.Literal("x"))
    rdflib.term.Literal('x')
    >>> to_oxigraph(to_rdflib(ox.Literal("x"))) == ox.Literal("x")
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox
import rdflib
from rdflib.namespace import XSD
from rdflib.term import BNode, Literal, Node, URIRef

XSD_STRING = XSD.string
_OX_XSD_STRING = ox.NamedNode(str(XSD.string))

OxSubject = ox.NamedNode | ox.BlankNode
OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal
RdfTerm = URIRef | BNode | Literal


def normalise_literal(lit: Literal) -> Literal:
    """Return ``lit`` without an explicit ``xsd:string`` datatype (the canonical simple literal)."""
    if lit.datatype == XSD_STRING and lit.language is None:
        return Literal(str(lit))
    return lit


def normalise_term(term: Node) -> Node:
    """Normalise one rdflib term (only literals change; see :func:`normalise_literal`)."""
    return normalise_literal(term) if isinstance(term, Literal) else term


def needs_normalising(graph: rdflib.Graph) -> bool:
    """True when ``graph`` holds a literal typed ``xsd:string`` explicitly (one full scan)."""
    return any(
        isinstance(o, Literal) and o.datatype == XSD_STRING and o.language is None
        for o in graph.objects(None, None, unique=False)
    )


def normalised_graph(graph: rdflib.Graph) -> rdflib.Graph:
    """``graph`` itself if already canonical, else a normalised copy (never mutates the input)."""
    if not needs_normalising(graph):
        return graph
    out = rdflib.Graph(identifier=graph.identifier, bind_namespaces="none")
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=True)
    out += ((s, p, normalise_term(o)) for s, p, o in graph)
    return out


def to_rdflib(term: OxTerm) -> RdfTerm:
    """Convert a pyoxigraph term to rdflib, normalising ``xsd:string`` literals to simple ones.

    Blank nodes keep their id, so :func:`to_oxigraph` maps a result's focus node back to the
    very node a record produced. RDF 1.2 triple terms have no rdflib counterpart: ``ValueError``.
    """
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language is not None:
            return Literal(term.value, lang=term.language)
        if term.datatype == _OX_XSD_STRING:
            return Literal(term.value)
        # normalize=False: rdflib would rewrite an ill-typed "" ^^xsd:boolean into "false",
        # hiding exactly the bad data the gate must report.
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise ValueError(f"cannot convert `{term!r}` to an rdflib term (no RDF 1.2 triple terms)")


def to_oxigraph(term: Node) -> OxTerm:
    """Convert an rdflib term to pyoxigraph; simple literals get ``xsd:string`` (as Oxigraph)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        try:
            return ox.BlankNode(str(term))
        except ValueError:
            # rdflib accepts ids Oxigraph rejects; derive a stable valid id from the original.
            return ox.BlankNode("b" + hashlib.sha256(str(term).encode()).hexdigest()[:32])
    if isinstance(term, Literal):
        if term.language is not None:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None:
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    raise ValueError(f"cannot convert `{term!r}` to a pyoxigraph term")


def triple_to_rdflib(triple: ox.Triple) -> tuple[RdfTerm, URIRef, RdfTerm]:
    """Convert one pyoxigraph triple to an rdflib ``(s, p, o)`` tuple."""
    return (
        to_rdflib(triple.subject),  # type: ignore[arg-type]
        URIRef(triple.predicate.value),
        to_rdflib(triple.object),  # type: ignore[arg-type]
    )


def triple_to_oxigraph(triple: tuple[Node, Node, Node]) -> ox.Triple:
    """Convert one rdflib ``(s, p, o)`` tuple to a pyoxigraph triple."""
    s, p, o = triple
    subject = to_oxigraph(s)
    if isinstance(subject, ox.Literal) or not isinstance(p, URIRef):
        raise ValueError(f"not a valid RDF triple: `{s!r} {p!r} {o!r}`")
    return ox.Triple(subject, ox.NamedNode(str(p)), to_oxigraph(o))


def add_triples(graph: rdflib.Graph, triples: Iterable[ox.Triple]) -> None:
    """Add pyoxigraph triples to an rdflib graph through the normalising conversion."""
    graph += (triple_to_rdflib(t) for t in triples)
