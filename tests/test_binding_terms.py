"""RDF term ↔ clingo symbol: the table of conversions, ill-typed input, and round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import clingo
import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.binding.prefixes import PrefixMap
from engine.binding.terms import (
    FALSE,
    TRUE,
    ArgType,
    TermIndex,
    UnconvertibleTerm,
    symbol_to_term,
    term_to_symbol,
)
from engine.store.oxigraph import OxigraphStore

XSD = "http://www.w3.org/2001/XMLSchema#"
ACME = "https://id.acme.example/"
PM = PrefixMap.standard({"acme": ACME})


def lit(value: str, datatype: str | None = None) -> ox.Literal:
    if datatype is None:
        return ox.Literal(value)
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


@pytest.mark.parametrize(
    ("term", "symbol"),
    [
        (ox.NamedNode(ACME + "vendor/V001"), clingo.String("acme:vendor/V001")),
        (ox.NamedNode("https://w3id.org/warrant/vendor-risk#high"), clingo.String("vr:high")),
        (ox.NamedNode("urn:x:y"), clingo.String("urn:x:y")),
        (lit("42", "integer"), clingo.Number(42)),
        (lit("-7", "int"), clingo.Number(-7)),
        (lit("+007", "long"), clingo.Number(7)),
        (lit(" 5 ", "nonNegativeInteger"), clingo.Number(5)),
        (lit("true", "boolean"), TRUE),
        (lit("1", "boolean"), TRUE),
        (lit("false", "boolean"), FALSE),
        (lit("0", "boolean"), FALSE),
        (lit("1970-01-01", "date"), clingo.Number(0)),
        (lit("2025-01-01", "date"), clingo.Number(20089)),
        (lit("2025-01-01Z", "date"), clingo.Number(20089)),
        (lit("2025-01-01+05:00", "date"), clingo.Number(20089)),
        (lit("1969-12-31", "date"), clingo.Number(-1)),
        (lit("1970-01-01T00:00:00Z", "dateTime"), clingo.Number(0)),
        (lit("1970-01-01T00:00:00", "dateTime"), clingo.Number(0)),  # no zone = UTC
        (lit("1970-01-01T02:00:00+02:00", "dateTime"), clingo.Number(0)),
        (lit("1970-01-01T00:00:01.999Z", "dateTime"), clingo.Number(1)),  # fraction dropped
        (lit("1970-01-01T24:00:00Z", "dateTime"), clingo.Number(86400)),
        (lit("2025-06-01T12:00:00Z", "dateTimeStamp"), clingo.Number(1748779200)),
        (lit("1.50", "decimal"), clingo.String("1.50")),  # no floats in ASP
        (lit("1e3", "double"), clingo.String("1e3")),
        (lit("plain"), clingo.String("plain")),
        (ox.Literal("hallo", language="de"), clingo.String("hallo")),
        (lit("http://x", "anyURI"), clingo.String("http://x")),
        (lit('say "hi"\\\n', "string"), clingo.String('say "hi"\\\n')),
    ],
)
def test_conversion_table(term: ox.NamedNode | ox.Literal, symbol: clingo.Symbol) -> None:
    assert term_to_symbol(term, PM) == symbol


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        (lit("high", "integer"), "ill_typed"),
        (lit("1.5", "integer"), "ill_typed"),
        (lit("", "integer"), "ill_typed"),
        (lit("-1", "nonNegativeInteger"), "ill_typed"),
        (lit("0", "positiveInteger"), "ill_typed"),
        (lit("300", "byte"), "ill_typed"),
        (lit("2147483648", "integer"), "out_of_range"),
        (lit("-2147483649", "long"), "out_of_range"),
        (lit("yes", "boolean"), "ill_typed"),
        (lit("2025-13-01", "date"), "ill_typed"),
        (lit("2025-02-30", "date"), "ill_typed"),
        (lit("01/02/2025", "date"), "ill_typed"),
        (lit("0000-01-01", "date"), "out_of_range"),
        (lit("2025-01-01T25:00:00Z", "dateTime"), "ill_typed"),
        (lit("2025-01-01T10:00:00+15:00", "dateTime"), "ill_typed"),
        (lit("2025-01-01", "dateTime"), "ill_typed"),
        (lit("2040-01-01T00:00:00Z", "dateTime"), "out_of_range"),  # past 2038: 32-bit
        (lit("2025-01-01T10:00:00", "dateTimeStamp"), "ill_typed"),  # zone required
        (lit("a\x00b"), "unsupported"),  # clingo strings are C strings
        (ox.BlankNode("b1"), "unsupported"),
        (ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:o")),
         "unsupported"),
    ],
)
def test_unconvertible_terms(term: ox.Literal | ox.BlankNode | ox.Triple, reason: str) -> None:
    with pytest.raises(UnconvertibleTerm) as info:
        term_to_symbol(term, PM)
    assert info.value.reason == reason


def test_index_counts_skipped_terms_and_never_raises() -> None:
    index = TermIndex(prefixes=PM)
    for _ in range(3):
        assert index.symbol(lit("high", "integer")) is None
    assert index.symbol(lit("2025-13-01", "date")) is None
    assert index.symbol(lit("7", "integer")) == clingo.Number(7)
    warnings = index.warnings()
    assert [(w.reason, w.datatype, w.count) for w in warnings] == [
        ("ill_typed", XSD + "date", 1),
        ("ill_typed", XSD + "integer", 3),
    ]
    assert "high" in warnings[1].example and "3 ill typed" in str(warnings[1])


def test_index_keeps_every_term_of_a_symbol() -> None:
    index = TermIndex(prefixes=PM)
    a, b = lit("5", "int"), lit("5", "integer")
    assert index.symbol(a) == index.symbol(b) == clingo.Number(5)
    assert set(index.terms(clingo.Number(5))) == {a, b}
    assert index.terms(clingo.Number(6)) == ()


def test_labels_come_from_the_store_lazily() -> None:
    store = OxigraphStore(None)
    g = ox.NamedNode("urn:warrant:graph:ontology")
    v1 = ox.NamedNode(ACME + "vendor/V001")
    v2 = ox.NamedNode(ACME + "vendor/V002")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    pref = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    store.raw.extend([
        ox.Quad(v1, label, ox.Literal("Acme Cloud", language="en"), g),
        ox.Quad(v1, label, ox.Literal("Acme Nuage", language="fr"), g),
        ox.Quad(v2, pref, ox.Literal("Beta Corp"), g),
    ])
    index = TermIndex(prefixes=PM, store=store)
    s1, s2 = index.symbol(v1), index.symbol(v2)
    s3 = index.symbol(ox.NamedNode(ACME + "vendor/V003"))
    d = index.symbol(lit("2025-01-01", "date"))
    assert s1 is not None and s2 is not None and s3 is not None and d is not None
    assert index.label(s1) == "Acme Cloud"
    assert index.label(s2) == "Beta Corp"
    assert index.label(s3) == "acme:vendor/V003"  # no label: compact IRI
    assert index.label(d) == "2025-01-01"  # a literal: its lexical form
    store.raw.add(ox.Quad(v1, label, ox.Literal("Changed"), g))
    assert index.label(s1) == "Acme Cloud"  # cached
    assert index.label(clingo.String("never seen")) == "never seen"
    assert index.label(clingo.Function("high")) == "high"


# --- round trips --------------------------------------------------------------------------

_SAFE_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_local = st.text(
    alphabet=st.one_of(
        st.characters(categories=("Lu", "Ll", "Lo", "Nd")),
        st.sampled_from("-._~/:@!$&'()*+,;=?"),
    ),
    max_size=30,
).map(lambda s: s + "%20" if s.endswith("x") else s)


@st.composite
def iris(draw: st.DrawFn) -> ox.NamedNode:
    base = draw(st.sampled_from([ACME, "https://w3id.org/warrant/core#", "urn:isbn:",
                                 "http://unbound.example/x/", "wr:", "acme:"]))
    return ox.NamedNode(base + draw(_local))


def _round_trip(term: ox.NamedNode | ox.Literal, arg_type: ArgType) -> None:
    sym = term_to_symbol(term, PM)
    assert clingo.parse_term(str(sym)) == sym
    assert symbol_to_term(sym, arg_type, PM) == term
    index = TermIndex(prefixes=PM)
    assert index.symbol(term) == sym
    assert index.terms(sym) == (term,)


@given(iris())
def test_iri_round_trip(term: ox.NamedNode) -> None:
    _round_trip(term, "iri")


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1))
def test_int_round_trip(n: int) -> None:
    _round_trip(lit(str(n), "integer"), "int")


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_date_round_trip(d: date) -> None:
    term = lit(d.isoformat(), "date")
    _round_trip(term, "date")
    assert term_to_symbol(term, PM) == clingo.Number((d - date(1970, 1, 1)).days)


@given(
    st.datetimes(min_value=datetime(1901, 12, 14), max_value=datetime(2038, 1, 18)),
    st.integers(min_value=-14 * 4, max_value=14 * 4),
)
def test_datetime_round_trip(moment: datetime, quarter_hours: int) -> None:
    zone = timezone(timedelta(minutes=15 * quarter_hours))
    aware = moment.replace(microsecond=0, tzinfo=zone)
    term = lit(aware.isoformat(), "dateTime")
    sym = term_to_symbol(term, PM)
    back = symbol_to_term(sym, "datetime", PM)
    assert datetime.fromisoformat(back.value.replace("Z", "+00:00")) == aware.astimezone(UTC)
    assert TermIndex(prefixes=PM).terms(sym) == ()
    index = TermIndex(prefixes=PM)
    index.symbol(term)
    assert index.terms(sym) == (term,)  # the index keeps the exact original


@given(st.booleans())
def test_bool_round_trip(b: bool) -> None:
    _round_trip(lit("true" if b else "false", "boolean"), "bool")


@given(st.text(alphabet=_SAFE_CHARS))
def test_string_round_trip(text: str) -> None:
    _round_trip(lit(text, "string"), "string")
    sym = clingo.String(text)
    assert clingo.parse_term(f"p({sym})") == clingo.Function("p", [sym])


@pytest.mark.parametrize(
    "text", ['x"). action(evil). %', "a\\", "\\\"", "line\nbreak", "é😀\r\t"]
)
def test_hostile_strings_stay_one_constant(text: str) -> None:
    sym = term_to_symbol(lit(text), PM)
    ctl = clingo.Control()
    ctl.add("base", [], f"p({sym}).")
    ctl.ground([("base", [])])
    atoms = [a.symbol for a in ctl.symbolic_atoms]
    assert atoms == [clingo.Function("p", [clingo.String(text)])]
