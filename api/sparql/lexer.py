"""Just enough SPARQL lexing to tell what a request is before the engine parses it.

Two questions are answered here, never by regular expressions over raw text: is the operation
an update (refused with a clear message, SPARQL 1.1 Protocol §2.2), and does the query carry
its own dataset (``FROM`` / ``FROM NAMED``, SPARQL 1.1 Query §13.2) — without one, Warrant's
default graph is the union of the named graphs. Comments, strings and IRIs are skipped so a
``#FROM`` comment or a ``"DELETE"`` literal is not mistaken for a keyword.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum

_TOKEN = re.compile(
    r'(?P<long>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\')'
    r'|(?P<str>"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)'
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<var>[?$][\w]+)"
    r"|(?P<word>[A-Za-z_][\w.-]*(?::[\w.%-]*)?|[\w.-]*:[\w.%-]*)"
    r"|(?P<open>\{)|(?P<close>\})"
    r"|(?P<other>.)",
    re.DOTALL,
)

_PROLOGUE = frozenset({"PREFIX", "BASE"})
_UPDATE = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
_QUERY = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})


class Operation(StrEnum):
    """What a request's text asks for, judged by its first keyword after the prologue."""

    QUERY = "query"
    UPDATE = "update"
    UNKNOWN = "unknown"


def _words(text: str) -> Iterator[tuple[str, int]]:
    """Bare words (upper-cased) with the brace depth they occur at."""
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "word":
            yield m.group().upper(), depth


def operation(text: str) -> Operation:
    """Whether ``text`` is a query or an update (or neither: the engine will say why)."""
    for word, _depth in _words(text):
        if word in _PROLOGUE or word.endswith(":"):
            continue
        if word in _UPDATE:
            return Operation.UPDATE
        if word in _QUERY:
            return Operation.QUERY
        return Operation.UNKNOWN
    return Operation.UNKNOWN


def has_dataset_clause(text: str) -> bool:
    """Whether the query names its own dataset with ``FROM`` or ``FROM NAMED``."""
    return any(word == "FROM" and depth == 0 for word, depth in _words(text))
