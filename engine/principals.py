"""Principals: who calls the API, and with which roles.

Two kinds of credential name a principal:

- **API keys** — ``wk_<id>_<secret>``; the store keeps the id, the roles, a random per-key salt
  and ``sha256(salt + secret)``, never the key itself. A key is shown once, when it is created.
  The secret is 256 random bits, so a salted SHA-256 is enough (a slow KDF would only slow
  every request). The bootstrap admin key (``WARRANT_BOOTSTRAP_ADMIN_KEY``) may be any text;
  it is stored the same way under the id ``bootstrap`` and lives as long as it is configured.
- **JWT bearer tokens** — HS256 only (``alg=none`` and every other algorithm are refused), an
  ``exp`` claim is required, the subject is ``sub`` and the roles are the ``roles`` claim.

Roles: ``reader``, ``app``, ``author``, ``admin`` and ``approver:<role>`` (``approver:ciso``).
``admin`` holds every role.

Example::

    store = PrincipalStore(open_engine("sqlite://"), clock=SystemClock())
    issued = store.create_key("etl", roles=("reader",))
    assert store.authenticate_key(issued.key).name == "etl"
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import jwt
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from engine.action.db import is_sqlite, read, write
from engine.errors import AuthError, ConflictError, Location, NotFoundError, ParameterError

BOOTSTRAP_KEY_ID = "bootstrap"
"""The id under which the bootstrap admin key is stored."""

KEY_PREFIX = "wk"
_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_ROLE_RE = re.compile(r"^(reader|app|author|admin|approver:[a-z][a-z0-9_-]{0,62})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,199}$")
JWT_ALGORITHM = "HS256"
ROLES_CLAIM = "roles"

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("roles", sa.Text(), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40), nullable=True),
)
"""One row per API key: roles as a JSON list, the salted digest of the secret, ISO-8601 times."""


class Role(StrEnum):
    """The fixed roles; approver roles are ``approver:<name>`` and built with :func:`approver`."""

    READER = "reader"
    APP = "app"
    AUTHOR = "author"
    ADMIN = "admin"


class CredentialKind(StrEnum):
    """How a principal proved who it is."""

    API_KEY = "api_key"
    JWT = "jwt"


class Clock(Protocol):
    """The time source (``engine.action.backoff.SystemClock`` fits)."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


def approver(role: str) -> str:
    """The role that may approve actions escalated to ``role``: ``approver("ciso")``."""
    return check_role(f"approver:{role}")


def check_role(role: str) -> str:
    """``role`` if it is a known role or ``approver:<name>``; else a ParameterError."""
    if not _ROLE_RE.match(role):
        raise ParameterError(
            f"role `{role}` is not one of reader, app, author, admin or approver:<name>",
            location=Location(field="roles"),
        )
    return role


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its id (key id or token subject), name, roles and credential."""

    id: str
    name: str
    roles: frozenset[str]
    via: CredentialKind

    def holds(self, role: str) -> bool:
        """Whether the principal has ``role``; ``admin`` holds every role."""
        return role in self.roles or Role.ADMIN.value in self.roles

    def holds_any(self, roles: Iterable[str]) -> bool:
        """Whether the principal has at least one of ``roles``."""
        return any(self.holds(r) for r in roles)


@dataclass(frozen=True)
class KeyInfo:
    """An API key without its secret, for listings."""

    id: str
    name: str
    roles: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: ``key`` is the only copy of the secret there will ever be."""

    info: KeyInfo
    key: str


class CredentialError(AuthError):
    """Credentials were presented but are wrong; ``actor`` names who they claimed to be."""

    def __init__(self, message: str, *, actor: str = "anonymous") -> None:
        super().__init__(message)
        self.actor = actor


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("utf-8")).hexdigest()


def _normalise_roles(roles: Iterable[str]) -> tuple[str, ...]:
    out = sorted({check_role(str(r)) for r in roles})
    if not out:
        raise ParameterError("a key needs at least one role", location=Location(field="roles"))
    return tuple(out)


def _split_key(presented: str) -> tuple[str, str] | None:
    """``(id, secret)`` for a ``wk_<id>_<secret>`` key, else None."""
    parts = presented.split("_", 2)
    if len(parts) == 3 and parts[0] == KEY_PREFIX and _ID_RE.match(parts[1]) and parts[2]:
        return parts[1], parts[2]
    return None


class PrincipalStore:
    """API keys in the action-plane database (its own tables), and JWT verification."""

    def __init__(self, engine: Engine, *, clock: Clock, jwt_secret: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self._jwt_secret = jwt_secret
        self.lookups_are_local = is_sqlite(engine)
        """Whether a key lookup reads a local database (SQLite), not one over the network:
        cheap enough for an event loop to wait for."""
        metadata.create_all(engine, checkfirst=True)

    def create_key(
        self,
        name: str,
        *,
        roles: Iterable[str],
        key_id: str | None = None,
        secret: str | None = None,
    ) -> IssuedKey:
        """Create a key for ``name`` with ``roles``; the returned key is never shown again."""
        if not _NAME_RE.match(name):
            raise ParameterError(
                f"principal name `{name[:60]}` must be 1-200 letters, digits or ` ._@:-`",
                location=Location(field="name"),
            )
        normalised = _normalise_roles(roles)
        kid = key_id or secrets.token_hex(8)
        plain = secret or secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        now = self.clock.now()
        with write(self.engine) as conn:
            if conn.execute(sa.select(api_keys.c.id).where(api_keys.c.id == kid)).first():
                raise ConflictError(f"key `{kid}` already exists")
            conn.execute(
                sa.insert(api_keys).values(
                    id=kid,
                    name=name,
                    roles=json.dumps(list(normalised)),
                    salt=salt,
                    digest=_digest(salt, plain),
                    created_at=now.isoformat(),
                    revoked_at=None,
                )
            )
        key = plain if kid == BOOTSTRAP_KEY_ID else f"{KEY_PREFIX}_{kid}_{plain}"
        return IssuedKey(KeyInfo(kid, name, normalised, now, None), key)

    def register_bootstrap(self, secret: str | None) -> None:
        """Store (or replace) the bootstrap admin key; with ``None``, revoke any earlier one."""
        with write(self.engine) as conn:
            conn.execute(sa.delete(api_keys).where(api_keys.c.id == BOOTSTRAP_KEY_ID))
        if secret:
            self.create_key("bootstrap-admin", roles=(Role.ADMIN,), key_id=BOOTSTRAP_KEY_ID,
                            secret=secret)

    def list_keys(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first; no secrets."""
        with read(self.engine) as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))
            return [_info(dict(r)) for r in rows.mappings()]

    def revoke_key(self, key_id: str) -> KeyInfo:
        """Revoke a key now; unknown ids are NotFoundError, revoking twice a ConflictError."""
        with write(self.engine) as conn:
            row = _row(conn, key_id)
            if row is None:
                raise NotFoundError(f"key `{key_id}` does not exist", location=Location(field="id"))
            if row["revoked_at"] is not None:
                raise ConflictError(f"key `{key_id}` is already revoked")
            at = self.clock.now().isoformat()
            conn.execute(sa.update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=at))
            return _info({**row, "revoked_at": at})

    def authenticate_key(self, presented: str) -> Principal:
        """The principal of a presented API key, or CredentialError naming the claimed key id."""
        split = _split_key(presented)
        key_id, secret = split if split else (BOOTSTRAP_KEY_ID, presented)
        actor = f"key:{key_id}" if split else "anonymous"
        row = self._key_row(key_id)
        if row is None:
            raise CredentialError("the api key is not valid", actor="anonymous")
        if not hmac.compare_digest(_digest(row["salt"], secret), row["digest"]):
            raise CredentialError("the api key is not valid", actor=actor)
        if row["revoked_at"] is not None:
            raise CredentialError(f"api key `{key_id}` was revoked", actor=actor)
        return Principal(key_id, row["name"], frozenset(json.loads(row["roles"])),
                         CredentialKind.API_KEY)

    def _key_row(self, key_id: str) -> dict[str, Any] | None:
        """The stored row of ``key_id``, read for every authenticated request.

        On SQLite through the pool's own DBAPI connection (which runs in autocommit: one
        statement is its own transaction, a consistent read), past SQLAlchemy's execution
        layer, which cost four fifths of the lookup.
        """
        if not self.lookups_are_local:
            with read(self.engine) as conn:
                return _row(conn, key_id)
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(_KEY_BY_ID_SQLITE, (key_id,))
                found = cursor.fetchone()
                names = [column[0] for column in cursor.description]
            finally:
                cursor.close()
        finally:
            connection.close()
        return dict(zip(names, found, strict=True)) if found is not None else None

    def issue_token(self, subject: str, *, roles: Iterable[str], ttl: timedelta) -> str:
        """A signed HS256 token for ``subject`` with ``roles``, expiring after ``ttl``."""
        secret = self._require_secret()
        now = self.clock.now()
        claims = {
            "sub": subject,
            ROLES_CLAIM: list(_normalise_roles(roles)),
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)

    def authenticate_token(self, token: str) -> Principal:
        """The principal of a bearer token, or CredentialError (bad signature, expired …)."""
        secret = self._require_secret()
        now = self.clock.now().timestamp()
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["exp", "sub"], "verify_exp": False},
            )
        except jwt.InvalidTokenError as exc:
            raise CredentialError(f"the bearer token is not valid: {exc}".lower()) from exc
        subject = str(claims["sub"])
        actor = f"jwt:{subject}"
        exp = claims["exp"]
        if not isinstance(exp, int | float) or exp <= now:
            raise CredentialError("the bearer token has expired", actor=actor)
        raw_roles = claims.get(ROLES_CLAIM, [])
        if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
            raise CredentialError(f"the `{ROLES_CLAIM}` claim is not a list of roles", actor=actor)
        roles = frozenset(r for r in raw_roles if _ROLE_RE.match(r))
        name = claims.get("name")
        return Principal(subject, name if isinstance(name, str) else subject, roles,
                         CredentialKind.JWT)

    def _require_secret(self) -> str:
        if not self._jwt_secret:
            raise CredentialError("bearer tokens are not enabled: set WARRANT_JWT_SECRET")
        return self._jwt_secret


_KEY_BY_ID = sa.select(api_keys).where(api_keys.c.id == sa.bindparam("key_id"))
"""Built once: every authenticated request runs it, and building it cost a quarter of that."""
_KEY_BY_ID_SQLITE = str(_KEY_BY_ID.compile(dialect=sqlite.dialect()))
"""The same in SQLite's SQL, one ``?`` parameter: what :meth:`PrincipalStore._key_row` runs."""


def _row(conn: Connection, key_id: str) -> dict[str, Any] | None:
    found = conn.execute(_KEY_BY_ID, {"key_id": key_id}).mappings().first()
    return dict(found) if found is not None else None


def _info(r: Mapping[str, Any]) -> KeyInfo:
    revoked = r["revoked_at"]
    return KeyInfo(
        id=r["id"],
        name=r["name"],
        roles=tuple(json.loads(r["roles"])),
        created_at=datetime.fromisoformat(r["created_at"]),
        revoked_at=datetime.fromisoformat(revoked) if revoked else None,
    )
