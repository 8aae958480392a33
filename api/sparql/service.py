"""The SPARQL service description (https://www.w3.org/TR/sparql11-service-description/).

Answered to a bare ``GET`` of the endpoint: the endpoint IRI, the query language, the result
formats, and the ``sd:UnionDefaultGraph`` feature (without a dataset in the request or the
query, the default graph is the union of the named graphs, which hold all of Warrant's data).
"""

from __future__ import annotations

import pyoxigraph as ox

from api.sparql.evaluation import Answer, graph_answer
from api.sparql.negotiation import GRAPH_OFFERS, SOLUTION_OFFERS

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PREFIXES = {"sd": SD, "formats": FORMATS}

_FIXED_IRIS = {"https://www.w3.org/ns/formats/data/JSON-LD": FORMATS + "JSON-LD"}
_ALL_FORMATS = [o.format.iri for o in SOLUTION_OFFERS] + [o.format.iri for o in GRAPH_OFFERS]
_FORMAT_IRIS: tuple[str, ...] = tuple(
    dict.fromkeys(_FIXED_IRIS.get(iri, iri) for iri in _ALL_FORMATS).keys()
)


def _sd(local: str) -> ox.NamedNode:
    return ox.NamedNode(SD + local)


def service_description(endpoint: str, *, accept: str | None) -> Answer:
    """The description of the endpoint at ``endpoint`` in the negotiated RDF format."""
    service = ox.BlankNode("service")
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
    ]
    triples += [
        ox.Triple(service, _sd("resultFormat"), ox.NamedNode(iri)) for iri in _FORMAT_IRIS
    ]
    return graph_answer(triples, accept, prefixes=PREFIXES)
