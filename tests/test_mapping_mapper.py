"""Applying mappings to in-memory records: triples, grouping, joins, nulls, errors, determinism."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import unquote

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import LogicalSource, Record, RecordLocator
from engine.errors import MappingError
from engine.mapping import (
    MappedRecord,
    MappingDocument,
    compile_template,
    iri_safe,
    map_records,
    parse_mapping,
)

EX = "https://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
HEAD = 'prefixes:\n  ex: "https://example.org/"\nmappings:\n'


def ex(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


def doc_of(body: str) -> MappingDocument:
    return parse_mapping(HEAD + textwrap.indent(textwrap.dedent(body), "  "), file="m.yaml")


@dataclass
class MemorySource:
    """A real in-memory implementation of the fetch boundary; counts reads per source."""

    rows: dict[LogicalSource, list[Mapping[str, object]]]
    reads: dict[LogicalSource, int] = field(default_factory=dict)

    def __call__(self, source: LogicalSource) -> Iterable[Record]:
        self.reads[source] = self.reads.get(source, 0) + 1
        container = source.describe()
        for i, values in enumerate(self.rows[source], 1):
            yield Record(RecordLocator("src", container, row=i), values)


CSV_V = LogicalSource("csv", path="v.csv")
CSV_C = LogicalSource("csv", path="c.csv")
JSON_P = LogicalSource("jsonpath", path="p.json", iterator="$[*]")


def run(doc: MappingDocument, fetch: MemorySource) -> list[MappedRecord]:
    return list(map_records(doc, fetch, source_name="src"))


def test_vendor_mapping_gives_the_expected_triples_in_order() -> None:
    doc = doc_of(
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:vendor/$(id)
          po:
            - [a, ex:Vendor]
            - [ex:name, $(name)]
            - [ex:name, $(name), en~lang]
            - [ex:score, $(score), xsd:integer]
            - [ex:owner, ex:person/$(owner)~iri]
            - [ex:note, "constant text"]
            - [[ex:p1, ex:p2], $(name)]
            - p: ex:audited
              o: {value: $(audit), datatype: xsd:date}
        """
    )
    rows: list[Mapping[str, object]] = [
        {
            "id": "V 1/é",
            "name": "Acme",
            "score": "7",
            "owner": "ann lee",
            "audit": "12/03/2024",
        }
    ]
    [rec] = run(doc, MemorySource({CSV_V: rows}))
    s = ex("vendor/V%201%2F\u00e9")
    assert rec.locator == RecordLocator("src", "v.csv", row=1)
    assert rec.triples == (
        ox.Triple(s, RDF_TYPE, ex("Vendor")),
        ox.Triple(s, ex("name"), ox.Literal("Acme")),
        ox.Triple(s, ex("name"), ox.Literal("Acme", language="en")),
        ox.Triple(s, ex("score"), ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))),
        ox.Triple(s, ex("owner"), ex("person/ann%20lee")),
        ox.Triple(s, ex("note"), ox.Literal("constant text")),
        ox.Triple(s, ex("p1"), ox.Literal("Acme")),
        ox.Triple(s, ex("p2"), ox.Literal("Acme")),
        # ill-typed values stay as written so the SHACL gate reports them
        ox.Triple(s, ex("audited"), ox.Literal("12/03/2024", datatype=ox.NamedNode(XSD + "date"))),
    )
    assert rec.subjects == (s,)
    plain = rec.triples[1].object
    assert isinstance(plain, ox.Literal) and plain.datatype == ox.NamedNode(XSD + "string")


VALUES: list[tuple[str, object, str | None]] = [
    ("str", "x y", "x y"),
    ("empty", "", None),
    ("none", None, None),
    ("true", True, "true"),
    ("false", False, "false"),
    ("int", 42, "42"),
    ("zero", 0, "0"),
    ("negative", -3, "-3"),
    ("float", 2.5, "2.5"),
    ("nan", float("nan"), "NaN"),
    ("decimal", Decimal("1E+2"), "100"),
    ("decimal-frac", Decimal("0.10"), "0.10"),
    ("date", dt.date(2024, 3, 12), "2024-03-12"),
    ("datetime", dt.datetime(2024, 3, 12, 9, 30, tzinfo=dt.UTC), "2024-03-12T09:30:00+00:00"),
    ("whitespace", " ", " "),
]


@pytest.mark.parametrize(
    ("value", "lexical"), [(v, lex) for _, v, lex in VALUES], ids=[i for i, _, _ in VALUES]
)
def test_python_values_become_lexical_forms(value: object, lexical: str | None) -> None:
    doc = doc_of(
        """
        m:
          sources: [[v.csv~csv]]
          s: ex:r/$(id)
          po: [[ex:v, $(v)], [ex:t, "v=$(v)"], [ex:i, ex:i/$(v)~iri]]
        """
    )
    [rec] = run(doc, MemorySource({CSV_V: [{"id": "1", "v": value}]}))
    if lexical is None:
        assert rec.triples == ()
    else:
        objects = [t.object for t in rec.triples]
        assert objects == [
            ox.Literal(lexical),
            ox.Literal(f"v={lexical}"),
            ex("i/" + iri_safe(lexical)),
        ]


def test_null_subject_gives_an_empty_record_and_nothing_else() -> None:
    doc = doc_of(
        """
        m:
          sources: [[v.csv~csv]]
          s: ex:r/$(id)
          po: [[ex:v, constant]]
        """
    )
    out = run(doc, MemorySource({CSV_V: [{"id": ""}, {"id": None}, {"id": "3"}]}))
    assert [len(r.triples) for r in out] == [0, 0, 1]
    assert [r.locator.row for r in out] == [1, 2, 3]


def test_mappings_on_one_source_are_grouped_per_record_in_file_order() -> None:
    doc = doc_of(
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po: [[a, ex:Vendor]]
        contract:
          sources: [[c.csv~csv]]
          s: ex:c/$(cid)
          po: [[a, ex:Contract]]
        vendor_owner:
          sources: [[v.csv~csv]]
          s: ex:person/$(owner)
          po: [[ex:owns, ex:v/$(id)~iri], [a, ex:Vendor]]
        """
    )
    fetch = MemorySource(
        {
            CSV_V: [{"id": "1", "owner": "ann"}, {"id": "2", "owner": "bob"}],
            CSV_C: [{"cid": "9"}],
        }
    )
    out = run(doc, fetch)
    assert [str(r.locator) for r in out] == ["v.csv#row=1", "v.csv#row=2", "c.csv#row=1"]
    assert out[0].triples == (
        ox.Triple(ex("v/1"), RDF_TYPE, ex("Vendor")),
        ox.Triple(ex("person/ann"), ex("owns"), ex("v/1")),
        ox.Triple(ex("person/ann"), RDF_TYPE, ex("Vendor")),
    )
    assert out[0].subjects == (ex("v/1"), ex("person/ann"))
    assert fetch.reads == {CSV_V: 1, CSV_C: 1}


def test_duplicate_triples_of_one_record_are_kept_once() -> None:
    doc = doc_of(
        """
        m:
          sources: [[v.csv~csv]]
          s: ex:r/$(id)
          po: [[ex:p, $(a)], [ex:p, $(b)]]
        """
    )
    [rec] = run(doc, MemorySource({CSV_V: [{"id": "1", "a": "same", "b": "same"}]}))
    assert rec.triples == (ox.Triple(ex("r/1"), ex("p"), ox.Literal("same")),)


JOIN = """
vendor:
  sources: [[v.csv~csv]]
  s: ex:v/$(id)
  po: [[ex:name, $(name)]]
contract:
  sources: [[c.csv~csv]]
  s: ex:c/$(cid)
  po:
    - p: ex:with
      o:
        mapping: vendor
        condition:
          function: equal
          parameters:
            - [str1, $(vendor)]
            - [str2, $(name)]
"""


def test_join_with_condition_gives_one_triple_per_matching_parent() -> None:
    fetch = MemorySource(
        {
            CSV_V: [
                {"id": "1", "name": "acme"},
                {"id": "2", "name": "acme"},
                {"id": "3", "name": "globex"},
                {"id": "4", "name": ""},
            ],
            CSV_C: [
                {"cid": "a", "vendor": "acme"},
                {"cid": "b", "vendor": "initech"},
                {"cid": "c", "vendor": ""},
            ],
        }
    )
    out = run(doc_of(JOIN), fetch)
    by_row = {str(r.locator): r.triples for r in out}
    assert by_row["c.csv#row=1"] == (
        ox.Triple(ex("c/a"), ex("with"), ex("v/1")),
        ox.Triple(ex("c/a"), ex("with"), ex("v/2")),
    )
    assert by_row["c.csv#row=2"] == ()
    assert by_row["c.csv#row=3"] == ()
    assert len(by_row) == 7
    assert fetch.reads == {CSV_V: 1, CSV_C: 1}  # the parent is read once, for both uses


def test_join_parent_read_after_child_is_still_read_once() -> None:
    body = """
    contract:
      sources: [[c.csv~csv]]
      s: ex:c/$(cid)
      po:
        - p: ex:with
          o:
            mapping: vendor
            condition: {function: equal, parameters: [[str1, $(vendor)], [str2, $(id)]]}
    vendor:
      sources: [[v.csv~csv]]
      s: ex:v/$(id)
      po: [[a, ex:Vendor]]
    """
    fetch = MemorySource({CSV_V: [{"id": "1"}], CSV_C: [{"cid": "a", "vendor": "1"}]})
    out = run(doc_of(body), fetch)
    assert [str(r.locator) for r in out] == ["c.csv#row=1", "v.csv#row=1"]
    assert out[0].triples == (ox.Triple(ex("c/a"), ex("with"), ex("v/1")),)
    assert fetch.reads == {CSV_V: 1, CSV_C: 1}


def test_join_without_condition_uses_the_same_record() -> None:
    body = """
    person:
      sources: [[v.csv~csv]]
      s: ex:person/$(owner)
    vendor:
      sources: [[v.csv~csv]]
      s: ex:v/$(id)
      po:
        - p: ex:owner
          o: {mapping: person}
    """
    fetch = MemorySource({CSV_V: [{"id": "1", "owner": "ann"}, {"id": "2", "owner": ""}]})
    out = run(doc_of(body), fetch)
    assert [r.triples for r in out] == [
        (ox.Triple(ex("v/1"), ex("owner"), ex("person/ann")),),
        (),
    ]


def test_join_on_several_conditions_and_json_lists() -> None:
    body = """
    team:
      sources: [[p.json~jsonpath, "$[*]"]]
      s: ex:team/$(org)/$(name)
    member:
      sources: [[c.csv~csv]]
      s: ex:person/$(id)
      po:
        - p: ex:memberOf
          o:
            mapping: team
            condition:
              - {function: equal, parameters: [[str1, $(org)], [str2, $(org)]]}
              - {function: equal, parameters: [[str1, $(team)], [str2, $(aliases)]]}
    """
    fetch = MemorySource(
        {
            JSON_P: [
                {"org": "o1", "name": "red", "aliases": ["r", "rouge"]},
                {"org": "o2", "name": "red", "aliases": ["r"]},
            ],
            CSV_C: [
                {"id": "p", "org": "o1", "team": "rouge"},
                {"id": "q", "org": "o2", "team": "r"},
            ],
        }
    )
    out = {str(r.locator): r.triples for r in run(doc_of(body), fetch)}
    assert out["c.csv#row=1"] == (ox.Triple(ex("person/p"), ex("memberOf"), ex("team/o1/red")),)
    assert out["c.csv#row=2"] == (ox.Triple(ex("person/q"), ex("memberOf"), ex("team/o2/red")),)


def test_missing_csv_column_names_mapping_line_record_and_field() -> None:
    doc = doc_of(
        """
        m:
          sources: [[v.csv~csv]]
          s: ex:r/$(id)
          po:
            - [ex:name, $(name)]
            - [ex:mail, $(email)]
        """
    )
    fetch = MemorySource({CSV_V: [{"id": "1", "name": "a"}]})
    with pytest.raises(MappingError) as info:
        run(doc, fetch)
    err = info.value
    assert err.code == "mapping_error"
    assert err.location is not None
    assert err.location.file == "m.yaml"
    assert err.location.line == 10
    assert err.location.record == "v.csv#row=1"
    assert err.location.field == "email"
    assert err.message == "the record has no field `email`; its fields are `id`, `name`"
    assert err.details["source"] == "src"


def test_missing_column_in_a_join_parent_names_the_parent_record() -> None:
    fetch = MemorySource(
        {CSV_V: [{"id": "1"}], CSV_C: [{"cid": "a", "vendor": "acme"}]}  # parent lacks `name`
    )
    with pytest.raises(MappingError) as info:
        run(doc_of(JOIN), fetch)
    loc = info.value.location
    assert loc is not None
    assert (loc.record, loc.field) == ("v.csv#row=1", "name")


def test_sql_sources_are_strict_and_json_sources_read_absent_keys_as_null() -> None:
    sql = LogicalSource("sql", table="people")
    body = """
    db:
      sources: [{table: people}]
      s: ex:p/$(id)
      po: [[ex:n, $(nick)]]
    js:
      sources: [[p.json~jsonpath, "$[*]"]]
      s: ex:j/$(id)
      po:
        - [ex:n, $(nick)]
        - [ex:city, $(address.city)]
        - [ex:first_tag, "$(tags[0])"]
        - [ex:tag, $(tags)]
        - [ex:dotted, $(a.b)]
    """
    doc = doc_of(body)
    with pytest.raises(MappingError, match="no field `nick`"):
        run(doc, MemorySource({sql: [{"id": 1}], JSON_P: []}))
    rows: list[Mapping[str, object]] = [
        {"id": 1, "address": {"city": "Oslo"}, "tags": ["x", "y"], "a.b": "literal key"},
        {"id": 2, "address": {}, "tags": [], "a": {"b": None}},
    ]
    out = run(doc, MemorySource({sql: [], JSON_P: rows}))
    j1, j2 = ex("j/1"), ex("j/2")
    assert out[0].triples == (
        ox.Triple(j1, ex("city"), ox.Literal("Oslo")),
        ox.Triple(j1, ex("first_tag"), ox.Literal("x")),
        ox.Triple(j1, ex("tag"), ox.Literal("x")),
        ox.Triple(j1, ex("tag"), ox.Literal("y")),
        ox.Triple(j1, ex("dotted"), ox.Literal("literal key")),
    )
    assert out[1].triples == ()
    assert out[1].locator.row == 2 and j2 not in out[1].subjects


def test_object_values_and_invalid_iris_are_located_errors() -> None:
    body = """
    m:
      sources: [[p.json~jsonpath]]
      s: $(iri)
      po: [[ex:v, $(v)]]
    """
    doc = doc_of(body)
    json_src = LogicalSource("jsonpath", path="p.json")
    with pytest.raises(MappingError) as info:
        run(doc, MemorySource({json_src: [{"iri": "not an iri", "v": "x"}]}))
    assert "`not an iri`, which is not a valid iri" in info.value.message
    assert info.value.location is not None and info.value.location.field == "iri"
    with pytest.raises(MappingError) as info:
        run(doc, MemorySource({json_src: [{"iri": "urn:x:1", "v": {"k": 1}}]}))
    assert info.value.message == "reference `v` reads an object, not a value"
    assert info.value.location is not None and info.value.location.line == 8
    ok = run(doc, MemorySource({json_src: [{"iri": "urn:x:1", "v": "x"}]}))
    assert ok[0].triples == (ox.Triple(ox.NamedNode("urn:x:1"), ex("v"), ox.Literal("x")),)


def test_mapping_a_document_twice_gives_the_same_records() -> None:
    rows: list[Mapping[str, object]] = [{"id": str(i), "name": f"n{i % 3}"} for i in range(50)]
    parents: list[Mapping[str, object]] = [
        {"cid": str(i), "vendor": f"n{i % 4}"} for i in range(20)
    ]
    doc = doc_of(JOIN)
    first = run(doc, MemorySource({CSV_V: rows, CSV_C: parents}))
    second = run(doc, MemorySource({CSV_V: rows, CSV_C: parents}))
    assert first == second


# --- properties -------------------------------------------------------------------------

_ALPHABET = st.characters(codec="utf-8")


@given(st.text(_ALPHABET))
def test_iri_safe_round_trips(value: str) -> None:
    encoded = iri_safe(value)
    assert unquote(encoded, errors="strict") == value
    assert " " not in encoded and "/" not in encoded and "#" not in encoded


@given(st.text(_ALPHABET, min_size=1), st.text(_ALPHABET, min_size=1))
def test_iri_templates_give_valid_iris_that_decode_to_the_values(a: str, b: str) -> None:
    template = compile_template("https://example.org/x/$(a)/$(b)", line=1, column=1)
    [iri] = template.render({"a": a, "b": b}, iri=True, strict=True)
    node = ox.NamedNode(iri)  # raises if the IRI is not valid
    first, second = node.value.removeprefix("https://example.org/x/").split("/")
    assert (unquote(first), unquote(second)) == (a, b)


_ROW = st.fixed_dictionaries(
    {
        "id": st.text(_ALPHABET, min_size=1, max_size=8),
        "name": st.one_of(st.none(), st.text(_ALPHABET, max_size=8), st.integers()),
        "vendor": st.text(_ALPHABET, max_size=3),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ROW, max_size=12), st.lists(_ROW, max_size=12))
def test_mapping_is_deterministic(
    vendors: list[dict[str, object]], contracts: list[dict[str, object]]
) -> None:
    body = JOIN.replace("$(cid)", "$(id)")
    doc = doc_of(body)
    runs = [
        run(doc, MemorySource({CSV_V: list(vendors), CSV_C: list(contracts)})) for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert len(runs[0]) == len(vendors) + len(contracts)
    for rec in runs[0]:
        assert len(set(rec.triples)) == len(rec.triples)


_TEMPLATES = [
    "https://example.org/x/$(a)",
    "https://example.org/x/$(a)/$(b)#$(a)",
    "$(a)",
    "$(a) and $(b)",
    "$(nested.k)-$(a)",
    "constant",
]
_VALUE = st.one_of(
    st.none(),
    st.text(_ALPHABET, max_size=6),
    st.integers(),
    st.booleans(),
    st.lists(st.text(_ALPHABET, max_size=3), max_size=3),
)
_RECORD = st.dictionaries(st.sampled_from(["a", "b", "nested", "nested.k"]), _VALUE)


@given(st.sampled_from(_TEMPLATES), _RECORD, st.booleans())
def test_fast_renderer_agrees_with_render(text: str, record: dict[str, object], iri: bool) -> None:
    template = compile_template(text, line=1, column=1)
    fast = template.renderer(iri=iri, strict=False)
    assert fast(record) == template.render(record, iri=iri, strict=False)
    strict = template.renderer(iri=iri, strict=True)
    try:
        expected = template.render(record, iri=iri, strict=True)
    except Exception as exc:  # the fast path must fail the same way
        with pytest.raises(type(exc)):
            strict(record)
    else:
        assert strict(record) == expected
