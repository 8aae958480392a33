"""One error format for every response: ``{code, message, details}`` (:class:`ErrorV1`).

How errors become statuses::

    WarrantError                          by class, unless its code says otherwise
    ├── QueryError, ParameterError,       400  (codes: query_timeout 503,
    │   MappingError, ShapesError,              result_limit_exceeded 422,
    │   RuleError, SourceError,                 not_acceptable 406,
    │   OntologyError                           payload_too_large 413)
    ├── AuthError                         401  code "unauthenticated" (+ WWW-Authenticate)
    │                                     403  code "forbidden"
    ├── NotFoundError                     404
    ├── ConflictError                     409
    ├── SolveError                        422
    ├── DispatchError                     502
    └── StoreError, ConfigError           503 / 500
    RequestValidationError                422  code "invalid_request", the fields named
    HTTPException (routing)               its status: 404 not_found, 405 method_not_allowed …
    anything else                         500  code "internal_error", logged, never shown

A stack trace never reaches a caller: :class:`CatchAllMiddleware` logs it with the request
id and answers a 500 that names the request id.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logging import request_id_var
from api.models import ErrorV1
from engine.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    DispatchError,
    NotFoundError,
    SolveError,
    StoreError,
    WarrantError,
)

log = logging.getLogger("warrant.api.errors")

FORBIDDEN = "forbidden"
UNAUTHENTICATED = "unauthenticated"
WWW_AUTHENTICATE = 'Bearer realm="warrant", ApiKey realm="warrant", header="X-API-Key"'

CODE_STATUS: dict[str, int] = {
    FORBIDDEN: 403,
    UNAUTHENTICATED: 401,
    "query_timeout": 503,
    "result_limit_exceeded": 422,
    "not_acceptable": 406,
    "payload_too_large": 413,
    "unsupported_media_type": 400,
}
"""Statuses chosen by an error's code; these win over the class table below."""

CLASS_STATUS: tuple[tuple[type[WarrantError], int], ...] = (
    (AuthError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (SolveError, 422),
    (DispatchError, 502),
    (StoreError, 503),
    (ConfigError, 500),
)
"""Statuses by class; any other WarrantError is the caller's fault: 400."""

HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def status_for(error: WarrantError) -> int:
    """The HTTP status an error is answered with."""
    if error.code in CODE_STATUS:
        return CODE_STATUS[error.code]
    for cls, status in CLASS_STATUS:
        if isinstance(error, cls):
            return status
    return 400


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response in the one format."""
    body = ErrorV1(code=code, message=message, details=details or {})
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


async def _warrant_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WarrantError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if status == 503:
        headers["Retry-After"] = "5"
    wire = exc.as_dict()
    return error_response(status, wire["code"], wire["message"], wire["details"], headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(p) for p in err.get("loc", ())),
            "message": str(err.get("msg", "")).lower(),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]
    first = fields[0] if fields else {"field": "request", "message": "is not valid"}
    more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
    return error_response(
        422,
        "invalid_request",
        f"field `{first['field']}`: {first['message']}{more}",
        {"fields": fields},
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    message = str(exc.detail).lower() if exc.detail else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return error_response(exc.status_code, code, message, None, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render every error as :class:`ErrorV1`.

    Add :class:`CatchAllMiddleware` too, so unexpected exceptions are rendered as well.
    """
    app.add_exception_handler(WarrantError, _warrant_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


class CatchAllMiddleware:
    """Turns an unexpected exception into a logged 500 that names the request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; on an escaped exception answer 500 if nothing was sent yet."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            rid = request_id_var.get() or "unknown"
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if started:
                return
            response = error_response(
                500,
                "internal_error",
                f"internal error; quote request id `{rid}` to an operator",
                {"request_id": rid},
            )
            await response(scope, receive, send)
