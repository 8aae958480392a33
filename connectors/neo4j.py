"""Neo4j (Bolt) through the official ``neo4j`` driver: the rows of a mapping's Cypher query.

The mapping names the query (``sources: [{query: "MATCH …", referenceFormulation: cypher}]``)
and ``warrant.toml`` the server, credentials, parameters and paging. Rows are read in pages of
``page_size``: the connector appends ``SKIP $warrant_skip LIMIT $warrant_limit`` to the query,
so the query must end in its ``RETURN … ORDER BY …`` for pages to be stable. Each page is one
read transaction (``session.execute_read``), which a Neo4j cluster routes to a reader.
Configured ``params`` are passed as query parameters, never pasted into the text (with
``dialect = "falkordb"`` strings are escaped for FalkorDB, see ``connectors.bolt``).

Values: scalars and lists pass through; a node becomes a dict of its properties plus
``_element_id`` and ``_labels``, a relationship its properties plus ``_element_id``,
``_type``, ``_start`` and ``_end`` (element ids), so a mapping reads ``$(n.name)``. Temporal
values become ``date`` / ``datetime`` (ISO text in literals).

Identity: with ``key`` (warrant.toml) a record is located ``<db>/query-<hash>#id=S1``;
without it, by the element id of the first node or relationship in the row
(``#element_id=4:…:12``), else by row number. Provenance keeps that locator, so a proof leaf
names the Neo4j node it came from, and ``warrant export neo4j`` can link back to it.

Errors name the source: an unreachable server, a refused login (the password is never shown),
a query the server rejects, a row without a configured key field. A page that fails on a
dropped connection or a transient server error is retried ``retries`` times with backoff;
every row is read before anything is written, so a failure leaves the store untouched.

>>> # Neo4jConnector(name="flows", url="bolt://127.0.0.1:7687", user=None, password=None)
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import neo4j
from neo4j import exceptions as neo_exc
from neo4j import graph as neo_graph
from neo4j import time as neo_time

from connectors.base import LogicalSource, Record, RecordLocator, key_text
from connectors.bolt import BoltDialect, bolt_params, shared_drivers
from engine.errors import Location, SourceError

_SKIP = "warrant_skip"
_LIMIT = "warrant_limit"
_RETRYABLE = (neo_exc.ServiceUnavailable, neo_exc.SessionExpired, neo_exc.TransientError)


def query_label(query: str) -> str:
    """``query-<12 hex>``: stable while the query's text (up to whitespace) stays the same."""
    normalised = " ".join(query.split())
    return "query-" + hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:12]


def paged(query: str) -> str:
    """The query with the paging clause appended (the parameters are set per page)."""
    return f"{query.rstrip().rstrip(';')}\nSKIP ${_SKIP} LIMIT ${_LIMIT}"


def plain_value(value: object) -> object:
    """A driver value as the mapping step expects it: scalars, lists, dicts, dates."""
    if isinstance(value, neo_graph.Node):
        out: dict[str, object] = {k: plain_value(v) for k, v in value.items()}
        out["_element_id"] = value.element_id
        out["_labels"] = sorted(value.labels)
        return out
    if isinstance(value, neo_graph.Relationship):
        rel: dict[str, object] = {k: plain_value(v) for k, v in value.items()}
        rel["_element_id"] = value.element_id
        rel["_type"] = value.type
        rel["_start"] = value.start_node.element_id if value.start_node is not None else None
        rel["_end"] = value.end_node.element_id if value.end_node is not None else None
        return rel
    if isinstance(value, neo_time.Date | neo_time.DateTime):
        return value.to_native()
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    return value


def _entity_id(row: Mapping[str, object]) -> str | None:
    for value in row.values():
        if isinstance(value, neo_graph.Node | neo_graph.Relationship):
            return value.element_id
    return None


class Neo4jConnector:
    """Reads the rows of Cypher queries from one Bolt server (a warrant.toml ``neo4j`` source)."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        params: Mapping[str, object] | None = None,
        key: Sequence[str] = (),
        page_size: int = 1000,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        dialect: BoltDialect = "neo4j",
    ) -> None:
        if page_size < 1:
            raise SourceError(f"source `{name}`: `page_size` must be at least 1, not {page_size}")
        self.name = name
        self.url = url
        self.database = database
        self.params = dict(params or {})
        self.key = tuple(key)
        self.page_size = page_size
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.dialect: BoltDialect = dialect
        self._user = user
        try:
            self._driver = shared_drivers().get(
                url, user=user, password=password, timeout_s=timeout_s
            )
        except (ValueError, neo_exc.ConfigurationError) as exc:
            raise SourceError(f"source `{name}` has an invalid bolt url `{url}`: {exc}") from exc
        self._verified = False

    def records(self, source: LogicalSource) -> Iterator[Record]:
        """Yield the rows of ``source.query`` page by page; errors name the source."""
        if source.query is None:
            raise SourceError(f"source `{self.name}`: the mapping names no cypher `query`")
        self._verify()
        return self._stream(source.query)

    def close(self) -> None:
        """Nothing to release: the driver is shared and long-lived (see ``connectors.bolt``)."""

    def _verify(self) -> None:
        if self._verified:
            return
        try:
            self._with_retries(lambda: self._driver.verify_connectivity())
        except neo_exc.AuthError as exc:
            raise self._login_refused(exc) from exc
        except neo_exc.Neo4jError as exc:
            # FalkorDB refuses a login with a generic failure while opening the connection.
            raise self._login_refused(exc) from exc
        except (*_RETRYABLE, neo_exc.DriverError, OSError) as exc:
            raise SourceError(
                f"cannot connect to source `{self.name}` at `{self.url}`: {_reason(exc)}"
            ) from exc
        self._verified = True

    def _login_refused(self, exc: Exception) -> SourceError:
        who = f" as `{self._user}`" if self._user is not None else " without credentials"
        return SourceError(
            f"source `{self.name}`: `{self.url}` refused the login{who}: {_reason(exc)}",
            code="source_unauthorized",
        )

    def _stream(self, query: str) -> Iterator[Record]:
        container = f"{self.database or 'neo4j'}/{query_label(query)}"
        text = paged(query)
        number = 0
        skip = 0
        while True:
            page = self._page(text, skip, container)
            for row in page:
                number += 1
                yield Record(locator=self._locator(row, number, container), values=_values(row))
            if len(page) < self.page_size:
                return
            skip += self.page_size

    def _page(self, text: str, skip: int, container: str) -> list[dict[str, Any]]:
        params = bolt_params({**self.params, _SKIP: skip, _LIMIT: self.page_size},
                             dialect=self.dialect)

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            result = tx.run(text, params)
            return [dict(zip(r.keys(), r.values(), strict=True)) for r in result]

        def read() -> list[dict[str, Any]]:
            with self._driver.session(database=self.database) as session:
                rows: list[dict[str, Any]] = session.execute_read(work)
                return rows

        try:
            page: list[dict[str, Any]] = self._with_retries(read)
            return page
        except (*_RETRYABLE, neo_exc.DriverError, OSError) as exc:
            raise SourceError(
                f"source `{self.name}`: reading from `{self.url}` failed at row {skip + 1} "
                f"after {self.retries + 1} attempt(s): {_reason(exc)}",
                Location(record=container),
            ) from exc
        except neo_exc.Neo4jError as exc:
            raise SourceError(
                f"source `{self.name}`: the server rejected the cypher query: {_reason(exc)}",
                Location(record=container),
            ) from exc

    def _with_retries(self, work: Any) -> Any:
        attempt = 0
        while True:
            try:
                return work()
            except _RETRYABLE:
                if attempt >= self.retries:
                    raise
                attempt += 1
                time.sleep(self.backoff_s * 2 ** (attempt - 1))

    def _locator(self, row: Mapping[str, object], number: int, container: str) -> RecordLocator:
        key: str | None = None
        if self.key:
            for field in self.key:
                if field not in row:
                    raise SourceError(
                        f"source `{self.name}`: key field `{field}` is not a column of the query",
                        Location(record=f"{container}#row={number}", field=field),
                    )
            key = key_text([(f, row[f]) for f in self.key])
            if key is None:
                missing = next(f for f in self.key if row[f] is None or row[f] == "")
                raise SourceError(
                    f"source `{self.name}`: row {number} has no value for key field `{missing}`",
                    Location(record=f"{container}#row={number}", field=missing),
                )
        else:
            element = _entity_id(row)
            if element is not None:
                key = key_text([("element_id", element)])
        return RecordLocator(source=self.name, container=container, row=number, key=key)


def _values(row: Mapping[str, object]) -> dict[str, object]:
    return {k: plain_value(v) for k, v in row.items()}


def _reason(exc: BaseException) -> str:
    """The driver's message without stack or credentials (the driver never echoes them)."""
    if isinstance(exc, neo_exc.Neo4jError):
        code = exc.code or "error"
        message = (exc.message or "").strip().splitlines()
        return f"{code}: {message[0]}" if message else code
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]
