"""SQL connector against a real SQLite file and a real PostgreSQL server; and the registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.base import LogicalSource, Record
from connectors.csvfile import CsvConnector
from connectors.jsonfile import JsonConnector
from connectors.registry import open_connector
from connectors.sql import SqlConnector, redact
from engine.errors import ConfigError, SourceError
from tests.servers.postgres import PostgresServer, free_port

EMPLOYEES: list[dict[str, object]] = [
    # inserted out of key order on purpose: the connector must order by primary key
    {"id": "E3", "name": "Cy", "salary": Decimal("10.50"), "hired": dt.date(2024, 1, 2),
     "active": True, "seen": dt.datetime(2024, 5, 1, 8, 30)},
    {"id": "E1", "name": "Al", "salary": Decimal("3.00"), "hired": dt.date(2023, 5, 1),
     "active": False, "seen": None},
    {"id": "E2", "name": "Bo & Co", "salary": None, "hired": None, "active": True, "seen": None},
]  # fmt: skip
MEMBERSHIPS = [
    {"team": "sec", "emp": "E2", "role": "lead"},
    {"team": "ops", "emp": "E3", "role": "member"},
    {"team": "ops", "emp": "E1", "role": "lead"},
]
LOG = [{"msg": "b", "n": 2}, {"msg": "a", "n": 1}, {"msg": "a", "n": 0}]
BULK_ROWS = 5000


def populate(url: str) -> None:
    meta = sa.MetaData()
    employees = sa.Table(
        "employees",
        meta,
        sa.Column("id", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("salary", sa.Numeric(10, 2)),
        sa.Column("hired", sa.Date),
        sa.Column("active", sa.Boolean),
        sa.Column("seen", sa.DateTime),
    )
    memberships = sa.Table(
        "memberships",
        meta,
        sa.Column("team", sa.String(8)),
        sa.Column("emp", sa.String(8)),
        sa.Column("role", sa.String(8)),
        sa.PrimaryKeyConstraint("team", "emp"),
    )
    log = sa.Table("log", meta, sa.Column("msg", sa.String(8)), sa.Column("n", sa.Integer))
    bulk = sa.Table("bulk", meta, sa.Column("n", sa.Integer, primary_key=True))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(employees.insert(), [dict(e) for e in EMPLOYEES])
        conn.execute(memberships.insert(), MEMBERSHIPS)
        conn.execute(log.insert(), LOG)
        conn.execute(bulk.insert(), [{"n": n} for n in range(BULK_ROWS, 0, -1)])
    engine.dispose()


@dataclass(frozen=True)
class Database:
    """A populated database: the URL the source config holds and the container prefix."""

    kind: str
    url: str
    label: str
    workspace: Path


@pytest.fixture(scope="module")
def pg_database(postgres: PostgresServer) -> str:
    url = postgres.create_database("connectors_test")
    populate(url)
    return url


@pytest.fixture(scope="module")
def sqlite_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("ws")
    (workspace / "data").mkdir()
    populate(f"sqlite:///{workspace / 'data' / 'hr.sqlite'}")
    return workspace


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, sqlite_workspace: Path) -> Database:
    if request.param == "sqlite":
        # relative to the workspace, as warrant.toml writes it
        return Database("sqlite", "sqlite:///data/hr.sqlite", "hr.sqlite", sqlite_workspace)
    url: str = request.getfixturevalue("pg_database")
    return Database("postgresql", url, "connectors_test", sqlite_workspace)


@pytest.fixture
def conn(db: Database) -> Iterator[SqlConnector]:
    connector = SqlConnector(name="hr", url=db.url, workspace=db.workspace)
    yield connector
    connector.close()


def table(name: str, key: tuple[str, ...] = ()) -> LogicalSource:
    return LogicalSource("sql", table=name, key=key)


def query(text: str, key: tuple[str, ...] = ()) -> LogicalSource:
    return LogicalSource("sql", query=text, key=key)


def test_table_rows_in_primary_key_order(db: Database, conn: SqlConnector) -> None:
    records = list(conn.records(table("employees")))
    assert [str(r.locator) for r in records] == [
        f"{db.label}/employees#id=E1",
        f"{db.label}/employees#id=E2",
        f"{db.label}/employees#id=E3",
    ]
    assert [r.locator.row for r in records] == [1, 2, 3]
    assert {r.locator.source for r in records} == {"hr"}
    assert records[1].values["name"] == "Bo & Co"
    assert records[1].values["salary"] is None


def test_values_are_the_driver_values(db: Database, conn: SqlConnector) -> None:
    by_id = {r.values["id"]: r.values for r in conn.records(table("employees"))}
    e3 = by_id["E3"]
    if db.kind == "postgresql":
        assert e3 == {
            "id": "E3",
            "name": "Cy",
            "salary": Decimal("10.50"),
            "hired": dt.date(2024, 1, 2),
            "active": True,
            "seen": dt.datetime(2024, 5, 1, 8, 30),
        }
    else:
        # SQLite stores dates as text and booleans as integers; they come as stored.
        assert e3["hired"] == "2024-01-02"
        assert e3["seen"] == "2024-05-01 08:30:00.000000"
        assert e3["active"] == 1
        assert e3["salary"] == 10.5


def test_composite_primary_key(db: Database, conn: SqlConnector) -> None:
    records = list(conn.records(table("memberships")))
    assert [r.locator.key for r in records] == [
        "team=ops&emp=E1",
        "team=ops&emp=E3",
        "team=sec&emp=E2",
    ]


def test_table_without_primary_key_uses_row_numbers_in_content_order(conn: SqlConnector) -> None:
    records = list(conn.records(table("log")))
    assert [r.values for r in records] == [
        {"msg": "a", "n": 0},
        {"msg": "a", "n": 1},
        {"msg": "b", "n": 2},
    ]
    assert [(r.locator.row, r.locator.key) for r in records] == [(1, None), (2, None), (3, None)]


def test_mapping_key_overrides_primary_key(db: Database, conn: SqlConnector) -> None:
    records = list(conn.records(table("employees", key=("name",))))
    assert [r.locator.key for r in records] == ["name=Al", "name=Bo %26 Co", "name=Cy"]


def test_query_rows_as_returned(db: Database, conn: SqlConnector) -> None:
    sql = "SELECT id, name FROM employees ORDER BY name DESC"
    records = list(conn.records(query(sql)))
    assert [r.values["id"] for r in records] == ["E3", "E2", "E1"]
    assert [r.locator.row for r in records] == [1, 2, 3]
    assert all(r.locator.key is None for r in records)
    container = records[0].locator.container
    assert container.startswith(f"{db.label}/query-")
    # whitespace does not change the label; other text does
    (again,) = conn.records(query("SELECT  id, name\nFROM employees ORDER BY name DESC LIMIT 1"))
    assert again.locator.container != container
    reformatted = list(conn.records(query(sql.replace(" ", "\n  "))))
    assert reformatted[0].locator.container == container


def test_query_with_key(conn: SqlConnector) -> None:
    sql = "SELECT e.id, m.team FROM employees e JOIN memberships m ON m.emp = e.id ORDER BY e.id"
    records = list(conn.records(query(sql, key=("id", "team"))))
    assert [r.locator.key for r in records] == [
        "id=E1&team=ops",
        "id=E2&team=sec",
        "id=E3&team=ops",
    ]


def test_streams_large_tables_in_order(conn: SqlConnector) -> None:
    rows = [r.values["n"] for r in conn.records(table("bulk"))]
    assert rows == list(range(1, BULK_ROWS + 1))


def test_reopens_after_close(conn: SqlConnector) -> None:
    assert len(list(conn.records(table("log")))) == 3
    conn.close()
    assert len(list(conn.records(table("log")))) == 3


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM employees",
        "UPDATE employees SET name = 'x'",
        "INSERT INTO log (msg, n) VALUES ('z', 9)",
        "DROP TABLE log",
        "WITH d AS (DELETE FROM log RETURNING *) SELECT * FROM d",
    ],
)
def test_reads_are_read_only(db: Database, conn: SqlConnector, statement: str) -> None:
    with pytest.raises(SourceError, match="source `hr`: query failed"):
        list(conn.records(query(statement)))
    # SQLite: "attempt to write a readonly database"; PostgreSQL refuses a write inside the
    # server-side cursor a stream needs, and the session is read-only besides.
    assert len(list(conn.records(table("employees")))) == 3
    assert len(list(conn.records(table("log")))) == 3


def test_postgresql_session_is_read_only(pg_database: str, tmp_path: Path) -> None:
    connector = SqlConnector(name="hr", url=pg_database, workspace=tmp_path)
    try:
        with pytest.raises(SourceError, match="read-only transaction"):
            list(connector.records(query("SELECT nextval('bulk_n_seq') AS n")))
    finally:
        connector.close()


def test_missing_table(db: Database, conn: SqlConnector) -> None:
    with pytest.raises(SourceError, match="table `nope` not found in source `hr`") as caught:
        list(conn.records(table("nope")))
    assert caught.value.location is not None
    assert caught.value.location.record == f"{db.label}/nope"


def test_sql_syntax_error_names_the_source(conn: SqlConnector) -> None:
    with pytest.raises(SourceError, match=r"source `hr`: query failed: .*syntax error"):
        list(conn.records(query("SELEC id FROM employees")))


def test_query_on_missing_column(conn: SqlConnector) -> None:
    with pytest.raises(SourceError, match="source `hr`: query failed"):
        list(conn.records(query("SELECT nope FROM employees")))


def test_duplicate_column_names_in_query(conn: SqlConnector) -> None:
    sql = "SELECT e.id, m.emp AS id FROM employees e JOIN memberships m ON m.emp = e.id"
    with pytest.raises(SourceError, match="column `id` appears twice"):
        list(conn.records(query(sql)))


@pytest.mark.parametrize(
    "source", [table("employees", key=("nope",)), query("SELECT 1 AS a", ("b",))]
)
def test_key_must_be_a_column(conn: SqlConnector, source: LogicalSource) -> None:
    with pytest.raises(SourceError, match=r"key field `(nope|b)` is not a column"):
        list(conn.records(source))


def test_neither_table_nor_query(conn: SqlConnector) -> None:
    with pytest.raises(SourceError, match="neither a table nor a query"):
        conn.records(LogicalSource("sql"))


def test_schema_qualified_table_on_postgresql(pg_database: str, tmp_path: Path) -> None:
    connector = SqlConnector(name="hr", url=pg_database, workspace=tmp_path)
    try:
        records = list(connector.records(table("public.employees")))
    finally:
        connector.close()
    assert records[0].locator.container == "connectors_test/public.employees"
    assert records[0].locator.key == "id=E1"


def test_unreachable_postgresql_hides_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://warrant:s3cr3t-pw@127.0.0.1:{free_port()}/nowhere"
    connector = SqlConnector(name="ledger", url=url, workspace=tmp_path)
    with pytest.raises(SourceError) as caught:
        list(connector.records(table("t")))
    text = str(caught.value)
    assert "s3cr3t-pw" not in text
    assert "cannot connect to source `ledger`" in text
    assert (
        f"`postgresql+psycopg://warrant:***@127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}" in text
    )
    assert "s3cr3t-pw" not in repr(caught.value.details)


def test_missing_sqlite_file(tmp_path: Path) -> None:
    connector = SqlConnector(name="hr", url="sqlite:///data/absent.sqlite", workspace=tmp_path)
    with pytest.raises(
        SourceError, match=r"database file `.*absent\.sqlite` of source `hr` not found"
    ):
        list(connector.records(table("t")))
    assert not (tmp_path / "data" / "absent.sqlite").exists()  # read-only never creates it


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database url `not a url`"),
        ("nosuchdb://u:pw@h/db", "cannot connect to source `x` at `nosuchdb://u:***@h/db`"),
    ],
)
def test_bad_urls(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        list(SqlConnector(name="x", url=url, workspace=tmp_path).records(table("t")))
    assert message in caught.value.message
    assert "pw@" not in caught.value.message


def test_redact() -> None:
    assert redact("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db"
    assert redact("postgresql://h/db?password=x&a=b") == "postgresql://h/db?password=***&a=b"
    assert redact("sqlite:///data/hr.sqlite") == "sqlite:///data/hr.sqlite"


# -- registry -------------------------------------------------------------------------------


def test_registry_builds_each_connector(sqlite_workspace: Path) -> None:
    csv_conn = open_connector(
        "v",
        {"type": "csv", "path": "v.csv", "delimiter": ";", "mapping": "m.yaml"},
        workspace=sqlite_workspace,
    )
    assert isinstance(csv_conn, CsvConnector)
    assert (csv_conn.name, csv_conn.path, csv_conn.delimiter) == ("v", "v.csv", ";")
    json_conn = open_connector("j", {"type": "json", "format": "jsonl"}, workspace=sqlite_workspace)
    assert isinstance(json_conn, JsonConnector)
    assert json_conn.format == "jsonl"
    sql_conn = open_connector(
        "hr", {"type": "sql", "url": "sqlite:///data/hr.sqlite"}, workspace=sqlite_workspace
    )
    records: list[Record] = list(sql_conn.records(table("log")))
    sql_conn.close()
    assert len(records) == 3


@pytest.mark.parametrize(
    ("settings", "field", "message"),
    [
        ({"type": "rdf", "path": "x.ttl"}, "type", "unknown connector type `rdf`"),
        ({}, "type", "unknown connector type `None`"),
        ({"type": "sql"}, "url", "needs a database `url`"),
        ({"type": "csv", "path": 3}, "path", "setting `path` must be a string, not int"),
        ({"type": "json", "format": "yaml"}, "format", "unknown json format `yaml`"),
    ],
)
def test_registry_rejects_bad_settings(
    tmp_path: Path, settings: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        open_connector("s", settings, workspace=tmp_path)
    assert message in caught.value.message
    assert caught.value.location is not None
    assert caught.value.location.field == f"sources.s.{field}"
