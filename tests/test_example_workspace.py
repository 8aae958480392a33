"""The example workspace at the repository root: data contracts, mappings, data and generator.

The shapes are checked against SHACL-SHACL; the mappings only use terms the ontology defines
and every class they produce has a shape; the data is what the seeded generator writes; the
broken records data/README.md lists are in the data, and ingesting the workspace through the
real pipeline quarantines exactly those records with the documented messages.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyshacl
import pytest
import rdflib
import yaml
from rdflib.namespace import OWL, RDF, RDFS, SH

from engine.knowledge.ingest import Ingestor, IngestSummary
from engine.knowledge.ontology import load_ontology_graph
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace

VR = rdflib.Namespace("https://w3id.org/warrant/vendor-risk#")
SHAPES = ("vendors", "processing", "hr")
DATA_FILES = ("vendors.csv", "processing.json", "hr.sqlite")
NOW = "2026-11-24"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _shapes_path(repo_root: Path, name: str) -> Path:
    return repo_root / "ontology" / "shapes" / f"{name}.shapes.ttl"


def _shapes(repo_root: Path, name: str) -> rdflib.Graph:
    return rdflib.Graph().parse(_shapes_path(repo_root, name), format="turtle")


@pytest.fixture(scope="module")
def ontology(repo_root: Path) -> rdflib.Graph:
    return load_ontology_graph(sorted((repo_root / "ontology").glob("*.ttl")))


# --- data contracts ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPES)
def test_shapes_file_is_valid_shacl(repo_root: Path, shared_dir: Path, name: str) -> None:
    shacl_shacl = rdflib.Graph().parse(shared_dir / "vocab" / "shacl-shacl.ttl", format="turtle")
    conforms, _, text = pyshacl.validate(_shapes(repo_root, name), shacl_graph=shacl_shacl)
    assert conforms, text


@pytest.mark.parametrize("name", SHAPES)
def test_shapes_file_carries_its_contract_version(repo_root: Path, name: str) -> None:
    graph = _shapes(repo_root, name)
    [header] = list(graph.subjects(RDF.type, OWL.Ontology))
    assert graph.value(header, OWL.versionInfo) == rdflib.Literal("1.0.0")


@pytest.mark.parametrize("name", SHAPES)
def test_shapes_target_classes_and_paths_the_ontology_defines(
    repo_root: Path, ontology: rdflib.Graph, name: str
) -> None:
    graph = _shapes(repo_root, name)
    node_shapes = set(graph.subjects(RDF.type, SH.NodeShape))
    assert node_shapes
    for shape in node_shapes:
        targets = list(graph.objects(shape, SH.targetClass))
        assert targets, f"{shape} has no sh:targetClass"
        for cls in targets:
            assert (cls, RDF.type, OWL.Class) in ontology, cls
    for path in graph.objects(None, SH.path):
        predicate = graph.value(path, SH.inversePath) if isinstance(path, rdflib.BNode) else path
        assert predicate == RDFS.label or (predicate, None, None) in ontology, path
    for cls in graph.objects(None, SH["class"]):
        assert (cls, RDF.type, OWL.Class) in ontology, cls
    for lst in graph.objects(None, SH["in"]):
        for member in rdflib.collection.Collection(graph, lst):
            assert (member, RDF.type, OWL.NamedIndividual) in ontology, member


def test_the_contracts_use_the_constraint_kinds_the_gate_relies_on(repo_root: Path) -> None:
    graph = rdflib.Graph()
    for name in SHAPES:
        graph += _shapes(repo_root, name)
    for predicate in (
        SH.datatype,
        SH.minCount,
        SH.maxCount,
        SH["class"],
        SH["in"],
        SH.pattern,
        SH.minInclusive,
        SH.maxInclusive,
        SH.sparql,
    ):
        assert list(graph.triples((None, predicate, None))), predicate
    assert list(graph.triples((None, SH.severity, SH.Warning)))
    assert (None, SH.pattern, rdflib.Literal("^V[0-9]{3}$")) in graph


# --- mappings -----------------------------------------------------------------------------


def _mapping_terms(repo_root: Path, name: str) -> tuple[set[str], set[str]]:
    """(classes after ``a``, every vr: term) of a mapping file, as vr local names."""
    doc = yaml.safe_load((repo_root / "mappings" / f"{name}.yaml").read_text(encoding="utf-8"))
    classes: set[str] = set()
    for mapping in doc["mappings"].values():
        for po in mapping["po"]:
            if isinstance(po, list) and po[0] == "a":
                classes.add(po[1].removeprefix("vr:"))
    text = (repo_root / "mappings" / f"{name}.yaml").read_text(encoding="utf-8")
    terms = set(re.findall(r"\bvr:([A-Za-z][A-Za-z0-9]*)\b(?!\$)", text))
    return classes, terms


@pytest.mark.parametrize("name", SHAPES)
def test_mappings_use_only_ontology_terms_and_every_class_has_a_shape(
    repo_root: Path, ontology: rdflib.Graph, name: str
) -> None:
    classes, terms = _mapping_terms(repo_root, name)
    assert classes
    for local in terms:
        assert (VR[local], None, None) in ontology, f"vr:{local} is not in the ontology"
    targeted = {
        str(c).removeprefix(str(VR)) for c in _shapes(repo_root, name).objects(None, SH.targetClass)
    }
    assert classes <= targeted


def test_example_sources_are_ordered_so_references_come_first(repo_root: Path) -> None:
    import tomllib

    sources = tomllib.loads((repo_root / "warrant.toml").read_text(encoding="utf-8"))["sources"]
    assert list(sources) == ["hr", "vendors", "processing"]
    for name, source in sources.items():
        assert source["mapping"] == f"mappings/{name}.yaml"
        assert source["shapes"] == [f"ontology/shapes/{name}.shapes.ttl"]
        assert (repo_root / source["mapping"]).is_file()


# --- data and generator ---------------------------------------------------------------------


def _generate(repo_root: Path, out: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(repo_root / "examples" / "generate_example_data.py"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )


def _dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_generator_is_deterministic_and_reproduces_the_committed_data(
    repo_root: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _generate(repo_root, first)
    _generate(repo_root, second)
    for name in DATA_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (repo_root / "data" / name).is_file()
    for name in ("vendors.csv", "processing.json"):
        assert (first / name).read_bytes() == (repo_root / "data" / name).read_bytes(), name
    # SQLite's file bytes depend on the library version; its content must not.
    assert _dump(first / "hr.sqlite") == _dump(repo_root / "data" / "hr.sqlite")


def test_generator_seed_changes_the_data(repo_root: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(repo_root / "examples" / "generate_example_data.py"),
            "--out",
            str(tmp_path),
            "--seed",
            "7",
        ],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "vendors.csv").read_bytes() != (
        repo_root / "data" / "vendors.csv"
    ).read_bytes()


def test_data_has_the_sizes_and_role_holders_the_readme_promises(repo_root: Path) -> None:
    vendors = _csv_rows(repo_root / "data" / "vendors.csv")
    assert len(vendors) == 46
    relationships = json.loads((repo_root / "data" / "processing.json").read_text())[
        "relationships"
    ]
    assert len(relationships) == 79
    con = sqlite3.connect(repo_root / "data" / "hr.sqlite")
    try:
        assert con.execute("SELECT count(*) FROM employees").fetchone() == (300,)
        holders = dict(
            con.execute(
                "SELECT role_id, employee_id FROM employees WHERE role_id IN ('CISO', 'DPO')"
            )
        )
    finally:
        con.close()
    assert holders == {"CISO": "E0042", "DPO": "E0002"}
    parents = {v["vendor_id"]: v["parent_vendor"] for v in vendors}

    def depth(vendor: str) -> int:
        return 0 if not parents[vendor] else 1 + depth(parents[vendor])

    assert max(depth(v) for v in parents if v != "V045") == 2  # V045 is its own parent
    assert any(v["soc2_expiry"] and v["soc2_expiry"] < NOW for v in vendors)
    assert any(v["last_audit_date"] and v["last_audit_date"] < "2025-11-24" for v in vendors)


# --- the deliberately broken records ----------------------------------------------------------


@dataclass(frozen=True)
class BrokenRecord:
    """One row of data/README.md's table of deliberately broken records."""

    file: str
    record: str
    field: str
    value: str
    message: str


def _broken_records(repo_root: Path) -> list[BrokenRecord]:
    text = (repo_root / "data" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Deliberately broken records", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    out = []
    for line in rows[1:]:  # header; the separator starts with "| ---"
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("---"):
            continue
        out.append(BrokenRecord(cells[0], cells[1], cells[2], cells[3], cells[6]))
    return out


def _in_data(repo_root: Path, broken: BrokenRecord) -> bool:
    data = repo_root / "data"
    if broken.file == "vendors.csv":
        rows = _csv_rows(data / broken.file)
        [row] = [r for r in rows if r["vendor_id"] == broken.record]
        return row[broken.field] == ("" if broken.value == "(empty)" else broken.value)
    if broken.file == "processing.json":
        items = json.loads((data / broken.file).read_text(encoding="utf-8"))["relationships"]
        [item] = [i for i in items if i["id"] == broken.record]
        if broken.value == "(absent)":
            return broken.field not in item
        return str(item.get(broken.field)) == broken.value
    table, ident = broken.record.split("/")
    con = sqlite3.connect(data / broken.file)
    try:
        key = next(r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[5] == 1)
        found = con.execute(
            f"SELECT count(*) FROM {table} WHERE {key} = ? AND {broken.field} = ?",
            (ident, broken.value),
        ).fetchone()
    finally:
        con.close()
    return bool(found[0])


def test_readme_lists_every_kind_of_breakage(repo_root: Path) -> None:
    broken = _broken_records(repo_root)
    assert len(broken) >= 5
    assert {b.file for b in broken} == set(DATA_FILES)
    text = (repo_root / "data" / "README.md").read_text(encoding="utf-8")
    for kind in (
        "missing mandatory field",
        "wrong datatype",
        "unknown classification",
        "dangling reference",
        "date in the wrong format",
    ):
        assert kind in text


def test_readme_broken_records_are_in_the_data(repo_root: Path) -> None:
    for broken in _broken_records(repo_root):
        assert _in_data(repo_root, broken), broken


# --- the real pipeline quarantines exactly those records --------------------------------------


def _locator_of(repo_root: Path, broken: BrokenRecord) -> str:
    """The record locator the connectors give a broken record (row number or primary key)."""
    data = repo_root / "data"
    if broken.file == "vendors.csv":
        ids = [r["vendor_id"] for r in _csv_rows(data / broken.file)]
        return f"data/vendors.csv#row={ids.index(broken.record) + 1}"
    if broken.file == "processing.json":
        items = json.loads((data / broken.file).read_text(encoding="utf-8"))["relationships"]
        return f"data/processing.json#row={[i['id'] for i in items].index(broken.record) + 1}"
    table, ident = broken.record.split("/")
    return f"{table}#{ident}"


def _matches(locator: str, wanted: str) -> bool:
    if "#row=" in wanted:
        return locator == wanted
    table, ident = wanted.split("#")
    return (
        f"/{table}#" in locator and re.search(rf"=({re.escape(ident)})(&|$)", locator) is not None
    )


@pytest.fixture(scope="module")
def ingested(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> list[IngestSummary]:
    """Ingest the example sources into an in-memory store through the real pipeline."""
    ws = tmp_path_factory.mktemp("workspace")
    for part in ("data", "mappings", "ontology"):
        (ws / part).symlink_to(repo_root / part, target_is_directory=True)
    shutil.copyfile(repo_root / "warrant.toml", ws / "warrant.toml")
    workspace = Workspace.load(ws)
    store = OxigraphStore(None)
    try:
        ingestor = Ingestor(
            workspace,
            store,
            clock=lambda: datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
            ontology=load_ontology_graph(workspace.ontology_files()),
        )
        return ingestor.ingest()
    finally:
        store.close()


def test_ingest_quarantines_exactly_the_documented_records(
    repo_root: Path, ingested: list[IngestSummary]
) -> None:
    quarantined: list[tuple[str, list[str]]] = []
    for summary in ingested:
        for entry in summary.quarantine:
            reasons = entry["reasons"]
            assert isinstance(reasons, list | tuple)
            quarantined.append((str(entry["record"]), [str(r) for r in reasons]))
    broken = _broken_records(repo_root)
    for b in broken:
        wanted = _locator_of(repo_root, b)
        hits = [reasons for locator, reasons in quarantined if _matches(locator, wanted)]
        assert hits, f"{b.record} ({wanted}) was not quarantined"
        assert any(b.message in reasons for reasons in hits), (b, hits)
    for locator, reasons in quarantined:
        assert any(_matches(locator, _locator_of(repo_root, b)) for b in broken), (
            f"{locator} was quarantined but data/README.md does not list it: {reasons}"
        )


def test_ingest_loads_the_warnings_with_their_records(
    repo_root: Path, ingested: list[IngestSummary]
) -> None:
    by_source = {s.source: s for s in ingested}
    vendors = _csv_rows(repo_root / "data" / "vendors.csv")
    broken_ids = {b.record for b in _broken_records(repo_root)}
    uncertified = [
        v
        for v in vendors
        if v["vendor_id"] not in broken_ids and not v["soc2_expiry"] and not v["iso27001_expiry"]
    ]
    assert by_source["vendors"].warnings == len(uncertified) > 0

    con = sqlite3.connect(repo_root / "data" / "hr.sqlite")
    try:
        personal = {
            a
            for (a,) in con.execute(
                "SELECT asset_id FROM data_assets WHERE classification = 'personal'"
            )
        }
        allowed = set(con.execute("SELECT asset_id, region_id FROM data_asset_regions"))
    finally:
        con.close()
    items = json.loads((repo_root / "data" / "processing.json").read_text())["relationships"]
    outside = [
        i
        for i in items
        if i["id"] not in broken_ids
        and i["asset"] in personal
        and (i["asset"], i["region"]) not in allowed
    ]
    assert by_source["processing"].warnings == len(outside) > 0
    assert by_source["hr"].warnings == 0
