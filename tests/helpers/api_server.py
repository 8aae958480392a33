"""The API as a child process for crash tests: ``build_app`` under uvicorn with a short lease.

    python -m tests.helpers.api_server --workspace WS --data-dir VAR --port 8123 --key K \\
        --lease-s 6 [--ingest]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from pydantic import SecretStr

from api.server import build_app
from engine.action.backoff import RetryPolicy, SystemClock
from engine.settings import Settings
from engine.store.oxigraph import OxigraphStore
from engine.workspace import Workspace


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--lease-s", type=float, default=6.0)
    parser.add_argument("--ingest", action="store_true")
    args = parser.parse_args()
    settings = Settings(workspace=args.workspace, data_dir=args.data_dir,
                        bootstrap_admin_key=SecretStr(args.key))
    settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    store = OxigraphStore(settings.store_path)
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.1, max_delay_s=0.5, lease_s=args.lease_s)
    app = build_app(settings, store=store, clock=SystemClock(),
                    workspace=Workspace.load(args.workspace, env={}), retry_policy=policy,
                    worker_interval_s=0.1)
    if args.ingest:
        app.state.service.ingest(actor="test")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
