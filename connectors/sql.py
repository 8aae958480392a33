"""SQL databases through SQLAlchemy 2: the rows of a table or of a query.

Reads are read-only by construction, not by convention: a SQLite file is opened with
``mode=ro`` and a PostgreSQL session starts with ``default_transaction_read_only=on``, so a
mapping's query that tries to write fails in the database. Rows stream (server-side cursor on
PostgreSQL, ``yield_per``) so a large table does not sit in memory twice.

Order is stable so that row numbers and batches repeat: a table is read ``ORDER BY`` its primary
key (or the mapping's ``key`` fields), a table without either by all its orderable columns; a
query's rows come as the query orders them. Values are what the driver returns (``int``,
``Decimal``, ``date``, ``datetime``, ``bool``, ``str``, ``None`` …); columns are selected without
SQLAlchemy types so no conversion happens on the way (an ill-typed value in SQLite stays as
stored, and the shapes report it).

A record's locator is ``<database>/<table>#<pk>=<value>`` (``hr.sqlite/employees#id=E042``), or
``<database>/query-<hash>#row=<n>`` for a query without a ``key``.

>>> # SqlConnector(name="hr", url="sqlite:///data/hr.sqlite", workspace=Path("."))
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from connectors.base import LogicalSource, Record, RecordLocator, key_text
from engine.errors import Location, SourceError

_BATCH = 1000
_USERINFO = re.compile(r"^([^:/]+://[^:/@]*:).*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def redact(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, safe to print and log.

    Works on the text, not on a parse, so a URL that does not parse (or parses with a stray
    ``@`` in the password) still hides everything between ``user:`` and the last ``@``.
    """
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    text = _USERINFO.sub(r"\1***@", url)
    return _QUERY_PASSWORD.sub(r"\1***", text)


class SqlConnector:
    """Reads tables and queries of one database (a warrant.toml ``sql`` source)."""

    def __init__(self, *, name: str, url: str, workspace: Path) -> None:
        self.name = name
        self.workspace = workspace
        try:
            parsed = make_url(url)
        except sa_exc.ArgumentError as exc:
            raise SourceError(
                f"source `{name}` has an invalid database url `{redact(url)}`"
            ) from exc
        self._display = redact(url)
        self._url, self._connect_args = self._read_only(parsed)
        self._engine: Engine | None = None

    @property
    def url(self) -> str:
        """The database URL as configured, password redacted."""
        return self._display

    @property
    def database(self) -> str:
        """The database's short name: the file name for SQLite, else the database name."""
        db = self._url.database or ""
        if self._url.get_backend_name() == "sqlite":
            db = db.removeprefix("file:").split("?", 1)[0]
            return Path(db).name or "memory"
        return db or (self._url.host or "database")

    def records(self, source: LogicalSource) -> Iterator[Record]:
        """Yield the rows of ``source.table`` or ``source.query``; errors before the first row."""
        if source.table is None and source.query is None:
            raise SourceError(
                f"source `{self.name}`: the mapping names neither a table nor a query"
            )
        return self._stream(source)

    def close(self) -> None:
        """Close the connection pool."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _read_only(self, url: URL) -> tuple[URL, dict[str, Any]]:
        backend = url.get_backend_name()
        if backend == "sqlite":
            db = url.database
            if not db or db == ":memory:" or url.query.get("uri") == "true":
                return url, {}
            path = Path(db)
            if not path.is_absolute():
                path = self.workspace / path
            # A SQLite URI opens the file read-only and never creates it.
            uri_db = f"file:{path.resolve().as_posix()}?mode=ro"
            return url.set(database=uri_db, query={**url.query, "uri": "true"}), {}
        if backend == "postgresql":
            return url, {"options": "-c default_transaction_read_only=on"}
        return url, {}

    def _connect(self) -> Connection:
        if self._url.get_backend_name() == "sqlite":
            db = (self._url.database or "").removeprefix("file:").split("?", 1)[0]
            if db and db != ":memory:" and not Path(db).is_file():
                raise SourceError(
                    f"database file `{db}` of source `{self.name}` not found",
                    Location(file=db),
                )
        try:
            if self._engine is None:
                self._engine = sa.create_engine(self._url, connect_args=self._connect_args)
            return self._engine.connect()
        except (sa_exc.DBAPIError, sa_exc.ArgumentError, ImportError) as exc:
            raise SourceError(
                f"cannot connect to source `{self.name}` at `{self.url}`: {self._reason(exc)}"
            ) from exc

    def _stream(self, source: LogicalSource) -> Iterator[Record]:
        conn = self._connect()
        try:
            if source.table is not None:
                container = f"{self.database}/{source.table}"
                statement: sa.Executable
                statement, key = self._table_select(conn, source.table, source.key)
            else:
                query = source.query or ""
                container = f"{self.database}/{_query_label(query)}"
                statement, key = sa.text(query), source.key
            try:
                result = conn.execution_options(yield_per=_BATCH).execute(statement)
            except sa_exc.DBAPIError as exc:
                what = f"table `{source.table}`" if source.table is not None else "query"
                raise SourceError(
                    f"source `{self.name}`: {what} failed: {self._reason(exc)}",
                    Location(record=container),
                ) from exc
            try:
                columns = list(result.keys())
                self._check_columns(columns, key, container)
                for number, row in enumerate(result, 1):
                    values = dict(zip(columns, row, strict=True))
                    locator = RecordLocator(
                        source=self.name,
                        container=container,
                        row=number,
                        key=key_text([(k, values[k]) for k in key]) if key else None,
                    )
                    yield Record(locator=locator, values=values)
            except sa_exc.DBAPIError as exc:
                raise SourceError(
                    f"source `{self.name}`: reading failed: {self._reason(exc)}",
                    Location(record=container),
                ) from exc
            finally:
                result.close()
        finally:
            conn.close()

    def _table_select(
        self, conn: Connection, table: str, key: Sequence[str]
    ) -> tuple[sa.Executable, tuple[str, ...]]:
        schema, _, bare = table.rpartition(".")
        schema_name = schema or None
        try:
            inspector = sa.inspect(conn)
            if not inspector.has_table(bare, schema=schema_name):
                raise SourceError(
                    f"table `{table}` not found in source `{self.name}` (`{self.url}`)",
                    Location(record=f"{self.database}/{table}"),
                )
            columns = inspector.get_columns(bare, schema=schema_name)
            primary = tuple(
                inspector.get_pk_constraint(bare, schema=schema_name)["constrained_columns"] or ()
            )
        except sa_exc.DBAPIError as exc:
            raise SourceError(
                f"source `{self.name}`: cannot inspect table `{table}`: {self._reason(exc)}"
            ) from exc
        names = [str(c["name"]) for c in columns]
        ident = tuple(key) or primary
        # No identity: order by content so the same rows get the same row numbers.
        order = list(ident) or [str(c["name"]) for c in columns if _orderable(c["type"])]
        # Untyped columns: the driver's values pass through without SQLAlchemy conversion.
        statement: sa.Executable = (
            sa.select(*[sa.column(n) for n in names])
            .select_from(sa.table(bare, schema=schema_name))
            .order_by(*[sa.column(n) for n in order if n in names])
        )
        return statement, ident

    def _check_columns(self, columns: list[str], key: Sequence[str], container: str) -> None:
        seen: set[str] = set()
        for column in columns:
            if column in seen:
                raise SourceError(
                    f"source `{self.name}`: column `{column}` appears twice; alias it",
                    Location(record=container),
                )
            seen.add(column)
        for field in key:
            if field not in seen:
                raise SourceError(
                    f"source `{self.name}`: key field `{field}` is not a column",
                    Location(record=container, field=field),
                )

    def _reason(self, exc: BaseException) -> str:
        """The driver's first line, with the password removed in case the driver echoed it."""
        cause = getattr(exc, "orig", None) or exc
        lines = str(cause).strip().splitlines()
        text = lines[0].strip() if lines else type(cause).__name__
        password = self._url.password
        if password:
            text = text.replace(str(password), "***")
        return text[:300]


def _orderable(column_type: object) -> bool:
    return not isinstance(column_type, sa.types.JSON | sa.types.NullType)


def _query_label(query: str) -> str:
    """``query-<12 hex>``: stable while the query's text (up to whitespace) stays the same."""
    normalised = " ".join(query.split())
    return "query-" + hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:12]
