"""Keeps the benchmark harness from rotting: a tiny generated KG, the generator's contracts,
and one quick scenario run end to end in its own process (as ``make bench`` runs them)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench.__main__ import parse_size
from bench.generate import Sizes, generate, mutate_processing
from bench.measure import Figure, ScenarioResult, Timing
from bench.prepare import ScenarioContext
from bench.report import render
from bench.runner import run_in_child
from bench.scenarios import scenario
from bench.scenarios.sparql import server_timing_ms


def _rows(root: Path) -> tuple[list[dict[str, str]], list[dict[str, object]], int]:
    import csv

    with (root / "data" / "vendors.csv").open(encoding="utf-8") as f:
        vendors = list(csv.DictReader(f))
    items = json.loads((root / "data" / "processing.json").read_text())["relationships"]
    con = sqlite3.connect(root / "data" / "hr.sqlite")
    try:
        people = con.execute("select count(*) from employees").fetchone()[0]
    finally:
        con.close()
    return vendors, items, int(people)


def test_generator_is_seeded_and_sized(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", triples=3000, seed=7)
    b = generate(tmp_path / "b", triples=3000, seed=7)
    c = generate(tmp_path / "c", triples=3000, seed=8)
    for name in ("vendors.csv", "processing.json"):
        assert (a.root / "data" / name).read_bytes() == (b.root / "data" / name).read_bytes()
        assert (a.root / "data" / name).read_bytes() != (c.root / "data" / name).read_bytes()
    assert 0.8 * 3000 <= a.expected_triples <= 1.25 * 3000
    vendors, items, people = _rows(a.root)
    assert (len(vendors), len(items)) == (a.sizes.vendors, a.sizes.processing)
    assert 0.8 * a.sizes.employees <= people <= a.sizes.employees  # whole departments
    assert a.broken >= 3  # at least one broken record per source
    # the copied contracts: fixed-digit id patterns widened, nothing else changed
    shapes = (a.root / "ontology" / "shapes" / "vendors.shapes.ttl").read_text()
    assert '"^V[0-9]{3,}$"' in shapes and '"^V[0-9]{3}$"' not in shapes
    assert (a.root / "mappings" / "vendors.yaml").exists()


@pytest.mark.parametrize("triples", [10_000, 100_000, 1_000_000])
def test_sizes_scale_with_the_target(triples: int) -> None:
    s = Sizes.for_triples(triples)
    assert s.processing > s.vendors > s.assets > s.systems
    assert s.employees >= s.departments * 3


def test_generator_rejects_a_bad_size(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        generate(tmp_path, triples=0)


def test_mutation_changes_one_percent_and_stays_valid(tmp_path: Path) -> None:
    ws = generate(tmp_path / "w", triples=20_000)
    before = json.loads((ws.root / "data" / "processing.json").read_text())["relationships"]
    n = mutate_processing(ws.root, fraction=0.01)
    after = json.loads((ws.root / "data" / "processing.json").read_text())["relationships"]
    diff = [x for x, y in zip(before, after, strict=True) if x != y]
    assert len(diff) == n == round(len(before) * 0.01)
    assert all(isinstance(x["started"], str) and "region" in x for x in diff)


@pytest.mark.parametrize(
    ("text", "size"), [("10k", 10_000), ("100K", 100_000), ("1M", 1_000_000), ("2500", 2500)]
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["ten", "5", "1.x"])
def test_parse_size_rejects(text: str) -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)


def test_unknown_scenario_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario("nope")


def test_figures_render_with_ratio_and_target() -> None:
    f = Figure(name="x", unit="ms", warrant=3.0, baseline=2.0, target="< 5 ms", met=True)
    assert f.ratio == 1.5
    assert Figure(name="y", unit="ms", warrant=None).ratio is None
    assert Timing((0.3, 0.1, 0.2)).p50_ms == pytest.approx(200.0)
    r = ScenarioResult(scenario="sparql", size=10_000, triples=10_000, figures=(f,),
                       rss_peak_mib=100.0, seconds=1.0)
    assert ScenarioResult.from_dict(json.loads(json.dumps(r.as_dict()))) == r
    doc = {"size": 10_000, "triples": 10_000, "runs": 1, "date": "d", "commit": "c",
           "machine": {"cpu": "cpu", "cores": "2", "ram": "1 GiB", "os": "os", "python": "3"},
           "versions": {"pyoxigraph": "0"}, "results": [r.as_dict()]}
    text = render([doc])
    assert "| x | 3.0 ms | 2.0 ms | 1.50× |" in text and "✅ met" in text


def run_small(tmp_path: Path, name: str, *, timeout_s: float) -> ScenarioResult:
    """Scenario ``name`` on a generated 2k-triple KG, in its own process (as ``make bench``)."""
    ws = generate(tmp_path / "kg", triples=2000)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ctx = ScenarioContext(root=ws.root, size=2000, runs=1, scratch=scratch)
    return run_in_child(name, ctx, triples=ws.expected_triples, timeout_s=timeout_s)


def test_dispatch_scenario_runs_in_a_child_process(tmp_path: Path) -> None:
    result = run_small(tmp_path, "dispatch", timeout_s=60)
    assert result.error is None, result.error
    (fig,) = result.figures
    assert fig.warrant and fig.warrant > 0 and fig.baseline and fig.baseline > 0
    assert result.rss_peak_mib > 0


def test_served_scenario_runs_against_warrant_serve(tmp_path: Path) -> None:
    result = run_small(tmp_path, "served", timeout_s=300)
    assert result.error is None, result.error
    names = [f.name for f in result.figures]
    assert len(names) == 4 and all("over HTTP" in n for n in names)
    assert all(f.warrant and f.warrant > 0 and f.baseline and f.baseline > 0
               for f in result.figures)


def test_server_timing_is_read_by_metric_name() -> None:
    assert server_timing_ms('query;dur=12.5;desc="evaluate and write"') == 12.5
    assert server_timing_ms('db;dur=1, query;desc="x";dur=3') == 3.0
    with pytest.raises(ValueError, match="no query metric"):
        server_timing_ms("db;dur=1")


def test_sparql_scenario_measures_the_overhead_per_request(tmp_path: Path) -> None:
    result = run_small(tmp_path, "sparql", timeout_s=300)
    assert result.error is None, result.error
    http = [f for f in result.figures if f.name.endswith("/sparql over HTTP")]
    assert len(http) == 3
    for f in http:
        assert f.warrant and f.baseline and "Server-Timing" in f.note
    overheads = [f for f in result.figures if "/sparql overhead" in f.name]
    assert len(overheads) == 3
    for f, served in zip(overheads, http, strict=True):
        assert f.met is not None and f.baseline and f.baseline > 0  # the HTTP floor
        assert f.warrant is not None and served.warrant and f.warrant < served.warrant
