"""CSV connector: real files, every malformation located, and a writer/reader round trip."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import LogicalSource, RecordLocator, key_text
from connectors.csvfile import CsvConnector
from engine.errors import ConfigError, Location, SourceError

DATA = Path(__file__).parent / "data" / "connectors"


def csv_source(path: str, key: tuple[str, ...] = ()) -> LogicalSource:
    return LogicalSource("csv", path=path, key=key)


def write(workspace: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    (workspace / "data").mkdir(exist_ok=True)
    (workspace / "data" / name).write_bytes(text.encode(encoding))
    return f"data/{name}"


def test_reads_fixture_rows_as_strings_with_locators() -> None:
    conn = CsvConnector(name="vendors", workspace=DATA.parent)
    records = list(conn.records(csv_source("connectors/vendors.csv")))
    assert [r.locator for r in records] == [
        RecordLocator(source="vendors", container="connectors/vendors.csv", row=n)
        for n in (1, 2, 3)
    ]
    assert records[0].values == {
        "vendor_id": "V001",
        "name": "Acme Hosting",
        "risk_score": "42",
        "last_audit": "2024-03-01",
        "notes": "",
    }
    assert records[1].values["name"] == "Bolt, Nuts & Co"
    assert records[1].values["notes"] == "multi\nline note"
    assert records[2].values["name"] == "Café Ümlaut"
    assert records[2].values["notes"] == 'says "hi"'
    assert str(records[2].locator) == "connectors/vendors.csv#row=3"


def test_key_fields_name_the_record(tmp_path: Path) -> None:
    path = write(tmp_path, "k.csv", "id,region,v\n7,eu,a\n8,us&ca,b\n9,,c\n")
    conn = CsvConnector(name="k", workspace=tmp_path)
    locators = [r.locator for r in conn.records(csv_source(path, key=("id", "region")))]
    assert [loc.key for loc in locators] == ["id=7&region=eu", "id=8&region=us%26ca", None]
    assert [loc.row for loc in locators] == [1, 2, 3]


def test_configured_path_overrides_the_mapping(tmp_path: Path) -> None:
    write(tmp_path, "mapping.csv", "a\nfrom-mapping\n")
    other = write(tmp_path, "deployed.csv", "a\nfrom-config\n")
    conn = CsvConnector(name="s", workspace=tmp_path, path=other)
    (record,) = conn.records(csv_source("data/mapping.csv"))
    assert record.values == {"a": "from-config"}
    assert record.locator.container == "data/deployed.csv"


def test_absolute_configured_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.csv"
    path.write_text("a\n1\n")
    conn = CsvConnector(name="s", workspace=tmp_path / "ws", path=str(path))
    (record,) = conn.records(csv_source("ignored.csv"))
    assert record.locator.container == str(path)


@pytest.mark.parametrize(
    ("text", "delimiter", "encoding", "expected"),
    [
        ("a;b\n1;2\n", ";", "utf-8", [{"a": "1", "b": "2"}]),
        ("a\tb\n1\t2\n", "\t", "utf-8", [{"a": "1", "b": "2"}]),
        ("\ufeffa,b\n1,2\n", ",", "utf-8", [{"a": "1", "b": "2"}]),  # BOM dropped
        ("a,b\r\n1,2\r\n\r\n3,4\r\n", ",", "utf-8", [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]),
        ("nom,ville\nRené,Zürich\n", ",", "latin-1", [{"nom": "René", "ville": "Zürich"}]),
        ("a,b\n", ",", "utf-8", []),  # header only: no records
        ("a,b\n1,2", ",", "utf-8", [{"a": "1", "b": "2"}]),  # no final newline
        ('a,b\n"",""\n', ",", "utf-8", [{"a": "", "b": ""}]),
    ],
)
def test_dialects_and_encodings(
    tmp_path: Path, text: str, delimiter: str, encoding: str, expected: list[dict[str, str]]
) -> None:
    path = write(tmp_path, "d.csv", text, encoding)
    conn = CsvConnector(name="d", workspace=tmp_path, delimiter=delimiter, encoding=encoding)
    assert [dict(r.values) for r in conn.records(csv_source(path))] == expected


@pytest.mark.parametrize(
    ("text", "location", "message"),
    [
        ("a,b\n1,2\n3\n", Location(file="data/bad.csv", line=3, record="row=2"), "1 fields"),
        ("a,b\n1,2,3\n", Location(file="data/bad.csv", line=2, record="row=1"), "3 fields"),
        ('a,b\n1,"open\n2,3\n', Location(file="data/bad.csv", line=2), "unexpected end of data"),
        ('a,b\n1,"x"y\n', Location(file="data/bad.csv", line=2), "expected after"),
        ("", Location(file="data/bad.csv"), "expected a header row"),
        ("\n\n", Location(file="data/bad.csv"), "expected a header row"),
        ("a,,c\n1,2,3\n", Location(file="data/bad.csv", line=1), "empty column name"),
        ("a,b,a\n1,2,3\n", Location(file="data/bad.csv", line=1), "duplicate column `a`"),
        ('"a,b\n', Location(file="data/bad.csv", line=1), "unexpected end of data"),
    ],
)
def test_malformed_csv_is_located(
    tmp_path: Path, text: str, location: Location, message: str
) -> None:
    path = write(tmp_path, "bad.csv", text)
    conn = CsvConnector(name="bad", workspace=tmp_path)
    with pytest.raises(SourceError) as caught:
        list(conn.records(csv_source(path)))
    assert caught.value.location == location
    assert message in caught.value.message


def test_header_problems_come_before_any_record(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", "a,a\n1,2\n")
    conn = CsvConnector(name="dup", workspace=tmp_path)
    with pytest.raises(SourceError):
        conn.records(csv_source(path))  # raised by the call, not by iteration


def test_rows_before_a_bad_row_are_yielded_then_error(tmp_path: Path) -> None:
    path = write(tmp_path, "late.csv", "a,b\n1,2\n3,4,5\n")
    records = CsvConnector(name="late", workspace=tmp_path).records(csv_source(path))
    assert next(records).values == {"a": "1", "b": "2"}
    with pytest.raises(SourceError, match="3 fields"):
        next(records)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    conn = CsvConnector(name="gone", workspace=tmp_path)
    with pytest.raises(SourceError) as caught:
        conn.records(csv_source("data/nope.csv"))
    assert caught.value.location == Location(file="data/nope.csv")
    assert "`data/nope.csv`" in caught.value.message
    assert "`gone`" in caught.value.message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(SourceError, match="is not a file"):
        CsvConnector(name="d", workspace=tmp_path).records(csv_source("data"))


def test_no_path_anywhere(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no file path"):
        CsvConnector(name="d", workspace=tmp_path).records(LogicalSource("csv"))


def test_undecodable_bytes(tmp_path: Path) -> None:
    (tmp_path / "latin.csv").write_bytes("a\nRené\n".encode("latin-1"))
    conn = CsvConnector(name="enc", workspace=tmp_path)
    with pytest.raises(SourceError, match="not valid `utf-8` text") as caught:
        list(conn.records(csv_source("latin.csv")))
    assert caught.value.location is not None
    assert caught.value.location.file == "latin.csv"


def test_key_field_must_be_a_column(tmp_path: Path) -> None:
    path = write(tmp_path, "k.csv", "a\n1\n")
    with pytest.raises(SourceError, match="key field `id`"):
        CsvConnector(name="k", workspace=tmp_path).records(csv_source(path, key=("id",)))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"delimiter": ";;"}, "not one character"), ({"encoding": "klingon"}, "unknown encoding")],
)
def test_bad_options_are_config_errors(
    tmp_path: Path, options: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        CsvConnector(name="o", workspace=tmp_path, **options)


def test_key_text_escapes_separators() -> None:
    assert key_text([("a=b", "x&y%z")]) == "a%3Db=x%26y%25z"
    assert key_text([("n", 3), ("ok", True)]) == "n=3&ok=true"
    assert key_text([("n", None)]) is None


cell = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(
    header=st.lists(
        st.text(alphabet="abcxyz_", min_size=1, max_size=6), min_size=1, max_size=5, unique=True
    ),
    rows=st.lists(st.lists(cell, min_size=5, max_size=5), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_round_trip_through_csv_writer(
    tmp_path_factory: pytest.TempPathFactory,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
) -> None:
    # Rows whose cells are all empty are written as one empty field when the header has one
    # column, which reads back as a blank line; the connector skips blank lines by design.
    rows = [r[: len(header)] for r in rows]
    if len(header) == 1:
        rows = [r for r in rows if r[0] != ""]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    workspace = tmp_path_factory.mktemp("rt")
    (workspace / "rt.csv").write_text(out.getvalue(), encoding="utf-8", newline="")
    conn = CsvConnector(name="rt", workspace=workspace, delimiter=delimiter)
    back = [dict(r.values) for r in conn.records(csv_source("rt.csv"))]
    assert back == [dict(zip(header, r, strict=True)) for r in rows]
