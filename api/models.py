"""Wire models of the API foundation: versioned (``…V1``), frozen, unknown fields rejected.

Route modules added later keep the same habits: one model per request and response body,
``extra="forbid"`` so a misspelt field is a 422 naming it rather than silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.principals import IssuedKey, KeyInfo, Principal


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorV1(_Wire):
    """Every error response: a stable ``code``, a one-line ``message`` and structured details."""

    code: str = Field(examples=["forbidden"])
    message: str = Field(examples=["principal `etl` lacks a role: one of `admin`"])
    details: dict[str, Any] = Field(default_factory=dict)


class PrincipalV1(_Wire):
    """Who a request was made as."""

    id: str
    name: str
    roles: list[str]
    via: Literal["api_key", "jwt"]

    @classmethod
    def of(cls, principal: Principal) -> PrincipalV1:
        """The wire form of an engine principal."""
        return cls(
            id=principal.id,
            name=principal.name,
            roles=sorted(principal.roles),
            via=principal.via.value,
        )


class KeyCreateV1(_Wire):
    """Request body of ``POST /v1/keys``: the principal's name and its roles."""

    name: str = Field(min_length=1, max_length=200, examples=["etl-pipeline"])
    roles: list[str] = Field(min_length=1, max_length=32, examples=[["reader"]])


class KeyInfoV1(_Wire):
    """An API key as listed: never its secret."""

    id: str
    name: str
    roles: list[str]
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, info: KeyInfo) -> KeyInfoV1:
        """The wire form of a stored key."""
        return cls(
            id=info.id,
            name=info.name,
            roles=list(info.roles),
            created_at=info.created_at,
            revoked_at=info.revoked_at,
        )


class KeyCreatedV1(_Wire):
    """Response of ``POST /v1/keys``: the key's info and the key itself, shown this once."""

    key: str = Field(description="send as `X-API-Key`; it cannot be retrieved again")
    info: KeyInfoV1

    @classmethod
    def of(cls, issued: IssuedKey) -> KeyCreatedV1:
        """The wire form of a freshly issued key."""
        return cls(key=issued.key, info=KeyInfoV1.of(issued.info))


class HealthV1(_Wire):
    """``/healthz``: the process is up."""

    status: Literal["ok"] = "ok"


class ReadyCheckV1(_Wire):
    """One dependency probed by ``/readyz``."""

    name: str
    ok: bool
    message: str = ""


class ReadyV1(_Wire):
    """``/readyz``: whether every dependency answered."""

    status: Literal["ready", "not_ready"]
    checks: list[ReadyCheckV1]
