"""HTTP content negotiation (RFC 9110 §12.5.1) over the formats a query form can be written in.

Each offer is matched against the most specific ``Accept`` range that covers it (``type/sub``
over ``type/*`` over ``*/*``); the offer with the highest q wins, ties go to the server's order
(the first offer is the default). ``q=0`` refuses a type. Nothing acceptable is a 406.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox

from engine.errors import QueryError

NOT_ACCEPTABLE = "not_acceptable"


@dataclass(frozen=True)
class ResultsOffer:
    """A SELECT / ASK results format under one media type."""

    media_type: str
    format: ox.QueryResultsFormat


@dataclass(frozen=True)
class GraphOffer:
    """A CONSTRUCT / DESCRIBE graph format under one media type."""

    media_type: str
    format: ox.RdfFormat


_JSON = ox.QueryResultsFormat.JSON
_XML = ox.QueryResultsFormat.XML

SOLUTION_OFFERS: tuple[ResultsOffer, ...] = (
    ResultsOffer("application/sparql-results+json", _JSON),
    ResultsOffer("application/sparql-results+xml", _XML),
    ResultsOffer("text/csv", ox.QueryResultsFormat.CSV),
    ResultsOffer("text/tab-separated-values", ox.QueryResultsFormat.TSV),
    ResultsOffer("application/json", _JSON),
    ResultsOffer("application/xml", _XML),
)
"""SELECT results: SPARQL 1.1 Query Results JSON (default), XML, CSV and TSV."""

BOOLEAN_OFFERS: tuple[ResultsOffer, ...] = SOLUTION_OFFERS
"""ASK results: the same formats (CSV / TSV write a bare ``true`` / ``false``)."""

GRAPH_OFFERS: tuple[GraphOffer, ...] = (
    GraphOffer("text/turtle", ox.RdfFormat.TURTLE),
    GraphOffer("application/n-triples", ox.RdfFormat.N_TRIPLES),
    GraphOffer("application/ld+json", ox.RdfFormat.JSON_LD),
    GraphOffer("application/rdf+xml", ox.RdfFormat.RDF_XML),
    GraphOffer("application/turtle", ox.RdfFormat.TURTLE),
    GraphOffer("application/x-turtle", ox.RdfFormat.TURTLE),
)
"""CONSTRUCT / DESCRIBE results and the service description: Turtle (default) and others."""


OfferT = TypeVar("OfferT", ResultsOffer, GraphOffer)


@dataclass(frozen=True)
class MediaRange:
    """One ``Accept`` entry: ``type/subtype`` (either may be ``*``) and its quality."""

    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """-1 if the range does not cover ``media_type``; else 0 (*/*), 1 (type/*), 2 (exact)."""
        mt, _, st = media_type.partition("/")
        if self.type == "*":
            return 0 if self.subtype == "*" else -1
        if self.type != mt:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == st else -1


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header; malformed entries are ignored."""
    ranges: list[MediaRange] = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        mtype, _, sub = pieces[0].lower().partition("/")
        if not mtype or not sub:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(mtype, sub, q))
    return ranges


def quality(ranges: list[MediaRange], media_type: str) -> float:
    """The q the client gives ``media_type`` (from its most specific matching range)."""
    best, best_q = -1, 0.0
    for r in ranges:
        s = r.specificity(media_type)
        if s > best:
            best, best_q = s, r.q
    return best_q if best >= 0 else 0.0


def negotiate(accept: str | None, offers: tuple[OfferT, ...]) -> OfferT:
    """The offer to answer with; a QueryError ``not_acceptable`` (406) when none is acceptable."""
    if accept is None or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    chosen, chosen_q = None, 0.0
    for offer in offers:
        q = quality(ranges, offer.media_type)
        if q > chosen_q:
            chosen, chosen_q = offer, q
    if chosen is None:
        raise QueryError(
            f"none of the accepted media types `{accept[:200]}` can represent this result",
            code=NOT_ACCEPTABLE,
            details={"available": [o.media_type for o in offers]},
        )
    return chosen
