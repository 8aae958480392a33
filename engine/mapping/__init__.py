"""The shared mapping step: YARRRML mapping files turn connector records into RDF triples.

``load_mapping`` reads and checks a mapping file once; ``map_records`` applies it to the
records a connector fetches, yielding each record's triples with the record's locator.
"""

from engine.mapping.document import (
    JoinCondition,
    MappingDocument,
    ObjectMap,
    PredicateObjectMap,
    RefObjectMap,
    TermType,
    TriplesMap,
)
from engine.mapping.mapper import Fetch, map_records
from engine.mapping.model import MappedRecord
from engine.mapping.template import Reference, Template, compile_template, iri_safe
from engine.mapping.terms import BUILTIN_PREFIXES
from engine.mapping.yarrrml import load_mapping, parse_mapping

__all__ = [
    "BUILTIN_PREFIXES",
    "Fetch",
    "JoinCondition",
    "MappedRecord",
    "MappingDocument",
    "ObjectMap",
    "PredicateObjectMap",
    "RefObjectMap",
    "Reference",
    "Template",
    "TermType",
    "TriplesMap",
    "compile_template",
    "iri_safe",
    "load_mapping",
    "map_records",
    "parse_mapping",
]
