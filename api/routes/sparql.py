"""``/sparql``: the SPARQL 1.1 Protocol query operation over the knowledge graph (role ``reader``).

``GET /sparql?query=…``, ``POST`` form or direct query; ``default-graph-uri`` /
``named-graph-uri`` choose the dataset; ``Accept`` chooses the format (JSON results and Turtle
by default). A bare ``GET /sparql`` returns the service description. Updates are refused
(SPARQL 1.1 Protocol §2.2). See :mod:`api.sparql.evaluation` for the time and result limits.
Every query's answer says what the engine took in ``Server-Timing: query;dur=<ms>``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response

from api.auth import require_roles
from api.models import ErrorV1
from api.sparql.evaluation import QueryRunner
from api.sparql.protocol import ServiceDescriptionRequest, parse_request
from api.sparql.service import service_description
from engine.principals import Principal, Role

router = APIRouter(tags=["sparql"])

Reader = Annotated[Principal, Depends(require_roles(Role.READER))]

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorV1, "description": text}
    for status, text in (
        (400, "malformed query or request, or an update (refused)"),
        (401, "credentials missing or wrong"),
        (403, "the principal lacks the `reader` role"),
        (406, "no acceptable result format"),
        (413, "request body too large"),
        (422, "more results than the result limit"),
        (503, "the query ran past the time limit"),
    )
}


_IRI_LIST = {"type": "array", "items": {"type": "string", "format": "iri"}}
_DATASET_PARAMS: list[dict[str, object]] = [
    {"name": name, "in": "query", "required": False, "schema": _IRI_LIST, "style": "form",
     "explode": True, "description": f"SPARQL 1.1 Protocol §2.1.4 `{name}` (repeatable)"}
    for name in ("default-graph-uri", "named-graph-uri")
]
_GET_DOC: dict[str, object] = {
    "parameters": [
        {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "the SPARQL query; without any parameter: the service description"},
        *_DATASET_PARAMS,
    ]
}
_POST_DOC: dict[str, object] = {
    "parameters": _DATASET_PARAMS,
    "requestBody": {
        "required": True,
        "content": {
            "application/sparql-query": {"schema": {"type": "string"}},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["query"],
                    "properties": {"query": {"type": "string"}, "default-graph-uri": _IRI_LIST,
                                   "named-graph-uri": _IRI_LIST},
                }
            },
        },
    },
}


def query_runner(request: Request) -> QueryRunner:
    """The app's :class:`QueryRunner`."""
    runner = request.app.state.query_runner
    assert isinstance(runner, QueryRunner)
    return runner


_ENDPOINTS_KEPT = 64


def endpoint_iri(request: Request) -> str:
    """The endpoint's IRI as the client addressed it: the base IRI of the query and the
    service description's ``sd:endpoint``.

    Kept per app, scheme, host and root path (at most :data:`_ENDPOINTS_KEPT`, as the host
    is the client's to choose): ``url_for`` builds two URLs and searches the routes, a tenth
    of a small query's time over HTTP.
    """
    state = request.app.state
    endpoints: dict[tuple[object, ...], str] | None = getattr(state, "sparql_endpoints", None)
    if endpoints is None or len(endpoints) >= _ENDPOINTS_KEPT:
        endpoints = state.sparql_endpoints = {}
    scope = request.scope
    server = scope.get("server")  # a list under some servers: not hashable
    key = (scope.get("scheme"), request.headers.get("host"), tuple(server) if server else None,
           scope.get("root_path", ""))
    endpoint = endpoints.get(key)
    if endpoint is None:
        endpoint = endpoints[key] = str(request.url_for("sparql_get"))
    return endpoint


async def _answer(request: Request, method: Literal["GET", "POST"], body: bytes) -> Response:
    endpoint = endpoint_iri(request)
    accept = request.headers.get("accept")
    parsed = parse_request(
        method,
        url_params=request.query_params.multi_items(),
        content_type=request.headers.get("content-type"),
        body=body,
    )
    if isinstance(parsed, ServiceDescriptionRequest):
        answer = service_description(endpoint, accept=accept)
    else:
        answer = await query_runner(request).run(parsed, accept=accept, base_iri=endpoint)
    headers = {"Vary": "Accept"}
    if answer.evaluated_ms:
        # What the query engine took, so a client can tell it from the network and the API.
        headers["Server-Timing"] = f'query;dur={answer.evaluated_ms:.3f};desc="evaluate and write"'
    return Response(answer.body, media_type=answer.media_type, headers=headers)


@router.get("/sparql", name="sparql_get", responses=_ERRORS, openapi_extra=_GET_DOC)
async def sparql_get(request: Request, _principal: Reader) -> Response:
    """Run ``?query=`` (or describe the service when there are no parameters)."""
    return await _answer(request, "GET", b"")


@router.post("/sparql", name="sparql_post", responses=_ERRORS, openapi_extra=_POST_DOC)
async def sparql_post(request: Request, _principal: Reader) -> Response:
    """Run a query sent as a form (``query=``) or directly (``application/sparql-query``)."""
    return await _answer(request, "POST", await request.body())
