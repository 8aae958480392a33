"""Keep the ontology in the store's ontology graph so SPARQL and the gate can see it.

Blank nodes (OWL restrictions, RDF lists) are canonicalised (RDFC-1.0) and skolemised, so
loading the same ontology twice yields the same triples and the graph is only rewritten when
the ontology really changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from engine.errors import Location, OntologyError
from engine.store.base import GraphChange, KnowledgeStore
from engine.vocab import GRAPH_ONTOLOGY


def ontology_triples(paths: Sequence[Path]) -> list[ox.Triple]:
    """Parse the ontology files, canonicalise blank nodes and skolemise them to stable IRIs."""
    dataset = ox.Dataset()
    digest = hashlib.sha256()
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise OntologyError(
                f"cannot read ontology file: {exc.strerror}", location=Location(file=str(path))
            ) from exc
        digest.update(data)
        try:
            for q in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()):
                dataset.add(q)
        except SyntaxError as exc:
            raise OntologyError(
                f"turtle syntax error: {exc.msg}",
                location=Location(file=str(path), line=exc.lineno, column=exc.offset),
            ) from exc
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    base = f"urn:warrant:ontology:bnode:{digest.hexdigest()[:16]}:"

    def sk(
        term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
    ) -> ox.NamedNode | ox.Literal | ox.Triple:
        return ox.NamedNode(base + term.value) if isinstance(term, ox.BlankNode) else term

    out = {
        ox.Triple(sk(q.subject), q.predicate, sk(q.object))  # type: ignore[arg-type]
        for q in dataset
    }
    return sorted(out, key=str)


def sync_ontology(store: KnowledgeStore, paths: Sequence[Path]) -> bool:
    """Replace the ontology graph if the ontology changed; return whether it did."""
    new = set(ontology_triples(paths))
    old = set(store.triples(GRAPH_ONTOLOGY))
    if new == old:
        return False
    store.apply(
        [
            GraphChange(
                GRAPH_ONTOLOGY,
                removed=sorted(old - new, key=str),
                added=sorted(new - old, key=str),
            )
        ]
    )
    return True
