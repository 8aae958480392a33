"""What every connector hands to the shared mapping step: records, each with its locator.

Connectors only fetch. A connector is asked for the rows of one *logical source* (a file, a
JSONPath iterator over a file, a table, a query) and yields :class:`Record` values in a stable
order. Each record knows where it came from (:class:`RecordLocator`), which is what lets a
proof leaf name ``data/vendors.csv#row=12`` or ``hr.sqlite/employees#id=E042``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from typing import Literal, Protocol
from urllib.parse import quote

ReferenceFormulation = Literal["csv", "jsonpath", "sql", "cypher", "sparql", "rdf"]


@dataclass(frozen=True)
class LogicalSource:
    """One iterable input of a mapping, as declared by a YARRRML ``sources`` entry.

    ``path`` is a file path relative to the workspace (``data/vendors.csv``), ``table`` a SQL
    table, ``query`` a SQL / Cypher / SPARQL query, ``iterator`` a JSONPath like
    ``$.relationships[*]``. ``key`` names the fields whose values identify a record (a primary
    key); without it a record is identified by its row number.
    """

    reference_formulation: ReferenceFormulation
    path: str | None = None
    table: str | None = None
    query: str | None = None
    iterator: str | None = None
    key: tuple[str, ...] = ()

    def describe(self) -> str:
        """A short human label: the file, table or query this source reads."""
        if self.path is not None:
            return self.path if self.iterator is None else f"{self.path}~{self.iterator}"
        if self.table is not None:
            return self.table
        return (self.query or "").strip().splitlines()[0][:60] if self.query else "<source>"


@dataclass(frozen=True, order=True)
class RecordLocator:
    """Where one record came from: source name + container + row number or key.

    ``container`` is a file path, a table, or a query label. ``key`` holds the primary-key
    values as ``name=value`` pairs joined by ``&`` when the source has a key, else ``row`` is
    the 1-based data row (CSV header excluded; JSON array index + 1).
    """

    source: str
    container: str
    row: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        ident = f"{self.key}" if self.key is not None else f"row={self.row}"
        return f"{self.container}#{ident}"

    @cached_property
    def iri(self) -> str:
        """A stable IRI naming this record in the provenance graph (computed once a locator)."""
        ident = self.key if self.key is not None else f"row={self.row}"
        return f"{_record_prefix(self.source, self.container)}{quote(ident, safe='=&')}"


@cache
def _record_prefix(source: str, container: str) -> str:
    """``urn:warrant:record:<source>:<container>:``, quoted once per source and container."""
    return f"urn:warrant:record:{quote(source, safe='')}:{quote(container, safe='')}:"


@dataclass(frozen=True)
class Record:
    """One row / object / node handed to the mapping step; values keyed by field name.

    Values are Python scalars (``str``, ``int``, ``float``, ``bool``, ``None``, ``datetime``,
    ``date``, ``Decimal``) or, for nested JSON, lists and dicts reachable by a reference path.
    """

    locator: RecordLocator
    values: Mapping[str, object] = field(default_factory=dict)


class Connector(Protocol):
    """Fetches records of the logical sources a mapping declares. No mapping, no RDF."""

    name: str

    def records(self, source: LogicalSource) -> Iterator[Record]:
        """Yield the records of ``source`` in a stable order; ``SourceError`` if unreadable."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("&", "%26").replace("=", "%3D")


def key_text(pairs: Sequence[tuple[str, object]]) -> str | None:
    """``name=value`` pairs joined by ``&``, or ``None`` if a key value is null or empty.

    ``%``, ``&`` and ``=`` inside names and values are percent-encoded so the key splits back
    unambiguously. A record whose key is missing is identified by its row instead; the shapes
    then report the missing identifier.
    """
    parts: list[str] = []
    for field_name, value in pairs:
        if value is None or value == "":
            return None
        parts.append(f"{_escape(field_name)}={_escape(_scalar_text(value))}")
    return "&".join(parts)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
