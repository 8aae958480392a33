"""A real API for tests: the purpose-built workspace, a webhook receiver, uvicorn on loopback.

``tests/data/api_ws`` is copied into a temporary folder (tests may edit its CSV) and given two
executors: ``review`` actions go to a real webhook receiver (HMAC-signed, deduped by
idempotency key), ``notify`` actions to a log file. The vendors source is ingested before the
server starts. :class:`ApiHarness` holds an admin client and issues keys for other roles.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from api.server import build_app
from engine.action.backoff import RetryPolicy, SystemClock
from engine.principals import PrincipalStore
from engine.service import WarrantService
from engine.settings import Settings
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace
from tests.servers.uvicorn_server import run_uvicorn
from tests.servers.webhook import WebhookBehaviour, WebhookReceiver

ADMIN_KEY = "api-test-admin-key"
HOOK_SECRET = "api-test-hook-secret"
WORKSPACE = Path(__file__).resolve().parent / "data" / "api_ws"


def make_workspace(
    root: Path,
    *,
    hook_url: str,
    hook_timeout_s: float = 2.0,
    source: Path = WORKSPACE,
    webhook_types: tuple[str, ...] = ("review",),
    log_types: tuple[str, ...] = ("notify",),
) -> Path:
    """Copy a workspace to ``root``; its action types go to the webhook or to a log file."""
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("var", ".venv", ".git", "tests",
                                                                "*.egg-info", "bench"))
    toml = root / "warrant.toml"
    # the tests choose the executors: drop those the copied workspace configures
    toml.write_text(re.sub(r"(?m)^\[executors\.[^\]]+\]\n(?:(?!\[).*\n?)*", "", toml.read_text()))
    with toml.open("a", encoding="utf-8") as out:
        for t in webhook_types:
            out.write(f'\n[executors.{t}]\ntype = "webhook"\nurl = "{hook_url}"\n'
                      f'secret = "{HOOK_SECRET}"\ntimeout_s = {hook_timeout_s}\n')
        for t in log_types:
            out.write(f'\n[executors.{t}]\ntype = "log"\npath = "{root / "notify.jsonl"}"\n')
    return root


@dataclass
class ApiHarness:
    """A running API and what tests need to talk to it and look behind it."""

    base_url: str
    client: httpx.Client
    service: WarrantService
    principals: PrincipalStore
    receiver: WebhookReceiver
    workspace: Path

    @property
    def admin(self) -> dict[str, str]:
        """Headers of the bootstrap admin."""
        return {"X-API-Key": ADMIN_KEY}

    def key(self, *roles: str) -> dict[str, str]:
        """Headers of a fresh principal holding ``roles``."""
        name = "-".join(roles).replace(":", "-") or "none"
        return {"X-API-Key": self.principals.create_key(name, roles=roles).key}

    def plan(self, params: dict[str, object] | None = None, **headers: str) -> dict[str, Any]:
        """``POST /v1/plans`` for the test goal as admin; the JSON body (asserts 201)."""
        r = self.client.post("/v1/plans", json={"goal": "remediate", "params": params or {}},
                             headers={**self.admin, **headers})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body


@contextmanager
def run_api(
    tmp: Path,
    *,
    audit_url: str | None = None,
    behaviour: WebhookBehaviour | None = None,
    retry_policy: RetryPolicy | None = None,
    max_body_bytes: int = 200_000,
    hook_timeout_s: float = 2.0,
    source: Path = WORKSPACE,
    webhook_types: tuple[str, ...] = ("review",),
    log_types: tuple[str, ...] = ("notify",),
) -> Iterator[ApiHarness]:
    """Serve the test workspace on 127.0.0.1 until the block ends."""
    with ExitStack() as stack:
        receiver = stack.enter_context(
            WebhookReceiver(tmp / "hook.sqlite", secret=HOOK_SECRET, behaviour=behaviour)
        )
        root = make_workspace(tmp / "ws", hook_url=receiver.url, hook_timeout_s=hook_timeout_s,
                              source=source, webhook_types=webhook_types, log_types=log_types)
        settings = Settings(
            workspace=root,
            data_dir=tmp / "var",
            bootstrap_admin_key=SecretStr(ADMIN_KEY),
            audit_url=audit_url,
            max_body_bytes=max_body_bytes,
        )
        store = OxigraphStore(None)
        stack.callback(store.close)
        policy = retry_policy or RetryPolicy(max_attempts=3, base_delay_s=0.05,
                                             max_delay_s=0.2, lease_s=10)
        app = build_app(settings, store=store, clock=SystemClock(),
                        workspace=Workspace.load(root, env={}), retry_policy=policy,
                        worker_interval_s=0.05, worker_idle_s=30.0)  # woken by new work
        service: WarrantService = app.state.service
        stack.callback(service.close)
        service.ingest(actor="test")
        server = stack.enter_context(run_uvicorn(app))
        client = stack.enter_context(httpx.Client(base_url=server.base_url, timeout=30))
        yield ApiHarness(
            base_url=server.base_url,
            client=client,
            service=service,
            principals=app.state.auth.principals,
            receiver=receiver,
            workspace=root,
        )
