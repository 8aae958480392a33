"""Reading a SPARQL 1.1 Protocol request (https://www.w3.org/TR/sparql11-protocol/) into one value.

Three ways to send a query (§2.1): ``GET ?query=…``, ``POST`` of an
``application/x-www-form-urlencoded`` form with ``query=…``, and ``POST`` of the query itself as
``application/sparql-query``. The dataset may be given by ``default-graph-uri`` and
``named-graph-uri`` (repeatable, §2.1.4); they override any ``FROM`` in the query.

Refused with 400: no ``query``, two ``query`` values, a body that is not UTF-8, a POST with any
other media type, and every update (§2.2: ``update=``, ``application/sparql-update``,
``using-graph-uri``, or update text sent as a query) — Warrant's knowledge graph changes only
through ingestion. A ``GET`` with no parameters at all asks for the service description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl

import pyoxigraph as ox

from api.sparql.lexer import Operation, operation
from engine.errors import Location, QueryError

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
UPDATE_PARAMS = ("update", "using-graph-uri", "using-named-graph-uri")

UPDATES_REFUSED = (
    "updates are refused: this endpoint offers the query operation only "
    "(SPARQL 1.1 Protocol §2.2); the knowledge graph changes only through ingestion"
)


@dataclass(frozen=True)
class QueryRequest:
    """A query and the dataset the protocol gave for it (empty tuples: none given)."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def has_protocol_dataset(self) -> bool:
        """Whether ``default-graph-uri`` or ``named-graph-uri`` was given (§2.1.4)."""
        return bool(self.default_graphs or self.named_graphs)


@dataclass(frozen=True)
class ServiceDescriptionRequest:
    """A bare ``GET`` of the endpoint: answer with the SPARQL service description."""


def _bad(message: str, *, field: str | None = None, code: str = "query_error") -> QueryError:
    return QueryError(message, location=Location(field=field) if field else None, code=code)


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """``(type/subtype, charset)`` of a Content-Type header, lower-cased."""
    if not content_type:
        return "", None
    parts = [p.strip() for p in content_type.split(";")]
    charset = None
    for param in parts[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return parts[0].lower(), charset


def _utf8(body: bytes, charset: str | None, what: str) -> str:
    if charset not in (None, "utf-8", "utf8"):
        raise _bad(f"the {what} must be utf-8, not `{charset}` (SPARQL 1.1 Protocol §2.1.2)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"the {what} is not valid utf-8 at byte {exc.start}") from exc


def _iris(params: Sequence[tuple[str, str]], name: str) -> tuple[str, ...]:
    out: list[str] = []
    for key, value in params:
        if key != name:
            continue
        try:
            ox.NamedNode(value)
        except ValueError as exc:
            raise _bad(f"`{value[:200]}` is not an absolute IRI", field=name) from exc
        out.append(value)
    return tuple(out)


def parse_request(
    method: Literal["GET", "POST"],
    *,
    url_params: Sequence[tuple[str, str]],
    content_type: str | None,
    body: bytes,
) -> QueryRequest | ServiceDescriptionRequest:
    """The request's query and dataset; QueryError (400) for anything the protocol forbids."""
    params = list(url_params)
    direct: str | None = None
    if method == "GET":
        if not params:
            return ServiceDescriptionRequest()
    else:
        media, charset = _media_type(content_type)
        if media == FORM:
            text = _utf8(body, charset, "form body")
            try:
                params += parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                                    errors="strict")
            except (ValueError, UnicodeDecodeError) as exc:
                raise _bad(f"the form body is malformed: {exc}") from exc
        elif media == SPARQL_QUERY:
            direct = _utf8(body, charset, "query body")
        elif media == SPARQL_UPDATE:
            raise _bad(UPDATES_REFUSED, code="update_refused")
        else:
            shown = media or "no content-type"
            raise _bad(
                f"a POST must be `{FORM}` or `{SPARQL_QUERY}`, not `{shown}` "
                "(SPARQL 1.1 Protocol §2.1)",
                field="content-type",
                code="unsupported_media_type",
            )
    names = [k for k, _ in params]
    if any(n in UPDATE_PARAMS for n in names):
        raise _bad(UPDATES_REFUSED, code="update_refused")
    queries = [v for k, v in params if k == "query"]
    if direct is not None:
        if queries:
            raise _bad("a direct POST carries the query in its body, not in `query=`",
                       field="query")
        queries = [direct]
    if len(queries) > 1:
        raise _bad(f"exactly one `query` is allowed, got {len(queries)}", field="query")
    if not queries or not queries[0].strip():
        raise _bad("the `query` parameter is missing or empty", field="query")
    query = queries[0]
    if operation(query) is Operation.UPDATE:
        raise _bad(UPDATES_REFUSED, code="update_refused")
    return QueryRequest(
        query=query,
        default_graphs=_iris(params, "default-graph-uri"),
        named_graphs=_iris(params, "named-graph-uri"),
    )
