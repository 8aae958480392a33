"""Authentication and roles as FastAPI dependencies.

Every route but ``/healthz`` and ``/readyz`` needs a principal, presented as
``Authorization: Bearer <jwt>`` or ``X-API-Key: <key>``. Missing or wrong credentials are
401 (code ``unauthenticated``, with ``WWW-Authenticate``); a principal without the role is 403
(code ``forbidden``). Both are appended to the audit log as ``auth.failure`` with the actor
(key id, token subject, or ``anonymous``) and the path as subject.

Route modules declare what they need::

    router = APIRouter(dependencies=[Depends(require_roles("reader"))])

    @router.get("/v1/plans/{plan_id}")
    def get_plan(principal: Annotated[Principal, Depends(require_roles("reader", "app"))]): ...

``require_roles("approver:ciso")`` admits that approver; ``admin`` passes every check.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.errors import FORBIDDEN, UNAUTHENTICATED
from api.logging import request_id_var
from engine.action.audit import AuditKind
from engine.errors import AuthError, WarrantError
from engine.principals import Clock, CredentialError, Principal, PrincipalStore, check_role

log = logging.getLogger("warrant.api.auth")

API_KEY_HEADER = "X-API-Key"

_api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, scheme_name="ApiKey")
_bearer_scheme = HTTPBearer(auto_error=False, scheme_name="BearerJWT")


class AuditSink(Protocol):
    """Where audit entries go (:class:`engine.action.audit.AuditLog` fits)."""

    def append(
        self,
        kind: str,
        *,
        actor: str,
        subject: str,
        payload: Mapping[str, object],
        at: datetime,
    ) -> object:
        """Append one entry."""
        ...


@dataclass(frozen=True)
class AuthContext:
    """What the auth dependencies need, kept on ``app.state.auth`` by the app factory."""

    principals: PrincipalStore
    audit: AuditSink | None
    clock: Clock


def auth_context(request: Request) -> AuthContext:
    """The app's :class:`AuthContext`."""
    ctx = request.app.state.auth
    assert isinstance(ctx, AuthContext)
    return ctx


def _audit_failure(ctx: AuthContext, request: Request, *, actor: str, error: AuthError,
                   status: int) -> None:
    if ctx.audit is None:
        return
    payload = {
        "status": status,
        "code": error.code,
        "reason": error.message,
        "method": request.method,
        "request_id": request_id_var.get(),
    }
    try:
        ctx.audit.append(
            AuditKind.AUTH_FAILURE.value,
            actor=actor,
            subject=request.url.path,
            payload=payload,
            at=ctx.clock.now(),
        )
    except WarrantError:
        log.exception("could not audit an auth failure", extra={"actor": actor})


def _authenticated(
    request: Request, ctx: AuthContext, api_key: str | None,
    bearer: HTTPAuthorizationCredentials | None,
) -> Principal:
    """The principal of the request's one credential, or CredentialError."""
    if len(request.headers.getlist(API_KEY_HEADER)) + len(
        request.headers.getlist("Authorization")
    ) > 1:
        # Two credentials are ambiguous: which one acts? Refuse rather than pick one.
        raise CredentialError(
            f"send exactly one credential (one `{API_KEY_HEADER}` or one `Authorization`)"
        )
    if bearer is not None:
        return ctx.principals.authenticate_token(bearer.credentials)
    if api_key:
        return ctx.principals.authenticate_key(api_key)
    raise CredentialError(
        f"credentials are missing: send `Authorization: Bearer <token>` "
        f"or `{API_KEY_HEADER}: <key>`"
    )


async def current_principal(
    request: Request,
    api_key: Annotated[str | None, Depends(_api_key_scheme)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)],
) -> Principal:
    """The authenticated caller, or a 401 (audited) when credentials are missing or wrong.

    Checked on the event loop when the key lookup reads a local database
    (:attr:`PrincipalStore.lookups_are_local`: one row by primary key from SQLite, which a
    reader never waits for): a hand-off to a worker thread and back cost more than the check,
    on every request. Over a network database the check runs in a worker thread, and so does
    the audit entry of a refusal (a write, which may wait for the write lock).
    """
    ctx = auth_context(request)
    try:
        if ctx.principals.lookups_are_local:
            principal = _authenticated(request, ctx, api_key, bearer)
        else:
            principal = await run_in_threadpool(_authenticated, request, ctx, api_key, bearer)
    except CredentialError as exc:
        error = AuthError(exc.message, code=UNAUTHENTICATED)
        await run_in_threadpool(_audit_failure, ctx, request, actor=exc.actor, error=error,
                                status=401)
        raise error from exc
    request.state.principal_id = principal.id
    return principal


def _actor(principal: Principal) -> str:
    return f"{principal.via.value.replace('api_', '')}:{principal.id}"


def audit_event(
    request: Request,
    kind: str,
    *,
    principal: Principal,
    subject: str,
    payload: Mapping[str, object],
) -> None:
    """Append an audit entry for what ``principal`` did (no-op when the app has no audit)."""
    ctx = auth_context(request)
    if ctx.audit is not None:
        ctx.audit.append(
            kind,
            actor=_actor(principal),
            subject=subject,
            payload={**payload, "request_id": request_id_var.get()},
            at=ctx.clock.now(),
        )


def enforce_roles(request: Request, principal: Principal, *roles: str) -> Principal:
    """``principal`` if it holds any of ``roles`` (or none are wanted); else the audited 403."""
    wanted = tuple(check_role(r) for r in roles)
    if not wanted or principal.holds_any(wanted):
        return principal
    ctx = auth_context(request)
    listed = ", ".join(f"`{r}`" for r in wanted)
    error = AuthError(
        f"principal `{principal.name}` lacks a role: one of {listed}",
        code=FORBIDDEN,
        details={"required_any_of": list(wanted)},
    )
    _audit_failure(ctx, request, actor=_actor(principal), error=error, status=403)
    raise error


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting principals with any of ``roles`` (403, audited, otherwise).

    With no roles it admits any authenticated principal. The check runs on the event loop
    (FastAPI runs a plain function dependency in a worker thread: a thread hand-off per
    request); only a refusal, which writes an audit entry, goes to a worker thread.
    """
    wanted = tuple(check_role(r) for r in roles)

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        if not wanted or principal.holds_any(wanted):
            return principal
        return await run_in_threadpool(enforce_roles, request, principal, *wanted)

    dependency.__name__ = f"require_roles_{'_'.join(wanted) or 'any'}".replace(":", "_")
    return dependency


AnyPrincipal = Annotated[Principal, Depends(current_principal)]
"""Any authenticated principal, as a route parameter type."""
