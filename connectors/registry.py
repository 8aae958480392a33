"""Build the connector of a warrant.toml source from its settings.

The settings are a plain mapping (``config.model_dump()`` of a workspace source, or a parsed
TOML table) so this module depends on no config model. Keys read, by ``type``:

- ``csv``: ``path`` (optional, overrides the mapping's), ``delimiter`` (one character,
  default ``,``), ``encoding`` (default ``utf-8``);
- ``json``: ``path``, ``encoding``, ``format`` (``json`` | ``jsonl``; default by extension);
- ``sql``: ``url`` (SQLAlchemy URL; ``sqlite:///relative.db`` is relative to the workspace);
- ``neo4j``: ``url`` (``bolt://`` / ``neo4j://``), ``user``, ``password``, ``database``,
  ``params`` (Cypher parameters), ``key``, ``page_size``, ``timeout_s``, ``retries``,
  ``dialect`` (``neo4j`` | ``falkordb``);
- ``sparql`` with a mapping: ``endpoint``, ``user``, ``password``, ``page_size``,
  ``timeout_s``, ``retries`` (the mapping's query is a SELECT).

Other keys (``mapping``, ``graph``, ``shapes`` …) belong to other steps and are ignored here.
``rdf`` sources and ``sparql`` sources without a mapping (a CONSTRUCT) have no record
connector: they are read by :func:`connectors.rdffile.read_rdf` and
:func:`connectors.sparql.read_construct`.

>>> # open_connector("vendors", {"type": "csv", "path": "data/vendors.csv"}, workspace=root)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

from connectors.base import Connector
from connectors.csvfile import CsvConnector
from connectors.jsonfile import JsonConnector, JsonFormat
from connectors.sql import SqlConnector
from engine.errors import ConfigError, Location

ConnectorType = Literal["csv", "json", "sql", "neo4j", "sparql"]
"""The source types that yield records for a mapping."""

_CONFIG_FILE = "warrant.toml"


def open_connector(name: str, settings: Mapping[str, object], *, workspace: Path) -> Connector:
    """The connector for source ``name``; ``ConfigError`` naming the key for a bad setting."""
    kind = settings.get("type")
    if kind == "csv":
        return CsvConnector(
            name=name,
            workspace=workspace,
            path=_optional_str(name, settings, "path"),
            delimiter=_str(name, settings, "delimiter", default=","),
            encoding=_str(name, settings, "encoding", default="utf-8"),
        )
    if kind == "json":
        return JsonConnector(
            name=name,
            workspace=workspace,
            path=_optional_str(name, settings, "path"),
            encoding=_str(name, settings, "encoding", default="utf-8"),
            format=_json_format(name, settings),
        )
    if kind == "sql":
        url = _required_str(name, settings, "url", "needs a database `url`")
        return SqlConnector(name=name, url=url, workspace=workspace)
    if kind == "neo4j":
        from connectors.neo4j import Neo4jConnector

        url = _required_str(name, settings, "url", "needs a bolt `url`")
        return Neo4jConnector(
            name=name,
            url=url,
            user=_optional_str(name, settings, "user"),
            password=_optional_str(name, settings, "password"),
            database=_optional_str(name, settings, "database"),
            params=_mapping(name, settings, "params"),
            key=_strings(name, settings, "key"),
            page_size=_int(name, settings, "page_size", default=1000),
            timeout_s=_float(name, settings, "timeout_s", default=30.0),
            retries=_int(name, settings, "retries", default=3),
            dialect="falkordb" if settings.get("dialect") == "falkordb" else "neo4j",
        )
    if kind == "sparql":
        from connectors.sparql import SparqlConnector

        endpoint = _required_str(name, settings, "endpoint", "needs an `endpoint`")
        return SparqlConnector(
            name=name,
            endpoint=endpoint,
            user=_optional_str(name, settings, "user"),
            password=_optional_str(name, settings, "password"),
            page_size=_int(name, settings, "page_size", default=0),
            timeout_s=_float(name, settings, "timeout_s", default=30.0),
            retries=_int(name, settings, "retries", default=3),
        )
    expected = ", ".join(f"`{t}`" for t in get_args(ConnectorType))
    raise _error(name, "type", f"has unknown connector type `{kind}`; expected one of {expected}")


def _json_format(name: str, settings: Mapping[str, object]) -> JsonFormat | None:
    value = _optional_str(name, settings, "format")
    if value is None:
        return None
    if value == "json":
        return "json"
    if value == "jsonl":
        return "jsonl"
    raise _error(name, "format", f"has unknown json format `{value}`; expected `json` or `jsonl`")


def _required_str(name: str, settings: Mapping[str, object], key: str, problem: str) -> str:
    value = _optional_str(name, settings, key)
    if value is None:
        raise _error(name, key, problem)
    return value


def _optional_str(name: str, settings: Mapping[str, object], key: str) -> str | None:
    value = settings.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _error(name, key, f"setting `{key}` must be a string, not {type(value).__name__}")


def _mapping(name: str, settings: Mapping[str, object], key: str) -> dict[str, object]:
    value = settings.get(key)
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    raise _error(name, key, f"setting `{key}` must be a table, not {type(value).__name__}")


def _strings(name: str, settings: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = settings.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise _error(name, key, f"setting `{key}` must be a list of strings")


def _int(name: str, settings: Mapping[str, object], key: str, *, default: int) -> int:
    value = settings.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _error(name, key, f"setting `{key}` must be an integer, not {type(value).__name__}")


def _float(name: str, settings: Mapping[str, object], key: str, *, default: float) -> float:
    value = settings.get(key, default)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _error(name, key, f"setting `{key}` must be a number, not {type(value).__name__}")


def _str(name: str, settings: Mapping[str, object], key: str, *, default: str) -> str:
    value = _optional_str(name, settings, key)
    return default if value is None else value


def _error(name: str, key: str, problem: str) -> ConfigError:
    return ConfigError(
        f"source `{name}` {problem}",
        Location(file=_CONFIG_FILE, field=f"sources.{name}.{key}"),
    )
