"""``/v1/keys``: API keys, managed by ``admin`` principals; ``/v1/whoami`` for any principal.

A created key is returned once and stored only as a salted hash (see
:mod:`engine.principals`). Deleting a key revokes it: it stays listed, with ``revoked_at``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.auth import AnyPrincipal, audit_event, auth_context, require_roles
from api.models import ErrorV1, KeyCreatedV1, KeyCreateV1, KeyInfoV1, PrincipalV1
from engine.principals import Principal, Role

router = APIRouter(tags=["keys"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorV1},
    403: {"model": ErrorV1},
}


@router.get("/v1/whoami", response_model=PrincipalV1, responses=_ERRORS)
def whoami(principal: AnyPrincipal) -> PrincipalV1:
    """The principal the request's credentials name."""
    return PrincipalV1.of(principal)


@router.post("/v1/keys", status_code=201, response_model=KeyCreatedV1,
             responses={**_ERRORS, 400: {"model": ErrorV1}, 422: {"model": ErrorV1}})
def create_key(body: KeyCreateV1, request: Request, admin: Admin) -> KeyCreatedV1:
    """Create a key for a principal; the response holds the key, which is never shown again."""
    issued = auth_context(request).principals.create_key(body.name, roles=body.roles)
    audit_event(request, "auth.key_created", principal=admin, subject=f"key:{issued.info.id}",
                payload={"name": issued.info.name, "roles": list(issued.info.roles)})
    return KeyCreatedV1.of(issued)


@router.get("/v1/keys", response_model=list[KeyInfoV1], responses=_ERRORS)
def list_keys(request: Request, _admin: Admin) -> list[KeyInfoV1]:
    """Every key without its secret, revoked ones included."""
    return [KeyInfoV1.of(k) for k in auth_context(request).principals.list_keys()]


@router.delete("/v1/keys/{key_id}", status_code=204,
               responses={**_ERRORS, 404: {"model": ErrorV1}, 409: {"model": ErrorV1}})
def revoke_key(key_id: str, request: Request, admin: Admin) -> Response:
    """Revoke a key; later requests with it are 401."""
    auth_context(request).principals.revoke_key(key_id)
    audit_event(request, "auth.key_revoked", principal=admin, subject=f"key:{key_id}",
                payload={})
    return Response(status_code=204)
