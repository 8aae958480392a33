"""Structured JSON logs and the request id that ties a response to its log lines.

Every request gets an id: the caller's ``X-Request-ID`` when it is a short token
(``[A-Za-z0-9._-]``, at most 128 characters), otherwise a fresh one. The id is echoed in the
response's ``X-Request-ID`` header, put in every log line written while the request runs
(a context variable), and named in 500 responses so an operator can find the stack trace
in the log while the caller never sees it.

Example::

    configure_logging(level="INFO")       # once, by the entry point (``warrant serve``)
    app.add_middleware(RequestContextMiddleware)
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_STD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

request_id_var: ContextVar[str | None] = ContextVar("warrant_request_id", default=None)
"""The id of the request being served by this task, if any."""

access_log = logging.getLogger("warrant.api.access")
"""One line per request: method, path, route, status, duration, request id."""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line; exception text goes in ``exc_info``, never elsewhere."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid is not None:
            out["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(*, level: str = "INFO") -> None:
    """Send the ``warrant`` loggers to stderr as JSON lines (call once from an entry point)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("warrant")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def request_id_from(value: str | None) -> str:
    """The caller's request id when it is a safe token, else a fresh random one."""
    if value is not None and _REQUEST_ID_RE.match(value):
        return value
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Assigns the request id, echoes it, and writes one access-log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id in the context and in the response headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = request_id_from(incoming)
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            access_log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "route": getattr(route, "path", None),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "principal": scope.get("state", {}).get("principal_id"),
                },
            )
            request_id_var.reset(token)
