"""RDF terms ↔ clingo symbols: what a node or a literal of the KG looks like to a rule.

The mapping (DESIGN "Binding: ontology → ASP", Terms):

=====================================  ===========================================
RDF term                               clingo symbol
=====================================  ===========================================
IRI                                    ``String("acme:vendor/V001")`` (compact form)
xsd:integer and its derived types      ``Number(n)``
xsd:boolean                            the constants ``true`` / ``false``
xsd:date                               ``Number(days since 1970-01-01)``
xsd:dateTime, xsd:dateTimeStamp        ``Number(seconds since 1970-01-01T00:00:00Z)``
anything else (strings, decimals …)    ``String(lexical form)``
=====================================  ===========================================

Why these choices: rules compare dates and amounts, and clingo compares only integers
arithmetically, so dates become integers. ASP has no floating point numbers, so
``xsd:decimal`` / ``xsd:double`` stay strings (their lexical form), which rules can test for
equality but not compare. A ``dateTime`` without a time zone is read as UTC; fractional
seconds are dropped; a date's time zone is ignored (the calendar day counts).

clingo numbers are 32-bit: an integer outside ±2³¹, or a ``dateTime`` outside
1901-12-13 … 2038-01-19, does not fit. Such a literal, an ill-typed one
(``"high"^^xsd:integer``) and a string holding U+0000 (clingo strings are C strings and would
silently cut it) are *skipped and counted* as a :class:`TermWarning`, never raised: bad data
is reported, not fatal.

:class:`TermIndex` converts terms and remembers, for every symbol it produced, the RDF terms
it came from, so that proofs speak of RDF nodes and their labels.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

import clingo
import pyoxigraph as ox

from engine.binding.prefixes import PrefixMap
from engine.store.base import KnowledgeStore

ArgType = Literal["iri", "string", "int", "date", "datetime", "bool"]
"""The type of one predicate argument, as ``warrant schema`` prints it."""

RdfTerm = ox.NamedNode | ox.Literal
"""The RDF terms that become symbols (blank nodes and triple terms never do)."""

WarningReason = Literal["ill_typed", "out_of_range", "unsupported", "type_mismatch"]
"""Why a term was skipped; ``type_mismatch`` terms are loaded but differ from the range."""

XSD: Final = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL: Final = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL: Final = "http://www.w3.org/2004/02/skos/core#prefLabel"

_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_EPOCH_DAY: Final = date(1970, 1, 1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# Value bounds of the XSD integer types (XSD 1.1 Part 2 §3.4.13 …): lower, upper.
_INTEGER_BOUNDS: Final[dict[str, tuple[int | None, int | None]]] = {
    XSD + "integer": (None, None),
    XSD + "long": (-(2**63), 2**63 - 1),
    XSD + "int": (-(2**31), 2**31 - 1),
    XSD + "short": (-(2**15), 2**15 - 1),
    XSD + "byte": (-(2**7), 2**7 - 1),
    XSD + "nonNegativeInteger": (0, None),
    XSD + "positiveInteger": (1, None),
    XSD + "nonPositiveInteger": (None, 0),
    XSD + "negativeInteger": (None, -1),
    XSD + "unsignedLong": (0, 2**64 - 1),
    XSD + "unsignedInt": (0, 2**32 - 1),
    XSD + "unsignedShort": (0, 2**16 - 1),
    XSD + "unsignedByte": (0, 2**8 - 1),
}
INTEGER_DATATYPES: Final = frozenset(_INTEGER_BOUNDS)
"""Datatype IRIs whose literals become clingo numbers."""

DATE: Final = XSD + "date"
DATETIME: Final = XSD + "dateTime"
DATETIME_STAMP: Final = XSD + "dateTimeStamp"
BOOLEAN: Final = XSD + "boolean"

_INT_LEX = re.compile(r"[+-]?[0-9]+")
_DATE_LEX = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")
_DATETIME_LEX = re.compile(
    r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|([+-])([0-9]{2}):([0-9]{2}))?"
)
TRUE: Final = clingo.Function("true")
FALSE: Final = clingo.Function("false")


class UnconvertibleTerm(ValueError):
    """A term that has no symbol; ``reason`` says why (internal, turned into a TermWarning)."""

    def __init__(self, reason: WarningReason, message: str) -> None:
        super().__init__(message)
        self.reason: WarningReason = reason


@dataclass(frozen=True, order=True)
class TermWarning:
    """Terms skipped for one reason, datatype (and predicate), with how many and one example.

    ``type_mismatch`` terms were loaded, but their type differs from the predicate's declared
    rdfs:range (e.g. a plain string where the ontology says ``xsd:date``): rules comparing
    them would silently compare a string with a number.
    """

    reason: WarningReason
    datatype: str
    count: int
    example: str
    predicate: str = ""

    def __str__(self) -> str:
        where = f" in `{self.predicate}`" if self.predicate else ""
        done = "loaded despite a declared range" if self.reason == "type_mismatch" else "skipped"
        return (
            f"{self.count} {self.reason.replace('_', ' ')} term(s) of `{self.datatype}`{where} "
            f"{done}, e.g. `{self.example}`"
        )


def _fit(n: int, what: str) -> clingo.Symbol:
    if n < _INT32_MIN or n > _INT32_MAX:
        raise UnconvertibleTerm("out_of_range", f"{what} does not fit a 32-bit clingo number")
    return clingo.Number(n)


def parse_integer(lexical: str, datatype: str) -> int:
    """The value of an XSD integer literal; UnconvertibleTerm if ill-typed."""
    text = lexical.strip()
    if not _INT_LEX.fullmatch(text):
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` is not an integer")
    n = int(text)
    low, high = _INTEGER_BOUNDS.get(datatype, (None, None))
    if (low is not None and n < low) or (high is not None and n > high):
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` is out of the range of `{datatype}`")
    return n


def parse_date(lexical: str) -> date:
    """The calendar day of an ``xsd:date`` lexical form (its time zone is ignored)."""
    m = _DATE_LEX.fullmatch(lexical.strip())
    if m is None:
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` is not an xsd:date")
    return _make_date(m.group(1), m.group(2), m.group(3), lexical)


def _make_date(year: str, month: str, day: str, lexical: str) -> date:
    y = int(year)
    if y < 1 or y > 9999:
        raise UnconvertibleTerm("out_of_range", f"the year of `{lexical}` is out of 1…9999")
    try:
        return date(y, int(month), int(day))
    except ValueError as exc:
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` is not a valid date") from exc


def parse_datetime(lexical: str, *, require_zone: bool = False) -> datetime:
    """An aware UTC datetime of an ``xsd:dateTime`` (no zone = UTC; fractions dropped)."""
    m = _DATETIME_LEX.fullmatch(lexical.strip())
    if m is None:
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` is not an xsd:dateTime")
    if require_zone and m.group(8) is None:
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` lacks the required time zone")
    day = _make_date(m.group(1), m.group(2), m.group(3), lexical)
    hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if hour == 24 and minute == 0 and second == 0:  # XSD: 24:00:00 is the next midnight
        hour, extra = 0, timedelta(days=1)
    else:
        extra = timedelta()
        if hour > 23 or minute > 59 or second > 59:
            raise UnconvertibleTerm("ill_typed", f"`{lexical}` has an invalid time of day")
    offset = timedelta()
    if m.group(9) is not None:
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 14 or om > 59:
            raise UnconvertibleTerm("ill_typed", f"`{lexical}` has an invalid time zone")
        offset = timedelta(hours=oh, minutes=om) * (1 if m.group(9) == "+" else -1)
    naive = datetime(day.year, day.month, day.day, hour, minute, second)
    return (naive + extra - offset).replace(tzinfo=UTC)


def term_to_symbol(term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple,
                   prefixes: PrefixMap) -> clingo.Symbol:
    """The clingo symbol of one RDF term; UnconvertibleTerm when it has none."""
    if isinstance(term, ox.NamedNode):
        return clingo.String(prefixes.compact(term.value))
    if not isinstance(term, ox.Literal):
        kind = "blank node" if isinstance(term, ox.BlankNode) else "triple term"
        raise UnconvertibleTerm("unsupported", f"a {kind} has no ASP form")
    datatype = term.datatype.value
    lexical = term.value
    if datatype in INTEGER_DATATYPES:
        return _fit(parse_integer(lexical, datatype), f"`{lexical}`")
    if datatype == DATE:
        return _fit((parse_date(lexical) - _EPOCH_DAY).days, f"`{lexical}`")
    if datatype in (DATETIME, DATETIME_STAMP):
        moment = parse_datetime(lexical, require_zone=datatype == DATETIME_STAMP)
        seconds = (moment - _EPOCH) // timedelta(seconds=1)
        return _fit(seconds, f"`{lexical}`")
    if datatype == BOOLEAN:
        text = lexical.strip()
        if text in ("true", "1"):
            return TRUE
        if text in ("false", "0"):
            return FALSE
        raise UnconvertibleTerm("ill_typed", f"`{lexical}` is not an xsd:boolean")
    if "\x00" in lexical:
        raise UnconvertibleTerm("unsupported", "a string holding U+0000 cannot be a clingo string")
    return clingo.String(lexical)


def symbol_to_term(symbol: clingo.Symbol, arg_type: ArgType, prefixes: PrefixMap) -> RdfTerm:
    """The canonical RDF term of a symbol of a known argument type (the way back without index).

    Lexical forms come back canonical: ``"007"^^xsd:integer`` went to ``7`` and comes back as
    ``"7"^^xsd:integer``; a ``dateTime`` comes back in UTC. :class:`TermIndex` keeps the
    exact original terms.
    """
    st = symbol.type
    if arg_type in ("iri", "string"):
        if st != clingo.SymbolType.String:
            raise ValueError(f"`{symbol}` is not a string symbol")
        if arg_type == "iri":
            return ox.NamedNode(prefixes.expand(symbol.string))
        return ox.Literal(symbol.string)
    if arg_type == "bool":
        if symbol == TRUE:
            return ox.Literal("true", datatype=ox.NamedNode(BOOLEAN))
        if symbol == FALSE:
            return ox.Literal("false", datatype=ox.NamedNode(BOOLEAN))
        raise ValueError(f"`{symbol}` is not `true` or `false`")
    if st != clingo.SymbolType.Number:
        raise ValueError(f"`{symbol}` is not a number symbol")
    n = symbol.number
    if arg_type == "int":
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))
    if arg_type == "date":
        return ox.Literal((_EPOCH_DAY + timedelta(days=n)).isoformat(), datatype=ox.NamedNode(DATE))
    moment = _EPOCH + timedelta(seconds=n)
    return ox.Literal(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=ox.NamedNode(DATETIME))


def lexical_label(term: RdfTerm, prefixes: PrefixMap) -> str:
    """The text a person reads for a term without a label: compact IRI or lexical form."""
    if isinstance(term, ox.NamedNode):
        return prefixes.compact(term.value)
    return term.value


def _sort_key(term: RdfTerm) -> str:
    return str(term)


TermKind = Literal["iri", "string", "int", "date", "datetime", "bool"]
"""What a converted term is, compared with a predicate's declared argument type."""

_KIND_OF_DATATYPE: Final[dict[str, TermKind]] = {
    **{dt: "int" for dt in INTEGER_DATATYPES},
    DATE: "date",
    DATETIME: "datetime",
    DATETIME_STAMP: "datetime",
    BOOLEAN: "bool",
}


def term_kind(term: RdfTerm) -> TermKind:
    """The argument type a term converts to (``iri``, ``int``, ``date`` … or ``string``)."""
    if isinstance(term, ox.NamedNode):
        return "iri"
    return _KIND_OF_DATATYPE.get(term.datatype.value, "string")


class TermIndex:
    """Converts RDF terms to symbols and remembers the way back, with labels from the store.

    Sized for million-triple graphs: per distinct term it keeps the symbol's text (what
    ``str(symbol)`` gave) and its kind, and per text the term(s) it came from; symbols
    themselves are rebuilt on demand (``clingo.parse_term``) instead of being held.

    >>> from engine.binding.prefixes import PrefixMap
    >>> index = TermIndex(prefixes=PrefixMap({"acme": "https://id.acme.example/"}))
    >>> sym = index.symbol(ox.NamedNode("https://id.acme.example/vendor/V001"))
    >>> str(sym), index.label(sym)
    ('"acme:vendor/V001"', 'acme:vendor/V001')
    """

    def __init__(self, *, prefixes: PrefixMap, store: KnowledgeStore | None = None) -> None:
        self.prefixes = prefixes
        self._store = store
        self.entries: dict[object, tuple[str, TermKind]] = {}
        """Term → (``str(symbol)``, kind): the fast path the fact loader reads directly."""
        self._terms: dict[str, RdfTerm | list[RdfTerm]] = {}
        self._labels: dict[str, str] = {}
        self._skipped: Counter[tuple[WarningReason, str, str]] = Counter()
        self._examples: dict[tuple[WarningReason, str, str], str] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def symbol(self, term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple) -> (
        clingo.Symbol | None
    ):
        """The symbol of ``term`` (remembered), or None when skipped (counted as a warning)."""
        try:
            sym = term_to_symbol(term, self.prefixes)
        except UnconvertibleTerm as exc:
            self.skip(term, exc.reason)
            return None
        assert isinstance(term, ox.NamedNode | ox.Literal)
        if term not in self.entries:
            self._remember(term, str(sym))
        return sym

    def add(self, term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple, *,
            predicate: str = "") -> tuple[str, TermKind] | None:
        """Convert ``term`` and remember it: its entry, or None when skipped (and counted)."""
        hit = self.entries.get(term)
        if hit is not None:
            return hit
        try:
            text = str(term_to_symbol(term, self.prefixes))
        except UnconvertibleTerm as exc:
            self.skip(term, exc.reason, predicate=predicate)
            return None
        assert isinstance(term, ox.NamedNode | ox.Literal)
        return self._remember(term, text)

    def _remember(self, term: RdfTerm, text: str) -> tuple[str, TermKind]:
        entry = (text, term_kind(term))
        self.entries[term] = entry
        known = self._terms.get(text)
        if known is None:
            self._terms[text] = term
        elif isinstance(known, list):
            known.append(term)
        else:
            self._terms[text] = [known, term]
        return entry

    def skip(self, term: ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple,
             reason: WarningReason, *, predicate: str = "") -> None:
        """Count one skipped (or, for ``type_mismatch``, suspicious) occurrence of ``term``."""
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
        elif isinstance(term, ox.NamedNode):
            datatype = "IRI"
        else:
            datatype = "blank node" if isinstance(term, ox.BlankNode) else "triple term"
        key = (reason, predicate, datatype)
        self._skipped[key] += 1
        self._examples.setdefault(key, str(term)[:200])

    def warnings(self) -> tuple[TermWarning, ...]:
        """Every kind of skipped term so far, with counts, sorted."""
        found = [
            TermWarning(reason, datatype, count, self._examples[(reason, pred, datatype)], pred)
            for (reason, pred, datatype), count in self._skipped.items()
        ]
        return tuple(sorted(found))

    def terms(self, symbol: clingo.Symbol) -> tuple[RdfTerm, ...]:
        """The RDF terms ``symbol`` was produced from (several: `5`^^int and `5`^^integer)."""
        known = self._terms.get(str(symbol))
        if known is None:
            return ()
        if isinstance(known, list):
            return tuple(sorted(known, key=_sort_key))
        return (known,)

    def label(self, symbol: clingo.Symbol) -> str:
        """A person's name for ``symbol``: rdfs:label / skos:prefLabel, else compact IRI or text."""
        key = str(symbol)
        hit = self._labels.get(key)
        if hit is not None:
            return hit
        label = self._fetch_label(symbol)
        self._labels[key] = label
        return label

    def _fetch_label(self, symbol: clingo.Symbol) -> str:
        terms = self.terms(symbol)
        iris = [t for t in terms if isinstance(t, ox.NamedNode)]
        if iris and self._store is not None:
            found = self._query_label(iris[0])
            if found is not None:
                return found
        if terms:
            return lexical_label(terms[0], self.prefixes)
        if symbol.type == clingo.SymbolType.String:
            return symbol.string
        return str(symbol)

    def _query_label(self, iri: ox.NamedNode) -> str | None:
        assert self._store is not None
        query = (
            "SELECT ?p ?l WHERE { VALUES ?p { "
            f"<{RDFS_LABEL}> <{SKOS_PREF_LABEL}> }} GRAPH ?g {{ {iri} ?p ?l }} }}"
        )
        result = self._store.query(query)
        best: tuple[int, int, str] | None = None
        if not isinstance(result, ox.QuerySolutions):
            return None
        for row in result:
            prop, lit = row[0], row[1]
            if not isinstance(lit, ox.Literal) or not isinstance(prop, ox.NamedNode):
                continue
            lang = lit.language or ""
            rank = (
                0 if prop.value == RDFS_LABEL else 1,
                0 if lang.lower().startswith("en") else (1 if not lang else 2),
                lit.value,
            )
            if best is None or rank < best:
                best = rank
        return best[2] if best is not None else None
