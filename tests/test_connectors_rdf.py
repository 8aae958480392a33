"""RDF file reader: grouping per subject, deterministic skolemisation, located parse errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.rdffile import SKOLEM_PREFIX, rdf_format, read_rdf
from engine.errors import Location, SourceError
from engine.mapping.model import MappedRecord

DATA = Path(__file__).parent / "data" / "connectors"
EX = "http://example.org/"
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")


def read(path: str, workspace: Path = DATA, fmt: str | None = None) -> list[MappedRecord]:
    return list(read_rdf(name="reference", workspace=workspace, path=path, format=fmt))


def keys(records: list[MappedRecord]) -> list[str | None]:
    return [r.locator.key for r in records]


def test_turtle_grouped_per_subject_in_first_seen_order() -> None:
    records = read("reference.ttl")
    # the parser emits a nested `[ ... ]` node's triples before the triple that links it
    acme, address, bolt, contact = records
    assert [acme.locator.key, bolt.locator.key] == [f"subject={EX}acme", f"subject={EX}bolt"]
    for node in (address, contact):
        assert node.locator.key is not None
        assert node.locator.key.startswith(f"subject={SKOLEM_PREFIX}")
    assert acme.locator.container == "reference.ttl"
    assert acme.locator.source == "reference"
    # the triple stated at the end of the file joins its subject's record
    assert ox.Triple(ox.NamedNode(f"{EX}acme"), ox.NamedNode(f"{EX}partner"),
                     ox.NamedNode(f"{EX}bolt")) in acme.triples  # fmt: skip
    assert [r.locator.row for r in records] == [1, 2, 3, 4]
    for record in records:
        assert record.subjects == (record.triples[0].subject,)


def test_blank_nodes_become_stable_skolem_iris(tmp_path: Path) -> None:
    records = read("reference.ttl")
    bnode_keys = [k for k in keys(records) if k is not None and SKOLEM_PREFIX in k]
    assert len(bnode_keys) == 2
    for record in records:
        for triple in record.triples:
            for term in (triple.subject, triple.object):
                assert not isinstance(term, ox.BlankNode)
    # the same bytes elsewhere, read again: identical triples
    shutil.copy(DATA / "reference.ttl", tmp_path / "reference.ttl")
    again = read("reference.ttl", workspace=tmp_path)
    assert [r.triples for r in again] == [r.triples for r in records]
    # an edited file gets different blank-node IRIs (a new version, not the same nodes)
    (tmp_path / "reference.ttl").write_bytes((DATA / "reference.ttl").read_bytes() + b"\n# x\n")
    edited = read("reference.ttl", workspace=tmp_path)
    assert [k for k in keys(edited) if k in bnode_keys] == []
    assert [k for k in keys(edited) if k is not None and EX in k] == [
        f"subject={EX}acme",
        f"subject={EX}bolt",
    ]


def test_skolem_iri_names_the_source() -> None:
    records = read("reference.nt")
    contact = records[-1]
    assert contact.locator.key is not None
    iri = contact.locator.key.removeprefix("subject=")
    assert iri.startswith(f"{SKOLEM_PREFIX}reference:")
    assert iri.rsplit(":", 1)[1] == "1"


def test_ntriples_and_jsonld_read_the_same_facts() -> None:
    nt = {r.locator.key: r for r in read("reference.nt")}
    assert f"subject={EX}acme" in nt
    label = nt[f"subject={EX}bolt"].triples[0]
    assert label == ox.Triple(
        ox.NamedNode(f"{EX}bolt"), RDFS_LABEL, ox.Literal("Bolt", language="en")
    )
    jsonld = read("reference.jsonld")
    assert [k for k in keys(jsonld) if k is not None and EX in k] == [
        f"subject={EX}acme",
        f"subject={EX}bolt",
    ]
    assert ox.Triple(ox.NamedNode(f"{EX}acme"), RDFS_LABEL,
                     ox.Literal("Acme Hosting")) in jsonld[0].triples  # fmt: skip
    assert len(jsonld) == 3  # the address object is a blank node, skolemised


def test_duplicate_triples_kept_once(tmp_path: Path) -> None:
    (tmp_path / "d.nt").write_text(f"<{EX}a> <{EX}p> <{EX}b> .\n" * 3)
    (record,) = read("d.nt", workspace=tmp_path)
    assert len(record.triples) == 1


def test_empty_file_has_no_records(tmp_path: Path) -> None:
    (tmp_path / "e.ttl").write_text("@prefix ex: <http://example.org/> .\n")
    assert read("e.ttl", workspace=tmp_path) == []


@pytest.mark.parametrize(
    ("path", "fmt", "expected"),
    [
        ("a.ttl", None, "turtle"),
        ("a.NT", None, "ntriples"),
        ("a.jsonld", None, "jsonld"),
        ("a.owl", None, "rdfxml"),
        ("a.data", "text/turtle", "turtle"),
        ("a.txt", "JSON-LD", "jsonld"),
        ("a.ttl", "nt", "ntriples"),  # explicit format wins
    ],
)
def test_format_from_extension_or_config(path: str, fmt: str | None, expected: str) -> None:
    assert rdf_format(path=path, format=fmt) == expected


def test_explicit_format_reads_an_unusual_extension(tmp_path: Path) -> None:
    (tmp_path / "ref.data").write_text(f"<{EX}a> <{EX}p> 1 .\n")
    (record,) = read("ref.data", workspace=tmp_path, fmt="turtle")
    assert record.triples[0].object == ox.Literal("1", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))  # fmt: skip


@pytest.mark.parametrize(
    ("path", "fmt", "message"),
    [
        ("a.csv", None, "cannot tell the rdf format of `a.csv` from its extension `.csv`"),
        ("a.ttl", "n3", "unknown rdf format `n3`"),
    ],
)
def test_unknown_formats(path: str, fmt: str | None, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        read(path, fmt=fmt)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("name", "text", "line", "column", "message"),
    [
        ("bad.ttl", "@prefix ex: <http://example.org/> .\n\nex:a ex:p .\n", 3, 11,
         "malformed turtle"),
        ("bad.ttl", "@prefix ex: <http://example.org/> .\nex:a ex:p \"open .\n", 2, None,
         "malformed turtle"),
        ("bad.ttl", "ex:a <http://example.org/p> 1 .\n", 1, 1, "prefix"),
        ("rel.ttl", "<a> <http://example.org/p> 1 .\n", 1, 1, "malformed turtle"),
        ("bad.nt", f"<{EX}a> <{EX}p> <{EX}b> .\n<{EX}a> <{EX}p> <b> .\n", 2, None,
         "malformed ntriples"),
        ("bad.jsonld", '{"@id": "http://example.org/a",\n "http://example.org/p": [1, }', 2, None,
         "malformed jsonld"),
    ],
)  # fmt: skip
def test_parse_errors_are_located(
    tmp_path: Path, name: str, text: str, line: int, column: int | None, message: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SourceError) as caught:
        read(name, workspace=tmp_path)
    location = caught.value.location
    assert location is not None
    assert (location.file, location.line) == (name, line)
    assert location.column is not None
    if column is not None:
        assert location.column == column
    assert message in caught.value.message
    assert "Parser error" not in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"@context": "http://schema.org/", "@id": "http://example.org/a", "name": "x"}',
         "remote contexts"),
        ('{"@id": "http://example.org/g", "@graph": [{"@id": "http://example.org/a", '
         '"http://example.org/p": "v"}]}', "named graphs are not allowed"),
    ],
)  # fmt: skip
def test_jsonld_without_network_or_named_graphs(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "x.jsonld").write_text(text)
    with pytest.raises(SourceError, match=message) as caught:
        read("x.jsonld", workspace=tmp_path)
    assert caught.value.location == Location(file="x.jsonld")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"`data/none\.ttl` of source `reference` not found"):
        read("data/none.ttl", workspace=tmp_path)


def test_errors_come_before_any_record(tmp_path: Path) -> None:
    (tmp_path / "late.nt").write_text(f"<{EX}a> <{EX}p> <{EX}b> .\nbroken\n")
    with pytest.raises(SourceError):
        read_rdf(name="r", workspace=tmp_path, path="late.nt")  # the call raises


labels = st.text(alphabet="abcdefghij", min_size=1, max_size=3)


@settings(max_examples=40, deadline=None)
@given(
    edges=st.lists(st.tuples(labels, st.booleans(), labels, st.booleans()), min_size=1, max_size=12)
)
def test_reading_is_deterministic_and_complete(
    tmp_path_factory: pytest.TempPathFactory, edges: list[tuple[str, bool, str, bool]]
) -> None:
    lines = []
    for s, s_blank, o, o_blank in edges:
        subj = f"_:{s}" if s_blank else f"<{EX}{s}>"
        obj = f"_:{o}" if o_blank else f"<{EX}{o}>"
        lines.append(f"{subj} <{EX}p> {obj} .\n")
    workspace = tmp_path_factory.mktemp("rdf")
    (workspace / "g.nt").write_text("".join(lines))
    first = read("g.nt", workspace=workspace)
    second = read("g.nt", workspace=workspace)
    assert [r.triples for r in first] == [r.triples for r in second]
    # every distinct statement once, with distinct blank labels mapped to distinct IRIs
    distinct = {(s, sb, o, ob) for s, sb, o, ob in edges}
    assert sum(len(r.triples) for r in first) == len(distinct)
    blank_labels = {s for s, sb, _, _ in edges if sb} | {o for _, _, o, ob in edges if ob}
    skolems = {
        t.value
        for r in first
        for triple in r.triples
        for t in (triple.subject, triple.object)
        if isinstance(t, ox.NamedNode) and t.value.startswith(SKOLEM_PREFIX)
    }
    assert len(skolems) == len(blank_labels)
