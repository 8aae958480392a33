"""A loaded mapping file as frozen values: what the parser builds and the mapper runs.

Everything that can be decided once is decided here: templates are compiled, predicates,
classes and datatypes are ``pyoxigraph`` terms, constant objects are built terms. The mapper
only reads these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pyoxigraph as ox

from connectors.base import LogicalSource
from engine.errors import Location
from engine.mapping.template import Template

TABULAR_FORMULATIONS = frozenset({"csv", "sql"})
"""Reference formulations whose records have fixed columns: a missing column is an error."""


class TermType(Enum):
    """What kind of RDF term an object map produces."""

    IRI = "iri"
    LITERAL = "literal"


@dataclass(frozen=True)
class ObjectMap:
    """An object built from a template: an IRI, or a literal with optional datatype / language."""

    template: Template
    term_type: TermType
    datatype: ox.NamedNode | None = None
    language: str | None = None
    constant: ox.NamedNode | ox.Literal | None = None
    """The term itself when the template has no references (built once, reused)."""


@dataclass(frozen=True)
class JoinCondition:
    """``equal(str1, str2)``: the child record's ``child`` value equals the parent's ``parent``."""

    child: Template
    parent: Template


@dataclass(frozen=True)
class RefObjectMap:
    """The subject of another mapping (``mapping:``), joined on ``conditions`` when present."""

    parent: str
    conditions: tuple[JoinCondition, ...]
    location: Location


@dataclass(frozen=True)
class PredicateObjectMap:
    """Each predicate paired with each object."""

    predicates: tuple[ox.NamedNode, ...]
    objects: tuple[ObjectMap | RefObjectMap, ...]
    location: Location


@dataclass(frozen=True)
class TriplesMap:
    """One named YARRRML mapping: a source, a subject template and its predicate-object maps."""

    name: str
    source: LogicalSource
    subject: Template
    predicate_objects: tuple[PredicateObjectMap, ...]
    location: Location


@dataclass(frozen=True)
class MappingDocument:
    """A loaded mapping file: its mappings in file order, prefixes and content version."""

    path: Path
    file: str
    """The file name used in error locations (relative to ``base_dir`` when one was given)."""
    version: str
    """First 16 hex digits of the SHA-256 of the file's bytes."""
    prefixes: tuple[tuple[str, str], ...]
    mappings: tuple[TriplesMap, ...]

    def logical_sources(self) -> tuple[LogicalSource, ...]:
        """The distinct logical sources the mappings read, in order of first use."""
        return tuple(dict.fromkeys(m.source for m in self.mappings))

    def mapping(self, name: str) -> TriplesMap:
        """The mapping called ``name``; ``KeyError`` when there is none."""
        for m in self.mappings:
            if m.name == name:
                return m
        raise KeyError(name)
