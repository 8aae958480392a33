"""Parsing YARRRML: every supported form, every rejected feature, each error located."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest

from connectors.base import LogicalSource
from engine.errors import MappingError
from engine.mapping import (
    MappingDocument,
    ObjectMap,
    RefObjectMap,
    TermType,
    load_mapping,
    parse_mapping,
)

EX = "https://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
HEAD = 'prefixes:\n  ex: "https://example.org/"\nmappings:\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(tmp_path: Path, body: str) -> MappingDocument:
    """Load ``HEAD`` + ``body`` (mappings, indented by two spaces)."""
    text = HEAD + textwrap.indent(textwrap.dedent(body), "  ")
    return load_mapping(_write(tmp_path, text), base_dir=tmp_path)


def _describe_object(o: ObjectMap | RefObjectMap) -> str:
    if isinstance(o, RefObjectMap):
        conds = ",".join(f"{c.child.text}={c.parent.text}" for c in o.conditions)
        return f"join:{o.parent}[{conds}]"
    if o.term_type is TermType.IRI:
        return f"iri:{o.template.text}"
    suffix = ""
    if o.datatype is not None:
        suffix = f"^^{o.datatype.value}"
    if o.language is not None:
        suffix = f"@{o.language}"
    return f"lit:{o.template.text}{suffix}"


def _describe(doc: MappingDocument) -> list[str]:
    """One line per predicate-object pair, prefixed by mapping name and subject."""
    lines: list[str] = []
    for m in doc.mappings:
        lines.append(f"{m.name} {m.subject.text}")
        for po in m.predicate_objects:
            preds = ",".join(p.value for p in po.predicates)
            lines.extend(f"  {preds} {_describe_object(o)}" for o in po.objects)
    return lines


SUPPORTED: list[tuple[str, str, list[str]]] = [
    (
        "type-and-plain-literal",
        """
        vendor:
          sources: [[data/vendors.csv~csv]]
          s: ex:vendor/$(id)
          po:
            - [a, ex:Vendor]
            - [ex:name, $(name)]
        """,
        [
            f"vendor {EX}vendor/$(id)",
            f"  {RDF_TYPE} iri:{EX}Vendor",
            f"  {EX}name lit:$(name)",
        ],
    ),
    (
        "language-datatype-iri-constant",
        """
        vendor:
          sources:
            - ['data/vendors.csv~csv']
          s: ex:vendor/$(id)
          po:
            - [ex:label, $(name), en~lang]
            - [ex:score, $(score), xsd:integer]
            - [ex:owner, ex:person/$(owner)~iri]
            - [ex:note, "constant text"]
            - [ex:kind, ex:Thing]
        """,
        [
            f"vendor {EX}vendor/$(id)",
            f"  {EX}label lit:$(name)@en",
            f"  {EX}score lit:$(score)^^{XSD}integer",
            f"  {EX}owner iri:{EX}person/$(owner)",
            f"  {EX}note lit:constant text",
            f"  {EX}kind lit:ex:Thing",
        ],
    ),
    (
        "several-predicates-and-objects",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [[ex:p1, ex:p2], $(x)]
            - [a, [ex:A, ex:B]]
            - [rdf:type, ex:C]
        """,
        [
            f"vendor {EX}v/$(id)",
            f"  {EX}p1,{EX}p2 lit:$(x)",
            f"  {RDF_TYPE} iri:{EX}A",
            f"  {RDF_TYPE} iri:{EX}B",
            f"  {RDF_TYPE} iri:{EX}C",
        ],
    ),
    (
        "long-forms",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:lastAudit
              o: {value: $(last_audit), datatype: xsd:date}
            - p: ex:owner
              o: {value: ex:person/$(owner), type: iri}
            - predicates: [ex:a, ex:b]
              objects: [$(x), {value: $(y), language: fr}]
            - p: ex:c
              o: {value: "$(first) $(last)", type: literal}
        """,
        [
            f"vendor {EX}v/$(id)",
            f"  {EX}lastAudit lit:$(last_audit)^^{XSD}date",
            f"  {EX}owner iri:{EX}person/$(owner)",
            f"  {EX}a,{EX}b lit:$(x)",
            f"  {EX}a,{EX}b lit:$(y)@fr",
            f"  {EX}c lit:$(first) $(last)",
        ],
    ),
    (
        "joins-with-and-without-condition",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
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
                    - [str2, $(id)]
                    - [str1, $(vendor)]
            - p: ex:self
              o: {mapping: contract}
            - p: ex:both
              o:
                mapping: vendor
                condition:
                  - {function: equal, parameters: [[str1, $(a)], [str2, $(b)]]}
                  - {function: equal, parameters: [[str1, $(c)], [str2, $(d)]]}
        """,
        [
            f"vendor {EX}v/$(id)",
            f"contract {EX}c/$(cid)",
            f"  {EX}with join:vendor[$(vendor)=$(id)]",
            f"  {EX}self join:contract[]",
            f"  {EX}both join:vendor[$(a)=$(b),$(c)=$(d)]",
        ],
    ),
    (
        "aliases-full-iris-and-urns",
        """
        vendor:
          source: [v.csv~csv]
          subject: https://other.example/v/$(id)~iri
          predicateobjects:
            - [http://purl.org/dc/terms/title, $(t)]
            - [ex:same, urn:isbn:$(isbn)~iri]
        """,
        [
            "vendor https://other.example/v/$(id)",
            "  http://purl.org/dc/terms/title lit:$(t)",
            f"  {EX}same iri:urn:isbn:$(isbn)",
        ],
    ),
    (
        "reference-only-subject-and-no-po",
        """
        thing:
          sources: [[t.json~jsonpath, "$.items[*]"]]
          s: $(iri)
        """,
        ["thing $(iri)"],
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in SUPPORTED], ids=[i for i, _, _ in SUPPORTED]
)
def test_supported_forms_parse(tmp_path: Path, body: str, expected: list[str]) -> None:
    assert _describe(_load(tmp_path, body)) == expected


SOURCES: list[tuple[str, str, LogicalSource]] = [
    ("csv", "[[data/v.csv~csv]]", LogicalSource("csv", path="data/v.csv")),
    ("csv-flat", "[data/v.csv~csv]", LogicalSource("csv", path="data/v.csv")),
    (
        "jsonpath",
        "[['data/p.json~jsonpath', '$.relationships[*]']]",
        LogicalSource("jsonpath", path="data/p.json", iterator="$.relationships[*]"),
    ),
    ("jsonpath-no-iterator", "[[p.jsonl~jsonpath]]", LogicalSource("jsonpath", path="p.jsonl")),
    ("table", "[{table: employees}]", LogicalSource("sql", table="employees")),
    ("table-map", "{table: employees}", LogicalSource("sql", table="employees")),
    (
        "query",
        "[{query: 'SELECT id FROM t', referenceFormulation: csv}]",
        LogicalSource("sql", query="SELECT id FROM t"),
    ),
    (
        "cypher",
        "[{query: 'MATCH (n) RETURN n.id AS id', referenceFormulation: cypher}]",
        LogicalSource("cypher", query="MATCH (n) RETURN n.id AS id"),
    ),
    (
        "long-access",
        "[{access: d.json, referenceFormulation: jsonpath, iterator: '$[*]'}]",
        LogicalSource("jsonpath", path="d.json", iterator="$[*]"),
    ),
    ("long-access-suffix", "[{access: d.csv~csv}]", LogicalSource("csv", path="d.csv")),
]


@pytest.mark.parametrize(
    ("sources", "expected"), [(s, e) for _, s, e in SOURCES], ids=[i for i, _, _ in SOURCES]
)
def test_source_forms(tmp_path: Path, sources: str, expected: LogicalSource) -> None:
    doc = _load(tmp_path, f"m:\n  sources: {sources}\n  s: ex:x/$(id)\n")
    assert doc.logical_sources() == (expected,)


# Each rejected document marks the line the error must name with `#!`.
REJECTED: list[tuple[str, str, str]] = [
    (
        "graphs",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          graphs: ex:g  #!
        """,
        "unsupported YARRRML key `graphs` in mapping `vendor`; warrant puts each source in "
        "its own named graph",
    ),
    (
        "g-in-po",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o: $(x)
              g: ex:graph  #!
        """,
        "unsupported YARRRML key `g`",
    ),
    (
        "targets",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          targets: out.nt  #!
        """,
        "unsupported YARRRML key `targets`",
    ),
    (
        "function-object",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:name
              o:
                function: grel:toUpperCase  #!
                parameters: [[grel:valueParameter, $(name)]]
        """,
        "unsupported YARRRML key `function`",
    ),
    (
        "non-equal-join",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o:
                mapping: vendor
                condition:
                  function: grel:string_contains  #!
                  parameters: [[str1, $(a)], [str2, $(b)]]
        """,
        "unsupported function `grel:string_contains`",
    ),
    (
        "no-subject",
        """
        vendor:  #!
          sources: [[v.csv~csv]]
          po: [[ex:p, $(x)]]
        """,
        "blank-node subjects are not supported",
    ),
    (
        "blank-subject",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: _:b$(id)  #!
        """,
        "blank-node subjects are not supported",
    ),
    (
        "null-subject",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: null  #!
        """,
        "blank-node subjects are not supported",
    ),
    (
        "blank-object",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o: {value: $(x), type: blank}  #!
        """,
        "blank-node objects are not supported",
    ),
    (
        "two-sources",
        """
        vendor:
          sources:
            - [v.csv~csv]
            - [w.csv~csv]  #!
          s: ex:v/$(id)
        """,
        "exactly one source per mapping",
    ),
    (
        "unknown-mapping-key",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          colour: blue  #!
        """,
        "unknown key `colour` in mapping `vendor`",
    ),
    (
        "repeated-alias",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          subject: ex:w/$(id)  #!
        """,
        "`subject` repeats `s`",
    ),
    (
        "duplicate-mapping",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
        vendor:  #!
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
        """,
        "duplicate key `vendor`",
    ),
    (
        "unknown-prefix-subject",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: acme:v/$(id)  #!
        """,
        "unknown prefix `acme` in `acme:v/$(id)`",
    ),
    (
        "unknown-prefix-predicate",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [foaf:name, $(x)]  #!
        """,
        "unknown prefix `foaf`",
    ),
    (
        "unknown-prefix-datatype",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o: {value: $(x), datatype: xs:int}  #!
        """,
        "unknown prefix `xs`",
    ),
    (
        "subject-not-an-iri",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: not an iri  #!
        """,
        "`not an iri` is not an IRI or a prefixed name",
    ),
    (
        "subject-bad-iri",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: "ex:v /$(id)"  #!
        """,
        "is not a valid IRI template",
    ),
    (
        "predicate-template",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:$(p), $(x)]  #!
        """,
        "must be a constant IRI, not a template",
    ),
    (
        "unclosed-reference",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id  #!
        """,
        "unclosed reference",
    ),
    (
        "empty-reference",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$()  #!
        """,
        "bad reference `$()`",
    ),
    (
        "unknown-formulation",
        """
        vendor:
          sources: [[v.xml~xpath, /a]]  #!
          s: ex:v/$(id)
        """,
        "must end in `~csv` or `~jsonpath`",
    ),
    (
        "csv-iterator",
        """
        vendor:
          sources: [[v.csv~csv, "$[*]"]]  #!
          s: ex:v/$(id)
        """,
        "an `iterator` needs a `jsonpath` source",
    ),
    (
        "unknown-source-key",
        """
        vendor:
          sources:
            - {access: db, type: mysql}  #!
          s: ex:v/$(id)
        """,
        "unknown key `type` in the source of mapping `vendor`",
    ),
    (
        "bad-language",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:p, $(x), not_a_language_tag~lang]  #!
        """,
        "is not a valid language tag",
    ),
    (
        "lang-string-datatype",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:p, $(x), rdf:langString]  #!
        """,
        "rdf:langString",
    ),
    (
        "datatype-and-language",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o:
                value: $(x)
                datatype: xsd:string
                language: en  #!
        """,
        "a `datatype` or a `language`, not both",
    ),
    (
        "iri-with-datatype",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:p, ex:o/$(x)~iri, xsd:string]  #!
        """,
        "an IRI object takes no datatype",
    ),
    (
        "condition-without-mapping",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o:
                value: $(x)
                condition: {function: equal, parameters: [[str1, $(a)], [str2, $(b)]]}  #!
        """,
        "`condition` needs a `mapping`",
    ),
    (
        "bad-join-parameter",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o:
                mapping: vendor
                condition:
                  function: equal
                  parameters:
                    - [str1, $(a)]
                    - [str3, $(b)]  #!
        """,
        "join parameters must be `str1` and `str2`",
    ),
    (
        "unknown-parent",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - p: ex:p
              o: {mapping: nobody}  #!
        """,
        "unknown mapping `nobody` in mapping `vendor`",
    ),
    (
        "join-without-condition-other-source",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
        contract:
          sources: [[c.csv~csv]]
          s: ex:c/$(id)
          po:
            - p: ex:vendor
              o:
                mapping: vendor  #!
        """,
        "both must read the same source",
    ),
    (
        "po-not-a-list",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po: {p: ex:p, o: $(x)}  #!
        """,
        "`po` of mapping `vendor` must be a list",
    ),
    (
        "po-too-long",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:p, $(x), xsd:string, extra]  #!
        """,
        "a `po` entry must be",
    ),
    (
        "lang-as-object",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:p, en~lang]  #!
        """,
        "an object cannot be `~lang`",
    ),
    (
        "null-object",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: ex:v/$(id)
          po:
            - [ex:p, null]  #!
        """,
        "an object must be a string",
    ),
    (
        "two-subjects",
        """
        vendor:
          sources: [[v.csv~csv]]
          s: [ex:a/$(id), ex:b/$(id)]  #!
        """,
        "exactly one subject",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [(b, m) for _, b, m in REJECTED], ids=[i for i, _, _ in REJECTED]
)
def test_rejected_mappings_name_file_line_and_key(tmp_path: Path, body: str, message: str) -> None:
    text = HEAD + textwrap.indent(textwrap.dedent(body), "  ")
    expected_line = next(i for i, line in enumerate(text.splitlines(), 1) if "#!" in line)
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, text), base_dir=tmp_path)
    err = info.value
    assert err.code == "mapping_error"
    assert message in err.message
    assert err.location is not None
    assert (err.location.file, err.location.line) == ("m.yaml", expected_line)
    assert "\n" not in err.message


# Whole documents: top-level problems, with the expected line (None: no line to name).
REJECTED_DOCUMENTS: list[tuple[str, str, int | None, str]] = [
    ("empty", "", 1, "mapping file is empty"),
    ("only-comment", "# nothing here\n", 1, "mapping file is empty"),
    ("no-mappings", 'prefixes: {ex: "https://example.org/"}\n', 1, "has no `mappings`"),
    ("mappings-not-map", "mappings: [a, b]\n", 1, "`mappings` must be a non-empty map"),
    ("unknown-top", "mappings: {}\nrules: 1\n", 2, "unknown key `rules` at the top level"),
    ("top-sources", "sources: {a: [a.csv~csv]}\n", 1, "unsupported YARRRML key `sources`"),
    ("base", "base: http://x.org/\n", 1, "unsupported YARRRML key `base`"),
    ("prefix-relative", "prefixes:\n  ex: not/absolute\n", 2, "is not an absolute IRI"),
    ("unclosed-flow", "mappings:\n  m: [a, b\n", 3, "malformed yaml"),
    ("bad-indent", "mappings:\n  m:\n    s: a\n   po: b\n", 4, "malformed yaml"),
    ("tab", "mappings:\n\tm: 1\n", 2, "malformed yaml"),
    ("two-documents", "mappings: {}\n---\nmappings: {}\n", 2, "malformed yaml"),
    ("top-list", "- a\n- b\n", 1, "the mapping file must be a map"),
]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [(t, ln, m) for _, t, ln, m in REJECTED_DOCUMENTS],
    ids=[i for i, _, _, _ in REJECTED_DOCUMENTS],
)
def test_rejected_documents(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, text), base_dir=tmp_path)
    err = info.value
    assert err.code == "mapping_error"
    assert message in err.message
    assert err.location is not None
    assert err.location.file == "m.yaml"
    assert err.location.line == line


def test_malformed_yaml_names_column(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, "mappings:\n  m: [a, b\n"))
    loc = info.value.location
    assert loc is not None and loc.column is not None
    assert str(info.value).startswith(f"{tmp_path / 'm.yaml'}:3:")


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping file"):
        load_mapping(tmp_path / "absent.yaml")
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"mappings:\n  caf\xe9: 1\n")
    with pytest.raises(MappingError, match="not utf-8"):
        load_mapping(bad)


def test_document_version_path_and_sources(tmp_path: Path) -> None:
    body = """
    vendor:
      sources: [[v.csv~csv]]
      s: ex:v/$(id)
    contract:
      sources: [[c.csv~csv]]
      s: ex:c/$(id)
    vendor_name:
      sources: [[v.csv~csv]]
      s: ex:v/$(id)
    """
    doc = _load(tmp_path, body)
    raw = (tmp_path / "m.yaml").read_bytes()
    assert doc.version == hashlib.sha256(raw).hexdigest()[:16]
    assert doc.path == tmp_path / "m.yaml"
    assert doc.file == "m.yaml"
    assert [m.name for m in doc.mappings] == ["vendor", "contract", "vendor_name"]
    assert doc.logical_sources() == (
        LogicalSource("csv", path="v.csv"),
        LogicalSource("csv", path="c.csv"),
    )
    assert doc.mapping("contract").name == "contract"
    (tmp_path / "m.yaml").write_bytes(raw + b"# changed\n")
    assert load_mapping(tmp_path / "m.yaml").version != doc.version


def test_builtin_prefixes_can_be_overridden_and_constants_prebuilt(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """
        prefixes:
          prov: "https://not-prov.example/"
        mappings:
          m:
            sources: [[m.csv~csv]]
            s: prov:x/$(id)
            po:
              - [owl:sameAs, prov:y~iri]
              - [rdfs:label, hi, en-GB~lang]
        """
    )
    doc = parse_mapping(text, file="inline.yaml")
    m = doc.mappings[0]
    assert m.subject.text == "https://not-prov.example/x/$(id)"
    same, label = (po.objects[0] for po in m.predicate_objects)
    assert isinstance(same, ObjectMap) and isinstance(label, ObjectMap)
    assert same.constant == ox.NamedNode("https://not-prov.example/y")
    assert label.constant == ox.Literal("hi", language="en-gb")
    assert m.location.file == "inline.yaml" and m.location.line == 5
