"""Authentication, roles, key management, the error format and the operations endpoints."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from api.app import create_app
from api.auth import require_roles
from api.logging import JsonFormatter
from api.metrics import Metrics, metrics
from engine.action.audit import AuditLog
from engine.action.backoff import ManualClock
from engine.action.db import open_database
from engine.errors import AuthError, ParameterError
from engine.principals import PrincipalStore, api_keys, approver, check_role
from engine.settings import Settings
from engine.store import OxigraphStore
from tests.servers.postgres import PostgresServer
from tests.servers.uvicorn_server import run_uvicorn

BOOT = "bootstrap-secret-for-tests"
JWT_SECRET = "a-jwt-secret-that-is-long-enough-for-hs256-and-for-hs512-as-well-x"
START = datetime(2026, 1, 1, tzinfo=UTC)
ASK = {"query": "ASK {}"}

extra = APIRouter()


@extra.post("/test/approve")
def approve(
    principal: Annotated[object, Depends(require_roles(approver("ciso")))],
    m: Annotated[Metrics, Depends(metrics)],
) -> dict[str, str]:
    m.decisions_total.labels(kind="allow").inc()
    return {"ok": "yes"}


@extra.get("/test/boom")
def boom(_p: Annotated[object, Depends(require_roles())]) -> None:
    raise RuntimeError("secret internals /etc/passwd")


@dataclass
class Api:
    client: TestClient
    audit: AuditLog
    clock: ManualClock
    principals: PrincipalStore

    def key(self, *roles: str) -> dict[str, str]:
        issued = self.principals.create_key("-".join(roles).replace(":", "-"), roles=roles)
        return {"X-API-Key": issued.key}

    def token(self, *roles: str, ttl: timedelta = timedelta(minutes=5)) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.principals.issue_token(
            "alice", roles=roles, ttl=ttl)}

    def failures(self) -> list[tuple[str, str, int]]:
        return [
            (e.actor, e.subject, int(str(e.payload["status"])))
            for e in self.audit.entries(limit=1000)
            if e.kind == "auth.failure"
        ]


@pytest.fixture
def api() -> Iterator[Api]:
    db = open_database("sqlite://")
    audit = AuditLog(db)
    clock = ManualClock(START)
    settings_ = Settings(
        bootstrap_admin_key=SecretStr(BOOT), jwt_secret=SecretStr(JWT_SECRET), max_body_bytes=1000
    )
    app = create_app(settings_, store=OxigraphStore(None), audit=audit, clock=clock,
                     routers=[extra])
    principals = app.state.auth.principals
    with TestClient(app) as client:
        yield Api(client, audit, clock, principals)


def _error(r: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert "Traceback" not in r.text
    return dict(body)


# --- 401: missing or wrong credentials, each audited -------------------------------------


@pytest.mark.parametrize(
    ("headers", "actor"),
    [
        ({}, "anonymous"),
        ({"X-API-Key": "nope"}, "anonymous"),
        ({"X-API-Key": "wk_0123456789abcdef_guess"}, "anonymous"),
        ({"Authorization": "Bearer not-a-jwt"}, "anonymous"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "anonymous"),
    ],
)
def test_missing_or_wrong_credentials_are_401_and_audited(
    api: Api, headers: dict[str, str], actor: str
) -> None:
    r = api.client.get("/sparql", params=ASK, headers=headers)
    _error(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.failures() == [(actor, "/sparql", 401)]


def test_wrong_secret_for_a_real_key_is_audited_with_its_id(api: Api) -> None:
    key = api.key("reader")["X-API-Key"]
    kid = key.split("_")[1]
    r = api.client.get("/sparql", params=ASK, headers={"X-API-Key": key[:-2] + "xx"})
    _error(r, 401, "unauthenticated")
    assert api.failures() == [(f"key:{kid}", "/sparql", 401)]


def test_two_credentials_are_refused_even_if_one_is_valid(api: Api) -> None:
    admin = api.key("admin")["X-API-Key"]
    headers = [("X-API-Key", admin), ("X-API-Key", "wrong")]
    r = api.client.get("/sparql", params=ASK, headers=headers)
    _error(r, 401, "unauthenticated")
    assert "exactly one credential" in r.json()["message"]
    assert api.failures() == [("anonymous", "/sparql", 401)]


def _token(claims: dict[str, object], secret: str = JWT_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


@pytest.mark.parametrize(
    ("make", "actor"),
    [
        (lambda: _token({"sub": "eve", "roles": ["admin"], "exp": 2_000_000_000}, "wrong" * 8),
         "anonymous"),
        (lambda: _token({"sub": "bob", "roles": ["reader"], "exp": int(START.timestamp()) - 1}),
         "jwt:bob"),
        (lambda: _token({"sub": "bob", "roles": ["reader"]}), "anonymous"),  # no exp
        (lambda: _token({"roles": ["reader"], "exp": 2_000_000_000}), "anonymous"),  # no sub
        (lambda: jwt.encode({"sub": "eve", "roles": ["admin"], "exp": 2_000_000_000}, None,
                            algorithm="none"), "anonymous"),
        (lambda: _token({"sub": "eve", "roles": ["admin"], "exp": 2_000_000_000}, alg="HS512"),
         "anonymous"),
    ],
    ids=["bad-signature", "expired", "no-exp", "no-sub", "alg-none", "alg-hs512"],
)
def test_bad_tokens_are_401_and_audited(api: Api, make: object, actor: str) -> None:
    assert callable(make)
    r = api.client.get("/sparql", params=ASK, headers={"Authorization": f"Bearer {make()}"})
    _error(r, 401, "unauthenticated")
    assert api.failures() == [(actor, "/sparql", 401)]


def test_token_expires_by_the_injected_clock(api: Api) -> None:
    headers = api.token("reader", ttl=timedelta(seconds=60))
    assert api.client.get("/sparql", params=ASK, headers=headers).status_code == 200
    api.clock.advance(61)
    _error(api.client.get("/sparql", params=ASK, headers=headers), 401, "unauthenticated")
    assert api.failures() == [("jwt:alice", "/sparql", 401)]


# --- roles -------------------------------------------------------------------------------

ROLE_TABLE = [
    # roles, method, path, status
    (("reader",), "GET", "/sparql", 200),
    (("app",), "GET", "/sparql", 403),
    (("author",), "GET", "/sparql", 403),
    (("admin",), "GET", "/sparql", 200),
    (("reader",), "GET", "/v1/keys", 403),
    (("admin",), "GET", "/v1/keys", 200),
    (("approver:ciso",), "POST", "/test/approve", 200),
    (("approver:dpo",), "POST", "/test/approve", 403),
    (("reader",), "POST", "/test/approve", 403),
    (("admin",), "POST", "/test/approve", 200),
    (("app",), "GET", "/v1/whoami", 200),
    (("app",), "GET", "/metrics", 200),
]


@pytest.mark.parametrize("credential", ["key", "jwt"])
@pytest.mark.parametrize(("roles", "method", "path", "status"), ROLE_TABLE)
def test_roles(
    api: Api, credential: str, roles: tuple[str, ...], method: str, path: str, status: int
) -> None:
    headers = api.key(*roles) if credential == "key" else api.token(*roles)
    params = ASK if path == "/sparql" else None
    r = api.client.request(method, path, headers=headers, params=params)
    assert r.status_code == status, r.text
    if status == 403:
        _error(r, 403, "forbidden")
        [(actor, subject, code)] = api.failures()
        assert (subject, code) == (path, 403)
        assert actor.startswith("key:" if credential == "key" else "jwt:alice")
    else:
        assert api.failures() == []


def test_whoami_names_the_principal(api: Api) -> None:
    r = api.client.get("/v1/whoami", headers=api.token("reader", "approver:ciso"))
    assert r.json() == {"id": "alice", "name": "alice", "roles": ["approver:ciso", "reader"],
                        "via": "jwt"}


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_role_names_are_checked(role: str) -> None:
    known = role in {"reader", "app", "author", "admin"} or (
        role.startswith("approver:") and len(role) > 9
    )
    try:
        assert check_role(role) == role
    except ParameterError:
        assert not known or not role.isascii() or any(c in role for c in " \n\t")


# --- keys --------------------------------------------------------------------------------


def test_key_lifecycle_and_hashing_at_rest(api: Api) -> None:
    admin = {"X-API-Key": BOOT}
    r = api.client.post("/v1/keys", json={"name": "etl", "roles": ["reader"]}, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    key, kid = created["key"], created["info"]["id"]
    listed = api.client.get("/v1/keys", headers=admin).json()
    assert {k["id"] for k in listed} == {"bootstrap", kid}
    assert key not in json.dumps(listed)
    with api.principals.engine.connect() as conn:
        rows = conn.execute(sa.select(api_keys)).mappings().all()
    stored = json.dumps([dict(r) for r in rows])
    assert key.split("_", 2)[2] not in stored and BOOT not in stored
    assert api.client.get("/sparql", params=ASK, headers={"X-API-Key": key}).status_code == 200
    assert api.client.delete(f"/v1/keys/{kid}", headers=admin).status_code == 204
    _error(api.client.get("/sparql", params=ASK, headers={"X-API-Key": key}), 401,
           "unauthenticated")
    _error(api.client.delete(f"/v1/keys/{kid}", headers=admin), 409, "conflict")
    _error(api.client.delete("/v1/keys/unknown", headers=admin), 404, "not_found")
    kinds = [e.kind for e in api.audit.entries(limit=100)]
    assert kinds == ["auth.key_created", "auth.key_revoked", "auth.failure"]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "x", "roles": ["root"]}, 400, "parameter_error", "roles"),
        ({"name": "x", "roles": []}, 422, "invalid_request", "body.roles"),
        ({"name": "x"}, 422, "invalid_request", "body.roles"),
        ({"name": "x", "roles": ["reader"], "extra": 1}, 422, "invalid_request", "body.extra"),
        ({"name": "bad\nname", "roles": ["reader"]}, 400, "parameter_error", "name"),
    ],
)
def test_bad_key_requests_name_the_field(
    api: Api, body: dict[str, object], status: int, code: str, field: str
) -> None:
    r = api.client.post("/v1/keys", json=body, headers={"X-API-Key": BOOT})
    err = _error(r, status, code)
    assert f"`{field}`" in str(err["message"]) or field in json.dumps(err["details"])


def test_bootstrap_key_is_replaced_and_revoked_with_the_setting() -> None:
    db = open_database("sqlite://")
    clock = ManualClock(START)

    def app_with(boot: str | None) -> TestClient:
        s = Settings(bootstrap_admin_key=SecretStr(boot) if boot else None)
        return TestClient(create_app(s, store=OxigraphStore(None), audit=AuditLog(db),
                                     clock=clock))

    assert app_with("first").get("/v1/keys", headers={"X-API-Key": "first"}).status_code == 200
    second = app_with("second")
    assert second.get("/v1/keys", headers={"X-API-Key": "first"}).status_code == 401
    assert second.get("/v1/keys", headers={"X-API-Key": "second"}).status_code == 200
    assert app_with(None).get("/v1/keys", headers={"X-API-Key": "second"}).status_code == 401


def test_tokens_are_refused_when_no_secret_is_set() -> None:
    db = open_database("sqlite://")
    app = create_app(Settings(), store=OxigraphStore(None), audit=AuditLog(db),
                     clock=ManualClock(START))
    token = _token({"sub": "x", "roles": ["admin"], "exp": 2_000_000_000})
    r = TestClient(app).get("/v1/keys", headers={"Authorization": f"Bearer {token}"})
    assert "not enabled" in str(_error(r, 401, "unauthenticated")["message"])


def test_credential_error_is_an_auth_error() -> None:
    db = open_database("sqlite://")
    store = PrincipalStore(db, clock=ManualClock(START))
    with pytest.raises(AuthError):
        store.authenticate_key("wk_0123456789abcdef_x")


# --- error format, limits, request id, ops -----------------------------------------------


def test_unknown_route_and_method_use_the_error_format(api: Api) -> None:
    _error(api.client.get("/nope", headers={"X-API-Key": BOOT}), 404, "not_found")
    r = api.client.put("/sparql", headers={"X-API-Key": BOOT})
    _error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]


def test_unexpected_errors_are_500_without_internals(api: Api) -> None:
    r = api.client.get("/test/boom", headers={"X-API-Key": BOOT, "X-Request-ID": "req-42"})
    err = _error(r, 500, "internal_error")
    assert "passwd" not in r.text and "RuntimeError" not in r.text
    assert err["details"] == {"request_id": "req-42"}
    assert r.headers["X-Request-ID"] == "req-42"


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [("abc-123.x_y", "abc-123.x_y"), (None, None), ("bad id with spaces", None), ("x" * 200, None)],
)
def test_request_id_is_echoed_or_minted(api: Api, sent: str | None, echoed: str | None) -> None:
    headers = {"X-Request-ID": sent} if sent is not None else {}
    r = api.client.get("/healthz", headers=headers)
    rid = r.headers["X-Request-ID"]
    if echoed is not None:
        assert rid == echoed
    else:
        assert rid != sent and len(rid) == 32


def test_oversized_declared_body_is_413(api: Api) -> None:
    r = api.client.post("/sparql", content=b"q" * 1001, headers={
        "X-API-Key": BOOT, "Content-Type": "application/sparql-query"})
    _error(r, 413, "payload_too_large")


def test_oversized_streamed_body_is_413_on_a_real_server() -> None:
    db = open_database("sqlite://")
    app = create_app(Settings(bootstrap_admin_key=SecretStr(BOOT), max_body_bytes=1000),
                     store=OxigraphStore(None), audit=AuditLog(db), clock=ManualClock(START))

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"#" * 100

    with run_uvicorn(app) as server, httpx.Client(base_url=server.base_url) as client:
        r = client.post("/sparql", content=chunks(), headers={
            "X-API-Key": BOOT, "Content-Type": "application/sparql-query"})
        assert "content-length" not in r.request.headers
        _error(r, 413, "payload_too_large")
        small = client.post("/sparql", content=iter([b"ASK {}"]), headers={
            "X-API-Key": BOOT, "Content-Type": "application/sparql-query"})
        assert small.status_code == 200


def test_health_and_readiness_need_no_credentials(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert {c["name"] for c in ready["checks"]} == {"store", "database"}
    _error(api.client.get("/metrics"), 401, "unauthenticated")


def test_metrics_expose_latency_and_the_shared_counters(api: Api) -> None:
    api.client.get("/sparql", params=ASK, headers={"X-API-Key": BOOT})
    api.client.post("/test/approve", headers={"X-API-Key": BOOT})
    api.client.get("/sparql", params=ASK)
    text = api.client.get("/metrics", headers={"X-API-Key": BOOT}).text
    assert ('warrant_http_request_duration_seconds_count{method="GET",route="/sparql",'
            'status="200"} 1.0') in text
    assert 'warrant_decisions_total{kind="allow"} 1.0' in text
    assert 'warrant_auth_failures_total{status="401"} 1.0' in text
    for name in ("warrant_plans_total", "warrant_dispatch_total", "warrant_approval_queue_depth"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_two_apps_do_not_share_metrics() -> None:
    a, b = Metrics.create(), Metrics.create()
    a.plans_total.inc()
    assert a.registry.get_sample_value("warrant_plans_total") == 1.0
    assert b.registry.get_sample_value("warrant_plans_total") == 0.0


def test_openapi_document_needs_a_principal_and_lists_the_routes(api: Api) -> None:
    _error(api.client.get("/openapi.json"), 401, "unauthenticated")
    doc = api.client.get("/openapi.json", headers={"X-API-Key": BOOT}).json()
    assert {"/sparql", "/v1/keys", "/v1/keys/{key_id}", "/healthz"} <= set(doc["paths"])
    assert {"ApiKey", "BearerJWT"} <= set(doc["components"]["securitySchemes"])
    assert api.client.get("/docs").status_code == 404


def test_access_log_is_json_with_the_request_id(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="warrant.api.access"):
        api.client.get("/v1/whoami", headers={"X-API-Key": BOOT, "X-Request-ID": "trace-1"})
    [record] = [r for r in caplog.records if r.name == "warrant.api.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request"
    assert line["route"] == "/v1/whoami" and line["status"] == 200
    assert line["principal"] == "bootstrap"
    assert line["request_id"] == "trace-1"


def test_keys_persist_in_postgresql(postgres: PostgresServer) -> None:
    url = postgres.create_database("warrant_principals")
    clock = ManualClock(START)
    first = PrincipalStore(open_database(url), clock=clock)
    issued = first.create_key("etl", roles=("reader", "approver:ciso"))
    again = PrincipalStore(open_database(url), clock=clock)  # a second process, same database
    principal = again.authenticate_key(issued.key)
    assert principal.roles == {"reader", "approver:ciso"} and principal.holds("approver:ciso")
    again.revoke_key(issued.info.id)
    with pytest.raises(AuthError):
        first.authenticate_key(issued.key)


def test_a_key_revoked_by_another_process_is_refused_at_once_on_sqlite(tmp_path: Path) -> None:
    """The SQLite lookup (the pool's DBAPI connection, past SQLAlchemy) reads committed rows:
    a revocation by another process is seen by the next request, and an uncommitted one
    neither counts nor makes the lookup wait for the writer's lock."""
    url = f"sqlite:///{tmp_path / 'warrant.db'}"
    clock = ManualClock(START)
    serving = PrincipalStore(open_database(url), clock=clock)
    assert serving.lookups_are_local
    other = PrincipalStore(open_database(url), clock=clock)  # a second process, same file
    issued = other.create_key("etl", roles=("reader",))
    assert serving.authenticate_key(issued.key).roles == {"reader"}
    writer = open_database(url)
    with writer.begin() as conn:  # BEGIN IMMEDIATE: holds the write lock until the end
        conn.execute(sa.update(api_keys).where(api_keys.c.id == issued.info.id)
                     .values(revoked_at=START.isoformat()))
        started = time.perf_counter()
        assert serving.authenticate_key(issued.key).name == "etl"  # not committed yet
        assert time.perf_counter() - started < 0.5  # did not wait for the lock
    with pytest.raises(AuthError, match="revoked"):
        serving.authenticate_key(issued.key)
    with pytest.raises(AuthError, match="not valid"):
        serving.authenticate_key(issued.key[:-1] + ("x" if issued.key[-1] != "x" else "y"))
