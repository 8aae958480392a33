"""Kill the API server mid-dispatch: after restart every action lands exactly once, in order.

The server runs as a child process (``tests/helpers/api_server.py``) on the embedded store
and SQLite; the webhook receiver lives in this test process. The receiver applies the first
request of the plan's first step and then hangs before answering; the test SIGKILLs the server
while that request is in flight. A restarted server finds the step's lease expired, sends it
again with the same idempotency key (the receiver answers 409: already processed), and then
runs the step that comes after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.api_harness import HOOK_SECRET, make_workspace
from tests.servers.postgres import free_port
from tests.servers.webhook import WebhookBehaviour, WebhookReceiver

KEY = "crash-admin-key"
REPO = Path(__file__).resolve().parent.parent


@contextmanager
def _server(ws: Path, var: Path, port: int, *, ingest: bool) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "tests.helpers.api_server", "--workspace", str(ws),
           "--data-dir", str(var), "--port", str(port), "--key", KEY, "--lease-s", "6"]
    proc = subprocess.Popen([*cmd, *(["--ingest"] if ingest else [])], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def test_kill_mid_dispatch_neither_loses_nor_repeats(tmp_path: Path) -> None:
    behaviour = WebhookBehaviour(delay_s=30, delay_first_only=True)
    with WebhookReceiver(tmp_path / "hook.sqlite", secret=HOOK_SECRET,
                         behaviour=behaviour) as receiver:
        ws = make_workspace(tmp_path / "ws", hook_url=receiver.url, hook_timeout_s=5)
        var = tmp_path / "var"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        headers = {"X-API-Key": KEY}
        with _server(ws, var, port, ingest=True) as proc:
            plan = httpx.post(f"{base}/v1/plans", headers=headers, timeout=30,
                              json={"goal": "remediate", "params": {"min_risk": 85}}).json()
            pid = plan["id"]
            r = httpx.post(f"{base}/v1/plans/{pid}/dispatch", headers=headers, timeout=30)
            assert r.json()["enqueued"] == 2
            receiver.wait_for(lambda: f"{pid}.a0" in receiver.applied().values())
            os.kill(proc.pid, signal.SIGKILL)  # the webhook has applied it, no answer yet
            proc.wait(timeout=10)
        notify_log = ws / "notify.jsonl"
        assert not notify_log.exists() or pid not in notify_log.read_text()  # a1 waits for a0
        with _server(ws, var, port, ingest=False):
            def complete() -> bool:
                got = httpx.get(f"{base}/v1/plans/{pid}/progress", headers=headers, timeout=10)
                return bool(got.json()["complete"])

            receiver.wait_for(complete, timeout_s=40)
            verify = httpx.get(f"{base}/v1/audit/verify", headers=headers, timeout=10).json()
            assert verify["ok"] is True
            audit = httpx.get(f"{base}/v1/audit", params={"limit": 1000}, headers=headers,
                              timeout=10).json()
        first = [q for q in receiver.requests() if q.action_id == f"{pid}.a0"]
        assert len(first) >= 2 and {q.status for q in first[1:]} == {409}
        assert len({q.idempotency_key for q in first}) == 1
        assert list(receiver.applied().values()).count(f"{pid}.a0") == 1
        lines = [ln for ln in (ws / "notify.jsonl").read_text().splitlines() if pid in ln]
        assert len(lines) == 1  # the step after it ran once, after it
        assert any(e["kind"] == "dispatch.recovered" for e in audit)
