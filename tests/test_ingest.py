"""The ingest pipeline end to end on a real Oxigraph store: provenance, idempotence, deltas,
quarantine and replay, and bad inputs that must leave the store unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest

from engine.errors import MappingError, ShapesError, SourceError, WarrantError
from engine.knowledge.ingest import Ingestor
from engine.knowledge.quarantine import list_quarantine
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace
from tests.ingest_workspace import PEOPLE_CSV, write_workspace


class TickingClock:
    """A deterministic clock: one second later on every call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make(tmp_path: Path, **kw: object) -> tuple[Ingestor, OxigraphStore]:
    ws = Workspace.load(write_workspace(tmp_path / "ws", **kw))  # type: ignore[arg-type]
    store = OxigraphStore(tmp_path / "kg")
    return Ingestor(ws, store, clock=TickingClock()), store


def snapshot(store: OxigraphStore) -> set[str]:
    return {str(q) for q in store.raw}


def people_graph(store: OxigraphStore) -> set[ox.Triple]:
    return set(store.triples(ox.NamedNode("urn:warrant:graph:source:people")))


def test_first_ingest_loads_each_source_into_its_graph(tmp_path: Path) -> None:
    ingestor, store = make(tmp_path)
    summaries = ingestor.ingest()
    assert [s.source for s in summaries] == ["teams", "people"]
    people = summaries[1]
    assert (people.records, people.quarantined, people.unchanged) == (3, 0, False)
    assert people.added == 12 and people.removed == 0
    assert len(people_graph(store)) == 12
    graphs = {g.value for g in store.graphs()}
    assert {
        "urn:warrant:graph:source:people",
        "urn:warrant:graph:source:teams",
        "urn:warrant:graph:records:people",
        "urn:warrant:graph:provenance",
        "urn:warrant:graph:reports",
    } <= graphs


def test_every_fact_finds_its_source_row_by_sparql(tmp_path: Path) -> None:
    ingestor, store = make(tmp_path)
    ingestor.ingest()
    rows = list(
        store.select(
            """PREFIX wr: <https://w3id.org/warrant/core#>
            PREFIX prov: <http://www.w3.org/ns/prov#>
            SELECT ?container ?row ?batch ?src WHERE {
              GRAPH ?rg { ?rec wr:produced <<( <https://example.org/id/person/P2>
                                               <https://example.org/ns#age> ?age )>> ;
                           wr:container ?container ; wr:row ?row ;
                           prov:wasGeneratedBy ?batch ; wr:fromSource ?src }
            }"""
        )
    )
    assert len(rows) == 1
    assert rows[0]["container"].value == "data/people.csv"  # type: ignore[union-attr]
    assert rows[0]["row"].value == "2"  # type: ignore[union-attr]
    assert rows[0]["src"].value == "people"  # type: ignore[union-attr]
    batch = rows[0]["batch"]
    # the batch is a PROV-O activity with versions, hash and counts
    facts = {
        (q.predicate.value.rsplit("#", 1)[-1])
        for q in store.match(batch, None, None, ox.NamedNode("urn:warrant:graph:provenance"))  # type: ignore[arg-type]
    }
    assert {
        "used",
        "startedAtTime",
        "endedAtTime",
        "contentHash",
        "mappingVersion",
        "shapesVersion",
        "triplesAdded",
        "recordsQuarantined",
    } <= facts


def test_unchanged_input_changes_nothing_and_says_so(tmp_path: Path) -> None:
    ingestor, store = make(tmp_path)
    ingestor.ingest()
    before = snapshot(store)
    again = ingestor.ingest()
    assert all(s.unchanged for s in again)
    assert snapshot(store) == before


def test_reingest_replaces_graph_with_recorded_delta(tmp_path: Path) -> None:
    ingestor, store = make(tmp_path)
    ingestor.ingest()
    ws_root = tmp_path / "ws"
    (ws_root / "data" / "people.csv").write_text(
        PEOPLE_CSV.replace("P3,Linus,T1,29", "P3,Linus,T2,30")
    )
    [s] = ingestor.ingest(["people"])
    assert (s.added, s.removed) == (2, 2)
    ages = {t.object.value for t in people_graph(store) if t.predicate.value.endswith("age")}  # type: ignore[union-attr]
    assert ages == {"36", "45", "30"}
    # the changed record points at the new batch, the unchanged ones keep the first one
    batches = {
        row["row"].value: row["b"].value  # type: ignore[union-attr]
        for row in store.select(
            """PREFIX wr: <https://w3id.org/warrant/core#>
            PREFIX prov: <http://www.w3.org/ns/prov#>
            SELECT ?row ?b WHERE { GRAPH <urn:warrant:graph:records:people> {
              ?r wr:row ?row ; prov:wasGeneratedBy ?b } }"""
        )
    }
    assert batches["3"] != batches["1"] == batches["2"]


def test_violating_record_is_quarantined_with_report_and_replayed_after_fix(tmp_path: Path) -> None:
    broken = PEOPLE_CSV + "P4,,T1,forty\n"
    ingestor, store = make(tmp_path, people=broken)
    summaries = ingestor.ingest()
    people = summaries[1]
    assert people.quarantined == 1
    assert len(people_graph(store)) == 12  # the broken record loaded nothing
    [entry] = list_quarantine(store)
    assert entry.record == "data/people.csv#row=4"
    paths = sorted({r["path"].rsplit("#", 1)[-1] for r in entry.reasons})
    assert paths == ["age", "name"]
    # the report is stored as RDF and queryable
    assert list(
        store.select(
            """PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?r WHERE { GRAPH <urn:warrant:graph:reports> {
          ?rep a sh:ValidationReport ; sh:result ?r . ?r sh:focusNode
          <https://example.org/id/person/P4> } }"""
        )
    )
    # fix the source: the record leaves the quarantine and loads
    (tmp_path / "ws" / "data" / "people.csv").write_text(PEOPLE_CSV + "P4,Barbara,T1,40\n")
    [s] = ingestor.ingest(["people"])
    assert s.quarantined == 0 and s.added == 4
    assert list_quarantine(store) == []


def test_dangling_reference_is_quarantined_until_the_referenced_node_arrives(
    tmp_path: Path,
) -> None:
    ingestor, store = make(tmp_path, people=PEOPLE_CSV + "P5,Ken,T9,50\n")
    ingestor.ingest()
    [entry] = list_quarantine(store)
    assert "team" in entry.reasons[0]["path"]
    # the team arrives in the other source; replay loads the waiting record
    (tmp_path / "ws" / "data" / "teams.csv").write_text(
        "team_id,name,budget\nT1,Platform,100\nT2,Data,200\nT9,Unix,5\n"
    )
    summaries = ingestor.ingest(["teams"])
    assert [s.source for s in summaries] == ["teams", "people"]
    assert summaries[1].quarantined == 0
    assert list_quarantine(store) == []


def test_warnings_load_with_the_warning_recorded(tmp_path: Path) -> None:
    ingestor, store = make(tmp_path, teams="team_id,name,budget\nT1,Platform,-5\nT2,Data,200\n")
    teams = ingestor.ingest()[0]
    assert teams.quarantined == 0 and teams.warnings == 1
    rows = list(
        store.select(
            """PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?sev WHERE { GRAPH <urn:warrant:graph:reports> { ?r sh:resultSeverity ?sev } }"""
        )
    )
    assert [r["sev"].value for r in rows] == ["http://www.w3.org/ns/shacl#Warning"]  # type: ignore[union-attr]


def test_new_shapes_version_revalidates_everything(tmp_path: Path) -> None:
    ingestor, store = make(tmp_path)
    ingestor.ingest()
    write_workspace(tmp_path / "ws", version="1.1.0", max_age=40)
    ingestor = Ingestor(Workspace.load(tmp_path / "ws"), store, clock=TickingClock())
    [s] = ingestor.ingest(["people"])
    assert s.quarantined == 1  # Grace (45) breaks the new contract
    assert not s.unchanged and s.removed == 4


@pytest.mark.parametrize(
    ("breakage", "error", "where"),
    [
        (
            lambda ws: (ws / "data" / "people.csv").write_text(
                'person_id,name,team,age\nP1,"Ada,T1,36\n'
            ),
            SourceError,
            "people.csv",
        ),
        (
            lambda ws: (ws / "data" / "people.csv").write_text(
                "person_id,name,team,age\nP1,Ada,T1\n"
            ),
            SourceError,
            "people.csv:2",
        ),
        (lambda ws: (ws / "data" / "people.csv").unlink(), SourceError, "people.csv"),
        (
            lambda ws: (ws / "data" / "people.csv").write_text("person_id,name,age\nP1,Ada,36\n"),
            MappingError,
            "team",
        ),
        (
            lambda ws: (ws / "shapes" / "people.shapes.ttl").write_text(
                "@prefix sh: <x> .\nsh:a sh:b ;;; ."
            ),
            ShapesError,
            "people.shapes.ttl:2",
        ),
    ],
    ids=["unterminated-quote", "short-row", "missing-file", "missing-column", "bad-shapes"],
)
def test_bad_input_is_a_located_error_and_the_store_is_unchanged(
    tmp_path: Path, breakage: object, error: type[WarrantError], where: str
) -> None:
    ingestor, store = make(tmp_path)
    ingestor.ingest()
    before = snapshot(store)
    breakage(tmp_path / "ws")  # type: ignore[operator]
    ingestor = Ingestor(Workspace.load(tmp_path / "ws"), store, clock=TickingClock())
    with pytest.raises(error) as info:
        ingestor.ingest(["people"])
    assert where in str(info.value)
    assert snapshot(store) == before


def test_unreachable_database_is_a_source_error(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "mappings" / "hr.yaml").write_text(
        "mappings:\n  p:\n    sources:\n      - {table: people}\n"
        "    s: https://example.org/id/$(id)\n    po:\n      - [a, https://example.org/P]\n"
    )
    (root / "warrant.toml").write_text(
        '[sources.hr]\ntype = "sql"\nurl = "postgresql+psycopg://u:secret@127.0.0.1:1/x"\n'
        'mapping = "mappings/hr.yaml"\n'
    )
    store = OxigraphStore(tmp_path / "kg")
    with pytest.raises(SourceError) as info:
        Ingestor(Workspace.load(root), store, clock=TickingClock()).ingest()
    assert "secret" not in str(info.value)
    assert len(store.raw) == 0
