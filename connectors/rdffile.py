"""RDF files (Turtle, N-Triples, JSON-LD, RDF/XML) read as they are, one record per subject.

An ``rdf`` source needs no mapping: its triples are the data. To go through the same gate and
provenance as mapped sources they are grouped into :class:`MappedRecord` values, one per
subject in first-seen order, located as ``<path>#subject=<iri>``. Duplicate triples are kept
once (a graph is a set).

Blank nodes are skolemised (RDF 1.1 §3.5) to ``urn:warrant:bnode:<source>:<digest>:<n>``:
``<digest>`` is the first 16 hex digits of the file's SHA-256 and ``<n>`` numbers the blank
nodes in the order the parser first meets them. Labels written in the file cannot be used
because anonymous nodes (``[ … ]``, JSON-LD objects without ``@id``) get random labels from the
parser; the parse order of one file is fixed, so ingesting the same bytes again yields the same
IRIs and the same triples — which the store's delta needs, and which SPARQL can then name. An
edited file gets new blank-node IRIs, as it must: nothing says ``_:b1`` is the same node in two
versions of a file.

Parse errors carry the parser's ``line:column``. Relative IRIs need an ``@base`` in the file;
JSON-LD remote contexts are not fetched (ingest must not depend on the network), and named
graphs are rejected (a source is one graph).

>>> # next(read_rdf(name="reference", workspace=root, path="data/reference.ttl")).locator.key
>>> # 'subject=http://example.org/acme'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import pyoxigraph as ox

from connectors.base import LogicalSource
from connectors.files import resolve_file
from connectors.subjects import SKOLEM_PREFIX, SubjectRecords
from engine.errors import Location, SourceError
from engine.mapping.model import MappedRecord

RdfFileFormat = Literal["turtle", "ntriples", "jsonld", "rdfxml"]
"""The serialisations an ``rdf`` source may use."""

_FORMATS: dict[RdfFileFormat, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
_ALIASES: dict[str, RdfFileFormat] = {
    "turtle": "turtle",
    "ttl": "turtle",
    "text/turtle": "turtle",
    "ntriples": "ntriples",
    "n-triples": "ntriples",
    "nt": "ntriples",
    "application/n-triples": "ntriples",
    "jsonld": "jsonld",
    "json-ld": "jsonld",
    "application/ld+json": "jsonld",
    "rdfxml": "rdfxml",
    "rdf/xml": "rdfxml",
    "xml": "rdfxml",
    "application/rdf+xml": "rdfxml",
}
_SUFFIXES: dict[str, RdfFileFormat] = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".jsonld": "jsonld",
    ".json-ld": "jsonld",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
}
_POSITION = re.compile(r"^Parser error at line \d+ (?:column \d+|between columns \d+ and \d+): ")



def rdf_format(*, path: str, format: str | None) -> RdfFileFormat:
    """The format named in config (name, extension or media type) or implied by the extension."""
    if format is not None:
        found = _ALIASES.get(format.strip().lower())
        if found is None:
            known = ", ".join(f"`{f}`" for f in _FORMATS)
            raise SourceError(
                f"unknown rdf format `{format}`; expected one of {known}", Location(file=path)
            )
        return found
    suffix = Path(path).suffix.lower()
    by_suffix = _SUFFIXES.get(suffix)
    if by_suffix is None:
        raise SourceError(
            f"cannot tell the rdf format of `{path}` from its extension `{suffix}`: set `format`",
            Location(file=path),
        )
    return by_suffix


def read_rdf(
    *, name: str, workspace: Path, path: str, format: str | None = None
) -> Iterator[MappedRecord]:
    """Parse the whole file (errors come before any record), then yield one record per subject."""
    fmt = rdf_format(path=path, format=format)
    file = resolve_file(
        name=name, workspace=workspace, override=None, source=LogicalSource("rdf", path=path)
    )
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        raise SourceError(
            f"cannot read file `{path}`: {exc.strerror or exc}", Location(file=path)
        ) from exc
    subjects = SubjectRecords(
        f"{SKOLEM_PREFIX}{quote(name, safe='')}:{hashlib.sha256(data).hexdigest()[:16]}:"
    )
    try:
        for quad in ox.parse(data, format=_FORMATS[fmt], without_named_graphs=True):
            subjects.add(quad.triple)
    except SyntaxError as exc:
        raise _syntax_error(path, fmt, exc) from exc
    except (ValueError, OSError) as exc:
        raise SourceError(f"cannot parse `{path}` as {fmt}: {exc}", Location(file=path)) from exc
    return iter(subjects.records(source=name, container=path))


def _syntax_error(path: str, fmt: RdfFileFormat, exc: SyntaxError) -> SourceError:
    text = _POSITION.sub("", str(exc.msg or exc)).strip()
    text = text[:1].lower() + text[1:]
    line = exc.lineno if isinstance(exc.lineno, int) else None
    column = exc.offset if isinstance(exc.offset, int) and line is not None else None
    return SourceError(f"malformed {fmt}: {text}", Location(file=path, line=line, column=column))
