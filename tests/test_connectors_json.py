"""JSON / JSON Lines connector: the JSONPath subset, locators, located errors, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import LogicalSource, Record
from connectors.jsonfile import Field, Index, JsonConnector, Wildcard, parse_iterator
from engine.errors import ConfigError, Location, SourceError

DATA = Path(__file__).parent / "data" / "connectors"


def json_source(path: str, iterator: str | None = None, key: tuple[str, ...] = ()) -> LogicalSource:
    return LogicalSource("jsonpath", path=path, iterator=iterator, key=key)


def fixture_records(iterator: str | None, path: str = "processing.json") -> list[Record]:
    conn = JsonConnector(name="proc", workspace=DATA)
    return list(conn.records(json_source(path, iterator)))


def write(workspace: Path, name: str, text: str) -> str:
    (workspace / name).write_text(text, encoding="utf-8")
    return name


@pytest.mark.parametrize(
    ("iterator", "ids"),
    [
        ("$.relationships[*]", ["R1", "R2", "R3"]),
        ("$.relationships", ["R1", "R2", "R3"]),  # an array without [*]: its items
        ("$['relationships'][*]", ["R1", "R2", "R3"]),
        ('$["relationships"][*]', ["R1", "R2", "R3"]),
        ("$.relationships[1]", None),  # one object: not an array, rejected below
        ("$.groups[*].members[*]", ["M1", "M2", "M3"]),
        ("$.groups[1].members", ["M3"]),
        ("$.groups[0].members[*]", ["M1", "M2"]),
    ],
)
def test_iterator_selects_records(iterator: str, ids: list[str] | None) -> None:
    if ids is None:
        with pytest.raises(SourceError, match="not an array"):
            fixture_records(iterator)
        return
    records = fixture_records(iterator)
    assert [r.values["id"] for r in records] == ids
    assert [r.locator.row for r in records] == list(range(1, len(ids) + 1))
    assert {r.locator.container for r in records} == {"processing.json"}


def test_nested_values_are_kept() -> None:
    first, second, third = fixture_records("$.relationships[*]")
    assert first.values["purposes"] == ["billing", "support"]
    assert first.values["address"] == {"city": "Berlin"}
    assert second.values["volume"] == 1200.5
    assert third.values["active"] is True
    assert third.values["owner"] is None
    assert str(second.locator) == "processing.json#row=2"


def test_top_level_array_with_and_without_iterator(tmp_path: Path) -> None:
    path = write(tmp_path, "list.json", '[{"a": 1}, {"a": 2}]')
    conn = JsonConnector(name="l", workspace=tmp_path)
    for iterator in (None, "$", "$[*]"):
        assert [r.values["a"] for r in conn.records(json_source(path, iterator))] == [1, 2]


def test_key_may_be_a_dotted_path(tmp_path: Path) -> None:
    path = write(tmp_path, "k.json", '[{"ref": {"id": "A"}}, {"ref": {}}, {"ref": {"id": 3}}]')
    conn = JsonConnector(name="k", workspace=tmp_path)
    keys = [r.locator.key for r in conn.records(json_source(path, key=("ref.id",)))]
    assert keys == ["ref.id=A", None, "ref.id=3"]


def test_json_lines_fixture() -> None:
    conn = JsonConnector(name="events", workspace=DATA)
    records = list(conn.records(json_source("events.jsonl", key=("event",))))
    assert [r.locator.row for r in records] == [1, 2, 4]  # line numbers; blank line 3 skipped
    assert [r.locator.key for r in records] == ["event=E1", "event=E2", "event=E3"]
    assert records[1].values["details"] == {"ip": "10.0.0.1"}


def test_format_option_forces_json_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "events.log", '{"a": 1}\n{"a": 2}\n')
    conn = JsonConnector(name="e", workspace=tmp_path, format="jsonl")
    assert [r.values["a"] for r in conn.records(json_source(path, "$"))] == [1, 2]


def test_configured_path_overrides_the_mapping(tmp_path: Path) -> None:
    write(tmp_path, "mapped.json", '[{"v": "mapping"}]')
    other = write(tmp_path, "deployed.jsonl", '{"v": "config"}\n')
    conn = JsonConnector(name="o", workspace=tmp_path, path=other)
    (record,) = conn.records(json_source("mapped.json"))
    assert record.values == {"v": "config"}
    assert record.locator.container == "deployed.jsonl"


@pytest.mark.parametrize(
    ("iterator", "steps"),
    [
        ("$", ()),
        ("$.a", (Field("a"),)),
        ("$.a_b-c[*]", (Field("a_b-c"), Wildcard())),
        ("$['a b'][0]", (Field("a b"), Index(0))),
        ('$["x.y"][ * ]', (Field("x.y"), Wildcard())),
        (" $.a[12].b ", (Field("a"), Index(12), Field("b"))),
    ],
)
def test_parse_iterator(iterator: str, steps: tuple[object, ...]) -> None:
    assert parse_iterator(iterator) == steps


@pytest.mark.parametrize(
    "iterator",
    [
        "$..id",  # recursive descent
        "$.a[?(@.x > 1)]",  # filter
        "$.a[0:2]",  # slice
        "$.a[-1]",  # negative index
        "$.*",  # member wildcard
        "$.a[0,1]",  # union
        "relationships[*]",  # no root
        "$.a.",  # dangling dot
        "$['a]",  # unterminated
    ],
)
def test_unsupported_jsonpath_names_the_iterator(iterator: str) -> None:
    with pytest.raises(SourceError) as caught:
        fixture_records(iterator)
    assert f"`{iterator}`" in caught.value.message
    assert caught.value.location == Location(file="processing.json")


@pytest.mark.parametrize(
    ("iterator", "message"),
    [
        ("$.nope[*]", "no member `nope`"),
        ("$.controller[*]", "a str value is not an array"),
        ("$.controller", "points at a str value, not an array"),
        ("$.relationships[9]", "no item 9 in an array of 3"),
        ("$", "points at an object, not an array"),
        ("$.groups[*].name", None),  # several scalars: records must be objects
    ],
)
def test_iterator_that_does_not_match(iterator: str, message: str | None) -> None:
    with pytest.raises(SourceError) as caught:
        fixture_records(iterator)
    assert caught.value.location is not None
    assert caught.value.location.file == "processing.json"
    if message is None:
        assert "expected a json object" in caught.value.message
        assert caught.value.location.record == "row=1"
    else:
        assert message in caught.value.message
        assert f"`{iterator}`" in caught.value.message


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{"a": [1, 2,\n  ]}', 2, 3),
        ('{"a": 1\n "b": 2}', 2, 2),
        ('{"a": "unterminated}', 1, 7),
        ("", 1, 1),
        ('{"a": 1} trailing', 1, 10),
        ('{"a": NaN}', None, None),
    ],
)
def test_malformed_json_is_located(
    tmp_path: Path, text: str, line: int | None, column: int | None
) -> None:
    path = write(tmp_path, "bad.json", text)
    with pytest.raises(SourceError, match="malformed json") as caught:
        list(JsonConnector(name="b", workspace=tmp_path).records(json_source(path)))
    assert caught.value.location == Location(file="bad.json", line=line, column=column)


def test_json_errors_come_before_any_record(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '[{"a": 1}, {"a": 2')
    with pytest.raises(SourceError):
        JsonConnector(name="b", workspace=tmp_path).records(json_source(path))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"a": 1}\n{"a": \n{"a": 3}\n', 2, "malformed json line"),
        ('{"a": 1}\n\n[1, 2]\n', 3, "record is an array"),
        ('{"a": 1}\n"text"\n', 2, "record is a str value"),
        ('{"a": Infinity}\n', 1, "`Infinity` is not a json number"),
    ],
)
def test_bad_json_line_is_located(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, "bad.jsonl", text)
    with pytest.raises(SourceError, match=message) as caught:
        list(JsonConnector(name="b", workspace=tmp_path).records(json_source(path)))
    location = caught.value.location
    assert location is not None
    assert location.file == "bad.jsonl"
    assert location.line == line or location.record == f"row={line}"


def test_json_lines_reject_iterators(tmp_path: Path) -> None:
    path = write(tmp_path, "x.jsonl", '{"a": 1}\n')
    with pytest.raises(SourceError, match=r"iterator `\$\.a\[\*\]` cannot apply to json lines"):
        JsonConnector(name="x", workspace=tmp_path).records(json_source(path, "$.a[*]"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"`data/none\.json` of source `m` not found") as caught:
        JsonConnector(name="m", workspace=tmp_path).records(json_source("data/none.json"))
    assert caught.value.location == Location(file="data/none.json")


def test_undecodable_json(tmp_path: Path) -> None:
    (tmp_path / "l.json").write_bytes(b'[{"a": "ok"},\n {"b": "caf\xe9"}]')
    with pytest.raises(SourceError, match="not valid `utf-8`") as caught:
        list(JsonConnector(name="u", workspace=tmp_path).records(json_source("l.json")))
    assert caught.value.location == Location(file="l.json", line=2)


def test_unknown_encoding_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown encoding `nope`"):
        JsonConnector(name="u", workspace=tmp_path, encoding="nope")


json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
json_object = st.dictionaries(st.text(max_size=6), json_value, max_size=4)


@settings(max_examples=60, deadline=None)
@given(objects=st.lists(json_object, max_size=6), lines=st.booleans())
def test_round_trip(
    tmp_path_factory: pytest.TempPathFactory, objects: list[dict[str, object]], lines: bool
) -> None:
    workspace = tmp_path_factory.mktemp("rt")
    if lines:
        text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects)
        path = write(workspace, "rt.jsonl", text)
        iterator = None
    else:
        path = write(workspace, "rt.json", json.dumps({"items": objects}, indent=2))
        iterator = "$.items[*]"
    records = list(
        JsonConnector(name="rt", workspace=workspace).records(json_source(path, iterator))
    )
    assert [r.values for r in records] == objects
    assert [r.locator.row for r in records] == list(range(1, len(objects) + 1))
