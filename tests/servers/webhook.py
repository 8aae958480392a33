"""A real webhook receiver on 127.0.0.1 for dispatch tests.

It verifies the ``X-Warrant-Signature`` HMAC itself (not with Warrant's code), dedupes on
``Idempotency-Key`` (a repeated key answers ``409`` and is not applied again) and records every
request and every applied action in a SQLite file, so what it saw survives the processes that
sent it, and a test can read it from anywhere. It can be told to fail the first N requests per
key with 500, to answer a fixed status, or to hang before answering.

Run it in a thread (:class:`WebhookReceiver`) or as a process::

    python -m tests.servers.webhook --db /tmp/hook.db --secret s3cret --port 8099
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_SCHEMA = """
create table if not exists requests (
    id integer primary key autoincrement,
    idempotency_key text, action_id text, signature_ok integer not null,
    status integer not null, body text not null, received_at real not null
);
create table if not exists applied (
    idempotency_key text primary key, action_id text, body text not null
);
"""


@dataclass(frozen=True)
class WebhookBehaviour:
    """How the receiver misbehaves: fail the first N requests per key, a fixed status, a hang."""

    fail_first: int = 0
    status: int | None = None
    delay_s: float = 0.0
    delay_first_only: bool = False


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver recorded it."""

    idempotency_key: str | None
    action_id: str | None
    signature_ok: bool
    status: int
    body: str


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("pragma journal_mode=wal")
    return conn


class WebhookReceiver:
    """The receiver as a thread-served HTTP server; use as a context manager."""

    def __init__(
        self, db_path: Path, *, secret: str, behaviour: WebhookBehaviour | None = None,
        port: int = 0,
    ) -> None:
        self.db_path = db_path
        self.secret = secret
        self.behaviour = behaviour or WebhookBehaviour()
        self.stopping = threading.Event()
        with closing(_connect(db_path)) as conn:
            conn.executescript(_SCHEMA)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to POST."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving (hanging handlers are released)."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def requests(self) -> list[ReceivedRequest]:
        """Every request received, in arrival order."""
        return read_requests(self.db_path)

    def applied(self) -> dict[str, str]:
        """Applied actions: idempotency key → action id."""
        return read_applied(self.db_path)

    def wait_for(self, condition: Callable[[], bool], *, timeout_s: float = 20.0) -> None:
        """Poll until ``condition()`` holds; AssertionError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        raise AssertionError("webhook receiver: condition not met in time")


def read_requests(db_path: Path) -> list[ReceivedRequest]:
    """Every request recorded in a receiver's file, in arrival order."""
    with closing(_connect(db_path)) as conn:
        rows = conn.execute(
            "select idempotency_key, action_id, signature_ok, status, body"
            " from requests order by id"
        ).fetchall()
    return [ReceivedRequest(r[0], r[1], bool(r[2]), int(r[3]), r[4]) for r in rows]


def read_applied(db_path: Path) -> dict[str, str]:
    """Applied actions recorded in a receiver's file: idempotency key → action id."""
    with closing(_connect(db_path)) as conn:
        return dict(conn.execute("select idempotency_key, action_id from applied").fetchall())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # http.server writes the headers and the body in two writes: with Nagle's algorithm on,
    # the body waits for the client's delayed ACK of the headers (~40 ms per request).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the tests read the SQLite record instead

    def do_POST(self) -> None:
        receiver: WebhookReceiver = self.server.receiver  # type: ignore[attr-defined]
        behaviour = receiver.behaviour
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
        signature_ok = hmac.compare_digest(self.headers.get("X-Warrant-Signature", ""), expected)
        key = self.headers.get("Idempotency-Key")
        action = self.headers.get("X-Warrant-Action")
        with closing(_connect(receiver.db_path)) as conn:
            conn.execute("begin immediate")
            earlier = conn.execute(
                "select count(*) from requests where idempotency_key = ?", (key,)
            ).fetchone()[0]
            if not signature_ok:
                status = 401
            elif not key:
                status = 400
            elif behaviour.status is not None:
                status = behaviour.status
            elif earlier < behaviour.fail_first:
                status = 500
            elif conn.execute(
                "select 1 from applied where idempotency_key = ?", (key,)
            ).fetchone():
                status = 409
            else:
                conn.execute(
                    "insert into applied values (?, ?, ?)", (key, action, body.decode())
                )
                status = 200
            conn.execute(
                "insert into requests (idempotency_key, action_id, signature_ok, status, body,"
                " received_at) values (?, ?, ?, ?, ?, ?)",
                (key, action, int(signature_ok), status, body.decode(), time.time()),
            )
            conn.execute("commit")
        if behaviour.delay_s > 0 and (earlier == 0 or not behaviour.delay_first_only):
            receiver.stopping.wait(behaviour.delay_s)
        answer = b'{"status":"already processed"}' if status == 409 else b"{}"
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender went away (killed, or timed out): it will retry


@contextmanager
def run_webhook(
    db_path: Path, *, secret: str, behaviour: WebhookBehaviour | None = None
) -> Iterator[WebhookReceiver]:
    """A receiver serving in a thread for the duration of the ``with`` block."""
    with WebhookReceiver(db_path, secret=secret, behaviour=behaviour) as receiver:
        yield receiver


def main() -> None:
    """Serve until interrupted (for running the receiver as its own process)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int, default=None)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    behaviour = WebhookBehaviour(fail_first=args.fail_first, status=args.status, delay_s=args.delay)
    receiver = WebhookReceiver(args.db, secret=args.secret, behaviour=behaviour, port=args.port)
    print(receiver.url, flush=True)
    with receiver, suppress(KeyboardInterrupt):
        threading.Event().wait()


if __name__ == "__main__":
    main()
