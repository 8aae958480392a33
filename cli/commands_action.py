"""Action-plane commands: serve, audit verify, dead-letters.

Examples::

    warrant serve --port 8000            # the HTTP API over ./var (ingests nothing itself)
    warrant audit verify --json          # walk the hash chain, name the first bad entry
    warrant dead-letters                 # actions that ran out of attempts
    warrant dead-letters --retry plan-…  # send one again, same idempotency key
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import build_context
from cli.main import app, handles_errors
from cli.options import DataDirOpt, JsonOpt, WorkspaceOpt
from engine.action.audit import AuditLog
from engine.action.backoff import SystemClock
from engine.action.db import open_database

console = Console()
audit_app = typer.Typer(name="audit", help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app)


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=0,
                                      max=65535)] = 8000,
    log_level: Annotated[str, typer.Option("--log-level", help="debug | info | warning")] = "info",
    keep_alive_s: Annotated[int, typer.Option(
        "--keep-alive", min=1,
        help="Seconds an idle client connection stays open. Behind a load balancer, set it "
        "above the balancer's idle timeout, or the balancer reuses closed connections.",
    )] = 5,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Serve the HTTP API (plans, decisions, approvals, SPARQL …) and run the dispatch worker."""
    import uvicorn
    from fastapi import FastAPI

    from api.logging import configure_logging
    from api.server import build_app
    from engine.store import open_store

    ctx = build_context(workspace, data_dir)
    configure_logging(level=log_level.upper())
    ctx.settings.resolved_data_dir().mkdir(parents=True, exist_ok=True)
    store = open_store(ctx.workspace.config.store, path=ctx.settings.store_path)
    api: FastAPI | None = None
    try:
        api = build_app(ctx.settings, store=store, clock=SystemClock(), workspace=ctx.workspace)
        uvicorn.run(api, host=host, port=port, log_config=None, access_log=False,
                    timeout_keep_alive=keep_alive_s)
    finally:
        if api is not None:
            api.state.service.close()
        store.close()


@audit_app.command("verify")
@handles_errors
def audit_verify(
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Walk the audit chain; exit 1 and name the first edited, deleted, reordered or inserted
    entry if it was tampered with."""
    ctx = build_context(workspace, data_dir)
    report = AuditLog(open_database(ctx.settings.audit_db_url)).verify()
    if as_json:
        print(report.model_dump_json(indent=2))
    elif report.ok:
        console.print(f"[green]ok[/] {report.message}", highlight=False)
    else:
        console.print(f"[red]tampered[/] entry {report.first_bad_seq} ({report.problem}): "
                      f"{report.message}", highlight=False)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command("dead-letters")
@handles_errors
def dead_letters(
    retry: Annotated[str | None, typer.Option("--retry", help="Send this action again.")] = None,
    workspace: WorkspaceOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the actions that ran out of attempts or failed permanently; retry one."""
    import random

    from engine.action.outbox import Outbox

    ctx = build_context(workspace, data_dir)
    outbox = Outbox(open_database(ctx.settings.audit_db_url), clock=SystemClock(),
                    rng=random.Random())
    if retry is not None:
        outbox.retry_dead(retry, actor="cli")
        if as_json:
            print(json.dumps({"retried": retry}))
        else:
            console.print(f"[green]queued again[/] {retry}", highlight=False)
        return
    letters = outbox.dead_letters()
    if as_json:
        print(json.dumps([{
            "action_id": d.action_id, "plan_id": d.plan_id, "action_type": d.action_type,
            "attempts": d.attempts, "last_error": d.last_error,
            "dead_at": d.dead_at.isoformat()} for d in letters], indent=2))
        return
    if not letters:
        console.print("no dead letters")
        return
    table = Table("action", "type", "attempts", "last error", "dead at")
    for d in letters:
        table.add_row(d.action_id, d.action_type, str(d.attempts), d.last_error,
                      d.dead_at.isoformat(timespec="seconds"))
    console.print(table)
